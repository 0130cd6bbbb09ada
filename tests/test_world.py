"""The pure world model: the fold, undo groups, and the JSON form of events."""

from __future__ import annotations

import pytest

from engine.errors import WorldError
from engine.events import (
    AppearanceChanged,
    CharacterRegistered,
    LocationSet,
    PanelDrawn,
    PanelRerolled,
    PropsChanged,
    Record,
    SceneChanged,
    StyleSet,
    Undone,
    WorldCreated,
    event_from_json,
    event_to_json,
    fold,
    last_undoable,
)
from engine.world import ImageRef, Panel, Shot, Trait, panel_seed


def records(*groups: list) -> list[Record]:
    out, seq = [], 0
    for g, events in enumerate(groups, start=1):
        for ev in events:
            seq += 1
            out.append(Record(seq=seq, group=g, author=f"user{g}", event=ev))
    return out


def panel(i: int, chars: tuple[str, ...] = ("Mira",)) -> Panel:
    return Panel(index=i, parent=i - 1 or None, command=f"/continue {i}", author="a", shot=Shot(None, chars, "walks"),
                 prompt="p", negative_prompt="", seed=i, width=64, height=64, steps=2)


MIRA = CharacterRegistered(name="Mira", description="a girl, short red hair",
                           traits=(Trait("base", "a girl"), Trait("hair", "short red hair")), pronoun="she")


def test_fold_builds_characters_scene_and_panels() -> None:
    w = fold("w", records([WorldCreated(title="T", seed=3)], [MIRA],
                          [LocationSet(name="Tavern", description="a smoky tavern")],
                          [SceneChanged(location="Tavern", time_of_day="night")], [PanelDrawn(panel(1))]))
    assert w.title == "T" and w.seed == 3
    assert [t.text for t in w.character("mira").traits] == ["a girl", "short red hair"]
    assert w.scene.location == "Tavern" and w.scene.time_of_day == "night"
    assert w.location("tavern").description == "a smoky tavern"
    assert [p.index for p in w.panels] == [1] and w.next_panel_index == 2
    assert w.version == 5


def test_scene_changes_only_named_fields_and_empty_clears() -> None:
    w = fold("w", records([SceneChanged(time_of_day="dusk", weather="rain")], [SceneChanged(lighting="neon")],
                          [SceneChanged(weather="")]))
    assert (w.scene.time_of_day, w.scene.lighting, w.scene.weather) == ("dusk", "neon", None)


def test_appearance_change_replaces_removes_and_adds_in_place() -> None:
    change = AppearanceChanged(name="Mira", changes=(("short red hair", Trait("hair", "short blue hair")),
                                                     (None, Trait("wearing", "a red hood"))))
    w = fold("w", records([MIRA], [change]))
    assert [t.text for t in w.character("Mira").traits] == ["a girl", "short blue hair", "a red hood"]
    assert w.character("Mira").appearance()["wearing"] == ["a red hood"]
    w2 = fold("w", records([MIRA], [change], [AppearanceChanged(name="Mira", changes=(("a red hood", None),))]))
    assert [t.text for t in w2.character("Mira").traits] == ["a girl", "short blue hair"]


def test_undo_skips_the_whole_group_and_last_undoable_moves_back() -> None:
    recs = records([WorldCreated()], [MIRA], [SceneChanged(time_of_day="dusk"), PanelDrawn(panel(1))])
    assert [r.group for r in last_undoable(recs)] == [3, 3]
    recs.append(Record(seq=5, group=4, author="x", event=Undone(group=3)))
    w = fold("w", recs)
    assert w.panels == () and w.scene.time_of_day is None and w.find_character("Mira") is not None
    assert [r.group for r in last_undoable(recs)] == [2]


def test_creation_is_never_undoable() -> None:
    assert last_undoable(records([WorldCreated()])) == []


def test_reroll_bumps_take_and_seed() -> None:
    w = fold("w", records([PanelDrawn(panel(1))], [PanelRerolled(index=1, seed=99)]))
    assert (w.panels[0].seed, w.panels[0].take) == (99, 1)


def test_props_stay_with_their_location() -> None:
    w = fold("w", records([LocationSet(name="Tavern")], [PropsChanged(location="Tavern", added=("a lantern",))],
                          [LocationSet(name="Pier")], [PropsChanged(location="Tavern", removed=("a lantern",),
                                                                    added=("a mug",))]))
    assert w.location("Tavern").props == ("a mug",) and w.location("Pier").props == ()


@pytest.mark.parametrize("event", [
    MIRA, WorldCreated(title="Ü 🐉", seed=5), StyleSet(prefix="ink", reference=ImageRef("ab" * 32, 40)),
    AppearanceChanged(name="Mira", changes=(("x", None), (None, Trait("marks", "a scar")))),
    PanelDrawn(panel(2, ("Mira", "Tom"))), SceneChanged(light_from="left"), Undone(group=3, summary="s"),
    PropsChanged(location="Tavern", added=("a lantern",)),
])
def test_events_round_trip_through_json(event: object) -> None:
    assert event_from_json(event_to_json(event)) == event


@pytest.mark.parametrize("bad", [{"kind": "nope"}, {"kind": "panel_drawn", "panel": {"index": 1}}, [],
                                 {"kind": "props_changed", "added": [1, 2]}, {"kind": "character_registered",
                                                                              "traits": [{"slot": 1}]}])
def test_malformed_events_raise_world_error(bad: object) -> None:
    with pytest.raises(WorldError):
        event_from_json(bad)  # type: ignore[arg-type]


def test_panel_seed_is_deterministic_and_spread() -> None:
    seeds = {panel_seed(7, i) for i in range(1, 200)}
    assert len(seeds) == 199 and panel_seed(7, 3) == panel_seed(7, 3) != panel_seed(7, 3, take=1)


@pytest.mark.parametrize("bad", [{"kind": "world_created", "title": 5}, {"kind": "scene_changed", "weather": ["x"]},
                                 {"kind": "undone", "group": "3"}, {"kind": "location_set", "name": None}])
def test_event_fields_of_the_wrong_type_are_refused(bad: dict) -> None:
    with pytest.raises(WorldError):
        event_from_json(bad)
