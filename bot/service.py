"""WorldService: every platform's commands, handled the same way.

An adapter turns its input into a Command, an Actor and a Place and awaits `execute`; the
answer is a Reply. Work on one world is serialised by one asyncio lock per world, so two
commands typed at the same moment build on each other. State commands go to their handler
(bot/handlers/). Render commands are the service's own path:

    compose (engine.compose, pure) -> may this person change what the words change?
    -> is there room in the queue? -> store events + job in one transaction
    -> submit the job -> hand it to the outbox, which posts the panel when it is drawn

The outbox never calls the service back; the service subscribes to the PanelRendered events
it publishes (automatic anchoring: a character's first solo panel becomes its reference).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace

from bot import commands as c
from bot.context import Actor, Attachment, NewPlace, Place, Reply
from bot.grammar import parse
from bot.guard import Guard
from bot.handlers import ALL
from bot.handlers.base import Ctx, Handler, Services, WorldSession
from bot.limits import Limits
from bot.outbox import Outbox, PanelRendered
from bot.ports import Charge, JobRowData, RenderQueue, WorldStore
from engine.compose import Author, Composition, Planner, Target, compose, compose_reroll, uses_sentences
from engine.editing import compose_edit
from engine.errors import LimitExceeded, NotAllowed, WorldError
from engine.events import CharacterReferenceSet, Event, PanelDrawn, Undone, active, fold
from engine.planner import plan
from engine.references import panel_places
from engine.renderers.storyboard.renderer import storyboard_sheet
from engine.world import ImageRef, Panel, World

SYSTEM_AUTHOR = "worldloom"


class WorldService:
    def __init__(self, store: WorldStore, queue: RenderQueue, outbox: Outbox, *,
                 target: Target | None = None, limits: Limits | None = None,
                 catalogue: c.Catalogue = c.CATALOGUE, handlers: Mapping[type, Handler] = ALL,
                 planner: Planner = plan, planner_blocks: bool = False,
                 default_seed: Callable[[], int] | None = None, guard: Guard | None = None) -> None:
        self.limits = limits or Limits()
        self.guard = guard or Guard()  # bans, the word filter, quotas and the audit log (bot/guard.py)
        self.catalogue = catalogue
        self._store = store
        self._queue = queue
        self._outbox = outbox
        self._target = target or Target()
        # The rule planner runs inline (well under a millisecond); a model-backed one blocks,
        # so composing then runs in a worker thread while the world's lock is held.
        self._planner = planner
        self._planner_blocks = planner_blocks
        self._handlers: dict[type, Handler] = {
            **handlers, c.Imagine: self._draw, c.ContinueStory: self._draw, c.Reroll: self._draw,
            c.EditPanel: self._draw}
        self._services = Services(store, self.limits, catalogue, find=self.world_id_for, load=self._load,
                                  append=self._append_by, new_id=lambda: secrets.token_hex(6),
                                  default_seed=default_seed or (lambda: secrets.randbits(31)), guard=self.guard)
        self._locks: dict[str, asyncio.Lock] = {}
        self._cache: dict[str, WorldSession] = {}
        self._recent: dict[str, list[float]] = {}

    # ------------------------------------------------------------ entry points

    async def execute_text(self, line: str, actor: Actor, place: Place, attachments: Sequence[Attachment] = (),
                           new_place: NewPlace | None = None) -> Reply:
        """Parses one line of the grammar and executes it; user errors become ephemeral replies."""
        try:
            command = parse(line, self.catalogue)
        except WorldError as e:
            return Reply(str(e), ephemeral=True, error=True)
        return await self.execute(command, actor, place, attachments, new_place, text=line.strip())

    async def execute(self, command: c.Command, actor: Actor, place: Place, attachments: Sequence[Attachment] = (),
                      new_place: NewPlace | None = None, text: str = "") -> Reply:
        try:
            return await self._dispatch(command, actor, place, tuple(attachments), new_place, text)
        except WorldError as e:
            return Reply(str(e), ephemeral=True, error=True)

    async def world_id_for(self, place: Place) -> str | None:
        """The world bound to a thread, if any."""
        return await self._store.world_for(place.key())

    async def world(self, world_id: str) -> World:
        return (await self._load(world_id)).world

    async def character_names(self, place: Place) -> list[str]:
        """For autocomplete and pickers: the characters of the place's world."""
        world_id = await self.world_id_for(place)
        return [ch.name for ch in (await self.world(world_id)).characters] if world_id else []

    async def location_names(self, place: Place) -> list[str]:
        world_id = await self.world_id_for(place)
        return [loc.name for loc in (await self.world(world_id)).locations] if world_id else []

    async def world_threads(self, channel: Place) -> list[str]:
        """The threads of a channel that hold worlds, oldest first (Slack's channel-level commands)."""
        found = await self._store.threads_in_channel(channel.platform, channel.workspace, channel.channel)
        return [thread for thread, _ in found]

    async def drawn_panels(self, world_id: str) -> list[tuple[Panel, bytes]]:
        """Every panel of the world that has an image, in story order, with its PNG (newest take)."""
        images = await self._store.panel_images(world_id)
        world = await self.world(world_id)
        return [(p, await self._store.get_blob(images[p.index])) for p in world.panels if p.index in images]

    async def storyboard(self, world_id: str) -> bytes:
        """Every drawn panel of the world on one sheet (PNG), composed off the event loop."""
        world = await self.world(world_id)
        panels = [(png, f"{p.index} · {p.author}: {p.shot.action or p.command}")
                  for p, png in await self.drawn_panels(world_id)]
        return await asyncio.to_thread(storyboard_sheet, panels, world.title)

    async def on_panel_rendered(self, event: PanelRendered) -> None:
        """Automatic anchoring; the event joins the panel's own group, so undoing the panel undoes it."""
        if event.anchor is None or event.take:
            return
        async with self._lock(event.world_id):
            session = await self._load(event.world_id)
            group = next((r.group for r in active(session.records) if isinstance(r.event, PanelDrawn)
                          and r.event.panel is not None and r.event.panel.index == event.panel), None)
            ch = session.world.find_character(event.anchor)
            if group is None or ch is None or ch.references:
                return  # the panel was undone meanwhile, or the character got a reference
            reference = CharacterReferenceSet(name=ch.name, reference=ImageRef(event.image, 100), auto=True)
            await self._append(session, SYSTEM_AUTHOR, SYSTEM_AUTHOR, [reference], group=group)

    # ------------------------------------------------------------ dispatch

    async def _dispatch(self, cmd: c.Command, actor: Actor, place: Place, files: tuple[Attachment, ...],
                        new_place: NewPlace | None, text: str) -> Reply:
        handler = self._handlers.get(type(cmd))
        if handler is None:
            raise WorldError(f"{type(cmd).__name__} is not supported here")
        spec = self.catalogue.spec_for(type(cmd))
        await self.guard.admit(cmd, actor, place, spec)  # closing, banned, blocked words: nothing changes
        text = text or (f"/{spec.name}" if spec else "/" + type(cmd).__name__.lower())
        if spec is not None and not spec.needs_world:
            return await handler(cmd, Ctx(actor, place, text, files, new_place, None, self._services))
        world_id = await self.world_id_for(place)
        if world_id is None:
            raise WorldError("there is no world here yet: start one with /world new TITLE")
        async with self._lock(world_id):
            session = await self._load(world_id)
            return await handler(cmd, Ctx(actor, place, text, files, new_place, session, self._services))

    # ------------------------------------------------------------ worlds: cached, locked, appended

    def _lock(self, world_id: str) -> asyncio.Lock:
        return self._locks.setdefault(world_id, asyncio.Lock())

    async def _load(self, world_id: str) -> WorldSession:
        session = self._cache.get(world_id)
        if session is None:
            records = await self._store.records(world_id)
            info = await self._store.world_info(world_id)
            session = WorldSession(records, fold(world_id, records), str(info["creator_id"]) if info else "")
            self._cache[world_id] = session
        return session

    async def _append_by(self, session: WorldSession, actor: Actor, events: list[Event]) -> World:
        return await self._append(session, actor.name, actor.key(), events)

    async def _append(self, session: WorldSession, author: str, author_id: str, events: list[Event],
                      job: JobRowData | None = None, group: int | None = None, charge: Charge | None = None) -> World:
        """Stores one command's events (and its job, and its quota) in one transaction, then advances the
        cached world."""
        world_id = session.world.id
        new = await self._store.append(world_id, author, events, job, author_id=author_id, group=group, charge=charge)
        session.records.extend(new)
        if any(isinstance(r.event, Undone) for r in new):
            session.world = fold(world_id, session.records)
        else:
            world = session.world
            for r in new:
                world = r.event.apply(world)
            session.world = replace(world, version=len(session.records))
        return session.world

    # ------------------------------------------------------------ drawing

    async def _draw(self, cmd: c.Imagine | c.ContinueStory | c.Reroll | c.EditPanel, ctx: Ctx) -> Reply:
        """compose -> permissions -> room in the queue -> one transaction -> submit -> outbox."""
        assert ctx.session is not None
        if not isinstance(cmd, (c.Reroll, c.EditPanel)) and len(ctx.world.panels) >= self.limits.max_panels:
            raise LimitExceeded(f"this world has reached {self.limits.max_panels} panels; branch it to go on")
        self._check_rate(ctx.actor)
        composition = await self._compose(cmd, ctx)
        for change in composition.changes:
            ch = ctx.world.character(change.name)
            if ch.locked and ch.author_id != ctx.actor.key() and not ctx.may_moderate():
                raise NotAllowed(f"{ch.name} is locked: only {ch.author}, the world's creator or a "
                                 "moderator can change how they look")
        job, panel = composition.job, composition.panel
        self._queue.check_room(job.user)  # a full queue stores nothing
        spec = {"job": job.to_json(), "record": composition.record, "anchor": composition.anchor}
        await self._append(ctx.session, ctx.actor.name, ctx.actor.key(), list(composition.events),
                           job=(job.job_id, panel.index, panel.take, spec, asdict(ctx.place)),
                           charge=await self.guard.quota(ctx.actor, ctx.place))
        handle = self._queue.submit(job, stored=True)
        ticket = self._outbox.follow(job.job_id, job.world_id, panel.index, panel.take, handle, composition.anchor)
        status = handle.status()
        where = "rendering now" if status.state == "rendering" else (
            "next in the queue" if status.position == 0 else f"position {status.position} in the queue")
        again = f" (take {panel.take + 1})" if panel.take else ""
        kept = "" if not isinstance(cmd, c.EditPanel) else (
            " The world keeps the change from here on." if len(composition.events) > 1
            else " Only this take changes." if composition.shown else " Nothing in the world changes.")
        return Reply(f"🎨 Panel {panel.index}{again} is {where}.{kept}", ticket=ticket, world_id=job.world_id)

    async def _compose(self, cmd: c.Imagine | c.ContinueStory | c.Reroll | c.EditPanel, ctx: Ctx) -> Composition:
        assert ctx.session is not None
        world, target, records = ctx.world, self._target, ctx.session.records
        author = Author(ctx.actor.name, ctx.actor.key())
        job_id = secrets.token_hex(8)
        sentences = uses_sentences(target.capabilities)
        reads_panels = target.previous_weight > 0 or sentences
        images = await self._store.panel_images(world.id) if reads_panels else {}
        places = panel_places(records) if sentences else {}

        def locate(sha: str) -> str:
            return str(self._store.blob_path(sha))

        if isinstance(cmd, c.Reroll):
            return compose_reroll(world, records, cmd.panel, author=author, job_id=job_id, command=ctx.text,
                                  target=target, panel_images=images, places=places, locate=locate)
        run = (asyncio.to_thread if self._planner_blocks else _inline)
        if isinstance(cmd, c.EditPanel):
            return await run(compose_edit, world, records, cmd.panel, cmd.text, author=author, job_id=job_id,
                             command=ctx.text, target=target, planner=self._planner, panel_images=images,
                             places=places, locate=locate)
        return await run(compose, world, cmd.text, cmd.options, author=author, job_id=job_id, command=ctx.text,
                         target=target, carry=isinstance(cmd, c.ContinueStory), planner=self._planner,
                         panel_images=images, places=places, locate=locate)

    def _check_rate(self, actor: Actor) -> None:
        if self.limits.renders_per_minute <= 0:
            return
        now = asyncio.get_running_loop().time()
        recent = [t for t in self._recent.get(actor.key(), []) if now - t < 60.0]
        if len(recent) >= self.limits.renders_per_minute:
            raise LimitExceeded(f"slow down: at most {self.limits.renders_per_minute} panels a minute per person")
        recent.append(now)
        self._recent[actor.key()] = recent


async def _inline(fn: Callable[..., Composition], *args: object, **kwargs: object) -> Composition:
    return fn(*args, **kwargs)
