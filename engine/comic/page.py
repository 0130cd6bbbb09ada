"""Comic pages: panels laid out with gutters, a title on page one, panel numbers and lettering.

`render_pages` is CPU-heavy Pillow work: call it on a worker thread (`render_pages_async` does).
Page size is a physical size at a resolution: 6.625 x 10.25 in (a US comic page) at 150 dpi for
chat, 300 dpi for print (PDF/CBZ export).
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageOps

from engine.comic.balloons import INK, PAPER, Balloon, Lettering, letter_panel
from engine.comic.layout import Box, Frame, Slot, check_layout, plan_pages
from engine.comic.speech import Speech
from engine.errors import LimitExceeded, WorldError
from engine.renderers.storyboard.draw import SafeDraw, ellipsize
from engine.renderers.storyboard.fonts import book

MAX_PANELS = 400
DPI_RANGE = (50, 400)
PAGE_INCHES = (6.625, 10.25)
GUTTER_COLOUR = (250, 248, 242)


@dataclass(frozen=True)
class ComicPanel:
    """One panel to lay out: its image and what is said in it."""

    number: int
    png: bytes
    camera: str = ""
    speech: tuple[Speech, ...] = ()
    narration: tuple[str, ...] = ()  # caption boxes before any unattributed speech
    heads: tuple[tuple[str, float, float], ...] = ()  # (name, x, y): a head as fractions of the image


@dataclass(frozen=True)
class PageOptions:
    layout: str = "auto"  # auto | grid | strip | manga
    title: str = ""  # drawn on page one
    byline: str = ""  # under the title, e.g. "by ada and ben"
    dpi: int = 150
    page_inches: tuple[float, float] = PAGE_INCHES
    lettering_pt: float = 9.0  # balloon text size; it shrinks to 6.5 pt to fit


@dataclass(frozen=True)
class PlacedPanel:
    number: int
    box: Box
    balloons: tuple[Balloon, ...]


@dataclass(frozen=True)
class PageImage:
    """One drawn page: its PNG and where everything went (for tests and alt text)."""

    png: bytes
    size: tuple[int, int]
    panels: tuple[PlacedPanel, ...]
    title_box: Box | None = None


def _open(png: bytes) -> Image.Image | None:
    try:
        with Image.open(io.BytesIO(png)) as im:
            if im.width * im.height > 40_000_000:
                return None
            return im.convert("RGB")
    except Exception:  # a broken panel becomes a placeholder, not a failed page
        return None


def _placeholder(size: tuple[int, int], pt: int) -> Image.Image:
    im = Image.new("RGB", size, (214, 210, 200))
    d = SafeDraw(im)
    book().draw(d, (size[0] / 2, size[1] / 2), "unreadable panel", pt, INK, "mm")
    return im


def _fit_image(im: Image.Image, box: Box, crop: bool) -> tuple[Image.Image, float, float, float]:
    """The image resized (or cropped) to the box, and its scale and crop offsets."""
    bw, bh = box[2] - box[0], box[3] - box[1]
    if crop:
        s = max(bw / im.width, bh / im.height)
        ox, oy = (im.width * s - bw) / 2, (im.height * s - bh) / 2
        return ImageOps.fit(im, (bw, bh), Image.Resampling.LANCZOS), s, ox, oy
    s = min(bw / im.width, bh / im.height)
    return im.resize((bw, bh), Image.Resampling.LANCZOS), s, 0.0, 0.0


def _lettering(panel: ComicPanel, box: Box, size: tuple[int, int], s: float, ox: float, oy: float) -> Lettering:
    """Which speech gets a balloon (its speaker's head is known) and which a caption box."""
    heads = {name.casefold(): (x, y) for name, x, y in panel.heads}
    balloons, named = [], []
    captions = [t for t in panel.narration if t.strip()]
    for sp in panel.speech:
        if sp.speaker is None:
            captions.append(sp.text)
            continue
        head = heads.get(sp.speaker.casefold())
        if head is None:
            named.append((sp.speaker, sp.text))
            continue
        x = min(max(box[0] + head[0] * size[0] * s - ox, box[0]), box[2])
        y = min(max(box[1] + head[1] * size[1] * s - oy, box[1]), box[3])
        balloons.append((sp.speaker, sp.text, (x, y), sp.thought))
    return Lettering(tuple(balloons), tuple(captions), tuple(named))


def _badge(d: SafeDraw, box: Box, number: int, px: int, rtl: bool) -> Box:
    """The panel number in the bottom corner where reading ends (right; left for manga)."""
    text = str(number)
    pad = max(2, px // 3)
    w = book().length(text, px) + 2 * pad
    x0 = box[0] + pad if rtl else box[2] - w - pad
    y1 = box[3] - pad
    b = (round(x0), round(y1 - px * 1.25), round(x0 + w), round(y1))
    d.rectangle(b, fill=INK)
    book().draw(d, ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2), text, px, PAPER, "mm")
    return b


def _title(d: SafeDraw, width: int, margin: int, band: int, options: PageOptions, dpi: int) -> Box:
    tf = round(0.3 * dpi)
    title = ellipsize(options.title.strip() or "Untitled", tf, width - 2 * margin)
    y = margin + band * 0.38
    book().draw(d, (width / 2, y), title, tf, INK, "mm")
    box = book().bbox((width / 2, y), title, tf, "mm")
    if options.byline.strip():
        bf = round(0.12 * dpi)
        book().draw(d, (width / 2, margin + band * 0.75), ellipsize(options.byline, bf, width - 2 * margin), bf,
                    (90, 88, 84), "mm")
    rule = round(margin + band * 0.92)
    d.line([(margin, rule), (width - margin, rule)], fill=INK, width=max(1, dpi // 100))
    return (math.floor(box[0]), math.floor(box[1]), math.ceil(box[2]), math.ceil(box[3]))


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=4)
    return buf.getvalue()


def render_pages(panels: Sequence[ComicPanel], options: PageOptions | None = None) -> list[PageImage]:
    """Lay out and letter the panels on as many pages as they need, in reading order."""
    opts = options or PageOptions()
    layout = check_layout(opts.layout)
    if not panels:
        raise WorldError("no panels to put on a page")
    if len(panels) > MAX_PANELS:
        raise LimitExceeded(f"at most {MAX_PANELS} panels on pages at once (asked for {len(panels)})")
    dpi = min(max(int(opts.dpi), DPI_RANGE[0]), DPI_RANGE[1])
    width, height = (max(2, round(min(max(v, 2.0), 17.0) * dpi)) for v in opts.page_inches)
    margin, gutter = round(0.3 * dpi), round(0.12 * dpi)
    frame = Frame(width, height, margin, gutter, title=round(0.75 * dpi))
    images = [_open(p.png) for p in panels]
    sizes = [(im.width, im.height) if im else (3, 2) for im in images]
    slots_by_page = plan_pages([w / h for w, h in sizes], [p.camera for p in panels], layout, frame)
    letter_px, min_px = round(opts.lettering_pt / 72 * dpi), round(6.5 / 72 * dpi)
    pages: list[PageImage] = []
    for n, slots in enumerate(slots_by_page):
        page = Image.new("RGB", (width, height), GUTTER_COLOUR)
        d = SafeDraw(page)
        title_box = _title(d, width, margin, frame.title, opts, dpi) if n == 0 else None
        placed = [_draw_panel(page, d, panels[s.index], images[s.index], sizes[s.index], s, letter_px, min_px,
                              layout == "manga") for s in slots]
        book().draw(d, (width / 2, height - margin / 2), str(n + 1), round(0.11 * dpi), INK, "mm")
        pages.append(PageImage(_png(page), (width, height), tuple(placed), title_box))
    return pages


def _draw_panel(page: Image.Image, d: SafeDraw, panel: ComicPanel, im: Image.Image | None, size: tuple[int, int],
                slot: Slot, letter_px: int, min_px: int, rtl: bool) -> PlacedPanel:
    box = slot.box
    bw, bh = max(1, box[2] - box[0]), max(1, box[3] - box[1])
    box = (box[0], box[1], box[0] + bw, box[1] + bh)
    if im is None:
        picture, s, ox, oy = _placeholder((bw, bh), letter_px), 1.0, 0.0, 0.0
    else:
        picture, s, ox, oy = _fit_image(im, box, slot.crop)
    page.paste(picture, box[:2])
    line = max(2, letter_px // 8)
    d.rectangle((box[0] - line, box[1] - line, box[2] + line - 1, box[3] + line - 1), outline=INK, width=line)
    badge = _badge(d, box, panel.number, max(8, round(letter_px * 0.8)), rtl)
    what = _lettering(panel, box, size, s, ox, oy)
    balloons = letter_panel(d, box, what, letter_px, min_px, reserved=[badge])
    return PlacedPanel(panel.number, box, tuple(balloons))


async def render_pages_async(panels: Sequence[ComicPanel], options: PageOptions | None = None) -> list[PageImage]:
    """render_pages on a worker thread, so the event loop keeps serving."""
    return await asyncio.to_thread(render_pages, list(panels), options)
