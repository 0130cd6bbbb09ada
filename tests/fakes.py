"""Fakes shared by the service, console and platform tests."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.context import Delivery, Place
from engine.errors import QueueFull, RenderCancelled
from engine.events import Event, Record
from engine.jobs import Capabilities, JobStatus, Progress, RenderJob, RenderResult
from engine.renderers.storyboard.renderer import SketchRenderer


class GatedRenderer:
    """The sketch renderer behind a gate: renders only while `gate` is set (tests hold the queue busy)."""

    name = "sketch"
    capabilities = SketchRenderer.capabilities

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.rendered: list[str] = []
        self._inner = SketchRenderer()

    def load(self) -> None:
        self._inner.load()

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        self.started.set()
        while not self.gate.wait(0.05):
            if not all(progress(j.job_id, 0, 1) for j in jobs):
                raise RenderCancelled("cancelled while waiting at the gate")
        out = self._inner.render(jobs, progress)
        self.rendered.extend(j.job_id for j in jobs)
        return out

    def close(self) -> None:
        self.gate.set()


@dataclass
class RecordingOutlet:
    """An Outlet that keeps what it was asked to post."""

    delivered: list[Delivery] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)

    async def deliver(self, d: Delivery) -> str:
        self.delivered.append(d)
        return f"msg-{d.job_id}"

    async def failed(self, place: Place, job_id: str, panel: int, error: str) -> None:
        self.failures.append((job_id, error))


class ImageReadingSketch(SketchRenderer):
    """The storyboard renderer claiming to read reference images, as diffusion renderers do."""

    capabilities = Capabilities(reads_images=True)


# ---------------------------------------------------------------- the service's ports, in memory


@dataclass
class MemoryJob:
    id: str
    world_id: str
    panel: int
    take: int
    state: str
    spec: dict[str, Any]
    place: dict[str, Any]
    author: str
    image: str | None = None
    message_id: str | None = None
    error: str | None = None


class MemoryStore:
    """bot.ports.WorldStore in dictionaries: the service's behaviour without SQLite."""

    def __init__(self, blob_dir: Path = Path("/nonexistent/blobs")) -> None:
        self.blob_dir = blob_dir
        self.worlds: dict[str, dict[str, Any]] = {}
        self.bindings: dict[tuple[str, str, str, str], str] = {}
        self.events: dict[str, list[Record]] = {}
        self.jobs: dict[str, MemoryJob] = {}
        self.panels: dict[tuple[str, int, int], str] = {}  # (world, panel, take) -> job id
        self.blobs: dict[str, bytes] = {}

    async def world_for(self, binding: tuple[str, str, str, str]) -> str | None:
        return self.bindings.get(binding)

    async def world_info(self, world_id: str) -> dict[str, Any] | None:
        return self.worlds.get(world_id)

    async def threads_in_channel(self, platform: str, workspace: str, channel: str) -> list[tuple[str, str]]:
        return [(b[3], w) for b, w in self.bindings.items() if b[:3] == (platform, workspace, channel) and b[3]]

    async def create_world(self, world_id: str, title: str, author: str, events: list[Event],
                           binding: tuple[str, str, str, str] | None = None, branched_from: str | None = None,
                           author_id: str = "") -> list[Record]:
        self._world(world_id, title, author_id, binding)
        return await self.append(world_id, author, events, author_id=author_id)

    async def import_world(self, world_id: str, title: str, author: str, records: list[Record],
                           binding: tuple[str, str, str, str] | None = None, branched_from: str | None = None,
                           author_id: str = "", panels: Mapping[int, str] | None = None) -> None:
        self._world(world_id, title, author_id, binding)
        self.events[world_id] = list(records)
        for panel, image in (panels or {}).items():
            job_id = f"{world_id}:import:{panel}"
            self.jobs[job_id] = MemoryJob(job_id, world_id, panel, 0, "posted", {"imported": True}, {}, author,
                                          image=image)
            self.panels[(world_id, panel, 0)] = job_id

    def _world(self, world_id: str, title: str, author_id: str, binding: tuple[str, str, str, str] | None) -> None:
        self.worlds[world_id] = {"id": world_id, "title": title, "creator_id": author_id}
        self.events[world_id] = []
        if binding is not None:
            self.bindings[binding] = world_id

    async def records(self, world_id: str) -> list[Record]:
        return list(self.events.get(world_id, []))

    async def append(self, world_id: str, author: str, events: list[Event], job: tuple[Any, ...] | None = None,
                     author_id: str = "", group: int | None = None, charge: Any = None) -> list[Record]:
        if charge is not None:
            await charge(None)
        log = self.events[world_id]
        seq = len(log)
        group = group or max([seq, *(r.group for r in log)]) + 1
        new = [Record(seq=seq + i, group=group, author=author, event=e, author_id=author_id)
               for i, e in enumerate(events, start=1)]
        log.extend(new)
        if job is not None:
            job_id, panel, take, spec, place = job
            self.jobs[job_id] = MemoryJob(job_id, world_id, panel, take, "planned", spec, place, author)
            self.panels[(world_id, panel, take)] = job_id
        return new

    async def job(self, job_id: str) -> MemoryJob | None:
        return self.jobs.get(job_id)

    async def jobs_in_state(self, *states: str) -> list[MemoryJob]:
        return [j for j in self.jobs.values() if j.state in states]

    async def set_job_state(self, job_id: str, state: str, error: str | None = None) -> None:
        self.jobs[job_id].state = state
        self.jobs[job_id].error = error or self.jobs[job_id].error

    async def job_rendered(self, job_id: str, image: str) -> None:
        self.jobs[job_id].state, self.jobs[job_id].image = "rendered", image

    async def job_posted(self, job_id: str, message_id: str) -> None:
        self.jobs[job_id].state, self.jobs[job_id].message_id = "posted", message_id

    async def panel_images(self, world_id: str) -> dict[int, str]:
        out = {}
        for (w, panel, _take), job_id in sorted(self.panels.items()):
            image = self.jobs[job_id].image
            if w == world_id and image is not None:
                out[panel] = image
        return out

    async def panel_takes(self, world_id: str) -> dict[tuple[int, int], MemoryJob]:
        return {(panel, take): self.jobs[job_id] for (w, panel, take), job_id in self.panels.items()
                if w == world_id and self.jobs[job_id].image is not None}

    def blob_path(self, sha: str) -> Path:
        return self.blob_dir / sha

    async def put_blob(self, data: bytes, content_type: str = "image/png") -> str:
        sha = hashlib.sha256(data).hexdigest()
        self.blobs[sha] = data
        return sha

    async def get_blob(self, sha: str) -> bytes:
        return self.blobs[sha]


