"""Settings from a TOML file (see config.example.toml); secrets only from the environment.

Every section is checked against the code's defaults when the file is read: an unknown key or
a value of the wrong kind is a ConfigError that names it. ([discord] and [slack] are checked
by their platform when it is built.)
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import MISSING, dataclass, field, fields
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
from bot.public_settings import section as read_public
from engine.build import ENGINE_KEYS, BackendSettings, split_settings
from engine.renderers.diffusion.settings import DEFAULTS as ENGINE_DEFAULTS
from engine.renderers.diffusion.settings import kind_of
from engine.renderers.registry import NAMES as RENDERERS

SECRET_NAMES = ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")
# What `worldloom run --help` lists: the environment it reads and the sections of the config file.
ENVIRONMENT = {
    "WORLDLOOM_CONFIG": "the config file when --config is not given",
    "DISCORD_TOKEN": "the Discord bot token; set, it enables [discord]",
    "SLACK_BOT_TOKEN": "the Slack bot token (xoxb-); set, it enables [slack]",
    "SLACK_APP_TOKEN": "the Slack app-level token (xapp-) for mode = \"socket\"",
    "SLACK_SIGNING_SECRET": "the Slack signing secret for mode = \"http\"",
}
SECTIONS = {
    "worldloom": "the database, the renderer, the planner, the prompt budget",
    "limits": "queue caps, per-world counts, renders a minute, upload sizes",
    "engine": "the diffusion model and its settings (renderer = \"diffusion\")",
    "llm": "the local language model of planner = \"llm\"",
    "discord": "the Discord bot",
    "slack": "the Slack app",
    "moderation": "the word filter, the image classifier, age-restricted channels",
    "quotas": "panels a day per person and per server",
    "metrics": "Prometheus metrics, /healthz and /readyz",
    "logging": "text or JSON log lines, and their level",
}
PLANNERS = ("rule", "llm")
LLM_DEFAULTS: dict[str, Any] = {"model": "", "timeout_s": 5.0}


class SetupError(Exception):
    """A problem with the configuration, a token or the network: told in one line, exit code 2."""


class ConfigError(SetupError):
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


def defaults_of(cls: type) -> dict[str, Any]:
    """A dataclass's plain defaults by field name (fields built by a factory are left out)."""
    return {f.name: f.default for f in fields(cls) if f.default is not MISSING}


def main_defaults() -> dict[str, Any]:
    """[worldloom]"""
    main = ("database", "renderer", "planner", "prompt_budget", "shutdown_seconds")
    return {k: v for k, v in defaults_of(Settings).items() if k in main}


def limits_defaults() -> dict[str, Any]:
    """[limits]: the Limits, the image limits (image_*) and the queue's caps."""
    queue = {k: v for k, v in defaults_of(Settings).items() if k in ("max_batch", "per_user_cap", "global_cap")}
    image = {f"image_{k}": v for k, v in defaults_of(ImageLimits).items()}
    return {**queue, **defaults_of(Limits), **image}


def engine_defaults() -> dict[str, Any]:
    """[engine]: the backend's keys (local or Ray) and the renderers' keys."""
    return {**defaults_of(BackendSettings), **ENGINE_DEFAULTS}


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
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {p} cannot be read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {p} is not valid TOML: {e}") from None
    return settings_from_dict(data)


def settings_from_dict(data: dict[str, Any]) -> Settings:
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise ConfigError(f"unknown section(s): {', '.join(f'[{s}]' for s in sorted(unknown))}; "
                          f"the sections are {', '.join(f'[{s}]' for s in SECTIONS)}")
    for section in ("discord", "slack"):
        if not isinstance(data.get(section, {}), dict):
            raise ConfigError(f"[{section}] must be a table")
        for key in ("token", "bot_token", "app_token", "signing_secret"):
            if key in data.get(section, {}):
                raise ConfigError(f"[{section}] {key} must not be in the config file: set it in the environment")
    main = read_section("worldloom", data.get("worldloom", {}), main_defaults())
    lim = read_section("limits", data.get("limits", {}), limits_defaults())
    engine = read_section("engine", data.get("engine", {}), engine_defaults(), kind_of, unchecked=ENGINE_KEYS)
    try:
        split_settings(engine)  # the backend's own keys: local or Ray
    except ValueError as e:
        raise ConfigError(str(e)) from None
    llm = read_section("llm", data.get("llm", {}), LLM_DEFAULTS)
    if main.get("renderer", "sketch") not in RENDERERS:
        raise ConfigError(f"[worldloom] renderer must be one of {', '.join(RENDERERS)}, got {main['renderer']!r}")
    if main.get("planner", "rule") not in PLANNERS:
        raise ConfigError(f"[worldloom] planner must be one of {', '.join(PLANNERS)}, got {main['planner']!r}")
    try:
        public = {key: read_public(cls, key, dict(data.get(key, {}))) for key, cls in _PUBLIC.items()}
    except SettingError as e:
        raise ConfigError(str(e)) from None
    image = ImageLimits(**{k.removeprefix("image_"): lim.pop(k) for k in list(lim) if k.startswith("image_")})
    queue = {k: lim.pop(k) for k in list(lim) if k in ("max_batch", "per_user_cap", "global_cap")}
    return Settings(**main, **queue, limits=Limits(image=image, **lim), engine=engine, llm=llm,
                    discord=dict(data.get("discord", {})), slack=dict(data.get("slack", {})), **public)


_PUBLIC: dict[str, type] = {"moderation": ModerationSettings, "quotas": QuotaSettings, "metrics": MetricsSettings,
                            "logging": LogSettings}


def check_renderer(settings: Settings) -> None:
    """Refuses a renderer that cannot work as configured, before anything is opened."""
    if settings.renderer not in RENDERERS:
        raise ConfigError(f"unknown renderer {settings.renderer!r}: choose one of {', '.join(RENDERERS)}")
    if settings.renderer == "diffusion" and not settings.engine.get("model"):
        raise ConfigError('the diffusion renderer needs a model: set [engine] model in the config file (a model id '
                          'such as "black-forest-labs/FLUX.2-klein-4B", or a local folder), or use --renderer sketch')


_KIND_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "text", list: "a list"}


def read_section(section: str, data: Any, defaults: Mapping[str, Any], kind: Any = None,
                 unchecked: Collection[str] = ()) -> dict[str, Any]:
    """The section's values, each of its default's kind (`kind(key)` says it where the default is
    None; the caller checks the `unchecked` ones). Unknown keys and values of the wrong kind raise
    ConfigError; "" in a number's place means the default (the example file writes it so)."""
    if not isinstance(data, dict):
        raise ConfigError(f"[{section}] must be a table")
    unknown = sorted(set(data) - set(defaults))
    if unknown:
        raise ConfigError(f"unknown setting(s) in [{section}]: {', '.join(unknown)}")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in unchecked:
            out[key] = value
            continue
        want = kind(key) if kind is not None and defaults[key] is None else type(defaults[key])
        want = list if want is tuple else want
        if value == "" and want is not str:
            continue
        if not _fits(value, want):
            raise ConfigError(f"[{section}] {key} must be {_KIND_NAMES.get(want, want.__name__)}, got {value!r}")
        out[key] = float(value) if want is float else value
    return out


def _fits(value: Any, want: type) -> bool:
    if want is bool or isinstance(value, bool):
        return want is bool and isinstance(value, bool)
    if want is float:
        return isinstance(value, (int, float))
    return isinstance(value, want)
