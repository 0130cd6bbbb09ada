"""Commands: what a person asked for, already parsed, named as orders.

Every platform turns its input into one of these (text through bot.grammar, Discord options
directly) and WorldService handles it. Pure values, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderOptions:
    seed: int | None = None
    size: tuple[int, int] | None = None  # from --ar W:H, already scaled to pixels
    ar: tuple[int, int] | None = None  # the ratio as typed
    negative: str = ""  # --no
    steps: int | None = None


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
    pass


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
class Undo(Command):
    pass


@dataclass(frozen=True)
class Why(Command):
    panel: int | None = None


@dataclass(frozen=True)
class Help(Command):
    topic: str | None = None


RENDER_COMMANDS = (Imagine, ContinueStory, Reroll)
