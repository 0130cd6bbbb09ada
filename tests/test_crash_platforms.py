"""Acceptance of issue 11: nothing acknowledged is lost, nothing is posted twice, on every platform.

The bot runs as a real process (tests/crash_bot.py: the real adapters, the composition root, the
inbox and the outbox) connected to the local Discord or Slack fake running here. Bursts of /continue
from several people go into several threads, and the process is killed with SIGKILL at a random
moment, 20 times, restarting it each time. A moment is "after the fake has seen N more requests"
(N drawn from a seeded generator), so kills land while acknowledging, storing, rendering, posting,
answering and recovering alike; a few land while the bot is still starting. Slack re-sends events it
saw no acknowledgement for (with the retry number), as it does. Then, on the database and on the
fake: every acknowledged command has exactly one panel (or one clear error) in its thread, no panel
was posted twice, every stored command was answered, and `PRAGMA integrity_check` is ok.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import socket
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import pytest

from tests.fake_discord import FakeDiscord, FakeInteraction
from tests.fake_slack import FakeSlack
from tests.fake_slack_payloads import http_body, signed_headers
from tests.test_discord import new_world as discord_world

ROOT = Path(__file__).resolve().parent.parent
SEED = 1111
KILLS = 20
BURST = 5
THREADS = 3
PEOPLE = 4
SECRET = "crash-signing-secret"
CHANNEL = "C0CRASH"
TAG = re.compile(r"\br\d+c\d+\b")


@dataclass
class Sent:
    """One command the fake delivered (or tried to)."""

    key: str  # its inbox key
    tag: str  # unique in its text: r<round>c<n>
    thread: str
    handle: Any = None  # the platform's record of it (an interaction, an event body)
    acked: bool = False
    tries: int = 0


class Driver(Protocol):
    name: str

    def config(self, db: Path) -> dict[str, Any]: ...
    def env(self) -> dict[str, str]: ...
    def activity(self) -> int: ...
    async def wait_until(self, predicate: Callable[[], bool], within: float) -> bool: ...
    async def new_world(self, person: int, title: str) -> str: ...
    async def send(self, person: int, thread: str, tag: str) -> Sent: ...
    async def resend(self, sent: list[Sent]) -> None: ...
    async def settle(self, sent: list[Sent], final: bool = False) -> None: ...
    def posted_tags(self) -> set[str]: ...
    def panels(self) -> list[tuple[str, str]]: ...  # (thread, job id) of every panel message
    def check(self, sent: list[Sent]) -> None: ...


# ---------------------------------------------------------------- the child process


class Child:
    """The bot process; `start` begins a new life, `kill` ends it."""

    def __init__(self, config: Path, env: dict[str, str], log: Path) -> None:
        self.config, self.env, self.log = config, env, log
        self.proc: asyncio.subprocess.Process | None = None
        self.serving: asyncio.Future[None] | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        log = await asyncio.to_thread(open, self.log, "ab")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.crash_bot", str(self.config), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                stderr=log, env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **self.env})
        finally:
            log.close()
        self.serving = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None and self.serving is not None
        async for line in self.proc.stdout:
            if line.strip() == b"SERVING" and not self.serving.done():
                self.serving.set_result(None)
        if not self.serving.done():
            self.serving.set_exception(RuntimeError(f"the bot exited before serving; see {self.log}:\n"
                                                    + self.log.read_text()[-3000:]))

    async def wait_serving(self) -> None:
        assert self.serving is not None
        async with asyncio.timeout(60):
            await asyncio.shield(self.serving)

    async def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        if self._reader is not None:
            await self._reader
        if self.serving is not None and not self.serving.done():
            self.serving.cancel()
        elif self.serving is not None and not self.serving.cancelled():
            self.serving.exception()  # retrieved: killed before serving is no error here

    async def stop(self) -> int:
        """SIGTERM, as an operator stops it; its exit code (a SIGKILL follows if it hangs)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(60):
                return await self.proc.wait()
        finally:
            await self.kill()


# ---------------------------------------------------------------- Discord


