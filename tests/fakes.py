"""Fakes shared by the service, console and platform tests."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.context import Delivery, Place
from engine.errors import RenderCancelled
from engine.jobs import Capabilities, Progress, RenderJob
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
