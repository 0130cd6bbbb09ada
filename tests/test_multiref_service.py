"""Multi-reference models on the real service path: a toy FLUX.2 [klein] pipeline (random weights,
built offline) configured the way a deployment configures one (`renderer = "tiny"`,
`[engine] tiny_pipeline = "flux2-klein"`), spied on to see the images it receives."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("diffusers")

import numpy as np
from diffusers import Flux2KleinPipeline
from PIL import Image

from bot.app import App, open_app
from bot.config import Settings
from bot.context import Attachment, Reply
from engine.renderers.diffusion.multiref import load_reference
from engine.renderers.diffusion.toys import save_toy
from tests.conftest import ADA, BEN, PLACE

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def klein_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_toy("flux2-klein", tmp_path_factory.mktemp("klein"))


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of every call of the pipeline."""
    seen: list[dict[str, Any]] = []
    original = Flux2KleinPipeline.__call__

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Flux2KleinPipeline, "__call__", spy)
    return seen


@pytest.fixture
async def klein_app(tmp_path: Path, klein_dir: Path) -> AsyncIterator[App]:
    settings = Settings(database=str(tmp_path / "w.db"), renderer="tiny",
                        engine={"tiny_pipeline": "flux2-klein", "tiny_dir": str(klein_dir)})
    async with open_app(settings) as app:
        yield app


def red_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (60, 90), (220, 20, 20)).save(buf, "PNG")
    return buf.getvalue()


async def say(app: App, line: str, files: tuple[Attachment, ...] = ()) -> Reply:
    reply = await app.service.execute_text(line, BEN if line.startswith("/continue Tom") else ADA, PLACE, files)
    assert not reply.error, reply.text
    if reply.ticket is not None:
        await reply.ticket.done
    return reply


async def story(app: App) -> None:
    await say(app, '/world new "The Tavern" --seed 3')
    await say(app, "/cref Mira a young woman with short red hair, wearing a blue scarf",
              (Attachment("m.png", red_png()),))
    await say(app, "/cref Tom an old fisherman with a white beard")  # no image
    await say(app, "/scene Tavern a smoky tavern --time night")
    await say(app, "/imagine a lantern hangs by the door")  # panel 1: nobody in frame, the tavern's first panel
    await say(app, "/continue Tom waves")  # panel 2: Tom alone, so automatic anchoring makes it his reference


def same_picture(received: Image.Image, path: Path, kind: str) -> bool:
    expected = load_reference(str(path), received.width, received.height, kind)
    return bool(np.array_equal(np.asarray(received.convert("RGB")), np.asarray(expected)))


async def test_two_characters_and_a_place_render_with_their_references_in_order(
        klein_app: App, calls: list[dict[str, Any]]) -> None:
    app = klein_app
    await story(app)
    world_id = await app.service.world_id_for(PLACE) or ""
    world = await app.service.world(world_id)
    images = await app.store.panel_images(world_id)
    tom = world.character("Tom")
    assert tom.references and tom.references[0].image == images[2]  # anchored to his first solo panel
    mira = world.character("Mira").references[0].image

    await say(app, "/continue Mira hands Tom a mug")  # panel 3: Mira, Tom, in the tavern
    call = calls[-1]
    received = call["image"]
    # Mira's /cref image, Tom's anchored panel (also the previous panel), the tavern's first panel.
    expected = [(mira, "character"), (images[2], "character"), (images[1], "place")]
    assert len(received) == len(expected)
    for image, (sha, kind) in zip(received, expected, strict=True):
        assert same_picture(image, app.store.blob_path(sha), kind)
    prompt = call["prompt"][0]
    assert "Mira is the character in image 1" in prompt and "Tom is the character in image 2" in prompt
    assert "as in image 3" in prompt and "Image 2 is the previous panel" in prompt
    for looks in ("short red hair", "a blue scarf", "a white beard", "a smoky tavern"):
        assert looks in prompt
    job = (await app.store.panel_takes(world_id))[(3, 0)]
    assert [r["kind"] for r in job.spec["job"]["references"]] == ["character", "character", "place"]
    assert job.spec["job"]["model"]  # jobs for different models never share a forward pass

    why = (await say(app, "/why 3")).text
    assert "References: image 1: Mira (its reference image)" in why and "image 3: the place (Tavern)" in why
    why2 = (await say(app, "/why 2")).text
    assert "Reference left out: Tom: no reference image and no solo panel yet" in why2


async def test_edit_sends_the_panel_as_image_one_with_the_instruction(
        klein_app: App, calls: list[dict[str, Any]]) -> None:
    app = klein_app
    await story(app)
    await say(app, "/continue Mira hands Tom a mug")
    world_id = await app.service.world_id_for(PLACE) or ""
    panel3 = (await app.store.panel_images(world_id))[3]
    reply = await say(app, "/edit 3 make her scarf red")
    assert "Panel 3 (take 2)" in reply.text
    call = calls[-1]
    assert same_picture(call["image"][0], app.store.blob_path(panel3), "edit")
    assert call["prompt"][0].startswith("Edit image 1: Make her scarf red. Keep everything else unchanged.")
    world = await app.service.world(world_id)
    assert world.panel(3).take == 1 and world.character("Mira").appearance()["wearing"] == ["a red scarf"]
    takes = await app.store.panel_takes(world_id)
    assert takes[(3, 1)].image is not None and takes[(3, 1)].image != panel3


async def test_reference_mode_off_sends_no_images_and_anchors_nothing(
        tmp_path: Path, klein_dir: Path, calls: list[dict[str, Any]]) -> None:
    settings = Settings(database=str(tmp_path / "off.db"), renderer="tiny",
                        engine={"tiny_pipeline": "flux2-klein", "tiny_dir": str(klein_dir), "reference_mode": "off"})
    async with open_app(settings) as app:
        await story(app)
        await say(app, "/continue Mira hands Tom a mug")
        world = await app.service.world(await app.service.world_id_for(PLACE) or "")
        assert not world.character("Tom").references  # no automatic anchoring
        assert len(calls) == 3 and all("image" not in call for call in calls)
        assert "Mira is the character" not in calls[-1]["prompt"][0]  # no "image N" without images
