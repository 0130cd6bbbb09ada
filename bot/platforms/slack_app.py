"""Slack: every world is the thread of a root message, served with slack-bolt.

Slack cannot run custom slash commands inside threads (and their payload has no thread_ts), so
`/world new TITLE` in a channel posts a root message whose thread is the world. Inside it people
write `@worldloom continue she opens the door` (or start a message with the configured prefix)
and press the buttons under each panel. Socket Mode by default; HTTP mode serves bolt on aiohttp
and bolt verifies the request signatures.

Every command is written to the inbox first (bot/inbox.py; keys and payloads in slack_inbox.py,
a message's files downloaded first), then acknowledged: listeners only store, ack and hand the work
to the adapter's TaskPool. A request Slack re-sends (X-Slack-Retry-Num) finds its row and is
acknowledged and ignored. After a restart `replay` runs a stored command again through the same
path and answers in its thread. Panels are posted by slack_outlet.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
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
from bot.inbox import Inbox, InboxEntry
from bot.platforms import common as kit
from bot.platforms import slack_blocks as blocks
from bot.platforms.slack_config import SlackConfig
from bot.platforms.slack_files import FILE_COMMANDS, SlackFiles
from bot.platforms.slack_inbox import PLATFORM, Ask, ask_of, entry_of, message_key, trigger_key
from bot.platforms.slack_outlet import SlackOutlet
from bot.service import WorldService
from engine.errors import WorldError

log = logging.getLogger(__name__)

_MESSAGE_SUBTYPES = (None, "file_share", "thread_broadcast")  # edits, deletes and bot posts are not commands
UPLOAD_LIMIT = 1024**3  # files.upload: 1 GB per file


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
        self._files: SlackFiles | None = None
        self._inbox: Inbox | None = None

    def attach_inbox(self, inbox: Inbox) -> None:
        self._inbox = inbox

    @property
    def inbox(self) -> Inbox:
        if self._inbox is None:
            raise RuntimeError("serve the Slack platform with App.serving, which gives it the inbox")
        return self._inbox

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
        if self._inbox is None:
            raise RuntimeError("serve the Slack platform with App.serving, which gives it the inbox")
        # One session for the Web API, uploads and downloads: connections are reused.
        self._http = aiohttp.ClientSession()
        self._client = AsyncWebClient(token=self._bot_token, base_url=self.config.api_base, session=self._http)
        self._client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        auth = await self._client.auth_test()  # fails fast on a bad token
        self.bot_user_id = str(auth.get("user_id") or "")
        self._outlet = SlackOutlet(self._client, self.bot_user_id)
        self._files = SlackFiles(self._client, self._http, self._bot_token, self.policy)
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
        # they only store the command, ack and spawn a tracked task, so the answer still leaves at once.
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

    # ------------------------------------------------------------ listeners: store, ack, then work in a task

    async def _on_command(self, ack: Any, command: dict[str, Any]) -> None:
        ask = Ask(command["team_id"], command["channel_id"], command["user_id"], command.get("user_name", ""),
                  response_url=command.get("response_url"))
        # Whatever the command is called in the manifest, its text is the /world group's.
        line = "/world " + blocks.from_slack(command.get("text", ""))
        await self._take(ack, entry_of(trigger_key(command.get("trigger_id")), ask, {"kind": "line", "line": line},
                                       line))

    async def _on_mention(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        await self._accept(event, body, blocks.strip_mention(event.get("text", ""), self.bot_user_id))

    async def _on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        text, prefix = event.get("text") or "", self.config.prefix
        if event.get("subtype") not in _MESSAGE_SUBTYPES or event.get("bot_id"):
            return
        if text == prefix or text.startswith((prefix + " ", prefix + "\n")):
            await self._accept(event, body, text[len(prefix):])

    async def _accept(self, event: dict[str, Any], body: dict[str, Any], text: str) -> None:
        """A message for the bot: stored (with its file) before bolt acknowledges the event on return."""
        if not event.get("user") or not event.get("channel"):
            return
        # One message can come as app_mention and as message, and Slack re-sends slow events: once only.
        key = message_key(event["channel"], event.get("ts"))
        if self.inbox.seen(key):
            return
        ask = Ask(body.get("team_id") or event.get("team", ""), event["channel"], event["user"],
                  thread=event.get("thread_ts"), ts=event.get("ts"))
        line, files = blocks.from_slack(text), event.get("files") or []
        fetched = await self._prefetch(ask, line, files)
        payload = {"kind": "line", "line": line, "files": files, "fetched": fetched is not None,
                   "event_id": body.get("event_id")}
        await self._take(None, entry_of(key, ask, payload, line, tuple(fetched or ())))

    async def _on_action(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        container, message = body.get("container") or {}, body.get("message") or {}
        team = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
        thread = container.get("thread_ts") or message.get("thread_ts")
        if not thread or not str(action.get("value", "")).isdigit():
            await ack()
            log.warning("slack: ignoring %s outside a world thread", action.get("action_id"))
            return
        ask = Ask(team, channel, body["user"]["id"], body["user"].get("username", ""), thread=thread)
        panel, what = int(action["value"]), blocks.ACTION_OF[action["action_id"]]
        if what in (kit.CONTINUE, kit.REFERENCE):  # opens a modal: the command comes with its submission
            await ack()
            self._pool.spawn(self._open_modal(ask, what, panel, body.get("trigger_id", "")),
                             on_error=lambda: self._tell(ask, kit.SOMETHING_WENT_WRONG))
            return
        text = kit.button_command(what, panel)[1]
        payload = {"kind": "action", "action": what, "panel": panel}
        await self._take(ack, entry_of(trigger_key(body.get("trigger_id")), ask, payload, text))

    async def _on_view(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            team, channel, thread, panel = meta["team"], meta["channel"], meta["thread"], int(meta["panel"])
        except (ValueError, KeyError, TypeError):
            await ack()
            log.warning("slack: a modal came back without its thread")
            return
        ask = Ask(team, channel, body["user"]["id"], body["user"].get("username", ""), thread=thread)
        if view.get("callback_id") == blocks.CONTINUE_VIEW:
            what, value = kit.CONTINUE, blocks.view_value(view, "text")
        else:
            what, value = kit.REFERENCE, blocks.view_value(view, "character")
        payload = {"kind": "view", "action": what, "panel": panel, "value": value}
        # The ack closes the modal; the answer comes in the thread.
        await self._take(ack, entry_of(trigger_key(body.get("trigger_id")), ask, payload, value))

    async def _take(self, ack: Any, entry: InboxEntry) -> None:
        """Stored first, then acknowledged (events: when the listener returns), then worked on."""
        new = await self.inbox.accept(entry)
        if ack is not None:
            await ack()
        if new:
            ask = ask_of(entry)
            self._pool.spawn(self._handle(entry), on_error=lambda: self._tell(ask, kit.SOMETHING_WENT_WRONG))

    async def _prefetch(self, ask: Ask, line: str, files: list[dict[str, Any]]) -> list[Attachment] | None:
        """A file command's attachment, downloaded before the acknowledgement (file links expire).

        None when it is not ready within `prefetch_seconds` or is refused: the command reads it again."""
        try:
            command = parse(line, self.service.catalogue)
        except WorldError:
            return None
        if not isinstance(command, FILE_COMMANDS) or self._files is None:
            return None
        try:
            async with asyncio.timeout(self.config.prefetch_seconds):
                return await self._files.attachments(ask, ask.place, command, files)
        except (WorldError, SlackApiError, aiohttp.ClientError, TimeoutError):
            return None

    # ------------------------------------------------------------ the work

    async def replay(self, entry: InboxEntry) -> None:
        """A command acknowledged before a restart: executed (unless it was) and answered in its thread."""
        try:
            await self._handle(entry)
        except Exception:
            await self._tell(ask_of(entry), kit.SOMETHING_WENT_WRONG)
            raise

    async def _handle(self, entry: InboxEntry) -> None:
        ask = ask_of(entry)
        where: list[Place] = []  # where the answer goes: the thread, or the root a new world posted

        async def execute() -> Reply:
            try:
                place, command, text, attachments = await self._read(entry, ask)
            except WorldError as e:
                return Reply(str(e), ephemeral=True, error=True)
            where.append(place)
            new_root = self.inbox.once(entry, self._new_root(ask, command))

            async def new_place(title: str) -> Place:
                where.append(await new_root(title))
                return where[-1]

            return await self.service.execute(command, await self._actor(ask), place, attachments,
                                              new_place=new_place, text=text)

        async def answer(reply: Reply) -> None:
            await self._answer(ask, where[-1] if where else (entry.made or ask.place), reply)

        await self.inbox.handle(entry, execute, answer)

    async def _read(self, entry: InboxEntry, ask: Ask) -> tuple[Place, c.Command, str, list[Attachment]]:
        """The command of a row, where it acts, how it reads, and its file."""
        p = entry.payload
        if p["kind"] == "action":
            command, text = kit.button_command(p["action"], int(p["panel"]))
            return ask.place, command, text, []
        if p["kind"] == "view":
            value = str(p.get("value") or "")
            command, text = kit.button_command(p["action"], int(p["panel"]), text=value, name=value)
            return ask.place, command, text, []
        line = str(p["line"])
        command = parse(line, self.service.catalogue)
        place = await self._place_for(ask, command)
        if p.get("fetched"):
            attachments = list(entry.files)
        else:
            assert self._files is not None
            attachments = await self._files.attachments(ask, place, command, p.get("files") or [])
        return place, command, line.strip(), attachments

    def _new_root(self, ask: Ask, command: c.Command) -> Any:
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
            return Place(PLATFORM, ask.team, ask.channel, str(posted["ts"]))

        return new_root

    async def _open_modal(self, ask: Ask, action: str, panel: int, trigger_id: str) -> None:
        assert ask.thread is not None
        meta = {"team": ask.team, "channel": ask.channel, "thread": ask.thread, "panel": panel}
        if action == kit.CONTINUE:
            view = blocks.continue_modal(meta, panel)
        else:
            names = await self.service.character_names(ask.place)
            if not names:
                await self._tell(ask, kit.NO_CHARACTERS)
                return
            view = blocks.reference_modal(meta, panel, names)
        await self.client.views_open(trigger_id=trigger_id, view=view)

    async def _place_for(self, ask: Ask, command: c.Command) -> Place:
        """The thread a command acts on; at channel level the channel's only world, if it has one."""
        if ask.thread:
            return ask.place
        spec = self.service.catalogue.spec_for(type(command))
        if spec is not None and not spec.needs_world:
            return ask.place
        threads = await self.service.world_threads(ask.place)
        if len(threads) == 1:
            return Place(PLATFORM, ask.team, ask.channel, threads[0])
        if not threads:
            raise WorldError("There is no world in this channel yet: start one with `/world new TITLE`.")
        raise WorldError(f"This channel has {len(threads)} worlds. Slack can't run slash commands "
                         "inside threads, so write in a world's thread instead, e.g. "
                         f"/continue she opens the door (or start the message with `{self.config.prefix}`).")

    # ------------------------------------------------------------ answers

    async def _answer(self, ask: Ask, place: Place, reply: Reply) -> None:
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

    async def _tell(self, ask: Ask, text: str) -> None:
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

    # ------------------------------------------------------------ people

    async def _actor(self, ask: Ask) -> Actor:
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
