"""The `worldloom` command: demo, console (REPL or script), run (the chat platforms), backup and restore."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from dataclasses import replace
from importlib import resources
from pathlib import Path

from bot.app import open_app
from bot.config import SECRET_NAMES, ConfigError, Settings, load_settings
from bot.logs import configure as configure_logging
from bot.platforms.console import ConsolePlatform, stdin_lines
from bot.public_settings import QuotaSettings
from bot.store.backup import BadBackup, DatabaseInUse, backup, restore


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as e:
        print(f"worldloom: {e}", file=sys.stderr)
        return 2
    # `run` logs what its [logging] section says; the local commands only warnings unless -v.
    level = logging.INFO if args.verbose else logging.WARNING
    if args.func is _run:
        level = min(level, logging.getLevelName(settings.logging.level.upper()))
    configure_logging(level, settings.logging.format, filter(None, map(Settings.secret, SECRET_NAMES)))
    if getattr(args, "renderer", None):
        settings.renderer = args.renderer
    if args.func in (_demo, _console):
        # One person at a local keyboard or a script: chat rate limits and daily quotas would only refuse the story.
        settings.limits = replace(settings.limits, renders_per_minute=0)
        settings.quotas = QuotaSettings()
    try:
        return asyncio.run(args.func(args, settings))
    except (ConfigError, DatabaseInUse) as e:
        print(f"worldloom: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="worldloom", description="Consistent, collaborative image storytelling.")
    p.add_argument("--config", help="config file (default: $WORLDLOOM_CONFIG, else built-in defaults)")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="render the bundled story with no token, GPU or network")
    demo.add_argument("--out", default="worldloom-demo", help="output folder (default: worldloom-demo)")
    demo.add_argument("--renderer", help="sketch (default), tiny or diffusion")
    demo.set_defaults(func=_demo)

    con = sub.add_parser("console", help="a local thread: a REPL on stdin, or a script file")
    con.add_argument("--script", help="run this file: one command per line, # comments, [name] sets the author")
    con.add_argument("--out", default="worldloom-out", help="output folder for panels (default: worldloom-out)")
    con.add_argument("--db", help="database file to keep the world in across runs (default for scripts: a fresh "
                     "OUT/world.db each run; for the REPL: the config's)")
    con.add_argument("--strict", action="store_true", help="stop at the first refused command, exit 1")
    con.add_argument("--renderer", help="sketch (default), tiny or diffusion")
    con.set_defaults(func=_console)

    run = sub.add_parser("run", help="run the configured chat platforms (Discord, Slack)")
    run.set_defaults(func=_run)

    bak = sub.add_parser("backup", help="copy the database and its images into DIR, safely while the bot runs")
    bak.add_argument("dir", help="folder for worldloom.db and blobs/ (made if missing)")
    bak.set_defaults(func=_backup)
    res = sub.add_parser("restore", help="put a folder made by `worldloom backup` back (the bot must be stopped)")
    res.add_argument("dir", help="a folder made by `worldloom backup`")
    res.set_defaults(func=_restore)
    return p


async def _demo(args: argparse.Namespace, settings: Settings) -> int:
    out = Path(args.out)
    db = out / "demo.db"
    story = await asyncio.to_thread(_prepare_demo, out, db)
    started = time.perf_counter()
    errors, sheet = await _script(replace(settings, database=str(db)), out, story.splitlines(), strict=False,
                                  echo=True)
    seconds = time.perf_counter() - started
    print(f"\nDemo done in {seconds:.1f} s: panels in {out / 'panels'}, storyboard sheet {sheet}, "
          f"world file {out / 'world.json'}, log {out / 'panels.jsonl'}")
    return 1 if errors else 0


async def _console(args: argparse.Namespace, settings: Settings) -> int:
    out = Path(args.out)
    if args.script:
        script = Path(args.script)
        try:
            text = await asyncio.to_thread(script.read_text, encoding="utf-8", errors="replace")
            lines = text.splitlines()
        except OSError as e:
            print(f"worldloom: cannot read {script}: {e.strerror}", file=sys.stderr)
            return 2
        if not args.db:
            # A script is a whole story: without --db every run starts from an empty world.
            await asyncio.to_thread(_remove_db, out / "world.db")
        settings = replace(settings, database=args.db or str(out / "world.db"))
        errors, sheet = await _script(settings, out, lines, strict=args.strict, echo=False,
                                      base_dir=script.parent, title=script.stem)
        print(f"{errors} refused command(s); panels in {out / 'panels.jsonl'}, sheet {sheet}")
        return 1 if (errors and args.strict) else 0
    if args.db:
        settings = replace(settings, database=args.db)
    async with open_app(settings) as app, app.serving(ConsolePlatform(app.service, out)) as session:
        print("worldloom console: type /help, Ctrl-D to quit.")
        async for line in stdin_lines():
            outcome = await session.run_line(line)
            if outcome is not None:
                print(outcome.error or outcome.reply.text)
                if outcome.image:
                    print(f"   → {outcome.image}")
        await session.finish()
    return 0


async def _script(settings: Settings, out: Path, lines: list[str], strict: bool, echo: bool,
                  base_dir: Path | None = None, title: str = "Untitled world") -> tuple[int, Path | None]:
    async with open_app(settings) as app, app.serving(ConsolePlatform(app.service, out, base_dir=base_dir,
                                                                      default_title=title)) as session:
        errors = await session.run_script(lines, strict=strict, echo=sys.stdout if echo else None)
        sheet = await session.finish()
    return errors, sheet


def _remove_db(db: Path) -> None:
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)


def _prepare_demo(out: Path, db: Path) -> str:
    """A fresh demo database each time (the story starts over); returns the bundled story."""
    out.mkdir(parents=True, exist_ok=True)
    _remove_db(db)
    return resources.files("bot").joinpath("demo/story.txt").read_text(encoding="utf-8")


async def _backup(args: argparse.Namespace, settings: Settings) -> int:
    try:
        done = await asyncio.to_thread(backup, settings.database, args.dir)
    except BadBackup as e:
        print(f"worldloom: {e}", file=sys.stderr)
        return 2
    print(f"backed up {settings.database} to {done.database} (integrity {done.integrity}); "
          f"{done.blobs} new image file(s), {done.blobs_total} in all")
    return 0


async def _restore(args: argparse.Namespace, settings: Settings) -> int:
    try:
        done = await asyncio.to_thread(restore, args.dir, settings.database)
    except (BadBackup, DatabaseInUse) as e:
        print(f"worldloom: {e}", file=sys.stderr)
        return 2
    print(f"restored {done.database} from {args.dir} (integrity {done.integrity}); "
          f"{done.blobs} image file(s) put back, {done.blobs_total} in the backup")
    return 0


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runner import run_platforms

    return await run_platforms(settings)


if __name__ == "__main__":
    raise SystemExit(main())
