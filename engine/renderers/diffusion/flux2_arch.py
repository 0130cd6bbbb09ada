"""FLUX.2 [klein] 4B's architecture with random weights, at full size or scaled down, for benchmarks.

Full size is the published configuration (transformer: 5 double + 20 single blocks, 24 heads of
128, joint attention 7680 = 3 stacked Qwen3-4B layers of 2560; Qwen3-4B: 36 layers; the FLUX.2
VAE: 32 latent channels, blocks 128-512). Scaled down keeps every depth, the latent channels and
the 512-token text sequence, and divides the widths (heads, hidden sizes, VAE channels) so a CPU
runs it in a fraction of a second per step. Nothing is downloaded; the tokenizer is the toy
byte-level one, so prompts cost as many tokens as they have bytes.
"""

from __future__ import annotations

from typing import Any

from engine.renderers.diffusion.toys import byte_tokenizer

ARCHES = ("flux2-klein",)
_QWEN_CHAT = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
              "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def build_flux2_klein(device: str = "cpu", dtype: Any = None, full_size: bool = False, seed: int = 0) -> Any:
    """A Flux2KleinPipeline (distilled, like FLUX.2-klein-4B) with random weights, built on `device`."""
    import torch
    from diffusers import (
        AutoencoderKLFlux2,
        FlowMatchEulerDiscreteScheduler,
        Flux2KleinPipeline,
        Flux2Transformer2DModel,
    )
    from transformers import Qwen3Config, Qwen3ForCausalLM

    tok = byte_tokenizer(("<|im_start|>", "<|im_end|>"), _QWEN_CHAT)
    text = 2560 if full_size else 128  # Qwen3-4B's hidden size
    heads, head_dim = (24, 128) if full_size else (2, 64)
    vae_channels = (128, 256, 512, 512) if full_size else (16, 32, 64, 64)
    dtype = dtype or torch.float32
    previous = torch.get_default_dtype()
    torch.manual_seed(seed)
    # Initialise in the target dtype, where the weights will run: 8B fp32 parameters would not fit.
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            transformer = Flux2Transformer2DModel(
                patch_size=1, in_channels=128, num_layers=5, num_single_layers=20, attention_head_dim=head_dim,
                num_attention_heads=heads, joint_attention_dim=3 * text, timestep_guidance_channels=256,
                mlp_ratio=3.0, axes_dims_rope=(head_dim // 4,) * 4, rope_theta=2000, guidance_embeds=False,
            )  # fmt: skip
            encoder = Qwen3ForCausalLM(Qwen3Config(
                hidden_size=text, intermediate_size=9728 if full_size else 384, num_hidden_layers=36,
                num_attention_heads=32 if full_size else 4, num_key_value_heads=8 if full_size else 2,
                head_dim=128 if full_size else 32, vocab_size=151936 if full_size else len(tok),
                max_position_embeddings=40960, rope_theta=1_000_000, tie_word_embeddings=True,
                pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
            ))  # fmt: skip
            vae = AutoencoderKLFlux2(block_out_channels=vae_channels, latent_channels=32, layers_per_block=2,
                                     norm_num_groups=32 if full_size else 8)
    finally:
        torch.set_default_dtype(previous)
    scheduler = FlowMatchEulerDiscreteScheduler(
        num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15,
        base_image_seq_len=256, max_image_seq_len=4096, time_shift_type="exponential",
    )  # fmt: skip
    return Flux2KleinPipeline(scheduler=scheduler, vae=vae, text_encoder=encoder, tokenizer=tok,
                              transformer=transformer, is_distilled=True)
