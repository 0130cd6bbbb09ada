"""From a planned panel to a posted image: jobs, the outbox, and recovery after a restart.

A render command is planned inside the world's lock; its events and its job (state
"planned") are stored in one transaction. The job goes to the engine queue, and a tracked
task follows it: the image is stored as a blob (job "rendered"), then the platform's Outlet
posts it (job "posted", with the platform's message id). On restart, unfinished jobs are
rendered again with the same seed and prompt and rendered-but-unposted images are posted.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from bot import commands as c
from bot.context import Actor, Delivery, DeliveryRefused, Outlet, Place, RenderTicket, Reply
from bot.store import UNFINISHED, JobRow, Store
from engine.appearance import character_text
from engine.errors import NotAllowed, RenderCancelled, RenderFailed
from engine.events import AppearanceChanged, PanelDrawn, PanelRerolled, world_at_panel
from engine.jobs import Reference, RenderJob, RenderResult
from engine.planner import Plan, PlanOptions, plan
from engine.prompt import compile_prompt
from engine.queue import Engine, JobHandle
from engine.renderers.storyboard.board import board
from engine.world import Panel, World, panel_seed

if TYPE_CHECKING:
    from bot.service import WorldService, _Cached

log = logging.getLogger(__name__)


@dataclass
class Renderings:
    store: Store
    engine: Engine
    renderer_name: str = "sketch"
    budget: int = 225
    count_tokens: Callable[[str], int] | None = None
    # The rule planner runs inline (well under a millisecond); a model-backed one blocks, so
    # it runs in a worker thread while the world's lock is held.
    planner: Callable[[World, str, PlanOptions], Plan] = plan
    planner_blocks: bool = False
    # A character without a reference gets its first solo panel as one (renderers that use references).
    auto_anchor: bool = False
    # The previous panel as a weak style reference, for palette and light continuity.
    previous_reference: float = 0.0
    anchor: Callable[[str, int, str, str], Awaitable[bool]] | None = None
    outlets: dict[str, Outlet] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _tickets: dict[str, RenderTicket] = field(default_factory=dict)

    # ------------------------------------------------------------ commands

    async def draw(self, service: WorldService, cached: _Cached, cmd: c.Imagine | c.ContinueStory,
                   actor: Actor, place: Place, text: str) -> Reply:
        world = cached.world
        opts = cmd.options
        options = PlanOptions(carry_characters=isinstance(cmd, c.ContinueStory))
        if self.planner_blocks:
            p = await asyncio.to_thread(self.planner, world, cmd.text, options)
        else:
            p = self.planner(world, cmd.text, options)
        after = world
        for ev in p.events:
            if isinstance(ev, AppearanceChanged):
                ch = world.character(ev.name)
                if ch.locked and ch.author_id != actor.key() and not service.may_moderate(actor, cached):
                    raise NotAllowed(f"{ch.name} is locked: only {ch.author}, the world's creator or a "
                                     "moderator can change how they look")
            after = ev.apply(after)
        spec = compile_prompt(after, p.shot, self.budget, self.count_tokens, extra_negative=opts.negative)
        index = world.next_panel_index
        width, height = opts.size or (world.width, world.height)
        panel = Panel(
            index=index, parent=world.panels[-1].index if world.panels else None, command=text,
            author=actor.name, shot=p.shot, prompt=spec.prompt, negative_prompt=spec.negative,
            seed=opts.seed if opts.seed is not None else panel_seed(world.seed, index),
            width=width, height=height, steps=opts.steps or world.steps, dropped=spec.dropped,
            references=spec.references, notes=p.notes)
        return await self._start(service, cached, [*p.events, PanelDrawn(panel)], after, panel, actor, place)

    async def reroll(self, service: WorldService, cached: _Cached, index: int | None, actor: Actor,
                     place: Place, text: str) -> Reply:
        old = cached.world.panel(index)
        seed = panel_seed(cached.world.seed ^ 0x5EED, old.index, old.take + 1)
        panel = replace(old, seed=seed, take=old.take + 1, command=text, author=actor.name)
        event = PanelRerolled(index=old.index, seed=seed)
        # An older panel is drawn again as its world was then: its place, light and outfits.
        _, then = world_at_panel(cached.world.id, cached.records, old.index)
        return await self._start(service, cached, [event], then, panel, actor, place)

    async def _start(self, service: WorldService, cached: _Cached, events: list[Any], after: World,
                     panel: Panel, actor: Actor, place: Place) -> Reply:
        job_id = secrets.token_hex(8)
        previous = None
        if self.previous_reference > 0 and panel.parent is not None:
            previous = (await self.store.panel_images(after.id)).get(panel.parent)  # None while still drawing
        job = self._job(job_id, after, panel, actor, previous)
        record = panel_record(after, panel, self.renderer_name)
        handle = self.engine.submit(job)  # raises QueueFull before anything is stored
        try:
            await service.append(cached, actor, events, job=(
                job_id, panel.index, panel.take, {"job": _job_json(job), "record": record}, asdict(place)))
        except BaseException:
            handle.cancel()
            raise
        ticket = self._follow(job_id, after.id, panel.index, panel.take, handle,
                              anchor=(cached.records[-1].group, solo) if (solo := _anchor_for(after, panel)) else None)
        status = handle.status()
        where = "rendering now" if status.state == "rendering" else (
            "next in the queue" if status.position == 0 else f"position {status.position} in the queue")
        again = f" (take {panel.take + 1})" if panel.take else ""
        return Reply(f"🎨 Panel {panel.index}{again} is {where}.", ticket=ticket, world_id=after.id)

    def _job(self, job_id: str, world: World, panel: Panel, actor: Actor, previous: str | None) -> RenderJob:
        refs = []
        for name in panel.shot.characters:
            ch = world.find_character(name)
            if ch is not None and ch.references:
                r = ch.references[0]
                refs.append(Reference(ch.name, str(self.store.blob_path(r.image)), r.weight / 100, "character"))
        if world.style.reference is not None:
            r = world.style.reference
            refs.append(Reference("style", str(self.store.blob_path(r.image)), r.weight / 100, "style"))
        if previous is not None:
            refs.append(Reference("previous", str(self.store.blob_path(previous)), self.previous_reference, "previous"))
        return RenderJob(
            job_id=job_id, world_id=world.id, panel=panel.index, user=f"{actor.platform}:{actor.id}",
            prompt=panel.prompt, negative_prompt=panel.negative_prompt, seed=panel.seed,
            width=panel.width, height=panel.height, steps=panel.steps, references=tuple(refs),
            board=board(world, panel))

    # ------------------------------------------------------------ following jobs

    def _follow(self, job_id: str, world_id: str, index: int, take: int, handle: JobHandle,
                anchor: tuple[int, str] | None = None) -> RenderTicket:
        ticket = RenderTicket(job_id, world_id, index, take, handle)
        self._tickets[job_id] = ticket
        task = asyncio.create_task(self._finish(ticket, anchor), name=f"render-{job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return ticket

    async def _finish(self, ticket: RenderTicket, anchor: tuple[int, str] | None = None) -> None:
        try:
            try:
                async for status in ticket.handle.updates():
                    if status.state == "rendering":
                        await self.store.set_job_state(ticket.job_id, "rendering")
                    if status.state != "queued":
                        break
                result: RenderResult = await ticket.handle.result()
            except RenderCancelled:
                await self.store.set_job_state(ticket.job_id, "cancelled")
                raise
            except RenderFailed as e:
                await self.store.set_job_state(ticket.job_id, "failed", str(e))
                row = await self.store.job(ticket.job_id)
                if row is not None and (outlet := self.outlets.get(row.place["platform"])):
                    await outlet.failed(_place(row), row.id, row.panel, str(e))
                raise
            sha = await self.store.put_blob(result.png)
            await self.store.job_rendered(ticket.job_id, sha)
            if anchor is not None and self.auto_anchor and self.anchor is not None:
                await self.anchor(ticket.world_id, anchor[0], anchor[1], sha)
            message_id = await self.post(ticket.job_id)
            if not ticket.done.done():
                ticket.done.set_result(message_id or "")
        except asyncio.CancelledError:
            if not ticket.done.done():
                ticket.done.cancel()
            raise
        except Exception as e:
            if not isinstance(e, (RenderCancelled, RenderFailed)):
                log.exception("render job %s failed", ticket.job_id)
            if not ticket.done.done():
                ticket.done.set_exception(e)
        finally:
            self._tickets.pop(ticket.job_id, None)
            # Nobody may await ticket.done (chat platforms don't): mark its exception retrieved.
            if ticket.done.done() and not ticket.done.cancelled():
                ticket.done.exception()

    async def post(self, job_id: str) -> str | None:
        """Posts a rendered job through its platform's outlet; None when no outlet is connected."""
        row = await self.store.job(job_id)
        if row is None or row.state != "rendered" or row.image is None:
            return row.message_id if row else None
        outlet = self.outlets.get(row.place["platform"])
        if outlet is None:
            return None
        png = await self.store.get_blob(row.image)
        record = dict(row.spec["record"])
        delivery = Delivery(job_id=row.id, world_id=row.world_id, panel=row.panel, take=row.take,
                            place=_place(row), author=row.author, caption=caption(record), png=png, record=record)
        try:
            message_id = await outlet.deliver(delivery)
        except DeliveryRefused as e:
            await self.store.set_job_state(row.id, "failed", f"delivery refused: {e}")
            raise
        await self.store.job_posted(row.id, message_id)
        return message_id

    async def recover(self) -> int:
        """Re-renders unfinished jobs and posts rendered ones; returns how many were picked up."""
        count = 0
        for row in await self.store.jobs_in_state("rendered"):
            if row.place["platform"] in self.outlets:
                try:
                    await self.post(row.id)
                    count += 1
                except DeliveryRefused as e:
                    log.warning("recovered job %s can no longer be posted: %s", row.id, e)
                except Exception:
                    log.exception("could not post recovered job %s", row.id)
        for row in await self.store.jobs_in_state(*UNFINISHED):
            if row.id in self._tickets or row.place["platform"] not in self.outlets:
                continue
            job = _job_from_json(row.spec["job"])
            self._follow(row.id, row.world_id, row.panel, row.take, self.engine.submit(job))
            count += 1
        return count

    async def wait_idle(self) -> None:
        """Waits until every job followed so far is posted, failed or cancelled."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


# ---------------------------------------------------------------- plain data for jobs and panels.jsonl


def panel_record(world: World, panel: Panel, renderer: str) -> dict[str, Any]:
    """One line of panels.jsonl (without "image", which the outlet adds)."""
    s = world.scene
    characters = {}
    for name in panel.shot.characters:
        ch = world.find_character(name)
        if ch is not None:
            characters[ch.name] = {"description": character_text(ch), "appearance": ch.appearance()}
    return {
        "panel": panel.index, "world": world.id, "parent": panel.parent, "command": panel.command,
        "author": panel.author, "prompt": panel.prompt, "negative_prompt": panel.negative_prompt,
        "seed": panel.seed, "size": [panel.width, panel.height], "renderer": renderer,
        "shot": {"camera": panel.shot.camera, "characters": list(panel.shot.characters),
                 "action": panel.shot.action},
        "scene": {"location": s.location, "time_of_day": s.time_of_day, "lighting": s.lighting,
                  "weather": s.weather},
        "characters": characters, "references": list(panel.references), "dropped": list(panel.dropped),
    }


def _anchor_for(world: World, panel: Panel) -> str | None:
    """The character a panel could anchor: alone in frame, first take, no reference yet."""
    if len(panel.shot.characters) != 1 or panel.take:
        return None
    ch = world.find_character(panel.shot.characters[0])
    return ch.name if ch is not None and not ch.references else None


def caption(record: dict[str, Any]) -> str:
    action = record["shot"]["action"] or record["command"]
    return f"#{record['panel']} · {record['author']}: {action}"


def _job_json(job: RenderJob) -> dict[str, Any]:
    return asdict(job)


def _job_from_json(data: dict[str, Any]) -> RenderJob:
    refs = tuple(Reference(**r) for r in data.get("references", ()))
    return RenderJob(**{**data, "references": refs})


def _place(row: JobRow) -> Place:
    return Place(**row.place)
