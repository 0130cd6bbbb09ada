"""Posting finished panels into Slack threads (a bot.context.Outlet), each exactly once.

A panel is two calls: the image, uploaded into the world's thread with files_upload_v2 (its file
name carries the job id), then a message with its Reroll / Continue / Use as reference / Undo
buttons that carries the job id in its metadata (event_type `worldloom_panel`). Slack keeps no
nonce, so a panel that may have been posted (in part) before a restart (`Delivery.retry`) is first
looked for in its thread (conversations.replies with the metadata): what is there is not posted again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Delivery, Place
from bot.platforms import slack_blocks as blocks
from bot.platforms.common import failed_text

log = logging.getLogger(__name__)

PANEL_EVENT = "worldloom_panel"


@dataclass(frozen=True)
class Found:
    """What of a panel is in its thread already."""

    file: bool = False
    message: str | None = None  # the ts of its message with the buttons


class SlackOutlet:
    def __init__(self, client: AsyncWebClient, bot_user_id: str = "") -> None:
        self.client = client
        self.bot_user_id = bot_user_id

    async def deliver(self, d: Delivery) -> str:
        """Uploads the panel into its thread, then the message with its buttons; returns that message's ts."""
        found = await self.find(d.place, d.job_id) if d.retry else Found()
        if found.message is not None:
            return found.message
        if not found.file:
            take = f"-{d.take}" if d.take else ""
            await self.client.files_upload_v2(
                channel=d.place.channel, thread_ts=d.place.thread, file=d.png,
                filename=f"panel-{d.panel:03d}{take}-{d.job_id}.png", title=d.caption[:250],
                alt_txt=str(d.record.get("prompt") or d.caption)[:1000])
        posted = await self.client.chat_postMessage(channel=d.place.channel, thread_ts=d.place.thread,
                                                    text=blocks.to_slack(d.caption),
                                                    blocks=blocks.panel_blocks(d.panel, d.caption),
                                                    metadata={"event_type": PANEL_EVENT,
                                                              "event_payload": {"job_id": d.job_id}})
        return str(posted["ts"])

    async def find(self, place: Place, job_id: str) -> Found:
        """This job's file and message among the bot's own messages in the thread."""
        file, cursor = False, None
        try:
            while True:
                page = await self.client.conversations_replies(channel=place.channel, ts=place.thread, limit=200,
                                                               include_all_metadata=True, cursor=cursor)
                for m in page.get("messages") or []:
                    if not self._mine(m):
                        continue
                    payload = (m.get("metadata") or {}).get("event_payload") or {}
                    if (m.get("metadata") or {}).get("event_type") == PANEL_EVENT and payload.get("job_id") == job_id:
                        return Found(True, str(m["ts"]))
                    file = file or any(job_id in str(f.get("name") or "") for f in m.get("files") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not page.get("has_more") or not cursor:
                    return Found(file)
        except SlackApiError as e:  # no history scope: posting again is the lesser harm than never
            log.warning("slack: could not look for job %s in its thread: %s", job_id, e.response.get("error"))
            return Found(file)

    def _mine(self, m: dict[str, Any]) -> bool:
        return bool(m.get("bot_id")) and (not self.bot_user_id or m.get("user") in (None, self.bot_user_id))

    async def failed(self, place: Place, job_id: str, panel: int, error: str) -> None:
        await self.client.chat_postMessage(channel=place.channel, thread_ts=place.thread,
                                           text=blocks.to_slack(failed_text(panel, error)))