class DiscordDriver:
    name = "discord"

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        fake.nonce_window_s = 0.0  # as if every restart took longer than Discord remembers nonces
        self.people = [fake.add_user(f"user{i}") for i in range(PEOPLE)]

    def config(self, db: Path) -> dict[str, Any]:
        return {"database": str(db), "discord": self.fake.config(progress_seconds=0.2)}

    def env(self) -> dict[str, str]:
        return {"DISCORD_TOKEN": self.fake.token}

    def activity(self) -> int:
        return len(self.fake.requests)

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> bool:
        try:
            await self.fake.wait_for(predicate, within)
            return True
        except TimeoutError:
            return False

    async def new_world(self, person: int, title: str) -> str:
        return str((await discord_world(self.fake, self.people[person], title))[1])

    async def send(self, person: int, thread: str, tag: str) -> Sent:
        ix = await self.fake.slash("continue", self.people[person], int(thread), text=f"user{person} waves {tag}")
        return Sent(f"discord:{ix.id}", tag, thread, ix)

    async def resend(self, sent: list[Sent]) -> None:
        pass  # Discord never delivers an interaction twice: one not acknowledged failed for its user

    async def settle(self, sent: list[Sent], final: bool = False) -> None:
        for s in sent:
            s.acked = s.handle.callback is not None

    def posted_tags(self) -> set[str]:
        return {t for m in self.fake.panels() for t in TAG.findall(m["content"])}

    def panels(self) -> list[tuple[str, str]]:
        return [(m["channel_id"], a["filename"].rsplit("-", 1)[1].split(".")[0])
                for m in self.fake.panels() for a in m["attachments"]]

    def check(self, sent: list[Sent]) -> None:
        assert self.fake.violations == [], "\n".join(self.fake.violations)
        for s in sent:
            if s.acked:  # nobody is left looking at "thinking…"
                ix: FakeInteraction = s.handle
                original = self.fake.messages.get(ix.original_id or 0)
                assert original is not None and not original["flags"] & 128, (s, original)


# ---------------------------------------------------------------- Slack


