"""Reading a planner text: who is mentioned where, known places, and the action left over.

Per-world tables (name and description-word regexes, location regexes) are built once per
characters/locations tuple and cached by identity, so a /continue never rescans the world.
Pure: standard library and engine.world only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine import lexicon as lx
from engine.appearance import parse_description, singular, words
from engine.world import Character, Location, World

# Names that are also ordinary words count only when capitalised ("Will smiles", not "will").
_COMMON = frozenset("""
    will rose may hope joy grace mark bill pat dawn summer storm robin iris amber ruby jade
    faith hunter king sky river rain snow ash autumn winter spring sunny june april august
    violet olive hazel sage holly ivy daisy lily fern forest wolf fox bear red blue grey gray
    art max sam ray jack frank rich sterling major page case star night the a an it
""".split())
_TITLES = frozenset("""
    captain doctor dr mr mrs ms miss sir lady lord king queen prince princess professor
    sergeant general old young little big great saint st the of von van de la le
""".split())
_GENERIC_PEOPLE = frozenset("""
    man woman girl boy person child kid lady guy gentleman stranger figure people men women
    teenager adult baby someone
""".split())
_PRONOUN = re.compile(r"\b(she|he|they|it|her|him|them|his|their|its|hers|herself|himself|"
                      r"themselves|itself)\b", re.I)
_EXPLETIVE_IT = re.compile(
    r"^\s+(?:is|was|'s|’s|starts|started|begins|began|gets|got|keeps|seems|becomes|turns|"
    r"will|has|had)\s+(?:\w+\s+){0,2}?(?:rain\w*|snow\w*|dark|night|late|early|morning|cold|"
    r"hot|warm|quiet|time|midnight|dawn|dusk|noon|sunny|cloudy|windy|foggy|stormy|clear|"
    r"over|done|true|pouring|getting|to\s+rain|to\s+snow|silent|calm)\b", re.I)
_SUBJECT_FORMS = frozenset({"she", "he", "they", "it"})
_LOC_PREP = (r"to|into|in|inside|at|toward|towards|reaches|reached|enters|entered|visits|"
             r"visited|through|onto|on|across|within|outside|back\s+to|around|near|from|along|down|up|"
             r"over|past")
_FILLER = frozenset("""
    and then the a an now also, just still while as so but again back
