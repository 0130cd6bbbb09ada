"""Figures of the sketch renderer: a board character as a Figure, and drawing it.

Heads, hair, faces, outfits, accents, carried things and poses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from PIL import ImageDraw

from engine.renderers.storyboard.palette import (
    GARMENTS,
    INK,
    RGB,
    as_list,
    as_text,
    character_colours,
    clauses,
    find_colour,
    shade,
    words,
)

HELD = {  # carried-item keyword -> icon kind
    **dict.fromkeys(("lantern", "lamp", "candle", "torch"), "lantern"),
    **dict.fromkeys(("sword", "blade", "dagger", "knife", "axe", "saber", "sabre"), "blade"),
    **dict.fromkeys(("staff", "stick", "spear", "wand", "cane", "umbrella", "pole", "broom", "rod", "bow"), "staff"),
    **dict.fromkeys(
        ("book", "map", "letter", "scroll", "notebook", "paper", "phone", "card", "journal", "photo", "tablet", "sign"),
        "sheet",
    ),
    **dict.fromkeys(
        ("bag", "satchel", "backpack", "basket", "suitcase", "case", "box", "crate", "chest", "sack"), "bag"
    ),
    **dict.fromkeys(("cup", "mug", "glass", "bottle", "potion", "flask", "jar", "tankard"), "cup"),
    **dict.fromkeys(("flower", "rose", "bouquet", "plant"), "flower"),
}
SMALL = {
    "short",
    "small",
    "little",
    "tiny",
    "child",
    "kid",
    "boy",
    "girl",
    "cat",
    "dog",
    "fox",
    "gnome",
    "dwarf",
    "halfling",
}
HATS = {
    "hat": "hat",
    "fedora": "hat",
    "tricorn": "hat",
    "hood": "hood",
    "helmet": "helmet",
    "crown": "crown",
    "tiara": "crown",
    "cap": "cap",
    "beret": "cap",
    "beanie": "cap",
    "bandana": "cap",
    "headband": "cap",
}


@dataclass(frozen=True)
class Figure:
    """What one character looks like in a panel, decided before any drawing."""

    name: str
    colours: dict[str, RGB]
    hair: str = "medium"  # short | medium | long | bald | curly | ponytail
    hat: tuple[str, RGB] | None = None
    scarf: RGB | None = None
    cloak: RGB | None = None
    coat: bool = False
    skirt: RGB | None = None
    glasses: bool = False
    beard: bool = False
    scar: bool = False
    held: tuple[tuple[str, RGB], ...] = ()
    view: str = "front"  # front | back | profile
    look: int = 0  # -1 left, 0 at the camera, 1 right
    arm_up: bool = False
    stride: bool = False
    scale: float = 1.0  # height relative to an average adult (tall, child, ...)
    bulk: float = 1.0  # shoulder and hip width (stocky, slim, ...)

    def facing(self, look: int) -> Figure:
        """The same figure looking left (-1), at the camera (0) or right (1)."""
        return replace(self, look=look)

    def facing_away(self) -> Figure:
        """The same figure seen from behind."""
        return replace(self, view="back")


def _item_colour(text: str, fallback: RGB) -> RGB:
    """The colour an item's words name, else fallback."""
    return find_colour(text) or fallback


