"""The event log: events, how each changes a World, the fold, and their JSON form.

An append-only list of events is the source of truth for a world; `fold(records)` gives the
`World` value. Events are grouped by the command that produced them (`group`), so `/undo`
reverts one whole command. Pure: no I/O imports, only the standard library.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, ClassVar

from engine.errors import UnknownPanel, WorldError
from engine.world import (
    Character,
    ImageRef,
    Location,
    Panel,
    Scene,
    Shot,
    Style,
    Trait,
    World,
)

# ---------------------------------------------------------------- events

EVENT_TYPES: dict[str, type[Event]] = {}


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        EVENT_TYPES[cls.kind] = cls

    def apply(self, world: World) -> World:
        raise NotImplementedError

    def payload(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """A short human line for /history."""
        return self.kind.replace("_", " ")


@dataclass(frozen=True)
class WorldCreated(Event):
    kind: ClassVar[str] = "world_created"
    title: str = "Untitled world"
    seed: int = 0
    width: int = 768
    height: int = 512
    steps: int = 20
    style: str = ""
    negative: str = ""

    def apply(self, world: World) -> World:
        return replace(
            world, title=self.title, seed=self.seed, width=self.width, height=self.height,
            steps=self.steps, style=Style(prefix=self.style, negative=self.negative),
        )

    def describe(self) -> str:
        return f"created the world {self.title!r}"


@dataclass(frozen=True)
class StyleSet(Event):
    kind: ClassVar[str] = "style_set"
    prefix: str | None = None
    suffix: str | None = None
    negative: str | None = None
    reference: ImageRef | None = None

    def apply(self, world: World) -> World:
        s = world.style
        return replace(world, style=Style(
            prefix=s.prefix if self.prefix is None else self.prefix,
            suffix=s.suffix if self.suffix is None else self.suffix,
            negative=s.negative if self.negative is None else self.negative,
            reference=self.reference or s.reference,
        ))

    def describe(self) -> str:
        parts = [f"style {self.prefix!r}" if self.prefix else "", "a style image" if self.reference else ""]
        return "set " + " and ".join(p for p in parts if p) if any(parts) else "changed the style"


@dataclass(frozen=True)
class CharacterRegistered(Event):
    """Adds a character, or redefines one with the same name."""

    kind: ClassVar[str] = "character_registered"
    name: str = ""
    description: str = ""
    traits: tuple[Trait, ...] = ()
    pronoun: str = "they"
    aliases: tuple[str, ...] = ()
    references: tuple[ImageRef, ...] = ()
    locked: bool = False
    author: str = ""
    author_id: str = ""

    def apply(self, world: World) -> World:
        old = world.find_character(self.name)
        new = Character(
            name=old.name if old else self.name,
            description=self.description or (old.description if old else ""),
            traits=self.traits or (old.traits if old else ()),
            pronoun=self.pronoun,
            aliases=tuple(dict.fromkeys((*(old.aliases if old else ()), *self.aliases))),
            references=self.references or (old.references if old else ()),
            locked=self.locked or (old.locked if old else False),
            author=old.author if old else self.author,
            author_id=old.author_id if old else self.author_id,
        )
        return _put_character(world, new, mention=True)

    def describe(self) -> str:
        return f"registered {self.name}" + (f": {self.description}" if self.description else "")


@dataclass(frozen=True)
class AppearanceChanged(Event):
    """Replaces, removes (new None) or adds (old None) appearance phrases."""

    kind: ClassVar[str] = "appearance_changed"
    name: str = ""
    changes: tuple[tuple[str | None, Trait | None], ...] = ()

    def apply(self, world: World) -> World:
        c = world.character(self.name)
        traits = list(c.traits)
        for old, new in self.changes:
            idx = next((i for i, t in enumerate(traits) if t.text == old), None) if old else None
            if idx is not None and new is not None:
                traits[idx] = new
            elif idx is not None:
                del traits[idx]
            elif new is not None and new not in traits:
                traits.append(new)
        return _put_character(world, replace(c, traits=tuple(traits)), mention=True)

    def describe(self) -> str:
        bits = []
        for old, new in self.changes:
            if old and new:
                bits.append(f"{old} -> {new.text}")
            elif new:
                bits.append(f"+ {new.text}")
            elif old:
                bits.append(f"- {old}")
        return f"changed {self.name}: " + "; ".join(bits)


@dataclass(frozen=True)
class CharacterReferenceSet(Event):
    kind: ClassVar[str] = "character_reference_set"
    name: str = ""
    reference: ImageRef = ImageRef("")
    auto: bool = False

    def apply(self, world: World) -> World:
        c = world.character(self.name)
        return _put_character(world, replace(c, references=(self.reference,)), mention=False)

    def describe(self) -> str:
        how = "anchored" if self.auto else "set"
        return f"{how} the reference image of {self.name}"


@dataclass(frozen=True)
class LocationSet(Event):
    """Creates or redescribes a location; props replace the old ones when given."""

    kind: ClassVar[str] = "location_set"
    name: str = ""
    description: str | None = None
    props: tuple[str, ...] | None = None

    def apply(self, world: World) -> World:
        old = world.location(self.name)
        loc = Location(
            name=old.name if old else self.name,
            description=self.description if self.description is not None else (old.description if old else ""),
            props=self.props if self.props is not None else (old.props if old else ()),
        )
        if old is None:
            return replace(world, locations=(*world.locations, loc))
        return replace(world, locations=tuple(loc if x is old else x for x in world.locations))

    def describe(self) -> str:
        return f"described {self.name}" + (f" as {self.description}" if self.description else "")


@dataclass(frozen=True)
class PropsChanged(Event):
    kind: ClassVar[str] = "props_changed"
    location: str = ""
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def apply(self, world: World) -> World:
        loc = world.location(self.location)
        if loc is None:
            loc = Location(self.location)
            world = replace(world, locations=(*world.locations, loc))
        props = [p for p in loc.props if p not in self.removed]
        props += [p for p in self.added if p not in props]
        new = replace(loc, props=tuple(props))
        return replace(world, locations=tuple(new if x is loc else x for x in world.locations))

    def describe(self) -> str:
        bits = [f"+ {p}" for p in self.added] + [f"- {p}" for p in self.removed]
        return f"props in {self.location}: " + ", ".join(bits)


@dataclass(frozen=True)
class SceneChanged(Event):
    """Changes only the fields it names (a None field means unchanged, "" clears)."""

    kind: ClassVar[str] = "scene_changed"
    location: str | None = None
    time_of_day: str | None = None
    lighting: str | None = None
    light_from: str | None = None
    weather: str | None = None

    def apply(self, world: World) -> World:
        s = world.scene
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        merged = {k: (getattr(s, k) if v is None else (v or None)) for k, v in kw.items()}
        return replace(world, scene=Scene(**merged))

    def describe(self) -> str:
        bits = [f"{f.name.replace('_', ' ')} {getattr(self, f.name) or 'cleared'}"
                for f in fields(self) if getattr(self, f.name) is not None]
        return "scene: " + ", ".join(bits)


@dataclass(frozen=True)
class PanelDrawn(Event):
    kind: ClassVar[str] = "panel_drawn"
    panel: Panel | None = None

    def apply(self, world: World) -> World:
        assert self.panel is not None
        return replace(world, panels=(*world.panels, self.panel), last_mentioned=self.panel.shot.characters
                       or world.last_mentioned)

    def describe(self) -> str:
        p = self.panel
        return f"drew panel {p.index}: {p.command}" if p else "drew a panel"


@dataclass(frozen=True)
class PanelRerolled(Event):
    kind: ClassVar[str] = "panel_rerolled"
    index: int = 0
    seed: int = 0

    def apply(self, world: World) -> World:
        old = world.panel(self.index)
        new = replace(old, seed=self.seed, take=old.take + 1)
        return replace(world, panels=tuple(new if p is old else p for p in world.panels))

    def describe(self) -> str:
        return f"rerolled panel {self.index} (seed {self.seed})"


@dataclass(frozen=True)
class PanelEdited(Event):
    """A new take of a drawn panel, changed by /edit: the panel as that take shows it.

    Editing the latest panel stores the planner's events for the instruction in the same group
    (the world changes from then on); editing an older one stores only this take.
    """

    kind: ClassVar[str] = "panel_edited"
    panel: Panel | None = None
    instruction: str = ""

    def apply(self, world: World) -> World:
        assert self.panel is not None
        new, old = self.panel, world.panel(self.panel.index)  # raises UnknownPanel for a panel never drawn
        return replace(world, panels=tuple(new if p is old else p for p in world.panels))

    def describe(self) -> str:
        p = self.panel
        return f"edited panel {p.index}: {self.instruction}" if p else "edited a panel"


@dataclass(frozen=True)
class Undone(Event):
    """Reverts every event of one earlier command group."""

    kind: ClassVar[str] = "undone"
    group: int = 0
    summary: str = ""

    def apply(self, world: World) -> World:
        return world  # handled by fold(): undone groups are skipped

    def describe(self) -> str:
        return f"undid: {self.summary}" if self.summary else "undid a change"


# ---------------------------------------------------------------- fold


@dataclass(frozen=True)
class Record:
    """An event as stored: its sequence number, command group, author and time."""

    seq: int
    group: int
    author: str
    event: Event
    at: float = 0.0
    author_id: str = ""


def fold(world_id: str, records: list[Record] | tuple[Record, ...]) -> World:
    """The world after every record, skipping groups that were undone."""
    undone = {r.event.group for r in records if isinstance(r.event, Undone)}
    world = World(id=world_id)
    for r in records:
        if r.group in undone or isinstance(r.event, Undone):
            continue
        world = r.event.apply(world)
    return replace(world, version=len(records))


def active(records: list[Record] | tuple[Record, ...]) -> list[Record]:
    """Records that still count (not undone, not undo markers)."""
    undone = {r.event.group for r in records if isinstance(r.event, Undone)}
    return [r for r in records if r.group not in undone and not isinstance(r.event, Undone)]


def last_undoable(records: list[Record] | tuple[Record, ...]) -> list[Record]:
    """The records of the newest command group that /undo would revert (never the creation)."""
    live = [r for r in active(records) if not isinstance(r.event, WorldCreated)]
    if not live:
        return []
    group = max(r.group for r in live)  # not the last record: a late event may join an older group
    return [r for r in live if r.group == group]


def _put_character(world: World, c: Character, mention: bool) -> World:
    key = c.name.casefold()
    chars = list(world.characters)
    for i, old in enumerate(chars):
        if old.name.casefold() == key:
            chars[i] = c
            break
    else:
        chars.append(c)
    last = (c.name,) if mention else world.last_mentioned
    return replace(world, characters=tuple(chars), last_mentioned=last)


# ---------------------------------------------------------------- (de)serialisation


def event_to_json(event: Event) -> dict[str, Any]:
    return {"kind": event.kind, **_plain(event.payload())}


def event_from_json(data: dict[str, Any]) -> Event:
    """Rebuilds an event from its JSON form; raises WorldError on anything malformed."""
    if not isinstance(data, dict):
        raise WorldError("an event must be an object")
    kind = data.get("kind")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise WorldError(f"unknown event kind {kind!r}")
    try:
        kw = {f.name: _check(f.name, str(f.type), _build(f.name, data[f.name]))
              for f in fields(cls) if f.name in data}
        return cls(**kw)
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise WorldError(f"malformed {kind} event: {e}") from None


_SIMPLE: dict[str, tuple[type, ...]] = {
    "str": (str,), "str | None": (str, type(None)), "int": (int,), "int | None": (int, type(None)),
    "bool": (bool,), "tuple[str, ...]": (tuple,), "tuple[str, ...] | None": (tuple, type(None)),
}


def _check(name: str, annotation: str, value: Any) -> Any:
    """Refuses JSON values of the wrong type, so a bad file fails on import, not later."""
    allowed = _SIMPLE.get(annotation)
    if allowed is not None and (not isinstance(value, allowed) or (bool not in allowed and isinstance(value, bool)
                                                                   and int in allowed)):
        raise ValueError(f"{name} must be {annotation}, got {type(value).__name__}")
    return value


def _image_ref(value: Any) -> ImageRef:
    ref = ImageRef(**value)
    if not (isinstance(ref.image, str) and len(ref.image) == 64 and all(ch in "0123456789abcdef" for ch in ref.image)):
        raise ValueError("an image reference must be a sha256 hex digest")
    if not isinstance(ref.weight, int) or isinstance(ref.weight, bool) or not 0 <= ref.weight <= 100:
        raise ValueError("an image weight must be 0-100")
    return ref


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _build(name: str, value: Any) -> Any:
    """Turns JSON lists/dicts back into the frozen values the event fields expect."""
    if name == "traits":
        return tuple(Trait(**t) for t in value)
    if name == "references":
        return tuple(_image_ref(r) for r in value)
    if name == "reference":
        return _image_ref(value) if value else None
    if name == "changes":
        return tuple((old, Trait(**new) if new else None) for old, new in value)
    if name == "panel":
        shot = Shot(**{**value["shot"], "characters": tuple(value["shot"]["characters"])})
        return Panel(**{**value, "shot": shot, "dropped": tuple(value.get("dropped", ())),
                        "references": tuple(value.get("references", ())),
                        "notes": tuple(value.get("notes", ())),
                        "prompt_notes": tuple(value.get("prompt_notes", ()))})
    if name in ("aliases", "props", "added", "removed") and value is not None:
        if not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} must be a list of strings")
        return tuple(value)
    return value


def world_at_panel(world_id: str, records: list[Record] | tuple[Record, ...], index: int) -> tuple[World, World]:
    """The world just before and just after the command that drew panel `index`."""
    live = active(records)
    drawn = next((r for r in live if isinstance(r.event, PanelDrawn) and r.event.panel is not None
                  and r.event.panel.index == index), None)
    if drawn is None:
        raise UnknownPanel(f"no panel {index}")
    first = min(r.seq for r in live if r.group == drawn.group)
    before = fold(world_id, [r for r in live if r.seq < first])
    after = fold(world_id, [r for r in live if r.seq < first or r.group == drawn.group])
    return before, after
