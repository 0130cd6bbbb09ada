"""The engine on Ray actors: a local Ray instance on CPU, two workers with the tiny diffusion renderer.

One engine (two workers) serves the whole module, so the workers load the renderer once; every
image is compared with the same job rendered locally, which shows the seeds (and references)
arrived unchanged.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from engine.errors import RenderCancelled
from engine.jobs import Reference, RenderJob, RenderResult
from engine.queue import Engine, JobHandle
from engine.ray_backend import RayBackend
from tests.tiny_support import keep_going, pixels

pytest.importorskip("ray")
pytest.importorskip("diffusers")

pytestmark = pytest.mark.asyncio(loop_scope="module")
TIMEOUT = 120.0  # a killed worker restarts and loads torch again: seconds on a busy 2-core machine


def job(job_id: str, user: str, seed: int, steps: int = 4, refs: tuple[Reference, ...] = ()) -> RenderJob:
    return RenderJob(job_id, "w", seed, user, f"a lighthouse, panel {seed}", "", seed, 64, 64, steps,
                     references=refs)  # fmt: skip


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def engine(ray_instance: Any) -> AsyncIterator[Engine]:
    backend = RayBackend("tiny", {}, workers=2, gpus_per_worker=0)
    async with Engine(backend=backend, max_batch=2, per_user_cap=50, global_cap=200) as engine:
        yield engine


def backend_of(engine: Engine) -> RayBackend:
    assert isinstance(engine.backend, RayBackend)
    return engine.backend


def assert_same_image(remote: RenderResult, local: bytes) -> None:
    """Same job, same seed: the same picture up to float rounding between batch sizes."""
    assert np.abs(pixels(remote.png) - pixels(local)).max() <= 2, remote.job_id


async def mid_render(handle: JobHandle) -> None:
    async with asyncio.timeout(TIMEOUT):
        async for status in handle.updates():
            if status.state == "rendering" and status.step >= 1:
                return
    raise AssertionError(f"{handle.job_id} ended as {handle.status()} before rendering a step")


async def test_jobs_from_several_users_render_through_two_workers_in_fair_order(engine: Engine, tiny: Any) -> None:
    backend = backend_of(engine)
    before = list(backend.rendered)
    jobs = [job(f"ann{i}", "ann", 10 + i) for i in range(6)]
    jobs += [job(f"bob{i}", "bob", 20 + i) for i in range(2)] + [job(f"cat{i}", "cat", 30 + i) for i in range(2)]
    finished: list[str] = []

    async def follow(handle: JobHandle) -> RenderResult:
        result = await handle.result()
        finished.append(handle.job_id)
        return result

    handles = [engine.submit(j) for j in jobs]
    async with asyncio.timeout(TIMEOUT):
        results = await asyncio.gather(*(follow(h) for h in handles))
    # Ann asked first and most, but Bob and Cat take turns with her: both are done before Ann's last two.
    last_of_others = max(finished.index(j.job_id) for j in jobs if j.user != "ann")
    assert last_of_others < finished.index("ann4") and last_of_others < finished.index("ann5"), finished
    for j, result in zip(jobs, results, strict=True):
        assert result.renderer == "tiny"
        assert_same_image(result, tiny.render([j], keep_going)[0])
    assert all(after > b for after, b in zip(backend.rendered, before, strict=True)), "both workers rendered"


def diff(a: bytes, b: bytes) -> float:
    return float(np.abs(pixels(a) - pixels(b)).mean())


async def test_reference_images_travel_to_the_worker_as_bytes(engine: Engine, tiny: Any, tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    paths = []
    for name in ("mira", "tomas"):
        paths.append(tmp_path / f"{name}.png")
        Image.fromarray(rng.integers(0, 255, (96, 80, 3), dtype=np.uint8)).save(paths[-1])
    mira, tomas = (job(f"ref-{p.stem}", "ann", 7, refs=(Reference(p.stem, str(p), 1.0),)) for p in paths)
    remote = await engine.submit(mira).result()
    local_mira, local_tomas = (tiny.render([j], keep_going)[0] for j in (mira, tomas))
    # The worker drew with Mira's picture, not Tomas's and not none (the references barely move a tiny model).
    assert diff(remote.png, local_mira) * 4 < diff(remote.png, local_tomas)
    assert diff(remote.png, tiny.render([job("plain", "ann", 7)], keep_going)[0]) > 0.02


async def test_cancel_stops_a_running_job_and_drops_a_cancelled_batch_mates_result(engine: Engine) -> None:
    images = engine.stats["images"]
    pair = [engine.submit(job(f"pair{i}", "dan", 40 + i, steps=30)) for i in range(2)]
    alone = engine.submit(job("alone", "eve", 50, steps=31))  # other steps: a batch of its own
    await asyncio.gather(mid_render(pair[0]), mid_render(alone))
    assert pair[0].cancel() and alone.cancel()
    with pytest.raises(RenderCancelled):
        await asyncio.wait_for(alone.result(), TIMEOUT)
    with pytest.raises(RenderCancelled):
        await asyncio.wait_for(pair[0].result(), TIMEOUT)
    assert (await asyncio.wait_for(pair[1].result(), TIMEOUT)).png.startswith(b"\x89PNG")
    # The pair was rendered whole (its cancelled image dropped); the lone job's worker stopped early.
    assert engine.stats["images"] - images == 2


@pytest.mark.parametrize("how", ["ray.kill", "SIGKILL"])
async def test_killing_a_worker_mid_batch_loses_nothing_and_completes_nothing_twice(
    engine: Engine, tiny: Any, ray_instance: Any, how: str
) -> None:
    backend = backend_of(engine)
    await asyncio.wait_for(backend.revived(), TIMEOUT)
    assert backend.live_workers() == 2
    pids = {info["pid"] for info in await backend.worker_info()}
    images, losses = engine.stats["images"], engine.stats["worker_losses"]
    jobs = [job(f"{how}-{i}", f"user{i % 2}", 60 + i, steps=12) for i in range(4)]
    handles = [engine.submit(j) for j in jobs]
    await mid_render(handles[0])
    actor = backend.actor_of(jobs[0].job_id)
    assert actor is not None
    if how == "ray.kill":
        ray_instance.kill(actor, no_restart=False)  # a crash: Ray restarts the actor
    else:
        os.kill((await actor.info.remote())["pid"], signal.SIGKILL)  # the process dies under it
    async with asyncio.timeout(TIMEOUT):
        results = await asyncio.gather(*(h.result() for h in handles))
    for j, result in zip(jobs, results, strict=True):
        assert_same_image(result, tiny.render([j], keep_going)[0])  # requeued with the same seed
    assert engine.stats["worker_losses"] > losses
    assert engine.stats["images"] - images == len(jobs)  # nothing delivered twice
    assert all(h.status().state == "done" for h in handles)
    # The dead worker comes back as a new process and renders again.
    await asyncio.wait_for(backend.revived(), TIMEOUT)
    assert backend.live_workers() == 2
    assert {info["pid"] for info in await backend.worker_info()} != pids
    rendered = list(backend.rendered)
    more = [engine.submit(job(f"{how}-after{i}", f"late{i}", 70 + i)) for i in range(4)]  # two batches
    await asyncio.wait_for(asyncio.gather(*(h.result() for h in more)), TIMEOUT)
    assert all(after > b for after, b in zip(backend.rendered, rendered, strict=True))


async def test_a_worker_that_cannot_load_its_renderer_fails_start_clearly(ray_instance: Any) -> None:
    engine = Engine(backend=RayBackend("no-such-renderer", {}, workers=1, gpus_per_worker=0))
    with pytest.raises(RuntimeError, match="failed to load the renderer"):
        await engine.start()
