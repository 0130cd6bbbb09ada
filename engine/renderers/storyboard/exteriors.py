"""Outdoor backdrops of the sketch renderer: sky, sun or moon, and the ground and landmarks of each kind of place.

A harbour has water, a pier and boats; a canyon red rock; a desert dunes and a cactus; a snowy
mountain white ground; a city street buildings, a road and lamps; a ship's deck planks, a rail
and a mast; space stars and a planet. The sun stays in when there is fog, rain, snow or night.
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from engine.renderers.storyboard.draw import Parts, note, vgrad
from engine.renderers.storyboard.light import Light
from engine.renderers.storyboard.palette import INK, RGB, mix, shade, words

GROUNDS: dict[str, RGB] = {
    "forest": (84, 128, 64), "city": (118, 118, 124), "beach": (222, 200, 150), "harbour": (140, 136, 128),
    "mountain": (126, 138, 104), "desert": (226, 190, 128), "field": (124, 168, 88), "canyon": (190, 110, 70),
    "ship": (150, 104, 64), "space": (14, 14, 26),
}
WATER: RGB = (46, 110, 160)
WOOD: RGB = (142, 96, 58)
ROCK: RGB = (186, 84, 52)
SNOW: RGB = (244, 246, 250)
SAND: RGB = (226, 196, 140)
NO_SUN = frozenset("fog foggy mist misty rain rainy drizzle storm stormy thunderstorm snow snowing blizzard overcast "
                   "cloudy haze hazy".split())


def sun_out(weather: str, light: Light) -> bool:
    """Whether a sun disc belongs in the sky: not at night, not in fog, rain, snow or overcast."""
    return not light.stars and not (set(words(weather)) & NO_SUN)


def draw_exterior(
    scene: Image.Image, kind: str, snowy: bool, light: Light, hz: float, weather: str, rng: random.Random,
    landmarks: str, parts: Parts | None,
) -> tuple[float, float] | None:
    """Paint an outdoor place; returns where a lamp glows (a lighthouse), if anywhere."""
    w, h = scene.size
    d = ImageDraw.Draw(scene)
    ow = max(1, h // 250)
    if kind == "space":
        scene.paste(vgrad((w, h), (4, 4, 14), (18, 16, 40)), (0, 0))
        for _ in range(int(w * h / 900)):
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            d.point((x, y), fill=(235, 235, 250))
        pr = h * 0.22
        px, py = w * 0.78, h * 0.3
        d.ellipse((px - pr, py - pr, px + pr, py + pr), fill=(200, 120, 80), outline=INK, width=ow)
        d.arc((px - pr * 1.7, py - pr * 0.35, px + pr * 1.7, py + pr * 0.35), -20, 200, fill=(230, 210, 170),
              width=max(2, int(pr * 0.08)))
        note(parts, "place.planet", (px - pr * 0.3, py - pr * 0.7, px + pr * 0.3, py - pr * 0.45))
        note(parts, "place.sky", (w * 0.05, h * 0.05, w * 0.15, h * 0.12))
        return None
    scene.paste(vgrad((w, int(hz) + 1), light.sky_top, light.sky_low), (0, 0))
    note(parts, "place.sky", (w * 0.05, hz * 0.05, w * 0.2, hz * 0.25))
    ground = SNOW if snowy else GROUNDS.get(kind, GROUNDS["field"])
    scene.paste(vgrad((w, h - int(hz)), shade(ground, 0.85), ground), (0, int(hz)))
    if light.stars:
        for _ in range(int(w * hz / 3000)):
            d.point((rng.uniform(0, w), rng.uniform(0, hz * 0.85)), fill=(230, 232, 245))
    dusk = light.strength >= 0.12 and not light.stars
    sun = (w * 0.78, hz * (0.82 if dusk else 0.3))
    sr = h * (0.07 if dusk else 0.05)
    if light.stars and not set(words(weather)) & NO_SUN:
        d.ellipse((sun[0] - sr, sun[1] - sr, sun[0] + sr, sun[1] + sr), fill=(236, 234, 214))
        d.ellipse((sun[0] - sr * 0.5, sun[1] - sr * 1.1, sun[0] + sr * 1.3, sun[1] + sr * 0.7), fill=light.sky_top)
    elif sun_out(weather, light) and hz > sr * 2:
        d.ellipse((sun[0] - sr, sun[1] - sr, sun[0] + sr, sun[1] + sr), fill=(255, 186, 110) if dusk else SUN)
        note(parts, "place.sun", (sun[0] - sr * 0.3, sun[1] - sr * 0.3, sun[0] + sr * 0.3, sun[1] + sr * 0.3))
    draw = _KINDS.get(kind, _field)
    lamp = draw(scene, d, w, h, hz, ground, light, rng, ow, snowy, parts)
    if "lighthouse" in words(landmarks) and kind in ("harbour", "beach"):
        lamp = _lighthouse(d, w, h, hz, ow)
    d.line([(0, hz), (w, hz)], fill=shade(ground, 0.5), width=ow)
    return lamp


SUN: RGB = (255, 246, 206)


def _sea(scene: Image.Image, d: ImageDraw.ImageDraw, w: int, h: int, hz: float, light: Light, rng: random.Random,
         ow: int, depth: float, parts: Parts | None) -> float:
    """Water from the horizon down to depth of the ground; returns where it ends."""
    water = hz + (h - hz) * depth
    scene.paste(vgrad((w, int(water - hz) + 1), mix(WATER, light.sky_low, 0.25), WATER), (0, int(hz)))
    for _ in range(14):
        x, y = rng.uniform(0, w), rng.uniform(hz + 2, water - 2)
        d.arc((x - w * 0.03, y - h * 0.01, x + w * 0.03, y + h * 0.01), 200, 340, fill=(220, 236, 245), width=ow)
    note(parts, "place.water", (w * 0.02, water - (water - hz) * 0.3, w * 0.1, water - (water - hz) * 0.12))
    return water


def _boat(d: ImageDraw.ImageDraw, x: float, y: float, size: float, hull: RGB, ow: int) -> None:
    """A small boat: hull, mast and a sail."""
    d.polygon([(x - size, y - size * 0.3), (x + size, y - size * 0.3), (x + size * 0.7, y + size * 0.1),
               (x - size * 0.7, y + size * 0.1)], fill=hull, outline=INK, width=ow)
    d.line([(x, y - size * 0.3), (x, y - size * 1.6)], fill=INK, width=ow)
    mast_x = x + size * 0.08
    d.polygon([(mast_x, y - size * 1.5), (mast_x, y - size * 0.45), (x + size * 0.75, y - size * 0.45)],
              fill=(244, 240, 226), outline=INK, width=ow)


def _harbour(scene: Image.Image, d: ImageDraw.ImageDraw, w: int, h: int, hz: float, ground: RGB, light: Light,
             rng: random.Random, ow: int, snowy: bool, parts: Parts | None) -> None:
    water = _sea(scene, d, w, h, hz, light, rng, ow, 0.62, parts)
    for k in range(4):  # the stone quay in the foreground
        y = water + (h - water) * k / 4
        d.line([(0, y), (w, y)], fill=shade(ground, 0.75), width=ow)
    px0, px1 = w * 0.3, w * 0.42  # a wooden pier out into the water
    d.polygon([(px0 - w * 0.04, water), (px1 + w * 0.04, water), (px1 - w * 0.01, hz + (water - hz) * 0.3),
               (px0 + w * 0.02, hz + (water - hz) * 0.3)], fill=WOOD, outline=INK, width=ow)
    for k in range(1, 7):
        t = k / 7
        y = hz + (water - hz) * (0.3 + 0.7 * t)
        d.line([(px0 + w * 0.02 - w * 0.06 * t, y), (px1 - w * 0.01 + w * 0.05 * t, y)], fill=shade(WOOD, 0.7),
               width=ow)
    note(parts, "place.pier", ((px0 + px1) / 2 - w * 0.02, water - (water - hz) * 0.2, (px0 + px1) / 2 + w * 0.02,
                               water - (water - hz) * 0.1))
    for k, (bx, size, hull) in enumerate(((0.62, 0.05, (190, 60, 50)), (0.86, 0.038, (60, 90, 150)),
                                          (0.12, 0.03, (230, 220, 200)))):
        y = hz + (water - hz) * (0.55 - k * 0.15)
        _boat(d, w * bx, y, w * size, hull, ow)
        if k == 0:
            note(parts, "place.boat", (w * bx - w * size * 0.4, y - w * size * 0.25, w * bx + w * size * 0.4,
                                       y - w * size * 0.05))


def _beach(scene: Image.Image, d: ImageDraw.ImageDraw, w: int, h: int, hz: float, ground: RGB, light: Light,
           rng: random.Random, ow: int, snowy: bool, parts: Parts | None) -> None:
    water = _sea(scene, d, w, h, hz, light, rng, ow, 0.35, parts)
    d.line([(0, water), (w, water)], fill=(250, 250, 245), width=max(2, ow * 2))
    note(parts, "place.sand", (w * 0.02, h - (h - water) * 0.3, w * 0.1, h - (h - water) * 0.1))
    x, base = w * 0.08, water + (h - water) * 0.3  # a palm
    d.line([(x, base), (x + w * 0.03, hz - h * 0.2)], fill=(120, 84, 50), width=max(3, w // 90))
    for dx in (-1, -0.5, 0.5, 1):
        d.chord((x + w * 0.03 - w * 0.07 + dx * w * 0.04, hz - h * 0.25, x + w * 0.03 + w * 0.07 + dx * w * 0.04,
                 hz - h * 0.14), 180, 360, fill=(60, 140, 70), outline=INK, width=ow)


def _ship(scene: Image.Image, d: ImageDraw.ImageDraw, w: int, h: int, hz: float, ground: RGB, light: Light,
          rng: random.Random, ow: int, snowy: bool, parts: Parts | None) -> None:
    deck = hz + (h - hz) * 0.22
    _sea(scene, d, w, h, hz, light, rng, ow, 0.22, None)
    note(parts, "place.water", (w * 0.3, hz + (deck - hz) * 0.2, w * 0.4, hz + (deck - hz) * 0.5))
    d.rectangle((0, deck, w, h), fill=WOOD)
    for k in range(1, 12):  # planks converge on the bow
        d.line([(w / 2 + (k - 6) * w * 0.04, deck), (w / 2 + (k - 6) * w * 0.2, h)], fill=shade(WOOD, 0.7), width=ow)
    note(parts, "place.deck", (w * 0.03, h - (h - deck) * 0.25, w * 0.06, h - (h - deck) * 0.1))
    d.line([(0, deck - h * 0.08), (w, deck - h * 0.08)], fill=shade(WOOD, 0.6), width=max(2, h // 80))  # the rail
    for k in range(13):
        x = k * w / 12
        d.line([(x, deck - h * 0.08), (x, deck)], fill=shade(WOOD, 0.6), width=max(1, h // 160))
    mx = w * 0.8
    d.rectangle((mx - w * 0.012, 0, mx + w * 0.012, deck + h * 0.05), fill=shade(WOOD, 0.8), outline=INK, width=ow)
    note(parts, "place.mast", (mx - w * 0.005, h * 0.02, mx + w * 0.005, h * 0.08))
    d.polygon([(mx - w * 0.2, h * 0.06), (mx - w * 0.02, h * 0.04), (mx - w * 0.02, deck - h * 0.2),
               (mx - w * 0.17, deck - h * 0.22)], fill=(240, 234, 214), outline=INK, width=ow)
    note(parts, "place.sail", (mx - w * 0.1, h * 0.15, mx - w * 0.06, h * 0.22))


def _canyon(scene: Image.Image, d: ImageDraw.ImageDraw, w: int, h: int, hz: float, ground: RGB, light: Light,
            rng: random.Random, ow: int, snowy: bool, parts: Parts | None) -> None:
    for sgn, x0 in ((-1, 0.0), (1, float(w))):  # red rock walls rising on both sides
        pts = [(x0, h)]
        for k in range(6):
            pts.append((x0 - sgn * w * (0.42 - k * 0.05 + rng.uniform(-0.02, 0.02)), hz - h * (0.05 + k * 0.09)))
        pts.append((x0, hz - h * 0.55))
        d.polygon(pts, fill=shade(ROCK, 0.9 if sgn < 0 else 0.8), outline=INK, width=ow)
        for k in range(1, 5):  # strata
            y = hz - h * 0.1 * k
            d.line([(x0, y), (x0 - sgn * w * 0.14, y + h * 0.02)], fill=shade(ROCK, 0.65), width=ow)
    note(parts, "place.rock", (w * 0.03, hz - h * 0.04, w * 0.08, hz + h * 0.04))


def _desert(scene: Image.Image, d: ImageDraw.ImageDraw, w: int, h: int, hz: float, ground: RGB, light: Light,
            rng: random.Random, ow: int, snowy: bool, parts: Parts | None) -> None:
    for _ in range(4):
        x, pw, ph = rng.uniform(0, w), w * rng.uniform(0.2, 0.4), h * rng.uniform(0.05, 0.1)
        d.chord((x - pw, hz - ph, x + pw, hz + ph), 180, 360, fill=shade(SAND, rng.uniform(0.88, 0.98)))
    note(parts, "place.sand", (w * 0.4, h - (h - hz) * 0.2, w * 0.5, h - (h - hz) * 0.08))
    cx, base, ch = w * 0.15, hz + (h - hz) * 0.25, h * 0.22
    green = (70, 140, 70)
    d.rounded_rectangle((cx - ch * 0.08, base - ch, cx + ch * 0.08, base), radius=ch * 0.08, fill=green, outline=INK,
                        width=ow)
    for sgn, y in ((-1, 0.55), (1, 0.4)):
        ax = cx + sgn * ch * 0.22
        d.rounded_rectangle((min(cx, ax), base - ch * y, max(cx, ax), base - ch * y + ch * 0.1), radius=ch * 0.05,
                            fill=green, outline=INK, width=ow)
        d.rounded_rectangle((ax - ch * 0.06, base - ch * (y + 0.3), ax + ch * 0.06, base - ch * y + ch * 0.1),
                            radius=ch * 0.06, fill=green, outline=INK, width=ow)
    note(parts, "place.cactus", (cx - ch * 0.03, base - ch * 0.8, cx + ch * 0.03, base - ch * 0.7))


def _mountain(scene: Image.Image, d: ImageDraw.ImageDraw, w: int, h: int, hz: float, ground: RGB, light: Light,
              rng: random.Random, ow: int, snowy: bool, parts: Parts | None) -> None:
    for k in range(5):
        x = w * (0.1 + k * 0.2 + rng.uniform(-0.05, 0.05))
        pw, ph = w * rng.uniform(0.18, 0.3), h * rng.uniform(0.2, 0.38)
        d.polygon([(x - pw, hz), (x, hz - ph), (x + pw, hz)], fill=shade((110, 120, 146), rng.uniform(0.8, 1.1)),
                  outline=INK, width=ow)
        cap = 0.55 if snowy else 0.22
        d.polygon([(x - pw * cap, hz - ph * (1 - cap)), (x, hz - ph), (x + pw * cap, hz - ph * (1 - cap))], fill=SNOW)
    if snowy:
        note(parts, "place.snow", (w * 0.4, h - (h - hz) * 0.2, w * 0.5, h - (h - hz) * 0.08))


def _forest(scene: Image.Image, d: ImageDraw.ImageDraw, w: int, h: int, hz: float, ground: RGB, light: Light,
            rng: random.Random, ow: int, snowy: bool, parts: Parts | None) -> None:
    for row, (scale, tone) in enumerate(((0.7, 0.72), (1.0, 0.55))):
        for _ in range(int(8 + row * 4)):
            x, th = rng.uniform(-0.05, 1.05) * w, h * rng.uniform(0.22, 0.38) * scale
            base = hz + row * h * 0.04
            d.rectangle((x - th * 0.04, base - th * 0.4, x + th * 0.04, base), fill=(84, 60, 40))
            d.polygon([(x, base - th), (x - th * 0.28, base - th * 0.25), (x + th * 0.28, base - th * 0.25)],
                      fill=shade((60, 120, 64), tone + rng.uniform(0, 0.15)), outline=INK, width=ow)
    x, th = w * 0.12, h * 0.6  # one tall tree in front, so the forest reads even behind figures
    d.rectangle((x - th * 0.05, hz - th * 0.3, x + th * 0.05, hz + h * 0.1), fill=(90, 62, 40), outline=INK, width=ow)
    d.polygon([(x, hz - th), (x - th * 0.3, hz - th * 0.15), (x + th * 0.3, hz - th * 0.15)], fill=(46, 104, 52),
              outline=INK, width=ow)
    note(parts, "place.tree", (x - th * 0.05, hz - th * 0.45, x + th * 0.05, hz - th * 0.35))


def _city(scene: Image.Image, d: ImageDraw.ImageDraw, w: int, h: int, hz: float, ground: RGB, light: Light,
          rng: random.Random, ow: int, snowy: bool, parts: Parts | None) -> None:
    x = -rng.uniform(0, 0.05) * w
    lit = light.stars or light.strength > 0.2
    while x < w:
        bw, bh = w * rng.uniform(0.07, 0.15), h * rng.uniform(0.2, 0.5)
        col = shade((132, 134, 150), rng.uniform(0.7, 1.1))
        d.rectangle((x, hz - bh, x + bw, hz), fill=col, outline=INK, width=ow)
        for wy in range(int(bh / (h * 0.06))):
            for wx in range(max(1, int(bw / (w * 0.035)))):
                px, py = x + w * 0.012 + wx * w * 0.035, hz - bh + h * 0.025 + wy * h * 0.06
                if px + w * 0.015 < x + bw:
                    on = lit and rng.random() < 0.45
                    glass = (255, 214, 120) if on else shade(col, 0.75)
                    d.rectangle((px, py, px + w * 0.015, py + h * 0.028), fill=glass)
        x += bw + w * rng.uniform(0, 0.02)
    d.polygon([(w * 0.42, hz), (w * 0.58, hz), (w * 1.05, h), (-w * 0.05, h)], fill=(78, 78, 86))
    note(parts, "place.road", (w * 0.3, h - (h - hz) * 0.12, w * 0.36, h - (h - hz) * 0.04))
    for k in range(6):
        t0, t1 = (k / 6) ** 2, ((k + 0.5) / 6) ** 2
        d.line([(w / 2, hz + (h - hz) * t0), (w / 2, hz + (h - hz) * t1)], fill=(230, 220, 150),
               width=max(1, int(w * 0.004 * (1 + 3 * t1))))
    for lx in (0.06, 0.94):  # street lamps
        x, top = w * lx, hz - h * 0.25
        d.line([(x, h * 0.98), (x, top)], fill=(40, 40, 46), width=max(2, w // 160))
        d.ellipse((x - h * 0.025, top - h * 0.03, x + h * 0.025, top + h * 0.02), fill=(255, 220, 130), outline=INK,
                  width=ow)
        note(parts, "place.lamp", (x - h * 0.008, top - h * 0.012, x + h * 0.008, top + h * 0.004))


def _field(scene: Image.Image, d: ImageDraw.ImageDraw, w: int, h: int, hz: float, ground: RGB, light: Light,
           rng: random.Random, ow: int, snowy: bool, parts: Parts | None) -> None:
    for _ in range(3):
        x, pw, ph = rng.uniform(0, w), w * rng.uniform(0.15, 0.35), h * rng.uniform(0.05, 0.12)
        d.chord((x - pw, hz - ph, x + pw, hz + ph), 180, 360, fill=shade(ground, rng.uniform(0.85, 0.95)))
    tx, th = w * 0.1, h * 0.35
    trunk = (tx - th * 0.04, hz - th * 0.5, tx + th * 0.04, hz + h * 0.03)
    d.rectangle(trunk, fill=(92, 66, 44), outline=INK, width=ow)
    d.ellipse((tx - th * 0.3, hz - th, tx + th * 0.3, hz - th * 0.4), fill=(70, 128, 62), outline=INK, width=ow)
    d.polygon([(w * 0.48, hz), (w * 0.52, hz), (w * 0.7, h), (w * 0.3, h)], fill=shade(ground, 1.25))


def _lighthouse(d: ImageDraw.ImageDraw, w: int, h: int, hz: float, ow: int) -> tuple[float, float]:
    lx, lb, lt = w * 0.93, hz + h * 0.02, hz - h * 0.45
    d.polygon([(lx - w * 0.035, lb), (lx + w * 0.035, lb), (lx + w * 0.022, lt), (lx - w * 0.022, lt)],
              fill=(240, 238, 230), outline=INK, width=ow)
    for k in (1, 3):
        y0, y1 = lb + (lt - lb) * k / 5, lb + (lt - lb) * (k + 1) / 5
        d.rectangle((lx - w * 0.03, y1, lx + w * 0.03, y0), fill=(190, 50, 50))
    d.rectangle((lx - w * 0.022, lt - h * 0.06, lx + w * 0.022, lt), fill=(255, 226, 120), outline=INK, width=ow)
    d.polygon([(lx - w * 0.03, lt - h * 0.06), (lx + w * 0.03, lt - h * 0.06), (lx, lt - h * 0.11)], fill=INK)
    return (lx, lt - h * 0.03)


_KINDS = {"harbour": _harbour, "beach": _beach, "ship": _ship, "canyon": _canyon, "desert": _desert,
          "mountain": _mountain, "forest": _forest, "city": _city, "field": _field}
