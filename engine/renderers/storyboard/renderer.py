"""The embedded storyboard renderer: flat-colour PIL panels drawn from a job's board.

No model, no GPU: a panel is a backdrop for the location, lit for the time of day, with one
simple figure per framed character (colours taken from their words), props, weather and a
caption strip. Everything is a pure function of the job, so the same job gives the same PNG.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image, ImageChops, PngImagePlugin

from engine.errors import RenderCancelled
from engine.jobs import Capabilities, Progress, RenderJob
from engine.renderers.storyboard.acting import actors, expression, held
from engine.renderers.storyboard.atmosphere import light_scene, weather_scene
from engine.renderers.storyboard.creatures import creature_height
from engine.renderers.storyboard.draw import Parts, SafeDraw, ellipsize, label, text, wrap
from engine.renderers.storyboard.figure import Figure
from engine.renderers.storyboard.figures import draw_figure, figure_for
from engine.renderers.storyboard.fonts import book
from engine.renderers.storyboard.light import time_light
from engine.renderers.storyboard.looks import character_colours, panel_colours
from engine.renderers.storyboard.palette import INK, PAPER, as_list, as_text, shade, stable_bytes, words
from engine.renderers.storyboard.scenes import draw_backdrop, draw_props
from engine.renderers.storyboard.sheet import SCENE_HEIGHT_KEY, storyboard_sheet

__all__ = ["SketchRenderer", "character_colours", "draw_panel", "figure_positions", "render_panel", "storyboard_sheet"]
# camera -> (figure height, head top, horizon), as fractions of the scene height.
CAMERAS: dict[str, tuple[float, float, float]] = {
    "extreme close up": (5.2, 0.06, 0.62),
    "close up": (3.9, 0.1, 0.62),
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
    padded = f" {camera} "
    name = next((v for k, v in sorted(ALIASES.items(), key=lambda kv: -len(kv[0])) if f" {k} " in padded), "")
    name = next((k for k in sorted(CAMERAS, key=len, reverse=True) if f" {k} " in padded), name)
    return name, CAMERAS.get(name, CAMERAS["full body"])


def strip(w: int, h: int) -> tuple[int, int, int]:
    """(font size, caption lines, scene height) of a panel of w x h: the caption strip takes the rest."""
    fs = max(7, min(int(min(w, h * 1.5) / 38), 44))
    lines = 1 if h < 160 else 2 if h < 1000 else 3
    return fs, lines, h - min(h // 3, int(lines * fs * 1.25 + fs * 0.9))


def figures(b: Board) -> list[Figure]:
    """A Figure per framed character: the one who acts takes the action's pose, props and face."""
    chars = b.characters[:MAX_FIGURES]
    names = [[as_text(c.get("name"), 80), *as_list(c.get("aliases"), 6)] for c in chars]
    acting = actors(b.action, names) if b.action else []
    things = tuple(held(b.action)) if acting else ()
    mood = expression(b.action) if acting else ""
    colours = panel_colours(chars)
    out = []
    for i, c in enumerate(chars):
        acts = i in acting
        first = bool(acting) and i == acting[0]
        out.append(
            figure_for(
                c, b.camera, colours[i], action=b.action if acts else "", holding=things if first else (),
                expression=mood if acts else "", without=things if not first else (),
            )
        )
    return out


def _layout(b: Board, w: int, h: int) -> list[tuple[Figure, float, float, float]]:
    """Each drawn figure with its centre x, head-top y and height, back to front."""
    name, (size, top, _) = camera_of(b.camera)
    figs = figures(b)
    if name in ("close up", "extreme close up") and figs:  # a close-up is one face filling the frame
        names = [[as_text(c.get("name"), 80), *as_list(c.get("aliases"), 6)] for c in b.characters[:MAX_FIGURES]]
        who = actors(b.action, names)[0] if b.action else 0
        f = replace(figs[who], scale=1.0, look=0)
        if f.kind != "person":
            s = h * 0.88 / creature_height(f)
            return [(f, w / 2, h * 0.96 - s, s)]
        return [(f, w / 2, top * h, size * h)]
    n = len(figs)
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


def figure_positions(board: Any, width: int, height: int) -> dict[str, tuple[float, float]]:
    """Where draw_panel puts each drawn character's head, as (x, y) fractions of the panel image.

    Comic pages point speech balloons there. Characters not drawn (past MAX_FIGURES, or beside
    the one face of a close-up) are absent.
    """
    w, h = (max(16, min(int(v), 4096)) for v in (width, height))
    _, _, sh = strip(w, h)
    out: dict[str, tuple[float, float]] = {}
    for fig, cx, top, s in _layout(parse_board(board, 0), w, sh):
        head = top + s * (1 - fig.scale) + s * fig.scale * 0.08  # draw_figure's head centre
        if fig.name:
            out.setdefault(fig.name, (min(max(cx / w, 0.0), 1.0), min(max(head / h, 0.0), 1.0)))
    return out


