"""The sentence compiler: world + shot + chosen references -> the prompt of an LLM-encoder model.

Models such as FLUX.2 and Qwen-Image read sentences through a language model (hundreds of tokens,
not CLIP's 77) and take reference images they know as "image 1", "image 2" ... So every panel
says, in sentences: the /edit instruction, style, camera, each framed character tied to its
reference image ("Mira is the character in image 1 (same face and hair): ...") with the full
current appearance (the model does not know who Mira is), the action, the place (as in its
establishing image), props, time, light, weather, the style image and the previous panel. A model
without a negative prompt gets `--no` as a "Without ..." sentence, and /why says so. Over the
budget the lowest-priority sentences go first and are listed in `dropped`, as in engine/prompt.py.
Pure: standard library and engine values only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from engine.appearance import character_text
from engine.comic.speech import strip_speech
from engine.jobs import Capabilities
from engine.prompt import (
    PromptSpec,
    estimate_tokens,
    fit_parts,
    light_text,
    location_text,
    negative_text,
    time_phrase,
)
from engine.references import ReferenceChoice, choose_references
from engine.world import Shot, World

DEFAULT_BUDGET = 512  # FLUX.2's max_sequence_length, before its chat template

# Lowest priority first. "edit" (the /edit instruction) is never dropped.
DROP_ORDER = ("prop", "previous", "light", "weather", "style_suffix", "time", "style_ref", "negative",
              "camera", "place", "style", "action", "character")
_LABEL = {"prop": "prop", "previous": "previous panel", "light": "lighting", "weather": "weather",
          "style_suffix": "style suffix", "time": "time of day", "style_ref": "style image",
          "negative": "--no", "camera": "camera", "place": "location", "style": "style", "action": "action",
          "character": "character"}
# What a reference keeps of a character, by its --cw weight (0..1): the rest comes from the words.
_KEPT = ((0.34, "same face"), (0.67, "same face and hair"), (2.0, "same face, hair and clothes"))


def sentence(text: str) -> str:
    """One sentence: stripped, capitalised, ending in a full stop."""
    text = " ".join(text.split()).rstrip(",;")
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def kept_by(weight: float) -> str:
    """What a character reference of this --cw weight (0..1) keeps: "same face", ..."""
    return next(words for limit, words in _KEPT if weight < limit)


def _parts(world: World, shot: Shot, refs: ReferenceChoice, word: str, instruction: str,
           negatives: str) -> list[tuple[str, str]]:
    s, sc = world.style, world.scene
    parts: list[tuple[str, str]] = []
    edit = refs.index_of("edit")
    if instruction.strip():
        target = f"{word} {edit}" if edit else "the picture"
        parts.append(("edit", f"Edit {target}: {sentence(instruction)} Keep everything else unchanged."))
    if s.prefix.strip():
        parts.append(("style", sentence(s.prefix)))
    if shot.camera:
        parts.append(("camera", sentence(f"camera: {shot.camera}")))
    for name in shot.characters:
        c = world.find_character(name)
        if c is None:
            continue
        looks = character_text(c)
        i = refs.index_of("character", c.name)
        if i is not None:
            head = f"{c.name} is the character in {word} {i} ({kept_by(refs.used[i - 1].weight)})"
        else:
            head = c.name
        parts.append(("character", sentence(f"{head}: {looks}" if looks else head)))
    action = strip_speech(shot.action)  # quoted speech goes into balloons: image models would letter it
    if action.strip():
        parts.append(("action", sentence(action)))
    loc = world.location(sc.location)
    if sc.location:
        where = location_text(loc.name, loc.description) if loc else location_text(sc.location, "")
        i = refs.index_of("place", sc.location)
        parts.append(("place", sentence(f"{where}, as in {word} {i}" if i else where)))
    parts += [("prop", p) for p in (loc.props if loc else ())]
    if sc.time_of_day:
        parts.append(("time", sentence(time_phrase(sc.time_of_day))))
    if light_text(sc):
        parts.append(("light", sentence(f"lighting: {light_text(sc)}")))
    if sc.weather:
        parts.append(("weather", sentence(f"weather: {sc.weather}")))
    if s.suffix.strip():
        parts.append(("style_suffix", sentence(s.suffix.strip().lstrip(","))))
    if (i := refs.index_of("style")) is not None:
        parts.append(("style_ref", f"Match the art style and palette of {word} {i}."))
    if (i := refs.index_of("previous")) is not None:
        parts.append(("previous", f"{word.capitalize()} {i} is the previous panel: keep its palette and light."))
    if negatives:
        parts.append(("negative", sentence(f"without {negatives}")))
    return parts


def text_of(parts: list[tuple[str, str]]) -> str:
    """The prompt: sentences in order, the props gathered into one where the first stood."""
    props = [t for k, t in parts if k == "prop"]
    out: list[str] = []
    for kind, text in parts:
        if kind != "prop":
            out.append(text)
        elif props:
            out.append(sentence("in the scene: " + ", ".join(props)))
            props = []
    return " ".join(out)


def compile_prose(world: World, shot: Shot, budget: int = DEFAULT_BUDGET,
                  count_tokens: Callable[[str], int] | None = None, extra_negative: str = "", *,
                  references: ReferenceChoice | None = None, negative_prompt: bool = False,
                  reference_word: str = "image", instruction: str = "") -> PromptSpec:
    """The panel's prompt in sentences within `budget` tokens (the model tokenizer's, via count_tokens).

    references: what choose_references() picked, in the order the renderer passes the images;
    negative_prompt: whether the model takes one (else --no becomes a sentence);
    instruction: the /edit text (the edited panel is the choice's "edit" image).
    """
    refs = references or ReferenceChoice()
    count = count_tokens or estimate_tokens
    negatives = negative_text(world, extra_negative)
    folded = negatives if not negative_prompt else ""
    parts = _parts(world, shot, refs, reference_word, instruction, folded)
    dropped = fit_parts(parts, budget, count, text_of, DROP_ORDER, _LABEL)
    notes: list[str] = []
    if any(k == "negative" for k, _ in parts):
        notes.append(f"This model takes no negative prompt: “{sentence('without ' + folded)}” was written into "
                     "the prompt instead.")
    notes += [f"Reference left out: {why}" for why in refs.left_out]
    return PromptSpec(prompt=text_of(parts), negative=negatives if negative_prompt else "",
                      dropped=dropped, references=refs.describe(reference_word), parts=tuple(parts),
                      notes=tuple(notes))


def compile_with_references(world: World, shot: Shot, caps: Capabilities, panel_images: Mapping[int, str],
                            places: Mapping[int, str], *, budget: int = 0,
                            count_tokens: Callable[[str], int] | None = None, extra_negative: str = "",
                            previous: int | None = None, previous_weight: float = 0.0, edit: int | None = None,
                            instruction: str = "") -> tuple[PromptSpec, ReferenceChoice]:
    """What composing a panel for a multi-reference renderer needs: its references and its sentences.

    caps: the renderer's Capabilities (limit, token budget, negative prompt, "image"/"Picture");
    budget: used when caps gives none. For /edit pass `edit` (the panel) and `instruction` (the text).
    """
    choice = choose_references(world, shot, caps.max_references, panel_images, places, previous=previous,
                               previous_weight=previous_weight, edit=edit)
    spec = compile_prose(world, shot, caps.max_prompt_tokens or budget or DEFAULT_BUDGET, count_tokens,
                         extra_negative, references=choice, negative_prompt=caps.negative_prompt,
                         reference_word=caps.reference_word, instruction=instruction)
    return spec, choice
