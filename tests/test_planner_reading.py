"""The planner's reading rules: noun phrases, places, who is in frame, and when a change persists."""

from __future__ import annotations

import pytest

from engine.appearance import parse_description
from engine.events import AppearanceChanged, LocationSet, PropsChanged, SceneChanged
from engine.phrases import noun_phrase
from engine.planner import Plan, PlanOptions, plan
from engine.world import Shot, World
from tests.planner_support import after, draw, make_world, reg, traits

# ---------------------------------------------------------------- noun phrases


@pytest.mark.parametrize("text, pos, phrase, head", [
    ("argue in a small, smoky kitchen", 9, "a small, smoky kitchen", "kitchen"),
    ("walks toward the lab equipment", 13, "the lab equipment", "equipment"),
    ("in a monocle and a bow tie watches", 17, "a bow tie", "tie"),  # the list ends at the verb
    ("wearing a training harness", 8, "a training harness", "harness"),
    ("paints the robot's shell bright yellow", 7, "the robot's shell", "shell"),
    ("goats graze on the hill", 0, "goats", "goats"),
    ("a dog sleeping on the couch", 0, "a dog", "dog"),
    ("races on sand", 9, "sand", "sand"),
])
def test_a_noun_phrase_ends_at_its_head(text: str, pos: int, phrase: str, head: str) -> None:
    np = noun_phrase(text, pos)
    assert np is not None and (np.text(text), np.head) == (phrase, head)


def test_a_phrase_with_no_noun_is_no_phrase() -> None:
    assert noun_phrase("sits under the flickering", 10) is None


# ---------------------------------------------------------------- places


def _place(text: str, w: World | None = None, carry: bool = True) -> tuple[str | None, list[LocationSet]]:
    w = w or make_world("Mira", "Tom")
    p = plan(w, text, PlanOptions(carry_characters=carry))
    moved = [e.location for e in p.events if isinstance(e, SceneChanged) and e.location]
    return (moved[-1] if moved else None), [e for e in p.events if isinstance(e, LocationSet)]


@pytest.mark.parametrize("text, place, description", [
    ("Mira and Tom argue in a small, smoky kitchen", "Kitchen", "a small, smoky kitchen"),
    ("Mira wanders through a misty, overgrown orchard", "Orchard", "a misty, overgrown orchard"),
    ("Tom races on sand", "Sand", "sand"),
    ("they camp in desert", "Desert", "desert"),
    ("Mira and Tom talk on the beach", "Beach", "the beach"),  # not "a beach in the forest"
    ("Tom waving on the ship", "Ship", "the ship"),
    ("Mira points excitedly in a crowded market", "Market", "a crowded market"),
    ("Mira is at home", "Home", "at home"),
    ("Tom at school", "School", "at school"),
    ("Mira perches on a mountain peak", "Peak", "a mountain peak"),
    ("INT. DINER - NIGHT. Tom drinks coffee", "Diner", "the diner"),
])
def test_a_place_is_a_preposition_and_a_place_noun(text: str, place: str, description: str) -> None:
    moved, created = _place(text)
    assert moved == place and [e.description for e in created] == [description]


def test_a_landmark_is_something_near_the_place() -> None:
    moved, created = _place("Mira on the road, near the old mill")
    assert moved == "Road" and created[0].description == "the road near the old mill"


@pytest.mark.parametrize("text", [
    "Tom walks toward the lab equipment",  # "lab" only describes the equipment
    "Tom points at the distant castle",  # a look goes nowhere
    "Mira waits on the pier, looking out to sea",  # ... with a particle too
    "Tom gazes up at the lighthouse",
    "Mira looks back at the tavern",
    "Mira waits on the pier",  # a spot of the place they are in
    "Mira sits on a bench",
    "night falls over the valley",  # nobody goes anywhere
    "the wind howls through the old mill",
    "Tom runs out of the old mill",
])
def test_no_move(text: str) -> None:
    assert _place(text) == (None, [])


def test_a_known_place_named_as_a_modifier_keeps_its_description() -> None:
    w = after(make_world("Tom"), Plan(events=(LocationSet(name="Lab", description="a gleaming robotics lab"),
                                              SceneChanged(location="Lab")), shot=Shot()))
    p = plan(w, "Tom walks toward the lab equipment")
    assert p.events == ()


