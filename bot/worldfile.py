"""The open world file: versioned JSON with the event log, reference images and drawn panels.

Export writes the whole event log (undone commands included, so /history survives), every
image the events name and the image of every drawn panel (version 2), base64-encoded. Import
accepts that JSON (version 1 files too: they have no panel images), or a zip holding
`world.json` plus `blobs/<sha256>` files. The schema is bot/world-format.schema.json.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any, NamedTuple, TypedDict

import jsonschema

from engine.errors import WorldError
from engine.events import Record, event_from_json, event_to_json, fold
from engine.world import ImageRef

FORMAT = "worldloom.world"
VERSION = 2  # 2: adds "panels" (the drawn image of each panel), panel_edited events, panels' prompt_notes
READS = (1, 2)
SCHEMA_PATH = Path(__file__).resolve().parent / "world-format.schema.json"
MAX_FILE_BYTES = 64 * 1024 * 1024


class EventEntry(TypedDict):
    seq: int
    group: int
    author: str
    at: float
    event: dict[str, Any]


class WorldFile(TypedDict):
    format: str
    version: int
    title: str
    events: list[EventEntry]
    images: dict[str, str]  # sha256 -> base64 PNG
    panels: dict[str, str]  # panel number -> sha256 of its drawn image (newest take)


class WorldContents(NamedTuple):
    """What a world file holds, checked."""

    title: str
    records: list[Record]
    images: dict[str, bytes]  # sha256 -> bytes: references and panel images
    panels: dict[int, str]  # panel number -> sha256 of its drawn image


class BadWorldFile(WorldError):
    pass


def image_hashes(records: list[Record]) -> list[str]:
    """Every image hash the events refer to, in order of first use."""
    seen: dict[str, None] = {}

    def walk(value: Any) -> None:
        if isinstance(value, ImageRef) and value.image:
            seen.setdefault(value.image, None)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif hasattr(value, "__dataclass_fields__"):
            for name in value.__dataclass_fields__:
                walk(getattr(value, name))

    for r in records:
        walk(r.event)
    return list(seen)


def export_world(title: str, records: list[Record], images: dict[str, bytes],
                 panels: dict[int, str] | None = None) -> bytes:
    """The world file; `images` must hold every image the events name and every panel's image."""
    doc: WorldFile = {
        "format": FORMAT,
        "version": VERSION,
        "title": title,
        "events": [{"seq": r.seq, "group": r.group, "author": r.author, "at": r.at,
                    "event": event_to_json(r.event)} for r in records],
        "images": {sha: base64.b64encode(images[sha]).decode("ascii") for sha in sorted(images)},
        "panels": {str(index): sha for index, sha in sorted((panels or {}).items())},
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2).encode("utf-8")


def parse_world_file(data: bytes) -> WorldContents:
    """Validates a world file (JSON or zip) of any version this reads. Raises BadWorldFile."""
    if len(data) > MAX_FILE_BYTES:
        raise BadWorldFile(f"the world file is too large (max {MAX_FILE_BYTES // (1024 * 1024)} MiB)")
    extra: dict[str, bytes] = {}
    if data[:4] == b"PK\x03\x04":
        data, extra = _read_zip(data)
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadWorldFile(f"not a world file: invalid JSON ({e})") from None
    try:
        jsonschema.validate(doc, _schema())
    except jsonschema.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "top level"
        raise BadWorldFile(f"not a valid world file: {e.message} (at {where})") from None
    images = dict(extra)
    for sha, b64 in doc["images"].items():
        try:
            images[sha] = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise BadWorldFile(f"image {sha[:12]} is not valid base64") from None
    for sha, blob in images.items():
        if hashlib.sha256(blob).hexdigest() != sha:
            raise BadWorldFile(f"image {sha[:12]} does not match its hash")
    records = []
    for entry in doc["events"]:
        records.append(Record(seq=entry["seq"], group=entry["group"], author=entry["author"],
                              at=entry["at"], event=event_from_json(entry["event"])))
    seqs = [r.seq for r in records]
    if seqs != sorted(set(seqs)):
        raise BadWorldFile("events must have increasing, unique seq numbers")
    panels = {int(index): sha for index, sha in doc.get("panels", {}).items()}
    missing = [sha for sha in [*image_hashes(records), *panels.values()] if sha not in images]
    if missing:
        raise BadWorldFile(f"the file refers to {len(missing)} image(s) it does not contain")
    try:
        world = fold("import-check", records)
    except (WorldError, AssertionError, TypeError, ValueError, AttributeError) as e:
        raise BadWorldFile(f"the events do not replay: {e}") from None
    strays = sorted(set(panels) - {p.index for p in world.panels})
    if strays:
        raise BadWorldFile(f"the file has images for panels its story does not draw: {strays[:5]}")
    return WorldContents(doc["title"], records, images, panels)


def _read_zip(data: bytes) -> tuple[bytes, dict[str, bytes]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
            if total > MAX_FILE_BYTES:
                raise BadWorldFile("the zip expands to too much data")
            names = zf.namelist()
            if "world.json" not in names:
                raise BadWorldFile("the zip has no world.json")
            blobs = {Path(n).name: zf.read(n) for n in names if n.startswith("blobs/") and not n.endswith("/")}
            return zf.read("world.json"), blobs
    except zipfile.BadZipFile:
        raise BadWorldFile("not a readable zip file") from None


_SCHEMA: dict[str, Any] = {}


def _schema() -> dict[str, Any]:
    if not _SCHEMA:
        _SCHEMA.update(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    return _SCHEMA
