"""`python -m engine.bench consistency`: does a subject keep its identity across panels, and what do references add?

For each subject set: a world in the set's style, the subject registered as a character (/cref), then one
/continue per setting. Each set is rendered with references on (the first panel anchors the subject,
as automatic anchoring does) and/or off (no reference images at all). Prints one JSON object:

- sets[]: per set and mode ("on" / "off"): identity_dino and identity_clip (mean pairwise cosine
  similarity of the panels' DINOv2 / CLIP image features: 1.0 = identical pictures) and
  text_alignment (mean CLIP cosine similarity of each panel with "SUBJECT SETTING");
  reference_gain = identity_dino(on) - identity_dino(off), reference_gain_clip likewise
- overall: the means of the same numbers over all sets

How a set is rendered is one callable, `render(subject_set, references) -> [png, ...]` (one image
per setting, sync or async): the CLI passes `ServiceRender` (engine/bench/consistency_service.py:
the bot's real service path, the commands typed as in chat); `EngineRender` renders through the
engine alone (planner + prompt compiler + renderer, no bot).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import logging
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from engine.appearance import guess_pronoun, parse_description
from engine.bench import quiet_progress_bars
from engine.bench.consistency_sets import SetsError, SubjectSet, load_sets
from engine.bench.embeddings import DEFAULT_CLIP, DEFAULT_DINO, Embedder, save_tiny_embedders
from engine.events import PanelDrawn
from engine.jobs import Reference, Renderer, RenderJob
from engine.planner import plan
from engine.prompt import compile_prompt
from engine.renderers.storyboard.board import board
from engine.world import Character, Panel, Style, World, panel_seed

RenderSet = Callable[[SubjectSet, bool], Sequence[bytes] | Awaitable[Sequence[bytes]]]
MODES = {"on": ("on",), "off": ("off",), "both": ("on", "off")}
METRICS = ("identity_dino", "identity_clip", "text_alignment")
SUBJECT = "Subject"


class EngineRender:
    """Renders a subject set through the engine alone, the way the service composes panels.

    references=True: the first panel becomes the subject's reference for the rest (automatic
    anchoring); False: no reference images at all. The same seeds in both, so references are the
    only difference. Runs torch: call it on a worker thread (run_benchmark does).
    """

    def __init__(self, renderer: Renderer, workdir: str | Path, *, size: int, steps: int, seed: int = 0) -> None:
        self.renderer, self.workdir = renderer, Path(workdir)
        self.size, self.steps, self.seed = size, steps, seed

    def world(self, s: SubjectSet) -> World:
        """/world new --style STYLE, then /cref Subject SUBJECT."""
        subject = Character(SUBJECT, description=s.subject, traits=parse_description(s.subject),
                            pronoun=guess_pronoun(s.subject))
        return World(id=f"bench-{s.name}", title=s.subject, seed=self.seed, width=self.size, height=self.size,
                     steps=self.steps, style=Style(prefix=s.style), characters=(subject,))

    def __call__(self, s: SubjectSet, references: bool) -> list[bytes]:
        world = self.world(s)
        count = getattr(self.renderer, "count_tokens", None)
        refs: tuple[Reference, ...] = ()
        out: list[bytes] = []
        for i, setting in enumerate(s.settings, 1):
            text = f"the subject {setting}"  # /continue the subject SETTING
            p = plan(world, text)
            for ev in p.events:
                world = ev.apply(world)
            spec = compile_prompt(world, p.shot, count_tokens=count)
            panel = Panel(index=i, parent=i - 1 or None, command=text, author="bench", shot=p.shot,
                          prompt=spec.prompt, negative_prompt=spec.negative, seed=panel_seed(world.seed, i),
                          width=self.size, height=self.size, steps=self.steps)
            job = RenderJob(job_id=f"{s.name}-{int(references)}-{i}", world_id=world.id, panel=i, user="bench",
                            prompt=spec.prompt, negative_prompt=spec.negative, seed=panel.seed, width=self.size,
                            height=self.size, steps=self.steps, references=refs, board=board(world, panel))
            (png,) = self.renderer.render([job], lambda *_: True)
            out.append(png)
            world = PanelDrawn(panel).apply(world)
            if references and not refs:
                path = self.workdir / (re.sub(r"[^\w.-]", "_", s.domain)[:60] + f"-{s.index}-anchor.png")
                path.write_bytes(png)
                refs = (Reference(SUBJECT, str(path), 1.0, "character"),)
        return out


def _mean(values: Sequence[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return round(statistics.fmean(got), 6) if got else None


def _gain(on: dict[str, Any] | None, off: dict[str, Any] | None, key: str) -> float | None:
    if not on or not off or on.get(key) is None or off.get(key) is None:
        return None
    return round(on[key] - off[key], 6)


def report(sets: Sequence[SubjectSet], scores: dict[tuple[str, str], dict[str, float | None]],
           modes: Sequence[str], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The benchmark's JSON: per set and overall, each mode's metrics and the reference gain."""
    rows = []
    for s in sets:
        row: dict[str, Any] = {"set": s.name, "domain": s.domain, "subject": s.subject, "style": s.style,
                               "panels": len(s.settings)}
        for mode in modes:
            row[mode] = {k: None if v is None else round(v, 6) for k, v in scores[(s.name, mode)].items()}
        row["reference_gain"] = _gain(row.get("on"), row.get("off"), "identity_dino")
        row["reference_gain_clip"] = _gain(row.get("on"), row.get("off"), "identity_clip")
        rows.append(row)
    overall: dict[str, Any] = {"sets": len(rows)}
    for mode in modes:
        overall[mode] = {k: _mean([r[mode][k] for r in rows]) for k in METRICS}
    overall["reference_gain"] = _gain(overall.get("on"), overall.get("off"), "identity_dino")
    overall["reference_gain_clip"] = _gain(overall.get("on"), overall.get("off"), "identity_clip")
    return {"benchmark": "consistency", **(meta or {}), "references": list(modes), "sets": rows, "overall": overall}


