"""Who is in a panel: names, pronouns, groups ("both", "all three"), people entering and leaving,
and the establishing shot (an /imagine whose text has a subject of its own frames nobody).

Pure: standard library and engine modules only.
"""

from __future__ import annotations

import re

from engine import lexicon as lx
from engine.phrases import ADVERBS, PREPOSITIONS, finite_verb, noun_phrase, participle, plural_noun, tags
from engine.text import Mention, recent_group, starts_clause
from engine.world import World

_GROUP = re.compile(r"\b(?:everyone|everybody|both|all\s+of\s+(?:them|us)|they\s+all|the\s+two|"
                    r"all\s+(?:two|three|four|five|six)(?:\s+of\s+(?:them|us))?|(?:two|three|four|five|six)\s+of\s+them|"
                    r"the\s+(?:three|four|five|trio|crew|gang|team|friends|whole\s+(?:group|crew|gang|team))|"
                    r"the\s+group|the\s+others)\b", re.I)
_ENTER_AFTER = re.compile(
    rf"^(?:\s+(?:\w+ly|then|finally|suddenly|now|also|all|both))?\s+(?:{lx.ENTER_VERBS}|enter|"
    r"come\s+in|come\s+back|arrive|appear|join|return|walk\s+in|run\s+in|step\s+in|burst\s+in|"
    r"show\s+up|are\s+back|reappear)\b", re.I)
_LEAVE_AFTER = re.compile(
    rf"^(?:\s+(?:\w+ly|then|finally|suddenly|now|also|all|both))?\s+(?:{lx.LEAVE_VERBS}|leave|exit|"
    r"depart|walk\s+(?:out|away|off)|go\s+away|disappear|vanish|run\s+(?:off|away))\b", re.I)
# "walks out to the harbour" goes somewhere: a move with the character, not an exit.
_DESTINATION = re.compile(r"^[^.;!?]*?\b(?:to|into|toward|towards|onto|for)\s+(?:the|a|an)\b", re.I)
# "leaves" is an exit only when nothing (or a room/scene) follows; "leaves her sword" is not.
_LEAVE_OBJECT = re.compile(
    r"^\s*(?:$|[,.;!?]|(?:and|then|but|while|as|through|without|for|in|with|to|together|again|now|too|\w+ly)\b|"
    r"(?:the\s+)?(?:room|scene|frame|panel|building|house|place|area|picture)\b)", re.I)

# "Bolt rolls in", "Tom drives off": any verb of moving, at the end of its clause.
_CLAUSE_ENDS = r"(?=\s*(?:$|[,.;!?]|(?:and|then|but|while|as|with|from|through|together)\b))"
_MOVE_IN = re.compile(rf"^(?:\s+\w+ly)?\s+(?:{lx.MOTION_RE})\s+(?:in|inside|back|over|along|up){_CLAUSE_ENDS}",
                      re.I)
_MOVE_OUT = re.compile(rf"^(?:\s+\w+ly)?\s+(?:{lx.MOTION_RE})\s+(?:out|off|away){_CLAUSE_ENDS}", re.I)




def entering_and_leaving(
    text: str, mentions: list[Mention],
) -> tuple[list[str], list[str], list[tuple[int, int]]]:
    """Characters that enter or leave, and the spans of the leaving clauses."""
    leavers: list[str] = []
    enterers: list[str] = []
    spans: list[tuple[int, int]] = []
    named = [m for m in mentions if m.names and not m.possessive]
    i = 0
    while i < len(named):
        # "Mira and Tom leave": the verb after the last of an "and" group counts for all
        j = i
        while j + 1 < len(named) and re.fullmatch(r"\s*(?:,|and|,\s*and)\s*",
                                                  text[named[j].end:named[j + 1].start], re.I):
            j += 1
        group, last = named[i: j + 1], named[j]
        after = text[last.end:]
        lm = _LEAVE_AFTER.match(after) or _MOVE_OUT.match(after)
        if lm and _DESTINATION.match(after[lm.end():]):
            lm = None
        if lm and (not re.search(r"\b(?:leaves|left|leave)$", lm.group(0), re.I)
                   or _LEAVE_OBJECT.match(after[lm.end():])):
            end = last.end + lm.end()
            obj = re.match(r"\s+(?:the\s+)?(?:room|scene|frame|panel|building|house|place)\b",
                           text[end:], re.I)
            spans.append((group[0].start, end + (obj.end() if obj else 0)))
            for m in group:
                leavers += [n for n in m.names if n not in leavers]
        elif _ENTER_AFTER.match(after) or _MOVE_IN.match(after):
            for m in group:
                enterers += [n for n in m.names if n not in enterers]
        i = j + 1
    _coordinated_leaves(text, named, leavers, spans)
    return leavers, enterers, spans


_AND_LEAVES = re.compile(
    rf"(?:\s*,\s*|\s+)(?:and\s+then|and|then|,)(?:\s+\w+ly)?\s+(?:{lx.LEAVE_VERBS}|leave|exit|walk\s+(?:out|away|off)|"
    rf"(?:{lx.MOTION_RE})\s+(?:out|off|away)(?=\s*(?:$|[,.;!?])))\b", re.I)


def _coordinated_leaves(text: str, named: list[Mention], leavers: list[str], spans: list[tuple[int, int]]) -> None:
    """"Kai waves and leaves": the subject of the first verb leaves too, out of this same panel."""
    for m in _AND_LEAVES.finditer(text):
        rest = text[m.end():]
        if _DESTINATION.match(rest) or (re.search(r"\b(?:leaves|left|leave)$", m.group(0), re.I)
                                        and not _LEAVE_OBJECT.match(rest)):
            continue
        sent = max(text.rfind(c, 0, m.start()) for c in ".!?;") + 1
        subject = [x for x in named if sent <= x.start < m.start() and starts_clause(text, x.start)]
        if not subject or any(n in leavers for n in subject[-1].names):
            continue
        obj = re.match(r"\s+(?:the\s+)?(?:room|scene|frame|panel|building|house|place)\b", rest, re.I)
        spans.append((m.start(), m.end() + (obj.end() if obj else 0)))
        leavers += [n for n in subject[-1].names if n not in leavers]


