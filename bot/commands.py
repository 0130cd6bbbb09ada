"""Every command, declared once: its order (a frozen dataclass) and its spec.

A spec says how the command is typed (name, usage, summary, how its words are read, which
options it takes) and how the parsed words become the order (`build`). The text grammar, /help,
docs/commands.md and the Discord slash commands are all derived from `CATALOGUE`; the service
finds each order's handler by its type (bot/handlers/). Pure values, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine import lexicon as lx
from engine.compose import RenderOptions
from engine.sizes import pixel_size

MAX_NAME = 60
MAX_TITLE = 100  # a Discord thread name holds at most 100 characters
MAX_PANEL = 2**31 - 1  # keeps panel numbers inside SQLite's integer range
MAX_WORDS = 1000  # one option's or one description's text


# ---------------------------------------------------------------- orders


@dataclass(frozen=True)
class Command:
    """Base of every command."""


@dataclass(frozen=True)
class NewWorld(Command):
    title: str = ""
    style: str = ""
    negative: str = ""
    seed: int | None = None
    ar: tuple[int, int] | None = None


@dataclass(frozen=True)
class ShowWorld(Command):
    pass


@dataclass(frozen=True)
class ShowHistory(Command):
    pass


@dataclass(frozen=True)
class ExportWorld(Command):
    format: str = "world"  # "world" (the world file) | "pdf" | "cbz" (the comic)


@dataclass(frozen=True)
class ImportWorld(Command):
    path: str | None = None  # console: a file path; chat: the attachment is used


@dataclass(frozen=True)
class BranchWorld(Command):
    panel: int = 0


@dataclass(frozen=True)
class RegisterCharacter(Command):
    name: str = ""
    description: str = ""
    image: str | None = None  # console: a file path; chat: the attachment is used
    cw: int | None = None
    aliases: tuple[str, ...] = ()
    lock: bool = False


@dataclass(frozen=True)
class UsePanelAsReference(Command):
    """The "Use as reference" button: a drawn panel becomes a character's reference image."""

    panel: int = 0
    name: str = ""
    weight: int = 100


@dataclass(frozen=True)
class SetStyle(Command):
    text: str = ""
    image: str | None = None
    sw: int | None = None


@dataclass(frozen=True)
class SetScene(Command):
    location: str | None = None
    description: str = ""
    time: str | None = None
    light: str | None = None
    weather: str | None = None


@dataclass(frozen=True)
class Imagine(Command):
    """A panel from this text alone: the scene and characters named in it, a fresh shot."""

    text: str = ""
    options: RenderOptions = RenderOptions()


@dataclass(frozen=True)
class ContinueStory(Command):
    text: str = ""
    options: RenderOptions = RenderOptions()


@dataclass(frozen=True)
class Reroll(Command):
    panel: int | None = None


@dataclass(frozen=True)
class EditPanel(Command):
    """A new take of a drawn panel with a change: "make her scarf red"."""

    panel: int = 0
    text: str = ""


@dataclass(frozen=True)
class MakePages(Command):
    """The world's panels (first..last, current takes) on comic pages."""

    first: int | None = None
    last: int | None = None
    layout: str = "auto"
    title: str = ""


@dataclass(frozen=True)
class Undo(Command):
    pass


@dataclass(frozen=True)
class Why(Command):
    panel: int | None = None


@dataclass(frozen=True)
class Help(Command):
    topic: str | None = None


@dataclass(frozen=True)
class ShowQuota(Command):
    pass


@dataclass(frozen=True)
class AdminBan(Command):
    user: str = ""  # a mention or id, read by bot/handlers/admin.py
    reason: str = ""


@dataclass(frozen=True)
class AdminUnban(Command):
    user: str = ""


@dataclass(frozen=True)
class AdminQuota(Command):
    user: str = ""
    per_day: str = ""  # checked by the handler: 0 (the server's default) or more


@dataclass(frozen=True)
class AdminAudit(Command):
    pass


RENDER_COMMANDS = (Imagine, ContinueStory, Reroll, EditPanel)


# ---------------------------------------------------------------- specs


