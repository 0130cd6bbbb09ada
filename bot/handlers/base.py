"""What every handler receives: the command's context, the world it acts on, and the services."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.commands import Catalogue
from bot.context import Actor, Attachment, NewPlace, Place, Reply
from bot.guard import Guard
from bot.images import clean_image
from bot.limits import Limits
from bot.ports import WorldStore
from engine.events import Event, Record
from engine.world import World


@dataclass
class WorldSession:
    """One world as the service holds it: its log, its value and who created it."""

    records: list[Record]
    world: World
    creator: str  # "platform:user id"

    def may_moderate(self, actor: Actor) -> bool:
        """Moderators (platform admins) and the world's creator may change what others made."""
        return actor.is_admin or actor.key() == self.creator


# append(session, actor, events) stores one command's events and returns the world after them.
Append = Callable[[WorldSession, Actor, list[Event]], Awaitable[World]]


@dataclass(frozen=True)
class Services:
    """Built once by the service; the same for every command."""

    store: WorldStore
    limits: Limits
    catalogue: Catalogue
    find: Callable[[Place], Awaitable[str | None]]  # the world bound to a thread
    load: Callable[[str], Awaitable[WorldSession]]
    append: Append
    new_id: Callable[[], str]
    default_seed: Callable[[], int]
    guard: Guard = field(default_factory=Guard)  # bans, filters, quotas, audit (public servers)


@dataclass(frozen=True)
class Ctx:
    """One command's context: who asked, where, with which files, and the world it acts on."""

    actor: Actor
    place: Place
    text: str  # the command as typed (or as its button spells it), for panels and /history
    files: Sequence[Attachment]
    new_place: NewPlace | None  # how to open a new thread, for commands that make a world
    session: WorldSession | None  # None for commands that need no world
    services: Services

    @property
    def world(self) -> World:
        assert self.session is not None, "this command needs a world"
        return self.session.world

    def may_moderate(self) -> bool:
        return self.session is not None and self.session.may_moderate(self.actor)

    async def append(self, events: list[Event]) -> World:
        """Stores the command's events as one group, by this actor."""
        assert self.session is not None
        return await self.services.append(self.session, self.actor, events)

    async def store_image(self, file: Attachment) -> str:
        """An uploaded image, checked, re-encoded and classified off the loop, stored as a blob; returns its sha."""
        data = await asyncio.to_thread(clean_image, file.data, self.services.limits.image)
        command = self.text.split(maxsplit=1)[0] if self.text.strip() else "upload"
        await self.services.guard.check_upload(data, self.actor, self.place, f"{command} image")
        return await self.services.store.put_blob(data)


Handler = Callable[[Any, Ctx], Awaitable[Reply]]
