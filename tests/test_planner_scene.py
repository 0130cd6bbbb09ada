"""The rule planner: time, light, weather, places, props and appearance changes."""

from __future__ import annotations

import pytest

from engine.appearance import parse_description
from engine.events import AppearanceChanged, LocationSet, SceneChanged
from engine.planner import Plan, PlanOptions, plan
from engine.prompt import compile_prompt
from engine.world import Shot, Trait, World
from tests.planner_support import (
    TOM,
    after,
    make_world,
    reg,
    step,
    traits,
)

# ---------------------------------------------------------------- time, light, weather


def scene_after(text: str, w: World | None = None) -> object:
    w = w or make_world("Mira")
    return after(w, plan(w, text)).scene


@pytest.mark.parametrize("text, value", [
    ("at dawn, Mira wakes", "dawn"), ("in the morning Mira eats", "morning"), ("at noon", "noon"),
    ("in the afternoon", "afternoon"), ("golden hour on the hill", "golden hour"),
    ("at sunset they rest", "sunset"), ("at dusk Mira waits", "dusk"), ("at night", "night"),
    ("night falls", "night"), ("at midnight", "midnight"), ("the sun rises", "dawn"),
])
def test_time_of_day(text: str, value: str) -> None:
    assert scene_after(text).time_of_day == value  # type: ignore[attr-defined]


@pytest.mark.parametrize("text, value", [
    ("the lights go out", "darkness"), ("by candlelight Mira reads", "candlelight"),
    ("neon signs buzz", "neon lights"), ("moonlight on the water", "moonlight"),
])
def test_lighting(text: str, value: str) -> None:
    assert scene_after(text).lighting == value  # type: ignore[attr-defined]


@pytest.mark.parametrize("text, value", [
    ("it starts to rain", "rain"), ("snow falls", "snow"), ("fog rolls in", "fog"),
    ("a storm breaks", "storm"), ("clear skies over the hill", "clear skies"),
    ("Mira walks in the pouring rain", "heavy rain"),
])
def test_weather(text: str, value: str) -> None:
    assert scene_after(text).weather == value  # type: ignore[attr-defined]


def test_the_rain_stops_clears_the_weather() -> None:
    w = after(make_world("Mira"), Plan(events=(SceneChanged(weather="rain"),), shot=Shot()))
    assert scene_after("the rain stops", w).weather is None  # type: ignore[attr-defined]


def test_storming_off_is_not_weather() -> None:
    assert scene_after("Mira storms off").weather is None  # type: ignore[attr-defined]


def test_hailing_a_taxi_is_not_weather() -> None:
    assert scene_after("she hails a taxi").weather is None  # type: ignore[attr-defined]


def test_a_new_light_drops_the_old_direction() -> None:
    w = after(make_world("Mira"), Plan(events=(SceneChanged(lighting="sunlight", light_from="left"),),
                                       shot=Shot()))
    s = scene_after("the lights go out", w)
    assert (s.lighting, s.light_from) == ("darkness", None)  # type: ignore[attr-defined]


def test_light_direction() -> None:
    assert scene_after("light from the left, Mira reads").light_from == "left"  # type: ignore[attr-defined]


def test_scene_persists_until_changed() -> None:
    w = make_world("Mira")
    _, w = step(w, "at dusk it starts to rain")
    _, w = step(w, "Mira walks on")
    assert (w.scene.time_of_day, w.scene.weather) == ("dusk", "rain")


def test_unchanged_scene_emits_no_event() -> None:
    w = after(make_world("Mira"), Plan(events=(SceneChanged(time_of_day="night"),), shot=Shot()))
    assert not any(isinstance(e, SceneChanged) for e in plan(w, "at night Mira sleeps").events)


# ---------------------------------------------------------------- places and props


def test_move_to_a_known_location_by_name() -> None:
    p = plan(make_world("Mira"), "Mira walks to the old mill")
    assert SceneChanged(location="Old Mill") in p.events


def test_riding_down_a_hill_leaves_the_place() -> None:
    p = plan(make_world("Tom"), "Tom rides down the hill")
    assert SceneChanged(location="Hill") in p.events


def test_the_room_is_where_they_already_are() -> None:
    assert plan(make_world("Tom"), "Tom paces around the room").events == ()
    assert plan(make_world("Tom"), "Tom walks deeper into the forest").events == ()


def test_walking_along_something_stays() -> None:
    p = plan(make_world("Tom"), "Tom walks along the docks")
    assert not any(isinstance(e, SceneChanged) for e in p.events)


