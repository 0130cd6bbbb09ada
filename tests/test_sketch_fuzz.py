"""Property tests of the sketch renderer: any board and any size give a PNG of that size, never an error."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from engine.jobs import RenderJob
from engine.renderers.storyboard.acting import EXPRESSIONS, HOLDABLE
from engine.renderers.storyboard.figures import HATS
from engine.renderers.storyboard.items import HELD
from engine.renderers.storyboard.kinds import ANIMALS, BIRDS, DRAGONS, FLOWERS, OBJECTS, OLD_WORDS, ROBOTS
from engine.renderers.storyboard.light import TIMES
from engine.renderers.storyboard.palette import COLOURS, HAIR, LEG_WORDS, SKIN, TORSO_WORDS
from engine.renderers.storyboard.places import EXTERIORS, INTERIORS, SNOWY
from engine.renderers.storyboard.renderer import (
    ALIASES,
    CAMERAS,
    render_panel,
    storyboard_sheet,
)
from engine.renderers.storyboard.scenes import PROP_ICONS
from engine.renderers.storyboard.sheet import SHEET_PAD, SHEET_THUMB_W, SHEET_TITLE_H, sheet_grid

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=SLOW_OK)
# A sheet is a big PNG (up to ten 360 px thumbnails) whose encoding dominates: fewer examples keep it quick.
SHEET_FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)

# Words the renderer reacts to, so random phrases reach the interesting branches.
CAMERA_WORDS = [*CAMERAS, *ALIASES, "pov", "point of view", "profile", "from behind", "close-up", "dutch angle"]
TIME_WORDS = [*TIMES, "sunrise", "midday", "day", "late at night", "twilight"]
WEATHER_WORDS = ["rain", "snow", "fog", "storm", "mist", "drizzle", "blizzard", "clear", "thunderstorm"]
LIGHT_WORDS = ["candlelight", "fire", "torch", "neon", "moonlight", "sunlight", "daylight", "golden",
               "spotlight", "dramatic", "rim light", "magic glow", "bioluminescent", "overcast", "gloom"]
LIGHT_FROM = ["left", "right", "above", "behind", "front", "below", "LEFT", "nowhere", ""]
PLACE_WORDS = [w for table in (INTERIORS, EXTERIORS) for keys in table.values() for w in keys] + [
    "table", "lighthouse", "ship's", *SNOWY]
LOOK_WORDS = [*COLOURS, *HAIR, *SKIN, *TORSO_WORDS, *LEG_WORDS, *HATS, *HELD, "dark", "light", "pale", "long",
              "short", "curly", "bald", "ponytail", "braid", "beard", "scar", "glasses", "scarf", "cloak", "robot",
              "tall", "child", "stocky", "slim", "hair", "eyes", "skin", "with", "and", "wearing", ",",
              *ANIMALS, *BIRDS, *DRAGONS, *ROBOTS, *FLOWERS, *OBJECTS, *OLD_WORDS, "beard", "white beard"]
POSE_WORDS = ["raises", "waves", "points", "runs", "walks", "jumps", "sits", "looks", "at", "the", "door",
              "Mira", "Tom", "she", "they", "hands", "lights", *HOLDABLE, *EXPRESSIONS]
NASTY = ["", " ", "\x00", "\n\t\r", "\u200b\u200d", "\ud800", "a\udfffb", "\U000e0001", "👩‍👩‍👧‍👦🎉🔥",
         "مرحبا بالعالم", "日本語のテキスト", "Zalgo z̷̢͎͑a̸̛͚l̵̰̓g̴̞̈́o̶̪͝", "…—“”‘’·", "e\u0301" * 50, "W" * 300,
         "a-b-c", "'''", "\ufeff", "🏳️‍🌈" * 8]

# Strategies are built once, at import, not inside draws: building them per draw doubled the run time.
Strategy = st.SearchStrategy[Any]
chars = st.characters(exclude_categories=[])  # every code point, lone surrogates included
junk_text = st.one_of(st.text(chars, max_size=40), st.sampled_from(NASTY))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.binary(max_size=8), junk_text)
PERCENT = st.integers(0, 99)
UP_TO = [st.integers(0, n) for n in range(11)]
SEPARATORS = st.sampled_from([" ", " ", ", ", "-", ""])


def chance(draw: st.DrawFn, percent: int) -> bool:
    """True about percent % of the time (one_of would flatten nested choices and skew the mix)."""
    return draw(PERCENT) < percent


def phrase(vocab: list[str]) -> st.SearchStrategy[str]:
    """A few known words (and the odd random one) joined by spaces or punctuation."""
    known = st.sampled_from(vocab)

    @st.composite
    def draw_phrase(draw: st.DrawFn) -> str:
        ws = [draw(junk_text) if chance(draw, 15) else draw(known) for _ in range(draw(UP_TO[5]))]
        return draw(SEPARATORS).join(ws)

    return draw_phrase()


def value(vocab: list[str]) -> Strategy:
    """A board value: mostly a phrase, sometimes None, junk or of the wrong type."""
    words = phrase(vocab)
    listed = st.lists(st.one_of(words, scalars), max_size=3)
    mapped = st.dictionaries(junk_text, scalars, max_size=2)

    @st.composite
    def draw_value(draw: st.DrawFn) -> Any:
        k = draw(UP_TO[9])
        return draw(words if k < 6 else scalars if k < 8 else listed if k == 8 else mapped)

    return draw_value()


def word_list(vocab: list[str], size: int) -> Strategy:
    """A board list (props, wearing, ...): usually phrases, at times a lone value or junk."""
    words, odd = phrase(vocab), value(vocab)

    @st.composite
    def draw_list(draw: st.DrawFn) -> Any:
        if chance(draw, 25):
            return draw(odd)
        return [draw(words if chance(draw, 85) else odd) for _ in range(draw(UP_TO[size]))]

    return draw_list()


def some_keys(fields: dict[str, Strategy], percent: int) -> st.SearchStrategy[dict[str, Any]]:
    """A dict holding each of fields' keys about percent % of the time."""

    @st.composite
    def draw_dict(draw: st.DrawFn) -> dict[str, Any]:
        return {k: draw(s) for k, s in fields.items() if chance(draw, percent)}

    return draw_dict()