def test_indoors_the_weather_stays_outside() -> None:
    w = after(make_world("Mira"), Plan(events=(SceneChanged(weather="fog"),), shot=Shot()))
    p = plan(w, "Mira steps into a warm bakery")
    [scene] = [e for e in p.events if isinstance(e, SceneChanged)]
    assert (scene.location, scene.weather) == ("Bakery", "")
    assert any("stays outside" in n for n in p.notes)
    p = plan(w, "Mira walks onto a windy beach")
    assert all(e.weather is None for e in p.events if isinstance(e, SceneChanged))


# ---------------------------------------------------------------- time and weather


@pytest.mark.parametrize("text", [
    "Mira in an evening gown", "Tom puts on a night cap", "Tom wears a morning coat",
    "Mira in a sunset-orange dress", "Tom in a storm-grey cloak", "Mira in a rainbow scarf",
    "Tom puts on snow boots", "Tom in a snowy backyard", "Mira looks out at the snow outside",
])
def test_words_inside_a_thing_set_no_time_or_weather(text: str) -> None:
    events = plan(make_world("Mira", "Tom"), text).events
    assert all(e.time_of_day is None and e.weather is None for e in events if isinstance(e, SceneChanged))


@pytest.mark.parametrize("text, field, value", [
    ("a rainy night", "weather", "rain"), ("in the morning light", "time_of_day", "morning"),
    ("Mira jumps in puddles on a rainy sidewalk", "weather", "rain"), ("night falls", "time_of_day", "night"),
])
def test_time_and_weather_words_that_do_set_the_scene(text: str, field: str, value: str) -> None:
    [scene] = [e for e in plan(make_world("Mira"), text).events if isinstance(e, SceneChanged)]
    assert getattr(scene, field) == value


# ---------------------------------------------------------------- who is in frame


def _cast() -> World:
    w = after(make_world(), Plan(events=(reg("Kai", "a lanky boy with a green beanie"),
                                         reg("Lu", "a small girl with two braids")), shot=Shot()))
    w = draw(w, Shot(characters=("Zed", "Bolt", "Tom")))
    return draw(w, Shot(characters=("Zed", "Bolt")))


@pytest.mark.parametrize("text, frame", [
    ("Kai and Lu sit down; both laugh", {"Kai", "Lu"}),
    ("Kai and Lu sit down, the two of them laughing", {"Kai", "Lu"}),
    ("Kai waves; all three laugh", {"Kai", "Zed", "Bolt"}),
    ("Kai sits under a tree, a book beside him", {"Kai"}),
    ("Tom grabs him", {"Tom", "Zed"}),  # him is never the one who grabs
    ("Kai waves and leaves", {"Zed", "Bolt"}),  # out of this same panel
    ("Kai alone in the hall, watching them go", {"Kai"}),
    ('"Where is Tom?" Kai asks', {"Kai"}),  # a name in quoted speech is talked about, not drawn
    ('Kai whispers “Lu took the map”', {"Kai"}),
])
def test_who_is_in_frame(text: str, frame: set[str]) -> None:
    assert set(plan(_cast(), text).shot.characters) == frame


@pytest.mark.parametrize("text, frame", [
    ("a stone lantern in the snow", ()), ("goats graze on the hill", ()), ("a crew lands on the island", ()),
    ("fireworks over the river", ()), ("seagulls circle above the boats", ()),
    ("swimming beneath the lilies", ("Koi",)), ("close-up, gliding through reeds", ("Koi",)),
    ("in a city alley", ("Koi",)), ("she drifts under a bridge", ("Koi",)),
])
def test_an_imagine_with_its_own_subject_is_an_establishing_shot(text: str, frame: tuple[str, ...]) -> None:
    w = reg("Koi", "a golden koi fish with long flowing fins").apply(World(id="k"))
    assert plan(w, text, PlanOptions(carry_characters=False)).shot.characters == frame


def test_a_character_named_by_an_ordinary_word_answers_to_it() -> None:
    w = World(id="r")
    for e in (reg("rose", "a deep red rose flower"), reg("tulip", "a bright red tulip")):
        w = e.apply(w)
    assert plan(w, "the rose by the window", PlanOptions(carry_characters=False)).shot.characters == ("rose",)
    assert plan(w, "the sun rose over the hill", PlanOptions(carry_characters=False)).shot.characters != ("rose",)


# ---------------------------------------------------------------- what persists


def _people() -> World:
    w = make_world("Mira")
    return after(w, Plan(events=(
        reg("Vera", "an old woman with grey hair"), reg("Otto", "an old man with a cane"),
        reg("Suki", "a girl with pigtails"), reg("Ines", "a young painter with paint-stained hands"),
        reg("Kai", "a young man wearing a red hoodie"), reg("Lu", "a young woman with gold earrings"),
        reg("Copper", "a boxy automaton with a copper shell")), shot=Shot()))


