"""/edit instructions in the words the planner reads: "make her scarf red" -> "paint her scarf red".

The rule planner reads a story's sentences ("she takes off her scarf", "the lantern is gone"); an
edit is typed as an order ("remove the lantern", "make her scarf red"). A few imperative shapes
are turned into the statement that means the same, clause by clause; anything else is passed on
as typed, and the planner keeps what it does not understand in the action, changing nothing (its
precision rule: sure edits only). Pure: standard library and engine values only.
"""

from __future__ import annotations

import re

from engine import lexicon as lx
from engine.world import World

_COLOUR = (r"(?:(?:" + "|".join(sorted(lx.COLOR_MODIFIERS)) + r")\s+)?(?:"
           + "|".join(sorted(lx.COLOR_WORDS, key=len, reverse=True)) + r")(?:[\s-](?:and\s+)?(?:"
           + "|".join(sorted(lx.COLOR_WORDS, key=len, reverse=True)) + r"))?")
_VERBS = r"make|turn|colou?r|paint|dye|remove|delete|erase|take|get|lose"
# "make her scarf red, remove the lantern", "... and remove the lantern": one clause each.
_CLAUSES = re.compile(rf"\s*(?:[,;]\s*(?:and\s+)?|\band\s+|\bthen\s+)(?=(?:{_VERBS})\b)", re.I)
_PLEASE = re.compile(r"^(?:please|pls|now|also|and|then)\s+", re.I)
_MAKE = re.compile(rf"^(?:make|turn|colou?r|paint|dye)\s+(?P<thing>.+?)\s+(?P<colour>{_COLOUR})$", re.I)
_REMOVE = re.compile(r"^(?:remove|delete|erase|take\s+away|take\s+off|get\s+rid\s+of|lose)\s+(?P<thing>.+)$", re.I)
_WORN = re.compile(r"^(?P<owner>her|his|their|its)\s+(?P<rest>.+)$", re.I)
_NAMED = re.compile(r"^(?P<owner>.+?)['’]s?\s+(?P<rest>.+)$")
_SUBJECT = {"her": "she", "his": "he", "their": "they", "its": "it"}
_POSSESSIVE = {"she": "her", "he": "his", "they": "their", "it": "its"}


def as_statement(world: World, text: str) -> str:
    """The instruction rewritten clause by clause where a shape is known; the rest as typed."""
    clauses = [c.strip(" .!") for c in _CLAUSES.split(" ".join(text.split())) if c.strip(" .!")]
    return ", ".join(_clause(world, _PLEASE.sub("", c)) for c in clauses)


def _clause(world: World, clause: str) -> str:
    m = _MAKE.match(clause)
    if m:
        thing, colour = m["thing"], m["colour"]
        verb = "dye" if thing.lower().split()[-1] in ("hair", "beard", "moustache", "mustache") else "paint"
        return f"{verb} {thing} {colour}"
    m = _REMOVE.match(clause)
    if m is None:
        return clause
    thing = m["thing"]
    worn = _WORN.match(thing)
    if worn:  # "remove her scarf": whoever "her" is takes it off
        return f"{_SUBJECT[worn['owner'].lower()]} takes off {thing}"
    named = _NAMED.match(thing)
    ch = world.find_character(named["owner"]) if named else None
    if named and ch is not None:  # "remove Mira's scarf"
        return f"{ch.name} takes off {_POSSESSIVE.get(ch.pronoun, 'their')} {named['rest']}"
    if world.find_character(thing) is not None:
        return clause  # taking a character out of the picture is not a prop going away
    return f"{thing} is removed"
