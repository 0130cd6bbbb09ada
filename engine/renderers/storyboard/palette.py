"""Colours and light of the sketch (storyboard) renderer.

Colour words, the colours of a board character, time-of-day palettes and light sources, plus the
small readers of board values they are built on. All pure functions of the board, so they can be
tested without drawing.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

RGB = tuple[int, int, int]
INK: RGB = (28, 26, 32)
PAPER: RGB = (247, 244, 236)

# Generic colour words; order matters only for readability.
COLOURS: dict[str, RGB] = {
    "red": (196, 42, 42),
    "crimson": (165, 22, 52),
    "scarlet": (220, 40, 32),
    "maroon": (118, 28, 38),
    "burgundy": (120, 26, 48),
    "orange": (232, 128, 40),
    "amber": (225, 150, 40),
    "yellow": (238, 206, 62),
    "golden": (216, 168, 52),
    "gold": (216, 168, 52),
    "green": (58, 148, 72),
    "emerald": (30, 140, 92),
    "olive": (118, 122, 52),
    "teal": (30, 128, 130),
    "blue": (48, 90, 198),
    "navy": (32, 42, 100),
    "azure": (60, 140, 230),
    "cyan": (40, 188, 210),
    "turquoise": (48, 200, 190),
    "purple": (118, 60, 160),
    "violet": (140, 92, 200),
    "lavender": (182, 160, 220),
    "indigo": (70, 50, 140),
    "pink": (234, 132, 172),
    "magenta": (200, 40, 160),
    "brown": (118, 76, 44),
    "tan": (200, 160, 110),
    "beige": (214, 196, 160),
    "khaki": (180, 168, 118),
    "black": (32, 32, 36),
    "white": (238, 238, 232),
    "grey": (128, 128, 134),
    "gray": (128, 128, 134),
    "silver": (190, 192, 202),
    "copper": (184, 108, 60),
    "bronze": (160, 110, 50),
    "hazel": (140, 110, 50),
    "cream": (240, 228, 196),
    "charcoal": (58, 58, 64),
    "ginger": (198, 96, 40),
    "brass": (181, 148, 70),
    "rust": (160, 82, 45),
    "rusty": (160, 82, 45),
    "ivory": (240, 234, 214),
    "jade": (0, 168, 107),
    "coral": (240, 128, 110),
    "mint": (160, 220, 180),
    "ochre": (204, 119, 34),
    "steel": (150, 158, 170),
    "lilac": (200, 162, 200),
    "chestnut": (122, 66, 34),
    "sandy": (214, 184, 130),
}
# Hair has its own natural shades ("red hair" is copper, not fire-engine red).
HAIR: dict[str, RGB] = {
    "red": (176, 58, 34),
    "ginger": (198, 96, 40),
    "auburn": (140, 56, 32),
    "copper": (184, 92, 44),
    "blonde": (232, 200, 112),
    "blond": (232, 200, 112),
    "platinum": (228, 226, 210),
    "golden": (222, 180, 80),
    "brown": (98, 62, 36),
    "brunette": (98, 62, 36),
    "chestnut": (122, 66, 34),
    "black": (36, 30, 30),
    "dark": (52, 38, 30),
    "grey": (150, 150, 152),
    "gray": (150, 150, 152),
    "silver": (200, 202, 210),
    "white": (236, 236, 230),
    "snowy": (236, 236, 230),
    "ash": (178, 176, 170),
    "strawberry": (220, 130, 90),
    "raven": (30, 26, 30),
}
SKIN: dict[str, RGB] = {
    "pale": (246, 226, 212),
    "fair": (240, 210, 184),
    "light": (236, 204, 176),
    "freckled": (238, 200, 170),
    "olive": (196, 156, 106),
    "tan": (208, 152, 106),
    "tanned": (208, 152, 106),
    "brown": (146, 98, 62),
    "dark": (102, 66, 44),
    "ebony": (78, 52, 38),
    "green": (120, 170, 100),
    "blue": (110, 150, 210),
    "grey": (160, 160, 166),
    "gray": (160, 160, 166),
    "metal": (170, 176, 188),
    "metallic": (170, 176, 188),
    "scaly": (96, 140, 84),
}
SKIN_TONES: tuple[RGB, ...] = (
    (244, 218, 196),
    (234, 196, 166),
    (214, 170, 130),
    (190, 140, 100),
    (150, 104, 70),
    (112, 76, 52),
)
# Young hair when no word names it; grey and white are kept for the old.
HAIR_TONES: tuple[RGB, ...] = (
    (36, 30, 30),
    (98, 62, 36),
    (140, 56, 32),
    (232, 200, 112),
    (60, 44, 34),
    (176, 58, 34),
    (122, 66, 34),
)
OLD_HAIR: tuple[RGB, ...] = ((200, 202, 208), (226, 226, 222), (170, 170, 174))
# Outfits when no word names one: far apart, so two characters never share one by default.
OUTFIT_TONES: tuple[RGB, ...] = (
    (178, 52, 52),
    (50, 110, 190),
    (96, 150, 60),
    (214, 128, 40),
    (120, 70, 160),
    (40, 136, 130),
    (200, 172, 50),
    (190, 80, 140),
    (58, 60, 120),
    (134, 92, 60),
    (100, 112, 124),
    (230, 150, 150),
)
OUTFIT_APART = 70.0  # RGB distance below which two outfits read as the same colour
# Creatures and machines without skin words still get a plausible body colour.
BODY_NOUNS: dict[str, RGB] = {
    "robot": (170, 176, 188),
    "android": (190, 196, 206),
    "golem": (140, 132, 120),
    "dragon": (70, 130, 80),
    "phoenix": (232, 110, 40),
    "ghost": (222, 230, 240),
    "cat": (210, 150, 80),
    "wolf": (130, 130, 138),
    "fox": (210, 110, 50),
}
TORSO_WORDS = (
    "coat",
    "jacket",
    "shirt",
    "dress",
    "robe",
    "cloak",
    "tunic",
    "armor",
    "armour",
    "sweater",
    "hoodie",
    "uniform",
    "suit",
    "vest",
    "gown",
    "top",
    "blouse",
    "jumper",
    "cardigan",
    "apron",
    "overalls",
    "kimono",
    "parka",
    "clothes",
    "outfit",
    "clothing",
    "attire",
    "garb",
    "sari",
    "poncho",
    "leathers",
)
LEG_WORDS = ("trousers", "pants", "jeans", "skirt", "shorts", "leggings", "boots")
GARMENTS = TORSO_WORDS + LEG_WORDS + ("scarf", "hat", "hood", "cap", "cloak", "glasses", "belt")
MODIFIERS = {"dark": 0.6, "deep": 0.65, "light": -0.45, "pale": -0.5, "pastel": -0.5, "bright": 0.0}


def as_text(value: Any, limit: int = 2000) -> str:
    """Any board value as a short single-line string ("" for None and containers)."""
    if value is None or isinstance(value, (dict, list, tuple, set, bytes)):
        return ""
    try:
        text = str(value)[:limit]
    except ValueError:  # an int too long to print
        return ""
    try:
        text.encode()
    except UnicodeEncodeError:  # lone surrogates (valid in JSON) would break hashing and drawing: a visible �
        text = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return " ".join(text.split())


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
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")).digest()


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


def distance(a: RGB, b: RGB) -> float:
    """Euclidean distance of two colours."""
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5


def default_outfit(key: str, taken: Sequence[RGB] = ()) -> RGB:
    """The outfit tone a name starts from, moved on past tones too close to those already taken."""
    start = stable_bytes("outfit", key.lower())[0] % len(OUTFIT_TONES)
    for k in range(len(OUTFIT_TONES)):
        tone = OUTFIT_TONES[(start + k) % len(OUTFIT_TONES)]
        if all(distance(tone, t) >= OUTFIT_APART for t in taken):
            return tone
    # More characters than tones: a lighter or darker variant, still a function of the name and who came first.
    base = OUTFIT_TONES[start]
    return shade(base, 0.55 + 0.1 * (len(taken) % 4)) if len(taken) % 2 else shade(base, 1.3)


def as_rgb(value: Any) -> RGB | None:
    """A board colour ([r, g, b] of ints 0-255) or None."""
    if isinstance(value, (list, tuple)) and len(value) == 3 and all(type(v) is int and 0 <= v <= 255 for v in value):
        return value[0], value[1], value[2]
    return None


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


def clauses(description: str) -> list[str]:
    """The comma / 'and' / 'with' / 'wearing' separated parts of a description, lower-cased."""
    return [c for c in re.split(r",|;|\bwith\b|\band\b|\bwearing\b", description.lower()) if c.strip()]
