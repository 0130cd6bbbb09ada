"""The text grammar: one chat or console line -> one Command.

Every platform's typed text goes through `parse`; Discord's structured slash options do not.
The grammar is forgiving where phones and chat clients mangle input (em dashes for `--`,
curly quotes, a missing `/`) and strict everywhere else, with errors that say what to type.
Pure: standard library only.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot import commands as c
from engine.errors import WorldError

MAX_LINE = 4000
MAX_NAME = 60
MAX_TITLE = 100  # a Discord thread name holds at most 100 characters
MAX_PANEL = 2**31 - 1  # keeps panel numbers inside SQLite's integer range
TARGET_AREA = 768 * 512

# Cc control characters become spaces (tab survives); newlines too, so a line is one line.
_CONTROLS = {i: " " for i in (*range(32), *range(127, 160)) if i != 9}
_TOKEN = re.compile(r"\S+")
_OPEN_QUOTES = '"“”„'  # ” opens too: some keyboards only ever type one curly quote
_CLOSE_QUOTES = '"“”'
_DASHES = "—–"  # em and en dash: what autocorrect makes of "--"
_INT = re.compile(r"[+-]?\d+")
_AR = re.compile(r"(\d{1,6})\s*[:xX×]\s*(\d{1,6})")


class GrammarError(WorldError):
    """A line that does not parse; the message is ready to show to the person who typed it."""

    def __init__(self, message: str, *, command: str | None = None,
                 suggestion: str | None = None) -> None:
        super().__init__(message)
        self.command = command  # canonical command name, when known
        self.suggestion = suggestion  # the nearest valid command or option, when one is close


@dataclass(frozen=True)
class _Spec:
    usage: str
    summary: str
    args: str  # how the words that are not options are read: see _build
    options: tuple[str, ...] = ()


_RENDER_OPTS = ("seed", "ar", "no", "steps")
_SPECS: dict[str, _Spec] = {
    "world new": _Spec("/world new [TITLE] [--style TEXT] [--negative TEXT] [--seed N] [--ar W:H]",
                       "start a new world in a new thread", "title",
                       ("style", "negative", "seed", "ar")),
    "world show": _Spec("/world show", "show the world: style, scene, characters", "none"),
    "world history": _Spec("/world history", "who changed what, newest last", "none"),
    "world export": _Spec("/world export", "download the world as a file", "none"),
    "world import": _Spec("/world import [PATH]", "load a world file (chat: attach it)", "path"),
    "world branch": _Spec("/world branch PANEL", "a new world from the story up to PANEL",
                          "panel"),
    "cref": _Spec("/cref NAME [DESCRIPTION] [--image PATH] [--cw 0-100] [--alias NAME]... [--lock]",
                  'register or update a character; quote names with spaces: "Sir Aldric"',
                  "name", ("image", "cw", "alias", "lock")),
    "sref": _Spec("/sref [STYLE TEXT] [--image PATH] [--sw 0-100]",
                  "set the style from words and/or a reference image", "text", ("image", "sw")),
    "scene": _Spec("/scene [LOCATION [DESCRIPTION]] [--time T] [--light L] [--weather W]",
                   "move to a location and set time, light and weather", "location",
                   ("time", "light", "weather")),
    "imagine": _Spec("/imagine TEXT [--seed N] [--ar W:H] [--no TEXT] [--steps N]",
                     "draw a panel from this text alone", "text!", _RENDER_OPTS),
    "continue": _Spec("/continue [TEXT] [--seed N] [--ar W:H] [--no TEXT] [--steps N]",
                      "move the story on and draw the next panel", "text", _RENDER_OPTS),
    "reroll": _Spec("/reroll [PANEL]", "draw the last panel (or PANEL) again, new seed",
                    "panel?"),
    "undo": _Spec("/undo", "take back the last command in this world", "none"),
    "why": _Spec("/why [PANEL]", "show what went into the last panel's prompt", "panel?"),
    "help": _Spec("/help [COMMAND]", "this list, or the details of one command", "topic"),
}
COMMAND_NAMES: tuple[str, ...] = tuple(_SPECS)
USAGE: dict[str, str] = {name: spec.usage for name, spec in _SPECS.items()}
_TOP_NAMES = tuple(dict.fromkeys(name.split()[0] for name in COMMAND_NAMES))
_WORLD_SUBS = tuple(name.split()[1] for name in COMMAND_NAMES if name.startswith("world "))

# Kinds: "words" runs to the next option; "token" is one (maybe quoted) token; "name" is a
# repeatable NAME; "flag" takes nothing; ints carry their range; "ar" is W:H.
_INT_RANGES = {"seed": (0, 2**32 - 1), "steps": (1, 150), "cw": (0, 100), "sw": (0, 100)}
_KINDS = {"style": "words", "negative": "words", "no": "words", "time": "words",
          "light": "words", "weather": "words", "image": "token", "alias": "name",
          "lock": "flag", "ar": "ar", **{k: "int" for k in _INT_RANGES}}
_OPTION_HELP = {
    "style": "--style TEXT      words put into every prompt (all words up to the next option)",
    "negative": "--negative TEXT   what never to draw in this world",
    "no": "--no TEXT         what not to draw in this panel",
    "seed": "--seed N          0-4294967295, the same seed redraws the same picture",
    "ar": "--ar W:H          aspect ratio, e.g. 16:9 or 2x3 (sides 1-21, between 1:4 and 4:1)",
    "steps": "--steps N         1-150 sampling steps",
    "image": "--image PATH      reference image (chat: attach it instead)",
    "cw": "--cw 0-100        0 keeps only the face, 100 also hair and clothes",
    "sw": "--sw 0-100        how strongly the style image counts",
    "alias": "--alias NAME      another name for the character; repeat for more",
    "lock": "--lock            only you, the world's creator and moderators may change it",
    "time": "--time T          time of day: dawn, noon, night ...",
    "light": "--light L         lighting: candlelit, harsh neon ...",
    "weather": "--weather W       rain, fog, clear ...",
}


def _show(text: str, limit: int = 40) -> str:
    """Echo user input in an error without letting a huge token flood the reply."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fail(message: str, command: str | None = None,
          suggestion: str | None = None) -> GrammarError:
    """Build an error that ends with the command's usage line when there is one."""
    if command is not None:
        message = f"{message}\nusage: {USAGE[command]}"
    return GrammarError(message, command=command, suggestion=suggestion)


