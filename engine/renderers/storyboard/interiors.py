"""Indoor backdrops of the sketch renderer: a room in one-point perspective, furnished for its kind.

A tavern has a bar, bottles and barrels; a library shelves of books; a kitchen tiles, a stove and
pans; a lab a bench of flasks and a chalkboard; a cave rough stone; a hall pillars and a banner.
Windows are kept so the weather shows through them and nowhere else indoors.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from engine.renderers.storyboard.draw import Parts, note, vgrad
from engine.renderers.storyboard.light import Light
from engine.renderers.storyboard.palette import INK, RGB, hashed_colour, shade

WALLS: dict[str, tuple[RGB, RGB]] = {  # kind -> (wall, floor)
    "tavern": ((152, 106, 66), (112, 76, 48)),
    "cave": ((112, 106, 100), (86, 80, 74)),
    "hall": ((172, 164, 150), (122, 112, 100)),
    "kitchen": ((226, 214, 182), (160, 130, 100)),
    "library": ((126, 76, 52), (104, 70, 50)),
    "lab": ((222, 232, 236), (176, 186, 192)),
    "room": ((208, 198, 178), (150, 118, 90)),
}
FLASKS: tuple[RGB, ...] = ((80, 200, 120), (220, 80, 160), (80, 140, 240), (240, 200, 60))


@dataclass
class Room:
    """Where the room's back wall, windows, table and lamp are, for later passes."""

    back: tuple[float, float, float, float]
    windows: list[tuple[float, float, float, float]] = field(default_factory=list)
    table: tuple[float, float, float] | None = None
    lamp: tuple[float, float] | None = None


