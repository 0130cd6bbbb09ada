"""What a caller holds for one submitted render job: its status, result, updates and cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from engine.jobs import JobStatus, RenderJob, RenderResult


class JobHandle:
    """What Engine.submit() returns: status, result, progress updates and cancel for one job."""

    def __init__(
        self,
        job: RenderJob,
        future: asyncio.Future[RenderResult],
        cancel: Callable[[JobHandle], bool],
        status: JobStatus,
    ) -> None:
        self.job_id = job.job_id
        self.job = job
        self._future = future
        self._cancel = cancel
        self._status = status
        self._listeners: list[asyncio.Queue[JobStatus]] = []

    def status(self) -> JobStatus:
        return self._status

    async def result(self) -> RenderResult:
        """The rendered image; raises RenderCancelled or RenderFailed."""
        # shield: a caller that stops waiting must not cancel the job for everyone else.
        return await asyncio.shield(self._future)

    def cancel(self) -> bool:
        """Cancel the job: removed at once when queued, interrupted mid-render when rendering."""
        return self._cancel(self)

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

    def set_status(self, status: JobStatus) -> None:
        """The engine's, on the loop thread: a change is passed on to every updates() reader."""
        if status == self._status or self._status.final:
            return
        self._status = status
        for queue in self._listeners:
            queue.put_nowait(status)
