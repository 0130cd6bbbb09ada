"""`python -m engine.bench engine`: how close the queue gets to the renderer's own speed.

Prints one JSON object:

- bare_images_per_s     a plain loop of renderer.render([job]) calls, same settings
- queue_images_per_s    the same jobs, all submitted at once, through Engine(max_batch=1)
- queue_vs_bare         their ratio (the queue's overhead; target >= 0.95)
- batch4_images_per_s   the same jobs through Engine(max_batch=4); batch4_speedup over max_batch 1
- busy_fraction         share of the wall time the worker spent inside render() while jobs
                        were waiting (max_batch 1 run, all jobs queued up front; target >= 0.95)
- first_progress_ms     p50/p99 from submit() to the first step reported back, with
                        `--concurrency` clients each submitting their next job when the last ends

`--arch sd15|sdxl` builds a real-size architecture with random weights (nothing downloaded):
meant for a GPU (`--device cuda`); on a CPU one image takes minutes.
`--arch flux2-klein` builds FLUX.2 [klein]'s architecture scaled down (CPU-sized; `--full-size`
for the real one on a GPU) behind the multi-reference renderer, and adds `scaled_down` and
`images_per_s_by_refs` (0, 1 and 4 reference images per panel; see refs_bench.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from engine.bench import quiet_progress_bars, refs_bench
from engine.jobs import Progress, Renderer, RenderJob
from engine.queue import Engine


class _Loaded:
    """A loaded renderer lent to one Engine run: load() and close() are the bench's business."""

    def __init__(self, inner: Renderer) -> None:
        self.inner = inner
        self.name = inner.name

    def load(self) -> None:
        pass

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        return self.inner.render(jobs, progress)

    def close(self) -> None:
        pass


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m engine.bench engine", description=__doc__.split("\n")[0])
    p.add_argument("--renderer", choices=("tiny", "diffusion", "sketch"), default="tiny")
    p.add_argument("--arch", choices=("sd15", "sdxl", *refs_bench.ARCHES), help="random-weight model (diffusion)")
    p.add_argument("--full-size", action="store_true", help="flux2-klein at its real size (default: scaled down)")
    p.add_argument("--model", help="model id or folder for --renderer diffusion")
    p.add_argument("--device", default="auto", help="cpu | cuda | mps | auto")
    p.add_argument("--dtype", default="auto")
    p.add_argument("--jobs", type=int, default=16)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--steps", type=int, default=None, help="default: 4 (tiny), 20 (diffusion)")
    p.add_argument("--size", type=int, default=None, help="image edge; default: the model's native")
    p.add_argument("--cpu-threads", type=int, default=None)
    p.add_argument("--rounds", type=int, default=3, help="interleaved repeats; medians are reported")
    # --backend ray: see engine/bench/ray_bench.py
    p.add_argument("--backend", choices=("local", "ray"), default="local")
    p.add_argument("--compare-workers", default="1,2", help="--backend ray: worker counts to compare")
    p.add_argument("--max-batch", type=int, default=1, help="--backend ray: the engines' max_batch")
    p.add_argument("--gpus-per-worker", type=float, default=None, help="--backend ray: default 1 with GPUs, else 0")
    args = p.parse_args(argv)
    if min(args.jobs, args.concurrency, args.rounds) < 1:
        p.error("--jobs, --concurrency and --rounds must be at least 1")
    if args.renderer == "diffusion" and not (args.arch or args.model):
        p.error("--renderer diffusion needs --model or --arch")
    return args


def make(args: argparse.Namespace) -> Renderer:
    """Build and load the renderer once; every measurement below shares it."""
    settings: dict[str, Any] = {"device": args.device, "dtype": args.dtype, "safety_checker": False}
    if args.cpu_threads:
        settings["cpu_threads"] = args.cpu_threads
    renderer: Renderer
    if args.arch in refs_bench.ARCHES:
        renderer = refs_bench.make(args, settings)
    elif args.arch:
        from engine.renderers.diffusion.renderer import DiffusionRenderer, pick_device, pick_dtype
        from engine.renderers.diffusion.tiny import build_arch_pipeline

        device = pick_device(args.device)
        pipe = build_arch_pipeline(args.arch, device, pick_dtype(args.dtype, device))
        renderer = DiffusionRenderer({**settings, "model": f"random-{args.arch}"}, pipeline=pipe)
    elif args.renderer == "diffusion":
        from engine.renderers.diffusion.renderer import DiffusionRenderer

        renderer = DiffusionRenderer({**settings, "model": args.model})
    elif args.renderer == "tiny":
        from engine.renderers.diffusion.tiny import TinyRenderer

        renderer = TinyRenderer(settings)
    else:
        from engine.renderers.storyboard.renderer import SketchRenderer

        renderer = SketchRenderer()
    renderer.load()
    return renderer


