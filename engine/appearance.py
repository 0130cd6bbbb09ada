"""Appearance phrases: parse a /cref description into slotted traits and render them back.

A description is split into verbatim phrases (Trait) with a slot each, so later changes
("dyes her hair blue", "takes off her scarf") can replace or remove one phrase and leave every
other word as the user wrote it. The joining words ("with", "wearing", "and", ", ") are kept
in a layout so an unchanged character renders back to exactly the text that was typed:

    "a young woman with short red hair, green eyes, wearing a blue scarf"
    -> base "a young woman", hair "short red hair", eyes "green eyes", wearing "a blue scarf"
    -> rendered: "a young woman with short red hair, green eyes, wearing a blue scarf"

Pure: standard library and engine.world only.
"""

from __future__ import annotations

import re
from functools import lru_cache

from engine import lexicon as lx
from engine.world import Character, Trait

# A phrase boundary: punctuation, or a joining word followed by an appearance item.
_CHUNK = re.compile(r"\s*([,;]|\.(?:\s+|$))\s*")
_JOIN = re.compile(
    r"\s+(with|wearing|and|in|holding|carrying|clutching|wielding|dressed\s+in|who\s+has|has)\s+",
    re.I,
)
_LEAD = re.compile(
    r"^(and\s+|with\s+|wearing\s+|dressed\s+in\s+|holding\s+|carrying\s+|clutching\s+|"
    r"wielding\s+|has\s+|who\s+has\s+)",
    re.I,
)
_WORD = re.compile(r"[a-z][a-z'-]*")
_DET_LED = re.compile(r"^(?:a|an|one|two|three|four|five|six|some|many|several|his|her|their|its)\s+\S", re.I)
_SLOT_OF_LEAD = {
    "wearing": "wearing", "dressed in": "wearing", "in": "wearing", "holding": "carrying",
    "carrying": "carrying", "clutching": "carrying", "wielding": "carrying",
}


def words(text: str) -> list[str]:
    """Lowercase words of a phrase (possessive 's dropped)."""
    return [w.removesuffix("'s") for w in _WORD.findall(text.lower())]


def singular(word: str) -> str:
    """A rough singular, enough to match "boots" with "boot" and "scarves" with "scarf"."""
    if word.endswith("ves") and len(word) > 4:
        return word[:-3] + "f"
    if word.endswith("es") and word[-3:-2] in "sxz" and len(word) > 4:
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def classify(phrase: str, first: bool = False, lead: str = "") -> str:
    """The slot of one phrase; `lead` is the joining word before it ("wearing", "with" ...)."""
    ws = words(phrase)
    lead = " ".join(lead.lower().split())
    if lead in _SLOT_OF_LEAD:
        slot = _SLOT_OF_LEAD[lead]
        if lead != "in" or any(singular(w) in lx.WEAR_WORDS or w in lx.WEAR_WORDS for w in ws):
            return slot
    wset = set(ws) | {singular(w) for w in ws}
    if wset & lx.BEING_WORDS and not wset & (lx.HAIR_WORDS | lx.EYE_WORDS):
        return "base"
    if wset & lx.MARK_WORDS:
        return "marks"
    if wset & lx.HAIR_WORDS:
        return "hair"
    if wset & lx.EYE_WORDS and "eyepatch" not in wset:
        return "eyes"
    if wset & lx.SKIN_WORDS:
        return "skin"
    if wset & lx.WEAR_WORDS:
        return "wearing"
    if wset & lx.CARRY_WORDS:
        return "carrying"
    if wset & lx.FEATURE_WORDS:
        return "other"
    if ws and all(w in lx.BUILD_WORDS or w in ("a", "an", "very", "and", "of") for w in ws):
        return "build"
    return "base" if first else "other"


def _specific(phrase: str, lead: str = "") -> bool:
    """Is the phrase an appearance item of its own (not a subject or free text)?"""
    slot = classify(phrase, lead=lead)
    if slot == "other":
        ws = words(phrase)
        return bool(set(ws) & lx.FEATURE_WORDS or {singular(w) for w in ws} & lx.FEATURE_WORDS)
    return slot != "base"


