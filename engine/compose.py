"""Composing a panel: the world and a command's words in, what to store and what to render out.

Pure, like the rest of the core: the service calls `compose` inside the world's lock, stores
`events` and the job in one transaction, and hands `job` to the render queue. It reads top to
bottom in numbered steps, the way a diffusers pipeline's `__call__` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from engine.appearance import character_text
from engine.events import (
    AppearanceChanged,
    Event,
    PanelDrawn,
    PanelEdited,
    PanelRerolled,
    Record,
    active,
    world_at_panel,
)
from engine.instructions import as_statement
from engine.jobs import Capabilities, Reference, RenderJob
from engine.planner import Plan, PlanOptions, plan
from engine.prompt import DEFAULT_BUDGET, PromptSpec, compile_prompt
from engine.prose import compile_with_references
from engine.renderers.storyboard.board import board
from engine.world import Panel, Shot, World, panel_seed

Planner = Callable[[World, str, PlanOptions], Plan]
Locate = Callable[[str], str]  # an image's sha256 -> a path the renderer can open


@dataclass(frozen=True)
class RenderOptions:
    """The per-panel options of /imagine and /continue."""

    seed: int | None = None
    size: tuple[int, int] | None = None  # from --ar W:H, already scaled to pixels
    ar: tuple[int, int] | None = None  # the ratio as typed
    negative: str = ""  # --no
    steps: int | None = None


@dataclass(frozen=True)
class Author:
    name: str  # shown in captions and /history
    key: str  # "platform:user id": who it is for permissions and fair queueing


@dataclass(frozen=True)
class Target:
    """What composing needs to know about the renderer that will draw the panel."""

    renderer: str = "sketch"
    capabilities: Capabilities = field(default_factory=Capabilities)
    budget: int = DEFAULT_BUDGET
    count_tokens: Callable[[str], int] | None = None
    previous_weight: float = 0.0  # the previous panel as a weak style reference (0 = off)


@dataclass(frozen=True)
class Composition:
    """One panel, ready to store and render."""

    events: tuple[Event, ...]  # the command's events, PanelDrawn or PanelRerolled last
    world: World  # the world as the panel shows it
    panel: Panel
    job: RenderJob
    record: dict[str, Any]  # one line of panels.jsonl, and what /why reads
    anchor: str | None = None  # the character whose first solo panel this is (automatic anchoring)
    shown: tuple[Event, ...] = ()  # changes this take shows but the world does not keep (/edit of an older panel)

    @property
    def changes(self) -> tuple[AppearanceChanged, ...]:
        """The appearance changes the words make: the service checks them against locks."""
        return tuple(e for e in (*self.events, *self.shown) if isinstance(e, AppearanceChanged))


def uses_sentences(caps: Capabilities) -> bool:
    """Multi-reference models (FLUX.2, Qwen-Image-Edit) read sentences and images; SD and the storyboard tags."""
    return caps.prompt_style == "sentences" or caps.max_references > 0


def compose(world: World, text: str, options: RenderOptions, *, author: Author, job_id: str, command: str,
            target: Target, carry: bool = True, planner: Planner = plan,
            panel_images: Mapping[int, str] | None = None, places: Mapping[int, str] | None = None,
            locate: Locate = str) -> Composition:
    """A new panel from `text`: `carry` keeps who was in frame (/continue), else a fresh shot (/imagine).

    panel_images: panel index -> its stored image (the newest take drawn so far); places: where each
    panel was drawn (engine.references.panel_places): a multi-reference model's references come from them.
    """
    # 1. Read the words: state changes and the shot.
    p = planner(world, text, PlanOptions(carry_characters=carry))
    # 2. The world the panel shows: after the changes the words make.
    after = world
    for event in p.events:
        after = event.apply(after)
    # 3. The prompt and references, within the renderer's budget and limit.
    parent = world.panels[-1].index if world.panels else None
    drawn = prompt_for(after, p.shot, parent, target, panel_images or {}, places or {}, locate,
                       negative=options.negative)
    # 4. Where the panel stands in the story, its seed and size.
    index = world.next_panel_index
    width, height = options.size or (world.width, world.height)
    spec = drawn.spec
    panel = Panel(
        index=index, parent=parent, command=command,
        author=author.name, shot=p.shot, prompt=spec.prompt, negative_prompt=spec.negative,
        seed=options.seed if options.seed is not None else panel_seed(world.seed, index),
        width=width, height=height, steps=options.steps or world.steps, dropped=spec.dropped,
        references=spec.references, notes=p.notes, prompt_notes=spec.notes)
    # 5. The job and the record.
    return finish((*p.events, PanelDrawn(panel)), after, panel, author, job_id, target, drawn.references)


def compose_reroll(world: World, records: list[Record], index: int | None, *, author: Author, job_id: str,
                   command: str, target: Target, panel_images: Mapping[int, str] | None = None,
                   places: Mapping[int, str] | None = None, locate: Locate = str) -> Composition:
    """Another take of a panel (the last by default): same plan, a new seed, drawn as its world was then."""
    old = world.panel(index)
    seed = panel_seed(world.seed ^ 0x5EED, old.index, old.take + 1)
    panel = replace(old, seed=seed, take=old.take + 1, command=command, author=author.name)
    then = take_world(world.id, records, old.index)
    drawn = prompt_for(then, old.shot, old.parent, target, panel_images or {}, places or {}, locate)
    if uses_sentences(target.capabilities):  # the references may have changed: their "image N" with them
        spec = drawn.spec
        panel = replace(panel, prompt=spec.prompt, negative_prompt=spec.negative, dropped=spec.dropped,
                        references=spec.references, prompt_notes=spec.notes)
    return finish((PanelRerolled(index=old.index, seed=seed),), then, panel, author, job_id, target,
                  drawn.references)


def take_world(world_id: str, records: list[Record], index: int) -> World:
    """The world as panel `index`'s current take shows it: after the command that drew it, with
    every /edit of it since (the stored changes of an edit of the latest panel; the instruction
    read again, by the rule planner, for an edit of an older one)."""
    _, then = world_at_panel(world_id, records, index)
    live = active(records)
    drawn = max(r.seq for r in live if isinstance(r.event, PanelDrawn) and r.event.panel is not None
                and r.event.panel.index == index)
    for r in live:
        ev = r.event
        if r.seq <= drawn or not isinstance(ev, PanelEdited) or ev.panel is None or ev.panel.index != index:
            continue
        stored = [x.event for x in live if x.group == r.group and x.seq < r.seq]
        changes = stored or list(plan(then, as_statement(then, ev.instruction)).events)
        for change in (*changes, ev):
            then = change.apply(then)
    return then


@dataclass(frozen=True)
class Drawn:
    """A panel's prompt and the references its job passes, in the order the prompt names them."""

    spec: PromptSpec
    references: tuple[Reference, ...]


