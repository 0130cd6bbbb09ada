"""An optional planner that asks a text-generation model for the edit events as JSON.

The model gets the world as it stands (characters with their appearance phrases, places,
scene, last shot) and the user's text, and must answer with one JSON object in the schema of
docs/prompts.md. The answer is validated strictly (every name must exist or be created in the
same answer, every field typed) and applied; anything invalid or slower than `timeout_s` falls
back to the rule planner with one log line. transformers is imported only when a generator
is built, so this module imports with the standard library alone.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from engine.appearance import character_text
from engine.errors import WorldError
from engine.events import AppearanceChanged, Event, LocationSet, PropsChanged, SceneChanged
from engine.planner import Plan, PlanOptions
from engine.planner import plan as rule_plan
from engine.world import APPEARANCE_SLOTS, Shot, Trait, World

logger = logging.getLogger(__name__)

LIGHT_SIDES = ("left", "right", "behind", "above", "below", "front")
_SCENE_KEYS = ("location", "time_of_day", "lighting", "light_from", "weather")

INSTRUCTIONS = """You plan the next panel of an illustrated story. Read the world and the text,
and answer with ONE JSON object and nothing else:
{"shot": {"characters": [names in frame], "camera": string or null, "action": string},
 "events": [
  {"type": "location", "name": string, "description": string},
  {"type": "scene", "location"?: string, "time_of_day"?: string, "lighting"?: string,
   "light_from"?: "left"|"right"|"behind"|"above"|"below"|"front", "weather"?: string},
  {"type": "props", "location": string, "added": [string], "removed": [string]},
  {"type": "appearance", "name": string,
   "changes": [{"old": existing phrase or null, "new": {"slot": string, "text": string} or null}]}
 ]}
Rules: use only the names listed; keep appearance phrases word for word; "" clears a scene field;
put every word of the text that is not a state change into "action"."""


class InvalidPlan(ValueError):
    """The model's answer is not a valid plan; the message says why."""


def world_summary(world: World) -> str:
    """The world as the model needs it, in a few short lines."""
    lines = ["Characters:"]
    for c in world.characters:
        lines.append(f"- {c.name} ({c.pronoun}): " + " | ".join(f"{t.slot}: {t.text}" for t in c.traits)
                     if c.traits else f"- {c.name} ({c.pronoun}): {character_text(c)}")
    lines.append("Places: " + "; ".join(
        f"{loc.name} ({loc.description}; props: {', '.join(loc.props) or 'none'})" for loc in world.locations))
    s = world.scene
    lines.append(f"Scene: location={s.location} time={s.time_of_day} lighting={s.lighting} "
                 f"light_from={s.light_from} weather={s.weather}")
    last = world.last_shot
    if last is not None:
        lines.append(f"Last shot: characters={list(last.characters)} camera={last.camera} action={last.action!r}")
    return "\n".join(lines)


def build_prompt(world: World, text: str, options: PlanOptions) -> str:
    carry = ("If no character is named, the last shot's characters stay in frame."
             if options.carry_characters else "Only characters the text names are in frame.")
    return f"{INSTRUCTIONS}\n{carry}\n\n{world_summary(world)}\n\nText: {text}\nJSON:"


class LLMPlanner:
    """plan() through a text generator, with the rule planner as the safety net."""

    def __init__(self, generate: Callable[[str], str], timeout_s: float = 10.0) -> None:
        self.generate = generate
        self.timeout_s = timeout_s
        # One worker: a slow generation keeps running there while we fall back at once.
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-planner")

    def plan(self, world: World, text: str, options: PlanOptions | None = None) -> Plan:
        options = options or PlanOptions()
        start = time.monotonic()
        try:
            future = self._pool.submit(self.generate, build_prompt(world, text, options))
            answer = future.result(timeout=self.timeout_s)
            if time.monotonic() - start > self.timeout_s:
                raise TimeoutError
            return parse_plan(world, answer)
        except (concurrent.futures.TimeoutError, TimeoutError):
            reason = f"no answer within {self.timeout_s:g} s"
        except InvalidPlan as e:
            reason = f"invalid answer ({e})"
        except Exception as e:  # a broken model must never break /continue
            reason = f"generator failed ({type(e).__name__}: {e})"
        logger.warning("LLM planner fell back to the rule planner: %s", reason)
        return rule_plan(world, text, options)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------- validation


