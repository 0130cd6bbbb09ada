"""What each multi-reference diffusers pipeline takes: the capability table.

A pipeline class named here is rendered by `MultiReferenceRenderer` (reference images, sentence
prompts); any other class goes the SD path of `DiffusionRenderer`. Figures come from the model
cards and Black Forest Labs' / Qwen's documentation (docs/engine.md lists the sources):

- FLUX.2 [klein] (4B Apache-2.0, 9B non-commercial): up to 4 reference images; the distilled
  checkpoints run 4 steps without guidance, the base ones 50 steps at guidance 4.
- FLUX.2 [dev] (32B, non-commercial): "recommended max 6" references; guidance-distilled
  (embedded guidance 4, 50 steps); no negative prompt.
- Qwen-Image-Edit-2509 (`QwenImageEditPlusPipeline`, Apache-2.0): 1 to 3 input images, named
  "Picture 1" ... in its template; true CFG 4 with a negative prompt, 40 steps (Lightning: 8, CFG
  1); one prompt per call in diffusers 0.42; text-to-image calls use its `QwenImagePipeline` sibling.

FLUX 3 exists in diffusers 0.42 only as modular pipelines: not supported here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DISTILLED_MARKERS = ("lightning", "turbo", "hyper", "distill")


@dataclass(frozen=True)
class ModelSpec:
    """One pipeline class's limits and defaults."""

    pipeline: str
    family: str
    max_references: int
    native: int = 1024  # native edge in pixels
    steps: int = 50  # base checkpoints
    guidance: float = 4.0
    distilled_steps: int = 4  # step-distilled checkpoints
    distilled_guidance: float = 1.0
    guidance_arg: str = "guidance_scale"  # "true_cfg_scale" for Qwen-Image
    max_sequence_length: int = 512  # text tokens the encoder reads, chat template included
    negative_prompt: bool = False
    reference_word: str = "image"  # how prompts name the Nth input image
    batches: bool = True  # several prompts in one call
    per_row_references: bool = False  # rows of a call can have their own images (prepare_image_latents)
    text_to_image: str = ""  # sibling class for calls without any image ("" = the pipeline itself)


SPECS: dict[str, ModelSpec] = {
    spec.pipeline: spec
    for spec in (
        ModelSpec("Flux2KleinPipeline", "flux2-klein", max_references=4, per_row_references=True),
        # Turbo merges of [dev] run about 8 steps and keep the embedded guidance.
        ModelSpec("Flux2Pipeline", "flux2-dev", max_references=6, distilled_steps=8, distilled_guidance=4.0,
                  per_row_references=True),
        ModelSpec("QwenImageEditPlusPipeline", "qwen-image-edit-plus", max_references=3, steps=40,
                  distilled_steps=8, guidance_arg="true_cfg_scale", negative_prompt=True,
                  reference_word="Picture", batches=False, text_to_image="QwenImagePipeline"),
    )
}


def spec_for(pipeline_class: str) -> ModelSpec | None:
    return SPECS.get(pipeline_class)


def pipeline_class(model: str, local_only: bool = False) -> str:
    """The pipeline class a model folder or id declares in model_index.json; "" if unreadable."""
    from diffusers import DiffusionPipeline

    try:
        config = DiffusionPipeline.load_config(model, local_files_only=local_only or Path(model).is_dir())
    except Exception as exc:  # the SD path's loader reports the real problem in its own words
        logger.info("could not read the pipeline class of %s: %s", model, exc)
        return ""
    return str(config.get("_class_name", ""))


def is_distilled(spec: ModelSpec, pipe: Any, model: str, setting: object = None) -> bool:
    """Step-distilled checkpoint? The `few_step` setting wins, then the pipeline's own flag, then the name."""
    if setting is not None:
        return bool(setting)
    flag = getattr(pipe, "config", {}).get("is_distilled")
    if flag is not None and spec.pipeline == "Flux2KleinPipeline":
        return bool(flag)
    return any(m in model.lower() for m in DISTILLED_MARKERS)


def text_tokenizer(pipe: Any) -> Any:
    """The tokenizer of the text encoder (FLUX.2 [dev] keeps it inside a processor)."""
    tok = pipe.tokenizer
    return getattr(tok, "tokenizer", tok)


def template_tokens(pipe: Any, count: Callable[[str], int]) -> int:
    """Tokens the pipeline's own chat template adds around a prompt, within max_sequence_length."""
    name = type(pipe).__name__
    if name == "Flux2KleinPipeline":
        text = pipe.tokenizer.apply_chat_template([{"role": "user", "content": ""}], tokenize=False,
                                                  add_generation_prompt=True, enable_thinking=False)
    elif name == "Flux2Pipeline":
        messages = [{"role": "system", "content": [{"type": "text", "text": pipe.system_message}]},
                    {"role": "user", "content": [{"type": "text", "text": ""}]}]
        text = pipe.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
    else:  # Qwen-Image drops its template from the embeddings and does not truncate
        return 0
    return count(str(text))
