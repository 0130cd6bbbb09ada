"""Heads of people for the sketch renderer: hair, headwear, and a face that shows the expression.

Old faces get lines; smiles, frowns, shouts, tears and wide eyes are drawn where the action says so.
"""

from __future__ import annotations

import math

from PIL import ImageDraw

from engine.renderers.storyboard.draw import Parts, note
from engine.renderers.storyboard.figure import Figure
from engine.renderers.storyboard.palette import INK, RGB, shade

TEAR: RGB = (90, 170, 240)
MOUTH: RGB = (80, 20, 30)


def draw_head(d: ImageDraw.ImageDraw, f: Figure, cx: float, hy: float, r: float, ow: int, parts: Parts | None) -> None:
    """Hair, face (unless seen from behind) and headwear."""
    c, hair = f.colours, f.colours["hair"]
    back, prof = f.view == "back", f.view == "profile"
    dirn = f.look or 1
    if back and f.hair != "bald":
        d.ellipse((cx - 0.92 * r, hy - 1.02 * r, cx + 0.92 * r, hy + 0.9 * r), fill=hair, outline=INK, width=ow)
        if f.hair in ("long", "ponytail"):
            d.rounded_rectangle(
                (cx - 0.8 * r, hy, cx + 0.8 * r, hy + 2.4 * r), radius=r * 0.5, fill=hair, outline=INK, width=ow
            )
    elif f.hair != "bald":
        # Hair is a cap over the head with a face-shaped hole: that draws a curved hairline.
        low = {"short": 0.15, "curly": 0.35}.get(f.hair, 0.75)
        d.ellipse((cx - 0.98 * r, hy - 1.1 * r, cx + 0.98 * r, hy + low * r), fill=hair, outline=INK, width=ow)
        fx = cx + dirn * 0.25 * r if prof else cx
        face = (fx - 0.76 * r, hy - 0.5 * r, fx + 0.76 * r, hy + 0.97 * r)
        d.ellipse(face, fill=c["skin"])
        d.arc(face, 195, 345, fill=INK, width=ow)
        d.arc((cx - 0.9 * r, hy - r, cx + 0.9 * r, hy + r), 20, 160, fill=INK, width=ow)
        if prof:
            d.pieslice(
                (cx - 0.95 * r, hy - 1.05 * r, cx + 0.95 * r, hy + 0.95 * r),
                100 if dirn > 0 else 280,
                260 if dirn > 0 else 80,
                fill=hair,
                outline=INK,
                width=ow,
            )
        if f.hair == "curly":
            for k in range(5):
                a = math.pi * (1 + k / 4)
                x, y = cx + math.cos(a) * 0.85 * r, hy - 0.2 * r + math.sin(a) * 0.85 * r
                d.ellipse((x - 0.3 * r, y - 0.3 * r, x + 0.3 * r, y + 0.3 * r), fill=hair, outline=INK, width=ow)
        if f.hair == "ponytail":
            x = cx - dirn * 1.05 * r
            d.ellipse((x - 0.3 * r, hy - 0.6 * r, x + 0.3 * r, hy + 0.6 * r), fill=hair, outline=INK, width=ow)
    if f.hair != "bald" and not f.hat:  # the crown of the head, above the hairline
        note(parts, f"{f.name}.hair", (cx - 0.3 * r, hy - 0.95 * r, cx + 0.3 * r, hy - 0.68 * r))
    if not back:
        note(parts, f"{f.name}.skin", (cx - 0.68 * r, hy + 0.2 * r, cx - 0.56 * r, hy + 0.32 * r))
    if not back and r >= 3:
        _face(d, f, cx, hy, r, ow, parts)
    if f.hat:
        kind, col = f.hat
        if kind == "hat":
            d.rectangle((cx - 0.75 * r, hy - 1.75 * r, cx + 0.75 * r, hy - 0.6 * r), fill=col, outline=INK, width=ow)
            d.ellipse((cx - 1.45 * r, hy - 0.85 * r, cx + 1.45 * r, hy - 0.5 * r), fill=col, outline=INK, width=ow)
            note(parts, f"{f.name}.hat", (cx - 0.5 * r, hy - 1.6 * r, cx + 0.5 * r, hy - 1.0 * r))
        elif kind == "hood":
            d.chord(
                (cx - 0.98 * r, hy - 1.12 * r, cx + 0.98 * r, hy + 0.3 * r), 180, 360, fill=col, outline=INK, width=ow
            )
            note(parts, f"{f.name}.hat", (cx - 0.3 * r, hy - 0.95 * r, cx + 0.3 * r, hy - 0.65 * r))
        elif kind == "crown":
            pts = (
                [(cx - 0.7 * r, hy - 0.75 * r)]
                + [(cx - 0.7 * r + k * 0.35 * r, hy - (1.5 if k % 2 else 1.0) * r) for k in range(5)]
                + [(cx + 0.7 * r, hy - 0.75 * r)]
            )
            d.polygon(pts, fill=(230, 184, 60), outline=INK, width=ow)
        else:  # cap or helmet: a dome over the hair
            d.chord(
                (cx - 1.0 * r, hy - 1.15 * r, cx + 1.0 * r, hy + (0.5 if kind == "helmet" else 0.1) * r),
                180,
                360,
                fill=col if kind == "cap" else (176, 180, 192),
                outline=INK,
                width=ow,
            )
            note(parts, f"{f.name}.hat", (cx - 0.3 * r, hy - 0.95 * r, cx + 0.3 * r, hy - 0.7 * r))


