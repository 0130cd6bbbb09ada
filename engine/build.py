"""The engine from the `[engine]` settings: today's worker thread, or render workers on Ray.

The keys `backend`, `ray_address`, `workers` and `gpus_per_worker` are the engine's; they are
taken out before the rest reaches the renderer, which would call them unknown.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.queue import Engine
from engine.renderers.registry import NAMES, make_renderer

ENGINE_KEYS = ("backend", "ray_address", "workers", "gpus_per_worker")


@dataclass(frozen=True)
class BackendSettings:
    backend: str = "local"  # "local" (the engine's worker thread) | "ray"
    ray_address: str = ""  # "" starts a local Ray instance; "auto" or "ray://host:10001" joins a cluster
    workers: int | str = "auto"  # "auto": one per GPU Ray reports, 1 CPU worker when there is none
    gpus_per_worker: float = 1.0  # 0 for CPU workers


def split_settings(settings: Mapping[str, Any]) -> tuple[BackendSettings, dict[str, Any]]:
    """The engine's own keys, checked, and the renderer's settings without them.

    Raises ValueError with a message fit for a config error.
    """
    rest = dict(settings)
    raw = {k: rest.pop(k) for k in ENGINE_KEYS if k in rest}
    backend = raw.get("backend", "local")
    if backend not in ("local", "ray"):
        raise ValueError(f'[engine] backend must be "local" or "ray", got {backend!r}')
    address = raw.get("ray_address", "")
    if not isinstance(address, str):
        raise ValueError(f'[engine] ray_address must be a string ("", "auto" or "ray://host:10001"), got {address!r}')
    workers = raw.get("workers", "auto")
    if workers != "auto" and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f'[engine] workers must be "auto" or a whole number of at least 1, got {workers!r}')
    gpus = raw.get("gpus_per_worker", 1.0)
    if isinstance(gpus, bool) or not isinstance(gpus, int | float) or gpus < 0:
        raise ValueError(f"[engine] gpus_per_worker must be a number of at least 0, got {gpus!r}")
    return BackendSettings(backend, address, workers, float(gpus)), rest


def build_engine(
    renderer: str,
    settings: Mapping[str, Any],
    *,
    max_batch: int = 4,
    per_user_cap: int = 5,
    global_cap: int = 100,
) -> Engine:
    """An Engine (not started) for the named renderer and the `[engine]` settings table.

    Raises ValueError for a bad setting, RuntimeError for backend "ray" without Ray installed.
    With backend "ray", `engine.renderer` is a stand-in with the renderer's name and, once the
    engine has started, its capabilities; it has no count_tokens.
    """
    if renderer not in NAMES:
        raise ValueError(f"unknown renderer {renderer!r}: choose one of {', '.join(NAMES)}")
    chosen, renderer_settings = split_settings(settings)
    caps = {"max_batch": max_batch, "per_user_cap": per_user_cap, "global_cap": global_cap}
    if chosen.backend == "local":
        return Engine(make_renderer(renderer, renderer_settings), **caps)
    if importlib.util.find_spec("ray") is None:
        raise RuntimeError('[engine] backend = "ray" needs Ray: pip install "worldloom[ray]"')
    from engine.ray_backend import RayBackend

    backend = RayBackend(
        renderer,
        renderer_settings,
        address=chosen.ray_address,
        workers=chosen.workers,
        gpus_per_worker=chosen.gpus_per_worker,
    )
    return Engine(backend=backend, **caps)
