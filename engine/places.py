"""Where a panel is: reading a place from a preposition and the noun phrase after it.

"argue in a small, smoky kitchen", "camp in desert", "talk on the beach", "Nell on the road, near
the forest", "at home": a place is a preposition (or "reaches", "enters" ...) followed by a noun
phrase whose head is a place noun. The head decides ("toward the lab equipment" is not the lab).
"near", "beside", "by" name a landmark: the place when nothing else is, otherwise something near
the place. A spot with "the" and a static preposition ("waits on the pier") is a spot in the
current place when it is a part of places (pier, deck, bench ...) or one of its own words.
Pure: standard library and engine modules only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine import lexicon as lx
from engine.events import Event, LocationSet
from engine.phrases import NounPhrase, noun_phrase
from engine.text import WorldIndex, after_gaze
from engine.world import World

_PREP = re.compile(
    r"\b(?:(?P<motion>" + lx.MOTION_RE + r")\s+(?:\w+ly\s+)?(?P<mprep>down|up|over|across|through)"
    r"|(?P<prep>into|inside|in|at|to|toward|towards|onto|on|upon|atop|across|through|within|outside|off|"
    r"near|beside|by|next\s+to|under|beneath|reaches|reached|reaching|enters|entered|entering|visits|visited|"
    r"visiting|explores|explored|exploring|crosses|crossed|crossing|back\s+to|back\s+in|back\s+at))\s+", re.I)
_HOME = re.compile(r"\b(?:at|back)\s+(home|school|work|church)\b|\b(?:goes|go|went|heads|head|headed|comes|come|came|"
                   r"walks|walk|runs|run|returns|return|hurries|rushes|is|are|gets|get|drives|rides|flies)\s+(?:\w+ly\s+)?(?:back\s+)?"
                   r"(home)\b", re.I)
_STATIC = frozenset({"in", "on", "at", "upon", "atop", "within", "inside", "off", "under", "beneath", "outside",
                     "back in", "back at"})
_LANDMARK = frozenset({"near", "beside", "by", "next to"})
_GAZE_PREPS = frozenset({"at", "to", "toward", "towards", "into", "across", "over", "through", "on", "upon"})
# A look "at the castle" or "toward the sea" goes nowhere; "waving on the ship" is on the ship.
_LOOK_ONLY = frozenset({"at", "to", "toward", "towards", "into", "across", "over", "through", "back at", "back to"})
_HERE_NOUNS = frozenset({"room", "place", "area", "spot", "building", "house", "hall", "inside"})
_MOTION_BEFORE = re.compile(rf"\b(?:{lx.MOTION_RE}|arriv\w*|return\w*|land\w*|reach\w*|get|gets|got|"
                            rf"end\w* up|find\w* (?:herself|himself|themselves|itself))\b(?:\s+\w+){{0,2}}\s*$", re.I)
_OF = re.compile(r"\s+of\s+", re.I)
_SCENE_SUBJECT = re.compile(r"\b(?:night|darkness|dark|dusk|dawn|rain|snow|fog|mist|light|sunlight|moonlight|shadows?|"
                            r"clouds?|smoke|waves?|silence|wind|sun|moon|stars?)\s+(?:\w+\s+)?"
                            r"(?:\w+ly\s+)?$", re.I)
# Screenplay scene headings: "INT. DINER - MIDNIGHT", "EXT. ALLEY - LATER".
_SLUG = re.compile(r"\b(?:INT|EXT|I/E)\.?\s+(?P<where>[A-Z][A-Z'’ ]*[A-Z])\b")


@dataclass(frozen=True)
class Candidate:
    pos: int
    name: str
    description: str | None  # a new place's description; None for a known place or this one
    landmark: bool = False
    phrase: str = ""


def _place_head(np: NounPhrase) -> str | None:
    """The place noun a phrase names ("ice cave", "kitchen"), or None."""
    ws = [w.lower() for w in np.words]
    if len(ws) >= 2 and f"{ws[-2]} {ws[-1]}" in lx.PLACE_PHRASES:
        return f"{ws[-2]} {ws[-1]}"
    return ws[-1] if ws[-1] in lx.PLACE_WORDS else None


def _name(head: str) -> str:
    return " ".join(w.capitalize() for w in head.split())


def candidates(world: World, text: str, idx: WorldIndex, blocked: tuple[tuple[int, int], ...]) -> list[Candidate]:
    """Every place the text puts the panel in, in text order (landmarks marked)."""
    here = world.location(world.scene.location)
    here_words = set(re.findall(r"[a-z]+", f"{here.name} {here.description}".lower())) if here else set()
    out: list[Candidate] = []
    for m in _SLUG.finditer(text):
        where = " ".join(m.group("where").lower().split())
        known = world.location(_name(where)) or world.location(_name(where.split()[-1]))
        out.append(Candidate(m.start(), known.name if known else _name(where), None if known else f"the {where}"))
    for m in _HOME.finditer(text):
        word = (m.group(1) or m.group(2)).lower()
        known = world.location(word)
        out.append(Candidate(m.start(), known.name if known else _name(word), None if known else f"at {word}"))
    if idx.loc_re is not None:
        for m in idx.loc_re.finditer(text):
            prep = m.group(0).split()[0].lower()
            if (prep in _LOOK_ONLY and after_gaze(text, m.start())) or _compound(text, m.start(1), m.end(1)) \
                    or _SCENE_SUBJECT.search(text, max(0, m.start() - 60), m.start()):
                continue
            name = idx.loc_key[" ".join(m.group(1).casefold().split())]
            phrase = m.group(0).split(None, 1)[1] if " " in m.group(0) else m.group(1)
            out.append(Candidate(m.start(), name, None, prep in _LANDMARK, phrase))
    for m in _PREP.finditer(text):
        prep = " ".join((m.group("prep") or m.group("mprep")).lower().split())
        if _SCENE_SUBJECT.search(text, max(0, m.start() - 60), m.start()):
            continue  # "night falls over the valley", "the wind howling through the gate": nobody goes there
        np = noun_phrase(text, m.end(), blocked=blocked)
        if np is None or (not np.det and len(np.words) > 2):
            continue
        if np.det and np.det not in ("a", "an", "the", "some", "this", "that", "his", "her", "their", "its", "our",
                                     "my", "your"):
            continue
        head = _place_head(np)
        whole = np
        if head is None and np.head in lx.PART_OF_WORDS:
            inner = _OF.match(text, np.end)
            inside = noun_phrase(text, inner.end(), blocked=blocked) if inner else None
            if inside is None or _place_head(inside) is None:
                continue
            head, whole = _place_head(inside), NounPhrase(np.start, inside.end, np.det, np.words, np.head_start)
        if head is None:
            continue
        if prep in _LOOK_ONLY and after_gaze(text, m.start()):
            continue
        if any(c.pos == m.start() or c.pos == m.start("prep" if m.group("prep") else "mprep") for c in out):
            continue
        out.append(_candidate(world, text, m.start(), prep, np.det, head, whole.text(text), here_words))
    out.sort(key=lambda c: c.pos)
    return out


def _candidate(world: World, text: str, pos: int, prep: str, det: str, head: str, phrase: str,
               here_words: set[str]) -> Candidate:
    here = world.location(world.scene.location)
    name = _name(head)
    known = world.location(name)
    landmark = prep in _LANDMARK
    if known is not None:
        return Candidate(pos, known.name, None, landmark, phrase)
    definite = det not in ("a", "an", "some")
    if here is not None and definite and (head in here_words or head in _HERE_NOUNS):
        return Candidate(pos, here.name, None, landmark, phrase)  # "paces in the room": where they are
    moving = _MOTION_BEFORE.search(text, max(0, pos - 80), pos)
    if here is not None and definite and (prep in _STATIC or landmark) and not moving \
            and (landmark or head in lx.PART_WORDS):
        return Candidate(pos, here.name, None, landmark, phrase)  # "waits on the pier": a spot here
    return Candidate(pos, name, phrase, landmark, phrase)


def _compound(text: str, start: int, end: int) -> bool:
    """Is a known place's name only a modifier here ("the lab equipment")?"""
    np = noun_phrase(text, start)
    return np is not None and np.end > end


