"""Scenes of the sketch renderer: the location backdrop (indoor or outdoor) and props."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from PIL import Image, ImageDraw

from engine.renderers.storyboard.draw import vgrad
from engine.renderers.storyboard.figures import HELD, draw_held
from engine.renderers.storyboard.palette import INK, RGB, Light, find_colour, hashed_colour, mix, shade, words

INDOOR = {
    "wood": ("tavern", "inn", "pub", "bar", "cabin", "saloon", "hut", "barn", "attic", "ship"),
    "stone": ("cave", "dungeon", "cellar", "crypt", "tunnel", "mine", "prison", "cell", "vault"),
    "hall": ("hall", "castle", "throne", "temple", "church", "palace", "cathedral", "chapel", "museum"),
    "kitchen": ("kitchen", "bakery", "restaurant", "cafe", "diner"),
    "library": ("library", "study", "archive", "bookshop", "office", "classroom", "lab", "laboratory"),
    "room": (
        "room",
        "house",
        "bedroom",
        "apartment",
        "home",
        "shop",
        "store",
        "studio",
        "interior",
        "inside",
        "indoors",
        "corridor",
        "hallway",
        "chamber",
        "train",
        "station",
        "warehouse",
        "workshop",
        "basement",
        "lobby",
        "hotel",
        "hospital",
    ),
}
OUTDOOR = {
    "forest": ("forest", "woods", "jungle", "grove", "woodland", "trees", "swamp"),
    "city": (
        "city",
        "street",
        "alley",
        "town",
        "village",
        "market",
        "square",
        "road",
        "rooftop",
        "downtown",
        "bridge",
        "plaza",
    ),
    "sea": (
        "beach",
        "sea",
        "ocean",
        "harbor",
        "harbour",
        "shore",
        "coast",
        "lighthouse",
        "dock",
        "pier",
        "lake",
        "island",
        "port",
        "river",
        "bay",
    ),
    "mountain": ("mountain", "mountains", "cliff", "peak", "valley", "canyon", "ridge", "glacier"),
    "desert": ("desert", "dunes", "wasteland", "savanna"),
    "field": (
        "field",
        "meadow",
        "plain",
        "hill",
        "hills",
        "park",
        "garden",
        "farm",
        "outside",
        "outdoors",
        "sky",
        "graveyard",
        "ruins",
        "camp",
        "countryside",
    ),
}
WALLS: dict[str, tuple[RGB, RGB]] = {  # style -> (wall, floor)
    "wood": ((152, 106, 66), (112, 76, 48)),
    "stone": ((112, 106, 100), (86, 80, 74)),
    "hall": ((172, 164, 150), (122, 112, 100)),
    "kitchen": ((226, 214, 182), (160, 130, 100)),
    "library": ((126, 76, 52), (104, 70, 50)),
    "room": ((208, 198, 178), (150, 118, 90)),
}
GROUNDS: dict[str, RGB] = {
    "forest": (84, 128, 64),
    "city": (118, 118, 124),
    "sea": (218, 200, 150),
    "mountain": (126, 138, 104),
    "desert": (222, 192, 132),
    "field": (124, 168, 88),
}


@dataclass
class Backdrop:
    """What the backdrop left for later passes: where the floor, windows, table and lamp are."""

    interior: bool
    horizon: float
    style: str
    windows: list[tuple[float, float, float, float]]
    table: tuple[float, float, float] | None = None  # x0, top y, x1
    lamp: tuple[float, float] | None = None


def classify(location: str, place: str) -> tuple[bool, str]:
    """(interior?, style) from the location name and its description."""
    toks = words(location) * 2 + words(place)
    best = (0, False, "field")
    for interior, table in ((True, INDOOR), (False, OUTDOOR)):
        for style, keys in table.items():
            score = sum(t in keys for t in toks)
            best = max(best, (score, interior, style), key=lambda b: b[0])
    return best[1], best[2]


def draw_backdrop(scene: Image.Image, location: str, place: str, light: Light, horizon: float, key: bytes) -> Backdrop:
    """Paint the location; scenery comes from the location name so it recurs across panels."""
    w, h = scene.size
    rng = random.Random(key)
    interior, style = classify(location, place)
    hz = h * horizon
    bd = Backdrop(interior, hz, style, [])
    d = ImageDraw.Draw(scene)
    ow = max(1, h // 250)
    if interior:
        wall, floor = WALLS[style]
        bx0, bx1, by0 = w * 0.14, w * 0.86, min(h * 0.08, hz * 0.5)
        d.polygon([(0, 0), (w, 0), (bx1, by0), (bx0, by0)], fill=shade(wall, 0.7))
        d.rectangle((bx0, by0, bx1, hz), fill=wall)
        d.polygon([(0, 0), (bx0, by0), (bx0, hz), (0, h)], fill=shade(wall, 0.86))
        d.polygon([(w, 0), (bx1, by0), (bx1, hz), (w, h)], fill=shade(wall, 0.8))
        d.polygon([(bx0, hz), (bx1, hz), (w, h), (0, h)], fill=floor)
        for k in range(1, 9):  # floorboards converge on the back wall: cheap perspective
            d.line([(bx0 + (bx1 - bx0) * k / 9, hz), (w * k / 9, h)], fill=shade(floor, 0.82), width=ow)
        for p in ((bx0, by0), (bx1, by0)):
            d.line([p, (p[0], hz)], fill=shade(wall, 0.6), width=ow)
        d.line([(0, h), (bx0, hz), (bx1, hz), (w, h)], fill=shade(wall, 0.55), width=ow)
        span, wall_h = bx1 - bx0, hz - by0
        if style == "wood":
            for k in range(1, 6):
                d.line([(bx0, by0 + wall_h * k / 6), (bx1, by0 + wall_h * k / 6)], fill=shade(wall, 0.85), width=ow)
            d.rectangle(
                (bx0 + span * 0.04, hz - wall_h * 0.3, bx0 + span * 0.45, hz),
                fill=shade(wall, 0.6),
                outline=INK,
                width=ow,
            )  # the bar counter
            d.line(
                [(bx0 + span * 0.04, hz - wall_h * 0.62), (bx0 + span * 0.45, hz - wall_h * 0.62)],
                fill=shade(wall, 0.5),
                width=max(1, h // 120),
            )
            for k in range(7):
                x = bx0 + span * (0.07 + k * 0.053)
                d.rectangle(
                    (x, hz - wall_h * 0.76, x + span * 0.022, hz - wall_h * 0.62),
                    fill=((60, 120, 70), (120, 50, 40), (200, 170, 90))[k % 3],
                    outline=INK,
                    width=1,
                )
        elif style == "stone":
            for _ in range(40):
                x, y, r = rng.uniform(0, w), rng.uniform(0, hz), rng.uniform(0.02, 0.06) * h
                d.ellipse((x - r * 1.4, y - r, x + r * 1.4, y + r), fill=shade(wall, rng.uniform(0.75, 1.1)))
        elif style == "hall":
            for fx in (0.18, 0.82):
                x = bx0 + span * fx
                d.rectangle((x - span * 0.05, by0, x + span * 0.05, hz), fill=shade(wall, 1.15), outline=INK, width=ow)
            d.polygon(
                [
                    (bx0 + span * 0.43, by0),
                    (bx0 + span * 0.57, by0),
                    (bx0 + span * 0.57, by0 + wall_h * 0.6),
                    (bx0 + span * 0.5, by0 + wall_h * 0.5),
                    (bx0 + span * 0.43, by0 + wall_h * 0.6),
                ],
                fill=(150, 40, 50),
                outline=INK,
                width=ow,
            )
        elif style == "library":
            for row in range(4):
                y0 = by0 + wall_h * (0.08 + row * 0.23)
                x = bx0 + span * 0.03
                while x < bx1 - span * 0.05:
                    bw = span * rng.uniform(0.012, 0.025)
                    d.rectangle(
                        (x, y0 + wall_h * rng.uniform(0, 0.05), x + bw, y0 + wall_h * 0.2),
                        fill=hashed_colour(str(rng.random()), "book", 0.5, 0.6),
                        outline=INK,
                        width=1,
                    )
                    x += bw + 1
        elif style == "kitchen":
            for k in range(1, 12):
                d.line(
                    [(bx0 + span * k / 12, hz - wall_h * 0.45), (bx0 + span * k / 12, hz)],
                    fill=shade(wall, 0.85),
                    width=1,
                )
            d.rectangle((bx0, hz - wall_h * 0.3, bx1, hz), fill=(150, 110, 80), outline=INK, width=ow)
        if style != "stone" and style != "library":
            win = (bx0 + span * 0.6, by0 + wall_h * 0.14, bx0 + span * 0.84, by0 + wall_h * 0.56)
            scene.paste(
                vgrad((int(win[2] - win[0]), int(win[3] - win[1])), light.sky_top, light.sky_low),
                (int(win[0]), int(win[1])),
            )
            d.rectangle(win, outline=INK, width=max(2, ow * 2))
            d.line([((win[0] + win[2]) / 2, win[1]), ((win[0] + win[2]) / 2, win[3])], fill=INK, width=ow)
            d.line([(win[0], (win[1] + win[3]) / 2), (win[2], (win[1] + win[3]) / 2)], fill=INK, width=ow)
            bd.windows.append(win)
        bd.lamp = (bx0 + span * 0.3, by0 + wall_h * 0.35)
        if style in ("wood", "kitchen", "room") or "table" in place.lower():
            tx, ty, tw = w * 0.5, hz + (h - hz) * 0.3, w * 0.15
            for sgn in (-1, 1):
                d.line(
                    [(tx + sgn * tw * 0.8, ty), (tx + sgn * tw * 0.8, ty + (h - hz) * 0.28)],
                    fill=INK,
                    width=max(2, w // 200),
                )
            d.ellipse((tx - tw, ty - h * 0.03, tx + tw, ty + h * 0.03), fill=(132, 90, 56), outline=INK, width=ow)
            bd.table = (tx - tw * 0.8, ty, tx + tw * 0.8)
        return bd
    scene.paste(vgrad((w, int(hz) + 1), light.sky_top, light.sky_low), (0, 0))
    ground = GROUNDS[style]
    scene.paste(vgrad((w, h - int(hz)), shade(ground, 0.82), ground), (0, int(hz)))
    if light.stars:
        for _ in range(int(w * hz / 3000)):
            x, y = rng.uniform(0, w), rng.uniform(0, hz * 0.85)
            d.point((x, y), fill=(230, 232, 245))
    dusk = light.strength >= 0.12 and not light.stars
    sun = (w * 0.78, hz * (0.82 if dusk else 0.3))
    sr = h * (0.07 if dusk else 0.05)
    if light.stars:
        d.ellipse((sun[0] - sr, sun[1] - sr, sun[0] + sr, sun[1] + sr), fill=(236, 234, 214))
        d.ellipse((sun[0] - sr * 0.5, sun[1] - sr * 1.1, sun[0] + sr * 1.3, sun[1] + sr * 0.7), fill=light.sky_top)
    elif hz > sr * 2:
        d.ellipse(
            (sun[0] - sr, sun[1] - sr, sun[0] + sr, sun[1] + sr), fill=(255, 186, 110) if dusk else (255, 246, 206)
        )
    if style == "forest":
        for row, (scale, tone) in enumerate(((0.7, 0.72), (1.0, 0.55))):
            for _ in range(int(8 + row * 4)):
                x, th = rng.uniform(-0.05, 1.05) * w, h * rng.uniform(0.22, 0.38) * scale
                base = hz + row * h * 0.04
                d.rectangle((x - th * 0.04, base - th * 0.4, x + th * 0.04, base), fill=(84, 60, 40))
                d.polygon(
                    [(x, base - th), (x - th * 0.28, base - th * 0.25), (x + th * 0.28, base - th * 0.25)],
                    fill=shade((60, 120, 64), tone + rng.uniform(0, 0.15)),
                    outline=INK,
                    width=ow,
                )
    elif style == "city":
        x = -rng.uniform(0, 0.05) * w
        while x < w:
            bw, bh = w * rng.uniform(0.07, 0.15), h * rng.uniform(0.15, 0.5)
            col = shade((132, 134, 150), rng.uniform(0.7, 1.1))
            d.rectangle((x, hz - bh, x + bw, hz), fill=col, outline=INK, width=ow)
            lit = light.stars or light.strength > 0.2
            for wy in range(int(bh / (h * 0.06))):
                for wx in range(max(1, int(bw / (w * 0.035)))):
                    on = lit and rng.random() < 0.45
                    px, py = x + w * 0.012 + wx * w * 0.035, hz - bh + h * 0.025 + wy * h * 0.06
                    if px + w * 0.015 < x + bw:
                        d.rectangle(
                            (px, py, px + w * 0.015, py + h * 0.028), fill=(255, 214, 120) if on else shade(col, 0.75)
                        )
            x += bw + w * rng.uniform(0, 0.02)
        d.polygon([(w * 0.42, hz), (w * 0.58, hz), (w * 1.05, h), (-w * 0.05, h)], fill=(86, 86, 94))
        for k in range(6):
            t0, t1 = (k / 6) ** 2, ((k + 0.5) / 6) ** 2
            d.line(
                [(w / 2, hz + (h - hz) * t0), (w / 2, hz + (h - hz) * t1)],
                fill=(230, 220, 150),
                width=max(1, int(w * 0.004 * (1 + 3 * t1))),
            )
    elif style == "sea":
        water = hz + (h - hz) * 0.35
        scene.paste(
            vgrad((w, int(water - hz) + 1), mix((40, 96, 150), light.sky_low, 0.3), (50, 120, 160)), (0, int(hz))
        )
        for _ in range(14):
            x, y = rng.uniform(0, w), rng.uniform(hz + 2, water - 2)
            d.arc((x - w * 0.03, y - h * 0.01, x + w * 0.03, y + h * 0.01), 200, 340, fill=(220, 236, 245), width=ow)
        if "lighthouse" in (location + " " + place).lower():
            lx, lb, lt = w * 0.86, hz + h * 0.02, hz - h * 0.45
            d.polygon(
                [(lx - w * 0.035, lb), (lx + w * 0.035, lb), (lx + w * 0.022, lt), (lx - w * 0.022, lt)],
                fill=(240, 238, 230),
                outline=INK,
                width=ow,
            )
            for k in (1, 3):
                y0, y1 = lb + (lt - lb) * k / 5, lb + (lt - lb) * (k + 1) / 5
                d.rectangle((lx - w * 0.03, y1, lx + w * 0.03, y0), fill=(190, 50, 50))
            d.rectangle(
                (lx - w * 0.022, lt - h * 0.06, lx + w * 0.022, lt), fill=(255, 226, 120), outline=INK, width=ow
            )
            d.polygon([(lx - w * 0.03, lt - h * 0.06), (lx + w * 0.03, lt - h * 0.06), (lx, lt - h * 0.11)], fill=INK)
            bd.lamp = (lx, lt - h * 0.03)
    elif style in ("mountain", "desert", "field"):
        for _ in range(5 if style == "mountain" else 3):
            x, pw = rng.uniform(0, w), w * rng.uniform(0.15, 0.35)
            if style == "mountain":
                ph = h * rng.uniform(0.15, 0.35)
                tone = shade((110, 120, 146), rng.uniform(0.8, 1.1))
                d.polygon([(x - pw, hz), (x, hz - ph), (x + pw, hz)], fill=tone, outline=INK, width=ow)
                d.polygon(
                    [(x - pw * 0.22, hz - ph * 0.78), (x, hz - ph), (x + pw * 0.22, hz - ph * 0.78)],
                    fill=(240, 242, 248),
                )
            else:
                ph = h * rng.uniform(0.05, 0.12)
                d.chord((x - pw, hz - ph, x + pw, hz + ph), 180, 360, fill=shade(ground, rng.uniform(0.85, 0.95)))
        if style == "field":
            tx, th = w * 0.1, h * 0.35
            d.rectangle(
                (tx - th * 0.04, hz - th * 0.5, tx + th * 0.04, hz + h * 0.03), fill=(92, 66, 44), outline=INK, width=ow
            )
            d.ellipse((tx - th * 0.3, hz - th, tx + th * 0.3, hz - th * 0.4), fill=(70, 128, 62), outline=INK, width=ow)
            d.polygon([(w * 0.48, hz), (w * 0.52, hz), (w * 0.7, h), (w * 0.3, h)], fill=shade(ground, 1.25))
    d.line([(0, hz), (w, hz)], fill=shade(ground, 0.5), width=ow)
    return bd


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
