"""Lettering one panel: speech and thought balloons with tails, caption boxes, all text fitted inside.

A balloon is an ellipse around its wrapped text: a text block w x h sits inside the ellipse whose
semi-axes are (w/2, h/2) * sqrt(2) (its corners touch it), plus padding. Text shrinks down to a
minimum size, then loses lines with an ellipsis: it never leaves its balloon. Balloons are placed
top down in the panel without overlapping each other or the caption boxes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import ImageDraw

from engine.comic.layout import Box
from engine.renderers.storyboard.draw import wrap
from engine.renderers.storyboard.fonts import book, clean

INK = (20, 20, 24)
PAPER = (255, 255, 255)
CAPTION_FILL = (255, 241, 184)
SQRT2 = math.sqrt(2)

Point = tuple[float, float]


@dataclass(frozen=True)
class Line:
    text: str
    box: Box  # where the line's ink lies on the page


@dataclass(frozen=True)
class Balloon:
    """Lettering placed on a page: a balloon ("speech" | "thought") or a caption box ("caption")."""

    kind: str
    speaker: str | None
    box: Box  # the ellipse's bounding box, or the caption rectangle
    lines: tuple[Line, ...]
    font_size: int
    tail: tuple[Point, ...] = ()  # speech: (base, tip, base); thought: centres of the trailing puffs
    target: Point | None = None  # the speaker's head on the page


@dataclass(frozen=True)
class Lettering:
    """What one panel says: balloons for speakers whose head is known, captions for the rest."""

    balloons: tuple[tuple[str, str, Point, bool], ...] = ()  # (speaker, words, head on the page, thought)
    captions: tuple[str, ...] = ()  # narration, in order
    named: tuple[tuple[str, str], ...] = ()  # (speaker, words) with no known position


def _measure(text: str, size: int, width: float, max_lines: int) -> tuple[list[str], float, float]:
    """Wrapped lines, their widest ink width and the block height, at a font size."""
    lines = wrap(text, size, width, max_lines) or [""]
    widest = max(book().length(ln or " ", size) for ln in lines)
    return lines, widest, len(lines) * size * 1.2


def _whole(text: str, lines: list[str]) -> bool:
    """Whether the wrapped lines still hold every character of text (nothing cut with an ellipsis)."""
    return "".join("".join(lines).split()) == "".join(clean(text[:4000]).split())


def _balanced(text: str, size: int, width: float, max_lines: int) -> tuple[list[str], float, float]:
    """The narrowest wrap with no more lines than at full width and no word split: rounder balloons."""
    first = _measure(text, size, width, max_lines)
    if len(first[0]) == 1 or not _whole(text, first[0]):
        return first
    lo, hi = width * 0.35, width
    for _ in range(7):
        mid = (lo + hi) / 2
        trial = _measure(text, size, mid, max_lines)
        if len(trial[0]) <= len(first[0]) and " ".join(trial[0]).split() == " ".join(first[0]).split():
            hi = mid
        else:
            lo = mid
    return _measure(text, size, hi, max_lines)


def _fit(text: str, size: int, min_size: int, max_w: float, max_h: float, shape: float) -> tuple[list[str], float,
                                                                                                   float, int]:
    """Shrink the font until the wrapped text (grown by `shape` for the balloon) fits max_w x max_h."""
    s = size
    while True:
        lh = s * 1.2
        max_lines = max(1, int((max_h / shape) // lh))
        lines, w, h = _balanced(text, s, max_w / shape, max_lines)
        if (_whole(text, lines) and w * shape <= max_w and h * shape <= max_h) or s <= min_size:
            return lines, w, h, s
        s = max(min_size, int(s * 0.88))


def _fit_staged(text: str, size: int, min_size: int, limits: Sequence[tuple[float, float]],
               shape: float) -> tuple[list[str], float, float, int]:
    """_fit within the first (width, height) limits that hold the whole text; else the first, cut."""
    first = _fit(text, size, min_size, *limits[0], shape)
    if _whole(text, first[0]):
        return first
    for w, h in limits[1:]:
        fitted = _fit(text, size, min_size, w, h, shape)
        if _whole(text, fitted[0]):
            return fitted
    return first


def _overlaps(a: tuple[float, float, float, float], b: Box, pad: float) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _free_y(x0: float, x1: float, h: float, top: float, bottom: float, taken: Sequence[Box], pad: float) -> float:
    """The highest y from top where a box x0..x1 of height h overlaps nothing taken; inf if none above bottom."""
    y = top
    while y + h <= bottom:
        hit = [b for b in taken if _overlaps((x0, y, x1, y + h), b, pad)]
        if not hit:
            return y
        y = max(b[3] for b in hit) + pad
    return math.inf


def _lines_at(d: ImageDraw.ImageDraw, lines: list[str], cx: float, cy: float, size: int) -> tuple[Line, ...]:
    lh = size * 1.2
    y0 = cy - lh * len(lines) / 2
    out = []
    for i, text in enumerate(lines):
        xy = (cx, y0 + lh * (i + 0.5))
        bx0, by0, bx1, by1 = book().bbox(xy, text, size, "mm")
        out.append(Line(text, (math.floor(bx0), math.floor(by0), math.ceil(bx1), math.ceil(by1))))
    return tuple(out)


def _tail(box: Box, target: Point, size: int) -> tuple[Point, Point, Point]:
    """A wedge from inside the ellipse towards the speaker's head, stopping short of it."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    a, b = (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
    dx, dy = target[0] - cx, target[1] - cy
    if math.hypot(dx, dy) < 1:
        dx, dy = 0.0, 1.0
    edge = 1 / math.sqrt((dx / a) ** 2 + (dy / b) ** 2)  # fraction of (dx, dy) at the ellipse edge
    dist = math.hypot(dx, dy)
    edge_len = edge * dist
    length = min(max((dist - edge_len) * 0.75, size * 1.2), size * 6.0)
    ux, uy = dx / dist, dy / dist
    tip = (cx + ux * (edge_len + length), cy + uy * (edge_len + length))
    base_c = (cx + ux * edge_len * 0.55, cy + uy * edge_len * 0.55)
    half = max(size * 0.4, min(a, b) * 0.3)
    return ((base_c[0] - uy * half, base_c[1] + ux * half), tip, (base_c[0] + uy * half, base_c[1] - ux * half))


