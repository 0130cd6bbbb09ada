"""Comic export: a PDF that opens with the right pages and metadata, a CBZ with a valid ComicInfo.xml."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from xml.etree import ElementTree as ET

import pytest
from PIL import Image

from engine.comic.export import cbz_bytes, export_comic, export_comic_async, pdf_bytes, slug
from engine.comic.page import PageOptions, render_pages
from engine.errors import WorldError
from tests.comic_support import script_panels

pypdf = pytest.importorskip("pypdf")

TITLE = "Mira’s Lighthouse — night"
# ComicInfo v2.0: the element names of its xs:sequence, in order (from the published schema).
SCHEMA = ["Title", "Series", "Number", "Count", "Volume", "AlternateSeries", "AlternateNumber", "AlternateCount",
          "Summary", "Notes", "Year", "Month", "Day", "Writer", "Penciller", "Inker", "Colorist", "Letterer",
          "CoverArtist", "Editor", "Publisher", "Imprint", "Genre", "Web", "PageCount", "LanguageISO", "Format",
          "BlackAndWhite", "Manga", "Characters", "Teams", "Locations", "ScanInformation", "StoryArc",
          "SeriesGroup", "AgeRating", "Pages", "CommunityRating"]
PAGE_ATTRS = {"Image", "Type", "DoublePage", "ImageSize", "Key", "Bookmark", "ImageWidth", "ImageHeight"}
INT_ELEMENTS = {"Count", "Volume", "AlternateCount", "Year", "Month", "Day", "PageCount"}


@pytest.fixture(scope="module")
def pages() -> list[bytes]:
    return [p.png for p in render_pages(script_panels(), PageOptions(title=TITLE, dpi=100))]


def test_pdf_opens_with_every_page_at_its_print_size_and_metadata(pages: list[bytes]) -> None:
    data = pdf_bytes(pages, title=TITLE, authors=["ada", "ben"], dpi=100)
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == len(pages) >= 2
    meta = reader.metadata
    assert meta.title == TITLE and meta.author == "ada, ben" and meta.creator == "worldloom"
    w, h = Image.open(io.BytesIO(pages[0])).size
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(w / 100 * 72, abs=0.5)
    assert float(box.height) == pytest.approx(h / 100 * 72, abs=0.5)
    images = reader.pages[0].images
    assert len(images) == 1 and images[0].image.size == (w, h)


def test_cbz_holds_the_pages_and_a_valid_comicinfo(pages: list[bytes]) -> None:
    data = cbz_bytes(pages, title=TITLE, authors=["ada", "ben"], characters=["Mira", "Tom"], manga=True,
                     created=dt.date(2026, 11, 27))
    z = zipfile.ZipFile(io.BytesIO(data))
    assert z.testzip() is None
    names = z.namelist()
    images = [n for n in names if n.endswith(".jpg")]
    assert images == sorted(images) == [f"page-{i:03d}.jpg" for i in range(1, len(pages) + 1)]
    root = ET.fromstring(z.read("ComicInfo.xml"))
    assert root.tag == "ComicInfo"
    order = [child.tag for child in root]
    assert set(order) <= set(SCHEMA) and order == sorted(order, key=SCHEMA.index)  # schema names, schema order
    for child in root:
        if child.tag in INT_ELEMENTS:
            int(child.text or "")
    assert root.findtext("Title") == TITLE and root.findtext("Writer") == "ada, ben"
    assert root.findtext("PageCount") == str(len(images))
    assert root.findtext("Manga") == "YesAndRightToLeft" and root.findtext("Characters") == "Mira, Tom"
    assert (root.findtext("Year"), root.findtext("Month"), root.findtext("Day")) == ("2026", "11", "27")
    listed = root.findall("Pages/Page")
    assert [int(p.get("Image", "-1")) for p in listed] == list(range(len(images)))
    for page, name in zip(listed, images, strict=True):
        assert set(page.attrib) <= PAGE_ATTRS
        with Image.open(io.BytesIO(z.read(name))) as im:
            assert (int(page.get("ImageWidth", 0)), int(page.get("ImageHeight", 0))) == im.size
        assert int(page.get("ImageSize", 0)) == z.getinfo(name).file_size


async def test_export_draws_at_print_resolution_off_the_loop() -> None:
    panels = script_panels()[:3]
    pdf = await export_comic_async(panels, "pdf", title="Short", authors=["ada"])
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1 and reader.metadata.title == "Short"
    assert float(reader.pages[0].mediabox.width) == pytest.approx(6.625 * 72, abs=0.5)
    assert reader.pages[0].images[0].image.size == (round(6.625 * 300), round(10.25 * 300))


def test_bad_export_requests_are_refused() -> None:
    with pytest.raises(WorldError, match="format"):
        export_comic(script_panels()[:1], "docx", title="t")
    with pytest.raises(WorldError, match="no pages"):
        pdf_bytes([], title="t")
    with pytest.raises(WorldError, match="read"):
        cbz_bytes([b"not an image"], title="t")


def test_slug() -> None:
    assert slug(TITLE) == "miras-lighthouse-night"
    assert slug("!!!") == "comic" and len(slug("x" * 500)) <= 80
