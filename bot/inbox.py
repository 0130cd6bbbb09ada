"""The inbox: every command is stored before it is acknowledged, processed once, then answered.

    adapter:  entry = InboxEntry.new(...); await inbox.accept(entry)  -> acknowledge -> inbox.handle(...)
    handle:   one lane per thread, in arrival order (rows left from before a restart go first);
              a command typed in a thread whose world is still being created waits for that world;
              execute() runs with a Receipt: the command's own write transaction (events + job) marks
              the row done, so a command is processed exactly once; then answer(reply); the row is
              `answered`.
    restart:  `recover` hands every row not answered back to its platform, with its original author,
              text, seed and files. A row processed before the crash is only answered.

Rows that only read (/world show, /help, refusals) change nothing, so they stay `pending` until
answered: after a crash they are simply run again. Answered rows are kept `keep_s` (a day) so that
a re-sent event finds its key, then pruned. The SQL is in bot/store/inbox.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from bot.context import Attachment, NewPlace, Place, Reply

log = logging.getLogger(__name__)

PENDING, DONE, ANSWERED, FAILED = "pending", "done", "answered", "failed"
GAVE_UP = ("⚠️ I could not finish this command: I stopped {n} times while working on it, so I have put it "
           "aside. Please try again, perhaps with different words.")
Lane = tuple[str, str, str, str]
_SEEN_MAX = 4096


@dataclass(frozen=True)
class InboxEntry:
    """One command as it arrived: enough for its platform to process and answer it again after a crash."""

    key: str  # the platform's own id: "discord:<interaction id>", "slack:<trigger id>", "slack:<channel>:<ts>"
    place: Place  # where it was typed: its lane
    author_id: str
    author: str
    text: str  # the command as typed (or as its button reads)
    payload: dict[str, Any]  # the adapter's own: what it needs to act again (JSON)
    token: str | None = None  # Discord interaction token, Slack response_url
    files: tuple[Attachment, ...] = ()  # attachments downloaded before the acknowledgement
    seed: int = 0  # the default seed of what the command creates (a new world)
    received_at: float = 0.0
    made: Place | None = None  # the thread a /world new opened, recorded before the world is bound
    state: str = PENDING
    attempts: int = 0  # how many times it was started again after a restart
    result: dict[str, Any] | None = None  # the reply, once the command is done

    @property
    def platform(self) -> str:
        return self.place.platform

    @classmethod
    def new(cls, key: str, place: Place, author_id: str, author: str, text: str, payload: dict[str, Any], *,
            token: str | None = None, files: Iterable[Attachment] = ()) -> InboxEntry:
        return cls(key, place, author_id, author, text, payload, token, tuple(files), secrets.randbits(31),
                   time.time())


@dataclass
class Receipt:
    """Handed to the store while a command runs: its first write transaction also marks the row done."""

    key: str
    done: bool = False  # True once that transaction has committed


def reply_record(reply: Reply) -> dict[str, Any]:
    """What is kept of a reply to answer it after a restart (files and progress are not)."""
    return {"text": reply.text, "ephemeral": reply.ephemeral, "error": reply.error, "world_id": reply.world_id}


def reply_from(record: dict[str, Any] | None) -> Reply:
    if not record:
        return Reply("✅ Done (I restarted while answering).")
    return Reply(str(record.get("text") or ""), ephemeral=bool(record.get("ephemeral")),
                 error=bool(record.get("error")), world_id=record.get("world_id"))


class InboxStore(Protocol):
    """The inbox table (bot.store.inbox.InboxTable)."""

    async def add(self, entry: InboxEntry) -> bool: ...
    async def record_made(self, key: str, place: Place) -> None: ...
    async def finish(self, key: str, state: str, result: dict[str, Any] | None = None) -> None: ...
    async def unfinished(self, platform: str) -> list[InboxEntry]: ...
    async def count_attempts(self, keys: list[str]) -> None: ...
    async def prune(self, before: float) -> int: ...
    def completing(self, key: str) -> AbstractContextManager[Receipt]: ...
    async def drain(self) -> None: ...


@dataclass
class _Slot:
    lane: Lane
    before: asyncio.Future[None] | None
    mine: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


Execute = Callable[[], Awaitable[Reply]]
Answer = Callable[[Reply], Awaitable[None]]
Replay = Callable[[InboxEntry], Awaitable[None]]


class Inbox:
    """Accepts, orders, processes once and recovers the commands of every platform (one per process)."""

    def __init__(self, table: InboxStore, *, keep_s: float = 24 * 3600.0, world_wait_s: float = 60.0,
                 max_attempts: int = 5) -> None:
        self._table = table
        self.keep_s = keep_s
        self.world_wait_s = world_wait_s
        self.max_attempts = max_attempts
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._tails: dict[Lane, asyncio.Future[None]] = {}
        self._reserved: dict[str, _Slot] = {}
        self._gates: dict[str, asyncio.Event] = {}
        self._creating: dict[Lane, asyncio.Event] = {}
        self._made_by: dict[str, list[Lane]] = {}
        self._current: ContextVar[InboxEntry | None] = ContextVar("inbox_current", default=None)
        self._replays: dict[str, set[asyncio.Task[None]]] = {}
        self._recovered: set[str] = set()
        self._in_hand: dict[str, str] = {}  # key -> platform, of the rows this process is handling
        self._chores: set[asyncio.Task[Any]] = set()
        self._pruned_at = time.time()

    # ------------------------------------------------------------ arriving

    async def accept(self, entry: InboxEntry) -> bool:
        """Stores the entry; False when its key arrived before (a retry, or one message as two events).

        The platform is acknowledged only after this returns: what it acknowledged is on disk.
        """
        if entry.key in self._seen:
            return False
        self._seen[entry.key] = None
        if len(self._seen) > _SEEN_MAX:
            self._seen.popitem(last=False)
        try:
            new = await self._table.add(entry)
        except BaseException:
            self._seen.pop(entry.key, None)
            raise
        if new:
            self._in_hand[entry.key] = entry.platform  # this process handles it: `recover` leaves it alone
        if time.time() - self._pruned_at > 3600:
            self._pruned_at = time.time()
            self._chore(self._table.prune(self._pruned_at - self.keep_s))
        return new

    def seen(self, key: str) -> bool:
        """Whether `key` was accepted by this process (a cheap check before downloading anything)."""
        return key in self._seen

    # ------------------------------------------------------------ processing

    async def handle(self, entry: InboxEntry, execute: Execute, answer: Answer) -> None:
        """Runs `execute` in the entry's turn (exactly once, whatever crashes), then `answer`s its reply."""
        self._in_hand[entry.key] = entry.platform
        try:
            slot = self._reserved.pop(entry.key, None)
            if slot is None:
                gate = self._gates.get(entry.platform)
                if gate is not None:
                    await gate.wait()  # the rows left from before a restart are queued first
                slot = self._reserve(entry.place.key())
            reply = await self._process(entry, slot, execute)
            try:
                await answer(reply)
            except asyncio.CancelledError:
                raise
            except Exception:
                await self._table.finish(entry.key, ANSWERED, reply_record(reply))
                raise
            await self._table.finish(entry.key, ANSWERED, reply_record(reply))
        finally:
            self._in_hand.pop(entry.key, None)

    async def _process(self, entry: InboxEntry, slot: _Slot, execute: Execute) -> Reply:
        try:
            if slot.before is not None:
                await asyncio.wait({slot.before})
            if entry.state == DONE:  # processed before a restart: only the answer was missing
                return reply_from(entry.result)
            await self._world_ready(entry)
            if entry.key in self._recovered:
                # Counted only once it really starts again: a command that crashes the bot is put aside.
                self._recovered.discard(entry.key)
                await self._table.count_attempts([entry.key])
            current = self._current.set(entry)
            try:
                with self._table.completing(entry.key) as receipt:
                    try:
                        reply = await execute()
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        # The adapter tells the person; a command that failed is not tried again.
                        await self._table.finish(entry.key, ANSWERED if receipt.done else FAILED)
                        raise
            finally:
                self._current.reset(current)
            if receipt.done:
                await self._table.finish(entry.key, DONE, reply_record(reply))
            return reply
        finally:
            self._release(entry.key, slot)

    def once(self, entry: InboxEntry, make: NewPlace) -> NewPlace:
        """`make` (opens a thread for a new world) at most once per row: the thread is recorded before
        the world is bound to it, so a replay binds that thread instead of opening a second one."""

        async def new_place(title: str) -> Place:
            if entry.made is not None:
                self._note_creating(entry.key, entry.made)
                return entry.made
            place = await make(title)
            self._note_creating(entry.key, place)  # at once: someone may type in the thread already
            await self._table.record_made(entry.key, place)
            return place

        return new_place

    def default_seed(self) -> int:
        """The seed of the command being processed (the same after a replay), else a fresh one."""
        entry = self._current.get()
        return entry.seed if entry is not None else secrets.randbits(31)

    # ------------------------------------------------------------ lanes

    def _reserve(self, lane: Lane) -> _Slot:
        slot = _Slot(lane, self._tails.get(lane))
        self._tails[lane] = slot.mine
        return slot

    def _release(self, key: str, slot: _Slot) -> None:
        if not slot.mine.done():
            slot.mine.set_result(None)
        if self._tails.get(slot.lane) is slot.mine:
            del self._tails[slot.lane]
        for lane in self._made_by.pop(key, []):
            ready = self._creating.pop(lane, None)
            if ready is not None:
                ready.set()

    def _note_creating(self, key: str, place: Place) -> None:
        lane = place.key()
        if lane not in self._creating:
            self._creating[lane] = asyncio.Event()
            self._made_by.setdefault(key, []).append(lane)

    async def _world_ready(self, entry: InboxEntry) -> None:
        ready = self._creating.get(entry.place.key())
        if ready is None or entry.place.key() in self._made_by.get(entry.key, []):
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.world_wait_s):
                await ready.wait()

    # ------------------------------------------------------------ restarts

    def hold(self, platform: str) -> None:
        """New commands of `platform` wait until `recover` has queued those left from before."""
        self._gates[platform] = asyncio.Event()

    async def recover(self, platform: str, replay: Replay) -> int:
        """Hands every row of `platform` not answered back to it, oldest first; returns how many."""
        entries: list[InboxEntry] = []
        try:
            await self._table.prune(time.time() - self.keep_s)
            for entry in await self._table.unfinished(platform):
                if entry.key in self._in_hand:
                    continue  # arrived since the start: handled by its own task
                if entry.state == PENDING and entry.attempts >= self.max_attempts:
                    # It was under way at every one of the last crashes: perhaps it is what crashed.
                    result = reply_record(Reply(GAVE_UP.format(n=entry.attempts), ephemeral=True, error=True))
                    await self._table.finish(entry.key, DONE, result)
                    entry = replace(entry, state=DONE, result=result)
                elif entry.state == PENDING:
                    self._recovered.add(entry.key)
                entries.append(entry)
            for entry in entries:
                self._seen[entry.key] = None
                self._in_hand[entry.key] = platform
                if entry.made is not None and entry.state == PENDING:
                    self._note_creating(entry.key, entry.made)
                self._reserved[entry.key] = self._reserve(entry.place.key())
        finally:
            gate = self._gates.pop(platform, None)
            if gate is not None:
                gate.set()
        tasks = self._replays.setdefault(platform, set())
        for entry in entries:
            task = asyncio.create_task(self._replay(entry, replay), name=f"inbox-replay-{entry.key}")
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if entries:
            log.info("%s: %d command(s) from before the restart picked up", platform, len(entries))
        return len(entries)

    async def _replay(self, entry: InboxEntry, replay: Replay) -> None:
        try:
            await replay(entry)
        except Exception:
            log.exception("could not process recovered command %s", entry.key)
            if entry.key in self._recovered:  # it failed before it started (its thread is gone ...)
                await self._table.count_attempts([entry.key])  # so it is put aside after a few tries
            elif entry.state == DONE and entry.key in self._reserved:
                await self._table.finish(entry.key, FAILED)  # not even its answer can be given
        finally:
            self._recovered.discard(entry.key)
            self._in_hand.pop(entry.key, None)
            slot = self._reserved.pop(entry.key, None)
            if slot is not None:  # the adapter never got to it: free its lane
                self._release(entry.key, slot)

    async def wait_recovered(self, platform: str) -> None:
        """Waits until every command `recover` handed back to the platform is handled (or failed)."""
        while tasks := self._replays.get(platform):
            await asyncio.wait(set(tasks))

    async def stop(self, platform: str) -> None:
        """The platform is going away: its recovered commands still in hand wait for the next start.

        What it acknowledged but never got to is no longer in hand either: the next start recovers it."""
        for key in [k for k, p in self._in_hand.items() if p == platform]:
            del self._in_hand[key]
        tasks = self._replays.pop(platform, set())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _chore(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def close(self) -> None:
        for platform in list(self._replays):
            await self.stop(platform)
        await asyncio.gather(*self._chores, return_exceptions=True)
        await self._table.drain()
