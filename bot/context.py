"""The values that pass between platforms and the service: who, where, what came back.

Adapters build Actor, Place and Attachment from their events, get a Reply (with a RenderTicket
to follow when a panel is on its way), and provide an Outlet that posts finished panels.
Plain values, no I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.ports import RenderHandle


@dataclass(frozen=True)
class Actor:
    platform: str
    id: str
    name: str
    is_admin: bool = False  # Discord "Manage Threads", Slack workspace admin
    manages_server: bool = False  # Discord "Manage Server", Slack workspace admin: /admin, quota exemption

    def key(self) -> str:
        """Who someone is for permissions: display names can be changed and copied, ids cannot."""
        return f"{self.platform}:{self.id}"


@dataclass(frozen=True)
class Place:
    platform: str
    workspace: str
    channel: str
    thread: str
    # Discord: the thread's channel is marked age-restricted (NSFW). Slack has no such flag.
    age_restricted: bool = False

    def key(self) -> tuple[str, str, str, str]:
        return (self.platform, self.workspace, self.channel, self.thread)


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    content_type: str = ""


@dataclass(frozen=True)
class Reply:
    text: str
    ephemeral: bool = False
    files: tuple[tuple[str, bytes], ...] = ()
    ticket: RenderTicket | None = None
    world_id: str | None = None
    error: bool = False  # the command was refused and changed nothing


# Makes a new thread for a new world (Discord creates a thread, Slack posts a root message).
NewPlace = Callable[[str], Awaitable[Place]]


@dataclass(frozen=True)
class Delivery:
    """A finished panel for an Outlet to post."""

    job_id: str
    world_id: str
    panel: int
    take: int
    place: Place
    author: str
    caption: str
    png: bytes
    record: dict[str, Any]
    retry: bool = False  # it may have been posted, in part, before a restart: look before posting
    spoiler: bool = False  # the image filter flagged it and the server posts such panels as spoilers


class DeliveryRefused(Exception):
    """The platform will never take this panel (thread deleted, access lost): stop retrying it."""


class Outlet(Protocol):
    """What a platform provides to post finished panels (and failures) into a thread."""

    async def deliver(self, d: Delivery) -> str:
        """Posts the panel; returns the platform's message id."""
        ...

    async def failed(self, place: Place, job_id: str, panel: int, error: str) -> None: ...


@dataclass
class RenderTicket:
    job_id: str
    world_id: str
    panel: int
    take: int
    handle: RenderHandle
    # Resolves with the message id once posted; raises if rendering or posting failed.
    done: asyncio.Future[str] = field(repr=False, default_factory=lambda: asyncio.get_running_loop().create_future())
