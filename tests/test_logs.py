"""Logs: JSON lines, one per job and per refusal, and no token or signing secret in any line,
tracebacks and aiohttp errors included."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from bot.app import open_app
from bot.config import SECRET_NAMES, Settings
from bot.logs import REDACTED, configure
from bot.platforms.discord_app import DiscordPlatform
from engine.renderers.storyboard.renderer import SketchRenderer
from tests.fake_discord import FakeDiscord
from tests.fake_slack import FakeSlack
from tests.test_discord import is_final, new_world
from tests.test_slack import Env, draw, say
from tests.test_slack import new_world as slack_world

SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """(what worldloom writes, the same lines unredacted) while the test runs."""
    root = logging.getLogger()
    level = root.level
    raw = io.StringIO()
    plain = logging.StreamHandler(raw)
    plain.setFormatter(logging.Formatter("%(message)s"))
    out = io.StringIO()
    ours = configure("DEBUG", "json", [Settings.secret(n) or "" for n in SECRET_NAMES], out)
    root.addHandler(plain)
    try:
        yield out, raw
    finally:
        root.removeHandler(ours)
        root.removeHandler(plain)
        root.setLevel(level)


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"DISCORD_TOKEN": "MTEwMDAwMDAwMDAwMDAwMDAwMQ.Gx1234.fake-discord-token-abcdefghijkl",
              "SLACK_BOT_TOKEN": "xoxb-1234-5678-fakeslackbottoken", "SLACK_APP_TOKEN": "xapp-1-A0WORLD-fakeapptoken",
              "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_secrets_are_redacted_from_messages_arguments_tracebacks_and_aiohttp_errors(
        secrets: dict[str, str], captured: tuple[io.StringIO, io.StringIO]) -> None:
    out, raw = captured
    token, bot, app_token = secrets["DISCORD_TOKEN"], secrets["SLACK_BOT_TOKEN"], secrets["SLACK_APP_TOKEN"]
    log = logging.getLogger("bot.platforms.test")
    log.info("logging in with %s", token)
    log.warning(f"signing with {SIGNING_SECRET}")
    try:
        raise RuntimeError(f"the gateway refused {app_token}")
    except RuntimeError:
        log.exception("connect failed")
    headers = CIMultiDictProxy(CIMultiDict({"Authorization": f"Bearer {bot}"}))
    info = aiohttp.RequestInfo(URL(f"https://slack.com/api/files.info?token={bot}"), "GET", headers)
    error = aiohttp.ClientResponseError(info, (), status=401, message="invalid_auth", headers=headers)
    logging.getLogger("aiohttp.client").error("request failed: %r", error, exc_info=error)
    text = out.getvalue()
    for secret in secrets.values():
        assert secret in raw.getvalue()  # it was there to leak ...
        assert secret not in text  # ... and did not
    assert text.count(REDACTED) >= 5
    records = lines(out)
    assert [r["level"] for r in records] == ["info", "warning", "error", "error"]
    assert "RuntimeError" in str(records[2]["exc"]) and "ClientResponseError" in str(records[3]["exc"])


async def test_no_secret_in_any_line_of_a_discord_and_a_slack_session(
        secrets: dict[str, str], captured: tuple[io.StringIO, io.StringIO], tmp_path: Path) -> None:
    out, raw = captured
    token = secrets["DISCORD_TOKEN"]
    async with FakeDiscord(token) as fake:
        alice = fake.add_user("alice")
        settings = Settings(database=str(tmp_path / "d.db"), discord=fake.config(progress_seconds=0.05))
        async with open_app(settings, renderer=SketchRenderer()) as app, \
                app.serving(DiscordPlatform(app.service, settings.discord, token)):
            _, thread = await new_world(fake, alice, "Harbour")
            await fake.wait_for_original(await fake.slash("continue", alice, thread, text="a boat"), is_final)
            # Discord answers a post with an error quoting the token: the traceback carries it.
            fake.fail_once("POST", rf"^/channels/{thread}/messages$", 400, f"Invalid Form Body: {token}", 50035)
            ix = await fake.slash("continue", alice, thread, text="another boat")
            await fake.wait_for_original(ix, is_final)
            await fake.wait_for_reply(await fake.slash("continue", alice, thread, text="a nude study"))
    async with FakeSlack(bot_token=secrets["SLACK_BOT_TOKEN"], app_token=secrets["SLACK_APP_TOKEN"]) as slack:
        slack.add_user("UADA", "ada")
        async with open_app(Settings(database=str(tmp_path / "s.db")), renderer=SketchRenderer()) as app, \
                aiohttp.ClientSession() as session:
            config = {"mode": "socket", "api_base": slack.api_url, "files_base": slack.files_url,
                      "progress_seconds": 0.05}
            env = Env(app, slack, "socket", session, config, contextlib.AsyncExitStack())
            try:
                await env.serve()
                root = await slack_world(env)
                await draw(env, root)
                slack.fail_next("users.info", f"token_revoked {secrets['SLACK_BOT_TOKEN']}")
                slack.fail_next("chat.postMessage", f"invalid_auth for {secrets['SLACK_BOT_TOKEN']}")
                await say(env, "UBEN", "world show", root)
            finally:
                await env.stack.aclose()
    text = out.getvalue()
    assert token in raw.getvalue() and secrets["SLACK_BOT_TOKEN"] in raw.getvalue()  # the errors quoted them
    for name, secret in secrets.items():
        assert secret not in text, f"{name} leaked into the log"
    records = lines(out)
    assert any("Traceback" in str(r.get("exc", "")) and REDACTED in str(r.get("exc")) for r in records)
    # One line per job step and per refusal, with their fields.
    jobs = [r for r in records if r["logger"] == "worldloom.jobs"]
    assert {r["state"] for r in jobs} >= {"stored", "rendered", "posted"}
    assert any(r.get("refusal") == "words" and r["actor"] == f"discord:{alice}" for r in records)
