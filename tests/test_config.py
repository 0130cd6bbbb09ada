"""Settings: the example file documents every setting; secrets never come from files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

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
