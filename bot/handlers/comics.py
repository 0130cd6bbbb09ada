"""/page and /world export --pdf|--cbz: the world's panels (current takes) as comic pages and files.

Pages are drawn by engine.comic off the event loop. Storyboard panels pass their board, so a
speaker's balloon points at the figure that says it; other renderers' speakers get caption boxes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot import commands as c
from bot.context import Reply
from bot.handlers.base import Ctx, Handler
from engine.comic.export import export_comic_async, slug
from engine.comic.page import ComicPanel, PageOptions, render_pages_async
from engine.comic.panels import comic_panel
from engine.errors import WorldError
from engine.world import Panel, World

STORYBOARD = "sketch"  # the renderer whose figures stand where figure_positions says
MAX_PAGES_PER_REPLY = 10  # Discord takes at most ten files per message


async def page(cmd: c.MakePages, ctx: Ctx) -> Reply:
    world = ctx.world
    if cmd.first is not None and cmd.last is not None and cmd.first > cmd.last:
        raise WorldError(f"FROM ({cmd.first}) comes after TO ({cmd.last})")
    panels, missing = await drawn_panels(ctx, cmd.first, cmd.last)
    title = cmd.title or world.title
    options = PageOptions(layout=cmd.layout, title=title, byline=byline(authors_of(world, panels)))
    pages = await render_pages_async(panels, options)
    files = tuple((f"page-{n:03d}.png", p.png) for n, p in enumerate(pages, 1))
    numbers = [p.number for p in panels]
    text = (f"📖 **{title}**: {len(pages)} page{'s' if len(pages) != 1 else ''}, "
            f"panel{'s' if len(numbers) != 1 else ''} {_span(numbers)}.")
    if missing:
        text += f" Not drawn yet, left out: {_span(missing)}."
    if len(files) > MAX_PAGES_PER_REPLY:
        last = max(p.number for p in pages[MAX_PAGES_PER_REPLY - 1].panels)
        text += (f" Here are the first {MAX_PAGES_PER_REPLY} pages (up to panel {last}); "
                 f"/page {last + 1}- gives the rest.")
        files = files[:MAX_PAGES_PER_REPLY]
    return Reply(text, files=files, world_id=world.id)


async def export_comic(cmd: c.ExportWorld, ctx: Ctx) -> Reply:
    """The whole story as a PDF or a CBZ file, pages at print resolution."""
    world = ctx.world
    panels, missing = await drawn_panels(ctx, None, None)
    authors = authors_of(world, panels)
    data = await export_comic_async(panels, cmd.format, title=world.title, authors=authors,
                                    characters=[ch.name for ch in world.characters])
    name = f"{slug(world.title, 'world')}.{cmd.format}"
    text = f"📚 **{world.title}** as {cmd.format.upper()}: {len(panels)} panels."
    if missing:
        text += f" Not drawn yet, left out: {_span(missing)}."
    return Reply(text, files=((name, data),), world_id=world.id)


async def drawn_panels(ctx: Ctx, first: int | None, last: int | None) -> tuple[list[ComicPanel], list[int]]:
    """The world's panels from `first` to `last` whose current take is drawn, and those that are not."""
    world = ctx.world
    if not world.panels:
        raise WorldError("this world has no panels yet: draw some with /imagine or /continue")
    chosen = [p for p in world.panels if (first is None or p.index >= first) and (last is None or p.index <= last)]
    if not chosen:
        raise WorldError(f"no panels there (panels are {world.panels[0].index}-{world.panels[-1].index})")
    store = ctx.services.store
    takes = await store.panel_takes(world.id)
    drawn: list[tuple[Panel, bytes, bool, dict | None]] = []
    missing: list[int] = []
    for p in chosen:
        job = takes.get((p.index, p.take))
        if job is None or job.image is None:
            missing.append(p.index)
            continue
        spec = job.spec
        storyboard = (spec.get("record") or {}).get("renderer") == STORYBOARD
        drawn.append((p, await store.get_blob(job.image), storyboard, (spec.get("job") or {}).get("board")))
    if not drawn:
        raise WorldError("none of these panels is drawn yet: wait for them, then try again")
    # Reading speech and placing figures is CPU work: off the event loop, like the pages themselves.
    return await asyncio.to_thread(_comic_panels, world, drawn), missing


def _comic_panels(world: World, drawn: Sequence[tuple[Panel, bytes, bool, dict | None]]) -> list[ComicPanel]:
    return [comic_panel(world, p, png, storyboard=storyboard, board=board) for p, png, storyboard, board in drawn]


def authors_of(world: World, panels: Sequence[ComicPanel]) -> list[str]:
    """Who drew the panels, in order of their first panel."""
    numbers = {p.number for p in panels}
    return list(dict.fromkeys(p.author for p in world.panels if p.index in numbers and p.author))


def byline(authors: Sequence[str]) -> str:
    return "by " + ", ".join(authors) if authors else ""


def _span(numbers: Sequence[int]) -> str:
    """"1-4, 6, 8-9" for [1, 2, 3, 4, 6, 8, 9]."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


HANDLERS: dict[type, Handler] = {c.MakePages: page}