class DoneHandle:
    """A job that rendered the moment it was submitted."""

    def __init__(self, job: RenderJob, result: RenderResult | Exception) -> None:
        self.job_id = job.job_id
        self._result = result

    def status(self) -> JobStatus:
        return JobStatus("failed" if isinstance(self._result, Exception) else "done", 0, 1, 1)

    async def result(self) -> RenderResult:
        if isinstance(self._result, Exception):
            raise self._result
        return self._result

    def cancel(self) -> bool:
        return False

    async def updates(self) -> AsyncIterator[JobStatus]:
        yield self.status()


class InlineEngine:
    """bot.ports.RenderQueue without a thread: submit() renders at once, on the caller's thread."""

    def __init__(self, renderer: Any = None, per_user_cap: int = 5) -> None:
        self.renderer = renderer or SketchRenderer()
        self.per_user_cap = per_user_cap
        self.waiting: dict[str, int] = {}  # user -> jobs "waiting" (tests fill it to make the queue full)
        self.submitted: list[RenderJob] = []

    def check_room(self, user: str) -> None:
        if self.waiting.get(user, 0) >= self.per_user_cap:
            raise QueueFull(f"you already have {self.waiting[user]} panels waiting")

    def submit(self, job: RenderJob, *, stored: bool = False) -> DoneHandle:
        if not stored:
            self.check_room(job.user)
        self.submitted.append(job)
        [png] = self.renderer.render([job], lambda *_: True)
        return DoneHandle(job, RenderResult(job.job_id, png, self.renderer.name, 0.0))
