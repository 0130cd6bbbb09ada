"""The engine queue dispatching to a Backend (a fake one in the test's loop: no Ray, no torch)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

import pytest

from engine.backend import RemoteProgress, WorkerLost
from engine.errors import RenderCancelled, RenderFailed
from engine.jobs import Capabilities, RenderJob
from engine.queue import MAX_WORKER_LOSSES, Engine
from tests.test_queue import TIMEOUT, rendering, wait_status


def job(job_id: str, user: str = "u", seed: int = 1) -> RenderJob:
    return RenderJob(job_id, "w", 0, user, f"panel {job_id}", "", seed, 64, 64, 3)


class FakeBackend:
    """Renders in the test's loop; batches wait on `gate`; workers die or run out of memory on cue."""

    name = "fake-remote"

    def __init__(self, workers: int = 2) -> None:
        self.workers = 0
        self._workers = workers
        self.capabilities = Capabilities()
        self.calls: list[list[tuple[str, int]]] = []  # (job id, seed) per batch, in dispatch order
        self.inflight = 0
        self.max_inflight = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.lose = 0  # the next this many batches die with their worker
        self.oom_above: int | None = None
        self.cancelled: set[str] = set()
        self.closed = False
        self.called = asyncio.Condition()

    async def start(self) -> None:
        self.workers = self._workers

    async def render(self, jobs: Sequence[RenderJob], progress: RemoteProgress) -> list[bytes]:
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            async with self.called:
                self.calls.append([(j.job_id, j.seed) for j in jobs])
                self.called.notify_all()
            for j in jobs:
                progress(j.job_id, 1, j.steps)
            await self.gate.wait()
            if self.lose:
                self.lose -= 1
                raise WorkerLost("the worker process was killed")
            if self.oom_above is not None and len(jobs) > self.oom_above:
                raise RuntimeError("out of memory on a worker: CUDA out of memory")
            return [f"png:{j.job_id}:{j.seed}".encode() for j in jobs]
        finally:
            self.inflight -= 1

    def cancel(self, job_ids: Iterable[str]) -> None:
        self.cancelled.update(job_ids)  # noted, not honoured: the queue must drop the result itself

    async def close(self) -> None:
        self.closed = True

    async def wait_calls(self, n: int) -> None:
        async with asyncio.timeout(TIMEOUT), self.called:
            await self.called.wait_for(lambda: len(self.calls) >= n)


def ids(calls: list[list[tuple[str, int]]]) -> list[list[str]]:
    return [[job_id for job_id, _ in batch] for batch in calls]


def test_an_engine_takes_a_renderer_or_a_backend() -> None:
    with pytest.raises(ValueError):
        Engine()
    with pytest.raises(ValueError):
        Engine(object(), backend=FakeBackend())  # type: ignore[arg-type]
    engine = Engine(backend=FakeBackend())
    assert engine.renderer.name == "fake-remote"


async def test_at_most_two_batches_per_worker_are_in_flight_and_users_take_turns() -> None:
    backend = FakeBackend(workers=2)
    backend.gate.clear()
    async with Engine(backend=backend, max_batch=1, per_user_cap=20) as engine:
        handles = [engine.submit(job(f"a{i}", "ann")) for i in range(6)]
        handles += [engine.submit(job(f"b{i}", "bob")) for i in range(2)]
        await backend.wait_calls(4)
        assert engine.queue_length() == 4  # the other four wait in the fair queue, not at the workers
        assert ids(backend.calls) == [["a0"], ["b0"], ["a1"], ["b1"]]
        backend.gate.set()
        results = [await h.result() for h in handles]
    assert [r.png for r in results] == [f"png:{h.job_id}:1".encode() for h in handles]
    assert backend.max_inflight == 4 and len(backend.calls) == 8
    assert backend.closed


async def test_a_lost_batch_is_requeued_with_the_same_jobs_and_completes_once() -> None:
    backend = FakeBackend(workers=1)
    backend.lose = 1
    async with Engine(backend=backend, max_batch=2, per_user_cap=20) as engine:
        handles = [engine.submit(job(f"j{i}", seed=100 + i)) for i in range(3)]
        results = [await h.result() for h in handles]
        assert engine.stats["worker_losses"] == 1
        assert engine.stats["images"] == 3  # nothing delivered twice
    assert [r.png for r in results] == [b"png:j0:100", b"png:j1:101", b"png:j2:102"]
    # The lost batch went back in line and out again: same jobs, same seeds.
    assert backend.calls == [[("j0", 100), ("j1", 101)], [("j2", 102)], [("j0", 100), ("j1", 101)]]
    assert all(h.status().state == "done" for h in handles)


async def test_a_job_whose_worker_keeps_dying_fails_instead_of_killing_more() -> None:
    backend = FakeBackend(workers=2)
    backend.lose = 1000
    async with Engine(backend=backend, max_batch=1) as engine:
        handle = engine.submit(job("poison"))
        with pytest.raises(RenderFailed, match="died"):
            await handle.result()
    assert len(backend.calls) == MAX_WORKER_LOSSES


async def test_cancel_a_queued_job_never_dispatches_and_a_running_one_drops_its_result() -> None:
    backend = FakeBackend(workers=1)
    backend.gate.clear()
    async with Engine(backend=backend, max_batch=1, per_user_cap=20) as engine:
        running, held, queued = (engine.submit(job(n)) for n in ("run", "held", "queued"))
        await wait_status(running, lambda s: s.step == 1)
        assert queued.cancel()
        with pytest.raises(RenderCancelled):
            await queued.result()
        assert running.cancel()
        assert "run" in backend.cancelled  # the worker is told, to stop early if it can
        backend.gate.set()
        with pytest.raises(RenderCancelled):
            await running.result()
        assert (await held.result()).png == b"png:held:1"
    assert ids(backend.calls) == [["run"], ["held"]]


async def test_out_of_memory_on_a_worker_splits_the_batch() -> None:
    backend = FakeBackend(workers=1)
    backend.oom_above = 1
    async with Engine(backend=backend, max_batch=4, per_user_cap=20) as engine:
        handles = [engine.submit(job(f"j{i}")) for i in range(4)]
        await asyncio.gather(*(h.result() for h in handles))
        assert engine.stats["oom_splits"] == 3
    assert [len(b) for b in backend.calls] == [4, 2, 1, 1, 2, 1, 1]


async def test_close_cancels_waiting_and_running_jobs_and_closes_the_backend() -> None:
    backend = FakeBackend(workers=1)
    backend.gate.clear()
    engine = Engine(backend=backend, max_batch=1, per_user_cap=20)
    await engine.start()
    handles = [engine.submit(job(f"j{i}")) for i in range(4)]
    await wait_status(handles[0], rendering)
    closing = asyncio.create_task(engine.close())
    for handle in handles[2:]:
        with pytest.raises(RenderCancelled):
            await handle.result()
    backend.gate.set()
    await asyncio.wait_for(closing, TIMEOUT)
    for handle in handles[:2]:
        with pytest.raises(RenderCancelled):
            await handle.result()
    assert backend.closed and {"j0", "j1"} <= backend.cancelled
    with pytest.raises(RuntimeError):
        engine.submit(job("late"))
