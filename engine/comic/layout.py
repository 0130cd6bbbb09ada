"""Where each panel goes on comic pages: rows, gutters and page breaks. Pure geometry, no Pillow.

Layouts:
    auto   rows that keep every panel's aspect ratio: a wide or establishing shot (or any very wide
           image) spans its row alone, close-ups pair up, other panels go two to a row (portrait ones
           three); each row is justified to the page width
    grid   equal cells, two columns (three for portrait panels); images are cropped to the cell
    strip  one panel per row at full width: a vertical strip for reading on a phone
    manga  the auto layout read right to left: each row starts at the right edge
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from engine.errors import WorldError

LAYOUTS = ("auto", "grid", "strip", "manga")
WIDE_WORDS = ("establishing", "wide", "long shot", "bird", "overhead", "aerial", "panorama", "extreme long")
CLOSE_WORDS = ("close", "ecu", "portrait", "reaction")
SPAN_ASPECT = 2.0  # an image at least this wide spans its row whatever the camera says
SHRINK_LIMIT = 0.82  # a page's rows may shrink this far to take one more row
ROW_SHRINK = 0.55  # the row that does not fit may shrink this far alone to fill the page's last space

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in page pixels


@dataclass(frozen=True)
class Slot:
    """One panel's place on a page: index into the panels given, its box, whether the image is cropped."""

    index: int
    box: Box
    crop: bool = False


@dataclass(frozen=True)
class Frame:
    """The page: its size, margins and gutters in pixels, and the title band on the first page."""

    width: int
    height: int
    margin: int
    gutter: int
    title: int = 0  # height of the title band on page one (0: none)
    footer: int = 0  # room kept at the bottom for the page number


def check_layout(layout: str) -> str:
    """The layout name, or a WorldError naming the choices."""
    name = (layout or "auto").strip().lower()
    if name not in LAYOUTS:
        raise WorldError(f"unknown layout {layout!r}: choose {', '.join(LAYOUTS)}")
    return name


def is_wide(camera: str, aspect: float) -> bool:
    """A panel that spans its row: a wide or establishing shot, or a panoramic image."""
    cam = (camera or "").lower()
    return aspect >= SPAN_ASPECT or any(w in cam for w in WIDE_WORDS)


def is_close(camera: str) -> bool:
    cam = (camera or "").lower()
    return any(w in cam for w in CLOSE_WORDS) and not any(w in cam for w in WIDE_WORDS)


def _rows_auto(aspects: Sequence[float], cameras: Sequence[str]) -> list[list[int]]:
    rows: list[list[int]] = []
    i, n = 0, len(aspects)
    while i < n:
        if is_wide(cameras[i], aspects[i]):
            rows.append([i])
            i += 1
            continue
        row = [i]
        size = 3 if aspects[i] < 0.8 else 2
        while len(row) < size and i + len(row) < n:
            j = i + len(row)
            if is_wide(cameras[j], aspects[j]) or (size == 3 and aspects[j] >= 0.8):
                break
            pair_next = j + 1 < n and is_close(cameras[j + 1]) and not is_wide(cameras[j + 1], aspects[j + 1])
            if not is_close(cameras[i]) and is_close(cameras[j]) and pair_next:
                break  # leave the close-up to pair with the close-up after it
            row.append(j)
        rows.append(row)
        i += len(row)
    return rows


@dataclass(frozen=True)
class _Row:
    indices: tuple[int, ...]
    widths: tuple[float, ...]
    height: float
    crop: bool


def _justify(indices: list[int], aspects: Sequence[float], inner: int, gutter: int, cap: float,
             crop: bool = False) -> _Row:
    """A row at the height that makes its panels exactly fill the width, at most cap."""
    total = sum(aspects[i] for i in indices)
    h = min((inner - gutter * (len(indices) - 1)) / max(total, 1e-6), cap)
    return _Row(tuple(indices), tuple(aspects[i] * h for i in indices), h, crop)


def _scaled(row: _Row, f: float) -> _Row:
    return _Row(row.indices, tuple(w * f for w in row.widths), row.height * f, row.crop)


def _place(rows: list[_Row], frame: Frame, top: int, bottom: int, rtl: bool, scale: float) -> list[Slot]:
    slots: list[Slot] = []
    y = float(top)
    left, right = frame.margin, frame.width - frame.margin
    for row in rows:
        h = row.height * scale
        widths = [w * scale for w in row.widths]
        used = sum(widths) + frame.gutter * (len(widths) - 1)
        x = left + (right - left - used) / 2
        for idx, w in zip(row.indices, widths, strict=True):
            x0, x1 = x, x + w
            if rtl:
                x0, x1 = left + right - x1, left + right - x0
            slots.append(Slot(idx, (round(x0), round(y), round(x1), min(round(y + h), bottom)), row.crop))
            x += w + frame.gutter
        y += h + frame.gutter
    return slots


def _paginate(rows: list[_Row], frame: Frame, rtl: bool = False) -> list[list[Slot]]:
    """Rows onto pages: a page takes rows while they fit, shrinking a little to take one more."""
    pages: list[list[Slot]] = []
    k = 0
    while k < len(rows):
        top = frame.margin + (frame.title if not pages else 0)
        bottom = frame.height - frame.margin - frame.footer
        avail = bottom - top
        taken: list[_Row] = []
        used = 0.0
        while k < len(rows):
            gap = frame.gutter if taken else 0
            need = used + gap + rows[k].height
            if taken and need > avail / SHRINK_LIMIT:
                room = avail - used - gap
                if room >= rows[k].height * ROW_SHRINK:  # fill the page's last space with a smaller row
                    taken.append(_scaled(rows[k], room / rows[k].height))
                    used, k = avail, k + 1
                break
            taken.append(rows[k])
            used = need
            k += 1
            if used > avail:
                break
        gutters = frame.gutter * (len(taken) - 1)
        scale = min(1.0, (avail - gutters) / max(used - gutters, 1e-6))
        pages.append(_place(taken, frame, top, bottom, rtl, scale))
    return pages


def plan_pages(aspects: Sequence[float], cameras: Sequence[str], layout: str, frame: Frame) -> list[list[Slot]]:
    """Pages of slots for panels of the given aspect ratios (width / height) and cameras, in reading order."""
    layout = check_layout(layout)
    if len(aspects) != len(cameras):
        raise ValueError("one camera per panel")
    if not aspects:
        return []
    aspects = [min(max(float(a), 0.2), 6.0) if a == a and a > 0 else 1.5 for a in aspects]
    inner = frame.width - 2 * frame.margin
    avail = frame.height - 2 * frame.margin - frame.title - frame.footer
    if layout == "strip":
        rows = [_justify([i], aspects, inner, frame.gutter, avail * 0.9) for i in range(len(aspects))]
        return _paginate(rows, frame)
    if layout == "grid":
        cell = statistics.median(aspects)
        cols = 3 if cell < 0.8 else 2
        rows = []
        for start in range(0, len(aspects), cols):
            members = list(range(start, min(start + cols, len(aspects))))
            width = (inner - frame.gutter * (cols - 1)) / cols
            h = min(width / cell, avail * 0.9)
            rows.append(_Row(tuple(members), tuple(h * cell for _ in members), h, True))
        return _paginate(rows, frame)
    rows = [_justify(r, aspects, inner, frame.gutter, avail * 0.55) for r in _rows_auto(aspects, cameras)]
    return _paginate(rows, frame, rtl=layout == "manga")
