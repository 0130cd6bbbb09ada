"""End to end: the real discord.py client, the worldloom Discord platform and a local fake Discord.

Every test ends by asserting that no request the bot made broke the OpenAPI description or a
Discord rule the fake checks (see tests/fake_discord.py).
"""

from __future__ import annotations

import asyncio
import io
import json
import statistics
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import discord
import pytest
from PIL import Image

from bot.app import App, open_app
from bot.commands import TIMES, WEATHERS
from bot.config import Settings
from bot.context import Place
from bot.limits import Limits
from bot.platforms.discord_app import DiscordPlatform
from engine.renderers.storyboard.renderer import SketchRenderer
from tests.fake_discord import FORUM_CHANNEL_ID, GUILD_ID, TEXT_CHANNEL_ID, FakeDiscord, FakeInteraction, Request
from tests.fake_discord_payloads import SECOND_GUILD_ID
from tests.fakes import GatedRenderer

# ---------------------------------------------------------------- helpers


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@asynccontextmanager
async def running_bot(fake: FakeDiscord, db: Path, renderer: Any = None, limits: Limits | None = None,
                      **config: Any) -> AsyncIterator[tuple[App, DiscordPlatform]]:
    settings = Settings(database=str(db), discord=fake.config(progress_seconds=0.05, **config),
                        limits=limits or Limits())
    async with open_app(settings, renderer=renderer or SketchRenderer()) as app, \
            app.serving(DiscordPlatform(app.service, settings.discord, fake.token)) as platform:
        yield app, platform


