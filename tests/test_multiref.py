"""The multi-reference renderer on toy FLUX.2 [klein] / [dev] and Qwen-Image-Edit-Plus pipelines (offline)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("diffusers")

import numpy as np
from diffusers import Flux2KleinPipeline, QwenImageEditPlusPipeline
from PIL import Image

from engine.errors import RenderCancelled
from engine.events import CharacterReferenceSet, LocationSet, PanelDrawn, Record, SceneChanged, WorldCreated
from engine.jobs import Reference, RenderJob
from engine.prose import compile_with_references
from engine.references import panel_places
from engine.renderers.diffusion.auto import AutoDiffusionRenderer
from engine.renderers.diffusion.multiref import MultiReferenceRenderer
from engine.renderers.diffusion.renderer import DiffusionRenderer
from engine.renderers.diffusion.tiny import save_tiny_pipeline
from engine.renderers.diffusion.toys import TinyMultiReferenceRenderer, build_toy_flux2_klein, save_toy
from engine.renderers.registry import make_renderer
from engine.world import ImageRef, Panel, Shot, World
from tests.planner_support import MIRA, TOM, reg
from tests.tiny_support import keep_going, pixels

COLORS = {"red": (255, 0, 0), "blue": (0, 0, 255), "green": (0, 160, 0), "yellow": (255, 220, 0),
          "grey": (128, 128, 128)}  # fmt: skip

# diffusers' flow-match scheduler trips a numpy 2 DeprecationWarning of its own.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def job(refs: tuple[Reference, ...] = (), **kw: Any) -> RenderJob:
    fields: dict[str, Any] = dict(job_id="j", world_id="w", panel=1, user="u", prompt="Mira waves in a tavern.",
                                  negative_prompt="", seed=3, width=64, height=64, steps=2, references=refs)
    fields.update(kw)
    return RenderJob(**fields)


@pytest.fixture(scope="module")
def swatches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Solid-colour reference images (portrait, so cropping is exercised), by colour name."""
    folder = tmp_path_factory.mktemp("refs")
    out = {}
    for name, rgb in COLORS.items():
        Image.new("RGB", (80, 120), rgb).save(folder / f"{name}.png")
        out[name] = str(folder / f"{name}.png")
    return out


@pytest.fixture(scope="module")
def klein() -> Iterator[TinyMultiReferenceRenderer]:
    r = TinyMultiReferenceRenderer({"tiny_pipeline": "flux2-klein"})
    r.load()
    yield r
    r.close()


