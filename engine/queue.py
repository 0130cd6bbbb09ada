"""The render queue: one worker thread owns the renderer, the event loop only schedules.

The shape follows aiosqlite's core.py: callers enqueue work and get an awaitable, a single
thread runs the blocking resource (here the GPU pipelines), results come back through
`loop.call_soon_threadsafe`, and a stop flag (our sentinel) ends the thread. torch is never
imported here, so the queue works without the `diffusion` extra.

Errors (all in engine.errors)::

    LimitExceeded (engine.errors)
      QueueFull        submit() over the per-user or global cap
    RenderFailed       the renderer raised, or one image alone does not fit in GPU memory
    RenderCancelled    the job was cancelled or the engine closed
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Self

from engine.errors import QueueFull, RenderCancelled, RenderFailed, is_oom
from engine.jobs import JobStatus, Renderer, RenderJob, RenderResult

logger = logging.getLogger(__name__)

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


class JobHandle:
    """What submit() returns: status, result, progress updates and cancel for one job."""

    def __init__(self, engine: Engine, job: RenderJob) -> None:
        self.job_id = job.job_id
        self.job = job
        self._engine = engine
        self._entry: _Entry | None = None
        self._status = JobStatus("queued", 0, 0, job.steps)
        self._listeners: list[asyncio.Queue[JobStatus]] = []

    def status(self) -> JobStatus:
        return self._status

    async def result(self) -> RenderResult:
        """The rendered image; raises RenderCancelled or RenderFailed."""
        assert self._entry is not None
        # shield: a caller that stops waiting must not cancel the job for everyone else.
        return await asyncio.shield(self._entry.future)

    def cancel(self) -> bool:
        """Cancel the job: removed at once when queued, interrupted mid-denoise when rendering."""
        return self._engine._cancel(self)

    async def updates(self) -> AsyncIterator[JobStatus]:
        """Yield the current status, then every change; ends after the final state."""
        queue: asyncio.Queue[JobStatus] = asyncio.Queue()
        self._listeners.append(queue)
        try:
            status = self._status
            yield status
            while not status.final:
                status = await queue.get()
                yield status
        finally:
            self._listeners.remove(queue)

    def _set(self, status: JobStatus) -> None:
        """Loop thread only."""
        if status == self._status or self._status.final:
            return
        self._status = status
        for queue in self._listeners:
            queue.put_nowait(status)


class Engine:
    """Batches compatible jobs round-robin over users and renders them on one thread."""

    def __init__(
        self,
        renderer: Renderer,
        *,
        max_batch: int = 4,
        per_user_cap: int = 5,
        global_cap: int = 100,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.renderer = renderer
        self.max_batch = max_batch
        self.per_user_cap = per_user_cap
        self.global_cap = global_cap
        self.stats: dict[str, Any] = {
            "submitted": 0,
            "images": 0,
            "batches": 0,
            "failed": 0,
            "cancelled": 0,
            "oom_splits": 0,
            "busy_s": 0.0,
            "max_batch_seen": 0,
        }
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

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the worker thread and wait until it has loaded the renderer."""
        if self._thread is not None:
            raise RuntimeError("engine already started")
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
        if self._thread is not None:
            await self._join()

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
        handle = JobHandle(self, job)
        with self._cond:
            # A first guess (first come, first served); _refresh_positions corrects it.
            handle._status = JobStatus("queued", len(self._waiting), 0, job.steps)
        future: asyncio.Future[RenderResult] = self._loop.create_future()
        # Mark exceptions retrieved: nobody has to await a cancelled job's result.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._seq += 1
        entry = _Entry(job, self._seq, future, handle)
        handle._entry = entry
        self._active[job.job_id] = entry
        self.stats["submitted"] += 1
        with self._cond:
            self._waiting.append(entry)
            self._cond.notify()
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
        entry = handle._entry
        if entry is None or entry.future.done() or entry.cancelled:
            return False
        entry.cancelled = True
        with self._cond:
            queued = entry in self._waiting
            if queued:
                self._waiting.remove(entry)
        if queued:
            self._resolve(entry, RenderCancelled("cancelled"))
            self._schedule_refresh()
        return True

    # ------------------------------------------------------------ scheduling

    def _take_batch(self, waiting: list[_Entry], served: dict[str, int]) -> list[_Entry]:
        """The next batch: led by the user served least recently, filled round-robin."""
        if not waiting:
            return []
        lead = min(waiting, key=lambda e: (served.get(e.job.user, -1), e.seq))
        key = lead.job.batch_key()
        # Compatible jobs per user, oldest first; users in order of their oldest waiting job.
        per_user: dict[str, list[_Entry]] = {}
        for e in waiting:
            if e.job.batch_key() == key:
                per_user.setdefault(e.job.user, []).append(e)
        users = sorted(per_user, key=lambda u: (served.get(u, -1), per_user[u][0].seq))
        batch: list[_Entry] = []
        depth = 0
        while len(batch) < self.max_batch and len(batch) < sum(map(len, per_user.values())):
            for u in users:
                if depth < len(per_user[u]) and len(batch) < self.max_batch:
                    batch.append(per_user[u][depth])
            depth += 1
        return batch

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
        while waiting:
            batch = self._take_batch(waiting, served)
            tick += 1
            for e in batch:
                waiting.remove(e)
                served[e.job.user] = tick
            for e in batch:
                if not e.future.done():
                    e.handle._set(JobStatus("queued", ahead, 0, e.job.steps))
            ahead += len(batch)

    # ------------------------------------------------------------ worker thread

    def _run(self, loaded: asyncio.Future[None]) -> None:
        assert self._loop is not None and self._stopped is not None
        loop = self._loop
        try:
            self.renderer.load()
        except BaseException as exc:
            logger.exception("renderer %s failed to load", getattr(self.renderer, "name", "?"))
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
                    batch = self._take_batch(self._waiting, self._served)
                    self._tick += 1
                    for e in batch:
                        self._waiting.remove(e)
                        self._served[e.job.user] = self._tick
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
            loop.call_soon_threadsafe(entry.handle._set, JobStatus("rendering", 0, step, total))
            return True

        jobs = [e.job for e in batch]
        t0 = time.perf_counter()
        try:
            pngs = self.renderer.render(jobs, progress)
            if len(pngs) != len(jobs):
                raise RuntimeError(f"renderer returned {len(pngs)} images for {len(jobs)} jobs")
        except RenderCancelled:
            self._account(t0, 0)
            self._after_interrupt(batch)
            return
        except Exception as exc:
            self._account(t0, 0)
            if is_oom(exc) and len(batch) > 1:
                logger.warning("out of memory with a batch of %d; splitting it", len(batch))
                self.stats["oom_splits"] += 1
                half = len(batch) // 2
                self._render(batch[:half])
                self._render(batch[half:])
                return
            if is_oom(exc):
                logger.warning("job %s does not fit in memory alone: %s", batch[0].job.job_id, exc)
                error = RenderFailed("this image does not fit in GPU memory even alone; try a smaller size")
            else:
                logger.exception("renderer %s failed on %d jobs", self.renderer.name, len(batch))
                error = RenderFailed(f"the renderer failed: {type(exc).__name__}: {exc}"[:300])
            for e in batch:
                self._post(e, error)
            return
        seconds = self._account(t0, len(batch))
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
        if requeue:
            with self._cond:
                self._waiting.extend(requeue)
                self._waiting.sort(key=lambda e: e.seq)
                self._cond.notify()
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._schedule_refresh)

    def _post(self, entry: _Entry, outcome: RenderResult | BaseException) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._resolve, entry, outcome)

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
                e.handle._set(JobStatus("rendering", 0, 0, e.job.steps))
        self._schedule_refresh()

    def _resolve(self, entry: _Entry, outcome: RenderResult | BaseException) -> None:
        """Loop thread: settle the future and the final status of one job."""
        self._active.pop(entry.job.job_id, None)
        if entry.future.done():
            return
        steps = entry.job.steps
        if isinstance(outcome, RenderResult):
            entry.future.set_result(outcome)
            entry.handle._set(JobStatus("done", 0, steps, steps))
            return
        state = "cancelled" if isinstance(outcome, RenderCancelled) else "failed"
        self.stats[state] += 1
        entry.future.set_exception(outcome)
        entry.handle._set(JobStatus(state, 0, entry.handle._status.step, steps))


def _set_result(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