@dataclass(frozen=True)
class Option:
    """One `--option`: how its value is read and the line /help shows for it."""

    name: str
    kind: str  # "words" (up to the next option) | "token" | "name" (repeatable) | "flag" | "int" | "ar" | "choice"
    help: str
    range: tuple[int, int] | None = None  # for "int"
    metavar: str = ""
    may_be_empty: bool = False  # "--style" alone means no style (generated scripts write it that way)
    # The values it takes ("choice" options; "words" ones read the planner's words, with synonyms);
    # Discord offers them as choices. Empty: free text.
    choices: tuple[str, ...] = ()
    synonyms: tuple[tuple[str, str], ...] = ()  # (regex, value): other words for a choice ("sunrise" = dawn)
    shorthand: bool = False  # each choice may be typed as a flag of its own: "--pdf" for "--format pdf"

    def known(self, value: str) -> str | None:
        """The choice `value` names (case and spacing aside, or by a synonym), else None."""
        said = " ".join(value.split()).casefold()
        if said in self.choices:
            return said
        return next((v for rx, v in self.synonyms if v and re.fullmatch(rx, said)), None)


def _choices(patterns: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for _, value in patterns if value))


TIMES = _choices(lx.TIME_PATTERNS)
WEATHERS = _choices(lx.WEATHER_PATTERNS)

OPTIONS: dict[str, Option] = {o.name: o for o in (
    Option("style", "words", "words put into every prompt (all words up to the next option)", metavar="TEXT",
           may_be_empty=True),
    Option("negative", "words", "what never to draw in this world", metavar="TEXT", may_be_empty=True),
    Option("no", "words", "what not to draw in this panel", metavar="TEXT"),
    Option("seed", "int", "0-4294967295, the same seed redraws the same picture", (0, 2**32 - 1), "N"),
    Option("ar", "ar", "aspect ratio, e.g. 16:9 or 2x3 (sides 1-21, between 1:4 and 4:1)", metavar="W:H"),
    Option("steps", "int", "1-150 sampling steps", (1, 150), "N"),
    Option("image", "token", "reference image (chat: attach it instead)", metavar="PATH"),
    Option("cw", "int", "0 keeps only the face, 100 also hair and clothes", (0, 100), "0-100"),
    Option("sw", "int", "how strongly the style image counts", (0, 100), "0-100"),
    Option("alias", "name", "another name for the character; repeat for more", metavar="NAME"),
    Option("lock", "flag", "only you, the world's creator and moderators may change it"),
    Option("time", "words", "time of day, one of: dawn, noon, dusk, night ...", metavar="T", choices=TIMES,
           synonyms=lx.TIME_PATTERNS),
    Option("light", "words", "lighting: candlelit, harsh neon ...", metavar="L"),
    Option("weather", "words", "weather, one of: rain, fog, snow, clear skies ...", metavar="W",
           choices=WEATHERS, synonyms=lx.WEATHER_PATTERNS),
    Option("layout", "choice", "auto keeps each panel's shape, grid, strip (one a row), manga (right to left)",
           metavar="auto|grid|strip|manga", choices=("auto", "grid", "strip", "manga")),
    Option("title", "words", "the title on page one (default: the world's)", metavar="TEXT"),
    Option("format", "choice", "world file (default), or the comic as a PDF or CBZ", metavar="world|pdf|cbz",
           choices=("world", "pdf", "cbz"), shorthand=True),
)}


def option_help(name: str) -> str:
    """`--seed N          0-4294967295, the same seed ...`: one aligned line of /help."""
    o = OPTIONS[name]
    head = f"--{o.name} {o.metavar}".rstrip()
    also = f" (or {', '.join('--' + c for c in o.choices)})" if o.shorthand else ""
    return f"{head:<17} {o.help}{also}"


@dataclass(frozen=True)
class Parsed:
    """A command's arguments, however they were typed: the grammar and Discord both fill one."""

    text: str = ""  # every word that is not an option (for args "text", "title", "path")
    name: str | None = None  # NAME or LOCATION (args "name", "location")
    rest: str = ""  # the words after NAME or LOCATION
    panel: int | None = None  # args "panel", "panel?" and "panel text"
    span: tuple[int | None, int | None] = (None, None)  # args "range": FROM-TO, either end open
    topic: str | None = None  # args "topic"
    options: dict[str, Any] = field(default_factory=dict)  # converted option values
    aliases: tuple[str, ...] = ()

    def render_options(self) -> RenderOptions:
        ar = self.options.get("ar")
        return RenderOptions(seed=self.options.get("seed"), ar=ar, size=pixel_size(*ar) if ar else None,
                             negative=self.options.get("no", ""), steps=self.options.get("steps"))


