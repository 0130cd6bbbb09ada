"""How fast commands are acknowledged, inbox write included: `python -m tests.bench_ack`.

For each platform (Discord; Slack in HTTP mode with signed requests; Slack in Socket Mode over the
websocket) it starts the fake here and the bot in a process of its own (tests/crash_bot.py: the
real adapters, `worldloom run`'s composition; its renderer holds the worker thread, so the queue
stays busy), opens THREADS worlds, then PEOPLE people send PER_PERSON /continue each into their
own thread (person i into thread i % THREADS), one after another, all people at once, after one
unmeasured `help` each (connections opened, names looked up once). Every command is written to
the inbox before it is acknowledged. It prints one JSON line per platform:
acknowledgements, p50, p99 and max in milliseconds (Discord: from the gateway event leaving the
fake to the deferred response reaching it; Slack HTTP: request to response; Socket Mode: envelope
to ack). `--inline` runs the bot in this process and event loop instead, next to the fake (which
validates every request against the API description): an upper bound, and easy to profile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bot.limits import Limits
from tests.fake_discord import FakeDiscord
from tests.fake_slack import FakeSlack
from tests.fake_slack_payloads import http_body, signed_headers
from tests.fakes import GatedRenderer
from tests.test_crash_platforms import Child
from tests.test_discord import new_world as discord_world
from tests.test_discord import running_bot
from tests.test_slack import CHANNEL, slack_env
from tests.test_slack import new_world as slack_world


async def discord(people: int, threads: int, per_person: int) -> list[float]:
    renderer = GatedRenderer()
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeDiscord() as fake:
            users = [fake.add_user(f"user{i}") for i in range(people)]
            async with running_bot(fake, Path(tmp) / "db.sqlite", renderer=renderer,
                                   limits=Limits(renders_per_minute=0)) as (_, platform):
                worlds = [(await discord_world(fake, users[i % people], f"World {i}"))[1] for i in range(threads)]

                async def person(i: int) -> list[float]:
                    out = []
                    for n in range(per_person):
                        ix = await fake.slash("continue", users[i], worlds[i % threads], text=f"user{i} waves {n}")
                        await fake.wait_for_ack(ix)
                        out.append(ix.ack_seconds or 0.0)
                    return out

                seconds = [s for batch in await asyncio.gather(*(person(i) for i in range(people))) for s in batch]
                await platform._pool.drain()
                renderer.gate.set()
    return seconds


async def slack(mode: str, people: int, threads: int, per_person: int) -> list[float]:
    renderer = GatedRenderer()
    with tempfile.TemporaryDirectory() as tmp:
        async with slack_env(Path(tmp), mode, renderer=renderer) as env:
            roots = [await slack_world(env, f"World {i}") for i in range(threads)]
            users = [f"U{i:03d}" for i in range(people)]
            for i, user in enumerate(users):
                env.slack.add_user(user, f"user{i}")

            async def person(i: int) -> list[float]:
                return [await env.send("events_api", env.slack.mention(CHANNEL, users[i], f"continue user{i} waves {n}",
                                                                       roots[i % threads]))
                        for n in range(per_person)]

            seconds = [s for batch in await asyncio.gather(*(person(i) for i in range(people))) for s in batch]
            assert env.platform is not None
            await env.platform.drain()
            renderer.gate.set()
    return seconds


# ---------------------------------------------------------------- the bot in a process of its own (default)


@asynccontextmanager
async def bot_process(config: dict[str, Any], env: dict[str, str], tmp: Path) -> AsyncIterator[None]:
    path = tmp / "config.json"
    path.write_text(json.dumps({"database": str(tmp / "bot.db"), "render_seconds": 3600, **config}))
    child = Child(path, env, tmp / "bot.log")
    await child.start()
    try:
        await child.wait_serving()
        yield
    finally:
        await child.stop()


async def discord_process(people: int, threads: int, per_person: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeDiscord() as fake:
            users = [fake.add_user(f"user{i}") for i in range(people)]
            async with bot_process({"discord": fake.config()}, {"DISCORD_TOKEN": fake.token}, Path(tmp)):
                worlds = [(await discord_world(fake, users[i % people], f"World {i}"))[1] for i in range(threads)]
                for i in range(people):
                    await fake.wait_for_reply(await fake.slash("help", users[i], worlds[i % threads]))

                async def person(i: int) -> list[float]:
                    out = []
                    for n in range(per_person):
                        ix = await fake.slash("continue", users[i], worlds[i % threads], text=f"user{i} waves {n}")
                        await fake.wait_for_ack(ix)
                        out.append(ix.ack_seconds or 0.0)
                    return out

                return [s for batch in await asyncio.gather(*(person(i) for i in range(people))) for s in batch]


async def slack_process(mode: str, people: int, threads: int, per_person: int) -> list[float]:
    secret = "bench-signing-secret"
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeSlack() as fake, aiohttp.ClientSession() as session:
            users = [f"U{i:03d}" for i in range(people)]
            for i, user in enumerate(users):
                fake.add_user(user, f"user{i}")
            port = free_port()
            config = {"slack": {"mode": mode, "api_base": fake.api_url, "files_base": fake.files_url,
                                "host": "127.0.0.1", "port": port}}
            env = {"SLACK_BOT_TOKEN": fake.bot_token, "SLACK_APP_TOKEN": fake.app_token,
                   "SLACK_SIGNING_SECRET": secret}

            async def send(kind: str, payload: dict[str, Any]) -> float:
                if mode == "socket":
                    return (await fake.ack(await fake.push(kind, payload))).seconds
                body, content_type = http_body(kind, payload)
                start = time.perf_counter()
                async with session.post(f"http://127.0.0.1:{port}/slack/events", data=body,
                                        headers=signed_headers(secret, body, content_type)) as r:
                    assert r.status == 200, await r.text()
                return time.perf_counter() - start

            async with bot_process(config, env, Path(tmp)):
                roots = []
                for i in range(threads):
                    await send("slash_commands", fake.slash(CHANNEL, users[i % people], f"new World {i}"))
                    await fake.wait_for(lambda n=i: len(fake.roots(CHANNEL)) > n
                                        and fake.bot_replies(CHANNEL, fake.roots(CHANNEL)[n]["ts"]), what="a world")
                    roots.append(fake.roots(CHANNEL)[i]["ts"])

                await asyncio.gather(*(send("events_api", fake.mention(CHANNEL, users[i], "help", roots[i % threads]))
                                       for i in range(people)))

                async def person(i: int) -> list[float]:
                    return [await send("events_api", fake.mention(CHANNEL, users[i], f"continue user{i} waves {n}",
                                                                  roots[i % threads]))
                            for n in range(per_person)]

                return [s for batch in await asyncio.gather(*(person(i) for i in range(people))) for s in batch]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def figures(platform: str, seconds: list[float]) -> dict[str, object]:
    ms = statistics.quantiles([s * 1000 for s in seconds], n=100, method="inclusive")
    return {"platform": platform, "acks": len(seconds), "p50_ms": round(ms[49], 1), "p99_ms": round(ms[98], 1),
            "max_ms": round(max(seconds) * 1000, 1)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--per-person", type=int, default=5)
    parser.add_argument("--platforms", default="discord,slack-http,slack-socket")
    parser.add_argument("--inline", action="store_true", help="run the bot in this process, next to the fake")
    args = parser.parse_args()
    sizes = (args.people, args.threads, args.per_person)
    for platform in args.platforms.split(","):
        mode = platform.removeprefix("slack-")
        if args.inline:
            seconds = await (discord(*sizes) if platform == "discord" else slack(mode, *sizes))
        else:
            seconds = await (discord_process(*sizes) if platform == "discord" else slack_process(mode, *sizes))
        print(json.dumps({**figures(platform, seconds), "bot": "inline" if args.inline else "process"}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