""".split())


@dataclass(frozen=True)
class Mention:
    """A reference to one or more characters in the text."""

    start: int
    end: int
    text: str
    kind: str  # "name" | "desc" | "pronoun"
    names: tuple[str, ...]
    possessive: bool = False

    @property
    def subject_form(self) -> bool:
        """Could this mention be the subject of a clause? ("she" yes, "her" no)."""
        return self.kind != "pronoun" or self.text.lower() in _SUBJECT_FORMS


def overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(a < end and start < b for a, b in spans)


class WorldIndex:
    """Regexes for one world's characters and locations (built once, reused per text)."""

    def __init__(self, characters: tuple[Character, ...], locations: tuple[Location, ...]) -> None:
        self.characters = characters
        self.locations_ref = locations
        self.by_key: dict[str, str] = {}
        self.pronoun: dict[str, str] = {c.name: c.pronoun for c in characters}
        for c in characters:
            for n in c.names():
                if n.strip():
                    self.by_key.setdefault(" ".join(n.casefold().split()), c.name)
        # "Rook" for "Captain Rook": a word of a multi-word name, when only one name has it
        parts: dict[str, set[str]] = {}
        for c in characters:
            for n in c.names():
                ws = n.casefold().split()
                for w in ws if len(ws) > 1 else ():
                    if len(w) > 2 and w not in _TITLES and w not in _COMMON:
                        parts.setdefault(w, set()).add(c.name)
        for w, owners in parts.items():
            if len(owners) == 1:
                self.by_key.setdefault(w, next(iter(owners)))
        # common-word names that are also what the character is ("rose" for "a deep red rose flower")
        self.kind_names = frozenset(k for k, n in self.by_key.items()
                                    if k in _COMMON and k in words(_described(characters, n)))
        names = sorted(self.by_key, key=len, reverse=True)
        self.name_re = re.compile(
            r"(?<![\w'’])(?:the\s+)?(" + "|".join(r"\s+".join(map(re.escape, n.split()))
                                             for n in names) + r")(?![\w])('s|’s|')?",
            re.I) if names else None
        # "the wizard", "a phoenix": nouns of exactly one character's base phrase
        owners: dict[str, set[str]] = {}
        for c in characters:
            for w in _base_nouns(c):
                owners.setdefault(w, set()).add(c.name)
                for kind in lx.KINDS.get(w, ()):  # "the dog" for a corgi, "the bird" for a phoenix
                    owners.setdefault(kind, set()).add(c.name)
        self.desc_word = {w: next(iter(o)) for w, o in owners.items() if len(o) == 1}
        dwords = sorted(self.desc_word, key=len, reverse=True)
        self.desc_re = re.compile(
            r"\b(?:the|a|an)\s+(?:(?!and\b|of\b|with\b)[a-z'-]+\s+){0,2}?("
            + "|".join(map(re.escape, dwords)) + r")(?:e?s)?\b('s|’s)?", re.I) if dwords else None
        lnames = sorted((loc.name for loc in locations if loc.name.strip()), key=len, reverse=True)
        self.loc_key = {" ".join(n.casefold().split()): n for n in lnames}
        self.loc_re = re.compile(
            rf"\b(?:{_LOC_PREP})\s+(?:(?:the|a|an|his|her|their|its|our)\s+)?"
            r"(?:(?!and\b|of\b|to\b)[a-z'-]+\s+){0,2}?("
            + "|".join(r"\s+".join(map(re.escape, n.split())) for n in lnames) + r")\b",
            re.I) if lnames else None

    def locations(self, text: str) -> tuple[int, str] | None:
        """The last known place the text moves to or is in: (position, name)."""
        if self.loc_re is None:
            return None
        last = None
        for m in self.loc_re.finditer(text):
            if not after_gaze(text, m.start()):
                last = m
        if last is None:
            return None
        return last.start(), self.loc_key[" ".join(last.group(1).casefold().split())]

    def mentions(self, text: str, world: World) -> list[Mention]:
        """Every character mention in order, pronouns resolved against the context."""
        found: list[Mention] = []
        taken: list[tuple[int, int]] = []
        if self.name_re is not None:
            for m in self.name_re.finditer(text):
                key = " ".join(m.group(1).casefold().split())
                if key in _COMMON and m.group(1).islower() and not (
                        key in self.kind_names and m.group(0).lower().startswith("the")):
                    continue  # "will", "may"; but "the rose" is the character described as a rose
                found.append(Mention(m.start(), m.end(), m.group(0), "name",
                                     (self.by_key[key],), bool(m.group(2))))
                taken.append(m.span())
        if self.desc_re is not None:
            for m in self.desc_re.finditer(text):
                if overlaps(taken, m.start(), m.end()):
                    continue
                if m.group(0)[:2].lower() in ("a ", "an") and m.group(1).lower() in _GENERIC_PEOPLE:
                    continue  # "talks to a man at the bar" brings in someone new; "a phoenix" is ours
                name = self.desc_word[m.group(1).lower()]
                found.append(Mention(m.start(), m.end(), m.group(0), "desc", (name,),
                                     bool(m.group(2))))
                taken.append(m.span())
        for m in _PRONOUN.finditer(text):
            if not overlaps(taken, m.start(), m.end()):
                found.append(Mention(m.start(), m.end(), m.group(0), "pronoun", ()))
        found.sort(key=lambda x: x.start)
        return self._resolve(text, found, world)

    def _resolve(self, text: str, found: list[Mention], world: World) -> list[Mention]:
        out: list[Mention] = []
        seen: list[str] = []  # names mentioned so far, in order
        last = world.last_shot
        context = [*world.last_mentioned, *(last.characters if last else ())]
        for m in found:
            if m.kind != "pronoun":
                out.append(m)
                seen += [n for n in m.names if n not in seen]
                continue
            word = m.text.lower()
            p = lx.SUBJECT_PRONOUNS[word]
            if p == "it" and _EXPLETIVE_IT.match(text[m.end:]):
                continue
            if word in ("it", "them") and (_HANDLED.search(text, max(0, m.start - 30), m.start)
                                           or _GIVEN.match(text, m.end)):
                continue  # "takes off her earrings and sets them down": them are the earrings
            if p == "it" and not starts_clause(text, m.start):
                # an object "it" is usually a thing ("picks up the cup and drinks from it")
                names = next(((n,) for n in reversed(seen) if self.pronoun.get(n) == "it"), ())
            elif seen and _is_object(word, text, m.end) and not starts_clause(text, m.start):
                subject = _clause_subject(text, m.start, out)
                if _LOCATIVE.search(text, max(0, m.start - 30), m.start) \
                        or _SUBORDINATE.search(text, _start_of(subject, out), m.start):
                    # "Kai sits under a tree, a book beside him": him is Kai
                    names = self._referent(p, seen, context, world, owner=True)
                else:
                    # "Dax grabs him": an object pronoun never means its clause's subject, but may
                    # mean someone else this text names ("Otto hands Kai a cup and thanks him")
                    names = self._referent(p, [n for n in seen if n not in subject],
                                           [n for n in context if n not in subject], world, exclude=set(subject))
            else:
                names = self._referent(p, seen, context, world, owner=word in ("his", "her", "its", "their"))
            if names:
                possessive = word in ("his", "their", "its", "hers")
                out.append(Mention(m.start, m.end, m.text, "pronoun", names, possessive))
        return out

    def _referent(self, p: str, seen: list[str], context: list[str], world: World,
                  exclude: set[str] | frozenset[str] = frozenset(), owner: bool = False) -> tuple[str, ...]:
        for n in reversed(seen):
            if self.pronoun.get(n) == p:
                return (n,)
        if p in ("he", "she"):
            # a character named in this text whose gender is not known ("they"), or a creature,
            # takes he/she: always as an owner ("Bolt admires his shell"), otherwise only when no
            # one of the last panels is known to be he/she ("Tobias lifts her": the girl)
            loose = [n for n in reversed(seen) if self.pronoun.get(n) in ("they", "it")]
            if loose and (owner or not any(self.pronoun.get(n) == p for n in context)):
                return (loose[0],)
        if p == "they":
            group = seen if len(seen) >= 2 else list(dict.fromkeys(context))
            if len(group) < 2:
                # after a close-up of one, "they" are the people of the last few panels
                group = list(dict.fromkeys([*group, *recent_group(world)]))
            group = [n for n in group if n not in exclude]
            if len(group) >= 2:
                return tuple(group)
        for n in context:
            if self.pronoun.get(n) == p:
                return (n,)
        if p in ("he", "she"):
            for n in context:
                if self.pronoun.get(n) == "they":
                    return (n,)
        only = [c.name for c in world.characters if c.pronoun == p and c.name not in exclude]
        return (only[0],) if len(only) == 1 and p != "it" else ()


