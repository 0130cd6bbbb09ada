"""/world new, show, history, export, import and branch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from bot import commands as c
from bot.context import Reply
from bot.explain import clip, count, describe_world
from bot.handlers import comics
from bot.handlers.base import Ctx, Handler
from bot.images import BadImage, check_image
from bot.worldfile import BadWorldFile, export_world, image_hashes, parse_world_file
from engine.errors import NotAllowed, WorldError
from engine.events import Record, Undone, WorldCreated, active
from engine.sizes import DEFAULT_SIZE, pixel_size


async def new_world(cmd: c.NewWorld, ctx: Ctx) -> Reply:
    title = cmd.title or "Untitled world"
    place = await ctx.new_place(title) if ctx.new_place is not None else ctx.place
    width, height = pixel_size(*cmd.ar) if cmd.ar else DEFAULT_SIZE
    seed = cmd.seed if cmd.seed is not None else ctx.services.default_seed()
    world_id = ctx.services.new_id()
    created = WorldCreated(title=title, seed=seed, width=width, height=height, style=cmd.style,
                           negative=cmd.negative)
    await ctx.services.store.create_world(world_id, title, ctx.actor.name, [created], binding=place.key(),
                                          author_id=ctx.actor.key())
    style = f"\nStyle: {cmd.style}" if cmd.style else ""
    return Reply(f"🌍 New world **{title}** (seed {seed}, {width}x{height}).{style}\n"
                 "Add characters with /cref NAME DESCRIPTION, set the scene with /scene, "
                 "then /imagine or /continue.", world_id=world_id)


async def show(cmd: c.ShowWorld, ctx: Ctx) -> Reply:
    return Reply(describe_world(ctx.world), world_id=ctx.world.id)


async def history(cmd: c.ShowHistory, ctx: Ctx) -> Reply:
    assert ctx.session is not None
    records = ctx.session.records
    undone = {r.event.group for r in records if isinstance(r.event, Undone)}
    lines = []
    for r in records[-40:]:
        mark = "~~" if r.group in undone else ""
        lines.append(f"{r.seq}. {r.author}: {mark}{r.event.describe()}{mark}")
    return Reply(clip("History (newest last):\n" + "\n".join(lines)), world_id=ctx.world.id)


async def export(cmd: c.ExportWorld, ctx: Ctx) -> Reply:
    assert ctx.session is not None
    if cmd.format in ("pdf", "cbz"):
        return await comics.export_comic(cmd, ctx)
    store, records = ctx.services.store, ctx.session.records
    panels = await _drawn(ctx, lambda index: True)
    images = {sha: await store.get_blob(sha) for sha in dict.fromkeys([*image_hashes(records), *panels.values()])}
    data = await asyncio.to_thread(export_world, ctx.world.title, records, images, panels)
    name = f"{slug(ctx.world.title)}.world.json"
    return Reply(f"📦 Exported **{ctx.world.title}** ({count(len(records), 'event')}, "
                 f"{count(len(panels), 'drawn panel')}, {count(len(images), 'image')}).",
                 files=((name, data),), world_id=ctx.world.id)


async def _drawn(ctx: Ctx, keep: Callable[[int], bool]) -> dict[int, str]:
    """The image of each panel of the world that has one (and that `keep` keeps)."""
    images = await ctx.services.store.panel_images(ctx.world.id)
    return {p.index: images[p.index] for p in ctx.world.panels if p.index in images and keep(p.index)}


async def import_world(cmd: c.ImportWorld, ctx: Ctx) -> Reply:
    if not ctx.files:
        raise WorldError("attach a world file (.json or .zip) to import")
    title, records, images, panels = await asyncio.to_thread(parse_world_file, ctx.files[0].data)
    # A world file's images become references that renderers open: same rules as uploads.
    try:
        for blob in images.values():
            await asyncio.to_thread(check_image, blob, ctx.services.limits.image)
    except BadImage as e:
        raise BadWorldFile(f"the world file holds an image that is not accepted: {e}") from None
    await ctx.services.guard.check_world_file(title, records, images.values(), ctx.actor, ctx.place)
    existing = await ctx.services.find(ctx.place)
    if existing is not None and ctx.new_place is None:
        session = await ctx.services.load(existing)
        if not session.may_moderate(ctx.actor):
            raise NotAllowed("only the world's creator or a moderator can import over this world")
    place = await ctx.new_place(title) if ctx.new_place is not None else ctx.place
    for blob in images.values():
        await ctx.services.store.put_blob(blob)
    world_id = ctx.services.new_id()
    await ctx.services.store.import_world(world_id, title, ctx.actor.name, records, binding=place.key(),
                                          author_id=ctx.actor.key(), panels=panels)
    drawn = f", {count(len(panels), 'drawn panel')}" if panels else ""
    return Reply(f"📥 Imported **{title}** ({count(len(records), 'event')}{drawn}).", world_id=world_id)


async def branch(cmd: c.BranchWorld, ctx: Ctx) -> Reply:
    assert ctx.session is not None
    ctx.world.panel(cmd.panel)  # raises UnknownPanel with the valid range
    keep: list[Record] = []
    for r in active(ctx.session.records):
        keep.append(r)
        panel = getattr(r.event, "panel", None)
        if panel is not None and getattr(panel, "index", None) == cmd.panel:
            break
    title = f"{ctx.world.title} (branch at panel {cmd.panel})"
    target = await ctx.new_place(title) if ctx.new_place is not None else ctx.place
    world_id = ctx.services.new_id()
    renumbered = [replace(r, seq=i) for i, r in enumerate(keep, start=1)]
    drawn = await _drawn(ctx, lambda index: index <= cmd.panel)  # the branch keeps the pictures it shares
    await ctx.services.store.import_world(world_id, title, ctx.actor.name, renumbered, binding=target.key(),
                                          branched_from=ctx.world.id, author_id=ctx.actor.key(), panels=drawn)
    return Reply(f"🌿 Branched **{title}** from panel {cmd.panel}; the story goes on from there.",
                 world_id=world_id)


def slug(title: str) -> str:
    s = "".join(ch.lower() if ch.isalnum() else "-" for ch in title).strip("-")
    return "-".join(filter(None, s.split("-")))[:40] or "world"


HANDLERS: dict[type, Handler] = {
    c.NewWorld: new_world, c.ShowWorld: show, c.ShowHistory: history, c.ExportWorld: export,
    c.ImportWorld: import_world, c.BranchWorld: branch,
}