def _face(d: ImageDraw.ImageDraw, f: Figure, cx: float, hy: float, r: float, ow: int, parts: Parts | None) -> None:
    """Eyes, brows, nose, mouth, beard and the marks of age, turned towards f.look and showing f.expression."""
    c, look, mood = f.colours, f.look, f.expression
    prof = f.view == "profile"
    dirn = look or 1
    eyes = [cx + dirn * 0.45 * r] if prof else [cx - 0.36 * r + look * 0.15 * r, cx + 0.36 * r + look * 0.15 * r]
    ey = hy + 0.08 * r
    wide = 1.45 if mood == "surprise" else 1.0
    brow = {"surprise": -0.14, "frown": 0.1, "shout": 0.06}.get(mood, 0.0) * r
    for k, ex in enumerate(eyes):
        if r >= 9:
            d.ellipse(
                (ex - 0.2 * r * wide, ey - 0.15 * r * wide, ex + 0.2 * r * wide, ey + 0.15 * r * wide),
                fill=(250, 250, 250),
                outline=INK if mood == "surprise" else None,
                width=max(1, ow // 2),
            )
        ir = max(1.0, 0.12 * r)
        d.ellipse((ex - ir + look * 0.05 * r, ey - ir, ex + ir + look * 0.05 * r, ey + ir), fill=c["eyes"])
        if k == 0:
            ix = ex + look * 0.05 * r  # beside the pupil, inside the iris
            note(parts, f"{f.name}.eyes", (ix - ir * 0.9, ey - ir * 0.3, ix - ir * 0.5, ey + ir * 0.3))
        if r >= 14:
            pr = 0.05 * r
            d.ellipse((ex - pr + look * 0.05 * r, ey - pr, ex + pr + look * 0.05 * r, ey + pr), fill=INK)
        if r >= 6:  # a frown pulls the inner ends of the brows down, surprise lifts them
            inner = 1 if ex > cx else -1
            tilt = (0.12 * r if mood == "frown" else 0.0) * 1
            d.line(
                [
                    (ex - inner * 0.22 * r, ey - 0.34 * r + brow),
                    (ex + inner * 0.24 * r, ey - 0.34 * r + brow + tilt),
                ],
                fill=shade(c["hair"], 0.7),
                width=max(1, int(r * 0.09)),
            )
        if mood == "cry" and r >= 6:
            tx = ex + 0.05 * r
            d.ellipse((tx - 0.08 * r, ey + 0.2 * r, tx + 0.08 * r, ey + 0.42 * r), fill=TEAR, outline=INK, width=1)
            if k == 0:
                note(parts, f"{f.name}.tears", (tx - 0.03 * r, ey + 0.28 * r, tx + 0.03 * r, ey + 0.36 * r))
        if f.glasses:
            d.ellipse((ex - 0.28 * r, ey - 0.24 * r, ex + 0.28 * r, ey + 0.24 * r), outline=INK, width=ow)
    if prof:
        nx = cx + dirn * 0.88 * r
        d.polygon(
            [(nx, hy - 0.05 * r), (nx + dirn * 0.25 * r, hy + 0.25 * r), (nx, hy + 0.32 * r)],
            fill=c["skin"],
            outline=INK,
            width=ow,
        )
    if f.old and r >= 8:  # lines across the forehead and at the corners of the eyes
        for k in range(3):
            y = hy - 0.42 * r + k * 0.1 * r
            d.arc((cx - 0.4 * r, y - 0.05 * r, cx + 0.4 * r, y + 0.1 * r), 200, 340, fill=shade(c["skin"], 0.45),
                  width=max(1, ow // 2 + 1))
        note(parts, f"{f.name}.wrinkles", (cx - 0.3 * r, hy - 0.46 * r, cx + 0.3 * r, hy - 0.2 * r))
    mx = cx + (dirn * 0.5 * r if prof else look * 0.12 * r)
    if f.beard:
        d.chord(
            (cx - 0.8 * r, hy - 0.3 * r, cx + 0.8 * r, hy + 1.02 * r), 5, 175, fill=c["beard"], outline=INK, width=ow
        )
        note(parts, f"{f.name}.beard", (cx - 0.5 * r, hy + 0.66 * r, cx - 0.3 * r, hy + 0.82 * r))
    if r >= 5:
        _mouth(d, mood, mx, hy + 0.44 * r, r, ow)
        note(parts, f"{f.name}.mouth", (mx - 0.1 * r, hy + 0.4 * r, mx + 0.1 * r, hy + 0.5 * r))
    if f.scar:
        sx = cx - dirn * 0.45 * r if not prof else cx + dirn * 0.2 * r
        d.line(
            [(sx - 0.1 * r, hy + 0.15 * r), (sx + 0.1 * r, hy + 0.5 * r)],
            fill=(170, 60, 60),
            width=max(1, int(r * 0.07)),
        )
        note(parts, f"{f.name}.scar", (sx - 0.02 * r, hy + 0.3 * r, sx + 0.02 * r, hy + 0.35 * r))


def _mouth(d: ImageDraw.ImageDraw, mood: str, mx: float, my: float, r: float, ow: int) -> None:
    """The mouth for an expression: a curve up or down, a line, or open (shout, surprise)."""
    w = max(ow, int(r * 0.06))
    if mood == "smile":
        d.chord((mx - 0.3 * r, my - 0.2 * r, mx + 0.3 * r, my + 0.16 * r), 0, 180, fill=(120, 30, 40), outline=INK,
                width=w)
    elif mood in ("frown", "cry"):
        d.arc((mx - 0.24 * r, my, mx + 0.24 * r, my + 0.3 * r), 200, 340, fill=INK, width=w)
    elif mood == "shout":
        d.ellipse((mx - 0.2 * r, my - 0.12 * r, mx + 0.2 * r, my + 0.26 * r), fill=MOUTH, outline=INK, width=w)
    elif mood == "surprise":
        d.ellipse((mx - 0.1 * r, my - 0.08 * r, mx + 0.1 * r, my + 0.18 * r), fill=MOUTH, outline=INK, width=w)
    else:
        d.line([(mx - 0.18 * r, my + 0.04 * r), (mx + 0.18 * r, my + 0.02 * r)], fill=INK, width=w)
