"""/edit PANEL TEXT: a new take of a drawn panel with a change applied.

The instruction is read by the planner (engine/instructions.py puts orders such as "make her
scarf red" in the words it reads), so only the changes it is sure of are applied. Editing the
latest panel stores those changes: the world keeps them from then on. Editing an older panel
changes only that take (the changes are shown, not stored). A model that can edit gets the
panel itself as image 1 and the instruction in its prompt; any other renderer redraws the panel
from its plan, with the change applied and the same seed. Pure, like engine/compose.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from engine.compose import Author, Composition, Locate, Planner, Target, finish, prompt_for, take_world, uses_sentences
from engine.errors import WorldError
from engine.events import PanelEdited, Record
from engine.instructions import as_statement
from engine.planner import PlanOptions, plan
from engine.world import Shot, World

MAX_INSTRUCTION = 1000


def compose_edit(world: World, records: list[Record], index: int, instruction: str, *, author: Author,
                 job_id: str, command: str, target: Target, planner: Planner = plan,
                 panel_images: Mapping[int, str] | None = None, places: Mapping[int, str] | None = None,
                 locate: Locate = str) -> Composition:
    """A new take of panel `index` changed by `instruction` (see the module doc)."""
    text = " ".join(instruction.split())
    if not text:
        raise WorldError("say what to change, e.g. /edit 3 make her scarf red")
    if len(text) > MAX_INSTRUCTION:
        raise WorldError(f"the instruction is too long (max {MAX_INSTRUCTION} characters)")
    old = world.panel(index)  # raises UnknownPanel with the valid range
    images = panel_images or {}
    caps = target.capabilities
    edits_image = uses_sentences(caps) and caps.can_edit and caps.max_references > 0
    if edits_image and old.index not in images:
        raise WorldError(f"panel {old.index} has no image yet: wait until it is drawn, then edit it")
    latest = old.index == world.panels[-1].index
    # 1. The world the take starts from: now (latest panel) or as its current take shows it.
    base = world if latest else take_world(world.id, records, old.index)
    # 2. The changes the planner is sure of; what it does not understand stays words.
    p = planner(base, as_statement(base, text), PlanOptions(carry_characters=True))
    after = base
    for event in p.events:
        after = event.apply(after)
    action = old.shot.action if p.events or edits_image else "; ".join(filter(None, (old.shot.action, text)))
    shot = Shot(camera=p.shot.camera or old.shot.camera, characters=old.shot.characters, action=action)
    # 3. The prompt: the panel as image 1 and the instruction, or the plan redrawn with the change.
    drawn = prompt_for(after, shot, old.parent, target, images, places or {}, locate,
                       edit=old.index if edits_image else None, instruction=text if edits_image else "")
    spec = drawn.spec
    understood = p.notes or ("nothing in the world changes: the words go into the picture",)
    if p.events and not latest:
        understood = (*understood, f"an older panel: only this take shows the change, the world after panel "
                                   f"{old.index} stays as it was")
    panel = replace(old, shot=shot, prompt=spec.prompt, negative_prompt=spec.negative, dropped=spec.dropped,
                    references=spec.references, prompt_notes=spec.notes, take=old.take + 1, command=command,
                    author=author.name, notes=(f"edit: {text}", *understood))
    edited = PanelEdited(panel=panel, instruction=text)
    if latest:
        return finish((*p.events, edited), after, panel, author, job_id, target, drawn.references)
    done = finish((edited,), after, panel, author, job_id, target, drawn.references)
    return replace(done, shown=p.events)
