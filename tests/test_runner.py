"""`worldloom run`: starts the configured platforms, or says clearly that none is configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def no_tokens(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "WORLDLOOM_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_run_without_any_platform_explains_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "DISCORD_TOKEN" in err and "SLACK_BOT_TOKEN" in err and "worldloom demo" in err
    assert err.count("\n") == 1


def test_an_enabled_platform_without_its_token_stops_with_a_clear_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[discord]\nenabled = true\n")
    assert main(["--config", str(config), "run"]) == 2
    assert capsys.readouterr().err == "worldloom: [discord] is enabled but DISCORD_TOKEN is not set\n"


def test_a_bad_config_file_is_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "missing.toml"), "run"]) == 2
    assert "not found" in capsys.readouterr().err