class SlackDriver:
    def __init__(self, fake: FakeSlack, mode: str, session: aiohttp.ClientSession) -> None:
        self.fake, self.mode, self.session = fake, mode, session
        self.name = f"slack-{mode}"
        self.people = [f"U{i:03d}" for i in range(PEOPLE)]
        for i, user in enumerate(self.people):
            fake.add_user(user, f"user{i}")
        with socket.socket() as s:  # a free port for HTTP mode (the bot listens there in every life)
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.http_acks: set[str] = set()
        self.envelopes: dict[str, str] = {}  # inbox key -> the envelope last pushed for it
        self._posts: set[asyncio.Task[None]] = set()

    def config(self, db: Path) -> dict[str, Any]:
        return {"database": str(db), "slack": {
            "mode": self.mode, "api_base": self.fake.api_url, "files_base": self.fake.files_url,
            "host": "127.0.0.1", "port": self.port, "progress_seconds": 0.2}}

    def env(self) -> dict[str, str]:
        return {"SLACK_BOT_TOKEN": self.fake.bot_token, "SLACK_APP_TOKEN": self.fake.app_token,
                "SLACK_SIGNING_SECRET": SECRET}

    def activity(self) -> int:
        return len(self.fake.calls) + len(self.fake.acks) + len(self.http_acks)

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> bool:
        try:
            await self.fake.wait_for(predicate, within)
            return True
        except AssertionError:
            return False

    async def _deliver(self, kind: str, payload: dict[str, Any], key: str, retry: int = 0) -> None:
        if self.mode == "socket":
            try:
                self.envelopes[key] = await self.fake.push(kind, payload, seconds=5, retry=retry)
            except (ConnectionError, AssertionError):
                pass  # no connection: not delivered
            return
        body, content_type = http_body(kind, payload)
        headers = signed_headers(SECRET, body, content_type)
        if retry:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})

        async def post() -> None:
            try:
                async with self.session.post(f"http://127.0.0.1:{self.port}/slack/events", data=body,
                                             headers=headers, timeout=aiohttp.ClientTimeout(total=10)) as r:
                    if r.status == 200:
                        self.http_acks.add(key)
                        await self.fake._notify()
            except (aiohttp.ClientError, TimeoutError):
                pass  # killed before it answered: not acknowledged

        task = asyncio.create_task(post())
        self._posts.add(task)
        task.add_done_callback(self._posts.discard)

    async def new_world(self, person: int, title: str) -> str:
        before = len(self.fake.roots(CHANNEL))
        await self._deliver("slash_commands", self.fake.slash(CHANNEL, self.people[person], f"new {title}"), title)
        await self.fake.wait_for(lambda: len(self.fake.roots(CHANNEL)) > before
                                 and self.fake.bot_replies(CHANNEL, self.fake.roots(CHANNEL)[-1]["ts"]),
                                 what="the new world")
        return str(self.fake.roots(CHANNEL)[-1]["ts"])

    async def send(self, person: int, thread: str, tag: str) -> Sent:
        body = self.fake.mention(CHANNEL, self.people[person], f"continue user{person} waves {tag}", thread)
        key = f"slack:{CHANNEL}:{body['event']['ts']}"
        await self._deliver("events_api", body, key)
        return Sent(key, tag, thread, body)

    def _acked(self, s: Sent) -> bool:
        if self.mode == "socket":
            return s.key in self.envelopes and self.envelopes[s.key] in self.fake.acks
        return s.key in self.http_acks

    async def resend(self, sent: list[Sent]) -> None:
        """Slack re-sends every event it saw no acknowledgement for, with the retry number."""
        await self.settle(sent)
        for s in sent:
            if not s.acked:
                s.tries += 1
                await self._deliver("events_api", s.handle, s.key, retry=s.tries)

    async def settle(self, sent: list[Sent], final: bool = False) -> None:
        """Which events were acknowledged; `final`: the bot lives on, so wait for the acks still to come."""
        await asyncio.gather(*self._posts, return_exceptions=True)
        if final and self.mode == "socket":
            waiting = [e for k, e in self.envelopes.items() if any(s.key == k and not s.acked for s in sent)]
            await self.wait_until(lambda: all(e in self.fake.acks for e in waiting), 10)
        for s in sent:
            s.acked = s.acked or self._acked(s)

    def _panel_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.fake.messages.get(CHANNEL, []) if m.get("bot_id") and m.get("metadata")]

    def posted_tags(self) -> set[str]:
        return {t for m in self._panel_messages() for t in TAG.findall(m.get("text", ""))}

    def panels(self) -> list[tuple[str, str]]:
        return [(m["thread_ts"], m["metadata"]["event_payload"]["job_id"]) for m in self._panel_messages()]

    def check(self, sent: list[Sent]) -> None:
        assert self.fake.violations == [], "\n".join(self.fake.violations)
        # Files shared in the channel (an upload cut short before files.completeUploadExternal shows nowhere).
        files = Counter(f.name.rsplit("-", 1)[1].split(".")[0] for f in self.fake.files.values()
                        if f.name.startswith("panel-") and f.shares["public"].get(CHANNEL))
        twice = {job: n for job, n in files.items() if n > 1}
        assert twice == {}, f"images uploaded more than once: {twice}"
        assert set(files) == {job for _, job in self.panels()}  # and each has its message


# ---------------------------------------------------------------- the run


@asynccontextmanager
async def driver_for(platform: str) -> AsyncIterator[Driver]:
    if platform == "discord":
        async with FakeDiscord() as fake:
            yield DiscordDriver(fake)
        return
    async with FakeSlack() as fake, aiohttp.ClientSession() as session:
        yield SlackDriver(fake, platform.removeprefix("slack-"), session)


async def crash_run(driver: Driver, tmp_path: Path) -> tuple[list[Sent], Path]:
    rng = random.Random(SEED)
    db = tmp_path / "bot.db"
    config = tmp_path / "config.json"
    config.write_text(json.dumps(driver.config(db)))
    log = tmp_path / "bot.log"
    child = Child(config, driver.env(), log)
    try:
        return await _lives(driver, rng, child, db)
    finally:
        await child.kill()  # whatever failed, no bot is left behind