def draw_interior(scene: Image.Image, kind: str, light: Light, hz: float, rng: random.Random, has_table: bool,
                  parts: Parts | None) -> Room:
    """Paint an indoor place of a kind (a key of WALLS)."""
    w, h = scene.size
    d = ImageDraw.Draw(scene)
    ow = max(1, h // 250)
    wall, floor = WALLS.get(kind, WALLS["room"])
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
    room = Room((bx0, by0, bx1, hz))
    span, wall_h = bx1 - bx0, hz - by0
    note(parts, "place.wall", (bx0 + span * 0.47, by0 + wall_h * 0.05, bx0 + span * 0.53, by0 + wall_h * 0.1))
    furnish = {"tavern": _tavern, "library": _library, "kitchen": _kitchen, "lab": _lab, "cave": _cave,
               "hall": _hall}.get(kind)
    if furnish:
        furnish(d, room, wall, ow, rng, parts)
    if kind not in ("cave", "library"):
        win = (bx0 + span * 0.6, by0 + wall_h * 0.1, bx0 + span * 0.84, by0 + wall_h * 0.45)
        scene.paste(vgrad((int(win[2] - win[0]), int(win[3] - win[1])), light.sky_top, light.sky_low),
                    (int(win[0]), int(win[1])))
        d.rectangle(win, outline=INK, width=max(2, ow * 2))
        d.line([((win[0] + win[2]) / 2, win[1]), ((win[0] + win[2]) / 2, win[3])], fill=INK, width=ow)
        d.line([(win[0], (win[1] + win[3]) / 2), (win[2], (win[1] + win[3]) / 2)], fill=INK, width=ow)
        room.windows.append(win)
    room.lamp = (bx0 + span * 0.3, by0 + wall_h * 0.35)
    if kind in ("tavern", "kitchen", "room") or has_table:
        tx, ty, tw = w * 0.5, hz + (h - hz) * 0.3, w * 0.15
        for sgn in (-1, 1):
            d.line([(tx + sgn * tw * 0.8, ty), (tx + sgn * tw * 0.8, ty + (h - hz) * 0.28)], fill=INK,
                   width=max(2, w // 200))
        d.ellipse((tx - tw, ty - h * 0.03, tx + tw, ty + h * 0.03), fill=(132, 90, 56), outline=INK, width=ow)
        room.table = (tx - tw * 0.8, ty, tx + tw * 0.8)
    return room


def _tavern(d: ImageDraw.ImageDraw, room: Room, wall: RGB, ow: int, rng: random.Random, parts: Parts | None) -> None:
    bx0, by0, bx1, hz = room.back
    span, wall_h = bx1 - bx0, hz - by0
    for k in range(1, 6):
        d.line([(bx0, by0 + wall_h * k / 6), (bx1, by0 + wall_h * k / 6)], fill=shade(wall, 0.85), width=ow)
    bar = (bx0 + span * 0.04, hz - wall_h * 0.3, bx0 + span * 0.45, hz)
    d.rectangle(bar, fill=shade(wall, 0.6), outline=INK, width=ow)
    bar_x, bar_y = bar[0] + span * 0.05, bar[1] + wall_h * 0.08
    note(parts, "place.bar", (bar_x, bar_y, bar_x + span * 0.05, bar_y + wall_h * 0.06))
    shelf_y = hz - wall_h * 0.62
    d.line([(bar[0], shelf_y), (bar[2], shelf_y)], fill=shade(wall, 0.5), width=max(1, int(wall_h / 60)))
    for k in range(7):
        x = bx0 + span * (0.07 + k * 0.053)
        d.rectangle((x, shelf_y - wall_h * 0.14, x + span * 0.022, shelf_y),
                    fill=((60, 120, 70), (120, 50, 40), (200, 170, 90))[k % 3], outline=INK, width=1)
    for k in range(2):  # barrels by the bar
        x, r = bx0 + span * (0.52 + k * 0.08), wall_h * 0.13
        d.rounded_rectangle((x - r * 0.8, hz - r * 2.2, x + r * 0.8, hz), radius=r * 0.5, fill=(130, 84, 46),
                            outline=INK, width=ow)
        for y in (0.5, 1.7):
            d.line([(x - r * 0.8, hz - r * y), (x + r * 0.8, hz - r * y)], fill=(60, 60, 64), width=ow)


def _library(d: ImageDraw.ImageDraw, room: Room, wall: RGB, ow: int, rng: random.Random, parts: Parts | None) -> None:
    bx0, by0, bx1, hz = room.back
    span, wall_h = bx1 - bx0, hz - by0
    for row in range(4):
        y0 = by0 + wall_h * (0.06 + row * 0.235)
        d.rectangle((bx0, y0 + wall_h * 0.2, bx1, y0 + wall_h * 0.225), fill=shade(wall, 0.6))
        x = bx0 + span * 0.02
        while x < bx1 - span * 0.04:
            bw = span * rng.uniform(0.012, 0.025)
            d.rectangle((x, y0 + wall_h * rng.uniform(0, 0.05), x + bw, y0 + wall_h * 0.2),
                        fill=hashed_colour(str(rng.random()), "book", 0.5, 0.6), outline=INK, width=1)
            x += bw + 1
    note(parts, "place.books", (bx0, by0, bx1, hz))  # many colours: the test counts them


def _kitchen(d: ImageDraw.ImageDraw, room: Room, wall: RGB, ow: int, rng: random.Random, parts: Parts | None) -> None:
    bx0, by0, bx1, hz = room.back
    span, wall_h = bx1 - bx0, hz - by0
    tile = wall_h * 0.08
    y = hz - wall_h * 0.55
    while y < hz:  # a tiled splashback
        d.line([(bx0, y), (bx1, y)], fill=shade(wall, 0.8), width=1)
        y += tile
    for k in range(int(span / tile) + 1):
        x = bx0 + k * tile
        d.line([(x, hz - wall_h * 0.55), (x, hz)], fill=shade(wall, 0.8), width=1)
    note(parts, "place.tiles", (bx0 + span * 0.8, hz - wall_h * 0.5, bx0 + span * 0.95, hz - wall_h * 0.32))
    d.rectangle((bx0, hz - wall_h * 0.28, bx1, hz), fill=(150, 110, 80), outline=INK, width=ow)  # the counter
    sx0, sx1 = bx0 + span * 0.08, bx0 + span * 0.34
    d.rectangle((sx0, hz - wall_h * 0.3, sx1, hz), fill=(60, 62, 70), outline=INK, width=ow)  # the stove
    note(parts, "place.stove", (sx0 + span * 0.02, hz - wall_h * 0.15, sx0 + span * 0.06, hz - wall_h * 0.05))
    for k, col in enumerate(((200, 60, 50), (190, 190, 200))):  # pots on it
        x = sx0 + span * (0.06 + k * 0.13)
        d.rectangle((x, hz - wall_h * 0.42, x + span * 0.08, hz - wall_h * 0.3), fill=col, outline=INK, width=ow)
    for k in range(3):  # pans hanging on the wall
        x = bx0 + span * (0.42 + k * 0.07)
        d.line([(x, by0 + wall_h * 0.1), (x, by0 + wall_h * 0.2)], fill=INK, width=ow)
        d.ellipse((x - span * 0.025, by0 + wall_h * 0.2, x + span * 0.025, by0 + wall_h * 0.3), fill=(70, 70, 76),
                  outline=INK, width=ow)


def _lab(d: ImageDraw.ImageDraw, room: Room, wall: RGB, ow: int, rng: random.Random, parts: Parts | None) -> None:
    bx0, by0, bx1, hz = room.back
    span, wall_h = bx1 - bx0, hz - by0
    board = (bx0 + span * 0.06, by0 + wall_h * 0.12, bx0 + span * 0.46, by0 + wall_h * 0.5)
    d.rectangle(board, fill=(40, 70, 60), outline=INK, width=max(2, ow * 2))  # a chalkboard of formulas
    for k in range(4):
        y = board[1] + (board[3] - board[1]) * (0.2 + k * 0.2)
        d.line([(board[0] + span * 0.03, y), (board[0] + span * rng.uniform(0.15, 0.35), y)], fill=(230, 236, 230),
               width=max(1, ow))
    bench = (bx0, hz - wall_h * 0.25, bx1, hz)
    d.rectangle(bench, fill=(90, 100, 110), outline=INK, width=ow)
    note(parts, "place.bench", (bx0 + span * 0.45, hz - wall_h * 0.15, bx0 + span * 0.55, hz - wall_h * 0.05))
    for k, col in enumerate(FLASKS):
        x, fw = bx0 + span * (0.1 + k * 0.1), span * 0.035
        base = bench[1]
        neck = base - wall_h * 0.12
        d.polygon([(x - fw, base), (x + fw, base), (x + fw * 0.3, neck), (x - fw * 0.3, neck)],
                  fill=col, outline=INK, width=ow)
        d.rectangle((x - fw * 0.3, base - wall_h * 0.2, x + fw * 0.3, base - wall_h * 0.12), fill=(230, 240, 245),
                    outline=INK, width=ow)
        if k == 0:
            note(parts, "place.flask", (x - fw * 0.3, base - wall_h * 0.05, x + fw * 0.3, base - wall_h * 0.02))


def _cave(d: ImageDraw.ImageDraw, room: Room, wall: RGB, ow: int, rng: random.Random, parts: Parts | None) -> None:
    bx0, _, bx1, hz = room.back
    for _ in range(40):
        x, y, r = rng.uniform(bx0 - (bx1 - bx0) * 0.2, bx1 * 1.1), rng.uniform(0, hz), rng.uniform(0.02, 0.06) * hz
        d.ellipse((x - r * 1.4, y - r, x + r * 1.4, y + r), fill=shade(wall, rng.uniform(0.75, 1.1)))


def _hall(d: ImageDraw.ImageDraw, room: Room, wall: RGB, ow: int, rng: random.Random, parts: Parts | None) -> None:
    bx0, by0, bx1, hz = room.back
    span, wall_h = bx1 - bx0, hz - by0
    for fx in (0.18, 0.82):
        x = bx0 + span * fx
        d.rectangle((x - span * 0.05, by0, x + span * 0.05, hz), fill=shade(wall, 1.15), outline=INK, width=ow)
    d.polygon([(bx0 + span * 0.43, by0), (bx0 + span * 0.57, by0), (bx0 + span * 0.57, by0 + wall_h * 0.6),
               (bx0 + span * 0.5, by0 + wall_h * 0.5), (bx0 + span * 0.43, by0 + wall_h * 0.6)], fill=(150, 40, 50),
              outline=INK, width=ow)
