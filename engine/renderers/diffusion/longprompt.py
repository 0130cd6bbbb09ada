"""Prompts longer than CLIP's 77 tokens, encoded in chunks instead of silently truncated.

Each chunk holds up to 75 tokens between its own start and end tokens and is run through the
text encoder on its own; the hidden states of the chunks are concatenated along the sequence,
so cross-attention sees every token (the approach of the A1111 web UI and compel). A prompt
that fits one chunk is left to the stock pipeline, so short prompts render exactly as stock.

torch is imported lazily: this module is only used by the diffusion renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Embeds:
    """Keyword arguments for a pipeline call in place of prompt strings."""

    prompt_embeds: Any
    negative_prompt_embeds: Any
    pooled_prompt_embeds: Any = None
    negative_pooled_prompt_embeds: Any = None

    def kwargs(self) -> dict[str, Any]:
        out = {
            "prompt_embeds": self.prompt_embeds,
            "negative_prompt_embeds": self.negative_prompt_embeds,
        }
        if self.pooled_prompt_embeds is not None:
            out["pooled_prompt_embeds"] = self.pooled_prompt_embeds
            out["negative_pooled_prompt_embeds"] = self.negative_pooled_prompt_embeds
        return out


def chunk_size(tokenizer: Any) -> int:
    return int(tokenizer.model_max_length) - 2


def token_ids(tokenizer: Any, text: str) -> list[int]:
    """The prompt's tokens without start/end tokens and without truncation."""
    return list(tokenizer(text, add_special_tokens=False, truncation=False, verbose=False).input_ids)


def chunk_count(tokenizer: Any, text: str) -> int:
    """How many 77-token chunks the text needs (at least one)."""
    n = len(token_ids(tokenizer, text))
    size = chunk_size(tokenizer)
    return max(1, -(-n // size))


def chunk_ids(tokenizer: Any, text: str, chunks: int) -> list[list[int]]:
    """`chunks` rows of model_max_length ids: start, up to 75 tokens, end, padding."""
    ids = token_ids(tokenizer, text)
    size = chunk_size(tokenizer)
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    rows = []
    for c in range(chunks):
        part = ids[c * size : (c + 1) * size]
        row = [bos, *part, eos]
        rows.append(row + [pad] * (tokenizer.model_max_length - len(row)))
    return rows


def _encode(encoder: Any, tokenizer: Any, text: str, chunks: int, device: Any, penultimate: bool) -> tuple[Any, Any]:
    """Hidden states [1, 77*chunks, C] and the pooled output of the first chunk."""
    import torch

    ids = torch.tensor(chunk_ids(tokenizer, text, chunks), device=device)
    with torch.no_grad():
        out = encoder(ids, output_hidden_states=penultimate)
    hidden = out.hidden_states[-2] if penultimate else out[0]
    pooled = out[0][:1] if penultimate else None  # text_embeds of CLIPTextModelWithProjection
    return hidden.reshape(1, -1, hidden.shape[-1]), pooled


def encode_long(pipe: Any, prompts: list[str], negatives: list[str], chunks: int, device: Any, dtype: Any) -> Embeds:
    """Chunked embeddings for a batch of prompts that all need `chunks` chunks."""
    import torch

    sdxl = getattr(pipe, "text_encoder_2", None) is not None

    def one(text: str) -> tuple[Any, Any]:
        if not sdxl:
            hidden, _ = _encode(pipe.text_encoder, pipe.tokenizer, text, chunks, device, False)
            return hidden, None
        # SDXL: penultimate layers of both encoders side by side, pooled from the second.
        h1, _ = _encode(pipe.text_encoder, pipe.tokenizer, text, chunks, device, True)
        h2, pooled = _encode(pipe.text_encoder_2, pipe.tokenizer_2, text, chunks, device, True)
        return torch.cat([h1, h2], dim=-1), pooled

    pos = [one(p) for p in prompts]
    neg = []
    for text, (hidden, pooled) in zip(negatives, pos, strict=True):
        if sdxl and not text and pipe.config.get("force_zeros_for_empty_prompt", False):
            neg.append((torch.zeros_like(hidden), torch.zeros_like(pooled)))  # as stock SDXL does
        else:
            neg.append(one(text))
    embeds = Embeds(
        torch.cat([h for h, _ in pos]).to(dtype),
        torch.cat([h for h, _ in neg]).to(dtype),
    )
    if sdxl:
        embeds.pooled_prompt_embeds = torch.cat([p for _, p in pos]).to(dtype)
        embeds.negative_pooled_prompt_embeds = torch.cat([p for _, p in neg]).to(dtype)
    return embeds
