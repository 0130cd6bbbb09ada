"""Quoted speech: who says what, and the prompt text without it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.comic.speech import extract_speech, find_quotes, strip_speech
from engine.prompt import compile_prompt
from engine.world import Character, Shot, World

CAST = (Character("Mira", "a girl with red hair", pronoun="she"),
        Character("Tom", "a tall man", pronoun="he", aliases=("the captain",)))


def said(text: str) -> list[tuple[str | None, str]]:
    return [(s.speaker, s.text) for s in extract_speech(text, CAST)]


@pytest.mark.parametrize(("text", "expected"), [
    ('Mira whispers "Who\'s there?"', [("Mira", "Who's there?")]),
    ("Tom says “It’s me.” and Mira laughs", [("Tom", "It’s me.")]),
    ('close-up of Mira "I know." she says', [("Mira", "I know.")]),
    ('"Run," Mira says, "now!"', [("Mira", "Run,"), ("Mira", "now!")]),
    ('"Hello," says the captain to Mira.', [("Tom", "Hello,")]),
    ('Mira turns to Tom. "Run!" he shouts.', [("Tom", "Run!")]),
    ("Mira: “Stop.” Tom: 'Never.'", [("Mira", "Stop."), ("Tom", "Never.")]),
    ('Tom grabs Mira and whispers "Quiet."', [("Tom", "Quiet.")]),
    ("She asks ‘why?’", [("Mira", "why?")]),
    ('Guard shouts "Halt!"', [("Guard", "Halt!")]),
    ("Mira says «Bonjour»", [("Mira", "Bonjour")]),
])
def test_speaker_and_words(text: str, expected: list[tuple[str | None, str]]) -> None:
    assert said(text) == expected


def test_unattributed_quotes_are_narration() -> None:
    (s,) = extract_speech('The wind howls. "Long ago, in a quiet town..."', CAST)
    assert s.speaker is None and s.narration and s.text == "Long ago, in a quiet town..."


def test_apostrophes_and_inch_marks_are_not_quotes() -> None:
    assert find_quotes("Mira's hat flies off and the boys' dog barks at Tom's boots") == []
    assert find_quotes('a 6" blade lies on the table') == []
    assert said("Mira says 'it's Tom's, isn't it?'") == [("Mira", "it's Tom's, isn't it?")]


def test_thought_and_unclosed_quote() -> None:
    (t,) = extract_speech("Mira thinks ‘Where is he?’", CAST)
    assert t.thought and t.speaker == "Mira"
    assert said('Mira says "wait for me') == [("Mira", "wait for me")]


def test_strip_speech_keeps_the_action() -> None:
    assert strip_speech('Mira whispers "Who\'s there?"') == "Mira whispers"
    assert strip_speech("Mira: “Stop.” Tom: 'Never.'") == "Mira Tom"
    assert strip_speech('"Run," Mira says, "now!"') == "Mira says"
    assert strip_speech('"Hello"') == ""
    assert strip_speech("Mira's cat sleeps") == "Mira's cat sleeps"


def test_prompt_leaves_quoted_speech_out() -> None:
    w = World(id="w", characters=CAST)
    spec = compile_prompt(w, Shot(characters=("Mira",), action='Mira whispers "Who\'s there?"'))
    assert "there" not in spec.prompt and '"' not in spec.prompt
    assert "Mira whispers" in spec.prompt
    only_speech = compile_prompt(w, Shot(characters=("Mira",), action='"Who is there?"'))
    assert [k for k, _ in only_speech.parts] == ["character"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab M'\"“”‘’«».,:!? ")), max_size=60))
def test_any_text_reads_without_error(text: str) -> None:
    speeches = extract_speech(text, CAST)
    last = 0
    for s in speeches:
        assert last <= s.start < s.end <= len(text)
        assert s.text and s.text in " ".join(text[s.start:s.end].split())
        last = s.end
    stripped = strip_speech(text)
    assert len(stripped) <= len(text)