def _split_chunk(chunk: str) -> list[tuple[str, str]]:
    """Splits one comma-free chunk at joining words whose right side is an appearance item.

    Returns (joiner, phrase) pairs; the first joiner is "".
    """
    out: list[tuple[str, str]] = [("", chunk)]
    while True:
        joiner, rest = out[-1]
        for m in _JOIN.finditer(rest):
            left, right = rest[: m.start()], rest[m.end():]
            word = " ".join(m.group(1).lower().split())
            if not left.strip() or not right.strip():
                continue
            first_right = right.split(" and ")[0]
            if word == "and":
                # "black and white fur" stays whole; "a bent antenna and one blue eye" splits:
                # the right side must be an item of its own (a known kind, or led by a/one ...)
                # and the left more than a lone adjective.
                right_item = _specific(first_right) or _DET_LED.match(first_right) is not None
                left_item = _specific(left) or (len(left.split()) > 1 and joiner.strip() != "")
                if not (right_item and left_item):
                    continue
            elif word in ("with", "has", "who has"):
                # "a robot with a bent antenna": what follows "with" is a feature of its own
                if not (_specific(first_right) or _DET_LED.match(first_right)):
                    continue
            elif not _specific(right.split(" and ")[0], lead=word):
                continue
            out[-1] = (joiner, left)
            out.append((m.group(0), right))
            break
        else:
            return out


@lru_cache(maxsize=4096)
def layout(text: str) -> tuple[tuple[str, Trait], ...]:
    """(separator before it, trait) for every phrase of a description, in order."""
    text = " ".join(text.split()).strip().rstrip(".").strip()
    if not text:
        return ()
    pieces: list[tuple[str, str]] = []
    pos = 0
    for m in _CHUNK.finditer(text):
        pieces.append((text[pos: m.start()], m.group(0)))
        pos = m.end()
    pieces.append((text[pos:], ""))
    out: list[tuple[str, Trait]] = []
    sep = ""
    seen_base = False
    for chunk, after in pieces:
        if not chunk.strip():
            sep += after
            continue
        lead_m = _LEAD.match(chunk)
        lead = ""
        if lead_m:
            lead = lead_m.group(1)
            sep, chunk = sep + lead, chunk[lead_m.end():]
        for joiner, phrase in _split_chunk(chunk):
            phrase = phrase.strip()
            if not phrase:
                continue
            j = joiner.strip().lower() or lead.strip().lower()
            slot = classify(phrase, first=not out, lead=j if j not in ("and", "with") else "")
            if slot == "base" and seen_base:
                slot = "other"
            seen_base = seen_base or slot == "base"
            if slot == "wearing" and not j.startswith(("wearing", "in", "dressed")) and _fur_coat(out, phrase):
                slot = "skin"  # "a red fox with a vibrant red coat": its fur, not a garment
            out.append((sep + joiner if out else "", Trait(slot, phrase)))
            sep = ""
        sep = after
    return tuple(out)


_MADE = frozenset("robot android droid cyborg automaton machine drone mech golem ship car truck train spaceship "
                  "airship tree slime blob ghost spirit sprite wisp".split())


def _fur_coat(before: list[tuple[str, Trait]], phrase: str) -> bool:
    """Is this "coat" an animal's fur ("a fox with a red coat")?"""
    if not before or before[0][1].slot != "base" or words(phrase)[-1:] != ["coat"]:
        return False
    base = {singular(w) for w in words(before[0][1].text)}
    animals = (lx.IT_WORDS - _MADE) | set(lx.KINDS)
    return bool(base & animals)


def parse_description(text: str) -> tuple[Trait, ...]:
    """The verbatim, slotted phrases of a /cref description (empty text -> ())."""
    return tuple(t for _, t in layout(text))


def guess_pronoun(text: str) -> str:
    """"she"/"he"/"it"/"they" from the first telling word of a description."""
    for w in words(text):
        s = singular(w)
        if w in lx.SHE_WORDS or s in lx.SHE_WORDS:
            return "she"
        if w in lx.HE_WORDS or s in lx.HE_WORDS:
            return "he"
        if w in lx.IT_WORDS or s in lx.IT_WORDS:
            return "it"
    return "they"


def _default_sep(t: Trait, prev: Trait | None) -> str:
    low = t.text.lower()
    if t.slot == "wearing" and not low.startswith(("wearing", "in ", "dressed")):
        return " and " if prev is not None and prev.slot == "wearing" else ", wearing "
    if t.slot == "carrying" and not low.startswith(("holding", "carrying", "with")):
        return " and " if prev is not None and prev.slot == "carrying" else ", holding "
    return ", "


