"""Characters that are not people, for the sketch renderer: one simple silhouette per kind.

Animals stand on four legs (cat, dog, horse, bear and rabbit shapes), birds have a beak and a wing,
dragons wings and a tail, robots a box head with an antenna, flowers petals on a stem, objects
their icon, large.
"""

from __future__ import annotations

from PIL import ImageDraw

from engine.renderers.storyboard.draw import Parts, note
from engine.renderers.storyboard.figure import Figure
from engine.renderers.storyboard.items import draw_held, limb
from engine.renderers.storyboard.kinds import ANIMALS, OBJECTS
from engine.renderers.storyboard.palette import INK, RGB, shade

# Height of a kind's silhouette relative to a standing adult in the same shot.
HEIGHTS = {"cat": 0.36, "dog": 0.45, "horse": 1.0, "bear": 0.7, "rabbit": 0.3, "bird": 0.32, "dragon": 1.1,
           "robot": 0.95, "flower": 0.45, "object": 0.32}
BEAK: RGB = (240, 136, 30)
VISOR: RGB = (60, 220, 240)
STEM: RGB = (60, 140, 60)


def creature_height(f: Figure) -> float:
    """How tall the silhouette stands, as a fraction of a person's height."""
    return HEIGHTS.get(ANIMALS.get(f.noun, f.kind), HEIGHTS.get(f.kind, 0.5))


def draw_creature(
    d: ImageDraw.ImageDraw, f: Figure, cx: float, top: float, s: float, parts: Parts | None = None
) -> tuple[float, ...]:
    """Draw f's silhouette standing on the floor at top + s; returns its bounding box."""
    fy = top + s
    h = s * creature_height(f)
    ow = int(max(1, min(h * 0.012, 6)))
    body = f.colours.get("body", f.colours["skin"])
    side = f.look or 1
    if f.kind == "robot":
        return _robot(d, f, cx, fy, h, ow, body, parts)
    if f.kind == "flower":
        return _flower(d, f, cx, fy, h, ow, body, parts)
    if f.kind == "object":
        u = h / 3.2
        icon = OBJECTS.get(f.noun, "orb")
        if icon in ("lantern", "blade", "staff", "sheet", "bag", "cup", "flower"):
            draw_held(d, icon, body, cx, fy - u * 2.6 if icon == "lantern" else fy - u * 0.9, u * 20, ow, side)
        else:
            d.ellipse((cx - u, fy - 2 * u, cx + u, fy), fill=body, outline=INK, width=ow)
        note(parts, f"{f.name}.body", (cx - u * 0.25, fy - u * 1.2, cx + u * 0.25, fy - u * 0.9))
        return (cx - u * 1.5, fy - h, cx + u * 1.5, fy)
    if f.kind == "bird":
        return _bird(d, f, cx, fy, h, ow, body, side, parts)
    return _beast(d, f, cx, fy, h, ow, body, side, parts)


