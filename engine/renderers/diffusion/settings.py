"""The [engine] settings: every key the renderers (and the service) read, with its default.

One table, so the renderers, the config check and config.example.toml agree. None means
"the model decides" (its own steps, guidance, native size ...); "" means "not set". Import
this module freely: it holds data only.
"""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    # both paths
    "model": "",  # required by renderer = "diffusion": a model id or a folder
    "device": "auto",
    "dtype": "auto",
    "pipeline": "",  # "": read from the model's model_index.json
    "offline": False,
    "variant": "",
    "steps": None,
    "guidance": None,
    "few_step": None,  # None: guessed from the model's name or config
    "few_step_steps": None,
    "native_size": None,
    "cpu_offload": False,
    "cpu_threads": None,
    "png_compress": 4,
    "auto_anchor": True,  # read by the service
    "previous_panel_reference": 0.3,  # read by the service
    # multi-reference models (FLUX.2, Qwen-Image-Edit-Plus)
    "offload": "none",
    "reference_size": 768,
    "max_references": 0,  # 0: as many as the model takes
    "max_sequence_length": None,
    "vae_tiling": False,
    # the SD path
    "scheduler": "",
    "safety_checker": True,
    "vae_slicing": True,
    "reference_mode": "attention",
    "reference_cache": 8,
    "reference_offload": None,  # None: pinned host memory on CUDA
    "reference_min_strength": 0.5,
    "reference_cond_only": False,
    "style_strength": 0.35,
    "ip_adapter": "",
    "ip_adapter_subfolder": "models",
    "ip_adapter_weight_name": "ip-adapter_sd15.bin",
    "ip_adapter_scale": 0.6,
    # renderer = "tiny" (offline test pipelines)
    "tiny_pipeline": "sd",
    "tiny_dir": None,  # None: a temporary folder
    "tiny_seed": 0,
}
KNOWN_SETTINGS = frozenset(DEFAULTS)
# Keys whose default is None take one of these kinds when set.
KINDS: dict[str, type] = {"steps": int, "guidance": float, "few_step": bool, "few_step_steps": int,
                          "native_size": int, "cpu_threads": int, "max_sequence_length": int,
                          "reference_offload": bool, "tiny_dir": str}


def kind_of(key: str) -> type:
    """The type a setting's value must have (int settings accept no float; float ones accept ints)."""
    default = DEFAULTS[key]
    return KINDS[key] if default is None else type(default)
