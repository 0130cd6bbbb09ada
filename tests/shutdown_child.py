"""A `worldloom run` process for the shutdown tests: the configured platforms, a slow renderer.

Usage: python -m tests.shutdown_child CONFIG [--stuck]
The renderer prints RENDERING when a batch starts, then draws for about three seconds, stopping
early when asked (as a diffusion pipeline does between steps). With --stuck it never returns and
ignores every request to stop, like a hung GPU driver.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Sequence

from bot.config import load_settings
from bot.logs import configure
from bot.runner import run_platforms
from engine.errors import RenderCancelled
from engine.jobs import Progress, RenderJob
from engine.renderers.storyboard.renderer import SketchRenderer

STEPS = 60


class SlowRenderer(SketchRenderer):
    def __init__(self, stuck: bool) -> None:
        super().__init__()
        self.stuck = stuck

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        print("RENDERING", flush=True)
        if self.stuck:
            threading.Event().wait()
        for step in range(STEPS):
            if not all([progress(j.job_id, step, STEPS) for j in jobs]):
                raise RenderCancelled("stopped between steps")
            time.sleep(0.05)
        return super().render(jobs, progress)


def main() -> int:
    settings = load_settings(sys.argv[1])
    configure("INFO", "text", [])
    code = asyncio.run(run_platforms(settings, renderer=SlowRenderer("--stuck" in sys.argv)))
    print(f"EXIT {code}", flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
