"""Benchmarks: `python -m engine.bench planner|engine ...` (each prints one JSON object)."""
