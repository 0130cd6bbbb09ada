"""The Discord platform: slash commands and panel buttons in world threads (discord.py).

Every interaction is acknowledged first (a deferred "thinking" response) and worked on after,
so the 3-second limit holds whatever the render queue holds. The deferred response then shows
the queue position and progress (edited at most every `progress_seconds`), then a link to the
panel. Panels themselves are posted by DiscordOutlet with the bot token straight into the
thread (never as an interaction followup), so they arrive after the 15-minute interaction token
has expired and after a restart alike; the job id is the message nonce (enforce_nonce), so a
retried post never shows twice.

Config ([discord] in the TOML file; the token only from $DISCORD_TOKEN):
  guild_ids            guilds to sync the commands to at once (else global, which takes a while)
  api_base, gateway_url  any Discord-compatible server instead of discord.com
  thread_type          "public" (default) or "private" threads for /world new in a text channel
  auto_archive_minutes 60, 1440 (default), 4320 or 10080
  progress_seconds     least time between two progress edits (default 5)
  import_max_bytes     largest world file /world import downloads (default 25 MiB)
  sync_commands        false skips syncing the commands at start (default true)
  guild_ready_timeout  seconds discord.py waits for GUILD_CREATEs before "ready" (default 2)

Archived threads: a command in an archived thread reopens it when the thread is not locked (as
sending a message in it would); in a locked thread the command is refused with an explanation.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any
from urllib.parse import urlsplit

import discord
import yarl
from discord import app_commands

from bot import commands as c
from bot.app import App
from bot.context import Actor, Attachment, NewPlace, Place, RenderTicket, Reply
from bot.platforms.discord_commands import build_tree
from bot.platforms.discord_views import (
    DYNAMIC_ITEMS,
    ContinueModal,
    DiscordOutlet,
    UploadFile,
    clip,
    picker_view,
    progress_text,
)
from engine.errors import WorldError

log = logging.getLogger(__name__)

PLATFORM = "discord"
TOKEN_LIFETIME_S = 15 * 60 - 30  # stop editing the response a little before Discord forgets the token
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp"}
IMAGE_EXTENSIONS = ("png", "jpg", "jpeg", "webp")  # when Discord gives no content type
WORLD_EXTENSIONS = (".json", ".zip")
CDN_HOSTS = {"cdn.discordapp.com", "media.discordapp.net"}
# Commands that need a world bound to the thread they are typed in.
_NO_WORLD_NEEDED = (c.NewWorld, c.ImportWorld, c.Help)


def mib(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


def place_of(channel: Any, fallback_id: int | None = None) -> Place:
    """Threads are worlds: (guild, parent channel, thread). Anything else is its own thread."""
    guild = getattr(channel, "guild", None)
    workspace = str(guild.id) if guild is not None else "dm"
    if isinstance(channel, discord.Thread):
        return Place(PLATFORM, workspace, str(channel.parent_id), str(channel.id))
    cid = str(getattr(channel, "id", fallback_id))
    return Place(PLATFORM, workspace, cid, cid)


def actor_of(interaction: discord.Interaction[Any]) -> Actor:
    user = interaction.user
    # Moderators are people with Manage Threads where they typed the command (never in DMs).
    is_admin = interaction.guild_id is not None and interaction.permissions.manage_threads
    return Actor(PLATFORM, str(user.id), user.display_name or user.name, is_admin=is_admin)


class Handler:
    """Turns interactions into service calls and replies; shared by commands, buttons and modals."""

    def __init__(self, app: App, client: discord.Client, outlet: DiscordOutlet, config: dict[str, Any]) -> None:
        self.app = app
        self.service = app.service
        self.client = client
        self.outlet = outlet
        self.thread_type = (discord.ChannelType.private_thread if config.get("thread_type") == "private"
                            else discord.ChannelType.public_thread)
        self.auto_archive = int(config.get("auto_archive_minutes", 1440))
        self.progress_seconds = float(config.get("progress_seconds", 5.0))
        self.import_max_bytes = int(config.get("import_max_bytes", 25 * 1024 * 1024))
        api_host = urlsplit(str(config.get("api_base", ""))).hostname
        self.cdn_hosts = CDN_HOSTS | ({api_host} if api_host else set())
        self._tasks: set[asyncio.Task[None]] = set()  # progress followers
        self._running: set[asyncio.Task[Any]] = set()  # interactions being answered, drained on close

    @contextlib.asynccontextmanager
    async def _in_flight(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            yield
        finally:
            self._running.discard(task)  # type: ignore[arg-type]

    # ------------------------------------------------------------ the common path

    async def run(self, interaction: discord.Interaction[Any], command: c.Command, *, text: str = "",
                  attachment: discord.Attachment | None = None, kind: str = "image", ephemeral: bool = False,
                  world_id: str | None = None) -> None:
        """Defer, then execute `command` where the interaction happened, then answer and follow the render."""
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)  # first: the 3-second clock runs
        async with self._in_flight():
            await self._run(interaction, command, text, attachment, kind, ephemeral, world_id)

    async def _run(self, interaction: discord.Interaction[Any], command: c.Command, text: str,
                   attachment: discord.Attachment | None, kind: str, ephemeral: bool, world_id: str | None) -> None:
        created: list[int] = []  # the thread a new world got, if any
        try:
            reply = await self._execute(interaction, command, text, attachment, kind, world_id, created)
        except WorldError as e:
            reply = Reply(str(e), ephemeral=True, error=True)
        except Exception:
            log.exception("command %s failed", type(command).__name__)
            reply = Reply("Something went wrong on my side; please try again.",
                          ephemeral=True, error=True)
        if created and not reply.error:
            await self._welcome(created[0], reply)
            reply = Reply(f"{reply.text}\n➡️ The world lives in <#{created[0]}>.", files=reply.files,
                          world_id=reply.world_id)
        await self.answer(interaction, reply, deferred_ephemeral=ephemeral)
        if reply.ticket is not None:
            self._spawn(self._follow(interaction, reply.ticket, reply.text))

    async def _execute(self, interaction: discord.Interaction[Any], command: c.Command, text: str,
                       attachment: discord.Attachment | None, kind: str, world_id: str | None,
                       created: list[int]) -> Reply:
        channel = interaction.channel
        place = place_of(channel, interaction.channel_id)
        self.outlet.upload_limits[place.thread] = interaction.filesize_limit
        bound = await self.service.world_id_for(place)
        if world_id is not None and bound != world_id:
            return Reply("This panel belongs to a world that no longer lives in this thread.", ephemeral=True,
                         error=True)
        if bound is None and not isinstance(command, _NO_WORLD_NEEDED):
            return Reply(self._no_world_text(channel), ephemeral=True, error=True)
        if not isinstance(command, c.Help):
            refused = await self._reopen(channel)
            if refused:
                return Reply(refused, ephemeral=True, error=True)
        files = [await self.read_attachment(attachment, kind)] if attachment is not None else []
        new_place = self._new_place(interaction, command, bound, created)
        return await self.service.execute(command, actor_of(interaction), place, files, new_place=new_place,
                                          text=text)

    def _no_world_text(self, channel: Any) -> str:
        if isinstance(channel, discord.Thread):
            return ("This thread has no world yet. Start one here with /world new TITLE "
                    "(or /world import with a world file).")
        if isinstance(channel, discord.DMChannel):
            return "There is no world here yet: start one with /world new TITLE."
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

    def _new_place(self, interaction: discord.Interaction[Any], command: c.Command, bound: str | None,
                   created: list[int]) -> NewPlace | None:
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
            created.append(thread_id)
            return Place(PLATFORM, str(parent.guild.id), str(parent.id), str(thread_id))

        return make

    async def _create_thread(self, parent: discord.TextChannel | discord.ForumChannel, title: str,
                             user: discord.abc.User) -> int:
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

    async def answer(self, interaction: discord.Interaction[Any], reply: Reply, *,
                     deferred_ephemeral: bool = False) -> None:
        """Replaces the "thinking" response with the reply; an ephemeral reply to a public defer
        deletes the public response and follows up privately."""
        text, files = clip(reply.text), []
        for name, data in reply.files:
            if len(data) > interaction.filesize_limit:
                text = clip(f"{text}\n(The file {name} is {mib(len(data))}; this server takes at most "
                            f"{mib(interaction.filesize_limit)}.)")
            else:
                files.append(UploadFile(io.BytesIO(data), filename=name))
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

    async def _follow(self, interaction: discord.Interaction[Any], ticket: RenderTicket, shown: str) -> None:
        """Edits the response with the queue position and progress, then links the posted panel."""
        loop = asyncio.get_running_loop()
        expires = loop.time() + TOKEN_LIFETIME_S - (discord.utils.utcnow() - interaction.created_at).total_seconds()
        live = True
        while not ticket.done.done():
            await asyncio.wait({ticket.done}, timeout=self.progress_seconds)
            text = progress_text(ticket)
            if live and not ticket.done.done() and text != shown and loop.time() < expires:
                live = await self._edit(interaction, text)
                shown = text
        if ticket.done.cancelled():
            return
        error = ticket.done.exception()
        if error is None:
            where = ""
            if ticket.done.result() and interaction.channel_id:
                guild = interaction.guild_id or "@me"
                where = f": https://discord.com/channels/{guild}/{interaction.channel_id}/{ticket.done.result()}"
            final = f"✅ Panel {ticket.panel} is posted{where}"
        else:
            final = f"⚠️ Panel {ticket.panel} could not be drawn: {error}"
        if live and loop.time() < expires:
            await self._edit(interaction, clip(final))

    async def _edit(self, interaction: discord.Interaction[Any], text: str) -> bool:
        try:
            await interaction.edit_original_response(content=text)
            return True
        except discord.HTTPException as e:  # the token expired or the message was deleted: stop editing
            log.info("stopped editing the response to interaction %s: %s", interaction.id, e)
            return False

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("discord task failed", exc_info=task.exception())

    async def close(self, drain_seconds: float = 10.0) -> None:
        """Lets interactions being answered finish (for a while), then stops following renders."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=drain_seconds)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------ attachments

    async def read_attachment(self, att: discord.Attachment, kind: str) -> Attachment:
        """Downloads an attachment Discord gave us, after checking its type and size."""
        ctype = (att.content_type or "").split(";")[0].strip().lower()
        ext = att.filename.rsplit(".", 1)[-1].lower() if "." in att.filename else ""
        if kind == "image":
            limit = self.service.limits.image.max_bytes
            if not (ctype in IMAGE_TYPES if ctype else ext in IMAGE_EXTENSIONS):
                raise WorldError(f"{att.filename} is not an image I accept: attach a PNG, JPEG or WebP file.")
        else:
            limit = self.import_max_bytes
            if not att.filename.lower().endswith(WORLD_EXTENSIONS):
                raise WorldError(f"{att.filename} is not a world file: attach the .json or .zip from /world export.")
        if att.size > limit:
            raise WorldError(f"{att.filename} is {mib(att.size)}; the limit is {mib(limit)}.")
        if urlsplit(att.url).hostname not in self.cdn_hosts:
            raise WorldError(f"{att.filename} is not on Discord's CDN; attach the file again.")
        try:
            data = await att.read()
        except discord.HTTPException:
            raise WorldError(f"I could not download {att.filename}; please attach it again.") from None
        if len(data) > limit:
            raise WorldError(f"{att.filename} is larger than the {mib(limit)} limit.")
        return Attachment(att.filename, data, ctype)

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
        if action == "continue":  # a modal must be the first response, so it cannot wait for a defer
            await interaction.response.send_modal(ContinueModal(world_id, panel, interaction.id))
        elif action == "ref":
            await self._pick_character(interaction, world_id, panel)
        elif action == "undo":
            await self.run(interaction, c.Undo(), world_id=world_id)
        else:  # reroll, vary: a new take of this panel with a new seed
            await self.run(interaction, c.Reroll(panel=panel), text=f"/reroll {panel}", world_id=world_id)

    async def continue_from_modal(self, interaction: discord.Interaction[Any], world_id: str, text: str) -> None:
        text = text.strip()
        await self.run(interaction, c.ContinueStory(text=text), text=f"/continue {text}".strip(), world_id=world_id)

    async def _pick_character(self, interaction: discord.Interaction[Any], world_id: str, panel: int) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._in_flight():
            await self._show_picker(interaction, world_id, panel)

    async def _show_picker(self, interaction: discord.Interaction[Any], world_id: str, panel: int) -> None:
        place = place_of(interaction.channel, interaction.channel_id)
        if await self.service.world_id_for(place) != world_id:
            await self.answer(interaction, Reply("This panel belongs to a world that no longer lives here.",
                                                 ephemeral=True), deferred_ephemeral=True)
            return
        names = await self.service.character_names(place)
        if not names:
            await self.answer(interaction, Reply("This world has no characters yet: add one with /cref NAME, "
                                                 "then press the button again.", ephemeral=True),
                              deferred_ephemeral=True)
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
        await interaction.response.defer(thinking=True)
        place = place_of(interaction.channel, interaction.channel_id)
        async with self._in_flight():
            try:
                if await self.service.world_id_for(place) != world_id:
                    raise WorldError("This panel belongs to a world that no longer lives here.")
                if (refused := await self._reopen(interaction.channel)) is not None:
                    raise WorldError(refused)
                reply = await self.service.reference_from_panel(actor_of(interaction), place, panel, name)
            except WorldError as e:
                reply = Reply(str(e), ephemeral=True, error=True)
            await self.answer(interaction, reply)

    async def on_tree_error(self, interaction: discord.Interaction[Any],
                            error: app_commands.AppCommandError) -> None:
        log.error("slash command failed", exc_info=error)
        text = "Something went wrong on my side; please try again."
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about the error either", exc_info=True)


