"""The house rules of the code itself: layers, cycles, module sizes, private names, SQL, one catalogue."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from bot.commands import CATALOGUE, OPTIONS
from bot.platforms.discord_commands import build_tree

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(p for pkg in ("bot", "engine") for p in (ROOT / pkg).rglob("*.py"))
SQL = re.compile(r"\b(SELECT\s+.+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b", re.I)


def test_the_import_contracts_hold() -> None:
    lint = shutil.which("lint-imports")
    assert lint is not None, "import-linter is part of the dev extra"
    done = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" in done.stdout and " 0 broken" in done.stdout


def test_modules_stay_small() -> None:
    big = {str(p.relative_to(ROOT)): n for p in MODULES if (n := p.read_text(encoding="utf-8").count("\n")) > 500}
    assert big == {}


def test_no_module_imports_another_modules_private_names() -> None:
    found = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("bot", "engine")):
                found += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert found == []


def test_sql_lives_in_the_store_only() -> None:
    outside = [f"{p.relative_to(ROOT)}:{i}" for p in MODULES if "store" not in p.relative_to(ROOT).parts
               for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if SQL.search(line)]
    assert outside == []


class _Runner:
    async def run(self, *args: Any, **kwargs: Any) -> None: ...

    async def complete(self, *args: Any) -> list[Any]:
        return []

    async def on_tree_error(self, *args: Any) -> None: ...


def test_discord_slash_commands_are_derived_from_the_catalogue() -> None:
    client = discord.Client(intents=discord.Intents.none())
    tree = build_tree(client, CATALOGUE, _Runner())
    commands = {c.qualified_name: c for c in tree.walk_commands() if isinstance(c, app_commands.Command)}
    assert set(commands) == set(CATALOGUE.names())
    for spec in CATALOGUE:
        params = {p.name: p for p in commands[spec.name].parameters}
        for name in spec.options:
            option = OPTIONS[name]
            param = params["aliases" if option.kind == "name" else name]
            if option.range is not None:
                assert (param.min_value, param.max_value) == option.range
        assert commands[spec.name].description.lower() == spec.summary.lower()[:100]
