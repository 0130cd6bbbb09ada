"""What kind of place a scene is, from its name and description. Pure.

The name counts twice. Words match as words; a place no word explains is "unknown" and gets a
neutral backdrop with its name, never a beach or a meadow.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.renderers.storyboard.palette import words

INTERIORS: dict[str, frozenset[str]] = {
    "tavern": frozenset("tavern inn pub bar saloon alehouse taproom".split()),
    "library": frozenset("library study archive archives bookshop bookstore scriptorium".split()),
    "kitchen": frozenset("kitchen bakery restaurant cafe diner galley pantry".split()),
    "lab": frozenset("lab laboratory observatory workshop".split()),
    "cave": frozenset("cave cavern dungeon cellar crypt tunnel mine prison vault catacombs".split()),
    "hall": frozenset("hall castle throne temple church palace cathedral chapel museum ballroom".split()),
    "room": frozenset(
        "room house bedroom apartment flat home shop store studio interior inside indoors corridor hallway chamber "
        "office classroom hospital hotel lobby attic cabin hut barn basement warehouse station train".split()
    ),
}
EXTERIORS: dict[str, frozenset[str]] = {
    "harbour": frozenset("harbour harbor port dock docks pier wharf quay marina jetty lighthouse".split()),
    "beach": frozenset("beach shore coast seaside sands sea ocean lake river bay lagoon island".split()),
    "ship": frozenset("ship deck galleon vessel sailboat schooner".split()),
    "canyon": frozenset("canyon gorge ravine mesa badlands".split()),
    "desert": frozenset("desert dunes dune wasteland savanna oasis".split()),
    "mountain": frozenset("mountain mountains peak summit cliff cliffs glacier ridge alps pass slope".split()),
    "forest": frozenset("forest woods wood jungle grove woodland trees swamp clearing".split()),
    "city": frozenset(
        "city street streets alley town village market square road downtown plaza avenue rooftop bridge".split()
    ),
    "field": frozenset("field fields meadow plain plains hill hills park garden farm countryside orchard".split()),
    "space": frozenset("space orbit galaxy nebula asteroid cosmos starfield spacewalk".split()),
}
SNOWY = frozenset("snow snowy icy ice frozen glacier winter snowfield arctic".split())


@dataclass(frozen=True)
class Place:
    """A scene's kind, whether it is indoors, and whether its ground is snow."""

    kind: str  # a key of INTERIORS or EXTERIORS, or "unknown"
    interior: bool
    snowy: bool = False


def classify(location: str, description: str) -> Place:
    """The Place a location name and its description describe (best keyword score; the name counts twice)."""
    toks = [t.removesuffix("'s") for t in words(location) * 2 + words(description)]
    best: tuple[int, bool, str] = (0, False, "unknown")
    for interior, table in ((True, INTERIORS), (False, EXTERIORS)):
        for kind, keys in table.items():
            score = sum(t in keys for t in toks)
            if score > best[0]:
                best = (score, interior, kind)
    _, interior, kind = best
    return Place(kind, interior, not interior and kind != "space" and bool(SNOWY & set(toks)))
