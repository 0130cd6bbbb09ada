"""Edit instructions in the planner's words, and the composing choices around /edit (pure: no store, no renderer)."""

from __future__ import annotations

import pytest

from engine.compose import Author, RenderOptions, Target, compose, uses_sentences
from engine.editing import compose_edit
from engine.errors import UnknownPanel, WorldError
from engine.events import LocationSet, PropsChanged, Record, SceneChanged
from engine.instructions import as_statement
from engine.jobs import Capabilities
from engine.planner import plan
from engine.prose import compile_prose
from engine.world import Shot, World
from tests.planner_support import MIRA, TOM, reg

AUTHOR = Author("ada", "test:ada")
KLEIN = Capabilities(reads_images=True, max_references=4, prompt_style="sentences", max_prompt_tokens=400,
                     negative_prompt=False, can_edit=True)


def world() -> tuple[World, list[Record]]:
    events = [reg("Mira", MIRA), reg("Tom", TOM), LocationSet(name="Tavern", description="a smoky tavern"),
              SceneChanged(location="Tavern"), PropsChanged(location="Tavern", added=("a lantern",))]
    w, records = World(id="w"), []
    for i, e in enumerate(events, 1):
        records.append(Record(seq=i, group=i, author="ada", event=e))
        w = e.apply(w)
    return w, records


def draw(w: World, records: list[Record], text: str) -> tuple[World, list[Record]]:
    c = compose(w, text, RenderOptions(), author=AUTHOR, job_id="j", command=f"/continue {text}", target=Target())
    group = max(r.group for r in records) + 1
    for e in c.events:
        records.append(Record(seq=len(records) + 1, group=group, author="ada", event=e))
        w = e.apply(w)
    return w, records


@pytest.mark.parametrize(("typed", "said"), [
    ("make her scarf red", "paint her scarf red"),
    ("Make her hair bright blue!", "dye her hair bright blue"),
    ("remove the lantern", "the lantern is removed"),
    ("please remove her scarf.", "she takes off her scarf"),
    ("remove Mira's scarf", "Mira takes off her scarf"),
    ("make her scarf red and remove the lantern", "paint her scarf red, the lantern is removed"),
    ("make it night", "make it night"),  # the planner reads this one as it is
    ("make her look sad", "make her look sad"),  # no known shape: left for the action
    ("remove Tom", "remove Tom"),  # a character is not a prop
])
def test_orders_become_statements(typed: str, said: str) -> None:
    w, _ = world()
    assert as_statement(w, typed) == said


def test_the_statements_are_read_as_the_changes_they_mean() -> None:
    w, _ = world()
    events = plan(w, as_statement(w, "make Mira's scarf red and remove the lantern")).events
    assert {type(e).__name__ for e in events} == {"AppearanceChanged", "PropsChanged"}


def test_sentences_keep_quoted_speech_out_of_the_prompt() -> None:
    w, _ = world()
    spec = compile_prose(w, Shot(characters=("Mira",), action='Mira whispers "Who is there?"'))
    assert "Mira whispers." in spec.prompt and "Who is there" not in spec.prompt


def test_the_renderer_capabilities_choose_tags_or_sentences() -> None:
    assert not uses_sentences(Capabilities()) and not uses_sentences(Capabilities(reads_images=True))
    assert uses_sentences(KLEIN) and uses_sentences(Capabilities(prompt_style="sentences"))
    w, _ = world()
    tags = compose(w, "Mira waves at Tom", RenderOptions(), author=AUTHOR, job_id="j", command="c", target=Target())
    prose = compose(w, "Mira waves at Tom", RenderOptions(), author=AUTHOR, job_id="j", command="c",
                    target=Target(capabilities=KLEIN))
    assert "Mira, a young woman" in tags.panel.prompt and "Mira: a young woman" in prose.panel.prompt
    assert prose.panel.prompt.endswith(".") and not tags.panel.prompt.endswith(".")
    # Nothing drawn yet: the place's shot is missing, and /why is told.
    assert any("Tavern: no panel drawn there yet" in n for n in prose.panel.prompt_notes)


def test_an_edit_that_cannot_be_drawn_is_refused() -> None:
    w, records = world()
    w, records = draw(w, records, "Mira reads")
    target = Target(capabilities=KLEIN)
    with pytest.raises(UnknownPanel):
        compose_edit(w, records, 4, "make it red", author=AUTHOR, job_id="j", command="c", target=target)
    with pytest.raises(WorldError, match="no image yet"):  # an image model edits the picture: it must exist
        compose_edit(w, records, 1, "make her scarf red", author=AUTHOR, job_id="j", command="c", target=target)
    with pytest.raises(WorldError, match="say what to change"):
        compose_edit(w, records, 1, "  ", author=AUTHOR, job_id="j", command="c", target=Target())
    edit = compose_edit(w, records, 1, "make her scarf red", author=AUTHOR, job_id="j", command="c", target=target,
                        panel_images={1: "a" * 64})
    assert [(r.kind, r.name) for r in edit.job.references] == [("edit", "panel 1")]
    assert edit.panel.take == 1 and edit.panel.prompt.startswith("Edit image 1: Make her scarf red.")
