"""The rule planner: who is in frame, the camera, the action, and that its events fold cleanly."""

from __future__ import annotations

import pytest

from engine.appearance import parse_description
from engine.events import (
    CharacterRegistered,
    Event,
    LocationSet,
    PanelDrawn,
    PropsChanged,
    Record,
    SceneChanged,
    event_from_json,
    event_to_json,
    fold,
)
from engine.planner import Plan, PlanOptions, plan
from engine.world import Shot
from tests.planner_support import (
    TOM,
    after,
    base_events,
    draw,
    make_world,
    reg,
    step,
    traits,
)

# ---------------------------------------------------------------- who


@pytest.mark.parametrize("text, frame", [
    ("Mira smiles", ("Mira",)),
    ("mira smiles", ("Mira",)),
    ("Mimi smiles", ("Mira",)),  # alias
    ("Captain Rook grins", ("Captain Rook",)),  # multi-word name
    ("Rook grins", ("Captain Rook",)),  # a distinctive word of a multi-word name
    ("Tom looks at Mira's map", ("Tom", "Mira")),  # possessive
    ("the wizard raises a hand", ("Zed",)),  # "the <description word>"
    ("the robot beeps", ("Bolt",)),
    ("Mira and Tom talk", ("Mira", "Tom")),
])
def test_who_is_named(text: str, frame: tuple[str, ...]) -> None:
    assert set(plan(make_world(), text).shot.characters) == set(frame)


def test_frame_lists_who_the_text_talks_about_first() -> None:
    # the drawn frame becomes world.last_mentioned, so the next "she" is the last "she" named
    w = after(make_world(), Plan(events=(reg("Lena", "a young woman with long blonde hair"),), shot=Shot()))
    w = draw(w, Shot(characters=("Mira", "Tom")))
    p, w = step(w, "Lena walks in")
    assert p.shot.characters == ("Lena", "Mira", "Tom")
    assert plan(w, "she takes off her coat").shot.characters[0] == "Lena"


def test_a_generic_person_noun_is_someone_new() -> None:
    w = make_world("Zed")
    assert plan(w, "Zed talks to a man at the bar").shot.characters == ("Zed",)
    assert plan(w, "the man nods").shot.characters == ("Tom",)


def test_a_distinctive_creature_noun_is_the_character() -> None:
    p = plan(make_world(), "a phoenix soaring through a glowing sky", PlanOptions(carry_characters=False))
    assert p.shot.characters == ("Ember",)


def test_ambiguous_description_word_names_no_one() -> None:
    w = after(make_world(), Plan(events=(reg("Ann", "a young woman with a hat"),), shot=Shot()))
    assert plan(w, "the woman waves", PlanOptions(carry_characters=False)).shot.characters == ()


def test_pronoun_follows_the_last_mentioned_of_that_pronoun() -> None:
    w = make_world("Mira", "Tom")
    p = plan(w, "Tom waves and she smiles")
    assert set(p.shot.characters) == {"Tom", "Mira"}
    assert any("“she” → Mira" in n for n in p.notes)


def test_pronoun_uses_world_last_mentioned() -> None:
    w = make_world("Mira")
    assert plan(w, "she turns around", PlanOptions(carry_characters=False)).shot.characters == ("Mira",)


def test_they_means_everyone_in_the_last_frame() -> None:
    w = make_world("Mira", "Tom")
    assert plan(w, "they sit down", PlanOptions(carry_characters=False)).shot.characters == ("Mira", "Tom")


def test_it_as_a_weather_word_is_not_a_character() -> None:
    w = make_world("Bolt", "Mira")
    p = plan(w, "Mira looks up; it starts to rain")
    assert p.shot.characters == ("Mira",)


def test_no_name_keeps_the_previous_frame() -> None:
    w = make_world("Mira", "Tom")
    assert plan(w, "lightning strikes the tree").shot.characters == ("Mira", "Tom")


def test_imagine_does_not_carry_the_previous_frame() -> None:
    w = make_world("Mira", "Tom")
    assert plan(w, "a castle on a hill", PlanOptions(carry_characters=False)).shot.characters == ()


def test_naming_someone_sets_the_frame() -> None:
    w = make_world("Mira", "Tom")
    assert plan(w, "Zed laughs").shot.characters == ("Zed",)


def test_entering_joins_the_previous_frame() -> None:
    w = make_world("Mira")
    p = plan(w, "Tom enters")
    assert set(p.shot.characters) == {"Mira", "Tom"}
    assert "Tom enters" in p.notes


def test_leaving_removes_from_frame_and_action() -> None:
    w = make_world("Mira", "Tom")
    p = plan(w, "Mira leaves")
    assert p.shot.characters == ("Tom",)
    assert "Mira" not in p.shot.action


