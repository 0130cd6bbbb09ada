"""Renderer by name: sketch (Pillow storyboard), tiny (offline test pipeline), diffusion."""

from __future__ import annotations

from typing import Any

from engine.jobs import Renderer

NAMES = ("sketch", "tiny", "diffusion")


def make_renderer(name: str, settings: dict[str, Any]) -> Renderer:
    """Builds (but does not load) the named renderer; heavy imports happen only for its module."""
    if name == "sketch":
        from engine.renderers.storyboard.renderer import SketchRenderer

        return SketchRenderer()
    if name == "tiny":
        from engine.renderers.diffusion.tiny import TinyRenderer

        return TinyRenderer(settings)
    if name == "diffusion":
        from engine.renderers.diffusion.renderer import DiffusionRenderer

        return DiffusionRenderer(settings)
    raise ValueError(f"unknown renderer {name!r}: choose one of {', '.join(NAMES)}")
