"""Phrase structure for the rule planner: parts of speech and noun phrases.

The planner reads places, worn things and props as noun phrases: an optional determiner, any
adjectives (commas between adjectives allowed: "a small, smoky kitchen"), then nouns, the last
of which is the head ("the lab equipment" is equipment, not a lab). A phrase ends at a
preposition, a joining word, a pronoun, a name, or a verb after a noun ("a bow tie watches").

Parts of speech come from lemminflect's word tables (shipped with the package, nothing is
downloaded) with the planner's own word lists on top; without lemminflect a suffix guess is used.
Pure: standard library (and lemminflect's tables) only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from engine import lexicon as lx

DETS = frozenset("""
    a an the some his her their its my your our this that these those one two three four five six
    several many few any every each no another
""".split())
PREPOSITIONS = frozenset("""
    in into inside at to toward towards onto on upon atop across through within outside off near
    beside besides by under beneath below above over around along among amid amidst between behind
    past from with without for of about against before after during till until via beyond
    throughout underneath alongside opposite like than as out up down
""".split())
CONJUNCTIONS = frozenset("and or but then while as when because so until once whereas yet nor if".split())
PRONOUNS = frozenset("""
    i me you he him she her it we us they them his hers its our ours their theirs herself himself
    itself themselves myself yourself ourselves who whom whose which what that there here
""".split())
ADVERBS = frozenset("""
    then now also just still again too very really quite suddenly finally slowly quickly quietly
    gently together alone away back soon later meanwhile already even almost not never always
    often here there instead once
""".split())
# Nouns the planner knows as things, places and beings: always nouns, whatever the tables say.
KNOWN_NOUNS = (lx.WEAR_WORDS | lx.CARRY_WORDS | lx.PLACE_WORDS | lx.BEING_WORDS | lx.FEATURE_WORDS
               | lx.MARK_WORDS | lx.HAIR_WORDS | lx.EYE_WORDS | lx.SKIN_WORDS)
_IRREGULAR_PAST = frozenset("""
    sat stood ran went came fell flew drove rode swam sang rang spoke broke woke wore tore took
    gave saw ate drew threw grew knew held told sold found left felt kept slept met led fed bled
    read lay hid bit lit shook stole froze chose rose wrote
""".split())
_WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")
_TOKEN = re.compile(r"\s*(?:([A-Za-z0-9][\w'’-]*)|([^\w\s]))")


@lru_cache(maxsize=1)
def _tables() -> object | None:
    try:
        import lemminflect
    except ImportError:  # pragma: no cover - the base install has it; a suffix guess is the fallback
        return None
    return lemminflect


@lru_cache(maxsize=16384)
def tags(word: str) -> frozenset[str]:
    """Universal parts of speech a word can have: NOUN, VERB, ADJ, ADV (and a guess when unknown)."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        return frozenset({"NOUN"})
    base = w.split("-")[-1] if "-" in w else w
    out: set[str] = set()
    lib = _tables()
    if lib is not None:
        out = set(lib.getAllLemmas(base))  # type: ignore[attr-defined]
        out.discard("AUX")
        out.discard("PROPN")
    if not out:
        out = set(_guess(base))
    if "-" in w and base.endswith("ed"):
        out.add("ADJ")  # "cream-colored", "snow-capped"
    if base in KNOWN_NOUNS or lx.COLOR_WORDS & {base}:
        out.add("NOUN" if base not in lx.COLOR_WORDS else "ADJ")
    return frozenset(out)


def _guess(w: str) -> tuple[str, ...]:
    if w.endswith("ly"):
        return ("ADV",)
    if w.endswith(("ing", "ed")):
        return ("VERB", "ADJ")
    if w.endswith(("ous", "ful", "ive", "ish", "less", "able", "ible", "al", "ic", "y")):
        return ("ADJ",)
    return ("NOUN",)


def is_noun(word: str) -> bool:
    return "NOUN" in tags(word)


def is_adjective(word: str) -> bool:
    return "ADJ" in tags(word) or word.lower() in lx.COLOR_WORDS


def participle(word: str) -> bool:
    """-ing or -ed/-en forms of a verb ("sleeping", "dressed", "overgrown")."""
    w = word.lower()
    return w.endswith(("ing", "ed")) and ("VERB" in tags(w) or w not in KNOWN_NOUNS)


@lru_cache(maxsize=16384)
def inflected_verb(word: str) -> bool:
    """Is this a -s, -ed or irregular past form of a verb ("watches", "sat"), not its base form?"""
    w = word.lower()
    if w in _IRREGULAR_PAST:
        return True
    if not w.endswith(("s", "ed")) or w.endswith("ss"):
        return False
    lib = _tables()
    if lib is None:
        return "VERB" in tags(w)
    lemmas = lib.getAllLemmas(w).get("VERB", ())  # type: ignore[attr-defined]
    return any(lemma != w for lemma in lemmas)