def jobs_for(args: argparse.Namespace, renderer: Renderer, n: int, tag: str) -> list[RenderJob]:
    native = getattr(renderer, "native", 512)
    size = args.size or native
    steps = args.steps or (4 if args.renderer == "tiny" and not args.arch else 20)
    return [
        RenderJob(
            job_id=f"{tag}{i}",
            world_id="bench",
            panel=i,
            user=f"user{i % max(1, args.concurrency)}",
            prompt=f"panel {i}: a lighthouse keeper climbs the stairs, storm outside, lantern light",
            negative_prompt="blurry",
            seed=i,
            width=size,
            height=size,
            steps=steps,
        )
        for i in range(n)
    ]


def bare_loop(renderer: Renderer, jobs: list[RenderJob]) -> float:
    t0 = time.perf_counter()
    for job in jobs:
        renderer.render([job], lambda *_: True)
    return len(jobs) / (time.perf_counter() - t0)


async def through_queue(renderer: Renderer, jobs: list[RenderJob], max_batch: int) -> tuple[float, float]:
    """Images/s with every job submitted at once, and the worker's busy fraction."""
    cap = len(jobs) + 1
    async with Engine(_Loaded(renderer), max_batch=max_batch, per_user_cap=cap, global_cap=cap) as engine:
        t0 = time.perf_counter()
        handles = [engine.submit(job) for job in jobs]
        for handle in handles:
            await handle.result()
        wall = time.perf_counter() - t0
        busy = engine.stats["busy_s"]
    return len(jobs) / wall, min(1.0, busy / wall)


async def latencies(renderer: Renderer, jobs: list[RenderJob], concurrency: int) -> list[float]:
    """Submit-to-first-step times (ms) with `concurrency` clients working in parallel."""
    out: list[float] = []
    cap = len(jobs) + 1
    async with Engine(_Loaded(renderer), max_batch=4, per_user_cap=cap, global_cap=cap) as engine:

        async def client(mine: list[RenderJob]) -> None:
            for job in mine:
                t0 = time.perf_counter()
                handle = engine.submit(job)
                async for status in handle.updates():
                    if status.step >= 1 or status.final:
                        out.append((time.perf_counter() - t0) * 1000)
                        break
                await handle.result()

        async with asyncio.TaskGroup() as group:
            for c in range(concurrency):
                group.create_task(client(jobs[c::concurrency]))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    quiet_progress_bars()
    renderer = await asyncio.to_thread(make, args)
    bare: list[float] = []
    queue1: list[float] = []
    queue4: list[float] = []
    busy: list[float] = []
    busy4: list[float] = []
    try:
        warm = jobs_for(args, renderer, 2, "warm")
        await asyncio.to_thread(renderer.render, warm, lambda *_: True)  # allocator, kernels, caches
        jobs = jobs_for(args, renderer, args.jobs, "j")
        # Interleaved rounds, so a slow spell of the machine hits every variant alike.
        for r in range(args.rounds):
            bare.append(await asyncio.to_thread(bare_loop, renderer, jobs))
            rate, frac = await through_queue(renderer, [replace(j, job_id=f"q{r}{j.job_id}") for j in jobs], 1)
            queue1.append(rate)
            busy.append(frac)
            rate, frac = await through_queue(renderer, [replace(j, job_id=f"b{r}{j.job_id}") for j in jobs], 4)
            queue4.append(rate)
            busy4.append(frac)
        ms = await latencies(renderer, [replace(j, job_id=f"l{j.job_id}") for j in jobs], args.concurrency)
        by_refs = None
        if args.arch in refs_bench.ARCHES:
            by_refs = await asyncio.to_thread(refs_bench.images_per_s_by_refs, renderer, jobs[:8], args.rounds)
    finally:
        await asyncio.to_thread(renderer.close)
    med = statistics.median
    result: dict[str, Any] = {
        "renderer": renderer.name,
        "arch": args.arch,
        "device": getattr(renderer, "device", "cpu"),
        "dtype": str(getattr(renderer, "dtype", None)),
        "jobs": args.jobs,
        "concurrency": args.concurrency,
        "steps": jobs[0].steps,
        "size": [jobs[0].width, jobs[0].height],
        "rounds": args.rounds,
        "bare_images_per_s": round(med(bare), 3),
        "queue_images_per_s": round(med(queue1), 3),
        "queue_vs_bare": round(med(q / b for q, b in zip(queue1, bare, strict=True)), 3),
        "batch4_images_per_s": round(med(queue4), 3),
        "batch4_speedup": round(med(f / q for f, q in zip(queue4, queue1, strict=True)), 3),
        "busy_fraction": round(med(busy), 4),
        "busy_fraction_batch4": round(med(busy4), 4),
        "first_progress_ms": {"p50": round(statistics.median(ms), 1), "p99": round(percentile(ms, 0.99), 1)},
    }
    if by_refs is not None:
        result.update(scaled_down=not args.full_size, images_per_s_by_refs=by_refs)
    if result["device"].startswith("cuda"):
        import torch

        result["gpu"] = torch.cuda.get_device_name()
        result["max_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return result


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.backend == "ray":
        from engine.bench import ray_bench

        result = ray_bench.main(args)
    else:
        result = asyncio.run(run(args))
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0
