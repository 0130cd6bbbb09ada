"""/quota, and /admin ban, unban, quota and audit: what a server's managers use to keep it healthy.

/admin is for people who manage the server (Discord: Manage Server; Slack: workspace admins and
owners). Bans and quotas hold bot-wide in that server (a Discord guild, a Slack workspace); every
admin action is written to the audit log, which /admin audit shows. All answers are private.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot import commands as c
from bot.context import Reply
from bot.explain import clip
from bot.handlers.base import Ctx, Handler
from engine.errors import NotAllowed, WorldError

MAX_PER_DAY = 100_000
# What a mention of a person looks like once it reaches the service, per platform.
_USER_IDS = {"discord": re.compile(r"\d{5,25}"), "slack": re.compile(r"[UW][A-Z0-9]{2,30}")}
_ANY_ID = re.compile(r"[^\s<>@!]{1,80}")


def user_id(ref: str, platform: str) -> str:
    """The platform id in "<@123>", "<@!123>", "@U123" or "123"; WorldError unless it is one."""
    bare = ref.strip().removeprefix("<").removesuffix(">").lstrip("@!")
    bare = bare.split("|", 1)[0]  # Slack's <@U123|name>
    if not (_USER_IDS.get(platform) or _ANY_ID).fullmatch(bare):
        raise WorldError("name the person with a mention, e.g. /admin ban @someone")
    return bare


def shown(platform: str, uid: str) -> str:
    """How a person is named in an answer (Discord renders <@id>; mentions are never pinged)."""
    return f"<@{uid}>" if platform == "discord" else f"@{uid}"


def _managers_only(ctx: Ctx) -> None:
    if not ctx.actor.manages_server:
        raise NotAllowed("only people who manage this server (Discord: Manage Server; Slack: workspace admins) "
                         "can use /admin")


async def quota(cmd: c.ShowQuota, ctx: Ctx) -> Reply:
    return Reply(await ctx.services.guard.quota_text(ctx.actor, ctx.place), ephemeral=True)


async def ban(cmd: c.AdminBan, ctx: Ctx) -> Reply:
    _managers_only(ctx)
    uid = user_id(cmd.user, ctx.place.platform)
    if uid == ctx.actor.id:
        raise WorldError("you can't ban yourself")
    new = await ctx.services.guard.ban(ctx.actor, ctx.place, uid, reason=clip(cmd.reason, 300))
    who = shown(ctx.place.platform, uid)
    return Reply(f"🔨 {who} is banned from worldloom in this server." if new else f"{who} was already banned.",
                 ephemeral=True)


async def unban(cmd: c.AdminUnban, ctx: Ctx) -> Reply:
    _managers_only(ctx)
    uid = user_id(cmd.user, ctx.place.platform)
    lifted = await ctx.services.guard.unban(ctx.actor, ctx.place, uid)
    who = shown(ctx.place.platform, uid)
    return Reply(f"✅ {who} may use worldloom again." if lifted else f"{who} was not banned.", ephemeral=True)


async def set_quota(cmd: c.AdminQuota, ctx: Ctx) -> Reply:
    _managers_only(ctx)
    uid = user_id(cmd.user, ctx.place.platform)
    text = cmd.per_day.strip()
    if not text.isdigit() or int(text) > MAX_PER_DAY:
        raise WorldError(f"N must be a number of panels a day, 0-{MAX_PER_DAY} (0 = the server's default)\n"
                         "usage: /admin quota @USER N")
    per_day = int(text)
    await ctx.services.guard.set_quota(ctx.actor, ctx.place, uid, per_day)
    who = shown(ctx.place.platform, uid)
    default = ctx.services.guard.quotas.panels_per_day
    what = f"{per_day} panels a day" if per_day else (
        f"the server's default ({default} a day)" if default else "the server's default (no limit)")
    return Reply(f"📊 {who} may now draw {what}.", ephemeral=True)


async def audit(cmd: c.AdminAudit, ctx: Ctx) -> Reply:
    _managers_only(ctx)
    rows = await ctx.services.guard.audit_log(ctx.place, 20)
    if not rows:
        return Reply("The audit log of this server is empty.", ephemeral=True)
    lines = []
    for r in rows:
        when = datetime.fromtimestamp(r.at, UTC).strftime("%Y-%m-%d %H:%M")
        target = f" {shown(ctx.place.platform, r.target)}" if r.target else ""
        detail = f" — {r.detail}" if r.detail else ""
        lines.append(f"{when} UTC · {r.actor_name}: {r.action}{target}{detail}")
    return Reply(clip("Audit log, newest first:\n" + "\n".join(lines)), ephemeral=True)


HANDLERS: dict[type, Handler] = {
    c.ShowQuota: quota, c.AdminBan: ban, c.AdminUnban: unban, c.AdminQuota: set_quota, c.AdminAudit: audit,
}