def _nearest(word: str, choices: tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None


# ---------------------------------------------------------------- entry point


def parse(line: str) -> c.Command:
    """Parse one chat or console line, with or without the leading "/"."""
    if not isinstance(line, str):
        raise GrammarError("a command must be text")
    text = line.translate(_CONTROLS).strip()
    if len(text) > MAX_LINE:
        raise GrammarError(f"command too long ({len(text)} characters, max {MAX_LINE})")
    m = _TOKEN.match(text)
    if m is not None and m.group() in ("/", "／"):  # "/ continue": a stray space after the slash
        m = _TOKEN.search(text, m.end())
    if m is None:
        raise GrammarError("empty command — try /help")
    word, pos = m.group(), m.end()
    name = (word[1:] if word[0] in "/／" else word).lower()
    if name == "world":
        m = _TOKEN.search(text, pos)
        if m is None:
            raise GrammarError("/world needs a subcommand: " + ", ".join(_WORLD_SUBS))
        name, pos = "world " + m.group().lower(), m.end()
        if name not in _SPECS:
            raise _unknown("subcommand", name[6:], _WORLD_SUBS, "/world ")
    elif name not in _SPECS:
        raise _unknown("command", name, _TOP_NAMES)
    return _build(name, text[pos:])


def _unknown(what: str, typed: str, choices: tuple[str, ...], prefix: str = "/") -> GrammarError:
    """`unknown command "/contnue" — did you mean /continue?` and the list to choose from."""
    best = _nearest(typed, choices)  # compare bare words: "/world " would match any subcommand
    hint = f" — did you mean {prefix}{best}?" if best else ""
    return GrammarError(f'unknown {what} "{prefix}{_show(typed)}"{hint}\n{what}s: '
                        + ", ".join(prefix + n for n in choices),
                        suggestion=best and prefix + best)


# ---------------------------------------------------------------- scanning


@dataclass
class _Scan:
    """The arguments of one command: positional pieces and converted option values."""

    pieces: list[tuple[str, bool]]  # (verbatim text, was it one quoted NAME)
    opts: dict[str, Any]  # option name -> converted value
    aliases: list[str]


def _option(token: str) -> tuple[str, str | None] | None:
    """(name, inline value) when the token is an option, else None (then it is plain text)."""
    body = token[2:] if token.startswith("--") else token[1:] if token[0] in _DASHES else ""
    if not body or not body[0].isalpha():  # "--", "-5", "—" and "--5" stay text
        return None
    name, eq, value = body.partition("=")
    return name.lower(), (value if eq else None)


def _quoted(text: str, start: int, what: str, command: str) -> tuple[str, int]:
    """The words inside the quote that opens at `start`, and the index just past its close."""
    close = next((i for i in range(start + 1, len(text)) if text[i] in _CLOSE_QUOTES), -1)
    if close < 0:
        raise _fail(f"unclosed quote in {what}: {_show(text[start:])}", command)
    return text[start + 1 : close].strip(), close + 1


def _scan(command: str, rest: str) -> _Scan:
    """Split the arguments into text pieces and options, converting option values as it goes."""
    spec = _SPECS[command]
    quote_first = spec.args in ("name", "location", "title", "path")
    scan = _Scan([], {}, [])
    run: list[int] = []  # start and end of the current run of plain words

    def flush() -> None:
        if run:
            scan.pieces.append((rest[run[0] : run[1]], False))
            run.clear()

    pos = 0
    while (m := _TOKEN.search(rest, pos)) is not None:
        opt = _option(m.group())
        if opt is None:
            if quote_first and not scan.pieces and not run and m.group()[0] in _OPEN_QUOTES:
                words, pos = _quoted(rest, m.start(), spec.args.upper(), command)
                scan.pieces.append((words, True))
                continue
            run[:] = [run[0] if run else m.start(), m.end()]
            pos = m.end()
            continue
        flush()
        pos = _take_option(command, m.group(), opt, rest, m.end(), scan)
    flush()
    return scan


def _take_option(command: str, token: str, opt: tuple[str, str | None], rest: str,
                 pos: int, scan: _Scan) -> int:
    """Read one option's value from `rest` at `pos`; returns where scanning resumes."""
    name, inline = opt
    allowed = _SPECS[command].options
    if name not in allowed:
        raise _unknown_option(command, token, name, allowed)
    if name in scan.opts:
        raise _fail(f"--{name} given twice", command)
    kind = _KINDS[name]
    if kind == "flag":
        if inline is not None:
            raise _fail(f"--{name} takes no value", command)
        scan.opts[name] = True
        return pos
    if kind == "words":  # everything up to the next option, verbatim
        start, end = -1, pos
        while (m := _TOKEN.search(rest, end)) is not None and _option(m.group()) is None:
            start, end = (m.start() if start < 0 else start), m.end()
        value = ((inline or "") + " " + (rest[start:end] if start >= 0 else "")).strip()
        if not value:
            raise _fail(f"--{name} needs a value", command)
        scan.opts[name] = _unquote(value)
        return end
    if inline is not None:
        value = inline
    else:
        m = _TOKEN.search(rest, pos)
        if m is None or _option(m.group()) is not None:
            raise _fail(f"--{name} needs a value", command)
        if m.group()[0] in _OPEN_QUOTES:
            value, pos = _quoted(rest, m.start(), f"--{name}", command)
        else:
            value, pos = m.group(), m.end()
    if kind == "name":  # --alias repeats, so it lives outside opts and is never a duplicate
        scan.aliases.append(_check_name(value, "--alias", command))
    elif kind == "int":
        scan.opts[name] = _int(value, f"--{name}", *_INT_RANGES[name], command)
    elif kind == "ar":
        scan.opts[name] = _ratio(value, command)
    else:
        if not value:
            raise _fail(f"--{name} needs a value", command)
        scan.opts[name] = value
    return pos


def _unknown_option(command: str, token: str, name: str,
                    allowed: tuple[str, ...]) -> GrammarError:
    """Explain an option that this command does not take, naming the closest one it does."""
    tip = ""
    if token[0] in _DASHES:  # an em dash in prose looks like an option; say how to avoid that
        tip = f"\n(to write a dash in text, put a space after it: {token[0]} {_show(token[1:], 20)})"
    if not allowed:
        return _fail(f"/{command} takes no options, got {_show(token)}{tip}", command)
    best = _nearest(name, allowed)
    listed = ", ".join("--" + o for o in allowed)
    if best:
        msg = f'unknown option "{_show(token)}" for /{command} — did you mean --{best}?'
    elif name in _KINDS:
        msg = f"--{name} is not an option of /{command}; its options are {listed}"
    else:
        msg = f'unknown option "{_show(token)}" for /{command}; its options are {listed}'
    return _fail(msg + tip, command, suggestion=best and "--" + best)


# ---------------------------------------------------------------- values


def _unquote(value: str) -> str:
    """Drop one pair of quotes around a whole value ("--style "ink wash""), nothing else."""
    inner = value[1:-1]
    if (len(value) >= 2 and value[0] in _OPEN_QUOTES and value[-1] in _CLOSE_QUOTES
            and not any(q in inner for q in _CLOSE_QUOTES)):
        return inner.strip()
    return value


def _int(value: str, what: str, low: int, high: int, command: str) -> int:
    """An integer within [low, high]; the error names both the value and the range."""
    # int() of a 4000-digit token is slow and useless; 30 digits is already far out of range
    number = int(value) if _INT.fullmatch(value) and len(value) <= 30 else None
    if number is None or not low <= number <= high:
        raise _fail(f"{what} must be {low}-{high}, got {_show(value)}", command)
    return number


def _ratio(value: str, command: str) -> tuple[int, int]:
    """`--ar W:H` (or WxH) -> (W, H), sides 1-21 and no more elongated than 1:4."""
    m = _AR.fullmatch(value)
    if m is None:
        raise _fail(f"--ar must look like W:H (e.g. 16:9), got {_show(value)}", command)
    w, h = int(m[1]), int(m[2])
    if not (1 <= w <= 21 and 1 <= h <= 21):
        raise _fail(f"--ar sides must be 1-21, got {_show(value)}", command)
    if not 1 / 4 <= w / h <= 4:
        raise _fail(f"--ar must be between 1:4 and 4:1, got {_show(value)}", command)
    return w, h


@lru_cache(maxsize=256)
def pixel_size(w: int, h: int) -> tuple[int, int]:
    """Width and height, multiples of 64, near TARGET_AREA pixels and as close to w:h as possible.

    Both errors are measured on a log scale; the ratio counts twice as much as the area because
    a wrong shape is visible and a slightly smaller picture is not (16:9 -> 832x448).
    """
    want = math.log(w / h)
    best = (math.inf, (512, 512))
    for pw in range(64, 2049, 64):
        for ph in range(64, 2049, 64):
            cost = 2 * abs(math.log(pw / ph) - want) + abs(math.log(pw * ph / TARGET_AREA))
            best = min(best, (cost, (pw, ph)))
    return best[1]


def _check_name(name: str, what: str, command: str, limit: int = MAX_NAME) -> str:
    """A NAME: whitespace collapsed, at least one letter or digit, at most `limit` characters."""
    name = " ".join(name.split())
    if name.startswith(("--", *_DASHES)):
        raise _fail(f'{what} must not start with a dash, got "{_show(name)}"', command)
    if not any(ch.isalnum() for ch in name):
        raise _fail(f"{what} needs at least one letter or digit, got {_show(name) or 'nothing'}",
                    command)
    if len(name) > limit:
        raise _fail(f"{what} is at most {limit} characters, got {len(name)}", command)
    return name


# ---------------------------------------------------------------- building commands


def _join(pieces: list[tuple[str, bool]]) -> str:
    return " ".join(text for text, _ in pieces if text)


def _name_and_rest(scan: _Scan, what: str, command: str) -> tuple[str | None, str]:
    """The NAME (quoted, or the first word) and the verbatim words after it."""
    if not scan.pieces:
        return None, ""
    (first, quoted), others = scan.pieces[0], scan.pieces[1:]
    if quoted:
        name, tail = first, ""
    else:
        word = first.split(None, 1)[0]  # an unquoted NAME is one word
        tail = first[len(word):].strip()
        name = word.rstrip(",;:") or word  # "/cref Mira: a girl ..." names Mira
    description = " ".join(p for p in (tail, _join(others)) if p)
    return _check_name(name, what, command), description


def _render_options(opts: dict[str, Any]) -> c.RenderOptions:
    ar = opts.get("ar")
    return c.RenderOptions(seed=opts.get("seed"), ar=ar, size=pixel_size(*ar) if ar else None,
                           negative=opts.get("no", ""), steps=opts.get("steps"))


def _panel(text: str, command: str, required: bool) -> int | None:
    """PANEL as typed ("3" or "#3"), or None when optional and absent."""
    if not text:
        if required:
            raise _fail("which panel? give its number", command)
        return None
    return _int(text.removeprefix("#"), "PANEL", 1, MAX_PANEL, command)


def _build(command: str, rest: str) -> c.Command:
    """Turn the arguments of a known command into its Command value."""
    args = _SPECS[command].args
    scan = _scan(command, rest)
    text, o = _join(scan.pieces), scan.opts
    if args == "none" and text:
        raise _fail(f"/{command} takes no arguments, got {_show(text)}", command)
    if args == "text!" and not text:
        raise _fail(f"/{command} needs some text: what should the panel show?", command)
    if args == "title" and len(text) > MAX_TITLE:
        raise _fail(f"TITLE is at most {MAX_TITLE} characters, got {len(text)}", command)
    name, desc = (None, "")
    if args in ("name", "location"):
        name, desc = _name_and_rest(scan, args.upper(), command)
        if name is None and args == "name":
            raise _fail(f"/{command} needs a NAME", command)
    builders: dict[str, Callable[[], c.Command]] = {
        "world new": lambda: c.NewWorld(title=text, style=o.get("style", ""), seed=o.get("seed"),
                                        negative=o.get("negative", ""), ar=o.get("ar")),
        "world show": c.ShowWorld, "world history": c.ShowHistory, "world export": c.ExportWorld,
        "world import": lambda: c.ImportWorld(path=text or None),
        "world branch": lambda: c.BranchWorld(panel=_panel(text, command, True) or 0),
        "cref": lambda: c.RegisterCharacter(
            name=name or "", description=desc, image=o.get("image"), cw=o.get("cw"),
            aliases=tuple(scan.aliases), lock=o.get("lock", False)),
        "sref": lambda: c.SetStyle(text=text, image=o.get("image"), sw=o.get("sw")),
        "scene": lambda: c.SetScene(location=name, description=desc, time=o.get("time"),
                                    light=o.get("light"), weather=o.get("weather")),
        "imagine": lambda: c.Imagine(text=text, options=_render_options(o)),
        "continue": lambda: c.ContinueStory(text=text, options=_render_options(o)),
        "reroll": lambda: c.Reroll(panel=_panel(text, command, False)),
        "undo": c.Undo,
        "why": lambda: c.Why(panel=_panel(text, command, False)),
        "help": lambda: c.Help(topic=_topic(text) if text else None),
    }
    return builders[command]()


# ---------------------------------------------------------------- help


def _topic(topic: str) -> str:
    """Canonical help topic for "continue", "/continue", "World  New" or "world"."""
    words = topic.replace("／", "/").lstrip("/").lower().split()
    key = " ".join(words)
    if key in _SPECS or key == "world":
        return key
    raise _unknown("help topic", key, ("world", *COMMAND_NAMES))


def help_text(topic: str | None = None) -> str:
    """The text of /help (every command) or /help COMMAND (usage, summary and options)."""
    if topic is None or not topic.strip():
        lines = [f"{USAGE[n]}\n    {_SPECS[n].summary}" for n in COMMAND_NAMES]
        return ("worldloom commands:\n" + "\n".join(lines) + "\n\nThe / is optional. "
                'Quote names with spaces: "Sir Aldric". /help COMMAND shows its options.')
    key = _topic(topic)
    names = [n for n in COMMAND_NAMES if n.startswith("world ")] if key == "world" else [key]
    parts = []
    for n in names:
        spec = _SPECS[n]
        parts.append(f"{spec.usage}\n{spec.summary}")
        parts.extend("  " + _OPTION_HELP[o] for o in spec.options)
    return "\n".join(parts)
