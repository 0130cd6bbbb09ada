"""Appearance phrases: parsing a /cref description, rendering it back, pronouns, phrase edits."""

from __future__ import annotations

import pytest

from engine.appearance import (
    character_text,
    guess_pronoun,
    head_matches,
    parse_description,
    recolor,
    relength,
    render,
)
from engine.world import Character, Trait

MIRA = "a young woman with short red hair, green eyes, wearing a blue scarf"


def test_parse_splits_into_verbatim_slotted_phrases() -> None:
    assert parse_description(MIRA) == (
        Trait("base", "a young woman"),
        Trait("hair", "short red hair"),
        Trait("eyes", "green eyes"),
        Trait("wearing", "a blue scarf"),
    )


def test_empty_description_has_no_traits() -> None:
    assert parse_description("") == ()
    assert parse_description("   ") == ()


@pytest.mark.parametrize("text, expected", [
    ("A phoenix with bright orange feathers", [("base", "A phoenix"), ("skin", "bright orange feathers")]),
    ("a knight in shining armor", [("base", "a knight"), ("wearing", "shining armor")]),
    ("black and white fur", [("skin", "black and white fur")]),
    ("tall; wearing a leather jacket and boots.",
     [("build", "tall"), ("wearing", "a leather jacket"), ("wearing", "boots")]),
    ("an old wizard with a long grey beard and a pointed blue hat, holding a gnarled staff",
     [("base", "an old wizard"), ("other", "a long grey beard"), ("wearing", "a pointed blue hat"),
      ("carrying", "a gnarled staff")]),
    ("a man with a plan", [("base", "a man"), ("other", "a plan")]),
    ("a small rusty robot with a bent antenna and one glowing blue eye",
     [("base", "a small rusty robot"), ("other", "a bent antenna"), ("eyes", "one glowing blue eye")]),
    ("salt and pepper hair", [("hair", "salt and pepper hair")]),
    ("a girl with freckles and a scar on her chin",
     [("base", "a girl"), ("marks", "freckles"), ("marks", "a scar on her chin")]),
])
def test_parse_examples(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(t.slot, t.text) for t in parse_description(text)] == expected


@pytest.mark.parametrize("text", [
    MIRA,
    "A phoenix with bright orange feathers",
    "an old wizard with a long grey beard and a pointed blue hat, holding a gnarled staff",
    "tall, with a red beard; wearing a leather jacket and boots",
    "a small silver robot with one red eye",
])
def test_unchanged_character_renders_exactly_what_was_typed(text: str) -> None:
    assert render(text, parse_description(text)) == text


def test_render_replaced_phrase_takes_the_old_joining_word() -> None:
    ts = parse_description(MIRA)
    new = (ts[0], Trait("hair", "short blue hair"), ts[2], ts[3])
    assert render(MIRA, new) == "a young woman with short blue hair, green eyes, wearing a blue scarf"


def test_render_removed_phrase_leaves_no_dangling_join() -> None:
    ts = parse_description(MIRA)
    assert render(MIRA, (ts[0], ts[2], ts[3])) == "a young woman with green eyes, wearing a blue scarf"


def test_render_added_clothing_reads_as_wearing() -> None:
    ts = parse_description("a young woman with green eyes")
    out = render("a young woman with green eyes", (*ts, Trait("wearing", "a red hood")))
    assert out == "a young woman with green eyes, wearing a red hood"


def test_character_text_parses_description_when_no_traits() -> None:
    assert character_text(Character("Mira", description=MIRA)) == MIRA


@pytest.mark.parametrize("text, pronoun", [
    ("a young woman", "she"), ("an old queen", "she"), ("a girl with a cat", "she"),
    ("a tall man", "he"), ("a boy", "he"), ("the king of the north", "he"),
    ("a small silver robot", "it"), ("a red dragon", "it"), ("A phoenix with bright orange feathers", "it"),
    ("a mysterious traveler", "they"), ("", "they"),
])
def test_guess_pronoun(text: str, pronoun: str) -> None:
    assert guess_pronoun(text) == pronoun


@pytest.mark.parametrize("phrase, color, expected", [
    ("short red hair", "blue", "short blue hair"),
    ("long dark brown hair", "bright pink", "long bright pink hair"),
    ("long hair", "blue", "long blue hair"),
])
def test_recolor_replaces_only_the_colour(phrase: str, color: str, expected: str) -> None:
    assert recolor(phrase, color) == expected


@pytest.mark.parametrize("phrase, length, expected", [
    ("long red hair", "short", "short red hair"),
    ("red hair", "short", "short red hair"),
    ("a long braid", "short", "a short braid"),
])
def test_relength_replaces_only_the_length(phrase: str, length: str, expected: str) -> None:
    assert relength(phrase, length) == expected


def test_head_matches_by_head_noun() -> None:
    assert head_matches("a blue scarf", "her scarf")
    assert head_matches("heavy boots", "his boot")
    assert not head_matches("a blue scarf", "her hat")


def test_taking_one_garment_off_and_another_on_keeps_the_joining_words_right() -> None:
    d = "a young woman with short red hair, green eyes, wearing a blue scarf and a grey wool coat"
    traits = (*tuple(t for t in parse_description(d) if t.text != "a blue scarf"), Trait("wearing", "a red hood"))
    assert render(d, traits) == "a young woman with short red hair, green eyes, wearing a grey wool coat and a red hood"
