"""Render workers on Ray actors: the engine's Backend for one GPU per worker, on one machine or many.

The bot process keeps the queue (engine/queue.py); this module starts the actors
(engine/ray_worker.py), hands each batch to the least busy live one, streams its progress
back, and turns a dead worker into WorkerLost so the queue requeues the batch with the same
seeds. Actors restart on their own (max_restarts); one that stays dead is replaced. Ray is
imported only here, and only once the backend starts: the default install does not need it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from engine.backend import RemoteProgress, WorkerLost
from engine.errors import RenderCancelled, RenderFailed
from engine.jobs import Capabilities, RenderJob
from engine.ray_worker import RenderWorker

logger = logging.getLogger(__name__)

IMAGE_CACHE = 64  # reference images kept in Ray's object store, most recently used


def plan_workers(wanted: int | str, gpus_per_worker: float, resources: Mapping[str, float]) -> tuple[int, float]:
    """How many workers, and GPUs for each, given what the Ray cluster reports."""
    gpus = float(resources.get("GPU", 0))
    if wanted == "auto":
        if gpus_per_worker > 0 and gpus >= gpus_per_worker:
            return int(gpus // gpus_per_worker), gpus_per_worker
        return 1, 0.0  # no GPU: one CPU worker
    count = int(wanted)
    if count * gpus_per_worker > gpus:
        logger.warning("%d workers need %s GPUs, the Ray cluster has %s now: waiting for more",
                       count, count * gpus_per_worker, gpus)  # fmt: skip
    return count, gpus_per_worker


class WorkerOutOfMemory(RuntimeError):
    """The renderer on a worker ran out of memory (the message says so; the queue splits the batch)."""


class RayBackend:
    """Batches rendered by `workers` Ray actors, each with the renderer loaded once."""

    def __init__(
        self,
        renderer: str,
        settings: Mapping[str, Any],
        *,
        address: str = "",
        workers: int | str = "auto",
        gpus_per_worker: float = 1.0,
        cpus_per_worker: float = 1.0,
        start_timeout_s: float = 600.0,
        ray_init: Mapping[str, Any] | None = None,
    ) -> None:
        """address: "" starts a local Ray instance, "auto" or "ray://host:10001" joins a cluster.

        workers: a number, or "auto" = one per GPU Ray reports (1 CPU worker when there is none).
        ray_init: extra ray.init() arguments for a local instance (e.g. num_cpus).
        """
        if workers != "auto" and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f'workers must be "auto" or a whole number of at least 1, got {workers!r}')
        if gpus_per_worker < 0 or cpus_per_worker < 0:
            raise ValueError("gpus_per_worker and cpus_per_worker must not be negative")
        self.name = renderer
        self.settings = dict(settings)
        self.address = address
        self.wanted = workers
        self.gpus_per_worker = gpus_per_worker
        self.cpus_per_worker = cpus_per_worker
        self.start_timeout_s = start_timeout_s
        self.ray_init = dict(ray_init or {})
        self.workers = 0
        self.capabilities = Capabilities()
        self._actors: list[Any] = []
        self._busy: list[int] = []  # batches in flight per actor
        self.rendered: list[int] = []  # batches each worker returned images for
        self._where: dict[str, int] = {}  # job id -> actor index, while in flight
        self._suspect: set[int] = set()  # died lately: not used while another is alive
        self._watchers: set[asyncio.Task[None]] = set()
        self._sending = asyncio.Lock()
        self._images: OrderedDict[tuple[str, int, int], tuple[str, Any]] = OrderedDict()
        self._images_lock = threading.Lock()
        self._gpus = 0.0
        self._connected = False
        self._closed = False

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await asyncio.to_thread(self._connect)
        import ray

        resources = ray.cluster_resources()
        count, self._gpus = plan_workers(self.wanted, self.gpus_per_worker, resources)
        self._actors = [self._spawn() for _ in range(count)]
        self._busy = [0] * count
        self.rendered = [0] * count
        try:
            infos = await asyncio.wait_for(
                asyncio.gather(*(a.info.remote() for a in self._actors)), self.start_timeout_s
            )
        except TimeoutError:
            await self.close()
            need = f"{count} workers x {self._gpus} GPU, {self.cpus_per_worker} CPU"
            raise RuntimeError(
                f"the Ray workers did not start in {self.start_timeout_s:.0f}s: {need}; the cluster has {resources}"
            ) from None
        except Exception as exc:
            await self.close()
            raise RuntimeError(f"a Ray render worker failed to load the renderer: {exc}"[:500]) from exc
        self.capabilities = infos[0]["capabilities"]
        self.workers = count
        logger.info("ray backend: %d %s workers (%s GPU each) on %s", count, self.name, self._gpus,
                    sorted({i["host"] for i in infos}))  # fmt: skip

    def _connect(self) -> None:
        import ray

        if ray.is_initialized():
            return  # the caller's instance (tests, benchmarks); theirs to shut down
        if self.address:
            ray.init(address=self.address)
        else:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            ray.init(**{"include_dashboard": False, **self.ray_init})
        self._connected = True  # close() disconnects (and stops a local instance)

    def _spawn(self) -> Any:
        import ray

        actor_class = ray.remote(RenderWorker).options(
            num_cpus=self.cpus_per_worker,
            num_gpus=self._gpus,
            max_restarts=-1,  # Ray restarts a dead worker; the queue requeues its batch
            max_task_retries=0,  # never re-run a batch behind the queue's back
        )
        return actor_class.remote(self.name, self.settings)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in self._watchers:
            task.cancel()
        if not self._actors and not self._connected:
            return
        import ray

        for actor in self._actors:
            ray.kill(actor, no_restart=True)
        self._actors = []
        with self._images_lock:
            self._images.clear()
        if self._connected:
            await asyncio.to_thread(ray.shutdown)

    # ------------------------------------------------------------ rendering

    async def render(self, jobs: Sequence[RenderJob], progress: RemoteProgress) -> list[bytes]:
        import ray.exceptions as rex

        lost = tuple(getattr(rex, n) for n in ("RayActorError", "WorkerCrashedError", "ObjectLostError",
                                                "NodeDiedError", "OutOfMemoryError") if hasattr(rex, n))  # fmt: skip
        async with self._sending:  # batches leave in the order the queue dispatched them
            if self._closed:
                raise WorkerLost("the Ray backend is closed")
            has_refs = any(j.references for j in jobs)
            images = await asyncio.to_thread(self._put_images, jobs) if has_refs else {}
            index = self._pick()
            actor = self._actors[index]
            stream = actor.render.remote(list(jobs), images)
            self._busy[index] += 1
            for job in jobs:
                self._where[job.job_id] = index
        outcome: tuple[Any, ...] = ("error", False, "the worker returned no outcome")
        try:
            async for ref in stream:
                item = await ref
                if item[0] == "progress":
                    progress(*item[1:])
                else:
                    outcome = item
        except lost as exc:
            self._watch(index, actor)
            raise WorkerLost(f"worker {index}: {type(exc).__name__}: {exc}"[:300]) from exc
        except rex.RayError as exc:
            raise RenderFailed(f"the render worker failed: {type(exc).__name__}"[:300]) from exc
        finally:
            self._busy[index] -= 1
            for job in jobs:
                self._where.pop(job.job_id, None)
        if outcome[0] == "done":
            self.rendered[index] += 1
            return list(outcome[1])
        if outcome[0] == "cancelled":
            raise RenderCancelled()
        if outcome[1]:
            raise WorkerOutOfMemory(f"out of memory on a worker: {outcome[2]}")
        raise RenderFailed(f"the renderer failed: {outcome[2]}"[:300])

    def cancel(self, job_ids: Iterable[str]) -> None:
        by_actor: dict[int, list[str]] = {}
        for job_id in job_ids:
            if job_id in self._where:
                by_actor.setdefault(self._where[job_id], []).append(job_id)
        for index, ids in by_actor.items():
            if index < len(self._actors):
                self._actors[index].cancel.remote(ids)

    def actor_of(self, job_id: str) -> Any | None:
        """The actor rendering (or holding) this job now, if any: for operators and tests."""
        index = self._where.get(job_id)
        return None if index is None else self._actors[index]

    def live_workers(self) -> int:
        """Workers not seen dying lately (a dead one counts again once it answers)."""
        return len(self._actors) - len(self._suspect)

    async def revived(self) -> None:
        """Wait until every worker seen dying has answered again (or been replaced)."""
        while self._watchers:
            await asyncio.gather(*self._watchers, return_exceptions=True)

    async def worker_info(self) -> list[dict[str, Any]]:
        """Each worker's info() (renderer, pid, host); waits for one that is restarting."""
        return list(await asyncio.gather(*(a.info.remote() for a in self._actors)))

    def _pick(self) -> int:
        """The least busy worker, preferring those not seen dying lately."""
        live = [i for i in range(len(self._actors)) if i not in self._suspect] or range(len(self._actors))
        return min(live, key=lambda i: (self._busy[i], i))

    def _watch(self, index: int, actor: Any) -> None:
        """Keep the dead worker out of rotation until it answers again (or a new one does)."""
        if index in self._suspect or self._closed:
            return
        self._suspect.add(index)
        task = asyncio.get_running_loop().create_task(self._revive(index, actor))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _revive(self, index: int, actor: Any) -> None:
        import ray
        import ray.exceptions as rex

        delay = 0.5
        while not self._closed:
            try:
                await actor.info.remote()
                break
            except rex.ActorUnavailableError:
                cap = 5.0  # Ray is restarting it (and loading the renderer): ask again soon
            except rex.RayError as exc:
                # Dead for good (restarts exhausted, killed for good, failed to load): a new one.
                logger.warning("render worker %d is gone (%s): starting a new one", index, type(exc).__name__)
                ray.kill(actor, no_restart=True)
                actor = self._actors[index] = self._spawn()
                cap = 30.0  # one that cannot load must not reload in a tight loop
            await asyncio.sleep(delay)
            delay = min(delay * 2, cap)
        self._suspect.discard(index)
        logger.info("render worker %d is back", index)

    def _put_images(self, jobs: Sequence[RenderJob]) -> dict[str, tuple[str, Any]]:
        """Each reference image of the batch in Ray's object store, read and sent once per content."""
        import ray

        out: dict[str, tuple[str, Any]] = {}
        for path in {r.path for j in jobs for r in j.references}:
            st = os.stat(path)
            key = (path, st.st_mtime_ns, st.st_size)
            with self._images_lock:
                hit = self._images.get(key)
                if hit is not None:
                    self._images.move_to_end(key)
            if hit is None:
                with open(path, "rb") as f:
                    data = f.read()
                hit = (hashlib.sha256(data).hexdigest(), ray.put(data))
                with self._images_lock:
                    self._images[key] = hit
                    while len(self._images) > IMAGE_CACHE:
                        self._images.popitem(last=False)
            out[path] = hit
        return out
