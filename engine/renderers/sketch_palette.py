"""Helpers of the sketch (storyboard) renderer: colours, light, text and figure drawing.

Colour choices are pure functions of the board, so they can be tested without drawing.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import random
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageFont

RGB = tuple[int, int, int]

# Generic colour words; order matters only for readability.
COLOURS: dict[str, RGB] = {
    "red": (196, 42, 42), "crimson": (165, 22, 52), "scarlet": (220, 40, 32),
    "maroon": (118, 28, 38), "burgundy": (120, 26, 48), "orange": (232, 128, 40),
    "amber": (225, 150, 40), "yellow": (238, 206, 62), "golden": (216, 168, 52),
    "gold": (216, 168, 52), "green": (58, 148, 72), "emerald": (30, 140, 92),
    "olive": (118, 122, 52), "teal": (30, 128, 130), "blue": (48, 90, 198),
    "navy": (32, 42, 100), "azure": (60, 140, 230), "cyan": (40, 188, 210),
    "turquoise": (48, 200, 190), "purple": (118, 60, 160), "violet": (140, 92, 200),
    "lavender": (182, 160, 220), "indigo": (70, 50, 140), "pink": (234, 132, 172),
    "magenta": (200, 40, 160), "brown": (118, 76, 44), "tan": (200, 160, 110),
    "beige": (214, 196, 160), "khaki": (180, 168, 118), "black": (32, 32, 36),
    "white": (238, 238, 232), "grey": (128, 128, 134), "gray": (128, 128, 134),
    "silver": (190, 192, 202), "copper": (184, 108, 60), "bronze": (160, 110, 50),
    "hazel": (140, 110, 50), "cream": (240, 228, 196), "charcoal": (58, 58, 64),
}
# Hair has its own natural shades ("red hair" is copper, not fire-engine red).
HAIR: dict[str, RGB] = {
    "red": (176, 58, 34), "ginger": (198, 96, 40), "auburn": (140, 56, 32),
    "copper": (184, 92, 44), "blonde": (232, 200, 112), "blond": (232, 200, 112),
    "platinum": (228, 226, 210), "golden": (222, 180, 80), "brown": (98, 62, 36),
    "brunette": (98, 62, 36), "chestnut": (122, 66, 34), "black": (36, 30, 30),
    "dark": (52, 38, 30), "grey": (150, 150, 152), "gray": (150, 150, 152),
    "silver": (200, 202, 210), "white": (236, 236, 230),
}
SKIN: dict[str, RGB] = {
    "pale": (246, 226, 212), "fair": (240, 210, 184), "light": (236, 204, 176),
    "freckled": (238, 200, 170), "olive": (196, 156, 106), "tan": (208, 152, 106),
    "tanned": (208, 152, 106), "brown": (146, 98, 62), "dark": (102, 66, 44),
    "ebony": (78, 52, 38), "green": (120, 170, 100), "blue": (110, 150, 210),
    "grey": (160, 160, 166), "gray": (160, 160, 166), "metal": (170, 176, 188),
    "metallic": (170, 176, 188), "scaly": (96, 140, 84),
}
SKIN_TONES: tuple[RGB, ...] = (
    (244, 218, 196), (234, 196, 166), (214, 170, 130), (190, 140, 100),
    (150, 104, 70), (112, 76, 52),
)
HAIR_TONES: tuple[RGB, ...] = (
    (36, 30, 30), (98, 62, 36), (140, 56, 32), (232, 200, 112), (60, 44, 34),
    (176, 58, 34), (150, 150, 152), (122, 66, 34),
)
# Creatures and machines without skin words still get a plausible body colour.
BODY_NOUNS: dict[str, RGB] = {
    "robot": (170, 176, 188), "android": (190, 196, 206), "golem": (140, 132, 120),
    "dragon": (70, 130, 80), "phoenix": (232, 110, 40), "ghost": (222, 230, 240),
    "cat": (210, 150, 80), "wolf": (130, 130, 138), "fox": (210, 110, 50),
}
TORSO_WORDS = ("coat", "jacket", "shirt", "dress", "robe", "cloak", "tunic", "armor",
               "armour", "sweater", "hoodie", "uniform", "suit", "vest", "gown", "top",
               "blouse", "jumper", "cardigan", "apron", "overalls", "kimono", "parka", "clothes",
               "outfit", "clothing", "attire", "garb", "sari", "poncho", "leathers")
LEG_WORDS = ("trousers", "pants", "jeans", "skirt", "shorts", "leggings", "boots")
GARMENTS = TORSO_WORDS + LEG_WORDS + ("scarf", "hat", "hood", "cap", "cloak", "glasses", "belt")
MODIFIERS = {"dark": 0.6, "deep": 0.65, "light": -0.45, "pale": -0.5, "pastel": -0.5,
             "bright": 0.0}


def as_text(value: Any, limit: int = 2000) -> str:
    """Any board value as a short single-line string ("" for None and containers)."""
    if value is None or isinstance(value, (dict, list, tuple, set, bytes)):
        return ""
    return " ".join(str(value)[:limit].split())


def as_list(value: Any, limit: int = 12) -> list[str]:
    """A board list (or a lone string) as non-empty strings; anything else gives []."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return []
    return [t for t in (as_text(v, 200) for v in value[:limit]) if t]


def words(text: str) -> list[str]:
    """Lower-case word tokens (hyphenated words split too)."""
    return re.findall(r"[a-z']+", text.lower())


