"""Text in any script: glyphs from a font that has them, a visible box otherwise; captions once on a sheet."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from engine.renderers.storyboard.fonts import BUNDLED, PLACEHOLDER, FontBook, find_system_fonts
from engine.renderers.storyboard.renderer import render_panel
from engine.renderers.storyboard.sheet import SHEET_PAD, SHEET_THUMB_W, SHEET_TITLE_H, storyboard_sheet
from tests.sketch_support import job

SCRIPTS = {"latin": "Zoë Ångström", "greek": "Καλημέρα", "cyrillic": "Привет мир", "hebrew": "שלום",
           "arabic": "مرحبا", "armenian": "Բարեւ", "georgian": "გამარჯობა"}


def ink(fb: FontBook, text: str) -> bytes:
    img = Image.new("L", (400, 60), 0)
    fb.draw(ImageDraw.Draw(img), (5, 30), text, 24, 255, "lm")
    return img.tobytes()


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_bundled_font_draws_many_scripts(script: str) -> None:
    fb = FontBook([BUNDLED])
    text = SCRIPTS[script]
    assert PLACEHOLDER not in "".join(piece for _, piece in fb.runs(text))
    assert ink(fb, text) != ink(fb, "?" * len(text)) and any(ink(fb, text))


def test_missing_glyphs_become_a_visible_box_never_nothing() -> None:
    fb = FontBook([BUNDLED])
    runs = "".join(piece for _, piece in fb.runs("a\ue000b🎉"))
    assert runs == f"a{PLACEHOLDER}b{PLACEHOLDER}"
    assert ink(fb, "\ue000") == ink(fb, PLACEHOLDER) and any(ink(fb, "\ue000"))


def test_system_fonts_fill_in_what_the_bundled_font_lacks(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    shutil.copy(BUNDLED, tmp_path / "sub" / "NotoSansCJK-Regular.ttf")  # found by name, best first
    shutil.copy(BUNDLED, tmp_path / "unifont.ttf")
    (tmp_path / "random.ttf").write_bytes(b"not a font")
    found = find_system_fonts([str(tmp_path)])
    assert [p.name for p in found] == ["NotoSansCJK-Regular.ttf", "unifont.ttf"]
    chain = FontBook([tmp_path / "random.ttf", BUNDLED])  # a broken file is skipped, not fatal
    assert chain.runs("Ж") == [(1, "Ж")]


def test_cjk_uses_a_system_font_when_one_is_there() -> None:
    fb = FontBook.for_machine(system=True)
    cjk = [i for i in range(1, len(fb.files)) if fb.covers(i, "日")]
    pieces = fb.runs("日本")
    if cjk:
        assert pieces == [(cjk[0], "日本")]
    else:
        assert pieces == [(0, PLACEHOLDER * 2)]


def test_captions_in_any_script_are_drawn_not_dropped() -> None:
    def strip(caption: str) -> Image.Image:
        img = Image.open(io.BytesIO(render_panel(job({"caption": caption}, 384, 256)))).convert("RGB")
        return img.crop((0, int(img.info.get("worldloom-scene-height", 200)) + 2, img.width, img.height - 2))

    blank = strip("")
    for text in ("Привет", "日本語", "مرحبا"):
        assert ImageChops.difference(strip(text), blank).getbbox(), text
        assert strip(text).tobytes() != strip("?" * len(text)).tobytes(), text


def test_a_sheet_shows_each_caption_once() -> None:
    png = render_panel(job({"caption": "Mira waits on the pier", "location": "Harbour"}, 768, 512))
    panel = Image.open(io.BytesIO(png))
    scene_h = int(panel.info["worldloom-scene-height"])
    assert 0 < scene_h < panel.height
    sheet = Image.open(io.BytesIO(storyboard_sheet([(png, "1 · ada: Mira waits on the pier")], "t"))).convert("RGB")
    thumb_h = round(scene_h * SHEET_THUMB_W / panel.width)
    cell = sheet.crop((SHEET_PAD, SHEET_TITLE_H + SHEET_PAD, SHEET_PAD + SHEET_THUMB_W,
                       SHEET_TITLE_H + SHEET_PAD + thumb_h))
    expected = panel.convert("RGB").crop((0, 0, panel.width, scene_h)).resize((SHEET_THUMB_W, thumb_h),
                                                                             Image.Resampling.LANCZOS)
    assert ImageChops.difference(cell, expected).getbbox() is None  # the thumbnail is the scene alone ...
    with_strip = panel.convert("RGB").resize((SHEET_THUMB_W, round(panel.height * SHEET_THUMB_W / panel.width)))
    assert sheet.height < SHEET_TITLE_H + SHEET_PAD * 2 + with_strip.height + 60  # ... and its caption is written once
