"""The seam between the queue and where batches render when that is not the engine's own thread.

The queue (engine/queue.py) keeps fairness, caps, batching, progress and cancel in the bot
process; a Backend only renders whole batches it is handed. `engine/ray_backend.py` is the
one implementation: each worker is a Ray actor. Jobs go out and PNG bytes come back as
plain data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from engine.jobs import Capabilities, RenderJob

# progress(job_id, step, total): a step reported back from a remote worker.
RemoteProgress = Callable[[str, int, int], None]


class WorkerLost(Exception):
    """The worker died before it returned the batch: nothing of it was delivered, retry it."""


class Backend(Protocol):
    """Renders whole batches on workers that the engine does not run itself."""

    name: str  # the renderer's name, as RenderResult.renderer reports it
    workers: int  # known after start(); the engine keeps at most 2 batches per worker in flight
    capabilities: Capabilities  # the loaded renderer's, known after start()

    async def start(self) -> None:
        """Connect and start the workers; each has loaded the renderer when this returns."""
        ...

    async def render(self, jobs: Sequence[RenderJob], progress: RemoteProgress) -> list[bytes]:
        """One PNG per job, in order.

        Raises WorkerLost (the worker died: requeue), RenderCancelled (every job asked to stop),
        an error whose message says "out of memory" (the queue splits the batch), or RenderFailed.
        """
        ...

    def cancel(self, job_ids: Iterable[str]) -> None:
        """Ask the workers to stop these jobs early; best effort, returns at once."""
        ...

    async def close(self) -> None:
        """Stop the workers (and the local Ray instance the backend started, if any)."""
        ...


class RemoteRenderer:
    """What the bot process sees of a renderer loaded on remote workers: name and capabilities.

    It has no count_tokens: prompt budgets then use the planner's estimate.
    """

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.name = backend.name

    @property
    def capabilities(self) -> Capabilities:
        return self._backend.capabilities

    def load(self) -> None:
        raise RuntimeError("this renderer runs on remote workers")

    def render(self, jobs: Sequence[RenderJob], progress: object) -> list[bytes]:
        raise RuntimeError("this renderer runs on remote workers")

    def close(self) -> None:
        pass
