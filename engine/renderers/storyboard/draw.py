"""Drawing primitives of the sketch renderer: text that fits a width, SafeDraw, labels, gradients."""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

from engine.renderers.storyboard.fonts import book, clean
from engine.renderers.storyboard.palette import INK, PAPER, RGB

# Where named parts were drawn ("Mira.hair", "place.water"): a box inside each part that shows its fill
# colour. Filled only when a caller asks (the fidelity tests), so rendering pays nothing for it.
Parts = dict[str, tuple[int, int, int, int]]


def note(parts: Parts | None, key: str, box: tuple[float, float, float, float]) -> None:
    """Record a part's box (ordered, rounded inwards) when parts are being collected."""
    if parts is None:
        return
    x0, y0, x1, y1 = min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])
    parts[key] = (int(x0 + 0.999), int(y0 + 0.999), int(x1), int(y1))


def wrap(text: str, size: int, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap into at most max_lines lines, ending with '…' if cut short."""
    fb = book()
    text = clean(text[:4000])
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        trial = f"{line} {word}" if line else word
        if fb.length(trial, size) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        line = word
        while fb.length(line, size) > width and len(line) > 1 and len(lines) < max_lines:  # split long words
            cut = max(1, int(len(line) * width / max(fb.length(line, size), 1)))
            lines.append(line[:cut])
            line = line[cut:]
        if len(lines) >= max_lines:
            break
    else:
        if line:
            lines.append(line)
        if len(lines) <= max_lines:
            return lines
    lines = lines[:max_lines]
    return [*lines[:-1], ellipsize(lines[-1] + "…", size, width)] if lines else []


def ellipsize(text: str, size: int, width: float) -> str:
    """One line of text, cut with '…' to fit width."""
    fb = book()
    text = clean(text[:4000])
    if fb.length(text, size) <= width:
        return text
    lo, hi = 0, len(text)  # the longest prefix that fits, by bisection: long texts stay quick
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fb.length(text[:mid].rstrip(". ") + "…", size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip(". ") + "…" if lo else ""


def text(d: ImageDraw.ImageDraw, xy: tuple[float, float], value: str, size: int, fill: Any, anchor: str = "la") -> None:
    """One line of text in fonts that have its glyphs."""
    book().draw(d, xy, value, size, fill, anchor)


class SafeDraw(ImageDraw.ImageDraw):
    """ImageDraw that accepts boxes with swapped corners (mirrored figures compute them)."""

    @staticmethod
    def _box(xy: Any) -> Any:
        """A flat (x0, y0, x1, y1) box with its corners in order; anything else unchanged."""
        if isinstance(xy, (tuple, list)) and len(xy) == 4 and all(isinstance(v, (int, float)) for v in xy):
            x0, y0, x1, y1 = xy
            return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        return xy

    def rectangle(self, xy: Any, *a: Any, **kw: Any) -> None:
        """ImageDraw.rectangle on the ordered box."""
        super().rectangle(self._box(xy), *a, **kw)

    def rounded_rectangle(self, xy: Any, *a: Any, **kw: Any) -> None:
        """ImageDraw.rounded_rectangle on the ordered box; a box too small for its corners is plain."""
        box = self._box(xy)
        try:
            super().rounded_rectangle(box, *a, **kw)
        except ValueError:  # Pillow's corner arithmetic fails on tiny boxes with thick outlines
            kw.pop("radius", None)
            kw.pop("corners", None)
            super().rectangle(box, *a[1:], **kw)

    def ellipse(self, xy: Any, *a: Any, **kw: Any) -> None:
        """ImageDraw.ellipse on the ordered box."""
        super().ellipse(self._box(xy), *a, **kw)

    def pieslice(self, xy: Any, *a: Any, **kw: Any) -> None:
        """ImageDraw.pieslice on the ordered box."""
        super().pieslice(self._box(xy), *a, **kw)

    def chord(self, xy: Any, *a: Any, **kw: Any) -> None:
        """ImageDraw.chord on the ordered box."""
        super().chord(self._box(xy), *a, **kw)

    def arc(self, xy: Any, *a: Any, **kw: Any) -> None:
        """ImageDraw.arc on the ordered box."""
        super().arc(self._box(xy), *a, **kw)


def label(
    d: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    size: int,
    anchor: str = "la",
    fill: RGB = PAPER,
    ink: RGB = INK,
    max_w: float = 1e9,
) -> None:
    """A small tag: text on a rounded box, positioned by its anchor corner."""
    text = ellipsize(text, size, max_w)
    if not text:
        return
    pad = max(1, size // 4)
    x0, y0, x1, y1 = book().bbox(xy, text, size, anchor)
    d.rounded_rectangle(
        (x0 - pad * 2, y0 - pad, x1 + pad * 2, y1 + pad),
        radius=pad * 2,
        fill=fill,
        outline=ink,
        width=max(1, size // 14),
    )
    book().draw(d, xy, text, size, ink, anchor)


def vgrad(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    """A top-to-bottom colour gradient (C-speed: a resized 256-step ramp)."""
    size = (max(1, size[0]), max(1, size[1]))
    mask = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)
