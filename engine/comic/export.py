"""Comic pages as files: a PDF (fpdf2) and a CBZ (a zip of page images with ComicInfo.xml).

Pages come in as PNG bytes (engine.comic.page) and go out as JPEG (quality 92): print-resolution
pages as PNG would make files many times larger for no visible gain. CPU-heavy: run off the loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from PIL import Image

from engine.comic.page import ComicPanel, PageOptions, render_pages
from engine.errors import WorldError

FORMATS = ("pdf", "cbz")
PRINT_DPI = 300
JPEG_QUALITY = 92
# ComicInfo.xml's elements in the order its schema (v2.0, an xs:sequence) requires.
COMICINFO_ORDER = ("Title", "Series", "Number", "Count", "Volume", "AlternateSeries", "AlternateNumber",
                   "AlternateCount", "Summary", "Notes", "Year", "Month", "Day", "Writer", "Penciller", "Inker",
                   "Colorist", "Letterer", "CoverArtist", "Editor", "Publisher", "Imprint", "Genre", "Web",
                   "PageCount", "LanguageISO", "Format", "BlackAndWhite", "Manga", "Characters", "Teams",
                   "Locations", "ScanInformation", "StoryArc", "SeriesGroup", "AgeRating", "Pages",
                   "CommunityRating")  # fmt: skip


def slug(title: str, fallback: str = "comic") -> str:
    """A file name stem from a title: "Mira's Lighthouse!" -> "miras-lighthouse"."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    plain = re.sub(r"['’]", "", plain)
    out = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:80].strip("-")
    return out or fallback


def _jpeg(png: bytes) -> tuple[bytes, int, int]:
    try:
        with Image.open(io.BytesIO(png)) as im:
            rgb = im.convert("RGB")
    except Exception as exc:
        raise WorldError("a comic page could not be read back") from exc
    buf = io.BytesIO()
    rgb.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True, dpi=(PRINT_DPI, PRINT_DPI))
    return buf.getvalue(), rgb.width, rgb.height


def pdf_bytes(pages: Sequence[bytes], *, title: str, authors: Sequence[str] = (), dpi: int = PRINT_DPI,
              subject: str = "", created: dt.datetime | None = None) -> bytes:
    """A PDF with one page per image, each page sized so the image prints at `dpi`; metadata set."""
    from fpdf import FPDF

    if not pages:
        raise WorldError("no pages to export")
    pdf = FPDF(unit="pt")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_title(title)
    pdf.set_author(", ".join(a for a in authors if a))
    pdf.set_creator("worldloom")
    if subject:
        pdf.set_subject(subject)
    pdf.set_creation_date(created or dt.datetime.now(dt.UTC))
    for png in pages:
        jpeg, w, h = _jpeg(png)
        size = (w / dpi * 72, h / dpi * 72)
        pdf.add_page(format=size)
        pdf.image(io.BytesIO(jpeg), x=0, y=0, w=size[0], h=size[1])
    return bytes(pdf.output())


def comicinfo_xml(*, title: str, authors: Sequence[str], pages: Sequence[tuple[int, int, int]],
                  summary: str = "", characters: Sequence[str] = (), manga: bool = False,
                  created: dt.date | None = None) -> bytes:
    """ComicInfo.xml for pages given as (bytes, width, height), in the schema's element order."""
    day = created or dt.datetime.now(dt.UTC).date()
    fields: dict[str, str] = {
        "Title": title,
        "Summary": summary,
        "Notes": "Made with worldloom",
        "Year": str(day.year),
        "Month": str(day.month),
        "Day": str(day.day),
        "Writer": ", ".join(a for a in authors if a),
        "PageCount": str(len(pages)),
        "BlackAndWhite": "No",
        "Manga": "YesAndRightToLeft" if manga else "No",
        "Characters": ", ".join(characters),
    }
    root = ET.Element("ComicInfo")
    for name in COMICINFO_ORDER:
        if name == "Pages":
            el = ET.SubElement(root, "Pages")
            for i, (size, w, h) in enumerate(pages):
                ET.SubElement(el, "Page", {"Image": str(i), "Type": "Story",
                                           "ImageSize": str(size), "ImageWidth": str(w), "ImageHeight": str(h)})
        elif fields.get(name):
            ET.SubElement(root, name).text = fields[name]
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def cbz_bytes(pages: Sequence[bytes], *, title: str, authors: Sequence[str] = (), summary: str = "",
              characters: Sequence[str] = (), manga: bool = False, created: dt.date | None = None) -> bytes:
    """A CBZ: page-001.jpg ... in reading order and ComicInfo.xml describing them."""
    if not pages:
        raise WorldError("no pages to export")
    buf = io.BytesIO()
    infos: list[tuple[int, int, int]] = []
    with zipfile.ZipFile(buf, "w") as z:
        for i, png in enumerate(pages, 1):
            jpeg, w, h = _jpeg(png)
            z.writestr(zipfile.ZipInfo(f"page-{i:03d}.jpg", (1980, 1, 1, 0, 0, 0)), jpeg, zipfile.ZIP_STORED)
            infos.append((len(jpeg), w, h))
        xml = comicinfo_xml(title=title, authors=authors, pages=infos, summary=summary, characters=characters,
                            manga=manga, created=created)
        z.writestr(zipfile.ZipInfo("ComicInfo.xml", (1980, 1, 1, 0, 0, 0)), xml, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def export_comic(panels: Sequence[ComicPanel], fmt: str, *, title: str, authors: Sequence[str] = (),
                 layout: str = "auto", characters: Sequence[str] = (), dpi: int = PRINT_DPI) -> bytes:
    """The whole comic as a PDF or CBZ file: pages drawn at print resolution, then packed."""
    kind = fmt.strip().lower().lstrip(".")
    if kind not in FORMATS:
        raise WorldError(f"unknown export format {fmt!r}: choose {' or '.join(FORMATS)}")
    byline = "by " + ", ".join(a for a in authors if a) if any(authors) else ""
    pages = [p.png for p in render_pages(panels, PageOptions(layout=layout, title=title, byline=byline, dpi=dpi))]
    if kind == "pdf":
        return pdf_bytes(pages, title=title, authors=authors, dpi=dpi)
    return cbz_bytes(pages, title=title, authors=authors, characters=characters, manga=layout == "manga")


async def export_comic_async(panels: Sequence[ComicPanel], fmt: str, *, title: str, authors: Sequence[str] = (),
                             layout: str = "auto", characters: Sequence[str] = (), dpi: int = PRINT_DPI) -> bytes:
    """export_comic on a worker thread."""
    return await asyncio.to_thread(export_comic, list(panels), fmt, title=title, authors=list(authors),
                                   layout=layout, characters=list(characters), dpi=dpi)
