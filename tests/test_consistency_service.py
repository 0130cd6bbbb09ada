"""The consistency benchmark through the bot's real service path: commands typed as in chat, references
on (automatic anchoring) or off (reference_mode "off", no anchoring), the same seeds in both."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from PIL import Image

from engine.bench.consistency_sets import load_sets
from engine.jobs import Capabilities, Progress, RenderJob

pytest.importorskip("transformers")
pytest.importorskip("diffusers")

from engine.bench.consistency_service import ServiceRender

SETS = Path(__file__).parent / "data" / "consistency_sets.yaml"


class Recorder:
    """A renderer that reads images (as the diffusion ones do), records its jobs, draws a colour per panel."""

    name = "recorder"
    capabilities = Capabilities(reads_images=True)

    def __init__(self) -> None:
        self.jobs: list[RenderJob] = []

    def load(self) -> None: ...

    def close(self) -> None: ...

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        self.jobs += jobs
        out = []
        for j in jobs:
            buf = io.BytesIO()
            Image.new("RGB", (32, 32), (j.panel * 60 % 256, 80, 120)).save(buf, "PNG")
            out.append(buf.getvalue())
        return out


async def test_sets_are_typed_through_the_service_with_and_without_references(tmp_path: Path) -> None:
    owl = load_sets(SETS)[0]
    rec = Recorder()
    async with ServiceRender(rec, tmp_path, steps=3, seed=7) as render:
        assert render.lines(owl)[:2] == [
            f'/world new "animals 0" --style {owl.style} --seed 7 --ar 1:1', f"/cref Subject {owl.subject}"]
        on = await render(owl, True)
        with_refs, rec.jobs = rec.jobs, []
        off = await render(owl, False)
        without = rec.jobs
    assert len(on) == len(off) == len(owl.settings) and on[0] != on[1]
    # On: panel 1 anchors the subject; every later panel reads it (and the previous panel, as configured).
    assert [[r.kind for r in j.references] for j in with_refs] == [[], ["character", "previous"],
                                                                   ["character", "previous"]]
    anchor = Path(with_refs[1].references[0].path)
    assert await asyncio.to_thread(anchor.read_bytes) == on[0]
    assert all(not j.references for j in without)  # off: no reference images at all
    assert [j.seed for j in without] == [j.seed for j in with_refs]  # references are the only difference
    assert all(j.steps == 3 for j in with_refs)
    for j, setting in zip(with_refs, owl.settings, strict=True):
        assert "grey owl" in j.prompt and setting.split()[-1] in j.prompt and "watercolor" in j.prompt


def test_the_cli_runs_a_toy_multi_reference_model_through_the_service(capsys: pytest.CaptureFixture[str]) -> None:
    from engine.bench.__main__ import main

    rc = main(["consistency", "--model", "tiny-flux2-klein", "--sets", str(SETS), "--dino", "tiny", "--clip", "tiny",
               "--size", "64", "--steps", "1", "--limit-sets", "1", "--limit-settings", "2", "--references", "off"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["references"] == ["off"] and out["path"] == "service" and out["model"] == "tiny-flux2-klein"
    (row,) = out["sets"]
    assert set(row["off"]) == {"identity_dino", "identity_clip", "text_alignment"} and "on" not in row
    assert row["reference_gain"] is None and out["overall"]["sets"] == 1