def extract_json(answer: str) -> dict[str, Any]:
    """The first JSON object in the answer (code fences and chatter around it are ignored)."""
    start = answer.find("{")
    if start < 0:
        raise InvalidPlan("no JSON object in the answer")
    try:
        obj, _ = json.JSONDecoder().raw_decode(answer[start:])
    except json.JSONDecodeError as e:
        raise InvalidPlan(f"malformed JSON: {e.msg}") from None
    if not isinstance(obj, dict):
        raise InvalidPlan("the answer is not a JSON object")
    return obj


def _keys(obj: dict[str, Any], allowed: set[str], required: set[str], what: str) -> None:
    extra = set(obj) - allowed
    if extra:
        raise InvalidPlan(f"unknown field(s) {sorted(extra)} in {what}")
    missing = required - set(obj)
    if missing:
        raise InvalidPlan(f"missing field(s) {sorted(missing)} in {what}")


def _str(value: Any, what: str, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise InvalidPlan(f"{what} must be a string")
    return value


def _strs(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidPlan(f"{what} must be a list of non-empty strings")
    return tuple(value)


def parse_plan(world: World, answer: str) -> Plan:
    """Validates the model's JSON against the world and turns it into a Plan (or raises)."""
    obj = extract_json(answer)
    _keys(obj, {"shot", "events"}, {"shot"}, "the answer")
    events_in = obj.get("events", [])
    if not isinstance(events_in, list):
        raise InvalidPlan("events must be a list")
    events: list[Event] = []
    w = world
    for i, raw in enumerate(events_in):
        ev = _event(w, raw, f"events[{i}]")
        try:
            w = ev.apply(w)
        except WorldError as e:
            raise InvalidPlan(f"events[{i}] does not apply: {e}") from None
        events.append(ev)
    shot = _shot(w, obj["shot"])
    notes = ("planned by the language model", *(e.describe() for e in events))
    return Plan(events=tuple(events), shot=shot, notes=notes)


def _shot(world: World, raw: Any) -> Shot:
    if not isinstance(raw, dict):
        raise InvalidPlan("shot must be an object")
    _keys(raw, {"characters", "camera", "action"}, {"characters", "action"}, "shot")
    names = []
    for n in _strs(raw["characters"], "shot.characters"):
        c = world.find_character(n)
        if c is None:
            raise InvalidPlan(f"shot.characters: no character called {n!r}")
        if c.name not in names:
            names.append(c.name)
    camera = _str(raw.get("camera"), "shot.camera", nullable=True)
    action = _str(raw["action"], "shot.action") or ""
    return Shot(camera=(camera.strip() or None) if camera else None, characters=tuple(names),
                action=" ".join(action.split()))


def _event(world: World, raw: Any, what: str) -> Event:
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise InvalidPlan(f"{what} must be an object with a type")
    kind = raw["type"]
    if kind == "location":
        _keys(raw, {"type", "name", "description"}, {"type", "name", "description"}, what)
        name = _str(raw["name"], f"{what}.name") or ""
        if not name.strip():
            raise InvalidPlan(f"{what}.name is empty")
        return LocationSet(name=name.strip(), description=_str(raw["description"], f"{what}.description"))
    if kind == "scene":
        _keys(raw, {"type", *_SCENE_KEYS}, {"type"}, what)
        kw = {k: _str(raw[k], f"{what}.{k}") for k in _SCENE_KEYS if k in raw}
        if kw.get("location") and world.location(kw["location"]) is None:
            raise InvalidPlan(f"{what}.location {kw['location']!r} does not exist (create it first)")
        if kw.get("light_from") and kw["light_from"] not in LIGHT_SIDES:
            raise InvalidPlan(f"{what}.light_from must be one of {', '.join(LIGHT_SIDES)}")
        if not kw:
            raise InvalidPlan(f"{what} changes nothing")
        return SceneChanged(**kw)
    if kind == "props":
        _keys(raw, {"type", "location", "added", "removed"}, {"type", "location"}, what)
        loc = world.location(_str(raw["location"], f"{what}.location"))
        if loc is None:
            raise InvalidPlan(f"{what}.location {raw['location']!r} does not exist")
        added = _strs(raw.get("added", []), f"{what}.added")
        removed = _strs(raw.get("removed", []), f"{what}.removed")
        gone = [p for p in removed if p not in loc.props]
        if gone:
            raise InvalidPlan(f"{what}.removed: {gone[0]!r} is not a prop of {loc.name}")
        return PropsChanged(location=loc.name, added=added, removed=removed)
    if kind == "appearance":
        return _appearance(world, raw, what)
    raise InvalidPlan(f"{what}.type {kind!r} is not one of location, scene, props, appearance")


def _appearance(world: World, raw: dict[str, Any], what: str) -> AppearanceChanged:
    _keys(raw, {"type", "name", "changes"}, {"type", "name", "changes"}, what)
    c = world.find_character(_str(raw["name"], f"{what}.name") or "")
    if c is None:
        raise InvalidPlan(f"{what}.name: no character called {raw['name']!r}")
    if not isinstance(raw["changes"], list) or not raw["changes"]:
        raise InvalidPlan(f"{what}.changes must be a non-empty list")
    texts = [t.text for t in c.traits]
    changes: list[tuple[str | None, Trait | None]] = []
    for j, ch in enumerate(raw["changes"]):
        where = f"{what}.changes[{j}]"
        if not isinstance(ch, dict):
            raise InvalidPlan(f"{where} must be an object")
        _keys(ch, {"old", "new"}, {"old", "new"}, where)
        old = _str(ch["old"], f"{where}.old", nullable=True)
        if old is not None and old not in texts:
            raise InvalidPlan(f"{where}.old {old!r} is not a phrase of {c.name}")
        new = None
        if ch["new"] is not None:
            if not isinstance(ch["new"], dict):
                raise InvalidPlan(f"{where}.new must be an object or null")
            _keys(ch["new"], {"slot", "text"}, {"slot", "text"}, f"{where}.new")
            slot, text = ch["new"]["slot"], ch["new"]["text"]
            if slot not in APPEARANCE_SLOTS:
                raise InvalidPlan(f"{where}.new.slot must be one of {', '.join(APPEARANCE_SLOTS)}")
            if not isinstance(text, str) or not text.strip():
                raise InvalidPlan(f"{where}.new.text must be a non-empty string")
            new = Trait(slot, " ".join(text.split()))
        if old is None and new is None:
            raise InvalidPlan(f"{where} changes nothing")
        if old is not None:
            texts.remove(old)
        if new is not None:
            texts.append(new.text)
        changes.append((old, new))
    return AppearanceChanged(name=c.name, changes=tuple(changes))


# ---------------------------------------------------------------- transformers


def transformers_generator(model_path_or_id: str, max_new_tokens: int = 256,
                           device: str | None = None) -> Callable[[str], str]:
    """A prompt -> completion callable over a transformers causal LM (local path or model id).

    Greedy decoding; the prompt is cut from the left to fit the model's context, so the
    user's text (at the end) always reaches the model.
    """
    import torch  # lazy: the rule planner needs neither
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path_or_id)
    model = AutoModelForCausalLM.from_pretrained(model_path_or_id)
    if device:
        model = model.to(device)
    model.eval()
    limit = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", 1024)
    keep = max(16, int(limit) - max_new_tokens)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    lock = threading.Lock()  # one generation at a time per model

    def generate(prompt: str) -> str:
        ids = tokenizer(prompt, return_tensors="pt").input_ids[:, -keep:].to(model.device)
        with lock, torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                                 do_sample=False, pad_token_id=pad)
        return str(tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True))

    return generate

