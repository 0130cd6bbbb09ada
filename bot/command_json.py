"""Commands as JSON, for the inbox: a command built from a platform's typed options is stored before it is
acknowledged and built again, the same, after a restart. Pure: any frozen-dataclass Command (nested
dataclasses, tuples, optional values) round-trips, including commands declared after this module.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from bot.commands import Command


def command_to_json(command: Command) -> dict[str, Any]:
    return {"type": type(command).__name__, "fields": _encode(command)}


def command_from_json(data: dict[str, Any]) -> Command:
    """The command again; ValueError for an unknown type or fields that do not fit it."""
    cls = _command_types().get(str(data.get("type")))
    if cls is None:
        raise ValueError(f"unknown command type {data.get('type')!r}")
    try:
        return typing.cast(Command, _decode(data.get("fields") or {}, cls))
    except (TypeError, KeyError) as e:
        raise ValueError(f"{cls.__name__}: {e}") from None


def _command_types() -> dict[str, type[Command]]:
    found: dict[str, type[Command]] = {}
    todo = list(Command.__subclasses__())
    while todo:
        cls = todo.pop()
        found.setdefault(cls.__name__, cls)
        todo.extend(cls.__subclasses__())
    return found


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(value, inner[0]) if len(inner) == 1 else value
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(v, args[0]) for v in value)
        return tuple(_decode(v, a) for v, a in zip(value, args, strict=True))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return hint(**{f.name: _decode(value[f.name], hints[f.name])
                       for f in dataclasses.fields(hint) if f.name in value})
    return value
