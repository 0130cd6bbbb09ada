"""Story tests: every tests/stories/*.txt runs through `worldloom console --script` and its
expectation comments are checked against panels.jsonl and errors.jsonl.

A story is a console script. Expectation comments belong to the nearest command line above them:

    # expect prompt: short red hair | watercolor    each phrase is in that panel's prompt (any case)
    # expect not: blue scarf                        no phrase is in it
    # expect action: juggles three plums            each phrase is in shot.action
    # expect characters: Mira, Tom                  exactly these are framed, any order; none = nobody
    # expect in frame: Mira                         at least these are framed
    # expect appearance Mira.hair: short blue hair  each phrase is in that appearance slot; none = empty
    # expect same: prompt, scene                    equal to the previous panel's (a dotted field path)
    # expect changed: seed                          different from the previous panel's
    # expect error: did you mean                    the line was refused with an error containing this
    # expect FIELD: VALUE                           any other field of the record by dotted path
                                                    (camera = shot.camera, scene.weather, seed, parent,
                                                    author ...): equal, any case; none = empty;
                                                    ~VALUE = contains VALUE

Sticky expectations hold from the panel of the command above them to the end of the story:

    # look Mira: a young woman | short red hair     every panel framing Mira contains every phrase
    # look Mira +: a red hood                       one more phrase
    # look Mira -: a blue scarf                     not any more: and it must be gone from her panels
    # always: watercolor, soft light                in every panel (`# always -: X` stops requiring X)

Any line refused without `# expect error` fails the story. Failures name the story, the line,
what was expected and what the panel actually holds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.cli import main

STORIES = sorted((Path(__file__).parent / "stories").glob("*.txt"))
EXPECT = re.compile(r"#\s*expect\s+([^:]+?)\s*:\s*(.*)$")
LOOK = re.compile(r"#\s*look\s+(.+?)\s*([+-]?)\s*:\s*(.*)$")
ALWAYS = re.compile(r"#\s*always\s*([+-]?)\s*:\s*(.*)$")
AUTHOR = re.compile(r"^\[[^\[\]]{1,60}\]\s*")
DRAWS = ("/imagine", "/continue", "/reroll")
ALIASES = {"camera": "shot.camera", "action": "shot.action", "negative": "negative_prompt"}


def phrases(value: str) -> list[str]:
    return [p.strip() for p in value.split("|") if p.strip()]


def names(value: str) -> list[str]:
    return [] if value.strip().lower() == "none" else [n.strip() for n in value.split(",") if n.strip()]


def field(record: dict | None, path: str) -> object:
    value: object = record
    for key in ALIASES.get(path, path).split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def text(value: object) -> str:
    if isinstance(value, list):
        return " | ".join(map(str, value))
    return "" if value is None else str(value)


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def parse_story(path: Path) -> list[tuple[int, str, list[tuple[int, str]]]]:
    """(line number, command, [(line number, directive)]); directives above the first command get line 0."""
    steps: list[tuple[int, str, list[tuple[int, str]]]] = [(0, "", [])]
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if line.startswith("#"):
            if EXPECT.match(line) or LOOK.match(line) or ALWAYS.match(line):
                steps[-1][2].append((n, line))
        elif line:
            steps.append((n, AUTHOR.sub("", line), []))
    return steps


def check_panel(rec: dict, prev: dict | None, expects: list[tuple[str, str]], looks: dict[str, dict],
                always: list[str]) -> list[str]:
    """What is wrong with one panel record: (expected, actual) messages."""
    bad: list[str] = []
    prompt = rec["prompt"].casefold()
    framed = list(rec["shot"]["characters"])
    for key, value in expects:
        if key == "prompt":
            bad += [f"prompt contains {p!r}" for p in phrases(value) if p.casefold() not in prompt]
        elif key == "not":
            bad += [f"prompt lacks {p!r}" for p in phrases(value) if p.casefold() in prompt]
        elif key in ("action", "negative"):
            got = text(field(rec, key)).casefold()
            bad += [f"{key} contains {p!r} (actual {text(field(rec, key))!r})"
                    for p in phrases(value) if p.casefold() not in got]
        elif key == "characters":
            framed = names(value)
            if sorted(n.casefold() for n in framed) != sorted(n.casefold() for n in rec["shot"]["characters"]):
                bad.append(f"characters == {framed} (actual {rec['shot']['characters']})")
        elif key == "in frame":
            missing = [n for n in names(value) if n not in rec["shot"]["characters"]]
            bad += [f"{n} in frame (actual {rec['shot']['characters']})" for n in missing]
        elif key.startswith("appearance "):
            name, slot = key.removeprefix("appearance ").rsplit(".", 1)
            got = text(field(rec.get("characters", {}).get(name.strip(), {}), f"appearance.{slot}"))
            want = [] if value.strip().lower() == "none" else phrases(value)
            if (not want and got) or any(p.casefold() not in got.casefold() for p in want):
                bad.append(f"appearance {name}.{slot} has {value!r} (actual {got!r})")
        elif key in ("same", "changed"):
            for path in names(value):
                equal = field(rec, path) == field(prev, path)
                if equal != (key == "same"):
                    bad.append(f"{path} {key} vs previous panel ({field(prev, path)!r} -> {field(rec, path)!r})")
        else:
            got, want = text(field(rec, key)).casefold(), value.strip().casefold()
            if want.startswith("~"):
                ok = want[1:].strip() in got
            else:
                ok = got == ("" if want == "none" else want)
            if not ok:
                bad.append(f"{key} == {value!r} (actual {text(field(rec, key))!r})")
    wanted = list(always) + [p for n in framed for p in looks.get(n, {}).get("has", [])]
    bad += [f"prompt contains {p!r} (always/look)" for p in wanted if p.casefold() not in prompt]
    gone = {p for n in framed for p in looks.get(n, {}).get("gone", ())}
    bad += [f"prompt lacks {p!r} (taken off/changed)" for p in sorted(gone)
            if p.casefold() in prompt and p.casefold() not in {w.casefold() for w in wanted}]
    return bad


def apply_sticky(line: str, looks: dict[str, dict], always: list[str]) -> None:
    if m := LOOK.match(line):
        name, op, ps = m.group(1).strip(), m.group(2), phrases(m.group(3))
        look = looks.setdefault(name, {"has": [], "gone": set()})
        if not op:
            look["has"], look["gone"] = list(ps), set()
        for p in ps if op else ():
            if op == "+":
                look["has"].append(p)
                look["gone"].discard(p)
            else:
                look["has"] = [h for h in look["has"] if h.casefold() != p.casefold()]
                look["gone"].add(p)
    elif m := ALWAYS.match(line):
        ps = phrases(m.group(2))
        always[:] = [a for a in always if a not in ps] + (ps if m.group(1) != "-" else [])


@pytest.mark.parametrize("story", STORIES, ids=[p.stem for p in STORIES])
def test_story(story: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["console", "--script", str(story), "--out", str(out)]) == 0
    panels = read_jsonl(out / "panels.jsonl")
    errors = {e["line"]: e["error"] for e in read_jsonl(out / "errors.jsonl")}
    looks: dict[str, dict] = {}
    always: list[str] = []
    failures: list[str] = []
    done: list[dict] = []
    for n, command, directives in parse_story(story):
        for _, line in directives:
            apply_sticky(line, looks, always)
        expects = [(m.group(1).strip(), m.group(2)) for _, line in directives if (m := EXPECT.match(line))]
        where = f"{story.name}:{n} `{command}`"
        wanted_error = [v for k, v in expects if k == "error"]
        if n in errors:
            if not wanted_error:
                failures.append(f"{where}: refused: {errors[n]!r}")
            elif wanted_error[0].casefold() not in errors[n].casefold():
                failures.append(f"{where}: expected error containing {wanted_error[0]!r}, got {errors[n]!r}")
            continue
        if wanted_error:
            failures.append(f"{where}: expected refusal containing {wanted_error[0]!r}, but it was accepted")
            expects = []
        if command.split(" ", 1)[0] not in DRAWS:
            if expects:
                failures.append(f"{where}: expectations after a line that draws no panel")
            continue
        if len(done) >= len(panels):
            failures.append(f"{where}: no panel was drawn")
            continue
        rec = panels[len(done)]
        bad = check_panel(rec, done[-1] if done else None, expects, looks, always)
        if bad:
            failures.append(f"{where} (panel {rec['panel']}):\n    expected " + "\n    expected ".join(bad)
                            + f"\n    prompt: {rec['prompt']!r}\n    shot: {rec['shot']}\n    scene: {rec['scene']}"
                            + (f"\n    dropped: {rec['dropped']}" if rec["dropped"] else ""))
        done.append(rec)
    assert not failures, f"{len(failures)} failing step(s):\n" + "\n".join(failures)
