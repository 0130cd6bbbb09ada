"""Image and text embeddings for the consistency benchmark: DINOv2 and CLIP through transformers.

identity: the mean cosine similarity over every pair of a subject's panels (1.0 = the same picture).
text alignment: the mean cosine similarity of each panel with its own prompt in CLIP space.
torch and transformers are imported when an Embedder loads, so the module itself costs nothing.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_DINO = "facebook/dinov2-base"
DEFAULT_CLIP = "openai/clip-vit-large-patch14"
BATCH = 16


def mean_pairwise_cosine(features: Any) -> float | None:
    """Mean cosine similarity over all pairs of rows (None for fewer than two rows)."""
    import torch

    f = torch.nn.functional.normalize(features.float(), dim=-1)
    n = f.shape[0]
    if n < 2:
        return None
    sim = f @ f.T
    upper = torch.triu_indices(n, n, offset=1)
    return float(sim[upper[0], upper[1]].mean().clamp(-1.0, 1.0))


def mean_matched_cosine(a: Any, b: Any) -> float | None:
    """Mean cosine similarity of row i of a with row i of b."""
    import torch

    if a.shape[0] == 0:
        return None
    sims = torch.nn.functional.cosine_similarity(a.float(), b.float(), dim=-1)
    return float(sims.mean().clamp(-1.0, 1.0))


def _pooled(out: Any) -> Any:
    """Features from a model output: transformers 5 wraps get_*_features in an output object."""
    import torch

    if isinstance(out, torch.Tensor):
        return out
    pooled = getattr(out, "pooler_output", None)
    return pooled if pooled is not None else out.last_hidden_state[:, 0]


class Embedder:
    """DINOv2 and CLIP models loaded once; every method runs torch, so call it off the event loop."""

    def __init__(self, dino: str = DEFAULT_DINO, clip: str = DEFAULT_CLIP, device: str = "auto") -> None:
        self.dino_id, self.clip_id, self.device_setting = dino, clip, device
        self.device = "cpu"
        self._dino: Any = None
        self._dino_proc: Any = None
        self._clip: Any = None
        self._clip_proc: Any = None

    def load(self) -> None:
        from transformers import AutoImageProcessor, AutoModel, AutoProcessor, CLIPModel

        from engine.renderers.diffusion.renderer import pick_device

        self.device = pick_device(self.device_setting)
        local = {"local_files_only": True}
        dino_kw = local if Path(self.dino_id).is_dir() else {}
        clip_kw = local if Path(self.clip_id).is_dir() else {}
        self._dino = AutoModel.from_pretrained(self.dino_id, **dino_kw).to(self.device).eval()
        self._dino_proc = AutoImageProcessor.from_pretrained(self.dino_id, **dino_kw)
        self._clip = CLIPModel.from_pretrained(self.clip_id, **clip_kw).to(self.device).eval()
        self._clip_proc = AutoProcessor.from_pretrained(self.clip_id, **clip_kw)
        logger.info("embedding models ready: %s, %s on %s", self.dino_id, self.clip_id, self.device)

    def close(self) -> None:
        self._dino = self._clip = self._dino_proc = self._clip_proc = None

    def images(self, pngs: Sequence[bytes]) -> dict[str, Any]:
        """{"dino": N x D, "clip": N x E} features of the images, in order."""
        import torch
        from PIL import Image

        if self._dino is None:
            raise RuntimeError("Embedder.images() needs load() first")
        pictures = []
        for png in pngs:
            with Image.open(io.BytesIO(png)) as im:
                pictures.append(im.convert("RGB"))
        dino, clip = [], []
        with torch.inference_mode():
            for k in range(0, len(pictures), BATCH):
                batch = pictures[k : k + BATCH]
                inputs = self._dino_proc(images=batch, return_tensors="pt").to(self.device)
                dino.append(_pooled(self._dino(**inputs)).cpu())
                inputs = self._clip_proc(images=batch, return_tensors="pt").to(self.device)
                clip.append(_pooled(self._clip.get_image_features(**inputs)).cpu())
        return {"dino": torch.cat(dino), "clip": torch.cat(clip)}

    def texts(self, texts: Sequence[str]) -> Any:
        """CLIP text features, in order (truncated to the text encoder's 77 tokens)."""
        import torch

        if self._clip is None:
            raise RuntimeError("Embedder.texts() needs load() first")
        out = []
        with torch.inference_mode():
            for k in range(0, len(texts), BATCH):
                inputs = self._clip_proc(text=list(texts[k : k + BATCH]), return_tensors="pt", padding=True,
                                         truncation=True, max_length=77).to(self.device)
                out.append(_pooled(self._clip.get_text_features(**inputs)).cpu())
        return torch.cat(out)

    def score(self, pngs: Sequence[bytes], prompts: Sequence[str]) -> dict[str, float | None]:
        """identity_dino, identity_clip and text_alignment of one subject's panels."""
        if len(pngs) != len(prompts):
            raise ValueError("one prompt per image")
        feats = self.images(pngs)
        return {
            "identity_dino": mean_pairwise_cosine(feats["dino"]),
            "identity_clip": mean_pairwise_cosine(feats["clip"]),
            "text_alignment": mean_matched_cosine(feats["clip"], self.texts(prompts)),
        }


def save_tiny_embedders(folder: str | Path, seed: int = 0) -> tuple[Path, Path]:
    """A tiny random DINOv2 and CLIP (with processors) saved like downloaded models: for tests."""
    import torch
    from transformers import (
        BitImageProcessor,
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
        Dinov2Config,
        Dinov2Model,
    )

    from engine.renderers.diffusion.tiny import byte_level_tokenizer

    folder = Path(folder)
    torch.manual_seed(seed)
    size = {"shortest_edge": 32}
    crop = {"height": 32, "width": 32}
    dino_dir, clip_dir = folder / "dino", folder / "clip"
    Dinov2Model(Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                             image_size=32, patch_size=8)).save_pretrained(dino_dir)
    BitImageProcessor(size=size, crop_size=crop).save_pretrained(dino_dir)
    tok = byte_level_tokenizer()
    text = {"vocab_size": len(tok), "hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4,
            "num_hidden_layers": 2, "max_position_embeddings": 77, "bos_token_id": tok.bos_token_id,
            "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id}
    vision = {"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 2,
              "image_size": 32, "patch_size": 8}
    CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=16)).save_pretrained(clip_dir)
    processor = CLIPProcessor(image_processor=CLIPImageProcessor(size=size, crop_size=crop), tokenizer=tok)
    processor.save_pretrained(clip_dir)
    return dino_dir, clip_dir
