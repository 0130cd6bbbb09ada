"""Slack: every world is the thread of a root message, served with slack-bolt.

Slack cannot run custom slash commands inside threads (and their payload has no thread_ts), so
`/world new TITLE` in a channel posts a root message whose thread is the world. Inside it people
write `@worldloom continue she opens the door` (or start a message with the configured prefix)
and press the buttons under each panel. Socket Mode by default; HTTP mode serves bolt on aiohttp
and bolt verifies the request signatures.

Every request is acknowledged at once: listeners only ack and hand the work to the adapter's
TaskPool. Panels are posted by slack_outlet.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import commands as c
from bot.config import ConfigError
from bot.context import Actor, Attachment, Place, RenderTicket, Reply
from bot.grammar import parse
from bot.platforms import common as kit
from bot.platforms import slack_blocks as blocks
from bot.platforms.slack_config import SlackConfig
from bot.platforms.slack_outlet import SlackOutlet
from bot.service import WorldService
from engine.errors import WorldError

log = logging.getLogger(__name__)

PLATFORM = "slack"
_FILE_COMMANDS = (c.RegisterCharacter, c.SetStyle, c.ImportWorld)
_MESSAGE_SUBTYPES = (None, "file_share", "thread_broadcast")  # edits, deletes and bot posts are not commands
_SEEN_MAX = 2000
UPLOAD_LIMIT = 1024**3  # files.upload: 1 GB per file


@dataclass(frozen=True)
class _Ask:
    """Who asked, where they typed, and how to answer them privately."""

    team: str
    channel: str
    user: str
    user_name: str = ""
    thread: str | None = None  # the thread typed in; None at channel level
    ts: str | None = None  # the message typed, for its files
    response_url: str | None = None  # slash commands: reaches the person even where the bot is not a member


class SlackPlatform:
    """The Slack adapter: translates Slack requests to WorldService calls and posts the answers."""

    name = PLATFORM

    def __init__(self, service: WorldService, config: dict[str, Any], bot_token: str, app_token: str | None,
                 signing_secret: str | None) -> None:
        self.service = service
        self.config = self.check(config, app_token, signing_secret)
        self._bot_token = bot_token
        self._app_token = app_token
        self._signing_secret = signing_secret or ""
        self.policy = kit.AttachmentPolicy(image_max_bytes=service.limits.image.max_bytes,
                                           world_max_bytes=self.config.import_max_bytes,
                                           url_prefixes=(self.config.files_base,))
        self.bot_user_id = ""
        self._http: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None
        self._outlet: SlackOutlet | None = None
        self.bolt: AsyncApp | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._pool = kit.TaskPool("slack")
        self._users: dict[str, tuple[float, asyncio.Task[Actor | None]]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()

    @staticmethod
    def check(config: dict[str, Any], app_token: str | None, signing_secret: str | None) -> SlackConfig:
        """The [slack] section, and the secret its mode needs; raises ConfigError."""
        cfg = SlackConfig.from_dict(config)
        if cfg.mode == "socket" and not app_token:
            raise ConfigError("[slack] mode = socket needs SLACK_APP_TOKEN (an xapp- token with connections:write)")
        if cfg.mode == "http" and not signing_secret:
            raise ConfigError("[slack] mode = http needs SLACK_SIGNING_SECRET")
        return cfg

    # ------------------------------------------------------------ lifecycle

    @property
    def client(self) -> AsyncWebClient:
        if self._client is None:
            raise RuntimeError("SlackPlatform.start() has not run")
        return self._client

    @property
    def outlet(self) -> SlackOutlet:
        if self._outlet is None:
            raise RuntimeError("SlackPlatform.start() has not run")
        return self._outlet

    async def start(self) -> None:
        """Checks the token, then connects (Socket Mode) or listens (HTTP mode)."""
        # One session for the Web API, uploads and downloads: connections are reused.
        self._http = aiohttp.ClientSession()
        self._client = AsyncWebClient(token=self._bot_token, base_url=self.config.api_base, session=self._http)
        self._client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        auth = await self._client.auth_test()  # fails fast on a bad token
        self.bot_user_id = str(auth.get("user_id") or "")
        self._outlet = SlackOutlet(self._client)
        self.bolt = self._build_bolt()
        await self._pool.start()
        if self.config.mode == "http":
            web_app = web.Application()
            web_app.router.add_post(self.config.path, self._http_request)
            self._runner = web.AppRunner(web_app, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, self.config.host, self.config.port).start()
            log.info("slack: HTTP mode on %s:%s%s", *self.http_address, self.config.path)
        else:
            self._socket = AsyncSocketModeHandler(self.bolt, self._app_token)
            await self._socket.connect_async()
            log.info("slack: Socket Mode connected as %s (team %s)", self.bot_user_id, auth.get("team_id"))

    @property
    def http_address(self) -> tuple[str, int]:
        """(host, port) the HTTP mode server listens on (port 0 in the config picks a free one)."""
        assert self._runner is not None, "not in HTTP mode"
        host, port = self._runner.addresses[0][:2]
        return str(host), int(port)

    @property
    def errors(self) -> int:
        """Requests whose handling failed since the start (metrics)."""
        return self._pool.failures

    async def connected(self) -> bool:
        """For /readyz: the Socket Mode connection is up, or the HTTP server listens."""
        if self._socket is not None:
            return bool(await self._socket.client.is_connected())
        return self._runner is not None and bool(self._runner.addresses)

    async def close(self) -> None:
        """Stops taking requests, finishes the work in hand (cut off after a grace period), closes."""
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()
        await self._pool.close()
        for _, lookup in self._users.values():
            lookup.cancel()
        await asyncio.gather(*(t for _, t in self._users.values()), return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    async def drain(self) -> None:
        """Waits until every request in hand is answered (progress messages aside)."""
        await self._pool.drain()

    def _build_bolt(self) -> AsyncApp:
        # process_before_response: bolt runs our listeners inline instead of in futures it drops;
        # they only ack and spawn a tracked task, so the answer still leaves at once.
        bolt = AsyncApp(client=self.client, signing_secret=self._signing_secret, name="worldloom",
                        process_before_response=True,
                        request_verification_enabled=self.config.mode == "http")
        bolt.command(self.config.command)(self._on_command)
        bolt.event("app_mention")(self._on_mention)
        bolt.event("message")(self._on_message)
        for action_id in blocks.PANEL_ACTIONS:
            bolt.action(action_id)(self._on_action)
        bolt.view(blocks.CONTINUE_VIEW)(self._on_view)
        bolt.view(blocks.REFERENCE_VIEW)(self._on_view)
        return bolt

    async def _http_request(self, request: web.Request) -> web.Response:
        assert self.bolt is not None
        response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    def _spawn(self, work: Any, ask: _Ask) -> None:
        self._pool.spawn(work, on_error=lambda: self._tell(ask, kit.SOMETHING_WENT_WRONG))

    # ------------------------------------------------------------ listeners: ack, then work in a task

    async def _on_command(self, ack: Any, command: dict[str, Any]) -> None:
        await ack()
        ask = _Ask(command["team_id"], command["channel_id"], command["user_id"], command.get("user_name", ""),
                   response_url=command.get("response_url"))
        # Whatever the command is called in the manifest, its text is the /world group's.
        self._spawn(self._run_line(ask, "/world " + blocks.from_slack(command.get("text", ""))), ask)

    async def _on_mention(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        self._accept(event, body, blocks.strip_mention(event.get("text", ""), self.bot_user_id))

    async def _on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        text, prefix = event.get("text") or "", self.config.prefix
        if event.get("subtype") not in _MESSAGE_SUBTYPES or event.get("bot_id"):
            return
        if text == prefix or text.startswith((prefix + " ", prefix + "\n")):
            self._accept(event, body, text[len(prefix):])

    def _accept(self, event: dict[str, Any], body: dict[str, Any], text: str) -> None:
        if not event.get("user") or not event.get("channel"):
            return
        # One message can come as app_mention and as message, and Slack retries slow events: once only.
        key = f"{event['channel']}:{event.get('ts')}"
        if key in self._seen:
            return
        self._seen[key] = None
        if len(self._seen) > _SEEN_MAX:
            self._seen.popitem(last=False)
        ask = _Ask(body.get("team_id") or event.get("team", ""), event["channel"], event["user"],
                   thread=event.get("thread_ts"), ts=event.get("ts"))
        self._spawn(self._run_line(ask, blocks.from_slack(text), event.get("files") or []), ask)

    async def _on_action(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        container, message = body.get("container") or {}, body.get("message") or {}
        team = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
        thread = container.get("thread_ts") or message.get("thread_ts")
        if not thread or not str(action.get("value", "")).isdigit():
            log.warning("slack: ignoring %s outside a world thread", action.get("action_id"))
            return
        ask = _Ask(team, channel, body["user"]["id"], body["user"].get("username", ""), thread=thread)
        self._spawn(self._run_action(ask, action["action_id"], int(action["value"]), body.get("trigger_id", "")),
                    ask)

    async def _on_view(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        await ack()  # closes the modal; the answer comes in the thread
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            team, channel, thread, panel = meta["team"], meta["channel"], meta["thread"], int(meta["panel"])
        except (ValueError, KeyError, TypeError):
            log.warning("slack: a modal came back without its thread")
            return
        ask = _Ask(team, channel, body["user"]["id"], body["user"].get("username", ""), thread=thread)
        self._spawn(self._run_view(ask, view, panel), ask)

    # ------------------------------------------------------------ the work

    async def _run_line(self, ask: _Ask, line: str, files: list[dict[str, Any]] | None = None) -> None:
        """One line of the grammar, typed in a thread, in a channel or in a modal."""
        try:
            command = parse(line, self.service.catalogue)
            place = await self._place_for(ask, command)
            if place is None:
                return
            attachments = await self._attachments(ask, place, command, files or [])
        except WorldError as e:
            await self._tell(ask, str(e))
            return
        await self._execute(ask, place, command, line.strip(), attachments)

    async def _execute(self, ask: _Ask, place: Place, command: c.Command, text: str,
                       attachments: list[Attachment] | None = None) -> None:
        created: list[Place] = []
        style = command.style if isinstance(command, c.NewWorld) else ""

        async def new_root(title: str) -> Place:
            # /world new, import and branch post a root message in the channel: its thread is the world.
            text, root = blocks.root_message(title, style, self.bot_user_id, self.config.prefix)
            try:
                posted = await self.client.chat_postMessage(channel=ask.channel, text=text, blocks=root)
            except SlackApiError as e:
                if e.response.get("error") in ("not_in_channel", "channel_not_found"):
                    raise WorldError("I'm not in this channel yet: invite me with `/invite @worldloom` "
                                     "and try again") from None
                raise
            created.append(Place(PLATFORM, ask.team, ask.channel, str(posted["ts"])))
            return created[-1]

        reply = await self.service.execute(command, await self._actor(ask), place, attachments or (),
                                           new_place=new_root, text=text)
        await self._answer(ask, created[-1] if created else place, reply)

    async def _run_action(self, ask: _Ask, action_id: str, panel: int, trigger_id: str) -> None:
        assert ask.thread is not None
        place = Place(PLATFORM, ask.team, ask.channel, ask.thread)
        action = blocks.ACTION_OF[action_id]
        if action not in (kit.CONTINUE, kit.REFERENCE):
            command, text = kit.button_command(action, panel)
            await self._execute(ask, place, command, text)
            return
        meta = {"team": ask.team, "channel": ask.channel, "thread": ask.thread, "panel": panel}
        if action == kit.CONTINUE:
            view = blocks.continue_modal(meta, panel)
        else:
            names = await self.service.character_names(place)
            if not names:
                await self._tell(ask, kit.NO_CHARACTERS)
                return
            view = blocks.reference_modal(meta, panel, names)
        await self.client.views_open(trigger_id=trigger_id, view=view)

    async def _run_view(self, ask: _Ask, view: dict[str, Any], panel: int) -> None:
        assert ask.thread is not None
        place = Place(PLATFORM, ask.team, ask.channel, ask.thread)
        try:
            if view.get("callback_id") == blocks.CONTINUE_VIEW:
                command, text = kit.button_command(kit.CONTINUE, panel, text=blocks.view_value(view, "text"))
            else:
                command, text = kit.button_command(kit.REFERENCE, panel, name=blocks.view_value(view, "character"))
        except WorldError as e:
            await self._tell(ask, str(e))
            return
        await self._execute(ask, place, command, text)

    async def _place_for(self, ask: _Ask, command: c.Command) -> Place | None:
        """The thread a command acts on; at channel level the channel's only world, if it has one."""
        if ask.thread:
            return Place(PLATFORM, ask.team, ask.channel, ask.thread)
        spec = self.service.catalogue.spec_for(type(command))
        if spec is not None and not spec.needs_world:
            return Place(PLATFORM, ask.team, ask.channel, "")
        threads = await self.service.world_threads(Place(PLATFORM, ask.team, ask.channel, ""))
        if len(threads) == 1:
            return Place(PLATFORM, ask.team, ask.channel, threads[0])
        if not threads:
            await self._tell(ask, "There is no world in this channel yet: start one with `/world new TITLE`.")
        else:
            await self._tell(ask, f"This channel has {len(threads)} worlds. Slack can't run slash commands "
                                  "inside threads, so write in a world's thread instead, e.g. "
                                  f"/continue she opens the door (or start the message with `{self.config.prefix}`).")
        return None

    # ------------------------------------------------------------ answers

    async def _answer(self, ask: _Ask, place: Place, reply: Reply) -> None:
        if reply.error or reply.ephemeral:
            await self._tell(ask, reply.text)
            return
        thread = place.thread or None
        text, files = self.policy.sendable(reply.text, reply.files, UPLOAD_LIMIT)
        posted = await self.client.chat_postMessage(channel=place.channel, thread_ts=thread,
                                                    text=blocks.to_slack(text, self.bot_user_id))
        for name, data in files:
            await self.client.files_upload_v2(channel=place.channel, thread_ts=thread, file=data, filename=name,
                                              title=name)
        if reply.ticket is not None:
            self._pool.spawn(self._follow(reply.ticket, place.channel, str(posted["ts"]), reply.text), follower=True)

    async def _tell(self, ask: _Ask, text: str) -> None:
        """An ephemeral answer where the person typed (errors, help, refusals)."""
        body = blocks.to_slack(text, self.bot_user_id)
        try:
            await self.client.chat_postEphemeral(channel=ask.channel, user=ask.user, text=body, thread_ts=ask.thread)
        except SlackApiError:
            if not ask.response_url or self._http is None:
                raise
            # Not a member of the channel: a slash command's response_url still reaches the person.
            async with self._http.post(ask.response_url, json={"response_type": "ephemeral", "text": body}) as r:
                r.raise_for_status()

    async def _follow(self, ticket: RenderTicket, channel: str, ts: str, shown: str) -> None:
        """Keeps one message up to date with the queue position and progress, then the outcome."""

        async def show(text: str) -> bool:
            try:
                await self.client.chat_update(channel=channel, ts=ts, text=blocks.to_slack(text))
            except SlackApiError as e:  # progress is a courtesy: never let it fail the panel
                log.warning("slack: could not update progress message %s: %s", ts, e.response.get("error"))
            return True

        await kit.follow_progress(ticket, show, every=self.config.progress_seconds, shown=shown,
                                  where=lambda _: " below.")

    # ------------------------------------------------------------ people and files

    async def _actor(self, ask: _Ask) -> Actor:
        """The person, with their display name and workspace admin flag from users.info (cached)."""
        now = asyncio.get_running_loop().time()
        entry = self._users.get(ask.user)
        if entry is None or entry[0] < now:
            entry = (now + self.config.user_cache_s, asyncio.create_task(self._lookup_user(ask.user)))
            self._users[ask.user] = entry
        # shield: one caller giving up must not cancel the lookup that others wait for.
        actor = await asyncio.shield(entry[1])
        return actor or Actor(PLATFORM, ask.user, ask.user_name or ask.user)

    async def _lookup_user(self, user_id: str) -> Actor | None:
        try:
            user = (await self.client.users_info(user=user_id))["user"]
        except (SlackApiError, aiohttp.ClientError) as e:
            log.warning("slack: users.info %s failed (%s); treating them as a member", user_id, e)
            self._users.pop(user_id, None)  # ask again next time
            return None
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("name") or user_id
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        return Actor(PLATFORM, user_id, name, admin, manages_server=admin)

    async def _attachments(self, ask: _Ask, place: Place, command: c.Command,
                           files: list[dict[str, Any]]) -> list[Attachment]:
        """Downloads the first attached file for /cref, /sref and import, if it was shared in this thread."""
        if not isinstance(command, _FILE_COMMANDS):
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

    async def _message_files(self, ask: _Ask) -> list[dict[str, Any]]:
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
        assert self._http is not None
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
