"""What a board character is: a person, an animal, a bird, a dragon, a robot, a flower or an object. Pure.

The head noun of the description's first phrase decides ("a rusty robot dog" is a dog, "a dragon
rider" a person); anything not recognised is a person, since most characters are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine import lexicon
from engine.renderers.storyboard.palette import as_text, clauses, words

ANIMALS: dict[str, str] = {  # noun -> silhouette
    **dict.fromkeys(("cat", "kitten", "tiger", "lion", "leopard", "panther", "lynx", "cheetah"), "cat"),
    **dict.fromkeys(("dog", "puppy", "hound", "fox", "wolf", "coyote", "jackal"), "dog"),
    **dict.fromkeys(("horse", "pony", "unicorn", "pegasus", "deer", "stag", "doe", "donkey", "camel", "goat",
                     "sheep", "cow", "bull", "ox", "elk", "moose", "llama", "zebra", "giraffe"), "horse"),
    **dict.fromkeys(("bear", "badger", "pig", "boar", "raccoon", "hedgehog", "otter", "mole", "elephant"), "bear"),
    **dict.fromkeys(("rabbit", "bunny", "hare", "mouse", "rat", "squirrel", "hamster"), "rabbit"),
}
BIRDS = frozenset(
    "bird owl raven crow eagle hawk falcon parrot penguin duck swan goose chicken hen rooster pigeon dove "
    "sparrow robin phoenix seagull gull pelican flamingo heron stork vulture magpie canary".split()
)
DRAGONS = frozenset("dragon wyvern drake dragonling wyrm".split())
ROBOTS = frozenset("robot android droid cyborg automaton mech golem bot machine".split())
FLOWERS = frozenset(
    "flower rose tulip daisy sunflower lily orchid poppy lotus dandelion bloom blossom plant "
    "cactus sapling".split()
)
OBJECTS: dict[str, str] = {  # noun -> icon (the kinds figures.draw_held knows, plus a few)
    **dict.fromkeys(("lantern", "lamp", "candle", "torch"), "lantern"),
    **dict.fromkeys(("sword", "blade", "dagger", "knife", "axe", "sabre", "saber"), "blade"),
    **dict.fromkeys(("staff", "wand", "spear", "broom", "umbrella", "cane"), "staff"),
    **dict.fromkeys(("book", "map", "letter", "scroll", "journal", "diary", "tome", "painting", "photo"), "sheet"),
    **dict.fromkeys(("bag", "satchel", "backpack", "chest", "box", "crate", "suitcase", "trunk", "barrel"), "bag"),
    **dict.fromkeys(("cup", "mug", "teapot", "kettle", "bottle", "potion", "flask", "jar", "vase", "goblet"), "cup"),
    **dict.fromkeys(("orb", "crystal", "gem", "jewel", "ball", "egg", "coin", "ring", "clock", "watch"), "orb"),
    **dict.fromkeys(("key",), "key"),
}
PERSONS = (lexicon.SHE_WORDS | lexicon.HE_WORDS | lexicon.BEING_WORDS) - lexicon.IT_WORDS | frozenset(
    "rider keeper owner maker hunter tamer master girl boy elder".split()
)
CUT = frozenset("in of on from at by holding carrying who that named called like".split())  # the head noun is before
OLD_WORDS = frozenset(
    "old elderly aged ancient elder grandfather grandmother grandpa grandma granny gran crone wizened "
    "venerable senior greybeard graybeard hoary".split()
)


def kind_of(character: Mapping[str, Any] | Any) -> tuple[str, str]:
    """(kind, noun) of a board character; kind is person, animal, bird, dragon, robot, flower or object."""
    ch = character if isinstance(character, Mapping) else {}
    app = ch.get("appearance") if isinstance(ch.get("appearance"), Mapping) else {}
    desc = as_text(ch.get("description"))
    first = (clauses(desc) or [""])[0]
    for phrase in (as_text(app.get("base")), first):
        toks = words(phrase)
        cut = next((i for i, t in enumerate(toks) if i and t in CUT), len(toks))
        found = _head(toks[:cut])
        if found:
            return found
    return "person", ""


def _head(toks: list[str]) -> tuple[str, str] | None:
    """The kind of the last noun in toks that names one ("a robot dog" -> the dog)."""
    for tok in reversed(toks):
        for t in (tok, tok[:-1] if tok.endswith("s") and len(tok) > 3 else tok):
            if t in PERSONS:
                return "person", t
            if t in ANIMALS:
                return "animal", t
            if t in BIRDS:
                return "bird", t
            if t in DRAGONS:
                return "dragon", t
            if t in ROBOTS:
                return "robot", t
            if t in FLOWERS:
                return "flower", t
            if t in OBJECTS:
                return "object", t
    return None


def is_old(character: Mapping[str, Any] | Any) -> bool:
    """Whether the words make the character old ("an old fisherman", "elderly", "grandmother")."""
    ch = character if isinstance(character, Mapping) else {}
    app = ch.get("appearance") if isinstance(ch.get("appearance"), Mapping) else {}
    first = (clauses(as_text(ch.get("description"))) or [""])[0]
    toks = set(words(f"{as_text(app.get('base'))} {as_text(app.get('build'))} {first}"))
    return bool(toks & OLD_WORDS) and not toks & {"young", "youthful"}
