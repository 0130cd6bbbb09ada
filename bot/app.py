"""The composition root: every part of the bot is built here, opened in order and closed in reverse.

    store (SQLite) -> engine (render queue on its worker thread) -> outbox (follows jobs to the
    threads) -> service (commands) -> platforms, attached with `App.serving(platform)`

Nothing else constructs these or sets their fields afterwards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bot.config import LLM_DEFAULTS, ConfigError, Settings, SetupError, check_renderer
from bot.context import Outlet
from bot.outbox import Outbox
from bot.service import WorldService
from bot.store import Store
from engine.build import build_engine
from engine.compose import Target
from engine.jobs import Capabilities, Renderer
from engine.planner import plan
from engine.queue import Engine
from engine.renderers.diffusion.settings import DEFAULTS as ENGINE_DEFAULTS

if TYPE_CHECKING:
    from engine.llm_planner import LLMPlanner

log = logging.getLogger(__name__)


class Platform(Protocol):
    """A chat platform (or the console): started, given an outlet for panels, closed."""

    name: str  # the Place.platform of its threads

    async def start(self) -> None: ...

    @property
    def outlet(self) -> Outlet: ...

    async def close(self) -> None: ...


P = TypeVar("P", bound=Platform)


@dataclass
class App:
    settings: Settings
    store: Store
    engine: Engine
    outbox: Outbox
    service: WorldService

    @asynccontextmanager
    async def serving(self, platform: P) -> AsyncIterator[P]:
        """Starts the platform, posts its panels from then on (first those left from before), closes it."""
        await platform.start()
        try:
            self.outbox.connect(platform.name, platform.outlet)
            recovered = await self.outbox.recover(platform.name)
            if recovered:
                log.info("%s: %d unfinished panel(s) picked up", platform.name, recovered)
            yield platform
        finally:
            # Panels finishing from now on stay "rendered" and are posted after the next start.
            self.outbox.disconnect(platform.name)
            await platform.close()


@asynccontextmanager
async def open_app(settings: Settings, renderer: Renderer | None = None,
                   planner: LLMPlanner | None = None) -> AsyncIterator[App]:
    """Opens the database, starts the engine, builds the service; closes them in reverse order."""
    engine = _engine(settings, renderer)  # a bad renderer or [engine] setting: before anything is opened
    async with Store.open(settings.database) as store:
        try:
            await engine.start()
        except Exception as e:  # a model that is not there, a device or a cluster that is not: not a bug here
            raise SetupError(f"the {engine.renderer.name} renderer could not start: {e}") from e
        try:
            # Capabilities are final once the engine has loaded the renderer (on Ray: a stand-in for it).
            renderer = engine.renderer
            caps: Capabilities = renderer.capabilities
            # reference_mode = "off": no reference images at all, whichever the model (and no anchoring).
            references = caps.reads_images and str(settings.engine.get("reference_mode", "")) != "off"
            if not references:
                caps = replace(caps, max_references=0)
            outbox = Outbox(store, engine)
            previous = float(engine_setting(settings, "previous_panel_reference")) if references else 0.0
            target = Target(renderer=renderer.name, capabilities=caps, budget=settings.prompt_budget,
                            count_tokens=getattr(renderer, "count_tokens", None), previous_weight=previous)
            llm = planner or await _llm_planner(settings)
            service = WorldService(store, engine, outbox, target=target, limits=settings.limits,
                                   planner=llm.plan if llm else plan, planner_blocks=llm is not None)
            # Automatic anchoring only helps renderers that read images; the storyboard reads words.
            if references and bool(engine_setting(settings, "auto_anchor")):
                outbox.subscribe(service.on_panel_rendered)
            log.info("worldloom ready: database %s, renderer %s, planner %s", settings.database, renderer.name,
                     "llm" if llm else "rule")
            try:
                yield App(settings, store, engine, outbox, service)
            finally:
                await outbox.close()
                if llm is not None:
                    llm.close()
        finally:
            await engine.close()


def _engine(settings: Settings, renderer: Renderer | None) -> Engine:
    caps = {"max_batch": settings.max_batch, "per_user_cap": settings.per_user_cap, "global_cap": settings.global_cap}
    if renderer is not None:
        return Engine(renderer, **caps)
    check_renderer(settings)
    try:  # the local worker thread, or render workers on Ray ([engine] backend)
        return build_engine(settings.renderer, settings.engine, **caps)
    except (ValueError, RuntimeError) as e:  # RuntimeError: backend = "ray" without Ray installed
        raise ConfigError(str(e)) from None


def engine_setting(settings: Settings, key: str) -> Any:
    return settings.engine.get(key, ENGINE_DEFAULTS[key])


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
    return LLMPlanner(generate, timeout_s=float(settings.llm.get("timeout_s", LLM_DEFAULTS["timeout_s"])))
