"""`worldloom run`: one process serving the configured platforms with one store and one engine."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.app import App, Platform, open_app
from bot.config import ConfigError, Settings, SetupError

log = logging.getLogger(__name__)


def configured_platforms(app: App) -> list[Platform]:
    """The platforms whose section is enabled and whose secrets are in the environment."""
    s = app.settings
    out: list[Platform] = []
    if s.discord.get("enabled", bool(s.secret("DISCORD_TOKEN"))):
        token = s.secret("DISCORD_TOKEN")
        if not token:
            raise ConfigError("[discord] is enabled but DISCORD_TOKEN is not set")
        from bot.platforms.discord_app import DiscordPlatform

        out.append(DiscordPlatform(app.service, s.discord, token))
    if s.slack.get("enabled", bool(s.secret("SLACK_BOT_TOKEN"))):
        bot_token = s.secret("SLACK_BOT_TOKEN")
        if not bot_token:
            raise ConfigError("[slack] is enabled but SLACK_BOT_TOKEN is not set")
        from bot.platforms.slack_app import SlackPlatform

        out.append(SlackPlatform(app.service, s.slack, bot_token, s.secret("SLACK_APP_TOKEN"),
                                 s.secret("SLACK_SIGNING_SECRET")))
    return out


async def run_platforms(settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_app(settings) as app:
        platforms = configured_platforms(app)
        if not platforms:
            raise ConfigError("no platform configured: set DISCORD_TOKEN and/or SLACK_BOT_TOKEN (see README), "
                              "or try `worldloom demo` / `worldloom console`")
        async with contextlib.AsyncExitStack() as stack:
            for p in platforms:
                try:
                    await stack.enter_async_context(app.serving(p))
                except SetupError:
                    raise
                except Exception as e:  # a token refused, a server not reached: say so in one line
                    raise SetupError(f"{p.name} did not start: {type(e).__name__}: {e}") from e
            log.info("worldloom running %d platform(s); Ctrl-C to stop", len(platforms))
            await stop.wait()
    return 0