def _beast(
    d: ImageDraw.ImageDraw, f: Figure, cx: float, fy: float, h: float, ow: int, body: RGB, side: int,
    parts: Parts | None,
) -> tuple[float, ...]:
    """Four legs, a body, a head with ears; dragons add wings, spines and a long tail."""
    shape = "dragon" if f.kind == "dragon" else ANIMALS.get(f.noun, "dog")
    long_ = 1.35 if shape == "dragon" else 1.0 if shape == "horse" else 0.9
    bw, bh = h * long_ * 0.5, h * (0.22 if shape in ("horse", "dragon") else 0.26)
    by = fy - h * (0.55 if shape in ("horse", "dragon") else 0.42)
    dark = shade(body, 0.7)
    if shape == "dragon":  # wings behind the body
        wx = cx - side * bw * 0.1
        wing = [(wx, by - bh * 0.6), (wx - side * bw * 0.3, by - h * 0.95), (wx + side * bw * 0.9, by - h * 0.7),
                (wx + side * bw * 0.6, by - bh * 0.4)]
        d.polygon(wing, fill=dark, outline=INK, width=ow)
        note(parts, f"{f.name}.wing", (wx + side * bw * 0.1, by - h * 0.72, wx + side * bw * 0.3, by - h * 0.62))
    tail_end = (cx - side * bw * (2.0 if shape == "dragon" else 1.45), by - h * (0.05 if shape == "dragon" else 0.3))
    limb(d, (cx - side * bw * 0.85, by - bh * 0.2), tail_end, h * (0.07 if shape == "dragon" else 0.045), body, ow)
    for k, lx in enumerate((-0.65, -0.4, 0.4, 0.65)):
        x = cx + side * lx * bw
        col = body if k % 2 else dark
        limb(d, (x, by), (x, fy - h * 0.03), h * (0.1 if shape in ("bear", "dragon") else 0.07), col, ow)
    d.ellipse((cx - bw, by - bh, cx + bw, by + bh), fill=body, outline=INK, width=ow)
    note(parts, f"{f.name}.body", (cx - bw * 0.3, by - bh * 0.3, cx + bw * 0.3, by + bh * 0.2))
    if shape == "dragon":
        for k in range(4):  # spines along the back
            x = cx + side * bw * (-0.5 + k * 0.3)
            d.polygon([(x - h * 0.04, by - bh * 0.9), (x, by - bh - h * 0.08), (x + h * 0.04, by - bh * 0.9)],
                      fill=dark, outline=INK, width=ow)
    hr = h * (0.15 if shape == "horse" else 0.2 if shape == "dragon" else 0.22)
    hx, hyy = cx + side * (bw + hr * 0.4), fy - h + hr
    limb(d, (cx + side * bw * 0.6, by - bh * 0.3), (hx, hyy), hr * 1.1, body, ow)  # the neck
    ears = {"cat": "pointed", "dog": "pointed", "horse": "small", "bear": "round", "rabbit": "long"}.get(shape, "")
    for e in (-0.55, 0.35):
        ex = hx + e * hr
        if ears == "pointed":
            d.polygon([(ex - hr * 0.3, hyy - hr * 0.6), (ex, hyy - hr * 1.45), (ex + hr * 0.3, hyy - hr * 0.6)],
                      fill=body, outline=INK, width=ow)
        elif ears == "long":
            d.ellipse((ex - hr * 0.22, hyy - hr * 2.2, ex + hr * 0.22, hyy - hr * 0.5), fill=body, outline=INK,
                      width=ow)
        elif ears == "round":
            d.ellipse((ex - hr * 0.3, hyy - hr * 1.2, ex + hr * 0.3, hyy - hr * 0.6), fill=body, outline=INK,
                      width=ow)
        elif ears == "small" or shape == "dragon":
            d.polygon([(ex - hr * 0.2, hyy - hr * 0.8), (ex - side * hr * 0.3, hyy - hr * 1.6),
                       (ex + hr * 0.2, hyy - hr * 0.8)], fill=(230, 220, 190) if shape == "dragon" else body,
                      outline=INK, width=ow)
    d.ellipse((hx - hr, hyy - hr, hx + hr, hyy + hr), fill=body, outline=INK, width=ow)
    if shape in ("dog", "horse", "dragon", "bear"):  # a muzzle towards the way it looks
        mx = hx + side * hr * 0.9
        d.ellipse((mx - hr * 0.55, hyy - hr * 0.1, mx + hr * 0.55, hyy + hr * 0.6), fill=body, outline=INK, width=ow)
        d.ellipse((mx + side * hr * 0.3 - hr * 0.1, hyy, mx + side * hr * 0.3 + hr * 0.1, hyy + hr * 0.18), fill=INK)
    ex = hx + side * hr * 0.35
    er = max(1.0, hr * 0.14)
    d.ellipse((ex - er, hyy - hr * 0.3 - er, ex + er, hyy - hr * 0.3 + er), fill=f.colours["eyes"], outline=INK,
              width=max(1, ow // 2))
    x0, x1 = sorted((tail_end[0], hx + side * hr * 1.6))
    return (x0, fy - h * 1.05, x1, fy)


def _bird(
    d: ImageDraw.ImageDraw, f: Figure, cx: float, fy: float, h: float, ow: int, body: RGB, side: int,
    parts: Parts | None,
) -> tuple[float, ...]:
    """An egg-shaped body on two thin legs, a round head, a wing and a beak."""
    bw, bh = h * 0.32, h * 0.3
    by = fy - h * 0.42
    for lx in (-0.25, 0.2):
        x = cx + lx * bw
        d.line([(x, by + bh * 0.8), (x, fy), (x + side * h * 0.06, fy)], fill=BEAK, width=max(1, int(h * 0.03)))
    tail = [(cx - side * bw * 0.8, by), (cx - side * bw * 1.5, by + bh * 0.5), (cx - side * bw * 0.6, by + bh * 0.6)]
    d.polygon(tail,
              fill=shade(body, 0.7), outline=INK, width=ow)  # the tail
    d.ellipse((cx - bw, by - bh, cx + bw, by + bh), fill=body, outline=INK, width=ow)
    note(parts, f"{f.name}.body", (cx + side * bw * 0.3, by + bh * 0.3, cx + side * bw * 0.6, by + bh * 0.6))
    d.chord((cx - bw * 0.8, by - bh * 0.5, cx + bw * 0.6, by + bh * 0.7), 0, 180, fill=shade(body, 0.75), outline=INK,
            width=ow)  # the wing
    hr = h * 0.17
    hx, hyy = cx + side * bw * 0.55, by - bh - hr * 0.4
    d.ellipse((hx - hr, hyy - hr, hx + hr, hyy + hr), fill=body, outline=INK, width=ow)
    bx = hx + side * hr * 0.85
    d.polygon([(bx, hyy - hr * 0.3), (bx + side * hr * 0.9, hyy + hr * 0.05), (bx, hyy + hr * 0.35)], fill=BEAK,
              outline=INK, width=ow)
    note(parts, f"{f.name}.beak", (bx + side * hr * 0.1, hyy - hr * 0.05, bx + side * hr * 0.3, hyy + hr * 0.12))
    er = max(1.0, hr * 0.18)
    ex = hx + side * hr * 0.35
    d.ellipse((ex - er, hyy - hr * 0.2 - er, ex + er, hyy - hr * 0.2 + er), fill=INK)
    return (cx - bw * 1.5, fy - h, cx + bw * 1.5, fy)


def _robot(
    d: ImageDraw.ImageDraw, f: Figure, cx: float, fy: float, h: float, ow: int, body: RGB, parts: Parts | None
) -> tuple[float, ...]:
    """A box on box legs, a square head with a visor and an antenna."""
    u = h / 10
    dark = shade(body, 0.7)
    for sgn in (-1, 1):
        d.rectangle((cx + sgn * u * 0.4, fy - u * 4, cx + sgn * u * 1.3, fy), fill=dark, outline=INK, width=ow)
        d.rectangle((cx + sgn * u * 1.9, fy - u * 7.2, cx + sgn * u * 2.6, fy - u * 4.2), fill=dark, outline=INK,
                    width=ow)
    d.rectangle((cx - u * 1.9, fy - u * 7.6, cx + u * 1.9, fy - u * 3.8), fill=body, outline=INK, width=ow)
    note(parts, f"{f.name}.body", (cx - u * 1.2, fy - u * 5.6, cx - u * 0.4, fy - u * 4.4))
    d.rectangle((cx - u * 0.6, fy - u * 6.8, cx + u * 0.6, fy - u * 5.9), fill=dark, outline=INK, width=ow)
    d.line([(cx, fy - u * 9.4), (cx, fy - u * 10)], fill=INK, width=max(1, int(u * 0.2)))
    d.ellipse((cx - u * 0.3, fy - u * 10.3, cx + u * 0.3, fy - u * 9.7), fill=(230, 60, 60), outline=INK, width=ow)
    d.rectangle((cx - u * 1.3, fy - u * 9.4, cx + u * 1.3, fy - u * 7.7), fill=body, outline=INK, width=ow)
    note(parts, f"{f.name}.head", (cx - u * 1.1, fy - u * 9.3, cx - u * 0.8, fy - u * 9.0))
    d.rectangle((cx - u * 0.95, fy - u * 8.9, cx + u * 0.95, fy - u * 8.3), fill=VISOR, outline=INK, width=ow)
    note(parts, f"{f.name}.visor", (cx - u * 0.5, fy - u * 8.75, cx + u * 0.5, fy - u * 8.45))
    return (cx - u * 2.7, fy - h * 1.03, cx + u * 2.7, fy)


def _flower(
    d: ImageDraw.ImageDraw, f: Figure, cx: float, fy: float, h: float, ow: int, body: RGB, parts: Parts | None
) -> tuple[float, ...]:
    """A stem with two leaves and a ring of petals round a yellow heart."""
    pr = h * 0.13
    fx, fyy = cx, fy - h + pr * 2
    d.line([(cx, fy), (fx, fyy)], fill=STEM, width=max(2, int(h * 0.04)))
    note(parts, f"{f.name}.stem", (cx - h * 0.005, fy - h * 0.35, cx + h * 0.005, fy - h * 0.3))
    for sgn in (-1, 1):
        ly = fy - h * (0.3 if sgn < 0 else 0.45)
        d.ellipse((cx + min(0, sgn) * h * 0.2, ly - h * 0.05, cx + max(0, sgn) * h * 0.2, ly + h * 0.05), fill=STEM,
                  outline=INK, width=ow)
    for k in range(6):
        ang = k * 60
        px = fx + pr * 1.1 * (1 if ang in (0, 60, 300) else -1 if ang in (120, 180, 240) else 0) * (
            0.5 if ang in (60, 120, 240, 300) else 1)
        py = fyy + pr * 1.1 * (0.87 if ang in (60, 120) else -0.87 if ang in (240, 300) else 0)
        d.ellipse((px - pr, py - pr, px + pr, py + pr), fill=body, outline=INK, width=ow)
    note(parts, f"{f.name}.petals", (fx + pr * 1.5, fyy - pr * 0.2, fx + pr * 1.8, fyy + pr * 0.2))
    d.ellipse((fx - pr * 0.7, fyy - pr * 0.7, fx + pr * 0.7, fyy + pr * 0.7), fill=(245, 200, 50), outline=INK,
              width=ow)
    return (cx - pr * 2.3, fy - h, cx + pr * 2.3, fy)
