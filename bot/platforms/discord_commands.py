"""The slash commands, derived from the command catalogue (bot.commands) for discord.py.

Each spec becomes an app_commands.Command (commands named "group sub" go into a Group): its
words and options become typed parameters with the spec's ranges, so Discord enforces them and
nothing is re-parsed. Each callback turns the values into the same `Parsed` the text grammar
fills, lets the spec build the Command, and hands it to whatever `Runs` it was given.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import discord
from discord import app_commands
from discord.app_commands import Choice, Range

from bot.commands import MAX_NAME, MAX_PANEL, MAX_TITLE, MAX_WORDS, OPTIONS, Catalogue, Command, Parsed, Spec

Interaction = discord.Interaction[Any]

RATIOS = [Choice(name=label, value=value) for label, value in (
    ("1:1 square", "1:1"), ("3:2 landscape", "3:2"), ("2:3 portrait", "2:3"), ("4:3", "4:3"), ("3:4", "3:4"),
    ("16:9 wide", "16:9"), ("9:16 tall", "9:16"), ("21:9 cinema", "21:9"))]
MAX_PER_DAY = 100_000
# How a spec's words (its `args`) become parameters: (parameter, type, description, required).
_ARGS: dict[str, list[tuple[str, Any, str, bool]]] = {
    "title": [("title", Range[str, 1, MAX_TITLE], "The world's name; it also names the thread", False)],
    "path": [("file", discord.Attachment, "A .world.json (or .zip) exported with /world export", True)],
    "panel": [("panel", Range[int, 1, MAX_PANEL], "Which panel", True)],
    "panel?": [("panel", Range[int, 1, MAX_PANEL], "Which panel (default: the last)", False)],
    "name": [("name", Range[str, 1, MAX_NAME], "The character's name", True),
             ("description", Range[str, 1, MAX_WORDS], "How they look: 'a tall knight in red armour'", False)],
    "location": [("location", Range[str, 1, MAX_NAME], "Where the story is now", False),
                 ("description", Range[str, 1, MAX_WORDS], "What the location looks like", False)],
    "text!": [("text", Range[str, 1, MAX_WORDS], "What the panel shows", True)],
    "text": [("text", Range[str, 1, MAX_WORDS], "The words (empty: as it is)", False)],
    "topic": [("command", str, "Show the options of this command", False)],
    "panel text": [("panel", Range[int, 1, MAX_PANEL], "Which panel", True),
                   ("text", Range[str, 1, MAX_WORDS], "What to change: 'make her scarf red'", True)],
    "range": [("first", Range[int, 1, MAX_PANEL], "The first panel (default: the first)", False),
              ("last", Range[int, 1, MAX_PANEL], "The last panel (default: the newest)", False)],
    # A user option: Discord resolves the member, the command gets their id.
    "user": [("user", discord.User, "Who", True),
             ("reason", Range[str, 1, MAX_WORDS], "Why (kept in the audit log)", False)],
    "user count": [("user", discord.User, "Who", True),
                   ("panels", Range[int, 0, MAX_PER_DAY], "Panels a day; 0 = the server's default", True)],
}
# Commands only server managers may run are hidden from everyone else by default (the service checks too).
MANAGERS = discord.Permissions(manage_guild=True)


class Runs(Protocol):
    """What the callbacks hand their Command to (the adapter in discord_interactions.py)."""

    async def run(self, interaction: Interaction, command: Command, *, text: str = "",
                  attachment: discord.Attachment | None = None, kind: str = "image",
                  ephemeral: bool = False) -> None: ...

    async def complete(self, interaction: Interaction, current: str, what: str) -> list[Choice[str]]: ...

    async def on_tree_error(self, interaction: Interaction, error: app_commands.AppCommandError) -> None: ...


def build_tree(client: discord.Client, catalogue: Catalogue, runner: Runs) -> app_commands.CommandTree[Any]:
    """Every command of the catalogue on a new CommandTree for `client`."""
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
    groups: dict[str, app_commands.Group] = {}
    for spec in catalogue:
        group_name, _, sub = spec.name.rpartition(" ")
        parent = None
        if group_name:
            parent = groups.get(group_name)
            if parent is None:
                subs = ", ".join(catalogue.subcommands(group_name))
                managers = all(s.admin for s in catalogue if s.name.startswith(group_name + " "))
                parent = groups[group_name] = app_commands.Group(
                    name=group_name, description=_sentence(subs), default_permissions=MANAGERS if managers else None)
                tree.add_command(parent)
        command = app_commands.Command(name=sub, description=_sentence(spec.summary),
                                       callback=_callback(spec, catalogue, runner), parent=parent)
        if parent is None:
            tree.add_command(command)
        else:
            parent.add_command(command)
    tree.on_error = runner.on_tree_error  # type: ignore[method-assign]
    return tree


def _parameters(spec: Spec) -> list[tuple[str, Any, str, bool]]:
    params = list(_ARGS.get(spec.args, []))
    for name in spec.options:
        o = OPTIONS[name]
        if o.kind == "int" and o.range:
            kind: Any = Range[int, o.range[0], o.range[1]]
        elif o.kind == "flag":
            kind = bool
        elif o.kind == "token":
            kind = discord.Attachment  # --image: on Discord the file is attached
        elif o.kind == "name":
            name, kind = "aliases", str  # --alias NAME...: a comma-separated list here
        elif o.choices:
            kind = str  # one of the declared values, offered as choices
        else:
            kind = Range[str, 1, MAX_WORDS] if o.kind == "words" else str
        params.append((name, kind, _sentence(o.help), False))
    return params


def _callback(spec: Spec, catalogue: Catalogue, runner: Runs) -> Callable[..., Awaitable[None]]:
    params = _parameters(spec)

    async def callback(interaction: Interaction, **values: Any) -> None:
        parsed = _parsed(spec, values)
        attachment = values.get("file") or values.get("image")
        words = _words(spec, parsed)
        await runner.run(interaction, spec.build(parsed), text=f"/{spec.name} {words}".strip(),
                         attachment=attachment, kind="world" if spec.args == "path" else "image",
                         ephemeral=spec.private)

    signature = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Interaction)]
    for name, kind, _, required in sorted(params, key=lambda p: not p[3]):  # required ones first
        default = inspect.Parameter.empty if required else (False if kind is bool else None)
        annotation = kind if required or kind is bool else kind | None
        signature.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                           annotation=annotation))
    callback.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    decorated: Any = app_commands.describe(**{n: d[:100] for n, _, d, _ in params})(callback)
    if "ar" in spec.options:
        decorated = app_commands.choices(ar=RATIOS)(decorated)
    for name in (o for o in spec.options if OPTIONS[o].choices):
        values = OPTIONS[name].choices[:25]  # Discord offers at most 25
        decorated = app_commands.choices(**{name: [Choice(name=v, value=v) for v in values]})(decorated)
    if spec.args == "topic":
        topics = [g for g in catalogue.groups() if catalogue.subcommands(g)] + [
            n for n in catalogue.names() if " " not in n]
        decorated = app_commands.choices(command=[Choice(name=t, value=t) for t in topics[:25]])(decorated)
    for param, what in (("name", "characters"), ("location", "locations")):
        if param in {p[0] for p in params}:
            decorated = app_commands.autocomplete(**{param: _completer(runner, what)})(decorated)
    return decorated  # type: ignore[no-any-return]


def _completer(runner: Runs, what: str) -> Callable[[Interaction, str], Awaitable[list[Choice[str]]]]:
    async def complete(interaction: Interaction, current: str) -> list[Choice[str]]:
        return await runner.complete(interaction, current, what)

    return complete


def _parsed(spec: Spec, values: dict[str, Any]) -> Parsed:
    """The typed values as the grammar would have read them."""
    options: dict[str, Any] = {}
    for name in spec.options:
        value = values.get(name)
        if value is None or value is False or OPTIONS[name].kind == "token":
            continue
        if name == "ar":
            w, _, h = str(value).partition(":")
            value = (int(w), int(h))
        options[name] = value.strip() if isinstance(value, str) else value
    aliases = tuple(a.strip()[:MAX_NAME] for a in (values.get("aliases") or "").split(",") if a.strip())
    name = values.get("name") or values.get("location")
    rest = values.get("description") or values.get("reason") or ""
    if values.get("user") is not None:  # "user" args: the member's id, and N or the reason
        name = str(values["user"].id)
        rest = str(values["panels"]) if values.get("panels") is not None else rest
    words = values.get("text") or (values.get("title") if spec.args == "title" else None) or ""
    return Parsed(text=words.strip(), name=name.strip() if name else None, rest=rest.strip(),
                  panel=values.get("panel"), span=(values.get("first"), values.get("last")),
                  topic=values.get("command"), options=options, aliases=aliases)


def _words(spec: Spec, parsed: Parsed) -> str:
    """The command's words as they would have been typed, for /history and the panel's caption."""
    panel = str(parsed.panel) if parsed.panel else ""
    if spec.args == "panel text":
        return f"{panel} {parsed.text}"
    if spec.args == "range":
        first, last = parsed.span
        return f"{first or ''}-{last or ''}" if first or last else ""
    return parsed.text or panel


def _sentence(text: str) -> str:
    return (text[:1].upper() + text[1:])[:100]
