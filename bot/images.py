"""Checks images that users upload (/cref, /sref) before anything stores them.

Only PNG, JPEG and WebP; limits on bytes and pixels; decompression bombs refused; EXIF and
other metadata dropped by re-encoding to PNG. Heavy Pillow work, so call `clean_image` from
a worker thread (`asyncio.to_thread`), never on the event loop.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, replace

from PIL import Image, UnidentifiedImageError

from engine.errors import WorldError

ALLOWED_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


class BadImage(WorldError):
    pass


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 4096 * 4096
    max_side: int = 8192
    store_side: int = 1024  # references are stored at most this large: renderers need no more


def check_image(data: bytes, limits: ImageLimits = ImageLimits()) -> None:
    """Raises BadImage unless the bytes are an accepted image within the limits (decodes it fully)."""
    # Decoding and re-encoding is the check; nothing is resized and the result is not needed.
    clean_image(data, replace(limits, store_side=max(limits.max_side, limits.store_side)))


def clean_image(data: bytes, limits: ImageLimits = ImageLimits()) -> bytes:
    """Returns the image re-encoded as a metadata-free PNG, or raises BadImage."""
    if not data:
        raise BadImage("the attachment is empty")
    if len(data) > limits.max_bytes:
        raise BadImage(f"the image is too large ({len(data) // 1024} KiB, max {limits.max_bytes // 1024} KiB)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format or ""
                if fmt not in ALLOWED_FORMATS:
                    raise BadImage(f"only PNG, JPEG or WebP images are accepted (got {fmt or 'unknown'})")
                w, h = img.size
                if w > limits.max_side or h > limits.max_side or w * h > limits.max_pixels:
                    raise BadImage(f"the image is too big ({w}x{h} pixels, max {limits.max_pixels} pixels)")
                img.seek(0)  # animated images: the first frame only
                rgb = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage("the image expands to too many pixels (possible decompression bomb)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise BadImage("that file is not a readable image") from None
    rgb.thumbnail((limits.store_side, limits.store_side))
    out = io.BytesIO()
    rgb.save(out, "PNG")
    return out.getvalue()
