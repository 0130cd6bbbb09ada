"""SIGTERM: `worldloom run` stops taking commands, lets the render in hand finish (or leaves it stored
for the next start) and exits within [worldloom] shutdown_seconds. A real process against the fake Discord."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from bot.store import Store
from tests.fake_discord import GUILD_ID, FakeDiscord
from tests.test_discord import assert_clean, is_final, new_world, running_bot

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@asynccontextmanager
async def child(fake: FakeDiscord, db: Path, shutdown_seconds: float,
                *flags: str) -> AsyncIterator[asyncio.subprocess.Process]:
    config = db.with_suffix(".toml")
    config.write_text(f'[worldloom]\ndatabase = "{db}"\nshutdown_seconds = {shutdown_seconds}\n\n[discord]\n'
                      f'api_base = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\nguild_ids = [{GUILD_ID}]\n'
                      "guild_ready_timeout = 0.05\nprogress_seconds = 0.05\n\n"
                      "[metrics]\nenabled = true\nport = 0\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WORLDLOOM_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.shutdown_child", str(config), *flags, cwd=ROOT,
        env={**env, "DISCORD_TOKEN": fake.token, "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        line = await line_with(proc.stderr, "metrics, /healthz and /readyz on ", within=60)
        proc.metrics_url = line.rsplit(" on ", 1)[1].strip()  # type: ignore[attr-defined]
        await line_with(proc.stderr, "worldloom running discord", within=60)  # connected and ready
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def line_with(stream: asyncio.StreamReader | None, marker: str, within: float = 30) -> str:
    assert stream is not None
    async with asyncio.timeout(within):
        while line := (await stream.readline()).decode():
            if marker in line:
                return line
    raise AssertionError(f"the child ended without printing {marker!r}")


async def test_sigterm_refuses_new_commands_and_posts_the_render_in_hand(fake: FakeDiscord, tmp_path: Path) -> None:
    alice = fake.add_user("alice")
    async with child(fake, tmp_path / "w.db", 20) as proc:
        _, thread = await new_world(fake, alice, "Harbour")
        first = await fake.slash("continue", alice, thread, text="a boat leaves the harbour")
        await line_with(proc.stdout, "RENDERING")
        url = proc.metrics_url  # type: ignore[attr-defined]
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/readyz") as r:
                assert r.status == 200
            async with http.get(url + "/metrics") as r:
                assert 'worldloom_jobs_total{state="stored"} 1.0' in await r.text()
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            await line_with(proc.stderr, "stopping: taking no new commands")
            async with http.get(url + "/readyz") as r:
                assert r.status == 503 and (await r.json())["accepting"] is False
        late = await fake.wait_for_reply(await fake.slash("continue", alice, thread, text="one more boat"))
        assert late["flags"] & 64 and "restarting" in late["content"]
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        elapsed = time.monotonic() - started
    assert elapsed < 20
    (panel,) = fake.panels(thread)  # the render in hand finished and was posted; the late one never ran
    assert panel["content"].startswith("**#1**")
    assert (await fake.wait_for_original(first, is_final))["content"].startswith("✅")
    async with Store.open(tmp_path / "w.db") as store:
        assert [j.state for j in await store.jobs_in_state("planned", "rendering", "rendered", "posted")] == ["posted"]
    assert_clean(fake)


async def test_a_render_that_ignores_sigterm_is_left_stored_and_the_process_exits_in_time(
        fake: FakeDiscord, tmp_path: Path) -> None:
    alice = fake.add_user("alice")
    db = tmp_path / "w.db"
    async with child(fake, db, 3, "--stuck") as proc:
        _, thread = await new_world(fake, alice, "Harbour")
        await fake.slash("continue", alice, thread, text="a boat leaves the harbour")
        await line_with(proc.stdout, "RENDERING")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
        elapsed = time.monotonic() - started
    assert code == 1 and 2.5 < elapsed < 6  # the watchdog, at shutdown_seconds
    assert fake.panels(thread) == []
    async with Store.open(db) as store:
        [job] = await store.jobs_in_state("planned", "rendering")
    async with running_bot(fake, db) as (app, _):  # the next start draws it and posts it once
        await fake.wait_for_panels(thread, 1)
        await app.outbox.wait_idle()
        assert (await app.store.job(job.id)).state == "posted"  # type: ignore[union-attr]
    assert len(fake.panels(thread)) == 1
