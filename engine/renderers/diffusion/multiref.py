"""The multi-reference renderer: FLUX.2 [klein] / [dev] and Qwen-Image-Edit-Plus through diffusers.

A job's references go to the pipeline as its input images, in the job's order (image 1 is the
first reference; composing the panel put them in priority order, see engine/references.py).
Every reference is resized alike (the panel's aspect ratio at `reference_size`, covering and
cropped; character pictures keep their top, where faces are), so rows of one batch line up
token for token: FLUX.2 rows with different references still share one forward pass, each row
reading its own images (encoded once per call). Every method runs on the engine's worker thread.

Settings (the `[engine]` table; the SD-only ones are ignored here)::

    model, device, offline, variant, cpu_threads, png_compress, native_size: as in renderer.py
    pipeline        the diffusers class, to skip reading model_index.json (default: read it)
    dtype           "auto" = bfloat16 on accelerators (these models overflow in fp16), fp32 on CPU
    steps, guidance base checkpoints (default: the model's, see models.py)
    few_step        force the distilled (true) or base (false) schedule; default: from the model
    few_step_steps  steps of a distilled checkpoint (default: the model's)
    offload         "none" | "model" (enable_model_cpu_offload) | "sequential" | "group"
                    (leaf-level group offloading with CUDA streams); cpu_offload = true means "model"
    reference_size  edge of each reference image at the panel's aspect ratio (768)
    max_references  fewer images than the model's limit (faster, less memory)
    max_sequence_length  text tokens (default: the model's)
    vae_tiling      decode large images in tiles (false)
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.errors import RenderCancelled
from engine.jobs import Capabilities, Progress, Reference, RenderJob
from engine.renderers.diffusion import models
from engine.renderers.diffusion.renderer import encode_png, fit_size, free_memory, pick_device, pick_dtype
from engine.renderers.diffusion.settings import DEFAULTS

logger = logging.getLogger(__name__)

MIN_REFERENCE_SIDE = 64  # FLUX.2 refuses smaller input images
OFFLOAD_MODES = ("none", "model", "sequential", "group")


class _Stop(Exception):
    """Raised inside callback_on_step_end to leave the denoising loop at once."""


def reference_size(width: int, height: int, edge: int, multiple: int) -> tuple[int, int]:
    """A reference's size: the panel's aspect ratio at edge x edge pixels, no side under 64."""
    w, h = fit_size(width, height, edge, multiple)
    if min(w, h) < MIN_REFERENCE_SIDE:
        scale = MIN_REFERENCE_SIDE / min(w, h)
        w, h = (math.ceil(w * scale / multiple) * multiple, math.ceil(h * scale / multiple) * multiple)
    return w, h


def load_reference(path: str, width: int, height: int, kind: str) -> Any:
    """The image at `path` covering width x height, cropped; character pictures keep their top."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        image = im.convert("RGB")
    centering = (0.5, 0.2) if kind == "character" else (0.5, 0.5)
    return ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS, centering=centering)


@contextlib.contextmanager
def per_row_references(pipe: Any, rows: list[list[Any]]) -> Iterator[None]:
    """For one FLUX.2 call: row i of the batch reads rows[i]'s images instead of the first row's.

    The pipeline encodes the `image` it is given once and repeats it for every row; this swaps
    its prepare_image_latents for the call, so equal rows are encoded once and stacked.
    """
    import torch

    original = pipe.prepare_image_latents

    def prepare(images: Any, batch_size: int, generator: Any, device: Any, dtype: Any) -> Any:
        encoded: dict[tuple[int, ...], Any] = {}
        latents = []
        ids = None
        for row in rows:
            key = tuple(id(image) for image in row)
            if key not in encoded:
                tensors = [pipe.image_processor.preprocess(im, height=im.height, width=im.width, resize_mode="crop")
                           for im in row]
                encoded[key] = original(images=tensors, batch_size=1, generator=None, device=device, dtype=dtype)
            row_latents, ids = encoded[key]
            latents.append(row_latents)
        assert ids is not None
        per_prompt = batch_size // len(rows)
        return torch.cat(latents).repeat_interleave(per_prompt, dim=0), ids.repeat(batch_size, 1, 1)

    pipe.prepare_image_latents = prepare
    try:
        yield
    finally:
        del pipe.prepare_image_latents


