"""The `diffusion` renderer: the model's own pipeline class picks the path, not the user.

Pipelines in the capability table (models.py: FLUX.2 [klein] / [dev], Qwen-Image-Edit-Plus) get
`MultiReferenceRenderer` (reference images, sentence prompts); every other model keeps
`DiffusionRenderer` (SD / SDXL, reference attention, CLIP tags). The class is read from the
model's model_index.json in load(), on the worker thread, or given as the `pipeline` setting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.jobs import Capabilities, Progress, RenderJob
from engine.renderers.diffusion import models


class AutoDiffusionRenderer:
    """Chooses and then forwards to the right diffusers renderer."""

    name = "diffusion"

    def __init__(self, settings: Mapping[str, Any], *, pipeline: Any = None) -> None:
        if not settings.get("model"):
            raise ValueError("the diffusion renderer needs settings['model'] (an id or a folder)")
        self.settings = dict(settings)
        self._prebuilt = pipeline
        self.inner: Any = None

    def load(self) -> None:
        from engine.renderers.diffusion.multiref import MultiReferenceRenderer
        from engine.renderers.diffusion.renderer import DiffusionRenderer

        model = str(self.settings["model"])
        if self.settings.get("pipeline"):
            cls = str(self.settings["pipeline"])
        elif self._prebuilt is not None:
            cls = type(self._prebuilt).__name__
        else:
            cls = models.pipeline_class(model, bool(self.settings.get("offline")) or Path(model).is_dir())
        chosen = MultiReferenceRenderer if models.spec_for(cls) else DiffusionRenderer
        inner = chosen(self.settings, pipeline=self._prebuilt)
        self._prebuilt = None
        inner.load()
        self.inner = inner

    @property
    def capabilities(self) -> Capabilities:
        # Before load() nothing is known but that a diffusion model reads images.
        return self.inner.capabilities if self.inner is not None else Capabilities(reads_images=True)

    def count_tokens(self, text: str) -> int:
        if self.inner is None:
            raise RuntimeError("count_tokens() needs a loaded renderer")
        return int(self.inner.count_tokens(text))

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        if self.inner is None:
            raise RuntimeError("the diffusion renderer is not loaded")
        return list(self.inner.render(jobs, progress))

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()

    # What benchmarks and logs read of a loaded renderer.
    @property
    def device(self) -> str:
        return str(getattr(self.inner, "device", "cpu"))

    @property
    def dtype(self) -> Any:
        return getattr(self.inner, "dtype", None)

    @property
    def native(self) -> int:
        return int(getattr(self.inner, "native", 512))

    @property
    def pipe(self) -> Any:
        return getattr(self.inner, "pipe", None)
