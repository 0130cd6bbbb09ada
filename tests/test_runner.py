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
    out = capsys.readouterr().out
    assert "DISCORD_TOKEN" in out and "SLACK_BOT_TOKEN" in out and "worldloom demo" in out


def test_an_enabled_platform_without_its_token_stops_with_a_clear_message(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[discord]\nenabled = true\n")
    with pytest.raises(SystemExit, match="DISCORD_TOKEN is not set"):
        main(["--config", str(config), "run"])


def test_a_bad_config_file_is_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "missing.toml"), "run"]) == 2
    assert "not found" in capsys.readouterr().err
