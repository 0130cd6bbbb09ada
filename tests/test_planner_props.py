"""Properties: the planner and the compiler never raise, and their events always fold."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.appearance import guess_pronoun, parse_description, render
from engine.events import (
    CharacterRegistered,
    LocationSet,
    PanelDrawn,
    SceneChanged,
    WorldCreated,
    event_from_json,
    event_to_json,
)
from engine.planner import PlanOptions, plan
from engine.prompt import compile_prompt, explain
from engine.world import Panel, Shot, World

DESCRIPTIONS = [
    "a young woman with short red hair, green eyes, wearing a blue scarf",
    "a tall man with a black beard, wearing a leather jacket",
    "A phoenix with bright orange feathers",
    "a small silver robot with one red eye",
]


def _world() -> World:
    w = World(id="p")
    events = [WorldCreated(title="t", style="ink"),
              *(CharacterRegistered(name=n, description=d, traits=parse_description(d), pronoun=guess_pronoun(d))
                for n, d in zip(("Mira", "Tom", "Ember", "Bolt"), DESCRIPTIONS, strict=True)),
              LocationSet(name="Tavern", description="a smoky tavern", props=("a lantern on the table",)),
              SceneChanged(location="Tavern", weather="rain")]
    for e in events:
        w = e.apply(w)
    p = Panel(index=1, parent=None, command="x", author="u", shot=Shot(characters=("Mira", "Bolt")), prompt="",
              negative_prompt="", seed=0, width=64, height=64, steps=1)
    return PanelDrawn(panel=p).apply(w)


WORLD = _world()
WORDS = st.sampled_from(
    "Mira Tom Ember Bolt she he it they her his the a lantern scarf hair blue red takes off puts on "
    "dyes cuts short drops picks up walks into smoky tavern forest close-up wide shot at dusk night "
    "falls rain stops leaves enters and then , . ; ' ’s wearing with gets scar on cheek table same "
    "angle from behind light left".split())
TEXTS = st.one_of(st.text(max_size=120), st.lists(WORDS, max_size=25).map(" ".join))


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.booleans())
def test_plan_never_raises_and_its_events_apply(text: str, carry: bool) -> None:
    p = plan(WORLD, text, PlanOptions(carry_characters=carry))
    w = WORLD
    for e in p.events:
        w = e.apply(w)
        assert event_from_json(event_to_json(e)) == e
    assert all(w.find_character(n) is not None for n in p.shot.characters)
    spec = compile_prompt(w, p.shot)
    assert spec.prompt
    assert len(explain(WORLD, p, spec)) < 1800


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Mira", "Tom", "Ember", "Bolt", "Nobody"]), max_size=4),
       st.text(max_size=80), st.one_of(st.none(), st.text(max_size=20)), st.integers(0, 400))
def test_compile_never_raises(names: list[str], action: str, camera: str | None, budget: int) -> None:
    spec = compile_prompt(WORLD, Shot(camera=camera, characters=tuple(names), action=action), budget=budget)
    assert isinstance(spec.prompt, str)
    assert all(n in names for n in spec.references)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_parse_description_never_raises_and_renders(text: str) -> None:
    traits = parse_description(text)
    assert all(t.text.strip() for t in traits)
    render(text, traits)
    guess_pronoun(text)