_HANDLED = re.compile(r"\b(?:sets|set|puts|put|places|placed|drops|dropped|"
                      r"picks|picked|lifts|lifted|hangs|hung|folds|folded|throws|threw|tosses|tossed|hides|hid|"
                      r"pockets|pocketed|lays|laid|wears|wore|holds|held|carries|carried|grabs|grabbed|"
                      r"takes|took|swaps|stuffs|shoves|tucks|wraps|unwraps|opens|closes|reads|eats|drinks)\s+$", re.I)
_GIVEN = re.compile(r"\s+(?:back\s+|over\s+)?to\s", re.I)  # "hands them to Vera": them are things
# "a jacket that was far too big for him": him may be the subject in a clause of its own
_SUBORDINATE = re.compile(r"\b(?:that|which|who|because|until|when|while|since|although|though|so)\b", re.I)


def _start_of(names: list[str], mentions: list[Mention]) -> int:
    return next((m.end for m in mentions if m.names and list(m.names) == names), 0)


_LOCATIVE = re.compile(r"\b(?:beside|behind|near|around|next\s+to|under|beneath|below|above|over|in\s+front\s+of|"
                       r"on\s+top\s+of|alongside|underneath|before)\s+$", re.I)


def _clause_subject(text: str, pos: int, before: list[Mention]) -> list[str]:
    """The names of the mention that starts the clause holding pos (the sentence's first, if none)."""
    sent = max(text.rfind(c, 0, pos) for c in ".!?;") + 1
    inside = [m for m in before if sent <= m.start < pos and m.names and m.subject_form]
    starters = [m for m in inside if starts_clause(text, m.start)]
    pick = starters[-1] if starters else (inside[0] if inside else None)
    return list(pick.names) if pick else []


