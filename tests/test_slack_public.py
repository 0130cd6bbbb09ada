"""Public-server rules through the real Slack adapter (slack-bolt, Socket Mode) against the local fake Slack:
blocked prompts, the image filter (always strict on Slack), quotas across a restart, bans and the audit log."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import open_app
from bot.config import Settings
from bot.public_settings import ModerationSettings, QuotaSettings
from engine.renderers.storyboard.renderer import SketchRenderer
from tests.fake_slack import FakeSlack
from tests.moderation_support import FLAG_ALL, build_tiny_classifier
from tests.test_slack import CHANNEL, Env, buttons, draw, new_world, png, say, texts


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    pytest.importorskip("transformers")
    yield build_tiny_classifier(tmp_path_factory.mktemp("nsfw-classifier"))


@asynccontextmanager
async def slack_env(db: Path, slack: FakeSlack, *, quotas: QuotaSettings | None = None,
                    **moderation: Any) -> AsyncIterator[Env]:
    settings = Settings(database=str(db), moderation=ModerationSettings(**moderation), quotas=quotas or QuotaSettings())
    async with open_app(settings, renderer=SketchRenderer()) as app, aiohttp.ClientSession() as session:
        config = {"mode": "socket", "api_base": slack.api_url, "files_base": slack.files_url, "progress_seconds": 0.05}
        env = Env(app, slack, "socket", session, config, contextlib.AsyncExitStack())
        try:
            await env.serve()
            yield env
        finally:
            await env.stack.aclose()


@asynccontextmanager
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        slack.add_user("UADA", "ada")
        slack.add_user("UBEN", "ben")
        slack.add_user("UMOD", "mod", admin=True)
        yield slack
        assert slack.violations == []


async def jobs(env: Env) -> int:
    return len(await env.app.store.jobs_in_state("queued", "planned", "rendering", "rendered", "posted", "failed"))


async def audit(env: Env) -> list[tuple[str, str]]:
    assert env.app.admin is not None
    return [(r.action, r.target) for r in await env.app.admin.recent_audit("slack", env.slack.team_id)]


async def test_a_blocked_prompt_is_refused_privately_and_nothing_is_queued(tmp_path: Path) -> None:
    # allow_in_age_restricted has no effect on Slack: it has no age-restricted channels.
    async with fake_slack() as slack, slack_env(tmp_path / "w.db", slack, allow_in_age_restricted=True) as env:
        root = await new_world(env)
        replies = len(slack.bot_replies(CHANNEL, root))
        for line in ("continue she poses n.u.d.e on the pier", "cref Vera a sailor --alias s3xy",
                     "imagine a NSFW poster"):
            await say(env, "UADA", line, root)
            told = slack.ephemerals[-1]
            assert "word this server does not allow" in told["text"] and told["user"] == "UADA"
            assert told["thread_ts"] == root
        assert all(w not in texts(slack.ephemerals[-3:]) for w in ("n.u.d.e", "s3xy", "NSFW"))
        assert await jobs(env) == 0 and len(slack.bot_replies(CHANNEL, root)) == replies  # nothing public
        assert [a for a, _ in await audit(env)] == ["refused:words"] * 3
        # Starting a world with a blocked title is refused at channel level too.
        await env.send("slash_commands", slack.slash(CHANNEL, "UADA", "new Porn palace"))
        await env.platform.drain()  # type: ignore[union-attr]
        assert "word this server does not allow" in slack.ephemerals[-1]["text"] and len(slack.roots(CHANNEL)) == 1


async def test_an_explicit_image_is_not_posted(tmp_path: Path, model: Path) -> None:
    async with fake_slack() as slack, slack_env(tmp_path / "w.db", slack, image_model=str(model),
                                                image_threshold=FLAG_ALL, action="spoiler") as env:
        root = await new_world(env)
        await env.send("events_api", slack.mention(CHANNEL, "UADA", "continue the pier at dawn", root))
        await slack.wait_for(lambda: "held the picture back" in texts(slack.bot_replies(CHANNEL, root)),
                             what="the failure notice")
        # Slack has no spoilers: even with action = "spoiler" the strict rule holds and nothing is uploaded.
        assert slack.calls_to("files.completeUploadExternal") == [] and buttons(slack, root) == []
        assert [a for a, _ in await audit(env)] == ["refused:image"]
        image = slack.add_file(png(), channel=CHANNEL, thread_ts=root)
        await say(env, "UADA", "cref Mira a sailor", root, [image])
        assert "image filter flagged it" in slack.ephemerals[-1]["text"]
        assert (await env.app.service.world(await env.world_id(root))).find_character("Mira") is None


async def test_quota_exhausted_is_refused_with_its_reset_time_and_survives_a_restart(tmp_path: Path) -> None:
    quotas = QuotaSettings(panels_per_day=1)
    async with fake_slack() as slack:
        async with slack_env(tmp_path / "w.db", slack, quotas=quotas) as env:
            root = await new_world(env)
            await draw(env, root, "a boat")
            await say(env, "UADA", "continue another boat", root)
            assert "your 1 panels for today" in slack.ephemerals[-1]["text"]
        async with slack_env(tmp_path / "w.db", slack, quotas=quotas) as env:  # a new process, same database
            await say(env, "UADA", "continue a third boat", root)
            assert "00:00 UTC" in slack.ephemerals[-1]["text"]
            await say(env, "UADA", "quota", root)
            assert "0 of 1 panels left" in slack.ephemerals[-1]["text"]
            await draw(env, root, "the admin waves", user="UMOD")  # workspace admins are exempt
            assert len(buttons(slack, root)) == 2 and await jobs(env) == 2


async def test_admin_ban_unban_and_audit(tmp_path: Path) -> None:
    async with fake_slack() as slack, slack_env(tmp_path / "w.db", slack) as env:
        root = await new_world(env)
        await say(env, "UBEN", "admin ban <@UADA>", root)
        assert "workspace admins" in slack.ephemerals[-1]["text"]

        await say(env, "UMOD", "admin ban <@UBEN> posting spam", root)
        assert slack.ephemerals[-1]["text"] == "🔨 @UBEN is banned from worldloom in this server."
        await say(env, "UBEN", "continue ben waves", root)
        assert "can't use worldloom in this server" in slack.ephemerals[-1]["text"]
        await env.send("slash_commands", slack.slash(CHANNEL, "UBEN", "show"))
        await env.platform.drain()  # type: ignore[union-attr]
        assert "can't use worldloom" in slack.ephemerals[-1]["text"] and await jobs(env) == 0

        await say(env, "UMOD", "admin unban <@UBEN>", root)
        await draw(env, root, "ben waves", user="UBEN")
        await say(env, "UMOD", "admin audit", root)
        shown = slack.ephemerals[-1]["text"]
        assert shown.startswith("Audit log, newest first:") and "mod: ban @UBEN — posting spam" in shown
        assert await audit(env) == [("unban", "UBEN"), ("ban", "UBEN")]
