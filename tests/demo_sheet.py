"""Regenerate docs/demo-sheet.png from `worldloom demo`: `python -m tests.demo_sheet` from the repository root.

The demo runs with the bundled font only (WORLDLOOM_SYSTEM_FONTS=0), so the picture does not depend
on the fonts a machine happens to have; tests/test_demo_sheet.py fails when the two drift apart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHEET = ROOT / "docs" / "demo-sheet.png"


def render_demo_sheet(out: Path) -> Path:
    """Run `worldloom demo --out out` in a child process with the bundled font only; returns the sheet's path."""
    env = {**os.environ, "WORLDLOOM_SYSTEM_FONTS": "0"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--out", str(out)], cwd=ROOT, env=env, check=True,
        stdout=subprocess.DEVNULL, timeout=300,
    )
    return out / "sheet.png"


def main() -> None:
    """Write the demo's sheet to docs/demo-sheet.png."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copyfile(render_demo_sheet(Path(tmp) / "demo"), SHEET)
    print(f"wrote {SHEET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