def figure_for(character: Mapping[str, Any], action: str | bool, camera: str) -> Figure:
    """The Figure of a board character, from its appearance words (and the action for poses)."""
    col = character_colours(character)
    app = character.get("appearance") if isinstance(character.get("appearance"), Mapping) else {}
    desc = as_text(character.get("description"))
    # Who they are ("a tall man", "a child") is the base, the build, or the description's first clause.
    kind = set(words(f"{as_text(app.get('base'))} {as_text(app.get('build'))} {(clauses(desc) or [''])[0]}"))
    hair_t = (as_text(app.get("hair")) or " ".join(c for c in clauses(desc) if "hair" in c)).lower()
    worn = as_list(app.get("wearing")) or [c for c in clauses(desc) if any(g in c for g in GARMENTS)]
    held = as_list(app.get("carrying"), 4) or [c for c in clauses(desc) if any(k in words(c) for k in HELD)]
    marks = " ".join(as_list(app.get("marks")) + as_list(app.get("other"))).lower() + " " + desc.lower()
    hair = next((h for h in ("bald", "ponytail", "braid", "curly", "long", "short") if h in hair_t), "medium")
    if not as_text(app.get("hair")) and {"robot", "android", "golem"} & kind:
        hair = "bald"  # machines have no hair unless someone says so
    hat = next(((HATS[w], _item_colour(t, col["accent"])) for t in worn for w in words(t) if w in HATS), None)
    wt = [(t, set(words(t))) for t in worn]
    pose = set(words(action)) if isinstance(action, str) else set()
    cam = camera.lower()
    return Figure(
        name=as_text(character.get("name"), 40),
        colours=col,
        hair="long" if hair == "braid" else hair,
        hat=hat,
        scarf=next((_item_colour(t, col["accent"]) for t, s in wt if s & {"scarf", "shawl", "tie"}), None),
        cloak=next((_item_colour(t, shade(col["outfit"], 0.7)) for t, s in wt if s & {"cloak", "cape"}), None),
        coat=any(s & {"coat", "trenchcoat", "robe", "parka", "overcoat"} for _, s in wt),
        skirt=next((_item_colour(t, col["outfit"]) for t, s in wt if s & {"skirt", "dress", "gown", "kilt"}), None),
        glasses=any(s & {"glasses", "spectacles", "goggles", "monocle"} for _, s in wt),
        beard="beard" in marks or "beard" in hair_t or "moustache" in marks,
        scar="scar" in marks,
        held=tuple(
            (next((HELD[w] for w in words(t) if w in HELD), "thing"), _item_colour(t, col["accent"])) for t in held[:2]
        ),
        view="back" if "behind" in cam else "profile" if "profile" in cam else "front",
        arm_up=bool(pose & {"raises", "raise", "waves", "wave", "points", "point", "reaches", "lifts"}),
        stride=bool(pose & {"runs", "run", "walks", "walk", "strides", "steps", "dances", "jumps", "flees"}),
        scale=1.08 if kind & {"tall", "towering", "giant"} else 0.8 if kind & SMALL else 1.0,
        bulk=1.2
        if kind & {"stocky", "broad", "burly", "muscular", "heavy", "large", "big", "fat"}
        else 0.88
        if kind & {"slim", "thin", "slender", "skinny", "lanky", "wiry"}
        else 1.0,
    )


def _limb(
    d: ImageDraw.ImageDraw, p: tuple[float, float], q: tuple[float, float], width: float, colour: RGB, ow: int
) -> None:
    """An outlined limb: a thick ink stroke under a thinner colour stroke, with round ends."""
    for w, c in ((width + 2 * ow, INK), (width, colour)):
        d.line([p, q], fill=c, width=max(1, int(w)))
        for x, y in (p, q):
            d.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=c)


def draw_held(
    d: ImageDraw.ImageDraw, kind: str, colour: RGB, hx: float, hy: float, s: float, ow: int, side: int
) -> None:
    """A carried thing at a hand: small, iconic, recognisable at thumbnail size."""
    u = s * 0.05
    if kind == "lantern":
        d.line([(hx, hy), (hx, hy + u * 0.8)], fill=INK, width=ow)
        d.rounded_rectangle(
            (hx - u * 0.7, hy + u * 0.8, hx + u * 0.7, hy + u * 2.6),
            radius=u * 0.2,
            fill=(255, 214, 110),
            outline=INK,
            width=ow,
        )
    elif kind == "blade":
        _limb(d, (hx, hy), (hx + side * u * 2.5, hy - u * 6), u * 0.35, (205, 210, 220), ow)
        d.line([(hx - u * 0.9, hy - u * 0.3), (hx + u * 0.9, hy + u * 0.3)], fill=INK, width=max(ow, int(u * 0.4)))
    elif kind == "staff":
        _limb(d, (hx, hy - u * 7), (hx, hy + u * 8.5), u * 0.35, colour if colour != INK else (120, 84, 50), ow)
    elif kind == "sheet":
        d.rectangle((hx - u * 0.9, hy - u * 1.4, hx + u * 0.9, hy + u * 0.8), fill=colour, outline=INK, width=ow)
    elif kind == "bag":
        d.rounded_rectangle(
            (hx - u * 1.2, hy, hx + u * 1.2, hy + u * 2.2), radius=u * 0.4, fill=colour, outline=INK, width=ow
        )
    elif kind == "cup":
        d.rectangle((hx - u * 0.5, hy - u * 1.2, hx + u * 0.5, hy + u * 0.2), fill=colour, outline=INK, width=ow)
    elif kind == "flower":
        d.line([(hx, hy), (hx + side * u * 0.6, hy - u * 2.5)], fill=(60, 140, 60), width=max(1, int(u * 0.3)))
        d.ellipse(
            (hx + side * u * 0.6 - u * 0.7, hy - u * 3.2, hx + side * u * 0.6 + u * 0.7, hy - u * 1.8),
            fill=colour,
            outline=INK,
            width=ow,
        )
    else:
        d.ellipse((hx - u * 0.8, hy - u * 0.8, hx + u * 0.8, hy + u * 0.8), fill=colour, outline=INK, width=ow)