async def _lives(driver: Driver, rng: random.Random, child: Child, db: Path) -> tuple[list[Sent], Path]:
    await child.start()
    await child.wait_serving()
    threads = [await driver.new_world(i % PEOPLE, f"World {i}") for i in range(THREADS)]
    sent: list[Sent] = []
    for round_ in range(KILLS):
        if round_:
            await child.start()  # the next life
        moment = rng.randint(1, 8 * BURST)
        if round_ and rng.random() < 0.15:  # killed while starting (and recovering), or as soon as it serves
            target = driver.activity() + max(1, moment // 4)
            reached = asyncio.ensure_future(driver.wait_until(lambda t=target: driver.activity() >= t, 30))
            assert child.serving is not None
            await asyncio.wait({reached, child.serving}, return_when=asyncio.FIRST_COMPLETED)
            reached.cancel()
        else:
            await child.wait_serving()
            await driver.resend(sent)
            target = driver.activity() + moment
            for i in range(BURST):
                sent.append(await driver.send(rng.randrange(PEOPLE), rng.choice(threads), f"r{round_}c{i}"))
            await driver.wait_until(lambda t=target: driver.activity() >= t or _all_posted(driver, sent), 20)
        await child.kill()
        await driver.settle(sent)
    # The last life: re-sent events, then everything still in hand, then a clean stop.
    await child.start()
    await child.wait_serving()
    await driver.resend(sent)
    await driver.settle(sent, final=True)
    await asyncio.to_thread(_wait_settled, db, 60.0)
    assert await child.stop() == 0
    return sent, db


def _all_posted(driver: Driver, sent: list[Sent]) -> bool:
    posted = driver.posted_tags()
    return all(s.tag in posted for s in sent)


def _wait_settled(db: Path, within: float) -> None:
    """Polls the bot's database (read-only, another process) until nothing is left in hand."""
    deadline = time.monotonic() + within
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as con:
        while True:
            left = con.execute("SELECT (SELECT COUNT(*) FROM inbox WHERE state IN ('pending', 'done')) + "
                               "(SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'planned', 'rendering', "
                               "'rendered'))").fetchone()[0]
            if left == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{left} command(s) or panel(s) still in hand after {within} s")
            time.sleep(0.05)


def verify(driver: Driver, sent: list[Sent], db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        inbox = {key: (state, json.loads(result) if result else None)
                 for key, state, result in con.execute("SELECT key, state, result FROM inbox")}
        jobs = [(job, state, json.loads(spec)["record"]["command"], json.loads(place)["thread"])
                for job, state, spec, place in con.execute("SELECT id, state, spec, place FROM jobs")]
    tags = Counter(t for _, _, command, _ in jobs for t in TAG.findall(command))
    assert [t for t, n in tags.items() if n > 1] == [], "a command was processed twice"
    job_of = {TAG.findall(command)[0]: (job, state, thread) for job, state, command, thread in jobs
              if TAG.findall(command)}
    assert all(state == "posted" for _, state, _, _ in jobs)
    assert {s for s, _ in inbox.values()} <= {"answered"}, "a stored command was never answered"
    panels = Counter(driver.panels())
    assert [p for p, n in panels.items() if n > 1] == [], "a panel was posted twice"
    posted = {job for _, job in panels}
    acked = [s for s in sent if s.acked]
    errors = 0
    for s in acked:
        _, result = inbox[s.key]  # acknowledged, so stored
        if result and result.get("error"):
            # One clear error: the only one expected here is a command put aside because the bot was
            # killed while it was under way at five restarts in a row (kills right after a start hit
            # the oldest recovered commands first).
            assert result["text"].startswith("⚠️ I could not finish this command"), result
            errors += 1
            continue
        job, _, thread = job_of[s.tag]
        assert job in posted and (s.thread, job) in panels and thread == s.thread, s
    assert posted == {job for job, _, _, _ in jobs}  # every panel drawn was posted, in its thread
    driver.check(sent)
    return {"sent": len(sent), "acknowledged": len(acked), "panels": len(posted), "errors": errors}


@pytest.mark.parametrize("platform", ["discord", "slack-http", "slack-socket"])
async def test_sigkill_twenty_times_loses_nothing_acknowledged_and_posts_nothing_twice(
        tmp_path: Path, platform: str) -> None:
    async with driver_for(platform) as driver:
        sent, db = await crash_run(driver, tmp_path)
        figures = verify(driver, sent, db)
    print(f"\n{platform}: {figures}")
    assert figures["acknowledged"] >= KILLS * BURST // 2  # the kills did not simply stop everything
    assert figures["errors"] <= 3

