"""Figures of the sketch renderer: a board character as a Figure, and drawing a person.

Bodies, outfits, accents, carried things and poses; faces are in faces.py, animals, birds,
dragons, robots, flowers and objects in creatures.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PIL import ImageDraw

from engine.renderers.storyboard.acting import HOLDABLE
from engine.renderers.storyboard.creatures import draw_creature
from engine.renderers.storyboard.draw import Parts, note
from engine.renderers.storyboard.faces import draw_head
from engine.renderers.storyboard.figure import Figure
from engine.renderers.storyboard.items import HELD, draw_held, limb
from engine.renderers.storyboard.kinds import is_old, kind_of
from engine.renderers.storyboard.looks import HAIR_NOUNS, character_colours, is_word_in, worn_items
from engine.renderers.storyboard.palette import INK, RGB, as_list, as_text, clauses, find_colour, shade, words

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


def _item_colour(text: str, fallback: RGB) -> RGB:
    """The colour an item's words name, else fallback."""
    return find_colour(text) or fallback


def figure_for(
    character: Mapping[str, Any],
    camera: str,
    colours: dict[str, RGB] | None = None,
    action: str = "",
    holding: tuple[str, ...] = (),
    expression: str = "",
    without: tuple[str, ...] = (),
) -> Figure:
    """The Figure of a board character, from its words; an acting character also gets the action's pose and props.

    `without` names things someone else holds in this panel ("Tom lights the lantern": not Mira's now).
    """
    col = colours or character_colours(character)
    app = character.get("appearance") if isinstance(character.get("appearance"), Mapping) else {}
    desc = as_text(character.get("description"))
    kind, noun = kind_of(character)
    # Who they are ("a tall man", "a child") is the base, the build, or the description's first clause.
    who = set(words(f"{as_text(app.get('base'))} {as_text(app.get('build'))} {(clauses(desc) or [''])[0]}"))
    hair_t = as_text(app.get("hair")) or " ".join(c for c in clauses(desc) if is_word_in(c, HAIR_NOUNS))
    hair_w = set(words(hair_t))
    worn = worn_items(character)
    carried = as_list(app.get("carrying"), 4) or [c for c in clauses(desc) if set(words(c)) & set(HOLDABLE)]
    marks = set(words(" ".join(as_list(app.get("marks")) + as_list(app.get("other"))) + " " + desc))
    hair = next((h for h in ("bald", "ponytail", "braid", "curly", "long", "short") if h in hair_w), "medium")
    if "braids" in hair_w or "pigtails" in hair_w:
        hair = "long"
    hat = next(((HATS[w], _item_colour(t, col["accent"])) for t in worn for w in words(t) if w in HATS), None)
    wt = [(t, set(words(t))) for t in worn]
    pose = set(words(action))
    cam = camera.lower()
    carried = [t for t in carried if not set(words(t)) & set(without)]
    things = [*(h for h in holding if h), *carried]
    items: list[tuple[str, RGB]] = []
    for t in things:
        icon = next((HELD[w] for w in words(t) if w in HELD), "thing")
        if icon not in [k for k, _ in items]:
            items.append((icon, _item_colour(t, col["accent"])))
    return Figure(
        name=as_text(character.get("name"), 40),
        colours=col,
        hair="long" if hair == "braid" else hair,
        hat=hat,
        scarf=next((_item_colour(t, col["accent"]) for t, s in wt if s & {"scarf", "scarves", "shawl", "tie",
                                                                             "muffler"}), None),
        cloak=next((_item_colour(t, shade(col["outfit"], 0.7)) for t, s in wt if s & {"cloak", "cape"}), None),
        coat=any(s & {"coat", "trenchcoat", "raincoat", "robe", "parka", "overcoat", "greatcoat"} for _, s in wt),
        skirt=next((_item_colour(t, col["outfit"]) for t, s in wt if s & {"skirt", "dress", "gown", "kilt"}), None),
        glasses=any(s & {"glasses", "spectacles", "goggles", "monocle", "sunglasses"} for _, s in wt),
        beard=bool(marks & {"beard", "bearded", "moustache", "mustache", "goatee", "whiskers"}) or "beard" in hair_w,
        scar=bool(marks & {"scar", "scars", "scarred"}),
        held=tuple(items[:2]),
        kind=kind,
        noun=noun,
        old=is_old(character),
        expression=expression,
        view="back" if "behind" in cam.split() else "profile" if "profile" in cam.split() else "front",
        arm_up=bool(pose & {"raises", "raise", "waves", "wave", "points", "point", "reaches", "lifts", "lights"}),
        stride=bool(pose & {"runs", "run", "walks", "walk", "strides", "steps", "dances", "jumps", "flees"}),
        scale=1.08 if who & {"tall", "towering", "giant"} else 0.8 if who & SMALL else 1.0,
        bulk=1.2
        if who & {"stocky", "broad", "burly", "muscular", "heavy", "large", "big", "fat"}
        else 0.88
        if who & {"slim", "thin", "slender", "skinny", "lanky", "wiry"}
        else 1.0,
    )