_AFTER_OBJECT_HER = re.compile(
    r"\s*(?:$|[.,!?;:)\"'…]|(?:and|to|with|up|down|back|off|out|in|on|at|for|from|into|onto|across|through|toward|"
    r"towards|past|inside|under|behind|again|too|as|while|but|"
    r"then|close|tight|away|over|around|by|goodbye|hello|hi)\b)", re.IGNORECASE)


def _is_object(word: str, text: str, end: int) -> bool:
    """him/them always; "her" only when no noun follows ("hugs her" vs "her scarf")."""
    return word in ("him", "them") or (word == "her" and bool(_AFTER_OBJECT_HER.match(text[end:])))


_CLAUSE_WORDS = frozenset("""
    and then while as when but so before after meanwhile suddenly finally now also until once
    because since though although later soon quickly slowly quietly gently here there outside
    inside together
""".split())


def starts_clause(text: str, pos: int) -> bool:
    """Does a clause start at pos (sentence start, after a comma or a joining word)?"""
    sent = max(text.rfind(c, 0, pos) for c in ".!?;") + 1
    head = text[sent:pos].rstrip()
    if not head or head.endswith((",", ":", "—", "-")):
        return True
    word = re.search(r"([\w']+)$", head)
    return word is not None and word.group(1).lower() in _CLAUSE_WORDS


def recent_group(world: World, panels: int = 8) -> list[str]:
    """The characters of the last few panels, newest first, less those who left since."""
    out: list[str] = []
    gone: set[str] = set()
    for panel in reversed(world.panels[-panels:]):
        for note in panel.notes:
            if note.endswith(" leaves the frame"):
                gone.add(note.removesuffix(" leaves the frame"))
        for n in panel.shot.characters:
            if n not in out and n not in gone and world.find_character(n) is not None:
                out.append(n)
    return out


_PREV_WORDS = re.compile(r"([\w']+)(?:\s+([\w']+))?\s*$")
_GAZE_PARTICLES = frozenset({"out", "up", "down", "over", "across", "back", "off", "away", "around", "ahead"})


def after_gaze(text: str, pos: int) -> bool:
    """Is the phrase at pos the target of a look or gesture ("points at the castle")?"""
    m = _PREV_WORDS.search(text, max(0, pos - 40), pos)
    if m is None:
        return False
    last, prev = (m.group(2) or m.group(1)).lower(), (m.group(1) if m.group(2) else "").lower()
    # "looks at", "stares hard at", and with a particle: "looking out to sea", "gazes up at the stars"
    return last in lx.GAZE_VERBS or ((last.endswith("ly") or last in _GAZE_PARTICLES) and prev in lx.GAZE_VERBS)


def _described(characters: tuple[Character, ...], name: str) -> str:
    return next((c.description for c in characters if c.name == name), "")


def _base_nouns(c: Character) -> set[str]:
    traits = c.traits or parse_description(c.description)
    base = next((t.text for t in traits if t.slot == "base"), "")
    ws = [w for w in words(base) if w not in ("a", "an", "the")]
    out = {singular(w) for w in ws if singular(w) in lx.BEING_WORDS or w in lx.BEING_WORDS}
    if ws and ws[-1] not in lx.COLOR_WORDS and len(ws[-1]) > 2:
        out.add(singular(ws[-1]))
    return {w for w in out if w not in ("it", "he", "she", "her", "him", "his")}


_BY_ID: dict[tuple[int, int], tuple[object, object, WorldIndex]] = {}
_BY_SIGNATURE: dict[tuple[object, ...], WorldIndex] = {}


def _signature(world: World) -> tuple[object, ...]:
    """What the index depends on: names, aliases, pronouns, base phrases, place names."""
    chars = tuple((c.name, c.aliases, c.pronoun,
                   next((t.text for t in c.traits if t.slot == "base"), c.description))
                  for c in world.characters)
    return chars, tuple(loc.name for loc in world.locations)