SMALL_CAST = 3
_OWN_SUBJECT = re.compile(
    r"^\W*(?:a|an|the|some|any|one|two|three|four|five|several|many|this|that|these|those|his|her|their|its|"
    r"my|our|your|\d+)\b|\b(?:empty|nobody|no one|deserted|abandoned|unoccupied|without anyone)\b", re.IGNORECASE)


def _subjectless(text: str) -> bool:
    """True for a predicate with no subject ("soaring through the sky", "at dawn, resting");
    False for words with a subject of their own ("a lantern in the snow", "goats graze")."""
    if not text.strip() or _OWN_SUBJECT.search(text):
        return False
    first = re.match(r"\W*([A-Za-z][\w'’-]*)", text)
    if first is None:
        return True
    word = first.group(1).lower()
    if word in PREPOSITIONS or word in ADVERBS or participle(word) or word.endswith("ly"):
        return True
    np = noun_phrase(text, first.start(1))
    if np is None:
        return True
    nxt = re.match(r"\s*([A-Za-z][\w'’-]*)", text[np.end:])
    if nxt is not None and finite_verb(nxt.group(1), after_plural=plural_noun(np.head)):
        return False  # "goats graze on the hill", "snow falls on the village"
    # a bare noun that cannot be a verb ("fireworks over the river"); "dance in the rain" can
    return "VERB" in tags(np.head) and not plural_noun(np.head)


_ALONE = re.compile(r"\b(?:alone|by (?:herself|himself|themselves|itself)|on (?:her|his|their|its) own)\b", re.I)
_GROUP_SIZE = {"both": 2, "two": 2, "three": 3, "trio": 3, "four": 4, "five": 5, "six": 6}


def _group_size(phrase: str) -> int | None:
    for w in phrase.lower().split():
        if w in _GROUP_SIZE:
            return _GROUP_SIZE[w]
    return None


def frame_of(world: World, text: str, mentions: list[Mention], leavers: list[str],
             enterers: list[str], carry: bool, notes: list[str]) -> list[str]:
    """Who is in the panel: named characters, or the previous frame when none is named."""
    prev: list[str] = []
    last = world.last_shot
    if carry and last is not None:
        prev = [n for n in last.characters if world.find_character(n) is not None]
    group = _GROUP.search(text)
    if group is not None and re.search(r"\b(?:them|us)\s*$", text[:group.start()], re.I):
        group = None  # "greets them both": both are who "them" means
    if group is not None:
        # "the two of them": the group phrase's own pronoun is the group, read below
        tail = re.match(r"\s+of\s+(?:them|us)\b", text[group.end():], re.I)
        end = group.end() + (tail.end() if tail else 0)
        mentions = [m for m in mentions if not (m.kind == "pronoun" and group.start() <= m.start < end)]
    named = [n for m in mentions if m.names and m.kind != "pronoun" for n in m.names]
    pronouns = [n for m in mentions if m.kind == "pronoun" for n in m.names]
    if named and _ALONE.search(text):
        # "Otto alone in the hangar, watching them go": only who is named
        return [n for n in dict.fromkeys(named) if n not in leavers]
    size = _group_size(group.group(0)) if group else None
    distinct = list(dict.fromkeys(named))
    if group and size is not None and len(distinct) >= size:
        # "Kai and Lu sit down; both laugh": the two just named, not the cast of the last panels
        base = []
    elif group and carry:
        # "everyone laughs": the people of the last few panels, not only the last close-up
        base = [n for n in recent_group(world) if n not in prev]
        base = [*prev, *base]
        if size is not None:
            # "all three": those named, then the last frame's, then the recent panels', three in all
            base = [n for n in base if n not in distinct][: max(0, size - len(distinct))]
    elif leavers or enterers or not named:
        base = list(prev)
        if prev and not named and not leavers:
            notes.append("in frame, kept from the last panel: " + ", ".join(prev))
    else:
        base = []
    members = {n for n in (*base, *named, *pronouns) if n not in leavers}
    # Who this text talks about first, in the order written, then the others in their old
    # order: the drawn frame becomes world.last_mentioned, so after "Lena walks in" the next
    # "she" is Lena, not whoever stood first in the old frame.
    recent = [n for m in mentions for n in m.names]
    frame: list[str] = []
    for n in (*recent, *base, *named, *pronouns):
        if n in members and n not in frame:
            frame.append(n)
    if not frame and not leavers and not mentions and _subjectless(text):
        # "/imagine soaring through a glowing sky" after "/cref Phoenix a phoenix ...": words with
        # no subject of their own are about the cast. A small cast is "the" cast; a big one keeps
        # the last mentioned. "a castle on a hill" or "an empty bench" has its own subject.
        cast = [c.name for c in world.characters]
        frame = cast if len(cast) <= SMALL_CAST else [n for n in world.last_mentioned if world.find_character(n)]
        if frame:
            notes.append("nobody named: in frame, " + ", ".join(frame))
    # say who a pronoun meant, once, unless that character is named in the text anyway
    told: set[tuple[str, ...]] = set()
    for m in mentions:
        if m.kind == "pronoun" and m.names and m.names not in told and not set(m.names) <= set(named):
            told.add(m.names)
            notes.append(f"“{m.text}” → {', '.join(m.names)}")
    return frame
