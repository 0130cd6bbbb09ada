"""The console platform and CLI: script mode end to end, panels.jsonl and errors.jsonl, the demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
RECORD_KEYS = {"panel", "world", "parent", "command", "author", "prompt", "negative_prompt", "seed", "size",
               "renderer", "shot", "scene", "characters", "references", "dropped", "notes",
               "image"}

SCRIPT = """\
# a comment, then a blank line

[ada] /world new "Night Market" --style gouache painting --negative blurry --seed 11
[ada] /cref Mira a young woman with short red hair, wearing a blue scarf
[ben] /cref "Sir Aldric" an old knight in dented silver armour
/scene Market a crowded night market with paper lanterns --time night
[ada] /continue Mira buys a peach from Sir Aldric
[ben] /contnue oops
[ben] /continue close-up Sir Aldric laughs --no text, watermark
/cref Mira a girl --cw 500
"""


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_script_mode_writes_panels_errors_sheet_and_world(tmp_path: Path) -> None:
    script = tmp_path / "story.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["console", "--script", str(script), "--out", str(out)]) == 0

    records = read_jsonl(out / "panels.jsonl")
    assert [r["panel"] for r in records] == [1, 2]
    for r in records:
        assert set(r) == RECORD_KEYS
        assert set(r["shot"]) == {"camera", "characters", "action"}
        assert set(r["scene"]) == {"location", "time_of_day", "lighting", "weather"}
        assert (out / r["image"]).is_file() and r["renderer"] == "sketch"
        assert "gouache painting" in r["prompt"] and "night" in r["prompt"]
    first, second = records
    assert first["author"] == "ada" and first["command"] == "/continue Mira buys a peach from Sir Aldric"
    assert first["shot"]["characters"] == ["Mira", "Sir Aldric"]
    assert "short red hair" in first["prompt"] and "dented silver armour" in first["prompt"]
    assert first["characters"]["Mira"]["appearance"]["hair"] == "short red hair"
    assert second["parent"] == 1 and second["author"] == "ben" and second["shot"]["camera"] == "close-up"
    assert "watermark" in second["negative_prompt"] and "blurry" in second["negative_prompt"]
    assert first["seed"] != second["seed"] and first["size"] == [768, 512]

    errors = read_jsonl(out / "errors.jsonl")
    assert [(e["line"], e["command"]) for e in errors] == [(8, "[ben] /contnue oops"),
                                                           (10, "/cref Mira a girl --cw 500")]
    assert "did you mean /continue" in errors[0]["error"] and "0-100" in errors[1]["error"]
    assert Image.open(out / "sheet.png").size[0] > 300
    assert json.loads((out / "world.json").read_text())["title"] == "Night Market"


def test_strict_mode_stops_at_the_first_error(tmp_path: Path) -> None:
    script = tmp_path / "story.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["console", "--script", str(script), "--out", str(out), "--strict"]) == 1
    assert len(read_jsonl(out / "errors.jsonl")) == 1
    assert len(read_jsonl(out / "panels.jsonl")) == 1


def test_a_script_without_world_new_gets_a_world_and_images_load_relative_to_it(tmp_path: Path) -> None:
    Image.new("RGB", (64, 64), (10, 200, 10)).save(tmp_path / "mira.png")
    script = tmp_path / "tale.txt"
    script.write_text("/cref Mira a girl in green --image mira.png\n/continue Mira sings\n"
                      "/cref Tom --image missing.png\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["console", "--script", str(script), "--out", str(out), "--db", str(tmp_path / "x.db")]) == 0
    [record] = read_jsonl(out / "panels.jsonl")
    assert record["references"] == ["Mira"]
    [error] = read_jsonl(out / "errors.jsonl")
    assert "missing.png" in error["error"]
    assert json.loads((out / "world.json").read_text())["title"] == "tale"


def test_the_demo_runs_from_the_installed_command(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    done = subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    records = read_jsonl(out / "panels.jsonl")
    assert len(records) >= 6 and (out / "sheet.png").is_file() and (out / "world.json").is_file()
    assert read_jsonl(out / "errors.jsonl") == []
    assert "Demo done" in done.stdout


def test_scripts_are_not_rate_limited_like_chat(tmp_path: Path) -> None:
    script = tmp_path / "long.txt"
    script.write_text("/cref Mira a girl\n" + "".join(f"/continue Mira takes step {i}\n" for i in range(12)))
    out = tmp_path / "out"
    assert main(["console", "--script", str(script), "--out", str(out)]) == 0
    assert len(read_jsonl(out / "panels.jsonl")) == 12 and read_jsonl(out / "errors.jsonl") == []


def test_running_a_script_twice_gives_the_same_story(tmp_path: Path) -> None:
    script = tmp_path / "story.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["console", "--script", str(script), "--out", str(out)]) == 0
    first = read_jsonl(out / "panels.jsonl")
    assert main(["console", "--script", str(script), "--out", str(out), "--force"]) == 0
    second = read_jsonl(out / "panels.jsonl")
    assert [r["panel"] for r in second] == [1, 2]
    assert [r["prompt"] for r in second] == [r["prompt"] for r in first]


def test_the_repl_answers_each_line_and_says_where_the_panel_went(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "bot.cli", "console", "--out", str(out), "--db", str(tmp_path / "w.db")]
    done = subprocess.run(cmd,
                          input="/cref Mira a girl in a red coat\n/continue Mira waves\n/contnue\n", cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Registered Mira" in done.stdout and "did you mean /continue" in done.stdout
    assert "**" not in done.stdout  # plain text, not chat markup
    assert f"→ {out / 'panels' / '001.png'}" in done.stdout and (out / "panels" / "001.png").is_file()
    assert done.stdout.rstrip().endswith(f"Sheet: {out / 'sheet.png'}")  # Ctrl-D says where the sheet is
    assert (out / "sheet.png").is_file() and (out / "world.json").is_file()


def test_chat_log_author_shapes_all_set_the_author(tmp_path: Path) -> None:
    script = tmp_path / "log.txt"
    script.write_text("[ada]: /cref Mira a girl in a red coat\nben: /continue Mira waves\n"
                      "Cy Lee: /continue she says: hello\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["console", "--script", str(script), "--out", str(out)]) == 0
    records = read_jsonl(out / "panels.jsonl")
    assert [r["author"] for r in records] == ["ben", "Cy Lee"]
    assert records[1]["command"] == "/continue she says: hello" and read_jsonl(out / "errors.jsonl") == []
