"""Loading a saved model folder through the real DiffusionRenderer path (no download)."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("diffusers")

from PIL import Image

from engine.jobs import RenderJob
from engine.renderers.diffusion.renderer import DiffusionRenderer, pick_dtype
from engine.renderers.diffusion.tiny import TinyRenderer, save_tiny_pipeline
from engine.renderers.registry import make_renderer
from tests.tiny_support import keep_going


def job(**kw: Any) -> RenderJob:
    fields: dict[str, Any] = dict(
        job_id="j", world_id="w", panel=0, user="u", prompt="a harbour in the rain",
        negative_prompt="", seed=5, width=96, height=48, steps=2,
    )  # fmt: skip
    fields.update(kw)
    return RenderJob(**fields)



# diffusers' sigma schedulers trip a numpy 2 DeprecationWarning of their own.
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_save_then_load_through_the_real_path(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = save_tiny_pipeline(tmp_path / "model")
    assert (folder / "model_index.json").exists() and (folder / "tokenizer").is_dir()
    caplog.set_level(logging.INFO, logger="engine.renderers.diffusion.renderer")
    settings = {"device": "cpu", "scheduler": "euler", "safety_checker": False, "cpu_threads": 1}
    renderer = DiffusionRenderer({"model": str(folder), **settings})
    renderer.load()
    try:
        loaded = [r.getMessage() for r in caplog.records if r.getMessage().startswith("loaded ")]
        assert {m.split(":")[0] for m in loaded} >= {
            "loaded unet", "loaded vae", "loaded text_encoder", "loaded tokenizer", "loaded scheduler"
        }  # fmt: skip
        assert type(renderer.pipe.scheduler).__name__ == "EulerDiscreteScheduler"
        assert renderer.native == 64 and str(renderer.dtype) == "torch.float32"
        png = renderer.render([job()], keep_going)[0]
        # 2:1 at the model's native area (64x64 for the tiny model), in multiples of 8.
        assert Image.open(io.BytesIO(png)).size == (88, 48)
        # The same folder through the tiny renderer (also one thread) gives the same image.
        tiny = TinyRenderer({"tiny_dir": str(folder), "scheduler": "euler"})
        tiny.load()
        assert tiny.render([job()], keep_going)[0] == png
        tiny.close()
        assert folder.exists()  # a given tiny_dir is the caller's, never deleted
    finally:
        renderer.close()


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="model"):
        DiffusionRenderer({})
    with pytest.raises(ValueError, match="dtype"):
        pick_dtype("float8", "cuda")
    assert DiffusionRenderer({"model": "stabilityai/sdxl-turbo"}).guidance_for(job()) == 0.0
    assert DiffusionRenderer({"model": "x/sd15"}).guidance_for(job()) == 7.0
    assert DiffusionRenderer({"model": "x/sd15"}).guidance_for(job(guidance=3.0)) == 3.0
    assert DiffusionRenderer({"model": "x/sdxl-turbo"}).steps_for(job(steps=30)) == 4
    assert DiffusionRenderer({"model": "x", "steps": 25}).steps_for(job(steps=30)) == 30
    assert DiffusionRenderer({"model": "x", "steps": 25}).steps_for(job(steps=0)) == 25
    with pytest.raises(ValueError, match="unknown renderer"):
        make_renderer("dalle", {})
    assert make_renderer("tiny", {}).name == "tiny"


def test_unknown_scheduler_fails_at_load(tmp_path: Path) -> None:
    folder = save_tiny_pipeline(tmp_path / "model")
    renderer = DiffusionRenderer({"model": str(folder), "scheduler": "nope"})
    with pytest.raises(ValueError, match="unknown scheduler 'nope'"):
        renderer.load()


def test_the_engine_config_table_drives_the_tiny_renderer() -> None:
    # The [engine] table of config.example.toml, as bot.app passes it to make_renderer.
    table = {
        "model": "stable-diffusion-v1-5/stable-diffusion-v1-5", "device": "auto", "dtype": "auto",
        "scheduler": "", "steps": 25, "guidance": 7.0, "safety_checker": False,
        "reference_mode": "ip_adapter", "ip_adapter": "h94/IP-Adapter",
        "ip_adapter_subfolder": "models", "ip_adapter_weight_name": "ip-adapter_sd15.bin",
        "auto_anchor": True,
    }  # fmt: skip
    renderer = make_renderer("tiny", table)
    renderer.load()
    try:
        assert renderer.count_tokens("a cat") == 4  # a byte-level vocab: one token per letter
        png = renderer.render([job(steps=2)], keep_going)[0]
        assert Image.open(io.BytesIO(png)).size == (88, 48)
    finally:
        renderer.close()
