"""Discord interactions in, Commands to the service, answers and progress out.

Every command is written to the inbox (bot/inbox.py: with its attachment, downloaded first), then
acknowledged (a deferred "thinking" response), then worked on in the adapter's TaskPool, so the
3-second limit holds whatever the render queue holds and nothing acknowledged is lost. The
deferred response then shows the queue position and progress (edited at most every
`progress_seconds`, until the interaction token expires), then a link to the posted panel.
After a restart, `replay` runs a stored command again through the same path (discord_inbox.py).

Archived threads: a command in an archived thread reopens it when the thread is not locked (as
sending a message in it would); in a locked thread the command is refused with an explanation.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from typing import Any

import discord
from discord import app_commands

from bot import commands as c
from bot.command_json import command_from_json, command_to_json
from bot.context import Actor, Attachment, NewPlace, Place, RenderTicket, Reply
from bot.inbox import Inbox, InboxEntry
from bot.platforms import common as kit
from bot.platforms.discord_inbox import TOKEN_LIFETIME_S, RecoveredInteraction
from bot.platforms.discord_views import ContinueModal, UploadFile, clip, picker_view
from bot.service import WorldService
from engine.errors import WorldError

log = logging.getLogger(__name__)

PLATFORM = "discord"


def place_of(channel: Any, fallback_id: int | None = None) -> Place:
    """Threads are worlds: (guild, parent channel, thread). Anything else is its own thread."""
    guild = getattr(channel, "guild", None)
    workspace = str(guild.id) if guild is not None else "dm"
    # Age-restricted: a thread whose channel is marked NSFW (or such a channel itself).
    nsfw = bool(getattr(channel, "is_nsfw", lambda: False)())
    if isinstance(channel, discord.Thread):
        return Place(PLATFORM, workspace, str(channel.parent_id), str(channel.id), age_restricted=nsfw)
    cid = str(getattr(channel, "id", fallback_id))
    return Place(PLATFORM, workspace, cid, cid, age_restricted=nsfw)


def actor_of(interaction: Any) -> Actor:
    user = interaction.user
    # Moderators are people with Manage Threads where they typed the command (never in DMs).
    is_admin = interaction.guild_id is not None and interaction.permissions.manage_threads
    # Server managers (Manage Server) run /admin and are exempt from quotas.
    manages = interaction.guild_id is not None and interaction.permissions.manage_guild
    return Actor(PLATFORM, str(user.id), user.display_name or user.name, is_admin=is_admin or manages,
                 manages_server=manages)


class Interactions:
    """Slash commands (through discord_commands.Runs), buttons and modals (discord_views.PanelActions)."""

    def __init__(self, service: WorldService, client: discord.Client, pool: kit.TaskPool,
                 policy: kit.AttachmentPolicy, upload_limits: dict[str, int], config: dict[str, Any],
                 inbox: Inbox) -> None:
        self.service = service
        self.inbox = inbox
        self.client = client
        self.pool = pool
        self.policy = policy
        self.upload_limits = upload_limits  # thread id -> what its last interaction allowed (the outlet reads it)
        self.thread_type = (discord.ChannelType.private_thread if config.get("thread_type") == "private"
                            else discord.ChannelType.public_thread)
        self.auto_archive = int(config.get("auto_archive_minutes", 1440))
        self.progress_seconds = float(config.get("progress_seconds", 5.0))
        # How long an attachment may take to download before the acknowledgement (else: after it).
        self.prefetch_seconds = float(config.get("prefetch_seconds", 1.5))

    # ------------------------------------------------------------ the common path

    async def run(self, interaction: discord.Interaction[Any], command: c.Command, *, text: str = "",
                  attachment: discord.Attachment | None = None, kind: str = "image", ephemeral: bool = False,
                  world_id: str | None = None) -> None:
        """Store in the inbox, defer, then execute `command` where the interaction happened, answer, follow."""
        entry = await self._entry(interaction, command, text, attachment, kind, ephemeral, world_id)
        if not await self.inbox.accept(entry):
            return  # delivered twice: acknowledged the first time
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)  # the 3-second clock runs
        self.pool.spawn(self._run(interaction, entry, attachment),
                        on_error=lambda: self.answer(interaction, Reply(kit.SOMETHING_WENT_WRONG, ephemeral=True)))

    async def replay(self, entry: InboxEntry) -> None:
        """A command acknowledged before a restart: executed (unless it was) and answered."""
        cid = int(entry.payload["channel"])
        channel = self.client.get_channel(cid) or await self.client.fetch_channel(cid)
        asked = RecoveredInteraction(self.client, entry, channel)
        try:
            await self._run(asked, entry, None)
        except Exception:
            await self.answer(asked, Reply(kit.SOMETHING_WENT_WRONG, ephemeral=True))
            raise

    async def _entry(self, interaction: discord.Interaction[Any], command: c.Command, text: str,
                     attachment: discord.Attachment | None, kind: str, ephemeral: bool,
                     world_id: str | None) -> InboxEntry:
        files: tuple[Attachment, ...] = ()
        if attachment is not None:
            try:  # platform file links expire: keep the bytes with the command when they come quickly
                async with asyncio.timeout(self.prefetch_seconds):
                    files = (await self.read_attachment(attachment, kind),)
            except (WorldError, TimeoutError):
                pass  # read (and explained) again when the command runs
        actor = actor_of(interaction)
        payload = {"command": command_to_json(command), "kind": kind, "ephemeral": ephemeral, "world_id": world_id,
                   "app": interaction.application_id, "channel": interaction.channel_id,
                   "guild": interaction.guild_id, "limit": interaction.filesize_limit,
                   "perms": {"manage_threads": bool(interaction.permissions.manage_threads),
                             "manage_guild": bool(interaction.permissions.manage_guild)},
                   "file": None if attachment is None or files else {
                       "filename": attachment.filename, "content_type": attachment.content_type or "",
                       "size": attachment.size, "url": attachment.url}}
        return InboxEntry.new(f"discord:{interaction.id}", place_of(interaction.channel, interaction.channel_id),
                              actor.id, actor.name, text, payload, token=interaction.token, files=files)

    async def _run(self, interaction: Any, entry: InboxEntry, attachment: discord.Attachment | None) -> None:
        ephemeral = bool(entry.payload.get("ephemeral"))
        created: list[int] = []  # the thread a new world got, if any

        async def execute() -> Reply:
            try:
                return await self._execute(interaction, entry, attachment, created)
            except WorldError as e:
                return Reply(str(e), ephemeral=True, error=True)

        async def answer(reply: Reply) -> None:
            if created and not reply.error:
                await self._welcome(created[0], reply)
            thread = created[0] if created else (int(entry.made.thread) if entry.made else None)
            if thread is not None and not reply.error:
                reply = Reply(f"{reply.text}\n➡️ The world lives in <#{thread}>.", files=reply.files,
                              world_id=reply.world_id, ticket=reply.ticket)
            await self.answer(interaction, reply, deferred_ephemeral=ephemeral)
            if reply.ticket is not None:
                self.pool.spawn(self._follow(interaction, reply.ticket, reply.text), follower=True)

        await self.inbox.handle(entry, execute, answer)

    async def _execute(self, interaction: Any, entry: InboxEntry, attachment: discord.Attachment | None,
                       created: list[int]) -> Reply:
        command, world_id = command_from_json(entry.payload["command"]), entry.payload.get("world_id")
        channel = interaction.channel
        place = place_of(channel, interaction.channel_id)
        self.upload_limits[place.thread] = interaction.filesize_limit
        bound = await self.service.world_id_for(place)
        if world_id is not None and bound != world_id:
            return Reply(kit.NOT_THIS_WORLD, ephemeral=True, error=True)
        spec = self.service.catalogue.spec_for(type(command))
        if bound is None and (spec is None or spec.needs_world):
            return Reply(self._no_world_text(channel), ephemeral=True, error=True)
        if not isinstance(command, c.Help):
            refused = await self._reopen(channel)
            if refused:
                return Reply(refused, ephemeral=True, error=True)
        files = list(entry.files) or await self._download(entry, attachment)
        make = self._new_place(interaction, command, bound)
        new_place: NewPlace | None = None
        if make is not None:
            once = self.inbox.once(entry, make)

            async def new_place(title: str) -> Place:
                place = await once(title)
                created.append(int(place.thread))
                return place

        return await self.service.execute(command, actor_of(interaction), place, files, new_place=new_place,
                                          text=entry.text)

    async def _download(self, entry: InboxEntry, attachment: discord.Attachment | None) -> list[Attachment]:
        """The command's file when it was not downloaded before the acknowledgement."""
        kind = str(entry.payload.get("kind") or "image")
        if attachment is not None:
            return [await self.read_attachment(attachment, kind)]
        meta = entry.payload.get("file")
        if not meta:
            return []
        limit = self.policy.check(filename=meta["filename"], content_type=meta["content_type"], size=meta["size"],
                                  url=meta["url"], kind=kind)
        try:
            data = await self.client.http.get_from_cdn(meta["url"])
        except discord.HTTPException:
            raise WorldError(f"I could not download {meta['filename']}; please attach it again.") from None
        if len(data) > limit:
            raise WorldError(f"{meta['filename']} is too large (the limit is {kit.mib(limit)}).")
        return [Attachment(meta["filename"], data, meta["content_type"].split(";")[0].strip().lower())]

    def _no_world_text(self, channel: Any) -> str:
        if isinstance(channel, discord.Thread):
            return kit.NO_WORLD_IN_THREAD
        if isinstance(channel, discord.DMChannel):
            return kit.NO_WORLD_HERE
        return ("Worlds live in threads. Run /world new TITLE here to start one in a new thread, "
                "or type this command inside a world's thread.")

    async def _reopen(self, channel: Any) -> str | None:
        """None when the channel takes commands; an archived, unlocked thread is reopened first."""
        if not isinstance(channel, discord.Thread) or not channel.archived:
            return None
        if channel.locked:
            return "This world's thread is archived and locked; a moderator can reopen it."
        try:
            await channel.edit(archived=False)
        except discord.HTTPException:
            return "This thread is archived and I can't reopen it: send a message in it, then try again."
        return None

    def _new_place(self, interaction: Any, command: c.Command, bound: str | None) -> NewPlace | None:
        """How a new world gets its thread; None when it takes the thread the command was typed in."""
        channel = interaction.channel
        if not isinstance(command, (c.NewWorld, c.ImportWorld, c.BranchWorld)):
            return None
        if isinstance(channel, discord.Thread):
            if isinstance(command, c.ImportWorld) or (bound is None and isinstance(command, c.NewWorld)):
                # A thread without a world (say a forum post someone made) becomes the world; an import
                # into a world's thread replaces it (the service lets only moderators do that).
                return None
            parent = channel.parent
        elif isinstance(channel, (discord.TextChannel, discord.ForumChannel)):
            parent = channel
        else:
            return None  # DMs and other channels: the channel itself is the world
        if parent is None:
            raise WorldError("I can't see this thread's channel; check that I have View Channel there.")

        async def make(title: str) -> Place:
            thread_id = await self._create_thread(parent, title, interaction.user)
            return Place(PLATFORM, str(parent.guild.id), str(parent.id), str(thread_id),
                         age_restricted=parent.is_nsfw())

        return make

    async def _create_thread(self, parent: discord.TextChannel | discord.ForumChannel, title: str,
                             user: Any) -> int:
        """A thread (text channel) or a post (forum channel) for a new world; returns its id."""
        name = clip(title.strip() or "Untitled world", 100)
        try:
            if isinstance(parent, discord.ForumChannel):
                # discord.py's ForumChannel.create_thread adds an undocumented query parameter
                # (use_nested_fields); the documented request is this one.
                first = f"🌍 **{name}**, a worldloom world started by {user.display_name}."
                route = discord.http.Route("POST", "/channels/{channel_id}/threads", channel_id=parent.id)
                data = await self.client.http.request(route, json={
                    "name": name, "auto_archive_duration": self.auto_archive,
                    "message": {"content": first, "allowed_mentions": {"parse": []}}})
                return int(data["id"])
            thread = await parent.create_thread(name=name, type=self.thread_type,
                                                auto_archive_duration=self.auto_archive)
            if self.thread_type is discord.ChannelType.private_thread:
                await thread.add_user(user)
            return thread.id
        except discord.Forbidden:
            raise WorldError(f"I can't create threads in #{parent.name}: give me Create Public Threads and "
                             "Send Messages in Threads there.") from None
        except discord.HTTPException as e:
            raise WorldError(f"Discord refused to create the thread: {e.text or e.status}") from None

    async def _welcome(self, thread_id: int, reply: Reply) -> None:
        try:
            await self.client.get_partial_messageable(thread_id).send(
                clip(reply.text), allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException:
            log.warning("could not post the welcome message into thread %s", thread_id)

    # ------------------------------------------------------------ answers and progress

    async def answer(self, interaction: Any, reply: Reply, *,
                     deferred_ephemeral: bool = False) -> None:
        """Replaces the "thinking" response with the reply; an ephemeral reply to a public defer
        deletes the public response and follows up privately."""
        text, fit = self.policy.sendable(reply.text, reply.files, interaction.filesize_limit)
        text, files = clip(text), [UploadFile(io.BytesIO(data), filename=name) for name, data in fit]
        quiet = discord.AllowedMentions.none()
        try:
            if reply.ephemeral and not deferred_ephemeral:
                with contextlib.suppress(discord.HTTPException):  # a leftover "thinking" is no reason to stay silent
                    await interaction.delete_original_response()
                await interaction.followup.send(text, files=files, ephemeral=True, allowed_mentions=quiet)
            else:
                await interaction.edit_original_response(content=text, attachments=files, allowed_mentions=quiet)
        except discord.HTTPException:
            log.warning("could not answer interaction %s", interaction.id, exc_info=True)

    async def _follow(self, interaction: Any, ticket: RenderTicket, shown: str) -> None:
        """Edits the response with the queue position and progress, then links the posted panel."""
        age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
        expires = self.client.loop.time() + TOKEN_LIFETIME_S - age

        async def show(text: str) -> bool:
            if self.client.loop.time() >= expires:
                return False
            try:
                await interaction.edit_original_response(content=clip(text))
                return True
            except discord.HTTPException as e:  # the token expired or the message was deleted: stop editing
                log.info("stopped editing the response to interaction %s: %s", interaction.id, e)
                return False

        def where(t: RenderTicket) -> str:
            message = t.done.result()
            if not message or not interaction.channel_id:
                return ""
            return f": https://discord.com/channels/{interaction.guild_id or '@me'}/{interaction.channel_id}/{message}"

        await kit.follow_progress(ticket, show, every=self.progress_seconds, shown=shown, where=where)

    # ------------------------------------------------------------ attachments

    async def read_attachment(self, att: discord.Attachment, kind: str) -> Attachment:
        """Downloads an attachment Discord gave us, after checking its type, size and host."""
        limit = self.policy.check(filename=att.filename, content_type=att.content_type or "", size=att.size,
                                  url=att.url, kind=kind)
        try:
            data = await att.read()
        except discord.HTTPException:
            raise WorldError(f"I could not download {att.filename}; please attach it again.") from None
        if len(data) > limit:
            raise WorldError(f"{att.filename} is too large (the limit is {kit.mib(limit)}).")
        return Attachment(att.filename, data, (att.content_type or "").split(";")[0].strip().lower())

    # ------------------------------------------------------------ autocomplete, buttons, modals

    async def complete(self, interaction: discord.Interaction[Any], current: str,
                       what: str) -> list[app_commands.Choice[str]]:
        place = place_of(interaction.channel, interaction.channel_id)
        names = await (self.service.character_names(place) if what == "characters"
                       else self.service.location_names(place))
        key = current.casefold().strip()
        hits = [n for n in names if key in n.casefold()]
        hits.sort(key=lambda n: (not n.casefold().startswith(key), n.casefold()))
        return [app_commands.Choice(name=n[:100], value=n[:100]) for n in hits[:25]]

    async def panel_button(self, interaction: discord.Interaction[Any], action: str, world_id: str,
                           panel: int) -> None:
        if action == kit.CONTINUE:  # a modal must be the first response, so it cannot wait for a defer
            await interaction.response.send_modal(ContinueModal(world_id, panel, interaction.id))
        elif action == kit.REFERENCE:
            await interaction.response.defer(ephemeral=True, thinking=True)
            self.pool.spawn(self._show_picker(interaction, world_id, panel))
        else:
            command, text = kit.button_command(action, panel)
            await self.run(interaction, command, text=text, world_id=world_id)

    async def continue_from_modal(self, interaction: discord.Interaction[Any], world_id: str, panel: int,
                                  text: str) -> None:
        try:
            command, line = kit.button_command(kit.CONTINUE, panel, text=text)
        except WorldError as e:
            await interaction.response.send_message(clip(str(e)), ephemeral=True)
            return
        await self.run(interaction, command, text=line, world_id=world_id)

    async def _show_picker(self, interaction: discord.Interaction[Any], world_id: str, panel: int) -> None:
        place = place_of(interaction.channel, interaction.channel_id)
        if await self.service.world_id_for(place) != world_id:
            await self.answer(interaction, Reply(kit.NOT_THIS_WORLD, ephemeral=True), deferred_ephemeral=True)
            return
        names = await self.service.character_names(place)
        if not names:
            await self.answer(interaction, Reply(kit.NO_CHARACTERS, ephemeral=True), deferred_ephemeral=True)
            return
        more = f" (the first 25 of {len(names)})" if len(names) > 25 else ""
        try:
            await interaction.edit_original_response(
                content=f"Which character should panel {panel} stand for{more}?",
                view=picker_view(world_id, panel, names))
        except discord.HTTPException:
            log.warning("could not show the character picker", exc_info=True)

    async def use_as_reference(self, interaction: discord.Interaction[Any], world_id: str, panel: int,
                               name: str) -> None:
        command, text = kit.button_command(kit.REFERENCE, panel, name=name)
        await self.run(interaction, command, text=text, world_id=world_id)

    async def on_tree_error(self, interaction: discord.Interaction[Any],
                            error: app_commands.AppCommandError) -> None:
        log.error("slash command failed", exc_info=error)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(kit.SOMETHING_WENT_WRONG, ephemeral=True)
            else:
                await interaction.response.send_message(kit.SOMETHING_WENT_WRONG, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about the error either", exc_info=True)