def plural_noun(word: str) -> bool:
    w = word.lower()
    if not w.endswith("s") or w.endswith("ss"):
        return False
    lib = _tables()
    if lib is None:
        return True
    found = lib.getAllLemmas(w)  # type: ignore[attr-defined]
    if not found:
        return len(w) > 3  # a word the tables do not know: "seagulls"
    return any(lemma != w for lemma in found.get("NOUN", ()))


def finite_verb(word: str, after_plural: bool = False) -> bool:
    """Could this word be the verb of a clause after a noun ("watches", "sits", "argue", "sat")?
    A base form counts after a plural noun ("goats graze") or when it is only a verb ("argue")."""
    w = word.lower()
    if w in KNOWN_NOUNS and w not in ("leaves", "lands", "waves", "rests", "stands", "walks"):
        return False
    t = tags(w)
    if "VERB" not in t or w.endswith("ing"):
        return False
    if inflected_verb(w):
        return True
    return after_plural or not (t & {"NOUN", "ADJ"})


def verb_only(word: str) -> bool:
    t = tags(word)
    return "VERB" in t and not t & {"NOUN", "ADJ"} and word.lower() not in KNOWN_NOUNS


@dataclass(frozen=True)
class NounPhrase:
    """A noun phrase in a text: [start, end), its determiner and its words (head last)."""

    start: int
    end: int
    det: str
    words: tuple[str, ...]
    head_start: int

    @property
    def head(self) -> str:
        return self.words[-1].lower() if self.words else ""

    def text(self, source: str) -> str:
        return source[self.start:self.end]


def _stop(low: str) -> bool:
    return low in PREPOSITIONS or low in CONJUNCTIONS or low in PRONOUNS or low in DETS or low in ADVERBS


def noun_phrase(text: str, pos: int, max_words: int = 7, blocked: tuple[tuple[int, int], ...] = (),
                need_det: bool = False) -> NounPhrase | None:
    """The noun phrase starting at pos (after spaces), or None when no noun ends it."""
    m = _TOKEN.match(text, pos)
    if m is None or m.group(1) is None:
        return None
    det = ""
    start = m.start(1)
    i = m.end()
    if m.group(1).lower() in DETS or m.group(1).isdigit():
        det = m.group(1).lower()
    elif need_det:
        return None
    else:
        i = pos
    words: list[tuple[str, int, int]] = []
    while len(words) < max_words:
        m = _TOKEN.match(text, i)
        if m is None:
            break
        if m.group(2) is not None:
            if m.group(2) == "," and words and _comma_joins(text, m.end(), words[-1][0]):
                i = m.end()
                continue
            break
        w, a, b = m.group(1), m.start(1), m.end(1)
        low = w.lower()
        if any(x <= a < y for x, y in blocked):
            break
        if _stop(low) or (low.endswith("ly") and "ADV" in tags(low) and not is_noun(low)):
            break
        if words and w[0].isupper() and not words[-1][0][0].isupper() and low not in KNOWN_NOUNS:
            break  # a name after a noun: "in the kitchen Mira ..."
        if words and _ends_before(words[-1][0], low):
            break
        words.append((w, a, b))
        i = b
    # trailing words that cannot be a head ("under the flickering") leave the phrase
    while words and not _can_head(words[-1][0]):
        words.pop()
    if not words:
        return None
    return NounPhrase(start, words[-1][2], det, tuple(w for w, _, _ in words), words[-1][1])


def _comma_joins(text: str, after: int, prev: str) -> bool:
    """"small, smoky kitchen": a comma between two adjectives stays inside the phrase."""
    m = _TOKEN.match(text, after)
    if m is None or m.group(1) is None:
        return False
    nxt = m.group(1).lower()
    p = prev.lower()
    return (is_adjective(p) and p not in KNOWN_NOUNS and (is_adjective(nxt) or participle(nxt))
            and nxt not in KNOWN_NOUNS and not _stop(nxt))


def _ends_before(prev: str, word: str) -> bool:
    """Does `word` start something new after `prev` (a verb after a noun, a participle after one)?"""
    p = prev.lower()
    if p.endswith(("'s", "’s")):
        return False
    noun_before = (is_noun(p) and not is_adjective(p)) or p in KNOWN_NOUNS
    if not noun_before:
        return verb_only(word) and not participle(word)
    if participle(word) and word not in KNOWN_NOUNS:
        return True
    if word in lx.COLOR_WORDS or word in lx.COLOR_MODIFIERS:
        return True  # "paints the shell bright yellow": colours go before their noun
    if is_adjective(word) and not is_noun(word):
        return True  # adjectives go before their noun: "the shell bright yellow" ends at "shell"
    return finite_verb(word, after_plural=plural_noun(p))


def _can_head(word: str) -> bool:
    w = word.lower()
    if w.endswith(("'s", "’s")):
        return False
    if w in KNOWN_NOUNS:
        return True
    t = tags(w)
    if "NOUN" in t:
        return True
    return False


def words_of(text: str) -> list[str]:
    return _WORD.findall(text)
