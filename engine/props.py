"""Props: things that stay with a place ("a lantern sits on the table", "the vase shatters").

A prop is a clean noun phrase at the start of a clause ("a lantern on the table", "there is a
map on the wall"), never a person or an animal, placed on or in another clean noun phrase
("on the table", never "under the flickering"). A thing placed by a character ("a book beside
him") or in a whole place ("a mushroom in a magical forest") describes this panel only.
Pure: standard library and engine modules only.
"""

from __future__ import annotations

import re

from engine import appearance as ap
from engine import lexicon as lx
from engine.draft import ITEM_NOUNS, Draft
from engine.phrases import noun_phrase
from engine.text import Mention, overlaps, starts_clause

Span = tuple[int, int]
PLACE_PREP = (r"on|upon|under|beneath|beside|near|by|next\s+to|against|above|behind|atop|"
              r"in\s+the\s+corner\s+of|in\s+front\s+of|in|inside")
_AFTER_PREP = re.compile(rf"\s+({PLACE_PREP})\s+", re.I)
_STANDS = re.compile(r"\s+(?:sits?|lies?|stands?|rests?|hangs?|leans?|lying|sitting|standing|hanging|resting|"
                     r"leaning|glowing|glows|flickers|flickering|burns|burning|waits|waiting)\b", re.I)


def object_of(prop: str) -> str:
    """"a lantern on the table" -> "a lantern" (what a character can pick up)."""
    m = re.match(rf"(.+?)\s+(?:{PLACE_PREP})\s+", prop, re.I)
    return m.group(1) if m else prop


def place_after(text: str, pos: int, blocked: tuple[Span, ...] = ()) -> tuple[str, int] | None:
    """"... on the old table" at pos: ("on the old table", end), when a clean thing follows."""
    m = _AFTER_PREP.match(text, pos)
    if m is None:
        return None
    np = noun_phrase(text, m.end(), max_words=4, blocked=blocked)
    if (np is None or not np.det or np.head in lx.PLACE_WORDS or ap.singular(np.head) in lx.BEING_WORDS
            or np.head in lx.WEAR_WORDS):
        return None
    return f"{' '.join(m.group(1).lower().split())} {np.text(text)}", np.end


def prop(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention], names: list[Span],
         notes: list[str]) -> Span | None:
    """"a lantern sits on the table": a new thing in the current place."""
    start = m.start("obj")
    if draft.location is None or draft.props is None:
        return None
    if not (m.group("lead") or starts_clause(text, start)):
        return None  # "commanding a storm in an icy palace": the object of a verb, not a prop
    np = noun_phrase(text, start, max_words=4, blocked=tuple(names))
    if np is None or not np.det or np.det in ("the", "his", "her", "their", "its"):
        return None
    end = np.end
    of = re.match(r"\s+of\s+", text[end:], re.I)
    inner = noun_phrase(text, end + of.end(), max_words=3, blocked=tuple(names)) if of else None
    if inner is not None:
        end = inner.end
    obj = ap.words(text[start:end])
    if (np.head in lx.PLACE_WORDS or overlaps(names, start, end)
            or any(ap.singular(w) in lx.BEING_WORDS or w in draft.being_words() for w in obj)
            or any(w.endswith(("ing", "ed", "ly")) and w not in ITEM_NOUNS for w in obj)):
        return None
    stands = _STANDS.match(text, end)
    where = place_after(text, stands.end() if stands else end, tuple(names))
    if where is None:
        return None
    thing = f"{text[start:end]} {where[0]}"
    if thing not in draft.props:
        draft.props.append(thing)
        notes.append(f"prop appears in {draft.location}: {thing}")
    return start, where[1]


def prop_gone(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention], names: list[Span],
              notes: list[str]) -> Span | None:
    if draft.props is None:
        return None
    gone = next((p for p in draft.props if ap.head_matches(object_of(p), m.group("what"))), None)
    if gone is None:
        return None
    draft.props.remove(gone)
    notes.append(f"prop gone from {draft.location}: {gone}")
    return m.span()
