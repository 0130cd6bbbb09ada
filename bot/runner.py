"""`worldloom run`: one process serving the configured platforms with one store and one engine,
with metrics and health checks when [metrics] enabled, and a bounded shutdown on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable

from bot.app import Platform, open_app
from bot.config import ConfigError, Settings, SetupError
from bot.metrics import Metrics, OpsServer
from bot.service import WorldService
from engine.jobs import Renderer

log = logging.getLogger(__name__)


def platform_builders(settings: Settings) -> list[Callable[[WorldService], Platform]]:
    """How to build each platform whose section is enabled, its secrets and section checked first:
    a missing token or a bad setting is told before anything is opened or logged."""
    s = settings
    out: list[Callable[[WorldService], Platform]] = []
    if s.discord.get("enabled", bool(s.secret("DISCORD_TOKEN"))):
        token = s.secret("DISCORD_TOKEN")
        if not token:
            raise ConfigError("[discord] is enabled but DISCORD_TOKEN is not set")
        from bot.platforms.discord_app import DiscordPlatform
        from bot.platforms.discord_config import DiscordConfig

        DiscordConfig.from_dict(s.discord)
        out.append(lambda service: DiscordPlatform(service, s.discord, token))
    if s.slack.get("enabled", bool(s.secret("SLACK_BOT_TOKEN"))):
        bot_token = s.secret("SLACK_BOT_TOKEN")
        if not bot_token:
            raise ConfigError("[slack] is enabled but SLACK_BOT_TOKEN is not set")
        from bot.platforms.slack_app import SlackPlatform

        app_token, secret = s.secret("SLACK_APP_TOKEN"), s.secret("SLACK_SIGNING_SECRET")
        SlackPlatform.check(s.slack, app_token, secret)
        out.append(lambda service: SlackPlatform(service, s.slack, bot_token, app_token, secret))
    if not out:
        raise ConfigError("no platform configured: set DISCORD_TOKEN and/or SLACK_BOT_TOKEN (see README), "
                          "or try `worldloom demo` / `worldloom console`")
    return out


async def run_platforms(settings: Settings, renderer: Renderer | None = None) -> int:
    """Serves the configured platforms until SIGINT or SIGTERM, then shuts down within
    `shutdown_seconds`: no new commands, the renders in hand get half that time to be posted, what
    is left stays stored for the next start; past the deadline the process exits anyway."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    builders = platform_builders(settings)
    deadline: threading.Timer | None = None
    try:
        async with open_app(settings, renderer=renderer) as app:
            platforms = [build(app.service) for build in builders]
            async with contextlib.AsyncExitStack() as stack:
                if settings.metrics.enabled:
                    ops = OpsServer(app, Metrics(app), settings.metrics, expected_platforms=len(platforms))
                    await stack.enter_async_context(ops)
                    log.info("metrics, /healthz and /readyz on http://%s:%d", settings.metrics.host, ops.port)
                for p in platforms:
                    try:
                        await stack.enter_async_context(app.serving(p))
                    except SetupError:
                        raise
                    except Exception as e:  # a token refused, a server not reached: say so in one line
                        raise SetupError(f"{p.name} did not start: {type(e).__name__}: {e}") from e
                log.info("worldloom running %s with the %s renderer, database %s; Ctrl-C to stop",
                         " and ".join(p.name for p in platforms), app.engine.renderer.name, settings.database)
                await stop.wait()
                deadline = _exit_after(settings.shutdown_seconds)
                app.guard.close_doors()
                log.info("stopping: taking no new commands, exiting within %.0f s", settings.shutdown_seconds)
                try:
                    await asyncio.wait_for(asyncio.shield(app.outbox.wait_idle()), settings.shutdown_seconds / 2)
                except TimeoutError:
                    log.info("renders still in hand stay stored; the next start finishes them")
            # Leaving closes the platforms, the metrics server, the outbox, the engine and the store.
        log.info("worldloom stopped")
    finally:
        if deadline is not None:
            deadline.cancel()
    return 0


def _exit_after(seconds: float) -> threading.Timer:
    """A watchdog: whatever hangs (a render that ignores cancellation), the process ends in time.
    Everything acknowledged is already in SQLite, which a hard exit cannot corrupt."""

    def fire() -> None:
        log.error("shutdown took longer than %.0f s: exiting now", seconds)
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(1)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    return timer
