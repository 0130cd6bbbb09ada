"""The prompt compiler: world + shot -> the positive and negative prompt of one panel.

Every panel carries, in this order: style prefix, camera, each framed character's complete
current appearance (described, since a diffusion model does not know who "Mira" is), the
action, the location and its props, time of day, light (with its direction), weather and the
style suffix. Over the token budget the lowest-priority parts go first (props, then light and
weather, then the style suffix ... appearance last) and are listed in `dropped`.
Pure: standard library and engine.world only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.appearance import character_text
from engine.comic.speech import strip_speech
from engine.events import AppearanceChanged, SceneChanged
from engine.world import Scene, Shot, World

if TYPE_CHECKING:
    from engine.planner import Plan

DEFAULT_BUDGET = 225  # 3 CLIP chunks of 75 tokens (77 with the start/end tokens)

# Lowest priority first: the order in which parts are dropped over budget.
DROP_ORDER = ("prop", "light", "weather", "style_suffix", "time", "camera", "location",
              "style", "action", "character")
_LABEL = {"prop": "prop", "light": "lighting", "weather": "weather", "style_suffix": "style suffix",
          "time": "time of day", "camera": "camera", "location": "location", "style": "style",
          "action": "action", "character": "character"}
_TIME_PHRASE = {
    "dawn": "at dawn", "morning": "in the morning", "noon": "at noon",
    "afternoon": "in the afternoon", "golden hour": "at golden hour", "sunset": "at sunset",
    "dusk": "at dusk", "evening": "in the evening", "night": "at night",
    "midnight": "at midnight",
}
_PREPS = ("in ", "on ", "at ", "inside ", "under ", "above ", "among ", "by ", "near ",
          "beneath ", "atop ", "within ", "outside ", "aboard ", "over ", "through ")
_PIECE = re.compile(r"[A-Za-z]{1,6}|[^\W\d_A-Za-z]|\d{1,2}|[^\w\s]|_")


@dataclass(frozen=True)
class PromptSpec:
    """A compiled panel prompt and what went into it."""

    prompt: str
    negative: str
    dropped: tuple[str, ...] = ()  # "prop: a lantern on the table", lowest priority first
    references: tuple[str, ...] = ()  # framed characters that have a reference image
    parts: tuple[tuple[str, str], ...] = ()  # (kind, text) of every part kept, in order
    notes: tuple[str, ...] = ()  # more for /why: references left out, --no folded into the prompt


def estimate_tokens(text: str) -> int:
    """A conservative CLIP token count: over-estimates rather than under-.

    CLIP's BPE gives common English words one token; rare and long words split into pieces
    of roughly four letters. So: one token per 4 letters of a word (at least 1), one per
    2 digits, one per punctuation mark. English prompts come out ~1.3x the real count.
    """
    # every match is one token: a run of up to 6 ASCII letters (CLIP gives most English words one
    # token), any other letter alone, up to 2 digits, or one mark
    return len(_PIECE.findall(text))


def light_text(scene: Scene) -> str:
    bits = [scene.lighting] if scene.lighting else []
    if scene.light_from:
        bits.append(f"light from the {scene.light_from}" if scene.light_from != "behind"
                    else "light from behind")
    return ", ".join(bits)


# Places people stand on rather than in ("on a wooden pier", "in a smoky tavern").
_ON_PLACES = frozenset("""pier jetty dock docks wharf beach shore shoreline coast road street avenue highway path
    trail bridge hill hillside mountain mountainside peak summit ridge cliff cliffs roof rooftop balcony terrace
    deck boat ship raft island field meadow lawn plain plains prairie savanna stage platform ice glacier
    moon planet surface runway track tracks sand""".split())
_HEAD_END = re.compile(r"\s+(?:with|of|full|where|that|which|under|near|by|at|in|on|beside|overlooking)\s|,")


def location_text(name: str, description: str) -> str:
    """"in a smoky tavern", "on a wooden pier", "in Rain Alley, a narrow alley": name and description."""
    desc = " ".join(description.split())
    if not desc:
        text = name
    elif name.casefold() in desc.casefold():
        text = desc
    else:
        text = f"{name}, {desc}"
    if text.lower().startswith(_PREPS):
        return text
    head = _HEAD_END.split(desc or name, maxsplit=1)[0].split()
    return f"on {text}" if head and head[-1].lower().strip(".!?") in _ON_PLACES else f"in {text}"


def _parts(world: World, shot: Shot) -> list[tuple[str, str]]:
    """Every part of the prompt in order, before any budget is applied."""
    s = world.style
    sc = world.scene
    parts: list[tuple[str, str]] = []
    if s.prefix.strip():
        parts.append(("style", s.prefix.strip().rstrip(",")))
    if shot.camera:
        parts.append(("camera", shot.camera))
    by_name = {c.name: c for c in world.characters}
    for name in shot.characters:
        c = by_name.get(name) or world.find_character(name)
        if c is None:
            continue
        looks = character_text(c)
        parts.append(("character", f"{c.name}, {looks}" if looks else c.name))
    action = strip_speech(shot.action)  # quoted speech goes into balloons, not the picture
    if action:
        parts.append(("action", action))
    loc = world.location(sc.location)
    if loc is not None:
        parts.append(("location", location_text(loc.name, loc.description)))
        parts += [("prop", p) for p in loc.props]
    elif sc.location:
        parts.append(("location", location_text(sc.location, "")))
    if sc.time_of_day:
        parts.append(("time", _TIME_PHRASE.get(sc.time_of_day.lower(), sc.time_of_day)))
    if light_text(sc):
        parts.append(("light", light_text(sc)))
    if sc.weather:
        parts.append(("weather", sc.weather))
    if s.suffix.strip():
        parts.append(("style_suffix", s.suffix.strip().lstrip(",").strip()))
    return parts


def negative_text(world: World, extra: str) -> str:
    seen: dict[str, str] = {}
    for bit in (*world.style.negative.split(","), *extra.split(",")):
        b = " ".join(bit.split())
        if b and b.casefold() not in seen:
            seen[b.casefold()] = b
    return ", ".join(seen.values())


# The sentence compiler (engine/prose.py) words the same facts differently and shares these.
def time_phrase(time_of_day: str) -> str:
    """"at dusk", "in the morning"; other values as written."""
    return _TIME_PHRASE.get(time_of_day.lower(), time_of_day)


def fit_parts(parts: list[tuple[str, str]], budget: int, count: Callable[[str], int],
              text_of: Callable[[list[tuple[str, str]]], str], drop_order: tuple[str, ...],
              labels: dict[str, str]) -> tuple[str, ...]:
    """Drops parts (in place) by priority until the text fits `budget`; returns what was dropped.

    Within a kind the last one goes first (the last prop, the last character framed), and the
    very last part always stays: a prompt must say something.
    """
    dropped: list[str] = []
    for kind in drop_order:
        while len(parts) > 1 and count(text_of(parts)) > budget:
            idx = next((i for i in range(len(parts) - 1, -1, -1) if parts[i][0] == kind), None)
            if idx is None:
                break
            k, text = parts.pop(idx)
            dropped.append(f"{labels[k]}: {text}")
        if count(text_of(parts)) <= budget:
            break
    return tuple(dropped)


def compile_prompt(world: World, shot: Shot, budget: int = DEFAULT_BUDGET,
                   count_tokens: Callable[[str], int] | None = None,
                   extra_negative: str = "") -> PromptSpec:
    """The panel's prompt within `budget` tokens of the whole positive prompt."""
    count = count_tokens or estimate_tokens
    parts = _parts(world, shot)
    def text_of(ps: list[tuple[str, str]]) -> str:
        return ", ".join(t for _, t in ps)

    dropped = fit_parts(parts, budget, count, text_of, DROP_ORDER, _LABEL)
    refs = tuple(n for n in shot.characters
                 if (c := world.find_character(n)) is not None and c.references)
    return PromptSpec(prompt=text_of(parts), negative=negative_text(world, extra_negative),
                      dropped=dropped, references=refs, parts=tuple(parts))