def letter_panel(d: ImageDraw.ImageDraw, panel: Box, what: Lettering, size: int, min_size: int,
                 reserved: Sequence[Box] = ()) -> list[Balloon]:
    """Place and draw a panel's captions and balloons inside `panel`; returns what was drawn where."""
    pad = max(3.0, size * 0.45)
    taken: list[Box] = list(reserved)
    out: list[Balloon] = []
    top = panel[1] + pad
    for text in what.captions:  # narration: boxes from the top left
        out.append(_caption(d, text, None, panel, size, min_size, pad, taken, top=True))
    for speaker, text in reversed(what.named):  # named captions stack up from the bottom
        out.append(_caption(d, f"{speaker.upper()}: {text}", speaker, panel, size, min_size, pad, taken, top=False))
    n = len(what.balloons)
    heads = [b[2] for b in what.balloons]
    for speaker, text, head, thought in what.balloons:
        shape = SQRT2 if not thought else SQRT2 * 1.08
        lines, box, s = _place(text, head, heads, panel, (top, pad), size, min_size, shape, taken, n)
        taken.append(box)
        kind = "thought" if thought else "speech"
        tail = _draw_balloon(d, box, head, s, kind)
        ccx, ccy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        out.append(Balloon(kind, speaker, box, _lines_at(d, lines, ccx, ccy, s), s, tail, head))
        _draw_text(d, lines, ccx, ccy, s)
    return out


def _place(text: str, head: Point, heads: Sequence[Point], panel: Box, top_pad: tuple[float, float], size: int,
           min_size: int, shape: float, taken: Sequence[Box], count: int) -> tuple[list[str], Box, int]:
    """A balloon's lines, box and font size: above its speaker's head if it fits there whole, else beside
    the head (the roomier side first), else at the top of the panel, the text cut to fit if it must."""
    x0, y0, x1, y1 = panel
    top, pad = top_pad
    pw, ph = x1 - x0, y1 - y0
    gap = size * 1.2
    pref_w, pref_h = pw * (0.62 if count == 1 else 0.46), ph * 0.42
    hx, hy = head
    sides = [(x0 + pad, top, hx - gap, y1 - pad), (hx + gap, top, x1 - pad, y1 - pad)]
    if hx - x0 < x1 - hx:
        sides.reverse()
    blocked = [*taken, *((int(x - gap / 2), int(y - gap / 2), int(x + gap / 2), int(y + gap / 2)) for x, y in heads)]
    for n, (rx0, ry0, rx1, ry1) in enumerate([(x0 + pad, top, x1 - pad, hy - gap), *sides]):
        rw, rh = rx1 - rx0, ry1 - ry0
        if rw < size * 3 or rh < size * 2:
            continue
        max_h = min(rh, pref_h if n == 0 else ph * 0.75)  # beside the head a balloon may be taller
        lines, w, h, s = _fit(text, size, min_size, min(rw, pref_w) - 2 * pad, max_h - 2 * pad, shape)
        bw, bh = w * shape + 2 * pad, h * shape + 2 * pad
        if not _whole(text, lines) or bw > rw or bh > rh:
            continue
        if n == 0:
            cx = min(max(hx, rx0 + bw / 2), rx1 - bw / 2)
        else:
            cx = rx1 - bw / 2 if rx1 <= hx else rx0 + bw / 2  # as near the head as the region allows
        y = _free_y(cx - bw / 2, cx + bw / 2, bh, ry0, ry1, blocked, pad)
        if y + bh <= ry1:
            return lines, (round(cx - bw / 2), round(y), round(cx + bw / 2), round(y + bh)), s
    # Nowhere near the head: the top of the panel, in the first free spot, cutting the text if it must.
    limits = [(pw * f - 2 * pad, ph * g - 2 * pad) for f, g in ((pref_w / pw, 0.42), (0.94, 0.7))]
    lines, w, h, s = _fit_staged(text, size, min_size, limits, shape)
    for k in range(5):
        bw, bh = w * shape + 2 * pad, h * shape + 2 * pad
        cx = min(max(hx, x0 + pad + bw / 2), x1 - pad - bw / 2)
        y = _free_y(cx - bw / 2, cx + bw / 2, bh, top, y1 - pad, taken, pad)
        if y + bh <= y1 - pad or k == 4:
            y = min(y, y1 - pad - bh)  # the last resort may overlap: better than no balloon
            return lines, (round(cx - bw / 2), round(y), round(cx + bw / 2), round(y + bh)), s
        f = 0.75 ** (k + 1)  # no free spot: a smaller balloon, the text cut with an ellipsis
        lines, w, h, s = _fit(text, min_size, min_size, limits[0][0] * f, limits[0][1] * f, shape)
    raise AssertionError("unreachable")


