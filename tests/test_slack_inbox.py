"""Slack and the inbox: re-sent events, commands acknowledged before a crash, panels posted exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.inbox import ANSWERED
from tests.fake_slack_spec import json_arg
from tests.test_slack import ACK_LIMIT_S, CHANNEL, Env, buttons, draw, env, new_world, png, slack_env, texts

__all__ = ["env"]  # the fixture, shared with tests/test_slack.py

POSTING = ("chat.postMessage", "chat.postEphemeral", "chat.update", "files.getUploadURLExternal",
           "files.completeUploadExternal", "upload", "views.open")


def posting_calls(env: Env) -> list[str]:
    return [c.method for c in env.slack.calls if c.method in POSTING]


async def settled(env: Env, root: str, panels: int) -> None:
    """Every panel posted and its status message edited to the end."""
    slack = env.slack
    await slack.wait_for(lambda: len(buttons(slack, root)) == panels, what=f"{panels} panel(s)")
    await slack.wait_for(lambda: texts(slack.bot_replies(CHANNEL, root)).count("is posted below") == panels,
                         what="the status edits")
    assert env.platform is not None
    await env.platform.drain()


def lose_the_work(env: Env, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The process dies right after acknowledging: the adapter's work never runs."""
    lost: list[Any] = []

    def spawn(work: Any, **_: Any) -> None:
        lost.append(work)
        work.close()

    assert env.platform is not None
    monkeypatch.setattr(env.platform._pool, "spawn", spawn)
    return lost


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_a_resent_event_is_acknowledged_and_ignored(tmp_path: Path, mode: str) -> None:
    async with slack_env(tmp_path, mode) as env:
        slack = env.slack
        root = await new_world(env)
        body = slack.mention(CHANNEL, "UADA", "continue the lamp flickers", root)
        await env.send("events_api", body)
        await settled(env, root, 1)
        before = posting_calls(env)
        assert await env.send("events_api", body, retry=1) < ACK_LIMIT_S
        await env.platform.drain()  # type: ignore[union-attr]
        assert posting_calls(env) == before
        await env.restart()  # the key is on disk, not only in this process's memory
        await env.send("events_api", body, retry=2)
        await env.platform.drain()  # type: ignore[union-attr]
        assert posting_calls(env) == before
        world = await env.app.service.world(await env.world_id(root))
        assert len(world.panels) == 1


async def test_panels_carry_their_job_id_in_message_metadata_and_file_name(env: Env) -> None:
    slack = env.slack
    root = await new_world(env)
    panel = await draw(env, root)
    (job,) = await env.app.store.jobs_in_state("posted", "rendered")
    post = next(c for c in slack.calls_to("chat.postMessage") if c.args.get("blocks") and c.args.get("metadata"))
    expected = {"event_type": "worldloom_panel", "event_payload": {"job_id": job.id}}
    assert json_arg(post.args["metadata"]) == expected and panel["metadata"] == expected
    (upload,) = slack.calls_to("files.getUploadURLExternal")
    assert job.id in upload.args["filename"]


