"""The Discord platform: slash commands and panel buttons in world threads (discord.py).

This module is the platform's lifecycle: the discord.Client, command sync, gateway connection
and shutdown. Interactions are answered in discord_interactions.py, slash commands are derived
from the command catalogue in discord_commands.py, buttons live in discord_views.py and panels
are posted by discord_outlet.py.

Config: [discord] in the TOML file (discord_config.py has every key and its default); the
token only from $DISCORD_TOKEN. `shards` > 1 (or "auto") runs discord.py's AutoShardedClient.
Commands go through the inbox (bot/inbox.py), which `App.serving` attaches before `start()`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import discord
import yarl

from bot.config import ConfigError
from bot.inbox import Inbox, InboxEntry
from bot.platforms import common as kit
from bot.platforms.discord_commands import build_tree
from bot.platforms.discord_config import DiscordConfig
from bot.platforms.discord_interactions import PLATFORM, Interactions
from bot.platforms.discord_outlet import DiscordOutlet
from bot.platforms.discord_views import DYNAMIC_ITEMS
from bot.service import WorldService

log = logging.getLogger(__name__)

CDN_PREFIXES = ("https://cdn.discordapp.com/", "https://media.discordapp.net/")


class _Worldloom:
    """What both clients add to discord.py: the command tree, the outlet and the buttons' actions."""

    def _wire(self, service: WorldService, config: dict[str, Any], pool: kit.TaskPool, inbox: Inbox) -> None:
        client: Any = self
        self.config = config
        self.outlet = DiscordOutlet(client)
        api_base = str(config.get("api_base", ""))
        api_root = f"{urlsplit(api_base).scheme}://{urlsplit(api_base).netloc}/" if api_base else ""
        policy = kit.AttachmentPolicy(
            image_max_bytes=service.limits.image.max_bytes,
            world_max_bytes=int(config.get("import_max_bytes", 25 * 1024 * 1024)),
            url_prefixes=CDN_PREFIXES + ((api_root,) if api_root else ()))
        # The buttons and the modal reach these through `interaction.client.actions`.
        self.actions = Interactions(service, client, pool, policy, self.outlet.upload_limits, config, inbox)
        self.tree = build_tree(client, service.catalogue, self.actions)

    async def setup_hook(self) -> None:
        client: Any = self
        client.add_dynamic_items(*DYNAMIC_ITEMS)
        if not self.config.get("sync_commands", True):
            return
        guild_ids = [int(g) for g in self.config.get("guild_ids", [])]
        for gid in guild_ids:  # guild commands appear at once; global ones can take an hour
            guild = discord.Object(id=gid)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        if not guild_ids:
            await self.tree.sync()


def _options(config: dict[str, Any]) -> dict[str, Any]:
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # no voice here: no warning
    intents = discord.Intents.none()
    intents.guilds = True  # channels and threads in the cache; not privileged
    return {"intents": intents, "max_messages": None, "chunk_guilds_at_startup": False,
            "allowed_mentions": discord.AllowedMentions.none(),
            "guild_ready_timeout": float(config.get("guild_ready_timeout", 2.0))}


class WorldloomClient(_Worldloom, discord.Client):
    """One gateway connection (`shards = 1`): a discord.Client with the worldloom commands."""

    def __init__(self, service: WorldService, config: dict[str, Any], pool: kit.TaskPool, inbox: Inbox) -> None:
        super().__init__(**_options(config))
        self._wire(service, config, pool, inbox)


class ShardedWorldloomClient(_Worldloom, discord.AutoShardedClient):
    """Many servers: discord.py's AutoShardedClient (`shards = N` or "auto", as Discord recommends)."""

    def __init__(self, service: WorldService, config: dict[str, Any], pool: kit.TaskPool, inbox: Inbox,
                 shard_count: int | None) -> None:
        super().__init__(shard_count=shard_count, **_options(config))
        self._wire(service, config, pool, inbox)
        self._identify_gap = 5.0

    async def setup_hook(self) -> None:
        # Discord allows max_concurrency IDENTIFYs per 5 seconds; discord.py waits 5 s between shards.
        limits = await self.fetch_session_start_limits()
        self._identify_gap = 5.0 / max(1, limits.max_concurrency)
        await super().setup_hook()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not initial:
            await asyncio.sleep(self._identify_gap)


def shard_count(config: dict[str, Any]) -> int | None:
    """`[discord] shards`: 1 (one connection), a number, or "auto" (None: ask Discord)."""
    value = config.get("shards", 1)
    if value == "auto":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f'[discord] shards must be 1, a number of shards or "auto", got {value!r}')
    return value


class DiscordPlatform:
    """`worldloom run`'s Discord: start() logs in, syncs and connects; close() stops it."""

    name = PLATFORM

    def __init__(self, service: WorldService, config: dict[str, Any], token: str) -> None:
        self.service = service
        self.config = DiscordConfig.from_dict(config).as_dict()  # checked, every default filled in
        self.token = token
        self.shards = shard_count(self.config)
        self.client: WorldloomClient | ShardedWorldloomClient | None = None
        self._pool = kit.TaskPool("discord")
        self._runner: asyncio.Task[None] | None = None
        self._saved: tuple[str, yarl.URL] | None = None
        self._inbox: Inbox | None = None

    def attach_inbox(self, inbox: Inbox) -> None:
        self._inbox = inbox

    async def replay(self, entry: InboxEntry) -> None:
        if self.client is None:
            raise RuntimeError("DiscordPlatform.start() has not run")
        await self.client.actions.replay(entry)

    @property
    def outlet(self) -> DiscordOutlet:
        if self.client is None:
            raise RuntimeError("DiscordPlatform.start() has not run")
        return self.client.outlet

    async def start(self) -> None:
        if self._inbox is None:
            raise RuntimeError("serve the Discord platform with App.serving, which gives it the inbox")
        self._point_at_server()
        await self._pool.start()
        client: WorldloomClient | ShardedWorldloomClient
        if self.shards == 1:
            client = WorldloomClient(self.service, self.config, self._pool, self._inbox)
        else:
            client = ShardedWorldloomClient(self.service, self.config, self._pool, self._inbox, self.shards)
        self.client = client
        try:
            await client.login(self.token)
        except BaseException:
            await self.close()
            raise
        self._runner = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway")
        ready = asyncio.create_task(client.wait_until_ready())
        await asyncio.wait({self._runner, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            error = self._runner.exception() if not self._runner.cancelled() else None
            await self.close()
            raise RuntimeError(f"the Discord gateway closed before it was ready: {error!r}")
        log.info("discord ready as %s in %d guild(s)", client.user, len(client.guilds))

    @property
    def errors(self) -> int:
        """Requests whose handling failed since the start (metrics)."""
        return self._pool.failures

    async def connected(self) -> bool:
        """For /readyz: logged in, the gateway up and ready."""
        return self.client is not None and self.client.is_ready() and not self.client.is_closed()

    async def close(self) -> None:
        await self._pool.close()  # first: interactions in hand are answered while the client still runs
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
