"""worldloom with its real chat adapters, as a child process for tests/test_crash_platforms.py.

Usage: python -m tests.crash_bot CONFIG.json   (tokens in the environment, as `worldloom run` reads them)

The config names the database and the [discord] / [slack] sections, which point the adapters at the
fakes the parent runs (api_base, gateway_url, files_base, port). It serves like `worldloom run`
(bot.runner.platform_builders, App.serving), with a renderer that draws a tiny PNG at once so
that a round of commands takes milliseconds (or, with "render_seconds" in the config, holds its
worker thread that long per batch, like a busy GPU: tests/bench_ack.py). Prints SERVING once every
platform is served, and stops cleanly on SIGTERM; the parent mostly stops it with SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import io
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from bot.app import open_app
from bot.config import Settings
from bot.limits import Limits
from bot.runner import platform_builders
from engine.jobs import Progress, RenderJob
from engine.renderers.storyboard.renderer import SketchRenderer


class QuickRenderer:
    """A 16x16 PNG per job, coloured by its seed (after `seconds` of simulated GPU work per batch)."""

    name = "sketch"
    capabilities = SketchRenderer.capabilities

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self._stop = threading.Event()

    def load(self) -> None:
        pass

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        busy_until = time.monotonic() + self.seconds  # the worker thread is busy; the event loop is not
        while time.monotonic() < busy_until and not self._stop.wait(0.05):
            if not all(progress(job.job_id, 0, 1) for job in jobs):
                break  # cancelled (the engine is closing)
        out = []
        for job in jobs:
            progress(job.job_id, 1, 1)
            buf = io.BytesIO()
            Image.new("RGB", (16, 16), (job.seed % 256, job.seed // 256 % 256, 90)).save(buf, "PNG")
            out.append(buf.getvalue())
        return out

    def close(self) -> None:
        self._stop.set()


async def main(config: dict[str, Any]) -> int:
    settings = Settings(database=config["database"], discord=config.get("discord", {}),
                        slack=config.get("slack", {}), limits=Limits(renders_per_minute=0))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with open_app(settings, renderer=QuickRenderer(float(config.get("render_seconds", 0)))) as app:
        async with contextlib.AsyncExitStack() as stack:
            for build in platform_builders(settings):
                await stack.enter_async_context(app.serving(build(app.service)))
            print("SERVING", flush=True)
            await stop.wait()
    return 0


if __name__ == "__main__":
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` writes every thread's stack to stderr
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(main(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))))
