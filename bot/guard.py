"""The gate in front of the service on public servers: bans, the prompt word filter and daily quotas.

The service asks the Guard before it runs a command (`admit`: closing for shutdown? banned?
a blocked word in any text that can reach a prompt?) and around storing a panel (`panel`: the
daily quotas, counted in the same breath as the check). Refusals change nothing, answer
privately without repeating the word, and are written to the audit log; everyone interested
(metrics, logs) hears of them through `listen`. What it keeps lives in SQLite (bot/store/admin.py),
reached through the AdminStore protocol below.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.commands import Command, Spec
from bot.context import Actor, Place
from bot.image_guard import UPLOAD_REFUSED, Classify, ImageGuard
from bot.ports import Charge
from bot.public_settings import ModerationSettings, QuotaSettings
from engine.errors import LimitExceeded, NotAllowed
from engine.events import Record, fold
from engine.moderation.images import Verdict
from engine.moderation.words import WordFilter

log = logging.getLogger(__name__)

BLOCKED_WORDS = ("That can't be drawn here: it contains a word this server does not allow. "
                 "Nothing was changed.")
BANNED = "Sorry, you can't use worldloom in this server. Ask its admins if you think this is a mistake."
CLOSING = "worldloom is restarting; please try again in a minute."
# Fields of a command that never reach a positive prompt: what NOT to draw, files, help topics.
NOT_PROMPT = frozenset({"negative", "image", "path", "topic"})
# Fields of a world that never reach a positive prompt (the typed command holds --no words).
NOT_IN_WORLD_PROMPTS = frozenset({"id", "negative", "negative_prompt", "command", "author", "author_id", "image",
                                  "pronoun", "notes", "dropped", "references", "slot"})


class Refused(NotAllowed):
    """A command refused by a ban or by moderation; the message is safe to show (no blocked word)."""


@dataclass(frozen=True)
class Refusal:
    """Published for every refusal (metrics count them by kind, logs write one line)."""

    kind: str  # "words" | "image" | "upload" | "banned" | "closing"
    platform: str
    workspace: str
    actor: str  # "platform:user id"
    detail: str = ""


class AuditRow(Protocol):
    at: float
    actor_name: str
    action: str
    target: str
    detail: str


class AdminStore(Protocol):
    """bot.store.admin.AdminStore as the guard and the admin handlers use it."""

    async def banned(self, platform: str, workspace: str) -> set[str]: ...
    async def ban(self, platform: str, workspace: str, user_id: str, by: str) -> bool: ...
    async def unban(self, platform: str, workspace: str, user_id: str) -> bool: ...
    async def set_daily_limit(self, platform: str, workspace: str, user_id: str, per_day: int, by: str) -> None: ...
    async def daily_limit(self, platform: str, workspace: str, user_id: str) -> int | None: ...
    async def usage(self, platform: str, workspace: str, user_id: str, day: str) -> Any: ...
    async def count_panel(self, db: Any, platform: str, workspace: str, user_id: str, day: str, person_limit: int,
                          server_limit: int) -> str | None: ...
    async def audit(self, at: float, platform: str, workspace: str, actor_id: str, actor_name: str, action: str,
                    target: str = "", detail: str = "") -> None: ...
    async def recent_audit(self, platform: str, workspace: str, limit: int = 20) -> list[Any]: ...
    async def flag_image(self, sha: str, label: str, score: float) -> None: ...
    async def image_flagged(self, sha: str) -> bool: ...
    async def ping(self) -> bool: ...


def prompt_texts(command: Command) -> list[str]:
    """Every text of a command that can reach a positive prompt (never --no / --negative)."""
    out: list[str] = []
    for f in fields(command):
        if f.name in NOT_PROMPT:
            continue
        value = getattr(command, f.name)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            out.extend(value)
    return out


def world_texts(value: object) -> list[str]:
    """Every text of a world (or any value in it) that can reach a prompt again (/reroll included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in world_texts(v)]
    if hasattr(value, "__dataclass_fields__"):
        return [t for f in fields(value) if f.name not in NOT_IN_WORLD_PROMPTS  # type: ignore[arg-type]
                for t in world_texts(getattr(value, f.name))]
    return []


