"""Choosing a panel's reference images for a multi-reference model: order, limit, what is left out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.events import (
    CharacterReferenceSet,
    Event,
    LocationSet,
    PanelDrawn,
    Record,
    SceneChanged,
    StyleSet,
    Undone,
    WorldCreated,
)
from engine.jobs import Reference, RenderJob
from engine.references import choose_references, panel_places
from engine.world import ImageRef, Panel, Shot, World
from tests.planner_support import reg

MIRA = "a young woman with short red hair, green eyes, wearing a blue scarf"
TOM = "a tall man with a black beard, wearing a leather jacket"


def panel(index: int, *frame: str) -> Panel:
    return Panel(index=index, parent=index - 1 or None, command="x", author="u", shot=Shot(characters=frame),
                 prompt="", negative_prompt="", seed=index, width=64, height=64, steps=1)


def records(*events: Event) -> list[Record]:
    return [Record(seq=i, group=i, author="u", event=e) for i, e in enumerate(events)]


def story() -> tuple[list[Record], World]:
    """Mira alone in the tavern (1), Tom alone on the pier (2), both back in the tavern (3)."""
    recs = records(
        WorldCreated(title="t"), reg("Mira", MIRA), reg("Tom", TOM),
        LocationSet(name="Tavern", description="a smoky tavern"), LocationSet(name="Pier", description="a pier"),
        SceneChanged(location="Tavern"), PanelDrawn(panel=panel(1, "Mira")),
        SceneChanged(location="Pier"), PanelDrawn(panel=panel(2, "Tom")),
        SceneChanged(location="Tavern"), PanelDrawn(panel=panel(3, "Mira", "Tom")),
    )  # fmt: skip
    world = World(id="w")
    for r in recs:
        world = r.event.apply(world)
    return recs, world


IMAGES = {1: "img1", 2: "img2", 3: "img3"}
BOTH = Shot(characters=("Mira", "Tom"), action="they talk")


def test_panel_places_follow_the_scene_and_skip_undone_panels() -> None:
    recs, _ = story()
    assert panel_places(recs) == {1: "Tavern", 2: "Pier", 3: "Tavern"}
    undone = [*recs, Record(seq=99, group=100, author="u", event=Undone(group=recs[-1].group))]
    assert panel_places(undone) == {1: "Tavern", 2: "Pier"}


def test_priority_order_characters_then_place_then_style_then_previous() -> None:
    recs, w = story()
    w = StyleSet(reference=ImageRef("sref", 80)).apply(w)
    w = CharacterReferenceSet(name="Tom", reference=ImageRef("tom-photo", 40)).apply(w)
    choice = choose_references(w, BOTH, 10, IMAGES, panel_places(recs), previous=3, previous_weight=0.3)
    # Mira has no reference: her first solo panel (1) stands in; it is also the tavern's first panel.
    assert [(r.kind, r.name, r.image) for r in choice.used] == [
        ("character", "Mira", "img1"), ("character", "Tom", "tom-photo"), ("style", "style", "sref"),
        ("previous", "panel 3", "img3")]  # fmt: skip
    assert choice.used[0].also == (("place", "Tavern"),)
    assert choice.index_of("place", "tavern") == 1 and choice.index_of("character", "Tom") == 2
    assert [r.weight for r in choice.used] == [1.0, 0.4, 0.8, 0.3]
    assert choice.left_out == ()
    assert choice.describe("image")[0] == "image 1: Mira, the place (Tavern) (its first solo panel, panel 1)"


def test_the_limit_keeps_the_highest_priority_and_reports_the_rest() -> None:
    recs, w = story()
    w = StyleSet(reference=ImageRef("sref", 80)).apply(w)
    w = CharacterReferenceSet(name="Tom", reference=ImageRef("tom-photo")).apply(w)
    w = CharacterReferenceSet(name="Mira", reference=ImageRef("mira-photo")).apply(w)
    choice = choose_references(w, BOTH, 2, IMAGES, panel_places(recs), previous=3)
    assert [r.name for r in choice.used] == ["Mira", "Tom"]
    assert choice.left_out == ("the place (Tavern): over the model's limit of 2 images",
                               "the style image: over the model's limit of 2 images",
                               "the previous panel (panel 3): over the model's limit of 2 images")
    assert choose_references(w, BOTH, 0, IMAGES, panel_places(recs)).used == ()


def test_anchored_reference_names_its_panel_and_missing_images_are_reported() -> None:
    recs, w = story()
    w = CharacterReferenceSet(name="Mira", reference=ImageRef("img1"), auto=True).apply(w)
    w = SceneChanged(location="Pier").apply(w)
    choice = choose_references(w, BOTH, 4, {1: "img1"}, panel_places(recs), previous=3)
    assert choice.used[0].source == "anchored to panel 1"
    # Tom's solo panel and the pier's first panel (2) and the previous one (3) are still rendering.
    assert choice.left_out == ("Tom: no reference image and no solo panel yet", "Pier: no panel drawn there yet",
                               "the previous panel (3): not drawn yet")


def test_style_weight_zero_and_no_previous_leave_them_out() -> None:
    recs, w = story()
    w = StyleSet(reference=ImageRef("sref", 0)).apply(w)
    choice = choose_references(w, Shot(), 4, IMAGES, panel_places(recs), previous=3, previous_weight=0.0)
    assert [r.kind for r in choice.used] == ["place"]
    assert choice.left_out == ("the style image: --sw 0",)


def test_edit_puts_the_panel_first_and_needs_its_image() -> None:
    recs, w = story()
    choice = choose_references(w, BOTH, 2, IMAGES, panel_places(recs), edit=3)
    assert [(r.kind, r.image) for r in choice.used] == [("edit", "img3"), ("character", "img1")]
    assert choice.left_out[0] == "Tom: over the model's limit of 2 images"
    assert choice.index_of("edit") == 1
    with pytest.raises(ValueError, match="no image yet"):
        choose_references(w, BOTH, 2, {1: "img1"}, panel_places(recs), edit=3)


def test_job_references_keep_the_order_and_the_kinds() -> None:
    recs, w = story()
    choice = choose_references(w, BOTH, 4, IMAGES, panel_places(recs), previous=2, previous_weight=0.5)
    refs = choice.job_references(lambda sha: f"/blobs/{sha}.png")
    assert refs == (Reference("Mira", "/blobs/img1.png", 1.0, "character"),
                    Reference("Tom", "/blobs/img2.png", 1.0, "character"))
    # Panel 2 is Tom's solo panel and the previous panel at once: one image, two roles.
    assert choice.used[1].also == (("previous", "panel 2"),)


def test_batch_key_shares_a_pass_only_with_equal_model_size_steps_and_reference_count() -> None:
    one = (Reference("a", "a.png"),)
    job = RenderJob(job_id="j", world_id="w", panel=1, user="u", prompt="p", negative_prompt="", seed=1,
                    width=64, height=64, steps=4, references=one, model="m")
    assert job.batch_key() == replace(job, job_id="k", seed=9, prompt="q",
                                      references=(Reference("b", "b.png"),)).batch_key()
    for other in (replace(job, model="n"), replace(job, width=96), replace(job, steps=8),
                  replace(job, references=(*one, Reference("b", "b.png")))):
        assert other.batch_key() != job.batch_key()
