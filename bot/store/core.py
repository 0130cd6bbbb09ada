"""The Store: worlds, thread bindings, the event log, panels, jobs and image blobs in SQLite.

One aiosqlite connection in WAL mode. Writes that belong together run in one
`BEGIN IMMEDIATE` transaction, serialised by a lock (aiosqlite shares one connection, so two
coroutines must never interleave inside a transaction); inbox rows, which a platform waits for,
go first. The transaction that carries out a command (events + job, a new world) also marks its
inbox row done: a new write of that kind calls `self.inbox.complete(db)` inside it and
`self.inbox.committed(...)` after it (bot/store/inbox.py); idempotent writes (blobs, job states)
do not. Images are files named by sha256 under `<db folder>/blobs/`, written before the row that
names them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.inbox import InboxTable
from bot.store.lock import WriteLock
from bot.store.migrations import MIGRATIONS
from engine.events import Event, Record, event_from_json, event_to_json

JOB_STATES = ("queued", "planned", "rendering", "rendered", "posted", "failed", "cancelled")


@dataclass(frozen=True)
class JobRow:
    id: str
    world_id: str
    panel: int
    take: int
    state: str
    spec: dict[str, Any]
    place: dict[str, Any]
    author: str
    image: str | None
    message_id: str | None
    error: str | None


class Store:
    """Async access to one worldloom database. Use `async with Store.open(path) as store`."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        self.blob_dir = path.parent / "blobs"
        self._write = WriteLock()
        self.inbox = InboxTable(self, path, self._write)  # rows marked done by the command's own transaction

    @classmethod
    @asynccontextmanager
    async def open(cls, path: str | os.PathLike[str]) -> AsyncIterator[Store]:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(p, isolation_level=None) as db:
            db.row_factory = aiosqlite.Row
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=FULL")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA busy_timeout=5000")
            store = cls(db, p)
            await store._migrate()
            try:
                yield store
            finally:
                await store.inbox.close()

    async def _migrate(self) -> None:
        await self._db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL)")
        async with self._db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") as cur:
            row = await cur.fetchone()
        current = int(row[0]) if row else 0
        for version, sql in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            async with self.transaction() as db:
                for statement in filter(str.strip, sql.split(";")):
                    await db.execute(statement)
                await db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, time.time()))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        await self._write.acquire()
        try:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")
        finally:
            self._write.release()

    async def fetch_all(self, sql: str, args: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        """Rows of one read (for the store's own modules; SQL stays inside bot/store/).

        Executed and fetched in one step on the connection's thread: a statement left open between
        two steps would hold a read snapshot that the inbox's writer connection can make stale, and
        a transaction begun meanwhile on this connection would then fail with "database is locked"."""
        return list(await self._db.execute_fetchall(sql, tuple(args)))

    # ------------------------------------------------------------ worlds and bindings

    async def create_world(self, world_id: str, title: str, author: str, events: list[Event],
                           binding: tuple[str, str, str, str] | None = None,
                           branched_from: str | None = None, author_id: str = "") -> list[Record]:
        """Creates the world, its first events and (optionally) its thread binding at once."""
        now = time.time()
        async with self.transaction() as db:
            await self._insert_world(db, world_id, title, author, author_id, now, binding, branched_from)
            records = await self._append(db, world_id, author, author_id, events, now)
            receipt = await self.inbox.complete(db)
        self.inbox.committed(receipt)
        return records

    async def import_world(self, world_id: str, title: str, author: str, records: list[Record],
                           binding: tuple[str, str, str, str] | None = None,
                           branched_from: str | None = None, author_id: str = "",
                           panels: Mapping[int, str] | None = None) -> None:
        """Creates a world from existing records, keeping their seq, group, author and time.

        `panels` (panel number -> stored blob) are images drawn elsewhere (a world file, the world
        it branches from): each becomes a finished job, so the panel has its image and is not posted.
        """
        now = time.time()
        async with self.transaction() as db:
            await self._insert_world(db, world_id, title, author, author_id, now, binding, branched_from)
            await db.executemany(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(world_id, r.seq, r.group, r.author, r.author_id, r.at, r.event.kind,
                  json.dumps(event_to_json(r.event), ensure_ascii=False)) for r in records])
            for panel, image in sorted((panels or {}).items()):
                job_id = f"{world_id}:import:{panel}"
                await db.execute(
                    "INSERT INTO jobs (id, world_id, panel, take, state, spec, place, author, image,"
                    " created_at, updated_at) VALUES (?, ?, ?, 0, 'posted', ?, '{}', ?, ?, ?, ?)",
                    (job_id, world_id, panel, json.dumps({"imported": True}), author, image, now, now))
                await db.execute("INSERT INTO panels (world_id, panel, take, job_id, image) VALUES (?, ?, 0, ?, ?)",
                                 (world_id, panel, job_id, image))
            receipt = await self.inbox.complete(db)
        self.inbox.committed(receipt)

    @staticmethod
    async def _insert_world(db: aiosqlite.Connection, world_id: str, title: str, author: str, author_id: str,
                            now: float, binding: tuple[str, str, str, str] | None, branched_from: str | None) -> None:
        await db.execute("INSERT INTO worlds VALUES (?, ?, ?, ?, ?, ?)",
                         (world_id, title, author, author_id, now, branched_from))
        if binding is not None:
            await db.execute("INSERT OR REPLACE INTO bindings VALUES (?, ?, ?, ?, ?, ?)", (*binding, world_id, now))

    async def world_info(self, world_id: str) -> dict[str, Any] | None:
        rows = await self.fetch_all("SELECT * FROM worlds WHERE id = ?", (world_id,))
        return dict(rows[0]) if rows else None

    async def bind(self, binding: tuple[str, str, str, str], world_id: str) -> None:
        async with self.transaction() as db:
            await db.execute("INSERT OR REPLACE INTO bindings VALUES (?, ?, ?, ?, ?, ?)",
                             (*binding, world_id, time.time()))

    async def world_for(self, binding: tuple[str, str, str, str]) -> str | None:
        rows = await self.fetch_all(
            "SELECT world_id FROM bindings WHERE platform=? AND workspace=? AND channel=? AND thread=?",
            binding)
        return rows[0]["world_id"] if rows else None

    async def threads_in_channel(self, platform: str, workspace: str, channel: str) -> list[tuple[str, str]]:
        """(thread, world_id) of every world bound to a thread of the channel, oldest first."""
        rows = await self.fetch_all(
            "SELECT thread, world_id FROM bindings WHERE platform=? AND workspace=? AND channel=? AND thread != ''"
            " ORDER BY created_at", (platform, workspace, channel))
        return [(r["thread"], r["world_id"]) for r in rows]

    async def worlds_in_channel(self, platform: str, workspace: str, channel: str) -> list[str]:
        rows = await self.fetch_all(
            "SELECT world_id FROM bindings WHERE platform=? AND workspace=? AND channel=? AND thread != ''"
            " ORDER BY created_at", (platform, workspace, channel))
        return [r["world_id"] for r in rows]

    # ------------------------------------------------------------ events

    async def append(self, world_id: str, author: str, events: list[Event],
                     job: tuple[str, int, int, dict[str, Any], dict[str, Any]] | None = None,
                     author_id: str = "", group: int | None = None,
                     charge: Callable[[Any], Awaitable[None]] | None = None) -> list[Record]:
        """Appends one command's events (a new group, or `group`), plus its planned job, at once;
        `charge` (today's quota) runs in the same transaction and may refuse it all."""
        now = time.time()
        async with self.transaction() as db:
            if charge is not None:
                await charge(db)
            records = await self._append(db, world_id, author, author_id, events, now, group)
            if job is not None:
                await self._insert_job(db, world_id, author, job, now)
            receipt = await self.inbox.complete(db)
        self.inbox.committed(receipt)
        return records

    async def _append(self, db: aiosqlite.Connection, world_id: str, author: str, author_id: str,
                      events: list[Event], now: float, group: int | None = None) -> list[Record]:
        # Few steps: the write lock is held meanwhile, and on a busy event loop every step waits a turn.
        [(seq, last_group)] = await db.execute_fetchall(
            "SELECT COALESCE(MAX(seq), 0), COALESCE(MAX(grp), 0) FROM events WHERE world_id = ?", (world_id,))
        # Imported worlds keep their own group numbers, so a new group must pass both.
        group = group or max(int(seq), int(last_group)) + 1
        out = [Record(seq=int(seq) + i, group=group, author=author, event=ev, at=now, author_id=author_id)
               for i, ev in enumerate(events, start=1)]
        await db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             [(world_id, r.seq, group, author, author_id, now, r.event.kind,
                               json.dumps(event_to_json(r.event), ensure_ascii=False)) for r in out])
        return out

    async def records(self, world_id: str) -> list[Record]:
        rows = await self.fetch_all("SELECT * FROM events WHERE world_id = ? ORDER BY seq", (world_id,))
        return [Record(seq=r["seq"], group=r["grp"], author=r["author"], at=r["at"], author_id=r["author_id"],
                       event=event_from_json(json.loads(r["payload"]))) for r in rows]

    # ------------------------------------------------------------ jobs and panels

    async def _insert_job(self, db: aiosqlite.Connection, world_id: str, author: str,
                          job: tuple[str, int, int, dict[str, Any], dict[str, Any]], now: float) -> None:
        job_id, panel, take, spec, place = job
        await db.execute(
            "INSERT INTO jobs (id, world_id, panel, take, state, spec, place, author, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'planned', ?, ?, ?, ?, ?)",
            (job_id, world_id, panel, take, json.dumps(spec, ensure_ascii=False), json.dumps(place),
             author, now, now))
        await db.execute("INSERT OR REPLACE INTO panels (world_id, panel, take, job_id) VALUES (?, ?, ?, ?)",
                         (world_id, panel, take, job_id))

    async def set_job_state(self, job_id: str, state: str, error: str | None = None) -> None:
        if state not in JOB_STATES:
            raise ValueError(f"unknown job state {state!r}")
        async with self.transaction() as db:
            await db.execute("UPDATE jobs SET state=?, error=COALESCE(?, error), updated_at=? WHERE id=?",
                             (state, error, time.time(), job_id))

    async def job_rendered(self, job_id: str, image: str) -> None:
        """Records a finished render; the blob must already be stored."""
        async with self.transaction() as db:
            await db.execute("UPDATE jobs SET state='rendered', image=?, updated_at=? WHERE id=?",
                             (image, time.time(), job_id))
            await db.execute("UPDATE panels SET image=? WHERE job_id=?", (image, job_id))

    async def job_posted(self, job_id: str, message_id: str) -> None:
        async with self.transaction() as db:
            await db.execute("UPDATE jobs SET state='posted', message_id=?, updated_at=? WHERE id=?",
                             (message_id, time.time(), job_id))
            await db.execute("UPDATE panels SET message_id=? WHERE job_id=?", (message_id, job_id))

    async def job(self, job_id: str) -> JobRow | None:
        rows = await self.fetch_all("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    async def jobs_in_state(self, *states: str) -> list[JobRow]:
        marks = ",".join("?" * len(states))
        rows = await self.fetch_all(f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY created_at", states)
        return [_job(r) for r in rows]

    async def panel_images(self, world_id: str) -> dict[int, str]:
        """The image of the newest rendered take of every panel."""
        rows = await self.fetch_all(
            "SELECT panel, image FROM panels WHERE world_id = ? AND image IS NOT NULL ORDER BY panel, take",
            (world_id,))
        return {r["panel"]: r["image"] for r in rows}

    async def panel_takes(self, world_id: str) -> dict[tuple[int, int], JobRow]:
        """Every drawn take of the world's panels: (panel, take) -> the job that drew it (image set)."""
        rows = await self.fetch_all(
            "SELECT jobs.* FROM panels JOIN jobs ON jobs.id = panels.job_id"
            " WHERE panels.world_id = ? AND panels.image IS NOT NULL", (world_id,))
        return {(r["panel"], r["take"]): _job(r) for r in rows}

    # ------------------------------------------------------------ blobs

    def blob_path(self, sha: str) -> Path:
        return self.blob_dir / sha[:2] / sha

    async def put_blob(self, data: bytes, content_type: str = "image/png") -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self.blob_path(sha)
        if not path.exists():
            await asyncio.to_thread(_write_file, path, data)
        async with self.transaction() as db:
            await db.execute("INSERT OR IGNORE INTO blobs VALUES (?, ?, ?, ?)",
                             (sha, len(data), content_type, time.time()))
        return sha

    async def get_blob(self, sha: str) -> bytes:
        return await asyncio.to_thread(self.blob_path(sha).read_bytes)

    async def has_blob(self, sha: str) -> bool:
        rows = await self.fetch_all("SELECT 1 FROM blobs WHERE sha256 = ?", (sha,))
        return bool(rows) and self.blob_path(sha).exists()


def _write_file(path: Path, data: bytes) -> None:
    # Write then rename, so a crash never leaves a half-written blob under its final name. The
    # temporary name is the writer's own: two panels can render to the same bytes at the same time.
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(f.name, path)


def _job(r: aiosqlite.Row) -> JobRow:
    return JobRow(id=r["id"], world_id=r["world_id"], panel=r["panel"], take=r["take"], state=r["state"],
                  spec=json.loads(r["spec"]), place=json.loads(r["place"]), author=r["author"],
                  image=r["image"], message_id=r["message_id"], error=r["error"])
