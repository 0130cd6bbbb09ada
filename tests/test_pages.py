"""/page and /world export --pdf|--cbz: through the console (files in OUT) and on the service path."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import App, open_app
from bot.cli import main
from bot.config import Settings
from bot.context import Reply
from bot.grammar import GrammarError, parse
from bot.platforms.console import PLACE as CONSOLE
from engine.comic.page import PageOptions
from tests.conftest import ADA, PLACE
from tests.pages_support import PANELS, SETUP, TITLE, check_cbz, check_pdf, check_speech, expected_pages

pytest.importorskip("pypdf")


async def test_a_script_of_eight_panels_gives_pages_a_pdf_and_a_cbz_in_the_console(tmp_path: Path) -> None:
    script = tmp_path / "story.txt"
    script.write_text("\n".join([*SETUP, *PANELS, "/page", "/world export --pdf", "/world export --cbz"]) + "\n",
                      encoding="utf-8")
    out = tmp_path / "out"
    assert await asyncio.to_thread(main, ["console", "--script", str(script), "--out", str(out), "--strict"]) == 0
    posted = sorted((out / "pages").glob("page-*.png"))
    assert [p.name for p in posted][:2] == ["page-001.png", "page-002.png"][: len(posted)]
    async with open_app(Settings(database=str(out / "world.db"))) as app:
        world_id = await app.service.world_id_for(CONSOLE)
        assert world_id is not None
        pages = await expected_pages(app, world_id, PageOptions(title=TITLE, byline="by ada, ben"))
    check_speech(pages, [p.read_bytes() for p in posted])
    check_pdf((out / "harbour-night.pdf").read_bytes(), len(pages))
    check_cbz((out / "harbour-night.cbz").read_bytes(), len(pages))


async def say(app: App, line: str) -> Reply:
    actor = ADA
    if line.startswith("["):
        name, line = line[1:].split("] ", 1)
        actor = ADA.__class__("test", f"u-{name}", name)
    reply = await app.service.execute_text(line, actor, PLACE)
    if reply.ticket is not None:
        await reply.ticket.done
    return reply


async def test_page_takes_a_range_a_layout_and_a_title_and_uses_current_takes(app: App) -> None:
    for line in (*SETUP, *PANELS):
        assert not (await say(app, line)).error, line
    world_id = await app.service.world_id_for(PLACE) or ""
    reply = await say(app, "/page 2-4 --layout strip --title Chapter One")
    assert not reply.error and "panels 2-4" in reply.text
    options = PageOptions(layout="strip", title="Chapter One", byline="by ada, ben")
    expected = await expected_pages(app, world_id, options, 2, 4)
    assert [p.number for page in expected for p in page.panels] == [2, 3, 4]
    assert reply.files == tuple((f"page-{n:03d}.png", p.png) for n, p in enumerate(expected, 1))
    # An edit makes a new take: the page shows it, not the first one.
    await say(app, "/edit 2 make her scarf red")
    again = await say(app, "/page 2-4 --layout strip --title Chapter One")
    assert again.files != reply.files
    assert again.files == tuple((f"page-{n:03d}.png", p.png) for n, p in
                                enumerate(await expected_pages(app, world_id, options, 2, 4), 1))


@pytest.mark.parametrize(("line", "message"), [
    ("/page 9-12", "no panels there"), ("/page 5-3", "comes after"), ("/page --layout comic", "must be one of"),
])
async def test_bad_page_requests_get_a_clear_error(app: App, line: str, message: str) -> None:
    for setup in (*SETUP, *PANELS[:3]):
        await say(app, setup)
    reply = await say(app, line)
    assert reply.error and message in reply.text, reply.text


async def test_a_world_without_drawn_panels_has_no_pages(app: App) -> None:
    for setup in SETUP:
        await say(app, setup)
    for line in ("/page", "/world export --pdf"):
        reply = await say(app, line)
        assert reply.error and "no panels yet" in reply.text


def test_export_formats_parse() -> None:
    assert parse("/world export --cbz").format == "cbz"  # type: ignore[attr-defined]
    assert parse("/world export").format == "world"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("line", "span"), [
    ("/page", (None, None)), ("/page 3-8", (3, 8)), ("/page 3 - 8", (3, 8)), ("/page 3–8", (3, 8)),
    ("/page 5", (5, 5)), ("/page 4-", (4, None)), ("/page -4", (None, 4)), ("/page #2..#6", (2, 6)),
])
def test_page_ranges_parse(line: str, span: tuple[int | None, int | None]) -> None:
    command = parse(line)
    assert (command.first, command.last) == span  # type: ignore[attr-defined]


@pytest.mark.parametrize(("line", "message"), [
    ("/page 1-2-3", "FROM-TO"), ("/page 0", "PANEL must be"), ("/world export --pdf --cbz", "choose one"),
    ("/world export --format zip", "must be one of world, pdf, cbz"), ("/world export --pdf=yes", "takes no value"),
])
def test_bad_page_and_export_lines_are_refused(line: str, message: str) -> None:
    with pytest.raises(GrammarError, match=message):
        parse(line)
