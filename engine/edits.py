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
from engine.draft import ITEM_NOUNS, POSSESSIVES, Draft, as_item, scan_np, subjects
from engine.text import Mention, overlaps
from engine.world import Trait

_COLOR_RUN = (r"(?:(?:" + "|".join(sorted(lx.COLOR_MODIFIERS)) + r")\s+)?(?:"
              + "|".join(sorted(lx.COLOR_WORDS, key=len, reverse=True)) + r")(?:[\s-](?:and\s+)?(?:"
              + "|".join(sorted(lx.COLOR_WORDS, key=len, reverse=True)) + r"))?")
_BODY = (r"cheek|face|forehead|arm|hand|leg|neck|chin|nose|eye|shoulder|back|chest|lip|brow|"
         r"jaw|wrist|knee|head|ear|temple|throat|side")
_PLACE_PREP = (r"on|upon|under|beneath|beside|near|by|next\s+to|against|above|behind|atop|"
               r"in\s+the\s+corner\s+of|in\s+front\s+of|in|inside")
_ADJ = frozenset("""
    old new wooden stone small large big long round little low high broken dusty iron oak
    marble glass kitchen dining coffee bedside side front back far nearby empty rickety heavy
    narrow wide tall short cluttered worn stone-cold tiny
""".split()) | lx.COLOR_WORDS

_R = re.I
RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("take_off", re.compile(rf"\b(?:{lx.TAKE_OFF_VERBS})\s+", _R)),
    ("put_on", re.compile(rf"\b(?:{lx.PUT_ON_VERBS})\s+", _R)),
    ("dye", re.compile(
        r"\b(?:dyes|dyed|dye|dyeing|colou?rs|colou?red|paints|painted|bleaches|bleached)\s+"
        rf"(?:her|his|their|its|the)\s+hair(?:\s+(?:a\s+|an\s+)?(?P<color>{_COLOR_RUN}))?\b"
        rf"|\bhair\s+(?:turns|turned|is\s+now|becomes|goes|has\s+turned)\s+(?P<color2>{_COLOR_RUN})\b",
        _R)),
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
        r"(?:falls|fell|comes|came|slips|slipped|blows|blew|flies|flew|is\s+torn|gets\s+torn)\s+"
        r"(?:off|away)\b", _R)),
    ("give", re.compile(r"\b(?:gives|gave|hands|handed|passes|passed|offers|tosses|throws)\s+", _R)),
    ("carry", re.compile(rf"\b(?:{lx.CARRY_VERBS})\s+", _R)),
    ("with_item", re.compile(r"\bwith\s+(?=(?:a|an|his|her|their|its|the|some)\s)", _R)),
    ("drop", re.compile(rf"\b(?:{lx.DROP_VERBS})\s+", _R)),
    ("prop_gone", re.compile(
        r"\bthe\s+(?P<what>(?:[a-z'-]+\s+){0,2}?[a-z'-]+)\s+(?:disappears|vanishes|is\s+gone|"
        r"breaks|shatters|is\s+taken|is\s+removed|falls\s+apart|burns\s+up|crumbles)\b", _R)),
    ("prop", re.compile(
        r"(?P<lead>\bthere\s+(?:is|are|'s)\s+)?\b(?P<obj>(?:a|an|some|two|three|several)\s+"
        r"(?:(?!and\b|the\b|of\b|to\b|with\b)[a-z'-]+\s+){0,3}?(?P<noun>[a-z'-]+)"
        r"(?:\s+of\s+(?:[a-z'-]+\s+)??[a-z'-]+)?)\s+"
        r"(?:(?:sits?|lies?|stands?|rests?|hangs?|leans?|lying|sitting|standing|hanging|resting|"
        r"leaning|glowing|glows|flickers|flickering|burns|burning)\s+)?"
        rf"(?P<prep>{_PLACE_PREP})\s+(?P<tail>(?:the|a|an)\s+[a-z'-]+(?:\s+[a-z'-]+)?)", _R)),
)
_WEAK_CARRY = frozenset("takes took raises lifts draws finds produces collects gathers snatches"
                        .split())


# Edits whose words would contradict the new state ("takes off her blue scarf", "dyes her red
# hair blue") leave the action. Additive ones ("puts on a red hood", "holding a lantern", "a
# lantern on the table") stay: still true, and the user's exact words reach the prompt.
_REMOVED_FROM_ACTION = frozenset({"take_off", "fall_off", "drop", "heal", "dye", "cut"})


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


