"""What a well-formed Slack Web API call looks like, for tests/fake_slack.py.

Each call's arguments are checked against Slack's OpenAPI description
(../shared/specs/slack/web_openapi_v2.json) where the method is described there: required parameters
present, types right, timestamps shaped like "1700000000.000100". The upload v2 methods came later and
are checked by hand, as are the Block Kit limits Slack enforces (invalid_blocks). `check_call` runs
all of them and returns the problems found; FakeSlack adds the checks that need its state.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

TS = re.compile(r"^\d{10}\.\d{6}$")


@functools.cache
def load_spec() -> dict[str, Any]:
    """The Web API description: $SLACK_OPENAPI, else the copy in tests/specs/ (MIT), else ../shared."""
    here = Path(__file__).resolve().parents[1]
    candidates = [os.environ.get("SLACK_OPENAPI", ""),
                  Path(__file__).resolve().parent / "specs/slack/web_openapi_v2.json",
                  here.parent / "shared/specs/slack/web_openapi_v2.json"]
    for c in candidates:
        if c and Path(c).is_file():
            return json.loads(Path(c).read_text(encoding="utf-8"))
    raise FileNotFoundError("Slack's web_openapi_v2.json not found; set SLACK_OPENAPI to its path")


# ---------------------------------------------------------------- argument checks


class SpecChecker:
    """Checks one call's arguments against the OpenAPI (swagger 2.0) description of its method."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.ops = {path.lstrip("/"): op for path, item in spec["paths"].items() for op in item.values()}
        self.ts = re.compile(spec["definitions"]["defs_ts"]["pattern"])

    def described(self, method: str) -> bool:
        return method in self.ops

    def check(self, method: str, args: dict[str, Any], has_token: bool) -> list[str]:
        op = self.ops.get(method)
        if op is None:
            return []
        problems = []
        for p in op.get("parameters", []):
            name, kind = p["name"], p.get("type", "string")
            if name == "token":  # "in: header" means the Authorization: Bearer header
                if p.get("required") and not has_token and "token" not in args:
                    problems.append(f"{method}: token is required")
                continue
            if name not in args:
                if p.get("required"):
                    problems.append(f"{method}: {name} is required")
                continue
            value = args[name]
            if not _type_ok(value, kind):
                problems.append(f"{method}: {name} must be {kind}, got {value!r:.80}")
            elif name in ("ts", "thread_ts") and not self.ts.match(str(value)):
                problems.append(f"{method}: {name} must look like 0123456789.012345, got {value!r}")
        return problems


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "string":
        # JSON bodies carry blocks, attachments and views as arrays/objects instead of JSON strings.
        return isinstance(value, str | list | dict)
    if kind == "boolean":
        return isinstance(value, bool) or str(value).lower() in ("true", "false", "1", "0")
    if kind == "integer":
        return isinstance(value, int) or bool(re.fullmatch(r"-?\d+", str(value)))
    if kind == "number":
        try:
            float(value)
        except (TypeError, ValueError):
            return False
        return not isinstance(value, bool)
    return True


def json_arg(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _plain_text(obj: Any, where: str, limit: int, problems: list[str]) -> None:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn") or not isinstance(
            obj.get("text"), str):
        problems.append(f"{where}: needs a text object")
    elif not obj["text"] or len(obj["text"]) > limit:
        problems.append(f"{where}: text must be 1-{limit} characters, got {len(obj['text'])}")


def check_blocks(blocks: Any, where: str, max_blocks: int = 50) -> list[str]:
    """The Block Kit limits that make Slack answer invalid_blocks (a subset: what worldloom uses)."""
    problems: list[str] = []
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and isinstance(b.get("type"), str)
                                               for b in blocks):
        return [f"{where}: blocks must be a list of objects with a type"]
    if len(blocks) > max_blocks:
        problems.append(f"{where}: at most {max_blocks} blocks")
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(block_ids) != len(set(block_ids)):
        problems.append(f"{where}: block_id values must be unique")
    for i, b in enumerate(blocks):
        here = f"{where}.blocks[{i}]"
        if b["type"] == "header":
            _plain_text(b.get("text"), here, 150, problems)
        elif b["type"] == "section":
            _plain_text(b.get("text"), here, 3000, problems)
        elif b["type"] == "actions":
            elements = b.get("elements") or []
            if not 1 <= len(elements) <= 25:
                problems.append(f"{here}: actions need 1-25 elements")
            ids = [e.get("action_id") for e in elements]
            if len(ids) != len(set(ids)):
                problems.append(f"{here}: action_id values must be unique in a block")
            for e in elements:
                _check_element(e, here, problems)
        elif b["type"] == "input":
            _plain_text(b.get("label"), here + ".label", 2000, problems)
            _check_element(b.get("element") or {}, here, problems)
    return problems


