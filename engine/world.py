"""The world model's values: characters, places, scene, style, panels and the World itself.

A World is never edited in place: engine/events.py folds the event log into one. Pure: no
I/O imports, only the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import UnknownCharacter, UnknownPanel

APPEARANCE_SLOTS = ("base", "hair", "eyes", "skin", "build", "wearing", "carrying", "marks", "other")
LIST_SLOTS = frozenset({"wearing", "carrying", "marks", "other"})


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Trait:
    """One appearance phrase, kept verbatim so prompts repeat what the user wrote."""

    slot: str
    text: str


@dataclass(frozen=True)
class ImageRef:
    image: str  # sha256 of the blob
    weight: int = 100  # --cw / --sw, 0-100


@dataclass(frozen=True)
class Character:
    name: str
    description: str = ""
    traits: tuple[Trait, ...] = ()
    pronoun: str = "they"
    aliases: tuple[str, ...] = ()
    references: tuple[ImageRef, ...] = ()
    locked: bool = False
    author: str = ""
    author_id: str = ""  # "platform:user id": display names can be changed and copied

    def appearance(self) -> dict[str, Any]:
        """Structured appearance: one phrase per single slot, a list per list slot."""
        out: dict[str, Any] = {s: ([] if s in LIST_SLOTS else None) for s in APPEARANCE_SLOTS}
        for t in self.traits:
            if t.slot in LIST_SLOTS:
                out[t.slot].append(t.text)
            elif out.get(t.slot) is None:
                out[t.slot] = t.text
            else:
                out[t.slot] = f"{out[t.slot]}, {t.text}"
        return out

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Location:
    name: str
    description: str = ""
    props: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scene:
    location: str | None = None
    time_of_day: str | None = None
    lighting: str | None = None
    light_from: str | None = None
    weather: str | None = None


@dataclass(frozen=True)
class Style:
    prefix: str = ""
    suffix: str = ""
    negative: str = ""
    reference: ImageRef | None = None


@dataclass(frozen=True)
class Shot:
    camera: str | None = None
    characters: tuple[str, ...] = ()
    action: str = ""


@dataclass(frozen=True)
class Panel:
    index: int
    parent: int | None
    command: str
    author: str
    shot: Shot
    prompt: str
    negative_prompt: str
    seed: int
    width: int
    height: int
    steps: int
    dropped: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    take: int = 0  # bumped by /reroll
    notes: tuple[str, ...] = ()  # what the planner understood, for /why
    prompt_notes: tuple[str, ...] = ()  # what the prompt compiler says for /why: references left out, --no folded in


@dataclass(frozen=True)
class World:
    id: str
    title: str = "Untitled world"
    seed: int = 0
    width: int = 768
    height: int = 512
    steps: int = 20
    style: Style = Style()
    scene: Scene = Scene()
    characters: tuple[Character, ...] = ()
    locations: tuple[Location, ...] = ()
    panels: tuple[Panel, ...] = ()
    last_mentioned: tuple[str, ...] = ()
    version: int = 0

    def character(self, name: str) -> Character:
        found = self.find_character(name)
        if found is None:
            raise UnknownCharacter(f"no character called {name!r} in this world")
        return found

    def find_character(self, name: str) -> Character | None:
        key = name.casefold()
        for c in self.characters:
            if any(n.casefold() == key for n in c.names()):
                return c
        return None

    def location(self, name: str | None) -> Location | None:
        if name is None:
            return None
        key = name.casefold()
        return next((loc for loc in self.locations if loc.name.casefold() == key), None)

    def panel(self, index: int | None = None) -> Panel:
        if not self.panels:
            raise UnknownPanel("this world has no panels yet")
        if index is None:
            return self.panels[-1]
        for p in self.panels:
            if p.index == index:
                return p
        raise UnknownPanel(f"no panel {index} (panels are 1-{self.panels[-1].index})")

    @property
    def last_shot(self) -> Shot | None:
        return self.panels[-1].shot if self.panels else None

    @property
    def next_panel_index(self) -> int:
        return self.panels[-1].index + 1 if self.panels else 1


def panel_seed(world_seed: int, panel: int, take: int = 0) -> int:
    """A deterministic 32-bit seed per world, panel and take (stable across runs and machines)."""
    x = (world_seed * 0x9E3779B1 + panel * 0x85EBCA77 + take * 0xC2B2AE3D) & 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    return x
