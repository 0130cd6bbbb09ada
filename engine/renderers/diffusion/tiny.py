"""A randomly initialised tiny Stable Diffusion pipeline, built offline, for tests and smoke runs.

The components follow diffusers' own fast tests (UNet with blocks (32, 64), a 2-block VAE, a
5-layer CLIP text encoder); the tokenizer is a byte-level CLIP vocabulary with no merges, so
nothing is downloaded. The pipeline is saved with `save_pretrained` and loaded back by
`DiffusionRenderer`, the same code path as a real model. Its pictures are noise-like: it
exercises the machinery, not the art.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.renderers.diffusion.renderer import DiffusionRenderer

logger = logging.getLogger(__name__)


def byte_level_tokenizer() -> Any:
    """A CLIP tokenizer over the 256 byte-level characters: one token per character."""
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPTokenizer

    alphabet = sorted(ByteLevel.alphabet())
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    vocab.update({ch + "</w>": len(alphabet) + i for i, ch in enumerate(alphabet)})
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    # transformers 5 ignores vocab_file=: the vocabulary must be passed as a dict.
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def build_tiny_pipeline(seed: int = 0, *, sample_size: int = 32) -> Any:
    """A StableDiffusionPipeline with tiny random weights (about 1M UNet parameters)."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = byte_level_tokenizer()
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=sample_size,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
    )
    vae = AutoencoderKL(
        block_out_channels=(32, 64),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            hidden_size=32,
            intermediate_size=37,
            layer_norm_eps=1e-5,
            num_attention_heads=4,
            num_hidden_layers=5,
            vocab_size=len(tokenizer),
            max_position_embeddings=77,
        )
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,  # avoids diffusers' deprecation warning
    )
    return StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def build_arch_pipeline(arch: str, device: str = "cpu", dtype: Any = None) -> Any:
    """A real-size SD 1.5 or SDXL pipeline with random weights, built on `device` (no download).

    For honest throughput numbers on a GPU; far too slow for tests on a CPU.
    """
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    if arch not in ("sd15", "sdxl"):
        raise ValueError(f"unknown architecture {arch!r}: choose sd15 or sdxl")
    tokenizer = byte_level_tokenizer()
    ids = {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
           "pad_token_id": tokenizer.pad_token_id, "vocab_size": 49408, "max_position_embeddings": 77}  # fmt: skip
    clip_l = CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                            num_hidden_layers=12, hidden_act="quick_gelu", projection_dim=768, **ids)  # fmt: skip
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)  # fmt: skip
    with torch.device(device):  # initialise the weights where they will run: much faster on a GPU
        vae = AutoencoderKL(
            block_out_channels=(128, 256, 512, 512),
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            layers_per_block=2,
            latent_channels=4,
            sample_size=512 if arch == "sd15" else 1024,
            scaling_factor=0.18215 if arch == "sd15" else 0.13025,
            force_upcast=arch == "sdxl",
        )
        if arch == "sd15":
            from diffusers import StableDiffusionPipeline

            unet = UNet2DConditionModel(
                sample_size=64,
                block_out_channels=(320, 640, 1280, 1280),
                down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
                layers_per_block=2,
                cross_attention_dim=768,
                attention_head_dim=8,
            )
            pipe = StableDiffusionPipeline(
                vae=vae, text_encoder=CLIPTextModel(clip_l), tokenizer=tokenizer, unet=unet,
                scheduler=scheduler, safety_checker=None, feature_extractor=None,
                requires_safety_checker=False,
            )  # fmt: skip
        else:
            from diffusers import StableDiffusionXLPipeline

            unet = UNet2DConditionModel(
                sample_size=128,
                block_out_channels=(320, 640, 1280),
                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
                layers_per_block=2,
                transformer_layers_per_block=(1, 2, 10),
                attention_head_dim=(5, 10, 20),
                cross_attention_dim=2048,
                use_linear_projection=True,
                addition_embed_type="text_time",
                addition_time_embed_dim=256,
                projection_class_embeddings_input_dim=2816,
            )
            clip_g = CLIPTextConfig(hidden_size=1280, intermediate_size=5120, num_attention_heads=20,
                                    num_hidden_layers=32, hidden_act="gelu", projection_dim=1280, **ids)  # fmt: skip
            pipe = StableDiffusionXLPipeline(
                vae=vae, text_encoder=CLIPTextModel(clip_l),
                text_encoder_2=CLIPTextModelWithProjection(clip_g), tokenizer=tokenizer,
                tokenizer_2=byte_level_tokenizer(), unet=unet, scheduler=scheduler,
            )  # fmt: skip
    return pipe.to(dtype=dtype) if dtype is not None else pipe


def save_tiny_pipeline(folder: str | Path, seed: int = 0) -> Path:
    """Build the tiny pipeline and save it like a downloaded model; returns the folder."""
    folder = Path(folder)
    build_tiny_pipeline(seed).save_pretrained(folder)
    return folder


class TinyRenderer(DiffusionRenderer):
    """DiffusionRenderer over a tiny pipeline saved to a folder (`tiny_dir`, or a temp dir)."""

    name = "tiny"

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        settings = dict(settings or {})
        # The [engine] table names the production model and adapter: not ours to load.
        settings.pop("model", None)
        if settings.get("reference_mode") == "ip_adapter":
            settings["reference_mode"] = "attention"
        self._tiny_dir = settings.pop("tiny_dir", None)
        self._seed = int(settings.pop("tiny_seed", 0))
        self._tmp: str | None = None
        # One CPU thread: a tiny model's ops are too small to gain from intra-op threads, and
        # on a busy machine torch's spinning workers made it up to ten times slower.
        defaults = {"device": "cpu", "dtype": "float32", "safety_checker": False, "cpu_threads": 1}
        super().__init__({**defaults, **settings, "model": "tiny"})

    def load(self) -> None:
        if self._tiny_dir is None:
            self._tmp = tempfile.mkdtemp(prefix="worldloom-tiny-")
            self._tiny_dir = self._tmp
        folder = Path(self._tiny_dir)
        if not (folder / "model_index.json").exists():
            save_tiny_pipeline(folder, self._seed)
            logger.info("built the tiny pipeline in %s", folder)
        self.model = str(folder)
        self.settings["model"] = self.model
        super().load()

    def close(self) -> None:
        super().close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
