"""The edit rules: appearance and prop changes read from a planner text ("puts on a red
hood", "takes the lantern", "dyes his hair blue", "a lantern on the table").

Each rule is a regex plus a handler that edits the Draft (engine/draft.py) and returns the
span it turned into state. `apply_edits` runs them in text order. Pure: standard library and
engine.world only.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from engine import appearance as ap
from engine import lexicon as lx
from engine import props as pr
from engine import wardrobe as wr
from engine.draft import Draft, subjects
from engine.phrases import noun_phrase
from engine.text import Mention, overlaps
from engine.world import Trait

_COLOR_RUN = (r"(?:(?:" + "|".join(sorted(lx.COLOR_MODIFIERS)) + r")\s+)?(?:"
              + "|".join(sorted(lx.COLOR_WORDS, key=len, reverse=True)) + r")(?:[\s-](?:and\s+)?(?:"
              + "|".join(sorted(lx.COLOR_WORDS, key=len, reverse=True)) + r"))?")
_BODY = (r"cheek|face|forehead|arm|hand|leg|neck|chin|nose|eye|shoulder|back|chest|lip|brow|"
         r"jaw|wrist|knee|head|ear|temple|throat|side")
_R = re.I
RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("take_off", re.compile(rf"\b(?:{lx.TAKE_OFF_VERBS})\s+", _R)),
    ("put_on", re.compile(rf"\b(?:{lx.PUT_ON_VERBS})\s+", _R)),
    # "puts his fedora back on", "takes her gloves off": the particle after the thing
    ("put_on", re.compile(r"\b(?:puts|put|putting|pulls|pulled|slips|slipped|throws|threw)\s+(?=(?:her|his|their|its|"
                          r"the|a|an|my|your|our)\s+(?:[\w'-]+\s+){0,4}?(?:back\s+)?on\b(?!\s+(?:the|a|an|his|her|"
                          r"their|its|my|your|our|top)\b))", _R)),
    ("take_off", re.compile(r"\b(?:takes|took|taking|pulls|pulled|slips|slipped)\s+(?=(?:her|his|their|its|the|my|"
                            r"your|our)\s+(?:[\w'-]+\s+){0,4}?off\b(?!\s+(?:the|a|an|his|her|their|its)\b))", _R)),
    ("swap", re.compile(r"\b(?:swaps|swapped|trades|traded|exchanges|exchanged|switches|switched)\s+", _R)),
    ("described", re.compile(
        r"\b(?P<how>wearing|dressed\s+(?:up\s+)?in|clad\s+in|sporting|decked\s+out\s+in|in|with)\s+", _R)),
    ("dye", re.compile(
        r"\b(?:dyes|dyed|dye|dyeing|colou?rs|colou?red|paints|painted|bleaches|bleached)\s+"
        rf"(?:her|his|their|its|the)\s+hair(?:\s+(?:a\s+|an\s+)?(?P<color>{_COLOR_RUN}))?\b"
        rf"|\bhair\s+(?:turns|turned|is\s+now|becomes|goes|has\s+turned)\s+(?P<color2>{_COLOR_RUN})\b",
        _R)),
    ("paint", re.compile(r"\b(?:paints|painted|paint|painting|dyes|dyed|colou?rs|colou?red|sprays|sprayed|"
                         r"turns|turned)\s+", _R)),
    ("cut", re.compile(
        r"\b(?:cuts|cut|chops|crops|trims|has\s+cut|gets)\s+(?:her|his|their|its|the)\s+hair"
        r"(?:\s+cut)?(?:\s+(?P<len>very\s+short|short|shorter|off|(?:to\s+)?(?:shoulder|chin)"
        r"[\s-]length|into\s+a\s+bob|in\s+a\s+bob))?"
        r"|\bgets\s+a\s+(?:short\s+)?haircut\b"
        r"|\bgrows\s+(?:her|his|their|its)\s+hair\s+(?P<grow>out|long|longer)\b"
        r"|\b(?P<shave>shaves)\s+(?:her|his|their|its)\s+head\b", _R)),
    ("mark", re.compile(
        r"\b(?:gets|got|has|now\s+has|receives|received|bears|suffers|earns|gains|"
        r"is\s+left\s+with|ends\s+up\s+with)\s+(?P<mark>(?:a|an|some|two|three|fresh|new)\s+"
        rf"(?:[a-z'-]+\s+){{0,2}}?(?:{'|'.join(sorted(lx.MARK_WORDS))})"
        r"(?:\s+of\s+(?:a|an|the)\s+[a-z'-]+)?"
        rf"(?:\s+(?:on|across|over|above|below|under|along|down)\s+(?:the|her|his|their|its|a|one)"
        rf"\s+(?:[a-z'-]+\s+)?(?:{_BODY})s?)?)\b"
        r"|\bis\s+(?:now\s+)?(?P<cover>(?:covered|splattered|smeared|caked|soaked)\s+(?:in|with)\s+"
        r"(?:mud|blood|soot|dust|paint|ash|dirt|sweat|oil|grease|ink))\b", _R)),
    ("heal", re.compile(
        r"\b(?:washes|wipes|cleans|scrubs)\s+(?:off\s+|away\s+)?(?:the|her|his|their|its)\s+"
        r"(?P<what>[a-z]+)"
        rf"|\b(?:the|her|his|their|its)\s+(?P<what2>{'|'.join(sorted(lx.MARK_WORDS))})\s+"
        r"(?:heals|healed|fades|faded|disappears|is\s+gone|washes\s+off)\b", _R)),
    ("fall_off", re.compile(
        r"\b(?:her|his|their|its|[\w-]+'s|[\w-]+’s)\s+(?P<what>(?:[a-z'-]+\s+){0,2}?[a-z'-]+)\s+"
        r"(?:falls|fall|fell|comes|come|came|slips|slip|slipped|blows|blow|blew|flies|fly|flew|floats|floated|drifts|"
        r"drifted|washes|washed|is\s+torn|"
        r"are\s+torn|gets\s+torn)\s+"
        r"(?:off|away)\b", _R)),
    ("give", re.compile(r"\b(?:gives|gave|hands|handed|passes|passed|offers|tosses|throws)\s+", _R)),
    ("carry", re.compile(rf"\b(?:{lx.CARRY_VERBS})\s+", _R)),
    ("with_item", re.compile(r"\bwith\s+(?=(?:a|an|his|her|their|its|the|some)\s)", _R)),
    ("drop", re.compile(rf"\b(?:{lx.DROP_VERBS})\s+", _R)),
    ("prop_gone", re.compile(
        r"\bthe\s+(?P<what>(?:[a-z'-]+\s+){0,2}?[a-z'-]+)\s+(?:disappears|vanishes|is\s+gone|"
        r"breaks|shatters|is\s+taken|is\s+removed|falls\s+apart|burns\s+up|crumbles)\b", _R)),
    ("prop", re.compile(r"(?P<lead>\bthere\s+(?:is|are|'s)\s+)?\b(?P<obj>(?:a|an|some|two|three|several)\s)", _R)),
)
# Edits whose words would contradict the new state ("takes off her blue scarf", "dyes her red
# hair blue") leave the action. Additive ones ("puts on a red hood", "holding a lantern", "a
# lantern on the table") stay: still true, and the user's exact words reach the prompt.
_REMOVED_FROM_ACTION = frozenset({"take_off", "fall_off", "drop", "heal", "dye", "cut", "swap"})


def apply_edits(draft: Draft, text: str, mentions: list[Mention], consumed: list[tuple[int, int]],
                notes: list[str], reserved: list[tuple[int, int]] | None = None) -> None:
    """Finds every edit in the text and applies them in text order; the spans of those whose
    words must leave the action are added to `consumed`. `reserved` spans are skipped."""
    hits: list[tuple[int, int, str, re.Match[str]]] = []
    for prio, (kind, rx) in enumerate(RULES):
        for m in rx.finditer(text):
            hits.append((m.start(), prio, kind, m))
    hits.sort(key=lambda h: (h[0], h[1]))
    taken: list[tuple[int, int]] = [*consumed, *(reserved or ())]
    names = [(m.start, m.end) for m in mentions if m.kind != "pronoun"]
    for _, _, kind, m in hits:
        if overlaps(taken, m.start(), m.end()):
            continue
        span = _HANDLERS[kind](draft, text, m, mentions, names, notes)
        if span is not None:
            taken.append(span)
            if kind in _REMOVED_FROM_ACTION:
                consumed.append(span)


Handler = Callable[[Draft, str, "re.Match[str]", list[Mention], list[tuple[int, int]], list[str]],
                   "tuple[int, int] | None"]


def _dye(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
         names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    color = m.group("color") or m.group("color2")
    who = subjects(draft, text, m.start(), mentions)
    if not color or not who:
        return None
    for name in who:
        _hair(draft, name, lambda s, c=color: ap.recolor(s, c), f"{color} hair", notes)
    return m.span()


def _cut(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
         names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    who = subjects(draft, text, m.start(), mentions)
    if not who:
        return None
    if m.group("shave"):
        for name in who:
            old = draft.find(name, "hair", ("hair",))
            if old is not None:
                draft.change(name, old, Trait("hair", "a shaved head"))
            else:
                draft.change(name, None, Trait("hair", "a shaved head"))
            notes.append(f"{name}'s hair: a shaved head")
        return m.span()
    raw = (m.group("len") or ("long" if m.group("grow") else "short")).lower()
    length = {"off": "very short", "shorter": "short", "longer": "long", "out": "long"}.get(raw, raw)
    length = re.sub(r"^to\s+", "", length)
    if "bob" in length:
        length = "short bobbed"
    for name in who:
        _hair(draft, name, lambda s, n=length: ap.relength(s, n), f"{length} hair", notes)
    return m.span()


def _hair(draft: Draft, name: str, edit: Callable[[str], str], fresh: str,
          notes: list[str]) -> None:
    old = draft.find(name, "hair", ("hair",)) or next(
        (t for t in draft.of(name) if t.slot == "hair" or "hair" in ap.words(t.text)), None)
    if old is None:
        draft.change(name, None, Trait("hair", fresh))
        notes.append(f"{name}'s hair: {fresh}")
        return
    new = Trait(old.slot, edit(old.text))
    if new != old:
        draft.change(name, old, new)
        notes.append(f"{name}'s hair: {old.text} → {new.text}")


_COLOR_AFTER = re.compile(rf"\s+(?:a\s+|an\s+)?(?P<color>{_COLOR_RUN})\b(?![\s-]+(?:and\s+)?[a-z]+(?:ed|ing)\b)", _R)


def _paint(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
           names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    """"Ines paints the robot's shell bright yellow": the owner's shell is yellow from now on."""
    np = noun_phrase(text, m.end(), max_words=5)
    color = _COLOR_AFTER.match(text, np.end) if np is not None else None
    if np is None or color is None or ap.singular(np.head) in lx.HAIR_WORDS | lx.BEING_WORDS:
        return None
    owners = [x for x in mentions if x.names and np.start <= x.start < np.head_start
              and (x.possessive or x.kind == "pronoun")]
    head = np.head
    if len(owners) != 1 or len(owners[0].names) != 1:
        if owners or np.det in ("her", "his", "their", "its"):
            notes.append(f"not sure whose {head} turns {color.group('color')}: kept in this panel only")
        return None
    name, new = owners[0].names[0], color.group("color")
    old = draft.find(name, head, ("wearing", "carrying", "skin", "other", "base", "marks"))
    if old is not None and old.slot == "base":
        return None
    if old is not None:
        recolored = Trait(old.slot, ap.recolor(old.text, new, frozenset({head, ap.singular(head)})))
        if recolored != old:
            draft.change(name, old, recolored)
            notes.append(f"{name}'s {head}: {old.text} → {recolored.text}")
    else:
        slot = "wearing" if ap.singular(head) in lx.WEAR_WORDS or head in lx.WEAR_WORDS else "other"
        draft.change(name, None, Trait(slot, f"{'an' if new[0] in 'aeiou' else 'a'} {new} {head}"))
        notes.append(f"{name}'s {head}: {new}")
    return m.start(), color.end()


def _mark(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
          names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    who = subjects(draft, text, m.start(), mentions)
    mark = m.group("mark") or m.group("cover")
    if not who or not mark:
        return None
    for name in who:
        draft.change(name, None, Trait("marks", mark))
        notes.append(f"{name} gets: {mark}")
    return m.span()


def _heal(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
          names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    what = m.group("what") or m.group("what2")
    who = subjects(draft, text, m.start(), mentions) or list(draft.frame)
    done = False
    for name in who:
        t = draft.find(name, what, ("marks",))
        if t is not None:
            draft.change(name, t, None)
            notes.append(f"{name} loses: {t.text}")
            done = True
    return m.span() if done else None


_HANDLERS: dict[str, Handler] = {
    "take_off": wr.take_off, "put_on": wr.put_on, "described": wr.described, "dye": _dye, "paint": _paint,
    "cut": _cut, "mark": _mark, "heal": _heal, "fall_off": wr.fall_off, "give": wr.give, "carry": wr.carry,
    "with_item": wr.with_item, "swap": wr.swap, "drop": wr.drop, "prop": pr.prop, "prop_gone": pr.prop_gone,
}
