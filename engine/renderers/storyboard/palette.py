"""Colours and light of the sketch (storyboard) renderer.

Colour words, the colours of a board character, time-of-day palettes and light sources, plus the
small readers of board values they are built on. All pure functions of the board, so they can be
tested without drawing.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
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
HAIR_TONES: tuple[RGB, ...] = (
    (36, 30, 30),
    (98, 62, 36),
    (140, 56, 32),
    (232, 200, 112),
    (60, 44, 34),
    (176, 58, 34),
    (150, 150, 152),
    (122, 66, 34),
)
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
    except UnicodeEncodeError:  # lone surrogates (valid in JSON) would break hashing and drawing
        text = text.encode("utf-8", "replace").decode()
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


def character_colours(character: Mapping[str, Any] | Any) -> dict[str, RGB]:
    """Hair, skin, eyes, outfit, legs and accent colours of a board character.

    Colour words in the structured appearance win, then the free description; anything
    still unknown comes from a hash of the name so a character looks alike in every panel.
    """
    ch = character if isinstance(character, Mapping) else {}
    app = ch.get("appearance") if isinstance(ch.get("appearance"), Mapping) else {}
    desc = as_text(ch.get("description"))
    key = as_text(ch.get("name")) or desc or "?"
    parts = clauses(desc)
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
    # Suffixes count too: a raincoat or an overcoat is a coat, a sweatshirt a shirt.
    torso = [w for w in worn if any(x.endswith(t) for x in words(w) for t in TORSO_WORDS)]
    legs = [w for w in worn if any(x.endswith(t) for x in words(w) for t in LEG_WORDS)]
    other = [w for w in worn if w not in torso and w not in legs]
    # Only a body garment colours the body: a lone "blue scarf" stays an accent.
    out["outfit"] = next((c for c in map(find_colour, torso) if c), None) or hashed_colour(key, "outfit")
    out["legs"] = next((c for c in map(find_colour, legs) if c), None) or shade(out["outfit"], 0.55)
    out["accent"] = next((c for c in map(find_colour, other) if c), None) or hashed_colour(key, "accent", 0.6, 0.8)
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
