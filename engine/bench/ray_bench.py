"""`python -m engine.bench engine --backend ray --compare-workers 1,2`: the Ray backend's speed.

The same jobs, all submitted at once, go through the local backend (the engine's own worker
thread) and through the Ray backend with each number of workers, in interleaved rounds
(medians reported). Prints one JSON object:

- local_images_per_s        the engine's worker thread in this process
- ray_images_per_s          {workers: images/s}
- two_vs_one                images/s of 2 Ray workers / 1 Ray worker (target >= 1.6 on 2 cores)
- ray_vs_local              1 Ray worker / the local backend (target >= 0.9)
- start_s                   seconds until each engine had loaded its renderer(s)
- bot_cpu_ms_per_image      CPU time of this (the bot's) process per image with Ray workers
- worker_cpu_share          each Ray worker's CPU time / wall time (below 1: other processes had
                            the cores; on a shared machine that, not Ray, bounds two_vs_one)

Each worker, and the local backend, runs torch with one thread for the tiny renderer. On a
machine with N GPUs, `--renderer diffusion --model M --device cuda --compare-workers 1,N`
gives the multi-GPU figure (the engines then run one after the other if the GPUs cannot hold
them all at once).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from typing import Any

from engine.build import build_engine
from engine.jobs import RenderJob
from engine.queue import Engine
from engine.ray_backend import RayBackend


def settings_for(args: argparse.Namespace, tiny_dir: str | None) -> dict[str, Any]:
    settings: dict[str, Any] = {"device": args.device, "dtype": args.dtype, "safety_checker": False}
    if args.cpu_threads:
        settings["cpu_threads"] = args.cpu_threads
    if args.model:
        settings["model"] = args.model
    if tiny_dir:
        settings["tiny_dir"] = tiny_dir  # every worker loads the same tiny weights, built once
    return settings


def make_jobs(args: argparse.Namespace, n: int) -> list[RenderJob]:
    size = args.size or (64 if args.renderer == "tiny" else 512)
    steps = args.steps or (4 if args.renderer == "tiny" else 20)
    prompt = "a lighthouse keeper climbs the stairs, storm outside, lantern light"
    return [
        RenderJob(f"j{i}", "bench", i, f"user{i % max(1, args.concurrency)}", f"panel {i}: {prompt}", "blurry",
                  seed=i, width=size, height=size, steps=steps)
        for i in range(n)
    ]


async def through(engine: Engine, jobs: list[RenderJob], tag: str, cpu: dict[str, list[float]] | None = None) -> float:
    """Images/s with every job submitted at once.

    With `cpu`: this process's CPU ms per image goes to cpu["bot"], and the Ray workers' CPU
    seconds over wall seconds, per worker, to cpu["workers"] (1.0: each had a core to itself).
    """
    backend = engine.backend if isinstance(engine.backend, RayBackend) else None
    before = [i["cpu_s"] for i in await backend.worker_info()] if backend and cpu is not None else []
    t0, c0 = time.perf_counter(), time.process_time()
    handles = [engine.submit(replace(j, job_id=f"{tag}-{j.job_id}")) for j in jobs]
    for handle in handles:
        await handle.result()
    wall, used = time.perf_counter() - t0, time.process_time() - c0
    if cpu is not None:
        cpu["bot"].append(used * 1000 / len(jobs))
        if backend is not None:
            after = [i["cpu_s"] for i in await backend.worker_info()]
            cpu["workers"].append(sum(a - b for a, b in zip(after, before, strict=True)) / wall / len(after))
    return len(jobs) / wall


async def started(args: argparse.Namespace, settings: dict[str, Any], workers: int | None) -> tuple[Engine, float]:
    table = dict(settings)
    if workers is not None:
        table.update(backend="ray", workers=workers, gpus_per_worker=args.gpus_per_worker)
    cap = 10 * args.jobs + 10
    engine = build_engine(args.renderer, table, max_batch=args.max_batch, per_user_cap=cap, global_cap=cap)
    t0 = time.perf_counter()
    await engine.start()
    return engine, time.perf_counter() - t0


async def run(args: argparse.Namespace, counts: list[int]) -> dict[str, Any]:
    import ray

    tiny_dir = None
    if args.renderer == "tiny":
        from engine.renderers.diffusion.tiny import save_tiny_pipeline

        tiny_dir = tempfile.mkdtemp(prefix="worldloom-bench-tiny-")
        await asyncio.to_thread(save_tiny_pipeline, tiny_dir)
    settings = settings_for(args, tiny_dir)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not ray.is_initialized():
        # Logical CPUs for every worker of every engine at once; the machine's cores are what they are.
        ray.init(num_cpus=max(sum(counts), os.cpu_count() or 1), include_dashboard=False, log_to_driver=False)
    gpus = float(ray.cluster_resources().get("GPU", 0))
    if args.gpus_per_worker is None:
        args.gpus_per_worker = 1.0 if gpus >= 1 else 0.0
    together = args.gpus_per_worker * sum(counts) <= gpus  # else one engine at a time
    jobs = make_jobs(args, args.jobs)
    warm = make_jobs(args, max(counts) * args.max_batch)
    rates: dict[str, list[float]] = {"local": [], **{str(n): [] for n in counts}}
    cpu: dict[str, dict[str, list[float]]] = {key: {"bot": [], "workers": []} for key in rates}
    start_s: dict[str, float] = {}
    engines: dict[str, Engine] = {}
    try:
        for key in rates:
            engine, start_s[key] = await started(args, settings, None if key == "local" else int(key))
            await through(engine, warm, f"warm{key}")  # allocator, kernels, caches
            if together:
                engines[key] = engine
                continue
            for r in range(args.rounds):
                rates[key].append(await through(engine, jobs, f"r{r}", cpu[key]))
            await engine.close()
        for r in range(args.rounds if together else 0):
            for key, engine in engines.items():  # interleaved: a slow spell hits every variant alike
                rates[key].append(await through(engine, jobs, f"r{r}", cpu[key]))
    finally:
        for engine in engines.values():
            await engine.close()
    med = statistics.median
    result: dict[str, Any] = {
        "renderer": args.renderer,
        "device": args.device,
        "jobs": args.jobs,
        "max_batch": args.max_batch,
        "steps": jobs[0].steps,
        "size": [jobs[0].width, jobs[0].height],
        "rounds": args.rounds,
        "gpus_per_worker": args.gpus_per_worker,
        "cluster_gpus": gpus,
        "interleaved": together,
        "cpu_count": os.cpu_count(),
        "local_images_per_s": round(med(rates["local"]), 3),
        "ray_images_per_s": {k: round(med(v), 3) for k, v in rates.items() if k != "local"},
        "start_s": {k: round(v, 1) for k, v in start_s.items()},
        # CPU the bot process spends per image while Ray workers render (queue, dispatch, results).
        "bot_cpu_ms_per_image": {k: round(med(v["bot"]), 2) for k, v in cpu.items() if k != "local"},
        # Each worker's CPU time over wall time: below 1 the workers waited for cores others used.
        "worker_cpu_share": {k: round(med(v["workers"]), 2) for k, v in cpu.items() if k != "local"},
    }
    # Interleaved rounds pair up: the ratio of each round, then the median; else the medians' ratio.
    result.update(_ratios(rates if together else {k: [med(v)] for k, v in rates.items()}))
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    return result


def _ratios(rates: dict[str, list[float]]) -> dict[str, float]:
    def ratio(top: str, bottom: str) -> float:
        return round(statistics.median(t / b for t, b in zip(rates[top], rates[bottom], strict=True)), 3)

    out: dict[str, float] = {}
    if "1" in rates and "2" in rates:
        out["two_vs_one"] = ratio("2", "1")
    if "1" in rates:
        out["ray_vs_local"] = ratio("1", "local")
    return out


def main(args: argparse.Namespace) -> dict[str, Any]:
    try:
        counts = sorted({int(c) for c in args.compare_workers.split(",") if c.strip()})
    except ValueError:
        counts = []
    if not counts or counts[0] < 1:
        sys.exit("--compare-workers takes whole numbers of at least 1, e.g. 1,2")
    if args.arch:
        sys.exit("--backend ray loads the renderer by name on each worker: use --renderer tiny|sketch|diffusion")
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        sys.exit('--backend ray needs Ray: pip install "worldloom[ray]"')
    return asyncio.run(run(args, counts))
