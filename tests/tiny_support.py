"""Helpers for the tests that render with the tiny diffusion pipeline (torch installed)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def pixels(png: bytes) -> np.ndarray:
    """The image as signed ints, so differences do not wrap around."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def keep_going(job_id: str, step: int, total: int) -> bool:
    """A progress callback that never asks to stop."""
    return True
