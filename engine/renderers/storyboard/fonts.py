"""Text in any script for the storyboard renderer: the bundled font, system fallbacks, a visible placeholder.

Every character is drawn with the first font that has a glyph for it: the bundled DejaVu Sans
(Latin, Greek, Cyrillic, Hebrew, Arabic, Armenian, Georgian, symbols), then CJK and other wide
fonts found on the machine. A character no font has becomes a visible box, never '?' and never
nothing. Set WORLDLOOM_SYSTEM_FONTS=0 to draw with the bundled font alone (the demo sheet test does,
so its picture does not depend on the machine's fonts).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import ImageDraw, ImageFont

BUNDLED = Path(__file__).with_name("fonts") / "DejaVuSans.ttf"
PLACEHOLDER = "\u25a1"  # WHITE SQUARE: the "tofu" box, drawn by the bundled font
SYSTEM_DIRS = (
    "/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
    "/System/Library/Fonts", "/Library/Fonts", "C:/Windows/Fonts",
)
# System fonts worth asking for a glyph, best first (lower-case file name fragments): CJK, then wide ones.
PREFERRED = (
    "notosanscjk", "sourcehansans", "notoserifcjk", "wqy-microhei", "wqy-zenhei", "droidsansfallback",
    "pingfang", "hiragino", "msyh", "msgothic", "malgun", "simsun", "notosans", "freesans", "unifont",
    "arialuni",
)
MAX_SYSTEM_FONTS = 24
_DROP = frozenset({"Cf", "Cs"})  # joiners, direction marks, lone surrogates: nothing to draw


def find_system_fonts(dirs: Iterable[str] = SYSTEM_DIRS) -> list[Path]:
    """Font files in dirs whose names PREFERRED lists, best first (file name order among equals)."""
    found: list[tuple[int, str, Path]] = []
    for root in dirs:
        base = Path(os.path.expanduser(root))
        if not base.is_dir():
            continue
        try:
            for dirpath, _, files in os.walk(base):
                for name in files:
                    low = name.lower()
                    if not low.endswith((".ttf", ".otf", ".ttc")):
                        continue
                    rank = next((i for i, frag in enumerate(PREFERRED) if frag in low), None)
                    if rank is not None and "bold" not in low and "italic" not in low:
                        found.append((rank, low, Path(dirpath) / name))
        except OSError:
            continue
    return [p for _, _, p in sorted(found)[:MAX_SYSTEM_FONTS]]


class FontBook:
    """A fallback chain of font files: measures and draws text run by run, each run in a font that has it."""

    def __init__(self, files: Sequence[str | Path]) -> None:
        self.files = [Path(f) for f in files]
        self._fonts: dict[tuple[int, int], Any] = {}
        self._covers: dict[tuple[int, str], bool] = {}
        self._notdef: dict[int, tuple[tuple[int, int], bytes]] = {}
        self._broken: set[int] = set()

    @classmethod
    def for_machine(cls, system: bool = True, dirs: Iterable[str] = SYSTEM_DIRS) -> FontBook:
        """The bundled font, then (when system is true) the machine's wide fonts."""
        return cls([BUNDLED, *(find_system_fonts(dirs) if system else [])])

    def font(self, size: int, index: int = 0) -> Any:
        """The font at index in the chain at a pixel size (Pillow's own font if the file cannot load)."""
        size = max(6, min(int(size), 160))
        key = (index, size)
        if key not in self._fonts:
            try:
                self._fonts[key] = ImageFont.truetype(str(self.files[index]), size)
            except (OSError, ValueError, IndexError):
                self._broken.add(index)
                self._fonts[key] = ImageFont.load_default(size=size)
        return self._fonts[key]

    def covers(self, index: int, ch: str) -> bool:
        """Whether the font at index has a glyph for ch (its mask differs from the font's missing-glyph box)."""
        key = (index, ch)
        if key not in self._covers:
            if len(self._covers) > 20000:
                self._covers.clear()
            f = self.font(20, index)
            if index in self._broken:
                self._covers[key] = index == 0 and ch.isascii()
            else:
                try:
                    mask = f.getmask(ch)
                    got = (mask.size, bytes(mask))
                except (OSError, ValueError):
                    got = None
                self._covers[key] = got is not None and got != self._missing(index) and any(got[1])
        return self._covers[key]

    def _missing(self, index: int) -> tuple[tuple[int, int], bytes]:
        """The mask a font draws for a code point it lacks (a private-use one no font maps)."""
        if index not in self._notdef:
            mask = self.font(20, index).getmask("\U0010fffd")
            self._notdef[index] = (mask.size, bytes(mask))
        return self._notdef[index]

    def runs(self, text: str) -> list[tuple[int, str]]:
        """Text as (font index, piece) runs; characters no font has become PLACEHOLDER in the bundled font."""
        out: list[tuple[int, str]] = []
        for ch in clean(text):
            if ch == " " or unicodedata.category(ch) == "Mn":
                idx = out[-1][0] if out else 0  # marks and spaces stay with what they follow
            else:
                idx = next((i for i in range(len(self.files)) if self.covers(i, ch)), -1)
                if idx < 0:
                    idx, ch = 0, PLACEHOLDER
            if out and out[-1][0] == idx:
                out[-1] = (idx, out[-1][1] + ch)
            else:
                out.append((idx, ch))
        return out

    def length(self, text: str, size: int) -> float:
        """The advance width of text at a size."""
        return sum(self.font(size, i).getlength(piece) for i, piece in self.runs(text))

    def metrics(self, size: int) -> tuple[int, int]:
        """(ascent, descent) of the bundled font: every run shares its baseline."""
        return self.font(size).getmetrics()

    def origin(self, xy: tuple[float, float], text: str, size: int, anchor: str = "la") -> tuple[float, float, float]:
        """(left x, baseline y, width) of text placed by a Pillow-style two-letter anchor."""
        width = self.length(text, size)
        ascent, descent = self.metrics(size)
        h, v = (anchor + "la")[0], (anchor + "la")[1]
        x = xy[0] - {"l": 0.0, "m": width / 2, "r": width}.get(h, 0.0)
        y = xy[1] + {"a": ascent, "t": ascent, "m": (ascent - descent) / 2, "s": 0, "b": 0, "d": -descent}.get(v, 0)
        return x, y, width

    def bbox(self, xy: tuple[float, float], text: str, size: int, anchor: str = "la") -> tuple[float, ...]:
        """The box text occupies: its advance width by the bundled font's ascent and descent."""
        x, y, width = self.origin(xy, text, size, anchor)
        ascent, descent = self.metrics(size)
        return (x, y - ascent, x + width, y + descent)

    def draw(
        self, d: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, fill: Any, anchor: str = "la"
    ) -> None:
        """Draw one line of text run by run on a shared baseline."""
        x, y, _ = self.origin(xy, text, size, anchor)
        for i, piece in self.runs(text):
            f = self.font(size, i)
            d.text((x, y), piece, font=f, fill=fill, anchor="ls")
            x += f.getlength(piece)


def clean(text: str) -> str:
    """Text ready to lay out: controls become spaces, invisible format characters go, whitespace collapses."""
    out: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in _DROP or "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef":
            continue
        out.append(" " if cat in ("Cc", "Zl", "Zp", "Zs") else ch)
    return " ".join("".join(out).split())


@lru_cache(maxsize=2)
def _book(system: bool) -> FontBook:
    return FontBook.for_machine(system)


def book() -> FontBook:
    """The font chain for this process: bundled plus system fonts, or bundled alone when WORLDLOOM_SYSTEM_FONTS=0."""
    return _book(os.environ.get("WORLDLOOM_SYSTEM_FONTS", "1").strip().lower() not in ("0", "no", "false", "off"))
