"""A Discord command after a restart: what the adapter reads of its interaction, rebuilt from the inbox row.

The row keeps the interaction's id, token and application id, the channel, the author and the upload
limit. `RecoveredInteraction` offers the few attributes and methods of discord.Interaction the adapter
uses (discord_interactions.py runs it like a live one). Its answers edit the original deferred response
through the interaction's webhook while the token lives (15 minutes); after that they are posted in
the thread, mentioning the author, since the "thinking…" response can no longer be reached.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import discord

from bot.inbox import InboxEntry
from bot.platforms.discord_views import clip

log = logging.getLogger(__name__)

TOKEN_LIFETIME_S = 15 * 60 - 30  # stop using an interaction token a little before Discord forgets it
# The interaction's own response, as the webhook routes name it (discord.py formats the id into the path).
ORIGINAL: Any = "@original"


@dataclass(frozen=True)
class Person:
    """The author of a recovered command: enough to mention them and to add them to a thread."""

    id: int
    name: str

    @property
    def display_name(self) -> str:
        return self.name

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


class RecoveredInteraction:
    """An interaction acknowledged before a restart, answered through its token or in its thread."""

    def __init__(self, client: discord.Client, entry: InboxEntry, channel: Any) -> None:
        p = entry.payload
        self.client = client
        self.id = int(entry.key.removeprefix("discord:"))
        self.application_id = int(p["app"])
        self.token = entry.token or ""
        self.channel = channel
        self.channel_id = int(p["channel"])
        self.guild_id: int | None = int(p["guild"]) if p.get("guild") else None
        self.user = Person(int(entry.author_id), entry.author)
        perms = p.get("perms") or {}
        self.permissions = SimpleNamespace(manage_threads=bool(perms.get("manage_threads")),
                                           manage_guild=bool(perms.get("manage_guild")))
        self.filesize_limit = int(p.get("limit") or 10 * 1024 * 1024)
        self.created_at = discord.utils.snowflake_time(self.id)
        self.followup = SimpleNamespace(send=self._send)
        self._in_thread = False

    def token_alive(self) -> bool:
        return (discord.utils.utcnow() - self.created_at).total_seconds() < TOKEN_LIFETIME_S

    async def edit_original_response(self, *, content: str, attachments: Sequence[discord.File] = (),
                                     allowed_mentions: discord.AllowedMentions | None = None) -> None:
        if self.token_alive():
            webhook = discord.Webhook.partial(self.application_id, self.token, client=self.client)
            await webhook.edit_message(ORIGINAL, content=content, attachments=list(attachments),
                                       allowed_mentions=allowed_mentions or discord.AllowedMentions.none())
            return
        if self._in_thread:
            return  # answered in the thread once already; progress is not worth more messages
        self._in_thread = True
        channel = self.client.get_partial_messageable(self.channel_id, guild_id=self.guild_id)
        # Only the author is pinged: any other mention in the text is defused first.
        await channel.send(clip(f"{self.user.mention} {discord.utils.escape_mentions(content)}"),
                           files=list(attachments),
                           allowed_mentions=discord.AllowedMentions(users=True, everyone=False, roles=False))

    async def delete_original_response(self) -> None:
        """Kept: a recovered answer replaces the "thinking…" response in place (see `_send`)."""

    async def _send(self, content: str, *, files: Sequence[discord.File] = (), ephemeral: bool = False,
                    allowed_mentions: discord.AllowedMentions | None = None) -> None:
        # The live path deletes a public "thinking…" and follows up privately; a recovered command
        # answers where its "thinking…" is (a partial webhook cannot send ephemeral followups).
        await self.edit_original_response(content=content, attachments=files, allowed_mentions=allowed_mentions)
