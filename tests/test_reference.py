"""Training-free reference attention on the tiny pipeline (CPU, 64x64, 3 steps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("diffusers")

import numpy as np
from PIL import Image

from engine.jobs import Reference, RenderJob
from engine.renderers.diffusion.reference import ReferenceAttention, weight_of
from engine.renderers.diffusion.tiny import TinyRenderer
from tests.tiny_support import keep_going, pixels


def job(job_id: str = "j", seed: int = 3, refs: tuple[Reference, ...] = (), **kw: Any) -> RenderJob:
    fields: dict[str, Any] = dict(
        job_id=job_id, world_id="w", panel=0, user="u", prompt="a girl with a lantern",
        negative_prompt="blurry", seed=seed, width=64, height=64, steps=3, references=refs,
    )  # fmt: skip
    fields.update(kw)
    return RenderJob(**fields)





@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("refs")
    rng = np.random.default_rng(0)
    paths = []
    for name in ("mira", "tomas"):
        path = folder / f"{name}.png"
        Image.fromarray(rng.integers(0, 255, (96, 80, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    return paths[0], paths[1]


def char(path: str, weight: float = 1.0, kind: str = "character") -> Reference:
    return Reference(Path(path).stem, path, weight, kind)


def diff(a: bytes, b: bytes) -> float:
    return float(np.abs(pixels(a) - pixels(b)).mean())


def test_references_change_the_output_and_restore_the_stock_path(tiny: TinyRenderer, images: tuple[str, str]) -> None:
    mira, tomas = images
    plain = tiny.render([job()], keep_going)[0]
    full = tiny.render([job(refs=(char(mira),))], keep_going)[0]
    light = tiny.render([job(refs=(char(mira, 0.0),))], keep_going)[0]
    other = tiny.render([job(refs=(char(tomas),))], keep_going)[0]
    assert min(diff(full, plain), diff(other, full), diff(light, full)) > 0.02
    # Deterministic, and the original processors are back: plain is plain again, bit for bit.
    assert tiny.render([job(refs=(char(mira),))], keep_going)[0] == full
    assert tiny.render([job()], keep_going)[0] == plain
    assert not any("Reference" in type(p).__name__ for p in tiny.pipe.unet.attn_processors.values())


def test_banks_are_cached_per_image_size_and_steps(
    tiny: TinyRenderer, images: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    refs = tiny.references
    assert isinstance(refs, ReferenceAttention)
    calls: list[tuple[Any, ...]] = []
    write = refs._write
    monkeypatch.setattr(refs, "_write", lambda *a: calls.append(a) or write(*a))
    refs._cache.clear()
    tiny.render([job("a", refs=(char(images[0]),)), job("b", refs=(char(images[0]),))], keep_going)
    tiny.render([job("c", seed=9, refs=(char(images[0]),))], keep_going)
    assert len(calls) == 1
    tiny.render([job("d", steps=2, refs=(char(images[0]),))], keep_going)
    assert len(calls) == 2
    assert len(refs.bank(images[0], 64, 64, 2)) == 2  # one stored step per denoising step


def test_a_batch_mixes_rows_with_and_without_references(tiny: TinyRenderer, images: tuple[str, str]) -> None:
    mira, tomas = images
    jobs = [job("a", 1, (char(mira),)), job("b", 2), job("c", 3, (char(tomas), char(mira, 0.5)))]
    batch = tiny.render(jobs, keep_going)
    for j, png in zip(jobs, batch, strict=True):
        assert np.abs(pixels(png) - pixels(tiny.render([j], keep_going)[0])).max() <= 2


def test_references_work_without_cfg_and_on_the_conditional_half_only(
    tiny: TinyRenderer, images: tuple[str, str]
) -> None:
    mira = images[0]
    plain = tiny.render([job(guidance=0.0)], keep_going)[0]
    assert diff(tiny.render([job(guidance=0.0, refs=(char(mira),))], keep_going)[0], plain) > 0.02
    refs = tiny.references
    assert isinstance(refs, ReferenceAttention)
    both = tiny.render([job(refs=(char(mira),))], keep_going)[0]
    refs.cond_only = True
    try:
        cond = tiny.render([job(refs=(char(mira),))], keep_going)[0]
    finally:
        refs.cond_only = False
    assert cond != both


def test_a_style_reference_is_weaker_than_a_character(tiny: TinyRenderer, images: tuple[str, str]) -> None:
    mira = images[0]
    plain = tiny.render([job()], keep_going)[0]
    style = tiny.render([job(refs=(char(mira, 1.0, "style"),))], keep_going)[0]
    character = tiny.render([job(refs=(char(mira),))], keep_going)[0]
    assert 0 < diff(style, plain) < diff(character, plain)


def test_weights_accept_percent_and_fraction() -> None:
    assert weight_of(Reference("a", "x", 100)) == 1.0
    assert weight_of(Reference("a", "x", 0.25)) == 0.25
    assert weight_of(Reference("a", "x", 50)) == 0.5


def save_random_ip_adapter(folder: Path, unet: Any) -> Path:
    """An IP-Adapter with random weights laid out like h94/IP-Adapter (models/...)."""
    import torch
    from diffusers.models.attention_processor import IPAdapterAttnProcessor
    from diffusers.models.embeddings import ImageProjection
    from safetensors.torch import save_file
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    encoder_dir = folder / "models" / "image_encoder"
    vision = CLIPVisionConfig(hidden_size=32, projection_dim=32, num_hidden_layers=2, num_attention_heads=4,
                              intermediate_size=37, image_size=32, patch_size=8)  # fmt: skip
    CLIPVisionModelWithProjection(vision).save_pretrained(encoder_dir)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(encoder_dir)
    cfg = unet.config
    state: dict[str, Any] = {}
    key = 1  # the numbering of diffusers' loader: cross-attention layers are the odd ones
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        block = int(name.split(".")[1]) if not name.startswith("mid_block") else -1
        channels = list(reversed(cfg.block_out_channels)) if name.startswith("up_blocks") else cfg.block_out_channels
        sd = IPAdapterAttnProcessor(
            hidden_size=channels[block], cross_attention_dim=cfg.cross_attention_dim
        ).state_dict()
        state[f"ip_adapter.{key}.to_k_ip.weight"] = sd["to_k_ip.0.weight"]
        state[f"ip_adapter.{key}.to_v_ip.weight"] = sd["to_v_ip.0.weight"]
        key += 2
    proj = ImageProjection(cross_attention_dim=cfg.cross_attention_dim, image_embed_dim=32, num_image_text_embeds=4)
    for ours, theirs in (("proj", "image_embeds"), ("norm", "norm")):
        for part in ("weight", "bias"):
            state[f"image_proj.{ours}.{part}"] = proj.state_dict()[f"{theirs}.{part}"]
    save_file({k: v.contiguous() for k, v in state.items()}, folder / "models" / "ip-adapter.safetensors")
    return folder


def test_ip_adapter_uses_references_and_leaves_plain_jobs_stock(
    tmp_path: Path, tiny: TinyRenderer, images: tuple[str, str]
) -> None:
    from engine.renderers.diffusion.renderer import DiffusionRenderer
    from engine.renderers.diffusion.tiny import save_tiny_pipeline

    model = save_tiny_pipeline(tmp_path / "model")
    adapter = save_random_ip_adapter(tmp_path / "ip", tiny.pipe.unet)
    renderer = DiffusionRenderer({
        "model": str(model), "device": "cpu", "reference_mode": "ip_adapter", "ip_adapter": str(adapter),
        "ip_adapter_weight_name": "ip-adapter.safetensors",
    })  # fmt: skip
    renderer.load()
    try:
        mira = (char(images[0]),)
        plain = tiny.render([job()], keep_going)[0]  # the same weights without any adapter
        assert renderer.render([job()], keep_going)[0] == plain
        with_ref = renderer.render([job(refs=mira)], keep_going)[0]
        assert diff(with_ref, plain) > 0.02
        # Grouped by references inside one batch; without CFG the positive embeddings alone.
        mixed = renderer.render([job("a"), job("b", refs=mira)], keep_going)
        assert mixed == [plain, with_ref]
        assert renderer.render([job(guidance=0.0, refs=mira)], keep_going)[0] != with_ref
    finally:
        renderer.close()
