"""Who and where: /cref (and "Use as reference"), /sref and /scene."""

from __future__ import annotations

from dataclasses import replace

from bot import commands as c
from bot.context import Reply
from bot.explain import describe_scene
from bot.handlers.base import Ctx, Handler
from engine.appearance import character_text, guess_pronoun, parse_description
from engine.errors import LimitExceeded, NotAllowed, WorldError
from engine.events import CharacterReferenceSet, CharacterRegistered, Event, LocationSet, SceneChanged, StyleSet
from engine.world import ImageRef


async def cref(cmd: c.RegisterCharacter, ctx: Ctx) -> Reply:
    world, limits = ctx.world, ctx.services.limits
    old = world.find_character(cmd.name)
    if old is None and len(world.characters) >= limits.max_characters:
        raise LimitExceeded(f"this world already has {limits.max_characters} characters")
    if old is not None and old.locked and old.author_id != ctx.actor.key() and not ctx.may_moderate():
        raise NotAllowed(f"{old.name} is locked; only {old.author or 'its author'}, the world's creator "
                         "or a moderator can change it")
    if len(cmd.description) > limits.max_description:
        raise LimitExceeded(f"the description is too long (max {limits.max_description} characters)")
    refs: tuple[ImageRef, ...] = ()
    if ctx.files:
        sha = await ctx.store_image(ctx.files[0])
        refs = (ImageRef(sha, cmd.cw if cmd.cw is not None else 100),)
    elif cmd.image:
        raise WorldError(f"could not read the image {cmd.image!r}")
    elif cmd.cw is not None and old is not None and old.references:
        refs = tuple(replace(r, weight=cmd.cw) for r in old.references)
    if old is None and not cmd.description and not refs:
        raise WorldError(f"describe {cmd.name} or attach an image, e.g. /cref {cmd.name} a tall knight in red")
    pronoun = guess_pronoun(cmd.description) if cmd.description else (old.pronoun if old else "they")
    event = CharacterRegistered(
        name=cmd.name, description=cmd.description, traits=parse_description(cmd.description),
        pronoun=pronoun, aliases=cmd.aliases, references=refs, locked=cmd.lock, author=ctx.actor.name,
        author_id=ctx.actor.key())
    world = await ctx.append([event])
    ch = world.character(cmd.name)
    what = "Updated" if old else "Registered"
    ref = f" with a reference image (cw {refs[0].weight})" if refs else ""
    aka = f" (also {', '.join(ch.aliases)})" if ch.aliases else ""
    return Reply(f"👤 {what} **{ch.name}**{aka}{ref}: {character_text(ch) or 'no description'}", world_id=world.id)


async def use_panel(cmd: c.UsePanelAsReference, ctx: Ctx) -> Reply:
    ch = ctx.world.character(cmd.name)
    ctx.world.panel(cmd.panel)
    if ch.locked and ch.author_id != ctx.actor.key() and not ctx.may_moderate():
        raise NotAllowed(f"{ch.name} is locked; only its author, the world's creator or a moderator "
                         "can change its reference")
    image = (await ctx.services.store.panel_images(ctx.world.id)).get(cmd.panel)
    if image is None:
        raise WorldError(f"panel {cmd.panel} has no image yet")
    world = await ctx.append([CharacterReferenceSet(name=ch.name, reference=ImageRef(image, cmd.weight))])
    return Reply(f"🖼 Panel {cmd.panel} is now the reference image of **{ch.name}**.", world_id=world.id)


async def sref(cmd: c.SetStyle, ctx: Ctx) -> Reply:
    ref = None
    if ctx.files:
        ref = ImageRef(await ctx.store_image(ctx.files[0]), cmd.sw if cmd.sw is not None else 100)
    elif cmd.image:
        raise WorldError(f"could not read the image {cmd.image!r}")
    if not cmd.text and ref is None:
        s = ctx.world.style
        return Reply(f"🎨 Style: {s.prefix or '(none)'}; negative: {s.negative or '(none)'}; "
                     f"style image: {'yes' if s.reference else 'no'}")
    world = await ctx.append([StyleSet(prefix=cmd.text or None, reference=ref)])
    return Reply(f"🎨 Style set: {world.style.prefix or '(unchanged)'}"
                 + (" with a style reference image" if ref else ""), world_id=world.id)


async def scene(cmd: c.SetScene, ctx: Ctx) -> Reply:
    world, limits = ctx.world, ctx.services.limits
    events: list[Event] = []
    known = world.location(cmd.location)
    if cmd.location:
        if known is None and len(world.locations) >= limits.max_locations:
            raise LimitExceeded(f"this world already has {limits.max_locations} locations")
        if known is None or cmd.description:
            events.append(LocationSet(name=known.name if known else cmd.location,
                                      description=cmd.description or None))
    where = (known.name if known else cmd.location) if cmd.location else None
    change = SceneChanged(location=where, time_of_day=cmd.time, lighting=cmd.light, weather=cmd.weather)
    if any(v is not None for v in (change.location, change.time_of_day, change.lighting, change.weather)):
        events.append(change)
    if not events:
        return Reply(describe_scene(world))
    world = await ctx.append(events)
    return Reply("🎬 " + describe_scene(world), world_id=world.id)


HANDLERS: dict[type, Handler] = {
    c.RegisterCharacter: cref, c.UsePanelAsReference: use_panel, c.SetStyle: sref, c.SetScene: scene,
}
