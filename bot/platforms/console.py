"""The console platform: one local "thread" driven by a REPL or a script file.

Panels go to OUT/panels/NNN.png with one line per panel in OUT/panels.jsonl; refused
commands go to OUT/errors.jsonl and the script goes on, like a chat. At the end the
storyboard sheet (OUT/sheet.png) and the world file (OUT/world.json) are written. Attach it
with `App.serving(ConsolePlatform(...))` like any platform.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
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
# "[alice] /continue ...", "[alice]: /continue ..." or "alice: /continue ..." (a chat log's shape)
AUTHOR_PREFIX = re.compile(r"^(?:\[([^\[\]]{1,60})\]:?|([^\s:/\[\]][^:/\[\]]{0,39}):(?=\s*/))\s*")


class ConsoleOutlet:
    """Writes finished panels to a folder."""

    def __init__(self, out: Path) -> None:
        self.out = out
        (out / "panels").mkdir(parents=True, exist_ok=True)

    async def deliver(self, d: Delivery) -> str:
        name = f"panels/{d.panel:03d}.png" if d.take == 0 else f"panels/{d.panel:03d}-{d.take}.png"
        record = {**d.record, "image": name}
        await asyncio.to_thread(self._write, name, d.png, json.dumps(record, ensure_ascii=False))
        return name

    def _write(self, name: str, png: bytes, line: str) -> None:
        (self.out / name).write_bytes(png)
        _append_line(self.out / "panels.jsonl", line)

    async def failed(self, place: Place, job_id: str, panel: int, error: str) -> None:
        print(f"panel {panel} failed: {error}", file=sys.stderr)


@dataclass
class Outcome:
    reply: Reply
    error: str | None
    image: str | None = None  # where the panel was written


class ConsolePlatform:
    """Runs lines of the grammar against one local thread."""

    name = PLACE.platform

    def __init__(self, service: WorldService, out: Path, base_dir: Path | None = None,
                 default_title: str = "Untitled world") -> None:
        self.service = service
        self.out = out
        self.base_dir = base_dir or Path.cwd()
        self.default_title = default_title
        self._outlet = ConsoleOutlet(out)

    async def start(self) -> None:
        pass

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
        try:
            command = parse(text, self.service.catalogue)
            files = await self._files(command)
            spec = self.service.catalogue.spec_for(type(command))
            if (spec is None or spec.needs_world) and await self.service.world_id_for(PLACE) is None:
                await self.service.execute(c.NewWorld(title=self.default_title), actor, PLACE)
        except WorldError as e:
            return Outcome(Reply(str(e), ephemeral=True, error=True), str(e))
        reply = await self.service.execute(command, actor, PLACE, files, text=text)
        folder = self.out / "pages" if isinstance(command, c.MakePages) else self.out
        for name, data in reply.files:
            await asyncio.to_thread(_write_file, folder / name, data)
        if reply.error:
            return Outcome(reply, reply.text)
        if reply.ticket is not None:
            try:
                image = await reply.ticket.done
            except Exception as e:  # the render failed: report it like a refused command
                return Outcome(reply, f"rendering failed: {e}")
            return Outcome(reply, None, str(self.out / image))
        return Outcome(reply, None)

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
        """Runs every line; returns the number of refused lines (stops at the first when strict)."""
        errors = 0
        await asyncio.to_thread(_fresh_logs, self.out)
        n = 0
        async for line in _aiter(lines):
            n += 1
            outcome = await self.run_line(line)
            if outcome is None:
                continue
            if echo is not None:
                print(f"> {line.strip()}\n{outcome.reply.text}", file=echo)
            if outcome.error is not None:
                errors += 1
                entry = {"line": n, "command": line.strip(), "error": outcome.error}
                await asyncio.to_thread(_append_line, self.out / "errors.jsonl", json.dumps(entry, ensure_ascii=False))
                if strict:
                    break
        return errors

    async def finish(self) -> Path | None:
        """Writes sheet.png and world.json for the thread's world; returns the sheet's path."""
        world_id = await self.service.world_id_for(PLACE)
        if world_id is None:
            return None
        sheet = await self.service.storyboard(world_id)
        await asyncio.to_thread((self.out / "sheet.png").write_bytes, sheet)
        export = await self.service.execute(c.ExportWorld(), Actor("console", "you", "you"), PLACE)
        if export.files:
            await asyncio.to_thread((self.out / "world.json").write_bytes, export.files[0][1])
        return self.out / "sheet.png"


async def _aiter(lines: AsyncIterator[str] | list[str]) -> AsyncIterator[str]:
    if isinstance(lines, list):
        for line in lines:
            yield line
    else:
        async for line in lines:
            yield line


async def stdin_lines(prompt: str = "worldloom> ") -> AsyncIterator[str]:
    """Lines from stdin without blocking the event loop."""
    loop = asyncio.get_running_loop()
    while True:
        if sys.stdin.isatty():
            print(prompt, end="", flush=True)
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        yield line


def _read_local(base: Path, path: str) -> tuple[str, bytes]:
    p = Path(path).expanduser()
    p = p if p.is_absolute() else base / p
    return p.name, p.read_bytes()


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _append_line(path: Path, line: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def _fresh_logs(out: Path) -> None:
    (out / "panels").mkdir(parents=True, exist_ok=True)
    for name in ("panels.jsonl", "errors.jsonl"):
        (out / name).write_text("", encoding="utf-8")