def world_index(world: World) -> WorldIndex:
    """The index for this world, cached by identity and, after an appearance or prop change
    (new tuples, same names), by what it depends on, so a /continue never rebuilds it."""
    key = (id(world.characters), id(world.locations))
    hit = _BY_ID.get(key)
    if hit is not None and hit[0] is world.characters and hit[1] is world.locations:
        return hit[2]
    sig = _signature(world)
    idx = _BY_SIGNATURE.get(sig)
    if idx is None:
        if len(_BY_SIGNATURE) > 64:
            _BY_SIGNATURE.clear()
        idx = _BY_SIGNATURE[sig] = WorldIndex(world.characters, world.locations)
    if len(_BY_ID) > 256:
        _BY_ID.clear()
    # the identity entry keeps the tuples it was made for alive, so ids cannot be reused
    _BY_ID[key] = (world.characters, world.locations, idx)
    return idx


# ---------------------------------------------------------------- the action left over

_CLEAN = (
    (re.compile(r"\s+"), " "),
    (re.compile(r"\s+([,.;!?:])"), r"\1"),
    (re.compile(r"([,;:])\s*(?=[,.;!?:])"), ""),
    (re.compile(r"^[\s,.;:]*(?:(?:and|then)\b[\s,]*)*", re.I), ""),
    (re.compile(r"\s*\b(?:and|then|while|as|with|,)\s*(?=[,.;!?]|$)", re.I), ""),
    (re.compile(r"\b(and|then)\s+(?:and|then)\b", re.I), r"\1"),
    (re.compile(r"([.!?])\s*[,;]\s*"), r"\1 "),
)
_JOIN_NEXT = re.compile(r"^\s*(?:,\s*)?(?:and|then)\b\s*(?:then\b\s*)?", re.I)
_CLAUSE_END = re.compile(r"^\s*(?:[,.;!?]|$)")
_BETWEEN = re.compile(r"^[\s,]*(?:(?:and|then)\b[\s,]*)*$", re.I)


def _merge(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans, with neighbours joined only by "and", "then" or commas merged."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and (a <= out[-1][1] or _BETWEEN.match(text[out[-1][1]:a])):
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


def clean_action(text: str, consumed: list[tuple[int, int]], mentions: list[Mention]) -> str:
    """The text minus what became state, tidied; "" when only names and fillers remain."""
    if not consumed:
        return " ".join(text.split())
    starts = {m.start for m in mentions if m.subject_form}
    by_end = {m.end: m for m in mentions if m.subject_form}
    kept: list[str] = []
    pos = 0
    for a, b in _merge(text, consumed):
        left = text[pos:a]
        subj = by_end.get(pos + len(left.rstrip()))
        if subj is not None and subj.start < pos:
            subj = None
        join = _JOIN_NEXT.match(text[b:])
        if subj is not None and join:
            if b + join.end() in starts:
                # "she [takes off her scarf], then she smiles": the clause was all state
                left = text[pos:subj.start]
            # "Mira [takes off her scarf and] smiles": the subject stays for the next verb
            b += join.end()
        elif subj is not None and _CLAUSE_END.match(text[b:]):
            # "at dusk Mira [dyes her hair blue], the rain stops": nothing left to do for Mira
            left = text[pos:subj.start]
        elif left.rstrip().endswith(",") and text[b:].lstrip().startswith(","):
            # "Tom, [now wearing a red scarf], waves" -> "Tom waves"
            left = left.rstrip()[:-1]
            b += text[b:].index(",") + 1
        kept.append(left)
        pos = b
    kept.append(text[pos:])
    out = " ".join("".join(kept).split())
    for rx, rep in _CLEAN:
        out = rx.sub(rep, out)
    out = out.strip(" ,;:")
    names = _name_words(mentions)
    rest = [w for w in re.findall(r"[\w'’-]+", out.lower())
            if w not in _FILLER and w.removesuffix("'s").removesuffix("’s") not in names]
    return out if rest else ""


def _name_words(mentions: list[Mention]) -> set[str]:
    out: set[str] = set()
    for m in mentions:
        out.update(re.findall(r"[\w-]+", m.text.lower()))
    return out
