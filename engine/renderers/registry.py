"""Renderer by name: sketch (Pillow storyboard), tiny (offline test pipelines), diffusion."""

from __future__ import annotations

from typing import Any

from engine.jobs import Renderer

NAMES = ("sketch", "tiny", "diffusion")


def make_renderer(name: str, settings: dict[str, Any]) -> Renderer:
    """Builds (but does not load) the named renderer; heavy imports happen only for its module.

    diffusion: the model's pipeline class decides in load() between the multi-reference path
    (FLUX.2, Qwen-Image-Edit-Plus) and the SD path. tiny: `tiny_pipeline` = "sd" (default) or a
    toy multi-reference pipeline ("flux2-klein", "flux2", "qwen-edit-plus").
    """
    if name == "sketch":
        from engine.renderers.storyboard.renderer import SketchRenderer

        return SketchRenderer()
    if name == "tiny":
        if str(settings.get("tiny_pipeline") or "sd") != "sd":
            from engine.renderers.diffusion.toys import TinyMultiReferenceRenderer

            return TinyMultiReferenceRenderer(settings)
        from engine.renderers.diffusion.tiny import TinyRenderer

        return TinyRenderer({k: v for k, v in settings.items() if k != "tiny_pipeline"})
    if name == "diffusion":
        from engine.renderers.diffusion.auto import AutoDiffusionRenderer

        return AutoDiffusionRenderer(settings)
    raise ValueError(f"unknown renderer {name!r}: choose one of {', '.join(NAMES)}")