class MultiReferenceRenderer:
    """A diffusers pipeline that takes reference images natively, behind the Renderer protocol."""

    name = "diffusion"

    def __init__(self, settings: Mapping[str, Any], *, pipeline: Any = None) -> None:
        """`pipeline`: an already built pipeline to use instead of loading `model` (tests, benchmarks)."""
        if not settings.get("model"):
            raise ValueError("the diffusion renderer needs settings['model'] (an id or a folder)")
        offload = str(settings.get("offload") or ("model" if settings.get("cpu_offload") else "none"))
        if offload not in OFFLOAD_MODES:
            raise ValueError(f"unknown offload {offload!r}: choose one of {', '.join(OFFLOAD_MODES)}")
        self.settings = dict(settings)
        self.model = str(settings["model"])
        self.offload = offload
        self.capabilities = Capabilities(reads_images=True, prompt_style="sentences", can_edit=True)
        self.pipe: Any = None
        self.spec: models.ModelSpec | None = None
        self.distilled = False
        self.device = "cpu"
        self.dtype: Any = None
        self.native = 1024
        self.multiple = 16
        self._prebuilt = pipeline
        self._tokenizer: Any = None
        self._text_to_image: Any = None

    # ------------------------------------------------------------ loading

    def load(self) -> None:
        import torch
        from diffusers import DiffusionPipeline
        from diffusers.utils import deprecation_utils

        s = self.settings
        self.device = pick_device(str(s.get("device", DEFAULTS["device"])))
        dtype = str(s.get("dtype", DEFAULTS["dtype"]))
        if dtype == "auto":  # these models were trained in bf16 and overflow in fp16
            dtype = "float32" if self.device == "cpu" else "bfloat16"
        self.dtype = pick_dtype(dtype, self.device)
        if self.device == "cpu" and s.get("cpu_threads"):
            torch.set_num_threads(int(s["cpu_threads"]))
        t0 = time.perf_counter()
        if self._prebuilt is not None:
            pipe, self._prebuilt = self._prebuilt, None
            if pipe.dtype != self.dtype:
                pipe = pipe.to(dtype=self.dtype)
        else:
            # diffusers 0.36+ renamed torch_dtype= to dtype=.
            key = "dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype"
            kwargs: dict[str, Any] = {key: self.dtype}
            if s.get("offline") or Path(self.model).is_dir():
                kwargs["local_files_only"] = True
            if s.get("variant"):
                kwargs["variant"] = s["variant"]
            pipe = DiffusionPipeline.from_pretrained(self.model, **kwargs)
        spec = models.spec_for(type(pipe).__name__)
        if spec is None:
            raise ValueError(f"{type(pipe).__name__} takes no reference images: use the SD path (renderer.py)")
        pipe.set_progress_bar_config(disable=True)
        self._place(pipe, torch)
        if s.get("vae_tiling") and hasattr(pipe.vae, "enable_tiling"):
            pipe.vae.enable_tiling()
        for name, component in pipe.components.items():
            if isinstance(component, torch.nn.Module):
                params = sum(p.numel() for p in component.parameters())
                logger.info("loaded %s: %s, %.1fM parameters", name, type(component).__name__, params / 1e6)
        self.pipe, self.spec = pipe, spec
        self.multiple = max(16, 2 * int(getattr(pipe, "vae_scale_factor", 8)))
        self.native = int(s.get("native_size") or spec.native)
        self.distilled = models.is_distilled(spec, pipe, self.model, s.get("few_step"))
        # A copy for count_tokens(), which runs on the event loop: fast tokenizers fail when shared.
        self._tokenizer = copy.deepcopy(models.text_tokenizer(pipe))
        seq = int(s.get("max_sequence_length") or spec.max_sequence_length)
        budget = seq - models.template_tokens(pipe, self.count_tokens) - 2  # 2: the tokenizer's own marks
        limit = min(spec.max_references, int(s.get("max_references") or spec.max_references))
        self.capabilities = Capabilities(
            reads_images=True, max_references=limit, prompt_style="sentences", max_prompt_tokens=max(16, budget),
            negative_prompt=spec.negative_prompt, can_edit=True, reference_word=spec.reference_word, model=self.model)
        logger.info("multi-reference renderer ready: %s (%s, %s) on %s/%s, offload %s, up to %d images, "
                    "%d prompt tokens, in %.1fs", self.model, type(pipe).__name__,
                    "distilled" if self.distilled else "base", self.device, self.dtype, self.offload, limit,
                    self.capabilities.max_prompt_tokens, time.perf_counter() - t0)  # fmt: skip

    def _place(self, pipe: Any, torch: Any) -> None:
        """Memory: everything on the device, or offloaded to the CPU between uses (CUDA only)."""
        mode = self.offload
        if mode != "none" and not self.device.startswith("cuda"):
            logger.warning("offload = %r needs a CUDA device; keeping the whole model on %s", mode, self.device)
            mode = "none"
        if mode == "model":
            pipe.enable_model_cpu_offload(device=self.device)
        elif mode == "sequential":
            pipe.enable_sequential_cpu_offload(device=self.device)
        elif mode == "group":
            pipe.enable_group_offload(onload_device=torch.device(self.device), offload_type="leaf_level",
                                      use_stream=True)
        else:
            pipe.to(self.device)

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` for this model's text encoder, without its chat template."""
        if self._tokenizer is None:
            raise RuntimeError("count_tokens() needs a loaded renderer")
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def close(self) -> None:
        """Drop the pipeline and give the memory back."""
        self.pipe = self._text_to_image = None
        free_memory()

    # ------------------------------------------------------------ rendering

    def steps_for(self, job: RenderJob) -> int:
        assert self.spec is not None
        if self.distilled:  # distilled for a few steps: more only blurs
            return int(self.settings.get("few_step_steps") or self.spec.distilled_steps)
        return int(job.steps or self.settings.get("steps") or self.spec.steps)

    def guidance_for(self, job: RenderJob) -> float:
        assert self.spec is not None
        if self.distilled:
            return self.spec.distilled_guidance
        if job.guidance is not None:
            return float(job.guidance)
        return float(self.settings.get("guidance") or self.spec.guidance)

    def references_of(self, job: RenderJob) -> tuple[Reference, ...]:
        limit = self.capabilities.max_references
        if len(job.references) > limit:
            logger.warning("job %s has %d references; this model takes %d: the rest are left out",
                           job.job_id, len(job.references), limit)
        return job.references[:limit]

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        """One PNG per job. Rows of a call share size, steps, guidance and number of images."""
        from engine.errors import is_oom

        if self.pipe is None or self.spec is None:
            raise RuntimeError("the multi-reference renderer is not loaded")
        groups: dict[tuple[object, ...], list[int]] = {}
        for i, job in enumerate(jobs):
            refs = self.references_of(job)
            same_images = () if self.spec.per_row_references else tuple(r.path for r in refs)
            key = (fit_size(job.width, job.height, self.native, self.multiple), self.steps_for(job),
                   self.guidance_for(job), len(refs), same_images)
            groups.setdefault(key, []).append(i)
        pngs: list[bytes] = [b""] * len(jobs)
        level = int(self.settings.get("png_compress", DEFAULTS["png_compress"]))
        try:
            for idx in groups.values():
                calls = [idx] if self.spec.batches else [[i] for i in idx]
                for call in calls:
                    images = self._call([jobs[i] for i in call], progress)
                    for i, image in zip(call, images, strict=True):
                        pngs[i] = encode_png(image, level)
        except Exception as exc:
            if is_oom(exc):
                free_memory()  # so the queue's retry with half the batch can fit
            raise
        return pngs

    def _call(self, jobs: list[RenderJob], progress: Progress) -> list[Any]:
        """One pipeline call for jobs that share size, steps, guidance and number of images."""
        import torch

        spec, first = self.spec, jobs[0]
        assert spec is not None
        width, height = fit_size(first.width, first.height, self.native, self.multiple)
        steps, guidance = self.steps_for(first), self.guidance_for(first)
        edge = min(self.native, int(self.settings.get("reference_size") or DEFAULTS["reference_size"]))
        ref_w, ref_h = reference_size(width, height, edge, self.multiple)
        loaded: dict[tuple[str, str], Any] = {}  # one PIL image per file, shared by the rows using it
        rows = [[loaded.setdefault((r.path, r.kind), load_reference(r.path, ref_w, ref_h, r.kind))
                 for r in self.references_of(job)] for job in jobs]

        def callback(_pipe: Any, i: int, _t: Any, _tensors: dict[str, Any]) -> dict[str, Any]:
            wanted = [progress(j.job_id, min(i + 1, steps), steps) for j in jobs]
            if not any(wanted):
                raise _Stop  # every job of this call was cancelled: skip the rest and decoding
            return {}

        kwargs: dict[str, Any] = {
            "height": height, "width": width, "num_inference_steps": steps, spec.guidance_arg: guidance,
            # One CPU generator per image: the same seed gives the same image in any batch.
            "generator": [torch.Generator("cpu").manual_seed(j.seed) for j in jobs],
            "output_type": "pil", "callback_on_step_end": callback,
        }  # fmt: skip
        pipe = self.pipe
        if spec.batches:
            kwargs["prompt"] = [j.prompt for j in jobs]
        else:
            kwargs["prompt"], kwargs["generator"] = first.prompt, kwargs["generator"][0]
        if spec.negative_prompt and guidance > 1:
            # Qwen-Image only runs true CFG with a negative prompt; " " is its neutral one.
            kwargs["negative_prompt"] = first.negative_prompt or " "
        if spec.pipeline != "QwenImageEditPlusPipeline":
            kwargs["max_sequence_length"] = int(self.settings.get("max_sequence_length") or spec.max_sequence_length)
        context: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        if rows[0]:
            kwargs["image"] = rows[0]
            if len({tuple(id(im) for im in row) for row in rows}) > 1:
                context = per_row_references(pipe, rows)
        elif spec.text_to_image:
            pipe = self._sibling(spec.text_to_image)
        with torch.inference_mode(), context:
            try:
                return list(pipe(**kwargs).images)
            except _Stop:
                raise RenderCancelled() from None

    def _sibling(self, class_name: str) -> Any:
        """The text-to-image pipeline sharing this one's weights (Qwen-Image-Edit needs an image)."""
        if self._text_to_image is None:
            import diffusers

            self._text_to_image = getattr(diffusers, class_name).from_pipe(self.pipe)
            self._text_to_image.set_progress_bar_config(disable=True)
        return self._text_to_image
