"""Discord and the inbox: a command acknowledged before a crash is done after the restart, and answered."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from bot.inbox import ANSWERED
from tests.fake_discord import FakeDiscord
from tests.test_discord import assert_clean, fake, is_final, new_world, png, running_bot, thread_place

__all__ = ["fake"]  # the fixture, shared with tests/test_discord.py

DISCORD_EPOCH_MS = 1420070400000


def lose_the_work(platform: Any, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """The process dies right after deferring: the adapter's work never runs. Set once it happened."""
    lost = asyncio.Event()

    def spawn(work: Any, **_: Any) -> None:
        work.close()
        lost.set()

    monkeypatch.setattr(platform._pool, "spawn", spawn)
    return lost


async def test_a_command_deferred_before_a_crash_edits_its_reply_after_the_restart(
        fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = fake.add_user("alice")
    db = tmp_path / "db.sqlite"
    async with running_bot(fake, db) as (_, platform):
        _, thread = await new_world(fake, alice, "Crashy")
        lost = lose_the_work(platform, monkeypatch)
        ix = await fake.slash("continue", alice, thread, text="the bell rings")
        await fake.wait_for_ack(ix)
        await asyncio.wait_for(lost.wait(), 10)
        monkeypatch.undo()
        assert fake.panels(thread) == []
    async with running_bot(fake, db) as (app, _):
        (panel,) = await fake.wait_for_panels(thread, 1)
        final = await fake.wait_for_original(ix, is_final)  # "thinking…" became the answer
        assert final["content"].startswith("✅ Panel 1 is posted") and panel["id"] in final["content"]
        assert "alice" in panel["content"].lower() and "the bell rings" in panel["content"]
        await app.outbox.wait_idle()
        assert set((await app.store.inbox.states("discord")).values()) == {ANSWERED}
    assert_clean(fake)


async def test_after_the_token_expired_the_answer_comes_in_the_thread_with_a_mention(
        fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = fake.add_user("alice")
    db = tmp_path / "db.sqlite"
    async with running_bot(fake, db) as (_, platform):
        _, thread = await new_world(fake, alice, "Late")
        lost = lose_the_work(platform, monkeypatch)
        # An interaction from 20 minutes ago: its token is dead by the time the bot is back.
        old = ((int((time.time() - 20 * 60) * 1000) - DISCORD_EPOCH_MS) << 22) | 7
        monkeypatch.setattr(fake, "snowflake", lambda: old)
        ix = await fake.slash("continue", alice, thread, text="the lights go out")
        monkeypatch.setattr(fake, "snowflake", FakeDiscord.snowflake.__get__(fake))
        await fake.wait_for_ack(ix)
        await asyncio.wait_for(lost.wait(), 10)
        monkeypatch.undo()
    async with running_bot(fake, db):
        await fake.wait_for_panels(thread, 1)
        told = await fake.wait_for(lambda: [m for m in fake.channel_messages(thread)
                                            if m["content"].startswith(f"<@{alice}>")], what="the answer in the thread")
        assert "Panel 1" in told[0]["content"]
        webhook_edits = [r for r in fake.requests if r.method == "PATCH" and ix.token in r.path]
        assert webhook_edits == []  # the dead token was not used
        (post,) = [r for r in fake.requests if r.method == "POST" and r.json
                   and str(r.json.get("content", "")).startswith(f"<@{alice}>")]
        assert post.json["allowed_mentions"]["parse"] == ["users"] and post.json["content"].count("<@") == 1
    assert_clean(fake)


async def test_an_attachment_is_downloaded_before_the_defer_and_kept_with_the_command(
        fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = fake.add_user("alice")
    db = tmp_path / "db.sqlite"
    async with running_bot(fake, db) as (_, platform):
        _, thread = await new_world(fake, alice, "Kept")
        lost = lose_the_work(platform, monkeypatch)
        ix = await fake.slash("cref", alice, thread, name="Ava", description="a knight",
                              image=("ava.png", png(), "image/png"))
        await fake.wait_for_ack(ix)
        assert ix.callback is not None and len(fake.cdn_fetched_at) == 1
        assert fake.cdn_fetched_at[0] < ix.callback.at  # downloaded, then acknowledged
        await asyncio.wait_for(lost.wait(), 10)
        monkeypatch.undo()
    fake.cdn.clear()  # the attachment link has expired by the time the bot is back
    async with running_bot(fake, db) as (app, _):
        reply = await fake.wait_for_reply(ix)
        assert "Registered **Ava**" in reply["content"]
        world_id = await app.service.world_id_for(thread_place(thread))
        ava = (await app.service.world(world_id or "")).character("Ava")
        assert await app.store.has_blob(ava.references[0].image) and len(fake.cdn_fetches) == 1
    assert_clean(fake)
