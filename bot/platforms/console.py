"""The console platform: one local "thread" driven by a REPL or a script file.

Panels go to OUT/panels/NNN.png with one line per panel in OUT/panels.jsonl; refused
commands go to OUT/errors.jsonl and the script goes on, like a chat; every reply of a script
goes to OUT/transcript.md. `/world branch N` opens a new thread whose files go to
OUT/branches/<world id>/ (the lines after it act on the branch), so the story it branched from
keeps its files. At the end each world's storyboard sheet (sheet.png) and world file
(world.json) are written into its folder. Replies here are plain text. Attach it with
`App.serving(ConsolePlatform(...))` like any platform.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot import commands as c
from bot.context import Actor, Attachment, Delivery, Place, Reply
from bot.grammar import parse
from bot.service import WorldService
from engine.errors import WorldError

PLACE = Place("console", "local", "console", "main")
BRANCHES = "branches"
# "[alice] /continue ...", "[alice]: /continue ..." or "alice: /continue ..." (a chat log's shape)
AUTHOR_PREFIX = re.compile(r"^(?:\[([^\[\]]{1,60})\]:?|([^\s:/\[\]][^:/\[\]]{0,39}):(?=\s*/))\s*")
_STRUCK = re.compile(r"~~(.+?)~~")


def folder_for(out: Path, place: Place, world_id: str) -> Path:
    """Where a thread's files go: the console's own thread in OUT, a branch in OUT/branches/<world id>."""
    return out if place == PLACE else out / BRANCHES / world_id


def plain(text: str) -> str:
    """A chat reply as console text: no **bold**, and struck-through (undone) lines said in words."""
    return _STRUCK.sub(r"\1 (undone)", text).replace("**", "")


class ConsoleOutlet:
    """Writes finished panels into their thread's folder."""

    def __init__(self, out: Path) -> None:
        self.out = out

    async def deliver(self, d: Delivery) -> str:
        """Writes the panel and its line in panels.jsonl; returns its path under OUT."""
        folder = folder_for(self.out, d.place, d.world_id)
        name = f"panels/{d.panel:03d}.png" if d.take == 0 else f"panels/{d.panel:03d}-{d.take}.png"
        record = {**d.record, "image": name}
        await asyncio.to_thread(self._write, folder, name, d.png, json.dumps(record, ensure_ascii=False))
        return (folder / name).relative_to(self.out).as_posix()

    @staticmethod
    def _write(folder: Path, name: str, png: bytes, line: str) -> None:
        write_file(folder / name, png)
        append_line(folder / "panels.jsonl", line)

    async def failed(self, place: Place, job_id: str, panel: int, error: str) -> None:
        print(f"panel {panel} failed: {error}", file=sys.stderr)


@dataclass
class Outcome:
    reply: Reply
    error: str | None
    image: str | None = None  # where the panel was written

    def text(self) -> str:
        """What the console shows for it: plain text, and where the panel went."""
        said = plain(self.error if self.error is not None else self.reply.text)
        return f"{said}\n   → {self.image}" if self.image else said


