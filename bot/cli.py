"""The `worldloom` command: demo, console (REPL or script), run (the chat platforms), backup and restore.

A configuration, token or network problem (a SetupError) is one line on stderr and exit code 2;
`-v` also shows its traceback. `--config` and `-v` may come before or after the subcommand.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import traceback

from bot import console_cli
from bot.config import ENVIRONMENT, SECRET_NAMES, SECTIONS, Settings, SetupError, load_settings
from bot.logs import configure as configure_logging
from bot.store.backup import BadBackup, DatabaseInUse, backup, restore


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    secrets = [s for s in map(Settings.secret, SECRET_NAMES) if s]
    level = logging.INFO if args.verbose else logging.WARNING
    configure_logging(level, "text", secrets)
    try:
        settings = load_settings(args.config)
        if args.func is _run:  # `run` logs what its [logging] section says; the local commands warnings only
            level = min(level, logging.getLevelName(settings.logging.level.upper()))
        configure_logging(level, settings.logging.format, secrets)
        if not args.verbose:  # the libraries' own progress chatter only with -v
            for name in ("discord", "slack_bolt", "slack_sdk", "aiohttp"):
                logging.getLogger(name).setLevel(max(level, logging.WARNING))
        return int(asyncio.run(args.func(args, settings)))
    except (SetupError, DatabaseInUse) as e:
        return report(e, verbose=args.verbose)
    except KeyboardInterrupt:
        return 130


def report(error: Exception, verbose: bool) -> int:
    """One line on stderr (with the traceback before it when verbose); the exit code 2."""
    if verbose:
        traceback.print_exception(error, file=sys.stderr)
    lines = str(error).strip().splitlines() or [type(error).__name__]
    more = " (-v for details)" if len(lines) > 1 and not verbose else ""
    print(f"worldloom: {lines[0]}{more}", file=sys.stderr)
    return 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="worldloom", description="Consistent, collaborative image storytelling.")
    common_options(p, argparse.SUPPRESS)
    p.set_defaults(config=None, verbose=False)
    sub = p.add_subparsers(required=True, metavar="COMMAND")
    console_cli.add_commands(sub)

    run = sub.add_parser("run", help="run the configured chat platforms (Discord, Slack)",
                         description="Serve the chat platforms whose token is set, with one database and one "
                                     "render queue, until Ctrl-C or SIGTERM.",
                         epilog=_run_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    run.set_defaults(func=_run)

    bak = sub.add_parser("backup", help="copy the database and its images into DIR, safely while the bot runs")
    bak.add_argument("dir", help="folder for worldloom.db and blobs/ (made if missing)")
    bak.set_defaults(func=_backup)
    res = sub.add_parser("restore", help="put a folder made by `worldloom backup` back (the bot must be stopped)")
    res.add_argument("dir", help="a folder made by `worldloom backup`")
    res.set_defaults(func=_restore)

    for command in sub.choices.values():  # every subcommand, also those added later, takes them after its name
        common_options(command, argparse.SUPPRESS)
    return p


def common_options(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument("--config", default=default, metavar="FILE",
                   help="config file (default: $WORLDLOOM_CONFIG, else built-in defaults)")
    p.add_argument("-v", "--verbose", action="store_true", default=default, help="log what happens; show tracebacks")


def _run_epilog() -> str:
    env = "\n".join(f"  {name:<22}{what}" for name, what in ENVIRONMENT.items())
    sections = "\n".join(f"  [{name}]{' ' * (20 - len(name))}{what}" for name, what in SECTIONS.items())
    return (f"environment variables (secrets are read only from here):\n{env}\n\n"
            f"config file sections (--config FILE; every setting is in config.example.toml):\n{sections}")


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
