"""The planner's evaluation corpus: stories with the exact place, frame, time and edits each line means.

A corpus file (tests/corpus/*.txt) is a console-like script the engine reads by itself (the bot's
grammar is not needed): `/world new [--style S]`, `/cref NAME DESCRIPTION` (a quoted name for
several words), `/scene NAME DESCRIPTION [--time T] [--weather W] [--light L]`, `/imagine TEXT`,
`/continue TEXT`. Under a drawing line, `#>` lines say what it must mean:

    #> frame: Kai, Lu          exactly these are in frame (none = nobody); unchecked when absent
    #> place: Kitchen          the panel's place; absent or "same" = the place does not change
    #> time: dusk              absent or "same" = unchanged; "none" = cleared
    #> weather: fog            likewise
    #> edits: Mira +wearing a red hood; Mira -a blue scarf; Bolt a copper shell => a bright yellow
           shell; prop+ a lantern on the table; prop- a vase on the shelf
                               the exact persistent changes; absent or "none" = nothing persists

`evaluate(paths)` plans every line against the world the planner itself built (as a chat would) and
returns precision and recall of edits and places, frame/time/weather accuracy and each miss.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from engine.appearance import guess_pronoun, parse_description
from engine.events import (
    AppearanceChanged,
    CharacterRegistered,
    Event,
    LocationSet,
    PanelDrawn,
    PropsChanged,
    SceneChanged,
    WorldCreated,
)
from engine.planner import PlanOptions, plan
from engine.world import Panel, World


@dataclass
class Line:
    """One drawing line of a corpus file and what it must mean."""

    where: str
    command: str  # "imagine" | "continue"
    text: str
    expect: dict[str, str] = field(default_factory=dict)


@dataclass
class Score:
    edits_expected: int = 0
    edits_predicted: int = 0
    edits_right: int = 0
    places_expected: int = 0
    places_predicted: int = 0
    places_right: int = 0
    checks: Counter[str] = field(default_factory=Counter)
    held: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    lines: int = 0

    def report(self) -> dict[str, object]:
        def ratio(a: int, b: int) -> float:
            return round(a / b, 4) if b else 1.0
        return {
            "lines": self.lines,
            "edit_precision": ratio(self.edits_right, self.edits_predicted),
            "edit_recall": ratio(self.edits_right, self.edits_expected),
            "place_precision": ratio(self.places_right, self.places_predicted),
            "place_recall": ratio(self.places_right, self.places_expected),
            **{f"{k}_accuracy": ratio(self.held[k], self.checks[k]) for k in sorted(self.checks)},
            "edits": {"expected": self.edits_expected, "predicted": self.edits_predicted, "right": self.edits_right},
            "places": {"expected": self.places_expected, "predicted": self.places_predicted,
                       "right": self.places_right},
        }


def edit_strings(events: tuple[Event, ...] | list[Event]) -> list[str]:
    """The persistent changes of a plan in the corpus notation."""
    out: list[str] = []
    for e in events:
        if isinstance(e, AppearanceChanged):
            for old, new in e.changes:
                if old and new:
                    out.append(f"{e.name} {old} => {new.text}")
                elif new:
                    out.append(f"{e.name} +{new.slot} {new.text}")
                elif old:
                    out.append(f"{e.name} -{old}")
        elif isinstance(e, PropsChanged):
            out += [f"prop+ {p}" for p in e.added] + [f"prop- {p}" for p in e.removed]
    return out


def _norm(s: str) -> str:
    return " ".join(s.casefold().split())


def _setup(world: World, line: str) -> World:
    head, _, rest = line.partition(" ")
    if head == "/world":
        style = re.search(r"--style\s+(.*)$", rest)
        return WorldCreated(title="corpus", style=style.group(1).strip() if style else "").apply(World(id="corpus"))
    args = shlex.split(rest) if '"' in rest else rest.split()
    if head == "/cref" and args:
        name, desc = args[0], " ".join(args[1:])
        return CharacterRegistered(name=name, description=desc, traits=parse_description(desc),
                                   pronoun=guess_pronoun(desc)).apply(world)
    if head == "/scene" and args:
        opts = dict(re.findall(r"--(time|weather|light)\s+([^-]+?)\s*(?=--|$)", rest))
        words = re.sub(r"--(?:time|weather|light)\s+[^-]+", "", rest)
        parts = shlex.split(words) if '"' in words else words.split()
        name, desc = parts[0], " ".join(parts[1:])
        world = LocationSet(name=name, description=desc or None).apply(world)
        return SceneChanged(location=name, time_of_day=opts.get("time"), weather=opts.get("weather"),
                            lighting=opts.get("light")).apply(world)
    raise ValueError(f"not a corpus command: {line!r}")


def read(path: Path) -> list[tuple[str, Line | None]]:
    """(setup line, None) or ("", Line) for every command of a corpus file, in order."""
    out: list[tuple[str, Line | None]] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if line.startswith("#>") and out and out[-1][1] is not None:
            key, _, value = line[2:].partition(":")
            out[-1][1].expect[key.strip().lower()] = value.strip()
        elif line.startswith(("/imagine ", "/continue ")):
            cmd, _, text = line.partition(" ")
            out.append(("", Line(f"{path.name}:{n}", cmd[1:], text)))
        elif line.startswith("/"):
            out.append((line, None))
    return out


def evaluate(paths: list[Path]) -> Score:
    score = Score()
    for path in paths:
        world = World(id="corpus")
        for setup, line in read(path):
            if line is None:
                world = _setup(world, setup)
                continue
            world = _score_line(world, line, score)
    return score


def _score_line(world: World, line: Line, score: Score) -> World:
    score.lines += 1
    p = plan(world, line.text, PlanOptions(carry_characters=line.command == "continue"))
    after = world
    for e in p.events:
        after = e.apply(after)
    ex = line.expect
    got = Counter(_norm(s) for s in edit_strings(p.events))
    raw = ex.get("edits", "none")
    want = Counter(_norm(s) for s in raw.split(";") if s.strip()) if raw.lower() != "none" else Counter()
    right = sum((got & want).values())
    score.edits_expected += sum(want.values())
    score.edits_predicted += sum(got.values())
    score.edits_right += right
    if got != want:
        score.misses.append(f"{line.where} edits {line.text!r}: want {sorted(want)} got {sorted(got)}")
    before, now = world.scene.location, after.scene.location
    place = ex.get("place", "same")
    expected = None if place.lower() == "same" else place
    want_move = expected is not None and _norm(expected) != _norm(before or "")
    moved = _norm(now or "") != _norm(before or "")
    score.places_expected += want_move
    score.places_predicted += moved
    ok = (not want_move and not moved) or (want_move and moved and _norm(expected or "") in _norm(now or ""))
    score.places_right += want_move and moved and ok
    if not ok:
        score.misses.append(f"{line.where} place {line.text!r}: want {place} got {now} (was {before})")
    for key, value in (("time", after.scene.time_of_day), ("weather", after.scene.weather)):
        old = getattr(world.scene, "time_of_day" if key == "time" else "weather")
        want_v = ex.get(key, "same")
        target = old if want_v.lower() == "same" else (None if want_v.lower() == "none" else want_v)
        score.checks[key] += 1
        if _norm(value or "") == _norm(target or ""):
            score.held[key] += 1
        else:
            score.misses.append(f"{line.where} {key} {line.text!r}: want {target} got {value}")
    if "frame" in ex:
        score.checks["frame"] += 1
        frame = [] if ex["frame"].lower() == "none" else [n.strip() for n in ex["frame"].split(",") if n.strip()]
        if sorted(map(_norm, frame)) == sorted(map(_norm, p.shot.characters)):
            score.held["frame"] += 1
        else:
            score.misses.append(f"{line.where} frame {line.text!r}: want {frame} got {list(p.shot.characters)}")
    panel = Panel(index=after.next_panel_index, parent=None, command=line.text, author="corpus", shot=p.shot,
                  prompt="", negative_prompt="", seed=0, width=64, height=64, steps=1, notes=p.notes)
    return PanelDrawn(panel=panel).apply(after)
