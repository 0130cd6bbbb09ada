"""A worldloom process for the crash tests: runs commands from stdin, acknowledging each one.

Usage: python -m tests.crash_child DB [--block-render] [--report-rendered]
With --block-render the renderer never finishes, so the parent can kill it mid-render; with
--report-rendered it prints RENDERED once a rendered image is committed.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Sequence

from bot.app import open_app
from bot.config import Settings
from bot.context import Actor, Place
from engine.jobs import Capabilities, Progress, RenderJob

PLACE = Place("test", "ws", "chan", "crash")
_PRINT = threading.Lock()


def say(line: str) -> None:
    """One whole line at a time: the worker thread and the loop both report to the parent."""
    with _PRINT:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class StuckRenderer:
    name = "sketch"
    capabilities = Capabilities()

    def load(self) -> None:
        pass

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        say("RENDERING")
        threading.Event().wait()  # never returns: the parent kills us here
        return []

    def close(self) -> None:
        pass


async def main(db: str, block: bool, report: bool) -> None:
    renderer = StuckRenderer() if block else None
    async with open_app(Settings(database=db), renderer=renderer) as app:
        if report:  # tell the parent the moment a rendered image is committed
            committed = app.store.job_rendered

            async def reporting(job_id: str, image: str) -> None:
                await committed(job_id, image)
                say("RENDERED")

            app.store.job_rendered = reporting  # type: ignore[method-assign]
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            author, _, command = line.strip().partition(" ")
            reply = await app.service.execute_text(command, Actor("test", author, author), PLACE)
            say(("ERR " if reply.error else "ACK ") + reply.text.replace("\n", " "))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], "--block-render" in sys.argv, "--report-rendered" in sys.argv))
