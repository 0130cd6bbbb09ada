"""Word filter benchmark: milliseconds the prompt word filter adds to one command.

`python -m engine.bench moderation [--corpus DIR] [--extra N] [--repeat R]` checks every line of
the evaluation corpus (default tests/corpus; commands as people typed them) plus long and
obfuscated lines, with the built-in list and with the built-in list plus N made-up operator terms
(default 2000). Prints one JSON object: median, p99 and max milliseconds per command for each
list (each line's best of R passes), how many lines were blocked, and the target (< 1 ms).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import sys
import time
from pathlib import Path

from engine.moderation.words import DEFAULT_BLOCKLIST, WordFilter

TARGET_MS = 1.0
_EXTRA_LINES = [
    "/continue she wears n.s.f.w armour while the nuuuude statue watches",
    "/imagine a castle at dawn, " + "mist and towers and banners and crows, " * 60,
    "/cref Mira a young woman with short red hair and a b 0 0 b s joke on her shirt",
    "/scene Harbour a windy harbour --time dusk --weather rain --light lanterns",
]


def _lines(corpus: Path) -> list[str]:
    lines = list(_EXTRA_LINES)
    for path in sorted(corpus.glob("*.txt")):
        lines += [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()
                  if ln.strip() and not ln.startswith("#")]
    return lines


def _made_up_terms(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 10)))
        out.append(word if i % 5 else f"{word} {word[::-1]}")  # one in five a phrase
    return out


def _measure(f: WordFilter, lines: list[str], repeat: int) -> dict[str, float | int]:
    best = []
    for line in lines:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            f.find(line)
            times.append(time.perf_counter() - t0)
        best.append(min(times) * 1000)
    best.sort()
    return {"terms": f.size, "median_ms": round(statistics.median(best), 4),
            "p99_ms": round(best[int(0.99 * (len(best) - 1))], 4), "max_ms": round(best[-1], 4),
            "blocked_lines": sum(1 for line in lines if f.find(line))}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engine.bench moderation")
    p.add_argument("--corpus", default="tests/corpus", help="folder of .txt command lines (default tests/corpus)")
    p.add_argument("--extra", type=int, default=2000, help="made-up operator terms for the second run")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"no corpus folder {corpus}: only the built-in lines are checked", file=sys.stderr)
    lines = _lines(corpus) if corpus.is_dir() else list(_EXTRA_LINES)
    t0 = time.perf_counter()
    built_in = WordFilter(DEFAULT_BLOCKLIST)
    build_ms = (time.perf_counter() - t0) * 1000
    big = WordFilter([*DEFAULT_BLOCKLIST, *_made_up_terms(args.extra)])
    result = {"lines": len(lines), "longest_line_chars": max(map(len, lines)), "build_ms": round(build_ms, 3),
              "built_in": _measure(built_in, lines, args.repeat),
              "with_extra_terms": _measure(big, lines, args.repeat), "target_ms": TARGET_MS}
    result["meets_target"] = max(result["built_in"]["p99_ms"], result["with_extra_terms"]["p99_ms"]) < TARGET_MS
    print(json.dumps(result, indent=2))
    return 0