@dataclass(frozen=True)
class Spec:
    """How a command is typed and built. `args` says how the words that are not options are read:
    none | text | text! (required) | title | path | panel | panel? | panel text (PANEL then required
    words) | range (FROM-TO) | name | location | topic | user (@USER and words after it) | user count (@USER N)."""

    name: str  # "continue", "world new"
    usage: str
    summary: str
    args: str
    build: Callable[[Parsed], Command]
    command: type[Command]
    options: tuple[str, ...] = ()
    needs_world: bool = True  # False: it works where no world is bound yet (/world new, /help)
    private: bool = False  # the answer is for the asker only (ephemeral)
    details: str = ""  # more than the summary, for /help COMMAND
    admin: bool = False  # only for people who manage the server (Discord: Manage Server; Slack: admins)


_RENDER = ("seed", "ar", "no", "steps")


def _render_usage(name: str, text: str) -> str:
    return f"/{name} {text} [--seed N] [--ar W:H] [--no TEXT] [--steps N]"


SPECS: tuple[Spec, ...] = (
    Spec("world new", "/world new [TITLE] [--style TEXT] [--negative TEXT] [--seed N] [--ar W:H]",
         "start a new world in a new thread", "title",
         lambda p: NewWorld(title=p.text, style=p.options.get("style", ""), seed=p.options.get("seed"),
                            negative=p.options.get("negative", ""), ar=p.options.get("ar")),
         NewWorld, ("style", "negative", "seed", "ar"), needs_world=False),
    Spec("world show", "/world show", "show the world: style, scene, characters", "none",
         lambda p: ShowWorld(), ShowWorld),
    Spec("world history", "/world history", "who changed what, newest last", "none",
         lambda p: ShowHistory(), ShowHistory),
    Spec("world export", "/world export [--pdf | --cbz]", "download the world as a file, or the comic as PDF/CBZ",
         "none", lambda p: ExportWorld(format=p.options.get("format", "world")), ExportWorld, ("format",)),
    Spec("world import", "/world import [PATH]", "load a world file (chat: attach it)", "path",
         lambda p: ImportWorld(path=p.text or None), ImportWorld, needs_world=False),
    Spec("world branch", "/world branch PANEL", "a new world from the story up to PANEL", "panel",
         lambda p: BranchWorld(panel=p.panel or 0), BranchWorld),
    Spec("cref", "/cref NAME [DESCRIPTION] [--image PATH] [--cw 0-100] [--alias NAME]... [--lock]",
         'register or update a character; quote names with spaces: "Sir Aldric"', "name",
         lambda p: RegisterCharacter(name=p.name or "", description=p.rest, image=p.options.get("image"),
                                     cw=p.options.get("cw"), aliases=p.aliases, lock=p.options.get("lock", False)),
         RegisterCharacter, ("image", "cw", "alias", "lock")),
    Spec("sref", "/sref [STYLE TEXT] [--image PATH] [--sw 0-100]",
         "set the style from words and/or a reference image", "text",
         lambda p: SetStyle(text=p.text, image=p.options.get("image"), sw=p.options.get("sw")),
         SetStyle, ("image", "sw")),
    Spec("scene", "/scene [LOCATION [DESCRIPTION]] [--time T] [--light L] [--weather W]",
         "move to a location and set time, light and weather", "location",
         lambda p: SetScene(location=p.name, description=p.rest, time=p.options.get("time"),
                            light=p.options.get("light"), weather=p.options.get("weather")),
         SetScene, ("time", "light", "weather"),
         details=f"Times: {', '.join(TIMES)}.\nWeathers: {', '.join(WEATHERS)}.\nThe light is any words."),
    Spec("imagine", _render_usage("imagine", "TEXT"), "draw a panel from this text alone", "text!",
         lambda p: Imagine(text=p.text, options=p.render_options()), Imagine, _RENDER,
         details="Words with a subject of their own that is not a character (\"a stone lantern in the snow\", "
                 "\"goats graze on the hill\") make an establishing shot: nobody in frame. Words with no subject "
                 "(\"swimming beneath the lilies\") or a pronoun (\"she reads a letter\") frame the cast."),

    Spec("continue", _render_usage("continue", "[TEXT]"), "move the story on and draw the next panel", "text",
         lambda p: ContinueStory(text=p.text, options=p.render_options()), ContinueStory, _RENDER,
         details="Whoever was in frame stays unless the words say otherwise."),
    Spec("reroll", "/reroll [PANEL]", "draw the last panel (or PANEL) again, new seed", "panel?",
         lambda p: Reroll(panel=p.panel), Reroll),
    Spec("edit", "/edit PANEL TEXT", "change a drawn panel: a new take of it", "panel text",
         lambda p: EditPanel(panel=p.panel or 0, text=p.text), EditPanel,
         details='"/edit 3 make her scarf red", "/edit 5 remove the lantern". Editing the latest panel changes '
                 "the world from then on; editing an older one changes only that take."),
    Spec("page", "/page [FROM-TO] [--layout auto|grid|strip|manga] [--title TEXT]",
         "put the panels on comic pages, speech in balloons", "range",
         lambda p: MakePages(first=p.span[0], last=p.span[1], layout=p.options.get("layout", "auto"),
                             title=p.options.get("title", "")), MakePages, ("layout", "title"),
         details='Quoted words are speech: /continue Mira whispers "Who\'s there?" gives Mira a balloon.'),
    Spec("undo", "/undo", "take back the last command in this world", "none", lambda p: Undo(), Undo),
    Spec("why", "/why [PANEL]", "show what went into the last panel's prompt", "panel?",
         lambda p: Why(panel=p.panel), Why),
    Spec("help", "/help [COMMAND]", "this list, or the details of one command", "topic",
         lambda p: Help(topic=p.topic), Help, needs_world=False, private=True),
    Spec("quota", "/quota", "how many panels you may still draw today", "none", lambda p: ShowQuota(), ShowQuota,
         needs_world=False, private=True),
    Spec("admin ban", "/admin ban @USER [REASON]", "stop someone using worldloom in this server", "user",
         lambda p: AdminBan(user=p.name or "", reason=p.rest), AdminBan, needs_world=False, private=True, admin=True),
    Spec("admin unban", "/admin unban @USER", "lift a ban", "user", lambda p: AdminUnban(user=p.name or ""),
         AdminUnban, needs_world=False, private=True, admin=True),
    Spec("admin quota", "/admin quota @USER N", "set someone's daily panels (0 = the server's default)",
         "user count", lambda p: AdminQuota(user=p.name or "", per_day=p.rest), AdminQuota, needs_world=False,
         private=True, admin=True),
    Spec("admin audit", "/admin audit", "the last 20 admin actions and refusals in this server", "none",
         lambda p: AdminAudit(), AdminAudit, needs_world=False, private=True, admin=True),
)