def test_pointing_at_a_place_is_not_going_there() -> None:
    p = plan(make_world("Tom"), "Tom points at the distant castle")
    assert p.events == ()


def test_move_to_a_new_location_creates_it() -> None:
    p = plan(make_world("Mira"), "Mira walks into a smoky tavern")
    assert LocationSet(name="Tavern", description="a smoky tavern") in p.events
    assert SceneChanged(location="Tavern") in p.events
    assert p.shot.action == "Mira walks into a smoky tavern"


def test_a_prop_of_something() -> None:
    w = make_world("Mira")
    p = plan(w, "a vase of roses stands on the windowsill")
    assert after(w, p).location("Forest").props == ("a vase of roses on the windowsill",)  # type: ignore[union-attr]


def test_prop_appears_in_the_current_location() -> None:
    w = make_world("Mira")
    p = plan(w, "a lantern on the table")
    assert after(w, p).location("Forest").props == ("a lantern on the table",)  # type: ignore[union-attr]


def test_taking_a_prop_carries_it_and_it_leaves_the_place() -> None:
    w = make_world("Mira")
    _, w = step(w, "a lantern on the table")
    _, w = step(w, "Tom takes the lantern")
    assert w.location("Forest").props == ()  # type: ignore[union-attr]
    assert "a lantern" in traits(w, "Tom")


def test_props_stay_with_their_location() -> None:
    w = make_world("Mira")
    _, w = step(w, "a lantern on the table")
    _, w = step(w, "Mira walks to the old mill")
    assert w.location("Forest").props == ("a lantern on the table",)  # type: ignore[union-attr]
    spec = compile_prompt(w, w.last_shot)  # type: ignore[arg-type]
    assert "lantern" not in spec.prompt


# ---------------------------------------------------------------- appearance


@pytest.mark.parametrize("text", [
    "Mira puts on a red hood", "Mira wears a red hood", "Mira, now wearing a red hood, waves",
])
def test_putting_on(text: str) -> None:
    w = after(make_world("Mira"), plan(make_world("Mira"), text))
    assert traits(w, "Mira")[-1] == "a red hood"


@pytest.mark.parametrize("text", [
    "Mira takes off her scarf", "Mira removes her scarf", "Mira loses her scarf", "she takes off the blue scarf",
])
def test_taking_off(text: str) -> None:
    w = make_world("Mira")
    p = plan(w, text)
    assert "a blue scarf" not in traits(after(w, p), "Mira")
    assert any("takes off: a blue scarf" in n for n in p.notes)


def test_taking_off_removes_the_words_from_the_action() -> None:
    p = plan(make_world("Mira"), "Mira takes off her blue scarf and smiles")
    assert p.shot.action == "Mira smiles"


def test_dyeing_hair_keeps_the_rest_of_the_phrase() -> None:
    w = make_world("Mira")
    w2 = after(w, plan(w, "Mira dyes her hair blue"))
    assert traits(w2, "Mira") == ["a young woman", "short blue hair", "green eyes", "a blue scarf"]


def test_cutting_hair_short() -> None:
    w = after(make_world(), Plan(events=(reg("Ann", "a girl with long red hair"),), shot=Shot()))
    w2 = after(w, plan(w, "Ann cuts her hair short"))
    assert traits(w2, "Ann") == ["a girl", "short red hair"]


def test_getting_a_scar() -> None:
    w = make_world("Tom")
    w2 = after(w, plan(w, "Tom gets a scar on the cheek"))
    assert Trait("marks", "a scar on the cheek") in w2.character("Tom").traits


def test_carrying_and_dropping() -> None:
    w = make_world("Tom")
    _, w = step(w, "Tom picks up a sword")
    assert "a sword" in traits(w, "Tom")
    _, w = step(w, "Tom drops the sword")
    assert "a sword" not in traits(w, "Tom")


def test_changes_persist_and_nothing_else_changes() -> None:
    w = make_world("Mira", "Tom")
    _, w = step(w, "Mira puts on a red hood")
    _, w = step(w, "Tom waves")
    assert traits(w, "Mira") == ["a young woman", "short red hair", "green eyes", "a blue scarf", "a red hood"]
    assert traits(w, "Tom") == [t.text for t in parse_description(TOM)]


def test_appearance_words_for_the_pronoun_subject() -> None:
    w = make_world("Tom", "Mira")
    p = plan(w, "Tom waves and she takes off her scarf")
    changed = [e for e in p.events if isinstance(e, AppearanceChanged)]
    assert [e.name for e in changed] == ["Mira"]


