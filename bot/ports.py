"""What the service needs from storage and from the render queue, as protocols.

The real ones are bot.store.Store (SQLite) and engine.queue.Engine (a worker thread); the
service tests use the in-memory fakes in tests/fakes.py, which fit the same shapes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from engine.events import Event, Record
from engine.jobs import JobStatus, RenderJob, RenderResult

Binding = tuple[str, str, str, str]  # (platform, workspace, channel, thread)
JobRowData = tuple[str, int, int, dict[str, Any], dict[str, Any]]  # (id, panel, take, spec, place)
# Run inside the transaction that appends (given the store's connection); raising rolls it all back.
Charge = Callable[[Any], Awaitable[None]]


class JobRecord(Protocol):
    """A stored render job (bot.store.JobRow)."""

    id: str
    world_id: str
    panel: int
    take: int
    state: str
    spec: dict[str, Any]
    place: dict[str, Any]
    author: str
    image: str | None
    message_id: str | None
    error: str | None


class WorldStore(Protocol):
    # worlds and bindings
    async def world_for(self, binding: Binding) -> str | None: ...
    async def world_info(self, world_id: str) -> dict[str, Any] | None: ...
    async def threads_in_channel(self, platform: str, workspace: str, channel: str) -> list[tuple[str, str]]: ...
    async def create_world(self, world_id: str, title: str, author: str, events: list[Event],
                           binding: Binding | None = None, branched_from: str | None = None,
                           author_id: str = "") -> list[Record]: ...
    async def import_world(self, world_id: str, title: str, author: str, records: list[Record],
                           binding: Binding | None = None, branched_from: str | None = None,
                           author_id: str = "", panels: Mapping[int, str] | None = None) -> None: ...

    # the event log
    async def records(self, world_id: str) -> list[Record]: ...
    async def append(self, world_id: str, author: str, events: list[Event], job: JobRowData | None = None,
                     author_id: str = "", group: int | None = None, charge: Charge | None = None) -> list[Record]: ...

    # jobs and panels
    async def job(self, job_id: str) -> JobRecord | None: ...
    async def jobs_in_state(self, *states: str) -> list[Any]: ...
    async def set_job_state(self, job_id: str, state: str, error: str | None = None) -> None: ...
    async def job_rendered(self, job_id: str, image: str) -> None: ...
    async def job_posted(self, job_id: str, message_id: str) -> None: ...
    async def panel_images(self, world_id: str) -> dict[int, str]: ...
    async def panel_takes(self, world_id: str) -> dict[tuple[int, int], JobRecord]: ...

    # image blobs
    def blob_path(self, sha: str) -> Path: ...
    async def put_blob(self, data: bytes, content_type: str = "image/png") -> str: ...
    async def get_blob(self, sha: str) -> bytes: ...


class RenderHandle(Protocol):
    """One submitted job (engine.queue.JobHandle)."""

    job_id: str

    def status(self) -> JobStatus: ...
    async def result(self) -> RenderResult: ...
    def cancel(self) -> bool: ...
    def updates(self) -> AsyncIterator[JobStatus]: ...


class RenderQueue(Protocol):
    def check_room(self, user: str) -> None: ...
    def submit(self, job: RenderJob, *, stored: bool = False) -> RenderHandle: ...
