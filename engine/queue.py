"""The render queue: one worker thread owns the renderer, the event loop only schedules.

The shape follows aiosqlite's core.py: callers enqueue work and get an awaitable, a single
thread runs the blocking resource (here the GPU pipelines), results come back through
`loop.call_soon_threadsafe`, and a stop flag (our sentinel) ends the thread. torch is never
imported here, so the queue works without the `diffusion` extra.

With a Backend (engine/backend.py: Ray actors) a dispatcher task on the loop replaces the
thread and hands batches to the workers, at most 2 per worker in flight. Fairness, caps,
batching, progress, cancel and the out-of-memory split stay here; a batch whose worker died
goes back in line with the same seeds (at most MAX_WORKER_LOSSES times).

Errors (engine.errors): QueueFull from submit() over the per-user or global cap; from
result(), RenderFailed (the renderer raised, or one image alone does not fit in memory) and
RenderCancelled (the job was cancelled or the engine closed).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

from engine.backend import Backend, RemoteRenderer, WorkerLost
from engine.errors import QueueFull, RenderCancelled, RenderFailed, is_oom
from engine.fairness import batches_in_order, take_batch
from engine.handles import JobHandle
from engine.jobs import JobStatus, Renderer, RenderJob, RenderResult

logger = logging.getLogger(__name__)

MAX_WORKER_LOSSES = 3  # a job whose worker died this often fails instead of killing more workers


@dataclass(eq=False)
class _Entry:
    """A submitted job: what the worker and the loop share about it."""

    job: RenderJob
    seq: int
    future: asyncio.Future[RenderResult]
    handle: JobHandle
    # Set from the loop, read by the worker through progress(): a plain bool is enough
    # under the GIL and needs no lock on the hot path.
    cancelled: bool = False
    losses: int = 0  # times a remote worker died while this job was in its batch


class Engine:
    """Batches compatible jobs round-robin over users; renders them on one thread or a Backend."""

    def __init__(
        self,
        renderer: Renderer | None = None,
        *,
        max_batch: int = 4,
        per_user_cap: int = 5,
        global_cap: int = 100,
        backend: Backend | None = None,
    ) -> None:
        """Give a renderer (rendered on the engine's thread) or a backend (rendered on its workers)."""
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if (renderer is None) == (backend is None):
            raise ValueError("give the engine a renderer or a backend, not both")
        self.renderer: Renderer = renderer if renderer is not None else RemoteRenderer(backend)  # type: ignore[arg-type]
        self.backend = backend
        self.max_batch = max_batch
        self.per_user_cap = per_user_cap
        self.global_cap = global_cap
        counters = ("submitted", "images", "batches", "failed", "cancelled", "oom_splits", "max_batch_seen")
        self.stats: dict[str, Any] = {**dict.fromkeys(counters, 0), "busy_s": 0.0, "worker_losses": 0}
        # Shared with the worker, guarded by _cond: waiting entries in submission order, the
        # round-robin clock per user, and the stop flag.
        self._cond = threading.Condition()
        self._waiting: list[_Entry] = []
        self._served: dict[str, int] = {}
        self._tick = 0
        self._stopping = False
        # Loop thread only: every entry not yet final, by job id.
        self._active: dict[str, _Entry] = {}
        self._seq = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Future[None] | None = None
        self._refresh_pending = False
        self._closed = False
        self._broken = False  # the worker died; close() still joins it
        # Backend mode, loop thread only: the dispatcher, its wake-up and the batches in flight.
        self._dispatcher: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._inflight: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the worker thread (or the backend) and wait until the renderer is loaded."""
        if self._thread is not None or self._loop is not None:
            raise RuntimeError("engine already started")
        if self.backend is not None:
            await self.backend.start()
            self._loop = asyncio.get_running_loop()
            self._wakeup = asyncio.Event()
            self._dispatcher = self._loop.create_task(self._dispatch(), name="worldloom-dispatch")
            return
        self._loop = asyncio.get_running_loop()
        loaded: asyncio.Future[None] = self._loop.create_future()
        self._stopped = self._loop.create_future()
        # daemon: a process that forgets close() must still be able to exit.
        self._thread = threading.Thread(target=self._run, args=(loaded,), name="worldloom-render", daemon=True)
        self._thread.start()
        try:
            await loaded
        except BaseException:
            await self._join()
            raise

    async def close(self) -> None:
        """Cancel what waits, interrupt what renders, stop and join the thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with self._cond:
            self._stopping = True
            dropped, self._waiting = self._waiting, []
            self._cond.notify_all()
        for entry in dropped:
            self._resolve(entry, RenderCancelled("the engine is shutting down"))
        for entry in self._active.values():
            entry.cancelled = True  # the progress callback now asks the renderer to stop
        if self.backend is not None:
            self.backend.cancel(list(self._active))  # remote workers hear it through the backend
        if self._thread is not None:
            await self._join()
        if self.backend is not None and self._dispatcher is not None:
            self._kick()
            await self._dispatcher
            if self._inflight:  # told to stop above; one that is restarting cannot hear it: wait 30 s at most
                await asyncio.wait(set(self._inflight), timeout=30)
            await self.backend.close()
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _join(self) -> None:
        assert self._thread is not None and self._stopped is not None
        # The worker resolves _stopped as its last act, so join() below returns at once
        # and the loop is never blocked waiting for a render to end.
        await self._stopped
        self._thread.join()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------ submitting

    def check_room(self, user: str) -> None:
        """Raises QueueFull when `user` may not queue another job now (checked before anything is stored)."""
        if len(self._active) >= self.global_cap:
            raise QueueFull(f"the queue is full ({len(self._active)} jobs); try again in a minute")
        mine = sum(1 for e in self._active.values() if e.job.user == user)
        if mine >= self.per_user_cap:
            raise QueueFull(f"you already have {mine} panels waiting")

    def submit(self, job: RenderJob, *, stored: bool = False) -> JobHandle:
        """Queue a job without blocking; raises QueueFull over the caps.

        `stored`: the job is already in the database (room was checked before storing it, or it
        is being recovered after a restart), so it must run whatever the caps say now.
        """
        if self._loop is None or self._closed or self._broken:
            raise RuntimeError("the engine is not running")
        if job.job_id in self._active:
            raise ValueError(f"job {job.job_id!r} is already queued")
        if not stored:
            self.check_room(job.user)
        future: asyncio.Future[RenderResult] = self._loop.create_future()
        # Mark exceptions retrieved: nobody has to await a cancelled job's result.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        with self._cond:
            # A first guess (first come, first served); _refresh_positions corrects it.
            first = JobStatus("queued", len(self._waiting), 0, job.steps)
        handle = JobHandle(job, future, self._cancel, first)
        self._seq += 1
        entry = _Entry(job, self._seq, future, handle)
        self._active[job.job_id] = entry
        self.stats["submitted"] += 1
        with self._cond:
            self._waiting.append(entry)
            self._cond.notify()
        self._kick()
        self._schedule_refresh()
        return handle

    def alive(self) -> bool:
        """True while the worker thread runs and takes jobs (health checks)."""
        return self._thread is not None and self._thread.is_alive() and not (self._broken or self._closed)

    def queue_length(self) -> int:
        """Jobs waiting, not counting those rendering."""
        with self._cond:
            return len(self._waiting)

    def _cancel(self, handle: JobHandle) -> bool:
        entry = self._active.get(handle.job_id)
        if entry is None or entry.handle is not handle or entry.future.done() or entry.cancelled:
            return False
        entry.cancelled = True
        with self._cond:
            queued = entry in self._waiting
            if queued:
                self._waiting.remove(entry)
        if queued:
            self._resolve(entry, RenderCancelled("cancelled"))
            self._schedule_refresh()
        elif self.backend is not None:
            self.backend.cancel([entry.job.job_id])
        return True

    # ------------------------------------------------------------ scheduling

    def _schedule_refresh(self) -> None:
        """Recompute queue positions once per loop iteration, however many changes."""
        if self._refresh_pending or self._loop is None:
            return
        self._refresh_pending = True
        self._loop.call_soon(self._refresh_positions)

    def _refresh_positions(self) -> None:
        self._refresh_pending = False
        with self._cond:
            waiting = list(self._waiting)
            served = dict(self._served)
            tick = self._tick
        # Simulate the scheduler on a copy so positions match the order jobs will run in.
        ahead = 0
        for batch in batches_in_order(waiting, served, tick, self.max_batch):
            for e in batch:
                if not e.future.done():
                    e.handle.set_status(JobStatus("queued", ahead, 0, e.job.steps))
            ahead += len(batch)

    # ------------------------------------------------------------ worker thread

    def _run(self, loaded: asyncio.Future[None]) -> None:
        assert self._loop is not None and self._stopped is not None
        loop = self._loop
        try:
            self.renderer.load()
        except BaseException as exc:
            # start() raises it to whoever started the engine: they report it (once)
            logger.debug("renderer %s failed to load", getattr(self.renderer, "name", "?"), exc_info=True)
            loop.call_soon_threadsafe(_set_exception, loaded, exc)
            loop.call_soon_threadsafe(_set_result, self._stopped, None)
            return
        loop.call_soon_threadsafe(_set_result, loaded, None)
        try:
            while True:
                with self._cond:
                    while not self._waiting and not self._stopping:
                        self._cond.wait()
                    if self._stopping:
                        break
                    batch = self._next_batch()
                loop.call_soon_threadsafe(self._on_started, batch)
                self._render(batch)
        except BaseException:
            logger.exception("render worker crashed")
            loop.call_soon_threadsafe(self._fail_all, RenderFailed("the renderer stopped working; try again later"))
        finally:
            try:
                self.renderer.close()
            except Exception:
                logger.exception("renderer %s failed to close", self.renderer.name)
            loop.call_soon_threadsafe(_set_result, self._stopped, None)

    def _next_batch(self) -> list[_Entry]:
        """Take the next fair batch out of the line; the caller holds _cond."""
        batch = take_batch(self._waiting, self._served, self.max_batch)
        self._tick += 1
        for e in batch:
            self._waiting.remove(e)
            self._served[e.job.user] = self._tick
        return batch

    def _render(self, batch: list[_Entry]) -> None:
        """Render one batch on the worker thread, splitting it in halves on out-of-memory."""
        by_id = {e.job.job_id: e for e in batch}
        loop = self._loop
        assert loop is not None

        def progress(job_id: str, step: int, total: int) -> bool:
            entry = by_id.get(job_id)
            if entry is None:
                return True
            if entry.cancelled or self._stopping:
                return False
            loop.call_soon_threadsafe(entry.handle.set_status, JobStatus("rendering", 0, step, total))
            return True

        jobs = [e.job for e in batch]
        t0 = time.perf_counter()
        try:
            outcome: list[bytes] | Exception = self.renderer.render(jobs, progress)
        except Exception as exc:
            outcome = exc
        for half in self._settle(batch, t0, outcome):
            self._render(half)

    def _settle(self, batch: list[_Entry], t0: float, outcome: list[bytes] | Exception) -> list[list[_Entry]]:
        """Settle a batch's jobs from its outcome; returns the halves to render after out-of-memory."""
        if isinstance(outcome, list) and len(outcome) != len(batch):
            outcome = RuntimeError(f"the renderer returned {len(outcome)} images for {len(batch)} jobs")
        if isinstance(outcome, list):
            self._deliver(batch, outcome, self._account(t0, len(batch)))
            return []
        self._account(t0, 0)
        if isinstance(outcome, WorkerLost):
            self._after_loss(batch, outcome)
        elif isinstance(outcome, RenderCancelled):
            self._after_interrupt(batch)
        elif is_oom(outcome) and len(batch) > 1:
            logger.warning("out of memory with a batch of %d; splitting it", len(batch))
            self.stats["oom_splits"] += 1
            return [batch[: len(batch) // 2], batch[len(batch) // 2 :]]
        else:
            self._fail(batch, outcome)
        return []

    def _fail(self, batch: list[_Entry], exc: Exception) -> None:
        if is_oom(exc):
            logger.warning("job %s does not fit in memory alone: %s", batch[0].job.job_id, exc)
            error = RenderFailed("this image does not fit in GPU memory even alone; try a smaller size")
        elif isinstance(exc, RenderFailed):
            logger.warning("renderer %s failed on %d jobs: %s", self.renderer.name, len(batch), exc)
            error = exc
        else:
            logger.exception("renderer %s failed on %d jobs", self.renderer.name, len(batch), exc_info=exc)
            error = RenderFailed(f"the renderer failed: {type(exc).__name__}: {exc}"[:300])
        for e in batch:
            self._post(e, error)

    def _deliver(self, batch: list[_Entry], pngs: list[bytes], seconds: float) -> None:
        """Results of a finished batch; a job cancelled meanwhile gets its cancel, not the image."""
        for e, png in zip(batch, pngs, strict=True):
            if e.cancelled:
                self._post(e, RenderCancelled("cancelled"))
            else:
                self._post(e, RenderResult(e.job.job_id, png, self.renderer.name, seconds))

    def _account(self, t0: float, images: int) -> float:
        seconds = time.perf_counter() - t0
        self.stats["busy_s"] += seconds
        if images:
            self.stats["images"] += images
            self.stats["batches"] += 1
            self.stats["max_batch_seen"] = max(self.stats["max_batch_seen"], images)
        return seconds

    def _after_interrupt(self, batch: list[_Entry]) -> None:
        """Cancelled jobs end; batch mates that did not ask to stop go back in line."""
        requeue = [e for e in batch if not e.cancelled and not self._stopping]
        for e in batch:
            if e not in requeue:
                self._post(e, RenderCancelled("cancelled"))
        self._requeue(requeue)

    def _requeue(self, entries: list[_Entry]) -> None:
        """Back in line by submission order, the jobs (and so the seeds) unchanged."""
        if not entries:
            return
        with self._cond:
            self._waiting.extend(entries)
            self._waiting.sort(key=lambda e: e.seq)
            self._cond.notify()
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._schedule_refresh)
        self._loop.call_soon_threadsafe(self._kick)

    def _post(self, entry: _Entry, outcome: RenderResult | BaseException) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._resolve, entry, outcome)

    # ------------------------------------------------------------ backend dispatch (loop thread)

    def _kick(self) -> None:
        """Wake the dispatcher (backend mode; loop thread only)."""
        if self._wakeup is not None:
            self._wakeup.set()

    async def _dispatch(self) -> None:
        """Hand fair batches to the backend while fewer than 2 per worker are in flight."""
        assert self.backend is not None and self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while len(self._inflight) < 2 * max(1, self.backend.workers):
                with self._cond:
                    if self._stopping:
                        return
                    batch = self._next_batch()
                if not batch:
                    break
                self._on_started(batch)
                task = asyncio.create_task(self._render_remote(batch))
                self._inflight.add(task)
                task.add_done_callback(self._batch_done)

    def _batch_done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("dispatching a batch crashed", exc_info=task.exception())
        self._kick()

    async def _render_remote(self, batch: list[_Entry]) -> None:
        """Render one batch on the backend, splitting it in halves on out-of-memory."""
        assert self.backend is not None
        by_id = {e.job.job_id: e for e in batch}

        def progress(job_id: str, step: int, total: int) -> None:
            entry = by_id.get(job_id)
            if entry is not None and not entry.cancelled:
                entry.handle.set_status(JobStatus("rendering", 0, step, total))

        t0 = time.perf_counter()
        try:
            outcome: list[bytes] | Exception = await self.backend.render([e.job for e in batch], progress)
        except Exception as exc:
            outcome = exc
        for half in self._settle(batch, t0, outcome):
            await self._render_remote(half)

    def _after_loss(self, batch: list[_Entry], exc: WorkerLost) -> None:
        """The worker died with the batch: nothing came back, so every job goes back in line."""
        logger.warning("a render worker died with a batch of %d: %s", len(batch), exc)
        self.stats["worker_losses"] += 1
        retry = []
        for e in batch:
            e.losses += 1
            if e.cancelled or self._stopping:
                self._post(e, RenderCancelled("cancelled"))
            elif e.losses >= MAX_WORKER_LOSSES:
                self._post(e, RenderFailed(f"a render worker died {e.losses} times on this panel; try another"))
            else:
                retry.append(e)
        self._requeue(retry)

    # ------------------------------------------------------------ loop thread callbacks

    def _fail_all(self, error: RenderFailed) -> None:
        """The worker died: settle every job so nobody waits forever, and take no more."""
        self._broken = True
        with self._cond:
            self._stopping = True
            self._waiting.clear()
        for entry in list(self._active.values()):
            self._resolve(entry, error)

    def _on_started(self, batch: Sequence[_Entry]) -> None:
        for e in batch:
            if not e.future.done():
                e.handle.set_status(JobStatus("rendering", 0, 0, e.job.steps))
        self._schedule_refresh()

    def _resolve(self, entry: _Entry, outcome: RenderResult | BaseException) -> None:
        """Loop thread: settle the future and the final status of one job."""
        self._active.pop(entry.job.job_id, None)
        if entry.future.done():
            return
        steps = entry.job.steps
        if isinstance(outcome, RenderResult):
            entry.future.set_result(outcome)
            entry.handle.set_status(JobStatus("done", 0, steps, steps))
            return
        state = "cancelled" if isinstance(outcome, RenderCancelled) else "failed"
        self.stats[state] += 1
        entry.future.set_exception(outcome)
        entry.handle.set_status(JobStatus(state, 0, entry.handle.status().step, steps))


def _set_result(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
