"""The evaluation corpus (tests/corpus): the planner keeps the precision the issue asks for."""

from __future__ import annotations

from pathlib import Path

from engine.bench.planner_bench import main as bench_main
from engine.bench.planner_corpus import edit_strings, evaluate, read
from engine.events import AppearanceChanged, PropsChanged
from engine.world import Trait

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.txt"))


def test_the_corpus_is_big_and_every_line_says_what_it_means() -> None:
    lines = [line for path in CORPUS for _, line in read(path) if line is not None]
    assert len(lines) >= 300
    assert len({path.name for path in CORPUS}) >= 8  # many authors' styles


def test_persistent_edits_are_precise_and_places_right() -> None:
    score = evaluate(CORPUS)
    report = score.report()
    assert report["edit_precision"] >= 0.98, score.misses
    assert report["edit_recall"] >= 0.9, score.misses
    assert report["place_precision"] >= 0.95, score.misses
    assert report["place_recall"] >= 0.9, score.misses
    assert report["frame_accuracy"] >= 0.95, score.misses


def test_edit_notation() -> None:
    events = [AppearanceChanged(name="Mira", changes=((None, Trait("wearing", "a red hood")), ("a blue scarf", None),
                                                      ("short red hair", Trait("hair", "short blue hair")))),
              PropsChanged(location="Inn", added=("a lantern on the table",), removed=("a vase",))]
    assert edit_strings(events) == ["Mira +wearing a red hood", "Mira -a blue scarf",
                                    "Mira short red hair => short blue hair", "prop+ a lantern on the table",
                                    "prop- a vase"]


def test_the_bench_prints_the_corpus_figures(capsys) -> None:  # type: ignore[no-untyped-def]
    assert bench_main(["--corpus", str(CORPUS[0].parent)]) == 0
    out = capsys.readouterr().out
    for key in ("edit_precision", "edit_recall", "place_precision", "place_recall"):
        assert f'"{key}"' in out


def test_a_wrong_expectation_is_counted_as_a_miss(tmp_path: Path) -> None:
    story = tmp_path / "s.txt"
    story.write_text("/world new\n/cref Mira a young woman\n/imagine Mira puts on a red hood\n"
                     "#> edits: Mira +wearing a blue hood\n#> place: Tavern\n", encoding="utf-8")
    report = evaluate([story]).report()
    assert (report["edit_precision"], report["edit_recall"], report["place_recall"]) == (0.0, 0.0, 0.0)
