"""Quoted speech in a panel's command: what is said, and by whom.

`Mira whispers "Who's there?"` -> Speech(text="Who's there?", speaker="Mira"). Straight, curly
and angle quotes are read; an apostrophe inside a word ("Who's", "Mira's") never opens or closes a
quote. A quote with no speaker is narration (drawn as a caption box). `strip_speech` gives the text
without its quotes, for diffusion prompts: image models would try to letter the words.
Pure: standard library and engine.world only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.world import Character

# opening mark -> the marks that close it
_DOUBLE = {'"': '"”“', "“": "”\"", "„": "“”\"", "«": "»", "»": "«"}
_SINGLE_OPEN = "'‘"
_SINGLE_CLOSE = "'’"
_OPEN_PUNCT = "([{—–-:/"

SPEECH_VERBS = frozenset("""
    say says said saying whisper whispers whispered whispering shout shouts shouted shouting yell yells yelled
    ask asks asked asking reply replies replied answer answers answered mutter mutters muttered murmur murmurs
    murmured cry cries cried call calls called scream screams screamed exclaim exclaims exclaimed add adds added
    snap snaps snapped growl growls growled hiss hisses hissed laugh laughs laughed sigh sighs sighed tell tells
    told beg begs begged plead pleads pleaded insist insists insisted warn warns warned continue continues
    continued respond responds responded demand demands demanded sing sings sang mumble mumbles mumbled stammer
    stammers stammered gasp gasps gasped breathe breathes breathed bark barks barked roar roars roared boom booms
    boomed squeak squeaks squeaked think thinks thought wonder wonders wondered grumble grumbles grumbled
    chuckle chuckles chuckled sob sobs sobbed declare declares declared announce announces announced
    interrupt interrupts interrupted agree agrees agreed protest protests protested
""".split())
THOUGHT_VERBS = frozenset("think thinks thought wonder wonders wondered".split())
_PRONOUNS = {"she": "she", "he": "he", "they": "they", "it": "it"}
# Capitalised words that start sentences but never name a speaker.
_NOT_NAMES = frozenset("""
    the a an and but then so she he they it we i you someone somebody everyone nobody who one
    this that there here now when while suddenly finally later meanwhile again
""".split())
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_CONJUNCTIONS = frozenset("and then but while as so or".split())
_SENTENCE_END = re.compile(r"[.!?;]\s")


@dataclass(frozen=True)
class Speech:
    """One quoted passage: its words, who says it (None: narration) and where it was in the text."""

    text: str
    speaker: str | None
    start: int  # span of the quote in the source text, marks included
    end: int
    thought: bool = False  # "thinks", "wonders": a thought balloon

    @property
    def narration(self) -> bool:
        """Unattributed words: a caption box, not a balloon."""
        return self.speaker is None


@dataclass(frozen=True)
class _Quote:
    start: int
    end: int  # exclusive, after the closing mark (or the end of the text if unclosed)
    inner: str


def _opens_single(text: str, i: int) -> bool:
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return (before.isspace() or before in _OPEN_PUNCT) and not after.isspace()


def _closes_single(text: str, j: int) -> bool:
    before = text[j - 1]
    after = text[j + 1] if j + 1 < len(text) else " "
    return not before.isspace() and not after.isalnum()


def _spans(text: str) -> list[_Quote]:
    """Every quoted passage, empty ones included, in order."""
    out: list[_Quote] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _DOUBLE and not (ch == '"' and i and text[i - 1].isdigit()):  # 6" is an inch mark
            closers = _DOUBLE[ch]
            j = next((k for k in range(i + 1, n) if text[k] in closers), n)
            out.append(_Quote(i, min(j + 1, n), text[i + 1 : j]))
            i = j + 1
            continue
        if ch in _SINGLE_OPEN and _opens_single(text, i):
            j = next((k for k in range(i + 1, n) if text[k] in _SINGLE_CLOSE and _closes_single(text, k)), -1)
            if j > 0:
                out.append(_Quote(i, j + 1, text[i + 1 : j]))
                i = j + 1
                continue
        i += 1
    return out


def find_quotes(text: str) -> list[tuple[int, int, str]]:
    """(start, end, words) of every quoted passage, in order; marks excluded from the words."""
    return [(q.start, q.end, " ".join(q.inner.split())) for q in _spans(text) if q.inner.strip()]


class _Cast:
    """Names and aliases -> canonical names, and who answers to which pronoun."""

    def __init__(self, cast: Iterable[Character | str]) -> None:
        self.names: dict[str, str] = {}
        self.pronoun: dict[str, str] = {}
        for c in cast:
            if isinstance(c, str):
                self.names[c.casefold()] = c
                continue
            for n in c.names():
                self.names[n.casefold()] = c.name
            self.pronoun[c.name] = c.pronoun.casefold()
        alts = sorted(self.names, key=len, reverse=True)
        self.pattern = (re.compile(r"(?<![\w'’])(" + "|".join(re.escape(a) for a in alts) + r")(?![\w])", re.I)
                        if alts else None)  # fmt: skip

    def named(self, text: str) -> list[tuple[int, str]]:
        """(position, canonical name) of every name or alias in text."""
        if self.pattern is None:
            return []
        return [(m.start(), self.names[m.group(1).casefold()]) for m in self.pattern.finditer(text)]

    def by_pronoun(self, pronoun: str, recent: Sequence[str], in_frame: Sequence[str]) -> str | None:
        """The character a subject pronoun stands for: the latest named one that fits, else the only fitting one."""
        for name in reversed(recent):
            if self.pronoun.get(name) == pronoun:
                return name
        fits = [n for n in in_frame if self.pronoun.get(n) == pronoun]
        if not fits:
            fits = [n for n, p in self.pronoun.items() if p == pronoun]
        return fits[0] if len(fits) == 1 else None


def _clause_before(text: str, lo: int, hi: int) -> tuple[int, str]:
    """The clause that leads into a quote at hi: from the last sentence end (or lo) up to hi."""
    seg = text[lo:hi]
    ends = list(_SENTENCE_END.finditer(seg))
    start = lo + ends[-1].end() if ends else lo
    return start, text[start:hi]


def _clause_after(text: str, lo: int, hi: int) -> str:
    """The words after a quote up to the next sentence end (or hi)."""
    seg = text[lo:hi]
    m = _SENTENCE_END.search(seg)
    return seg[: m.start() + 1] if m else seg


def _who(words: list[tuple[str, int]], cast: _Cast, clause: str, recent: list[str],
         in_frame: Sequence[str], verb_at: int) -> str | None:
    """The speaker right next to the speech verb at verb_at ("Mira says", "says Mira", "Mira softly says")."""
    named = {pos: name for pos, name in cast.named(clause)}
    order = [verb_at - 1]
    if verb_at >= 2 and words[verb_at - 1][0].endswith("ly"):
        order.append(verb_at - 2)
    order.append(verb_at + 1)
    for k in order:
        if not 0 <= k < len(words):
            continue
        word, pos = words[k]
        if pos in named:
            return named[pos]
        if word.casefold() in _PRONOUNS:
            return cast.by_pronoun(_PRONOUNS[word.casefold()], recent, in_frame)
        if word[:1].isupper() and word.casefold() not in _NOT_NAMES:  # someone the world does not know
            return word
    return None


def _subject(words: list[tuple[str, int]], cast: _Cast, clause: str, recent: list[str],
             in_frame: Sequence[str]) -> str | None:
    """The clause's subject: its first name or pronoun ("Tom grabs Mira and whispers" -> Tom)."""
    named = cast.named(clause)
    first_name = named[0] if named else None
    for word, pos in words:
        if first_name is not None and pos >= first_name[0]:
            return first_name[1]
        if word.casefold() in _PRONOUNS:
            return cast.by_pronoun(_PRONOUNS[word.casefold()], recent, in_frame)
    if first_name is not None:
        return first_name[1]
    if words and words[0][0][:1].isupper() and words[0][0].casefold() not in _NOT_NAMES and len(words) <= 3:
        return words[0][0]
    return None


