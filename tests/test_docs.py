"""The command reference in docs/ is what /help prints, so it cannot drift from the grammar."""

from __future__ import annotations

from pathlib import Path

from bot.grammar import USAGE, help_text

ROOT = Path(__file__).resolve().parent.parent


def test_docs_commands_holds_every_usage_line_and_the_help_text() -> None:
    text = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    assert help_text() in text
    for usage in USAGE.values():
        assert usage in text


def test_readme_quick_start_is_two_command_lines() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) == 2 and "worldloom demo" in lines[0] and "torch==2.13.0" in lines[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "torch==2.13.0" in ci and "python -m pytest" in lines[1] and "python -m pytest" in ci


def test_readme_says_which_torch_the_test_line_installs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "CUDA build" in after and "Either works for the tests" in after
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in after
