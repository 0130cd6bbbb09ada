"""Drawing primitives of the sketch renderer: the font, text that fits it, SafeDraw, labels, gradients."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from engine.renderers.storyboard.palette import INK, PAPER, RGB


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's embedded font at a size (cached: loading parses the font each time)."""
    return ImageFont.load_default(size=max(6, min(int(size), 160)))


@lru_cache(maxsize=4096)
def _has_glyph(ch: str) -> bool:
    """Whether the font draws ch (it is a small subset; missing glyphs all render as one .notdef box)."""
    f = font(20)
    if not isinstance(f, ImageFont.FreeTypeFont):
        return False
    return bytes(f.getmask(ch)) != _notdef()


@lru_cache(maxsize=1)
def _notdef() -> bytes:
    """The mask of the font's .notdef box, drawn for any missing glyph."""
    return bytes(font(20).getmask("\U000e0001"))


_SWAPS = {"—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "·": "·", "…": "…"}


def safe_text(text: str) -> str:
    """Text the font can draw: accents stripped, emoji dropped, other letters as '?'."""
    out: list[str] = []
    for ch in text:
        ch = _SWAPS.get(ch, ch)
        if ch.isascii() or _has_glyph(ch):
            out.append(ch if ch.isprintable() else " ")
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base and all(c.isascii() for c in base):
            out.append(base)
        elif unicodedata.category(ch) not in ("So", "Sk", "Cf", "Mn", "Cs", "Co", "Cn"):
            out.append("?")
    return "".join(out)


def wrap(text: str, fnt: Any, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap into at most max_lines lines, ending with '…' if cut short."""
    text = " ".join(safe_text(text[:4000]).split())
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        trial = f"{line} {word}" if line else word
        if fnt.getlength(trial) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        line = word
        while fnt.getlength(line) > width and len(line) > 1 and len(lines) < max_lines:  # split long words
            cut = max(1, int(len(line) * width / max(fnt.getlength(line), 1)))
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
    return [*lines[:-1], ellipsize(lines[-1] + "…", fnt, width)] if lines else []


def ellipsize(text: str, fnt: Any, width: float) -> str:
    """One line of text, cut with '…' to fit width."""
    text = " ".join(safe_text(text[:4000]).split())
    if fnt.getlength(text) <= width:
        return text
    while text and fnt.getlength(text.rstrip(". ") + "…") > width:
        text = text[:-1]
    return text.rstrip(". ") + "…" if text else ""


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
    f = font(size)
    text = ellipsize(text, f, max_w)
    if not text:
        return
    pad = max(1, size // 4)
    x0, y0, x1, y1 = d.textbbox(xy, text, font=f, anchor=anchor)
    d.rounded_rectangle(
        (x0 - pad * 2, y0 - pad, x1 + pad * 2, y1 + pad),
        radius=pad * 2,
        fill=fill,
        outline=ink,
        width=max(1, size // 14),
    )
    d.text(xy, text, font=f, fill=ink, anchor=anchor)


def vgrad(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    """A top-to-bottom colour gradient (C-speed: a resized 256-step ramp)."""
    size = (max(1, size[0]), max(1, size[1]))
    mask = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)