def test_leaves_with_an_object_is_not_an_exit() -> None:
    w = make_world("Mira")
    assert plan(w, "Mira leaves a note on the door").shot.characters == ("Mira",)


@pytest.mark.parametrize("text", ["Bolt rolls in", "Mira and Tom come back", "Zed strides in"])
def test_any_verb_of_moving_in_enters(text: str) -> None:
    w = make_world("Captain Rook")
    assert "Captain Rook" in plan(w, text).shot.characters


def test_walking_out_to_a_place_is_a_move_not_an_exit() -> None:
    w = after(make_world("Mira"), Plan(events=(LocationSet(name="Harbour", description="a harbour"),),
                                       shot=Shot()))
    p = plan(w, "she walks out to the harbour")
    assert p.shot.characters == ("Mira",)
    assert SceneChanged(location="Harbour") in p.events


def test_everyone_means_the_recent_group() -> None:
    w = make_world("Mira", "Tom", "Zed")
    _, w = step(w, "Mira raises her mug")
    assert set(plan(w, "everyone laughs").shot.characters) == {"Mira", "Tom", "Zed"}


def test_everyone_leaves_out_who_left() -> None:
    w = make_world("Mira", "Tom", "Zed")
    _, w = step(w, "Zed leaves")
    assert set(plan(w, "everyone laughs").shot.characters) == {"Mira", "Tom"}


def test_group_leaving() -> None:
    w = make_world("Mira", "Tom", "Zed")
    assert plan(w, "Mira and Tom leave").shot.characters == ("Zed",)


# ---------------------------------------------------------------- camera


@pytest.mark.parametrize("text, camera", [
    ("close-up of Mira", "close-up"),
    ("extreme close-up, Mira blinks", "extreme close-up"),
    ("medium shot, Mira talks", "medium shot"),
    ("wide shot of the forest", "wide shot"),
    ("establishing shot of the forest", "establishing shot"),
    ("full body shot of Mira", "full body shot"),
    ("Mira seen from behind", "view from behind"),
    ("over the shoulder, Mira reads", "over the shoulder shot"),
    ("profile view of Mira", "profile view"),
    ("side view of Mira", "side view"),
    ("front view of Mira", "front view"),
    ("low angle shot of Tom", "low angle shot"),
    ("high angle, Tom looks up", "high angle shot"),
    ("bird's-eye view of the forest", "bird's-eye view"),
    ("point of view shot, a door opens", "point of view shot"),
])
def test_camera_words(text: str, camera: str) -> None:
    assert plan(make_world("Mira"), text).shot.camera == camera


def test_putting_on_keeps_the_words_in_the_action() -> None:
    assert plan(make_world("Mira"), "Mira puts on a red hood").shot.action == "Mira puts on a red hood"


def test_camera_words_leave_the_action() -> None:
    assert plan(make_world("Mira"), "close-up of Mira smiling").shot.action == "Mira smiling"


def test_camera_resets_to_default() -> None:
    w = make_world("Mira", camera="close-up")
    assert plan(w, "Mira smiles").shot.camera is None


def test_same_angle_keeps_the_camera() -> None:
    w = make_world("Mira", camera="low angle shot")
    p = plan(w, "same angle, Mira smiles")
    assert p.shot.camera == "low angle shot"
    assert p.shot.action == "Mira smiles"


def test_light_from_behind_is_not_a_camera() -> None:
    p = plan(make_world("Mira"), "light from behind, Mira waits")
    assert p.shot.camera is None
    assert after(make_world("Mira"), p).scene.light_from == "behind"


# ---------------------------------------------------------------- the action, events, notes


def test_unknown_words_stay_in_the_action() -> None:
    assert plan(make_world("Mira"), "Mira juggles three glowing quinces").shot.action == \
        "Mira juggles three glowing quinces"


def test_plan_never_draws_a_panel() -> None:
    p = plan(make_world("Mira"), "Mira walks into a smoky tavern at dusk, a lantern on the table")
    assert not any(isinstance(e, PanelDrawn) for e in p.events)


def test_events_round_trip_through_fold_and_json() -> None:
    records = [Record(i, i, "u", e) for i, e in enumerate(base_events())]
    w = fold("w", records)
    w = draw(w, Shot(characters=("Mira",)))
    texts = ["Mira walks into a smoky tavern at dusk", "a lantern on the table", "Mira takes the lantern",
             "Mira dyes her hair blue and puts on a red hood", "it starts to rain"]
    events: list[Event] = []
    direct = w
    for text in texts:
        p = plan(direct, text)
        events += p.events
        direct = draw(after(direct, p), p.shot)
    replayed = [event_from_json(event_to_json(e)) for e in events]
    assert replayed == events
    folded = fold("w", [*records, *(Record(100 + i, 100 + i, "u", e) for i, e in enumerate(replayed))])
    assert folded.characters == direct.characters
    assert folded.locations == direct.locations
    assert folded.scene == direct.scene


