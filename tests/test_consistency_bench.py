"""The consistency benchmark offline: sets file, embedding metrics on tiny random models, the JSON report."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from engine.bench.consistency_sets import SetsError, SubjectSet, load_sets, parse_sets
from engine.jobs import Capabilities, Progress, RenderJob

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from engine.bench import consistency_bench as bench  # noqa: E402
from engine.bench.embeddings import Embedder, mean_pairwise_cosine, save_tiny_embedders  # noqa: E402

SETS = Path(__file__).parent / "data" / "consistency_sets.yaml"


def png(colour: tuple[int, int, int], pattern: bool = False) -> bytes:
    im = Image.new("RGB", (64, 64), colour)
    if pattern:
        for x in range(0, 64, 8):
            im.paste((255 - colour[0], 40, 200), (x, 0, x + 4, 64))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    dino, clip = save_tiny_embedders(tmp_path_factory.mktemp("embedders"))
    return str(dino), str(clip)


@pytest.fixture
def embedder(tiny_models: tuple[str, str]) -> Iterator[Embedder]:
    e = Embedder(*tiny_models, device="cpu")
    e.load()
    yield e
    e.close()


def test_sets_file_reads_in_order_and_ignores_other_keys() -> None:
    sets = load_sets(SETS)
    assert [s.name for s in sets] == ["animals/0", "humans/0"]
    owl = sets[0]
    assert owl.subject == "a small grey owl with round amber eyes" and owl.style.startswith("a soft watercolor")
    assert owl.settings[0] == "perched on a mossy branch" and len(owl.settings) == 3
    assert owl.prompts()[0] == "a small grey owl with round amber eyes perched on a mossy branch"
    assert [len(s.settings) for s in load_sets(SETS, limit_settings=2)] == [2, 2]


@pytest.mark.parametrize(("data", "message"), [
    ([{"subject": "x"}], "map domain names"),
    ({"animals": {"subject": "x"}}, "animals: expected a list"),
    ({"animals": [{"subject": "x", "settings": []}]}, r"animals\[0\]: 'settings'"),
    ({"animals": [{"settings": ["a"]}]}, r"animals\[0\]: 'subject'"),
    ({"animals": [{"subject": "x", "settings": ["ok", {"no": 1}]}]}, r"settings\[1\]"),
])
def test_malformed_sets_are_refused_with_the_place(data: Any, message: str) -> None:
    with pytest.raises(SetsError, match=message):
        parse_sets(data)


def test_unreadable_sets_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("animals: [subject: {\n", encoding="utf-8")
    with pytest.raises(SetsError, match="not valid YAML"):
        load_sets(bad)
    with pytest.raises(SetsError, match="cannot read"):
        load_sets(tmp_path / "missing.yaml")


def test_mean_pairwise_cosine() -> None:
    f = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    assert mean_pairwise_cosine(f) == pytest.approx((0 + 2 ** -0.5 + 2 ** -0.5) / 3)
    assert mean_pairwise_cosine(f[:1]) is None


def test_identical_images_score_one_and_different_ones_less(embedder: Embedder) -> None:
    a, b = png((200, 30, 30)), png((20, 180, 60), pattern=True)
    same = embedder.score([a, a, a], ["a red square"] * 3)
    assert same["identity_dino"] == pytest.approx(1.0, abs=1e-5)
    assert same["identity_clip"] == pytest.approx(1.0, abs=1e-5)
    differ = embedder.score([a, b], ["a red square", "green stripes"])
    assert differ["identity_dino"] < 1.0 - 1e-4 and differ["identity_clip"] < 1.0 - 1e-4
    assert -1.0 <= (differ["text_alignment"] or 0.0) <= 1.0


class Recorder:
    """A renderer that records its jobs and draws a flat colour per panel."""

    name = "recorder"
    capabilities = Capabilities(reads_images=True)

    def __init__(self) -> None:
        self.jobs: list[RenderJob] = []

    def load(self) -> None: ...

    def close(self) -> None: ...

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        self.jobs += jobs
        return [png((j.panel * 40 % 256, 90, 120)) for j in jobs]


def test_engine_render_anchors_on_the_first_panel_only_with_references(tmp_path: Path) -> None:
    owl = load_sets(SETS)[0]
    rec = Recorder()
    render = bench.EngineRender(rec, tmp_path, size=64, steps=2, seed=7)
    assert len(render(owl, True)) == 3
    with_refs, rec.jobs = rec.jobs, []
    render(owl, False)
    assert [len(j.references) for j in with_refs] == [0, 1, 1]
    ref = with_refs[1].references[0]
    assert ref.kind == "character" and Path(ref.path).read_bytes() == png((40, 90, 120))  # panel 1's image
    assert all(not j.references for j in rec.jobs)
    assert [j.seed for j in rec.jobs] == [j.seed for j in with_refs]  # references are the only difference
    assert "grey owl" in with_refs[0].prompt and "watercolor" in with_refs[0].prompt
    assert "mossy branch" in with_refs[0].prompt


async def test_run_benchmark_takes_an_async_render_and_checks_its_images(embedder: Embedder) -> None:
    sets = [SubjectSet("d", 0, "a red ball", "", ("on grass", "in snow"))]
    same = png((200, 30, 30))

    async def render(s: SubjectSet, references: bool) -> list[bytes]:
        return [same, same] if references else [same, png((20, 180, 60), pattern=True)]

    result = await bench.run_benchmark(sets, render, embedder, "both")
    row = result["sets"][0]
    assert row["on"]["identity_dino"] == pytest.approx(1.0, abs=1e-5)
    assert row["reference_gain"] == pytest.approx(row["on"]["identity_dino"] - row["off"]["identity_dino"], abs=1e-5)
    assert row["reference_gain"] > 0
    off = await bench.run_benchmark(sets, render, embedder, "off")
    assert "on" not in off["sets"][0] and off["overall"]["reference_gain"] is None

    async def short(s: SubjectSet, references: bool) -> list[bytes]:
        return [same]

    with pytest.raises(ValueError, match="1 images for 2 settings"):
        await bench.run_benchmark(sets, short, embedder, "on")


def test_cli_runs_offline_on_tiny_models_and_prints_the_documented_json(capsys: pytest.CaptureFixture[str]) -> None:
    from engine.bench.__main__ import main

    rc = main(["consistency", "--model", "tiny", "--sets", str(SETS), "--dino", "tiny", "--clip", "tiny",
               "--size", "64", "--steps", "2", "--limit-settings", "2"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["benchmark"] == "consistency" and out["references"] == ["on", "off"]
    assert [r["set"] for r in out["sets"]] == ["animals/0", "humans/0"]
    for scope in (*out["sets"], out["overall"]):
        for mode in ("on", "off"):
            assert set(scope[mode]) == {"identity_dino", "identity_clip", "text_alignment"}
            assert all(-1.0 <= v <= 1.0 for v in scope[mode].values())
        assert isinstance(scope["reference_gain"], float) and isinstance(scope["reference_gain_clip"], float)
    assert out["overall"]["sets"] == 2 and out["sets"][0]["panels"] == 2


def test_cli_refuses_a_bad_sets_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "sets.yaml"
    bad.write_text("- just a list\n", encoding="utf-8")
    assert bench.main(["--model", "tiny", "--sets", str(bad)]) == 2
    assert "map domain names" in capsys.readouterr().err


def test_docs_quote_exactly_the_issue_figures() -> None:
    import re

    text = (Path(__file__).resolve().parent.parent / "docs" / "consistency.md").read_text(encoding="utf-8")
    assert re.findall(r"\d+(?:\.\d+)?\s?%", text) == ["28%", "35%", "87%", "95%"]
    for quoted in ("28% (DALL-E 3)", "35% (Midjourney v6)", "87% (ChatGPT Images 2.0)", "95% (human artists)"):
        assert quoted in " ".join(text.split())
    assert "python -m engine.bench consistency --model" in text and "--device cuda" in text
