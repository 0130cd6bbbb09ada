"""A draft of what one planner text changes, and the small readers the edit rules share.

A Draft keeps working copies of the traits and props it changes, so several edits in one text
build on each other, and turns them into AppearanceChanged / PropsChanged events whose fold
gives exactly the working copies. `scan_np` reads the noun phrase after a verb and `subjects`
finds who does it. Pure: standard library and engine.world only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine import appearance as ap
from engine import lexicon as lx
from engine.events import AppearanceChanged, Event, PropsChanged
from engine.phrases import DETS, inflected_verb, noun_phrase, participle, tags, verb_only
from engine.text import Mention, starts_clause, world_index
from engine.world import Trait, World

_DETS = frozenset("a an the her his their its my your our some two three four several".split())
POSSESSIVES = frozenset("the her his their its my your our".split())
_NP_STOP = frozenset("""
    and then while as before after but so to into onto toward towards at in from for because
    with when until or off out up down over through across is are was were who which that
    where he she they it him them on by near behind beside under again too back away around
    instead
""".split())
ITEM_NOUNS = lx.WEAR_WORDS | lx.CARRY_WORDS | lx.MARK_WORDS
_TOK = re.compile(r"\s*([A-Za-z0-9][\w'’-]*|[^\w\s])")
_ADVERBS = frozenset("then now also finally suddenly still and so next again just".split())


@dataclass
class Draft:
    """Working copies of what one text changes; `events()` turns them into events."""

    world: World
    location: str | None
    frame: list[str]
    traits: dict[str, list[Trait]] = field(default_factory=dict)
    changes: dict[str, list[tuple[str | None, Trait | None]]] = field(default_factory=dict)
    props: list[str] | None = None
    props_before: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        loc = self.world.location(self.location)
        self.props_before = loc.props if loc is not None else ()
        self.props = list(self.props_before)

    def being_words(self) -> frozenset[str]:
        """Nouns naming a character ("phoenix" of "a phoenix with ..."): never a prop."""
        return frozenset(world_index(self.world).desc_word)

    def of(self, name: str) -> list[Trait]:
        if name not in self.traits:
            c = self.world.character(name)
            self.traits[name] = list(c.traits or ap.parse_description(c.description))
            if not c.traits and self.traits[name]:
                # A character registered without traits: give it its parsed phrases first.
                self.changes[name] = [(None, t) for t in self.traits[name]]
        return self.traits[name]

    def change(self, name: str, old: Trait | None, new: Trait | None) -> None:
        traits = self.of(name)
        if old is not None and new is not None:
            traits[traits.index(old)] = new
        elif old is not None:
            traits.remove(old)
        elif new is not None:
            if new in traits:
                return
            traits.append(new)
        log = self.changes.setdefault(name, [])
        gone = next((i for i, (t, n) in enumerate(log) if old is None and new is not None and n is None
                     and t == new.text and new in self.world.character(name).traits), None)
        if gone is not None:
            del log[gone]  # "takes off his hat ... puts his hat back on": no change at all
            return
        made = next((i for i, (_, t) in enumerate(log) if old is not None and t == old), None)
        if made is not None:
            # a thing this same text added and now changes again: one net change
            # ("finds a gem and hands it to Sefa" never puts the gem on Thimble)
            first = log[made][0]
            if first is None and new is None:
                del log[made]
            else:
                log[made] = (first, new)
            return
        log.append((old.text if old else None, new))

    def find(self, name: str, item: str, slots: tuple[str, ...]) -> Trait | None:
        for t in reversed(self.of(name)):
            if t.slot in slots and ap.head_matches(t.text, item):
                return t
        return None

    def events(self) -> list[Event]:
        out: list[Event] = []
        if self.location is not None and self.props is not None:
            added = tuple(p for p in self.props if p not in self.props_before)
            removed = tuple(p for p in self.props_before if p not in self.props)
            if added or removed:
                out.append(PropsChanged(location=self.location, added=added, removed=removed))
        for name, ch in self.changes.items():
            if ch:
                out.append(AppearanceChanged(name=name, changes=tuple(ch)))
        return out

def scan_np(text: str, pos: int, max_words: int = 6) -> tuple[int, list[tuple[int, int]]]:
    """The noun phrase(s) at pos: "a red hood and gloves" -> two item spans, and the end."""
    items: list[tuple[int, int]] = []
    start = end = -1
    count = 0
    i = pos
    while True:
        m = _TOK.match(text, i)
        if m is None:
            break
        w = m.group(1)
        low = w.lower()
        if not (w[0].isalnum()):
            break
        if low == "and" and start >= 0:
            nxt = _TOK.match(text, m.end())
            nw = nxt.group(1).lower() if nxt else ""
            if nw in _DETS or ap.singular(nw) in ITEM_NOUNS or nw in ITEM_NOUNS:
                items.append((start, end))
                start, count, i = -1, 0, m.end()
                continue
            break
        if low in _NP_STOP or count >= max_words:
            break
        if count and (low.endswith("ly") or low.endswith("ing")) and low not in ITEM_NOUNS:
            break
        if start < 0:
            start = m.start(1)
        end = m.end(1)
        count += 1
        i = m.end()
    if start >= 0:
        items.append((start, end))
    return (items[-1][1] if items else pos), items


def as_item(raw: str) -> str:
    """"her red hood" -> "a red hood"; "his boots" -> "boots"; other words verbatim."""
    ws = raw.split()
    if not ws or ws[0].lower() not in POSSESSIVES:
        return raw
    rest = ws[1:]
    if not rest:
        return raw
    last = rest[-1].lower()
    if last.endswith("s") and not last.endswith("ss"):
        return " ".join(rest)
    art = "an" if rest[0][0].lower() in "aeiou" else "a"
    return " ".join([art, *rest])

def subjects(draft: Draft, text: str, pos: int, mentions: list[Mention]) -> list[str]:
    """Who does the verb at pos: the nearest clause-starting mention before it."""
    sent = max(text.rfind(c, 0, pos) for c in ".!?;") + 1
    before = [m for m in mentions if sent <= m.start < pos and m.subject_form and m.names
              and m.end <= pos]
    starters = [m for m in before if starts_clause(text, m.start)]
    pick = starters[-1] if starters else (before[0] if before else None)
    relative = [m for m in before if re.fullmatch(r"\s*,?\s*(?:who|that)\s+(?:\w+ly\s+)?", text[m.end:pos], re.I)]
    if relative:
        pick = relative[-1]  # "sketches Nico, who is wearing a crown": Nico
    if pick is None:
        # "puts on a hood" (no subject written) is the one framed character; "a stranger
        # wearing a cloak" is not
        head = re.findall(r"[\w'’]+", text[sent:pos].lower())
        if len(draft.frame) == 1 and all(w in _ADVERBS or w.endswith("ly") for w in head):
            return [draft.frame[0]]
        if head:
            return []
        earlier = [m for m in mentions if m.end <= pos and m.subject_form and m.names]
        return list(earlier[-1].names) if earlier else []
    names = list(pick.names)
    # "Mira and Tom put on coats"
    prev = [m for m in before if m.end <= pick.start]
    if prev and re.fullmatch(r"\s*and\s*", text[prev[-1].end:pick.start], re.I):
        names = [*prev[-1].names, *[n for n in names if n not in prev[-1].names]]
    return names


_LIST_JOIN = re.compile(r"\s*(?:,\s*and|,\s*or|,|and|or)\s+", re.I)
_OF = re.compile(r"\s+of\s+", re.I)


def items(text: str, pos: int, blocked: tuple[tuple[int, int], ...] = ()) -> tuple[int, list[tuple[int, int]]]:
    """The noun phrases listed at pos ("a monocle and a bow tie", "a belt of tools"): where the list
    ends and each item's span. The list ends at a verb ("a bow tie watches"), a preposition or a name."""
    out: list[tuple[int, int]] = []
    i = pos
    while True:
        np = noun_phrase(text, i, blocked=blocked)
        if np is None or any(a < np.end and np.start < b for a, b in blocked):
            break
        end = np.end
        if len(np.words) > 1 and np.head not in ITEM_NOUNS and ap.singular(np.head) not in ITEM_NOUNS \
                and "VERB" in tags(np.head) and np.words[-2].lower() in ITEM_NOUNS:
            end = text.rindex(np.words[-2], np.start, end) + len(np.words[-2])  # "in a tuxedo pose together"
        of = _OF.match(text, end)
        inner = noun_phrase(text, of.end(), blocked=blocked) if of else None
        if inner is not None:
            end = inner.end  # "a crown of twigs", "a pair of boots"
        out.append((np.start, end))
        join = _LIST_JOIN.match(text, end)
        if join is None:
            break
        nxt = noun_phrase(text, join.end(), blocked=blocked)
        first = re.match(r"[\w'’-]+", text[join.end():])
        if nxt is None or first is None or participle(first.group(0)) or not (
                first.group(0).lower() in DETS or ap.singular(nxt.head) in ITEM_NOUNS or nxt.head in ITEM_NOUNS):
            break
        i = join.end()
    return (out[-1][1] if out else pos), out