def _items(text: str, m: re.Match[str], names: list[tuple[int, int]]
           ) -> tuple[int, list[str]] | None:
    end, spans = scan_np(text, m.end())
    if not spans or any(overlaps(names, a, b) for a, b in spans):
        return None
    return end, [text[a:b] for a, b in spans]


def _target(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
            names: list[tuple[int, int]]) -> tuple[int, list[str], list[str]] | None:
    """Where a rule's items end, the items, and whose they are; None when either is missing."""
    got = _items(text, m, names)
    who = subjects(draft, text, m.start(), mentions)
    if got is None or not who:
        return None
    return got[0], got[1], who


def _put_on(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
            names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    target = _target(draft, text, m, mentions, names)
    if target is None:
        return None
    end, raws, who = target
    done = False
    for name in who:
        for raw in raws:
            item = as_item(raw)
            if ap.words(item)[-1:] and ap.words(item)[-1] in lx.NOT_CARRIED:
                continue
            worn = draft.find(name, raw, ("wearing",))
            held = draft.find(name, raw, ("carrying",))
            done = True
            if worn is not None and (worn.text == item or raw.split()[0].lower() in POSSESSIVES):
                continue
            if held is not None:
                draft.change(name, held, None)
                draft.change(name, None, Trait("wearing", held.text))
                notes.append(f"{name} puts on: {held.text}")
            elif worn is not None:
                draft.change(name, worn, Trait("wearing", item))
                notes.append(f"{name} now wears {item} instead of {worn.text}")
            else:
                draft.change(name, None, Trait("wearing", item))
                notes.append(f"{name} puts on: {item}")
    return (m.start(), end) if done else None


def _take_off(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
              names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    target = _target(draft, text, m, mentions, names)
    if target is None:
        return None
    end, raws, who = target
    done = False
    for name in who:
        for raw in raws:
            t = draft.find(name, raw, ("wearing", "carrying", "other", "marks"))
            if t is not None:
                draft.change(name, t, None)
                notes.append(f"{name} takes off: {t.text}")
                done = True
    return (m.start(), end) if done else None


def _fall_off(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
              names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    who = subjects(draft, text, m.start("what"), mentions)
    done = False
    for name in who:
        t = draft.find(name, m.group("what"), ("wearing", "carrying", "other"))
        if t is not None:
            draft.change(name, t, None)
            notes.append(f"{name} loses: {t.text}")
            done = True
    return (m.start("what"), m.end()) if done else None


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
        (t for t in draft.of(name) if "hair" in ap.words(t.text)), None)
    if old is None:
        draft.change(name, None, Trait("hair", fresh))
        notes.append(f"{name}'s hair: {fresh}")
        return
    new = Trait(old.slot, edit(old.text))
    if new != old:
        draft.change(name, old, new)
        notes.append(f"{name}'s hair: {old.text} → {new.text}")


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


def _carry(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
           names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    target = _target(draft, text, m, mentions, names)
    if target is None:
        return None
    end, raws, who = target
    verb = m.group(0).split()[0].lower()
    name = who[0]
    done = False
    for raw in raws:
        head = ap.singular(ap.words(raw)[-1]) if ap.words(raw) else ""
        if not head or head in lx.NOT_CARRIED or head in lx.BEING_WORDS:
            continue
        prop = next((p for p in draft.props or () if ap.head_matches(_object(p), raw)), None)
        if verb in _WEAK_CARRY and prop is None and head not in lx.CARRY_WORDS:
            continue
        if prop is not None and draft.props is not None:
            draft.props.remove(prop)
            item = _object(prop)
            notes.append(f"{name} takes {item} from {draft.location}")
        else:
            if draft.find(name, raw, ("carrying", "wearing")) is not None:
                done = True
                continue
            item = as_item(raw)
            notes.append(f"{name} now carries: {item}")
        draft.change(name, None, Trait("carrying", item))
        done = True
    return (m.start(), end) if done else None


def _with_item(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
               names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    """"Tom arrives with a lantern": a thing one carries, read after "with"."""
    target = _target(draft, text, m, mentions, names)
    if target is None:
        return None
    end, raws, who = target
    done = False
    for raw in raws:
        ws = ap.words(raw)
        if not ws or (ap.singular(ws[-1]) not in lx.CARRY_WORDS and ws[-1] not in lx.CARRY_WORDS):
            continue
        if draft.find(who[0], raw, ("carrying", "wearing", "other")) is None:
            item = as_item(raw)
            draft.change(who[0], None, Trait("carrying", item))
            notes.append(f"{who[0]} now carries: {item}")
        done = True
    # "arrives with a lantern" stays in the action: it says how they arrive
    return (m.start(), end) if done else None


def _give(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
          names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    """"hands Tom the lantern" / "gives the lantern to Tom": the thing changes hands."""
    who = subjects(draft, text, m.start(), mentions)
    named = [x for x in mentions if x.names and x.start >= m.end()]
    first = named[0] if named else None
    if first is not None and first.start == m.end() and not first.possessive:
        to, (end, spans) = first, scan_np(text, first.end)
    else:
        end, spans = scan_np(text, m.end())
        tail = re.match(r"\s+to\s+", text[end:], re.I)
        to = first if tail and first is not None and first.start == end + tail.end() else None
        end = to.end if to is not None else end
    if to is None or not spans or not who or who[0] in to.names:
        return None
    raw = text[spans[0][0]:spans[0][1]]
    giver, taker = who[0], to.names[0]
    held = draft.find(giver, raw, ("carrying",))
    if held is not None:
        draft.change(giver, held, None)
        item = held.text
    else:
        prop = next((p for p in draft.props or () if ap.head_matches(_object(p), raw)), None)
        if prop is not None and draft.props is not None:
            draft.props.remove(prop)
        item = _object(prop) if prop is not None else as_item(raw)
        if ap.words(item)[-1:] and ap.words(item)[-1] in lx.NOT_CARRIED:
            return None
    draft.change(taker, None, Trait("carrying", item))
    notes.append(f"{giver} gives {item} to {taker}")
    return m.start(), max(end, spans[0][1])


def _drop(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
          names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    target = _target(draft, text, m, mentions, names)
    if target is None:
        return None
    end, raws, who = target
    place = re.match(rf"\s+(?P<prep>{_PLACE_PREP})\s+(?P<tail>(?:the|a|an)\s+[a-z'-]+"
                     r"(?:\s+[a-z'-]+)?)", text[end:], re.I)
    done = False
    for name in who:
        for raw in raws:
            t = draft.find(name, raw, ("carrying",))
            if t is None:
                continue
            draft.change(name, t, None)
            notes.append(f"{name} drops: {t.text}")
            done = True
            if place and draft.location is not None and draft.props is not None:
                prop = f"{t.text} {place.group('prep')} {_tail(place.group('tail'))}"
                if prop not in draft.props:
                    draft.props.append(prop)
                    notes.append(f"prop appears in {draft.location}: {prop}")
    if done and place:
        end += _tail_len(place)
    return (m.start(), end) if done else None


def _prop(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
          names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    noun = ap.singular(m.group("noun").lower())
    obj = ap.words(m.group("obj"))
    if (draft.location is None or draft.props is None or noun in lx.PLACE_WORDS
            or overlaps(names, m.start(), m.end())
            or any(ap.singular(w) in lx.BEING_WORDS or w in draft.being_words() for w in obj)
            or any(w.endswith(("ing", "ed", "ly")) and w not in ITEM_NOUNS for w in obj)):
        return None
    prep = " ".join(m.group("prep").split()).lower()
    prop = f"{m.group('obj')} {prep} {_tail(m.group('tail'))}"
    if prop not in draft.props:
        draft.props.append(prop)
        notes.append(f"prop appears in {draft.location}: {prop}")
    return m.start(), m.start("tail") + len(_tail(m.group("tail")))


def _prop_gone(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention],
               names: list[tuple[int, int]], notes: list[str]) -> tuple[int, int] | None:
    if draft.props is None:
        return None
    prop = next((p for p in draft.props if ap.head_matches(_object(p), m.group("what"))), None)
    if prop is None:
        return None
    draft.props.remove(prop)
    notes.append(f"prop gone from {draft.location}: {prop}")
    return m.span()


def _tail(tail: str) -> str:
    """"the table and" -> "the table": keep a second word only after an adjective."""
    ws = tail.split()
    if len(ws) == 3 and ws[1].lower() not in _ADJ:
        ws = ws[:2]
    return " ".join(ws)


def _tail_len(place: re.Match[str]) -> int:
    return place.start("tail") + len(_tail(place.group("tail")))


def _object(prop: str) -> str:
    """"a lantern on the table" -> "a lantern" (what a character can pick up)."""
    m = re.match(rf"(.+?)\s+(?:{_PLACE_PREP})\s+", prop, re.I)
    return m.group(1) if m else prop


_HANDLERS: dict[str, Handler] = {
    "take_off": _take_off, "put_on": _put_on, "dye": _dye, "cut": _cut, "mark": _mark,
    "heal": _heal, "fall_off": _fall_off, "give": _give, "carry": _carry, "with_item": _with_item,
    "drop": _drop, "prop": _prop, "prop_gone": _prop_gone,
}
