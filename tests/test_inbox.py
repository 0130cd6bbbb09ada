"""The inbox: stored before acknowledged, processed exactly once in arrival order per thread, recovered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App, open_app
from bot.config import Settings
from bot.context import Actor, Attachment, Place, Reply
from bot.inbox import ANSWERED, DONE, FAILED, PENDING, InboxEntry
from bot.limits import Limits
from engine.renderers.storyboard.renderer import SketchRenderer
from tests.fakes import RecordingOutlet

PLACE = Place("test", "ws", "chan", "thread-1")
OTHER = Place("test", "ws", "chan", "thread-2")
ADA = Actor("test", "u-ada", "ada")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    settings = Settings(database=str(tmp_path / "w.db"), limits=Limits(renders_per_minute=0))
    async with open_app(settings, renderer=SketchRenderer()) as app:
        app.outbox.connect("test", RecordingOutlet())
        yield app


def entry(key: str, text: str, place: Place = PLACE, **kw: object) -> InboxEntry:
    return InboxEntry.new(key, place, ADA.key(), ADA.name, text, {"line": text}, **kw)  # type: ignore[arg-type]


def runner(app: App, e: InboxEntry) -> tuple[list[Reply], object, object]:
    """execute/answer for an entry whose payload is a line of the grammar; answers land in the list."""
    answers: list[Reply] = []

    async def execute() -> Reply:
        return await app.service.execute_text(e.payload["line"], ADA, e.place)

    async def answer(reply: Reply) -> None:
        answers.append(reply)

    return answers, execute, answer


async def handle(app: App, e: InboxEntry) -> list[Reply]:
    assert await app.inbox.accept(e)
    answers, execute, answer = runner(app, e)
    await app.inbox.handle(e, execute, answer)  # type: ignore[arg-type]
    return answers


async def states(app: App) -> dict[str, str]:
    return await app.store.inbox.states("test")


async def new_world(app: App) -> None:
    await handle(app, entry("k-new", '/world new "Inbox" --seed 3'))


# ---------------------------------------------------------------- exactly once


async def test_a_command_marks_its_row_done_in_its_own_transaction(app: App) -> None:
    await new_world(app)
    e = entry("k-1", "/continue Mira waves")
    assert await app.inbox.accept(e)
    seen: list[str] = []

    async def execute() -> Reply:
        reply = await app.service.execute_text("/continue Mira waves", ADA, PLACE)
        seen.append((await states(app))["k-1"])  # right after the command's transaction
        return reply

    async def answer(reply: Reply) -> None:
        seen.append((await states(app))["k-1"])

    await app.inbox.handle(e, execute, answer)
    assert seen == [DONE, DONE] and (await states(app))["k-1"] == ANSWERED
    world = await app.service.world(await app.service.world_id_for(PLACE) or "")
    assert [p.command for p in world.panels] == ["/continue Mira waves"]


async def test_a_rolled_back_command_leaves_its_row_pending(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    await new_world(app)
    world_id = await app.service.world_id_for(PLACE) or ""
    version = (await app.service.world(world_id)).version

    async def broken(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.store, "_insert_job", broken)  # fails after the events were written
    e = entry("k-1", "/continue Mira waves")
    assert await app.inbox.accept(e)
    _, execute, answer = runner(app, e)
    with pytest.raises(RuntimeError):
        await app.inbox.handle(e, execute, answer)  # type: ignore[arg-type]
    # Nothing was committed, so the row is not done: it failed (and says so) instead.
    assert (await states(app))["k-1"] == FAILED
    assert len(await app.store.records(world_id)) == version


async def test_a_done_command_is_answered_after_a_restart_but_never_run_again(tmp_path: Path) -> None:
    settings = Settings(database=str(tmp_path / "w.db"), limits=Limits(renders_per_minute=0))
    async with open_app(settings, renderer=SketchRenderer()) as app:
        await new_world(app)
        e = entry("k-1", "/continue Mira waves")
        assert await app.inbox.accept(e)
        _, execute, _ = runner(app, e)

        async def crash(reply: Reply) -> None:
            raise asyncio.CancelledError  # the process dies before the answer leaves

        with pytest.raises(asyncio.CancelledError):
            await app.inbox.handle(e, execute, crash)  # type: ignore[arg-type]
        assert (await states(app))["k-1"] == DONE
        await app.outbox.wait_idle()

    async with open_app(settings, renderer=SketchRenderer()) as app:
        replayed: list[Reply] = []
        answered = asyncio.Event()

        async def replay(e: InboxEntry) -> None:
            async def execute() -> Reply:
                raise AssertionError("a done command ran again")

            async def answer(reply: Reply) -> None:
                replayed.append(reply)
                answered.set()

            await app.inbox.handle(e, execute, answer)

        app.inbox.hold("test")
        assert await app.inbox.recover("test", replay) == 1
        await asyncio.wait_for(app.inbox.wait_recovered("test"), 10)
        assert answered.is_set()
        assert replayed[0].text.startswith("🎨 Panel 1")
        assert (await states(app))["k-1"] == ANSWERED
        world = await app.service.world(await app.service.world_id_for(PLACE) or "")
        assert len(world.panels) == 1


async def test_keys_are_accepted_once_even_across_restarts(tmp_path: Path) -> None:
    settings = Settings(database=str(tmp_path / "w.db"))
    async with open_app(settings, renderer=SketchRenderer()) as app:
        assert await app.inbox.accept(entry("slack:C1:1.000001", "/world show"))
        assert not await app.inbox.accept(entry("slack:C1:1.000001", "/world show"))
    async with open_app(settings, renderer=SketchRenderer()) as app:
        assert not await app.inbox.accept(entry("slack:C1:1.000001", "/world show"))
        assert await app.inbox.accept(entry("slack:C1:1.000002", "/world show"))


async def test_a_burst_of_rows_is_written_in_few_transactions(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    groups: list[int] = []
    write = app.store.inbox._write

    def counting(entries, finishes):  # type: ignore[no-untyped-def]
        groups.append(len(entries))
        return write(entries, finishes)

    monkeypatch.setattr(app.store.inbox, "_write", counting)
    files = (Attachment("ref.png", b"\x89PNG data", "image/png"),)
    results = await asyncio.gather(*(app.inbox.accept(entry(f"k-{i}", "/world show", files=files))
                                     for i in range(20)))
    assert all(results) and sum(groups) == 20 and len(groups) <= 2  # the first row, then the rest together
    assert await asyncio.gather(app.inbox.accept(entry("k-20", "/help")), app.inbox.accept(entry("k-20", "/help"))) \
        == [True, False]
    (first, *_) = await app.store.inbox.unfinished("test")
    assert first.files == files and first.key == "k-0"


# ---------------------------------------------------------------- order, recovery, waiting


async def test_commands_run_in_arrival_order_per_thread_and_threads_do_not_wait_for_each_other(app: App) -> None:
    order: list[str] = []
    hold = asyncio.Event()

    def work(name: str, wait: bool = False) -> object:
        async def execute() -> Reply:
            if wait:
                await hold.wait()
            order.append(name)
            return Reply(name)
        return execute

    async def answer(reply: Reply) -> None:
        pass

    first, second, other = entry("a", "x"), entry("b", "x"), entry("c", "x", OTHER)
    for e in (first, second, other):
        assert await app.inbox.accept(e)
    tasks = [asyncio.create_task(app.inbox.handle(first, work("first", wait=True), answer)),  # type: ignore[arg-type]
             asyncio.create_task(app.inbox.handle(second, work("second"), answer)),  # type: ignore[arg-type]
             asyncio.create_task(app.inbox.handle(other, work("other"), answer))]  # type: ignore[arg-type]
    async with asyncio.timeout(5):
        await tasks[2]  # another thread is not held up
    assert order == ["other"]
    hold.set()
    await asyncio.gather(*tasks)
    assert order == ["other", "first", "second"]


async def test_rows_left_by_a_crash_run_before_new_work_with_their_seed(tmp_path: Path) -> None:
    settings = Settings(database=str(tmp_path / "w.db"))
    async with open_app(settings, renderer=SketchRenderer()) as app:
        old = entry("k-old", '/world new "Before"')  # no --seed: the row's seed is the world's
        assert await app.inbox.accept(old)
    async with open_app(settings, renderer=SketchRenderer()) as app:
        order: list[str] = []
        app.inbox.hold("test")
        new = entry("k-new", "/world show")
        assert await app.inbox.accept(new)

        async def run(e: InboxEntry) -> None:
            _, execute, _ = runner(app, e)

            async def answer(reply: Reply) -> None:
                order.append(e.key)

            await app.inbox.handle(e, execute, answer)  # type: ignore[arg-type]

        waiting = asyncio.create_task(run(new))
        await asyncio.sleep(0)  # let it reach the gate  (no waiting on time: one loop turn)
        assert not waiting.done() and order == []
        assert await app.inbox.recover("test", run) == 1
        await asyncio.wait_for(waiting, 10)
        assert order == ["k-old", "k-new"]
        world = await app.service.world(await app.service.world_id_for(PLACE) or "")
        assert world.seed == old.seed and world.title == "Before"


async def test_a_command_in_a_thread_being_created_waits_for_its_world(app: App) -> None:
    channel = Place("test", "ws", "chan", "")
    made = Place("test", "ws", "chan", "new-thread")
    opened, go = asyncio.Event(), asyncio.Event()
    makes = 0

    async def make(title: str) -> Place:
        nonlocal makes
        makes += 1
        return made

    creator = entry("k-create", '/world new "Fresh"', channel)
    typed = entry("k-typed", "/world show", made)
    for e in (creator, typed):
        assert await app.inbox.accept(e)

    async def create() -> Reply:
        new_place = app.inbox.once(creator, make)

        async def slow(title: str) -> Place:
            place = await new_place(title)
            opened.set()
            await go.wait()  # the thread exists, its world is not bound yet
            return place

        return await app.service.execute_text('/world new "Fresh"', ADA, channel, new_place=slow)

    answers: list[Reply] = []

    async def answer(reply: Reply) -> None:
        answers.append(reply)

    creating = asyncio.create_task(app.inbox.handle(creator, create, answer))
    await opened.wait()
    _, execute, _ = runner(app, typed)
    shown = asyncio.create_task(app.inbox.handle(typed, execute, answer))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert not shown.done() and len(answers) == 0
    go.set()
    await asyncio.gather(creating, shown)
    assert answers[1].text.startswith("🌍 **Fresh**") and not answers[1].error
    assert makes == 1
    assert await app.store.inbox.unfinished("test") == []  # both answered


async def test_a_replayed_world_new_binds_the_thread_it_recorded(tmp_path: Path) -> None:
    settings = Settings(database=str(tmp_path / "w.db"))
    channel = Place("test", "ws", "chan", "")
    made = Place("test", "ws", "chan", "thread-made")
    async with open_app(settings, renderer=SketchRenderer()) as app:
        creator = entry("k-create", '/world new "Once"', channel)
        assert await app.inbox.accept(creator)
        await app.inbox.once(creator, _const(made))("Once")  # the thread was opened, then the crash
    async with open_app(settings, renderer=SketchRenderer()) as app:
        makes: list[str] = []
        bound = asyncio.Event()

        async def make(title: str) -> Place:
            makes.append(title)
            return Place("test", "ws", "chan", "a-second-thread")

        async def replay(e: InboxEntry) -> None:
            assert e.made == made

            async def execute() -> Reply:
                new_place = app.inbox.once(e, make)
                return await app.service.execute_text(e.payload["line"], ADA, e.place, new_place=new_place)

            async def answer(reply: Reply) -> None:
                bound.set()

            await app.inbox.handle(e, execute, answer)

        app.inbox.hold("test")
        await app.inbox.recover("test", replay)
        await asyncio.wait_for(bound.wait(), 10)
        assert makes == [] and await app.service.world_id_for(made) is not None


async def test_a_command_that_keeps_crashing_the_bot_is_put_aside(tmp_path: Path) -> None:
    settings = Settings(database=str(tmp_path / "w.db"))
    async with open_app(settings, renderer=SketchRenderer()) as app:
        assert await app.inbox.accept(entry("k-poison", "/world show"))
    for n in range(6):
        async with open_app(settings, renderer=SketchRenderer()) as app:
            seen, answered, reached = await _replay_crashing(app)
        if n < 5:
            assert seen[0].attempts == n and answered == [] and reached == ["execute"]
    assert reached == ["answer"] and "could not finish this command" in answered[0].text and answered[0].error
    async with open_app(settings, renderer=SketchRenderer()) as app:
        assert await states(app) == {"k-poison": ANSWERED}


async def test_answered_rows_are_pruned_after_a_day_pending_ones_never(app: App) -> None:
    await handle(app, entry("k-old", "/help"))
    assert await app.inbox.accept(entry("k-pending", "/help"))
    assert await app.store.inbox.prune(time.time() - 3600) == 0  # answered a moment ago: kept
    assert await app.store.inbox.prune(time.time() + 1) == 1
    assert await states(app) == {"k-pending": PENDING}


# ---------------------------------------------------------------- helpers


def _const(place: Place):  # type: ignore[no-untyped-def]
    async def make(title: str) -> Place:
        return place
    return make


async def _replay_crashing(app: App) -> tuple[list[InboxEntry], list[Reply], list[str]]:
    """One start: the rows left are replayed with a command that takes the process down every time."""
    seen: list[InboxEntry] = []
    answered: list[Reply] = []
    reached: list[str] = []
    done = asyncio.Event()

    async def replay(e: InboxEntry) -> None:
        seen.append(e)

        async def execute() -> Reply:
            reached.append("execute")
            done.set()
            raise asyncio.CancelledError

        async def answer(reply: Reply) -> None:
            reached.append("answer")
            answered.append(reply)
            done.set()

        await app.inbox.handle(e, execute, answer)

    app.inbox.hold("test")
    await app.inbox.recover("test", replay)
    await asyncio.wait_for(done.wait(), 10)
    await app.inbox.stop("test")
    return seen, answered, reached


async def test_the_write_lock_lets_urgent_writers_go_first_and_survives_cancellation() -> None:
    from bot.store.lock import WriteLock

    lock, order = WriteLock(), []
    await lock.acquire()  # held by someone writing events

    async def writer(name: str, urgent: bool) -> None:
        await lock.acquire(urgent)
        order.append(name)
        lock.release()

    tasks = [asyncio.create_task(writer(name, urgent)) for name, urgent in
             (("job-1", False), ("job-2", False), ("inbox-1", True), ("gone", True), ("inbox-2", True))]
    await asyncio.sleep(0)  # one loop turn: every writer is waiting now
    tasks[3].cancel()  # a waiter that gives up does not keep the lock from the others
    lock.release()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert order == ["inbox-1", "inbox-2", "job-1", "job-2"]
    await asyncio.wait_for(lock.acquire(), 1)  # and it is free again


async def test_a_command_whose_thread_is_gone_is_tried_a_few_times_then_dropped(tmp_path: Path) -> None:
    settings = Settings(database=str(tmp_path / "w.db"))
    async with open_app(settings, renderer=SketchRenderer()) as app:
        assert await app.inbox.accept(entry("k-orphan", "/world show"))
    tries = 0
    for _ in range(8):
        async with open_app(settings, renderer=SketchRenderer()) as app:

            async def replay(e: InboxEntry) -> None:
                nonlocal tries
                tries += 1
                raise LookupError("Unknown Channel")  # the adapter cannot even rebuild the command

            app.inbox.hold("test")
            if await app.inbox.recover("test", replay):
                await asyncio.wait_for(app.inbox.wait_recovered("test"), 10)
            left = await states(app)
    assert tries == 6 and left == {"k-orphan": FAILED}  # five tries, one to tell, then never again


async def test_a_follower_spawned_while_the_pool_closes_does_not_keep_it_open() -> None:
    from bot.platforms.common import TaskPool

    pool, answered, forever = TaskPool("test", grace_s=5), asyncio.Event(), asyncio.Event()
    await pool.start()

    async def follow() -> None:
        await forever.wait()  # progress of a render that will not finish before the process stops

    async def work() -> None:
        await answered.wait()
        pool.spawn(follow(), follower=True)  # answered during the grace period, then follows the render

    pool.spawn(work())
    closing = asyncio.create_task(pool.close())
    await asyncio.sleep(0)  # one loop turn: close() has begun
    answered.set()
    await asyncio.wait_for(closing, 5)


async def test_reads_writes_and_inbox_rows_at_once_never_find_the_database_locked(app: App) -> None:
    """The inbox writes on a connection of its own: the store's reads must not pin a stale snapshot."""
    await new_world(app)
    world_id = await app.service.world_id_for(PLACE) or ""

    async def read() -> None:
        for _ in range(60):
            await app.store.records(world_id)
            await app.store.world_for(PLACE.key())

    async def write(n: int) -> None:
        for i in range(30):
            await app.service.execute_text(f"/scene place{n}-{i}", ADA, PLACE)

    async def arrive(n: int) -> None:
        for i in range(30):
            await app.inbox.accept(entry(f"k-{n}-{i}", "/help"))

    await asyncio.gather(*(read() for _ in range(3)), *(write(n) for n in range(2)), *(arrive(n) for n in range(3)))
    assert len(await app.store.inbox.states("test")) == 1 + 90