def draw_figure(d: ImageDraw.ImageDraw, f: Figure, cx: float, top: float, s: float) -> tuple[float, ...]:
    """Draw a figure of nominal height s whose feet stand at top + s; returns its bounding box."""
    c = f.colours
    top, s = top + s * (1 - f.scale), s * f.scale  # short people keep their feet on the floor
    r, fy = s * 0.08, top + s
    hy, sy, hip = top + r, top + 2 * r + s * 0.02, top + s * 0.55
    sw, hw = s * 0.14 * f.bulk, s * 0.105 * f.bulk
    ow = int(max(1, min(r * 0.08, 6)))
    back, side = f.view == "back", (f.look or 1)
    if f.cloak:
        d.polygon(
            [(cx - sw, sy), (cx + sw, sy), (cx + sw * 1.5, fy - s * 0.08), (cx - sw * 1.5, fy - s * 0.08)],
            fill=f.cloak,
            outline=INK,
            width=ow,
        )
    if f.hair == "long" and not back and not f.hat:
        d.rounded_rectangle(
            (cx - 1.05 * r, hy - 0.6 * r, cx + 1.05 * r, hy + 2.4 * r),
            radius=r * 0.8,
            fill=c["hair"],
            outline=INK,
            width=ow,
        )
    stride = s * 0.07 if f.stride else 0
    shoe = shade(c["legs"], 0.45)
    for sgn in (-1, 1):
        foot = (cx + sgn * (s * 0.06 + stride), fy - s * 0.03)
        _limb(d, (cx + sgn * s * 0.05, hip), foot, s * 0.075, c["legs"], ow)
        d.ellipse(
            (foot[0] - s * 0.05 + sgn * s * 0.01, fy - s * 0.045, foot[0] + s * 0.05 + sgn * s * 0.01, fy),
            fill=shoe,
            outline=INK,
            width=ow,
        )
    if f.skirt:
        d.polygon(
            [
                (cx - hw, hip - s * 0.04),
                (cx + hw, hip - s * 0.04),
                (cx + hw * 1.7, fy - s * 0.22),
                (cx - hw * 1.7, fy - s * 0.22),
            ],
            fill=f.skirt,
            outline=INK,
            width=ow,
        )
    low, lw = (hip + s * 0.15, hw * 1.2) if f.coat else (hip, hw)
    d.polygon(
        [
            (cx - sw, sy + s * 0.03),
            (cx - sw + s * 0.03, sy),
            (cx + sw - s * 0.03, sy),
            (cx + sw, sy + s * 0.03),
            (cx + lw, low),
            (cx - lw, low),
        ],
        fill=c["outfit"],
        outline=INK,
        width=ow,
    )
    if f.coat and not back:
        d.line([(cx, sy + s * 0.02), (cx, low)], fill=shade(c["outfit"], 0.6), width=ow)
    if not f.coat and not f.skirt:  # a belt separates shirt from trousers at any size
        d.line([(cx - hw, hip - s * 0.01), (cx + hw, hip - s * 0.01)], fill=shade(c["legs"], 0.5), width=ow + 1)
    hands = [(cx - sw - s * 0.03, hip + s * 0.02), (cx + sw + s * 0.03, hip + s * 0.02)]
    if f.arm_up:
        hands[1 if side > 0 else 0] = (cx + side * (sw + s * 0.12), top + s * 0.04)
    for (hx, hand_y), sgn in zip(hands, (-1, 1), strict=True):
        _limb(d, (cx + sgn * (sw - s * 0.025), sy + s * 0.035), (hx, hand_y), s * 0.052, c["outfit"], ow)
        d.ellipse(
            (hx - s * 0.027, hand_y - s * 0.027, hx + s * 0.027, hand_y + s * 0.027),
            fill=c["skin"],
            outline=INK,
            width=ow,
        )
    for (kind, colour), (hx, hand_y), sgn in zip(f.held, hands[::-1], (1, -1), strict=False):
        draw_held(d, kind, colour, hx, hand_y, s, ow, sgn)
    d.rectangle((cx - 0.3 * r, hy + 0.6 * r, cx + 0.3 * r, sy + s * 0.01), fill=c["skin"], outline=INK, width=ow)
    if f.hat and f.hat[0] == "hood":
        d.ellipse((cx - 1.3 * r, hy - 1.25 * r, cx + 1.3 * r, hy + 1.25 * r), fill=f.hat[1], outline=INK, width=ow)
    d.ellipse((cx - 0.9 * r, hy - r, cx + 0.9 * r, hy + r), fill=c["skin"], outline=INK, width=ow)
    if f.scarf:
        d.rounded_rectangle(
            (cx - 0.8 * r, hy + 0.85 * r, cx + 0.8 * r, hy + 1.35 * r),
            radius=r * 0.2,
            fill=f.scarf,
            outline=INK,
            width=ow,
        )
        d.rectangle(
            (cx + side * 0.2 * r, hy + 1.2 * r, cx + side * 0.6 * r, sy + s * 0.12), fill=f.scarf, outline=INK, width=ow
        )
    _head(d, f, cx, hy, r, ow)
    return (cx - sw - s * 0.12, top - s * 0.05, cx + sw + s * 0.12, fy)