def draw_panel(job: RenderJob, parts: Parts | None = None) -> Image.Image:
    """The storyboard panel for a job as an RGB image of job.width x job.height.

    When parts is a dict it is filled with where each named part was drawn (see draw.note).
    """
    w, h = (max(16, min(int(v), 4096)) for v in (job.width, job.height))
    b = parse_board(job.board, job.panel)
    fs, lines, sh = strip(w, h)
    light = time_light(b.time)
    cam, (_, _, horizon) = camera_of(b.camera)
    scene = Image.new("RGB", (w, sh), PAPER)
    bd = draw_backdrop(
        scene, b.location, b.place, light, horizon, stable_bytes("place", b.location, b.place), b.weather, parts
    )
    layout = _layout(b, w, sh)
    figs = Image.new("RGBA", scene.size, (0, 0, 0, 0))
    shadow = Image.new("L", scene.size, 0)
    fd, sd, gd = SafeDraw(figs), SafeDraw(shadow), SafeDraw(scene)
    small = max(6, int(fs * 0.72))
    prop_tags = draw_props(scene, b.props, bd, [cx for _, cx, _, _ in layout], small, cam)
    tags: list[tuple[float, float, str]] = []
    light_side = {"right": -1, "behind": 0, "above": 0}.get(b.light_from, 1)
    for fig, cx, top, s in layout:
        box = draw_figure(fd, fig, cx, top, s, parts)
        feet = top + s
        if feet < sh and bd.kind != "space":  # contact shadow so figures stand on the floor instead of floating
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
    scene = weather_scene(light_scene(scene, b.lighting, b.light_from, light, bd), b.weather, light, bd, job.seed)
    if "pov" in b.camera.split() or "point of view" in b.camera or (light.stars and bd.kind != "space"):
        scene = Image.composite(
            scene,
            scene.point(lambda v: v // 3),
            Image.radial_gradient("L")
            .resize(scene.size)
            .point(lambda v: 255 if v < 150 else max(0, 255 - (v - 150) * 2)),
        )
    d = SafeDraw(scene)
    for x, y, tag in prop_tags:
        label(d, (x, y), tag, small, "ma", fill=(255, 250, 220), max_w=w * 0.16)
    close = cam in ("close up", "extreme close up")
    for cx, y, name in tags:
        if name and not close:
            label(d, (min(max(cx, w * 0.06), w * 0.94), y), name, small, "ma", max_w=w / max(1, len(tags)) * 0.9)
    extra = len(b.characters) - len(layout)
    if extra > 0:
        label(d, (w - fs * 0.5, sh - fs * 0.5), f"+{extra} more", small, "rd")
    if w < 150 or sh < 90:  # a thumbnail-sized panel has no room for corner labels
        return _frame(scene, b, h, fs, lines)
    who = layout[0][0].name if close and layout else ""
    place = " · ".join(t for t in (b.location.upper(), b.time.lower(), b.weather, who) if t)
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
    pad = max(2, fs // 2)
    badge = f"#{b.panel}"
    bx1 = min(w * 0.3, pad + book().length(badge, fs) + pad * 2)
    mid = sh + (h - sh) / 2
    d.rounded_rectangle((pad, mid - fs * 0.75, bx1, mid + fs * 0.75), radius=fs // 3, fill=INK)
    text(d, ((pad + bx1) / 2, mid), ellipsize(badge, fs, bx1 - pad * 2), fs, PAPER, "mm")
    caption = b.caption or b.action or "(no action yet)"
    rows = wrap(caption, fs, w - bx1 - pad * 3, lines)
    lh = fs * 1.25
    y = mid - lh * len(rows) / 2
    for row in rows:
        text(d, (bx1 + pad * 1.5, y + lh / 2), row, fs, INK, "lm")
        y += lh
    d.rectangle((0, 0, w - 1, h - 1), outline=INK, width=bw)
    return img


def render_panel(job: RenderJob) -> bytes:
    """One storyboard panel for a job, as PNG bytes; it notes the scene's height so a sheet can drop the caption."""
    img = draw_panel(job)
    info = PngImagePlugin.PngInfo()
    info.add_text(SCENE_HEIGHT_KEY, str(strip(*img.size)[2]))
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=4, pnginfo=info)  # level 4: faster than the default 6, nearly as small
    return buf.getvalue()


class SketchRenderer:
    """The PIL storyboard renderer (engine.jobs.Renderer): no model, so nothing to load."""

    name = "sketch"
    capabilities = Capabilities()  # draws from the words alone

    def load(self) -> None:
        """Warm the font cache so the first panel is as fast as the rest."""
        book().length("Aa", 14)

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
