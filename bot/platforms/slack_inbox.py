"""Slack requests as inbox rows, and back: who asked where (`Ask`), keys and payloads.

Keys are Slack's own ids: a message (app_mention or message event: the same message can come as
both, and Slack re-sends slow events) is `slack:<channel>:<ts>`; slash commands, button presses and
modal submissions are `slack:<trigger_id>`. The payload says what to run again after a restart:

    {"kind": "line", "line": "/continue she waves", "files": [...event files], "fetched": true}
    {"kind": "action", "action": "wl_reroll", "panel": 3}
    {"kind": "view", "action": "continue" | "ref", "panel": 3, "value": "the words" | "the character"}
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from bot.context import Attachment, Place
from bot.inbox import InboxEntry

PLATFORM = "slack"


@dataclass(frozen=True)
class Ask:
    """Who asked, where they typed, and how to answer them privately."""

    team: str
    channel: str
    user: str
    user_name: str = ""
    thread: str | None = None  # the thread typed in; None at channel level
    ts: str | None = None  # the message typed, for its files
    response_url: str | None = None  # slash commands: reaches the person even where the bot is not a member

    @property
    def place(self) -> Place:
        """Where it was typed (the thread, or the channel): its lane in the inbox."""
        return Place(PLATFORM, self.team, self.channel, self.thread or "")


def message_key(channel: str, ts: str | None) -> str:
    return f"slack:{channel}:{ts}"


def trigger_key(trigger_id: str | None) -> str:
    # Slack always sends one; without it the request is still taken (and cannot be recognised again).
    return f"slack:{trigger_id or 'untriggered-' + secrets.token_hex(8)}"


def entry_of(key: str, ask: Ask, payload: dict[str, Any], text: str, files: tuple[Attachment, ...] = ()) -> InboxEntry:
    who = {"team": ask.team, "channel": ask.channel, "user": ask.user, "user_name": ask.user_name,
           "thread": ask.thread, "ts": ask.ts}
    return InboxEntry.new(key, ask.place, ask.user, ask.user_name or ask.user, text, {**payload, "ask": who},
                          token=ask.response_url, files=files)


def ask_of(entry: InboxEntry) -> Ask:
    who = entry.payload["ask"]
    return Ask(who["team"], who["channel"], who["user"], who.get("user_name") or "", who.get("thread"),
               who.get("ts"), entry.token)
