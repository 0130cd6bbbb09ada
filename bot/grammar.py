"""The text grammar: one chat or console line -> one Command.

Every platform's typed text goes through `parse`; Discord's structured slash options do not.
Which commands exist and how each one's words are read comes from the catalogue in
bot/commands.py: this module only scans. The grammar is forgiving where phones and chat
clients mangle input (em dashes for `--`, curly quotes, a missing `/`) and strict everywhere
else, with errors that say what to type. Pure: standard library only.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from bot.commands import (
    CATALOGUE,
    MAX_NAME,
    MAX_PANEL,
    MAX_TITLE,
    OPTIONS,
    Catalogue,
    Command,
    Parsed,
    Spec,
    option_help,
)
from engine.errors import WorldError

MAX_LINE = 4000

# Cc control characters become spaces (tab survives); newlines too, so a line is one line.
_CONTROLS = {i: " " for i in (*range(32), *range(127, 160)) if i != 9}
_TOKEN = re.compile(r"\S+")
_OPEN_QUOTES = '"“”„'  # ” opens too: some keyboards only ever type one curly quote
_CLOSE_QUOTES = '"“”'
_DASHES = "—–"  # em and en dash: what autocorrect makes of "--"
_INT = re.compile(r"[+-]?\d+")
_AR = re.compile(r"(\d{1,6})\s*[:xX×]\s*(\d{1,6})")
_SPAN = re.compile(r"#?(?P<one>\d{1,12})|#?(?P<a>\d{1,12})?\s*(?:-|–|—|\.\.|to)\s*#?(?P<b>\d{1,12})?", re.I)


class GrammarError(WorldError):
    """A line that does not parse; the message is ready to show to the person who typed it."""

    def __init__(self, message: str, *, command: str | None = None,
                 suggestion: str | None = None) -> None:
        super().__init__(message)
        self.command = command  # canonical command name, when known
        self.suggestion = suggestion  # the nearest valid command or option, when one is close


def _show(text: str, limit: int = 40) -> str:
    """Echo user input in an error without letting a huge token flood the reply."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fail(message: str, spec: Spec | None = None, suggestion: str | None = None) -> GrammarError:
    """Build an error that ends with the command's usage line when there is one."""
    if spec is not None:
        message = f"{message}\nusage: {spec.usage}"
    return GrammarError(message, command=spec.name if spec else None, suggestion=suggestion)


