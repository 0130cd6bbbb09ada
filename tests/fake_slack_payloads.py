"""The payloads Slack sends a bot, built for tests/fake_slack.py and the tests that drive it.

SlackPayloads (mixed into FakeSlack) builds event_callback bodies, slash commands, block_actions and
view_submission payloads from FakeSlack's state; `http_body` and `signed_headers` make the body and the
v0-signed headers of an HTTP mode request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier


class SlackPayloads:
    """The payload builders of FakeSlack; they read and advance its state (ids, users, stored messages)."""

    team_id: str
    app_id: str
    bot_user_id: str
    url: str
    users: dict[str, dict[str, Any]]
    _n: int
    _ts: Callable[[], str]
    _store: Callable[[str, dict[str, Any]], dict[str, Any]]

    def event(self, event: dict[str, Any]) -> dict[str, Any]:
        """An event_callback body around `event` (as in the Events API and Socket Mode)."""
        self._n += 1
        return {"token": "legacy-verification-token", "team_id": self.team_id, "api_app_id": self.app_id,
                "event": {"event_ts": event.get("ts", self._ts()), **event}, "type": "event_callback",
                "event_id": f"Ev{self._n:08d}", "event_time": int(time.time()), "authed_users": [],
                "authorizations": [{"enterprise_id": None, "team_id": self.team_id, "user_id": self.bot_user_id,
                                    "is_bot": True, "is_enterprise_install": False}],
                "is_ext_shared_channel": False}

    def user_message(self, channel: str, user: str, text: str, thread_ts: str | None = None,
                     files: list[dict[str, Any]] | None = None, *, kind: str = "message") -> dict[str, Any]:
        """A person's message (kept in the channel); kind "app_mention" starts it with the bot's mention."""
        if kind == "app_mention":
            text = f"<@{self.bot_user_id}> {text}"
        message: dict[str, Any] = {"user": user, "text": text, "ts": self._ts(), "team": self.team_id}
        if thread_ts:
            message["thread_ts"] = thread_ts
        if files:
            message["files"], message["upload"] = files, False
        self._store(channel, dict(message))
        return self.event({"type": kind, "channel": channel, **message})

    def mention(self, channel: str, user: str, text: str, thread_ts: str | None = None,
                files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return self.user_message(channel, user, text, thread_ts, files, kind="app_mention")

    def slash(self, channel: str, user: str, text: str, command: str = "/world") -> dict[str, str]:
        """The form fields of a slash command (Slack sends them url-encoded)."""
        self._n += 1
        return {"token": "legacy-verification-token", "team_id": self.team_id, "team_domain": "worldloom",
                "channel_id": channel, "channel_name": "general", "user_id": user,
                "user_name": self.users.get(user, {}).get("name", user), "command": command, "text": text,
                "api_app_id": self.app_id, "is_enterprise_install": "false",
                "response_url": f"{self.url}/response/{self._n}", "trigger_id": f"trigger.{self._n}"}

    def click(self, message: dict[str, Any], action_id: str, user: str) -> dict[str, Any]:
        """A block_actions payload: `user` pressed the button `action_id` of a posted message."""
        found = [(b, e) for b in message.get("blocks") or [] for e in b.get("elements") or []
                 if e.get("action_id") == action_id]
        if not found:
            raise AssertionError(f"no button {action_id} in message {message.get('ts')}")
        block, element = found[0]
        self._n += 1
        channel = message["channel"]
        return {
            "type": "block_actions", "user": self._user_ref(user), "api_app_id": self.app_id,
            "token": "legacy-verification-token", "trigger_id": f"trigger.{self._n}",
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel,
                          "is_ephemeral": False, "thread_ts": message.get("thread_ts")},
            "team": {"id": self.team_id, "domain": "worldloom"}, "enterprise": None,
            "is_enterprise_install": False, "channel": {"id": channel, "name": "general"},
            "message": {k: v for k, v in message.items() if k != "channel"}, "state": {"values": {}},
            "response_url": f"{self.url}/response/{self._n}",
            "actions": [{"action_id": action_id, "block_id": block.get("block_id", ""), "type": "button",
                         "text": element["text"], "value": element.get("value", ""), "action_ts": self._ts()}],
        }

    def submit(self, view: dict[str, Any], user: str, values: dict[str, str]) -> dict[str, Any]:
        """A view_submission payload for an opened modal; values by block_id (select: the option value)."""
        state: dict[str, dict[str, Any]] = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input" or block["block_id"] not in values:
                continue
            element, value = block["element"], values[block["block_id"]]
            if element["type"] == "static_select":
                chosen = [o for o in element["options"] if o["value"] == value]
                assert chosen, f"{value!r} is not an option of {block['block_id']}"
                entry = {"type": "static_select", "selected_option": chosen[0]}
            else:
                entry = {"type": element["type"], "value": value}
            state[block["block_id"]] = {element["action_id"]: entry}
        self._n += 1
        return {"type": "view_submission", "team": {"id": self.team_id, "domain": "worldloom"},
                "user": self._user_ref(user), "api_app_id": self.app_id, "token": "legacy-verification-token",
                "trigger_id": f"trigger.{self._n}", "view": {**view, "team_id": self.team_id,
                                                               "state": {"values": state}, "hash": f"h{self._n}"},
                "response_urls": [], "is_enterprise_install": False, "enterprise": None}

    def _user_ref(self, user: str) -> dict[str, Any]:
        name = self.users.get(user, {}).get("name", user)
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}


# ---------------------------------------------------------------- HTTP mode requests


def http_body(kind: str, payload: dict[str, Any]) -> tuple[bytes, str]:
    """The body and content type Slack POSTs for an event, a slash command or an interaction."""
    if kind == "events_api":
        return json.dumps(payload).encode(), "application/json"
    if kind == "slash_commands":
        return urlencode(payload).encode(), "application/x-www-form-urlencoded"
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


def signed_headers(secret: str, body: bytes, content_type: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 request signature: HMAC-SHA256 of "v0:{timestamp}:{body}"."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
