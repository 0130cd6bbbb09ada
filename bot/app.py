"""The composition root: store, engine, renderings and service, opened and closed in order."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.config import Settings
from bot.rendering import Renderings
from bot.service import WorldService
from bot.store import Store
from engine.jobs import Renderer
from engine.queue import Engine

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    store: Store
    engine: Engine
    renderings: Renderings
    service: WorldService


@asynccontextmanager
async def open_app(settings: Settings, renderer: Renderer | None = None) -> AsyncIterator[App]:
    """Opens the database, starts the engine, builds the service; closes them in reverse order."""
    async with Store.open(settings.database) as store:
        if renderer is None:
            from engine.renderers.registry import make_renderer

            renderer = make_renderer(settings.renderer, settings.engine)
        engine = Engine(renderer, max_batch=settings.max_batch, per_user_cap=settings.per_user_cap,
                        global_cap=settings.global_cap)
        async with engine:
            renderings = Renderings(store, engine, renderer_name=renderer.name, budget=settings.prompt_budget,
                                    count_tokens=getattr(renderer, "count_tokens", None))
            service = WorldService(store, renderings, limits=settings.limits)
            log.info("worldloom ready: database %s, renderer %s", settings.database, renderer.name)
            try:
                yield App(settings, store, engine, renderings, service)
            finally:
                await renderings.close()
