"""The diffusers renderer: one text-to-image pipeline, loaded once, driven by the queue.

Every method runs on the engine's worker thread. torch and diffusers are imported inside
methods, so importing this module costs nothing and the core works without the extra.

Settings (a plain dict, the `[engine]` table of the config; keys and
defaults: settings.py)::

    model            model id or local folder (required); SD 1.5, SD 2.x, SDXL, Turbo/LCM
    device           "auto" | "cuda" | "cuda:1" | "mps" | "cpu"           (auto)
    dtype            "auto" | "float16" | "bfloat16" | "float32"         (auto: fp16 on GPU)
    scheduler        a diffusers scheduler class or alias ("ddim", "euler", "euler_a",
                     "dpmpp_2m", "dpmpp_2m_karras", "unipc", "lcm"); empty: the model's own
    steps            steps when a job names none (25); few-step models always use
                     few_step_steps (4) instead
    guidance         guidance scale when a job names none (7.0); few-step models run with 0
    few_step         true for Turbo/LCM/Lightning models (default: guessed from the name)
    native_size      model-native edge in pixels; job sizes keep their aspect ratio at this
                     area, in multiples of 8 (default: unet sample_size * vae scale factor)
    safety_checker   keep the model's safety checker (true)
    offline          only use files already on disk (false; implied for a local folder)
    variant          weights variant, e.g. "fp16"
    vae_slicing      decode a batch one image at a time to save memory (true)
    cpu_offload      model CPU offload for small GPUs (false)
    cpu_threads      torch threads when running on the CPU (torch's default)
    reference_mode   "attention" (training-free, default) | "ip_adapter" | "off"
    reference_cache  reference banks kept in memory (8)
    reference_offload keep banks in pinned host memory (default: true on CUDA)
    reference_min_strength (0.5), reference_cond_only (false), style_strength (0.35):
                     see reference.py
    ip_adapter       model id or folder of the IP-Adapter weights (reference_mode ip_adapter),
                     with ip_adapter_subfolder ("models"), ip_adapter_weight_name
                     ("ip-adapter_sd15.bin"), ip_adapter_scale (0.6)
    png_compress     zlib level for the PNGs (4)
    auto_anchor      read by the service, not here
"""

from __future__ import annotations

import copy
import io
import logging
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.errors import RenderCancelled
from engine.jobs import Capabilities, Progress, RenderJob
from engine.renderers.diffusion import longprompt
from engine.renderers.diffusion.settings import DEFAULTS, KNOWN_SETTINGS

logger = logging.getLogger(__name__)

SCHEDULER_ALIASES: dict[str, tuple[str, dict[str, Any]]] = {
    "ddim": ("DDIMScheduler", {}),
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {}),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "lcm": ("LCMScheduler", {}),
}
FEW_STEP_MARKERS = ("turbo", "lcm", "lightning", "hyper", "schnell")


class _Stop(Exception):
    """Raised inside callback_on_step_end to leave the denoising loop at once."""


def fit_size(width: int, height: int, native: int, multiple: int = 8) -> tuple[int, int]:
    """The job's aspect ratio at the model's native area, both sides multiples of `multiple`."""
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    aspect = width / height
    h = math.sqrt(native * native / aspect)
    w = h * aspect
    return (
        max(multiple, round(w / multiple) * multiple),
        max(multiple, round(h / multiple) * multiple),
    )


def pick_device(setting: str = "auto") -> str:
    import torch

    if setting != "auto":
        return setting
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(setting: str, device: str) -> Any:
    import torch

    if setting != "auto":
        try:
            return {"float16": torch.float16, "fp16": torch.float16, "bfloat16": torch.bfloat16,
                    "bf16": torch.bfloat16, "float32": torch.float32, "fp32": torch.float32}[setting]  # fmt: skip
        except KeyError:
            raise ValueError(f"unknown dtype {setting!r}") from None
    # Half precision on accelerators (SD was trained for it; twice the speed, half the memory);
    # CPUs are slow and often wrong in fp16, so they get fp32.
    return torch.float32 if device == "cpu" else torch.float16


