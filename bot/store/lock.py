"""The store's write lock: one transaction at a time, and the urgent ones first.

A command is written to the inbox while the platform waits for its acknowledgement (3 seconds on
Discord and Slack); everything else that writes (events, jobs, blobs) can wait a little. Urgent
waiters go before the others; among themselves, and among the others, first come first served.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools


class WriteLock:
    def __init__(self) -> None:
        self._held = False
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def acquire(self, urgent: bool = False) -> None:
        if not self._held and not self._waiters:
            self._held = True
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (0 if urgent else 1, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # it was handed to us as we were cancelled: pass it on
            raise

    def release(self) -> None:
        """Hands the lock to the next waiter (urgent first), or frees it."""
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)
                return
        self._held = False
