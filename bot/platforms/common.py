"""The kit every chat adapter shares: tasks, progress, buttons, attachments and the words people see.

Adapters only translate their wire format; what is the same on Discord and Slack lives here:
- TaskPool: the work an adapter does after acknowledging, under one asyncio.TaskGroup;
- follow_progress: queue position and steps from JobHandle.updates(), throttled, then the outcome;
- button_command: what each panel button means as a Command;
- AttachmentPolicy: which files are fetched (type, size, host) and a capped download;
- the messages themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from bot import commands as c
from bot.context import RenderTicket
from bot.grammar import parse
from bot.images import ALLOWED_FORMATS
from engine.errors import WorldError
from engine.jobs import JobStatus

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- messages

SOMETHING_WENT_WRONG = "⚠️ Something went wrong on my side (it is logged); please try again."
NO_WORLD_IN_THREAD = ("This thread has no world yet. Start one here with /world new TITLE "
                      "(or /world import with a world file).")
NO_WORLD_HERE = "There is no world here yet: start one with /world new TITLE."
NOT_THIS_WORLD = "This panel belongs to a world that no longer lives in this thread."
NO_CHARACTERS = "This world has no characters yet: add one with /cref NAME, then press the button again."


def _take(take: int) -> str:
    return f" (take {take + 1})" if take else ""


def progress_text(panel: int, take: int, status: JobStatus) -> str:
    again = _take(take)
    if status.state == "queued":
        where = "next in the queue" if status.position == 0 else f"position {status.position} in the queue"
        return f"🎨 Panel {panel}{again} is {where}."
    if status.state == "rendering":
        steps = f": step {status.step} of {status.total}" if status.total > 1 else ""
        return f"🖌️ Panel {panel}{again} is being drawn{steps}."
    return f"📤 Panel {panel}{again} is drawn; posting it."


def failed_text(panel: int, error: object) -> str:
    return f"⚠️ Panel {panel} could not be drawn: {error}"


def outcome_text(ticket: RenderTicket, where: str = "") -> str | None:
    """The last word on a panel once its ticket is done; None when it was cancelled."""
    if ticket.done.cancelled():
        return None
    error = ticket.done.exception()
    if error is not None:
        return failed_text(ticket.panel, error)
    return f"✅ Panel {ticket.panel}{_take(ticket.take)} is posted{where}"


# ---------------------------------------------------------------- progress


async def follow_progress(ticket: RenderTicket, show: Callable[[str], Awaitable[bool]], *, every: float,
                          shown: str = "", where: Callable[[RenderTicket], str] | None = None) -> None:
    """Shows each new status at most once every `every` seconds (the latest one wins), then the outcome.

    `show` returns False once it can no longer show anything (a token expired): following stops.
    """
    loop = asyncio.get_running_loop()
    updates = ticket.handle.updates().__aiter__()
    pending: str | None = None
    next_at = 0.0
    step: asyncio.Future[JobStatus] | None = None
    try:
        while True:
            if step is None:
                step = asyncio.ensure_future(anext(updates))
            timeout = max(0.0, next_at - loop.time()) if pending is not None else None
            await asyncio.wait({step}, timeout=timeout)
            if step.done():
                try:
                    status = step.result()
                except StopAsyncIteration:
                    break
                step = None
                if status.final:
                    break
                text = progress_text(ticket.panel, ticket.take, status)
                pending = text if text != shown else None
            if pending is not None and loop.time() >= next_at:
                if not await show(pending):
                    return
                shown, pending, next_at = pending, None, loop.time() + every
        await asyncio.wait({ticket.done})
        final = outcome_text(ticket, where(ticket) if where and not ticket.done.cancelled()
                             and ticket.done.exception() is None else "")
        if final is not None and final != shown:
            await show(final)
    finally:
        if step is not None:
            step.cancel()
        with contextlib.suppress(Exception):
            await updates.aclose()  # type: ignore[attr-defined]


# ---------------------------------------------------------------- buttons

REROLL, VARY, CONTINUE, REFERENCE, UNDO = "reroll", "vary", "continue", "ref", "undo"
ACTIONS = (REROLL, CONTINUE, VARY, REFERENCE, UNDO)


def button_command(action: str, panel: int, *, text: str = "", name: str = "") -> tuple[c.Command, str]:
    """What pressing a panel's button (or submitting its modal) asks for, and how it reads as a line."""
    if action in (REROLL, VARY):  # a new take of this panel with a new seed
        return c.Reroll(panel=panel), f"/reroll {panel}"
    if action == UNDO:
        return c.Undo(), "/undo"
    if action == CONTINUE:  # the modal's words read like a typed /continue, options and all
        line = f"/continue {text.strip()}".strip()
        return parse(line), line
    if action == REFERENCE:
        return c.UsePanelAsReference(panel=panel, name=name), f"/cref {name} (panel {panel} as reference)"
    raise ValueError(f"unknown panel action {action!r}")


# ---------------------------------------------------------------- attachments

WORLD_EXTENSIONS = (".json", ".zip")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


