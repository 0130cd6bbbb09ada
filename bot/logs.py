"""Logging: text or JSON lines ([logging] format), one line per job and per refusal, no secrets.

`configure` installs one handler on the root logger whose formatter redacts every configured
secret (the tokens and the signing secret from the environment) from the finished line, so
nothing escapes: not a message, not an argument, not a traceback, not an aiohttp error that
quotes a URL or a header. `log_job` is the outbox watcher that writes the line per job.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.outbox import JobEvent

REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MIN_SECRET = 4  # shorter "secrets" would redact half the log
# What every LogRecord has; anything else on a record came as `extra=` and goes into the JSON line.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

log = logging.getLogger("worldloom.jobs")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, message, the record's extras, and exc (a traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        out.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class RedactingFormatter(logging.Formatter):
    """Formats with `inner`, then blanks out every secret in the finished text."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET:
                forms |= {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]}
        self._secrets = sorted(forms, key=len, reverse=True)  # longest first: no half-redacted leftovers

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(self.inner.format(record))


class _Ours(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure` installs (configuring again replaces it). Without a stream of its own
    it writes to whatever sys.stderr is at the time, as print() does."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream)
        self._follow_stderr = stream is None

    def emit(self, record: logging.LogRecord) -> None:
        if self._follow_stderr:
            self.stream = sys.stderr
        super().emit(record)


def configure(level: str | int, fmt: str, secrets: Iterable[str], stream: TextIO | None = None) -> logging.Handler:
    """Sends every log record to `stream` (stderr) as text or JSON lines, secrets redacted."""
    handler = _Ours(stream)
    inner = JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(RedactingFormatter(inner, secrets))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Ours)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    logging.captureWarnings(True)  # warnings are log lines too, redacted like the rest
    return handler


def log_job(event: JobEvent) -> None:
    """One line per job and step (an Outbox watcher)."""
    level = logging.WARNING if event.state in ("failed", "delivery_error") else logging.INFO
    where = f" on {event.platform}" if event.platform else ""
    took = f" in {event.seconds:.2f} s" if event.seconds else ""
    why = f" ({event.error})" if event.error else ""
    log.log(level, "job %s %s: world %s panel %d%s%s%s", event.job_id, event.state, event.world_id, event.panel,
            where, took, why,
            extra={"job_id": event.job_id, "state": event.state, "world_id": event.world_id, "panel": event.panel,
                   "platform": event.platform, "seconds": round(event.seconds, 3), "error": event.error})
