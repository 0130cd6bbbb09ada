"""The outbox: follows every render job from the queue to the thread it belongs in.

A job is stored `planned` with its events; the outbox moves it to `rendering`, stores the image
and marks it `rendered`, then posts it through its platform's Outlet and marks it `posted` (or
`failed` / `cancelled`). After a restart `recover` re-submits what was not rendered and posts
what was rendered but not posted, with the same seeds. The outbox never calls the service:
what follows a rendered panel (automatic anchoring, ...) subscribes to `PanelRendered`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.context import Delivery, DeliveryRefused, Outlet, Place, RenderTicket
from bot.ports import JobRecord, RenderHandle, RenderQueue, WorldStore
from engine.compose import caption
from engine.errors import RenderCancelled, RenderFailed
from engine.jobs import RenderJob

log = logging.getLogger(__name__)

UNFINISHED = ("queued", "planned", "rendering")


@dataclass(frozen=True)
class PanelRendered:
    """Published once a panel's image is stored, before it is posted."""

    job_id: str
    world_id: str
    panel: int
    take: int
    image: str  # sha256 of the stored PNG
    anchor: str | None  # the character this panel may anchor (see engine.compose)


Subscriber = Callable[[PanelRendered], Awaitable[None]]


@dataclass(frozen=True)
class JobEvent:
    """A job moved on: "stored" (followed), "rendered", "posted", "failed" or "cancelled" (metrics, logs)."""

    job_id: str
    world_id: str
    panel: int
    platform: str
    state: str
    seconds: float = 0.0  # posted: from stored (followed) to posted; rendered: the render's own time
    error: str = ""


Watcher = Callable[[JobEvent], None]


class Screen(Protocol):
    """The image filter between rendering and storing (bot/image_guard.py)."""

    async def rendered(self, job: JobRecord, place: Place, png: bytes, spoilers: bool) -> bool:
        """True: post it as a spoiler. Raises RenderFailed to hold the panel back."""
        ...

    async def spoiler(self, image: str) -> bool: ...


