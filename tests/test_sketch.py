"""The sketch (storyboard) renderer: deterministic, consistent per character, robust to odd boards."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from engine.errors import RenderCancelled
from engine.jobs import RenderJob
from engine.renderers.storyboard.renderer import (
    SketchRenderer,
    character_colours,
    render_panel,
    storyboard_sheet,
)
from engine.renderers.storyboard.sheet import SHEET_PAD, SHEET_THUMB_W, SHEET_TITLE_H, sheet_grid

MIRA: dict[str, Any] = {
    "name": "Mira",
    "description": "a young woman with short red hair, green eyes, wearing a blue scarf",
    "appearance": {"hair": "short red hair", "eyes": "green eyes", "skin": None, "build": None,
                   "wearing": ["a blue scarf", "a yellow coat"], "carrying": ["a lantern"],
                   "marks": ["a scar on the cheek"]},
}
TOM: dict[str, Any] = {"name": "Tom", "description": "a tall man with long black hair, wearing a green cloak"}


def job(board: Any, width: int = 384, height: int = 256, seed: int = 7, job_id: str = "j1") -> RenderJob:
    return RenderJob(job_id=job_id, world_id="w", panel=3, user="u", prompt="p", negative_prompt="",
                     seed=seed, width=width, height=height, steps=1, board=board)


def board(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"panel": 3, "caption": "she turns around", "camera": "full body",
                            "characters": [MIRA], "action": "turns around", "location": "Tavern",
                            "location_description": "a smoky tavern", "props": ["a mug on the table"]}
    base.update(over)
    return base


def image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def changed_pixels(a: Image.Image, b: Image.Image) -> int:
    """How many pixels differ between two equally sized images."""
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 8 else 0)
    return diff.histogram()[255]


def test_same_job_gives_identical_bytes() -> None:
    b = board(time_of_day="night", weather="rain", lighting="candlelight", light_from="left", characters=[MIRA, TOM])
    assert render_panel(job(b)) == render_panel(job(b))


def test_png_has_the_job_size() -> None:
    for w, h in ((64, 64), (768, 512), (64, 400), (900, 64), (333, 777)):
        assert image(render_panel(job(board(), w, h))).size == (w, h)


def test_characters_and_time_of_day_change_the_image() -> None:
    base = render_panel(job(board()))
    assert render_panel(job(board(characters=[TOM]))) != base
    assert render_panel(job(board(time_of_day="dusk"))) != base


def test_weather_follows_the_seed() -> None:
    b = board(location="Forest", weather="snow")
    assert render_panel(job(b, seed=1)) != render_panel(job(b, seed=2))


def test_character_colours_come_from_words() -> None:
    c = character_colours(MIRA)
    r, g, b = c["hair"]
    assert r > g + 60 and r > b + 60  # short red hair is reddish
    g_r, g_g, g_b = c["eyes"]
    assert g_g > g_r and g_g > g_b
    y_r, y_g, y_b = c["outfit"]
    assert y_r > y_b + 80 and y_g > y_b + 80  # the yellow coat
    s_r, s_g, s_b = c["accent"]
    assert s_b > s_r and s_b > s_g  # the blue scarf
    assert character_colours(dict(MIRA)) == c


def test_description_alone_is_parsed() -> None:
    ada = {"name": "Ada", "description": "an old woman with white hair and blue eyes, wearing a red dress"}
    c = character_colours(ada)
    assert min(c["hair"]) > 200
    assert c["eyes"][2] > c["eyes"][0]
    assert c["outfit"][0] > c["outfit"][1] + 80


def test_unknown_words_give_stable_hashed_colours() -> None:
    zed = {"name": "Zed", "description": "a mysterious stranger"}
    assert character_colours(zed) == character_colours({"name": "Zed", "description": "a mysterious stranger"})
    others = [character_colours({"name": n})["outfit"] for n in ("Ann", "Bob", "Cyd", "Dee", "Eve")]
    assert len(set(others)) > 1
    assert character_colours({}) == character_colours(None)  # odd input still gets colours


def test_same_character_keeps_its_colours_across_panels() -> None:
    first = image(render_panel(job(board(action="turns around", caption="she turns around"))))
    second = image(render_panel(job(board(action="runs away", caption="she runs", props=[]))))
    colours = character_colours(MIRA)
    for img in (first, second):
        present = {c for _, c in img.getcolors(maxcolors=1 << 20) or []}
        assert colours["hair"] in present
        assert colours["outfit"] in present


def test_night_is_darker_than_noon() -> None:
    for location in ("Tavern", "Forest"):
        night = ImageStat.Stat(image(render_panel(job(board(location=location, time_of_day="night")))).convert("L"))
        noon = ImageStat.Stat(image(render_panel(job(board(location=location, time_of_day="noon")))).convert("L"))
        assert night.mean[0] + 30 < noon.mean[0]


def test_close_up_fills_more_of_the_frame_than_a_wide_shot() -> None:
    def figure_area(camera: str) -> int:
        empty = image(render_panel(job(board(camera=camera, characters=[], props=[]))))
        full = image(render_panel(job(board(camera=camera, props=[]))))
        return changed_pixels(empty, full)

    close, wide = figure_area("close-up"), figure_area("wide shot")
    assert close > 3 * wide > 0


def test_from_behind_draws_no_face() -> None:
    front = image(render_panel(job(board(camera="close-up"))))
    back = image(render_panel(job(board(camera="from behind close-up"))))
    eyes = character_colours(MIRA)["eyes"]
    assert eyes in {c for _, c in front.getcolors(1 << 20) or []}
    assert eyes not in {c for _, c in back.getcolors(1 << 20) or []}


@pytest.mark.parametrize(
    "odd",
    [
        {},
        None,
        "not a dict",
        {"characters": None, "props": None, "camera": None, "time_of_day": None, "weather": None},
        {"caption": "x" * 10_000, "action": "word " * 3000},
        {"caption": "🐉 dragons 🔥 ünïcödé 中文 — “quotes” \u200b\x00", "location": "Café 🍵",
         "characters": [{"name": "🐱 Neko", "description": "a cat 🐈 with orange fur"}]},
        {"props": "a lone string prop", "characters": ["Mira", 42, None, {"name": None, "appearance": "red"}]},
        {"props": {"not": "a list"}, "characters": {"bad": 1}, "panel": {"x": 1}, "camera": 12, "light_from": 3},
        {"characters": [{"name": f"C{i}"} for i in range(30)], "camera": "extreme close-up"},
        {"characters": [MIRA, TOM], "camera": "over the shoulder", "weather": "storm", "lighting": "neon",
         "light_from": "behind", "time_of_day": "midnight", "location": "City street"},
        {"characters": [{"name": "Long" * 200, "appearance": {"wearing": [None, 3, "a hat" * 100],
                                                             "carrying": "a sword"}}]},
    ],
)
def test_odd_boards_render(odd: Any) -> None:
    for w, h in ((64, 64), (320, 200), (2048, 96)):
        assert image(render_panel(job(odd, w, h))).size == (w, h)


def test_every_camera_and_weather_renders() -> None:
    cameras = ["close-up", "extreme close-up", "medium shot", "wide shot", "establishing shot", "full body",
               "from behind", "over the shoulder", "profile", "front view", "low angle", "high angle",
               "bird's-eye view", "point of view", None]
    weathers = ["rain", "snow", "fog", "storm", "clear skies", None]
    for i, camera in enumerate(cameras):
        b = board(camera=camera, weather=weathers[i % len(weathers)], characters=[MIRA, TOM],
                  light_from=["left", "right", "above", "behind", "front", None][i % 6])
        assert image(render_panel(job(b, 160, 120))).size == (160, 120)


def test_sheet_grid_sizes() -> None:
    panel = render_panel(job(board(), 768, 512))
    thumb_h = 512 * SHEET_THUMB_W // 768
    for n, cols, rows in ((1, 1, 1), (7, 3, 3), (3, 3, 1)):
        assert sheet_grid(n, 3) == (cols, rows)
        sheet = image(storyboard_sheet([(panel, f"{i} · alice: she turns around") for i in range(n)], "Lighthouse"))
        assert sheet.width == SHEET_PAD + cols * (SHEET_THUMB_W + SHEET_PAD)
        assert sheet.height > SHEET_TITLE_H + rows * thumb_h
    one = image(storyboard_sheet([(panel, "1")], "t"))
    seven = image(storyboard_sheet([(panel, "x" * 500)] * 7, "t"))
    assert seven.height - SHEET_TITLE_H - SHEET_PAD == 3 * (one.height - SHEET_TITLE_H - SHEET_PAD)


def test_empty_and_broken_sheets() -> None:
    empty = image(storyboard_sheet([], "A world 🌍"))
    assert empty.width == SHEET_PAD * 2 + SHEET_THUMB_W and empty.height > SHEET_TITLE_H
    broken = image(storyboard_sheet([(b"not a png", "broken"), (render_panel(job({})), "ok")], ""))
    assert broken.width == SHEET_PAD + 2 * (SHEET_THUMB_W + SHEET_PAD)
    assert storyboard_sheet([], "t") == storyboard_sheet([], "t")


def test_renderer_protocol_and_progress() -> None:
    r = SketchRenderer()
    r.load()
    seen: list[tuple[str, int, int]] = []
    jobs = [job(board(), job_id="a"), job(board(time_of_day="night"), job_id="b")]
    out = r.render(jobs, lambda jid, step, total: seen.append((jid, step, total)) is None)
    assert [image(p).size for p in out] == [(384, 256), (384, 256)]
    assert seen == [("a", 1, 1), ("b", 1, 1)]
    assert r.name == "sketch"
    with pytest.raises(RenderCancelled):
        r.render(jobs, lambda jid, step, total: False)
    r.close()


def test_compound_garments_colour_the_body() -> None:
    tom = {"name": "Tom", "description": "an old fisherman, wearing a yellow raincoat",
           "appearance": {"wearing": ["a yellow raincoat"]}}
    r, g, b = character_colours(tom)["outfit"]
    assert r > 180 and g > 150 and b < 120  # yellow, not a colour hashed from the name
