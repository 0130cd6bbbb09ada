"""Posting finished panels into Discord threads with the bot token (a bot.context.Outlet).

Panels are never interaction followups, so they arrive after the 15-minute interaction token has
expired and after a restart alike; the job id is the message nonce (enforce_nonce), so a retried
post never shows twice. Discord forgets nonces after a few minutes, so a panel that may have been
posted before a restart (`Delivery.retry`) is first looked for in the thread's recent messages: its
file name carries the job id.
"""

from __future__ import annotations

import asyncio
import io
import logging

import discord
from PIL import Image

from bot.context import Delivery, DeliveryRefused, Place
from bot.platforms.common import failed_text
from bot.platforms.discord_views import UploadFile, clip, panel_view

log = logging.getLogger(__name__)

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
# Unknown channel, missing access, thread locked: retrying after a restart cannot help.
GONE_FOR_GOOD = frozenset({10003, 50001, 50083})
RECENT = 50  # messages looked through for a panel posted before a restart


def shrink_to_fit(png: bytes, limit: int) -> bytes:
    """A JPEG of the panel, scaled down until it fits the upload limit. CPU work: run it in a thread."""
    with Image.open(io.BytesIO(png)) as img:
        rgb = img.convert("RGB")
    scale = 1.0
    while True:
        size = (max(1, int(rgb.width * scale)), max(1, int(rgb.height * scale)))
        out = io.BytesIO()
        (rgb if scale == 1.0 else rgb.resize(size)).save(out, "JPEG", quality=85)
        if out.tell() <= limit or size == (1, 1):
            return out.getvalue()
        scale *= 0.7


class DiscordOutlet:
    """Posts finished panels into their thread with the bot token (bot.context.Outlet)."""

    spoilers = True  # a SPOILER_ file name hides the image until clicked

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self.upload_limits: dict[str, int] = {}  # thread id -> the limit its last interaction reported

    def _channel(self, place: Place) -> discord.PartialMessageable:
        guild_id = int(place.workspace) if place.workspace.isdigit() else None
        return self.client.get_partial_messageable(int(place.thread), guild_id=guild_id)

    async def deliver(self, d: Delivery) -> str:
        if d.retry and (posted := await self._posted(d)) is not None:
            return posted
        limit = self.upload_limits.get(d.place.thread, DEFAULT_UPLOAD_LIMIT)
        data, ext = d.png, "png"
        if len(data) > limit:
            data, ext = await asyncio.to_thread(shrink_to_fit, data, limit), "jpg"
        take = f" (take {d.take + 1})" if d.take else ""
        caption = clip(f"**#{d.panel}**{take} · {d.caption.removeprefix(f'#{d.panel} · ')}")
        try:
            msg = await self._channel(d.place).send(
                caption, file=UploadFile(io.BytesIO(data), filename=f"{'SPOILER_' if d.spoiler else ''}"
                                                                         f"{_file_stem(d)}.{ext}"),
                view=panel_view(d.world_id, d.panel), nonce=d.job_id[:25],
                allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as e:
            if e.code in GONE_FOR_GOOD:
                raise DeliveryRefused(f"Discord error {e.code}: {e.text}") from e
            raise
        return str(msg.id)

    async def _posted(self, d: Delivery) -> str | None:
        """The id of this job's panel among the thread's recent messages, if it is there already."""
        stem = _file_stem(d)
        me = self.client.user.id if self.client.user else None
        try:
            async for msg in self._channel(d.place).history(limit=RECENT):
                if msg.author.id == me and any(stem in a.filename for a in msg.attachments):
                    return str(msg.id)
        except discord.HTTPException as e:  # no Read Message History: the nonce is all there is
            log.info("could not look for job %s in its thread: %s", d.job_id, e)
        return None

    async def failed(self, place: Place, job_id: str, panel: int, error: str) -> None:
        try:
            await self._channel(place).send(clip(failed_text(panel, error)),
                                            nonce=f"x{job_id}"[:25], allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException:
            log.exception("could not report the failure of job %s", job_id)


def _file_stem(d: Delivery) -> str:
    return f"panel-{d.panel:03d}-{d.take}-{d.job_id}"