def prompt_for(world: World, shot: Shot, parent: int | None, target: Target, panel_images: Mapping[int, str],
               places: Mapping[int, str], locate: Locate, *, negative: str = "", edit: int | None = None,
               instruction: str = "") -> Drawn:
    """Sentences and chosen references for multi-reference models; CLIP tags (and reference attention) else."""
    caps = target.capabilities
    if uses_sentences(caps):
        spec, choice = compile_with_references(
            world, shot, caps, panel_images, places, count_tokens=target.count_tokens, extra_negative=negative,
            previous=parent if target.previous_weight > 0 else None, previous_weight=target.previous_weight,
            edit=edit, instruction=instruction)
        return Drawn(spec, choice.job_references(locate))
    spec = compile_prompt(world, shot, target.budget, target.count_tokens, extra_negative=negative)
    return Drawn(spec, _references(world, shot, parent, target, panel_images, locate))


def finish(events: tuple[Event, ...], world: World, panel: Panel, author: Author, job_id: str, target: Target,
           references: tuple[Reference, ...]) -> Composition:
    """The render job and the record of a composed panel."""
    job = RenderJob(
        job_id=job_id, world_id=world.id, panel=panel.index, user=author.key, prompt=panel.prompt,
        negative_prompt=panel.negative_prompt, seed=panel.seed, width=panel.width, height=panel.height,
        steps=panel.steps, references=references, board=board(world, panel), model=target.capabilities.model)
    return Composition(events, world, panel, job, panel_record(world, panel, target.renderer),
                       anchor=_anchor_for(world, panel))


def _references(world: World, shot: Shot, parent: int | None, target: Target, panel_images: Mapping[int, str],
                locate: Locate) -> tuple[Reference, ...]:
    """Reference attention (SD): each framed character's reference, the style image, the previous panel."""
    if not target.capabilities.reads_images:
        return ()
    refs = []
    for name in shot.characters:
        ch = world.find_character(name)
        if ch is not None and ch.references:
            r = ch.references[0]
            refs.append(Reference(ch.name, locate(r.image), r.weight / 100, "character"))
    if world.style.reference is not None:
        r = world.style.reference
        refs.append(Reference("style", locate(r.image), r.weight / 100, "style"))
    previous = panel_images.get(parent) if parent is not None else None
    if target.previous_weight > 0 and previous is not None:  # None while the previous panel is still drawing
        refs.append(Reference("previous", locate(previous), target.previous_weight, "previous"))
    return tuple(refs)


def _anchor_for(world: World, panel: Panel) -> str | None:
    """The character a panel could anchor: alone in frame, first take, no reference yet."""
    if len(panel.shot.characters) != 1 or panel.take:
        return None
    ch = world.find_character(panel.shot.characters[0])
    return ch.name if ch is not None and not ch.references else None


def panel_record(world: World, panel: Panel, renderer: str) -> dict[str, Any]:
    """One line of panels.jsonl (without "image", which the outlet adds)."""
    s = world.scene
    characters = {}
    for name in panel.shot.characters:
        ch = world.find_character(name)
        if ch is not None:
            characters[ch.name] = {"description": character_text(ch), "appearance": ch.appearance()}
    return {
        "panel": panel.index, "world": world.id, "parent": panel.parent, "command": panel.command,
        "author": panel.author, "prompt": panel.prompt, "negative_prompt": panel.negative_prompt,
        "seed": panel.seed, "size": [panel.width, panel.height], "renderer": renderer,
        "shot": {"camera": panel.shot.camera, "characters": list(panel.shot.characters),
                 "action": panel.shot.action},
        "scene": {"location": s.location, "time_of_day": s.time_of_day, "lighting": s.lighting,
                  "weather": s.weather},
        "characters": characters, "references": list(panel.references), "dropped": list(panel.dropped),
        "notes": list(panel.prompt_notes),  # references left out, --no folded into the prompt
    }


def caption(record: dict[str, Any]) -> str:
    """The line under a posted panel: number, author and action."""
    action = record["shot"]["action"] or record["command"]
    return f"#{record['panel']} · {record['author']}: {action}"