@dataclass(frozen=True)
class Catalogue:
    """The commands a deployment understands, by name; `plus` makes one with more."""

    specs: tuple[Spec, ...]

    def __post_init__(self) -> None:
        names = [s.name for s in self.specs]
        if len(set(names)) != len(names):
            raise ValueError(f"two commands share a name: {sorted(n for n in names if names.count(n) > 1)}")
        for s in self.specs:
            unknown = set(s.options) - set(OPTIONS)
            if unknown:
                raise ValueError(f"/{s.name} declares unknown options {sorted(unknown)}")

    def __iter__(self) -> Iterator[Spec]:
        return iter(self.specs)

    def get(self, name: str) -> Spec | None:
        return next((s for s in self.specs if s.name == name), None)

    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specs)

    def groups(self) -> tuple[str, ...]:
        """Top-level words: "world" for "world new" ..., and every single-word command."""
        return tuple(dict.fromkeys(n.split()[0] for n in self.names()))

    def subcommands(self, group: str) -> tuple[str, ...]:
        return tuple(n.split()[1] for n in self.names() if n.startswith(group + " "))

    def spec_for(self, command: type[Command]) -> Spec | None:
        return next((s for s in self.specs if s.command is command), None)

    def plus(self, *specs: Spec) -> Catalogue:
        return Catalogue((*self.specs, *specs))



CATALOGUE = Catalogue(SPECS)
