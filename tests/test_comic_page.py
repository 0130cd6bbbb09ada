"""Comic pages: layout geometry, balloons whose text stays inside them, captions, figure positions."""

from __future__ import annotations

import asyncio
import io
import math
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from engine.comic.balloons import Balloon, Lettering, letter_panel
from engine.comic.layout import LAYOUTS, Frame, plan_pages
from engine.comic.page import ComicPanel, PageImage, PageOptions, PlacedPanel, render_pages, render_pages_async
from engine.comic.speech import Speech
from engine.errors import WorldError
from engine.jobs import RenderJob
from engine.renderers.storyboard.draw import SafeDraw
from engine.renderers.storyboard.renderer import draw_panel, figure_positions
from tests.comic_support import SPOKEN, script_panels

FRAME = Frame(1000, 1500, 40, 16, title=100)


def inside(box: tuple[int, ...], outer: tuple[int, ...], slack: int = 0) -> bool:
    return (box[0] >= outer[0] - slack and box[1] >= outer[1] - slack
            and box[2] <= outer[2] + slack and box[3] <= outer[3] + slack)


def in_ellipse(x: float, y: float, box: tuple[int, ...]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    a, b = (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
    return ((x - cx) / a) ** 2 + ((y - cy) / b) ** 2 <= 1.0


def balloons(pages: list[PageImage]) -> list[tuple[int, int, tuple[int, ...], Balloon]]:
    return [(n, p.number, p.box, b) for n, page in enumerate(pages) for p in page.panels for b in p.balloons]


def check_lettering(pages: list[PageImage], min_px: int) -> None:
    """Every line of text lies inside its balloon or box, every balloon inside its panel, none overlapping."""
    for _, _, panel_box, b in balloons(pages):
        assert inside(b.box, panel_box), (b, panel_box)
        assert b.font_size >= min_px
        for line in b.lines:
            if b.kind == "caption":
                assert inside(line.box, b.box), (line, b.box)
            else:
                for x in (line.box[0], line.box[2]):
                    for y in (line.box[1], line.box[3]):
                        assert in_ellipse(x, y, b.box), (line, b.box)
    for page in pages:
        for p in page.panels:
            boxes = [b.box for b in p.balloons]
            for i, a in enumerate(boxes):
                for c in boxes[i + 1:]:
                    assert a[2] <= c[0] or c[2] <= a[0] or a[3] <= c[1] or c[3] <= a[1], (a, c)


def test_script_page_has_two_legible_balloons_pointing_at_their_speakers() -> None:
    pages = render_pages(script_panels(), PageOptions(title="The Lighthouse", byline="by ada and ben"))
    found = [(b.speaker, " ".join(line.text for line in b.lines)) for *_, b in balloons(pages)]
    assert sorted(found) == sorted(SPOKEN.items())  # two balloons, every word in them
    assert all(b.kind == "speech" for *_, b in balloons(pages))
    check_lettering(pages, min_px=round(6.5 / 72 * 150))
    assert pages[0].size == (round(6.625 * 150), round(10.25 * 150)) and pages[0].title_box is not None
    for n, _, panel_box, b in balloons(pages):
        image = Image.open(io.BytesIO(pages[n].png)).convert("L")
        assert image.size == pages[n].size
        # legible: dark ink on clean paper inside the balloon
        ink = [image.getpixel((x, y)) for line in b.lines
               for x in range(line.box[0], line.box[2]) for y in range(line.box[1], line.box[3])]
        assert min(ink) < 60
        cx, cy = (b.box[0] + b.box[2]) / 2, (b.box[1] + b.box[3]) / 2
        lettered = [(ln.box[0] - 2, ln.box[1] - 2, ln.box[2] + 2, ln.box[3] + 2) for ln in b.lines]
        for x in range(b.box[0], b.box[2], 3):
            for y in range(b.box[1], b.box[3], 3):
                shrunk = (cx + (x - cx) / 0.9, cy + (y - cy) / 0.9)
                if in_ellipse(*shrunk, b.box) and not any(inside((x, y, x, y), t) for t in lettered) \
                        and y < cy + (b.box[3] - b.box[1]) * 0.2:  # above the tail's root
                    assert image.getpixel((x, y)) > 245, (x, y)
        # the tail points from the balloon towards the speaker's head and stays in the panel
        assert b.target is not None and len(b.tail) == 3
        tip = b.tail[1]
        assert math.dist(tip, b.target) < math.dist((cx, cy), b.target)
        assert inside((int(tip[0]), int(tip[1]), int(tip[0]), int(tip[1])), panel_box, slack=1)


def test_crowded_small_panel_keeps_text_inside_balloons() -> None:
    png = script_panels()[0].png
    long = "This is a very long line of dialogue that cannot possibly fit at the normal size " * 3
    speech = tuple(Speech(t, s, 0, 0) for s, t in (("Mira", long), ("Tom", "No."), ("Ana", "Wait, what?")))
    heads = (("Mira", 0.2, 0.5), ("Tom", 0.8, 0.5), ("Ana", 0.5, 0.6))
    panels = [ComicPanel(i, png, speech=speech, heads=heads) for i in range(1, 7)]
    pages = render_pages(panels, PageOptions(dpi=72, layout="grid"))
    check_lettering(pages, min_px=round(6.5 / 72 * 72))
    assert {b.speaker for *_, b in balloons(pages)} == {"Mira", "Tom", "Ana"}
    assert len(balloons(pages)) == 18


def test_speakers_without_known_positions_get_named_captions() -> None:
    pages = render_pages(script_panels(storyboard=False), PageOptions(dpi=100))
    found = {(b.kind, b.speaker, " ".join(ln.text for ln in b.lines)) for *_, b in balloons(pages)}
    assert found == {("caption", s, f"{s.upper()}: {t}") for s, t in SPOKEN.items()}
    check_lettering(pages, min_px=round(6.5 / 72 * 100))


def test_narration_is_a_caption_box() -> None:
    png = script_panels()[1].png
    panel = ComicPanel(1, png, speech=(Speech("Long ago, the light went out.", None, 0, 0),),
                       narration=("Meanwhile...",))
    (page,) = render_pages([panel])
    texts = [(b.kind, b.speaker, b.lines[0].text) for b in page.panels[0].balloons]
    assert texts == [("caption", None, "Meanwhile..."), ("caption", None, "Long ago, the light went out.")]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts_keep_panels_on_the_page_apart(layout: str) -> None:
    aspects = [1.5, 1.5, 1.0, 1.0, 2.4, 1.5, 0.66, 0.66, 0.66, 1.5] * 2
    cameras = ["wide shot", "", "close-up", "close-up", "", "medium shot", "", "", "", "establishing shot"] * 2
    pages = plan_pages(aspects, cameras, layout, FRAME)
    assert sorted(s.index for page in pages for s in page) == list(range(len(aspects)))
    for n, page in enumerate(pages):
        top = FRAME.margin + (FRAME.title if n == 0 else 0)
        for s in page:
            assert inside(s.box, (FRAME.margin, top, FRAME.width - FRAME.margin, FRAME.height - FRAME.margin))
            if not s.crop:  # the panel keeps its aspect ratio
                w, h = s.box[2] - s.box[0], s.box[3] - s.box[1]
                assert w / h == pytest.approx(aspects[s.index], rel=0.03)
        for i, a in enumerate(page):
            for b in page[i + 1:]:
                assert (a.box[2] <= b.box[0] or b.box[2] <= a.box[0] or a.box[3] <= b.box[1]
                        or b.box[3] <= a.box[1])


def test_auto_spans_wide_shots_and_pairs_close_ups() -> None:
    (page,) = plan_pages([1.5, 1.0, 1.0], ["establishing shot", "close-up", "close up"], "auto", FRAME)
    by = {s.index: s.box for s in page}
    assert by[0][2] - by[0][0] == FRAME.width - 2 * FRAME.margin  # the establishing shot spans the row
    assert by[1][1] == by[2][1] and by[1][2] < by[2][0]  # the close-ups share a row, left to right
    manga = {s.index: s.box for s in plan_pages([1.0, 1.0], ["close-up"] * 2, "manga", FRAME)[0]}
    assert manga[0][0] > manga[1][0]  # right to left


def test_many_panels_flow_onto_more_pages() -> None:
    pages = plan_pages([1.5] * 30, [""] * 30, "auto", FRAME)
    assert len(pages) >= 3 and [s.index for p in pages for s in p] == list(range(30))


def test_bad_input_is_refused_or_drawn_as_placeholder() -> None:
    with pytest.raises(WorldError, match="layout"):
        render_pages(script_panels()[:1], PageOptions(layout="spiral"))
    with pytest.raises(WorldError, match="no panels"):
        render_pages([])
    (page,) = render_pages([ComicPanel(1, b"not a png", speech=(Speech("hi", "Mira", 0, 0),))])
    assert Image.open(io.BytesIO(page.png)).size == page.size
    assert page.panels[0].balloons[0].kind == "caption"  # no head known: a named caption


def test_figure_positions_are_where_the_storyboard_draws_heads() -> None:
    chars = [{"name": "Mira", "appearance": {"hair": "red hair"}}, {"name": "Tom", "appearance": {}}]
    for camera in ("", "close up", "wide shot", "over the shoulder"):
        board = {"camera": camera, "characters": chars, "action": "talk", "location": "a meadow"}
        job = RenderJob("j", "w", 1, "u", "", "", 1, 768, 512, 4, board=board)
        drawn, empty = draw_panel(job), draw_panel(RenderJob("j", "w", 1, "u", "", "", 1, 768, 512, 4,
                                                             board={**board, "characters": []}))
        heads = figure_positions(board, 768, 512)
        assert set(heads) == ({"Mira"} if camera == "close up" else {"Mira", "Tom"})  # a close-up: one face
        for x, y in heads.values():
            xy = (int(x * 768), int(y * 512))
            assert drawn.getpixel(xy) != empty.getpixel(xy), (camera, xy)  # a figure is there


async def test_pages_are_drawn_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.comic.page as page_module

    threads: list[int] = []
    real = page_module.render_pages

    def spy(*args: object, **kwargs: object) -> list[PageImage]:
        threads.append(threading.get_ident())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(page_module, "render_pages", spy)
    beats = 0

    async def heartbeat() -> None:
        nonlocal beats
        while True:
            beats += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(heartbeat())
    pages = await render_pages_async(script_panels()[:2])
    task.cancel()
    assert threads and threads[0] != threading.get_ident()
    assert len(pages) == 1 and beats > 1


@settings(max_examples=40, deadline=None)
@given(
    w=st.integers(30, 420), h=st.integers(30, 320),
    texts=st.lists(st.lists(st.sampled_from([*"ab cdefghij ,.!?'é漢😀", "Supercalifragilistic"]), min_size=1,
                            max_size=60).map("".join), min_size=1, max_size=4),
    narration=st.lists(st.text(min_size=1, max_size=60), max_size=3),
    xs=st.lists(st.floats(0, 1), min_size=4, max_size=4), known=st.booleans(),
)
def test_any_lettering_stays_inside_its_balloons(w: int, h: int, texts: list[str], narration: list[str],
                                                 xs: list[float], known: bool) -> None:
    img = Image.new("RGB", (w + 20, h + 20), "white")
    d = SafeDraw(img)
    panel = (10, 10, 10 + w, 10 + h)
    names = ["A", "B", "C", "D"]
    heads = [(10 + x * w, 10 + (1 - x) * h) for x in xs]
    what = Lettering(
        balloons=tuple((names[i], t, heads[i], i % 2 == 1) for i, t in enumerate(texts)) if known else (),
        captions=tuple(narration),
        named=() if known else tuple((names[i], t) for i, t in enumerate(texts)),
    )
    drawn = letter_panel(d, panel, what, 14, 9)
    assert len(drawn) == len(texts) + len(narration)
    page = PageImage(b"", img.size, (PlacedPanel(1, panel, tuple(drawn)),))
    for b in drawn:
        for line in b.lines:
            if b.kind == "caption":
                assert inside(line.box, b.box)
            else:
                assert all(in_ellipse(x, y, b.box) for x in (line.box[0], line.box[2])
                           for y in (line.box[1], line.box[3]))
    assert page.panels[0].balloons == tuple(drawn)