async def run_benchmark(sets: Sequence[SubjectSet], render: RenderSet, embedder: Embedder, references: str = "both",
                        *, meta: dict[str, Any] | None = None,
                        before_scoring: Callable[[], None] | None = None) -> dict[str, Any]:
    """Render every set in every mode, then score them all; returns the report (see the module doc).

    render is called on a worker thread; an async render is awaited on the loop. before_scoring runs
    (on a worker thread) between the two phases, e.g. to free the renderer's GPU memory.
    """
    if references not in MODES:
        raise ValueError(f"references must be one of {', '.join(MODES)}")
    modes = MODES[references]
    t0 = time.perf_counter()
    images: dict[tuple[str, str], list[bytes]] = {}
    for s in sets:
        for mode in modes:
            got = await asyncio.to_thread(render, s, mode == "on")
            if inspect.isawaitable(got):
                got = await got
            pngs = list(got)
            if len(pngs) != len(s.settings) or not all(isinstance(p, bytes) and p for p in pngs):
                raise ValueError(f"{s.name}: render gave {len(pngs)} images for {len(s.settings)} settings")
            images[(s.name, mode)] = pngs
    if before_scoring is not None:
        await asyncio.to_thread(before_scoring)
    t1 = time.perf_counter()
    await asyncio.to_thread(embedder.load)
    try:
        scores = {}
        for s in sets:
            for mode in modes:
                scores[(s.name, mode)] = await asyncio.to_thread(embedder.score, images[(s.name, mode)], s.prompts())
    finally:
        embedder.close()
    out = report(sets, scores, modes, meta)
    out["seconds"] = {"render": round(t1 - t0, 3), "score": round(time.perf_counter() - t1, 3)}
    return out


def parse(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m engine.bench consistency", description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="diffusers model id or folder; 'tiny' (SD) or 'tiny-flux2-klein' "
                   "= an offline test pipeline")
    p.add_argument("--sets", required=True, help="YAML: domain -> [{subject, style, settings: [...]}, ...]")
    p.add_argument("--device", default="auto", help="cpu | cuda | mps | auto")
    p.add_argument("--dtype", default="auto")
    p.add_argument("--references", choices=tuple(MODES), default="both")
    p.add_argument("--dino", default=DEFAULT_DINO, help="DINOv2 model id or folder; 'tiny' = random, offline")
    p.add_argument("--clip", default=DEFAULT_CLIP, help="CLIP model id or folder; 'tiny' = random, offline")
    p.add_argument("--steps", type=int, default=None, help="default: 4 (tiny), 25 (diffusion)")
    p.add_argument("--size", type=int, default=None, help="image edge; default: the model's native size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-sets", type=int, default=None, help="only the first N sets")
    p.add_argument("--limit-settings", type=int, default=None, help="only the first N settings of each set")
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args(list(argv))
    for name in ("steps", "size", "limit_sets", "limit_settings"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    quiet_progress_bars()
    try:
        sets = load_sets(args.sets, args.limit_settings)[: args.limit_sets]
    except SetsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from engine.bench.consistency_service import ServiceRender, renderer_for

    renderer = renderer_for(args.model, device=args.device, dtype=args.dtype, size=args.size)
    renderer.load()
    with tempfile.TemporaryDirectory(prefix="worldloom-consistency-") as tmp:
        dino, clip = args.dino, args.clip
        if "tiny" in (dino, clip):
            tiny_dino, tiny_clip = save_tiny_embedders(Path(tmp) / "embedders")
            dino = str(tiny_dino) if dino == "tiny" else dino
            clip = str(tiny_clip) if clip == "tiny" else clip
        size = args.size or int(getattr(renderer, "native", 512))
        steps = args.steps or (4 if args.model.startswith("tiny") else 25)
        meta = {"model": args.model, "sets_file": str(args.sets), "dino": args.dino, "clip": args.clip,
                "device": args.device, "size": size, "steps": steps, "seed": args.seed, "path": "service"}

        async def run() -> dict[str, Any]:
            async with ServiceRender(renderer, tmp, steps=steps, seed=args.seed) as render:
                return await run_benchmark(sets, render, Embedder(dino, clip, args.device), args.references,
                                           meta=meta, before_scoring=renderer.close)

        try:
            result = asyncio.run(run())
        finally:
            renderer.close()
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0