class WorldloomClient(discord.Client):
    """A discord.Client with the worldloom command tree; no privileged intents."""

    def __init__(self, platform: DiscordPlatform) -> None:
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # no voice here: no warning
        intents = discord.Intents.none()
        intents.guilds = True  # channels and threads in the cache; not privileged
        super().__init__(intents=intents, max_messages=None, chunk_guilds_at_startup=False,
                         allowed_mentions=discord.AllowedMentions.none(),
                         guild_ready_timeout=float(platform.config.get("guild_ready_timeout", 2.0)))
        self.platform = platform
        self.outlet = DiscordOutlet(self)
        self.handler = Handler(platform.app, self, self.outlet, platform.config)
        self.tree = build_tree(self, self.handler)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        if not self.platform.config.get("sync_commands", True):
            return
        guild_ids = [int(g) for g in self.platform.config.get("guild_ids", [])]
        for gid in guild_ids:  # guild commands appear at once; global ones can take an hour
            guild = discord.Object(id=gid)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        if not guild_ids:
            await self.tree.sync()


class DiscordPlatform:
    """`worldloom run`'s Discord: start() logs in, syncs, connects and recovers; close() stops it."""

    def __init__(self, app: App, config: dict[str, Any], token: str) -> None:
        self.app = app
        self.config = dict(config)
        self.token = token
        self.client: WorldloomClient | None = None
        self._runner: asyncio.Task[None] | None = None
        self._saved: tuple[str, yarl.URL] | None = None

    async def start(self) -> None:
        self._point_at_server()
        self.client = client = WorldloomClient(self)
        try:
            await client.login(self.token)
        except BaseException:
            await self.close()
            raise
        # Registered before the gateway connects, so no panel finishes without a way to be posted.
        self.app.renderings.outlets[PLATFORM] = client.outlet
        self._runner = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway")
        ready = asyncio.create_task(client.wait_until_ready())
        await asyncio.wait({self._runner, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            error = self._runner.exception() if not self._runner.cancelled() else None
            await self.close()
            raise RuntimeError(f"the Discord gateway closed before it was ready: {error!r}")
        recovered = await self.app.renderings.recover()
        log.info("discord ready as %s in %d guild(s); %d unfinished panel(s) picked up",
                 client.user, len(client.guilds), recovered)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.handler.close()  # first: panels finishing meanwhile still get posted
        if self.app.renderings.outlets.get(PLATFORM) is getattr(self.client, "outlet", None):
            self.app.renderings.outlets.pop(PLATFORM, None)
        if self.client is not None:
            await self.client.close()
        if self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    def _point_at_server(self) -> None:
        """Self-hosted or fake Discord: patch the two URLs discord.py reads (process-wide)."""
        api, gateway = self.config.get("api_base"), self.config.get("gateway_url")
        if not api and not gateway:
            return
        self._saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        if api:
            discord.http.Route.BASE = str(api).rstrip("/")
        if gateway:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(str(gateway))
