"""The settings a public server needs: [moderation], [quotas], [metrics] and [logging].

Each section is a frozen dataclass whose defaults are the documented ones (config.example.toml
shows them all; a test keeps the two equal). `section(cls, name, data)` reads one from the TOML
table, refusing unknown keys and values of the wrong type with a message that names them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar


class SettingError(ValueError):
    """A bad value in one of these sections; bot.config turns it into a ConfigError."""


@dataclass(frozen=True)
class ModerationSettings:
    prompt_filter: bool = True  # the word filter on every text that can reach a prompt
    blocklist_file: str = ""  # more words and phrases, one a line
    allow_words: tuple[str, ...] = ()  # taken off the list
    image_model: str = ""  # a transformers image-classification model (id or folder); "" = off
    image_threshold: float = 0.8  # a label in image_labels scoring at least this flags the image
    image_labels: tuple[str, ...] = ("nsfw", "porn", "hentai", "sexy", "explicit")
    action: str = "refuse"  # refuse | spoiler (where the platform has spoilers: Discord)
    allow_in_age_restricted: bool = False  # Discord threads under an age-restricted channel skip both checks

    def __post_init__(self) -> None:
        if self.action not in ("refuse", "spoiler"):
            raise SettingError(f'[moderation] action must be "refuse" or "spoiler", got {self.action!r}')
        if not 0.0 <= self.image_threshold <= 1.0:
            raise SettingError(f"[moderation] image_threshold must be between 0 and 1, got {self.image_threshold}")


@dataclass(frozen=True)
class QuotaSettings:
    panels_per_day: int = 0  # per person per server; 0 = no limit
    server_panels_per_day: int = 0  # per server (guild or workspace); 0 = no limit
    admins_exempt: bool = True  # Manage Server (Discord) and workspace admins (Slack) are not counted

    def __post_init__(self) -> None:
        if self.panels_per_day < 0 or self.server_panels_per_day < 0:
            raise SettingError("[quotas] limits must be 0 (none) or more")


@dataclass(frozen=True)
class MetricsSettings:
    enabled: bool = False  # Prometheus text on /metrics, and /healthz, /readyz
    host: str = "127.0.0.1"
    port: int = 9464


@dataclass(frozen=True)
class LogSettings:
    format: str = "text"  # text | json (one JSON object a line)
    level: str = "info"  # for `worldloom run`; demo and console log warnings only unless -v

    def __post_init__(self) -> None:
        if self.format not in ("text", "json"):
            raise SettingError(f'[logging] format must be "text" or "json", got {self.format!r}')
        if self.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingError(f"[logging] level must be debug, info, warning or error, got {self.level!r}")


S = TypeVar("S")


def section(cls: type[S], name: str, data: dict[str, Any]) -> S:
    """The [name] table as `cls`, each value checked against its default's type."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingError(f"unknown [{name}] setting(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        default = getattr(cls, key)
        ok = (isinstance(value, bool) if isinstance(default, bool)
              else isinstance(value, (int, float)) and not isinstance(value, bool) if isinstance(default, float)
              else isinstance(value, int) and not isinstance(value, bool) if isinstance(default, int)
              else isinstance(value, list) and all(isinstance(v, str) for v in value) if isinstance(default, tuple)
              else isinstance(value, str))
        if not ok:
            kind = "list of strings" if isinstance(default, tuple) else type(default).__name__
            raise SettingError(f"[{name}] {key} must be a {kind}, got {value!r}")
        values[key] = tuple(value) if isinstance(default, tuple) else float(value) if isinstance(default, float) \
            else value
    return cls(**values)
