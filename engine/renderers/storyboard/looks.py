"""The colours of a board character, part by part, from its words. Pure.

A colour word colours the part it is said of ("a white beard" the beard, "a yellow raincoat" the
body); a beard's colour also greys the hair it goes with, and old people get grey or white hair
when no word names one. What no word names comes from a hash of the name, so a character looks
alike in every panel; default outfits are taken so no two characters share one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.renderers.storyboard.kinds import is_old, kind_of
from engine.renderers.storyboard.palette import (
    COLOURS,
    HAIR,
    HAIR_TONES,
    LEG_WORDS,
    OLD_HAIR,
    RGB,
    SKIN,
    SKIN_TONES,
    TORSO_WORDS,
    as_list,
    as_rgb,
    as_text,
    clauses,
    default_outfit,
    find_colour,
    hashed_colour,
    pick,
    shade,
    words,
)

HAIR_NOUNS = frozenset("hair haired braid braids ponytail pigtails curls locks mane bun afro mohawk dreadlocks".split())
BEARD_NOUNS = frozenset("beard bearded beards moustache mustache goatee stubble whiskers sideburns".split())
EYE_NOUNS = frozenset("eye eyes eyed gaze irises".split())
SKIN_NOUNS = frozenset("skin skinned complexion fur furred feathers feathered plumage scales scaled hide pelt".split())
HEADWEAR = frozenset("hat fedora tricorn hood helmet crown tiara cap beret beanie bandana headband".split())
NECKWEAR = frozenset("scarf scarves shawl tie muffler".split())
OVER = ("cloak", "cape", "poncho")
FEET = frozenset("boots boot shoes shoe sandals sneakers slippers heels".split())
# A creature's colour when its words name none.
BODY_NOUNS: dict[str, RGB] = {
    "robot": (170, 176, 188), "android": (190, 196, 206), "golem": (140, 132, 120), "cyborg": (170, 176, 188),
    "dragon": (70, 130, 80), "phoenix": (232, 110, 40), "ghost": (222, 230, 240),
    "cat": (210, 150, 80), "dog": (150, 110, 70), "wolf": (130, 130, 138), "fox": (210, 110, 50),
    "horse": (140, 96, 60), "unicorn": (240, 240, 246), "bear": (110, 80, 50), "rabbit": (200, 190, 180),
    "mouse": (160, 150, 150), "owl": (150, 120, 80), "raven": (40, 40, 46), "crow": (40, 40, 46),
    "parrot": (40, 170, 80), "penguin": (36, 36, 44), "swan": (240, 240, 240), "duck": (200, 170, 60),
    "rose": (200, 40, 60), "sunflower": (240, 200, 40), "daisy": (244, 244, 240), "lily": (244, 240, 236),
    "tulip": (220, 60, 80), "cactus": (80, 150, 80), "lantern": (181, 148, 70), "sword": (200, 204, 214),
    "book": (130, 60, 40), "key": (216, 168, 52), "orb": (120, 160, 240), "crystal": (150, 220, 240),
}


def is_word_in(text: str, vocab: frozenset[str] | tuple[str, ...]) -> bool:
    """Whether a word of text is in vocab (whole words: a scarf is not a scar)."""
    return any(w in vocab for w in words(text))


def wears(text: str, vocab: Sequence[str]) -> bool:
    """Whether a word of text is, or ends in, a garment of vocab (a raincoat is a coat)."""
    return any(w == t or (w.endswith(t) and len(t) >= 4) for w in words(text) for t in vocab)


def _phrases(ch: Mapping[str, Any]) -> tuple[Mapping[str, Any], str, list[str]]:
    """The appearance dict, the description and its clauses."""
    app = ch.get("appearance") if isinstance(ch.get("appearance"), Mapping) else {}
    desc = as_text(ch.get("description"))
    return app, desc, clauses(desc)


def worn_items(ch: Mapping[str, Any]) -> list[str]:
    """What the character wears, from the appearance or else the description's clauses."""
    app, _, parts = _phrases(ch)
    garments = (*TORSO_WORDS, *LEG_WORDS, *HEADWEAR, *NECKWEAR, *FEET, "cloak", "cape", "glasses", "goggles")
    return as_list(app.get("wearing")) or [p for p in parts if wears(p, garments)]


