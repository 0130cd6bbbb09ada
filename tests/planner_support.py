"""World builders shared by the planner tests."""

from __future__ import annotations

from engine.appearance import guess_pronoun, parse_description
from engine.events import CharacterRegistered, Event, LocationSet, PanelDrawn, SceneChanged, WorldCreated
from engine.planner import Plan, PlanOptions, plan
from engine.world import Panel, Shot, World

MIRA = "a young woman with short red hair, green eyes, wearing a blue scarf"
TOM = "a tall man with a black beard, wearing a leather jacket"
ZED = "an old wizard with a long grey beard and a pointed blue hat"
BOLT = "a small silver robot with one red eye"


def reg(name: str, desc: str, aliases: tuple[str, ...] = ()) -> CharacterRegistered:
    return CharacterRegistered(name=name, description=desc, traits=parse_description(desc),
                               pronoun=guess_pronoun(desc), aliases=aliases)


def base_events() -> list[Event]:
    return [
        WorldCreated(title="t", style="watercolor storybook illustration"),
        reg("Mira", MIRA, aliases=("Mimi",)),
        reg("Tom", TOM),
        reg("Zed", ZED),
        reg("Bolt", BOLT),
        reg("Captain Rook", "a grizzled pirate with an eyepatch"),
    reg("Ember", "A phoenix with bright orange feathers"),
        LocationSet(name="Forest", description="a misty pine forest"),
        LocationSet(name="Old Mill", description="a creaky wooden mill by the river"),
        SceneChanged(location="Forest"),
    ]


def make_world(*frame: str, camera: str | None = None) -> World:
    w = World(id="w")
    for e in base_events():
        w = e.apply(w)
    if frame:
        w = draw(w, Shot(camera=camera, characters=frame, action="standing"))
    return w


def draw(w: World, shot: Shot, notes: tuple[str, ...] = ()) -> World:
    p = Panel(index=w.next_panel_index, parent=None, command="x", author="u", shot=shot, prompt="",
              negative_prompt="", seed=0, width=64, height=64, steps=1, notes=notes)
    return PanelDrawn(panel=p).apply(w)


def after(w: World, p: Plan) -> World:
    for e in p.events:
        w = e.apply(w)
    return w


def step(w: World, text: str, options: PlanOptions | None = None) -> tuple[Plan, World]:
    """Plans, applies and draws one panel, as the service does."""
    p = plan(w, text, options)
    w2 = after(w, p)
    return p, draw(w2, p.shot, p.notes)


def traits(w: World, name: str) -> list[str]:
    return [t.text for t in w.character(name).traits]
