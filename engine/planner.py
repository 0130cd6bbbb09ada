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
from engine.frame import entering_and_leaving, frame_of
from engine.phrases import noun_phrase
from engine.places import read_place
from engine.text import clean_action, overlaps, world_index
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
_CHAT_FILLER = re.compile(r"(?<![\w'’])(?:lol+|lmf?ao+|rofl|ha(?:ha)+h?|he(?:he)+|omg|xd+|jk|tbh|ngl)(?![\w'’])",
                          re.I)
_REPEATED_MARKS = re.compile(r"([!?])\1+")
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”|«[^»]*»|„[^“”]*[“”]')
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

    mentions = idx.mentions(told, world)  # a name in quoted speech is talked about, not in the picture
    leavers, enterers, leave_spans = entering_and_leaving(text, mentions)
    consumed += leave_spans
    bare = text
    for a, b in consumed:  # the words left once camera and leaving phrases are read
        bare = bare[:a] + " " * (b - a) + bare[b:]
    frame = frame_of(world, bare, mentions, leavers, enterers, options.carry_characters, notes)

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
        pre = _CAMERA_FILLER.search(text, max(0, m.start() - 20), m.start())
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
    if m.group(0).lower() in ("rainy", "stormy", "drizzly"):
        return False  # "a rainy sidewalk": rain cannot lie on the ground, it is falling
    if re.match(r"(?:\s+[\w']+){0,2}\s+outside\b", text[m.end():], re.I):
        return True  # "snow outside": the weather beyond the window, not in this panel
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
