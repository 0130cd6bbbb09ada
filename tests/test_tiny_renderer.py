"""The tiny random pipeline through the real diffusion renderer (CPU, 64x64, 3 steps)."""

from __future__ import annotations

import io
from typing import Any

import pytest

pytest.importorskip("diffusers")

import numpy as np
from PIL import Image

from engine.errors import RenderCancelled
from engine.jobs import RenderJob
from engine.queue import Engine
from engine.renderers.diffusion.renderer import fit_size
from engine.renderers.diffusion.tiny import TinyRenderer
from tests.tiny_support import keep_going, pixels

STEPS = 3


def job(job_id: str = "j", prompt: str = "a red cat on a roof", seed: int = 1, **kw: Any) -> RenderJob:
    fields: dict[str, Any] = dict(
        job_id=job_id, world_id="w", panel=0, user="u", prompt=prompt, negative_prompt="",
        seed=seed, width=64, height=64, steps=STEPS,
    )  # fmt: skip
    fields.update(kw)
    return RenderJob(**fields)





def test_same_seed_same_image_other_seed_other_image(tiny: TinyRenderer) -> None:
    a = tiny.render([job(seed=1)], keep_going)[0]
    assert tiny.render([job(seed=1)], keep_going)[0] == a
    assert tiny.render([job(seed=2)], keep_going)[0] != a
    assert Image.open(io.BytesIO(a)).size == (64, 64)


def test_without_references_the_output_is_the_stock_pipeline(tiny: TinyRenderer) -> None:
    import torch

    ours = pixels(tiny.render([job(prompt="a lighthouse at dusk", seed=7)], keep_going)[0])
    stock = tiny.pipe(
        "a lighthouse at dusk",
        num_inference_steps=STEPS,
        guidance_scale=7.0,
        height=64,
        width=64,
        generator=torch.Generator("cpu").manual_seed(7),
    ).images[0]
    assert np.array_equal(ours, np.asarray(stock).astype(np.int16))


def test_a_batch_gives_the_images_of_the_jobs_one_by_one(tiny: TinyRenderer) -> None:
    jobs = [job("a", "a red cat", 1), job("b", "a blue dog", 2), job("c", "a green owl", 3)]
    batch = tiny.render(jobs, keep_going)
    for j, png in zip(jobs, batch, strict=True):
        alone = tiny.render([j], keep_going)[0]
        assert np.abs(pixels(png) - pixels(alone)).max() <= 2


def test_long_prompts_are_encoded_in_chunks_not_truncated(tiny: TinyRenderer) -> None:
    # The tiny tokenizer has one token per character: this is about 150 tokens.
    head = "a knight in silver armour rides through a misty forest at dawn, "
    long = head + "behind him a red dragon circles over the ruined castle on the hill"
    long = long + ", " + long
    assert len(tiny.pipe.tokenizer(long, verbose=False).input_ids) > 77
    truncated = tiny.pipe.tokenizer.decode(tiny.pipe.tokenizer(long, truncation=True, max_length=77).input_ids[1:-1])
    full, cut = tiny.render([job("l", long), job("t", truncated)], keep_going)
    assert pixels(full).shape == (64, 64, 3)
    assert np.abs(pixels(full) - pixels(cut)).mean() > 0.5
    assert tiny.render([job("l", long)], keep_going)[0] == full  # deterministic


def test_guidance_zero_runs_without_cfg(tiny: TinyRenderer) -> None:
    a = tiny.render([job(guidance=0.0)], keep_going)[0]
    b = tiny.render([job(guidance=7.0)], keep_going)[0]
    assert a != b


def test_progress_reports_steps_and_false_cancels_mid_denoise(tiny: TinyRenderer) -> None:
    seen: list[tuple[str, int, int]] = []

    def progress(job_id: str, step: int, total: int) -> bool:
        seen.append((job_id, step, total))
        return step < 2

    with pytest.raises(RenderCancelled):
        tiny.render([job(steps=10)], progress)
    assert seen == [("j", 1, 10), ("j", 2, 10)]


def test_fit_size_keeps_aspect_at_native_area() -> None:
    assert fit_size(512, 512, 512) == (512, 512)
    assert fit_size(1024, 1024, 512) == (512, 512)
    w, h = fit_size(1920, 1080, 1024)
    assert w % 8 == 0 and h % 8 == 0 and abs(w / h - 16 / 9) < 0.02
    assert abs(w * h - 1024 * 1024) / (1024 * 1024) < 0.02
    assert fit_size(640, 320, 64) == (88, 48)


async def test_the_engine_drives_the_tiny_renderer() -> None:
    async with Engine(TinyRenderer({}), max_batch=2) as engine:
        handles = [engine.submit(job(f"j{i}", seed=i)) for i in range(3)]
        cancelled = engine.submit(job("slow", steps=50))
        async for status in cancelled.updates():
            if status.state == "rendering" and status.step >= 1:
                cancelled.cancel()
        results = [await h.result() for h in handles]
        with pytest.raises(RenderCancelled):
            await cancelled.result()
    assert all(pixels(r.png).shape == (64, 64, 3) and r.renderer == "tiny" for r in results)
    assert cancelled.status().step < 50
