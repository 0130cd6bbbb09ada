"""/undo, /why and /help: the story's log, explained and taken back."""

from __future__ import annotations

from bot import commands as c
from bot.context import Reply
from bot.explain import clip, explain_panel
from bot.grammar import help_text
from bot.handlers.base import Ctx, Handler
from engine.errors import NotAllowed, WorldError
from engine.events import Undone, last_undoable


async def undo(cmd: c.Undo, ctx: Ctx) -> Reply:
    assert ctx.session is not None
    group = last_undoable(ctx.session.records)
    if not group:
        raise WorldError("nothing to undo")
    author = group[0].author
    if group[0].author_id != ctx.actor.key() and not ctx.may_moderate():
        raise NotAllowed(f"the last change was made by {author}; only they, the world's creator "
                         "or a moderator can undo it")
    summary = "; ".join(r.event.describe() for r in group)
    world = await ctx.append([Undone(group=group[0].group, summary=clip(summary, 300))])
    whose = "your" if group[0].author_id == ctx.actor.key() else f"{author}'s"
    return Reply(f"↩️ Undid {whose} change: {clip(summary, 1500)}", world_id=world.id)


async def why(cmd: c.Why, ctx: Ctx) -> Reply:
    assert ctx.session is not None
    return Reply(clip(explain_panel(ctx.session.records, ctx.world, cmd.panel)), world_id=ctx.world.id)


async def help_(cmd: c.Help, ctx: Ctx) -> Reply:
    return Reply(help_text(cmd.topic, ctx.services.catalogue), ephemeral=True)


HANDLERS: dict[type, Handler] = {c.Undo: undo, c.Why: why, c.Help: help_}
