"""The sentence compiler: full appearances, "image N" tied to the reference order, the token budget."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from engine.appearance import character_text
from engine.events import CharacterReferenceSet, Event, LocationSet, PanelDrawn, Record, SceneChanged, StyleSet
from engine.planner import Plan, PlanOptions, plan
from engine.prompt import explain, negative_text
from engine.prose import DROP_ORDER, compile_prose, kept_by
from engine.references import ReferenceChoice, choose_references, panel_places
from engine.world import ImageRef, Panel, Shot, World
from tests.planner_support import MIRA, TOM, base_events, reg

STORY = [
    "Mira walks into the Forest",
    "Tom joins her",
    "close-up, Mira puts on a red hood",
    "they go to the Old Mill at dusk, rain",
    "Tom drops his lantern",
    "wide shot, Zed and Bolt arrive",
    "Mira, Tom, Zed and Bolt stand together",
]


def run_story(lines: list[str]) -> list[tuple[World, Plan, ReferenceChoice, str]]:
    """Plans every line as the service would, drawing each panel; yields what each prompt was built from."""
    events: list[Event] = [*base_events(), StyleSet(negative="blurry", reference=ImageRef("sref", 70)),
                           CharacterReferenceSet(name="Tom", reference=ImageRef("tom-photo", 30))]
    recs = [Record(seq=i, group=i, author="u", event=e) for i, e in enumerate(events)]
    world = World(id="w")
    for r in recs:
        world = r.event.apply(world)
    images: dict[int, str] = {}
    out = []
    for line in lines:
        p = plan(world, line, PlanOptions(carry_characters=True))
        after = world
        for e in p.events:
            after = e.apply(after)
        index = after.next_panel_index
        choice = choose_references(after, p.shot, 4, images, panel_places(recs),
                                   previous=index - 1 if index > 1 else None, previous_weight=0.3)
        out.append((after, p, choice, line))
        drawn = Panel(index=index, parent=index - 1 or None, command=line, author="u", shot=p.shot, prompt="",
                      negative_prompt="", seed=index, width=64, height=64, steps=4)
        for e in [*p.events, PanelDrawn(panel=drawn)]:
            recs.append(Record(seq=len(recs), group=len(recs), author="u", event=e))
            world = e.apply(world)
        images[index] = f"img{index}"
    return out


@pytest.mark.parametrize("step", range(len(STORY)))
def test_every_framed_character_is_fully_described_and_tied_to_its_image(step: int) -> None:
    world, p, choice, line = run_story(STORY)[step]
    spec = compile_prose(world, p.shot, 2000, references=choice)
    assert p.shot.characters, line
    for name in p.shot.characters:
        ch = world.character(name)
        assert character_text(ch) in spec.prompt, (line, name)
    # Every "image N" names the Nth reference: the character, the place, the style or the previous panel.
    for sentence in re.split(r"(?<=\.) ", spec.prompt):
        for n in map(int, re.findall(r"\bimage (\d+)", sentence, flags=re.IGNORECASE)):
            ref = choice.used[n - 1]
            names = [name for _, name in ref.roles()]
            said = ("style" in names and "style" in sentence) or ("previous" in sentence and
                                                                  any(k == "previous" for k, _ in ref.roles()))
            assert said or any(name.casefold() in sentence.casefold() for name in names), (line, sentence, ref)
    mentioned = {int(n) for n in re.findall(r"\bimage (\d+)", spec.prompt, flags=re.IGNORECASE)}
    assert mentioned == set(range(1, len(choice.used) + 1)), (line, spec.prompt)


def test_the_story_wardrobe_change_reaches_the_sentence_and_the_reference_stays_tom() -> None:
    steps = run_story(STORY)
    world, p, choice, _ = steps[2]
    assert "red hood" in compile_prose(world, p.shot, references=choice).prompt
    world, p, choice, _ = steps[4]
    tom = choice.index_of("character", "Tom")
    assert tom is not None and choice.used[tom - 1].image == "tom-photo"
    # --cw 30 keeps only Tom's face: his clothes come from the words.
    assert f"Tom is the character in image {tom} (same face)" in compile_prose(world, p.shot, references=choice).prompt


def test_a_crowded_panel_leaves_references_out_and_why_lists_them() -> None:
    world, p, choice, _ = run_story(STORY)[-1]
    assert len(p.shot.characters) == 4 and len(choice.used) == 4
    spec = compile_prose(world, p.shot, references=choice)
    assert any("over the model's limit of 4 images" in n for n in spec.notes)
    why = explain(world, p, spec)
    assert "Reference images used for: image 1: Mira" in why and "Reference left out:" in why


def test_stays_within_the_pipeline_tokenizer_budget() -> None:
    pytest.importorskip("transformers")
    from engine.renderers.diffusion.toys import byte_tokenizer

    tok = byte_tokenizer((), "")  # the toy FLUX.2 tokenizer class: one token per byte

    def count(text: str) -> int:
        return len(tok(text, add_special_tokens=False)["input_ids"])

    world, p, choice, _ = run_story(STORY)[-1]
    full = compile_prose(world, p.shot, 100_000, count, references=choice)
    for budget in (550, 500, 400, 300):
        spec = compile_prose(world, p.shot, budget, count, references=choice)
        assert count(spec.prompt) <= budget < count(full.prompt)
        kinds = [d.split(":")[0] for d in spec.dropped]
        # dropped lowest priority first; the characters' appearance goes last
        order = ["prop", "previous panel", "lighting", "weather", "style suffix", "time of day", "style image",
                 "--no", "camera", "location", "style", "action", "character"]
        assert [order.index(k) for k in kinds] == sorted(order.index(k) for k in kinds)
        if budget >= 400:
            assert all(character_text(world.character(n)) in spec.prompt for n in p.shot.characters)
    assert len(DROP_ORDER) == len(order)


def test_no_negative_prompt_folds_no_into_without_and_says_so() -> None:
    world, p, choice, _ = run_story(STORY)[0]
    spec = compile_prose(world, p.shot, references=choice, extra_negative="text, watermark")
    assert spec.negative == "" and spec.prompt.endswith("Without blurry, text, watermark.")
    assert spec.notes[0].startswith("This model takes no negative prompt")
    assert "This model takes no negative prompt" in explain(world, p, spec)
    kept = compile_prose(world, p.shot, references=choice, extra_negative="text", negative_prompt=True)
    assert kept.negative == negative_text(world, "text") == "blurry, text" and "Without" not in kept.prompt
    assert not any("negative prompt" in n for n in kept.notes)


def test_qwen_names_pictures_and_an_edit_leads_with_the_instruction() -> None:
    world = World(id="w")
    for e in [*base_events(), SceneChanged(location="Old Mill", time_of_day="night")]:
        world = e.apply(world)
    shot = Shot(characters=("Mira",), action="Mira reads")
    world = replace(world, panels=(Panel(1, None, "x", "u", shot, "", "", 1, 64, 64, 4),))
    choice = choose_references(world, shot, 3, {1: "img1"}, {1: "Old Mill"}, edit=1)
    spec = compile_prose(world, shot, references=choice, reference_word="Picture", instruction="make her scarf red")
    assert spec.prompt.startswith("Edit Picture 1: Make her scarf red. Keep everything else unchanged.")
    # Mira's only solo panel is the one being edited: it plays every role, once.
    assert [r.kind for r in choice.used] == ["edit"] and "Mira is the character in" not in spec.prompt
    # The instruction is never dropped, however small the budget.
    tiny = compile_prose(world, shot, 5, references=choice, instruction="make her scarf red")
    assert tiny.prompt.startswith("Edit image 1: Make her scarf red.") and tiny.dropped


def test_cw_words_and_characters_without_a_reference() -> None:
    assert [kept_by(w) for w in (0.0, 0.3, 0.5, 1.0)] == ["same face", "same face", "same face and hair",
                                                          "same face, hair and clothes"]
    world = World(id="w")
    for e in [reg("Mira", MIRA), reg("Tom", TOM), LocationSet(name="Forest", description="a misty pine forest")]:
        world = e.apply(world)
    spec = compile_prose(world, Shot(characters=("Mira", "Tom"), action="they wave"))
    assert spec.prompt.startswith(f"Mira: {character_text(world.character('Mira'))}.")
    assert "image" not in spec.prompt and spec.references == ()