@pytest.mark.parametrize("left", ["the file", "the file and the message"])
async def test_a_panel_posted_before_a_crash_is_completed_not_repeated(env: Env, left: str) -> None:
    slack = env.slack
    root = await new_world(env)
    panel = await draw(env, root)
    await settled(env, root, 1)
    (job,) = await env.app.store.jobs_in_state("posted")
    await env.app.store.set_job_state(job.id, "rendered")  # the crash came before the post was written down
    if left == "the file":  # ... and before the message with the buttons was sent
        slack.messages[CHANNEL].remove(panel)
    uploads = len(slack.calls_to("files.completeUploadExternal"))
    await env.restart()
    await slack.wait_for(lambda: len(buttons(slack, root)) == 1, what="the panel message")
    await env.app.outbox.wait_idle()
    replies = slack.calls_to("conversations.replies")
    assert replies and str(replies[-1].args.get("include_all_metadata")).lower() in ("1", "true")
    assert len(slack.calls_to("files.completeUploadExternal")) == uploads  # the image: never twice
    posted = await env.app.store.job(job.id)
    assert posted is not None and posted.state == "posted" and posted.message_id == buttons(slack, root)[0]["ts"]
    if left == "the file and the message":
        assert posted.message_id == panel["ts"]


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_a_command_acknowledged_before_a_crash_is_done_after_the_restart(
        tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with slack_env(tmp_path, mode) as env:
        slack = env.slack
        root = await new_world(env)
        lost = lose_the_work(env, monkeypatch)
        await env.send("events_api", slack.mention(CHANNEL, "UBEN", "continue the tide comes in", root))
        assert len(lost) == 1 and buttons(slack, root) == []
        monkeypatch.undo()
        await env.restart()
        await settled(env, root, 1)
        world = await env.app.service.world(await env.world_id(root))
        assert [(p.author, p.command) for p in world.panels] == [("ben", "continue the tide comes in")]
        assert "Panel 1" in texts(slack.bot_replies(CHANNEL, root))  # answered in its thread
        assert set((await env.app.store.inbox.states("slack")).values()) == {ANSWERED}


async def test_a_world_new_cut_short_binds_the_root_it_posted(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    slack = env.slack

    async def crash(*args: Any, **kwargs: Any) -> None:
        raise asyncio.CancelledError  # the process dies between posting the root and binding the world

    monkeypatch.setattr(env.app.store, "create_world", crash)
    await env.send("slash_commands", slack.slash(CHANNEL, "UADA", "new Half Made"))
    await slack.wait_for(lambda: slack.roots(CHANNEL), what="the root message")
    await env.platform.drain()  # type: ignore[union-attr]
    monkeypatch.undo()
    await env.restart()
    (root,) = slack.roots(CHANNEL)  # not a second one
    await slack.wait_for(lambda: "New world *Half Made*" in texts(slack.bot_replies(CHANNEL, root["ts"])),
                         what="the welcome in the first root's thread")
    world = await env.app.service.world(await env.world_id(root["ts"]))
    assert world.title == "Half Made"


async def test_a_command_in_a_thread_still_being_created_waits_for_its_world(
        env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    slack = env.slack
    bind = asyncio.Event()
    create_world = env.app.store.create_world

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await bind.wait()
        return await create_world(*args, **kwargs)

    monkeypatch.setattr(env.app.store, "create_world", slow)
    await env.send("slash_commands", slack.slash(CHANNEL, "UADA", "new Eager"))
    await slack.wait_for(lambda: slack.roots(CHANNEL), what="the root message")
    root = slack.roots(CHANNEL)[0]["ts"]
    await env.send("events_api", slack.mention(CHANNEL, "UBEN", "world show", root))
    bind.set()
    await env.platform.drain()  # type: ignore[union-attr]
    assert slack.ephemerals == []  # not "there is no world here yet"
    assert "🌍 *Eager*" in texts(slack.bot_replies(CHANNEL, root))


async def test_a_file_is_downloaded_before_the_ack_and_kept_with_the_command(
        env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    slack = env.slack
    root = await new_world(env)
    image = slack.add_file(png(), channel=CHANNEL, thread_ts=root)
    lost = lose_the_work(env, monkeypatch)
    await env.send("events_api", slack.mention(CHANNEL, "UADA", "cref Mira a girl", root, [image]))
    assert len(lost) == 1 and slack.downloads == [(image["id"], True)]  # before the acknowledgement
    monkeypatch.undo()
    slack.files[image["id"]].data = None  # the link has expired by the time the bot is back
    await env.restart()
    await slack.wait_for(lambda: "Registered *Mira* with a reference image" in texts(slack.bot_replies(CHANNEL, root)),
                         what="the registration")
    assert len(slack.downloads) == 1
    mira = (await env.app.service.world(await env.world_id(root))).character("Mira")
    assert await env.app.store.has_blob(mira.references[0].image)
