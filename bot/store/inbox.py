"""The inbox table: every command acknowledged to a platform, keyed by the platform's own id.

Rows are written before the platform is acknowledged, so their writes are grouped: whatever arrives
while a transaction is in flight is committed together in the next one (one fsync for a burst of
twenty people, not twenty). A group is written by a thread of its own on a second connection, in
one hop from the event loop (a busy loop makes every await of an aiosqlite statement cost a turn),
while it holds the store's write lock, first in line: the two connections never write at once.
A command's own write transaction (events + job, a new world) marks its row done through
`complete`, inside that transaction: see bot/inbox.py for the whole life of a row.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from bot.context import Attachment, Place
from bot.inbox import DONE, PENDING, InboxEntry, Receipt
from bot.store.lock import WriteLock

_INSERT = ("INSERT OR IGNORE INTO inbox (key, platform, workspace, channel, thread, author_id, author, text, payload,"
           " token, seed, received_at, made, state, attempts, updated_at)"
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)")
_FINISH = "UPDATE inbox SET state=?, result=COALESCE(?, result), updated_at=? WHERE key=?"


class _Database(Protocol):
    """What the table needs of the Store (bot.store.core)."""

    def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...
    async def fetch_all(self, sql: str, args: Iterable[Any] = ()) -> list[aiosqlite.Row]: ...


class InboxTable:
    def __init__(self, db: _Database, path: Path, lock: WriteLock) -> None:
        self._db = db
        self._path = path
        self._lock = lock  # the store's write lock
        self._adds: list[tuple[InboxEntry, asyncio.Future[bool]]] = []
        self._finishes: list[tuple[tuple[Any, ...], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None  # the writer thread's own
        self._completing: ContextVar[Receipt | None] = ContextVar("inbox_completing", default=None)

    # ------------------------------------------------------------ grouped writes

    def _wake(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="inbox-writes")

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="inbox-writer")
        while self._adds or self._finishes:
            adds, self._adds = self._adds, []
            finishes, self._finishes = self._finishes, []
            await self._lock.acquire(urgent=bool(adds))  # a platform waits for the adds
            try:
                new = await loop.run_in_executor(self._writer, self._write, [entry for entry, _ in adds],
                                                 [args for args, _ in finishes])
            except Exception as e:
                for _, future in [*adds, *finishes]:
                    future.set_exception(e)
                continue
            finally:
                self._lock.release()
            for (_, added), is_new in zip(adds, new, strict=True):
                added.set_result(is_new)
            for _, finished in finishes:
                finished.set_result(None)

    def _write(self, entries: list[InboxEntry], finishes: list[tuple[Any, ...]]) -> list[bool]:
        """One group in one transaction (on the writer thread); for each entry, whether its key was new."""
        if self._conn is None:
            self._conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=5000"):
                self._conn.execute(f"PRAGMA {pragma}")
        conn, now = self._conn, time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            new = []
            for e in entries:
                p = e.place
                added = conn.execute(_INSERT, (
                    e.key, p.platform, p.workspace, p.channel, p.thread, e.author_id, e.author, e.text,
                    json.dumps(e.payload, ensure_ascii=False), e.token, e.seed, e.received_at, _place_json(e.made),
                    PENDING, now)).rowcount == 1
                if added and e.files:
                    conn.executemany("INSERT INTO inbox_files VALUES (?, ?, ?, ?, ?)",
                                     [(e.key, n, f.filename, f.content_type, f.data) for n, f in enumerate(e.files)])
                new.append(added)
            if finishes:
                conn.executemany(_FINISH, finishes)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return new

    async def drain(self) -> None:
        """Waits for the writes in hand."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.wait({self._flusher})

    async def close(self) -> None:
        """Writes what is in hand, then closes the writer's connection (before the store closes)."""
        await self.drain()
        if self._writer is not None:
            if self._conn is not None:
                await asyncio.get_running_loop().run_in_executor(self._writer, self._conn.close)
                self._conn = None
            await asyncio.to_thread(self._writer.shutdown)
            self._writer = None

    # ------------------------------------------------------------ rows

    async def add(self, entry: InboxEntry) -> bool:
        """Stores a new row with its files; False (and nothing changes) when the key is there already."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._adds.append((entry, future))
        self._wake()
        return await asyncio.shield(future)

    async def record_made(self, key: str, place: Place) -> None:
        """The thread a command opened; written at once (the world is bound to it right after)."""
        async with self._db.transaction() as db:
            await db.execute("UPDATE inbox SET made=?, updated_at=? WHERE key=?",
                             (_place_json(place), time.time(), key))

    async def finish(self, key: str, state: str, result: dict[str, Any] | None = None) -> None:
        """Moves a row on (done, answered, failed), keeping the reply when one is given."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        result_json = json.dumps(result, ensure_ascii=False) if result is not None else None
        self._finishes.append(((state, result_json, time.time(), key), future))
        self._wake()
        await asyncio.shield(future)

    async def count_attempts(self, keys: list[str]) -> None:
        if not keys:
            return
        async with self._db.transaction() as db:
            await db.executemany("UPDATE inbox SET attempts=attempts+1 WHERE key=?", [(k,) for k in keys])

    async def unfinished(self, platform: str) -> list[InboxEntry]:
        """The platform's rows not yet answered, in the order they arrived, with their files."""
        rows = await self._db.fetch_all(
            "SELECT * FROM inbox WHERE platform=? AND state IN (?, ?) ORDER BY rowid", (platform, PENDING, DONE))
        files: dict[str, list[Attachment]] = {}
        if rows:
            for f in await self._db.fetch_all(
                    "SELECT * FROM inbox_files WHERE key IN (SELECT key FROM inbox WHERE platform=? AND state IN"
                    " (?, ?)) ORDER BY key, n", (platform, PENDING, DONE)):
                files.setdefault(f["key"], []).append(Attachment(f["filename"], bytes(f["data"]), f["content_type"]))
        return [_entry(r, tuple(files.get(r["key"], ()))) for r in rows]

    async def states(self, platform: str) -> dict[str, str]:
        """key -> state of every row of the platform (for tests and operators)."""
        rows = await self._db.fetch_all("SELECT key, state FROM inbox WHERE platform=?", (platform,))
        return {r["key"]: r["state"] for r in rows}

    async def prune(self, before: float) -> int:
        """Forgets answered and failed rows last touched before `before`; returns how many."""
        async with self._db.transaction() as db:
            cursor = await db.execute("DELETE FROM inbox WHERE state IN ('answered', 'failed') AND updated_at < ?",
                                      (before,))
            count = cursor.rowcount
            await cursor.close()
        return int(count)

    # ------------------------------------------------------------ exactly once

    @contextmanager
    def completing(self, key: str) -> Iterator[Receipt]:
        """While a command runs: the first write transaction of the store marks its row done too."""
        receipt = Receipt(key)
        token = self._completing.set(receipt)
        try:
            yield receipt
        finally:
            self._completing.reset(token)

    async def complete(self, db: aiosqlite.Connection) -> Receipt | None:
        """Inside a store transaction: marks the running command's row done (see `completing`)."""
        receipt = self._completing.get()
        if receipt is None or receipt.done:
            return None
        await db.execute("UPDATE inbox SET state=?, updated_at=? WHERE key=? AND state=?",
                         (DONE, time.time(), receipt.key, PENDING))
        return receipt

    @staticmethod
    def committed(receipt: Receipt | None) -> None:
        """After that transaction committed (never before: a rollback must leave the row pending)."""
        if receipt is not None:
            receipt.done = True


def _place_json(place: Place | None) -> str | None:
    if place is None:
        return None
    return json.dumps([place.platform, place.workspace, place.channel, place.thread, place.age_restricted])


def _entry(r: aiosqlite.Row, files: tuple[Attachment, ...]) -> InboxEntry:
    made = json.loads(r["made"]) if r["made"] else None
    return InboxEntry(
        key=r["key"], place=Place(r["platform"], r["workspace"], r["channel"], r["thread"]),
        author_id=r["author_id"], author=r["author"], text=r["text"], payload=json.loads(r["payload"]),
        token=r["token"], files=files, seed=int(r["seed"]), received_at=float(r["received_at"]),
        made=Place(*made) if made else None, state=r["state"], attempts=int(r["attempts"]),
        result=json.loads(r["result"]) if r["result"] else None)
