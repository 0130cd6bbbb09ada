"""The `worldloom` command line: options before or after the subcommand, `run --help`, and every
configuration, token or network problem as one line on stderr with exit code 2 (-v: the traceback)."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import open_app
from bot.cli import main, parser
from bot.config import ENVIRONMENT, SECTIONS, Settings, SetupError
from engine.renderers.storyboard.renderer import SketchRenderer

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "WORLDLOOM_CONFIG")


def subcommands() -> list[str]:
    p = parser()
    (sub,) = [a for a in p._actions if a.dest == "==SUPPRESS==" and getattr(a, "choices", None)]
    return list(sub.choices)


@pytest.mark.parametrize("name", subcommands())
@pytest.mark.parametrize("order", ["before", "after"])
def test_config_and_verbose_go_before_or_after_every_subcommand(name: str, order: str) -> None:
    given = ["--config", "my.toml", "-v"]
    needed = {"backup": ["DIR"], "restore": ["DIR"]}.get(name, [])  # their positional arguments
    args = parser().parse_args([*given, name, *needed] if order == "before" else [name, *needed, *given])
    assert (args.config, args.verbose) == ("my.toml", True)
    plain = parser().parse_args([name, *needed])
    assert (plain.config, plain.verbose) == (None, False)


def test_the_config_after_run_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "c.toml"
    config.write_text("[discord]\nenabled = true\n")
    assert main(["run", "--config", str(config)]) == 2
    assert "DISCORD_TOKEN is not set" in capsys.readouterr().err  # read: without it, "no platform configured"
    assert main(["run", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml not found" in capsys.readouterr().err


def test_run_help_names_the_environment_and_the_config_sections(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["run", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "--config FILE" in text
    for name in (*ENVIRONMENT, "DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        assert name in text
    for section in (*SECTIONS, "worldloom", "limits", "engine", "llm", "discord", "slack"):
        assert f"[{section}]" in text


# ---------------------------------------------------------------- one line, exit code 2


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


def worldloom(tmp_path: Path, *args: str, config: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    extra = []
    if config:
        (tmp_path / "c.toml").write_text(config)
        extra = ["--config", str(tmp_path / "c.toml")]
    return subprocess.run([sys.executable, "-m", "bot.cli", *args, *extra], cwd=tmp_path, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("worldloom: ")
    return done.stderr


def test_slack_socket_mode_without_the_app_token(tmp_path: Path) -> None:
    err = one_line(worldloom(tmp_path, "run", SLACK_BOT_TOKEN="xoxb-1"))
    assert "SLACK_APP_TOKEN" in err


def test_an_unreachable_discord(tmp_path: Path) -> None:
    port = closed_port()
    config = f'[discord]\napi_base = "http://127.0.0.1:{port}/api/v10"\ngateway_url = "ws://127.0.0.1:{port}/"\n'
    err = one_line(worldloom(tmp_path, "run", config=config, DISCORD_TOKEN="a.b.c"))
    assert err.startswith("worldloom: discord did not start:") and f"127.0.0.1:{port}" in err


def test_the_demo_with_diffusion_but_no_model_changes_nothing(tmp_path: Path) -> None:
    err = one_line(worldloom(tmp_path, "demo", "--renderer", "diffusion"))
    assert "needs a model" in err and "[engine] model" in err
    assert not (tmp_path / "worldloom-demo").exists()


@pytest.mark.parametrize(("config", "said"), [
    ('[worldloom]\nprompt_budget = "lots"\n', "[worldloom] prompt_budget must be a whole number, got 'lots'"),
    ("[limits]\nmax_panels = true\n", "[limits] max_panels must be a whole number, got True"),
    ('[worldloom]\nrenderer = "dall-e"\n', "[worldloom] renderer must be one of sketch, tiny, diffusion"),
    ("[engine]\nsafety_checker = 0\n", "[engine] safety_checker must be true or false, got 0"),
    ("[engine]\npreviews = 1\n", "unknown setting(s) in [engine]: previews"),
    ("[discord]\nauto_archive_minutes = 5\n", "[discord] auto_archive_minutes must be one of 60, 1440"),
    ('[slack]\nmode = "rtm"\n', '[slack] mode must be "socket" or "http"'),
])
def test_a_bad_config_value(tmp_path: Path, config: str, said: str) -> None:
    err = one_line(worldloom(tmp_path, "run", config=config, DISCORD_TOKEN="a.b.c", SLACK_BOT_TOKEN="xoxb-1",
                             SLACK_APP_TOKEN="xapp-1"))
    assert said in err


def test_verbose_shows_the_traceback_too(tmp_path: Path) -> None:
    done = worldloom(tmp_path, "demo", "--renderer", "diffusion", "-v")
    assert done.returncode == 2 and "Traceback" in done.stderr
    assert done.stderr.rstrip().splitlines()[-1].startswith("worldloom: the diffusion renderer needs a model")


class BrokenRenderer(SketchRenderer):
    """A renderer whose model is not there."""

    def load(self) -> None:
        raise OSError("no model at /models/missing")


async def test_a_renderer_that_cannot_load_is_a_setup_error_told_once(tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), pytest.raises(SetupError) as e:
        async with open_app(Settings(database=str(tmp_path / "w.db")), renderer=BrokenRenderer()):
            pass
    assert str(e.value) == "the sketch renderer could not start: no model at /models/missing"
    assert caplog.records == []  # the caller tells it, in one line; nothing else prints a traceback