def read_place(world: World, text: str, idx: WorldIndex, blocked: tuple[tuple[int, int], ...],
               events: list[Event], scene: dict[str, str], notes: list[str]) -> str | None:
    """Moves to a known place, or creates one ("into a smoky tavern"); returns the panel's place."""
    current = world.scene.location
    found = candidates(world, text, idx, blocked)
    places = [c for c in found if not c.landmark]
    if places:
        best = places[-1]
        near = [c for c in found if c.landmark and c.pos > best.pos and c.name != best.name]
        if near and best.description is not None:
            best = Candidate(best.pos, best.name, f"{best.description} near {near[0].phrase}", False, best.phrase)
    elif found:
        best = found[-1]
    else:
        return current
    name, desc = best.name, best.description
    if desc is not None:
        events.append(LocationSet(name=name, description=desc))
        notes.append(f"new place {name}: {desc}")
    if name != current:
        scene["location"] = name
        if desc is None:
            notes.append(f"moves to {name}")
        # candles and lamps belong to the place left behind; daylight and moonlight do not
        if world.scene.lighting in lx.PLACE_LIGHTS and "lighting" not in scene:
            scene["lighting"] = ""
            notes.append(f"{world.scene.lighting} stays behind in {current}")
        if world.scene.weather and "weather" not in scene and _indoors(world, name, desc):
            scene["weather"] = ""
            notes.append(f"{world.scene.weather} stays outside: {name} is indoors")
    return name


def _indoors(world: World, name: str, desc: str | None) -> bool:
    loc = world.location(name)
    words = set(re.findall(r"[a-z]+", f"{name} {desc or (loc.description if loc else '')}".lower()))
    head = name.lower().split()[-1]
    return head in lx.INDOOR_WORDS or (bool(words & {"inside", "indoors"}))
