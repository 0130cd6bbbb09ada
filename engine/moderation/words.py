"""The prompt word filter: blocked words and phrases, found however they are dressed up.

Pure text, no I/O. A text is folded before matching: accents dropped, case folded, leetspeak
digits and symbols read as letters (0→o 1→i 3→e 4→a 5→s 7→t 8→b @→a $→s). Matching is by whole
words, so "Sussex" never matches "sex". Obfuscations are folded too:

- repeated letters: "nuuuude" matches "nude" (a word may stretch a term's letters, never
  shorten them: "bob" does not match "boob");
- separators: "n.s.f.w", "n-s-f-w", "nu_de" (letters split inside one word) and "n s f w"
  (single letters in a row) are read as one word;
- a plain "s" plural: "nudes" matches "nude".

A phrase ("bare breasts") matches its words in a row, each word matched as above.
The built-in list (DEFAULT_BLOCKLIST) is short and about sexual content only; operators add
their own (`blocklist_file`) and take words off (`allow_words`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Explicit sexual content, nothing else: violence and gore are a story's business. Words that are
# also everyday English in a story ("ass", "dick", "cock", "tits", "breast") are left out.
DEFAULT_BLOCKLIST: tuple[str, ...] = (
    "nsfw", "nude", "nudity", "naked", "porn", "porno", "pornography", "pornographic", "hentai", "ecchi",
    "xxx", "sex", "sexual", "sexy", "erotic", "erotica", "lewd", "topless", "bottomless", "undressed",
    "nipple", "genitals", "genitalia", "penis", "vagina", "vulva", "boobs", "orgasm", "masturbating",
    "masturbation", "fetish", "bdsm", "rape", "loli", "lolicon", "shota", "shotacon",
    "bare breasts", "no clothes", "without clothes", "child porn",
)

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"})
_WORD = re.compile(r"[^\W_]+")  # letters and digits; "_" separates like "." and "-"
_CHUNK = re.compile(r"\S+")
MAX_TEXT = 20_000  # longer texts are checked up to here (the grammar caps a line at 4000)
MAX_SPELLED = 40  # letters of one spelled-out run ("n s f w") that are looked at

Runs = tuple[int, ...]


def fold(text: str) -> str:
    """Accents off, case folded, leetspeak read as letters."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.casefold().translate(_LEET)


def squeeze(word: str) -> tuple[str, Runs]:
    """"noooode" -> ("node", (1, 4, 1, 1)): the letters with repeats collapsed, and each run's length."""
    letters: list[str] = []
    runs: list[int] = []
    for ch in word:
        if letters and letters[-1] == ch:
            runs[-1] += 1
        else:
            letters.append(ch)
            runs.append(1)
    return "".join(letters), tuple(runs)


def read_terms(text: str) -> list[str]:
    """The words and phrases of a block-list file: one a line, `#` starts a comment."""
    out = []
    for line in text.splitlines():
        term = line.split("#", 1)[0].strip()
        if term:
            out.append(term)
    return out


@dataclass(frozen=True)
class _Term:
    term: str  # as listed, for the audit log (never shown to the person refused)
    words: tuple[tuple[str, Runs], ...]  # each word squeezed


class WordFilter:
    """`find(text)` returns the blocked term a text contains, or None."""

    def __init__(self, terms: Iterable[str] = DEFAULT_BLOCKLIST, allow: Iterable[str] = ()) -> None:
        allowed = {" ".join(_WORD.findall(fold(a))) for a in allow}
        # The first word's squeezed letters -> the terms starting with it: one dict lookup per word.
        self._index: dict[str, list[_Term]] = {}
        self.size = 0
        for term in dict.fromkeys(terms):
            words = _WORD.findall(fold(term))
            if not words or " ".join(words) in allowed:
                continue
            self.size += 1
            forms = [words]
            if len(words) == 1 and len(words[0]) > 2 and not words[0].endswith("s"):
                forms.append([words[0] + "s"])  # the plain plural
            for form in forms:
                entry = _Term(term, tuple(squeeze(w) for w in form))
                self._index.setdefault(entry.words[0][0], []).append(entry)

    def find(self, text: str) -> str | None:
        """The first blocked term in `text` (whole words, obfuscations folded), or None."""
        if not text or not self._index:
            return None
        folded = fold(text[:MAX_TEXT])
        words = [squeeze(w) for w in _WORD.findall(folded)]
        for i in range(len(words)):
            hit = self._match_at(words, i)
            if hit is not None:
                return hit
        for joined in _joined(folded):
            hit = self._match_at([squeeze(joined)], 0)
            if hit is not None:
                return hit
        return None

    def blocks(self, text: str) -> bool:
        return self.find(text) is not None

    def _match_at(self, words: list[tuple[str, Runs]], i: int) -> str | None:
        for entry in self._index.get(words[i][0], ()):
            n = len(entry.words)
            if i + n <= len(words) and all(_covers(words[i + k], entry.words[k]) for k in range(n)):
                return entry.term
        return None


def _covers(word: tuple[str, Runs], term: tuple[str, Runs]) -> bool:
    """Same letters, and every run of the word at least as long as the term's."""
    return word[0] == term[0] and all(w >= t for w, t in zip(word[1], term[1], strict=True))


def _joined(folded: str) -> list[str]:
    """Words hidden by separators: "n.s.f.w" and "nu-de" (one chunk), "n s f w" (single letters)."""
    out: list[str] = []
    singles: list[str] = []
    for chunk in (*_CHUNK.findall(folded), ""):
        pieces = _WORD.findall(chunk)
        if len(pieces) > 1:
            out.append("".join(pieces))
        if len(pieces) == 1 and len(pieces[0]) == 1:
            singles.append(pieces[0])
            continue
        # "a n u d e figure": any stretch of the single letters may be the word.
        run = "".join(singles[:MAX_SPELLED])
        out += [run[i:j] for i in range(len(run)) for j in range(i + 2, len(run) + 1)]
        singles = []
    return out
