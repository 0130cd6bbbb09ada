"""Settings from a TOML file (see config.example.toml); secrets only from the environment."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.images import ImageLimits
from bot.limits import Limits
from bot.public_settings import (
    LogSettings,
    MetricsSettings,
    ModerationSettings,
    QuotaSettings,
    SettingError,
)
from bot.public_settings import section as read_section

SECRET_NAMES = ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")


class ConfigError(Exception):
    pass


@dataclass
class Settings:
    database: str = "worldloom-data/worldloom.db"
    renderer: str = "sketch"
    planner: str = "rule"
    prompt_budget: int = 225
    max_batch: int = 4
    per_user_cap: int = 5
    global_cap: int = 100
    limits: Limits = field(default_factory=Limits)
    engine: dict[str, Any] = field(default_factory=dict)
    llm: dict[str, Any] = field(default_factory=dict)
    discord: dict[str, Any] = field(default_factory=dict)
    slack: dict[str, Any] = field(default_factory=dict)
    moderation: ModerationSettings = field(default_factory=ModerationSettings)
    quotas: QuotaSettings = field(default_factory=QuotaSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    logging: LogSettings = field(default_factory=LogSettings)
    shutdown_seconds: float = 30.0  # SIGTERM: stop taking commands and exit within this

    @staticmethod
    def secret(name: str) -> str | None:
        """A secret from the environment; never read from files, never logged."""
        if name not in SECRET_NAMES:
            raise KeyError(name)
        return os.environ.get(name) or None


_PUBLIC: dict[str, type] = {"moderation": ModerationSettings, "quotas": QuotaSettings, "metrics": MetricsSettings,
                            "logging": LogSettings}


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Reads the config file (or $WORLDLOOM_CONFIG); missing file and no path means defaults."""
    path = path or os.environ.get("WORLDLOOM_CONFIG")
    if not path:
        return Settings()
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {p} not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {p} is not valid TOML: {e}") from None
    return settings_from_dict(data)


def settings_from_dict(data: dict[str, Any]) -> Settings:
    main = dict(data.get("worldloom", {}))
    unknown = set(main) - {"database", "renderer", "planner", "prompt_budget", "shutdown_seconds"}
    unknown |= set(data) - {"worldloom", "limits", "engine", "llm", "discord", "slack", *_PUBLIC}
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    lim = dict(data.get("limits", {}))
    for key in ("token", "bot_token", "app_token", "signing_secret"):
        for section in ("discord", "slack"):
            if key in data.get(section, {}):
                raise ConfigError(f"[{section}] {key} must not be in the config file: set it in the environment")
    image = ImageLimits(**{k.removeprefix("image_"): lim.pop(k) for k in list(lim) if k.startswith("image_")})
    engine_keys = {"max_batch", "per_user_cap", "global_cap"}
    queue = {k: lim.pop(k) for k in list(lim) if k in engine_keys}
    try:
        public = {key: read_section(cls, key, dict(data.get(key, {}))) for key, cls in _PUBLIC.items()}
    except SettingError as e:
        raise ConfigError(str(e)) from None
    try:
        limits = Limits(image=image, **lim)
        return Settings(
            database=str(main.get("database", Settings.database)),
            renderer=str(main.get("renderer", Settings.renderer)),
            planner=str(main.get("planner", Settings.planner)),
            prompt_budget=int(main.get("prompt_budget", Settings.prompt_budget)),
            limits=limits, engine=dict(data.get("engine", {})), llm=dict(data.get("llm", {})),
            discord=dict(data.get("discord", {})), slack=dict(data.get("slack", {})), **queue, **public,
            shutdown_seconds=float(main.get("shutdown_seconds", Settings.shutdown_seconds)),
        )
    except TypeError as e:
        raise ConfigError(f"unknown setting: {e}") from None
