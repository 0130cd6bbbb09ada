"""The composition root: store, engine, renderings and service, opened and closed in order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.rendering import Renderings
from bot.service import WorldService
from bot.store import Store
from engine.jobs import Renderer
from engine.queue import Engine

if TYPE_CHECKING:
    from engine.llm_planner import LLMPlanner

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    store: Store
    engine: Engine
    renderings: Renderings
    service: WorldService


@asynccontextmanager
async def open_app(settings: Settings, renderer: Renderer | None = None,
                   planner: LLMPlanner | None = None) -> AsyncIterator[App]:
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
            llm = planner or await _llm_planner(settings)
            if llm is not None:
                renderings.planner, renderings.planner_blocks = llm.plan, True
            service = WorldService(store, renderings, limits=settings.limits)
            # The storyboard draws from the words alone; anchoring only helps renderers that read images.
            reads_images = renderer.name != "sketch"
            renderings.auto_anchor = reads_images and bool(settings.engine.get("auto_anchor", True))
            renderings.previous_reference = float(settings.engine.get("previous_panel_reference", 0.3)) * reads_images
            renderings.anchor = service.anchor
            log.info("worldloom ready: database %s, renderer %s, planner %s", settings.database, renderer.name,
                     "llm" if llm else "rule")
            try:
                yield App(settings, store, engine, renderings, service)
            finally:
                await renderings.close()
                if llm is not None:
                    llm.close()


async def _llm_planner(settings: Settings) -> LLMPlanner | None:
    """The model-backed planner when configured; loading the model happens off the event loop."""
    if settings.planner != "llm":
        return None
    model = str(settings.llm.get("model") or "")
    if not model:
        log.warning("planner = \"llm\" but [llm] model is empty: using the rule planner")
        return None
    from engine.llm_planner import LLMPlanner, transformers_generator

    generate = await asyncio.to_thread(transformers_generator, model)
    return LLMPlanner(generate, timeout_s=float(settings.llm.get("timeout_s", 5.0)))