def test_notes_say_what_was_understood() -> None:
    p = plan(make_world("Mira"), "at dusk Mira takes off her scarf")
    assert "time of day → dusk (from “dusk”)" in p.notes
    assert "Mira takes off: a blue scarf" in p.notes


def test_props_changed_names_the_location() -> None:
    p = plan(make_world("Mira"), "a lantern on the table")
    assert PropsChanged(location="Forest", added=("a lantern on the table",)) in p.events


def test_empty_text() -> None:
    p = plan(make_world("Mira"), "")
    assert p.events == () and p.shot.characters == ("Mira",) and p.shot.action == ""




# ---------------------------------------------------------------- more of the language


def test_subject_dropped_from_the_action_when_all_its_clauses_became_state() -> None:
    p = plan(make_world("Mira"), "at dusk Mira takes off her scarf and dyes her hair blue, the rain stops")
    assert p.shot.action == "at dusk, the rain stops"


def test_next_clause_with_its_own_subject() -> None:
    p = plan(make_world("Mira", "Tom"), "she takes off her scarf, then she smiles at Tom")
    assert p.shot.action == "she smiles at Tom"


def test_commas_around_a_state_clause() -> None:
    assert plan(make_world("Tom"), "Tom, removing his jacket, waves").shot.action == "Tom waves"


def test_additive_changes_keep_their_words_in_the_action() -> None:
    w = make_world("Ember")
    p = plan(w, "Ember soaring through a glowing sky, holding a lantern")
    assert p.shot.action == "Ember soaring through a glowing sky, holding a lantern"
    assert "a lantern" in traits(after(w, p), "Ember")


def test_action_is_verbatim_when_nothing_leaves_it() -> None:
    assert plan(make_world("Mira"), "Mira has someone to play with").shot.action == \
        "Mira has someone to play with"


def test_unknown_gender_takes_he_or_she_when_named() -> None:
    w = make_world()
    p = plan(w, "Captain Rook loses his eyepatch")
    assert p.shot.characters == ("Captain Rook",)
    assert "an eyepatch" not in traits(after(w, p), "Captain Rook")


def test_index_follows_renames_and_new_aliases() -> None:
    w = make_world("Mira")
    w = after(w, Plan(events=(reg("Tom", TOM, aliases=("Tommy",)),), shot=Shot()))
    assert plan(w, "Tommy laughs").shot.characters == ("Tom",)


def test_they_after_a_close_up_means_the_recent_group() -> None:
    w = make_world("Mira", "Tom")
    w = draw(w, Shot(camera="close-up", characters=("Tom",)))
    assert set(plan(w, "they walk on").shot.characters) == {"Mira", "Tom"}


def test_words_without_a_subject_are_about_a_small_cast() -> None:
    w = make_world("Mira", "Tom")
    framed = plan(w, "soaring through a glowing sky", PlanOptions(carry_characters=False)).shot.characters
    assert set(framed) == {"Mira", "Tom"}
    assert plan(w, "an empty bench at dawn", PlanOptions(carry_characters=False)).shot.characters == ()


def test_an_object_pronoun_means_someone_other_than_the_subject() -> None:
    w = make_world("Tom", "Zed")
    assert set(plan(w, "Zed grabs him").shot.characters) == {"Zed", "Tom"}
    w = make_world("Mira", "Tom")
    assert set(plan(w, "Tom hugs her tight").shot.characters) == {"Tom", "Mira"}
    assert plan(w, "Tom takes her scarf").shot.characters == ("Tom", "Mira")  # possessive "her": still Mira


@pytest.mark.parametrize("text", ["everyone freezes", "all three of them look at the sea", "the trio laughs",
                                  "they all sit down"])
def test_group_words_bring_back_everyone_recently_present(text: str) -> None:
    w = make_world("Mira", "Tom", "Zed")
    w = draw(w, Shot(characters=("Mira",), action="close-up"))
    w = draw(w, Shot(characters=("Tom",), action="nods"))
    assert set(plan(w, text).shot.characters) == {"Mira", "Tom", "Zed"}


def test_a_creature_answers_to_its_kind() -> None:

    corgi = "a fluffy corgi with a red collar"
    w = CharacterRegistered(name="Biscuit", description=corgi, traits=parse_description(corgi),
                            pronoun="it").apply(make_world("Mira"))
    assert set(plan(w, "Mira dries the dog with a towel").shot.characters) == {"Mira", "Biscuit"}


def test_chat_filler_leaves_the_action_but_words_stay() -> None:
    w = make_world("Mira", "Tom")
    assert plan(w, "lol Tom runs to the car!! haha").shot.action == "Tom runs to the car!"
    assert plan(w, "Mira waits... then runs").shot.action == "Mira waits... then runs"
