"""The files people attach in Slack (/cref, /sref, world import): found, checked, downloaded with the token."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import commands as c
from bot.context import Attachment, Place
from bot.platforms import common as kit
from bot.platforms.slack_inbox import Ask
from engine.errors import WorldError

log = logging.getLogger(__name__)

FILE_COMMANDS = (c.RegisterCharacter, c.SetStyle, c.ImportWorld)


class SlackFiles:
    def __init__(self, client: AsyncWebClient, http: aiohttp.ClientSession, bot_token: str,
                 policy: kit.AttachmentPolicy) -> None:
        self.client = client
        self._http = http
        self._bot_token = bot_token
        self.policy = policy

    async def attachments(self, ask: Ask, place: Place, command: c.Command,
                          files: list[dict[str, Any]]) -> list[Attachment]:
        """Downloads the first attached file for /cref, /sref and import, if it was shared in this thread."""
        if not isinstance(command, FILE_COMMANDS):
            return []
        files = files or await self._message_files(ask)
        if not files:
            return []
        kind = "world" if isinstance(command, c.ImportWorld) else "image"
        if kind == "image" and (not place.thread or ask.thread != place.thread):
            raise WorldError("attach the image to a message in the world's thread")
        try:
            info = (await self.client.files_info(file=str(files[0].get("id", ""))))["file"]
        except SlackApiError as e:
            raise WorldError(f"I could not read the attached file ({e.response.get('error')})") from None
        shares = info.get("shares") or {}
        # The file must be shared where the message was written (for images: the world's thread).
        here = any(s.get("thread_ts") == ask.thread
                   for where in ("public", "private") for s in (shares.get(where) or {}).get(ask.channel, []))
        if not here:
            raise WorldError("I only read files shared in this thread")
        name = str(info.get("name") or "file")
        url = str(info.get("url_private_download") or info.get("url_private") or "")
        limit = self.policy.check(filename=name, content_type=str(info.get("mimetype") or ""),
                                  size=int(info.get("size") or 0), url=url, kind=kind)
        return [Attachment(name, await self._download(url, limit, name), str(info.get("mimetype") or ""))]

    async def _message_files(self, ask: Ask) -> list[dict[str, Any]]:
        """The files of the message itself: app_mention events can leave them out."""
        if not ask.ts:
            return []
        try:
            found = await self.client.conversations_replies(channel=ask.channel, ts=ask.thread or ask.ts,
                                                            oldest=ask.ts, latest=ask.ts, inclusive=True, limit=2)
        except SlackApiError as e:  # e.g. no channels:history scope: then only the event's files count
            log.info("slack: conversations.replies failed: %s", e.response.get("error"))
            return []
        return next((m.get("files") or [] for m in found.get("messages", []) if m.get("ts") == ask.ts), [])

    async def _download(self, url: str, limit: int, name: str) -> bytes:
        headers = {"Authorization": f"Bearer {self._bot_token}"}
        # No redirects: the token must never travel to another host.
        async with self._http.get(url, headers=headers, allow_redirects=False,
                                  timeout=aiohttp.ClientTimeout(total=60)) as resp:
            # Without a valid token Slack answers 200 with its HTML sign-in page, not an error.
            if resp.status != 200 or resp.content_type == "text/html":
                raise WorldError("Slack did not let me download the file (is files:read granted?)")
            if (resp.content_length or 0) > limit:
                raise WorldError(f"{name} is too large (the limit is {kit.mib(limit)}).")
            return await kit.read_capped(resp.content.iter_chunked(64 * 1024), limit, name)
