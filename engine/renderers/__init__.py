"""Renderers driven by the engine queue (sketch, diffusion, tiny)."""
