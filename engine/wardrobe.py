"""What characters wear and carry: the edit rules for clothes and things in hand.

Change verbs ("puts on", "takes off", "changes into", "picks up", "drops", "gives") change the
clause's subject. Describing phrases ("Vera, in a monocle and a bow tie, watches", "Otto reads
beside Suki wearing a red cape", "Tom, with a lantern, waits") belong to the nearest noun before
them and change a character only when that noun is exactly one character; when it is not clear
whose they are, nothing changes and a note says so (the words stay in the panel's action).
Pure: standard library and engine modules only.
"""

from __future__ import annotations

import re

from engine import appearance as ap
from engine import lexicon as lx
from engine.draft import POSSESSIVES, Draft, as_item, attached, items, subjects
from engine.props import object_of, place_after
from engine.text import Mention
from engine.world import Trait

Span = tuple[int, int]
# Verbs that describe rather than take: only a thing one carries (a lantern, not "heavy loads") is kept.
_WEAK_CARRY = frozenset("""takes took raises lifts draws finds produces collects gathers holds holding carries carrying
    is now clutches clutching wields wielding brandishes brandishing""".split())
# Worn things that are also places to be or things to hold: "sleeping in a flower" is not wearing one.
_NOT_WORN_IN = frozenset("flower flowers ring rings watch backpack badge medal ribbon bow wreath garland bell".split())


# Things of which one is worn at a time: a new one replaces the old ("changes into a ball gown").
def _head(raw: str) -> str:
    ws = ap.words(re.split(r"\s+of\s+", raw, maxsplit=1)[0])
    return ap.singular(ws[-1]) if ws else ""


def _item_words(raw: str) -> list[str]:
    """The phrase's words before any "of" complement ("a crown of twigs" -> a crown)."""
    return ap.words(re.split(r"\s+of\s+", raw, maxsplit=1)[0])


def _wearable(raw: str, strict: bool) -> bool:
    """Could this be worn? Strict (after "in"/"with"): a known garment; else any thing but a look."""
    ws = _item_words(raw)
    if not ws:
        return False
    head = ws[-1]
    if head in lx.NOT_CARRIED or ap.singular(head) in lx.BEING_WORDS or head in lx.PLACE_WORDS:
        return False
    return not strict or head in lx.WEAR_WORDS or ap.singular(head) in lx.WEAR_WORDS


def _slot_mate(draft: Draft, name: str, item: str) -> Trait | None:
    """What the new garment replaces: the worn thing of the same name, or of the same kind."""
    same = draft.find(name, item, ("wearing",))
    if same is not None:
        return same
    kind = lx.GARMENT_KINDS.get(ap.words(re.split(r"\s+of\s+", item)[0])[-1], ())
    if not kind:
        return None
    for t in reversed(draft.of(name)):
        ws = ap.words(re.split(r"\s+of\s+", t.text)[0])
        if t.slot == "wearing" and ws and lx.GARMENT_KINDS.get(ws[-1]) == kind:
            return t
    return None


def _own(draft: Draft, name: str, raw: str) -> str:
    """"puts his fedora back on": the fedora of their /cref description ("a grey fedora"), else raw."""
    if raw.split()[0].lower() not in POSSESSIVES - {"the"}:
        return as_item(raw)
    c = draft.world.character(name)
    first = next((t.text for t in ap.parse_description(c.description) if ap.head_matches(t.text, raw)), None)
    return first or as_item(raw)


def wear(draft: Draft, name: str, raw: str, notes: list[str]) -> None:
    """`name` now wears `raw`, replacing what stood in the same slot."""
    item = _own(draft, name, raw)
    held = draft.find(name, raw, ("carrying",))
    worn = _slot_mate(draft, name, item)
    if worn is not None and (worn.text == item or raw.split()[0].lower() in POSSESSIVES):
        return
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


_PARTICLE = re.compile(r"\s+(?:back\s+)?(?:on|off)\b(?!\s+(?:the|a|an|his|her|their|its|my|top)\b)", re.I)


def _particle_end(text: str, end: int) -> int:
    """"takes his jacket off": the span takes "off" (and "back on") with it."""
    m = _PARTICLE.match(text, end)
    return m.end() if m else end


def _unsure(notes: list[str], verb: str, raws: list[str]) -> None:
    notes.append(f"not sure who {verb} {', '.join(raws)}: kept in this panel only")


def put_on(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention], names: list[Span],
           notes: list[str]) -> Span | None:
    """"Mira puts on a red hood", "Tom wears a cape", "she changes into a ball gown"."""
    end, spans = items(text, m.end(), tuple(names))
    strict = m.group(0).lower().startswith("wrap")  # "wraps a scarf around her neck", not "wraps a gift"
    raws = [text[a:b] for a, b in spans if _wearable(text[a:b], strict=strict)]
    if not raws:
        return None
    who = subjects(draft, text, m.start(), mentions)
    if not who:
        _unsure(notes, "puts on", raws)
        return None
    for name in who:
        for raw in raws:
            wear(draft, name, raw, notes)
    return m.start(), _particle_end(text, end)


