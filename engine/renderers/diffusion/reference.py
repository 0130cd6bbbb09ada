"""Keeping characters consistent without training: reference attention, or IP-Adapter.

Reference attention (the idea of diffusers' community "reference-only" pipeline, written anew
for batches): a UNet's self-attention layers decide which parts of an image look alike. For
each reference image we run a *write* pass at every denoising step: the reference's latents,
noised to that step's timestep, go through the UNet with an empty prompt and every
self-attention layer stores its input (the bank). During the panel's own denoising (*read*)
each self-attention layer attends over its own tokens *and* the bank's, so the panel borrows
the reference's features (face, hair, clothes) where they fit.

- One bank per reference image, cached per (model, scheduler, size, steps, image): a
  character's bank is computed once and reused by every later panel of that size.
- Rows of a batch can hold different characters: the bank is applied row by row; rows
  without references keep the stock attention output exactly.
- Strength from the reference weight w (0..1, `--cw` / 100): the read output is blended with
  the stock output by s = min_strength + (1 - min_strength) * w, and the bank is skipped in
  the first (1 - w) * 30% of the steps. Early steps fix layout and colours (hair, clothes),
  later ones details (a face): w = 0 keeps the identity, w = 1 also hair and clothes.
- Style references ("style", "previous") use style_strength in the first half of the steps
  only (palette and light, not content).
- Classifier-free guidance: the bank is applied to both halves of the batch by default (the
  difference between them stays the prompt's), or to the conditional half only
  (cond_only=True, stronger). With guidance 0 (few-step models) there is one half.
- Without references nothing is installed: the original attention processors stay and the
  output is bit-identical to the stock pipeline. After every call they are restored.

torch is imported lazily; this module is only used by the diffusion renderer.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.jobs import Reference, RenderJob

logger = logging.getLogger(__name__)

Bank = list[dict[str, Any]]  # per denoising step: layer name -> stored input [1, tokens, C]


def weight_of(ref: Reference) -> float:
    """The reference weight in 0..1 (a 0-100 `--cw` value is accepted too)."""
    w = ref.weight / 100 if ref.weight > 1 else ref.weight
    return min(1.0, max(0.0, w))


def image_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class _Use:
    """One bank as used by one row: strength and the steps it is active in."""

    bank: Bank
    strength: float
    first: int
    last: int  # exclusive


class _Plan:
    """What the read processors need during one pipeline call."""

    def __init__(self, rows: list[list[_Use]], cond_only: bool) -> None:
        self.rows = rows
        self.cond_only = cond_only
        self.step = 0


class _WriteProcessor:
    """Stores the self-attention input, then runs the original processor unchanged."""

    def __init__(self, original: Any, name: str, store: dict[str, Any], offload: bool) -> None:
        self.original, self.name, self.store, self.offload = original, name, store, offload

    def __call__(
        self,
        attn: Any,
        hidden_states: Any,
        encoder_hidden_states: Any = None,
        attention_mask: Any = None,
        temb: Any = None,
        **kwargs: Any,
    ) -> Any:
        kept = hidden_states.detach()
        # Offloaded banks wait in pinned host memory and are copied back layer by layer: an SDXL
        # bank at 1024px is ~200 MB per step, too much to keep many on the GPU.
        self.store[self.name] = kept.to("cpu").pin_memory() if self.offload else kept.clone()
        return self.original(attn, hidden_states, encoder_hidden_states, attention_mask, temb, **kwargs)


class _ReadProcessor:
    """Stock self-attention for every row, blended with attention over the banks per row."""

    def __init__(self, original: Any, name: str, plan: _Plan) -> None:
        self.original, self.name, self.plan = original, name, plan

    def __call__(
        self,
        attn: Any,
        hidden_states: Any,
        encoder_hidden_states: Any = None,
        attention_mask: Any = None,
        temb: Any = None,
        **kwargs: Any,
    ) -> Any:
        import torch

        out = self.original(attn, hidden_states, encoder_hidden_states, attention_mask, temb, **kwargs)
        plan, step = self.plan, self.plan.step
        jobs = len(plan.rows)
        halves = hidden_states.shape[0] // jobs
        rows = list(out.split(1))
        for r in range(hidden_states.shape[0]):
            if plan.cond_only and halves == 2 and r < jobs:
                continue  # CFG puts the unconditional half first
            uses = [u for u in plan.rows[r % jobs] if u.first <= step < min(u.last, len(u.bank))]
            if not uses:
                continue
            banks = [u.bank[step][self.name].to(hidden_states.device, non_blocking=True) for u in uses]
            context = torch.cat([hidden_states[r : r + 1], *banks], dim=1)
            read = _attend(attn, hidden_states[r : r + 1], context)
            strength = sum(u.strength for u in uses) / len(uses)
            rows[r] = rows[r] + strength * (read - rows[r])
        return torch.cat(rows)


def _attend(attn: Any, x: Any, context: Any) -> Any:
    """Self-attention of x whose keys and values also come from the bank (AttnProcessor2_0)."""
    import torch.nn.functional as F

    q, k, v = attn.to_q(x), attn.to_k(context), attn.to_v(context)
    heads = attn.heads
    head_dim = k.shape[-1] // heads
    q, k, v = (t.view(1, -1, heads, head_dim).transpose(1, 2) for t in (q, k, v))
    if getattr(attn, "norm_q", None) is not None:
        q = attn.norm_q(q)
    if getattr(attn, "norm_k", None) is not None:
        k = attn.norm_k(k)
    o = F.scaled_dot_product_attention(q, k, v)
    o = o.transpose(1, 2).reshape(1, -1, heads * head_dim).to(q.dtype)
    o = attn.to_out[1](attn.to_out[0](o))
    if attn.residual_connection:
        o = o + x
    return o / attn.rescale_output_factor


class ReferenceAttention:
    """Reference banks for one pipeline, and the processors that write and read them."""

    def __init__(
        self,
        pipe: Any,
        model: str,
        *,
        cache_size: int = 8,
        min_strength: float = 0.5,
        cond_only: bool = False,
        style_strength: float = 0.35,
        offload: bool | None = None,
    ) -> None:
        self.pipe = pipe
        # Default: offload banks to host memory when the UNet runs on CUDA.
        self.offload = pipe.unet.device.type == "cuda" if offload is None else offload
        self.model = model
        self.cache_size = cache_size
        self.min_strength = min_strength
        self.cond_only = cond_only
        self.style_strength = style_strength
        self._cache: OrderedDict[tuple[object, ...], Bank] = OrderedDict()
        self._layers = {
            name.removesuffix(".processor"): pipe.unet.get_submodule(name.removesuffix(".processor"))
            for name in pipe.unet.attn_processors
            if name.endswith("attn1.processor")
        }

    def group_key(self, job: RenderJob) -> tuple[object, ...]:
        return ()  # rows with different references share a call

    @contextlib.contextmanager
    def apply(
        self,
        jobs: Sequence[RenderJob],
        width: int,
        height: int,
        steps: int,
        guidance: float,
        kwargs: dict[str, Any],
    ) -> Iterator[Callable[[int], None] | None]:
        """Install read processors for a call with references; yield the step setter."""
        if not any(j.references for j in jobs):
            yield None  # stock pipeline, untouched
            return
        rows = [self._uses(job, width, height, steps) for job in jobs]
        plan = _Plan(rows, self.cond_only)
        originals = {name: attn.processor for name, attn in self._layers.items()}
        try:
            for name, attn in self._layers.items():
                attn.set_processor(_ReadProcessor(originals[name], name, plan))

            def on_step(step: int) -> None:
                plan.step = step

            yield on_step
        finally:
            for name, attn in self._layers.items():
                attn.set_processor(originals[name])

    def _uses(self, job: RenderJob, width: int, height: int, steps: int) -> list[_Use]:
        uses = []
        for ref in job.references:
            bank = self.bank(ref.path, width, height, steps)
            if ref.kind == "character":
                w = weight_of(ref)
                strength = self.min_strength + (1 - self.min_strength) * w
                uses.append(_Use(bank, strength, math.floor((1 - w) * 0.3 * steps), steps))
            else:
                uses.append(_Use(bank, self.style_strength * weight_of(ref), 0, -(-steps // 2)))
        return uses

    def bank(self, path: str, width: int, height: int, steps: int) -> Bank:
        """The reference's bank for this size and step count, computed once."""
        key = (
            self.model, type(self.pipe.scheduler).__name__, width, height, steps, image_digest(path)
        )  # fmt: skip
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        bank = self._write(path, width, height, steps)
        self._cache[key] = bank
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return bank

    def _write(self, path: str, width: int, height: int, steps: int) -> Bank:
        """Run the write pass over the noised reference at every step of the schedule."""
        import torch

        pipe = self.pipe
        unet = pipe.unet
        device, dtype = unet.device, unet.dtype
        latents = encode_image(pipe, path, width, height)
        seed = int(image_digest(path)[:8], 16)
        noise = torch.randn(latents.shape, generator=torch.Generator("cpu").manual_seed(seed))
        noise = noise.to(device, latents.dtype)
        scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config)
        scheduler.set_timesteps(steps, device=device)
        cond, added = self._empty_prompt(width, height)
        store: dict[str, Any] = {}
        originals = {name: attn.processor for name, attn in self._layers.items()}
        bank: Bank = []
        try:
            for name, attn in self._layers.items():
                attn.set_processor(_WriteProcessor(originals[name], name, store, self.offload))
            with torch.inference_mode():
                for t in scheduler.timesteps:
                    noisy = scheduler.add_noise(latents, noise, t.reshape(1))
                    # Sigma schedulers look the step up from t; we never call step().
                    if hasattr(scheduler, "_step_index"):
                        scheduler._step_index = None
                    sample = scheduler.scale_model_input(noisy, t).to(dtype)
                    unet(sample, t, encoder_hidden_states=cond, added_cond_kwargs=added)
                    bank.append(dict(store))
        finally:
            for name, attn in self._layers.items():
                attn.set_processor(originals[name])
        logger.info("reference bank for %s at %dx%d, %d steps", path, width, height, steps)
        return bank

    def _empty_prompt(self, width: int, height: int) -> tuple[Any, dict[str, Any] | None]:
        """Conditioning for the write pass: an empty prompt, so banks do not depend on panels."""
        import torch

        pipe = self.pipe
        device = pipe.unet.device
        with torch.inference_mode():
            if getattr(pipe, "text_encoder_2", None) is None:
                embeds, _ = pipe.encode_prompt("", device, 1, False)
                return embeds, None
            embeds, _, pooled, _ = pipe.encode_prompt(
                prompt="", device=device, num_images_per_prompt=1, do_classifier_free_guidance=False
            )
            time_ids = pipe._get_add_time_ids(
                (height, width), (0, 0), (height, width), dtype=embeds.dtype,
                text_encoder_projection_dim=pipe.text_encoder_2.config.projection_dim,
            )  # fmt: skip
        return embeds, {"text_embeds": pooled, "time_ids": time_ids.to(device)}


