"""The fake Discord's ids and permission bits, its records, and builders of the objects it sends.

Builders return plain dicts shaped like Discord's: users, members, channels, threads, the guild, READY,
interactions (with typed command options, pressed components and filled-in modals), messages and
attachments. They hold no state; tests/fake_discord.py keeps the model and calls them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

APP_ID = 1100000000000000001
BOT_ID = APP_ID
GUILD_ID = 1200000000000000001  # on shard 1 of 2: (id >> 22) % 2
TEXT_CHANNEL_ID = 1300000000000000001
FORUM_CHANNEL_ID = 1300000000000000002
# A second guild, for sharding: on shard 0 of 2.
SECOND_GUILD_ID = 1200000000004194305
SECOND_CHANNEL_ID = 1300000000000000003
MOD_ROLE_ID = 1400000000000000001
ADMIN_ROLE_ID = 1400000000000000002
ATTACHMENT_LIMIT = 10 * 1024 * 1024

# Permission bits (https://discord.com/developers/docs/topics/permissions)
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
ATTACH_FILES = 1 << 15
READ_HISTORY = 1 << 16
USE_APP_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_IN_THREADS = 1 << 38
MEMBER_PERMS = VIEW_CHANNEL | SEND_MESSAGES | ATTACH_FILES | READ_HISTORY | USE_APP_COMMANDS | SEND_IN_THREADS \
    | CREATE_PUBLIC_THREADS
BOT_PERMS = MEMBER_PERMS | CREATE_PRIVATE_THREADS | MANAGE_THREADS

OPTION_TYPES = {"subcommand": 1, "group": 2, "string": 3, "integer": 4, "boolean": 5, "user": 6, "attachment": 11}


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


# ---------------------------------------------------------------- records


@dataclass
class Request:
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    headers: dict[str, str]
    json: Any  # the JSON body, or payload_json of a multipart body
    files: dict[str, tuple[str, bytes]]  # multipart part name -> (filename, data)
    at: float
    status: int = 0
    response: Any = None


@dataclass
class FakeInteraction:
    """One injected interaction and what the bot did with it."""

    id: int
    token: str
    type: int
    channel_id: int
    user_id: int
    dispatched_at: float
    payload: dict[str, Any]
    callback: Request | None = None
    acked_at: float | None = None
    original_id: int | None = None  # the message of the (deferred) response
    ephemeral: bool = False
    followups: list[int] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    expired: bool = False

    @property
    def ack_seconds(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.dispatched_at


# ---------------------------------------------------------------- users, channels, the guild


def user(uid: int, name: str, bot: bool = False) -> dict[str, Any]:
    return {"id": str(uid), "username": name, "global_name": name.title(), "discriminator": "0",
            "avatar": None, "bot": bot, "public_flags": 0, "flags": 0}


def member(person: dict[str, Any], *, moderator: bool = False, admin: bool = False) -> dict[str, Any]:
    """A guild member; moderators hold the role with Manage Threads, admins the one with Manage Server."""
    roles = ([str(MOD_ROLE_ID)] if moderator else []) + ([str(ADMIN_ROLE_ID)] if admin else [])
    return {"user": person, "nick": None, "avatar": None, "pending": False,
            "roles": roles, "joined_at": now_iso(),
            "deaf": False, "mute": False, "flags": 0, "premium_since": None,
            "communication_disabled_until": None}


def shard_of(guild_id: int, shards: int) -> int:
    """The shard that carries a guild's events (Discord's formula)."""
    return (guild_id >> 22) % shards


def guild_channel(cid: int, ctype: int, name: str, position: int, guild_id: int = GUILD_ID) -> dict[str, Any]:
    return {"id": str(cid), "type": ctype, "guild_id": str(guild_id), "name": name, "position": position,
            "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
            "rate_limit_per_user": 0, "last_message_id": None, "flags": 0,
            "default_auto_archive_duration": 1440, "default_thread_rate_limit_per_user": 0}


def forum_channel(cid: int, name: str, position: int) -> dict[str, Any]:
    return {**guild_channel(cid, 15, name, position), "available_tags": [], "default_reaction_emoji": None,
            "default_sort_order": None, "default_forum_layout": 0}


def thread(tid: int, name: str, parent: int, ttype: int, owner: int, archived: bool = False,
           locked: bool = False, auto_archive: int = 1440, guild_id: int = GUILD_ID) -> dict[str, Any]:
    return {"id": str(tid), "type": ttype, "guild_id": str(guild_id), "parent_id": str(parent),
            "name": name, "owner_id": str(owner), "message_count": 0, "member_count": 1,
            "total_message_sent": 0, "rate_limit_per_user": 0, "flags": 0, "last_message_id": None,
            "thread_metadata": {"archived": archived, "auto_archive_duration": auto_archive,
                                "archive_timestamp": now_iso(), "locked": locked,
                                "create_timestamp": now_iso()}}


def guild(bot_user: dict[str, Any], members: list[dict[str, Any]], channels: list[dict[str, Any]],
          threads: list[dict[str, Any]], guild_id: int = GUILD_ID, name: str = "Story Club") -> dict[str, Any]:
    """The GUILD_CREATE of a guild: roles, members (the bot first), channels and threads."""
    everyone = {"id": str(guild_id), "name": "@everyone", "permissions": str(MEMBER_PERMS), "position": 0,
                "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}
    mods = {**everyone, "id": str(MOD_ROLE_ID), "name": "moderators", "position": 1,
            "permissions": str(MEMBER_PERMS | MANAGE_THREADS)}
    admins = {**everyone, "id": str(ADMIN_ROLE_ID), "name": "admins", "position": 2,
              "permissions": str(MEMBER_PERMS | MANAGE_GUILD)}
    bot_member = {"user": bot_user, "roles": [], "joined_at": now_iso(), "deaf": False, "mute": False,
                  "flags": 0, "nick": None, "avatar": None, "pending": False}
    return {
        "id": str(guild_id), "name": name, "icon": None, "owner_id": str(1), "features": [],
        "roles": [everyone, mods, admins], "emojis": [], "stickers": [], "member_count": len(members) + 1,
        "members": [bot_member, *members], "large": False, "unavailable": False,
        "channels": [c for c in channels if c["type"] in (0, 15)],
        "threads": threads, "presences": [], "voice_states": [], "stage_instances": [],
        "guild_scheduled_events": [], "soundboard_sounds": [], "joined_at": now_iso(), "premium_tier": 0,
        "preferred_locale": "en-US", "system_channel_id": None, "verification_level": 0, "mfa_level": 0,
        "nsfw_level": 0, "explicit_content_filter": 0, "default_message_notifications": 0,
        "afk_timeout": 300, "afk_channel_id": None, "description": None, "banner": None, "splash": None,
        "discovery_splash": None, "vanity_url_code": None, "premium_subscription_count": 0,
        "max_members": 500000, "rules_channel_id": None, "public_updates_channel_id": None,
    }


def ready(bot_user: dict[str, Any], session: int, gateway_url: str, guild_ids: tuple[int, ...] = (GUILD_ID,),
          shard: list[int] | None = None) -> dict[str, Any]:
    out = {"v": 10, "user": bot_user, "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
           "session_id": f"session-{session}", "resume_gateway_url": gateway_url,
           "application": {"id": str(APP_ID), "flags": 0}, "private_channels": [], "relationships": []}
    if shard is not None:
        out["shard"] = shard
    return out


def application(bot_user: dict[str, Any]) -> dict[str, Any]:
    owner = user(1, "owner")
    return {"id": str(APP_ID), "name": "worldloom", "icon": None, "description": "",
            "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
            "owner": owner, "team": None, "flags": 0, "summary": "", "rpc_origins": [],
            "bot": bot_user}


# ---------------------------------------------------------------- interactions


def permissions(person: dict[str, Any]) -> int:
    """What a member may do in the guild's channels, from their roles."""
    return MEMBER_PERMS | (MANAGE_THREADS if str(MOD_ROLE_ID) in person["roles"] else 0) | (
        MANAGE_GUILD if str(ADMIN_ROLE_ID) in person["roles"] else 0)


