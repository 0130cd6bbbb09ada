"""worldloom with its real chat adapters, as a child process for tests/test_crash_platforms.py.

Usage: python -m tests.crash_bot CONFIG.json   (tokens in the environment, as `worldloom run` reads them)

The config names the database and the [discord] / [slack] sections, which point the adapters at the
fakes the parent runs (api_base, gateway_url, files_base, port). It serves like `worldloom run`
(bot.runner.configured_platforms, App.serving), with a renderer that draws a tiny PNG at once so
that a round of commands takes milliseconds. Prints SERVING once every platform is served, and
stops cleanly on SIGTERM; the parent mostly stops it with SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from bot.app import open_app
from bot.config import Settings
from bot.limits import Limits
from bot.runner import configured_platforms
from engine.jobs import Progress, RenderJob
from engine.renderers.storyboard.renderer import SketchRenderer


class QuickRenderer:
    """A 16x16 PNG per job, coloured by its seed."""

    name = "sketch"
    capabilities = SketchRenderer.capabilities

    def load(self) -> None:
        pass

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        out = []
        for job in jobs:
            progress(job.job_id, 1, 1)
            buf = io.BytesIO()
            Image.new("RGB", (16, 16), (job.seed % 256, job.seed // 256 % 256, 90)).save(buf, "PNG")
            out.append(buf.getvalue())
        return out

    def close(self) -> None:
        pass


async def main(config: dict[str, Any]) -> int:
    settings = Settings(database=config["database"], discord=config.get("discord", {}),
                        slack=config.get("slack", {}), limits=Limits(renders_per_minute=0))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with open_app(settings, renderer=QuickRenderer()) as app:
        async with contextlib.AsyncExitStack() as stack:
            for platform in configured_platforms(app):
                await stack.enter_async_context(app.serving(platform))
            print("SERVING", flush=True)
            await stop.wait()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(main(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))))