def draw_figure(
    d: ImageDraw.ImageDraw, f: Figure, cx: float, top: float, s: float, parts: Parts | None = None
) -> tuple[float, ...]:
    """Draw a figure of nominal height s whose feet stand at top + s; returns its bounding box."""
    if f.kind != "person":
        return draw_creature(d, f, cx, top, s, parts)
    c, key = f.colours, f.name
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
    shoe = c.get("shoes", shade(c["legs"], 0.45))
    for sgn in (-1, 1):
        foot = (cx + sgn * (s * 0.06 + stride), fy - s * 0.03)
        limb(d, (cx + sgn * s * 0.05, hip), foot, s * 0.075, c["legs"], ow)
        d.ellipse(
            (foot[0] - s * 0.05 + sgn * s * 0.01, fy - s * 0.045, foot[0] + s * 0.05 + sgn * s * 0.01, fy),
            fill=shoe,
            outline=INK,
            width=ow,
        )
    lx = cx + s * 0.05 + (s * 0.01 + stride) * 0.8  # the right leg's centre 80% of the way down
    note(parts, f"{key}.legs", (lx - s * 0.018, fy - s * 0.17, lx + s * 0.018, fy - s * 0.11))
    if f.skirt:
        note(parts, f"{key}.skirt", (cx - hw * 0.5, fy - s * 0.3, cx + hw * 0.5, fy - s * 0.25))
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
    note(parts, f"{key}.outfit", (cx - sw * 0.75, sy + s * 0.06, cx - sw * 0.3, sy + s * 0.14))
    if f.coat and not back:
        d.line([(cx, sy + s * 0.02), (cx, low)], fill=shade(c["outfit"], 0.6), width=ow)
    if not f.coat and not f.skirt:  # a belt separates shirt from trousers at any size
        d.line([(cx - hw, hip - s * 0.01), (cx + hw, hip - s * 0.01)], fill=shade(c["legs"], 0.5), width=ow + 1)
    hands = [(cx - sw - s * 0.03, hip + s * 0.02), (cx + sw + s * 0.03, hip + s * 0.02)]
    if f.arm_up:
        hands[1 if side > 0 else 0] = (cx + side * (sw + s * 0.12), top + s * 0.04)
    for (hx, hand_y), sgn in zip(hands, (-1, 1), strict=True):
        limb(d, (cx + sgn * (sw - s * 0.025), sy + s * 0.035), (hx, hand_y), s * 0.052, c["outfit"], ow)
        d.ellipse(
            (hx - s * 0.027, hand_y - s * 0.027, hx + s * 0.027, hand_y + s * 0.027),
            fill=c["skin"],
            outline=INK,
            width=ow,
        )
    for (kind, colour), (hx, hand_y), sgn in zip(f.held, hands[::-1], (1, -1), strict=False):
        draw_held(d, kind, colour, hx, hand_y, s, ow, sgn)
        dy = s * 0.05 * 1.7 if kind == "lantern" else 0.0  # a lantern hangs below the hand
        y = hand_y + dy
        note(parts, f"{key}.held.{kind}", (hx - s * 0.01, y - s * 0.01, hx + s * 0.01, y + s * 0.01))
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
        note(parts, f"{key}.scarf", (cx - side * 0.5 * r, hy + 0.98 * r, cx - side * 0.15 * r, hy + 1.22 * r))
    if f.cloak:
        note(parts, f"{key}.cloak", (cx + sw * 1.05, fy - s * 0.2, cx + sw * 1.25, fy - s * 0.14))
    draw_head(d, f, cx, hy, r, ow, parts)
    return (cx - sw - s * 0.12, top - s * 0.05, cx + sw + s * 0.12, fy)
