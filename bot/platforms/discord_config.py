"""The [discord] section of the config file; the token comes from the environment only."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bot.config import ConfigError, defaults_of, read_section

ARCHIVE_MINUTES = (60, 1440, 4320, 10080)


@dataclass(frozen=True)
class DiscordConfig:
    enabled: bool = True  # left out: true when DISCORD_TOKEN is set
    guild_ids: tuple[int, ...] = ()  # sync the commands to these guilds at once (global sync takes up to an hour)
    thread_type: str = "public"  # public | private threads for /world new in a text channel
    api_base: str = ""  # a Discord-compatible server instead of discord.com
    gateway_url: str = ""
    auto_archive_minutes: int = 1440
    progress_seconds: float = 5.0  # least time between two progress edits of a reply
    import_max_bytes: int = 25 * 1024 * 1024  # largest world file /world import downloads
    sync_commands: bool = True  # sync the slash commands at every start
    guild_ready_timeout: float = 2.0  # seconds discord.py waits for GUILD_CREATEs before "ready"
    prefetch_seconds: float = 1.5  # how long an attachment may download before the command is acknowledged
    shards: int | str = 1  # 1: one gateway connection; a number, or "auto" (as many as Discord recommends)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiscordConfig:
        values = read_section("discord", data, defaults_of(cls), unchecked=("shards",))
        shards = values.get("shards", 1)
        if shards != "auto" and (isinstance(shards, bool) or not isinstance(shards, int) or shards < 1):
            raise ConfigError(f'[discord] shards must be 1, a number of shards or "auto", got {shards!r}')
        guilds = values.get("guild_ids", [])
        if not all(isinstance(g, int) and not isinstance(g, bool) for g in guilds):
            raise ConfigError(f"[discord] guild_ids must be a list of server ids (numbers), got {guilds!r}")
        cfg = cls(**{**values, "guild_ids": tuple(guilds)})
        if cfg.thread_type not in ("public", "private"):
            raise ConfigError(f'[discord] thread_type must be "public" or "private", got {cfg.thread_type!r}')
        if cfg.auto_archive_minutes not in ARCHIVE_MINUTES:
            raise ConfigError(f"[discord] auto_archive_minutes must be one of {', '.join(map(str, ARCHIVE_MINUTES))}, "
                              f"got {cfg.auto_archive_minutes}")
        return cfg

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
