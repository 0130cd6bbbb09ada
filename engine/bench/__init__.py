"""Benchmarks: `python -m engine.bench planner|engine ...` (each prints one JSON object)."""


def quiet_progress_bars() -> None:
    """Loading bars would garble the JSON on a terminal."""
    try:
        import diffusers.utils.logging as dlog
        import transformers.utils.logging as tlog
    except ImportError:
        return
    dlog.disable_progress_bar()
    tlog.disable_progress_bar()
