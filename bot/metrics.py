"""For the operator: Prometheus metrics, /healthz and /readyz on one small HTTP server ([metrics]).

`Metrics` keeps its own registry (no global state) and learns what happens by listening: the
outbox's job events (JobEvent) and the guard's refusals; the queue depth, the worker's busy ratio
and the platforms' error counts are read when Prometheus scrapes. Nothing calls it from inside.

    worldloom_queue_depth                      jobs waiting (not counting those rendering)
    worldloom_jobs_total{state}                stored, rendered, posted, failed, cancelled
    worldloom_job_seconds                      histogram: stored -> posted
    worldloom_render_seconds                   histogram: the render of the batch a job was in
    worldloom_worker_busy_ratio                share of the time since the last scrape the worker rendered
    worldloom_moderation_refusals_total{kind}  words, image, upload (and banned, closing)
    worldloom_platform_errors_total{platform}  requests that failed in an adapter, panels that failed to post

`OpsServer` answers GET /metrics, /healthz (200 while the process runs) and /readyz (200 when the
store answers, the engine's worker is alive and every platform is connected; else 503 with the
reasons as JSON).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from bot.guard import Refusal
from bot.outbox import JobEvent
from bot.public_settings import MetricsSettings

if TYPE_CHECKING:
    from bot.app import App

JOB_STATES = ("stored", "rendered", "posted", "failed", "cancelled")
REFUSALS = ("words", "image", "upload", "banned", "closing")
JOB_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
RENDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120)


class Metrics:
    def __init__(self, app: App) -> None:
        self.app = app
        self.registry = CollectorRegistry()
        r = self.registry
        queue_depth = Gauge("worldloom_queue_depth", "Render jobs waiting (not counting those rendering)",
                            registry=r)
        queue_depth.set_function(lambda: float(app.engine.queue_length()))
        self.jobs = Counter("worldloom_jobs", "Render jobs by the state they reached", ["state"], registry=r)
        for state in JOB_STATES:
            self.jobs.labels(state)
        self.job_seconds = Histogram("worldloom_job_seconds", "Seconds from a job stored to its panel posted",
                                     buckets=JOB_BUCKETS, registry=r)
        self.render_seconds = Histogram("worldloom_render_seconds", "Seconds the render of a job's batch took",
                                        buckets=RENDER_BUCKETS, registry=r)
        busy = Gauge("worldloom_worker_busy_ratio", "Share of the time since the last scrape the render worker "
                     "spent rendering", registry=r)
        busy.set_function(self._busy_ratio)
        self.refusals = Counter("worldloom_moderation_refusals", "Commands and images refused", ["kind"], registry=r)
        for kind in REFUSALS:
            self.refusals.labels(kind)
        self.delivery_errors: dict[str, int] = {}
        r.register(_PlatformErrors(self))
        self._busy_mark = (time.monotonic(), float(app.engine.stats["busy_s"]))
        app.outbox.watch(self.on_job)
        app.guard.listen(self.on_refusal)

    def on_job(self, event: JobEvent) -> None:
        if event.state == "delivery_error" or event.error.startswith("delivery refused"):
            self.delivery_errors[event.platform] = self.delivery_errors.get(event.platform, 0) + 1
        if event.state not in JOB_STATES:
            return
        self.jobs.labels(event.state).inc()
        if event.state == "posted" and event.seconds:
            self.job_seconds.observe(event.seconds)
        elif event.state == "rendered" and event.seconds:
            self.render_seconds.observe(event.seconds)

    def on_refusal(self, refusal: Refusal) -> None:
        self.refusals.labels(refusal.kind).inc()

    def _busy_ratio(self) -> float:
        now, busy = time.monotonic(), float(self.app.engine.stats["busy_s"])
        then, was = self._busy_mark
        self._busy_mark = (now, busy)
        return min(1.0, max(0.0, (busy - was) / (now - then))) if now > then else 0.0

    def text(self) -> bytes:
        return generate_latest(self.registry)


class _PlatformErrors(Collector):
    """worldloom_platform_errors_total, summed when scraped from the adapters and the outbox."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily("worldloom_platform_errors", "Requests that failed in a platform adapter and "
                                     "panels that failed to post", labels=["platform"])
        counts = dict(self.metrics.delivery_errors)
        for platform in self.metrics.app.platforms:
            counts[platform.name] = counts.get(platform.name, 0) + int(getattr(platform, "errors", 0))
        for name, count in sorted(counts.items()):
            family.add_metric([name or "unknown"], count)
        yield family


class OpsServer:
    """/metrics, /healthz and /readyz on [metrics] host:port."""

    def __init__(self, app: App, metrics: Metrics, settings: MetricsSettings, expected_platforms: int = 0) -> None:
        self.app = app
        self.metrics = metrics
        self.settings = settings
        self.expected = expected_platforms
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        web_app = web.Application()
        web_app.router.add_get("/metrics", self._metrics)
        web_app.router.add_get("/healthz", self._healthz)
        web_app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.settings.host, self.settings.port).start()

    @property
    def port(self) -> int:
        """The port it listens on (port = 0 in the settings picks a free one)."""
        assert self._runner is not None, "not started"
        return int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> OpsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def ready(self) -> dict[str, Any]:
        """What /readyz checks, each True or False."""
        platforms = list(self.app.platforms)
        connected = [bool(await p.connected()) if hasattr(p, "connected") else True for p in platforms]
        return {"store": self.app.admin is not None and await self.app.admin.ping(),
                "engine": self.app.engine.alive(),
                "platforms": len(platforms) >= self.expected and all(connected),
                "accepting": not self.app.guard.closing}

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.text(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        checks = await self.ready()
        ok = all(checks.values())
        return web.Response(status=200 if ok else 503, text=json.dumps(checks) + "\n", content_type="application/json")