def stable_bytes(*parts: object) -> bytes:
    """A digest of the parts that is the same in every process (unlike hash())."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def hashed_colour(key: str, salt: str, sat: float = 0.55, val: float = 0.7) -> RGB:
    """A stable mid-saturated colour for a key."""
    d = stable_bytes(salt, key.lower())
    r, g, b = colorsys.hsv_to_rgb(d[0] / 255, sat + d[1] / 255 * 0.25, val + d[2] / 255 * 0.2 - 0.1)
    return int(r * 255), int(g * 255), int(b * 255)


def pick(key: str, salt: str, choices: tuple[RGB, ...]) -> RGB:
    """A stable choice among natural tones (hair, skin)."""
    return choices[stable_bytes(salt, key.lower())[0] % len(choices)]


def shade(c: RGB, f: float) -> RGB:
    """Darken (f < 1) or lighten (f > 1, towards white) a colour."""
    if f <= 1:
        return int(c[0] * f), int(c[1] * f), int(c[2] * f)
    t = min(f - 1, 1.0)
    return tuple(int(v + (255 - v) * t) for v in c)  # type: ignore[return-value]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear blend of two colours, t=0 gives a."""
    return tuple(int(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def find_colour(text: str, table: Mapping[str, RGB] = COLOURS) -> RGB | None:
    """First colour word of text in table, adjusted by a preceding dark/light."""
    toks = words(text)
    for i, tok in enumerate(toks):
        if tok in table and not (tok in MODIFIERS and i + 1 < len(toks) and toks[i + 1] in table):
            c = table[tok]
            mod = MODIFIERS.get(toks[i - 1]) if i else None
            if mod is not None and mod > 0:
                c = shade(c, mod)
            elif mod is not None and mod < 0:
                c = shade(c, 1 - mod)
            return c
    return None


def _clauses(description: str) -> list[str]:
    return [c for c in re.split(r",|;|\bwith\b|\band\b|\bwearing\b", description.lower()) if c.strip()]


def character_colours(character: Mapping[str, Any] | Any) -> dict[str, RGB]:
    """Hair, skin, eyes, outfit, legs and accent colours of a board character.

    Colour words in the structured appearance win, then the free description; anything
    still unknown comes from a hash of the name so a character looks alike in every panel.
    """
    ch = character if isinstance(character, Mapping) else {}
    app = ch.get("appearance") if isinstance(ch.get("appearance"), Mapping) else {}
    desc = as_text(ch.get("description"))
    key = as_text(ch.get("name")) or desc or "?"
    parts = _clauses(desc)
    hair_t = as_text(app.get("hair")) or " ".join(p for p in parts if "hair" in p)
    eyes_t = as_text(app.get("eyes")) or " ".join(p for p in parts if "eye" in p)
    skin_t = as_text(app.get("skin")) or " ".join(p for p in parts if "skin" in p or "complexion" in p)
    worn = as_list(app.get("wearing")) or [p for p in parts if any(w in p for w in GARMENTS)]
    base = as_text(app.get("base"))
    body = next((BODY_NOUNS[w] for w in words(f"{base} {desc} {key}") if w in BODY_NOUNS), None)
    out: dict[str, RGB] = {
        "hair": find_colour(hair_t, HAIR) or pick(key, "hair", HAIR_TONES),
        "skin": find_colour(skin_t, SKIN) or body or pick(key, "skin", SKIN_TONES),
        "eyes": find_colour(eyes_t) or pick(key, "eyes", ((70, 50, 30), (50, 90, 160), (60, 120, 70))),
    }
    torso = [w for w in worn if any(t in words(w) for t in TORSO_WORDS)]
    legs = [w for w in worn if any(t in words(w) for t in LEG_WORDS)]
    other = [w for w in worn if w not in torso and w not in legs]
    # Only a body garment colours the body: a lone "blue scarf" stays an accent.
    out["outfit"] = next((c for c in map(find_colour, torso) if c), None) or hashed_colour(key, "outfit")
    out["legs"] = next((c for c in map(find_colour, legs) if c), None) or shade(out["outfit"], 0.55)
    out["accent"] = (next((c for c in map(find_colour, other) if c), None)
                     or hashed_colour(key, "accent", 0.6, 0.8))
    return out


@dataclass(frozen=True)
class Light:
    """How a time of day (or a light source) colours the whole panel."""

    sky_top: RGB
    sky_low: RGB
    ground: RGB
    tint: RGB
    strength: float  # 0 = no tint, 1 = everything becomes tint
    stars: bool = False


TIMES: dict[str, Light] = {
    "dawn": Light((118, 108, 170), (250, 186, 176), (120, 120, 110), (255, 170, 180), 0.14),
    "morning": Light((118, 178, 235), (218, 232, 246), (132, 160, 100), (255, 250, 235), 0.04),
    "noon": Light((64, 148, 238), (196, 226, 252), (130, 170, 92), (255, 255, 240), 0.0),
    "afternoon": Light((88, 160, 226), (228, 226, 200), (136, 160, 94), (255, 236, 200), 0.06),
    "golden hour": Light((226, 168, 96), (255, 218, 146), (150, 140, 80), (255, 190, 96), 0.18),
    "sunset": Light((112, 70, 140), (250, 148, 72), (110, 96, 80), (255, 140, 84), 0.2),
    "dusk": Light((62, 50, 118), (240, 138, 86), (86, 80, 86), (170, 96, 140), 0.26),
    "evening": Light((40, 44, 96), (170, 110, 120), (70, 70, 80), (80, 70, 130), 0.32),
    "night": Light((8, 14, 40), (34, 46, 92), (30, 36, 50), (16, 26, 72), 0.5, True),
    "midnight": Light((4, 4, 18), (18, 24, 56), (20, 22, 34), (8, 12, 44), 0.6, True),
}
DEFAULT_TIME = Light((150, 190, 230), (226, 236, 246), (140, 160, 110), (255, 255, 255), 0.0)


def time_light(time_of_day: str) -> Light:
    """The palette for a time of day; understands phrases like 'late at night'."""
    t = time_of_day.lower()
    for name in sorted(TIMES, key=len, reverse=True):
        if name in t:
            return TIMES[name]
    if "sunrise" in t:
        return TIMES["dawn"]
    return TIMES["noon"] if "midday" in t or "day" in t else DEFAULT_TIME


# Light sources: keyword -> (glow colour, glow strength, extra tint strength).
SOURCES: tuple[tuple[tuple[str, ...], RGB, float], ...] = (
    (("candle", "fire", "torch", "lantern", "lamp", "hearth", "ember"), (255, 150, 60), 0.55),
    (("neon",), (255, 40, 200), 0.5),
    (("moon",), (120, 150, 255), 0.4),
    (("sun", "daylight", "golden"), (255, 228, 150), 0.3),
    (("spotlight", "dramatic", "harsh", "chiaroscuro", "rim"), (255, 250, 235), 0.4),
    (("magic", "glow", "bioluminescent"), (110, 255, 210), 0.4),
)


def light_source(lighting: str) -> tuple[RGB, float] | None:
    """Glow colour and strength for a lighting phrase (None for none/unknown)."""
    low = lighting.lower()
    for keys, colour, strength in SOURCES:
        if any(k in low for k in keys):
            return colour, strength
    return None


# Fonts -----------------------------------------------------------------------------

@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's embedded font at a size (cached: loading parses the font each time)."""
    return ImageFont.load_default(size=max(6, min(int(size), 160)))


@lru_cache(maxsize=4096)
def _has_glyph(ch: str) -> bool:
    # The embedded font is a small subset; missing glyphs render as the same .notdef box.
    f = font(20)
    if not isinstance(f, ImageFont.FreeTypeFont):
        return False
    return bytes(f.getmask(ch)) != _notdef()


@lru_cache(maxsize=1)
def _notdef() -> bytes:
    return bytes(font(20).getmask("\U000e0001"))


_SWAPS = {"—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "·": "·", "…": "…"}


def safe_text(text: str) -> str:
    """Text the font can draw: accents stripped, emoji dropped, other letters as '?'."""
    out: list[str] = []
    for ch in text:
        ch = _SWAPS.get(ch, ch)
        if ch.isascii() or _has_glyph(ch):
            out.append(ch if ch.isprintable() else " ")
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base and all(c.isascii() for c in base):
            out.append(base)
        elif unicodedata.category(ch) not in ("So", "Sk", "Cf", "Mn", "Cs", "Co", "Cn"):
            out.append("?")
    return "".join(out)


def wrap(text: str, fnt: Any, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap into at most max_lines lines, ending with '…' if cut short."""
    text = " ".join(safe_text(text[:4000]).split())
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        trial = f"{line} {word}" if line else word
        if fnt.getlength(trial) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        line = word
        while fnt.getlength(line) > width and len(line) > 1 and len(lines) < max_lines:  # split long words
            cut = max(1, int(len(line) * width / max(fnt.getlength(line), 1)))
            lines.append(line[:cut])
            line = line[cut:]
        if len(lines) >= max_lines:
            break
    else:
        if line:
            lines.append(line)
        if len(lines) <= max_lines:
            return lines
    lines = lines[:max_lines]
    return [*lines[:-1], ellipsize(lines[-1] + "…", fnt, width)] if lines else []


def ellipsize(text: str, fnt: Any, width: float) -> str:
    """One line of text, cut with '…' to fit width."""
    text = " ".join(safe_text(text[:4000]).split())
    if fnt.getlength(text) <= width:
        return text
    while text and fnt.getlength(text.rstrip(". ") + "…") > width:
        text = text[:-1]
    return text.rstrip(". ") + "…" if text else ""


INK: RGB = (28, 26, 32)
PAPER: RGB = (247, 244, 236)


class SafeDraw(ImageDraw.ImageDraw):
    """ImageDraw that accepts boxes with swapped corners (mirrored figures compute them)."""

    @staticmethod
    def _box(xy: Any) -> Any:
        if isinstance(xy, (tuple, list)) and len(xy) == 4 and all(isinstance(v, (int, float)) for v in xy):
            x0, y0, x1, y1 = xy
            return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        return xy

    def rectangle(self, xy: Any, *a: Any, **kw: Any) -> None:
        super().rectangle(self._box(xy), *a, **kw)

    def rounded_rectangle(self, xy: Any, *a: Any, **kw: Any) -> None:
        super().rounded_rectangle(self._box(xy), *a, **kw)

    def ellipse(self, xy: Any, *a: Any, **kw: Any) -> None:
        super().ellipse(self._box(xy), *a, **kw)

    def pieslice(self, xy: Any, *a: Any, **kw: Any) -> None:
        super().pieslice(self._box(xy), *a, **kw)

    def chord(self, xy: Any, *a: Any, **kw: Any) -> None:
        super().chord(self._box(xy), *a, **kw)

    def arc(self, xy: Any, *a: Any, **kw: Any) -> None:
        super().arc(self._box(xy), *a, **kw)


def label(d: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, anchor: str = "la",
          fill: RGB = PAPER, ink: RGB = INK, max_w: float = 1e9) -> None:
    """A small tag: text on a rounded box, positioned by its anchor corner."""
    f = font(size)
    text = ellipsize(text, f, max_w)
    if not text:
        return
    pad = max(1, size // 4)
    x0, y0, x1, y1 = d.textbbox(xy, text, font=f, anchor=anchor)
    d.rounded_rectangle((x0 - pad * 2, y0 - pad, x1 + pad * 2, y1 + pad), radius=pad * 2, fill=fill,
                        outline=ink, width=max(1, size // 14))
    d.text(xy, text, font=f, fill=ink, anchor=anchor)


def vgrad(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    """A top-to-bottom colour gradient (C-speed: a resized 256-step ramp)."""
    size = (max(1, size[0]), max(1, size[1]))
    mask = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


# Figures -----------------------------------------------------------------------------

HELD = {  # carried-item keyword -> icon kind
    **dict.fromkeys(("lantern", "lamp", "candle", "torch"), "lantern"),
    **dict.fromkeys(("sword", "blade", "dagger", "knife", "axe", "saber", "sabre"), "blade"),
    **dict.fromkeys(("staff", "stick", "spear", "wand", "cane", "umbrella", "pole", "broom",
                     "rod", "bow"), "staff"),
    **dict.fromkeys(("book", "map", "letter", "scroll", "notebook", "paper", "phone", "card",
                     "journal", "photo", "tablet", "sign"), "sheet"),
    **dict.fromkeys(("bag", "satchel", "backpack", "basket", "suitcase", "case", "box", "crate",
                     "chest", "sack"), "bag"),
    **dict.fromkeys(("cup", "mug", "glass", "bottle", "potion", "flask", "jar", "tankard"), "cup"),
    **dict.fromkeys(("flower", "rose", "bouquet", "plant"), "flower"),
}
SMALL = {"short", "small", "little", "tiny", "child", "kid", "boy", "girl", "cat", "dog", "fox", "gnome",
         "dwarf", "halfling"}
HATS = {"hat": "hat", "fedora": "hat", "tricorn": "hat", "hood": "hood",
        "helmet": "helmet", "crown": "crown", "tiara": "crown", "cap": "cap", "beret": "cap",
        "beanie": "cap", "bandana": "cap", "headband": "cap"}


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
        return replace(self, look=look)

    def facing_away(self) -> Figure:
        return replace(self, view="back")


def _item_colour(text: str, fallback: RGB) -> RGB:
    return find_colour(text) or fallback


def figure_for(character: Mapping[str, Any], action: str | bool, camera: str) -> Figure:
    """The Figure of a board character, from its appearance words (and the action for poses)."""
    col = character_colours(character)
    app = character.get("appearance") if isinstance(character.get("appearance"), Mapping) else {}
    desc = as_text(character.get("description"))
    # Who they are ("a tall man", "a child") is the base, the build, or the description's first clause.
    kind = set(words(f'{as_text(app.get("base"))} {as_text(app.get("build"))} {(_clauses(desc) or [""])[0]}'))
    hair_t = (as_text(app.get("hair")) or " ".join(c for c in _clauses(desc) if "hair" in c)).lower()
    worn = as_list(app.get("wearing")) or [c for c in _clauses(desc) if any(g in c for g in GARMENTS)]
    held = as_list(app.get("carrying"), 4) or [c for c in _clauses(desc) if any(k in words(c) for k in HELD)]
    marks = " ".join(as_list(app.get("marks")) + as_list(app.get("other"))).lower() + " " + desc.lower()
    hair = next((h for h in ("bald", "ponytail", "braid", "curly", "long", "short") if h in hair_t), "medium")
    if not as_text(app.get("hair")) and {"robot", "android", "golem"} & kind:
        hair = "bald"  # machines have no hair unless someone says so
    hat = next(((HATS[w], _item_colour(t, col["accent"])) for t in worn for w in words(t) if w in HATS), None)
    wt = [(t, set(words(t))) for t in worn]
    pose = set(words(action)) if isinstance(action, str) else set()
    cam = camera.lower()
    return Figure(
        name=as_text(character.get("name"), 40), colours=col, hair="long" if hair == "braid" else hair,
        hat=hat, scarf=next((_item_colour(t, col["accent"]) for t, s in wt if s & {"scarf", "shawl", "tie"}), None),
        cloak=next((_item_colour(t, shade(col["outfit"], 0.7)) for t, s in wt if s & {"cloak", "cape"}), None),
        coat=any(s & {"coat", "trenchcoat", "robe", "parka", "overcoat"} for _, s in wt),
        skirt=next((_item_colour(t, col["outfit"]) for t, s in wt if s & {"skirt", "dress", "gown", "kilt"}), None),
        glasses=any(s & {"glasses", "spectacles", "goggles", "monocle"} for _, s in wt),
        beard="beard" in marks or "beard" in hair_t or "moustache" in marks, scar="scar" in marks,
        held=tuple((next((HELD[w] for w in words(t) if w in HELD), "thing"), _item_colour(t, col["accent"]))
                   for t in held[:2]),
        view="back" if "behind" in cam else "profile" if "profile" in cam else "front",
        arm_up=bool(pose & {"raises", "raise", "waves", "wave", "points", "point", "reaches", "lifts"}),
        stride=bool(pose & {"runs", "run", "walks", "walk", "strides", "steps", "dances", "jumps", "flees"}),
        scale=1.08 if kind & {"tall", "towering", "giant"} else 0.8 if kind & SMALL else 1.0,
        bulk=1.2 if kind & {"stocky", "broad", "burly", "muscular", "heavy", "large", "big", "fat"}
        else 0.88 if kind & {"slim", "thin", "slender", "skinny", "lanky", "wiry"} else 1.0,
    )


def _limb(d: ImageDraw.ImageDraw, p: tuple[float, float], q: tuple[float, float], width: float,
          colour: RGB, ow: int) -> None:
    # An outlined limb: a thick ink stroke under a thinner colour stroke, with round ends.
    for w, c in ((width + 2 * ow, INK), (width, colour)):
        d.line([p, q], fill=c, width=max(1, int(w)))
        for x, y in (p, q):
            d.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=c)


def _held(d: ImageDraw.ImageDraw, kind: str, colour: RGB, hx: float, hy: float, s: float, ow: int,
          side: int) -> None:
    """A carried thing at a hand: small, iconic, recognisable at thumbnail size."""
    u = s * 0.05
    if kind == "lantern":
        d.line([(hx, hy), (hx, hy + u * 0.8)], fill=INK, width=ow)
        d.rounded_rectangle((hx - u * 0.7, hy + u * 0.8, hx + u * 0.7, hy + u * 2.6), radius=u * 0.2,
                            fill=(255, 214, 110), outline=INK, width=ow)
    elif kind == "blade":
        _limb(d, (hx, hy), (hx + side * u * 2.5, hy - u * 6), u * 0.35, (205, 210, 220), ow)
        d.line([(hx - u * 0.9, hy - u * 0.3), (hx + u * 0.9, hy + u * 0.3)], fill=INK, width=max(ow, int(u * 0.4)))
    elif kind == "staff":
        _limb(d, (hx, hy - u * 7), (hx, hy + u * 8.5), u * 0.35, colour if colour != INK else (120, 84, 50), ow)
    elif kind == "sheet":
        d.rectangle((hx - u * 0.9, hy - u * 1.4, hx + u * 0.9, hy + u * 0.8), fill=colour, outline=INK, width=ow)
    elif kind == "bag":
        d.rounded_rectangle((hx - u * 1.2, hy, hx + u * 1.2, hy + u * 2.2), radius=u * 0.4, fill=colour,
                            outline=INK, width=ow)
    elif kind == "cup":
        d.rectangle((hx - u * 0.5, hy - u * 1.2, hx + u * 0.5, hy + u * 0.2), fill=colour, outline=INK, width=ow)
    elif kind == "flower":
        d.line([(hx, hy), (hx + side * u * 0.6, hy - u * 2.5)], fill=(60, 140, 60), width=max(1, int(u * 0.3)))
        d.ellipse((hx + side * u * 0.6 - u * 0.7, hy - u * 3.2, hx + side * u * 0.6 + u * 0.7, hy - u * 1.8),
                  fill=colour, outline=INK, width=ow)
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
        d.polygon([(cx - sw, sy), (cx + sw, sy), (cx + sw * 1.5, fy - s * 0.08), (cx - sw * 1.5, fy - s * 0.08)],
                  fill=f.cloak, outline=INK, width=ow)
    if f.hair == "long" and not back and not f.hat:
        d.rounded_rectangle((cx - 1.05 * r, hy - 0.6 * r, cx + 1.05 * r, hy + 2.4 * r), radius=r * 0.8,
                            fill=c["hair"], outline=INK, width=ow)
    stride = s * 0.07 if f.stride else 0
    shoe = shade(c["legs"], 0.45)
    for sgn in (-1, 1):
        foot = (cx + sgn * (s * 0.06 + stride), fy - s * 0.03)
        _limb(d, (cx + sgn * s * 0.05, hip), foot, s * 0.075, c["legs"], ow)
        d.ellipse((foot[0] - s * 0.05 + sgn * s * 0.01, fy - s * 0.045, foot[0] + s * 0.05 + sgn * s * 0.01, fy),
                  fill=shoe, outline=INK, width=ow)
    if f.skirt:
        d.polygon([(cx - hw, hip - s * 0.04), (cx + hw, hip - s * 0.04), (cx + hw * 1.7, fy - s * 0.22),
                   (cx - hw * 1.7, fy - s * 0.22)], fill=f.skirt, outline=INK, width=ow)
    low, lw = (hip + s * 0.15, hw * 1.2) if f.coat else (hip, hw)
    d.polygon([(cx - sw, sy + s * 0.03), (cx - sw + s * 0.03, sy), (cx + sw - s * 0.03, sy),
               (cx + sw, sy + s * 0.03), (cx + lw, low), (cx - lw, low)], fill=c["outfit"], outline=INK, width=ow)
    if f.coat and not back:
        d.line([(cx, sy + s * 0.02), (cx, low)], fill=shade(c["outfit"], 0.6), width=ow)
    if not f.coat and not f.skirt:  # a belt separates shirt from trousers at any size
        d.line([(cx - hw, hip - s * 0.01), (cx + hw, hip - s * 0.01)], fill=shade(c["legs"], 0.5), width=ow + 1)
    hands = [(cx - sw - s * 0.03, hip + s * 0.02), (cx + sw + s * 0.03, hip + s * 0.02)]
    if f.arm_up:
        hands[1 if side > 0 else 0] = (cx + side * (sw + s * 0.12), top + s * 0.04)
    for (hx, hand_y), sgn in zip(hands, (-1, 1), strict=True):
        _limb(d, (cx + sgn * (sw - s * 0.025), sy + s * 0.035), (hx, hand_y), s * 0.052, c["outfit"], ow)
        d.ellipse((hx - s * 0.027, hand_y - s * 0.027, hx + s * 0.027, hand_y + s * 0.027), fill=c["skin"],
                  outline=INK, width=ow)
    for (kind, colour), (hx, hand_y), sgn in zip(f.held, hands[::-1], (1, -1), strict=False):
        _held(d, kind, colour, hx, hand_y, s, ow, sgn)
    d.rectangle((cx - 0.3 * r, hy + 0.6 * r, cx + 0.3 * r, sy + s * 0.01), fill=c["skin"], outline=INK, width=ow)
    if f.hat and f.hat[0] == "hood":
        d.ellipse((cx - 1.3 * r, hy - 1.25 * r, cx + 1.3 * r, hy + 1.25 * r), fill=f.hat[1], outline=INK, width=ow)
    d.ellipse((cx - 0.9 * r, hy - r, cx + 0.9 * r, hy + r), fill=c["skin"], outline=INK, width=ow)
    if f.scarf:
        d.rounded_rectangle((cx - 0.8 * r, hy + 0.85 * r, cx + 0.8 * r, hy + 1.35 * r), radius=r * 0.2,
                            fill=f.scarf, outline=INK, width=ow)
        d.rectangle((cx + side * 0.2 * r, hy + 1.2 * r, cx + side * 0.6 * r, sy + s * 0.12), fill=f.scarf,
                    outline=INK, width=ow)
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
            d.rounded_rectangle((cx - 0.8 * r, hy, cx + 0.8 * r, hy + 2.4 * r), radius=r * 0.5, fill=hair,
                                outline=INK, width=ow)
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
            d.pieslice((cx - 0.95 * r, hy - 1.05 * r, cx + 0.95 * r, hy + 0.95 * r), 100 if dirn > 0 else 280,
                       260 if dirn > 0 else 80, fill=hair, outline=INK, width=ow)
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
            d.chord((cx - 0.98 * r, hy - 1.12 * r, cx + 0.98 * r, hy + 0.3 * r), 180, 360, fill=col,
                    outline=INK, width=ow)
        elif kind == "crown":
            pts = [(cx - 0.7 * r, hy - 0.75 * r)] + [
                (cx - 0.7 * r + k * 0.35 * r, hy - (1.5 if k % 2 else 1.0) * r) for k in range(5)
            ] + [(cx + 0.7 * r, hy - 0.75 * r)]
            d.polygon(pts, fill=(230, 184, 60), outline=INK, width=ow)
        else:  # cap or helmet: a dome over the hair
            d.chord((cx - 1.0 * r, hy - 1.15 * r, cx + 1.0 * r, hy + (0.5 if kind == "helmet" else 0.1) * r),
                    180, 360, fill=col if kind == "cap" else (176, 180, 192), outline=INK, width=ow)


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
            d.line([(ex - 0.22 * r, ey - 0.32 * r), (ex + 0.22 * r, ey - 0.36 * r)], fill=shade(c["hair"], 0.7),
                   width=max(1, int(r * 0.08)))
        if f.glasses:
            d.ellipse((ex - 0.28 * r, ey - 0.24 * r, ex + 0.28 * r, ey + 0.24 * r), outline=INK, width=ow)
    if prof:
        nx = cx + dirn * 0.88 * r
        d.polygon([(nx, hy - 0.05 * r), (nx + dirn * 0.25 * r, hy + 0.25 * r), (nx, hy + 0.32 * r)],
                  fill=c["skin"], outline=INK, width=ow)
    mx = cx + (dirn * 0.5 * r if prof else look * 0.12 * r)
    if f.beard:
        d.chord((cx - 0.8 * r, hy - 0.3 * r, cx + 0.8 * r, hy + 1.02 * r), 5, 175, fill=c["hair"],
                outline=INK, width=ow)
    if r >= 5:
        d.arc((mx - 0.22 * r, hy + 0.3 * r, mx + 0.22 * r, hy + 0.58 * r), 20, 160, fill=INK, width=ow)
    if f.scar:
        sx = cx - dirn * 0.45 * r if not prof else cx + dirn * 0.2 * r
        d.line([(sx - 0.1 * r, hy + 0.15 * r), (sx + 0.1 * r, hy + 0.5 * r)], fill=(170, 60, 60),
               width=max(1, int(r * 0.07)))


# Backdrops and props -------------------------------------------------------------------

INDOOR = {
    "wood": ("tavern", "inn", "pub", "bar", "cabin", "saloon", "hut", "barn", "attic", "ship"),
    "stone": ("cave", "dungeon", "cellar", "crypt", "tunnel", "mine", "prison", "cell", "vault"),
    "hall": ("hall", "castle", "throne", "temple", "church", "palace", "cathedral", "chapel", "museum"),
    "kitchen": ("kitchen", "bakery", "restaurant", "cafe", "diner"),
    "library": ("library", "study", "archive", "bookshop", "office", "classroom", "lab", "laboratory"),
    "room": ("room", "house", "bedroom", "apartment", "home", "shop", "store", "studio", "interior",
             "inside", "indoors", "corridor", "hallway", "chamber", "train", "station", "warehouse",
             "workshop", "basement", "lobby", "hotel", "hospital"),
}
OUTDOOR = {
    "forest": ("forest", "woods", "jungle", "grove", "woodland", "trees", "swamp"),
    "city": ("city", "street", "alley", "town", "village", "market", "square", "road", "rooftop",
             "downtown", "bridge", "plaza"),
    "sea": ("beach", "sea", "ocean", "harbor", "harbour", "shore", "coast", "lighthouse", "dock", "pier",
            "lake", "island", "port", "river", "bay"),
    "mountain": ("mountain", "mountains", "cliff", "peak", "valley", "canyon", "ridge", "glacier"),
    "desert": ("desert", "dunes", "wasteland", "savanna"),
    "field": ("field", "meadow", "plain", "hill", "hills", "park", "garden", "farm", "outside", "outdoors",
              "sky", "graveyard", "ruins", "camp", "countryside"),
}
WALLS: dict[str, tuple[RGB, RGB]] = {  # style -> (wall, floor)
    "wood": ((152, 106, 66), (112, 76, 48)), "stone": ((112, 106, 100), (86, 80, 74)),
    "hall": ((172, 164, 150), (122, 112, 100)), "kitchen": ((226, 214, 182), (160, 130, 100)),
    "library": ((126, 76, 52), (104, 70, 50)), "room": ((208, 198, 178), (150, 118, 90)),
}
GROUNDS: dict[str, RGB] = {"forest": (84, 128, 64), "city": (118, 118, 124), "sea": (218, 200, 150),
                           "mountain": (126, 138, 104), "desert": (222, 192, 132), "field": (124, 168, 88)}


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


def draw_backdrop(scene: Image.Image, location: str, place: str, light: Light, horizon: float,
                  key: bytes) -> Backdrop:
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
            d.rectangle((bx0 + span * 0.04, hz - wall_h * 0.3, bx0 + span * 0.45, hz), fill=shade(wall, 0.6),
                        outline=INK, width=ow)  # the bar counter
            d.line([(bx0 + span * 0.04, hz - wall_h * 0.62), (bx0 + span * 0.45, hz - wall_h * 0.62)],
                   fill=shade(wall, 0.5), width=max(1, h // 120))
            for k in range(7):
                x = bx0 + span * (0.07 + k * 0.053)
                d.rectangle((x, hz - wall_h * 0.76, x + span * 0.022, hz - wall_h * 0.62),
                            fill=((60, 120, 70), (120, 50, 40), (200, 170, 90))[k % 3], outline=INK, width=1)
        elif style == "stone":
            for _ in range(40):
                x, y, r = rng.uniform(0, w), rng.uniform(0, hz), rng.uniform(0.02, 0.06) * h
                d.ellipse((x - r * 1.4, y - r, x + r * 1.4, y + r), fill=shade(wall, rng.uniform(0.75, 1.1)))
        elif style == "hall":
            for fx in (0.18, 0.82):
                x = bx0 + span * fx
                d.rectangle((x - span * 0.05, by0, x + span * 0.05, hz), fill=shade(wall, 1.15), outline=INK, width=ow)
            d.polygon([(bx0 + span * 0.43, by0), (bx0 + span * 0.57, by0), (bx0 + span * 0.57, by0 + wall_h * 0.6),
                       (bx0 + span * 0.5, by0 + wall_h * 0.5), (bx0 + span * 0.43, by0 + wall_h * 0.6)],
                      fill=(150, 40, 50), outline=INK, width=ow)
        elif style == "library":
            for row in range(4):
                y0 = by0 + wall_h * (0.08 + row * 0.23)
                x = bx0 + span * 0.03
                while x < bx1 - span * 0.05:
                    bw = span * rng.uniform(0.012, 0.025)
                    d.rectangle((x, y0 + wall_h * rng.uniform(0, 0.05), x + bw, y0 + wall_h * 0.2),
                                fill=hashed_colour(str(rng.random()), "book", 0.5, 0.6), outline=INK, width=1)
                    x += bw + 1
        elif style == "kitchen":
            for k in range(1, 12):
                d.line([(bx0 + span * k / 12, hz - wall_h * 0.45), (bx0 + span * k / 12, hz)],
                       fill=shade(wall, 0.85), width=1)
            d.rectangle((bx0, hz - wall_h * 0.3, bx1, hz), fill=(150, 110, 80), outline=INK, width=ow)
        if style != "stone" and style != "library":
            win = (bx0 + span * 0.6, by0 + wall_h * 0.14, bx0 + span * 0.84, by0 + wall_h * 0.56)
            scene.paste(vgrad((int(win[2] - win[0]), int(win[3] - win[1])), light.sky_top, light.sky_low),
                        (int(win[0]), int(win[1])))
            d.rectangle(win, outline=INK, width=max(2, ow * 2))
            d.line([((win[0] + win[2]) / 2, win[1]), ((win[0] + win[2]) / 2, win[3])], fill=INK, width=ow)
            d.line([(win[0], (win[1] + win[3]) / 2), (win[2], (win[1] + win[3]) / 2)], fill=INK, width=ow)
            bd.windows.append(win)
        bd.lamp = (bx0 + span * 0.3, by0 + wall_h * 0.35)
        if style in ("wood", "kitchen", "room") or "table" in place.lower():
            tx, ty, tw = w * 0.5, hz + (h - hz) * 0.3, w * 0.15
            for sgn in (-1, 1):
                d.line([(tx + sgn * tw * 0.8, ty), (tx + sgn * tw * 0.8, ty + (h - hz) * 0.28)], fill=INK,
                       width=max(2, w // 200))
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
        d.ellipse((sun[0] - sr, sun[1] - sr, sun[0] + sr, sun[1] + sr),
                  fill=(255, 186, 110) if dusk else (255, 246, 206))
    if style == "forest":
        for row, (scale, tone) in enumerate(((0.7, 0.72), (1.0, 0.55))):
            for _ in range(int(8 + row * 4)):
                x, th = rng.uniform(-0.05, 1.05) * w, h * rng.uniform(0.22, 0.38) * scale
                base = hz + row * h * 0.04
                d.rectangle((x - th * 0.04, base - th * 0.4, x + th * 0.04, base), fill=(84, 60, 40))
                d.polygon([(x, base - th), (x - th * 0.28, base - th * 0.25), (x + th * 0.28, base - th * 0.25)],
                          fill=shade((60, 120, 64), tone + rng.uniform(0, 0.15)), outline=INK, width=ow)
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
                        d.rectangle((px, py, px + w * 0.015, py + h * 0.028),
                                    fill=(255, 214, 120) if on else shade(col, 0.75))
            x += bw + w * rng.uniform(0, 0.02)
        d.polygon([(w * 0.42, hz), (w * 0.58, hz), (w * 1.05, h), (-w * 0.05, h)], fill=(86, 86, 94))
        for k in range(6):
            t0, t1 = (k / 6) ** 2, ((k + 0.5) / 6) ** 2
            d.line([(w / 2, hz + (h - hz) * t0), (w / 2, hz + (h - hz) * t1)], fill=(230, 220, 150),
                   width=max(1, int(w * 0.004 * (1 + 3 * t1))))
    elif style == "sea":
        water = hz + (h - hz) * 0.35
        scene.paste(vgrad((w, int(water - hz) + 1), mix((40, 96, 150), light.sky_low, 0.3), (50, 120, 160)),
                    (0, int(hz)))
        for _ in range(14):
            x, y = rng.uniform(0, w), rng.uniform(hz + 2, water - 2)
            d.arc((x - w * 0.03, y - h * 0.01, x + w * 0.03, y + h * 0.01), 200, 340, fill=(220, 236, 245), width=ow)
        if "lighthouse" in (location + " " + place).lower():
            lx, lb, lt = w * 0.86, hz + h * 0.02, hz - h * 0.45
            d.polygon([(lx - w * 0.035, lb), (lx + w * 0.035, lb), (lx + w * 0.022, lt), (lx - w * 0.022, lt)],
                      fill=(240, 238, 230), outline=INK, width=ow)
            for k in (1, 3):
                y0, y1 = lb + (lt - lb) * k / 5, lb + (lt - lb) * (k + 1) / 5
                d.rectangle((lx - w * 0.03, y1, lx + w * 0.03, y0), fill=(190, 50, 50))
            d.rectangle((lx - w * 0.022, lt - h * 0.06, lx + w * 0.022, lt), fill=(255, 226, 120), outline=INK,
                        width=ow)
            d.polygon([(lx - w * 0.03, lt - h * 0.06), (lx + w * 0.03, lt - h * 0.06), (lx, lt - h * 0.11)],
                      fill=INK)
            bd.lamp = (lx, lt - h * 0.03)
    elif style in ("mountain", "desert", "field"):
        for _ in range(5 if style == "mountain" else 3):
            x, pw = rng.uniform(0, w), w * rng.uniform(0.15, 0.35)
            if style == "mountain":
                ph = h * rng.uniform(0.15, 0.35)
                tone = shade((110, 120, 146), rng.uniform(0.8, 1.1))
                d.polygon([(x - pw, hz), (x, hz - ph), (x + pw, hz)], fill=tone, outline=INK, width=ow)
                d.polygon([(x - pw * 0.22, hz - ph * 0.78), (x, hz - ph), (x + pw * 0.22, hz - ph * 0.78)],
                          fill=(240, 242, 248))
            else:
                ph = h * rng.uniform(0.05, 0.12)
                d.chord((x - pw, hz - ph, x + pw, hz + ph), 180, 360, fill=shade(ground, rng.uniform(0.85, 0.95)))
        if style == "field":
            tx, th = w * 0.1, h * 0.35
            d.rectangle((tx - th * 0.04, hz - th * 0.5, tx + th * 0.04, hz + h * 0.03), fill=(92, 66, 44),
                        outline=INK, width=ow)
            d.ellipse((tx - th * 0.3, hz - th, tx + th * 0.3, hz - th * 0.4), fill=(70, 128, 62), outline=INK,
                      width=ow)
            d.polygon([(w * 0.48, hz), (w * 0.52, hz), (w * 0.7, h), (w * 0.3, h)], fill=shade(ground, 1.25))
    d.line([(0, hz), (w, hz)], fill=shade(ground, 0.5), width=ow)
    return bd


PROP_ICONS = {**HELD, "table": "table", "chair": "table", "bench": "table", "barrel": "bag", "fire": "fire",
              "campfire": "fire", "fireplace": "fire", "door": "sheet", "painting": "sheet", "window": "sheet"}


def short_name(text: str, max_words: int = 3) -> str:
    """A prop's label: 'a lantern on the table' -> 'lantern'."""
    head = re.split(r"\b(?:on|in|at|by|under|near|next|beside|behind|with|from|of|against)\b", text.lower())[0]
    toks = [t for t in head.split() if t not in ("a", "an", "the", "some", "two", "three")]
    return " ".join(toks[-max_words:]) or text[:20]


def draw_props(scene: Image.Image, props: list[str], bd: Backdrop, figure_xs: list[float],
               size: int, camera: str) -> list[tuple[float, float, str]]:
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
            _held(d, kind, colour, x, y - u * (2.6 if kind == "lantern" else 0.2), u * 20, ow, 1)
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
