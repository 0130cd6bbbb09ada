"""The embedded storyboard renderer: flat-colour PIL panels drawn from a job's board.

No model, no GPU: a panel is a backdrop for the location, lit for the time of day, with one
simple figure per framed character (colours taken from their appearance), props, weather and
a caption strip. Everything is a pure function of the job, so the same job gives the same PNG.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image, ImageChops

from engine.errors import RenderCancelled
from engine.jobs import Capabilities, Progress, RenderJob
from engine.renderers.storyboard.draw import SafeDraw, ellipsize, font, label, wrap
from engine.renderers.storyboard.figures import Figure, draw_figure, figure_for
from engine.renderers.storyboard.palette import (
    INK,
    PAPER,
    RGB,
    Light,
    as_list,
    as_text,
    character_colours,
    light_source,
    mix,
    shade,
    stable_bytes,
    time_light,
    words,
)
from engine.renderers.storyboard.scenes import Backdrop, draw_backdrop, draw_props

__all__ = ["SketchRenderer", "character_colours", "draw_panel", "figure_positions", "render_panel", "storyboard_sheet"]
# camera -> (figure height, head top, horizon), as fractions of the scene height.
CAMERAS: dict[str, tuple[float, float, float]] = {
    "extreme close up": (5.2, 0.06, 0.62),
    "close up": (3.2, 0.1, 0.62),
    "medium shot": (1.25, 0.12, 0.6),
    "full body": (0.66, 0.24, 0.6),
    "wide shot": (0.34, 0.5, 0.55),
    "establishing shot": (0.18, 0.64, 0.5),
    "low angle": (0.78, 0.2, 0.8),
    "high angle": (0.5, 0.36, 0.3),
    "bird's eye view": (0.26, 0.49, 0.06),
    "over the shoulder": (0.8, 0.16, 0.6),
}
ALIASES = {
    "closeup": "close up",
    "medium": "medium shot",
    "long shot": "wide shot",
    "wide": "wide shot",
    "birds eye": "bird's eye view",
    "bird's eye": "bird's eye view",
    "overhead": "bird's eye view",
    "top down": "bird's eye view",
    "ecu": "extreme close up",
    "cowboy": "medium shot",
    "waist up": "medium shot",
}
MAX_FIGURES = 6


@dataclass(frozen=True)
class Board:
    """The board dict reduced to safe, typed fields."""

    panel: str
    caption: str
    action: str
    camera: str
    location: str
    place: str
    props: list[str]
    time: str
    lighting: str
    light_from: str
    weather: str
    characters: list[dict[str, Any]]


def parse_board(raw: Any, panel: int) -> Board:
    """Read a board dict defensively: wrong types become empty values."""
    b = raw if isinstance(raw, dict) else {}
    chars = b.get("characters")
    chars = (
        [c if isinstance(c, dict) else {"name": as_text(c)} for c in chars[:40]]
        if isinstance(chars, (list, tuple))
        else []
    )
    return Board(
        panel=as_text(b.get("panel"), 12) or str(panel),
        caption=as_text(b.get("caption")),
        action=as_text(b.get("action")),
        camera=" ".join(words(as_text(b.get("camera")).replace("-", " "))),
        location=as_text(b.get("location"), 80),
        place=as_text(b.get("location_description")),
        props=as_list(b.get("props"), 8),
        time=as_text(b.get("time_of_day"), 40),
        lighting=as_text(b.get("lighting"), 80),
        light_from=as_text(b.get("light_from"), 20).lower(),
        weather=as_text(b.get("weather"), 40).lower(),
        characters=chars,
    )


def camera_of(camera: str) -> tuple[str, tuple[float, float, float]]:
    """The known camera a phrase names (longest match wins) and its framing."""
    name = next((v for k, v in sorted(ALIASES.items(), key=lambda kv: -len(kv[0])) if k in camera), "")
    name = next((k for k in sorted(CAMERAS, key=len, reverse=True) if k in camera), name)
    return name, CAMERAS.get(name, CAMERAS["full body"])


def _layout(b: Board, w: int, h: int) -> list[tuple[Figure, float, float, float]]:
    """Each drawn figure with its centre x, head-top y and height, back to front."""
    name, (size, top, _) = camera_of(b.camera)
    chars = b.characters[: 2 if name == "extreme close up" else MAX_FIGURES]
    n = len(chars)
    figs = [figure_for(c, i == 0 and b.action, b.camera) for i, c in enumerate(chars)]
    if size >= 1:  # framed from the waist up, height differences would only push heads out of frame
        figs = [replace(f, scale=1.0) for f in figs]
    out: list[tuple[Figure, float, float, float]] = []
    if name == "over the shoulder" and n >= 2:
        figs[0] = replace(figs[0].facing_away(), scale=1.0)
        rest = [
            (f.facing(-1), w * (0.5 + 0.45 * (i + 0.5) / (n - 1)), top * h, size * h / max(1, (n - 1) ** 0.3))
            for i, f in enumerate(figs[1:])
        ]
        return [*rest, (figs[0], w * 0.14, h * 0.36, h * 2.3)]
    for i, f in enumerate(figs):
        cell = w / n
        s = min(size * h, cell / 0.42 if size < 1.5 else cell / 0.3)
        depth = 0.9 if n >= 3 and i % 2 else 1.0  # stagger crowds so they read as a group
        t = top * h + (s - s * depth) * (0.9 if size < 1 else 0.2)
        out.append((f.facing(0 if n == 1 else (1 if i < n / 2 else -1)), cell * (i + 0.5), t, s * depth))
    out.sort(key=lambda o: o[2] + o[3])  # the lower the feet, the nearer the camera
    return out


def _gradient_mask(size: tuple[int, int], side: str, peak: int) -> Image.Image:
    """An L mask that is `peak` on the side away from the light and 0 towards it."""
    g = Image.linear_gradient("L")
    g = {
        "left": g.transpose(Image.Transpose.TRANSPOSE),
        "right": g.transpose(Image.Transpose.TRANSPOSE).transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        "above": g,
        "below": g.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
    }.get(side, g)
    return g.resize(size, Image.Resampling.BILINEAR).point(lambda v: v * peak // 255)


def _glow(
    size: tuple[int, int], centre: tuple[float, float], radius: float, colour: RGB, strength: float
) -> Image.Image:
    """An RGB image that is `colour` at centre fading to black: for a screen blend."""
    r = max(2, int(radius))
    blob = ImageChops.invert(Image.radial_gradient("L")).resize((2 * r, 2 * r), Image.Resampling.BILINEAR)
    mask = Image.new("L", size, 0)
    mask.paste(blob.point(lambda v: int(v * strength)), (int(centre[0]) - r, int(centre[1]) - r))
    return Image.composite(Image.new("RGB", size, colour), Image.new("RGB", size, 0), mask)


def _light(scene: Image.Image, b: Board, light: Light, bd: Backdrop) -> Image.Image:
    """Time-of-day tint, light-source glow and the shadow side of the frame."""
    w, h = scene.size
    if light.strength:
        scene = Image.blend(scene, Image.new("RGB", scene.size, light.tint), light.strength)
    src = light_source(b.lighting)
    side = {
        "left": (0.0, 0.45),
        "right": (1.0, 0.45),
        "above": (0.5, 0.0),
        "behind": (0.5, 0.55),
        "front": (0.5, 1.0),
    }.get(b.light_from)
    if src:
        colour, strength = src
        centre = (w * side[0], h * side[1]) if side else bd.lamp or (w * 0.5, h * 0.4)
        scene = ImageChops.screen(scene, _glow(scene.size, centre, max(w, h) * 0.55, colour, strength))
        if "neon" in b.lighting.lower():  # neon comes in pairs: cyan answers the magenta
            scene = ImageChops.screen(
                scene, _glow(scene.size, (w - centre[0], h * 0.5), max(w, h) * 0.5, (30, 220, 255), strength * 0.8)
            )
    away = {"left": "left", "right": "right", "above": "above", "front": ""}.get(b.light_from, "")
    if away:
        dark = scene.point(lambda v: v * 55 // 100)
        scene = Image.composite(dark, scene, _gradient_mask(scene.size, away, 120))
    if "overcast" in b.lighting.lower() or "gloom" in b.lighting.lower():
        scene = Image.blend(scene, scene.convert("L").convert("RGB"), 0.45)
    return scene


def _weather(scene: Image.Image, b: Board, light: Light, bd: Backdrop, seed: int) -> Image.Image:
    """Rain, snow, fog and storm drawn from the job seed; indoors only inside windows."""
    kinds = [k for k in ("rain", "snow", "fog", "storm", "mist", "drizzle", "blizzard") if k in b.weather]
    if not kinds or (bd.interior and not bd.windows):
        return scene
    w, h = scene.size
    rng = random.Random(f"weather:{seed}")
    layer = Image.new("RGBA", scene.size, (0, 0, 0, 0))
    d = SafeDraw(layer)
    storm = "storm" in kinds
    wet = mix((210, 218, 235), light.tint, light.strength * 0.5)
    if storm:
        scene = Image.blend(scene, Image.new("RGB", scene.size, (22, 24, 40)), 0.35)
    if storm or "rain" in kinds or "drizzle" in kinds:
        length, lw = h * 0.05, max(1, w // 500)
        for _ in range(int(w * h / (1500 if storm else 2600))):
            x, y = rng.uniform(-0.1, 1.0) * w, rng.uniform(-0.05, 1.0) * h
            d.line([(x, y), (x + length * 0.28, y + length)], fill=(*wet, rng.randint(70, 150)), width=lw)
    if "snow" in kinds or "blizzard" in kinds:
        for _ in range(int(w * h / 2200)):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.6, 1.0) * max(1.0, h * 0.006)
            d.ellipse((x - r, y - r, x + r, y + r), fill=(250, 250, 255, rng.randint(150, 240)))
    if storm:
        x, y = rng.uniform(0.25, 0.75) * w, 0.0
        pts = [(x, y)]
        while y < bd.horizon * 0.9:
            x, y = x + rng.uniform(-0.05, 0.05) * w, y + rng.uniform(0.05, 0.12) * h
            pts.append((x, y))
        d.line(pts, fill=(190, 200, 255, 90), width=max(3, w // 90))
        d.line(pts, fill=(255, 255, 255, 255), width=max(1, w // 300))
    if "fog" in kinds or "mist" in kinds:
        veil = _gradient_mask(scene.size, "below", 150)
        layer.alpha_composite(
            Image.merge(
                "RGBA", (*Image.new("RGB", scene.size, mix((220, 224, 230), light.tint, light.strength)).split(), veil)
            )
        )
    if bd.interior:  # only the windows show the weather
        keep = Image.new("L", scene.size, 0)
        for box in bd.windows:
            SafeDraw(keep).rectangle(box, fill=255)
        layer.putalpha(ImageChops.multiply(layer.getchannel("A"), keep))
    out = scene.convert("RGBA")
    out.alpha_composite(layer)
    return out.convert("RGB")


def caption_metrics(w: int, h: int) -> tuple[int, int, int]:
    """Font size, caption lines and scene height of a w x h panel (the caption strip is the rest)."""
    fs = max(7, min(int(min(w, h * 1.5) / 38), 44))
    lines = 1 if h < 160 else 2 if h < 1000 else 3
    return fs, lines, h - min(h // 3, int(lines * fs * 1.25 + fs * 0.9))


def figure_positions(board: Any, width: int, height: int) -> dict[str, tuple[float, float]]:
    """Where draw_panel puts each character's head, as (x, y) fractions of the panel image.

    Comic pages point speech balloons there. Characters past MAX_FIGURES are not drawn, so absent.
    """
    w, h = (max(16, min(int(v), 4096)) for v in (width, height))
    _, _, sh = caption_metrics(w, h)
    out: dict[str, tuple[float, float]] = {}
    for fig, cx, top, s in _layout(parse_board(board, 0), w, sh):
        head = top + s * (1 - fig.scale) + s * fig.scale * 0.08  # draw_figure's head centre
        if fig.name:
            out.setdefault(fig.name, (min(max(cx / w, 0.0), 1.0), min(max(head / h, 0.0), 1.0)))
    return out


def draw_panel(job: RenderJob) -> Image.Image:
    """The storyboard panel for a job as an RGB image of job.width x job.height."""
    w, h = (max(16, min(int(v), 4096)) for v in (job.width, job.height))
    b = parse_board(job.board, job.panel)
    fs, lines, sh = caption_metrics(w, h)
    light = time_light(b.time)
    cam, (_, _, horizon) = camera_of(b.camera)
    scene = Image.new("RGB", (w, sh), PAPER)
    bd = draw_backdrop(scene, b.location, b.place, light, horizon, stable_bytes("place", b.location, b.place))
    layout = _layout(b, w, sh)
    figs = Image.new("RGBA", scene.size, (0, 0, 0, 0))
    shadow = Image.new("L", scene.size, 0)
    fd, sd, gd = SafeDraw(figs), SafeDraw(shadow), SafeDraw(scene)
    small = max(6, int(fs * 0.72))
    prop_tags = draw_props(scene, b.props, bd, [cx for _, cx, _, _ in layout], small, cam)
    tags: list[tuple[float, float, str]] = []
    light_side = {"right": -1, "behind": 0, "above": 0}.get(b.light_from, 1)
    for fig, cx, top, s in layout:
        box = draw_figure(fd, fig, cx, top, s)
        feet = top + s
        if feet < sh:  # contact shadow so figures stand on the floor instead of floating
            gd.ellipse(
                (cx - s * 0.16, feet - s * 0.025, cx + s * 0.16, feet + s * 0.025),
                fill=shade(scene.getpixel((int(min(max(cx, 0), w - 1)), int(feet))), 0.6),
            )
        if b.light_from == "behind":
            sd.rectangle(box, fill=150)
        elif b.light_from == "above":
            sd.rectangle((box[0], box[1] + (box[3] - box[1]) * 0.55, box[2], box[3]), fill=80)
        elif b.light_from != "front":  # the far side of the body from the light, a flat marker tone
            edge = cx + light_side * (box[2] - box[0]) * 0.06
            half = (edge, box[1], box[2], box[3]) if light_side > 0 else (box[0], box[1], edge, box[3])
            sd.rectangle(half, fill=75 if b.light_from else 40)
        tags.append((cx, min(feet + fs * 0.3, sh - fs * 1.4), fig.name))
    alpha = figs.getchannel("A")
    rgb = Image.composite(
        Image.new("RGB", scene.size, (24, 22, 44)), figs.convert("RGB"), ImageChops.multiply(shadow, alpha)
    )
    scene.paste(rgb, (0, 0), alpha)
    scene = _weather(_light(scene, b, light, bd), b, light, bd, job.seed)
    if cam in ("point of view",) or "pov" in b.camera.split() or light.stars:
        scene = Image.composite(
            scene,
            scene.point(lambda v: v // 3),
            Image.radial_gradient("L")
            .resize(scene.size)
            .point(lambda v: 255 if v < 150 else max(0, 255 - (v - 150) * 2)),
        )
    d = SafeDraw(scene)
    for x, y, text in prop_tags:
        label(d, (x, y), text, small, "ma", fill=(255, 250, 220), max_w=w * 0.16)
    for cx, y, name in tags:
        if name:
            label(d, (min(max(cx, w * 0.06), w * 0.94), y), name, small, "ma", max_w=w / max(1, len(tags)) * 0.9)
    extra = len(b.characters) - len(layout)
    if extra > 0:
        label(d, (w - fs * 0.5, sh - fs * 0.5), f"+{extra} more", small, "rd")
    place = " · ".join(t for t in (b.location.upper(), b.time.lower(), b.weather) if t)
    if w < 150 or sh < 90:  # a thumbnail-sized panel has no room for corner labels
        return _frame(scene, b, h, fs, lines)
    if place:
        label(d, (fs * 0.5, fs * 0.5), place, small, max_w=w * 0.55)
    if b.camera:
        label(d, (w - fs * 0.5, fs * 0.5), b.camera.upper(), small, "ra", fill=INK, ink=PAPER, max_w=w * 0.4)
    return _frame(scene, b, h, fs, lines)


def _frame(scene: Image.Image, b: Board, h: int, fs: int, lines: int) -> Image.Image:
    """Paste the scene on paper with a caption strip, a panel badge and an ink border."""
    w, sh = scene.size
    img = Image.new("RGB", (w, h), PAPER)
    img.paste(scene, (0, 0))
    d = SafeDraw(img)
    bw = max(1, min(w, h) // 200)
    d.line([(0, sh), (w, sh)], fill=INK, width=bw)
    f, pad = font(fs), max(2, fs // 2)
    badge = f"#{b.panel}"
    bx1 = min(w * 0.3, pad + f.getlength(badge) + pad * 2)
    mid = sh + (h - sh) / 2
    d.rounded_rectangle((pad, mid - fs * 0.75, bx1, mid + fs * 0.75), radius=fs // 3, fill=INK)
    d.text(((pad + bx1) / 2, mid), ellipsize(badge, f, bx1 - pad * 2), font=f, fill=PAPER, anchor="mm")
    text = b.caption or b.action or "(no action yet)"
    rows = wrap(text, f, w - bx1 - pad * 3, lines)
    lh = fs * 1.25
    y = mid - lh * len(rows) / 2
    for row in rows:
        d.text((bx1 + pad * 1.5, y + lh / 2), row, font=f, fill=INK, anchor="lm")
        y += lh
    d.rectangle((0, 0, w - 1, h - 1), outline=INK, width=bw)
    return img


def _png(img: Image.Image) -> bytes:
    """PNG bytes without metadata, so equal images give equal bytes."""
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=4)  # faster than the default 6, nearly as small
    return buf.getvalue()


def render_panel(job: RenderJob) -> bytes:
    """One storyboard panel for a job, as PNG bytes."""
    return _png(draw_panel(job))


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
            im = Image.open(io.BytesIO(png)).convert("RGB")
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
    tf, sf = font(26), font(SHEET_FONT)
    d.text((width - SHEET_PAD, SHEET_TITLE_H / 2), count, font=sf, fill=(190, 186, 176), anchor="rm")
    d.text(
        (SHEET_PAD, SHEET_TITLE_H / 2),
        ellipsize(as_text(title) or "Storyboard", tf, width - SHEET_PAD * 3 - sf.getlength(count)),
        font=tf,
        fill=PAPER,
        anchor="lm",
    )
    if not panels:
        box = (SHEET_PAD, SHEET_TITLE_H + SHEET_PAD, SHEET_PAD + SHEET_THUMB_W, SHEET_TITLE_H + SHEET_PAD + cell_h)
        d.rectangle(box, fill=PAPER, outline=(150, 146, 138), width=2)
        d.text(
            ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2),
            "no panels yet",
            font=font(20),
            fill=(120, 116, 108),
            anchor="mm",
        )
    for i, ((_, caption), thumb) in enumerate(zip(panels, thumbs, strict=True)):
        x = SHEET_PAD + (i % cols) * (SHEET_THUMB_W + SHEET_PAD)
        y = SHEET_TITLE_H + SHEET_PAD + (i // cols) * (cell_h + cap_h + SHEET_PAD)
        if thumb is None:
            d.rectangle((x, y, x + SHEET_THUMB_W, y + cell_h), fill=PAPER, outline=(150, 146, 138))
            d.text((x + SHEET_THUMB_W / 2, y + cell_h / 2), "unreadable panel", font=sf, fill=INK, anchor="mm")
        else:
            img.paste(thumb, (x, y + (cell_h - thumb.height) // 2))
        for j, row in enumerate(wrap(as_text(caption), sf, SHEET_THUMB_W, SHEET_CAPTION_LINES)):
            d.text((x, y + cell_h + SHEET_PAD // 3 + j * line_h), row, font=sf, fill=INK)
    return _png(img)


class SketchRenderer:
    """The PIL storyboard renderer (engine.jobs.Renderer): no model, so nothing to load."""

    name = "sketch"
    capabilities = Capabilities()  # draws from the words alone

    def load(self) -> None:
        """Warm the font cache so the first panel is as fast as the rest."""
        font(14)

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        """One PNG per job, in order; stops with RenderCancelled when progress says so."""
        out: list[bytes] = []
        for job in jobs:
            out.append(render_panel(job))
            if progress(job.job_id, 1, 1) is False:
                raise RenderCancelled(job.job_id)
        return out

    def close(self) -> None:
        """Nothing to release."""
