"""Pixel read-back: every part the words name is drawn, in the colour they name; kinds and age show."""

from __future__ import annotations

from typing import Any

import pytest

from engine.renderers.storyboard.palette import distance
from tests.sketch_support import family, median, pixels, render

# description, appearance (None: the renderer reads the free text), {part: colour a person would name}.
CAST: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]] = [
    ("Tom", "an old fisherman with a white beard, wearing a yellow raincoat",
     {"base": "an old fisherman", "wearing": ["a yellow raincoat"], "other": ["a white beard"]},
     {"beard": "white", "hair": "silver", "outfit": "yellow"}),
    ("Mira", "a young woman with short red hair, green eyes, wearing a blue scarf and a grey wool coat",
     {"base": "a young woman", "hair": "short red hair", "eyes": "green eyes",
      "wearing": ["a blue scarf", "a grey wool coat"]},
     {"hair": "ginger", "eyes": "green", "scarf": "blue", "outfit": "grey"}),
    ("Ser Ayla", "a knight with silver hair, wearing a black cloak and a red tunic", None,
     {"hair": "silver", "cloak": "black", "outfit": "red"}),
    ("Lina", "a girl with blonde hair, wearing a green dress", None, {"hair": "blonde", "outfit": "green"}),
    ("Rory", "a man with ginger hair and an auburn beard, wearing a purple shirt and black trousers", None,
     {"hair": "ginger", "beard": "auburn", "outfit": "purple", "legs": "black"}),
    ("Vee", "a woman with black hair, wearing a purple hat and an orange jacket", None,
     {"hat": "purple", "outfit": "orange"}),
    ("Gran", "an elderly woman wearing a blue cardigan", None, {"hair": "silver", "outfit": "blue"}),
]


def character(name: str, desc: str, app: dict[str, Any] | None) -> dict[str, Any]:
    return {"name": name, "description": desc, **({"appearance": app} if app else {})}


@pytest.mark.parametrize(("name", "desc", "app", "expect"), CAST, ids=[c[0] for c in CAST])
def test_every_named_part_has_the_named_colour(name: str, desc: str, app: dict[str, Any] | None,
                                                expect: dict[str, str]) -> None:
    ch = character(name, desc, app)
    seen: dict[str, set[str]] = {}
    for camera in ("medium shot", "full body"):  # faces read best up close, legs need the whole figure
        img, parts = render({"characters": [ch], "camera": camera, "location": "Studio"})
        for part in expect:
            key = f"{name}.{part}"
            if key in parts:
                seen.setdefault(part, set()).update(family(median(img, parts[key])))
    missing = [p for p in expect if p not in seen]
    assert not missing, f"{name}: nothing drawn for {missing}"
    wrong = {p: seen[p] for p, colour in expect.items() if colour not in seen[p]}
    assert not wrong, f"{name}: {wrong} instead of {expect}"


def test_a_scarf_is_not_a_scar() -> None:
    _, parts = render({"characters": [character("Ann", "a woman wearing a red scarf", None)], "camera": "close-up"})
    assert "Ann.scarf" in parts and "Ann.scar" not in parts
    img, parts = render({"characters": [character("Bo", "a man with a scar on his cheek", None)],
                         "camera": "close-up"})
    assert "Bo.scar" in parts and "red" in family(median(img, parts["Bo.scar"]))


def test_old_people_look_old() -> None:
    young = character("Sam", "a young man wearing a blue coat", None)
    old = character("Sam", "an old man wearing a blue coat", None)
    img_y, parts_y = render({"characters": [young], "camera": "close-up"})
    img_o, parts_o = render({"characters": [old], "camera": "close-up"})
    assert "Sam.wrinkles" in parts_o and "Sam.wrinkles" not in parts_y
    assert {"grey", "white"} & family(median(img_o, parts_o["Sam.hair"]))
    assert not {"grey", "white"} & family(median(img_y, parts_y["Sam.hair"]))
    lines = img_o.crop(parts_o["Sam.wrinkles"]).convert("L")
    skin = sum(median(img_o, parts_o["Sam.skin"])) / 3
    assert sum(1 for v in pixels(lines) if v < skin * 0.75) > 20  # the lines are there, darker than the skin


KINDS = [
    ("Pip", "a ginger cat with green eyes", {"body": "ginger"}, "wide"),
    ("Rex", "a scruffy brown dog", {"body": "brown"}, "wide"),
    ("Bolt", "a rusty robot", {"body": "rust", "visor": "cyan"}, "tall"),
    ("Ember", "a small green dragon", {"body": "green", "wing": "green"}, "wide"),
    ("Kiwi", "a blue parrot", {"body": "blue", "beak": "orange"}, "any"),
    ("Rosa", "a red rose", {"petals": "red", "stem": "green"}, "tall"),
    ("Glim", "a brass lantern", {"body": "brass"}, "tall"),
]


@pytest.mark.parametrize(("name", "desc", "expect", "shape"), KINDS, ids=[k[0] for k in KINDS])
def test_creatures_and_objects_are_drawn_as_such(name: str, desc: str, expect: dict[str, str], shape: str) -> None:
    board = {"characters": [{"name": name, "description": desc}], "camera": "full body", "location": "Studio"}
    img, parts = render(board)
    empty, _ = render({**board, "characters": []})
    assert f"{name}.skin" not in parts and f"{name}.outfit" not in parts  # not a person
    for part, colour in expect.items():
        assert f"{name}.{part}" in parts, f"no {part}"
        assert colour in family(median(img, parts[f"{name}.{part}"])), (part, median(img, parts[f"{name}.{part}"]))
    box = _changed_box(img, empty)
    w, h = box[2] - box[0], box[3] - box[1]
    if shape == "wide":  # four legs: longer than tall
        assert w > h * 1.1, box
    elif shape == "tall":
        assert h > w, box


def _changed_box(a: Any, b: Any) -> tuple[int, int, int, int]:
    from PIL import ImageChops

    scene_h = a.height * 3 // 4  # leave out the caption strip and the name tag below the feet
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 24 else 0)
    box = diff.crop((0, 0, a.width, scene_h)).getbbox()
    assert box, "nothing drawn"
    return box


def test_characters_without_colour_words_never_share_an_outfit() -> None:
    names = ["Ann", "Bob", "Cyd", "Dee", "Eve", "Fay"]
    chars = [{"name": n, "description": "a person"} for n in names]
    img, parts = render({"characters": chars, "camera": "medium shot", "location": "Studio", "light_from": "front"})
    colours = [median(img, parts[f"{n}.outfit"]) for n in names]
    for i, a in enumerate(colours):
        for b in colours[i + 1:]:
            assert distance(a, b) > 40, colours
    again, parts2 = render({"characters": chars[:1], "camera": "medium shot", "location": "Studio",
                            "light_from": "front"})
    assert distance(median(again, parts2["Ann.outfit"]), colours[0]) < 12  # the name keeps its colour
