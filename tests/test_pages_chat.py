"""/page and /world export --pdf|--cbz through the Discord and Slack fakes: the files land in the world's thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.context import Actor, Place
from engine.comic.page import PageOptions
from tests.fake_discord import FakeDiscord
from tests.pages_support import PANELS, SETUP, TITLE, check_cbz, check_pdf, check_speech, expected_pages
from tests.test_discord import assert_clean, running_bot, thread_place
from tests.test_discord import new_world as discord_world
from tests.test_slack import CHANNEL, Env, say, slack_env
from tests.test_slack import new_world as slack_world

pytest.importorskip("pypdf")
OPTIONS = PageOptions(title=TITLE, byline="by ada, ben")


async def tell(app: App, place: Place, lines: list[str]) -> None:
    """Story lines ("[ada] /continue ...") on the service path of the thread, each drawn and posted."""
    for line in lines:
        name, text = line[1:].split("] ", 1)
        reply = await app.service.execute_text(text, Actor(place.platform, f"u-{name}", name), place)
        assert not reply.error, reply.text
        if reply.ticket is not None:
            await reply.ticket.done


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


def discord_file(fake: FakeDiscord, attachment: dict) -> bytes:
    return fake.cdn[f"attachments/{attachment['id']}/{attachment['filename']}"][0]


async def test_discord_posts_pages_and_attaches_the_pdf_and_cbz(fake: FakeDiscord, tmp_path: Path) -> None:
    alice = fake.add_user("alice")
    async with running_bot(fake, tmp_path / "db.sqlite") as (app, _):
        _, thread = await discord_world(fake, alice, TITLE)
        place = thread_place(thread)
        await tell(app, place, [*SETUP[1:], *PANELS])
        world_id = await app.service.world_id_for(place) or ""

        ix = await fake.slash("page", alice, thread, first=1, last=8, layout="auto")
        reply = await fake.wait_for_reply(ix)
        assert int(reply["channel_id"]) == thread and not reply["flags"] & 64 and "panels 1-8" in reply["content"]
        names = [a["filename"] for a in reply["attachments"]]
        assert names[0] == "page-001.png" and all(n.endswith(".png") for n in names)
        posted = [discord_file(fake, a) for a in reply["attachments"]]
        check_speech(await expected_pages(app, world_id, OPTIONS), posted)
        pages = len(names)

        for fmt, check in (("pdf", check_pdf), ("cbz", check_cbz)):
            ix = await fake.slash("world export", alice, thread, format=fmt)
            reply = await fake.wait_for_reply(ix)
            (attachment,) = reply["attachments"]
            assert attachment["filename"] == f"harbour-night.{fmt}" and int(reply["channel_id"]) == thread
            check(discord_file(fake, attachment), pages)

        # /edit from its slash command: a new take, its command line as typed.
        ix = await fake.slash("edit", alice, thread, panel=2, text="make her scarf red")
        assert "Panel 2 (take 2)" in (await fake.wait_for_reply(ix))["content"]
        await app.outbox.wait_idle()
        edited = (await app.service.world(world_id)).panel(2)
        assert edited.take == 1 and edited.command == "/edit 2 make her scarf red"
    export = next(o for o in fake.commands["world"]["options"] if o["name"] == "export")
    (fmt_option,) = export["options"]
    assert fmt_option["name"] == "format" and [c["value"] for c in fmt_option["choices"]] == ["world", "pdf", "cbz"]
    page_options = {o["name"]: o for o in fake.commands["page"]["options"]}
    assert set(page_options) == {"first", "last", "layout", "title"}
    assert [c["value"] for c in page_options["layout"]["choices"]] == ["auto", "grid", "strip", "manga"]
    assert "edit" in fake.commands and {o["name"] for o in fake.commands["edit"]["options"]} == {"panel", "text"}
    assert_clean(fake)


def slack_files(env: Env, root: str, suffix: str) -> list[tuple[str, bytes]]:
    """Files the bot uploaded into the thread, oldest first."""
    out = []
    for f in env.slack.files.values():
        shared = [s for where in f.shares.values() for s in where.get(CHANNEL, [])]
        if f.data is not None and f.name.endswith(suffix) and any(s.get("thread_ts") == root for s in shared):
            out.append((f.name, f.data))
    return out


async def test_slack_uploads_pages_and_the_pdf_and_cbz_into_the_thread(tmp_path: Path) -> None:
    async with slack_env(tmp_path) as env:
        root = await slack_world(env, TITLE)
        place = Place("slack", env.slack.team_id, CHANNEL, root)
        await tell(env.app, place, [*SETUP[1:], *PANELS])
        await say(env, "UADA", "page", root)
        pages = slack_files(env, root, ".png")
        page_files = [(n, d) for n, d in pages if n.startswith("page-")]
        assert page_files and page_files[0][0] == "page-001.png"
        world_id = await env.world_id(root)
        check_speech(await expected_pages(env.app, world_id, OPTIONS), [d for _, d in page_files])
        await say(env, "UADA", "world export --pdf", root)
        await say(env, "UBEN", "world export --cbz", root)
        ((pdf_name, pdf),) = slack_files(env, root, ".pdf")
        ((cbz_name, cbz),) = slack_files(env, root, ".cbz")
        assert (pdf_name, cbz_name) == ("harbour-night.pdf", "harbour-night.cbz")
        check_pdf(pdf, len(page_files))
        check_cbz(cbz, len(page_files))
