"""The prompt word filter: whole words, obfuscations folded, operator lists, and no false alarms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.moderation.words import DEFAULT_BLOCKLIST, WordFilter, fold, read_terms, squeeze

BUILT_IN = WordFilter()


@pytest.mark.parametrize(("text", "term"), [
    ("a nude figure on the beach", "nude"),
    ("NUDE", "nude"),
    ("Nüde", "nude"),  # accents dropped
    ("nuuuuude", "nude"),  # stretched letters
    ("n.s.f.w poster", "nsfw"),
    ("n-s-f-w", "nsfw"),
    ("nu_de", "nude"),
    ("n s f w art", "nsfw"),  # spelled out
    ("make it a n u d e painting", "nude"),
    ("s3xy", "sexy"),
    ("p0rn", "porn"),
    ("8008s", "boobs"),
    ("$ex", "sex"),
    ("two nudes", "nude"),  # plural
    ("she has bare   breasts", "bare breasts"),  # a phrase, however spaced
    ("with no clothes on", "no clothes"),
])
def test_blocked_words_are_found_however_they_are_written(text: str, term: str) -> None:
    assert BUILT_IN.find(text) == term


@pytest.mark.parametrize("text", [
    "Sussex at dawn", "Essex county fair", "Bob and his boat", "a nudibranch in the reef", "the snow falls",
    "Moby Dick rises", "a blue tit on a branch", "a porcupine", "sextant and compass",
    "I am a b c", "expose the film", "the starry sky",
])
def test_ordinary_words_that_contain_blocked_letters_pass(text: str) -> None:
    assert BUILT_IN.find(text) is None, text


def test_stretching_never_shortens_a_term() -> None:
    f = WordFilter(["boob", "ass"])
    assert f.find("bob") is None and f.find("as") is None
    assert f.find("booob") == "boob" and f.find("a$$") == "ass"


def test_operator_terms_and_allowed_words() -> None:
    f = WordFilter([*DEFAULT_BLOCKLIST, "gore", "blood bath"], allow=["Naked", "sexy"])
    assert f.find("a pool of gore") == "gore" and f.find("a blood  bath") == "blood bath"
    assert f.find("the naked blade") is None and f.find("a sexy car") is None
    assert f.find("a nude") == "nude"  # the rest of the list stays
    assert f.size == len(DEFAULT_BLOCKLIST) + 2 - 2


def test_block_list_files_have_comments_and_blank_lines() -> None:
    text = "# my server\ngore\n\n  blood bath   # a phrase\n#only a comment\n"
    assert read_terms(text) == ["gore", "blood bath"]


def test_empty_list_blocks_nothing() -> None:
    assert WordFilter([]).find("nude nsfw") is None


def test_fold_and_squeeze() -> None:
    assert fold("Ñ1CE @ll") == "nice all"
    assert squeeze("noooode") == ("node", (1, 4, 1, 1))


@given(st.text(max_size=300))
def test_any_text_is_checked_without_error(text: str) -> None:
    result = BUILT_IN.find(text)
    assert result is None or result in DEFAULT_BLOCKLIST


@given(st.sampled_from([t for t in DEFAULT_BLOCKLIST if " " not in t]), st.sampled_from([".", "-", "_", "*", " "]))
def test_every_listed_word_is_found_spelled_out_with_separators(term: str, sep: str) -> None:
    assert BUILT_IN.find(f"look: {sep.join(term)} !") is not None