def test_handing_over_moves_the_thing() -> None:
    w = make_world("Tom", "Mira")
    _, w = step(w, "Tom picks up a lantern")
    p, w = step(w, "Tom hands Mira the lantern")
    assert "a lantern" not in traits(w, "Tom") and "a lantern" in traits(w, "Mira")
    assert p.shot.action == "Tom hands Mira the lantern"  # a visible action: its words stay


def test_giving_to_someone() -> None:
    w = make_world("Tom", "Mira")
    _, w = step(w, "Mira gives a letter to Tom")
    assert "a letter" in traits(w, "Tom")


def test_arriving_with_a_thing_carries_it() -> None:
    w = make_world("Mira")
    p, w = step(w, "Tom arrives with a lantern")
    assert "a lantern" in traits(w, "Tom")
    assert set(p.shot.characters) == {"Mira", "Tom"}


def test_something_falling_off() -> None:
    w = make_world("Zed")
    _, w = step(w, "the wizard's hat falls off")
    assert "a pointed blue hat" not in traits(w, "Zed")


def test_lighting_a_candle_sets_candlelight() -> None:
    assert scene_after("Mira lights a candle").lighting == "candlelight"  # type: ignore[attr-defined]


def test_someone_else_wearing_something_does_not_dress_the_framed_character() -> None:
    w = make_world("Mira")
    p = plan(w, "a stranger wearing a red cloak appears")
    assert p.events == ()
    assert p.shot.action == "a stranger wearing a red cloak appears"


def test_body_words_are_not_clothes() -> None:
    w = make_world("Mira")
    p = plan(w, "Mira wears her hair in a braid")
    assert not any(isinstance(e, AppearanceChanged) for e in p.events)
    assert p.shot.action == "Mira wears her hair in a braid"


def test_candlelight_stays_with_its_place() -> None:
    w = after(make_world("Mira"), Plan(events=(SceneChanged(lighting="candlelight", time_of_day="night"),),
                                       shot=Shot()))
    w2 = after(w, plan(w, "Mira walks to the old mill"))
    assert (w2.scene.lighting, w2.scene.time_of_day) == (None, "night")
    w3 = after(w, plan(w, "Mira looks around"))
    assert w3.scene.lighting == "candlelight"


def test_snow_on_a_landscape_is_not_falling_snow() -> None:
    w = make_world("Mira")
    assert all(getattr(e, "weather", None) is None for e in plan(w, "Mira climbs a snowy mountain peak").events)
    assert any(getattr(e, "weather", None) == "snow" for e in plan(w, "Mira walks as snow falls").events)


@pytest.mark.parametrize("text, moves", [("Mira waits on the pier", False), ("Mira arrives at the castle", True),
                                         ("Mira sits in a smoky tavern", True), ("Mira walks onto the pier", True)])
def test_a_spot_in_the_current_place_is_not_a_move(text: str, moves: bool) -> None:
    events = plan(make_world("Mira"), text).events
    assert any(getattr(e, "location", None) for e in events) == moves


def test_what_people_say_changes_nothing_but_stays_in_the_action() -> None:
    p = plan(make_world("Tom"), 'Tom whispers "the lights went out at midnight", then it starts to rain')
    [scene] = [e for e in p.events if isinstance(e, SceneChanged)]
    assert (scene.lighting, scene.time_of_day, scene.weather) == (None, None, "rain")
    assert '"the lights went out at midnight"' in p.shot.action


def test_a_new_setting_after_off_or_near_is_a_place() -> None:
    p = plan(make_world("Mira"), "fishing off a rocky pier at sunset", PlanOptions(carry_characters=False))
    assert any(getattr(e, "location", None) == "Pier" for e in p.events)


@pytest.mark.parametrize("text, weather", [("it's pouring now", "heavy rain"), ("Mira's glasses fog up", None),
                                           ("heavy fog rolls in", "fog")])
def test_weather_reads_chat_phrasing_and_skips_figures_of_speech(text: str, weather: str | None) -> None:
    found = [e.weather for e in plan(make_world("Mira"), text).events if isinstance(e, SceneChanged)]
    assert (found[0] if found else None) == weather


def test_trying_on_a_hat_puts_it_on() -> None:
    [change] = plan(make_world("Mira"), "Mira tries on a red fez").events
    assert isinstance(change, AppearanceChanged) and change.changes[-1][1].text == "a red fez"  # type: ignore[union-attr]