def _verb_like(word: str) -> bool:
    w = word.lower()
    return inflected_verb(w) or verb_only(w) or w.endswith("ly") or ("ADV" in tags(w) and "NOUN" not in tags(w))


def attached(draft: Draft, text: str, pos: int, mentions: list[Mention], direct: bool = False
             ) -> tuple[list[str], bool]:
    """Whom a describing phrase at pos belongs to ("wearing a red cape", "in a monocle"): the
    nearest noun before it. Returns (names, sure); ([], True) when it describes someone who is
    not a character ("a stranger wearing a cloak"), ([], False) when it is not clear. `direct`:
    only a character right before counts ("Tom, with a lantern," but not "plays with a ball")."""
    before = text[:pos].rstrip()
    comma = before.endswith((",", "—", "–"))
    if comma:
        before = before[:-1].rstrip()
    end = len(before)
    for m in mentions:
        if m.names and m.end == end and not m.possessive:
            group = [x for x in mentions if x.names and x.end < m.start
                     and re.fullmatch(r"\s*(?:,|and|,\s*and)\s*", text[x.end:m.start], re.I)]
            # "Kai and Lu, wearing raincoats": more than one: not sure whose
            return (list(m.names), True) if not group and len(m.names) == 1 else ([], False)
    sent = max(text.rfind(c, 0, pos) for c in ".!?;") + 1
    head = before[sent:].strip()
    if direct:
        return [], True
    if not head:
        # "wearing a tiny hat" with no subject written: the one framed character
        return (list(draft.frame), True) if len(draft.frame) == 1 else ([], False)
    word = re.search(r"([\w'’-]+)$", head)
    last = word.group(1).lower() if word else ""
    if last and not _verb_like(last) and (last in lx.BEING_WORDS or ap.singular(last) in lx.BEING_WORDS):
        return [], True  # "a stranger wearing a cloak": someone else
    if last and not _verb_like(last) and not comma:
        return [], False  # "reads a book wearing glasses": the book does not wear them
    who = subjects(draft, text, pos, mentions)
    return (who, True) if len(who) == 1 else ([], False)
