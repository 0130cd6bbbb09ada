"""The storyboard sheet: every panel of a world in a grid under a title bar, each caption once."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from PIL import Image

from engine.renderers.storyboard.draw import SafeDraw, ellipsize, text, wrap
from engine.renderers.storyboard.fonts import book
from engine.renderers.storyboard.palette import INK, PAPER, as_text

SCENE_HEIGHT_KEY = "worldloom-scene-height"  # PNG text a storyboard panel carries: rows above its caption strip
SHEET_THUMB_W = 360
SHEET_PAD = 16
SHEET_TITLE_H = 56
SHEET_CAPTION_LINES = 3
SHEET_FONT = 14


def sheet_grid(count: int, columns: int) -> tuple[int, int]:
    """(columns, rows) of a sheet of count panels; a short sheet is not wider than needed."""
    cols = max(1, min(int(columns), max(count, 1)))
    return cols, max(1, math.ceil(count / cols))


def storyboard_sheet(panels: Sequence[tuple[bytes, str]], title: str, columns: int = 3) -> bytes:
    """All panels of a world in a grid with wrapped captions under a title bar, as PNG."""
    thumbs: list[Image.Image | None] = []
    for png, _ in panels:
        try:
            im = Image.open(io.BytesIO(png))
            scene_h = _scene_height(im)
            im = im.convert("RGB")
            if 0 < scene_h < im.height:  # the sheet writes the caption itself: drop the panel's own strip
                im = im.crop((0, 0, im.width, scene_h))
            th = max(1, min(round(im.height * SHEET_THUMB_W / max(im.width, 1)), SHEET_THUMB_W * 2))
            thumbs.append(im.resize((SHEET_THUMB_W, th), Image.Resampling.LANCZOS))
        except Exception:  # a broken panel becomes a placeholder, not a failed sheet
            thumbs.append(None)
    cols, rows = sheet_grid(len(panels), columns)
    cell_h = max([t.height for t in thumbs if t] or [SHEET_THUMB_W * 2 // 3])
    line_h = int(SHEET_FONT * 1.3)
    cap_h = SHEET_CAPTION_LINES * line_h + SHEET_PAD // 2
    width = SHEET_PAD + cols * (SHEET_THUMB_W + SHEET_PAD)
    height = SHEET_TITLE_H + SHEET_PAD + rows * (cell_h + (cap_h if panels else 0) + SHEET_PAD)
    img = Image.new("RGB", (width, height), (234, 231, 222))
    d = SafeDraw(img)
    d.rectangle((0, 0, width, SHEET_TITLE_H), fill=INK)
    count = f"{len(panels)} panel{'s' if len(panels) != 1 else ''}"
    text(d, (width - SHEET_PAD, SHEET_TITLE_H / 2), count, SHEET_FONT, (190, 186, 176), "rm")
    room = width - SHEET_PAD * 3 - book().length(count, SHEET_FONT)
    text(d, (SHEET_PAD, SHEET_TITLE_H / 2), ellipsize(as_text(title) or "Storyboard", 26, room), 26, PAPER, "lm")
    if not panels:
        box = (SHEET_PAD, SHEET_TITLE_H + SHEET_PAD, SHEET_PAD + SHEET_THUMB_W, SHEET_TITLE_H + SHEET_PAD + cell_h)
        d.rectangle(box, fill=PAPER, outline=(150, 146, 138), width=2)
        text(d, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), "no panels yet", 20, (120, 116, 108), "mm")
    for i, ((_, caption), thumb) in enumerate(zip(panels, thumbs, strict=True)):
        x = SHEET_PAD + (i % cols) * (SHEET_THUMB_W + SHEET_PAD)
        y = SHEET_TITLE_H + SHEET_PAD + (i // cols) * (cell_h + cap_h + SHEET_PAD)
        if thumb is None:
            d.rectangle((x, y, x + SHEET_THUMB_W, y + cell_h), fill=PAPER, outline=(150, 146, 138))
            text(d, (x + SHEET_THUMB_W / 2, y + cell_h / 2), "unreadable panel", SHEET_FONT, INK, "mm")
        else:
            img.paste(thumb, (x, y + (cell_h - thumb.height) // 2))
        for j, row in enumerate(wrap(as_text(caption), SHEET_FONT, SHEET_THUMB_W, SHEET_CAPTION_LINES)):
            text(d, (x, y + cell_h + SHEET_PAD // 3 + j * line_h), row, SHEET_FONT, INK)
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=4)
    return buf.getvalue()


def _scene_height(im: Image.Image) -> int:
    """The scene height a storyboard panel notes in its PNG text, or 0."""
    try:
        return int(str(im.info.get(SCENE_HEIGHT_KEY, "0"))[:6])
    except ValueError:
        return 0


