"""The engine queue against a fake in-test renderer (no torch)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence

import pytest

from engine.errors import QueueFull, RenderCancelled, RenderFailed, is_oom
from engine.jobs import JobStatus, Progress, RenderJob
from engine.queue import Engine, JobHandle

TIMEOUT = 10.0


def job(job_id: str, user: str = "u", *, width: int = 64, steps: int = 3) -> RenderJob:
    return RenderJob(
        job_id=job_id,
        world_id="w",
        panel=0,
        user=user,
        prompt=f"panel {job_id}",
        negative_prompt="",
        seed=1,
        width=width,
        height=64,
        steps=steps,
    )


class FakeRenderer:
    """Loops over steps calling progress, like a denoising loop; can block and fail on cue."""

    name = "fake"

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.threads: set[int] = set()
        self.loaded = False
        self.closed = False
        self.gate = threading.Event()
        self.gate.set()
        self.gate_jobs: set[str] = set()  # render() of a batch holding one of these waits on gate
        self.step_gate: dict[int, threading.Event] = {}  # wait before calling progress(step)
        self.step_gate_jobs: set[str] | None = None  # None: every batch waits at step_gate
        self.oom_above: int | None = None  # batches larger than this raise CUDA OOM
        self.fail_with: Exception | None = None
        self.entered = threading.Event()  # set when render() has been called

    def load(self) -> None:
        self.threads.add(threading.get_ident())
        self.loaded = True

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        self.threads.add(threading.get_ident())
        self.entered.set()
        self.batches.append([j.job_id for j in jobs])
        if self.gate_jobs & {j.job_id for j in jobs}:
            assert self.gate.wait(TIMEOUT)
        if self.fail_with is not None:
            raise self.fail_with
        if self.oom_above is not None and len(jobs) > self.oom_above:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        total = jobs[0].steps
        gated = self.step_gate_jobs is None or self.step_gate_jobs & {j.job_id for j in jobs}
        for step in range(1, total + 1):
            if gated and step in self.step_gate:
                assert self.step_gate[step].wait(TIMEOUT)
            wanted = [progress(j.job_id, step, total) for j in jobs]
            if not any(wanted):
                raise RenderCancelled()
        return [f"png:{j.job_id}".encode() for j in jobs]

    def close(self) -> None:
        self.threads.add(threading.get_ident())
        self.closed = True


async def wait_status(handle: JobHandle, pred: Callable[[JobStatus], bool]) -> JobStatus:
    async with asyncio.timeout(TIMEOUT):
        async for status in handle.updates():
            if pred(status):
                return status
    raise AssertionError(f"{handle.job_id} ended as {handle.status()} without matching")


def rendering(status: JobStatus) -> bool:
    return status.state == "rendering"


async def test_results_arrive_on_one_worker_thread() -> None:
    fake = FakeRenderer()
    async with Engine(fake) as engine:
        handles = [engine.submit(job(f"j{i}")) for i in range(3)]
        results = await asyncio.gather(*(h.result() for h in handles))
        assert [r.png for r in results] == [b"png:j0", b"png:j1", b"png:j2"]
        assert all(h.status().state == "done" for h in handles)
        assert engine.stats["images"] == 3
    assert fake.loaded and fake.closed
    assert len(fake.threads) == 1 and threading.get_ident() not in fake.threads
    assert engine._thread is not None and not engine._thread.is_alive()


async def test_batches_group_compatible_jobs_up_to_max_batch() -> None:
    fake = FakeRenderer()
    fake.gate.clear()
    fake.gate_jobs = {"hold"}
    async with Engine(fake, max_batch=3, per_user_cap=20) as engine:
        hold = engine.submit(job("hold", "z"))
        await wait_status(hold, rendering)
        handles = [engine.submit(job(f"a{i}", "a")) for i in range(5)]
        handles += [engine.submit(job(f"b{i}", "a", width=128)) for i in range(2)]
        fake.gate.set()
        await asyncio.gather(hold.result(), *(h.result() for h in handles))
    assert fake.batches[0] == ["hold"]
    assert fake.batches[1:] == [["a0", "a1", "a2"], ["a3", "a4"], ["b0", "b1"]]
    assert engine.stats["batches"] == 4 and engine.stats["max_batch_seen"] == 3


@pytest.mark.parametrize("b_width", [64, 128])
async def test_round_robin_serves_the_user_with_one_job_early(b_width: int) -> None:
    fake = FakeRenderer()
    fake.gate.clear()
    fake.gate_jobs = {"hold"}
    async with Engine(fake, max_batch=4, per_user_cap=20) as engine:
        hold = engine.submit(job("hold", "z"))
        await wait_status(hold, rendering)
        a = [engine.submit(job(f"a{i}", "alice")) for i in range(10)]
        b = engine.submit(job("b0", "bob", width=b_width))
        # Bob's position reflects the round-robin order, not submission order.
        status = await wait_status(b, lambda s: s.position < 10)
        assert status.position == (0 if b_width == 64 else 4)
        fake.gate.set()
        await asyncio.gather(hold.result(), b.result(), *(h.result() for h in a))
    batches = fake.batches[1:]
    assert any("b0" in batch for batch in batches[:2])
    if b_width == 64:  # compatible: bob shares alice's first batch
        assert batches[0] == ["a0", "b0", "a1", "a2"]
    else:  # incompatible: bob leads the next batch
        assert batches[1] == ["b0"]


async def test_caps_raise_queue_full() -> None:
    fake = FakeRenderer()
    fake.gate.clear()
    fake.gate_jobs = {"a0"}
    async with Engine(fake, per_user_cap=2, global_cap=3) as engine:
        engine.submit(job("a0", "alice"))
        engine.submit(job("a1", "alice"))
        with pytest.raises(QueueFull, match="you already have 2 panels waiting"):
            engine.submit(job("a2", "alice"))
        engine.submit(job("b0", "bob"))
        with pytest.raises(QueueFull, match=r"the queue is full \(3 jobs\)"):
            engine.submit(job("c0", "carol"))
        with pytest.raises(ValueError):
            engine.submit(job("b0", "bob"))
        fake.gate.set()


async def test_cancel_a_queued_job_removes_it_at_once() -> None:
    fake = FakeRenderer()
    fake.gate.clear()
    fake.gate_jobs = {"hold"}
    async with Engine(fake, max_batch=1) as engine:
        hold = engine.submit(job("hold"))
        await wait_status(hold, rendering)
        h1, h2 = engine.submit(job("j1")), engine.submit(job("j2"))
        await wait_status(h2, lambda s: s.position == 1)
        assert engine.queue_length() == 2
        assert h1.cancel() is True
        assert h1.cancel() is False
        assert engine.queue_length() == 1
        with pytest.raises(RenderCancelled):
            await h1.result()
        assert h1.status().state == "cancelled"
        await wait_status(h2, lambda s: s.position == 0)  # moved up
        fake.gate.set()
        await h2.result()
    assert all("j1" not in batch for batch in fake.batches)


async def test_cancel_a_rendering_job_mid_denoise() -> None:
    fake = FakeRenderer()
    fake.step_gate[2] = threading.Event()
    async with Engine(fake) as engine:
        handle = engine.submit(job("j", steps=10))
        seen = []
        async with asyncio.timeout(TIMEOUT):
            async for status in handle.updates():
                seen.append(status)
                if status.state == "rendering" and status.step == 1:
                    assert handle.cancel() is True
                    fake.step_gate[2].set()
        with pytest.raises(RenderCancelled):
            await handle.result()
    assert seen[-1].state == "cancelled" and seen[-1].step == 1
    assert max(s.step for s in seen) == 1
    assert engine.stats["images"] == 0 and engine.stats["cancelled"] == 1


async def test_cancel_one_job_of_a_batch_keeps_the_others() -> None:
    fake = FakeRenderer()
    fake.gate.clear()
    fake.gate_jobs = {"hold"}
    fake.step_gate[2] = threading.Event()
    fake.step_gate_jobs = {"keep"}
    async with Engine(fake) as engine:
        hold = engine.submit(job("hold", "z"))
        await wait_status(hold, rendering)
        keep, drop = engine.submit(job("keep")), engine.submit(job("drop"))
        fake.gate.set()
        await wait_status(drop, lambda s: s.step == 1)
        drop.cancel()
        fake.step_gate[2].set()
        assert (await keep.result()).png == b"png:keep"
        with pytest.raises(RenderCancelled):
            await drop.result()
        await hold.result()
    assert fake.batches[1] == ["keep", "drop"]


async def test_oom_splits_the_batch_and_retries() -> None:
    fake = FakeRenderer()
    fake.oom_above = 1
    fake.gate.clear()
    fake.gate_jobs = {"hold"}
    async with Engine(fake, max_batch=4) as engine:
        hold = engine.submit(job("hold", "z"))
        await wait_status(hold, rendering)
        handles = [engine.submit(job(f"j{i}")) for i in range(4)]
        fake.gate.set()
        results = await asyncio.gather(*(h.result() for h in handles))
        await hold.result()
    assert [r.png for r in results] == [f"png:j{i}".encode() for i in range(4)]
    assert fake.batches[1:] == [
        ["j0", "j1", "j2", "j3"],
        ["j0", "j1"],
        ["j0"],
        ["j1"],
        ["j2", "j3"],
        ["j2"],
        ["j3"],
    ]
    assert engine.stats["oom_splits"] == 3


async def test_single_job_oom_and_other_errors_fail_cleanly() -> None:
    fake = FakeRenderer()
    fake.oom_above = 0
    async with Engine(fake) as engine:
        with pytest.raises(RenderFailed, match="does not fit in GPU memory"):
            await engine.submit(job("big")).result()
        fake.fail_with = ValueError("bad tensor")
        handle = engine.submit(job("bad"))
        with pytest.raises(RenderFailed, match="bad tensor"):
            await handle.result()
        assert handle.status().state == "failed"
        fake.fail_with = None
        fake.oom_above = None
        assert (await engine.submit(job("ok")).result()).png == b"png:ok"  # still serving
    assert is_oom(MemoryError("CUDA out of memory")) and not is_oom(ValueError("x"))


async def test_close_cancels_waiting_jobs_and_joins_the_thread() -> None:
    fake = FakeRenderer()
    fake.gate.clear()
    fake.gate_jobs = {"running"}
    engine = Engine(fake, max_batch=1)
    await engine.start()
    running = engine.submit(job("running"))
    await wait_status(running, rendering)
    waiting = [engine.submit(job(f"w{i}")) for i in range(3)]
    closing = asyncio.create_task(engine.close())
    for handle in waiting:
        with pytest.raises(RenderCancelled):
            await handle.result()
    fake.gate.set()  # the running job sees progress() return False and stops
    await closing
    with pytest.raises(RenderCancelled):
        await running.result()
    assert engine._thread is not None and not engine._thread.is_alive()
    assert fake.closed
    await engine.close()  # idempotent
    with pytest.raises(RuntimeError):
        engine.submit(job("late"))


async def test_the_event_loop_keeps_running_while_the_renderer_blocks() -> None:
    fake = FakeRenderer()
    fake.gate.clear()
    fake.gate_jobs = {"slow"}
    async with Engine(fake) as engine:
        handle = engine.submit(job("slow"))
        await wait_status(handle, rendering)
        ticks = 0

        async def heartbeat() -> None:
            nonlocal ticks
            for _ in range(20):
                ticks += 1
                await asyncio.sleep(0)

        await asyncio.wait_for(heartbeat(), TIMEOUT)  # would hang if the loop ran the render
        assert ticks == 20 and not handle.status().final
        fake.gate.set()
        await handle.result()


async def test_load_failure_is_raised_by_start_and_leaves_no_thread() -> None:
    class Broken(FakeRenderer):
        def load(self) -> None:
            raise OSError("no weights here")

    engine = Engine(Broken())
    with pytest.raises(OSError, match="no weights"):
        await engine.start()
    assert engine._thread is not None and not engine._thread.is_alive()


async def test_a_crashed_worker_fails_every_job_instead_of_hanging(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeRenderer()
    fake.gate.clear()
    fake.gate_jobs = {"first"}
    engine = Engine(fake, max_batch=1)
    await engine.start()
    first = engine.submit(job("first"))
    assert await asyncio.to_thread(fake.entered.wait, TIMEOUT)  # inside render(), blocked on gate
    waiting = engine.submit(job("second"))

    def broken(*_: object) -> None:
        raise SystemError("worker bug")

    monkeypatch.setattr(engine, "_render", broken)  # the next batch, not the running one
    fake.gate.set()
    assert (await first.result()).png == b"png:first"
    with pytest.raises(RenderFailed, match="stopped working"):
        await waiting.result()
    with pytest.raises(RuntimeError):
        engine.submit(job("third"))
    await engine.close()
    assert fake.closed and engine._thread is not None and not engine._thread.is_alive()
