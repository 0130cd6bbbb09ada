"""Public-server rules through the real Discord adapter (discord.py) against the local fake Discord:
blocked prompts, the image filter, age-restricted channels, quotas across a restart, bans and the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, open_app
from bot.config import Settings
from bot.platforms.discord_app import DiscordPlatform
from bot.public_settings import ModerationSettings, QuotaSettings
from engine.renderers.storyboard.renderer import SketchRenderer
from tests.fake_discord import GUILD_ID, FakeDiscord
from tests.fake_discord_payloads import MANAGE_GUILD
from tests.moderation_support import FLAG_ALL, build_tiny_classifier
from tests.test_discord import assert_clean, is_final, new_world, png, thread_place

EPHEMERAL = 64


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    pytest.importorskip("transformers")
    yield build_tiny_classifier(tmp_path_factory.mktemp("nsfw-classifier"))


@asynccontextmanager
async def running(fake: FakeDiscord, db: Path, *, quotas: QuotaSettings | None = None,
                  **moderation: Any) -> AsyncIterator[App]:
    settings = Settings(database=str(db), discord=fake.config(progress_seconds=0.05),
                        moderation=ModerationSettings(**moderation), quotas=quotas or QuotaSettings())
    async with open_app(settings, renderer=SketchRenderer()) as app, \
            app.serving(DiscordPlatform(app.service, settings.discord, fake.token)):
        yield app


async def jobs(app: App) -> int:
    return len(await app.store.jobs_in_state("queued", "planned", "rendering", "rendered", "posted", "failed"))


async def audit(app: App) -> list[tuple[str, str]]:
    assert app.admin is not None
    return [(r.action, r.target) for r in await app.admin.recent_audit("discord", str(GUILD_ID))]


async def test_a_blocked_prompt_is_refused_privately_and_nothing_is_queued(fake: FakeDiscord, tmp_path: Path) -> None:
    alice = fake.add_user("alice")
    async with running(fake, tmp_path / "db.sqlite") as app:
        _, thread = await new_world(fake, alice, "Harbour")
        world_id = await app.service.world_id_for(thread_place(thread)) or ""
        version = (await app.service.world(world_id)).version
        for command, values in (("continue", {"text": "she poses n.u.d.e on the pier"}),
                                ("cref", {"name": "Vera", "description": "a sailor", "aliases": "s3xy"}),
                                ("scene", {"location": "Pier", "weather": "naked rain"})):
            ix = await fake.slash(command, alice, thread, **values)
            reply = await fake.wait_for_reply(ix)
            assert reply["flags"] & EPHEMERAL and "word this server does not allow" in reply["content"]
            assert not any(w in reply["content"].lower() for w in ("nude", "n.u.d.e", "s3xy", "naked"))
            assert ix.original_id not in fake.messages  # the public "thinking" message is gone
        assert await jobs(app) == 0 and fake.panels(thread) == []
        assert (await app.service.world(world_id)).version == version
        assert [a for a, _ in await audit(app)] == ["refused:words"] * 3
        # What not to draw is never checked.
        ix = await fake.slash("continue", alice, thread, text="the pier at dawn", no="nude, nsfw")
        await fake.wait_for_original(ix, is_final)
        assert len(fake.panels(thread)) == 1
    assert_clean(fake)


async def test_an_explicit_image_is_not_posted(fake: FakeDiscord, tmp_path: Path, model: Path) -> None:
    alice = fake.add_user("alice")
    async with running(fake, tmp_path / "db.sqlite", image_model=str(model), image_threshold=FLAG_ALL) as app:
        _, thread = await new_world(fake, alice, "Harbour")
        ix = await fake.slash("continue", alice, thread, text="the pier at dawn")
        final = await fake.wait_for_original(ix, is_final)
        assert final["content"].startswith("⚠️ Panel 1 could not be drawn") and "/reroll 1" in final["content"]
        assert fake.panels(thread) == []
        notice = [m for m in fake.channel_messages(thread)
                  if "held the picture back" in m["content"] and not m.get("webhook_id")]  # posted into the thread
        assert len(notice) == 1 and not notice[0]["attachments"]
        assert [a for a, _ in await audit(app)] == ["refused:image"]
        # An uploaded reference the classifier flags is refused before it is stored.
        ix = await fake.slash("cref", alice, thread, name="Ava", description="a knight",
                              image=("ava.png", png(), "image/png"))
        reply = await fake.wait_for_reply(ix)
        assert reply["flags"] & EPHEMERAL and "image filter flagged it" in reply["content"]
    assert_clean(fake)


async def test_age_restricted_threads_allow_what_the_config_allows(fake: FakeDiscord, tmp_path: Path,
                                                                   model: Path) -> None:
    alice = fake.add_user("alice")
    after_dark = fake.add_channel("after-dark", nsfw=True)
    for allowed in (True, False):
        async with running(fake, tmp_path / f"{allowed}.sqlite", image_model=str(model), image_threshold=FLAG_ALL,
                           allow_in_age_restricted=allowed) as app:
            before = {t["id"] for t in fake.threads()}
            ix = await fake.slash("world new", alice, after_dark, title="After dark")
            await fake.wait_for_reply(ix)
            (thread,) = [int(t["id"]) for t in fake.threads(after_dark) if t["id"] not in before]
            ix = await fake.slash("continue", alice, thread, text="a nude study in charcoal")
            if allowed:
                final = await fake.wait_for_original(ix, is_final)
                assert final["content"].startswith("✅") and len(fake.panels(thread)) == 1
            else:
                reply = await fake.wait_for_reply(ix)
                assert reply["flags"] & EPHEMERAL and fake.panels(thread) == []
            # Outside the age-restricted channel the strict rules hold whatever the setting.
            _, plain = await new_world(fake, alice, f"Daylight {allowed}")
            reply = await fake.wait_for_reply(await fake.slash("continue", alice, plain, text="a nude study"))
            assert reply["flags"] & EPHEMERAL and await jobs(app) == (1 if allowed else 0)
    assert_clean(fake)


async def test_spoiler_action_posts_the_panel_as_a_spoiler(fake: FakeDiscord, tmp_path: Path, model: Path) -> None:
    alice = fake.add_user("alice")
    async with running(fake, tmp_path / "db.sqlite", image_model=str(model), image_threshold=FLAG_ALL,
                       action="spoiler"):
        _, thread = await new_world(fake, alice, "Harbour")
        await fake.slash("continue", alice, thread, text="the pier at dawn")
        (panel,) = await fake.wait_for_panels(thread, 1)
        assert panel["attachments"][0]["filename"].startswith("SPOILER_panel-001")
    assert_clean(fake)


async def test_quota_exhausted_is_refused_with_its_reset_time_and_survives_a_restart(fake: FakeDiscord,
                                                                                      tmp_path: Path) -> None:
    alice, boss = fake.add_user("alice"), fake.add_user("boss", admin=True)
    db, quotas = tmp_path / "db.sqlite", QuotaSettings(panels_per_day=1)
    async with running(fake, db, quotas=quotas):
        _, thread = await new_world(fake, alice, "Harbour")
        await fake.wait_for_original(await fake.slash("continue", alice, thread, text="a boat"), is_final)
        reply = await fake.wait_for_reply(await fake.slash("continue", alice, thread, text="another boat"))
        assert reply["flags"] & EPHEMERAL and "your 1 panels for today" in reply["content"]
        assert "00:00 UTC" in reply["content"]
    async with running(fake, db, quotas=quotas) as app:
        reply = await fake.wait_for_reply(await fake.slash("continue", alice, thread, text="a third boat"))
        assert reply["flags"] & EPHEMERAL and "00:00 UTC" in reply["content"]
        reply = await fake.wait_for_reply(await fake.slash("quota", alice, thread))
        assert reply["flags"] & EPHEMERAL and "0 of 1 panels left" in reply["content"]
        # Server managers are exempt (admins_exempt = true).
        await fake.wait_for_original(await fake.slash("continue", boss, thread, text="the boss waves"), is_final)
        assert len(fake.panels(thread)) == 2 and await jobs(app) == 2
    assert_clean(fake)


async def test_admin_ban_unban_quota_and_audit(fake: FakeDiscord, tmp_path: Path) -> None:
    alice, bob, boss = fake.add_user("alice"), fake.add_user("bob"), fake.add_user("boss", admin=True)
    async with running(fake, tmp_path / "db.sqlite") as app:
        assert int(fake.commands["admin"]["default_member_permissions"]) == MANAGE_GUILD
        _, thread = await new_world(fake, alice, "Harbour")
        reply = await fake.wait_for_reply(await fake.slash("admin ban", alice, thread, user=bob))
        assert reply["flags"] & EPHEMERAL and "Manage Server" in reply["content"]  # the service checks too

        reply = await fake.wait_for_reply(await fake.slash("admin ban", boss, thread, user=bob, reason="spam"))
        assert reply["flags"] & EPHEMERAL and f"<@{bob}> is banned" in reply["content"]
        for command, values in (("continue", {"text": "bob waves"}), ("world show", {})):
            reply = await fake.wait_for_reply(await fake.slash(command, bob, thread, **values))
            assert reply["flags"] & EPHEMERAL and "can't use worldloom in this server" in reply["content"]
        assert fake.panels(thread) == []

        reply = await fake.wait_for_reply(await fake.slash("admin quota", boss, thread, user=bob, panels=3))
        assert "3 panels a day" in reply["content"]
        reply = await fake.wait_for_reply(await fake.slash("admin unban", boss, thread, user=bob))
        assert f"<@{bob}> may use worldloom again" in reply["content"]
        await fake.wait_for_original(await fake.slash("continue", bob, thread, text="bob waves"), is_final)
        assert len(fake.panels(thread)) == 1

        reply = await fake.wait_for_reply(await fake.slash("admin audit", boss, thread))
        lines = reply["content"].splitlines()
        assert reply["flags"] & EPHEMERAL and lines[0] == "Audit log, newest first:"
        assert ["unban", "quota", "ban"] == [line.split(": ")[1].split()[0] for line in lines[1:]]
        assert f"Boss: ban <@{bob}> — spam" in reply["content"]  # the display name
        assert await audit(app) == [("unban", str(bob)), ("quota", str(bob)), ("ban", str(bob))]
    assert_clean(fake)
