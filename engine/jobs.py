"""Plain-data render jobs and results shared by the queue and every renderer.

Jobs and results hold only JSON-able values and file paths, so a render stage can later run
in another process (or on Ray actors) without the bot's objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Reference:
    """An image that a renderer should keep a character (or the style) close to."""

    name: str
    path: str
    weight: float = 1.0  # 0 = identity only, 1 = identity + hair + clothes
    kind: str = "character"  # "character" | "style" | "previous"


@dataclass(frozen=True)
class RenderJob:
    job_id: str
    world_id: str
    panel: int
    user: str
    prompt: str
    negative_prompt: str
    seed: int
    width: int
    height: int
    steps: int
    guidance: float | None = None
    references: tuple[Reference, ...] = ()
    # Structured description of the panel for the storyboard renderer (see sketch.py):
    # camera, characters (name, appearance, description), action, location, props,
    # time_of_day, lighting, light_from, weather, caption.
    board: dict[str, Any] = field(default_factory=dict)

    def batch_key(self) -> tuple[object, ...]:
        """Jobs with equal keys can share one forward pass."""
        mode = "ref" if any(r.kind == "character" for r in self.references) else "plain"
        return (self.width, self.height, self.steps, self.guidance, mode)


@dataclass(frozen=True)
class RenderResult:
    job_id: str
    png: bytes
    renderer: str
    seconds: float


# progress(job_id, step, total) -> False asks the renderer to stop that job early.
Progress = Callable[[str, int, int], bool]


class Renderer(Protocol):
    """What the engine queue drives; every method runs on the worker thread."""

    name: str

    def load(self) -> None: ...

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        """Render a batch of compatible jobs; return one PNG per job, in order."""
        ...

    def close(self) -> None: ...


class RenderCancelled(Exception):
    """Raised by a renderer when progress() asked it to stop."""
