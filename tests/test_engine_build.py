"""build_engine() from the [engine] settings, worker planning, and the Ray worker's logic without Ray."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from engine.build import build_engine, split_settings
from engine.errors import RenderCancelled
from engine.jobs import Progress, Reference, RenderJob
from engine.ray_backend import RayBackend, plan_workers
from engine.ray_worker import RenderWorker
from engine.renderers.storyboard.renderer import SketchRenderer


def test_the_engine_keys_never_reach_the_renderer() -> None:
    settings = {"backend": "local", "ray_address": "", "workers": 2, "gpus_per_worker": 0, "cpu_threads": 1}
    chosen, rest = split_settings(settings)
    assert (chosen.backend, chosen.workers, chosen.gpus_per_worker) == ("local", 2, 0.0)
    assert rest == {"cpu_threads": 1}
    assert "workers" in settings  # the caller's table is left alone
    engine = build_engine("tiny", settings, max_batch=3)
    assert engine.backend is None and engine.max_batch == 3
    assert engine.renderer.settings == {"device": "cpu", "dtype": "float32", "safety_checker": False,  # type: ignore[attr-defined]
                                        "cpu_threads": 1, "model": "tiny"}  # fmt: skip
    assert isinstance(build_engine("sketch", {}).renderer, SketchRenderer)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"backend": "spark"}, "backend must be"),
        ({"workers": 0}, "workers must be"),
        ({"workers": "many"}, "workers must be"),
        ({"workers": True}, "workers must be"),
        ({"gpus_per_worker": -1}, "gpus_per_worker"),
        ({"gpus_per_worker": "one"}, "gpus_per_worker"),
        ({"ray_address": 10001}, "ray_address"),
    ],
)
def test_bad_engine_settings_get_a_clear_error(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_engine("sketch", settings)


def test_unknown_renderer_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown renderer"):
        build_engine("dall-e", {"backend": "ray"})


def test_ray_backend_settings_reach_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("ray") is None:
        with pytest.raises(RuntimeError, match="worldloom\\[ray\\]"):
            build_engine("sketch", {"backend": "ray"})
        return
    settings = {"backend": "ray", "ray_address": "auto", "workers": 3, "gpus_per_worker": 0.5, "steps": 20}
    engine = build_engine("tiny", settings, per_user_cap=7)
    backend = engine.backend
    assert isinstance(backend, RayBackend)
    assert (backend.address, backend.wanted, backend.gpus_per_worker) == ("auto", 3, 0.5)
    assert backend.settings == {"steps": 20} and engine.per_user_cap == 7
    assert engine.renderer.name == "tiny"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match="worldloom\\[ray\\]"):
        build_engine("sketch", {"backend": "ray"})


def test_auto_workers_are_one_per_gpu_and_one_cpu_worker_without_gpus() -> None:
    assert plan_workers("auto", 1.0, {"CPU": 16.0}) == (1, 0.0)
    assert plan_workers("auto", 1.0, {"CPU": 16.0, "GPU": 4.0}) == (4, 1.0)
    assert plan_workers("auto", 0.5, {"GPU": 1.0}) == (2, 0.5)
    assert plan_workers("auto", 0.0, {"GPU": 2.0}) == (1, 0.0)  # CPU workers asked for
    assert plan_workers(3, 1.0, {"GPU": 8.0}) == (3, 1.0)
    assert plan_workers(2, 0.0, {}) == (2, 0.0)


class Recorder:
    """Stands in for the loaded renderer of a RenderWorker: reads the references it is given."""

    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes]] = []

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        for j in jobs:
            self.seen += [(r.path, Path(r.path).read_bytes()) for r in j.references]
            if not progress(j.job_id, 1, 1):
                raise RenderCancelled()
        return [j.job_id.encode() for j in jobs]

    def close(self) -> None:
        pass


async def outcome_of(
    worker: RenderWorker, jobs: list[RenderJob], images: dict[str, tuple[str, Any]]
) -> tuple[Any, ...]:
    items = [item async for item in worker.render(jobs, images)]
    assert all(item[0] == "progress" for item in items[:-1])
    return items[-1]


async def test_a_worker_renders_references_from_the_bytes_sent_not_the_bots_disk() -> None:
    worker = RenderWorker("sketch", {})
    recorder = worker.renderer = Recorder()  # type: ignore[assignment]
    try:
        data = b"\x89PNG pretend reference"
        bot_path = "/nowhere/on/this/node/ada.png"  # only the bot's disk has it
        ref = Reference("Ada", bot_path, 1.0)
        jobs = [RenderJob("j1", "w", 0, "u", "ada waves", "", 1, 64, 64, 1, references=(ref,))]
        images = {bot_path: (hashlib.sha256(data).hexdigest(), data)}
        assert await outcome_of(worker, jobs, images) == ("done", [b"j1"])
        ((path, seen),) = recorder.seen
        assert seen == data and path != bot_path and not await asyncio.to_thread(os.path.exists, bot_path)
        worker.cancel(["j2"])  # not held by the worker: ignored, nothing lingers
        job2 = RenderJob("j2", "w", 1, "u", "again", "", 2, 64, 64, 1, references=(ref,))
        assert await outcome_of(worker, [job2], images) == ("done", [b"j2"])
        assert recorder.seen[-1] == (path, data)  # same content, same node-local copy
    finally:
        worker.close()
    assert not await asyncio.to_thread(os.path.exists, path)  # the worker's copies go with it


class Gated(Recorder):
    """Waits inside render() until released, so a cancel can arrive mid-batch."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        self.entered.set()
        assert self.release.wait(10)
        return super().render(jobs, progress)


async def test_a_worker_stops_a_cancelled_batch_and_reports_errors_as_data() -> None:
    worker = RenderWorker("sketch", {})
    try:
        jobs = [RenderJob("c1", "w", 0, "u", "a tower", "", 1, 64, 64, 1)]
        png = await outcome_of(worker, jobs, {})  # the storyboard renderer, loaded by name
        assert png[0] == "done" and png[1][0].startswith(b"\x89PNG")
        gated = worker.renderer = Gated()  # type: ignore[assignment]
        running = asyncio.create_task(outcome_of(worker, jobs, {}))
        assert await asyncio.to_thread(gated.entered.wait, 10)
        worker.cancel(["c1"])
        gated.release.set()
        assert await running == ("cancelled",)
        assert await outcome_of(worker, jobs, {}) == ("done", [b"c1"])  # that cancel ended with its batch

        class Broken(Recorder):
            def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

        worker.renderer = Broken()  # type: ignore[assignment]
        kind, oom, message = await outcome_of(worker, jobs, {})
        assert (kind, oom) == ("error", True) and "out of memory" in message
    finally:
        worker.close()