LOOK = value(LOOK_WORDS)
APPEARANCE = some_keys({"hair": LOOK, "eyes": LOOK, "skin": LOOK, "base": LOOK, "build": LOOK,
                        "wearing": word_list(LOOK_WORDS, 5), "carrying": word_list(LOOK_WORDS, 4),
                        "marks": word_list(LOOK_WORDS, 3), "other": word_list(LOOK_WORDS, 3)}, 50)
CHARACTER = some_keys({"name": value(["Mira", "Tom", "Ada", "Dr. Ö"]), "description": LOOK,
                       "appearance": st.one_of(APPEARANCE, LOOK), "aliases": word_list(["old Tom", "Mi"], 3),
                       "outfit_colour": st.one_of(st.lists(st.integers(-5, 300), max_size=4), scalars)}, 80)


@st.composite
def characters(draw: st.DrawFn) -> Any:
    """0-6 characters, mostly dicts with an appearance dict; at times a wrong-typed value."""
    if chance(draw, 10):
        return draw(LOOK)
    return [draw(CHARACTER if chance(draw, 90) else LOOK) for _ in range(draw(UP_TO[6]))]


BOARD = some_keys({
    "panel": value(["1", "2b", "intro"]), "caption": value(POSE_WORDS), "action": value(POSE_WORDS),
    "camera": st.one_of(st.sampled_from(CAMERA_WORDS), value(CAMERA_WORDS)),
    "location": value(PLACE_WORDS), "location_description": value(PLACE_WORDS),
    "props": word_list([*PROP_ICONS, *COLOURS, "on", "the", "table", "desk"], 10),
    "time_of_day": value(TIME_WORDS), "lighting": value(LIGHT_WORDS),
    "light_from": st.one_of(st.sampled_from(LIGHT_FROM), value(LIGHT_FROM)),
    "weather": value(WEATHER_WORDS), "characters": characters(),
}, 75)
NOT_A_BOARD = value(PLACE_WORDS)