def described(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention], names: list[Span],
              notes: list[str]) -> Span | None:
    """"X, wearing Y", "X in Y", "X with Y": Y belongs to the one character just before it."""
    word = m.group("how").lower()
    end, spans = items(text, m.end(), tuple(names))
    strict = word in ("in", "with")
    raws = [text[a:b] for a, b in spans if _wearable(text[a:b], strict)
            and not (word == "in" and _head(text[a:b]) in _NOT_WORN_IN)]
    carried = [text[a:b] for a, b in spans if word in ("with", "holding", "carrying", "clutching", "wielding")
               and _head(text[a:b]) in lx.CARRY_WORDS]
    if word in ("holding", "carrying", "clutching", "wielding"):
        raws = []
    if not raws and not carried:
        return None
    who, sure = attached(draft, text, m.start(), mentions, direct=word == "with")
    if not who:
        if not sure:
            _unsure(notes, "has", raws + carried)
        return None
    name = who[0]
    for raw in raws:
        wear(draft, name, raw, notes)
    for raw in carried:
        if draft.find(name, raw, ("carrying", "wearing")) is None:
            draft.change(name, None, Trait("carrying", as_item(raw)))
            notes.append(f"{name} now carries: {as_item(raw)}")
    return m.start(), end


def take_off(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention], names: list[Span],
             notes: list[str]) -> Span | None:
    end, spans = items(text, m.end(), tuple(names))
    raws = [text[a:b] for a, b in spans]
    who = subjects(draft, text, m.start(), mentions)
    if not raws:
        return None
    if not who:
        _unsure(notes, "takes off", raws)
        return None
    done = False
    for name in who:
        for raw in raws:
            t = draft.find(name, raw, ("wearing", "carrying", "other", "marks"))
            if t is not None:
                draft.change(name, t, None)
                notes.append(f"{name} takes off: {t.text}")
                done = True
    return (m.start(), _particle_end(text, end)) if done else None


def fall_off(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention], names: list[Span],
             notes: list[str]) -> Span | None:
    """"her earrings fall off", "Zed's hat blows away"."""
    owner = [x for x in mentions if x.names and x.start == m.start() and (x.possessive or x.kind == "pronoun")]
    who = list(owner[0].names) if owner else subjects(draft, text, m.start("what"), mentions)
    done = False
    for name in who[:1]:
        t = draft.find(name, m.group("what"), ("wearing", "carrying", "other"))
        if t is not None:
            draft.change(name, t, None)
            notes.append(f"{name} loses: {t.text}")
            done = True
    return (m.start("what"), m.end()) if done else None


def carry(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention], names: list[Span],
          notes: list[str]) -> Span | None:
    end, spans = items(text, m.end(), tuple(names))
    raws = [text[a:b] for a, b in spans]
    verb = m.group(0).split()[0].lower()
    participle = verb in ("holding", "carrying", "clutching", "wielding", "brandishing")
    if participle:
        who, sure = attached(draft, text, m.start(), mentions)
    else:
        who = subjects(draft, text, m.start(), mentions)
        sure = bool(who)
    if not raws or not who:
        if raws and not sure and any(_head(r) in lx.CARRY_WORDS for r in raws):
            _unsure(notes, "holds", raws)
        return None
    name = who[0]
    done = False
    for raw in raws:
        head = _head(raw)
        if not head or head in lx.NOT_CARRIED or head in lx.BEING_WORDS or head in draft.being_words():
            continue
        prop = next((p for p in draft.props or () if ap.head_matches(object_of(p), raw)), None)
        if verb in _WEAK_CARRY and prop is None and head not in lx.CARRY_WORDS:
            continue
        if prop is not None and draft.props is not None:
            draft.props.remove(prop)
            item = object_of(prop)
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


_ARRIVE = re.compile(rf"\b(?:{lx.ENTER_VERBS}|arrive|enter|return|appear|come\s+in|comes\s+back|walks\s+back|"
                     r"is\s+back|(?:walks|runs|steps|comes|rushes|hurries)\s+(?:in|back|up|out))\s*$", re.I)


def with_item(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention], names: list[Span],
              notes: list[str]) -> Span | None:
    """"Tom arrives with a lantern": a verb of coming, then "with" a thing one carries."""
    if not _ARRIVE.search(text, max(0, m.start() - 40), m.start()):
        return None
    end, spans = items(text, m.end(), tuple(names))
    raws = [text[a:b] for a, b in spans if _head(text[a:b]) in lx.CARRY_WORDS]
    who = subjects(draft, text, m.start(), mentions)
    if not raws or not who:
        return None
    for raw in raws:
        if draft.find(who[0], raw, ("carrying", "wearing", "other")) is None:
            item = as_item(raw)
            draft.change(who[0], None, Trait("carrying", item))
            notes.append(f"{who[0]} now carries: {item}")
    # "arrives with a lantern" stays in the action: it says how they arrive
    return m.start(), end


