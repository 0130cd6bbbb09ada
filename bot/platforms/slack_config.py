"""The [slack] section of the config file; the tokens come from the environment only."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from bot.config import ConfigError


@dataclass(frozen=True)
class SlackConfig:
    """The [slack] section of the config file; the tokens come from the environment only."""

    enabled: bool = True
    mode: str = "socket"  # socket | http
    prefix: str = "!wl"  # thread messages starting with this act like @worldloom mentions
    command: str = "/world"  # the slash command as registered in the app manifest
    api_base: str = "https://slack.com/api/"
    files_base: str = "https://files.slack.com/"  # only files under this URL are downloaded
    host: str = "0.0.0.0"
    port: int = 3000
    path: str = "/slack/events"
    progress_seconds: float = 5.0  # least time between two edits of a queue/progress message
    import_max_bytes: int = 25 * 1024 * 1024  # largest world file `world import` downloads
    user_cache_s: float = 600.0  # how long users.info answers (names, admin) are kept

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlackConfig:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"unknown [slack] setting(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if value in ("", None):  # the example config writes "" for "use the default"
                continue
            default = getattr(cls, key)
            try:
                values[key] = value if isinstance(default, bool) else type(default)(value)
            except (TypeError, ValueError):
                raise ConfigError(f"[slack] {key} must be a {type(default).__name__}, got {value!r}") from None
        for key in ("api_base", "files_base"):
            # A trailing slash makes the URL prefix check exact (no "files.slack.com.evil.example").
            if key in values and not values[key].endswith("/"):
                values[key] += "/"
        cfg = cls(**values)
        if cfg.mode not in ("socket", "http"):
            raise ConfigError(f'[slack] mode must be "socket" or "http", got {cfg.mode!r}')
        return cfg