class Outbox:
    def __init__(self, store: WorldStore, queue: RenderQueue, screen: Screen | None = None) -> None:
        self._store = store
        self._queue = queue
        self._screen = screen
        self._subscribers: list[Subscriber] = []
        self._watchers: list[Watcher] = []
        self._followed_at: dict[str, float] = {}
        self._outlets: dict[str, Outlet] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._tickets: dict[str, RenderTicket] = {}

    def subscribe(self, subscriber: Subscriber) -> None:
        """`subscriber` hears of every panel rendered from now on (the composition root wires these)."""
        self._subscribers.append(subscriber)

    def watch(self, watcher: Watcher) -> None:
        """`watcher` hears of every job's steps from now on (metrics, job logs); it must not block."""
        self._watchers.append(watcher)

    def _tell(self, job_id: str, world_id: str, panel: int, platform: str, state: str, seconds: float = 0.0,
              error: str = "") -> None:
        event = JobEvent(job_id, world_id, panel, platform, state, seconds, error)
        for watcher in self._watchers:
            try:
                watcher(event)
            except Exception:
                log.exception("a job watcher failed on %s", job_id)

    # ------------------------------------------------------------ outlets

    def connect(self, platform: str, outlet: Outlet) -> None:
        """Panels of `platform` are posted through `outlet` from now on."""
        self._outlets[platform] = outlet

    def disconnect(self, platform: str) -> None:
        """Panels finishing from now on stay `rendered`; the next start posts them."""
        self._outlets.pop(platform, None)

    # ------------------------------------------------------------ following jobs

    def follow(self, job_id: str, world_id: str, panel: int, take: int, handle: RenderHandle,
               anchor: str | None = None) -> RenderTicket:
        """Takes over a submitted job; the ticket resolves with the posted message id."""
        ticket = RenderTicket(job_id, world_id, panel, take, handle)
        self._tickets[job_id] = ticket
        self._followed_at[job_id] = time.monotonic()
        self._tell(job_id, world_id, panel, "", "stored")
        task = asyncio.create_task(self._finish(ticket, anchor), name=f"render-{job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return ticket

    async def _finish(self, ticket: RenderTicket, anchor: str | None) -> None:
        try:
            sha = await self._render(ticket)
            await self._publish(PanelRendered(ticket.job_id, ticket.world_id, ticket.panel, ticket.take, sha, anchor))
            message_id = await self.post(ticket.job_id)
            if not ticket.done.done():
                ticket.done.set_result(message_id or "")
        except asyncio.CancelledError:
            if not ticket.done.done():
                ticket.done.cancel()
            raise
        except Exception as e:
            if not isinstance(e, (RenderCancelled, RenderFailed, DeliveryRefused)):
                log.exception("render job %s failed", ticket.job_id)
            if not ticket.done.done():
                ticket.done.set_exception(e)
        finally:
            self._tickets.pop(ticket.job_id, None)
            self._followed_at.pop(ticket.job_id, None)
            # Nobody may await ticket.done (chat platforms don't): mark its exception retrieved.
            if ticket.done.done() and not ticket.done.cancelled():
                ticket.done.exception()

    async def _render(self, ticket: RenderTicket) -> str:
        """Waits for the image, moving the job through its states; returns the stored image's sha."""
        try:
            async for status in ticket.handle.updates():
                if status.state == "rendering":
                    await self._store.set_job_state(ticket.job_id, "rendering")
                if status.state != "queued":
                    break
            result = await ticket.handle.result()
            await self._screened(ticket.job_id, result.png)
        except RenderCancelled:
            await self._store.set_job_state(ticket.job_id, "cancelled")
            self._tell(ticket.job_id, ticket.world_id, ticket.panel, "", "cancelled")
            raise
        except RenderFailed as e:
            await self._store.set_job_state(ticket.job_id, "failed", str(e))
            row = await self._store.job(ticket.job_id)
            platform = row.place["platform"] if row is not None else ""
            self._tell(ticket.job_id, ticket.world_id, ticket.panel, platform, "failed", error=str(e))
            if row is not None and (outlet := self._outlets.get(platform)):
                await outlet.failed(_place(row), row.id, row.panel, str(e))
            raise
        sha = await self._store.put_blob(result.png)
        await self._store.job_rendered(ticket.job_id, sha)
        self._tell(ticket.job_id, ticket.world_id, ticket.panel, "", "rendered", result.seconds)
        return sha

    async def _screened(self, job_id: str, png: bytes) -> None:
        """The image filter's word on a rendered panel, before it is stored (raises RenderFailed)."""
        if self._screen is None:
            return
        row = await self._store.job(job_id)
        if row is not None:
            outlet = self._outlets.get(row.place["platform"])
            await self._screen.rendered(row, _place(row), png, bool(getattr(outlet, "spoilers", False)))

    async def _publish(self, event: PanelRendered) -> None:
        # A subscriber's failure is logged and never stops the panel from being posted.
        for subscriber in self._subscribers:
            try:
                await subscriber(event)
            except Exception:
                log.exception("a subscriber to PanelRendered failed for job %s", event.job_id)

    async def post(self, job_id: str, retry: bool = False) -> str | None:
        """Posts a rendered job through its platform's outlet; None when no outlet is connected.

        `retry`: it may have been posted (in part) before a restart; the outlet looks before posting."""
        row = await self._store.job(job_id)
        if row is None or row.state != "rendered" or row.image is None:
            return row.message_id if row else None
        outlet = self._outlets.get(row.place["platform"])
        if outlet is None:
            return None
        png = await self._store.get_blob(row.image)
        record = dict(row.spec["record"])
        spoiler = self._screen is not None and await self._screen.spoiler(row.image)
        delivery = Delivery(job_id=row.id, world_id=row.world_id, panel=row.panel, take=row.take,
                            place=_place(row), author=row.author, caption=caption(record), png=png, record=record,
                            spoiler=spoiler, retry=retry)
        platform = row.place["platform"]
        try:
            message_id = await outlet.deliver(delivery)
        except DeliveryRefused as e:
            await self._store.set_job_state(row.id, "failed", f"delivery refused: {e}")
            self._tell(row.id, row.world_id, row.panel, platform, "failed", error=f"delivery refused: {e}")
            raise
        except Exception as e:
            self._tell(row.id, row.world_id, row.panel, platform, "delivery_error", error=repr(e)[:200])
            raise
        await self._store.job_posted(row.id, message_id)
        started = self._followed_at.get(row.id)
        self._tell(row.id, row.world_id, row.panel, platform, "posted",
                   time.monotonic() - started if started is not None else 0.0)
        return message_id

    async def recover(self, platform: str) -> int:
        """Posts `platform`'s rendered jobs and renders its unfinished ones again; returns how many."""
        count = 0
        for row in await self._store.jobs_in_state("rendered"):
            if row.place["platform"] != platform or row.id in self._tickets:
                continue  # (one rendered since the start is being posted by its own follower)
            try:
                await self.post(row.id, retry=True)
                count += 1
            except DeliveryRefused as e:
                log.warning("recovered job %s can no longer be posted: %s", row.id, e)
            except Exception:
                log.exception("could not post recovered job %s", row.id)
        for row in await self._store.jobs_in_state(*UNFINISHED):
            if row.id in self._tickets or row.place["platform"] != platform:
                continue
            handle = self._queue.submit(RenderJob.from_json(row.spec["job"]), stored=True)
            self.follow(row.id, row.world_id, row.panel, row.take, handle, anchor=row.spec.get("anchor"))
            count += 1
        return count

    async def wait_idle(self) -> None:
        """Waits until every job followed so far is posted, failed or cancelled."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _place(row: JobRecord) -> Place:
    return Place(**row.place)
