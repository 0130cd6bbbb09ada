"""Uploaded images: only real PNG/JPEG/WebP within limits, re-encoded without metadata."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from bot.images import BadImage, ImageLimits, clean_image


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size in a few bytes: the shape of a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_accepted_formats_come_back_as_png(fmt: str) -> None:
    out = clean_image(encode(Image.new("RGB", (40, 30), (200, 10, 10)), fmt))
    with Image.open(io.BytesIO(out)) as img:
        assert img.format == "PNG" and img.size == (40, 30)


def test_exif_is_dropped() -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (1.0, 2.0, 3.0)}  # GPS
    data = encode(Image.new("RGB", (32, 32)), "JPEG", exif=exif)
    assert b"SecretCam" in data
    out = clean_image(data)
    assert b"SecretCam" not in out
    with Image.open(io.BytesIO(out)) as img:
        assert not img.getexif()


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"hello, not an image", "not a readable image"),
    (b"\x89PNG\r\n\x1a\nbroken", "not a readable image"),
])
def test_broken_input_is_refused_clearly(data: bytes, message: str) -> None:
    with pytest.raises(BadImage, match=message):
        clean_image(data)


def test_other_formats_are_refused() -> None:
    with pytest.raises(BadImage, match="only PNG, JPEG or WebP"):
        clean_image(encode(Image.new("RGB", (8, 8)), "GIF"))


def test_limits_on_bytes_and_pixels() -> None:
    with pytest.raises(BadImage, match="too large"):
        clean_image(b"x" * 2048, ImageLimits(max_bytes=1024))
    with pytest.raises(BadImage, match="too big"):
        clean_image(encode(Image.new("L", (300, 300)), "PNG"), ImageLimits(max_pixels=250 * 250))


def test_decompression_bombs_are_refused_without_decoding() -> None:
    with pytest.raises(BadImage, match=r"decompression bomb|too big"):
        clean_image(png_header_only(9000, 9000))
    with pytest.raises(BadImage, match="decompression bomb"):
        clean_image(png_header_only(40000, 40000), ImageLimits(max_side=100000, max_pixels=10**10))


def test_big_references_are_stored_smaller() -> None:
    out = clean_image(encode(Image.new("RGB", (3000, 1500)), "PNG"))
    with Image.open(io.BytesIO(out)) as img:
        assert max(img.size) == 1024
