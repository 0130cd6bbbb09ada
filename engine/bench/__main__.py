"""Dispatches `python -m engine.bench planner|engine|consistency|moderation [args]` to the benchmark modules."""

from __future__ import annotations

import importlib
import importlib.util
import sys

_BENCHES = {"planner": "engine.bench.planner_bench", "engine": "engine.bench.engine_bench",
            "consistency": "engine.bench.consistency_bench", "moderation": "engine.bench.moderation_bench"}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in _BENCHES:
        print("usage: python -m engine.bench {" + "|".join(_BENCHES) + "} [options]", file=sys.stderr)
        return 2
    module = _BENCHES[args[0]]
    # Imported lazily: the engine benchmark needs the GPU stack, the planner one nothing.
    if importlib.util.find_spec(module) is None:
        print(f"{module} is not available in this installation", file=sys.stderr)
        return 2
    result = importlib.import_module(module).main(args[1:])
    return int(result or 0)


if __name__ == "__main__":
    raise SystemExit(main())
