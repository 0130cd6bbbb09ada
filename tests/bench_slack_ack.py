"""How fast the Slack adapter acknowledges while the render queue is busy: `python -m tests.bench_slack_ack`.

For each mode (HTTP with signed requests, Socket Mode over the websocket) it starts the fake Slack
and the whole app with a renderer held at a gate, queues one panel so the queue is busy, then
sends SENDERS x PER_SENDER app_mention events (each sender one after another, all senders at
once; one request in five asks for a panel, the rest for /world show) and prints ack p50/p99.
The fake runs in the same process and event loop, so these times include its own work too.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from tests.fakes import GatedRenderer
from tests.test_slack import CHANNEL, load, new_world, percentile, slack_env


async def bench(mode: str, senders: int, per_sender: int) -> list[float]:
    renderer = GatedRenderer()
    with tempfile.TemporaryDirectory() as tmp:
        async with slack_env(Path(tmp), mode, renderer=renderer) as env:
            root = await new_world(env)
            await env.send("events_api", env.slack.mention(CHANNEL, "UADA", "continue the first panel", root))
            await asyncio.to_thread(renderer.started.wait, 10)
            users = [f"U{i:03d}" for i in range(senders)]
            for i, user in enumerate(users):
                env.slack.add_user(user, f"user{i}")
            seconds = await load(env, root, users, per_sender)
            await env.platform.drain()
            renderer.gate.set()
    return seconds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--per-sender", type=int, default=5)
    parser.add_argument("--modes", default="http,socket")
    args = parser.parse_args()
    for mode in args.modes.split(","):
        s = await bench(mode, args.senders, args.per_sender)
        print(f"{mode:>6}: {len(s)} acks from {args.senders} concurrent senders while the queue is busy: "
              f"p50 {percentile(s, 50) * 1000:.1f} ms, p99 {percentile(s, 99) * 1000:.1f} ms, "
              f"max {max(s) * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
