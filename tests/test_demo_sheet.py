"""docs/demo-sheet.png (the README image) is what `worldloom demo` draws today."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops

from tests.demo_sheet import SHEET, render_demo_sheet


def test_docs_demo_sheet_matches_worldloom_demo(tmp_path: Path) -> None:
    fresh = Image.open(render_demo_sheet(tmp_path / "demo")).convert("RGB")
    kept = Image.open(SHEET).convert("RGB")
    hint = "docs/demo-sheet.png is stale: regenerate it with `python -m tests.demo_sheet`"
    assert fresh.size == kept.size, hint
    # A little slack for anti-aliasing that differs between FreeType builds; a changed drawing moves far more.
    diff = ImageChops.difference(fresh, kept).convert("L")
    changed = sum(diff.point(lambda v: 255 if v > 48 else 0).histogram()[255:])
    assert changed <= fresh.width * fresh.height * 0.0001, f"{hint} ({changed} pixels differ)"
