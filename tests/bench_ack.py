"""How fast commands are acknowledged, inbox write included: `python -m tests.bench_ack`.

For each platform (Discord; Slack in HTTP mode with signed requests; Slack in Socket Mode over the
websocket) it starts the fake, the whole app and the real adapter, with the renderer held at a gate
so the queue stays busy, opens THREADS worlds, then PEOPLE people send PER_PERSON /continue each
into their own thread (person i into thread i % THREADS), one after another, all people at once.
Every command is written to the inbox before it is acknowledged. It prints one JSON line per
platform: acknowledgements, p50, p99 and max in milliseconds (Discord: from the gateway event to the
deferred response reaching the fake; Slack HTTP: request to response; Socket Mode: envelope to ack).
The fake, the senders and the bot share one process and event loop, so these are upper bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from pathlib import Path

from bot.limits import Limits
from tests.fake_discord import FakeDiscord
from tests.fakes import GatedRenderer
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
    args = parser.parse_args()
    for platform in args.platforms.split(","):
        if platform == "discord":
            seconds = await discord(args.people, args.threads, args.per_person)
        else:
            seconds = await slack(platform.removeprefix("slack-"), args.people, args.threads, args.per_person)
        print(json.dumps(figures(platform, seconds)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
