"""Places are drawn from their words; weather only outdoors; no sun in fog or at night."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import ImageChops, ImageStat

from engine.renderers.storyboard.places import classify
from tests.sketch_support import family, median, pixels, render

# name, description, {part: colour family} that makes the place recognisable.
PLACES: list[tuple[str, str, dict[str, str]]] = [
    ("Harbour", "a windy stone harbour with fishing boats", {"water": "blue", "pier": "brown", "boat": "red"}),
    ("Red Canyon", "a deep canyon", {"rock": "rust"}),
    ("The Tavern", "a smoky tavern", {"bar": "brown"}),
    ("Kitchen", "a warm kitchen", {"tiles": "sand", "stove": "black"}),
    ("Lab", "a chemistry laboratory", {"flask": "green", "bench": "grey"}),
    ("Old Wood", "a dark forest", {"tree": "green"}),
    ("Dunes", "a hot desert", {"sand": "sand", "cactus": "green"}),
    ("The Peak", "a snowy mountain", {"snow": "white"}),
    ("Main Street", "a busy city street", {"road": "grey", "lamp": "yellow"}),
    ("The Deck", "the ship's deck", {"deck": "brown", "mast": "brown", "sail": "white", "water": "blue"}),
    ("Beach", "a sandy beach", {"sand": "sand", "water": "blue"}),
    ("Orbit", "deep space among the stars", {"sky": "black", "planet": "orange"}),
]


@pytest.mark.parametrize(("name", "desc", "expect"), PLACES, ids=[p[0] for p in PLACES])
def test_places_are_drawn_from_their_words(name: str, desc: str, expect: dict[str, str]) -> None:
    img, parts = render({"location": name, "location_description": desc, "time_of_day": "noon"})
    for part, colour in expect.items():
        assert f"place.{part}" in parts, f"{name}: no {part}"
        got = median(img, parts[f"place.{part}"])
        assert colour in family(got), f"{name}: {part} is {got}"


def test_each_place_kind_has_its_own_backdrop() -> None:
    imgs = [render({"location": n, "location_description": d})[0] for n, d, _ in PLACES]
    for i, a in enumerate(imgs):
        for j in range(i + 1, len(imgs)):
            diff = ImageStat.Stat(ImageChops.difference(a, imgs[j]).convert("L")).mean[0]
            assert diff > 12, (PLACES[i][0], PLACES[j][0], diff)


def test_a_library_has_shelves_of_many_coloured_books() -> None:
    img, parts = render({"location": "Library", "location_description": "a quiet library"})
    shelf = img.crop(parts["place.books"]).quantize(64)
    assert sum(1 for n, _ in shelf.getcolors() or [] if n > 30) >= 12


def test_unknown_places_get_a_neutral_backdrop_with_their_name() -> None:
    img, parts = render({"location": "The Zorblax Nexus", "location_description": "a strange place"})
    assert classify("The Zorblax Nexus", "a strange place").kind == "unknown"
    assert not {"place.water", "place.sand", "place.sun", "place.tree"} & set(parts)
    wall = median(img, parts["place.wall"])
    assert {"grey", "white"} & family(wall)
    name = img.crop(parts["place.name"]).convert("L")
    assert sum(1 for v in pixels(name) if v < sum(wall) / 3 - 40) > 100  # the name is written there
    assert render({"location": "Zzyzx", "location_description": ""})[1].get("place.name")


def test_classify_reads_words_and_weights_the_name() -> None:
    assert classify("Harbour", "a windy stone harbour with fishing boats").kind == "harbour"
    assert classify("The Deck", "the ship's deck").kind == "ship"
    assert classify("Summit", "a snowy mountain peak").snowy
    assert classify("Bar", "").interior and classify("Bar", "").kind == "tavern"
    assert classify("Barn", "").kind == "room"  # words, not letters: a barn is not a bar
    assert classify("", "").kind == "unknown"


def sun_pixels(board: dict[str, Any]) -> int:
    img, _ = render(board)
    sky = img.crop((0, 0, img.width, img.height // 3))
    return sum(1 for r, g, b in pixels(sky) if r > 240 and g > 225 and 170 < b < 225)


def test_no_sun_in_fog_rain_or_at_night() -> None:
    base = {"location": "Meadow", "location_description": "a green meadow"}
    assert sun_pixels({**base, "time_of_day": "noon"}) > 50
    assert render({**base, "time_of_day": "noon"})[1].get("place.sun")
    for extra in ({"time_of_day": "noon", "weather": "fog"}, {"time_of_day": "night"},
                  {"time_of_day": "noon", "weather": "heavy rain"}, {"time_of_day": "morning", "weather": "misty"}):
        assert "place.sun" not in render({**base, **extra})[1], extra
        assert sun_pixels({**base, **extra}) == 0, extra


def test_weather_is_drawn_only_outdoors() -> None:
    inside = {"location": "Tavern", "location_description": "a smoky tavern", "time_of_day": "noon"}
    dry, _ = render(inside)
    wet, _ = render({**inside, "weather": "storm"})
    diff = ImageChops.difference(dry, wet).convert("L").point(lambda v: 255 if v > 10 else 0)
    box = diff.crop((0, 40, dry.width, dry.height)).getbbox()  # below the corner label, which names the weather
    assert box is not None  # it shows through the window ...
    x0, y0, x1, y1 = box
    assert (x1 - x0) * (y1 - y0) < dry.width * dry.height * 0.1  # ... and nowhere else
    outside = {"location": "Meadow", "location_description": "a meadow", "time_of_day": "noon"}
    dry, _ = render(outside)
    wet, _ = render({**outside, "weather": "rain"})
    spread = ImageChops.difference(dry, wet).convert("L").point(lambda v: 255 if v > 10 else 0)
    assert sum(spread.histogram()[255:]) > dry.width * dry.height * 0.005
    x0, y0, x1, y1 = spread.getbbox() or (0, 0, 0, 0)
    assert (x1 - x0) * (y1 - y0) > dry.width * dry.height * 0.6  # rain falls all over the frame
    space = {"location": "Orbit", "location_description": "outer space"}
    below_label = (0, 40, 768, 512)
    dry_space, wet_space = render(space)[0], render({**space, "weather": "rain"})[0]
    assert dry_space.crop(below_label).tobytes() == wet_space.crop(below_label).tobytes()
