"""Discord's OpenAPI description, and the check of every request the fake Discord records against it.

`openapi().check(...)` matches a request to the description's path templates (a literal segment beats a
parameter), validates path and query parameters with jsonschema (query strings read as the schema's type),
validates the JSON body, or the `payload_json` part of a multipart body and its part names, and checks the
bot token. Each problem comes back as one readable line; tests/fake_discord.py collects them.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def find_spec() -> Path:
    """The OpenAPI description: $DISCORD_OPENAPI, else the copy in tests/specs/ (MIT), else ../shared."""
    here = Path(__file__).resolve().parents[1]
    candidates = [os.environ.get("DISCORD_OPENAPI", ""), Path(__file__).resolve().parent / "specs/discord/openapi.json",
                  here.parent / "shared/specs/discord/openapi.json"]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    raise FileNotFoundError("Discord's openapi.json not found; set DISCORD_OPENAPI to its path")


class OpenAPI:
    """Matches requests to the description's path templates and validates them; built once per process."""

    def __init__(self, path: Path) -> None:
        self.doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        self.registry = Registry().with_resource(
            "urn:discord", Resource.from_contents(self.doc, default_specification=DRAFT202012))
        self.base = "/api/v10"
        self.templates: list[tuple[re.Pattern[str], str, int]] = []
        for template in self.doc["paths"]:
            regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
            literal = sum(1 for part in template.split("/") if part and not part.startswith("{"))
            self.templates.append((re.compile(regex), template, literal))
        # A literal segment beats a parameter: /messages/@original before /messages/{message_id}.
        self.templates.sort(key=lambda t: -t[2])

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one instance per process, kept for the session
    def validator(self, pointer: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": "urn:discord#" + pointer}, registry=self.registry)

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        for regex, template, _ in self.templates:
            m = regex.match(path)
            if m:
                return template, m.groupdict()
        return None

    def check(self, method: str, path: str, query: dict[str, str], content_type: str,
              body: Any, file_parts: list[str], authorization: str | None, token: str) -> list[str]:
        """Everything wrong with one request, as readable lines (empty when it is valid)."""
        where = f"{method} {path}"
        found = self.match(path)
        if found is None:
            return [f"{where}: no such path in the OpenAPI description"]
        template, params = found
        item = self.doc["paths"][template]
        op = item.get(method.lower())
        if op is None:
            return [f"{where}: {method} is not defined for {template}"]
        errors: list[str] = []
        esc = "/paths/" + template.replace("~", "~0").replace("/", "~1")
        for i, p in enumerate(item.get("parameters", [])):
            if p["in"] == "path":
                errors += self._errors(f"{esc}/parameters/{i}/schema", params[p["name"]], f"{where} path {p['name']}")
        declared = {p["name"]: (i, p) for i, p in enumerate(op.get("parameters", [])) if p["in"] == "query"}
        for name, raw in query.items():
            if name not in declared:
                errors.append(f"{where}: unknown query parameter {name!r}")
                continue
            i, p = declared[name]
            value = _coerce_query(raw, p["schema"], self.doc)
            errors += self._errors(f"{esc}/{method.lower()}/parameters/{i}/schema", value, f"{where} query {name}")
        security = op.get("security")
        if security is not None and {} not in security:
            if authorization != f"Bot {token}":
                errors.append(f"{where}: needs the bot token (Authorization: Bot ...)")
        elif authorization is not None and authorization != f"Bot {token}":
            errors.append(f"{where}: wrong Authorization header")
        rb = op.get("requestBody")
        if rb is None:
            if body is not None:
                errors.append(f"{where}: sends a body but the operation takes none")
            return errors
        if body is None:
            if rb.get("required"):
                errors.append(f"{where}: the request body is required")
            return errors
        kind = "multipart/form-data" if content_type.startswith("multipart/") else "application/json"
        if kind not in rb["content"]:
            return [*errors, f"{where}: {kind} bodies are not accepted"]
        pointer = f"{esc}/{method.lower()}/requestBody/content/{kind.replace('/', '~1')}/schema"
        errors += self._errors(pointer, body, f"{where} body")
        if kind == "multipart/form-data":
            props = _multipart_props(rb["content"][kind]["schema"])
            errors += [f"{where}: unexpected multipart part {n!r}" for n in file_parts if n not in props]
        return errors

    def _errors(self, pointer: str, value: Any, what: str) -> list[str]:
        v = self.validator(pointer)
        return [f"{what}: {e.message[:300]} at {'/'.join(map(str, e.absolute_path)) or '(root)'}"
                for e in v.iter_errors(value)]


def _coerce_query(raw: str, schema: dict[str, Any], doc: dict[str, Any]) -> Any:
    """Query strings are text; read them as the schema's type (1/0 count as booleans, as Discord does)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "boolean" in types:
        return {"true": True, "1": True, "false": False, "0": False}.get(raw.lower(), raw)
    if "integer" in types:
        try:
            return int(raw)
        except ValueError:
            return raw
    return raw


def _multipart_props(schema: dict[str, Any]) -> set[str]:
    out: set[str] = {"payload_json"}
    for part in schema.get("allOf", [schema]):
        out |= set(part.get("properties", {}))
    return out


@functools.cache
def openapi() -> OpenAPI:
    """The description, parsed once per test session."""
    return OpenAPI(find_spec())
