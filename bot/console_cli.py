"""`worldloom demo` and `worldloom console`: the output folder, scripts and the REPL.

A script's output folder holds one story. Running a script into a folder that already holds
one is refused unless `--force` (which deletes exactly the files a run writes: OUTPUTS) or
`--db FILE` (the story kept in FILE goes on: new panels and lines are appended). The demo owns
its folder: each run replaces the previous demo there, so it can be run again and again, and
it refuses (unless `--force`) a folder that holds some other story.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from dataclasses import replace
from importlib import resources
from pathlib import Path

from bot.app import open_app
from bot.config import Settings, SetupError, check_renderer
from bot.platforms.console import ConsolePlatform, stdin_lines
from bot.public_settings import QuotaSettings
from engine.renderers.registry import NAMES as RENDERERS

# What a run writes into its folder (the script's own database, world.db, aside).
OUTPUTS = ("panels", "branches", "pages", "panels.jsonl", "errors.jsonl", "transcript.md", "sheet.png", "world.json")
DEMO_DB = "demo.db"
SCRIPT_DB = "world.db"


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    renderers = f"{', '.join(RENDERERS)} (default: the config's, else sketch)"
    demo = sub.add_parser("demo", help="render the bundled story with no token, GPU or network",
                          description="Render the bundled story into its own folder; a second run replaces "
                                      "the first.")
    demo.add_argument("--out", default="worldloom-demo", help="output folder (default: worldloom-demo)")
    demo.add_argument("--renderer", choices=RENDERERS, metavar="NAME", help=renderers)
    demo.add_argument("--force", action="store_true", help="replace the output of something else than a demo")
    demo.set_defaults(func=demo_command)

    con = sub.add_parser("console", help="a local thread: a REPL on stdin, or a script file")
    con.add_argument("--script", help="run this file: one command per line, # comments, [name] sets the author")
    con.add_argument("--out", default="worldloom-out", help="output folder for panels (default: worldloom-out)")
    con.add_argument("--db", help="database file to keep the world in across runs (default for scripts: a fresh "
                     "OUT/world.db each run; for the REPL: the config's); a script with --db goes on with its story")
    con.add_argument("--force", action="store_true",
                     help=f"scripts: delete a previous run's output in OUT first ({', '.join(OUTPUTS)})")
    con.add_argument("--echo", action="store_true", help="scripts: print each command and its reply as they come")
    con.add_argument("--strict", action="store_true", help="stop at the first refused command, exit 1")
    con.add_argument("--renderer", choices=RENDERERS, metavar="NAME", help=renderers)
    con.set_defaults(func=console_command)


def previous_output(out: Path) -> list[str]:
    """The names of OUTPUTS that `out` holds."""
    return [name for name in OUTPUTS if (out / name).exists()]


def clear_output(out: Path) -> None:
    """Deletes OUTPUTS from `out`, and nothing else."""
    for name in OUTPUTS:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def remove_db(db: Path) -> None:
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)


def _local(args: argparse.Namespace, settings: Settings) -> Settings:
    """One person at a keyboard or a script: chat rate limits and daily quotas would only refuse the
    story. The renderer is checked first, so a bad one changes no folder."""
    local = replace(settings, renderer=args.renderer or settings.renderer,
                    limits=replace(settings.limits, renders_per_minute=0), quotas=QuotaSettings())
    check_renderer(local)
    return local


async def demo_command(args: argparse.Namespace, settings: Settings) -> int:
    out = Path(args.out)
    settings = replace(_local(args, settings), database=str(out / DEMO_DB))
    story = await asyncio.to_thread(_prepare_demo, out, args.force)
    started = time.perf_counter()
    errors, sheets = await _script(settings, out, story.splitlines(), strict=False, echo=True)
    seconds = time.perf_counter() - started
    print(f"\nDemo done in {seconds:.1f} s: panels in {out / 'panels'}, storyboard sheet {sheets[0]}, "
          f"world file {out / 'world.json'}, transcript {out / 'transcript.md'}, log {out / 'panels.jsonl'}")
    return 1 if errors else 0


def _prepare_demo(out: Path, force: bool) -> str:
    """The demo's folder emptied of the previous demo (never of another story); returns the bundled story."""
    found = previous_output(out)
    if found and not (out / DEMO_DB).exists() and not force:
        raise SetupError(f"{out} holds output that is not a demo's ({', '.join(found)}): "
                         "choose another --out, or add --force to replace it")
    clear_output(out)
    remove_db(out / DEMO_DB)
    out.mkdir(parents=True, exist_ok=True)
    return resources.files("bot").joinpath("demo/story.txt").read_text(encoding="utf-8")


async def console_command(args: argparse.Namespace, settings: Settings) -> int:
    out = Path(args.out)
    settings = _local(args, settings)
    if not args.script:
        return await _repl(replace(settings, database=args.db or settings.database), out)
    script = Path(args.script)
    try:
        text = await asyncio.to_thread(script.read_text, encoding="utf-8", errors="replace")
    except OSError as e:
        raise SetupError(f"cannot read {script}: {e.strerror}") from None
    if not args.db:
        await asyncio.to_thread(_fresh_folder, out, args.force)
    settings = replace(settings, database=args.db or str(out / SCRIPT_DB))
    errors, sheets = await _script(settings, out, text.splitlines(), strict=args.strict, echo=args.echo,
                                   base_dir=script.parent, title=script.stem)
    drawn = f"sheet {sheets[0]}" if sheets else "no world"
    print(f"{errors} refused command(s); panels in {out / 'panels.jsonl'}, {drawn}, "
          f"transcript {out / 'transcript.md'}")
    for sheet in sheets[1:]:
        print(f"branch: sheet {sheet}")
    return 1 if (errors and args.strict) else 0


def _fresh_folder(out: Path, force: bool) -> None:
    """A script without --db starts its story over: refuse to mix it with one already there."""
    found = previous_output(out)
    if found and not force:
        go_on = f", --db {out / SCRIPT_DB} to go on with it" if (out / SCRIPT_DB).exists() else ""
        raise SetupError(f"{out} already holds a story ({', '.join(found)}): add --force to replace it{go_on}, "
                         "or choose another --out")
    clear_output(out)
    remove_db(out / SCRIPT_DB)  # a script is a whole story: without --db every run starts from an empty world


async def _script(settings: Settings, out: Path, lines: list[str], strict: bool, echo: bool,
                  base_dir: Path | None = None, title: str = "Untitled world") -> tuple[int, list[Path]]:
    async with open_app(settings) as app, app.serving(ConsolePlatform(app.service, out, base_dir=base_dir,
                                                                      default_title=title)) as session:
        errors = await session.run_script(lines, strict=strict, echo=sys.stdout if echo else None)
        sheets = await session.finish()
    return errors, sheets


async def _repl(settings: Settings, out: Path) -> int:
    """Ctrl-D writes the sheets and says where they are; Ctrl-C leaves at once (asyncio.run raises it)."""
    async with open_app(settings) as app, app.serving(ConsolePlatform(app.service, out)) as session:
        print("worldloom console: type /help; Ctrl-D to finish (writes the sheet), Ctrl-C to quit.", flush=True)
        async for line in stdin_lines():
            outcome = await session.run_line(line)
            if outcome is not None:
                print(outcome.text(), flush=True)
        sheets = await session.finish()
    print("\n" + ("\n".join(f"Sheet: {sheet}" for sheet in sheets) if sheets else "Nothing drawn yet."), flush=True)
    return 0