def load_image(path: str, width: int, height: int) -> Any:
    """The image as RGB, scaled to cover width x height and centre-cropped."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        return ImageOps.fit(im.convert("RGB"), (width, height), Image.Resampling.LANCZOS)


def encode_image(pipe: Any, path: str, width: int, height: int) -> Any:
    """VAE latents (scaled) of a reference image, deterministic (the distribution's mean)."""
    import torch

    vae = pipe.vae
    image = pipe.image_processor.preprocess(load_image(path, width, height), height, width)
    # SDXL's fp16 VAE overflows: encode in fp32 like the pipeline decodes.
    upcast = vae.dtype == torch.float16 and vae.config.get("force_upcast", False)
    dtype = torch.float32 if upcast else vae.dtype
    with torch.inference_mode():
        if upcast:
            vae.to(torch.float32)
        try:
            dist = vae.encode(image.to(vae.device, dtype)).latent_dist
        finally:
            if upcast:
                vae.to(torch.float16)
        return (dist.mean * vae.config.scaling_factor).to(pipe.unet.dtype)


class IPAdapterReferences:
    """IP-Adapter in place of reference attention, image embeddings cached per image.

    diffusers applies one set of image embeddings to the whole batch, so the renderer groups
    jobs by their reference images (group_key). Calls without references run with the
    adapter switched off (the original attention processors), i.e. exactly stock.
    """

    def __init__(self, pipe: Any, config: Any, device: str) -> None:
        cfg = {"model": config} if isinstance(config, str) else dict(config)
        self.pipe = pipe
        self.device = device
        self.scale = float(cfg.get("scale", 0.6))
        self._base = dict(pipe.unet.attn_processors)
        pipe.load_ip_adapter(
            cfg["model"],
            subfolder=cfg.get("subfolder", "models"),
            weight_name=cfg.get("weight_name", "ip-adapter_sd15.safetensors"),
            image_encoder_folder=cfg.get("image_encoder_folder", "image_encoder"),
        )
        logger.info("loaded IP-Adapter %s (scale %.2f)", cfg["model"], self.scale)
        self._ip = dict(pipe.unet.attn_processors)
        self._proj = pipe.unet.encoder_hid_proj
        self._cache: dict[str, Any] = {}
        self._switch(False)

    def _switch(self, on: bool) -> None:
        unet = self.pipe.unet
        # set_attn_processor empties the dict it gets: pass copies.
        unet.set_attn_processor(dict(self._ip if on else self._base))
        unet.encoder_hid_proj = self._proj if on else None

    def group_key(self, job: RenderJob) -> tuple[object, ...]:
        return tuple(sorted((r.path, r.kind, weight_of(r)) for r in job.references))

    def _embeds(self, path: str) -> Any:
        """[negative, positive] embeddings of one image for the (single) adapter."""
        key = image_digest(path)
        if key not in self._cache:
            image = load_image(path, 224, 224)
            # Runs inside the renderer's inference_mode, with the adapter switched on.
            embeds = self.pipe.prepare_ip_adapter_image_embeds([image], None, self.device, 1, True)
            self._cache[key] = embeds[0]
        return self._cache[key]

    @contextlib.contextmanager
    def apply(
        self,
        jobs: Sequence[RenderJob],
        width: int,
        height: int,
        steps: int,
        guidance: float,
        kwargs: dict[str, Any],
    ) -> Iterator[None]:
        refs = jobs[0].references  # the same for every job of the call (group_key)
        if not refs:
            yield None
            return
        import torch

        self._switch(True)
        try:
            stacked = torch.stack([self._embeds(r.path) for r in refs])
            embeds = stacked.mean(dim=0)  # several characters: their mean identity
            if guidance <= 1.0:  # no CFG: the pipeline wants the positive half alone
                embeds = embeds.chunk(2)[1]
            kwargs["ip_adapter_image_embeds"] = [embeds]
            weight = sum(weight_of(r) for r in refs) / len(refs)
            self.pipe.set_ip_adapter_scale(self.scale * (0.5 + 0.5 * weight))
            yield None
        finally:
            self._switch(False)