class Guard:
    """Bans, the word filter, daily quotas and the audit log for one bot (built by the composition root)."""

    def __init__(self, admin: AdminStore | None = None, moderation: ModerationSettings | None = None,
                 quotas: QuotaSettings | None = None, *, words: WordFilter | None = None,
                 classify: Classify | None = None, verdicts: Callable[[str], Verdict | None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.admin = admin
        self.moderation = moderation or ModerationSettings(prompt_filter=False)
        self.quotas = quotas or QuotaSettings()
        self.words = words if self.moderation.prompt_filter else None
        self.clock = clock
        self.closing = False
        self._bans: dict[tuple[str, str], set[str]] = {}
        self._listeners: list[Callable[[Refusal], None]] = []
        # Uploads and rendered panels, when an image classifier is configured.
        self.images = ImageGuard(self.moderation, classify, self.note, verdicts=verdicts, flags=admin) \
            if classify is not None else None

    def listen(self, listener: Callable[[Refusal], None]) -> None:
        self._listeners.append(listener)

    def close_doors(self) -> None:
        """Shutting down: every command from now on is refused."""
        self.closing = True

    def relaxed(self, place: Place) -> bool:
        """An age-restricted place where the server allows what the filters would refuse."""
        return place.age_restricted and self.moderation.allow_in_age_restricted

    # ------------------------------------------------------------ before a command runs

    async def admit(self, command: Command, actor: Actor, place: Place, spec: Spec | None) -> None:
        """Raises Refused when the command may not run here, for this person, with these words."""
        if self.closing:
            await self.refuse("closing", actor, place, CLOSING, audit=False)
        admin_command = spec is not None and spec.admin
        if not (admin_command and actor.manages_server) and actor.id in await self.banned(place):
            await self.refuse("banned", actor, place, BANNED, audit=False)
        if self.words is None or admin_command or self.relaxed(place):
            return
        for text in prompt_texts(command):
            term = self.words.find(text)
            if term is not None:
                name = f"/{spec.name}" if spec else type(command).__name__
                await self.refuse("words", actor, place, BLOCKED_WORDS, detail=f"{name}: blocked term {term!r}")

    def check_text(self, text: str) -> str | None:
        """The blocked term in `text` (for world files), or None."""
        return self.words.find(text) if self.words is not None else None

    async def banned(self, place: Place) -> set[str]:
        key = (place.platform, place.workspace)
        if key not in self._bans:
            self._bans[key] = await self.admin.banned(*key) if self.admin is not None else set()
        return self._bans[key]

    async def refuse(self, kind: str, actor: Actor, place: Place, message: str, *, detail: str = "",
                     audit: bool = True) -> None:
        """Notes a refusal (see `note`) and raises Refused(message)."""
        await self.note(kind, actor, place, detail, audit=audit)
        raise Refused(message)

    async def note(self, kind: str, actor: Actor, place: Place, detail: str = "", *, audit: bool = True) -> None:
        """One refusal: a log line, an audit row (moderation refusals), and every listener told."""
        log.info("refused %s: %s in %s/%s %s", kind, actor.key(), place.platform, place.workspace, detail,
                 extra={"refusal": kind, "actor": actor.key()})
        if audit:
            await self.record(actor, place, f"refused:{kind}", detail=detail)
        event = Refusal(kind, place.platform, place.workspace, actor.key(), detail)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("a refusal listener failed")

    # ------------------------------------------------------------ images (bot/image_guard.py)

    async def check_upload(self, data: bytes, actor: Actor, place: Place, what: str) -> None:
        """Raises Refused when the image filter flags an uploaded image (before it is stored)."""
        if self.images is not None and not await self.images.check_upload(data, actor, place, what):
            raise Refused(UPLOAD_REFUSED)

    async def check_world_file(self, title: str, records: list[Record], images: Iterable[bytes], actor: Actor,
                               place: Place) -> None:
        """A world file's words (everything that can reach a prompt again) and images, before import."""
        if self.relaxed(place):
            return
        texts = [title, *world_texts(fold("import", records))]
        for text in texts:
            term = self.check_text(text)
            if term is not None:
                await self.refuse("words", actor, place, BLOCKED_WORDS, detail=f"/world import: blocked term {term!r}")
        for data in images:
            await self.check_upload(data, actor, place, "/world import image")

    async def record(self, actor: Actor, place: Place, action: str, target: str = "", detail: str = "") -> None:
        """One audit row: who, when, what."""
        if self.admin is not None:
            await self.admin.audit(self.clock(), place.platform, place.workspace, actor.key(), actor.name, action,
                                   target, detail)

    # ------------------------------------------------------------ admin actions (bot/handlers/admin.py)

    async def ban(self, actor: Actor, place: Place, user_id: str, reason: str = "") -> bool:
        store = self._store()
        done = await store.ban(place.platform, place.workspace, user_id, actor.key())
        (await self.banned(place)).add(user_id)
        await self.record(actor, place, "ban", target=user_id, detail=reason)
        return done

    async def unban(self, actor: Actor, place: Place, user_id: str) -> bool:
        store = self._store()
        done = await store.unban(place.platform, place.workspace, user_id)
        (await self.banned(place)).discard(user_id)
        await self.record(actor, place, "unban", target=user_id)
        return done

    async def set_quota(self, actor: Actor, place: Place, user_id: str, per_day: int) -> None:
        await self._store().set_daily_limit(place.platform, place.workspace, user_id, per_day, actor.key())
        await self.record(actor, place, "quota", target=user_id,
                          detail=f"{per_day} panels a day" if per_day else "back to the default")

    async def audit_log(self, place: Place, limit: int = 20) -> list[AuditRow]:
        return await self._store().recent_audit(place.platform, place.workspace, limit)

    def _store(self) -> AdminStore:
        if self.admin is None:
            raise NotAllowed("admin commands need the bot's database")
        return self.admin

    # ------------------------------------------------------------ daily quotas

    def day(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).date().isoformat()

    def reset_text(self) -> str:
        """When the quotas reset: "00:00 UTC (in 5 h 12 min)"."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        left = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC) - now
        minutes = max(1, int(left.total_seconds() // 60))
        return f"00:00 UTC (in {minutes // 60} h {minutes % 60} min)"

    def exempt(self, actor: Actor) -> bool:
        return self.quotas.admins_exempt and actor.manages_server

    async def limits(self, actor: Actor, place: Place) -> tuple[int, int]:
        """(this person's daily limit, the server's); 0 = none."""
        if self.admin is None or self.exempt(actor):
            return 0, 0
        own = await self.admin.daily_limit(place.platform, place.workspace, actor.id)
        return (own if own is not None else self.quotas.panels_per_day), self.quotas.server_panels_per_day

    async def quota(self, actor: Actor, place: Place) -> Charge | None:
        """What counts one panel against today's quotas, run inside the transaction that stores it
        (it raises LimitExceeded when none is left, and nothing is stored); None when nothing counts."""
        person, server = await self.limits(actor, place)
        admin = self.admin
        if admin is None or (person <= 0 and server <= 0):
            return None
        day = self.day()

        async def charge(db: Any) -> None:
            hit = await admin.count_panel(db, place.platform, place.workspace, actor.id, day, person, server)
            if hit == "person":
                raise LimitExceeded(f"you have drawn your {person} panels for today; more from {self.reset_text()}. "
                                    "/quota shows what is left.")
            if hit == "server":
                raise LimitExceeded(f"this server has drawn its {server} panels for today; more from "
                                    f"{self.reset_text()}.")

        return charge

    async def quota_text(self, actor: Actor, place: Place) -> str:
        """What /quota answers."""
        if self.exempt(actor):
            return "You manage this server: daily quotas don't count you."
        person, server = await self.limits(actor, place)
        used = await self.admin.usage(place.platform, place.workspace, actor.id, self.day()) if self.admin else None
        lines = []
        if person > 0 and used is not None:
            lines.append(f"You have {max(0, person - used.person)} of {person} panels left today.")
        else:
            lines.append("You have no daily limit here.")
        if server > 0 and used is not None:
            lines.append(f"This server has {max(0, server - used.server)} of {server} panels left today.")
        if (person > 0 or server > 0) and used is not None:
            lines.append(f"Quotas reset at {self.reset_text()}.")
        return "\n".join(lines)