def interaction(iid: int, itype: int, channel_id: int, channel: dict[str, Any],
                person: dict[str, Any]) -> dict[str, Any]:
    """What every interaction carries; the caller adds `data` (and `message` for components)."""
    perms = permissions(person)
    guild_id = channel["guild_id"]
    return {
        "id": str(iid), "application_id": str(APP_ID), "type": itype, "token": f"itoken-{iid}", "version": 1,
        "guild_id": guild_id, "guild": {"id": guild_id, "locale": "en-US", "features": []},
        "channel_id": str(channel_id), "channel": {**channel, "permissions": str(perms)},
        "member": {**person, "permissions": str(perms)}, "locale": "en-US", "guild_locale": "en-US",
        "app_permissions": str(BOT_PERMS), "entitlements": [], "context": 0,
        "authorizing_integration_owners": {"0": guild_id}, "attachment_size_limit": ATTACHMENT_LIMIT,
    }


def command_options(commands: dict[str, dict[str, Any]], command: str, values: dict[str, Any],
                    focused: str | None, resolved: dict[str, Any],
                    upload: Callable[..., dict[str, Any]],
                    members: dict[int, dict[str, Any]] | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Typed options for `command` ("world new") from the definitions the bot synced.

    `upload(*value)` puts an attachment option's file on the CDN and returns its attachment object;
    a user option's value is a member id of `members`, resolved as Discord does."""
    top, *sub = command.split()
    cmd = commands.get(top)
    if cmd is None:
        raise KeyError(f"the bot did not register /{top}")
    defs, nest = cmd.get("options") or [], None
    if sub:
        nest = next((o for o in defs if o["name"] == sub[0]), None)
        if nest is None:
            raise KeyError(f"/{top} has no subcommand {sub[0]}")
        defs = nest.get("options") or []
    options = []
    for name, value in values.items():
        d = next((o for o in defs if o["name"] == name), None)
        if d is None:
            raise KeyError(f"/{command} has no option {name!r}")
        if d["type"] == OPTION_TYPES["attachment"]:
            uploaded = upload(*value)
            resolved.setdefault("attachments", {})[uploaded["id"]] = uploaded
            value = uploaded["id"]
        elif d["type"] == OPTION_TYPES["user"]:
            person = (members or {})[int(value)]
            value = person["user"]["id"]
            resolved.setdefault("users", {})[value] = person["user"]
            resolved.setdefault("members", {})[value] = {
                **{k: v for k, v in person.items() if k != "user"}, "permissions": str(permissions(person))}
        opt = {"name": name, "type": d["type"], "value": value}
        if name == focused:
            opt["focused"] = True
        options.append(opt)
    if nest is not None:
        options = [{"name": nest["name"], "type": nest["type"], "options": options}]
    return cmd, options


def component(message: dict[str, Any], custom_id: str) -> dict[str, Any]:
    """The button or select with `custom_id` on a message."""
    found = next((c for row in message.get("components", []) for c in row.get("components", [])
                  if c.get("custom_id") == custom_id), None)
    if found is None:
        raise KeyError(f"no component {custom_id!r} on message {message['id']}")
    return found


def modal_rows(modal: dict[str, Any], values: dict[str, str]) -> list[dict[str, Any]]:
    """The modal's rows as submitted, each text input holding values[custom_id] (or nothing)."""
    rows = []
    for row in modal["components"]:
        inner = row.get("components") or [row["component"]]
        filled = [{"type": c["type"], "custom_id": c["custom_id"], "value": values.get(c["custom_id"], "")}
                  for c in inner]
        rows.append({"type": 1, "components": filled} if row["type"] == 1
                    else {"type": row["type"], "component": filled[0]})
    return rows


# ---------------------------------------------------------------- messages and attachments


def message(mid: int, channel_id: int, body: dict[str, Any], author: dict[str, Any], flags: int,
            ix: FakeInteraction | None = None, ix_user: dict[str, Any] | None = None,
            guild_id: int = GUILD_ID) -> dict[str, Any]:
    """A message the bot sent (attachments still empty); `ix` for an interaction's response or followup."""
    msg: dict[str, Any] = {
        "id": str(mid), "channel_id": str(channel_id), "guild_id": str(guild_id), "author": author,
        "content": body.get("content") or "", "timestamp": now_iso(), "edited_timestamp": None, "tts": False,
        "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": body.get("embeds") or [], "pinned": False, "type": 0, "flags": flags,
        "components": body.get("components") or [],
    }
    if body.get("nonce") is not None:
        msg["nonce"] = body["nonce"]
    if ix is not None:
        msg["webhook_id"] = str(APP_ID)
        msg["application_id"] = str(APP_ID)
        msg["type"] = 20 if ix.type == 2 else 0
        msg["interaction_metadata"] = {"id": str(ix.id), "type": ix.type, "user": ix_user,
                                       "authorizing_integration_owners": {"0": str(guild_id)}}
    return msg


def attachment(aid: int, filename: str, size: int, ctype: str | None, port: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/cdn/attachments/{aid}/{filename}"
    out: dict[str, Any] = {"id": str(aid), "filename": filename, "size": size, "url": url, "proxy_url": url,
                           "ephemeral": True}
    if ctype:
        out["content_type"] = ctype
    return out
