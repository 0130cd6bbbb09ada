"""A local Slack for tests: the Web API, the file host and Socket Mode on 127.0.0.1 (aiohttp).

FakeSlack answers the Web API methods worldloom uses, keeps channels, threads, files and users in
memory and records every call. Each call's arguments are checked (tests/fake_slack_spec.py: Slack's
OpenAPI description, the upload v2 methods and the Block Kit limits); a call that breaks the rules
gets `invalid_arguments` and lands in `violations`: tests assert that list is empty.

Slack's own behaviour that bit real bots is reproduced: arguments arrive as query, form or JSON
(slack_sdk mixes them), thread_ts must be a root message of the channel, a bot that is not in a
channel gets not_in_channel, and a file download without the bot token answers 200 with an HTML
sign-in page. Socket Mode: apps.connections.open hands out a ws:// URL on the same server,
`push()` sends an envelope and `ack()` waits for the client's answer and how long it took.

The payloads Slack sends (event_callback, slash command, block_actions, view_submission) come from
the builders in tests/fake_slack_payloads.py, as do `http_body` and `signed_headers` for HTTP mode.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tests.fake_slack_payloads import SlackPayloads
from tests.fake_slack_spec import TS, SpecChecker, check_call, json_arg, load_spec

# ---------------------------------------------------------------- the server


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    error: str | None = None  # the error Slack answered, None when ok


@dataclass
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None
    seconds: float  # from push to the client's ack


@dataclass
class FakeFile:
    id: str
    name: str
    mimetype: str
    user: str
    size: int
    data: bytes | None = None  # None until uploaded
    title: str = ""
    url_private: str = ""
    shares: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=lambda: {"public": {}})

    def obj(self) -> dict[str, Any]:
        return {"id": self.id, "created": int(time.time()), "timestamp": int(time.time()), "name": self.name,
                "title": self.title or self.name, "mimetype": self.mimetype,
                "filetype": self.name.rsplit(".", 1)[-1].lower(), "user": self.user, "size": self.size,
                "url_private": self.url_private, "url_private_download": self.url_private,
                "is_public": True, "shares": self.shares,
                "channels": sorted(self.shares.get("public", {})), "groups": [], "ims": []}


SIGN_IN_PAGE = b"<!DOCTYPE html><html><body>Sign in to Slack</body></html>"


class FakeSlack(SlackPayloads):
    """Slack on 127.0.0.1: `async with FakeSlack() as slack:` then point the bot at slack.api_url."""

    def __init__(self, *, team_id: str = "T0WORLD", bot_user_id: str = "UBOT", bot_id: str = "BBOT",
                 app_id: str = "A0WORLD", bot_token: str = "xoxb-fake-bot", app_token: str = "xapp-fake-app") -> None:
        self.team_id, self.bot_user_id, self.bot_id, self.app_id = team_id, bot_user_id, bot_id, app_id
        self.bot_token, self.app_token = bot_token, app_token
        self.checker = SpecChecker(load_spec())
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.files: dict[str, FakeFile] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.responses: list[dict[str, Any]] = []  # what was posted to response_urls
        self.downloads: list[tuple[str, bool]] = []  # (file id, came with the bot token)
        self.acks: dict[str, Ack] = {}
        self.outside: set[str] = set()  # channels the bot is not a member of
        self._fail: dict[str, str] = {}
        self._n = 0
        self._epoch = int(time.time())
        self._pushed: dict[str, float] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self._changed: asyncio.Condition | None = None
        self.url = ""

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeSlack:
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files/{file_id}/{name}", self._download)
        app.router.add_post("/response/{n}", self._response)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    @property
    def files_url(self) -> str:
        return self.url + "/files/"

    # ------------------------------------------------------------ waiting and reading

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], Any], seconds: float = 10.0, what: str = "") -> None:
        """Waits until predicate() is true; re-checked after every call the fake receives."""
        assert self._changed is not None
        try:
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(predicate)
        except TimeoutError:
            seen = [f"{c.method}{'!' + c.error if c.error else ''}" for c in self.calls]
            raise AssertionError(f"timed out waiting for {what or predicate}; calls: {seen}") from None

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.error is None]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The root message and its replies, oldest first."""
        return [m for m in self.messages.get(channel, []) if m["ts"] == ts or m.get("thread_ts") == ts]

    def roots(self, channel: str) -> list[dict[str, Any]]:
        return [m for m in self.messages.get(channel, []) if m.get("thread_ts") in (None, m["ts"])]

    def bot_replies(self, channel: str, ts: str) -> list[dict[str, Any]]:
        return [m for m in self.thread(channel, ts) if m.get("bot_id") and m["ts"] != ts]

    def fail_next(self, method: str, error: str) -> None:
        """The next call of `method` answers {"ok": false, "error": error}."""
        self._fail[method] = error

    # ------------------------------------------------------------ state the tests set up

    def _ts(self) -> str:
        self._n += 1
        return f"{self._epoch}.{self._n:06d}"

    def add_user(self, user_id: str, name: str, *, admin: bool = False, owner: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id, "team_id": self.team_id, "name": name.lower(), "real_name": name, "deleted": False,
            "is_admin": admin, "is_owner": owner, "is_primary_owner": False, "is_bot": False,
            "profile": {"display_name": name, "real_name": name},
        }

    def add_file(self, data: bytes, name: str = "ref.png", mimetype: str = "image/png", *, channel: str,
                 thread_ts: str | None = None, user: str = "UADA", url_private: str | None = None) -> dict[str, Any]:
        """A file a person uploaded, shared in channel (thread_ts: in that thread); returns its event form."""
        file_id = f"F{len(self.files) + 1:08d}"
        f = FakeFile(file_id, name, mimetype, user, len(data), data)
        f.url_private = url_private or f"{self.files_url}{file_id}/{name}"
        share: dict[str, Any] = {"ts": self._ts(), "channel_name": "general", "team_id": self.team_id,
                                 "share_user_id": user}
        if thread_ts:
            share["thread_ts"] = thread_ts
        f.shares["public"].setdefault(channel, []).append(share)
        self.files[file_id] = f
        return f.obj()

    def _store(self, channel: str, message: dict[str, Any]) -> dict[str, Any]:
        message = {"type": "message", "channel": channel, **message}
        self.messages.setdefault(channel, []).append(message)
        root = message.get("thread_ts")
        if root and root != message["ts"]:
            for m in self.messages[channel]:
                if m["ts"] == root:
                    m["thread_ts"] = root
                    m["reply_count"] = m.get("reply_count", 0) + 1
        return message

    def _is_root(self, channel: str, ts: str) -> bool:
        return any(m["ts"] == ts and m.get("thread_ts") in (None, ts) for m in self.messages.get(channel, []))

    # ------------------------------------------------------------ Socket Mode

    async def push(self, kind: str, payload: dict[str, Any], seconds: float = 10.0, retry: int = 0) -> str:
        """Sends an envelope (events_api, slash_commands, interactive) to the connected client;
        `retry` > 0 re-sends an event the way Slack does when it saw no ack in time."""
        await self.wait_for(lambda: self._sockets, seconds, "a Socket Mode connection")
        self._n += 1
        envelope_id = f"env-{self._n}"
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                                    "accepts_response_payload": kind != "events_api"}
        if kind == "events_api":
            envelope.update(retry_attempt=retry, retry_reason="timeout" if retry else "")
        self._pushed[envelope_id] = asyncio.get_running_loop().time()
        await self._sockets[-1].send_json(envelope)
        return envelope_id

    async def ack(self, envelope_id: str, seconds: float = 10.0) -> Ack:
        await self.wait_for(lambda: envelope_id in self.acks, seconds, f"the ack of {envelope_id}")
        return self.acks[envelope_id]

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()  # autoping: answers the client's pings
        await ws.prepare(request)
        if not request.query.get("ticket", "").startswith("ok-"):
            await ws.close(message=b"invalid ticket")
            return ws
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake-slack"},
                            "connection_info": {"app_id": self.app_id}})
        self._sockets.append(ws)
        await self._notify()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                envelope_id = data.get("envelope_id")
                if envelope_id not in self._pushed:
                    self.violations.append(f"socket: ack for unknown envelope {envelope_id!r}")
                else:
                    seconds = asyncio.get_running_loop().time() - self._pushed[envelope_id]
                    self.acks[envelope_id] = Ack(envelope_id, data.get("payload"), seconds)
                await self._notify()
        finally:
            self._sockets.remove(ws)
        return ws

    # ------------------------------------------------------------ the Web API

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    args.update(body)
            else:  # x-www-form-urlencoded (multipart is not used by these methods)
                args.update(parse_qsl((await request.read()).decode(), keep_blank_values=True))
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.pop("token", None)
        args.pop("token", None)
        want = self.app_token if method == "apps.connections.open" else self.bot_token
        if token is None:
            result: dict[str, Any] = {"ok": False, "error": "not_authed"}
        elif token != want:
            result = {"ok": False, "error": "invalid_auth"}
        elif method in self._fail:
            result = {"ok": False, "error": self._fail.pop(method)}
        else:
            problems = self._check(method, args, bool(token))
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            if problems:
                self.violations.extend(problems)
                result = {"ok": False, "error": "invalid_arguments",
                          "response_metadata": {"messages": problems}}
            elif handler is None:
                self.violations.append(f"{method}: not implemented by the fake")
                result = {"ok": False, "error": "unknown_method"}
            else:
                result = handler(args)
        self.calls.append(Call(method, args, None if result.get("ok") else result.get("error")))
        await self._notify()
        return web.json_response(result)

    def _check(self, method: str, args: dict[str, Any], has_token: bool) -> list[str]:
        problems = check_call(self.checker, method, args, has_token)
        channel, thread = args.get("channel") or args.get("channel_id"), str(args.get("thread_ts") or "")
        if channel and TS.match(thread) and not self._is_root(channel, thread):
            problems.append(f"{method}: thread_ts {thread} is not a root message of {channel}")
        return problems

    def _bot_message(self, channel: str, args: dict[str, Any], **extra: Any) -> dict[str, Any]:
        message = {"user": self.bot_user_id, "bot_id": self.bot_id, "ts": self._ts(), "team": self.team_id,
                   "text": args.get("text", ""), **extra}
        if args.get("blocks"):
            message["blocks"] = json_arg(args["blocks"])
        if args.get("metadata"):
            message["metadata"] = json_arg(args["metadata"])
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        return self._store(channel, message)

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://worldloom.slack.com/", "team": "worldloom", "user": "worldloom",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id,
                "is_enterprise_install": False}

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self._n += 1
        return {"ok": True, "url": f"ws{self.url.removeprefix('http')}/socket?ticket=ok-{self._n}"}

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args["channel"]
        if channel in self.outside:
            return {"ok": False, "error": "not_in_channel"}
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return {"ok": False, "error": "no_text"}
        message = self._bot_message(channel, args)
        return {"ok": True, "channel": channel, "ts": message["ts"],
                "message": {k: v for k, v in message.items() if k != "channel"}}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args["channel"], args["ts"]
        found = [m for m in self.messages.get(channel, []) if m["ts"] == ts]
        if not found:
            return {"ok": False, "error": "message_not_found"}
        if found[0].get("bot_id") != self.bot_id:
            return {"ok": False, "error": "cant_update_message"}
        found[0]["text"] = args.get("text", found[0]["text"])
        found[0]["edited"] = {"user": self.bot_user_id, "ts": self._ts()}
        if "blocks" in args:
            found[0]["blocks"] = json_arg(args["blocks"])
        return {"ok": True, "channel": channel, "ts": ts, "text": found[0]["text"]}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if args["channel"] in self.outside:
            return {"ok": False, "error": "not_in_channel"}
        self.ephemerals.append(dict(args))
        return {"ok": True, "message_ts": self._ts()}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not str(args.get("trigger_id", "")).startswith("trigger."):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = {**json_arg(args["view"]), "id": f"V{len(self.views) + 1:08d}"}
        self.views.append(view)
        return {"ok": True, "view": view}

    def _m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        messages = self.thread(args.get("channel", ""), str(args.get("ts", "")))
        if not messages:
            return {"ok": False, "error": "thread_not_found"}
        for bound, keep in (("oldest", lambda m, t: float(m["ts"]) >= t), ("latest", lambda m, t: float(m["ts"]) <= t)):
            if args.get(bound):
                messages = [m for m in messages if keep(m, float(args[bound]))]
        if str(args.get("include_all_metadata", "")).lower() not in ("1", "true"):
            messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
        # Pages of `limit` (Slack's default 10 is not modelled: 1000 unless asked), by an opaque cursor.
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 1000)
        page, rest = messages[start:start + limit], messages[start + limit:]
        out: dict[str, Any] = {"ok": True, "messages": page, "has_more": bool(rest)}
        if rest:
            out["response_metadata"] = {"next_cursor": str(start + limit)}
        return out

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args.get("user", ""))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _m_files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        f = self.files.get(args.get("file", ""))
        return {"ok": True, "file": f.obj(), "comments": []} if f else {"ok": False, "error": "file_not_found"}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{len(self.files) + 1:08d}"
        f = FakeFile(file_id, args["filename"], "", self.bot_user_id, int(args["length"]))
        f.url_private = f"{self.files_url}{file_id}/{f.name}"
        f.shares = {"public": {}}
        self.files[file_id] = f
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        entries = json_arg(args["files"])
        found = [self.files.get(e["id"]) for e in entries]
        if any(f is None or f.data is None for f in found):
            return {"ok": False, "error": "file_not_found"}  # never uploaded
        channel = args.get("channel_id")
        if channel in self.outside:
            return {"ok": False, "error": "not_in_channel"}
        out = []
        for f, e in zip(found, entries, strict=True):
            assert f is not None
            f.title = e.get("title") or f.name
            out.append({"id": f.id, "title": f.title})
        if channel:
            message = self._bot_message(channel, {"text": args.get("initial_comment", ""),
                                                  "thread_ts": args.get("thread_ts")},
                                        files=[f.obj() for f in found if f], upload=True)
            for f in found:
                assert f is not None
                share = {"ts": message["ts"], "channel_name": "general", "team_id": self.team_id}
                if args.get("thread_ts"):
                    share["thread_ts"] = args["thread_ts"]
                f.shares["public"].setdefault(channel, []).append(share)
        return {"ok": True, "files": out}

    # ------------------------------------------------------------ uploads, downloads, response_url

    async def _upload(self, request: web.Request) -> web.Response:
        f = self.files.get(request.match_info["file_id"])
        data = await request.read()
        if f is None or f.data is not None:
            self.violations.append(f"upload: unknown or reused upload URL {request.path}")
            return web.Response(status=404, text="not found")
        if len(data) != f.size:
            self.violations.append(f"upload: {len(data)} bytes sent, {f.size} announced")
        f.data, f.size = data, len(data)
        f.mimetype = "image/png" if data.startswith(b"\x89PNG") else "application/octet-stream"
        self.calls.append(Call("upload", {"file_id": f.id, "bytes": len(data)}))
        await self._notify()
        return web.Response(text=f"OK - {len(data)}")

    async def _download(self, request: web.Request) -> web.Response:
        f = self.files.get(request.match_info["file_id"])
        authed = request.headers.get("Authorization") == f"Bearer {self.bot_token}"
        self.downloads.append((request.match_info["file_id"], authed))
        await self._notify()
        if not authed:  # what Slack does: no error status, a sign-in page
            return web.Response(body=SIGN_IN_PAGE, content_type="text/html")
        if f is None or f.data is None:
            return web.Response(status=404)
        return web.Response(body=f.data, content_type=f.mimetype or "application/octet-stream")

    async def _response(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        await self._notify()
        return web.Response(text="ok")
