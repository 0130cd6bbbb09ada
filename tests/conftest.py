"""Shared fixtures: a whole app (store + engine + service) on a temp database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, open_app
from bot.config import Settings
from bot.context import Actor, Place
from engine.renderers.storyboard.renderer import SketchRenderer
from tests.fakes import RecordingOutlet

PLACE = Place("test", "ws", "chan", "thread-1")
ADA = Actor("test", "u-ada", "ada")
BEN = Actor("test", "u-ben", "ben")
MOD = Actor("test", "u-mod", "mod", is_admin=True)


@pytest.fixture
def outlet() -> RecordingOutlet:
    return RecordingOutlet()


@pytest.fixture
async def app(tmp_path: Path, outlet: RecordingOutlet) -> AsyncIterator[App]:
    async with open_app(Settings(database=str(tmp_path / "w.db")), renderer=SketchRenderer()) as app:
        app.outbox.connect("test", outlet)
        yield app


@pytest.fixture(scope="module")
def tiny() -> Iterator[Any]:
    """One loaded tiny diffusion renderer per test module (building it takes seconds)."""
    pytest.importorskip("diffusers")
    from engine.renderers.diffusion.tiny import TinyRenderer

    renderer = TinyRenderer({})
    renderer.load()
    yield renderer
    renderer.close()


@pytest.fixture(scope="session")
def ray_instance() -> Iterator[Any]:
    """One local Ray instance (CPU only, no dashboard) for every Ray test of the session: starting it takes seconds."""
    import os

    ray = pytest.importorskip("ray")
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    # 4 logical CPUs on any machine: two 1-CPU workers, and room for a replacement while one restarts.
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()
