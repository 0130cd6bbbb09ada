"""One render worker on a Ray actor: loads the configured renderer once, renders whole batches.

A plain class, made an actor by engine/ray_backend.py, so this module imports no Ray. It is an
async actor: `render` streams ("progress", job_id, step, total) items and ends with one
outcome, while `cancel` runs between them. Batches render one at a time on one thread that
owns the renderer, the same way the engine's own worker thread does. Outcomes are plain data:

    ("done", [png bytes, ...])     one PNG per job, in order
    ("cancelled",)                 every job of the batch asked to stop
    ("error", oom, message)        the renderer raised; oom: out of memory (the queue splits)

Reference images come with the batch as {path on the bot's disk: (sha256, bytes or an
ObjectRef to them)} and are written once per content to a folder on this node, so a worker
needs no shared disk with the bot.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.errors import RenderCancelled, is_oom
from engine.jobs import RenderJob
from engine.renderers.registry import make_renderer

logger = logging.getLogger(__name__)

# {path on the bot's disk: (sha256 hex, the bytes or an awaitable of them)}
Images = Mapping[str, tuple[str, Any]]


class RenderWorker:
    """Renders batches with one loaded renderer; made a Ray actor by RayBackend."""

    def __init__(self, renderer: str, settings: Mapping[str, Any], progress_interval_s: float = 0.2) -> None:
        self.renderer = make_renderer(renderer, dict(settings))
        self.renderer.load()
        self.progress_interval_s = progress_interval_s
        # One thread owns the renderer (CUDA state and torch's thread settings stay put).
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="worldloom-render")
        self._lock: asyncio.Lock | None = None  # made on the actor's loop, in render()
        self._accepted: set[str] = set()  # job ids of the batches this worker holds
        self._cancelled: set[str] = set()
        self._refs = Path(tempfile.mkdtemp(prefix="worldloom-refs-"))

    def info(self) -> dict[str, Any]:
        """What the bot learns once the renderer has loaded (also a liveness probe)."""
        return {
            "name": self.renderer.name,
            "capabilities": self.renderer.capabilities,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "cpu_s": time.process_time(),  # this process's CPU seconds so far (benchmarks)
        }

    def cancel(self, job_ids: Sequence[str]) -> None:
        """The renderer's progress callback asks it to stop these jobs at the next step."""
        self._cancelled.update(j for j in job_ids if j in self._accepted)

    async def render(self, jobs: Sequence[RenderJob], images: Images) -> AsyncIterator[tuple[Any, ...]]:
        """Stream progress items, then the batch's outcome."""
        ids = [j.job_id for j in jobs]
        self._accepted.update(ids)
        if self._lock is None:
            self._lock = asyncio.Lock()
        try:
            # Taken first: batches render in the order they arrive (the lock is first come,
            # first served), whatever their reference images take to arrive.
            async with self._lock:
                local = await self._localise(jobs, images) if images else list(jobs)
                async for item in self._run(local):
                    yield item
        finally:
            self._accepted.difference_update(ids)
            self._cancelled.difference_update(ids)

    async def _run(self, jobs: list[RenderJob]) -> AsyncIterator[tuple[Any, ...]]:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        last: dict[str, float] = {}

        def progress(job_id: str, step: int, total: int) -> bool:  # on the render thread
            if job_id in self._cancelled:
                return False
            now = time.monotonic()
            if now - last.get(job_id, -1e9) >= self.progress_interval_s:
                last[job_id] = now
                loop.call_soon_threadsafe(events.put_nowait, ("progress", job_id, step, total))
            return True

        done = loop.run_in_executor(self._pool, self._render_sync, jobs, progress)
        while not done.done():
            event = asyncio.ensure_future(events.get())
            await asyncio.wait({done, event}, return_when=asyncio.FIRST_COMPLETED)
            if event.done():
                yield event.result()
            else:
                event.cancel()
        yield done.result()

    def _render_sync(self, jobs: list[RenderJob], progress: Any) -> tuple[Any, ...]:
        try:
            pngs = self.renderer.render(jobs, progress)
        except RenderCancelled:
            return ("cancelled",)
        except Exception as exc:
            if not is_oom(exc):
                logger.exception("renderer %s failed on %d jobs", self.renderer.name, len(jobs))
            return ("error", is_oom(exc), f"{type(exc).__name__}: {exc}"[:500])
        return ("done", list(pngs))

    async def _localise(self, jobs: Sequence[RenderJob], images: Images) -> list[RenderJob]:
        """The jobs with their reference paths pointing at copies on this node."""
        paths = {path: self._refs / f"{digest}{Path(path).suffix.lower()}" for path, (digest, _) in images.items()}
        missing = await asyncio.to_thread(lambda: [p for p, target in paths.items() if not target.exists()])
        contents = {p: images[p][1] if isinstance(images[p][1], bytes) else await images[p][1] for p in missing}
        await asyncio.to_thread(_write_all, {paths[p]: data for p, data in contents.items()})
        return [
            replace(j, references=tuple(replace(r, path=str(paths.get(r.path, r.path))) for r in j.references))
            if j.references
            else j
            for j in jobs
        ]

    def close(self) -> None:
        self.renderer.close()
        self._pool.shutdown(wait=False)
        shutil.rmtree(self._refs, ignore_errors=True)


def _write_all(files: Mapping[Path, bytes]) -> None:
    for target, data in files.items():
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)  # whole or absent: a reader never sees half a file
