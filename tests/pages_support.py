"""A story of 8 panels in which two characters speak, and checks of the pages and files made from it."""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree as ET

from PIL import Image

from bot.app import App
from engine.comic.page import PageImage, PageOptions, render_pages
from engine.comic.panels import comic_panel
from tests.test_comic_export import SCHEMA

TITLE = "Harbour Night"
SETUP = [
    f'[ada] /world new "{TITLE}" --seed 4',
    "[ada] /cref Mira a young woman with short red hair, wearing a blue scarf",
    "[ben] /cref Tom an old fisherman with a white beard",
    "[ada] /scene Harbour a stone harbour --time night",
]
PANELS = [
    "[ada] /continue Mira waits on the pier",
    '[ada] /continue Mira whispers "Who\'s there?"',
    "[ben] /continue Tom walks up to the pier",
    '[ben] /continue Tom says "Only me, the keeper."',
    "[ada] /continue wide shot the boats rock in the dark",
    "[ada] /continue Mira smiles",
    "[ben] /continue close-up Tom lights his pipe",
    "[ben] /continue Tom and Mira walk home",
]
SPOKEN = {"Mira": "Who's there?", "Tom": "Only me, the keeper."}
AUTHORS = ["ada", "ben"]


async def expected_pages(app: App, world_id: str, options: PageOptions, first: int = 1,
                         last: int = 10**9) -> list[PageImage]:
    """The pages drawn from the world's current takes, storyboard figures and all (what /page posts)."""
    world = await app.service.world(world_id)
    takes = await app.store.panel_takes(world_id)
    panels = []
    for p in world.panels:
        if not first <= p.index <= last:
            continue
        job = takes[(p.index, p.take)]
        assert job.image is not None
        png = await app.store.get_blob(job.image)
        panels.append(comic_panel(world, p, png, storyboard=True, board=job.spec["job"]["board"]))
    return render_pages(panels, options)


def check_speech(pages: list[PageImage], posted: list[bytes]) -> None:
    """The posted pages are these pages, and they carry exactly the two speakers' balloons, legibly."""
    assert [p.png for p in pages] == posted
    balloons = [(placed.number, b) for page in pages for placed in page.panels for b in placed.balloons]
    assert sorted(b.speaker for _, b in balloons) == ["Mira", "Tom"]
    assert {b.speaker: " ".join(line.text for line in b.lines) for _, b in balloons} == SPOKEN
    first = pages[0]
    assert len([b for placed in first.panels for b in placed.balloons]) == 2  # both on page one
    image = Image.open(io.BytesIO(first.png)).convert("RGB")
    for placed in first.panels:
        for b in placed.balloons:
            assert b.kind == "speech" and b.target is not None  # a tail to the speaker's head
            x0, y0, x1, y1 = placed.box
            assert x0 <= b.box[0] < b.box[2] <= x1 and y0 <= b.box[1] < b.box[3] <= y1
            for line in b.lines:  # the words lie inside the ellipse, dark ink on the white balloon
                assert b.box[0] < line.box[0] < line.box[2] < b.box[2]
                assert b.box[1] < line.box[1] < line.box[3] < b.box[3]
            ink = min(line.box[0] for line in b.lines)
            left = (b.box[0] + (ink - b.box[0]) // 2, (b.box[1] + b.box[3]) // 2)
            assert min(image.getpixel(left)) > 200  # the balloon is white where no word is


def check_pdf(data: bytes, pages: int) -> None:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == pages
    assert reader.metadata.title == TITLE and reader.metadata.author == ", ".join(AUTHORS)


def check_cbz(data: bytes, pages: int) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        images = sorted(n for n in z.namelist() if n.endswith(".jpg"))
        info = ET.fromstring(z.read("ComicInfo.xml"))
    assert len(images) == pages and info.tag == "ComicInfo"
    order = [e.tag for e in info]
    assert order == [t for t in SCHEMA if t in order]  # the schema's sequence
    assert info.findtext("Title") == TITLE and info.findtext("Writer") == ", ".join(AUTHORS)
    assert info.findtext("PageCount") == str(pages) and info.findtext("Characters") == "Mira, Tom"
    assert [p.get("Image") for p in info.iter("Page")] == [str(i) for i in range(pages)]