def compile(world: World, shot: Shot, budget: int = DEFAULT_BUDGET,
            count_tokens: Callable[[str], int] | None = None,
            extra_negative: str = "") -> PromptSpec:
    """The issue's name for compile_prompt."""
    return compile_prompt(world, shot, budget, count_tokens, extra_negative)


# ---------------------------------------------------------------- /why

WHY_LIMIT = 1800


def explain(world_before: World, plan: Plan, spec: PromptSpec, budget: int = DEFAULT_BUDGET) -> str:
    """/why: what this text changed, what was kept from before, what was dropped and why.

    Works from a fresh plan (its notes) or from a stored panel: pass
    `Plan(events=<the command's events>, shot=panel.shot)` and a PromptSpec rebuilt from the
    panel; without notes the events' own descriptions are used.
    """
    shot = plan.shot
    lines: list[str] = []
    who = ", ".join(shot.characters) or "no one"
    head = f"In frame: {who}"
    if shot.camera:
        head += f" · camera: {shot.camera}"
    lines.append(head)
    changed = list(plan.notes) or [e.describe() for e in plan.events]
    lines.append("This text changed:" if changed else "This text changed nothing that persists.")
    lines += [f"• {c}" for c in changed]
    if shot.action:
        lines.append(f"Action (words kept as written): “{shot.action}”")
    kept = _kept(world_before, plan)
    if kept:
        lines.append("Kept from before:")
        lines += [f"• {k}" for k in kept]
    if spec.dropped:
        lines.append(f"Dropped to fit the prompt budget ({budget} tokens), lowest priority first:")
        lines += [f"• {d}" for d in spec.dropped]
    else:
        lines.append("Nothing was dropped: the whole description fits the prompt.")
    if spec.references:
        lines.append("Reference images used for: " + ", ".join(spec.references))
    lines += list(spec.notes)
    return _fit(lines, WHY_LIMIT)


def _kept(world: World, plan: Plan) -> list[str]:
    changed_chars = {e.name for e in plan.events if isinstance(e, AppearanceChanged)}
    scene_fields = {k for e in plan.events if isinstance(e, SceneChanged)
                    for k in ("location", "time_of_day", "lighting", "light_from", "weather")
                    if getattr(e, k) is not None}
    out: list[str] = []
    for name in plan.shot.characters:
        c = world.find_character(name)
        if c is not None and name not in changed_chars:
            out.append(f"{c.name} looks the same: {character_text(c)}")
    sc = world.scene
    for key, label in (("location", "place"), ("time_of_day", "time of day"),
                       ("lighting", "lighting"), ("light_from", "light from the"),
                       ("weather", "weather")):
        value = getattr(sc, key)
        if value and key not in scene_fields:
            out.append(f"{label} {value}")
    last = world.last_shot
    if last is not None and plan.shot.camera and plan.shot.camera == last.camera:
        out.append(f"camera {last.camera}")
    return out


def _fit(lines: list[str], limit: int) -> str:
    out: list[str] = []
    size = 0
    for line in lines:
        line = line if len(line) <= 300 else line[:297] + "…"
        if size + len(line) + 1 > limit - 2:
            out.append("…")
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)
