"""Settings: the example file documents every setting; secrets never come from files."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.config import (
    LLM_DEFAULTS,
    SECTIONS,
    ConfigError,
    Settings,
    defaults_of,
    engine_defaults,
    limits_defaults,
    load_settings,
    main_defaults,
)
from bot.platforms.discord_config import DiscordConfig
from bot.platforms.slack_config import SlackConfig
from bot.public_settings import LogSettings, MetricsSettings, ModerationSettings, QuotaSettings
from engine.build import build_engine, split_settings
from engine.renderers.diffusion.settings import DEFAULTS as ENGINE_DEFAULTS

ROOT = Path(__file__).resolve().parent.parent


def test_the_example_config_loads_with_the_defaults() -> None:
    s = load_settings(ROOT / "config.example.toml")
    d = Settings()
    assert (s.database, s.renderer, s.planner, s.prompt_budget) == (d.database, d.renderer, d.planner,
                                                                    d.prompt_budget)
    assert (s.max_batch, s.per_user_cap, s.global_cap) == (d.max_batch, d.per_user_cap, d.global_cap)
    assert s.limits == d.limits
    assert (s.moderation, s.quotas, s.metrics, s.logging, s.shutdown_seconds) == (
        d.moderation, d.quotas, d.metrics, d.logging, d.shutdown_seconds)
    assert s.slack["mode"] == "socket" and s.discord["thread_type"] == "public"


def test_tokens_in_the_file_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text('[discord]\ntoken = "abc"\n')
    with pytest.raises(ConfigError, match="environment"):
        load_settings(p)


@pytest.mark.parametrize("text, message", [("[limits]\nnope = 1\n", "unknown setting"), ("[[x", "not valid TOML")])
def test_bad_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(p)


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "t0ken")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert Settings.secret("DISCORD_TOKEN") == "t0ken" and Settings.secret("SLACK_BOT_TOKEN") is None
    with pytest.raises(KeyError):
        Settings.secret("HOME")


def test_unknown_sections_and_keys_are_named(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text('[worldloom]\nrenderr = "tiny"\n')
    with pytest.raises(ConfigError, match="renderr"):
        load_settings(p)


# ---------------------------------------------------------------- the example is the code's defaults


def example() -> dict[str, dict[str, Any]]:
    """Every setting config.example.toml shows, by section: set ones, and `# key = value` lines."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    shown: dict[str, dict[str, Any]] = {name: {} for name in tomllib.loads(text)}
    section = ""
    for line in text.splitlines():
        if m := re.fullmatch(r"\[(\w+)\]", line):
            section = m[1]
        elif m := re.fullmatch(r"# ([a-z_]+) = (.+)", line):
            shown[section][m[1]] = tomllib.loads(f"v = {m[2]}")["v"]
    for name, values in tomllib.loads(text).items():
        shown[name].update(values)
    return shown


def code_defaults() -> dict[str, dict[str, Any]]:
    return {"worldloom": main_defaults(), "limits": limits_defaults(), "engine": engine_defaults(),
            "llm": LLM_DEFAULTS, "discord": defaults_of(DiscordConfig), "slack": defaults_of(SlackConfig),
            "moderation": defaults_of(ModerationSettings), "quotas": defaults_of(QuotaSettings),
            "metrics": defaults_of(MetricsSettings), "logging": defaults_of(LogSettings)}


def test_the_example_shows_every_setting_of_every_section_with_the_codes_default() -> None:
    shown, code = example(), code_defaults()
    assert set(shown) == set(code) == set(SECTIONS)
    for section, defaults in code.items():
        assert set(shown[section]) == set(defaults), section  # none missing, none the code does not know
        for key, default in defaults.items():
            if default is not None:  # None: the model (or the machine) decides; the example shows one value
                value = shown[section][key]
                assert value == (list(default) if isinstance(default, tuple) else default), f"[{section}] {key}"
                assert type(value) is type(default) or isinstance(default, (tuple, float)), f"[{section}] {key}"


def test_the_examples_engine_section_is_known_to_every_renderer(caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("diffusers")
    from engine.renderers.diffusion.renderer import KNOWN_SETTINGS, DiffusionRenderer
    from engine.renderers.registry import make_renderer

    # what the renderers get: the [engine] table without the backend's own keys (engine/build.py)
    _, engine = split_settings({**load_settings(ROOT / "config.example.toml").engine, "model": "some/model"})
    assert set(ENGINE_DEFAULTS) <= KNOWN_SETTINGS and "previous_panel_reference" in KNOWN_SETTINGS
    with caplog.at_level(logging.WARNING):
        DiffusionRenderer(engine)
        make_renderer("tiny", engine)
        make_renderer("diffusion", engine)
        build_engine("tiny", {**engine, "backend": "local"})
    assert not [r for r in caplog.records if "unknown" in r.getMessage()]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        DiffusionRenderer({**engine, "previews": 1})  # the check is live: a key it does not know is named
    assert "previews" in caplog.text


@pytest.mark.parametrize(("text", "message"), [
    ('[worldloom]\nprompt_budget = "lots"\n', "[worldloom] prompt_budget must be a whole number"),
    ("[limits]\nimage_max_bytes = 1.5\n", "[limits] image_max_bytes must be a whole number"),
    ("[engine]\nsteps = \"many\"\n", "[engine] steps must be a whole number"),
    ("[engine]\nprevious_panel_reference = true\n", "[engine] previous_panel_reference must be a number"),
    ("[llm]\ntimeout_s = \"soon\"\n", "[llm] timeout_s must be a number"),
    ("[nope]\nx = 1\n", "unknown section(s): [nope]"),
    ('[worldloom]\nplanner = "gpt"\n', "[worldloom] planner must be one of rule, llm"),
    ('[engine]\nbackend = "k8s"\n', '[engine] backend must be "local" or "ray"'),
    ("[engine]\nworkers = 0\n", '[engine] workers must be "auto" or a whole number'),
])
def test_values_of_the_wrong_kind_are_named(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(p)
    assert message in str(e.value)


def test_numbers_may_be_written_as_either_kind_and_come_out_right(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text("[engine]\nprevious_panel_reference = 0\nguidance = 5\n[llm]\ntimeout_s = 3\n")
    s = load_settings(p)
    assert s.engine["previous_panel_reference"] == 0.0 and isinstance(s.engine["guidance"], float)
    assert s.llm["timeout_s"] == 3.0


@pytest.mark.parametrize(("section", "message"), [
    ({"shards": 0}, "[discord] shards must be 1, a number of shards or \"auto\""),
    ({"guild_ids": ["x"]}, "[discord] guild_ids must be a list of server ids"),
    ({"thread_type": "secret"}, "[discord] thread_type must be"),
    ({"progress_seconds": "soon"}, "[discord] progress_seconds must be a number"),
])
def test_the_discord_section_is_checked(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        DiscordConfig.from_dict(section)
    assert message in str(e.value)
    assert DiscordConfig.from_dict({"shards": "auto", "guild_ids": [1, 2]}).as_dict()["guild_ids"] == (1, 2)
