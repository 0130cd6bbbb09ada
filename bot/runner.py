"""`worldloom run`: one process serving the configured platforms with one store and one engine,
with metrics and health checks when [metrics] enabled, and a bounded shutdown on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading

from bot.app import App, Platform, open_app
from bot.config import Settings
from bot.metrics import Metrics, OpsServer
from engine.jobs import Renderer

log = logging.getLogger(__name__)


def configured_platforms(app: App) -> list[Platform]:
    """The platforms whose section is enabled and whose secrets are in the environment."""
    s = app.settings
    out: list[Platform] = []
    if s.discord.get("enabled", bool(s.secret("DISCORD_TOKEN"))):
        token = s.secret("DISCORD_TOKEN")
        if not token:
            raise SystemExit("worldloom: [discord] is enabled but DISCORD_TOKEN is not set")
        from bot.platforms.discord_app import DiscordPlatform

        out.append(DiscordPlatform(app.service, s.discord, token))
    if s.slack.get("enabled", bool(s.secret("SLACK_BOT_TOKEN"))):
        bot_token = s.secret("SLACK_BOT_TOKEN")
        if not bot_token:
            raise SystemExit("worldloom: [slack] is enabled but SLACK_BOT_TOKEN is not set")
        from bot.platforms.slack_app import SlackPlatform

        out.append(SlackPlatform(app.service, s.slack, bot_token, s.secret("SLACK_APP_TOKEN"),
                                 s.secret("SLACK_SIGNING_SECRET")))
    return out


async def run_platforms(settings: Settings, renderer: Renderer | None = None) -> int:
    """Serves the configured platforms until SIGINT or SIGTERM, then shuts down within
    `shutdown_seconds`: no new commands, the renders in hand get half that time to be posted, what
    is left stays stored for the next start; past the deadline the process exits anyway."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    deadline: threading.Timer | None = None
    try:
        async with open_app(settings, renderer=renderer) as app:
            platforms = configured_platforms(app)
            if not platforms:
                print("worldloom: no platform configured. Set DISCORD_TOKEN and/or SLACK_BOT_TOKEN "
                      "(see README), or try `worldloom demo` / `worldloom console`.")
                return 2
            async with contextlib.AsyncExitStack() as stack:
                if settings.metrics.enabled:
                    ops = OpsServer(app, Metrics(app), settings.metrics, expected_platforms=len(platforms))
                    await stack.enter_async_context(ops)
                    log.info("metrics, /healthz and /readyz on http://%s:%d", settings.metrics.host, ops.port)
                for p in platforms:
                    await stack.enter_async_context(app.serving(p))
                log.info("worldloom running %d platform(s); Ctrl-C to stop", len(platforms))
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
