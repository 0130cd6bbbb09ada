"""Scenes of the sketch renderer: the backdrop for a place (indoors, outdoors or unknown) and its props."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from engine.renderers.storyboard.draw import Parts, note, vgrad
from engine.renderers.storyboard.draw import ellipsize as fit
from engine.renderers.storyboard.draw import text as draw_text
from engine.renderers.storyboard.exteriors import draw_exterior
from engine.renderers.storyboard.interiors import draw_interior
from engine.renderers.storyboard.items import HELD, draw_held
from engine.renderers.storyboard.light import Light
from engine.renderers.storyboard.palette import INK, find_colour, hashed_colour, shade, words
from engine.renderers.storyboard.places import classify

NEUTRAL_WALL = (206, 204, 198)
NEUTRAL_FLOOR = (168, 164, 156)


@dataclass
class Backdrop:
    """What the backdrop left for later passes: where the floor, windows, table and lamp are."""

    interior: bool
    horizon: float
    kind: str
    windows: list[tuple[float, float, float, float]] = field(default_factory=list)
    table: tuple[float, float, float] | None = None  # x0, top y, x1
    lamp: tuple[float, float] | None = None


def draw_backdrop(
    scene: Image.Image, location: str, place: str, light: Light, horizon: float, key: bytes, weather: str = "",
    parts: Parts | None = None,
) -> Backdrop:
    """Paint the location; scenery comes from the location's words so it recurs across panels."""
    h = scene.size[1]
    rng = random.Random(key)
    where = classify(location, place)
    hz = h * horizon
    if where.kind == "unknown":
        return _unknown(scene, location, hz, parts)
    if where.interior:
        room = draw_interior(scene, where.kind, light, hz, rng, "table" in words(place), parts)
        return Backdrop(True, hz, where.kind, room.windows, room.table, room.lamp)
    lamp = draw_exterior(scene, where.kind, where.snowy, light, hz, weather, rng, f"{location} {place}", parts)
    return Backdrop(False, hz, where.kind, lamp=lamp)


def _unknown(scene: Image.Image, location: str, hz: float, parts: Parts | None) -> Backdrop:
    """A plain studio backdrop with the place's name on it: nothing drawn that the words did not say."""
    w, h = scene.size
    scene.paste(vgrad((w, int(hz) + 1), shade(NEUTRAL_WALL, 1.08), NEUTRAL_WALL), (0, 0))
    scene.paste(vgrad((w, h - int(hz)), NEUTRAL_FLOOR, shade(NEUTRAL_FLOOR, 0.9)), (0, int(hz)))
    d = ImageDraw.Draw(scene)
    d.line([(0, hz), (w, hz)], fill=shade(NEUTRAL_FLOOR, 0.7), width=max(1, h // 250))
    note(parts, "place.wall", (w * 0.02, hz * 0.6, w * 0.06, hz * 0.7))
    name = location.strip()
    if name and w >= 60 and h >= 40:
        size = max(8, min(int(h * 0.09), int(w / max(6, len(name)) * 1.6)))
        label = fit(name.upper(), size, w * 0.8)
        draw_text(d, (w / 2, hz * 0.22), label, size, shade(NEUTRAL_WALL, 0.62), "mm")
        note(parts, "place.name", (w * 0.1, hz * 0.22 - size * 0.7, w * 0.9, hz * 0.22 + size * 0.7))
    return Backdrop(False, hz, "unknown")


PROP_ICONS = {
    **HELD,
    "table": "table",
    "chair": "table",
    "bench": "table",
    "barrel": "bag",
    "fire": "fire",
    "campfire": "fire",
    "fireplace": "fire",
    "door": "sheet",
    "painting": "sheet",
    "window": "sheet",
}


def short_name(text: str, max_words: int = 3) -> str:
    """A prop's label: 'a lantern on the table' -> 'lantern'."""
    head = re.split(r"\b(?:on|in|at|by|under|near|next|beside|behind|with|from|of|against)\b", text.lower())[0]
    toks = [t for t in head.split() if t not in ("a", "an", "the", "some", "two", "three")]
    return " ".join(toks[-max_words:]) or text[:20]


def draw_props(
    scene: Image.Image, props: list[str], bd: Backdrop, figure_xs: list[float], size: int, camera: str
) -> list[tuple[float, float, str]]:
    """Props as small icons on the table or floor, away from the figures; returns their tags."""
    w, h = scene.size
    if not props or "close up" in camera or h < 80:
        return []
    d = ImageDraw.Draw(scene)
    u, ow = max(4.0, h * 0.035), max(1, h // 250)
    slots = [(k + 0.5) / 9 * w for k in range(9)]
    slots.sort(key=lambda x: -min([abs(x - f) for f in figure_xs] or [w]))
    tags = []
    for i, (text, x) in enumerate(zip(props, sorted(slots[: len(props)]), strict=False)):
        on_table = bd.table is not None and bool({"table", "bar", "counter", "desk"} & set(words(text)))
        if on_table and bd.table:
            x = bd.table[0] + (bd.table[2] - bd.table[0]) * (i + 1) / (len(props) + 1)
            y = bd.table[1] - h * 0.01
        else:
            y = bd.horizon + (h - bd.horizon) * 0.62
        kind = next((PROP_ICONS[t] for t in words(text) if t in PROP_ICONS), "box")
        wooden = {"barrel", "crate", "chest", "box", "table", "chair", "bench", "door"} & set(words(text))
        colour = find_colour(text) or ((150, 104, 64) if wooden else hashed_colour(text, "prop", 0.45, 0.75))
        if kind in ("lantern", "cup", "sheet", "blade", "flower", "staff"):
            draw_held(d, kind, colour, x, y - u * (2.6 if kind == "lantern" else 0.2), u * 20, ow, 1)
        elif kind == "fire":
            d.polygon([(x - u, y), (x, y - u * 2.2), (x + u, y)], fill=(250, 150, 40), outline=INK, width=ow)
            d.polygon([(x - u * 0.5, y), (x, y - u * 1.2), (x + u * 0.5, y)], fill=(255, 230, 120))
        elif kind == "table":
            d.rectangle((x - u * 1.6, y - u * 1.4, x + u * 1.6, y - u * 1.1), fill=(132, 90, 56), outline=INK, width=ow)
            for sgn in (-1, 1):
                d.line([(x + sgn * u * 1.3, y - u * 1.1), (x + sgn * u * 1.3, y)], fill=INK, width=ow + 1)
        else:
            d.rectangle((x - u, y - u * 1.6, x + u, y), fill=colour, outline=INK, width=ow)
            d.line([(x - u, y - u * 1.1), (x + u, y - u * 1.1)], fill=INK, width=ow)
        tags.append((x, y + u * 0.3 + (u * 1.6 if on_table and i % 2 else 0), short_name(text)))
    return tags