def named_outfit(character: Mapping[str, Any] | Any) -> RGB | None:
    """The body colour the words name (a torso garment's colour), if any."""
    ch = character if isinstance(character, Mapping) else {}
    torso = [w for w in worn_items(ch) if wears(w, TORSO_WORDS)]
    torso.sort(key=lambda w: wears(w, OVER))  # a cloak or cape is drawn apart: what is under it colours the body
    return next((c for c in map(find_colour, torso) if c), None)


def character_colours(character: Mapping[str, Any] | Any, taken: Sequence[RGB] = ()) -> dict[str, RGB]:
    """hair, beard, skin, eyes, outfit, legs, shoes and accent colours of a board character.

    `taken` are outfit colours of other characters that a default outfit must not repeat; a board's
    own "outfit_colour" (world-wide, from board.py) is used when the words name none.
    """
    ch = character if isinstance(character, Mapping) else {}
    app, desc, parts = _phrases(ch)
    key = as_text(ch.get("name")) or desc or "?"
    kind, noun = kind_of(ch)
    extra = " ".join(as_list(app.get("other")) + as_list(app.get("marks")))
    hair_t = as_text(app.get("hair")) or " ".join(p for p in parts if is_word_in(p, HAIR_NOUNS))
    beard_t = " ".join(p for p in [hair_t, extra, *parts] if is_word_in(p, BEARD_NOUNS))
    eyes_t = as_text(app.get("eyes")) or " ".join(p for p in parts if is_word_in(p, EYE_NOUNS))
    skin_t = as_text(app.get("skin")) or " ".join(p for p in parts if is_word_in(p, SKIN_NOUNS))
    base = as_text(app.get("base")) or (parts or [""])[0]
    beard = find_colour(beard_t, HAIR)
    old = is_old(ch)
    hair = find_colour(hair_t, HAIR) or beard or (pick(key, "old hair", OLD_HAIR) if old else None)
    hair = hair or pick(key, "hair", HAIR_TONES)
    body = None
    if kind != "person":  # "a ginger cat", "a rusty robot": the colour word is the creature's
        body = find_colour(base, COLOURS) or BODY_NOUNS.get(noun)
    out: dict[str, RGB] = {
        "hair": hair,
        "beard": beard or hair,
        "skin": find_colour(skin_t, SKIN) or body or pick(key, "skin", SKIN_TONES),
        "eyes": find_colour(eyes_t) or pick(key, "eyes", ((70, 50, 30), (50, 90, 160), (60, 120, 70))),
    }
    if body is not None:
        out["body"] = body
    worn = worn_items(ch)
    legs = [w for w in worn if wears(w, LEG_WORDS)]
    feet = [w for w in worn if wears(w, FEET)]
    other = [w for w in worn if not wears(w, TORSO_WORDS) and w not in legs]
    out["outfit"] = named_outfit(ch) or as_rgb(ch.get("outfit_colour")) or default_outfit(key, taken)
    out["legs"] = next((c for c in map(find_colour, legs) if c), None) or shade(out["outfit"], 0.55)
    out["shoes"] = next((c for c in map(find_colour, feet) if c), None) or shade(out["legs"], 0.45)
    out["accent"] = next((c for c in map(find_colour, other) if c), None) or hashed_colour(key, "accent", 0.6, 0.8)
    return out


def panel_colours(characters: Sequence[Mapping[str, Any]]) -> list[dict[str, RGB]]:
    """Colours of a panel's characters; defaults avoid each other's outfits (decided in name order)."""
    taken = [c for c in map(named_outfit, characters) if c]
    taken += [rgb for ch in characters if not named_outfit(ch) and (rgb := as_rgb(ch.get("outfit_colour")))]
    order = sorted(range(len(characters)), key=lambda i: (as_text(characters[i].get("name")), i))
    out: dict[int, dict[str, RGB]] = {}
    for i in order:
        ch = characters[i]
        col = character_colours(ch, taken)
        if not named_outfit(ch) and not as_rgb(ch.get("outfit_colour")):
            taken.append(col["outfit"])
        out[i] = col
    return [out[i] for i in range(len(characters))]