def free_memory() -> None:
    """Give the GPU memory of dropped tensors back (after a close or an out-of-memory error)."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def encode_png(image: Any, compress_level: int = 4) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


class DiffusionRenderer:
    """A diffusers text-to-image pipeline behind the Renderer protocol."""

    name = "diffusion"
    capabilities = Capabilities(reads_images=True)  # CLIP tags, reference attention

    def __init__(self, settings: Mapping[str, Any], *, pipeline: Any = None) -> None:
        """`pipeline`: an already built pipeline to use instead of loading `model` (benchmarks)."""
        if not settings.get("model"):
            raise ValueError("the diffusion renderer needs settings['model'] (an id or a folder)")
        unknown = set(settings) - KNOWN_SETTINGS
        if unknown:
            logger.warning("ignoring unknown diffusion settings: %s", ", ".join(sorted(unknown)))
        self.settings = dict(settings)
        self.model = str(settings["model"])
        self.pipe: Any = None
        self._prebuilt = pipeline
        self._tokenizer: Any = None
        self.device = "cpu"
        self.dtype: Any = None
        self.native = 512
        self.few_step = bool(settings.get("few_step", any(m in self.model.lower() for m in FEW_STEP_MARKERS)))
        self.references: Any = None  # ReferenceAttention or IPAdapterReferences after load()

    # ------------------------------------------------------------ loading

    def load(self) -> None:
        """Load the pipeline once, with a log line per component."""
        import torch
        from diffusers import AutoPipelineForText2Image
        from diffusers.utils import deprecation_utils

        s = self.settings
        self.device = pick_device(str(s.get("device", DEFAULTS["device"])))
        self.dtype = pick_dtype(str(s.get("dtype", DEFAULTS["dtype"])), self.device)
        # diffusers 0.36+ renamed torch_dtype= to dtype= (the old name warns); older ones need it.
        dtype_key = "dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype"
        kwargs: dict[str, Any] = {dtype_key: self.dtype}
        if s.get("offline") or Path(self.model).is_dir():
            kwargs["local_files_only"] = True
        if s.get("variant"):
            kwargs["variant"] = s["variant"]
        if not s.get("safety_checker", DEFAULTS["safety_checker"]) and self._has_component("safety_checker"):
            kwargs.update(safety_checker=None, requires_safety_checker=False)
        if self.device == "cpu" and s.get("cpu_threads"):
            torch.set_num_threads(int(s["cpu_threads"]))
        t0 = time.perf_counter()
        if self._prebuilt is not None:
            pipe, self._prebuilt = self._prebuilt.to(dtype=self.dtype), None
        else:
            pipe = AutoPipelineForText2Image.from_pretrained(self.model, **kwargs)
        pipe.set_progress_bar_config(disable=True)
        self._set_scheduler(pipe, s.get("scheduler"))
        if s.get("cpu_offload") and self.device.startswith("cuda"):
            pipe.enable_model_cpu_offload()
        else:
            pipe.to(self.device)
        if s.get("vae_slicing", DEFAULTS["vae_slicing"]) and hasattr(pipe, "enable_vae_slicing"):
            pipe.vae.enable_slicing()
        for name, component in pipe.components.items():
            if isinstance(component, torch.nn.Module):
                params = sum(p.numel() for p in component.parameters())
                logger.info("loaded %s: %s, %.1fM parameters, %s", name,
                            type(component).__name__, params / 1e6, component.dtype)  # fmt: skip
            elif component is not None:
                logger.info("loaded %s: %s", name, type(component).__name__)
        self.native = int(s.get("native_size") or pipe.unet.config.sample_size * pipe.vae_scale_factor)
        self.pipe = pipe
        # A copy for count_tokens(), which runs on the event loop: a fast tokenizer used from
        # two threads at once fails with "Already borrowed".
        self._tokenizer = copy.deepcopy(pipe.tokenizer)
        self._load_references()
        logger.info(
            "diffusion renderer ready: %s (%s) on %s/%s, native %dpx, in %.1fs",
            self.model, type(pipe).__name__, self.device, self.dtype, self.native,
            time.perf_counter() - t0,
        )  # fmt: skip

    def _has_component(self, name: str) -> bool:
        from diffusers import DiffusionPipeline

        try:
            config = DiffusionPipeline.load_config(self.model, local_files_only=True)
        except Exception:  # not on disk yet: let from_pretrained decide
            return name == "safety_checker"
        value = config.get(name)
        return isinstance(value, list) and value[0] is not None

    def _set_scheduler(self, pipe: Any, name: str | None) -> None:
        if not name:
            return
        import diffusers

        class_name, options = SCHEDULER_ALIASES.get(name, (name, {}))
        cls = getattr(diffusers, class_name, None)
        if cls is None or not class_name.endswith("Scheduler"):
            raise ValueError(f"unknown scheduler {name!r}")
        pipe.scheduler = cls.from_config(pipe.scheduler.config, **options)

    def _load_references(self) -> None:
        from engine.renderers.diffusion.reference import IPAdapterReferences, ReferenceAttention

        s = self.settings
        mode = str(s.get("reference_mode") or DEFAULTS["reference_mode"])
        if mode not in ("attention", "ip_adapter", "off"):
            raise ValueError(f"unknown reference_mode {mode!r}: attention, ip_adapter or off")
        if mode == "ip_adapter":
            if not s.get("ip_adapter"):
                raise ValueError("reference_mode = 'ip_adapter' needs ip_adapter (a model id or folder)")
            config = {
                "model": s["ip_adapter"],
                "subfolder": s.get("ip_adapter_subfolder", DEFAULTS["ip_adapter_subfolder"]),
                "weight_name": s.get("ip_adapter_weight_name", DEFAULTS["ip_adapter_weight_name"]),
                "scale": s.get("ip_adapter_scale", DEFAULTS["ip_adapter_scale"]),
            }
            self.references = IPAdapterReferences(self.pipe, config, self.device)
        elif mode == "attention":
            self.references = ReferenceAttention(
                self.pipe,
                self.model,
                cache_size=int(s.get("reference_cache", DEFAULTS["reference_cache"])),
                min_strength=float(s.get("reference_min_strength", DEFAULTS["reference_min_strength"])),
                cond_only=bool(s.get("reference_cond_only", DEFAULTS["reference_cond_only"])),
                style_strength=float(s.get("style_strength", DEFAULTS["style_strength"])),
                offload=s.get("reference_offload"),
            )

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` for this model's text encoder (75 fit in one CLIP chunk)."""
        if self._tokenizer is None:
            raise RuntimeError("count_tokens() needs a loaded renderer")
        return len(longprompt.token_ids(self._tokenizer, text))

    def close(self) -> None:
        """Drop the pipeline and give the memory back."""
        self.pipe = None
        self.references = None
        free_memory()

    # ------------------------------------------------------------ rendering

    def steps_for(self, job: RenderJob) -> int:
        if self.few_step:  # distilled for a few steps: more would only blur them
            return int(self.settings.get("few_step_steps", 4))
        return int(job.steps or self.settings.get("steps", 25))

    def guidance_for(self, job: RenderJob) -> float:
        if self.few_step:  # distilled without classifier-free guidance
            return 0.0
        if job.guidance is not None:
            return float(job.guidance)
        return float(self.settings.get("guidance", 7.0))

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        """Render compatible jobs as one batch (or a few, see below); one PNG per job."""
        from engine.errors import is_oom

        if self.pipe is None:
            raise RuntimeError("the diffusion renderer is not loaded")
        # Jobs whose prompts need different numbers of 77-token chunks (and, with IP-Adapter,
        # different reference images) cannot share a forward pass: render them in groups.
        groups: dict[tuple[int, tuple[object, ...]], list[int]] = {}
        for i, job in enumerate(jobs):
            groups.setdefault(self._group_key(job), []).append(i)
        pngs: list[bytes] = [b""] * len(jobs)
        try:
            for (chunks, _), idx in groups.items():
                images = self._call([jobs[i] for i in idx], chunks, progress)
                for i, image in zip(idx, images, strict=True):
                    pngs[i] = encode_png(image, int(self.settings.get("png_compress", DEFAULTS["png_compress"])))
        except Exception as exc:
            if is_oom(exc):
                free_memory()  # so the queue's retry with half the batch can fit
            raise
        return pngs

    def _group_key(self, job: RenderJob) -> tuple[int, tuple[object, ...]]:
        tok = self.pipe.tokenizer
        chunks = max(longprompt.chunk_count(tok, job.prompt), longprompt.chunk_count(tok, job.negative_prompt))
        extra = self.references.group_key(job) if self.references is not None else ()
        return chunks, extra

    def _call(self, jobs: list[RenderJob], chunks: int, progress: Progress) -> list[Any]:
        """One pipeline call for jobs that share everything but prompt, seed and references."""
        import contextlib

        import torch

        pipe = self.pipe
        first = jobs[0]
        steps = self.steps_for(first)
        guidance = self.guidance_for(first)
        width, height = fit_size(first.width, first.height, self.native)
        negatives = [j.negative_prompt for j in jobs]
        kwargs: dict[str, Any] = {
            "height": height,
            "width": width,
            "num_inference_steps": steps,
            "guidance_scale": guidance,
            # One CPU generator per image: the same seed gives the same image in any batch
            # and on any GPU.
            "generator": [torch.Generator("cpu").manual_seed(j.seed) for j in jobs],
            "output_type": "pil",
        }
        if chunks == 1:
            kwargs["prompt"] = [j.prompt for j in jobs]
            # None, not "", lets SDXL use its zero negative embedding like stock.
            kwargs["negative_prompt"] = negatives if any(negatives) else None
        else:
            embeds = longprompt.encode_long(pipe, [j.prompt for j in jobs], negatives, chunks, self.device, self.dtype)
            kwargs.update(embeds.kwargs())

        step_hooks: list[Any] = []  # the references' step setter, once installed
        context: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        if self.references is not None:
            context = self.references.apply(jobs, width, height, steps, guidance, kwargs)

        def callback(_pipe: Any, i: int, _t: Any, _tensors: dict[str, Any]) -> dict[str, Any]:
            for hook in step_hooks:
                hook(i + 1)
            wanted = [progress(j.job_id, min(i + 1, steps), steps) for j in jobs]
            if not any(wanted):
                raise _Stop  # every job of this call was cancelled: skip the rest and decoding
            return {}

        kwargs["callback_on_step_end"] = callback
        with torch.inference_mode(), context as on_step:
            if on_step is not None:
                step_hooks.append(on_step)
            try:
                return list(pipe(**kwargs).images)
            except _Stop:
                raise RenderCancelled() from None