def _words(clause: str) -> list[tuple[str, int]]:
    return [(m.group(0), m.start()) for m in _WORD.finditer(clause)]


def _attribute(text: str, quotes: list[tuple[int, int, str]], q: int, cast: _Cast,
               in_frame: Sequence[str]) -> tuple[str | None, bool]:
    """Who says quote q: a dialogue tag right after it ("... says Mira"), else the clause leading into it."""
    start, end, _ = quotes[q]
    recent = [name for _, name in cast.named(text[:start])]
    nxt = quotes[q + 1][0] if q + 1 < len(quotes) else len(text)
    after = _clause_after(text, end, nxt)
    aw = _words(after)
    for k, (word, _) in enumerate(aw[:3]):
        if word.casefold() in _CONJUNCTIONS:  # "... and Mira laughs" starts a new clause, not a tag
            break
        if word.casefold() in SPEECH_VERBS:
            who = _who(aw, cast, after, recent, in_frame, k)
            if who is not None:
                return who, word.casefold() in THOUGHT_VERBS
            break
    prev = quotes[q - 1][1] if q else 0
    _, before = _clause_before(text, prev, start)
    bw = _words(before)
    verbs = [k for k, (w, _) in enumerate(bw) if w.casefold() in SPEECH_VERBS]
    thought = bool(verbs) and bw[verbs[-1]][0].casefold() in THOUGHT_VERBS
    if verbs:
        who = _who(bw, cast, before, recent, in_frame, verbs[-1])
        if who is not None:
            return who, thought
    if verbs or before.rstrip().endswith(":"):
        return _subject(bw, cast, before, recent, in_frame), thought
    return None, False


def extract_speech(text: str, cast: Iterable[Character | str] = (), in_frame: Sequence[str] = ()) -> tuple[Speech, ...]:
    """Every quoted passage of text with its speaker; cast: the world's characters (or names) to match."""
    text = text[:4000]
    quotes = find_quotes(text)
    if not quotes:
        return ()
    known = _Cast(cast)
    out = []
    for q, (start, end, words) in enumerate(quotes):
        speaker, thought = _attribute(text, quotes, q, known, in_frame)
        out.append(Speech(text=words, speaker=speaker, start=start, end=end, thought=thought))
    return tuple(out)


_DANGLING = re.compile(r"\s*([,;:])\s*(?=[,;:.!?]|$)")
_SPACES = re.compile(r"\s{2,}")


def strip_speech(text: str) -> str:
    """text without its quoted passages, tidied: `Mira whispers "Who's there?"` -> `Mira whispers`."""
    spans = _spans(text)
    if not spans:
        return text.strip()
    out, last = [], 0
    for q in spans:
        piece = text[last : q.start]
        out.append(piece.rstrip()[:-1] if piece.rstrip().endswith(":") else piece)  # "Mira: ..." -> "Mira"
        out.append(" ")
        last = q.end
    out.append(text[last:])
    kept = _SPACES.sub(" ", "".join(out))
    kept = re.sub(r"\s+([,;:.!?])", r"\1", kept)
    kept = _DANGLING.sub("", kept)
    kept = re.sub(r"^[\s,;:.!?]+", "", kept)
    return kept.strip().rstrip(",;:").strip()