def _nearest(word: str, choices: tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None


# ---------------------------------------------------------------- entry point


def parse(line: str, catalogue: Catalogue = CATALOGUE) -> Command:
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
    if subs := catalogue.subcommands(name):  # "/world new": a group and its subcommand
        m = _TOKEN.search(text, pos)
        if m is None:
            raise GrammarError(f"/{name} needs a subcommand: " + ", ".join(subs))
        sub, pos = m.group().lower(), m.end()
        spec = catalogue.get(f"{name} {sub}")
        if spec is None:
            raise _unknown("subcommand", sub, subs, f"/{name} ")
    elif (spec := catalogue.get(name)) is None:
        raise _unknown("command", name, catalogue.groups())
    return _build(spec, text[pos:], catalogue)


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


def _quoted(text: str, start: int, what: str, spec: Spec) -> tuple[str, int]:
    """The words inside the quote that opens at `start`, and the index just past its close."""
    close = next((i for i in range(start + 1, len(text)) if text[i] in _CLOSE_QUOTES), -1)
    if close < 0:
        raise _fail(f"unclosed quote in {what}: {_show(text[start:])}", spec)
    return text[start + 1 : close].strip(), close + 1


def _scan(spec: Spec, rest: str) -> _Scan:
    """Split the arguments into text pieces and options, converting option values as it goes."""
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
                words, pos = _quoted(rest, m.start(), spec.args.upper(), spec)
                scan.pieces.append((words, True))
                continue
            run[:] = [run[0] if run else m.start(), m.end()]
            pos = m.end()
            continue
        flush()
        pos = _take_option(spec, m.group(), opt, rest, m.end(), scan)
    flush()
    return scan


def _take_option(spec: Spec, token: str, opt: tuple[str, str | None], rest: str,
                 pos: int, scan: _Scan) -> int:
    """Read one option's value from `rest` at `pos`; returns where scanning resumes."""
    name, inline = opt
    short = next((o for o in spec.options if OPTIONS[o].shorthand and name in OPTIONS[o].choices), None)
    if name not in spec.options and short is not None:  # "--pdf" for "--format pdf"
        if inline is not None:
            raise _fail(f"--{name} takes no value", spec)
        if short in scan.opts:
            raise _fail(f"--{name} and --{scan.opts[short]}: choose one", spec)
        scan.opts[short] = name
        return pos
    if name not in spec.options:
        raise _unknown_option(spec, token, name)
    if name in scan.opts:
        raise _fail(f"--{name} given twice", spec)
    kind = OPTIONS[name].kind
    if kind == "flag":
        if inline is not None:
            raise _fail(f"--{name} takes no value", spec)
        scan.opts[name] = True
        return pos
    if kind == "words":  # everything up to the next option, verbatim
        start, end = -1, pos
        while (m := _TOKEN.search(rest, end)) is not None and _option(m.group()) is None:
            start, end = (m.start() if start < 0 else start), m.end()
        value = ((inline or "") + " " + (rest[start:end] if start >= 0 else "")).strip()
        if not value and not OPTIONS[name].may_be_empty:
            raise _fail(f"--{name} needs a value", spec)
        scan.opts[name] = _choice(name, _unquote(value), spec) if OPTIONS[name].choices else _unquote(value)
        return end
    if inline is not None:
        value = inline
    else:
        m = _TOKEN.search(rest, pos)
        if m is None or _option(m.group()) is not None:
            raise _fail(f"--{name} needs a value", spec)
        if m.group()[0] in _OPEN_QUOTES:
            value, pos = _quoted(rest, m.start(), f"--{name}", spec)
        else:
            value, pos = m.group(), m.end()
    if kind == "name":  # --alias repeats, so it lives outside opts and is never a duplicate
        scan.aliases.append(_check_name(value, "--alias", spec))
    elif kind == "int":
        low, high = OPTIONS[name].range or (0, 0)
        scan.opts[name] = _int(value, f"--{name}", low, high, spec)
    elif kind == "ar":
        scan.opts[name] = _ratio(value, spec)
    elif kind == "choice":
        choices = OPTIONS[name].choices
        if value.lower() not in choices:
            raise _fail(f"--{name} must be one of {', '.join(choices)}, got {_show(value)}", spec)
        scan.opts[name] = value.lower()
    else:
        if not value:
            raise _fail(f"--{name} needs a value", spec)
        scan.opts[name] = value
    return pos


def _unknown_option(spec: Spec, token: str, name: str) -> GrammarError:
    """Explain an option that this command does not take, naming the closest one it does."""
    allowed = spec.options
    tip = ""
    if token[0] in _DASHES:  # an em dash in prose looks like an option; say how to avoid that
        tip = f"\n(to write a dash in text, put a space after it: {token[0]} {_show(token[1:], 20)})"
    if not allowed:
        return _fail(f"/{spec.name} takes no options, got {_show(token)}{tip}", spec)
    best = _nearest(name, allowed)
    listed = ", ".join("--" + o for o in allowed)
    if best:
        msg = f'unknown option "{_show(token)}" for /{spec.name} — did you mean --{best}?'
    elif name in OPTIONS:
        msg = f"--{name} is not an option of /{spec.name}; its options are {listed}"
    else:
        msg = f'unknown option "{_show(token)}" for /{spec.name}; its options are {listed}'
    return _fail(msg + tip, spec, suggestion=best and "--" + best)


# ---------------------------------------------------------------- values


def _unquote(value: str) -> str:
    """Drop one pair of quotes around a whole value ("--style "ink wash""), nothing else."""
    inner = value[1:-1]
    if (len(value) >= 2 and value[0] in _OPEN_QUOTES and value[-1] in _CLOSE_QUOTES
            and not any(q in inner for q in _CLOSE_QUOTES)):
        return inner.strip()
    return value


def _choice(name: str, value: str, spec: Spec) -> str:
    """One of the option's known values (a synonym counts), else an error that lists them."""
    known = OPTIONS[name].known(value)
    if known is None:
        raise _fail(f"--{name} must be one of: {', '.join(OPTIONS[name].choices)}; got {_show(value)!r}", spec)
    return known


def _int(value: str, what: str, low: int, high: int, spec: Spec) -> int:
    """An integer within [low, high]; the error names both the value and the range."""
    # int() of a 4000-digit token is slow and useless; 30 digits is already far out of range
    number = int(value) if _INT.fullmatch(value) and len(value) <= 30 else None
    if number is None or not low <= number <= high:
        raise _fail(f"{what} must be {low}-{high}, got {_show(value)}", spec)
    return number


def _ratio(value: str, spec: Spec) -> tuple[int, int]:
    """`--ar W:H` (or WxH) -> (W, H), sides 1-21 and no more elongated than 1:4."""
    m = _AR.fullmatch(value)
    if m is None:
        raise _fail(f"--ar must look like W:H (e.g. 16:9), got {_show(value)}", spec)
    w, h = int(m[1]), int(m[2])
    if not (1 <= w <= 21 and 1 <= h <= 21):
        raise _fail(f"--ar sides must be 1-21, got {_show(value)}", spec)
    if not 1 / 4 <= w / h <= 4:
        raise _fail(f"--ar must be between 1:4 and 4:1, got {_show(value)}", spec)
    return w, h


def _check_name(name: str, what: str, spec: Spec, limit: int = MAX_NAME) -> str:
    """A NAME: whitespace collapsed, at least one letter or digit, at most `limit` characters."""
    name = " ".join(name.split())
    if name.startswith(("--", *_DASHES)):
        raise _fail(f'{what} must not start with a dash, got "{_show(name)}"', spec)
    if not any(ch.isalnum() for ch in name):
        raise _fail(f"{what} needs at least one letter or digit, got {_show(name) or 'nothing'}", spec)
    if len(name) > limit:
        raise _fail(f"{what} is at most {limit} characters, got {len(name)}", spec)
    return name


# ---------------------------------------------------------------- building commands


def _join(pieces: list[tuple[str, bool]]) -> str:
    return " ".join(text for text, _ in pieces if text)


def _name_and_rest(scan: _Scan, what: str, spec: Spec) -> tuple[str | None, str]:
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
    return _check_name(name, what, spec), description


def _panel(text: str, spec: Spec, required: bool) -> int | None:
    """PANEL as typed ("3" or "#3"), or None when optional and absent."""
    if not text:
        if required:
            raise _fail("which panel? give its number", spec)
        return None
    return _int(text.removeprefix("#"), "PANEL", 1, MAX_PANEL, spec)


def _build(spec: Spec, rest: str, catalogue: Catalogue) -> Command:
    """Read the arguments the way the spec says, then let the spec build its Command."""
    args = spec.args
    scan = _scan(spec, rest)
    text = _join(scan.pieces)
    if args == "none" and text:
        raise _fail(f"/{spec.name} takes no arguments, got {_show(text)}", spec)
    if args == "text!" and not text:
        raise _fail(f"/{spec.name} needs some text: what should the panel show?", spec)
    if args == "title" and len(text) > MAX_TITLE:
        raise _fail(f"TITLE is at most {MAX_TITLE} characters, got {len(text)}", spec)
    name, rest_words = (None, "")
    if args in ("name", "location", "user", "user count"):
        name, rest_words = _name_and_rest(scan, args.split()[0].upper(), spec)
        if name is None and args != "location":
            raise _fail(f"/{spec.name} needs a {'NAME' if args == 'name' else '@USER'}", spec)
    panel = _panel(text, spec, args == "panel") if args in ("panel", "panel?") else None
    if args == "panel text":  # "/edit 3 make her scarf red"
        first, text = [*text.split(None, 1), "", ""][:2]
        if first and not first.removeprefix("#").isdigit():
            raise _fail(f"/{spec.name} needs the panel number first, e.g. /{spec.name} 3 make her scarf red", spec)
        panel, text = _panel(first, spec, True), text.strip()
        if not text:
            raise _fail(f"/{spec.name} needs some text after the panel number: what should change?", spec)
    span = _span(text, spec) if args == "range" else (None, None)
    topic = _topic(text, catalogue) if args == "topic" and text else None
    return spec.build(Parsed(text=text, name=name, rest=rest_words, panel=panel, span=span, topic=topic,
                             options=scan.opts, aliases=tuple(scan.aliases)))


def _span(text: str, spec: Spec) -> tuple[int | None, int | None]:
    """FROM-TO as typed: "3-8", "3-" (3 on), "-8" (up to 8), "3" (panel 3 alone), "" (every panel)."""
    if not text:
        return None, None
    m = _SPAN.fullmatch(text)
    if m is None:
        raise _fail(f"panels must look like FROM-TO (e.g. 1-8, or 5 for one panel), got {_show(text)}", spec)
    if m["one"] is not None:
        n = _int(m["one"], "PANEL", 1, MAX_PANEL, spec)
        return n, n
    first = _int(m["a"], "FROM", 1, MAX_PANEL, spec) if m["a"] else None
    last = _int(m["b"], "TO", 1, MAX_PANEL, spec) if m["b"] else None
    if first is not None and last is not None and first > last:
        raise _fail(f"FROM ({first}) comes after TO ({last})", spec)
    return first, last


# ---------------------------------------------------------------- help


def _topic(topic: str, catalogue: Catalogue) -> str:
    """Canonical help topic for "continue", "/continue", "World  New" or "world"."""
    words = topic.replace("／", "/").lstrip("/").lower().split()
    key = " ".join(words)
    if catalogue.get(key) is not None or catalogue.subcommands(key):
        return key
    groups = tuple(g for g in catalogue.groups() if catalogue.subcommands(g))
    raise _unknown("help topic", key, (*groups, *catalogue.names()))


def help_text(topic: str | None = None, catalogue: Catalogue = CATALOGUE) -> str:
    """The text of /help (every command) or /help COMMAND (usage, summary and options)."""
    if topic is None or not topic.strip():
        lines = [f"{s.usage}\n    {s.summary}" for s in catalogue]
        return ("worldloom commands:\n" + "\n".join(lines) + "\n\nThe / is optional. "
                'Quote names with spaces: "Sir Aldric". /help COMMAND shows its options.')
    key = _topic(topic, catalogue)
    subs = catalogue.subcommands(key)
    specs = [catalogue.get(f"{key} {s}") for s in subs] if subs else [catalogue.get(key)]
    parts = []
    for spec in filter(None, specs):
        parts.append(f"{spec.usage}\n{spec.summary}" + (f"\n{spec.details}" if spec.details else ""))
        parts.extend("  " + option_help(o) for o in spec.options)
    return "\n".join(parts)


COMMAND_NAMES: tuple[str, ...] = CATALOGUE.names()
USAGE: dict[str, str] = {s.name: s.usage for s in CATALOGUE}