def give(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention], names: list[Span],
         notes: list[str]) -> Span | None:
    """"hands Tom the lantern", "gives the lantern to Tom", "gives her his hoodie": it changes hands."""
    who = subjects(draft, text, m.start(), mentions)
    later = [x for x in mentions if x.names and x.start >= m.end()]
    handled = re.match(r"(?:it|them)\s+(?:back\s+|over\s+)?to\s+", text[m.end():], re.I)
    if handled and who and later and later[0].start == m.end() + handled.end() and len(later[0].names) == 1:
        return _hand_on(draft, who[0], later[0].names[0], notes, (m.start(), later[0].end))
    first = later[0] if later else None
    if first is not None and first.start == m.end() and not first.possessive:
        to, (end, spans) = first, items(text, first.end)
    else:
        end, spans = items(text, m.end(), tuple(names))
        tail = re.match(r"\s+to\s+", text[end:], re.I)
        to = first if tail and first is not None and first.start == end + tail.end() else None
        end = to.end if to is not None else end
    if to is None or not spans or not who or who[0] in to.names or len(to.names) != 1:
        return None
    raw = text[spans[0][0]:spans[0][1]]
    giver, taker = who[0], to.names[0]
    held = draft.find(giver, raw, ("carrying", "wearing"))
    if held is not None:
        draft.change(giver, held, None)
        item = held.text
    else:
        prop = next((p for p in draft.props or () if ap.head_matches(object_of(p), raw)), None)
        if prop is not None and draft.props is not None:
            draft.props.remove(prop)
        item = object_of(prop) if prop is not None else as_item(raw)
        if ap.words(item)[-1:] and ap.words(item)[-1] in lx.NOT_CARRIED:
            return None
    draft.change(taker, None, Trait("carrying", item))
    notes.append(f"{giver} gives {item} to {taker}")
    return m.start(), max(end, spans[0][1])


def _hand_on(draft: Draft, giver: str, taker: str, notes: list[str], span: Span) -> Span | None:
    """"takes off the sunglasses and hands them to Vera": "them" is the thing just handled."""
    last = draft.changes.get(giver, [])[-1:]
    if not last or giver == taker:
        return None
    old, new = last[0]
    thing = new.text if new is not None else old
    if thing is None:
        return None
    held = next((t for t in draft.of(giver) if t.text == thing and t.slot in ("carrying", "wearing")), None)
    if held is not None:
        draft.change(giver, held, None)
    draft.change(taker, None, Trait("carrying", thing))
    notes.append(f"{giver} gives {thing} to {taker}")
    return span


def drop(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention], names: list[Span],
         notes: list[str]) -> Span | None:
    end, spans = items(text, m.end(), tuple(names))
    raws = [text[a:b] for a, b in spans]
    who = subjects(draft, text, m.start(), mentions)
    if not raws or not who:
        return None
    place = place_after(text, end, tuple(names))
    done = False
    for name in who:
        for raw in raws:
            t = draft.find(name, raw, ("carrying", "wearing"))
            if t is None:
                continue
            draft.change(name, t, None)
            notes.append(f"{name} drops: {t.text}")
            done = True
            if place is not None and draft.location is not None and draft.props is not None:
                prop = f"{t.text} {place[0]}"
                if prop not in draft.props:
                    draft.props.append(prop)
                    notes.append(f"prop appears in {draft.location}: {prop}")
    if done and place is not None:
        end = place[1]
    return (m.start(), end) if done else None


def swap(draft: Draft, text: str, m: re.Match[str], mentions: list[Mention], names: list[Span],
         notes: list[str]) -> Span | None:
    """"Nico swaps his sneakers for loafers": the new thing takes the old one's place."""
    end, old_spans = items(text, m.end(), tuple(names))
    join = re.match(r"\s+for\s+", text[end:], re.I)
    if not old_spans or join is None:
        return None
    end, new_spans = items(text, end + join.end(), tuple(names))
    who = subjects(draft, text, m.start(), mentions)
    if not new_spans or len(who) != 1:
        return None
    old_raw, new_raw = text[slice(*old_spans[0])], text[slice(*new_spans[0])]
    old = draft.find(who[0], old_raw, ("wearing", "carrying"))
    if old is None or not _wearable(new_raw, strict=False):
        return None
    new = Trait(old.slot, as_item(new_raw))
    draft.change(who[0], old, new)
    notes.append(f"{who[0]} swaps {old.text} for {new.text}")
    return m.start(), end
