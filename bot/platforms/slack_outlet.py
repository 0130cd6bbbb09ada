"""Posting finished panels into Slack threads (a bot.context.Outlet).

A panel is the image, uploaded into the world's thread with files_upload_v2, followed by a
message with its Reroll / Continue / Use as reference / Undo buttons.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Delivery, Place
from bot.platforms import slack_blocks as blocks
from bot.platforms.common import failed_text


class SlackOutlet:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def deliver(self, d: Delivery) -> str:
        """Uploads the panel into its thread, then the message with its buttons; returns that message's ts."""
        take = f"-{d.take}" if d.take else ""
        await self.client.files_upload_v2(
            channel=d.place.channel, thread_ts=d.place.thread, file=d.png, filename=f"panel-{d.panel:03d}{take}.png",
            title=d.caption[:250], alt_txt=str(d.record.get("prompt") or d.caption)[:1000])
        posted = await self.client.chat_postMessage(channel=d.place.channel, thread_ts=d.place.thread,
                                                    text=blocks.to_slack(d.caption),
                                                    blocks=blocks.panel_blocks(d.panel, d.caption))
        return str(posted["ts"])

    async def failed(self, place: Place, job_id: str, panel: int, error: str) -> None:
        await self.client.chat_postMessage(channel=place.channel, thread_ts=place.thread,
                                           text=blocks.to_slack(failed_text(panel, error)))
