"""Plain-data render jobs and results shared by the queue and every renderer.

Jobs and results hold only JSON-able values and file paths, so a render stage can later run
in another process (or on Ray actors) without the bot's objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Reference:
    """An image that a renderer should keep a character (or the style) close to."""

    name: str
    path: str
    weight: float = 1.0  # 0 = identity only, 1 = identity + hair + clothes
    # "character" | "place" (the place's establishing shot) | "style" | "previous" | "edit" (the panel /edit changes)
    kind: str = "character"


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
    # In the order the renderer passes them: a multi-reference model reads them as image 1, 2 ...
    references: tuple[Reference, ...] = ()
    # Structured description of the panel for the storyboard renderer (see sketch.py):
    # camera, characters (name, appearance, description), action, location, props,
    # time_of_day, lighting, light_from, weather, caption.
    board: dict[str, Any] = field(default_factory=dict)
    model: str = ""  # the renderer's Capabilities.model; "" = whatever the engine's renderer has loaded

    def batch_key(self) -> tuple[object, ...]:
        """Jobs with equal keys can share one forward pass.

        A multi-reference model appends every reference's tokens to the sequence, so rows of one
        pass must have as many references (the renderer sizes each one alike).
        """
        mode = "ref" if any(r.kind == "character" for r in self.references) else "plain"
        return (self.model, self.width, self.height, self.steps, self.guidance, mode, len(self.references))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RenderJob:
        refs = tuple(Reference(**r) for r in data.get("references", ()))
        return cls(**{**data, "references": refs})


FINAL_STATES = frozenset({"done", "failed", "cancelled"})


@dataclass(frozen=True)
class JobStatus:
    state: str  # "queued" | "rendering" | "done" | "failed" | "cancelled"
    position: int  # jobs ahead of this one; 0 while rendering
    step: int
    total: int

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


@dataclass(frozen=True)
class RenderResult:
    job_id: str
    png: bytes
    renderer: str
    seconds: float


@dataclass(frozen=True)
class Capabilities:
    """What a renderer takes, so composing a panel fits its prompt and references to it.

    The defaults describe the storyboard renderer: tag prompts, no images read.
    """

    reads_images: bool = False  # uses reference images at all (anchoring only helps such renderers)
    max_references: int = 0  # images the pipeline takes natively per panel (0: reference attention, if any)
    prompt_style: str = "tags"  # "tags" (CLIP, 77-token chunks) | "sentences" (an LLM text encoder)
    max_prompt_tokens: int = 0  # the text encoder's budget; 0 = use the configured prompt_budget
    negative_prompt: bool = True  # False: "--no" is folded into the sentence as "without ..."
    can_edit: bool = False  # /edit sends the panel itself as the first reference
    reference_word: str = "image"  # how its prompts name the Nth reference: "image 1" (FLUX.2), "Picture 1" (Qwen)
    model: str = ""  # what RenderJob.model should say, so jobs for different models never share a pass


# progress(job_id, step, total) -> False asks the renderer to stop that job early.
Progress = Callable[[str, int, int], bool]


class Renderer(Protocol):
    """What the engine queue drives; every method runs on the worker thread."""

    name: str
    capabilities: Capabilities  # may change in load(): read it after the engine has started

    def load(self) -> None: ...

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        """Render a batch of compatible jobs; return one PNG per job, in order."""
        ...

    def close(self) -> None: ...