def mib(n: int) -> str:
    """A size as people read it: "10.0 MiB", and "2 KiB" below one MiB."""
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KiB"


@dataclass(frozen=True)
class AttachmentPolicy:
    """Only files the platform itself stores, of the right type and size, are ever downloaded."""

    image_max_bytes: int
    world_max_bytes: int
    url_prefixes: tuple[str, ...]  # e.g. "https://cdn.discordapp.com/"

    def check(self, *, filename: str, content_type: str, size: int, url: str, kind: str) -> int:
        """Raises WorldError unless the file may be fetched; returns the byte limit for the download."""
        ctype = content_type.split(";")[0].strip().lower()
        if kind == "image":
            limit = self.image_max_bytes
            if not (ctype in ALLOWED_FORMATS.values() if ctype else filename.lower().endswith(IMAGE_EXTENSIONS)):
                raise WorldError(f"{filename} is not an image I accept: attach a PNG, JPEG or WebP file.")
        else:
            limit = self.world_max_bytes
            if not filename.lower().endswith(WORLD_EXTENSIONS):
                raise WorldError(f"{filename} is not a world file: attach the .json or .zip from /world export.")
        if size > limit:
            raise WorldError(f"{filename} is too large ({mib(size)}; the limit is {mib(limit)}).")
        if not url.startswith(self.url_prefixes):
            raise WorldError(f"{filename} is not stored on this platform; attach the file to your message.")
        return limit

    def sendable(self, text: str, files: Sequence[tuple[str, bytes]],
                 upload_limit: int) -> tuple[str, list[tuple[str, bytes]]]:
        """The files a reply may post, and its text with a line for each one refused: over the
        platform's upload limit, or a world file too large to be imported again."""
        keep: list[tuple[str, bytes]] = []
        for name, data in files:
            world = name.lower().endswith(WORLD_EXTENSIONS)
            limit, why = upload_limit, "the most this platform takes"
            if world and self.world_max_bytes < limit:
                limit, why = self.world_max_bytes, "the most a world file may be to import it again"
            if len(data) <= limit:
                keep.append((name, data))
                continue
            text += f"\n⚠️ {name} was not sent: it is {mib(len(data))}, over {mib(limit)} ({why})."
            if world:
                text += " Branch from an earlier panel for a smaller world."
        return text, keep


async def read_capped(chunks: AsyncIterable[bytes], limit: int, filename: str) -> bytes:
    """The whole download, refused as soon as it passes `limit` bytes (sizes can lie)."""
    data = bytearray()
    async for chunk in chunks:
        data += chunk
        if len(data) > limit:
            raise WorldError(f"{filename} is too large (the limit is {mib(limit)}).")
    return bytes(data)


# ---------------------------------------------------------------- tasks


class TaskPool:
    """The work an adapter does after acknowledging, under one TaskGroup in a task of its own.

    Every task is referenced and its failure logged (and reported with `on_error`), so one
    failure never cancels the others. `close()` gives lingering work `grace_s` to finish and
    cancels followers at once.
    """

    def __init__(self, name: str, grace_s: float = 10.0) -> None:
        self.name = name
        self.grace_s = grace_s
        self._group: asyncio.TaskGroup | None = None
        self._work: set[asyncio.Task[None]] = set()
        self._followers: set[asyncio.Task[None]] = set()
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self.failures = 0  # requests whose handling raised (the platform's errors, for metrics)

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._serve(), name=f"{self.name}-tasks")
        await self._ready.wait()

    async def _serve(self) -> None:
        async with asyncio.TaskGroup() as group:
            self._group = group
            self._ready.set()
            await self._stop.wait()
            for task in self._followers:
                task.cancel()
            if self._work:
                _, late = await asyncio.wait(set(self._work), timeout=self.grace_s)
                for task in late:
                    task.cancel()
        self._group = None

    def spawn(self, work: Coroutine[Any, Any, None], *, follower: bool = False,
              on_error: Callable[[], Awaitable[None]] | None = None) -> None:
        """Runs `work` in the group; followers (progress messages) are cancelled first on close."""
        if self._group is None:
            work.close()
            raise RuntimeError(f"{self.name}: the task pool is not running")
        if follower and self._stop.is_set():
            work.close()  # closing: followers were cancelled already, and a late one would keep close() waiting
            return
        task = self._group.create_task(self._guard(work, on_error))
        tasks = self._followers if follower else self._work
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _guard(self, work: Coroutine[Any, Any, None], on_error: Callable[[], Awaitable[None]] | None) -> None:
        try:
            await work
        except Exception:
            self.failures += 1
            log.exception("%s: handling a request failed", self.name)
            if on_error is not None:
                try:
                    await on_error()
                except Exception:
                    log.exception("%s: could not report the failure either", self.name)

    async def drain(self) -> None:
        """Waits until every piece of work in hand is done (followers aside)."""
        while self._work:
            await asyncio.wait(set(self._work))

    async def close(self) -> None:
        if self._runner is None:
            return
        self._stop.set()
        await asyncio.gather(self._runner, return_exceptions=True)
        self._runner = None
