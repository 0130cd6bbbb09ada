"""The image filter's decisions: uploaded references and rendered panels, flagged or not.

The classifier itself (engine/moderation/images.py) runs on the engine's worker thread in the
render batch; uploads are classified with `asyncio.to_thread`. Here is only what follows from a
verdict: an upload that scores as explicit is refused before it is stored; a rendered panel is
held back (the job fails with a message and can be rerolled) or, with `action = "spoiler"` on a
platform that has spoilers, posted as one. An age-restricted Discord thread takes both as they
are when `allow_in_age_restricted = true`. The outbox calls `rendered` and `spoiler` (its Screen).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from bot.context import Actor, Place
from bot.public_settings import ModerationSettings
from engine.errors import RenderFailed
from engine.moderation.images import Verdict

log = logging.getLogger(__name__)

UPLOAD_REFUSED = "That image can't be used here: this server's image filter flagged it. Nothing was changed."
HELD_BACK = "this server's image filter held the picture back; /reroll {panel} draws it again with a new seed"

Classify = Callable[[Sequence[bytes]], list[Verdict]]
# note(kind, actor, place, detail): audit row, log line and listeners of one refusal (Guard.note).
Note = Callable[[str, Actor, Place, str], Awaitable[None]]


class FlagStore(Protocol):
    async def flag_image(self, sha: str, label: str, score: float) -> None: ...
    async def image_flagged(self, sha: str) -> bool: ...


class ImageGuard:
    def __init__(self, settings: ModerationSettings, classify: Classify, note: Note, *,
                 verdicts: Callable[[str], Verdict | None] | None = None, flags: FlagStore | None = None) -> None:
        self.settings = settings
        self._classify = classify
        self._note = note
        self._verdicts = verdicts
        self._flags = flags

    def relaxed(self, place: Place) -> bool:
        return place.age_restricted and self.settings.allow_in_age_restricted

    async def verdict(self, png: bytes) -> Verdict:
        """Classifies one image off the event loop."""
        [found] = await asyncio.to_thread(self._classify, [png])
        return found

    async def check_upload(self, data: bytes, actor: Actor, place: Place, what: str) -> bool:
        """False (after noting the refusal) when an uploaded image may not be stored here."""
        if self.relaxed(place):
            return True
        found = await self.verdict(data)
        if not found.flags(self.settings.image_threshold):
            return True
        await self._note("upload", actor, place, f"{what}: {found.label} {found.score:.2f}")
        return False

    async def rendered(self, job: Any, place: Place, png: bytes, spoilers: bool) -> bool:
        """Called before a rendered panel is stored. True: post it as a spoiler. Raises RenderFailed
        when it is held back. `job` is the stored job row (bot.ports.JobRecord)."""
        if self.relaxed(place):
            return False
        found = self._verdicts(job.id) if self._verdicts is not None else None
        if found is None:  # not rendered through the moderated renderer (e.g. a test engine)
            found = await self.verdict(png)
        if not found.flags(self.settings.image_threshold):
            return False
        actor = _author(job)
        detail = f"panel {job.panel} take {job.take}: {found.label} {found.score:.2f}"
        if self.settings.action == "spoiler" and spoilers and self._flags is not None:
            await self._flags.flag_image(hashlib.sha256(png).hexdigest(), found.label, found.score)
            log.info("panel %s of job %s posted as a spoiler (%s)", job.panel, job.id, detail)
            return True
        await self._note("image", actor, place, detail)
        raise RenderFailed(HELD_BACK.format(panel=job.panel))

    async def spoiler(self, image: str) -> bool:
        """Whether a stored panel image goes out as a spoiler."""
        return self._flags is not None and await self._flags.image_flagged(image)


def _author(job: Any) -> Actor:
    user = str(job.spec.get("job", {}).get("user", ""))
    platform, _, uid = user.partition(":")
    return Actor(platform or str(job.place.get("platform", "")), uid or user, str(job.author))
