"""WorldService against in-memory fakes: no SQLite, no threads, just the service's rules.

tests/test_service.py runs the same service on the real store and engine.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot import commands as c
from bot.context import Actor, Reply
from bot.grammar import help_text, parse
from bot.handlers import ALL
from bot.handlers.base import Ctx
from bot.outbox import Outbox
from bot.service import WorldService
from engine.compose import Target
from engine.events import PanelDrawn
from engine.jobs import Capabilities
from tests.conftest import ADA, BEN, PLACE
from tests.fakes import InlineEngine, MemoryStore, RecordingOutlet


@dataclass
class Rig:
    store: MemoryStore
    engine: InlineEngine
    outbox: Outbox
    service: WorldService
    outlet: RecordingOutlet

    async def say(self, line: str, actor=ADA) -> Reply:
        reply = await self.service.execute_text(line, actor, PLACE)
        if reply.ticket is not None:
            await reply.ticket.done
        return reply

    async def world(self):
        world_id = await self.service.world_id_for(PLACE)
        assert world_id is not None
        return await self.service.world(world_id)


def rig(target: Target | None = None, catalogue: c.Catalogue = c.CATALOGUE, handlers=ALL) -> Rig:
    store, engine = MemoryStore(), InlineEngine()
    outbox = Outbox(store, engine)
    service = WorldService(store, engine, outbox, target=target, catalogue=catalogue, handlers=handlers)
    outlet = RecordingOutlet()
    outbox.connect("test", outlet)
    return Rig(store, engine, outbox, service, outlet)


async def test_continue_stores_its_events_and_job_together_and_the_outbox_posts_it() -> None:
    r = rig()
    await r.say("/world new Harbour --seed 3")
    await r.say("/cref Mira a girl with short red hair")
    reply = await r.say("/continue Mira waves")
    assert not reply.error and reply.ticket is not None
    world = await r.world()
    [drawn] = [rec for rec in r.store.events[world.id] if isinstance(rec.event, PanelDrawn)]
    [job] = r.store.jobs.values()
    assert job.panel == drawn.event.panel.index == 1 and job.state == "posted"
    assert job.spec["job"]["prompt"] == drawn.event.panel.prompt and "short red hair" in job.spec["job"]["prompt"]
    [delivery] = r.outlet.delivered
    assert delivery.job_id == job.id and job.message_id == f"msg-{job.id}"


async def test_a_full_queue_stores_nothing() -> None:
    r = rig()
    await r.say("/world new Harbour")
    version = (await r.world()).version
    r.engine.waiting[ADA.key()] = r.engine.per_user_cap
    reply = await r.say("/continue a storm rolls in")
    assert reply.error and "waiting" in reply.text
    assert (await r.world()).version == version and not r.store.jobs and not r.engine.submitted


async def test_words_cannot_change_a_locked_character_of_someone_else() -> None:
    r = rig()
    await r.say("/world new Harbour")
    await r.say("/cref Tom an old fisherman --lock", BEN)
    version = (await r.world()).version
    reply = await r.say("/continue Tom puts on a red hat", Actor("test", "u-cy", "cy"))  # not the creator
    assert reply.error and "locked" in reply.text
    assert (await r.world()).version == version and not r.store.jobs


async def test_two_continues_at_once_build_on_each_other() -> None:
    r = rig()
    await r.say("/world new Harbour")
    await asyncio.gather(r.say("/continue the tide comes in"), r.say("/continue gulls circle", BEN))
    world = await r.world()
    assert [p.index for p in world.panels] == [1, 2] and world.panels[1].parent == 1


async def test_world_new_and_continue_read_ar_the_same_way() -> None:
    r = rig()
    await r.say("/world new Square --ar 4:3")
    world = await r.world()
    await r.say("/continue the sea --ar 4:3")
    [delivery] = r.outlet.delivered
    assert (world.width, world.height) == tuple(delivery.record["size"]) == (768, 576)


async def test_anchoring_listens_to_rendered_panels() -> None:
    r = rig(Target(capabilities=Capabilities(reads_images=True)))
    r.outbox.subscribe(r.service.on_panel_rendered)
    await r.say("/world new Harbour")
    await r.say("/cref Mira a girl")
    await r.say("/continue Mira waves")
    mira = (await r.world()).character("Mira")
    assert mira.references and mira.references[0].image == next(iter(r.store.blobs))


# ---------------------------------------------------------------- a command declared once


@dataclass(frozen=True)
class Wave(c.Command):
    text: str = ""


WAVE = c.Spec("wave", "/wave [TEXT]", "wave at everyone in the world", "text",
              lambda p: Wave(text=p.text), Wave)


async def wave(cmd: Wave, ctx: Ctx) -> Reply:
    return Reply(f"👋 {ctx.actor.name} waves in {ctx.world.title}: {cmd.text}")


async def test_a_command_added_through_its_spec_alone_is_parsed_helped_and_dispatched() -> None:
    catalogue = c.CATALOGUE.plus(WAVE)
    assert parse("/wave hello there", catalogue) == Wave(text="hello there")
    assert "/wave [TEXT]" in help_text(None, catalogue) and "wave at everyone" in help_text("wave", catalogue)
    r = rig(catalogue=catalogue, handlers={**ALL, Wave: wave})
    await r.say("/world new Harbour")
    reply = await r.say("/wave hello there")
    assert not reply.error and reply.text == "👋 ada waves in Harbour: hello there"
    # Without its spec the grammar does not know it, and suggests the closest command.
    assert "unknown command" in (await rig().say("/wave hi")).text
