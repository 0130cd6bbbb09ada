"""Slack: every world is the thread of a root message, served with slack-bolt.

Slack cannot run custom slash commands inside threads (and their payload has no thread_ts), so
`/world new TITLE` in a channel posts a root message whose thread is the world. Inside it people
write `@worldloom continue she opens the door` (or start a message with the configured prefix)
and press the buttons under each panel. Socket Mode by default; HTTP mode serves bolt on aiohttp
and bolt verifies the request signatures.

Every request is acknowledged at once: listeners only ack and hand the work to a task this
platform keeps, and close() awaits those tasks. Finished panels arrive through `deliver` (the
Outlet of bot.rendering): the image goes up with files_upload_v2 into the thread, followed by a
message with the Reroll / Continue / Use as reference / Undo buttons.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass, fields
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
from bot.app import App
from bot.config import ConfigError
from bot.context import Actor, Attachment, Delivery, Place, RenderTicket, Reply
from bot.grammar import parse
from bot.images import ALLOWED_FORMATS
from bot.platforms import slack_blocks as kit
from engine.errors import WorldError

log = logging.getLogger(__name__)

PLATFORM = "slack"
_FILE_COMMANDS = (c.RegisterCharacter, c.SetStyle, c.ImportWorld)
_NEW_THREAD_COMMANDS = (c.NewWorld, c.ImportWorld, c.Help)
_MESSAGE_SUBTYPES = (None, "file_share", "thread_broadcast")  # edits, deletes and bot posts are not commands
_SEEN_MAX = 2000
_CLOSE_GRACE_S = 10.0


@dataclass(frozen=True)
class SlackConfig:
    """The [slack] section of the config file; the tokens come from the environment only."""

    enabled: bool = True
    mode: str = "socket"  # socket | http
    prefix: str = "!wl"  # thread messages starting with this act like @worldloom mentions
    command: str = "/world"  # the slash command as registered in the app manifest
    api_base: str = "https://slack.com/api/"
    files_base: str = "https://files.slack.com/"  # only files under this URL are downloaded
    host: str = "0.0.0.0"
    port: int = 3000
    path: str = "/slack/events"
    progress_seconds: float = 5.0  # least time between two edits of a queue/progress message
    import_max_bytes: int = 25 * 1024 * 1024  # largest world file `world import` downloads
    user_cache_s: float = 600.0  # how long users.info answers (names, admin) are kept

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlackConfig:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"unknown [slack] setting(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if value in ("", None):  # the example config writes "" for "use the default"
                continue
            default = getattr(cls, key)
            try:
                values[key] = value if isinstance(default, bool) else type(default)(value)
            except (TypeError, ValueError):
                raise ConfigError(f"[slack] {key} must be a {type(default).__name__}, got {value!r}") from None
        for key in ("api_base", "files_base"):
            # A trailing slash makes the URL prefix check exact (no "files.slack.com.evil.example").
            if key in values and not values[key].endswith("/"):
                values[key] += "/"
        cfg = cls(**values)
        if cfg.mode not in ("socket", "http"):
            raise ConfigError(f'[slack] mode must be "socket" or "http", got {cfg.mode!r}')
        return cfg


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

    def __init__(self, app: App, config: dict[str, Any], bot_token: str, app_token: str | None,
                 signing_secret: str | None) -> None:
        self.app = app
        self.config = SlackConfig.from_dict(config)
        if self.config.mode == "socket" and not app_token:
            raise ConfigError("[slack] mode = socket needs SLACK_APP_TOKEN (an xapp- token with connections:write)")
        if self.config.mode == "http" and not signing_secret:
            raise ConfigError("[slack] mode = http needs SLACK_SIGNING_SECRET")
        self._bot_token = bot_token
        self._app_token = app_token
        self._signing_secret = signing_secret or ""
        self.bot_user_id = ""
        self._http: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None
        self.bolt: AsyncApp | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # command work: awaited on close
        self._followers: set[asyncio.Task[None]] = set()  # progress messages: cancelled on close
        self._users: dict[str, tuple[float, asyncio.Task[Actor | None]]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()

    # ------------------------------------------------------------ lifecycle

    @property
    def client(self) -> AsyncWebClient:
        if self._client is None:
            raise RuntimeError("SlackPlatform.start() has not run")
        return self._client

    async def start(self) -> None:
        """Checks the token, registers the outlet, connects (Socket Mode or HTTP), posts what was pending."""
        # One session for the Web API, uploads and downloads: connections are reused.
        self._http = aiohttp.ClientSession()
        self._client = AsyncWebClient(token=self._bot_token, base_url=self.config.api_base, session=self._http)
        self._client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        auth = await self._client.auth_test()  # fails fast on a bad token
        self.bot_user_id = str(auth.get("user_id") or "")
        self.bolt = self._build_bolt()
        self.app.renderings.outlets[PLATFORM] = self
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
        await self.app.renderings.recover()

    @property
    def http_address(self) -> tuple[str, int]:
        """(host, port) the HTTP mode server listens on (port 0 in the config picks a free one)."""
        assert self._runner is not None, "not in HTTP mode"
        host, port = self._runner.addresses[0][:2]
        return str(host), int(port)

    async def close(self) -> None:
        """Stops taking requests, finishes the work in hand (cut off after a grace period), closes."""
        if self.app.renderings.outlets.get(PLATFORM) is self:
            # Panels finishing from now on stay "rendered" and are posted by recover() after a restart.
            del self.app.renderings.outlets[PLATFORM]
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()
        for task in self._followers:
            task.cancel()
        if self._tasks:
            _, late = await asyncio.wait(list(self._tasks), timeout=_CLOSE_GRACE_S)
            for task in late:
                task.cancel()
        for _, lookup in self._users.values():
            lookup.cancel()
        await asyncio.gather(*self._tasks, *self._followers, *(t for _, t in self._users.values()),
                             return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    async def drain(self) -> None:
        """Waits until every request in hand is answered (progress messages aside)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    def _build_bolt(self) -> AsyncApp:
        # process_before_response: bolt runs our listeners inline instead of in futures it drops;
        # they only ack and spawn a tracked task, so the answer still leaves at once.
        bolt = AsyncApp(client=self.client, signing_secret=self._signing_secret, name="worldloom",
                        process_before_response=True,
                        request_verification_enabled=self.config.mode == "http")
        bolt.command(self.config.command)(self._on_command)
        bolt.event("app_mention")(self._on_mention)
        bolt.event("message")(self._on_message)
        for action_id in kit.PANEL_ACTIONS:
            bolt.action(action_id)(self._on_action)
        bolt.view(kit.CONTINUE_VIEW)(self._on_view)
        bolt.view(kit.REFERENCE_VIEW)(self._on_view)
        return bolt

    async def _http_request(self, request: web.Request) -> web.Response:
        assert self.bolt is not None
        response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    def _spawn(self, work: Coroutine[Any, Any, None], ask: _Ask | None, *, follow: bool = False) -> None:
        tasks = self._followers if follow else self._tasks
        task = asyncio.create_task(self._guard(work, ask))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _guard(self, work: Coroutine[Any, Any, None], ask: _Ask | None) -> None:
        try:
            await work
        except Exception:
            log.exception("slack: handling a request failed")
            if ask is not None:
                try:
                    await self._tell(ask, "⚠️ Something went wrong on my side (it is logged); please try again.")
                except Exception:
                    log.exception("slack: could not report the failure either")

    # ------------------------------------------------------------ listeners: ack, then work in a task

    async def _on_command(self, ack: Any, command: dict[str, Any]) -> None:
        await ack()
        ask = _Ask(command["team_id"], command["channel_id"], command["user_id"], command.get("user_name", ""),
                   response_url=command.get("response_url"))
        # Whatever the command is called in the manifest, its text is the /world group's.
        self._spawn(self._run_line(ask, "/world " + kit.from_slack(command.get("text", ""))), ask)

    async def _on_mention(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        self._accept(event, body, kit.strip_mention(event.get("text", ""), self.bot_user_id))

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
        self._spawn(self._run_line(ask, kit.from_slack(text), event.get("files") or []), ask)

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
            command = parse(line)
        except WorldError as e:
            await self._tell(ask, str(e))
            return
        place = await self._place_for(ask, command)
        if place is None:
            return
        try:
            attachments = await self._attachments(ask, place, command, files or [])
        except WorldError as e:
            await self._tell(ask, str(e))
            return
        await self._execute(ask, place, command, line.strip(), attachments)

    async def _execute(self, ask: _Ask, place: Place, command: c.Command, text: str,
                       attachments: list[Attachment] | None = None) -> None:
        actor = await self._actor(ask)
        created: list[Place] = []
        style = command.style if isinstance(command, c.NewWorld) else ""

        async def new_root(title: str) -> Place:
            # /world new, import and branch post a root message in the channel: its thread is the world.
            text, blocks = kit.root_message(title, style, self.bot_user_id, self.config.prefix)
            try:
                posted = await self.client.chat_postMessage(channel=ask.channel, text=text, blocks=blocks)
            except SlackApiError as e:
                if e.response.get("error") in ("not_in_channel", "channel_not_found"):
                    raise WorldError("I'm not in this channel yet: invite me with `/invite @worldloom` "
                                     "and try again") from None
                raise
            created.append(Place(PLATFORM, ask.team, ask.channel, str(posted["ts"])))
            return created[-1]

        reply = await self.app.service.execute(command, actor, place, attachments or (), new_place=new_root,
                                               text=text)
        await self._answer(ask, created[-1] if created else place, reply)

    async def _run_action(self, ask: _Ask, action_id: str, panel: int, trigger_id: str) -> None:
        assert ask.thread is not None
        place = Place(PLATFORM, ask.team, ask.channel, ask.thread)
        if action_id == kit.REROLL:
            await self._execute(ask, place, c.Reroll(panel=panel), f"/reroll {panel}")
        elif action_id == kit.UNDO:
            await self._execute(ask, place, c.Undo(), "/undo")
        else:
            meta = {"team": ask.team, "channel": ask.channel, "thread": ask.thread, "panel": panel}
            if action_id == kit.CONTINUE:
                view = kit.continue_modal(meta, panel)
            else:
                names = await self.app.service.character_names(place)
                if not names:
                    await self._tell(ask, "This world has no characters yet: register one with /cref NAME first.")
                    return
                view = kit.reference_modal(meta, panel, names)
            await self.client.views_open(trigger_id=trigger_id, view=view)

    async def _run_view(self, ask: _Ask, view: dict[str, Any], panel: int) -> None:
        if view.get("callback_id") == kit.CONTINUE_VIEW:
            await self._run_line(ask, f"/continue {kit.view_value(view, 'text')}")
            return
        assert ask.thread is not None
        place = Place(PLATFORM, ask.team, ask.channel, ask.thread)
        reply = await self.app.service.reference_from_panel(await self._actor(ask), place, panel,
                                                            kit.view_value(view, "character"))
        await self._answer(ask, place, reply)

    async def _place_for(self, ask: _Ask, command: c.Command) -> Place | None:
        """The thread a command acts on; at channel level the channel's only world, if it has one."""
        if ask.thread:
            return Place(PLATFORM, ask.team, ask.channel, ask.thread)
        if isinstance(command, _NEW_THREAD_COMMANDS):
            return Place(PLATFORM, ask.team, ask.channel, "")
        threads = await self._world_threads(ask.team, ask.channel)
        if len(threads) == 1:
            return Place(PLATFORM, ask.team, ask.channel, threads[0])
        if not threads:
            await self._tell(ask, "There is no world in this channel yet: start one with `/world new TITLE`.")
        else:
            await self._tell(ask, f"This channel has {len(threads)} worlds. Slack can't run slash commands "
                                  "inside threads, so write in a world's thread instead, e.g. "
                                  f"/continue she opens the door (or start the message with `{self.config.prefix}`).")
        return None

    async def _world_threads(self, team: str, channel: str) -> list[str]:
        store = self.app.store
        finder = getattr(store, "threads_in_channel", None)
        if finder is not None:
            return [thread for thread, _ in await finder(PLATFORM, team, channel)]
        # Until the store has threads_in_channel: the query of worlds_in_channel, returning the threads.
        rows = await store._all(
            "SELECT thread FROM bindings WHERE platform=? AND workspace=? AND channel=? AND thread != ''"
            " ORDER BY created_at", (PLATFORM, team, channel))
        return [r["thread"] for r in rows]

    # ------------------------------------------------------------ answers

    async def _answer(self, ask: _Ask, place: Place, reply: Reply) -> None:
        if reply.error or reply.ephemeral:
            await self._tell(ask, reply.text)
            return
        thread = place.thread or None
        posted = await self.client.chat_postMessage(channel=place.channel, thread_ts=thread,
                                                    text=kit.to_slack(reply.text, self.bot_user_id))
        for name, data in reply.files:
            await self.client.files_upload_v2(channel=place.channel, thread_ts=thread, file=data, filename=name,
                                              title=name)
        if reply.ticket is not None:
            self._spawn(self._follow(reply.ticket, place.channel, str(posted["ts"])), None, follow=True)

    async def _tell(self, ask: _Ask, text: str) -> None:
        """An ephemeral answer where the person typed (errors, help, refusals)."""
        body = kit.to_slack(text, self.bot_user_id)
        try:
            await self.client.chat_postEphemeral(channel=ask.channel, user=ask.user, text=body, thread_ts=ask.thread)
        except SlackApiError:
            if not ask.response_url or self._http is None:
                raise
            # Not a member of the channel: a slash command's response_url still reaches the person.
            async with self._http.post(ask.response_url, json={"response_type": "ephemeral", "text": body}) as r:
                r.raise_for_status()

    async def _follow(self, ticket: RenderTicket, channel: str, ts: str) -> None:
        """Keeps one message up to date with the queue position and progress, at most once an interval."""
        last = ""
        while not ticket.done.done():
            await asyncio.wait([ticket.done], timeout=self.config.progress_seconds)
            if ticket.done.done():
                break
            text = kit.progress_text(ticket.panel, ticket.take, ticket.handle.status())
            if text != last:
                await self._edit(channel, ts, text)
                last = text
        again = f" (take {ticket.take + 1})" if ticket.take else ""
        if ticket.done.cancelled():
            final = f"Panel {ticket.panel}{again} was cancelled."
        elif (error := ticket.done.exception()) is not None:
            final = f"⚠️ Panel {ticket.panel}{again} could not be drawn: {error}"
        else:
            final = f"✅ Panel {ticket.panel}{again} is ready below."
        await self._edit(channel, ts, final)

    async def _edit(self, channel: str, ts: str, text: str) -> None:
        try:
            await self.client.chat_update(channel=channel, ts=ts, text=kit.to_slack(text))
        except SlackApiError as e:  # progress is a courtesy: never let it fail the panel
            log.warning("slack: could not update progress message %s: %s", ts, e.response.get("error"))

    # ------------------------------------------------------------ Outlet: finished panels

    async def deliver(self, d: Delivery) -> str:
        """Uploads the panel into its thread, then the message with its buttons; returns that message's ts."""
        take = f"-{d.take}" if d.take else ""
        await self.client.files_upload_v2(
            channel=d.place.channel, thread_ts=d.place.thread, file=d.png, filename=f"panel-{d.panel:03d}{take}.png",
            title=d.caption[:250], alt_txt=str(d.record.get("prompt") or d.caption)[:1000])
        posted = await self.client.chat_postMessage(channel=d.place.channel, thread_ts=d.place.thread,
                                                    text=kit.to_slack(d.caption),
                                                    blocks=kit.panel_blocks(d.panel, d.caption))
        return str(posted["ts"])

    async def failed(self, place: Place, job_id: str, panel: int, error: str) -> None:
        await self.client.chat_postMessage(channel=place.channel, thread_ts=place.thread,
                                           text=kit.to_slack(f"⚠️ Panel {panel} could not be drawn: {error}"))

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
        return Actor(PLATFORM, user_id, name, admin)

    async def _attachments(self, ask: _Ask, place: Place, command: c.Command,
                           files: list[dict[str, Any]]) -> list[Attachment]:
        """Downloads the first attached file for /cref, /sref and import, if it was shared in this thread."""
        if not isinstance(command, _FILE_COMMANDS):
            return []
        files = files or await self._message_files(ask)
        if not files:
            return []
        image = not isinstance(command, c.ImportWorld)
        if image and (not place.thread or ask.thread != place.thread):
            raise WorldError("attach the image to a message in the world's thread")
        try:
            info = (await self.client.files_info(file=str(files[0].get("id", ""))))["file"]
        except SlackApiError as e:
            raise WorldError(f"I could not read the attached file ({e.response.get('error')})") from None
        shares = info.get("shares") or {}
        # The file must be shared where the message was written (for images: the world's thread).
        here = any(s.get("thread_ts") == ask.thread
                   for kind in ("public", "private") for s in (shares.get(kind) or {}).get(ask.channel, []))
        if not here:
            raise WorldError("I only read files shared in this thread")
        url = str(info.get("url_private_download") or info.get("url_private") or "")
        if not url.startswith(self.config.files_base):
            raise WorldError("that file is not stored on Slack; attach it to your message instead")
        limit = self.app.service.limits.image.max_bytes if image else self.config.import_max_bytes
        size = int(info.get("size") or 0)
        if size > limit:
            raise WorldError(f"the file is too large ({size // 1024} KiB, max {limit // 1024} KiB)")
        if image and info.get("mimetype") not in ALLOWED_FORMATS.values():
            raise WorldError("only PNG, JPEG or WebP images are accepted")
        return [Attachment(str(info.get("name") or "file"), await self._download(url, limit),
                           str(info.get("mimetype") or ""))]

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

    async def _download(self, url: str, limit: int) -> bytes:
        assert self._http is not None
        headers = {"Authorization": f"Bearer {self._bot_token}"}
        # No redirects: the token must never travel to another host.
        async with self._http.get(url, headers=headers, allow_redirects=False,
                                  timeout=aiohttp.ClientTimeout(total=60)) as resp:
            # Without a valid token Slack answers 200 with its HTML sign-in page, not an error.
            if resp.status != 200 or resp.content_type == "text/html":
                raise WorldError("Slack did not let me download the file (is files:read granted?)")
            if (resp.content_length or 0) > limit:
                raise WorldError(f"the file is too large (max {limit // 1024} KiB)")
            data = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > limit:
                    raise WorldError(f"the file is too large (max {limit // 1024} KiB)")
        return bytes(data)
