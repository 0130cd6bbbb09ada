"""Which reference images a multi-reference model gets for one panel, in which order, and why.

A model such as FLUX.2 [klein] reads a few images next to the prompt ("image 1", "image 2" ...).
They are chosen in priority order up to the model's limit:

1. the panel being edited (`/edit`), always image 1;
2. each framed character, in frame order: its reference image (`/cref --image`, or the panel it
   was anchored to), else its first solo panel;
3. the place's establishing shot: the first panel drawn there;
4. the world's style image (`/sref`);
5. the previous panel, for continuity of palette and light.

One image fills every role it has (a first solo panel drawn in the tavern is both Mira and the
tavern). What does not fit, or has no image yet, is reported for /why. Pure: engine values only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from engine.events import PanelDrawn, Record, active
from engine.jobs import Reference
from engine.world import Shot, World

KINDS = ("edit", "character", "place", "style", "previous")


@dataclass(frozen=True)
class ChosenReference:
    """One image for the model, with every role it plays in this panel."""

    kind: str  # the first role: one of KINDS
    name: str  # character name, place name, "style", "panel N"
    image: str  # sha256 of the stored image
    weight: float  # 0..1: --cw / --sw / the previous-panel strength
    source: str  # where the image comes from, for /why
    also: tuple[tuple[str, str], ...] = ()  # further (kind, name) roles of the same image

    def roles(self) -> tuple[tuple[str, str], ...]:
        return ((self.kind, self.name), *self.also)


@dataclass(frozen=True)
class ReferenceChoice:
    """The references of one panel in the order the model reads them, and what was left out."""

    used: tuple[ChosenReference, ...] = ()
    left_out: tuple[str, ...] = ()
    limit: int = 0

    def index_of(self, kind: str, name: str = "") -> int | None:
        """1-based position of the image playing this role ("image 2"), or None."""
        for i, ref in enumerate(self.used, 1):
            for k, n in ref.roles():
                if k == kind and (not name or n.casefold() == name.casefold()):
                    return i
        return None

    def describe(self, word: str = "image") -> tuple[str, ...]:
        """/why lines: "image 1: Mira (her reference image)"."""
        out = []
        for i, ref in enumerate(self.used, 1):
            who = ", ".join(_role_label(k, n) for k, n in ref.roles())
            out.append(f"{word} {i}: {who} ({ref.source})")
        return tuple(out)

    def job_references(self, path_of: Callable[[str], str]) -> tuple[Reference, ...]:
        """The RenderJob's references, in the same order; `path_of(sha)` is the blob's file."""
        return tuple(Reference(ref.name, path_of(ref.image), ref.weight, ref.kind) for ref in self.used)


def _role_label(kind: str, name: str) -> str:
    return {"edit": f"the panel being edited ({name})", "place": f"the place ({name})", "style": "the style image",
            "previous": f"the previous panel ({name})"}.get(kind, name)


def panel_places(records: Iterable[Record]) -> dict[int, str]:
    """Where each panel was drawn: panel index -> the scene's location at that moment.

    Folds the live events once; a panel drawn with no location set is absent.
    """
    world = World(id="")
    out: dict[int, str] = {}
    for rec in active(list(records)):
        world = rec.event.apply(world)
        if isinstance(rec.event, PanelDrawn) and rec.event.panel is not None and world.scene.location:
            out[rec.event.panel.index] = world.scene.location
    return out


@dataclass
class _Picker:
    limit: int
    used: list[ChosenReference] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    def offer(self, ref: ChosenReference) -> None:
        for i, old in enumerate(self.used):
            if old.image == ref.image:  # the same picture plays one more role
                self.used[i] = replace(old, also=(*old.also, (ref.kind, ref.name)))
                return
        if len(self.used) >= self.limit:
            self.left_out.append(f"{_role_label(ref.kind, ref.name)}: over the model's limit of {self.limit} images")
            return
        self.used.append(ref)


def choose_references(world: World, shot: Shot, limit: int, panel_images: Mapping[int, str],
                      places: Mapping[int, str], *, previous: int | None = None,
                      previous_weight: float = 1.0, edit: int | None = None) -> ReferenceChoice:
    """The references for a panel of `shot` drawn in `world` (the world as it will be drawn).

    panel_images: panel index -> stored image (panels still rendering are absent);
    places: panel_places() of the world's records; previous: the panel this one follows
    (None: no continuity image); previous_weight: its strength, 0 leaves it out;
    edit: the panel an /edit changes (its image becomes image 1).
    """
    if limit < 0:
        raise ValueError(f"limit must be at least 0, got {limit}")
    pick = _Picker(limit)
    if edit is not None:
        image = panel_images.get(edit)
        if image is None:
            raise ValueError(f"panel {edit} has no image yet: it cannot be edited")
        pick.offer(ChosenReference("edit", f"panel {edit}", image, 1.0, "the panel as it is now"))
    by_image = {sha: index for index, sha in sorted(panel_images.items(), reverse=True)}
    for name in shot.characters:
        ch = world.find_character(name)
        if ch is None:
            continue
        if ch.references:
            ref = ch.references[0]
            panel = by_image.get(ref.image)
            source = f"anchored to panel {panel}" if panel is not None else "its reference image"
            pick.offer(ChosenReference("character", ch.name, ref.image, ref.weight / 100, source))
            continue
        solo = next((p.index for p in world.panels if p.shot.characters == (ch.name,)
                     and p.index in panel_images and p.index != edit), None)
        if solo is None:
            pick.left_out.append(f"{ch.name}: no reference image and no solo panel yet")
        else:
            pick.offer(ChosenReference("character", ch.name, panel_images[solo], 1.0,
                                       f"its first solo panel, panel {solo}"))
    location = world.scene.location
    if location:
        key = location.casefold()
        first = next((i for i in sorted(places) if places[i].casefold() == key and i in panel_images), None)
        if first is None:
            pick.left_out.append(f"{location}: no panel drawn there yet")
        else:
            pick.offer(ChosenReference("place", location, panel_images[first], 1.0,
                                       f"the first panel drawn there, panel {first}"))
    style = world.style.reference
    if style is not None:
        if style.weight <= 0:
            pick.left_out.append("the style image: --sw 0")
        else:
            pick.offer(ChosenReference("style", "style", style.image, style.weight / 100, "the world's /sref image"))
    if previous is not None and previous_weight > 0:
        image = panel_images.get(previous)
        if image is None:
            pick.left_out.append(f"the previous panel ({previous}): not drawn yet")
        else:
            pick.offer(ChosenReference("previous", f"panel {previous}", image, previous_weight, "for continuity"))
    return ReferenceChoice(tuple(pick.used), tuple(pick.left_out), limit)
