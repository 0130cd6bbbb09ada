"""The rule planner: a few words of ordinary English -> state changes and the next shot.

`plan(world, text)` reads who is in the panel (names, aliases, "the wizard", pronouns, people
entering and leaving), the camera, time/light/weather, moves between places, props and
appearance changes. Everything it turns into state becomes an event; everything else stays in
the shot's action text, so no meaning is lost. The world after `plan.events` is what the panel
shows. Pure and fast: regexes are compiled once, per-world tables are cached by identity.

The appearance and prop edits live in engine/edits.py; the word lists in engine/lexicon.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine import lexicon as lx
from engine.draft import Draft
from engine.edits import apply_edits
from engine.events import Event, SceneChanged
from engine.phrases import noun_phrase
from engine.places import read_place
from engine.text import Mention, clean_action, overlaps, recent_group, world_index
from engine.world import Shot, World


@dataclass(frozen=True)
class PlanOptions:
    """How to read the text: /continue carries the previous shot's characters, /imagine not."""

    carry_characters: bool = True


@dataclass(frozen=True)
class Plan:
    """What a text means: state changes (never PanelDrawn), the shot, and notes for /why."""

    events: tuple[Event, ...]
    shot: Shot
    notes: tuple[str, ...] = ()


def _alt(patterns: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(\\b(?:{p})\\b)" for p, _ in patterns), re.I)


_CAMERA = _alt(lx.CAMERA_PATTERNS)
_CAMERA_FILLER = re.compile(
    r"(?:\b(?:in|as|with|from)\s+)?(?:\b(?:a|an|the)\s+)?$", re.I)
_CAMERA_TAIL = re.compile(r"^\s*(?:shot\s+)?(?:of|on)\b\s*|^\s*[:,-]\s*", re.I)
_KEEP_CAMERA = re.compile(rf"\b(?:{lx.KEEP_CAMERA})\b[,.]?", re.I)
_TIME = _alt(lx.TIME_PATTERNS)
_LIGHT = _alt(lx.LIGHT_PATTERNS)
_WEATHER = _alt(lx.WEATHER_PATTERNS)
_WEATHER_FALSE = re.compile(rf"\b(?:{lx.WEATHER_FALSE})\b", re.I)
_LIGHT_FROM = re.compile(
    r"\b(?:light|lights|lit|sun|sunlight|moonlight|glow|glowing|shines?|shining|streams?|"
    r"streaming|pours?|pouring|falls?|falling|lamp|lantern|candle|window)\b[^.,;]{0,30}?"
    r"\bfrom\s+(?:the\s+)?(left|right|behind|above|below|front)\b"
    r"|\b(left|right)[\s-](?:side\s+)?(?:light|lighting|lit)\b|\b(back)[\s-]?lit\b",
    re.I,
)
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
    r"^\s*(?:$|[,.;!?]|(?:and|then|but|while|as|through|without|for|in|with|to)\b|"
    r"(?:the\s+)?(?:room|scene|frame|panel|building|house|place|area|picture)\b)", re.I)
_CHAT_FILLER = re.compile(r"(?<![\w'’])(?:lol+|lmf?ao+|rofl|ha(?:ha)+h?|he(?:he)+|omg|xd+|jk|tbh|ngl)(?![\w'’])",
                          re.I)
_REPEATED_MARKS = re.compile(r"([!?])\1+")
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”|«[^»]*»|„[^“”]*[“”]')
# "Bolt rolls in", "Tom drives off": any verb of moving, at the end of its clause.
_CLAUSE_ENDS = r"(?=\s*(?:$|[,.;!?]|(?:and|then|but|while|as|with|from|through|together)\b))"
_MOVE_IN = re.compile(rf"^(?:\s+\w+ly)?\s+(?:{lx.MOTION_RE})\s+(?:in|inside|back|over|along|up){_CLAUSE_ENDS}",
                      re.I)
_MOVE_OUT = re.compile(rf"^(?:\s+\w+ly)?\s+(?:{lx.MOTION_RE})\s+(?:out|off|away){_CLAUSE_ENDS}", re.I)


def plan(world: World, text: str, options: PlanOptions | None = None) -> Plan:
    """Reads one /continue (or /imagine) text against the world and returns events and shot."""
    options = options or PlanOptions()
    # Chat filler ("lol", "!!!") means nothing to a picture; everything else is kept.
    text = " ".join(_REPEATED_MARKS.sub(r"\1", _CHAT_FILLER.sub(" ", str(text))).split()).strip(" ,;")
    idx = world_index(world)
    consumed: list[tuple[int, int]] = []  # spans whose words leave the action
    reserved: list[tuple[int, int]] = []  # spans already read (stay in the action)
    notes: list[str] = []
    scene: dict[str, str] = {}

    # What people say ("the lights went out," he says) stays in the action but changes nothing.
    told = _QUOTED.sub(lambda m: " " * len(m.group(0)), text)
    _read_light_direction(told, reserved, scene, notes)
    camera = _read_camera(world, told, consumed, reserved, notes)
    _read_scene_words(told, scene, notes, world)

    mentions = idx.mentions(text, world)
    leavers, enterers, leave_spans = _entering_and_leaving(text, mentions)
    consumed += leave_spans
    frame = _frame(world, text, mentions, leavers, enterers, options, notes)

    events: list[Event] = []
    blocked = tuple((m.start, m.end) for m in mentions if m.names)
    location = read_place(world, told, idx, blocked, events, scene, notes)
    draft = Draft(world=world, location=location, frame=frame)
    apply_edits(draft, told, mentions, consumed, notes, reserved)

    if scene.get("lighting") is not None and "light_from" not in scene and world.scene.light_from:
        # a new light has its own direction: the old one goes with the old light
        scene["light_from"] = ""
    scene_ev = _scene_event(world, scene)
    if scene_ev is not None:
        events.append(scene_ev)
    events += draft.events()
    for name in leavers:
        notes.append(f"{name} leaves the frame")
    for name in enterers:
        notes.append(f"{name} enters")
    action = clean_action(text, consumed, [m for m in mentions if m.names])
    shot = Shot(camera=camera, characters=tuple(frame), action=action)
    return Plan(events=tuple(events), shot=shot, notes=tuple(notes))