def _caption(d: ImageDraw.ImageDraw, text: str, speaker: str | None, panel: Box, size: int, min_size: int,
             pad: float, taken: list[Box], top: bool) -> Balloon:
    x0, y0, x1, y1 = panel
    pw, ph = x1 - x0, y1 - y0
    limits = [(pw * f - 2 * pad, ph * g - 2 * pad) for f, g in ((0.7, 0.3), (0.94, 0.5))]
    lines, w, h, s = _fit_staged(text, size, min_size, limits, 1.0)
    bw, bh = w + 2 * pad, h + 2 * pad
    if top:
        y = _free_y(x0 + pad, x0 + pad + bw, bh, y0 + pad, y1 - pad, taken, pad * 0.5)
        y = y0 + pad if y == math.inf else y  # a panel full of captions: the last may overlap
    else:
        y = y1 - pad - bh
        while any(_overlaps((int(x0 + pad), int(y), int(x0 + pad + bw), int(y + bh)), b, pad * 0.5) for b in taken) \
                and y > y0 + pad:  # fmt: skip
            y -= pad
    box = (round(x0 + pad), round(y), round(x0 + pad + bw), round(y + bh))
    taken.append(box)
    lw = max(1, s // 12)
    d.rectangle(box, fill=CAPTION_FILL, outline=INK, width=lw)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    _draw_text(d, lines, cx, cy, s)
    return Balloon("caption", speaker, box, _lines_at(d, lines, cx, cy, s), s)


def _draw_text(d: ImageDraw.ImageDraw, lines: list[str], cx: float, cy: float, size: int) -> None:
    lh = size * 1.2
    y = cy - lh * len(lines) / 2
    for text in lines:
        book().draw(d, (cx, y + lh / 2), text, size, INK, "mm")
        y += lh


def _draw_balloon(d: ImageDraw.ImageDraw, box: Box, head: Point, size: int, kind: str) -> tuple[Point, ...]:
    """Ink outline first, then paper over it: the tail joins the ellipse without a seam."""
    lw = max(2, size // 9)
    grown = (box[0] - lw, box[1] - lw, box[2] + lw, box[3] + lw)
    if kind == "thought":
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        a, b = (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
        dx, dy = head[0] - cx, head[1] - cy
        dist = max(math.hypot(dx, dy), 1.0)
        edge = dist / math.sqrt((dx / a) ** 2 + (dy / b) ** 2) if dist > 1 else b
        puffs = []
        for k, r in enumerate((size * 0.45, size * 0.32, size * 0.22)):
            t = edge + size * (0.9 + 1.1 * k)
            if t >= dist and puffs:  # the first puff always shows whose thought it is
                break
            puffs.append((cx + dx / dist * t, cy + dy / dist * t, r))
        for x, y, r in puffs:
            d.ellipse((x - r - lw, y - r - lw, x + r + lw, y + r + lw), fill=INK)
            d.ellipse((x - r, y - r, x + r, y + r), fill=PAPER)
        d.ellipse(grown, fill=INK)
        d.ellipse(box, fill=PAPER)
        return tuple((x, y) for x, y, _ in puffs)
    tail = _tail(box, head, size)
    d.polygon(tail, fill=INK)
    d.ellipse(grown, fill=INK)
    d.ellipse(box, fill=PAPER)
    d.polygon(_inset(tail, lw), fill=PAPER)
    return tail


def _inset(tri: tuple[Point, Point, Point], by: float) -> tuple[Point, ...]:
    """The triangle with every edge moved inwards by `by` (scaled about its incentre)."""
    (ax, ay), (bx, by_), (cx, cy) = tri
    la, lb, lc = math.dist(tri[1], tri[2]), math.dist(tri[0], tri[2]), math.dist(tri[0], tri[1])
    per = la + lb + lc
    if per <= 0:
        return tri
    ix, iy = (la * ax + lb * bx + lc * cx) / per, (la * ay + lb * by_ + lc * cy) / per
    area = abs((bx - ax) * (cy - ay) - (cx - ax) * (by_ - ay)) / 2
    r = 2 * area / per
    f = max(0.0, (r - by) / r) if r > 0 else 0.0
    return tuple((ix + (x - ix) * f, iy + (y - iy) * f) for x, y in tri)
