"""A local Discord for tests: REST API, gateway websocket and attachment CDN on 127.0.0.1.

The real discord.py client connects to it (patch `discord.http.Route.BASE` to `fake.api_base` and
`DiscordWebSocket.DEFAULT_GATEWAY` to `fake.gateway_url`). It keeps a small model of one guild
(a text channel, a forum channel, threads, messages, members; `add_second_guild()` adds another)
and records every REST request. With `shards = N` it serves N gateway shards: each IDENTIFY names
its shard, gets the guilds Discord's formula gives it, and only their events.
Each request is checked against the official OpenAPI description of the Discord HTTP API
(method, path template, path and query parameters, JSON or `payload_json` body, bot token) and
against the Discord rules the description does not carry (3-second acknowledgement, one
acknowledgement per interaction, 2000-character messages, upload limits, 15-minute tokens).
Anything wrong lands in `fake.violations`; tests assert it stays empty.

Helpers inject gateway events: `slash(...)`, `press(...)` (buttons and selects), `submit_modal(...)`,
`autocomplete(...)`; `wait_for_request(...)` and `wait_for(...)` wait with a deadline, never a sleep.

What is deliberately not modelled: RESUME after a dropped socket, voice, presences,
audit logs, per-route rate-limit headers (429s are injected on demand with `rate_limit_once`).

Companions: tests/fake_discord_spec.py (the OpenAPI check), tests/fake_discord_payloads.py (ids,
records and the objects the fake sends), tests/fake_discord_driver.py (the injecting and waiting helpers).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from tests import fake_discord_payloads as payloads
from tests.fake_discord_driver import FakeDiscordDriver
from tests.fake_discord_payloads import (
    ATTACHMENT_LIMIT,
    BOT_ID,
    FORUM_CHANNEL_ID,
    GUILD_ID,
    SECOND_CHANNEL_ID,
    SECOND_GUILD_ID,
    TEXT_CHANNEL_ID,
    FakeInteraction,
    Request,
    now_iso,
)
from tests.fake_discord_spec import openapi

ACK_DEADLINE_S = 3.0
TOKEN_LIFETIME_S = 15 * 60
PRIVILEGED_INTENTS = {1 << 1: "GUILD_MEMBERS", 1 << 8: "GUILD_PRESENCES", 1 << 15: "MESSAGE_CONTENT"}


class _RateLimit:
    def __init__(self, method: str, pattern: str, retry_after: float, is_global: bool) -> None:
        self.method, self.pattern = method, re.compile(pattern)
        self.retry_after, self.is_global = retry_after, is_global


# ---------------------------------------------------------------- the server


class FakeDiscord(FakeDiscordDriver):
    """A Discord-compatible server for one guild; `await start()`, use, `await stop()`."""

    def __init__(self, token: str = "test-bot-token", *, validate: bool = True, shards: int = 1) -> None:
        self.token = token
        self.shards = shards  # what GET /gateway/bot recommends
        self.guilds: dict[int, str] = {GUILD_ID: "Story Club"}
        self.spec = openapi() if validate else None
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self.cdn_fetches: list[str] = []
        self.cdn_fetched_at: list[float] = []  # time.monotonic() of each fetch, as Request.at
        self.nonce_window_s = 300.0  # how long Discord remembers a message nonce ("a few minutes")
        self._sent_at: dict[int, float] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.by_token: dict[str, FakeInteraction] = {}
        self.commands: dict[str, dict[str, Any]] = {}  # name -> registered command (global or guild)
        self.channels: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.cdn: dict[str, tuple[bytes, str]] = {}
        self._attachment_meta: dict[int, tuple[str, int, str | None]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.members: dict[int, dict[str, Any]] = {}
        self.identified: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._sockets: dict[web.WebSocketResponse, tuple[int, int]] = {}  # socket -> (shard, shard count)
        self._changed = asyncio.Condition()
        self._limits: list[_RateLimit] = []
        self._failures: list[tuple[str, re.Pattern[str], int, int, str]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._table = self._routes()
        self._add_world()

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/cdn/{key:.+}", self._cdn)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def config(self, **extra: Any) -> dict[str, Any]:
        """A [discord] config section pointing the bot at this server."""
        return {"api_base": self.api_base, "gateway_url": self.gateway_url, "guild_ids": list(self.guilds),
                "guild_ready_timeout": 0.05, **extra}

    # ------------------------------------------------------------ the model

    def snowflake(self) -> int:
        # Real snowflakes carry a millisecond timestamp since 2015; keep them ordered and unique.
        return ((int(time.time() * 1000) - 1420070400000) << 22) | (next(self._ids) & 0x3FFFFF)

    def _add_world(self) -> None:
        self.bot_user = payloads.user(BOT_ID, "worldloom", bot=True)
        self.users[BOT_ID] = self.bot_user
        self.channels[TEXT_CHANNEL_ID] = payloads.guild_channel(TEXT_CHANNEL_ID, 0, "stories", 1)
        self.channels[FORUM_CHANNEL_ID] = payloads.forum_channel(FORUM_CHANNEL_ID, "story-forum", 2)

    def add_second_guild(self) -> tuple[int, int]:
        """Another guild (on the other shard of two) with a text channel; returns (guild id, channel id)."""
        self.guilds[SECOND_GUILD_ID] = "Second Story Club"
        self.channels[SECOND_CHANNEL_ID] = payloads.guild_channel(SECOND_CHANNEL_ID, 0, "tales", 1, SECOND_GUILD_ID)
        return SECOND_GUILD_ID, SECOND_CHANNEL_ID

    def add_user(self, name: str, *, moderator: bool = False, admin: bool = False) -> int:
        """A guild member; moderators hold a role with Manage Threads, admins one with Manage Server.
        Returns the user id."""
        uid = 1500000000000000000 + len(self.users)
        self.users[uid] = payloads.user(uid, name)
        self.members[uid] = payloads.member(self.users[uid], moderator=moderator, admin=admin)
        return uid

    def add_channel(self, name: str, *, nsfw: bool = False) -> int:
        """Another text channel (before the bot connects: it arrives with GUILD_CREATE); nsfw marks it
        age-restricted."""
        cid = self.snowflake()
        self.channels[cid] = {**payloads.guild_channel(cid, 0, name, len(self.channels) + 1), "nsfw": nsfw}
        return cid

    def add_thread(self, name: str, *, parent: int = TEXT_CHANNEL_ID, archived: bool = False,
                   locked: bool = False, owner: int | None = None) -> int:
        """A thread that already exists (made by a person, not the bot)."""
        tid = self.snowflake()
        self.channels[tid] = payloads.thread(tid, name, parent, 11, owner or BOT_ID, archived, locked)
        return tid

    async def archive(self, thread_id: int, *, locked: bool = False) -> None:
        """Archives (and maybe locks) a thread the way Discord does: the bot hears a THREAD_UPDATE."""
        channel = self.channels[thread_id]
        channel["thread_metadata"].update(archived=True, locked=locked, archive_timestamp=now_iso())
        await self.dispatch("THREAD_UPDATE", channel)

    def threads(self, parent: int | None = None) -> list[dict[str, Any]]:
        return [c for c in self.channels.values() if c["type"] in (10, 11, 12)
                and (parent is None or c["parent_id"] == str(parent))]

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if m["channel_id"] == str(channel_id)]

    def panels(self, channel_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot posted with an image attachment (newest last)."""
        return [m for m in self.messages.values() if m["attachments"] and m["author"]["id"] == str(BOT_ID)
                and not m.get("webhook_id") and (channel_id is None or m["channel_id"] == str(channel_id))]

    def guild_payload(self, guild_id: int = GUILD_ID) -> dict[str, Any]:
        mine = [c for c in self.channels.values() if c.get("guild_id") == str(guild_id)]
        return payloads.guild(self.bot_user, list(self.members.values()), mine,
                              [c for c in self.threads() if c.get("guild_id") == str(guild_id)], guild_id,
                              self.guilds[guild_id])

    # ------------------------------------------------------------ injected failures

    def rate_limit_once(self, method: str, path_regex: str, retry_after: float = 0.05,
                        *, is_global: bool = False) -> None:
        """The next matching request gets a 429 (with a Via header, as Discord's edge sends)."""
        self._limits.append(_RateLimit(method, path_regex, retry_after, is_global))

    def fail_once(self, method: str, path_regex: str, status: int, message: str, code: int = 0) -> None:
        """The next matching request gets this error (a Discord error body with `message`)."""
        self._failures.append((method, re.compile(path_regex), status, code, message))

    def expire_token(self, ix: FakeInteraction) -> None:
        """Makes the interaction's token as dead as it is after 15 minutes."""
        ix.expired = True

    # ------------------------------------------------------------ gateway

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Sends a gateway event on the shard of its guild (DMs and guildless events: shard 0)."""
        frame = {"op": 0, "t": event, "s": next(self._seq), "d": data}
        guild = int(data.get("guild_id") or 0)
        for ws, (shard, count) in list(self._sockets.items()):
            if not ws.closed and (payloads.shard_of(guild, count) if guild else 0) == shard:
                try:
                    await ws.send_str(json.dumps(frame))
                except ConnectionError:  # the bot process was killed: the event is lost, as on Discord
                    self._sockets.pop(ws, None)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets[ws] = (0, 1)
        try:
            await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if data["op"] == 1:
                    await ws.send_str(json.dumps({"op": 11}))
                elif data["op"] == 2:
                    await self._identify(ws, data["d"])
        finally:
            self._sockets.pop(ws, None)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> None:
        self.identified.append(d)
        if d.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        for bit, name in PRIVILEGED_INTENTS.items():
            if d.get("intents", 0) & bit:
                self.violations.append(f"IDENTIFY asks for the privileged intent {name}")
        shard, count = d.get("shard") or (0, 1)
        self._sockets[ws] = (shard, count)
        mine = tuple(g for g in self.guilds if payloads.shard_of(g, count) == shard)
        ready = payloads.ready(self.bot_user, len(self.identified), self.gateway_url, mine,
                               [shard, count] if "shard" in d else None)
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._seq), "d": ready}))
        for guild_id in mine:
            await ws.send_str(json.dumps({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq),
                                          "d": self.guild_payload(guild_id)}))

    # ------------------------------------------------------------ CDN

    def _attachment(self, filename: str, data: bytes, content_type: str | None = None,
                    size: int | None = None) -> int:
        """Puts a file on the fake CDN; `size` may lie (a CDN-reported size) to test the bot's checks."""
        aid = self.snowflake()
        self.cdn[f"attachments/{aid}/{filename}"] = (data, content_type or "")
        self._attachment_meta[aid] = (filename, size if size is not None else len(data), content_type)
        return aid

    def cdn_attachment(self, aid: int) -> dict[str, Any]:
        filename, size, ctype = self._attachment_meta[aid]
        return payloads.attachment(aid, filename, size, ctype, self.port)

    async def _cdn(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        self.cdn_fetches.append(key)
        self.cdn_fetched_at.append(time.monotonic())
        if key not in self.cdn:
            return web.Response(status=404)
        data, ctype = self.cdn[key]
        return web.Response(body=data, content_type=ctype or "application/octet-stream")

    # ------------------------------------------------------------ REST

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        rec = Request(request.method, path, dict(request.query), dict(request.headers), body, files,
                      time.monotonic())
        self.requests.append(rec)
        if self.spec is not None:
            auth = request.headers.get("Authorization")
            self.violations += self.spec.check(request.method, path, rec.query, request.content_type or "",
                                               body, list(files), auth, self.token)
        try:
            response = self._limited(rec) or self._failed(rec) or await self._route(rec)
        except _Refused as e:
            response = _json(e.status, {"message": e.message, "code": e.code})
        except Exception as e:  # a bug in the fake: make it loud in the test, not a hang
            self.violations.append(f"fake server error on {rec.method} {path}: {e!r}")
            response = _json(500, {"message": repr(e), "code": 0})
        rec.status = response.status
        await self._notify()
        return response

    async def _read_body(self, request: web.Request) -> tuple[Any, dict[str, tuple[str, bytes]]]:
        files: dict[str, tuple[str, bytes]] = {}
        if not request.can_read_body:
            return None, files
        if request.content_type.startswith("multipart/"):
            body = None
            reader = await request.multipart()
            async for part in reader:
                data = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":
                    body = json.loads(data)
                else:
                    files[part.name or ""] = (part.filename or "", bytes(data))  # type: ignore[union-attr]
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            self.violations.append(f"{request.method} {request.path}: body is not JSON")
            return None, files

    def _limited(self, rec: Request) -> web.Response | None:
        for lim in self._limits:
            if lim.method == rec.method and lim.pattern.search(rec.path):
                self._limits.remove(lim)
                headers = {"Via": "1.1 google", "Retry-After": str(max(1, round(lim.retry_after))),
                           "X-RateLimit-Scope": "global" if lim.is_global else "user"}
                if lim.is_global:
                    headers["X-RateLimit-Global"] = "true"
                else:
                    headers.update({"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
                                    "X-RateLimit-Reset-After": str(lim.retry_after),
                                    "X-RateLimit-Bucket": "fake-bucket"})
                return _json(429, {"message": "You are being rate limited.", "retry_after": lim.retry_after,
                                   "global": lim.is_global}, headers)
        return None

    def _failed(self, rec: Request) -> web.Response | None:
        for failure in self._failures:
            method, pattern, status, code, message = failure
            if method == rec.method and pattern.search(rec.path):
                self._failures.remove(failure)
                return _json(status, {"message": message, "code": code})
        return None

    async def _route(self, rec: Request) -> web.Response:
        for method, rx, handler in self._table:
            if method == rec.method:
                m = rx.match(rec.path)
                if m:
                    return await handler(rec, **m.groupdict())
        self.violations.append(f"{rec.method} {rec.path}: not implemented by the fake")
        return _json(404, {"message": "404: Not Found", "code": 0})

    def _routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Any]]]:
        table: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"/users/@me", self._me),
            ("GET", r"/gateway/bot", self._gateway_bot),
            ("GET", r"/oauth2/applications/@me", self._application),
            ("PUT", r"/applications/(?P<app>\d+)/commands", self._put_commands),
            ("PUT", r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands", self._put_commands),
            ("POST", r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback", self._callback),
            ("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", self._followup),
            ("GET", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)", self._get_wh),
            ("PATCH", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)", self._edit_wh),
            ("DELETE", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)", self._del_wh),
            ("POST", r"/channels/(?P<cid>\d+)/messages", self._create_message),
            ("GET", r"/channels/(?P<cid>\d+)/messages", self._list_messages),
            ("POST", r"/channels/(?P<cid>\d+)/threads", self._create_thread),
            ("GET", r"/channels/(?P<cid>\d+)", self._get_channel),
            ("PATCH", r"/channels/(?P<cid>\d+)", self._edit_channel),
            ("PUT", r"/channels/(?P<cid>\d+)/thread-members/(?P<uid>\d+|@me)", self._no_content),
        ]
        return [(m, re.compile(f"^{rx}$"), h) for m, rx, h in table]

    async def _no_content(self, rec: Request, **_: str) -> web.Response:
        return web.Response(status=204)

    async def _gateway_bot(self, rec: Request) -> web.Response:
        # AutoShardedClient asks how many shards to run and how many may IDENTIFY at once.
        return _json(200, {"url": self.gateway_url, "shards": self.shards, "session_start_limit": {
            "total": 1000, "remaining": 1000 - len(self.identified), "reset_after": 86400000,
            "max_concurrency": 16}})

    async def _me(self, rec: Request) -> web.Response:
        if rec.headers.get("Authorization") != f"Bot {self.token}":
            raise _Refused(401, 0, "401: Unauthorized")
        return _json(200, {**self.bot_user, "verified": True, "mfa_enabled": False, "locale": "en-US"})

    async def _application(self, rec: Request) -> web.Response:
        return _json(200, payloads.application(self.bot_user))

    async def _put_commands(self, rec: Request, app: str, guild: str | None = None) -> web.Response:
        out = []
        for cmd in rec.json or []:
            stored = {**cmd, "id": str(self.snowflake()), "application_id": app, "version": str(self.snowflake()),
                      "type": cmd.get("type", 1), "default_member_permissions": cmd.get("default_member_permissions"),
                      "nsfw": cmd.get("nsfw", False), "options": cmd.get("options", [])}
            if guild:
                stored["guild_id"] = guild
            self.commands[cmd["name"]] = stored
            out.append(stored)
        return _json(200, out)

    def _ix(self, token: str) -> FakeInteraction:
        ix = self.by_token.get(token)
        if ix is None:
            raise _Refused(404, 10015, "Unknown Webhook")
        if ix.expired or time.monotonic() - ix.dispatched_at > TOKEN_LIFETIME_S:
            raise _Refused(401, 50027, "Invalid Webhook Token")
        return ix

    async def _callback(self, rec: Request, iid: str, token: str) -> web.Response:
        ix = self.interactions.get(int(iid))
        if ix is None or ix.token != token:
            raise _Refused(404, 10062, "Unknown interaction")
        if ix.callback is not None:
            self.violations.append(f"interaction {iid} acknowledged twice")
            raise _Refused(400, 40060, "Interaction has already been acknowledged.")
        late = time.monotonic() - ix.dispatched_at
        if late > ACK_DEADLINE_S:
            self.violations.append(f"interaction {iid} acknowledged after {late:.2f} s (the limit is 3 s)")
            raise _Refused(404, 10062, "Unknown interaction")
        ix.callback, ix.acked_at = rec, rec.at
        body = rec.json or {}
        ctype, data = body.get("type"), body.get("data") or {}
        interaction = {"id": iid, "type": ix.type}
        resource: dict[str, Any] = {"type": ctype}
        if ctype in (4, 5):
            ix.ephemeral = bool(data.get("flags", 0) & 64)
            flags = (64 if ix.ephemeral else 0) | (128 if ctype == 5 else 0)
            msg = self._new_message(ix.channel_id, data if ctype == 4 else {}, rec.files, flags=flags,
                                    interaction=ix)
            ix.original_id = int(msg["id"])
            resource["message"] = msg
            interaction.update(response_message_id=msg["id"], response_message_loading=ctype == 5,
                               response_message_ephemeral=ix.ephemeral)
        elif ctype in (6, 7):
            if ix.type not in (3, 5):
                self.violations.append(f"callback type {ctype} answers only components and modals")
            ix.original_id = int(ix.payload["message"]["id"]) if ix.payload.get("message") else None
            if ctype == 7 and ix.original_id:
                self._apply_edit(self.messages[ix.original_id], data, rec.files)
        elif ctype == 8:
            ix.choices = data.get("choices", [])
            if len(ix.choices) > 25:
                self.violations.append("autocomplete answered with more than 25 choices")
        elif ctype == 9:
            ix.modal = data
        return _json(200, {"interaction": interaction, "resource": resource})

    async def _followup(self, rec: Request, app: str, token: str) -> web.Response:
        ix = self._ix(token)
        if ix.callback is None:
            self.violations.append(f"followup to interaction {ix.id} before it was acknowledged")
        body = rec.json or {}
        msg = self._new_message(ix.channel_id, body, rec.files, flags=body.get("flags", 0) or 0, interaction=ix)
        ix.followups.append(int(msg["id"]))
        return _json(200, msg)

    def _wh_message(self, ix: FakeInteraction, mid: str) -> dict[str, Any]:
        target = ix.original_id if mid == "@original" else int(mid)
        msg = self.messages.get(target or 0)
        if msg is None:
            raise _Refused(404, 10008, "Unknown Message")
        return msg

    async def _get_wh(self, rec: Request, app: str, token: str, mid: str) -> web.Response:
        return _json(200, self._wh_message(self._ix(token), mid))

    async def _edit_wh(self, rec: Request, app: str, token: str, mid: str) -> web.Response:
        msg = self._wh_message(self._ix(token), mid)
        self._apply_edit(msg, rec.json or {}, rec.files)
        return _json(200, msg)

    async def _del_wh(self, rec: Request, app: str, token: str, mid: str) -> web.Response:
        msg = self._wh_message(self._ix(token), mid)
        self.messages.pop(int(msg["id"]), None)
        return web.Response(status=204)

    async def _create_message(self, rec: Request, cid: str) -> web.Response:
        channel = self._channel(int(cid))
        body = rec.json or {}
        meta = channel.get("thread_metadata")
        if meta and meta["archived"]:
            if meta["locked"]:
                raise _Refused(403, 50083, "Thread is archived")
            meta["archived"] = False  # sending into an unlocked archived thread reopens it
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            recent = time.monotonic() - self.nonce_window_s
            for m in self.channel_messages(int(cid)):
                mine = m["author"]["id"] == str(BOT_ID)
                if m.get("nonce") == nonce and mine and self._sent_at[int(m["id"])] > recent:
                    return _json(200, m)  # Discord answers a repeated nonce with the first message
        msg = self._new_message(int(cid), body, rec.files)
        return _json(200, msg)

    async def _list_messages(self, rec: Request, cid: str) -> web.Response:
        """Newest first, as Discord answers; nonces are not part of a fetched message, nor are ephemerals."""
        self._channel(int(cid))
        limit = min(100, int(rec.query.get("limit", 50)))
        found = sorted((m for m in self.channel_messages(int(cid)) if not m["flags"] & 64),
                       key=lambda m: int(m["id"]), reverse=True)
        return _json(200, [{k: v for k, v in m.items() if k != "nonce"} for m in found[:limit]])

    async def _create_thread(self, rec: Request, cid: str) -> web.Response:
        parent = self._channel(int(cid))
        body = rec.json or {}
        tid = self.snowflake()
        guild_id = int(parent["guild_id"])
        if parent["type"] == 15:
            thread = payloads.thread(tid, body["name"], int(cid), 11, BOT_ID,
                                  auto_archive=body.get("auto_archive_duration") or 1440, guild_id=guild_id)
            self.channels[tid] = thread
            first = self._new_message(tid, body.get("message") or {}, rec.files, message_id=tid)
            response = {**thread, "message": first}
        elif parent["type"] == 0:
            ttype = body.get("type") or 12  # like Discord: no type means a private thread
            thread = payloads.thread(tid, body["name"], int(cid), ttype, BOT_ID,
                                  auto_archive=body.get("auto_archive_duration") or 1440, guild_id=guild_id)
            self.channels[tid] = thread
            response = thread
        else:
            raise _Refused(400, 50024, "Cannot execute action on this channel type")
        await self.dispatch("THREAD_CREATE", {**self.channels[tid], "newly_created": True})
        return _json(201, response)

    async def _get_channel(self, rec: Request, cid: str) -> web.Response:
        return _json(200, self._channel(int(cid)))

    async def _edit_channel(self, rec: Request, cid: str) -> web.Response:
        channel = self._channel(int(cid))
        body = rec.json or {}
        meta = channel.get("thread_metadata")
        if meta is not None:
            if meta["locked"] and "archived" in body:
                raise _Refused(403, 50013, "Missing Permissions")
            for key in ("archived", "locked", "auto_archive_duration"):
                if key in body:
                    meta[key] = body[key]
        if "name" in body:
            channel["name"] = body["name"]
        await self.dispatch("THREAD_UPDATE" if meta is not None else "CHANNEL_UPDATE", channel)
        return _json(200, channel)

    def _channel(self, cid: int) -> dict[str, Any]:
        channel = self.channels.get(cid)
        if channel is None:
            raise _Refused(404, 10003, "Unknown Channel")
        return channel

    # ------------------------------------------------------------ messages

    def _new_message(self, channel_id: int, body: dict[str, Any], files: dict[str, tuple[str, bytes]], *,
                     flags: int = 0, interaction: FakeInteraction | None = None,
                     message_id: int | None = None) -> dict[str, Any]:
        self._check_content(body)
        mid = message_id or self.snowflake()
        ix_user = self.users[interaction.user_id] if interaction is not None else None
        channel = self.channels.get(channel_id)
        guild_id = int(channel["guild_id"]) if channel and channel.get("guild_id") else GUILD_ID
        msg = payloads.message(mid, channel_id, body, self.bot_user, flags, interaction, ix_user, guild_id)
        msg["attachments"] = self._attachments(body, files)
        self.messages[mid] = msg
        self._sent_at[mid] = time.monotonic()
        if channel is not None and "message_count" in channel:
            channel["message_count"] += 1
            channel["total_message_sent"] += 1
        return msg

    def _check_content(self, body: dict[str, Any]) -> None:
        content = body.get("content") or ""
        if len(content) > 2000:
            self.violations.append(f"message content has {len(content)} characters (the limit is 2000)")
            raise _Refused(400, 50035, "Invalid Form Body: content: Must be 2000 or fewer in length.")

    def _attachments(self, body: dict[str, Any], files: dict[str, tuple[str, bytes]],
                     keep: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        out = list(keep or [])
        described = {str(a.get("id")): a for a in body.get("attachments") or []}
        for name, (filename, data) in files.items():
            if len(data) > ATTACHMENT_LIMIT:
                self.violations.append(f"uploaded {filename} of {len(data)} bytes (the limit is {ATTACHMENT_LIMIT})")
                raise _Refused(413, 40005, "Request entity too large")
            index = name[len("files["):-1] if name.startswith("files[") else name
            meta = described.get(index, {})
            aid = self._attachment(meta.get("filename") or filename, data, _guess_type(filename))
            out.append({**self.cdn_attachment(aid), "ephemeral": False})
        return out

    def _apply_edit(self, msg: dict[str, Any], body: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> None:
        self._check_content(body)
        if "content" in body:
            msg["content"] = body["content"] or ""
        if "components" in body:
            msg["components"] = body["components"] or []
        if "embeds" in body:
            msg["embeds"] = body["embeds"] or []
        if "attachments" in body or files:
            kept_ids = {str(a.get("id")) for a in body.get("attachments") or []}
            keep = [a for a in msg["attachments"] if a["id"] in kept_ids]
            msg["attachments"] = self._attachments(body, files, keep)
        msg["flags"] = msg["flags"] & ~128  # an edit ends "thinking"
        msg["edited_timestamp"] = now_iso()


class _Refused(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": with a charset discord.py reads the body as text.
    return web.Response(status=status, body=json.dumps(data).encode(), headers={
        "Content-Type": "application/json", **(headers or {})})


def _guess_type(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
            "json": "application/json", "zip": "application/zip"}.get(ext, "application/octet-stream")