@st.composite
def boards(draw: st.DrawFn) -> Any:
    """A board dict with any of its keys missing, or now and then not a dict at all."""
    return draw(BOARD if chance(draw, 95) else NOT_A_BOARD)
sizes = st.integers(min_value=-8, max_value=1200)  # a few below the 16 px floor check the clamping


def clamp(v: int) -> int:
    """The size the renderer promises for a requested one."""
    return max(16, min(v, 4096))


@FUZZ
@given(board=boards(), width=sizes, height=sizes, seed=st.integers(0, 2**63 - 1), panel=st.integers(-5, 10**6))
def test_any_board_renders_a_png_of_the_requested_size(board: Any, width: int, height: int, seed: int,
                                                        panel: int) -> None:
    """render_panel never raises and always gives an RGB PNG of the clamped size."""
    job = RenderJob(job_id="fuzz", world_id="w", panel=panel, user="u", prompt="p", negative_prompt="", seed=seed,
                    width=width, height=height, steps=1, board=board)
    png = render_panel(job)
    assert png.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG"
        assert im.mode == "RGB"
        assert im.size == (clamp(width), clamp(height))


@st.composite
def panel_bytes(draw: st.DrawFn) -> bytes:
    """A sheet entry: a small image in some mode and format, or bytes that are no image at all."""
    kind = draw(st.sampled_from(["png", "png", "jpeg", "junk"]))
    if kind == "junk":
        return draw(st.one_of(st.binary(max_size=64), st.just(PNG_MAGIC), st.just(PNG_MAGIC + b"\x00" * 40)))
    mode = "RGB" if kind == "jpeg" else draw(st.sampled_from(["RGB", "RGBA", "L", "LA", "P", "1", "I;16"]))
    side = st.integers(1, 700) if chance(draw, 20) else st.integers(1, 120)  # now and then a big or odd one
    size = (draw(side), draw(side))
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, "JPEG" if kind == "jpeg" else "PNG")
    return buf.getvalue()


caption_value = st.one_of(phrase(POSE_WORDS), junk_text, st.none(), st.integers(), st.lists(junk_text, max_size=2))


@SHEET_FUZZ
@given(panels=st.lists(st.tuples(panel_bytes(), caption_value), max_size=10),
       title=st.one_of(junk_text, phrase(PLACE_WORDS), st.none(), st.integers()), columns=st.integers(-3, 14))
def test_any_sheet_renders(panels: list[tuple[bytes, Any]], title: Any, columns: int) -> None:
    """storyboard_sheet never raises, whatever the panels (broken ones too), captions, title and columns."""
    png = storyboard_sheet(panels, title, columns)
    assert png.startswith(PNG_MAGIC)
    cols, rows = sheet_grid(len(panels), columns)
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG"
        assert im.width == SHEET_PAD + cols * (SHEET_THUMB_W + SHEET_PAD)
        assert im.height > SHEET_TITLE_H + SHEET_PAD * (rows + 1)


@pytest.mark.parametrize("board", [
    {"location": "\ud800 tavern", "caption": "a\udfffb"},  # lone surrogates (valid JSON) broke the place hash
    {"characters": [{"name": "\ud83d", "description": "tall \udc00"}], "props": ["\ud800 mug"]},
    {"caption": 10**5000, "characters": [{"name": 10**5000}]},  # str() refuses ints this long
], ids=["surrogate-place", "surrogate-character", "huge-int"])
def test_crashes_found_by_fuzzing_stay_fixed(board: dict[str, Any]) -> None:
    """Boards that used to raise now render."""
    job = RenderJob(job_id="f", world_id="w", panel=1, user="u", prompt="p", negative_prompt="", seed=1,
                    width=200, height=150, steps=1, board=board)
    with Image.open(io.BytesIO(render_panel(job))) as im:
        assert im.size == (200, 150)
