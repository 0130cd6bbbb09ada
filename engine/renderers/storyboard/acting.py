"""Who acts in a panel, what they hold and what their face shows, read from the action. Pure.

"Tom lights the lantern": Tom acts and the lantern is in his hand, even if it was Mira's a panel
ago. "she smiles at Tom": the first framed character (the planner lists the one a pronoun means
first) smiles. Words match as words.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.renderers.storyboard.palette import words

HOLDABLE: dict[str, str] = {  # noun in an action -> what is drawn in the hand
    **dict.fromkeys(("lantern", "lamp", "candle", "torch"), "lantern"),
    **dict.fromkeys(("sword", "blade", "dagger", "knife", "axe", "saber", "sabre"), "sword"),
    **dict.fromkeys(("staff", "stick", "spear", "wand", "cane", "umbrella", "broom", "rod", "bow"), "staff"),
    **dict.fromkeys(("book", "map", "letter", "scroll", "notebook", "phone", "card", "journal", "photo", "tablet"),
                    "book"),
    **dict.fromkeys(("bag", "satchel", "basket", "suitcase", "box", "sack", "parcel", "package"), "bag"),
    **dict.fromkeys(("cup", "mug", "glass", "bottle", "potion", "flask", "jar", "tankard", "teacup"), "cup"),
    **dict.fromkeys(("flower", "rose", "bouquet"), "flower"),
    **dict.fromkeys(("key", "coin", "orb", "crystal", "gem", "apple", "ring"), "key"),
}
# Verbs after which the thing leaves the actor's hand (or never was in it).
LETS_GO = frozenset(
    "hands hand gives give passes pass drops drop puts put throws throw tosses toss leaves leave sets set places "
    "place loses lose offers offer sells sell hides hide buries bury lends lend returns return receives".split()
)
PRONOUNS = frozenset("he she it they we i you his her its their".split())
GROUP = frozenset("they we both everyone together".split())
EXPRESSIONS: dict[str, str] = {
    **dict.fromkeys(("smile", "smiles", "smiling", "smiled", "grin", "grins", "grinning", "laugh", "laughs",
                     "laughing", "beams", "beaming", "chuckles", "happy", "happily", "joy", "joyful"), "smile"),
    **dict.fromkeys(("frown", "frowns", "frowning", "scowl", "scowls", "glare", "glares", "glaring", "sulks",
                     "angry", "angrily", "furious", "grimaces", "scowling"), "frown"),
    **dict.fromkeys(("shout", "shouts", "shouting", "yell", "yells", "yelling", "scream", "screams", "screaming",
                     "roar", "roars", "cries out", "calls out", "shrieks", "bellows", "sings", "sing"), "shout"),
    **dict.fromkeys(("cry", "cries", "crying", "weep", "weeps", "weeping", "sob", "sobs", "sobbing", "tears",
                     "tearful", "sad", "sadly", "mourns"), "cry"),
    **dict.fromkeys(("surprise", "surprised", "gasp", "gasps", "gasping", "shocked", "startled", "astonished",
                     "amazed", "stunned", "widen", "widens", "wide", "stares", "staring", "agape", "afraid",
                     "scared", "terrified", "frightened", "fear"), "surprise"),
}


def mentions(action: str, names: Sequence[Sequence[str]]) -> list[tuple[int, int]]:
    """(word position, character index) of each character named in the action, in order."""
    toks = [w.removesuffix("'s") for w in words(action)]
    found: list[tuple[int, int]] = []
    for ci, aliases in enumerate(names):
        for alias in aliases:
            al = [w.removesuffix("'s") for w in words(alias)]
            if not al:
                continue
            pos = next((i for i in range(len(toks) - len(al) + 1) if toks[i : i + len(al)] == al), None)
            if pos is not None:
                found.append((pos, ci))
                break
    return sorted(found)


def actors(action: str, names: Sequence[Sequence[str]]) -> list[int]:
    """Indexes of the characters who act: the first named (or the first framed, for a pronoun); 'they' is all."""
    if not names:
        return []
    toks = words(action)
    named = mentions(action, names)
    lead = next((t for t in toks if t not in ("then", "suddenly", "now", "slowly", "quietly", "finally")), "")
    if lead in GROUP or (toks and set(toks[:3]) & {"both", "together"}):
        return list(range(len(names)))
    if named and (lead not in PRONOUNS or named[0][0] <= 1):
        return [named[0][1]]
    return [0]


def held(action: str) -> list[str]:
    """What the actor holds in this panel: things the action names, unless it hands them on or puts them down."""
    toks = words(action)
    if set(toks) & LETS_GO:
        return []
    out: list[str] = []
    for t in toks:
        item = HOLDABLE.get(t) or HOLDABLE.get(t[:-1] if t.endswith("s") else "")
        if item and t not in out:
            out.append(t.removesuffix("s") if t not in HOLDABLE else t)
    return out[:2]


def expression(action: str) -> str:
    """The face the action asks for: smile, frown, shout, cry, surprise, or '' for a calm face."""
    toks = words(action)
    text = " ".join(toks)
    for phrase in ("cries out", "calls out"):
        if f" {phrase} " in f" {text} ":
            return "shout"
    hits = [EXPRESSIONS[t] for t in toks if t in EXPRESSIONS]
    if "eyes" in toks and ({"widen", "widens", "wide"} & set(toks)):
        return "surprise"
    return hits[0] if hits else ""