class ConsolePlatform:
    """Runs lines of the grammar against one local thread (and the branches made from it)."""

    name = PLACE.platform

    def __init__(self, service: WorldService, out: Path, base_dir: Path | None = None,
                 default_title: str = "Untitled world") -> None:
        self.service = service
        self.out = out
        self.base_dir = base_dir or Path.cwd()
        self.default_title = default_title
        self.place = PLACE  # the thread the next line acts on: a branch once one is made
        self.branches: list[Place] = []
        self._outlet = ConsoleOutlet(out)

    async def start(self) -> None:
        await asyncio.to_thread((self.out / "panels").mkdir, parents=True, exist_ok=True)

    @property
    def outlet(self) -> ConsoleOutlet:
        return self._outlet

    async def close(self) -> None:
        pass

    async def run_line(self, line: str) -> Outcome | None:
        """One line: `[author] /command ...`; None for blank lines and comments."""
        text = line.strip()
        if not text or text.startswith("#"):
            return None
        author = "you"
        m = AUTHOR_PREFIX.match(text)
        if m:
            author, text = (m.group(1) or m.group(2)).strip() or "you", text[m.end():].strip()
        actor = Actor("console", author, author)
        place = self.place
        try:
            command = parse(text, self.service.catalogue)
            files = await self._files(command)
            spec = self.service.catalogue.spec_for(type(command))
            if (spec is None or spec.needs_world) and await self.service.world_id_for(place) is None:
                await self.service.execute(c.NewWorld(title=self.default_title), actor, place)
        except WorldError as e:
            return Outcome(Reply(str(e), ephemeral=True, error=True), str(e))
        branching = isinstance(command, c.BranchWorld)
        reply = await self.service.execute(command, actor, place, files, text=text,
                                           new_place=self._new_branch if branching else None)
        if branching and not reply.error and self.branches:
            self.place = self.branches[-1]  # the story goes on in the branch
        world_id = reply.world_id or await self.service.world_id_for(place)
        folder = folder_for(self.out, place, world_id or "")
        if isinstance(command, c.MakePages):
            folder = folder / "pages"
        for name, data in reply.files:
            await asyncio.to_thread(write_file, _inside(folder, name), data)
        if reply.error:
            return Outcome(reply, reply.text)
        if reply.ticket is not None:
            try:
                image = await reply.ticket.done
            except Exception as e:  # the render failed: report it like a refused command
                return Outcome(reply, f"rendering failed: {e}")
            return Outcome(reply, None, str(self.out / image))
        return Outcome(reply, None)

    async def _new_branch(self, title: str) -> Place:
        place = Place(PLACE.platform, PLACE.workspace, PLACE.channel, f"branch-{secrets.token_hex(4)}")
        self.branches.append(place)
        return place

    async def _files(self, command: c.Command) -> list[Attachment]:
        path = getattr(command, "image", None) or getattr(command, "path", None)
        if not path:
            return []
        try:
            name, data = await asyncio.to_thread(_read_local, self.base_dir, path)
        except OSError:
            raise WorldError(f"cannot read the file {path!r}") from None
        return [Attachment(name, data)]

    async def run_script(self, lines: AsyncIterator[str] | list[str], strict: bool = False,
                         echo: TextIO | None = None) -> int:
        """Runs every line; returns the number of refused lines (stops at the first when strict).

        Every reply goes to OUT/transcript.md as it comes (and to `echo`), refusals also to
        OUT/errors.jsonl; both are appended to, so a continued story keeps its earlier lines.
        """
        for log in ("panels.jsonl", "errors.jsonl", "transcript.md"):  # there, even when empty
            await asyncio.to_thread(_touch, self.out / log)
        errors = 0
        n = 0
        async for line in _aiter(lines):
            n += 1
            outcome = await self.run_line(line)
            if outcome is None:
                continue
            said = outcome.text()
            if echo is not None:
                print(f"> {line.strip()}\n{said}", file=echo, flush=True)
            await asyncio.to_thread(append_line, self.out / "transcript.md", transcript_entry(n, line, said))
            if outcome.error is not None:
                errors += 1
                entry = {"line": n, "command": line.strip(), "error": outcome.error}
                await asyncio.to_thread(append_line, self.out / "errors.jsonl", json.dumps(entry, ensure_ascii=False))
                if strict:
                    break
        return errors

    async def finish(self) -> list[Path]:
        """Writes sheet.png and world.json of the console's world and of each branch made here;
        returns the sheets' paths (the console's own first)."""
        sheets = []
        for place in (PLACE, *self.branches):
            world_id = await self.service.world_id_for(place)
            if world_id is None:
                continue
            folder = folder_for(self.out, place, world_id)
            sheet = await self.service.storyboard(world_id)
            await asyncio.to_thread(write_file, folder / "sheet.png", sheet)
            export = await self.service.execute(c.ExportWorld(), Actor("console", "you", "you"), place)
            if export.files:
                await asyncio.to_thread(write_file, folder / "world.json", export.files[0][1])
            sheets.append(folder / "sheet.png")
        return sheets


def transcript_entry(n: int, line: str, said: str) -> str:
    """One line of a script and its answer, as Markdown."""
    fence = "````" if "```" in said else "```"
    return f"#### {n}. {line.strip()}\n\n{fence}text\n{said}\n{fence}\n"


async def _aiter(lines: AsyncIterator[str] | list[str]) -> AsyncIterator[str]:
    if isinstance(lines, list):
        for line in lines:
            yield line
    else:
        async for line in lines:
            yield line


async def stdin_lines(prompt: str = "worldloom> ", stream: TextIO | None = None) -> AsyncIterator[str]:
    """Lines from stdin without blocking the event loop.

    A daemon thread reads, one line each time the loop asks for one: a thread blocked in
    readline() must not keep the process alive after Ctrl-C (the default executor would).
    """
    stream = stream or sys.stdin
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()
    wanted = threading.Event()

    def read() -> None:
        while True:
            wanted.wait()
            wanted.clear()
            try:
                line = stream.readline()
            except (OSError, ValueError):
                line = ""
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            except RuntimeError:  # the loop is gone: the console is closing
                return
            if not line:
                return

    threading.Thread(target=read, name="worldloom-stdin", daemon=True).start()
    while True:
        if stream.isatty():
            print(prompt, end="", flush=True)
        wanted.set()
        line = await lines.get()
        if not line:
            return
        yield line


def _read_local(base: Path, path: str) -> tuple[str, bytes]:
    p = Path(path).expanduser()
    p = p if p.is_absolute() else base / p
    return p.name, p.read_bytes()


def _inside(folder: Path, name: str) -> Path:
    """A reply's file name under its folder ("pages/page-001.png" too), never outside it."""
    parts = [p for p in Path(name).parts if p not in ("", ".", "..", "/", "\\")]
    return folder.joinpath(*parts) if parts else folder / "file"


def write_file(path: Path, data: bytes) -> None:
    """Whole or not at all: an interrupted run never leaves half a PNG behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.part")
    part.write_bytes(data)
    os.replace(part, path)


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
