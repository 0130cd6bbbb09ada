"""The prompt compiler: what every panel carries, in order, and what goes first over budget."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.appearance import guess_pronoun, parse_description
from engine.events import CharacterRegistered, Event, LocationSet, SceneChanged, StyleSet, WorldCreated
from engine.planner import Plan, plan
from engine.prompt import DROP_ORDER, compile_prompt, estimate_tokens, explain
from engine.world import ImageRef, Shot, World

MIRA = "a young woman with short red hair, green eyes, wearing a blue scarf"
TOM = "a tall man with a black beard, wearing a leather jacket"


def world(*extra: Event) -> World:
    events: list[Event] = [
        WorldCreated(title="t", style="watercolor storybook illustration", negative="blurry, lowres"),
        StyleSet(suffix="soft pastel colors"),
        CharacterRegistered(name="Mira", description=MIRA, traits=parse_description(MIRA),
                            pronoun=guess_pronoun(MIRA), references=(ImageRef("abc"),)),
        CharacterRegistered(name="Tom", description=TOM, traits=parse_description(TOM), pronoun="he"),
        LocationSet(name="Tavern", description="a smoky tavern", props=("a lantern on the table",)),
        SceneChanged(location="Tavern", time_of_day="dusk", lighting="candlelight", light_from="left",
                     weather="rain"),
        *extra,
    ]
    w = World(id="w")
    for e in events:
        w = e.apply(w)
    return w


SHOT = Shot(camera="close-up", characters=("Mira", "Tom"), action="Mira hands Tom a letter")


def test_every_part_in_order() -> None:
    spec = compile_prompt(world(), SHOT)
    assert [k for k, _ in spec.parts] == ["style", "camera", "character", "character", "action", "location",
                                          "prop", "time", "light", "weather", "style_suffix"]
    assert spec.prompt == ", ".join(t for _, t in spec.parts)
    assert spec.dropped == ()


def test_characters_are_described_by_their_full_appearance() -> None:
    spec = compile_prompt(world(), SHOT)
    assert MIRA in spec.prompt and TOM in spec.prompt


def test_scene_parts() -> None:
    p = compile_prompt(world(), SHOT).prompt.lower()
    for phrase in ("watercolor storybook illustration", "close-up", "a smoky tavern", "a lantern on the table",
                   "at dusk", "candlelight, light from the left", "rain", "soft pastel colors",
                   "mira hands tom a letter"):
        assert phrase in p, phrase


def test_changed_appearance_shows_the_new_and_not_the_old() -> None:
    w = world()
    p = plan(w, "Mira takes off her scarf and dyes her hair blue")
    for e in p.events:
        w = e.apply(w)
    prompt = compile_prompt(w, p.shot).prompt
    assert "short blue hair" in prompt
    assert "blue scarf" not in prompt and "short red hair" not in prompt


def test_negative_is_deduplicated_style_plus_no() -> None:
    spec = compile_prompt(world(), SHOT, extra_negative="Blurry, text, watermark")
    assert spec.negative == "blurry, lowres, text, watermark"


def test_references_are_framed_characters_with_images() -> None:
    assert compile_prompt(world(), SHOT).references == ("Mira",)
    assert compile_prompt(world(), replace(SHOT, characters=("Tom",))).references == ()


def test_tiny_budget_drops_lowest_priority_first_and_keeps_appearance() -> None:
    full = compile_prompt(world(), SHOT)
    appearance = estimate_tokens(", ".join(t for k, t in full.parts if k == "character"))
    spec = compile_prompt(world(), SHOT, budget=appearance + 2)
    kinds = [d.split(":")[0] for d in spec.dropped]
    assert kinds[:4] == ["prop", "lighting", "weather", "style suffix"]
    assert [k for k, _ in spec.parts] == ["character", "character"]
    assert estimate_tokens(spec.prompt) <= appearance + 2


def test_dropping_stops_as_soon_as_it_fits() -> None:
    full = compile_prompt(world(), SHOT)
    prop_cost = estimate_tokens("a lantern on the table, ")
    spec = compile_prompt(world(), SHOT, budget=estimate_tokens(full.prompt) - prop_cost + 1)
    assert spec.dropped == ("prop: a lantern on the table",)


def test_drop_order_ends_with_characters() -> None:
    assert DROP_ORDER[0] == "prop" and DROP_ORDER[-1] == "character"


def test_count_tokens_is_injectable() -> None:
    spec = compile_prompt(world(), SHOT, budget=10, count_tokens=lambda s: 0)
    assert spec.dropped == ()


def test_estimate_is_conservative() -> None:
    # one CLIP token per common word and punctuation mark at the very least
    text = "a young woman with short red hair, green eyes, wearing a blue scarf"
    assert estimate_tokens(text) >= len(text.split()) + text.count(",")
    assert estimate_tokens("") == 0


def test_no_location_no_camera_no_characters() -> None:
    w = World(id="w")
    spec = compile_prompt(w, Shot(action="a castle on a hill"))
    assert spec.prompt == "a castle on a hill"


def test_explain_is_short_and_readable() -> None:
    w = world()
    p = plan(w, "close-up, Mira takes off her scarf at dusk")
    after = w
    for e in p.events:
        after = e.apply(after)
    spec = compile_prompt(after, p.shot, budget=40)
    text = explain(w, p, spec)
    assert len(text) < 1800
    assert "Mira takes off: a blue scarf" in text
    assert "Dropped" in text and "prop: a lantern on the table" in text
    assert "Kept from before" in text


def test_explain_without_notes_uses_event_descriptions() -> None:
    w = world()
    p = Plan(events=(SceneChanged(weather="snow"),), shot=Shot(characters=("Mira",)))
    assert "scene: weather snow" in explain(w, p, compile_prompt(w, p.shot))


@pytest.mark.parametrize("name, description, expected", [
    ("Pier", "a wooden pier", "on a wooden pier"),
    ("Tavern", "a smoky tavern", "in a smoky tavern"),
    ("Harbour", "a windy harbour with fishing boats", "in a windy harbour with fishing boats"),
    ("Rain Alley", "a narrow alley", "in Rain Alley, a narrow alley"),
])
def test_a_place_reads_as_people_write_it(name: str, description: str, expected: str) -> None:
    from engine.prompt import location_text

    assert location_text(name, description) == expected
