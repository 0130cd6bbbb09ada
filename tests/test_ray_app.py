"""The whole bot with `[engine] backend = "ray"`: panels render on a Ray worker and are posted;
a bot stopped with work in hand finishes everything when it starts again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.app import open_app
from bot.config import Settings
from tests.conftest import ADA, BEN, PLACE
from tests.fakes import RecordingOutlet

pytest.importorskip("ray")

RAY = {"backend": "ray", "workers": 1, "gpus_per_worker": 0}


async def test_panels_render_on_ray_and_a_restart_finishes_what_was_left(ray_instance: Any, tmp_path: Path) -> None:
    settings = Settings(database=str(tmp_path / "w.db"), renderer="sketch", engine=RAY)
    async with open_app(settings) as app:
        assert app.engine.backend is not None and app.engine.renderer.name == "sketch"
        first = RecordingOutlet()
        app.outbox.connect("test", first)
        for line, who in (("/world new Harbour --seed 4", ADA), ("/cref Mira a girl in a red coat", ADA),
                          ("/continue Mira waves", ADA)):
            reply = await app.service.execute_text(line, who, PLACE)
            assert not reply.error, reply.text
        await app.outbox.wait_idle()
        assert [d.panel for d in first.delivered] == [1]
        # Work in hand when the bot stops: stored, but neither rendered nor posted.
        app.outbox.disconnect("test")
        for text in ("she turns around", "the tide comes in", "gulls circle"):
            assert not (await app.service.execute_text(f"/continue {text}", BEN, PLACE)).error
        waiting = await app.store.jobs_in_state("planned", "rendering", "rendered")
    assert len(waiting) == 3
    async with open_app(settings) as app:
        again = RecordingOutlet()
        app.outbox.connect("test", again)
        assert await app.outbox.recover("test") == 3
        await app.outbox.wait_idle()
        assert sorted(d.panel for d in again.delivered) == [2, 3, 4]
        assert {j.state for j in await app.store.jobs_in_state("posted")} == {"posted"}
        assert len(await app.store.jobs_in_state("posted")) == 4