def _check_element(e: dict[str, Any], where: str, problems: list[str]) -> None:
    if len(str(e.get("action_id", ""))) > 255:
        problems.append(f"{where}: action_id over 255 characters")
    if e.get("type") == "button":
        _plain_text(e.get("text"), where + ".button", 75, problems)
        if len(str(e.get("value", ""))) > 2000:
            problems.append(f"{where}: button value over 2000 characters")
    elif e.get("type") == "static_select":
        options = e.get("options") or []
        if not 1 <= len(options) <= 100:
            problems.append(f"{where}: static_select needs 1-100 options")
        for o in options:
            _plain_text(o.get("text"), where + ".option", 75, problems)
            if not 1 <= len(str(o.get("value", ""))) <= 150:
                problems.append(f"{where}: option value must be 1-150 characters")
    elif e.get("type") == "plain_text_input":
        if int(e.get("max_length", 3000)) > 3000:
            problems.append(f"{where}: plain_text_input max_length over 3000")
    else:
        problems.append(f"{where}: unexpected element type {e.get('type')!r}")


def check_view(view: Any) -> list[str]:
    if not isinstance(view, dict) or view.get("type") != "modal":
        return ["views.open: view must be a modal object"]
    problems = check_blocks(view.get("blocks"), "views.open.view", max_blocks=100)
    _plain_text(view.get("title"), "views.open.view.title", 24, problems)
    for key in ("submit", "close"):
        if key in view:
            _plain_text(view[key], f"views.open.view.{key}", 24, problems)
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append("views.open: private_metadata over 3000 characters")
    if len(str(view.get("callback_id", ""))) > 255:
        problems.append("views.open: callback_id over 255 characters")
    return problems


def check_call(checker: SpecChecker, method: str, args: dict[str, Any], has_token: bool) -> list[str]:
    """Every check of one call that needs no server state: the OpenAPI, Block Kit and upload v2 rules."""
    problems = checker.check(method, args, has_token)
    try:
        if "blocks" in args:
            problems += check_blocks(json_arg(args["blocks"]), method)
        if method == "views.open" and "view" in args:
            problems += check_view(json_arg(args["view"]))
    except json.JSONDecodeError:
        problems.append(f"{method}: blocks/view is not valid JSON")
    if method == "chat.postMessage" and "metadata" in args:
        # Newer than the vendored description: {"event_type": "...", "event_payload": {...}}.
        try:
            meta = json_arg(args["metadata"])
            assert isinstance(meta, dict) and set(meta) == {"event_type", "event_payload"}
            assert re.fullmatch(r"[a-z0-9_]{1,255}", str(meta["event_type"]))
            assert isinstance(meta["event_payload"], dict)
        except (json.JSONDecodeError, AssertionError):
            problems.append("chat.postMessage: metadata must be {event_type: a_snake_name, event_payload: {...}}")
    if method == "files.getUploadURLExternal":
        if not args.get("filename"):
            problems.append("files.getUploadURLExternal: filename is required")
        if not re.fullmatch(r"[1-9]\d*", str(args.get("length", ""))):
            problems.append("files.getUploadURLExternal: length must be a positive integer")
    if method == "files.completeUploadExternal":
        try:
            files = json_arg(args.get("files", ""))
            assert isinstance(files, list) and files and all(isinstance(f, dict) and f.get("id") for f in files)
        except (json.JSONDecodeError, AssertionError):
            problems.append("files.completeUploadExternal: files must be a JSON array of {id, title}")
        if args.get("thread_ts") and not args.get("channel_id") and not args.get("channels"):
            problems.append("files.completeUploadExternal: thread_ts needs channel_id")
        if args.get("thread_ts") and not TS.match(str(args["thread_ts"])):
            problems.append("files.completeUploadExternal: thread_ts must look like 0123456789.012345")
    return problems
