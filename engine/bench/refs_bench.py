"""The multi-reference part of `python -m engine.bench engine --arch flux2-klein`.

Builds FLUX.2 [klein]'s architecture with random weights (scaled down unless --full-size) behind
the real MultiReferenceRenderer, and measures images per second with 0, 1 and 4 reference
images per panel: each reference adds its own tokens to every step's sequence.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.jobs import Reference, Renderer, RenderJob

ARCHES = ("flux2-klein",)
REFERENCE_COUNTS = (0, 1, 4)


def make(args: argparse.Namespace, settings: dict[str, Any]) -> Renderer:
    """The renderer over a random FLUX.2 [klein] (loaded by the caller)."""
    from engine.renderers.diffusion.flux2_arch import build_flux2_klein
    from engine.renderers.diffusion.multiref import MultiReferenceRenderer
    from engine.renderers.diffusion.renderer import pick_device, pick_dtype

    device = pick_device(args.device)
    dtype = args.dtype if args.dtype != "auto" else ("float32" if device == "cpu" else "bfloat16")
    pipe = build_flux2_klein(device, pick_dtype(dtype, device), full_size=args.full_size)
    s = {**settings, "model": f"random-{args.arch}", "device": device, "dtype": dtype}
    if args.size:  # render at the requested size, references at the same edge
        s.update(native_size=args.size, reference_size=args.size)
    if args.steps:  # distilled: the renderer would otherwise always run the model's 4 steps
        s["few_step_steps"] = args.steps
    return MultiReferenceRenderer(s, pipeline=pipe)


def images_per_s_by_refs(renderer: Renderer, jobs: list[RenderJob], rounds: int) -> dict[str, float]:
    """Median images/s of single-panel renders with 0, 1 and 4 references, interleaved over rounds."""
    from PIL import Image

    rates: dict[int, list[float]] = {n: [] for n in REFERENCE_COUNTS}
    with tempfile.TemporaryDirectory(prefix="worldloom-bench-") as folder:
        paths = []
        for i, colour in enumerate(("red", "blue", "green", "yellow")):
            path = Path(folder) / f"ref{i}.png"
            Image.new("RGB", (768, 1024), colour).save(path)
            paths.append(str(path))
        for _ in range(rounds):
            for n in REFERENCE_COUNTS:
                refs = tuple(Reference(f"r{i}", paths[i], 1.0) for i in range(n))
                batch = [RenderJob(**{**j.__dict__, "references": refs}) for j in jobs]
                renderer.render(batch[:1], lambda *_: True)  # the new sequence length's first call
                t0 = time.perf_counter()
                for job in batch:
                    renderer.render([job], lambda *_: True)
                rates[n].append(len(batch) / (time.perf_counter() - t0))
    return {str(n): round(statistics.median(r), 3) for n, r in rates.items()}
