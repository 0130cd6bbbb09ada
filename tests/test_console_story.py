"""The console never loses a story: branches in their own folder, no run over another's output,
every reply in transcript.md, plain text, and a REPL that stops at once on Ctrl-C."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from bot.console_cli import OUTPUTS
from tests.test_console import read_jsonl

ROOT = Path(__file__).resolve().parent.parent

TRUNK = """\
[ada] /world new "Two Roads" --seed 5
[ada] /cref Mira a young woman with short red hair
[ada] /scene Market a night market --time night
[ada] /continue Mira buys a peach
[ben] /continue close-up Mira laughs
"""
BRANCH = """\
[ben] /world branch 1
[ben] /cref Tom an old fisherman with a white beard
[ben] /continue Tom waves at Mira
"""


def files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path, without the databases and their blobs."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith("world.db") and "blobs" not in p.parts}


def without_times(world_json: bytes) -> dict:
    doc = json.loads(world_json)
    for entry in doc["events"]:
        entry.pop("at")
    return doc


def run_script(tmp_path: Path, name: str, text: str, *extra: str) -> tuple[int, Path]:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    (folder / "story.txt").write_text(text, encoding="utf-8")  # the same stem: the same title
    out = folder / "out"
    return main(["console", "--script", str(folder / "story.txt"), "--out", str(out), *extra]), out


# ---------------------------------------------------------------- branches


def test_a_branch_gets_its_own_folder_and_the_story_it_left_keeps_its_files(tmp_path: Path) -> None:
    rc, alone = run_script(tmp_path, "alone", TRUNK)
    assert rc == 0
    rc, out = run_script(tmp_path, "branched", TRUNK + BRANCH)
    assert rc == 0 and read_jsonl(out / "errors.jsonl") == []

    # the original story's files are exactly what they are without the branch
    before, after = files(alone), files(out)
    for name in ("panels/001.png", "panels/002.png", "sheet.png"):
        assert after[name] == before[name], name
    assert [{**r, "world": ""} for r in read_jsonl(out / "panels.jsonl")] == [  # the world's id is random
        {**r, "world": ""} for r in read_jsonl(alone / "panels.jsonl")]
    assert sorted(n for n in after if n.startswith("panels/")) == ["panels/001.png", "panels/002.png"]
    assert without_times(after["world.json"]) == without_times(before["world.json"])

    # the branch: its folder, named by its world, with everything a story has
    (folder,) = (out / "branches").iterdir()
    assert {"panels.jsonl", "sheet.png", "world.json", "panels/002.png"} <= set(files(folder))
    [record] = read_jsonl(folder / "panels.jsonl")  # what was drawn on the branch, after it
    assert record["world"] == folder.name and record["panel"] == 2 and record["parent"] == 1
    assert "Tom" in record["shot"]["characters"] and record["command"] == "/continue Tom waves at Mira"
    branch = json.loads((folder / "world.json").read_text())
    assert sorted(branch["panels"]) == ["1", "2"]  # the shared first panel comes along, with its picture
    assert "Tom" in (folder / "world.json").read_text() and "Tom" not in (out / "world.json").read_text()
    assert Image.open(folder / "sheet.png").size[0] > 300


def test_the_repl_branches_into_its_own_folder_and_ctrl_d_names_every_sheet(tmp_path: Path) -> None:
    out = tmp_path / "out"
    lines = "/cref Mira a girl in a red coat\n/continue Mira waves\n/world branch 1\n/continue Mira runs\n"
    done = subprocess.run([sys.executable, "-m", "bot.cli", "console", "--out", str(out), "--db",
                           str(tmp_path / "w.db")], input=lines, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    (folder,) = (out / "branches").iterdir()
    assert f"→ {folder / 'panels' / '002.png'}" in done.stdout
    assert f"Sheet: {out / 'sheet.png'}" in done.stdout and f"Sheet: {folder / 'sheet.png'}" in done.stdout
    assert sorted(p.name for p in (out / "panels").iterdir()) == ["001.png"]  # the trunk kept its one panel


# ---------------------------------------------------------------- one story per folder


def test_a_script_refuses_a_folder_that_holds_a_story_and_changes_nothing(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run_script(tmp_path, "story", TRUNK)
    assert rc == 0
    before = files(out)
    capsys.readouterr()
    rc, _ = run_script(tmp_path, "story", "/continue Mira sleeps\n")
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "already holds a story" in err
    assert "--force" in err and f"--db {out / 'world.db'}" in err
    assert files(out) == before


def test_force_deletes_exactly_the_previous_output(tmp_path: Path) -> None:
    rc, out = run_script(tmp_path, "story", TRUNK + BRANCH)
    assert rc == 0
    (out / "pages").mkdir()
    (out / "pages" / "page-001.png").write_bytes(b"old page")
    (out / "notes.txt").write_text("mine")
    (out / "mine").mkdir()
    (out / "mine" / "keep.png").write_bytes(b"mine too")
    rc, _ = run_script(tmp_path, "story", "/cref Mira a girl\n/continue Mira sleeps\n", "--force")
    assert rc == 0
    assert sorted(n for n in files(out) if n.startswith("panels/")) == ["panels/001.png"]  # nothing stale
    assert [r["command"] for r in read_jsonl(out / "panels.jsonl")] == ["/continue Mira sleeps"]
    assert not (out / "branches").exists() and not (out / "pages").exists()
    assert (out / "notes.txt").read_text() == "mine" and (out / "mine" / "keep.png").read_bytes() == b"mine too"
    assert "Two Roads" not in (out / "world.json").read_text()
    assert set(OUTPUTS) == {"panels", "branches", "pages", "panels.jsonl", "errors.jsonl", "transcript.md",
                            "sheet.png", "world.json"}


def test_a_script_with_db_goes_on_with_the_story_and_appends(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    rc, out = run_script(tmp_path, "story", TRUNK, "--db", str(db))
    assert rc == 0
    first = (out / "panels.jsonl").read_text()
    rc, _ = run_script(tmp_path, "story", "/continue Mira goes home\n/contnue typo\n", "--db", str(db))
    assert rc == 0
    assert (out / "panels.jsonl").read_text().startswith(first)  # appended, not replaced
    assert [r["panel"] for r in read_jsonl(out / "panels.jsonl")] == [1, 2, 3]
    assert sorted(p.name for p in (out / "panels").iterdir()) == ["001.png", "002.png", "003.png"]
    assert len(read_jsonl(out / "errors.jsonl")) == 1
    transcript = (out / "transcript.md").read_text()
    assert "/continue Mira buys a peach" in transcript and "/continue Mira goes home" in transcript
    assert sorted(json.loads((out / "world.json").read_text())["panels"]) == ["1", "2", "3"]


def test_the_demo_runs_twice_into_its_folder_but_not_over_another_story(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--out", str(out)], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert len(read_jsonl(out / "panels.jsonl")) == len(list((out / "panels").iterdir())) >= 6
    rc, story = run_script(tmp_path, "story", TRUNK)
    assert rc == 0 and main(["demo", "--out", str(story)]) == 2
    assert "Two Roads" in (story / "world.json").read_text()
    assert main(["demo", "--out", str(story), "--force"]) == 0
    assert "Lighthouse" in (story / "world.json").read_text()


# ---------------------------------------------------------------- replies


def test_every_reply_goes_to_the_transcript_in_order_and_echo_prints_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = TRUNK + "/why\n/world show\n[ben] /undo\n/world history\n/scene --time purple\n"
    rc, out = run_script(tmp_path, "story", script, "--echo")
    assert rc == 0
    echoed = capsys.readouterr().out
    transcript = (out / "transcript.md").read_text(encoding="utf-8")
    commands = [line for line in script.splitlines() if line.strip()]
    heads = [line for line in transcript.splitlines() if line.startswith("#### ")]
    assert heads == [f"#### {i}. {line}" for i, line in enumerate(commands, start=1)]
    for expected in ("Panel 2 · ben: /continue close-up Mira laughs", "Two Roads · 2 panels", "Undid your change",
                     "ben: drew panel 2: /continue close-up Mira laughs (undone)",
                     "--time must be one of: golden hour", "→ "):
        assert expected in transcript, expected
        assert expected in echoed, expected
    assert transcript.index("Two Roads · 2 panels") < transcript.index("Undid your change")
    assert "**" not in transcript and "~~" not in transcript  # plain text
    rc, one = run_script(tmp_path, "one", TRUNK.rsplit("[ben]", 1)[0] + "/world show\n")
    assert rc == 0 and "Two Roads · 1 panel ·" in (one / "transcript.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------- Ctrl-C


def read_until(fd: int, end: str, seconds: float = 60.0) -> str:
    """What the child wrote until it ends with `end` (or the deadline passes)."""
    deadline, got = time.monotonic() + seconds, b""
    while not got.decode(errors="replace").endswith(end) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 4096) if ready else b""
        if ready and not chunk:
            break  # the child closed its output
        got += chunk
    return got.decode(errors="replace")


def test_ctrl_c_in_the_repl_exits_at_once_and_leaves_whole_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
    keyboard, terminal = pty.openpty()  # a terminal on stdin: the REPL shows its prompt when it waits for a line
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "console", "--out", str(out), "--db",
                             str(tmp_path / "w.db")], cwd=ROOT, env=env, stdin=terminal,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(terminal)
    try:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        assert "worldloom console" in read_until(fd, "worldloom> ")
        os.write(keyboard, b"/cref Mira a girl in a red coat\n/continue Mira waves\n")
        said = read_until(fd, "worldloom> ")
        while "→" not in said:
            said += read_until(fd, "worldloom> ")
        assert "Registered Mira" in said and (out / "panels" / "001.png").is_file()
        proc.send_signal(signal.SIGINT)  # the REPL waits on the terminal for a line that never comes
        rc = proc.wait(timeout=60)  # before: it waited for that line, forever
    finally:
        proc.kill()
        proc.communicate()
        os.close(keyboard)
    assert rc == 130
    for png in (out / "panels").iterdir():
        Image.open(png).load()  # every panel written is whole
    assert not list(out.rglob("*.part"))


def test_world_export_in_the_console_writes_the_file_with_its_pictures_into_the_threads_folder(
        tmp_path: Path) -> None:
    rc, out = run_script(tmp_path, "story", TRUNK + "/world export\n" + BRANCH + "/world export\n")
    assert rc == 0 and read_jsonl(out / "errors.jsonl") == []
    trunk = json.loads((out / "two-roads.world.json").read_text())
    assert sorted(trunk["panels"]) == ["1", "2"]  # no size limit here: every picture comes along
    (folder,) = (out / "branches").iterdir()
    branch = json.loads((folder / "two-roads.world.json").read_text())
    assert sorted(branch["panels"]) == ["1", "2"] and branch["panels"]["1"] == trunk["panels"]["1"]
    assert branch["panels"]["2"] != trunk["panels"]["2"]
