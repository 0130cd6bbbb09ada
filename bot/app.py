"""The composition root: every part of the bot is built here, opened in order and closed in reverse.

    store (SQLite) -> engine (render queue on its worker thread) -> outbox (follows jobs to the
    threads) -> inbox (commands stored before they are acknowledged) -> service (commands)
    -> platforms, attached with `App.serving(platform)`

Nothing else constructs these or sets their fields afterwards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from bot.config import LLM_DEFAULTS, ConfigError, Settings, SetupError, check_renderer
from bot.context import Outlet
from bot.guard import Guard
from bot.inbox import Inbox, InboxEntry
from bot.logs import log_job
from bot.outbox import Outbox
from bot.public_settings import ModerationSettings
from bot.service import WorldService
from bot.store import AdminStore, Store
from bot.store.backup import holding
from engine.build import build_engine, split_settings
from engine.compose import Target
from engine.events import fold
from engine.jobs import Capabilities, Renderer
from engine.moderation.images import ImageClassifier, ModeratedRenderer
from engine.moderation.words import DEFAULT_BLOCKLIST, WordFilter, read_terms
from engine.phrases import tags
from engine.planner import plan
from engine.queue import Engine
from engine.renderers.diffusion.settings import DEFAULTS as ENGINE_DEFAULTS
from engine.renderers.registry import make_renderer

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


@runtime_checkable
class UsesInbox(Protocol):
    """A platform that stores its commands in the inbox before acknowledging them (Discord, Slack)."""

    def attach_inbox(self, inbox: Inbox) -> None: ...

    async def replay(self, entry: InboxEntry) -> None:
        """Processes and answers a command left from before a restart."""
        ...


P = TypeVar("P", bound=Platform)


@dataclass
class App:
    settings: Settings
    store: Store
    engine: Engine
    outbox: Outbox
    service: WorldService
    guard: Guard = field(default_factory=Guard)
    admin: AdminStore | None = None
    platforms: list[Platform] = field(default_factory=list)  # those being served (for /readyz)
    inbox: Inbox | None = None

    @asynccontextmanager
    async def serving(self, platform: P) -> AsyncIterator[P]:
        """Starts the platform, posts its panels from then on (first those left from before), closes it.

        Its commands left in the inbox by a crash are processed before any new one."""
        inbox = self.inbox if isinstance(platform, UsesInbox) else None
        if inbox is not None:
            platform.attach_inbox(inbox)  # type: ignore[attr-defined]
            inbox.hold(platform.name)
        await platform.start()
        self.platforms.append(platform)
        try:
            self.outbox.connect(platform.name, platform.outlet)
            if inbox is not None:
                await inbox.recover(platform.name, platform.replay)  # type: ignore[attr-defined]
            recovered = await self.outbox.recover(platform.name)
            if recovered:
                log.info("%s: %d unfinished panel(s) picked up", platform.name, recovered)
            yield platform
        finally:
            if inbox is not None:  # its recovered commands still in hand wait for the next start
                await inbox.stop(platform.name)
            # Panels finishing from now on stay "rendered" and are posted after the next start.
            self.outbox.disconnect(platform.name)
            self.platforms.remove(platform)
            await platform.close()


@asynccontextmanager
async def open_app(settings: Settings, renderer: Renderer | None = None,
                   planner: LLMPlanner | None = None) -> AsyncIterator[App]:
    """Opens the database, starts the engine, builds the service; closes them in reverse order."""
    words = await _word_filter(settings.moderation)
    m = settings.moderation
    # The image filter: on the local worker it classifies every batch right after it is drawn; with
    # render workers on Ray the bot classifies each rendered image off the event loop instead.
    classifier = ImageClassifier(m.image_model, m.image_labels) if m.image_model else None
    engine, moderated = _engine(settings, renderer, classifier)  # a bad setting: before anything is opened
    # Held while the app runs: `worldloom restore` refuses to overwrite a database in use.
    with holding(settings.database):
        async with Store.open(settings.database) as store:
            try:
                await engine.start()
            except Exception as e:  # a model, a device or a cluster that is not there: not a bug here
                raise SetupError(f"the {engine.renderer.name} renderer could not start: {e}") from e
            try:
                # Capabilities are final once the engine has loaded the renderer (on Ray: a stand-in for it).
                renderer = engine.renderer
                caps: Capabilities = renderer.capabilities
                # reference_mode = "off": no reference images at all, whichever the model (and no anchoring).
                references = caps.reads_images and str(settings.engine.get("reference_mode", "")) != "off"
                if not references:
                    caps = replace(caps, max_references=0)
                admin = AdminStore(store)
                guard = Guard(admin, m, settings.quotas, words=words,
                              classify=classifier.explicit if classifier else None,
                              verdicts=moderated.take_verdict if moderated else None)
                outbox = Outbox(store, engine, screen=guard.images)
                outbox.watch(log_job)
                inbox = Inbox(store.inbox)
                previous = float(engine_setting(settings, "previous_panel_reference")) if references else 0.0
                target = Target(renderer=renderer.name, capabilities=caps, budget=settings.prompt_budget,
                                count_tokens=getattr(renderer, "count_tokens", None), previous_weight=previous)
                llm = planner or await _llm_planner(settings)
                if llm is None:
                    # The rule planner loads its word tables on first use (half a second): here, off the event
                    # loop, rather than inside the first command, where it would hold up every acknowledgement.
                    await asyncio.to_thread(_warm_up)
                service = WorldService(store, engine, outbox, target=target, limits=settings.limits,
                                       planner=llm.plan if llm else plan, planner_blocks=llm is not None, guard=guard,
                                       default_seed=inbox.default_seed)
                # Automatic anchoring only helps renderers that read images; the storyboard reads words.
                if references and bool(engine_setting(settings, "auto_anchor")):
                    outbox.subscribe(service.on_panel_rendered)
                log.debug("worldloom ready: database %s, renderer %s, planner %s", settings.database, renderer.name,
                          "llm" if llm else "rule")
                try:
                    yield App(settings, store, engine, outbox, service, guard, admin, inbox=inbox)
                finally:
                    await outbox.close()
                    await inbox.close()
                    if llm is not None:
                        llm.close()
                    if classifier is not None and moderated is None:
                        classifier.close()
            finally:
                await engine.close()


def _engine(settings: Settings, renderer: Renderer | None,
            classifier: ImageClassifier | None) -> tuple[Engine, ModeratedRenderer | None]:
    """The engine (not started) and, with an image filter on the local worker, the renderer it wraps."""
    caps = {"max_batch": settings.max_batch, "per_user_cap": settings.per_user_cap, "global_cap": settings.global_cap}
    if renderer is None:
        check_renderer(settings)
        try:  # the local worker thread, or render workers on Ray ([engine] backend)
            chosen, renderer_settings = split_settings(settings.engine)
            if chosen.backend != "local":
                return build_engine(settings.renderer, settings.engine, **caps), None
            renderer = make_renderer(settings.renderer, renderer_settings)
        except (ValueError, RuntimeError) as e:  # RuntimeError: backend = "ray" without Ray installed
            raise ConfigError(str(e)) from None
    moderated = ModeratedRenderer(renderer, classifier) if classifier is not None else None
    return Engine(moderated or renderer, **caps), moderated


def engine_setting(settings: Settings, key: str) -> Any:
    return settings.engine.get(key, ENGINE_DEFAULTS[key])


async def _word_filter(m: ModerationSettings) -> WordFilter | None:
    """The built-in block list, plus the operator's file, less the allowed words; None when off."""
    if not m.prompt_filter:
        return None
    extra: list[str] = []
    if m.blocklist_file:
        try:
            extra = read_terms(await asyncio.to_thread(Path(m.blocklist_file).read_text, encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"[moderation] blocklist_file {m.blocklist_file}: {e.strerror or e}") from None
    return WordFilter([*DEFAULT_BLOCKLIST, *extra], allow=m.allow_words)


def _warm_up() -> None:
    tags("waves")  # lemminflect's word tables
    plan(fold("warm-up", []), "a stranger waves at the crowd")


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