def _changes(text: str, w: World | None = None) -> dict[str, list[tuple[str | None, str | None]]]:
    p = plan(w or _people(), text)
    return {e.name: [(old, new.text if new else None) for old, new in e.changes]
            for e in p.events if isinstance(e, AppearanceChanged)}


@pytest.mark.parametrize("text, changes", [
    ("Vera, in a monocle and a bow tie, watches", {"Vera": [(None, "a monocle"), (None, "a bow tie")]}),
    ("Otto reads beside Suki wearing a red cape", {"Suki": [(None, "a red cape")]}),
    ("Otto, wearing a red cape, reads beside Suki", {"Otto": [(None, "a red cape")]}),
    ("Ines paints the automaton's shell bright yellow", {"Copper": [("a copper shell", "a bright yellow shell")]}),
    ("Mira, wearing a green scarf, waves", {"Mira": [("a blue scarf", "a green scarf")]}),
    ("Mira changes into a ball gown", {"Mira": [(None, "a ball gown")]}),
    ("Mira sketches Otto, who is wearing a paper crown", {"Otto": [(None, "a paper crown")]}),
])
def test_a_change_persists_when_it_is_clear_whose_it_is(text: str, changes: dict[str, list[object]]) -> None:
    assert _changes(text) == changes


@pytest.mark.parametrize("text", [
    "Otto reads a book wearing glasses",  # the book does not wear them; Otto? not sure
    "Kai and Lu, wearing raincoats, run",  # two people: whose?
    "Mira paints its shell blue",  # whose shell?
])
def test_an_unsure_change_changes_nothing_and_says_so(text: str) -> None:
    p = plan(_people(), text)
    assert not [e for e in p.events if isinstance(e, AppearanceChanged)]
    assert any(n.startswith("not sure") for n in p.notes)
    assert p.shot.action == text  # the words stay in this panel


@pytest.mark.parametrize("text", [
    "a stranger wearing a cloak watches Mira",  # someone who is not a character
    "Otto plays with a ball",  # with after a verb: how, not what he carries
    "a model in a silver gown walks past Vera",
    "the subject sleeping in a flower",
])
def test_describing_someone_else_or_an_activity_changes_no_one(text: str) -> None:
    assert _changes(text) == {}


def test_giving_moves_a_worn_thing_and_earrings_fall_off() -> None:
    w = draw(_people(), Shot(characters=("Kai", "Lu")))
    assert _changes("Kai gives her his hoodie", w) == {"Kai": [("a red hoodie", None)],
                                                         "Lu": [(None, "a red hoodie")]}
    assert _changes("her earrings fall off", w) == {"Lu": [("gold earrings", None)]}


def test_a_thing_found_and_handed_on_is_one_net_change() -> None:
    w = draw(_people(), Shot(characters=("Otto", "Suki")))
    assert _changes("Otto finds a brass key and hands it to Suki", w) == {"Suki": [(None, "a brass key")]}


def test_an_animal_coat_is_its_fur_so_a_worn_coat_keeps_the_description() -> None:
    desc = "A red fox with a vibrant red coat, white belly, and bushy tail"
    assert [t.slot for t in parse_description(desc)][:2] == ["base", "skin"]
    w = World(id="f")
    w = reg("Subject", desc).apply(w)
    p = plan(w, "the subject dressed in a warm coat")
    assert "a vibrant red coat" in traits(after(w, p), "Subject")


@pytest.mark.parametrize("text, prop", [
    ("a lantern sits under the flickering lamp", "a lantern under the flickering lamp"),
    ("there is a map on the wall", "a map on the wall"),
])
def test_a_prop_is_a_clean_phrase(text: str, prop: str) -> None:
    [e] = [e for e in plan(make_world("Mira"), text).events if isinstance(e, PropsChanged)]
    assert e.added == (prop,)


@pytest.mark.parametrize("text", [
    "Mira sits under the flickering",  # no noun: no prop
    "Mira commands a storm in an icy palace",  # the object of a verb
    "Mira sits on a mushroom in a magical forest",
    "Mira sits under a tree, a book beside her",  # tied to a character: this panel only
])
def test_no_prop(text: str) -> None:
    assert not [e for e in plan(make_world("Mira"), text).events if isinstance(e, PropsChanged)]