def _head(d: ImageDraw.ImageDraw, f: Figure, cx: float, hy: float, r: float, ow: int) -> None:
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
    if not back and r >= 3:
        _face(d, f, cx, hy, r, ow)
    if f.hat:
        kind, col = f.hat
        if kind == "hat":
            d.rectangle((cx - 0.75 * r, hy - 1.75 * r, cx + 0.75 * r, hy - 0.6 * r), fill=col, outline=INK, width=ow)
            d.ellipse((cx - 1.45 * r, hy - 0.85 * r, cx + 1.45 * r, hy - 0.5 * r), fill=col, outline=INK, width=ow)
        elif kind == "hood":
            d.chord(
                (cx - 0.98 * r, hy - 1.12 * r, cx + 0.98 * r, hy + 0.3 * r), 180, 360, fill=col, outline=INK, width=ow
            )
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


def _face(d: ImageDraw.ImageDraw, f: Figure, cx: float, hy: float, r: float, ow: int) -> None:
    """Eyes, brows, nose and mouth, turned towards f.look."""
    c, look = f.colours, f.look
    prof = f.view == "profile"
    dirn = look or 1
    eyes = [cx + dirn * 0.45 * r] if prof else [cx - 0.36 * r + look * 0.15 * r, cx + 0.36 * r + look * 0.15 * r]
    ey = hy + 0.08 * r
    for ex in eyes:
        if r >= 9:
            d.ellipse((ex - 0.2 * r, ey - 0.15 * r, ex + 0.2 * r, ey + 0.15 * r), fill=(250, 250, 250))
        ir = max(1.0, 0.12 * r)
        d.ellipse((ex - ir + look * 0.05 * r, ey - ir, ex + ir + look * 0.05 * r, ey + ir), fill=c["eyes"])
        if r >= 14:
            pr = 0.05 * r
            d.ellipse((ex - pr + look * 0.05 * r, ey - pr, ex + pr + look * 0.05 * r, ey + pr), fill=INK)
        if r >= 6:
            d.line(
                [(ex - 0.22 * r, ey - 0.32 * r), (ex + 0.22 * r, ey - 0.36 * r)],
                fill=shade(c["hair"], 0.7),
                width=max(1, int(r * 0.08)),
            )
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
    mx = cx + (dirn * 0.5 * r if prof else look * 0.12 * r)
    if f.beard:
        d.chord(
            (cx - 0.8 * r, hy - 0.3 * r, cx + 0.8 * r, hy + 1.02 * r), 5, 175, fill=c["hair"], outline=INK, width=ow
        )
    if r >= 5:
        d.arc((mx - 0.22 * r, hy + 0.3 * r, mx + 0.22 * r, hy + 0.58 * r), 20, 160, fill=INK, width=ow)
    if f.scar:
        sx = cx - dirn * 0.45 * r if not prof else cx + dirn * 0.2 * r
        d.line(
            [(sx - 0.1 * r, hy + 0.15 * r), (sx + 0.1 * r, hy + 0.5 * r)],
            fill=(170, 60, 60),
            width=max(1, int(r * 0.07)),
        )
