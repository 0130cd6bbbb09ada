"""Metrics, /healthz and /readyz over real HTTP, changing as jobs run; /readyz fails when the worker dies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App, open_app
from bot.config import Settings
from bot.context import Delivery, Place
from bot.metrics import Metrics, OpsServer
from bot.public_settings import MetricsSettings
from engine.jobs import Progress, RenderJob
from engine.renderers.storyboard.renderer import SketchRenderer
from tests.conftest import ADA, BEN
from tests.fakes import GatedRenderer

PLACE = Place("test", "guild", "chan", "thread")


@dataclass
class Outlet:
    fail: int = 0  # the next `fail` posts raise, as a platform having a bad minute
    delivered: list[Delivery] = field(default_factory=list)

    async def deliver(self, d: Delivery) -> str:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("the platform is down")
        self.delivered.append(d)
        return f"msg-{d.job_id}"

    async def failed(self, place: Place, job_id: str, panel: int, error: str) -> None:
        pass


class Platform:
    """A platform as `worldloom run` attaches them: it can drop its connection and count failed requests."""

    name = "test"

    def __init__(self) -> None:
        self.outlet = Outlet()
        self.up = True
        self.errors = 0

    async def start(self) -> None:
        pass

    async def connected(self) -> bool:
        return self.up

    async def close(self) -> None:
        pass


class DyingRenderer(SketchRenderer):
    """Kills the render worker (as a crashed GPU driver would) when asked to draw "die"."""

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        if any("die" in j.prompt for j in jobs):
            raise SystemExit("the worker dies")
        return super().render(jobs, progress)


@asynccontextmanager
async def serving(tmp_path: Path, renderer: Any) -> AsyncIterator[tuple[App, Platform, str]]:
    settings = Settings(database=str(tmp_path / "w.db"), metrics=MetricsSettings(enabled=True, port=0))
    platform = Platform()
    async with open_app(settings, renderer=renderer) as app, app.serving(platform):
        async with OpsServer(app, Metrics(app), settings.metrics, expected_platforms=1) as ops:
            yield app, platform, f"http://127.0.0.1:{ops.port}"


async def scrape(http: aiohttp.ClientSession, base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with http.get(base + "/metrics") as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
        text = await r.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def status(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as r:
        return r.status, (await r.json() if r.content_type == "application/json" else await r.text())


async def say(app: App, line: str, actor: Any = ADA) -> Any:
    return await app.service.execute_text(line, actor, PLACE)


async def test_metrics_change_as_jobs_run(tmp_path: Path) -> None:
    renderer = GatedRenderer()
    async with serving(tmp_path, renderer) as (app, platform, base), aiohttp.ClientSession() as http:
        before = await scrape(http, base)
        assert before[("worldloom_jobs_total", (("state", "posted"),))] == 0
        assert before[("worldloom_queue_depth", ())] == 0
        await say(app, "/world new The Pier")
        tickets = [(await say(app, f"/continue wave {i}", who)).ticket for i, who in enumerate((ADA, BEN, ADA))]
        await asyncio.to_thread(renderer.started.wait, 10)
        busy = await scrape(http, base)
        assert busy[("worldloom_jobs_total", (("state", "stored"),))] == 3
        assert busy[("worldloom_queue_depth", ())] >= 1  # one renders, the rest wait
        renderer.gate.set()
        await asyncio.gather(*(t.done for t in tickets if t))
        after = await scrape(http, base)
        assert after[("worldloom_jobs_total", (("state", "posted"),))] == 3
        assert after[("worldloom_queue_depth", ())] == 0
        assert after[("worldloom_job_seconds_count", ())] == 3 and after[("worldloom_job_seconds_sum", ())] > 0
        assert after[("worldloom_render_seconds_count", ())] == 3
        assert 0 < after[("worldloom_worker_busy_ratio", ())] <= 1

        await say(app, "/continue a nude figure")
        platform.outlet.fail, platform.errors = 1, 2
        ticket = (await say(app, "/continue the tide comes in")).ticket
        with pytest.raises(ConnectionError):
            await ticket.done  # type: ignore[union-attr]
        last = await scrape(http, base)
        assert last[("worldloom_moderation_refusals_total", (("kind", "words"),))] == 1
        assert last[("worldloom_moderation_refusals_total", (("kind", "image"),))] == 0
        assert last[("worldloom_platform_errors_total", (("platform", "test"),))] == 3  # 1 post + 2 requests
        assert last[("worldloom_jobs_total", (("state", "stored"),))] == 4


async def test_readyz_fails_when_the_worker_dies_or_a_platform_drops(tmp_path: Path) -> None:
    async with serving(tmp_path, DyingRenderer()) as (app, platform, base), aiohttp.ClientSession() as http:
        assert await status(http, base + "/healthz") == (200, "ok\n")
        code, checks = await status(http, base + "/readyz")
        assert code == 200 and checks == {"store": True, "engine": True, "platforms": True, "accepting": True}

        platform.up = False
        code, checks = await status(http, base + "/readyz")
        assert code == 503 and checks["platforms"] is False
        platform.up = True

        await say(app, "/world new The Pier")
        ticket = (await say(app, "/continue they die laughing")).ticket
        with pytest.raises(Exception, match="stopped working"):
            await ticket.done  # type: ignore[union-attr]
        code, checks = await status(http, base + "/readyz")
        assert code == 503 and checks["engine"] is False and checks["store"] is True
        assert await status(http, base + "/healthz") == (200, "ok\n")  # the process is still up

        app.guard.close_doors()  # SIGTERM: no longer taking commands
        assert (await status(http, base + "/readyz"))[1]["accepting"] is False
