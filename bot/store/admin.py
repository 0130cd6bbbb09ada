"""What a public server's admins keep: bans, daily quotas, the audit log and flagged images.

Rows are per server: (platform, workspace) — a Discord guild or a Slack workspace. Quota usage
is counted per UTC day; `reserve` checks and counts a panel in one transaction, so two commands
at the same moment can never both take the last one. Works through the Store's transaction().
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import aiosqlite

from bot.store.core import Store


@dataclass(frozen=True)
class AuditEntry:
    at: float
    platform: str
    workspace: str
    actor_id: str  # "platform:user id", or "" for the bot itself
    actor_name: str
    action: str  # "ban", "unban", "quota", "refused:words", "refused:image", "refused:upload" ...
    target: str = ""  # whom or what it was about
    detail: str = ""


@dataclass(frozen=True)
class Usage:
    person: int  # panels this person drew today in this server
    server: int  # panels everyone drew today in this server


class AdminStore:
    """Bans, quotas, audit rows and image flags in the worldloom database."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def ping(self) -> bool:
        """True while the database answers."""
        try:
            return bool(await self._store.fetch_all("SELECT 1 AS ok FROM schema_migrations LIMIT 1"))
        except Exception:
            return False

    # ------------------------------------------------------------ bans

    async def banned(self, platform: str, workspace: str) -> set[str]:
        rows = await self._store.fetch_all("SELECT user_id FROM bans WHERE platform=? AND workspace=?",
                                           (platform, workspace))
        return {r["user_id"] for r in rows}

    async def ban(self, platform: str, workspace: str, user_id: str, by: str) -> bool:
        """Bans; False when they already were."""
        async with self._store.transaction() as db:
            cur = await db.execute("INSERT OR IGNORE INTO bans VALUES (?, ?, ?, ?, ?)",
                                   (platform, workspace, user_id, by, time.time()))
            return cur.rowcount > 0

    async def unban(self, platform: str, workspace: str, user_id: str) -> bool:
        """Lifts a ban; False when there was none."""
        async with self._store.transaction() as db:
            cur = await db.execute("DELETE FROM bans WHERE platform=? AND workspace=? AND user_id=?",
                                   (platform, workspace, user_id))
            return cur.rowcount > 0

    # ------------------------------------------------------------ quotas

    async def set_daily_limit(self, platform: str, workspace: str, user_id: str, per_day: int, by: str) -> None:
        """This person's own daily limit; 0 puts them back on the server's default."""
        async with self._store.transaction() as db:
            if per_day <= 0:
                await db.execute("DELETE FROM quota_limits WHERE platform=? AND workspace=? AND user_id=?",
                                 (platform, workspace, user_id))
            else:
                await db.execute("INSERT OR REPLACE INTO quota_limits VALUES (?, ?, ?, ?, ?, ?)",
                                 (platform, workspace, user_id, per_day, by, time.time()))

    async def daily_limit(self, platform: str, workspace: str, user_id: str) -> int | None:
        rows = await self._store.fetch_all(
            "SELECT per_day FROM quota_limits WHERE platform=? AND workspace=? AND user_id=?",
            (platform, workspace, user_id))
        return int(rows[0]["per_day"]) if rows else None

    async def usage(self, platform: str, workspace: str, user_id: str, day: str) -> Usage:
        rows = await self._store.fetch_all(
            "SELECT COALESCE(SUM(used), 0) AS server, COALESCE(SUM(CASE WHEN user_id=? THEN used END), 0) AS person"
            " FROM quota_usage WHERE platform=? AND workspace=? AND day=?", (user_id, platform, workspace, day))
        return Usage(int(rows[0]["person"]), int(rows[0]["server"]))

    @staticmethod
    async def count_panel(db: aiosqlite.Connection, platform: str, workspace: str, user_id: str, day: str,
                          person_limit: int, server_limit: int) -> str | None:
        """Inside the transaction that stores the panel: counts it unless a limit is reached (0 = none).

        Returns "person" or "server" when one is; the caller then raises, and the rollback takes the
        panel's events back too. Counting in the panel's own transaction means a crash can neither
        count a panel that was not stored nor count a replayed one twice.
        """
        async with db.execute(
                "SELECT COALESCE(SUM(used), 0), COALESCE(SUM(CASE WHEN user_id=? THEN used END), 0)"
                " FROM quota_usage WHERE platform=? AND workspace=? AND day=?",
                (user_id, platform, workspace, day)) as cur:
            row = await cur.fetchone()
        server, person = (int(row[0]), int(row[1])) if row else (0, 0)
        if person_limit > 0 and person >= person_limit:
            return "person"
        if server_limit > 0 and server >= server_limit:
            return "server"
        await db.execute(
            "INSERT INTO quota_usage VALUES (?, ?, ?, ?, 1) ON CONFLICT (platform, workspace, day, user_id)"
            " DO UPDATE SET used = used + 1", (platform, workspace, day, user_id))
        return None

    # ------------------------------------------------------------ the audit log

    async def audit(self, at: float, platform: str, workspace: str, actor_id: str, actor_name: str, action: str,
                    target: str = "", detail: str = "") -> None:
        """Writes one row of the audit log (the fields of AuditEntry)."""
        async with self._store.transaction() as db:
            await db.execute(
                "INSERT INTO audit (at, platform, workspace, actor_id, actor_name, action, target, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (at, platform, workspace, actor_id, actor_name, action, target, detail))

    async def recent_audit(self, platform: str, workspace: str, limit: int = 20) -> list[AuditEntry]:
        """The newest `limit` rows of one server, newest first."""
        rows = await self._store.fetch_all(
            "SELECT * FROM audit WHERE platform=? AND workspace=? ORDER BY id DESC LIMIT ?",
            (platform, workspace, limit))
        return [AuditEntry(r["at"], r["platform"], r["workspace"], r["actor_id"], r["actor_name"], r["action"],
                           r["target"], r["detail"]) for r in rows]

    # ------------------------------------------------------------ images the classifier flagged

    async def flag_image(self, sha: str, label: str, score: float) -> None:
        async with self._store.transaction() as db:
            await db.execute("INSERT OR REPLACE INTO image_flags VALUES (?, ?, ?, ?)",
                             (sha, label, score, time.time()))

    async def image_flagged(self, sha: str) -> bool:
        return bool(await self._store.fetch_all("SELECT 1 AS hit FROM image_flags WHERE sha256=?", (sha,)))
