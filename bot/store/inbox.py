"""The inbox table: every command acknowledged to a platform, keyed by the platform's own id.

Rows are written before the platform is acknowledged, so their writes are grouped: whatever arrives
while a transaction is in flight is committed together in the next one (one fsync for a burst of
twenty people, not twenty). A command's own write transaction (events + job, a new world) marks its
row done through `complete`, inside that transaction: see bot/inbox.py for the whole life of a row.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import aiosqlite

from bot.context import Attachment, Place
from bot.inbox import DONE, PENDING, InboxEntry, Receipt


class _Database(Protocol):
    """What the table needs of the Store (bot.store.core)."""

    def transaction(self, urgent: bool = False) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...
    async def fetch_all(self, sql: str, args: Iterable[Any] = ()) -> list[aiosqlite.Row]: ...


class InboxTable:
    def __init__(self, db: _Database) -> None:
        self._db = db
        self._adds: list[tuple[InboxEntry, asyncio.Future[bool]]] = []
        self._finishes: list[tuple[tuple[Any, ...], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._completing: ContextVar[Receipt | None] = ContextVar("inbox_completing", default=None)

    # ------------------------------------------------------------ grouped writes

    def _wake(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="inbox-writes")

    async def _flush(self) -> None:
        # A handful of statements per group, whatever its size: on a busy event loop every await counts.
        while self._adds or self._finishes:
            adds, self._adds = self._adds, []
            finishes, self._finishes = self._finishes, []
            try:
                async with self._db.transaction(urgent=bool(adds)) as db:  # a platform waits for the adds
                    new = await _insert(db, [entry for entry, _ in adds])
                    if finishes:
                        await db.executemany("UPDATE inbox SET state=?, result=COALESCE(?, result), updated_at=?"
                                             " WHERE key=?", [args for args, _ in finishes])
            except Exception as e:
                for _, future in [*adds, *finishes]:
                    future.set_exception(e)
                continue
            for (_, added), is_new in zip(adds, new, strict=True):
                added.set_result(is_new)
            for _, finished in finishes:
                finished.set_result(None)

    async def drain(self) -> None:
        """Waits for the writes in hand (before the database closes)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.wait({self._flusher})

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


async def _insert(db: aiosqlite.Connection, entries: list[InboxEntry]) -> list[bool]:
    """Inserts the entries whose key is new; for each entry, whether it was (a key twice: the first)."""
    if not entries:
        return []
    keys = list({e.key for e in entries})
    existing: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        async with db.execute(f"SELECT key FROM inbox WHERE key IN ({','.join('?' * len(chunk))})", chunk) as cur:
            existing.update(r[0] for r in await cur.fetchall())
    new = []
    for e in entries:
        new.append(e.key not in existing)
        existing.add(e.key)
    fresh = [e for e, is_new in zip(entries, new, strict=True) if is_new]
    now = time.time()
    await db.executemany(
        "INSERT INTO inbox (key, platform, workspace, channel, thread, author_id, author, text, payload, token, seed,"
        " received_at, made, state, attempts, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
        [(e.key, e.place.platform, e.place.workspace, e.place.channel, e.place.thread, e.author_id, e.author, e.text,
          json.dumps(e.payload, ensure_ascii=False), e.token, e.seed, e.received_at, _place_json(e.made), PENDING, now)
         for e in fresh])
    files = [(e.key, n, f.filename, f.content_type, f.data) for e in fresh for n, f in enumerate(e.files)]
    if files:
        await db.executemany("INSERT INTO inbox_files VALUES (?, ?, ?, ?, ?)", files)
    return new


def _place_json(place: Place | None) -> str | None:
    if place is None:
        return None
    return json.dumps([place.platform, place.workspace, place.channel, place.thread])


def _entry(r: aiosqlite.Row, files: tuple[Attachment, ...]) -> InboxEntry:
    made = json.loads(r["made"]) if r["made"] else None
    return InboxEntry(
        key=r["key"], place=Place(r["platform"], r["workspace"], r["channel"], r["thread"]),
        author_id=r["author_id"], author=r["author"], text=r["text"], payload=json.loads(r["payload"]),
        token=r["token"], files=files, seed=int(r["seed"]), received_at=float(r["received_at"]),
        made=Place(*made) if made else None, state=r["state"], attempts=int(r["attempts"]),
        result=json.loads(r["result"]) if r["result"] else None)