@pytest.fixture
def small_qwen_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Qwen-Image-Edit-Plus resizes every input to 1 megapixel; a toy needs far less."""
    import diffusers.pipelines.qwenimage.pipeline_qwenimage_edit_plus as module

    monkeypatch.setattr(module, "VAE_IMAGE_SIZE", 64 * 64)
    monkeypatch.setattr(module, "CONDITION_IMAGE_SIZE", 56 * 56)


def spy_on(monkeypatch: pytest.MonkeyPatch, cls: type) -> list[dict[str, Any]]:
    """Records the keyword arguments of every call of the pipeline class."""
    calls: list[dict[str, Any]] = []
    original = cls.__call__

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "__call__", spy)
    return calls


def colour_of(image: Image.Image) -> str:
    rgb = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    return next(name for name, c in COLORS.items() if max(abs(a - b) for a, b in zip(rgb, c, strict=True)) <= 2)


@pytest.mark.parametrize("kind, limit, word, negative", [
    ("flux2-klein", 4, "image", False), ("flux2", 6, "image", False), ("qwen-edit-plus", 3, "Picture", True)])
def test_each_pipeline_class_builds_and_renders(kind: str, limit: int, word: str, negative: bool,
                                                swatches: dict[str, str], small_qwen_inputs: None) -> None:
    renderer = make_renderer("tiny", {"tiny_pipeline": kind})
    renderer.load()
    try:
        caps = renderer.capabilities
        assert (caps.max_references, caps.reference_word, caps.negative_prompt) == (limit, word, negative)
        assert caps.prompt_style == "sentences" and caps.can_edit and 0 < caps.max_prompt_tokens <= 512
        refs = (Reference("Mira", swatches["red"]), Reference("tavern", swatches["blue"], kind="place"))
        pngs = renderer.render([job(refs), job(refs[:1], job_id="k", seed=4, width=96)], keep_going)
        assert [Image.open(io.BytesIO(p)).size for p in pngs] == [(64, 64), (80, 48)]
    finally:
        renderer.close()


def test_a_world_with_two_characters_and_a_place_sends_its_references_in_order(
        tmp_path: Path, swatches: dict[str, str], klein: TinyMultiReferenceRenderer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Mira has a /cref image; Tom has none but a solo panel (2); the tavern's first panel is 1.
    events = [WorldCreated(title="t"), reg("Mira", MIRA), reg("Tom", TOM),
              CharacterReferenceSet(name="Mira", reference=ImageRef("red")),
              LocationSet(name="Tavern", description="a smoky tavern"), SceneChanged(location="Tavern"),
              PanelDrawn(panel=Panel(1, None, "x", "u", Shot(), "", "", 1, 64, 64, 4)),
              PanelDrawn(panel=Panel(2, 1, "x", "u", Shot(characters=("Tom",)), "", "", 2, 64, 64, 4))]
    records = [Record(seq=i, group=i, author="u", event=e) for i, e in enumerate(events)]
    world = World(id="w")
    for r in records:
        world = r.event.apply(world)
    shot = Shot(characters=("Mira", "Tom"), action="Mira hands Tom a lantern")
    spec, choice = compile_with_references(world, shot, klein.capabilities, {1: "green", 2: "blue", 3: "yellow"},
                                           panel_places(records), count_tokens=klein.count_tokens, previous=3,
                                           previous_weight=0.3)
    refs = choice.job_references(lambda sha: swatches[sha])
    assert [r.kind for r in refs] == ["character", "character", "place", "previous"]
    calls = spy_on(monkeypatch, Flux2KleinPipeline)
    klein.render([job(refs, prompt=spec.prompt)], keep_going)
    assert [colour_of(im) for im in calls[0]["image"]] == ["red", "blue", "green", "yellow"]
    assert calls[0]["prompt"] == [spec.prompt]
    assert "Mira is the character in image 1" in spec.prompt and "Tom is the character in image 2" in spec.prompt
    assert "as in image 3" in spec.prompt and "Image 4 is the previous panel" in spec.prompt


def test_qwen_gets_its_pictures_in_order_and_a_negative_prompt(
        swatches: dict[str, str], small_qwen_inputs: None, monkeypatch: pytest.MonkeyPatch) -> None:
    renderer = make_renderer("tiny", {"tiny_pipeline": "qwen-edit-plus", "steps": 2})
    renderer.load()
    try:
        calls = spy_on(monkeypatch, QwenImageEditPlusPipeline)
        refs = tuple(Reference(c, swatches[c]) for c in ("yellow", "red", "blue"))
        renderer.render([job(refs, negative_prompt="blurry"), job((), job_id="k")], keep_going)
        assert len(calls) == 1  # one prompt per call; the job without images used the text-to-image sibling
        assert [colour_of(im) for im in calls[0]["image"]] == ["yellow", "red", "blue"]
        assert calls[0]["negative_prompt"] == "blurry" and calls[0]["true_cfg_scale"] == 4.0
    finally:
        renderer.close()


def test_rows_with_different_references_share_one_pass_and_match_their_solo_images(
        swatches: dict[str, str], klein: TinyMultiReferenceRenderer, monkeypatch: pytest.MonkeyPatch) -> None:
    a = job((Reference("a", swatches["red"]), Reference("b", swatches["blue"])), job_id="a", seed=1)
    b = job((Reference("c", swatches["green"]), Reference("d", swatches["yellow"])), job_id="b", seed=2)
    inputs: list[Any] = []  # what the transformer reads at each step: the image tokens, then the references'
    hook = klein.pipe.transformer.register_forward_pre_hook(
        lambda _m, _args, kwargs: inputs.append(kwargs["hidden_states"].clone()), with_kwargs=True)
    try:
        solo_a, solo_b = klein.render([a], keep_going)[0], klein.render([b], keep_going)[0]
        calls = spy_on(monkeypatch, Flux2KleinPipeline)
        both = klein.render([a, b], keep_going)
    finally:
        hook.remove()
    assert len(calls) == 1 and calls[0]["prompt"] == [a.prompt, b.prompt]
    steps = len(inputs) // 3
    first_a, first_b, first_both = inputs[0], inputs[steps], inputs[2 * steps]
    n = (64 // (2 * klein.pipe.vae_scale_factor)) ** 2  # the panel's own tokens come first
    assert first_both.shape[0] == 2 and first_both.shape[1] > n
    assert (first_both[0, n:] == first_a[0, n:]).all() and (first_both[1, n:] == first_b[0, n:]).all()
    assert not (first_a[0, n:] == first_b[0, n:]).all()  # the two rows really read different images
    assert np.abs(pixels(both[0]) - pixels(solo_a)).max() <= 2
    assert np.abs(pixels(both[1]) - pixels(solo_b)).max() <= 2


def test_an_edit_job_sends_the_panel_first(swatches: dict[str, str], klein: TinyMultiReferenceRenderer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(id="w")
    for e in [reg("Mira", MIRA), LocationSet(name="Tavern"), SceneChanged(location="Tavern")]:
        world = e.apply(world)
    shot = Shot(characters=("Mira",), action="Mira reads")
    world = PanelDrawn(panel=Panel(1, None, "x", "u", shot, "", "", 1, 64, 64, 4)).apply(world)
    world = PanelDrawn(panel=Panel(2, 1, "x", "u", shot, "", "", 2, 64, 64, 4)).apply(world)
    spec, choice = compile_with_references(world, shot, klein.capabilities, {1: "red", 2: "grey"}, {1: "Tavern"},
                                           edit=2, instruction="make her scarf red")
    refs = choice.job_references(lambda sha: swatches[sha])
    assert [(r.kind, r.name) for r in refs] == [("edit", "panel 2"), ("character", "Mira")]
    calls = spy_on(monkeypatch, Flux2KleinPipeline)
    klein.render([job(refs, prompt=spec.prompt)], keep_going)
    assert [colour_of(im) for im in calls[0]["image"]] == ["grey", "red"]
    assert spec.prompt.startswith("Edit image 1: Make her scarf red.")


def test_distilled_klein_runs_its_few_steps_and_base_runs_the_jobs(klein: TinyMultiReferenceRenderer,
                                                                   tmp_path: Path) -> None:
    totals: list[int] = []
    klein.render([job(steps=20)], lambda _j, _s, total: totals.append(total) or True)
    assert set(totals) == {4} and klein.guidance_for(job(guidance=7.0)) == 1.0
    base = MultiReferenceRenderer({"model": "base", "device": "cpu", "native_size": 64},
                                  pipeline=build_toy_flux2_klein(distilled=False))
    base.load()
    totals.clear()
    base.render([job(steps=3)], lambda _j, _s, total: totals.append(total) or True)
    assert set(totals) == {3} and base.guidance_for(job()) == 4.0
    base.close()


def test_cancel_stops_the_pipeline(klein: TinyMultiReferenceRenderer) -> None:
    with pytest.raises(RenderCancelled):
        klein.render([job()], lambda *_: False)


def test_the_prompt_budget_leaves_room_for_the_chat_template(klein: TinyMultiReferenceRenderer) -> None:
    tok = klein.pipe.tokenizer
    text = "Mira waves. " * 400
    budget = klein.capabilities.max_prompt_tokens
    cut = tok.decode(tok(text, add_special_tokens=False)["input_ids"][:budget])
    assert klein.count_tokens(cut) == budget
    templated = tok.apply_chat_template([{"role": "user", "content": cut}], tokenize=False,
                                        add_generation_prompt=True, enable_thinking=False)
    assert len(tok(templated)["input_ids"]) <= 512  # the pipeline's max_sequence_length: nothing truncated


def test_unknown_pipelines_keep_the_sd_path(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sd = save_tiny_pipeline(tmp_path / "sd")
    flux = save_toy("flux2-klein", tmp_path / "klein")
    chosen = {}
    for folder in (sd, flux):
        renderer = make_renderer("diffusion", {"model": str(folder), "device": "cpu", "safety_checker": False,
                                               "native_size": 64, "cpu_threads": 1})
        assert isinstance(renderer, AutoDiffusionRenderer)
        renderer.load()
        chosen[folder.name] = (type(renderer.inner), renderer.capabilities.prompt_style)
        assert Image.open(io.BytesIO(renderer.render([job()], keep_going)[0])).size == (64, 64)
        renderer.close()
    assert chosen == {"sd": (DiffusionRenderer, "tags"), "klein": (MultiReferenceRenderer, "sentences")}


def test_offload_needs_cuda_and_bad_settings_are_refused(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ValueError, match="unknown offload"):
        MultiReferenceRenderer({"model": "m", "offload": "disk"})
    with pytest.raises(ValueError, match="no reference images"):
        MultiReferenceRenderer({"model": "m"}, pipeline=_sd()).load()
    caplog.set_level(logging.WARNING)
    r = TinyMultiReferenceRenderer({"tiny_pipeline": "flux2-klein", "offload": "model"})
    r.load()
    assert "needs a CUDA device" in caplog.text and r.render([job()], keep_going)
    r.close()


def _sd() -> Any:
    from engine.renderers.diffusion.tiny import build_tiny_pipeline

    return build_tiny_pipeline()


def test_the_bench_measures_zero_one_and_four_references(klein: TinyMultiReferenceRenderer) -> None:
    from engine.bench import refs_bench
    from engine.bench.engine_bench import parse

    rates = refs_bench.images_per_s_by_refs(klein, [job()], rounds=1)
    assert list(rates) == ["0", "1", "4"] and all(r > 0 for r in rates.values())
    args = parse(["--renderer", "diffusion", "--arch", "flux2-klein", "--device", "cuda", "--full-size"])
    assert args.full_size and args.arch == "flux2-klein"