def render(description: str, traits: tuple[Trait, ...]) -> str:
    """The current appearance as one phrase, reusing the typed joining words where they still fit."""
    if not traits:
        return " ".join(description.split()).strip().rstrip(".")
    orig = layout(description)
    texts = {t.text for _, t in orig}
    present = {t.text for t in traits}
    # A replaced phrase takes the place (and joining word) of a removed one of its slot.
    missing = [(sep, t) for sep, t in orig if t.text not in present]
    claimed: dict[int, str] = {}  # id of a new trait -> the phrase it replaces
    filled: set[str] = set()
    before = {t.text: (orig[i - 1][1].text if i else None) for i, (_, t) in enumerate(orig)}
    for i, t in enumerate(traits):
        if t.text in texts:
            continue
        prev_text = traits[i - 1].text if i else None
        for _sep, m in missing:
            # only a phrase standing where the removed one stood takes its place
            if m.slot == t.slot and m.text not in filled and before[m.text] == prev_text:
                filled.add(m.text)
                claimed[id(t)] = m.text
                break
    # A phrase whose predecessors were removed inherits the first removed one's separator
    # ("with green eyes", not "and green eyes").
    seps: dict[str, str] = {}
    pending: str | None = None
    for sep, t in orig:
        if t.text in present or t.text in filled:
            seps.setdefault(t.text, pending if pending is not None else sep)
            pending = None
        elif pending is None:
            pending = sep
    out: list[str] = []
    prev: Trait | None = None
    for t in traits:
        if t.text in seps and t.text in present:
            sep = seps[t.text]
        elif id(t) in claimed:
            sep = seps[claimed[id(t)]]
        else:
            sep = _default_sep(t, prev)
        if not out:
            sep = sep.lstrip(",;. ")
            sep = sep[4:] if sep.startswith("and ") else sep
        out.append(sep + t.text)
        prev = t
    return "".join(out)


def character_text(c: Character) -> str:
    """A character's complete current appearance as prompt text."""
    traits = c.traits or parse_description(c.description)
    return render(c.description, traits)


# ---------------------------------------------------------------- edits of one phrase


def _color_span(ws: list[str]) -> tuple[int, int] | None:
    """Index range of the first run of colour words (with their modifiers) in a word list."""
    for i, w in enumerate(ws):
        base = w.split("-")[0]
        if w in lx.COLOR_WORDS or base in lx.COLOR_WORDS:
            j = i
            while j > 0 and ws[j - 1] in lx.COLOR_MODIFIERS:
                j -= 1
            k = i + 1
            while k < len(ws) and (ws[k] in lx.COLOR_WORDS or (
                    ws[k] == "and" and k + 1 < len(ws) and ws[k + 1] in lx.COLOR_WORDS)):
                k += 1
            return j, k
    return None


_TOKEN = re.compile(r"\S+")


def _replace_words(text: str, span: tuple[int, int] | None, at: int, new: str) -> str:
    """Replaces the words in span (or inserts before word `at`) keeping every other word."""
    toks = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if span is not None:
        a, b = span
        start, end = toks[a][0], toks[b - 1][1]
        # keep trailing punctuation attached to the last replaced word
        tail = re.match(r"[a-zA-Z'-]*", text[toks[b - 1][0]:]).end()  # type: ignore[union-attr]
        end = toks[b - 1][0] + tail
        return text[:start] + new + text[end:]
    pos = toks[at][0] if at < len(toks) else len(text)
    return text[:pos] + new + " " + text[pos:]


def _noun_index(text: str, nouns: frozenset[str]) -> int:
    ws = text.lower().split()
    for i, w in enumerate(ws):
        if re.sub(r"[^a-z-]", "", w) in nouns:
            return i
    return len(ws)


def recolor(text: str, color: str, nouns: frozenset[str] = lx.HAIR_WORDS) -> str:
    """"short red hair" + "blue" -> "short blue hair" (inserts the colour when there is none)."""
    ws = [re.sub(r"[^a-z-]", "", w) for w in text.lower().split()]
    noun = _noun_index(text, nouns)
    span = _color_span(ws[: noun + 1] if noun < len(ws) else ws)
    return _replace_words(text, span, noun, color)


def relength(text: str, length: str) -> str:
    """"long red hair" + "short" -> "short red hair" (inserts the length when there is none)."""
    ws = [re.sub(r"[^a-z-]", "", w) for w in text.lower().split()]
    idx = [i for i, w in enumerate(ws) if w in lx.HAIR_LENGTHS]
    if idx:
        return _replace_words(text, (idx[0], idx[-1] + 1), 0, length)
    # first, after an article ("red hair" -> "short red hair", "a bob" -> "a short bob")
    at = 1 if ws and ws[0] in ("a", "an") else 0
    return _replace_words(text, None, at, length)


def head_matches(phrase: str, item: str) -> bool:
    """Does a trait phrase name the thing in `item` ("her scarf" ~ "a blue scarf")?"""
    iw = [singular(w) for w in words(item) if w not in lx.POSSESSIVE_DETS]
    if not iw:
        return False
    pw = {singular(w) for w in words(phrase)}
    # the head noun (last word) must match; other words must not contradict (colour aside)
    return iw[-1] in pw
