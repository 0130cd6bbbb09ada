"""The one who acts holds the prop; close-ups are one face filling the frame, showing the action's expression."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import ImageChops

from engine.renderers.storyboard.acting import actors, expression, held
from tests.sketch_support import family, median, pixels, render

MIRA: dict[str, Any] = {"name": "Mira", "description": "a young woman with short red hair, wearing a grey coat",
                        "appearance": {"hair": "short red hair", "wearing": ["a grey coat"],
                                       "carrying": ["a lantern"]}}
TOM: dict[str, Any] = {"name": "Tom", "aliases": ["old Tom"],
                       "description": "an old fisherman with a white beard, wearing a yellow raincoat"}


def test_the_character_who_acts_holds_the_prop() -> None:
    img, parts = render({"characters": [MIRA, TOM], "action": "Tom lights the lantern", "camera": "full body"})
    assert "Tom.held.lantern" in parts and "Mira.held.lantern" not in parts
    assert "yellow" in family(median(img, parts["Tom.held.lantern"]))
    _, parts = render({"characters": [MIRA, TOM], "action": "old Tom raises the lantern"})
    assert "Tom.held.lantern" in parts  # an alias names the actor too
    _, parts = render({"characters": [TOM, MIRA], "action": "Tom hands her a lantern"})
    assert "Mira.held.lantern" in parts and "Tom.held.lantern" not in parts  # handing it on is not holding it


def test_who_acts_and_what_they_hold() -> None:
    names = [["Mira"], ["Tom", "old Tom"]]
    assert actors("Tom lights the lantern", names) == [1]
    assert actors("she smiles at Tom", names) == [0]
    assert actors("Mira's eyes widen", names) == [0]
    assert actors("they walk into the tavern", names) == [0, 1]
    assert held("Tom lights the lantern") == ["lantern"]
    assert held("Tom puts down the sword") == []
    assert expression("Mira's eyes widen as the storm hits") == "surprise"
    assert expression("she smiles at Tom") == "smile"
    assert expression("Tom scowls") == "frown"
    assert expression("he cries out") == "shout"
    assert expression("she weeps") == "cry"
    assert expression("they walk on") == ""


MOODS = {"smile": "Mira smiles", "frown": "Mira frowns", "shout": "Mira shouts", "cry": "Mira cries",
         "surprise": "Mira's eyes widen", "": "Mira waits"}


def face(action: str) -> tuple[Any, dict[str, Any]]:
    return render({"characters": [MIRA, TOM], "action": action, "camera": "close-up", "location": "Studio"})


def test_close_ups_show_the_expression_in_the_text() -> None:
    shots = {mood: face(action) for mood, action in MOODS.items()}
    mouths = {}
    for mood, (img, parts) in shots.items():
        x0, y0, x1, y1 = parts["Mira.mouth"]
        pad = (x1 - x0) * 2
        mouths[mood] = img.crop((x0 - pad, y0 - pad, x1 + pad, y1 + pad))
    moods = list(mouths)
    for i, a in enumerate(moods):  # every expression draws a different mouth
        for b in moods[i + 1:]:
            diff = ImageChops.difference(mouths[a], mouths[b]).convert("L").point(lambda v: 255 if v > 40 else 0)
            if {a, b} != {"frown", "cry"}:  # a crying mouth is a frown; the tears tell them apart
                assert sum(diff.histogram()[255:]) > 30, (a, b)

    def dark(mood: str) -> int:
        return sum(1 for p in pixels(mouths[mood]) if sum(p) < 200)

    assert dark("shout") > dark("") * 2  # an open mouth
    img, parts = shots["cry"]
    assert "Mira.tears" in parts and "blue" in family(median(img, parts["Mira.tears"]))
    assert "Mira.tears" not in shots[""][1]

    def white(mood: str) -> int:
        img, parts = shots[mood]
        x0, y0, x1, _ = parts["Mira.skin"]
        r = (x1 - x0) * 8
        eyes = img.crop((x0, y0 - r, x0 + r * 1.6, y0))
        return sum(1 for p in pixels(eyes) if min(p) > 235)

    assert white("surprise") > white("") * 1.5  # wide eyes


@pytest.mark.parametrize(("action", "who", "other"), [("Mira smiles at Tom", "Mira", "Tom"),
                                                     ("Tom frowns at Mira", "Tom", "Mira")])
def test_a_close_up_is_one_face_filling_the_frame(action: str, who: str, other: str) -> None:
    img, parts = face(action)
    assert f"{who}.skin" in parts and f"{other}.skin" not in parts
    wide, _ = render({"characters": [MIRA, TOM], "action": action, "camera": "wide shot", "location": "Studio"})
    skin = median(img, parts[f"{who}.skin"])

    def area(im: Any) -> int:
        scene = im.crop((0, 0, im.width, im.height * 3 // 4))
        return sum(1 for p in pixels(scene) if sum(abs(a - b) for a, b in zip(p, skin, strict=True)) < 30)

    assert area(img) > area(wide) * 20  # the face is many times larger than in a wide shot
    empty, _ = render({"characters": [], "camera": "close-up", "location": "Studio"})
    scene = (0, 40, img.width, img.height * 3 // 4)
    covered = ImageChops.difference(img.crop(scene), empty.crop(scene)).convert("L").point(lambda v: v > 20 and 255)
    assert sum(covered.histogram()[255:]) > covered.width * covered.height * 0.2  # one head fills the frame