# ---------------------------------------------------------------- camera, time, light, weather


def _read_camera(world: World, text: str, consumed: list[tuple[int, int]],
                 reserved: list[tuple[int, int]], notes: list[str]) -> str | None:
    found: list[str] = []
    for m in _CAMERA.finditer(text):
        if overlaps(reserved, m.start(), m.end()):
            continue
        value = lx.CAMERA_PATTERNS[m.lastindex - 1][1]  # type: ignore[operator]
        # take "a close-up of" with it, so the action keeps only what happens
        pre = _CAMERA_FILLER.search(text, 0, m.start())
        start = pre.start() if pre and pre.group(0).strip() else m.start()
        tail = _CAMERA_TAIL.match(text[m.end():])
        end = m.end() + (tail.end() if tail else 0)
        consumed.append((start, end))
        if value not in found:
            found.append(value)
            notes.append(f"camera → {value} (from “{m.group(0)}”)")
    keep = _KEEP_CAMERA.search(text)
    if keep:
        consumed.append(keep.span())
        last = world.last_shot
        if not found and last is not None and last.camera:
            notes.append(f"camera kept: {last.camera}")
            return last.camera
    return ", ".join(found) if found else None


def _read_light_direction(text: str, reserved: list[tuple[int, int]], scene: dict[str, str],
                          notes: list[str]) -> None:
    m = None
    for m in _LIGHT_FROM.finditer(text):  # noqa: B007 - the last one wins
        pass
    if m is None:
        return
    side = (m.group(1) or m.group(2) or "behind").lower()
    scene["light_from"] = side
    # "from behind" here is the light, not the camera; the words stay in the action
    reserved.append(m.span())
    notes.append(f"light from the {side} (from “{m.group(0)}”)" if side != "behind"
                 else f"light from behind (from “{m.group(0)}”)")


def _read_scene_words(text: str, scene: dict[str, str], notes: list[str], world: World) -> None:
    false = [m.span() for m in _WEATHER_FALSE.finditer(text)]
    for field, rx, table, label in (
        ("time_of_day", _TIME, lx.TIME_PATTERNS, "time of day"),
        ("lighting", _LIGHT, lx.LIGHT_PATTERNS, "lighting"),
        ("weather", _WEATHER, lx.WEATHER_PATTERNS, "weather"),
    ):
        last = None
        for m in rx.finditer(text):
            if not overlaps(false, m.start(), m.end()) and (field == "lighting" or not _modifier(text, m)):
                last = m
        if last is None:
            continue
        value = table[last.lastindex - 1][1]  # type: ignore[operator]
        scene[field] = value
        if (value or None) == getattr(world.scene, field):
            continue  # already so: nothing changes, nothing to tell
        shown = value if value else "cleared"
        notes.append(f"{label} → {shown} (from “{last.group(0)}”)")


# Nouns a time or weather word may describe and still be the time or weather ("a rainy night").
_SKY_NOUNS = frozenset("""night nights day days morning evening afternoon sky skies weather dawn dusk air light
    sunlight glow mist fog haze rain breeze wind chill clouds cloud shadows shadow hour hours sun moon""".split())


def _modifier(text: str, m: re.Match[str]) -> bool:
    """"evening gown", "storm-grey cloak", "snowy backyard": the word only describes a thing."""
    np = noun_phrase(text, m.start())
    return np is not None and np.end > m.end() and np.head not in _SKY_NOUNS


def _scene_event(world: World, scene: dict[str, str]) -> SceneChanged | None:
    """One SceneChanged with only the fields that really change."""
    now = world.scene
    kw: dict[str, str] = {}
    for k, v in scene.items():
        cur = getattr(now, k)
        if (v or None) != cur:
            kw[k] = v
    return SceneChanged(**kw) if kw else None


# ---------------------------------------------------------------- who is in frame


def _entering_and_leaving(
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
    return leavers, enterers, spans


SMALL_CAST = 3
_OWN_SUBJECT = re.compile(
    r"^\W*(?:a|an|the|some|any|one|two|three|four|five|several|many|this|that|these|those|his|her|their|its|"
    r"my|our|your|\d+)\b|\b(?:empty|nobody|no one|deserted|abandoned|unoccupied|without anyone)\b", re.IGNORECASE)


def _subjectless(text: str) -> bool:
    """True for a predicate with no subject ("soaring through the sky", "at dawn, resting")."""
    return bool(text.strip()) and not _OWN_SUBJECT.search(text)


def _frame(world: World, text: str, mentions: list[Mention], leavers: list[str],
           enterers: list[str], options: PlanOptions, notes: list[str]) -> list[str]:
    """Who is in the panel: named characters, or the previous frame when none is named."""
    prev: list[str] = []
    last = world.last_shot
    if options.carry_characters and last is not None:
        prev = [n for n in last.characters if world.find_character(n) is not None]
    named = [n for m in mentions if m.names and m.kind != "pronoun" for n in m.names]
    pronouns = [n for m in mentions if m.kind == "pronoun" for n in m.names]
    if _GROUP.search(text) and options.carry_characters:
        # "everyone laughs": the people of the last few panels, not only the last close-up
        base = [n for n in recent_group(world) if n not in prev]
        base = [*prev, *base]
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
