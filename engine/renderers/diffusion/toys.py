"""Toy multi-reference pipelines with random weights, built offline, for tests and smoke runs.

`Flux2KleinPipeline`, `Flux2Pipeline` and `QwenImageEditPlusPipeline` at toy sizes: the real
component classes (Flux2 / QwenImage transformers and VAEs, Qwen3 / Mistral3 / Qwen2.5-VL text
encoders) with hidden sizes of 16, and byte-level tokenizers with chat templates built in code.
The text encoders have as many layers as the pipelines read by default (FLUX.2 [klein] stacks
layers 9, 18, 27; [dev] 10, 20, 30), so the real call path runs unchanged. Nothing is downloaded.

Two stand-ins, because transformers' Pixtral and Qwen2-VL processors need torchvision (absent
from the CPU test install): the toy [dev] gets a plain tokenizer with a chat template in place of
its processor (the pipeline only uses the template to encode text), and the toy Qwen processor is
assembled without its video half. The Qwen toy therefore cannot be saved and loaded back; the
FLUX.2 toys are saved with save_pretrained and loaded through from_pretrained like a real model.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.renderers.diffusion.multiref import MultiReferenceRenderer

logger = logging.getLogger(__name__)

KINDS = ("flux2-klein", "flux2", "qwen-edit-plus")
HIDDEN = 16

_QWEN_CHAT = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
              "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
_MISTRAL_CHAT = ("{{ bos_token }}{% for m in messages %}{% for c in m['content'] %}{% if c['type'] == 'text' %}"
                 "{% if m['role'] == 'system' %}[SYSTEM_PROMPT]{{ c['text'] }}[/SYSTEM_PROMPT]"
                 "{% else %}[INST]{{ c['text'] }}[/INST]{% endif %}{% else %}[IMG]{% endif %}{% endfor %}{% endfor %}")


def byte_tokenizer(specials: tuple[str, ...], chat_template: str, **tokens: str) -> Any:
    """A BPE tokenizer over the 256 byte-level characters (no merges: one token per byte)."""
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import Qwen2Tokenizer

    vocab = {ch: i for i, ch in enumerate(sorted(ByteLevel.alphabet()))}
    tok = Qwen2Tokenizer(vocab=vocab, merges=[], **tokens)
    tok.add_special_tokens({"additional_special_tokens": list(specials)})
    tok.chat_template = chat_template
    return tok


def _flux2_parts(guidance_embeds: bool) -> tuple[Any, Any, Any]:
    from diffusers import AutoencoderKLFlux2, FlowMatchEulerDiscreteScheduler, Flux2Transformer2DModel

    transformer = Flux2Transformer2DModel(
        patch_size=1, in_channels=16, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=3 * HIDDEN, timestep_guidance_channels=256,
        axes_dims_rope=(4, 4, 4, 4), guidance_embeds=guidance_embeds,
    )  # fmt: skip
    vae = AutoencoderKLFlux2(
        sample_size=32, in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, block_out_channels=(4, 8), layers_per_block=1,
        latent_channels=4, norm_num_groups=1, use_quant_conv=False, use_post_quant_conv=False,
    )  # fmt: skip
    scheduler = FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True, shift=3.0)
    return transformer, vae, scheduler


def build_toy_flux2_klein(seed: int = 0, distilled: bool = True) -> Any:
    import torch
    from diffusers import Flux2KleinPipeline
    from transformers import Qwen3Config, Qwen3ForCausalLM

    tok = byte_tokenizer(("<|im_start|>", "<|im_end|>"), _QWEN_CHAT)
    torch.manual_seed(seed)
    transformer, vae, scheduler = _flux2_parts(guidance_embeds=False)
    encoder = Qwen3ForCausalLM(Qwen3Config(
        hidden_size=HIDDEN, intermediate_size=16, num_hidden_layers=28, num_attention_heads=2,
        num_key_value_heads=2, head_dim=8, vocab_size=len(tok), max_position_embeddings=1024,
        pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
    ))  # fmt: skip
    return Flux2KleinPipeline(scheduler=scheduler, vae=vae, text_encoder=encoder, tokenizer=tok,
                              transformer=transformer, is_distilled=distilled)


def build_toy_flux2_dev(seed: int = 0) -> Any:
    import torch
    from diffusers import Flux2Pipeline
    from transformers import Mistral3Config, Mistral3ForConditionalGeneration

    tok = byte_tokenizer(("[IMG]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[INST]", "[/INST]"), _MISTRAL_CHAT,
                         unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    ids = {"bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id}
    torch.manual_seed(seed)
    transformer, vae, scheduler = _flux2_parts(guidance_embeds=True)
    config = Mistral3Config(
        text_config={"model_type": "mistral", "vocab_size": len(tok), "hidden_size": HIDDEN, "intermediate_size": 32,
                     "max_position_embeddings": 1024, "num_attention_heads": 4, "num_hidden_layers": 30,
                     "num_key_value_heads": 2, "head_dim": 4, "rms_norm_eps": 1e-5, "rope_theta": 1e9,
                     "sliding_window": None, **ids},
        vision_config={"model_type": "pixtral", "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 4,
                       "intermediate_size": 32, "image_size": 30, "patch_size": 6, "num_channels": 3},
        image_seq_length=4, vision_feature_layer=-1, image_token_index=tok.convert_tokens_to_ids("[IMG]"), **ids,
    )  # fmt: skip
    return Flux2Pipeline(scheduler=scheduler, vae=vae, text_encoder=Mistral3ForConditionalGeneration(config),
                         tokenizer=tok, transformer=transformer)


def build_toy_qwen_edit_plus(seed: int = 0) -> Any:
    import torch
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImageEditPlusPipeline,
        QwenImageTransformer2DModel,
    )
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2VLProcessor
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    vision = ("<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")
    tok = byte_tokenizer(("<|im_start|>", "<|im_end|>", *vision), _QWEN_CHAT)
    start, end, image, video = (tok.convert_tokens_to_ids(t) for t in vision)
    # Qwen2VLProcessor() insists on a video processor, which needs torchvision: assemble the
    # image-and-text processor the pipeline uses by hand.
    processor = Qwen2VLProcessor.__new__(Qwen2VLProcessor)
    processor.image_processor, processor.tokenizer, processor.video_processor = Qwen2VLImageProcessorPil(), tok, None
    processor.chat_template = None
    processor.image_token, processor.video_token = "<|image_pad|>", "<|video_pad|>"
    processor.image_token_id, processor.video_token_id = image, video
    torch.manual_seed(seed)
    transformer = QwenImageTransformer2DModel(
        patch_size=2, in_channels=16, out_channels=4, num_layers=2, attention_head_dim=16, num_attention_heads=3,
        joint_attention_dim=HIDDEN, guidance_embeds=False, axes_dims_rope=(8, 4, 4),
    )  # fmt: skip
    vae = AutoencoderKLQwenImage(base_dim=24, z_dim=4, dim_mult=[1, 2, 4], num_res_blocks=1,
                                 temperal_downsample=[False, True], latents_mean=[0.0] * 4, latents_std=[1.0] * 4)
    config = Qwen2_5_VLConfig(
        text_config={"hidden_size": HIDDEN, "intermediate_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "num_key_value_heads": 2, "vocab_size": len(tok), "rope_theta": 1e6,
                     "bos_token_id": None, "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id,
                     "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"}},
        vision_config={"depth": 2, "hidden_size": 16, "intermediate_size": 16, "num_heads": 2,
                       "out_hidden_size": HIDDEN},
        hidden_size=HIDDEN, vocab_size=len(tok), vision_start_token_id=start, vision_end_token_id=end,
        image_token_id=image, video_token_id=video, vision_token_id=image,
    )  # fmt: skip
    return QwenImageEditPlusPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae,
                                     text_encoder=Qwen2_5_VLForConditionalGeneration(config), tokenizer=tok,
                                     processor=processor, transformer=transformer)


def build_toy(kind: str, seed: int = 0) -> Any:
    builders = {"flux2-klein": build_toy_flux2_klein, "flux2": build_toy_flux2_dev,
                "qwen-edit-plus": build_toy_qwen_edit_plus}
    if kind not in builders:
        raise ValueError(f"unknown toy pipeline {kind!r}: choose one of {', '.join(KINDS)}")
    return builders[kind](seed)


def save_toy(kind: str, folder: str | Path, seed: int = 0) -> Path:
    """Build a FLUX.2 toy and save it like a downloaded model; returns the folder."""
    if kind == "qwen-edit-plus":
        raise ValueError("the Qwen toy cannot be loaded back without torchvision: use build_toy()")
    folder = Path(folder)
    build_toy(kind, seed).save_pretrained(folder)
    return folder


class TinyMultiReferenceRenderer(MultiReferenceRenderer):
    """MultiReferenceRenderer over a toy pipeline (`tiny_pipeline`: flux2-klein, flux2, qwen-edit-plus).

    The FLUX.2 toys are saved to `tiny_dir` (or a temp folder) and loaded through from_pretrained.
    """

    name = "tiny"

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        settings = dict(settings or {})
        settings.pop("model", None)  # the [engine] table names the production model: not ours to load
        self.kind = str(settings.pop("tiny_pipeline", "flux2-klein"))
        if self.kind not in KINDS:
            raise ValueError(f"unknown tiny_pipeline {self.kind!r}: choose sd or one of {', '.join(KINDS)}")
        self._tiny_dir = settings.pop("tiny_dir", None)
        self._seed = int(settings.pop("tiny_seed", 0))
        self._tmp: str | None = None
        # One CPU thread: toy ops are too small to gain from more, and a busy machine punishes them.
        defaults = {"device": "cpu", "dtype": "float32", "cpu_threads": 1, "native_size": 64, "reference_size": 64}
        super().__init__({**defaults, **settings, "model": f"tiny-{self.kind}"})

    def load(self) -> None:
        if self.kind == "qwen-edit-plus":
            self._prebuilt = build_toy(self.kind, self._seed)
        else:
            if self._tiny_dir is None:
                self._tmp = self._tiny_dir = tempfile.mkdtemp(prefix="worldloom-toy-")
            folder = Path(self._tiny_dir)
            if not (folder / "model_index.json").exists():
                save_toy(self.kind, folder, self._seed)
                logger.info("built the toy %s pipeline in %s", self.kind, folder)
            self.model = str(folder)
        super().load()

    def close(self) -> None:
        super().close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
