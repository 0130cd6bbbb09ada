"""Subject sets for the consistency benchmark, read from YAML.

The top level maps a domain name to a list of sets; each set is a mapping with `subject` (text),
`style` (text, may be empty) and `settings` (a list of texts); other keys are ignored. This is the
shape of the public ConsiStory+ file, which can be passed as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SetsError(ValueError):
    """The sets file is not in the expected shape; the message says where."""


@dataclass(frozen=True)
class SubjectSet:
    domain: str
    index: int  # position within its domain
    subject: str
    style: str
    settings: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.index}"

    def prompts(self) -> tuple[str, ...]:
        """The text each panel should show (what text alignment is measured against)."""
        return tuple(f"{self.subject} {s}".strip() for s in self.settings)


def _text(value: Any, where: str, field: str, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
        if required:
            raise SetsError(f"{where}: '{field}' must be a non-empty text")
        return ""
    return " ".join(str(value).split())


def parse_sets(data: Any, limit_settings: int | None = None) -> list[SubjectSet]:
    """Subject sets from already parsed YAML data, in file order."""
    if not isinstance(data, Mapping) or not data:
        raise SetsError("the sets file must map domain names to lists of sets")
    out: list[SubjectSet] = []
    for domain, sets in data.items():
        if not isinstance(sets, list):
            raise SetsError(f"{domain}: expected a list of sets")
        for i, raw in enumerate(sets):
            where = f"{domain}[{i}]"
            if not isinstance(raw, Mapping):
                raise SetsError(f"{where}: expected a mapping with subject, style and settings")
            settings = raw.get("settings")
            if not isinstance(settings, list) or not settings:
                raise SetsError(f"{where}: 'settings' must be a non-empty list")
            texts = tuple(_text(s, f"{where}.settings[{k}]", "setting", True) for k, s in enumerate(settings))
            out.append(SubjectSet(
                domain=str(domain), index=i, subject=_text(raw.get("subject"), where, "subject", True),
                style=_text(raw.get("style"), where, "style", False),
                settings=texts[:limit_settings] if limit_settings else texts,
            ))
    return out


def load_sets(path: str | Path, limit_settings: int | None = None) -> list[SubjectSet]:
    """Read a sets file (YAML); SetsError names the first problem."""
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SetsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SetsError(f"{path} is not valid YAML: {exc}") from exc
    return parse_sets(data, limit_settings)
