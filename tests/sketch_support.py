"""Helpers of the storyboard pixel tests: render a board with its part boxes, name a colour's family."""

from __future__ import annotations

import colorsys
from typing import Any

from PIL import Image, ImageStat

from engine.jobs import RenderJob
from engine.renderers.storyboard.draw import Parts
from engine.renderers.storyboard.renderer import draw_panel

RGB = tuple[int, int, int]


def job(board: dict[str, Any], width: int = 768, height: int = 512, seed: int = 7) -> RenderJob:
    return RenderJob(job_id="t", world_id="w", panel=1, user="u", prompt="", negative_prompt="", seed=seed,
                     width=width, height=height, steps=1, board=board)


def render(board: dict[str, Any], width: int = 768, height: int = 512) -> tuple[Image.Image, Parts]:
    parts: Parts = {}
    return draw_panel(job(board, width, height), parts), parts


def pixels(img: Image.Image) -> list[Any]:
    """The pixel values of an image, in order (get_flattened_data where Pillow has it: getdata is going)."""
    flat = getattr(img, "get_flattened_data", None)
    return list(flat() if flat else img.getdata())


def median(img: Image.Image, box: tuple[int, int, int, int]) -> RGB:
    """The median colour inside a part's box."""
    x0, y0, x1, y1 = box
    crop = img.crop((x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)))
    r, g, b = ImageStat.Stat(crop).median
    return int(r), int(g), int(b)


def family(rgb: RGB) -> set[str]:
    """The colour names a person would give rgb, judged on hue, saturation and value (not the renderer's tables)."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    hue = h * 360
    out: set[str] = set()
    if s < 0.2 and v > 0.8:
        out |= {"white", "silver"}
    if s < 0.2 and 0.3 <= v <= 0.9:
        out |= {"grey", "silver"}
    if v < 0.3:
        out.add("black")
    if s >= 0.35 and v >= 0.3:
        if hue >= 345 or hue < 15:
            out.add("red")
        if 5 <= hue < 35:
            out |= {"ginger", "auburn", "orange", "rust"}
        if 35 <= hue < 60:
            out |= {"yellow", "gold", "brass", "blonde", "sand"}
        if 80 <= hue < 165:
            out.add("green")
        if 175 <= hue < 200:
            out.add("cyan")
        if 200 <= hue < 255:
            out.add("blue")
        if 255 <= hue < 330:
            out.add("purple")
    if 10 <= hue < 45 and 0.25 <= s and v < 0.7:
        out.add("brown")
    if 20 <= hue < 55 and 0.15 <= s < 0.6 and v >= 0.7:
        out |= {"sand", "blonde"}
    return out