def png(size: tuple[int, int] = (48, 64), colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def bomb_png(side: int = 40000) -> bytes:
    """A few hundred bytes that claim side x side pixels: a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def assert_clean(fake: FakeDiscord) -> None:
    assert fake.violations == [], "\n".join(fake.violations)


def thread_place(thread_id: int, parent: int = TEXT_CHANNEL_ID) -> Place:
    return Place("discord", str(GUILD_ID), str(parent), str(thread_id))


async def new_world(fake: FakeDiscord, user: int, title: str, **options: Any) -> tuple[FakeInteraction, int]:
    """/world new in the text channel; returns the interaction and the new thread's id."""
    before = {t["id"] for t in fake.threads()}
    ix = await fake.slash("world new", user, TEXT_CHANNEL_ID, title=title, **options)
    reply = await fake.wait_for_reply(ix)
    assert "New world" in reply["content"], reply["content"]
    (thread,) = [t for t in fake.threads() if t["id"] not in before]
    return ix, int(thread["id"])


def is_final(msg: dict[str, Any]) -> bool:
    return msg["content"].startswith(("✅", "⚠️"))


def components(msg: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in msg["components"] for c in row["components"]]


def button(msg: dict[str, Any], action: str) -> str:
    return next(c["custom_id"] for c in components(msg) if c["custom_id"].startswith(f"wl:{action}:"))


def upload_of(fake: FakeDiscord, message: dict[str, Any]) -> Request:
    """The multipart request that created a panel message."""
    path = f"/channels/{message['channel_id']}/messages"
    return next(r for r in fake.requests if r.method == "POST" and r.path == path and r.status == 200 and r.files
                and (r.json or {}).get("nonce") == message.get("nonce"))


# ---------------------------------------------------------------- tests


async def test_connects_and_syncs_commands(fake: FakeDiscord, tmp_path: Path) -> None:
    async with running_bot(fake, tmp_path / "db.sqlite") as (_, platform):
        (sync,) = await fake.wait_for_request("PUT", rf"/applications/\d+/guilds/{GUILD_ID}/commands")
        names = {cmd["name"] for cmd in sync.json}
        assert names >= {"world", "cref", "sref", "scene", "imagine", "continue", "reroll", "undo", "why", "help"}
        world = fake.commands["world"]
        assert {o["name"] for o in world["options"]} == {"new", "show", "history", "export", "import", "branch"}
        cref = {o["name"]: o for o in fake.commands["cref"]["options"]}
        assert cref["image"]["type"] == 11 and cref["name"]["autocomplete"] is True
        assert (cref["cw"]["min_value"], cref["cw"]["max_value"]) == (0, 100)
        assert all(o.get("description") for o in cref.values())
        scene = {o["name"]: o for o in fake.commands["scene"]["options"]}
        assert [c["value"] for c in scene["time"]["choices"]] == list(TIMES)  # the grammar's own list
        assert [c["value"] for c in scene["weather"]["choices"]] == list(WEATHERS)
        assert "choices" not in scene["light"] or not scene["light"]["choices"]  # --light stays free text
        assert fake.identified[-1]["intents"] & (1 << 1 | 1 << 8 | 1 << 15) == 0  # nothing privileged
        assert platform.client is not None and platform.client.is_ready()
    assert_clean(fake)


async def test_world_new_makes_threads_and_explains_where_worlds_live(fake: FakeDiscord, tmp_path: Path) -> None:
    alice = fake.add_user("alice")
    async with running_bot(fake, tmp_path / "db.sqlite") as (app, _):
        ix, thread = await new_world(fake, alice, "Moon Harbour", style="ink and watercolour")
        assert ix.ack_seconds is not None and ix.ack_seconds < 3
        (create,) = await fake.wait_for_request("POST", rf"/channels/{TEXT_CHANNEL_ID}/threads")
        assert create.json["type"] == 11 and create.json["name"] == "Moon Harbour"
        world_id = await app.service.world_id_for(thread_place(thread))
        assert world_id is not None
        assert (await app.service.world(world_id)).title == "Moon Harbour"
        assert f"<#{thread}>" in fake.messages[ix.original_id or 0]["content"]
        assert any("New world" in m["content"] for m in fake.channel_messages(thread))  # the welcome

        # In a forum channel the world becomes a post.
        ix = await fake.slash("world new", alice, FORUM_CHANNEL_ID, title="Forum tale")
        await fake.wait_for_reply(ix)
        (post,) = fake.threads(FORUM_CHANNEL_ID)
        assert await app.service.world_id_for(thread_place(int(post["id"]), FORUM_CHANNEL_ID)) is not None

        # A world command outside a world's thread says how to start one, privately.
        for channel, hint in ((TEXT_CHANNEL_ID, "new thread"), (fake.add_thread("chat"), "This thread has no world")):
            ix = await fake.slash("continue", alice, channel, text="she waves")
            reply = await fake.wait_for_reply(ix)
            assert reply["flags"] & 64 and hint in reply["content"] and "/world new" in reply["content"]

        # An archived thread is reopened; a locked one refuses politely.
        await fake.archive(thread)
        ix = await fake.slash("world show", alice, thread)
        assert "Moon Harbour" in (await fake.wait_for_reply(ix))["content"]
        (edit,) = await fake.wait_for_request("PATCH", rf"/channels/{thread}$")
        assert edit.json == {"archived": False}
        await fake.archive(thread, locked=True)
        ix = await fake.slash("world show", alice, thread)
        reply = await fake.wait_for_reply(ix)
        assert reply["flags"] & 64 and "archived and locked" in reply["content"]
    assert_clean(fake)


async def test_cref_with_attachment_stores_the_reference(fake: FakeDiscord, tmp_path: Path) -> None:
    alice = fake.add_user("alice")
    async with running_bot(fake, tmp_path / "db.sqlite") as (app, _):
        _, thread = await new_world(fake, alice, "Knights")
        ix = await fake.slash("cref", alice, thread, name="Ava", description="a tall knight in red armour",
                              image=("ava.png", png(), "image/png"), cw=60, aliases="Av, the Red")
        reply = await fake.wait_for_reply(ix)
        assert "Registered **Ava**" in reply["content"] and not reply["flags"] & 64
        world = await app.service.world(await app.service.world_id_for(thread_place(thread)) or "")
        ava = world.character("Ava")
        assert ava.aliases == ("Av", "the Red") and ava.references[0].weight == 60
        assert await app.store.has_blob(ava.references[0].image)

        ix = await fake.autocomplete("cref", alice, thread, focused="name", name="av")
        await fake.wait_for(lambda: ix.choices is not None, what="autocomplete choices")
        assert [ch["value"] for ch in ix.choices or []] == ["Ava"]
    assert_clean(fake)


async def test_bad_attachments_get_a_private_error_and_change_nothing(fake: FakeDiscord, tmp_path: Path) -> None:
    alice = fake.add_user("alice")
    async with running_bot(fake, tmp_path / "db.sqlite") as (app, _):
        _, thread = await new_world(fake, alice, "Careful")
        world_id = await app.service.world_id_for(thread_place(thread)) or ""
        version = (await app.service.world(world_id)).version
        cases = [
            (("notes.txt", b"hello", "text/plain"), "not an image", False),
            (("huge.png", png(), "image/png", 50 * 1024 * 1024), "limit", False),
            (("bomb.png", bomb_png(), "image/png"), "decompression bomb", True),
            (("fake.png", b"\x89PNG not really", "image/png"), "not a readable image", True),
        ]
        for attachment, message, downloaded in cases:
            fetched = len(fake.cdn_fetches)
            ix = await fake.slash("cref", alice, thread, name="Mallory", description="a spy", image=attachment)
            reply = await fake.wait_for_reply(ix)
            assert reply["flags"] & 64 and message in reply["content"], reply["content"]
            assert (len(fake.cdn_fetches) > fetched) == downloaded  # type and size are checked before download
            assert ix.original_id not in fake.messages  # the public "thinking" message is gone
        world = await app.service.world(world_id)
        assert world.version == version and world.find_character("Mallory") is None
    assert_clean(fake)


async def test_continue_is_deferred_at_once_while_the_queue_is_busy(fake: FakeDiscord, tmp_path: Path) -> None:
    alice, bob = fake.add_user("alice"), fake.add_user("bob")
    renderer = GatedRenderer()
    async with running_bot(fake, tmp_path / "db.sqlite", renderer=renderer) as (app, _):
        _, thread = await new_world(fake, alice, "Busy night")
        first = await fake.slash("continue", alice, thread, text="the lighthouse keeper climbs the stairs")
        await asyncio.to_thread(renderer.started.wait, 10)
        second = await fake.slash("continue", bob, thread, text="a storm rolls in")
        for ix in (first, second):
            await fake.wait_for_ack(ix)
            assert ix.callback is not None and ix.callback.json == {"type": 5}
            assert ix.ack_seconds is not None and ix.ack_seconds < 1.0
        # The queued one shows where it waits; nothing is posted while the renderer is held.
        await fake.wait_for_original(second, lambda m: "queue" in m["content"])
        assert fake.panels(thread) == []
        fake.expire_token(second)  # its result now arrives after the interaction token died
        renderer.gate.set()
        panels = await fake.wait_for_panels(thread, 2)
        final = await fake.wait_for_original(first, is_final)
        assert final["content"].startswith("✅ Panel 1 is posted") and panels[0]["id"] in final["content"]

        panel = panels[0]
        upload = upload_of(fake, panel)
        assert list(upload.files) == ["files[0]"] and upload.files["files[0]"][1].startswith(b"\x89PNG")
        assert upload.headers["Authorization"] == f"Bot {fake.token}"  # the bot token, not the followup
        assert upload.json["enforce_nonce"] is True and len(upload.json["nonce"]) <= 25
        assert panel["content"].startswith("**#1**") and "alice" in panel["content"].lower()
        world_id = await app.service.world_id_for(thread_place(thread))
        assert [button(panel, a) for a in ("reroll", "continue", "vary", "ref", "undo")] == [
            f"wl:{a}:{world_id}:1" for a in ("reroll", "continue", "vary", "ref", "undo")]
        assert len(panels[1]["content"]) < 2000
    assert_clean(fake)


async def test_panel_buttons_work_after_a_restart(fake: FakeDiscord, tmp_path: Path) -> None:
    alice = fake.add_user("alice")
    db = tmp_path / "db.sqlite"
    async with running_bot(fake, db) as (app, _):
        _, thread = await new_world(fake, alice, "Restarts")
        ix = await fake.slash("cref", alice, thread, name="Ava", description="a knight in red")
        await fake.wait_for_reply(ix)
        ix = await fake.slash("continue", alice, thread, text="Ava draws her sword")
        await fake.wait_for_original(ix, is_final)  # posted, and the job recorded as posted
        (panel,) = fake.panels(thread)
        # The crash window: posted, but the bot died before it wrote that down.
        await app.store.set_job_state(panel["nonce"], "rendered")
    # A render in flight when the bot stops is drawn and posted once after the restart.
    held = GatedRenderer()
    async with running_bot(fake, db, renderer=held):
        ix = await fake.slash("continue", alice, thread, text="Ava looks at the sea")
        await fake.wait_for_original(ix, lambda m: "Panel 2" in m["content"])
        await asyncio.to_thread(held.started.wait, 10)
    async with running_bot(fake, db) as (app, _):
        await fake.wait_for_panels(thread, 2)
        reposts = [r for r in fake.requests if isinstance(r.json, dict) and r.json.get("nonce") == panel["nonce"]]
        # Found in the thread (the nonce may be forgotten by now): not posted again, and shown once.
        assert len(reposts) == 1 and len(fake.panels(thread)) == 2
        assert await fake.wait_for_request("GET", rf"^/channels/{thread}/messages$")
        assert (await app.store.job(panel["nonce"])).message_id == panel["id"]  # type: ignore[union-attr]
        press = await fake.press(panel, button(panel, "reroll"), alice)
        await fake.wait_for_original(press, is_final)
        panels = await fake.wait_for_panels(thread, 3)
        assert panels[2]["content"].startswith("**#1** (take 2)")
        assert [p["content"][:5] for p in panels] == ["**#1*", "**#2*", "**#1*"]  # nothing posted twice

        # Continue opens a modal; its text continues the story.
        press = await fake.press(panels[1], button(panels[1], "continue"), alice)
        await fake.wait_for(lambda: press.modal is not None, what="the modal")
        text_id = press.modal["components"][0]["components"][0]["custom_id"]
        submit = await fake.submit_modal(press, alice, **{text_id: "Ava walks into the tavern"})
        await fake.wait_for_original(submit, is_final)
        latest = (await fake.wait_for_panels(thread, 4))[3]
        world_id = await app.service.world_id_for(thread_place(thread)) or ""
        assert latest["content"].startswith("**#3**")
        assert (await app.service.world(world_id)).panel(3).command == "/continue Ava walks into the tavern"

        # Use as reference: pick the character, the panel becomes her reference image.
        press = await fake.press(latest, button(latest, "ref"), alice)
        picker = await fake.wait_for_original(press, lambda m: bool(m["components"]))
        (select,) = components(picker)
        assert [o["value"] for o in select["options"]] == ["Ava"]
        pick = await fake.press(picker, select["custom_id"], alice, values=["Ava"])
        assert "reference image of **Ava**" in (await fake.wait_for_reply(pick))["content"]
        images = await app.store.panel_images(world_id)
        assert (await app.service.world(world_id)).character("Ava").references[0].image == images[3]

        # Undo takes the reference back.
        press = await fake.press(latest, button(latest, "undo"), alice)
        assert "Undid" in (await fake.wait_for_reply(press))["content"]
        assert not (await app.service.world(world_id)).character("Ava").references
    assert_clean(fake)


async def test_rate_limited_upload_is_retried(fake: FakeDiscord, tmp_path: Path) -> None:
    alice = fake.add_user("alice")
    async with running_bot(fake, tmp_path / "db.sqlite"):
        _, thread = await new_world(fake, alice, "Slow down")
        fake.rate_limit_once("POST", rf"^/channels/{thread}/messages$", retry_after=0.05)
        await fake.slash("continue", alice, thread, text="a quiet harbour")
        (panel,) = await fake.wait_for_panels(thread, 1)
        posts = [r for r in fake.requests if r.method == "POST" and r.path == f"/channels/{thread}/messages"
                 and r.files]
        assert [r.status for r in posts] == [429, 200]
        assert len(fake.panels(thread)) == 1 and panel["attachments"]
    assert_clean(fake)


async def test_twenty_people_in_ten_threads_all_get_their_panels(fake: FakeDiscord, tmp_path: Path) -> None:
    users = [fake.add_user(f"user{i}") for i in range(20)]
    async with running_bot(fake, tmp_path / "db.sqlite"):
        threads = [(await new_world(fake, users[i], f"World {i}"))[1] for i in range(10)]
        interactions = await asyncio.gather(*(
            fake.slash("continue", user, threads[i % 10], text=f"{fake.users[user]['username']} arrives")
            for i, user in enumerate(users)))
        await fake.wait_for(lambda: len(fake.panels()) >= 20, within=60, what="20 panels")
        for thread in threads:
            assert len(fake.panels(thread)) == 2
        for ix in interactions:
            await fake.wait_for_original(ix, is_final, within=20)
        acks = sorted(ix.ack_seconds or 0 for ix in interactions)
        p50, p99 = statistics.median(acks), acks[int(0.99 * (len(acks) - 1))]
        print(f"time to defer under load: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
        assert p99 < 3.0
        authors = {p["content"].split("· ")[1].split(":")[0].lower() for p in fake.panels()}
        assert authors == {f"user{i}" for i in range(20)}
    assert_clean(fake)


async def test_a_world_file_over_the_limit_is_refused_on_export(fake: FakeDiscord, tmp_path: Path) -> None:
    alice = fake.add_user("alice")
    async with running_bot(fake, tmp_path / "db.sqlite", import_max_bytes=1024):
        _, thread = await new_world(fake, alice, "Too Big", style="soft ink wash " * 120)
        ix = await fake.slash("world export", alice, thread)
        reply = await fake.wait_for_reply(ix)
        assert reply["attachments"] == [] and "too-big.world.json was not sent" in reply["content"]
        assert "over 1 KiB (the most a world file may be to import it again)" in reply["content"]
    assert_clean(fake)


async def test_export_import_and_who_may_do_what(fake: FakeDiscord, tmp_path: Path) -> None:
    alice, bob, mod = fake.add_user("alice"), fake.add_user("bob"), fake.add_user("mod", moderator=True)
    async with running_bot(fake, tmp_path / "db.sqlite", limits=Limits(renders_per_minute=1)) as (app, _):
        _, thread = await new_world(fake, alice, "Exported")
        ix = await fake.slash("cref", alice, thread, name="Ava", description="a knight in red", lock=True)
        await fake.wait_for_reply(ix)
        ix = await fake.slash("world export", alice, thread)
        (attachment,) = (await fake.wait_for_reply(ix))["attachments"]
        data = fake.cdn[attachment["url"].split("/cdn/", 1)[1]][0]
        assert json.loads(data)

        # Imported in the text channel: a new thread. Inside a world's thread: only over it, by moderators.
        ix = await fake.slash("world import", alice, TEXT_CHANNEL_ID, file=("w.world.json", data, "application/json"))
        assert "Imported **Exported**" in (await fake.wait_for_reply(ix))["content"]
        assert len(fake.threads(TEXT_CHANNEL_ID)) == 2
        world_id = await app.service.world_id_for(thread_place(thread))
        ix = await fake.slash("world import", bob, thread, file=("w.world.json", data, "application/json"))
        reply = await fake.wait_for_reply(ix)
        assert reply["flags"] & 64 and "moderator" in reply["content"]
        assert await app.service.world_id_for(thread_place(thread)) == world_id

        # Locked characters: Bob may not change Ava, a member with Manage Threads may.
        ix = await fake.slash("cref", bob, thread, name="Ava", description="a knight in blue")
        reply = await fake.wait_for_reply(ix)
        assert reply["flags"] & 64 and "locked" in reply["content"]
        ix = await fake.slash("cref", mod, thread, name="Ava", description="a knight in blue")
        assert "Updated **Ava**" in (await fake.wait_for_reply(ix))["content"]

        # Per-person render limits answer privately.
        for expect_refusal in (False, True):
            ix = await fake.slash("continue", bob, thread, text="Ava rides out")
            reply = await fake.wait_for_original(ix, is_final) if not expect_refusal else await fake.wait_for_reply(ix)
            assert bool(reply["flags"] & 64) == expect_refusal
        assert "slow down" in reply["content"]
    assert_clean(fake)


async def test_two_shards_answer_commands_in_servers_on_both(tmp_path: Path) -> None:
    async with FakeDiscord(shards=2) as fake:
        _, second_channel = fake.add_second_guild()
        alice = fake.add_user("alice")
        async with running_bot(fake, tmp_path / "db.sqlite", shards="auto") as (_, platform):
            client = platform.client
            assert isinstance(client, discord.AutoShardedClient) and client.shard_count == 2
            assert sorted(tuple(i["shard"]) for i in fake.identified) == [(0, 2), (1, 2)]
            assert {g.id: g.shard_id for g in client.guilds} == {GUILD_ID: 1, SECOND_GUILD_ID: 0}
            threads = []
            for channel, title in ((TEXT_CHANNEL_ID, "On shard one"), (second_channel, "On shard zero")):
                before = {t["id"] for t in fake.threads(channel)}
                ix = await fake.slash("world new", alice, channel, title=title)
                assert "New world" in (await fake.wait_for_reply(ix))["content"]
                (thread,) = [t for t in fake.threads(channel) if t["id"] not in before]
                threads.append(int(thread["id"]))
            for thread in threads:
                await fake.slash("continue", alice, thread, text="a lantern glows")
            for thread in threads:
                await fake.wait_for_panels(thread, 1)
    assert_clean(fake)


async def test_the_fake_flags_requests_outside_the_description(fake: FakeDiscord) -> None:
    """The validation is not vacuous: wrong bodies, missing tokens, unknown routes and late acks are caught."""
    import aiohttp

    alice = fake.add_user("alice")
    async with aiohttp.ClientSession() as http:
        await http.post(f"{fake.api_base}/channels/{TEXT_CHANNEL_ID}/messages", json={"content": 5})
        await http.post(f"{fake.api_base}/channels/{TEXT_CHANNEL_ID}/messages", json={"content": "x" * 2001},
                        headers={"Authorization": f"Bot {fake.token}"})
        await http.get(f"{fake.api_base}/channels/{TEXT_CHANNEL_ID}/nothing-here")
        fake.commands["help"] = {"id": "1", "name": "help", "options": []}
        ix = await fake.slash("help", alice, TEXT_CHANNEL_ID)
        ix.dispatched_at -= 5  # pretend it arrived five seconds ago
        async with http.post(f"{fake.api_base}/interactions/{ix.id}/{ix.token}/callback", json={"type": 5}) as r:
            assert r.status == 404 and (await r.json())["code"] == 10062
    found = "\n".join(fake.violations)
    for expected in ("needs the bot token", "5 is not of type", "2001 characters", "no such path",
                     "acknowledged after"):
        assert expected in found, found
