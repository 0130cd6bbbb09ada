"""WorldService end to end with the real store, engine queue and sketch renderer."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import pytest
from PIL import Image

from bot.app import App, open_app
from bot.config import Settings
from bot.context import Actor, Attachment, Place, Reply
from engine.appearance import character_text
from tests.conftest import ADA, BEN, MOD, PLACE
from tests.fakes import ImageReadingSketch, RecordingOutlet


async def say(app: App, line: str, actor: Actor = ADA, place: Place = PLACE, files: tuple = ()) -> Reply:
    reply = await app.service.execute_text(line, actor, place, files)
    if reply.ticket is not None:
        await reply.ticket.done
    return reply


async def world_of(app: App, place: Place = PLACE):
    world_id = await app.service.world_id_for(place)
    assert world_id is not None
    return await app.service.world(world_id)


def png(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 48), color).save(buf, "PNG")
    return buf.getvalue()


async def start(app: App) -> None:
    assert not (await say(app, '/world new "The Pier" --style ink drawing --seed 7')).error
    await say(app, "/cref Mira a young woman with short red hair, wearing a blue scarf")
    await say(app, "/cref Tom an old fisherman with a white beard", BEN)
    await say(app, "/scene Harbour a windy stone harbour --time morning --weather fog")


async def test_a_panel_carries_descriptions_scene_and_style(app: App, outlet: RecordingOutlet) -> None:
    await start(app)
    reply = await say(app, "/continue Mira waves at Tom")
    assert "Panel 1" in reply.text and not reply.error
    [d] = outlet.delivered
    prompt = d.record["prompt"].lower()
    for phrase in ("ink drawing", "short red hair", "a blue scarf", "white beard", "harbour", "morning", "fog"):
        assert phrase in prompt
    assert d.record["shot"]["characters"] == ["Mira", "Tom"]
    assert d.record["scene"] == {"location": "Harbour", "time_of_day": "morning", "lighting": None, "weather": "fog"}
    assert d.record["author"] == "ada" and d.record["parent"] is None and d.record["size"] == [768, 512]
    assert Image.open(io.BytesIO(d.png)).size == (768, 512)
    job = await app.store.job(d.job_id)
    assert job is not None and job.state == "posted" and job.message_id == f"msg-{d.job_id}"


async def test_panels_chain_and_seeds_are_deterministic(app: App, outlet: RecordingOutlet) -> None:
    await start(app)
    await say(app, "/continue Mira waves")
    await say(app, "/continue she turns around --seed 42")
    first, second = outlet.delivered
    assert (first.record["panel"], second.record["panel"], second.record["parent"]) == (1, 2, 1)
    assert second.record["seed"] == 42 and first.record["seed"] != 42


async def test_undo_reverts_the_last_command_and_respects_authors(app: App) -> None:
    await start(app)
    refused = await say(app, "/undo", ADA)  # the last change (the scene) was ada's: allowed
    assert not refused.error and (await world_of(app)).scene.location is None
    assert refused.text.startswith("↩️ Undid your change:")  # not "ada's" to ada herself
    refused = await say(app, "/undo", ADA)  # now Tom (ben's) is last: ada is the creator, so allowed too
    assert not refused.error and refused.text.startswith("↩️ Undid ben's change:")
    await say(app, "/cref Tom an old fisherman", BEN)
    other = Actor("test", "u-cy", "cy")
    refused = await say(app, "/undo", other)
    assert refused.error and "ben" in refused.text
    assert (await world_of(app)).find_character("Tom") is not None
    assert not (await say(app, "/undo", MOD)).error
    assert (await world_of(app)).find_character("Tom") is None


async def test_undo_of_a_panel_removes_it_and_its_scene_change(app: App, outlet: RecordingOutlet) -> None:
    await start(app)
    await say(app, "/continue Mira walks on")
    version = (await world_of(app)).version
    await say(app, "/undo")
    world = await world_of(app)
    assert world.panels == () and world.version == version + 1
    assert "drew panel 1" in (await say(app, "/world history")).text
    assert " · 0 panels · " in (await say(app, "/world show")).text
    await say(app, "/continue Mira walks on")
    assert " · 1 panel · " in (await say(app, "/world show")).text


async def test_locked_characters_only_change_for_their_author_creator_or_mods(app: App) -> None:
    await start(app)
    await say(app, "/cref Tom an old fisherman with a white beard --lock", BEN)
    cy = Actor("test", "u-cy", "cy")
    refused = await say(app, "/cref Tom a young sailor", cy)
    assert refused.error and "locked" in refused.text
    assert "white beard" in character_text((await world_of(app)).character("Tom"))
    assert not (await say(app, "/cref Tom an old fisherman with a grey beard", MOD)).error


async def test_history_names_authors(app: App) -> None:
    await start(app)
    text = (await say(app, "/world history")).text
    assert "ada: registered Mira" in text and "ben: registered Tom" in text


async def test_branch_copies_the_world_up_to_a_panel(app: App) -> None:
    await start(app)
    await say(app, "/continue Mira waves")
    await say(app, "/continue night falls")
    branch_place = Place("test", "ws", "chan", "thread-2")

    async def new_place(title: str) -> Place:
        assert "branch at panel 1" in title
        return branch_place

    reply = await app.service.execute_text("/world branch 1", ADA, PLACE, new_place=new_place)
    assert not reply.error
    branch = await world_of(app, branch_place)
    assert [p.index for p in branch.panels] == [1] and branch.find_character("Tom") is not None
    assert len((await world_of(app)).panels) == 2
    assert (await say(app, "/world branch 9")).error


async def test_export_import_export_is_identical(app: App) -> None:
    await start(app)
    await say(app, "/cref Mira a young woman with short red hair", files=(Attachment("m.png", png()),))
    await say(app, "/continue Mira waves")
    await say(app, "/undo")
    first = (await say(app, "/world export")).files[0][1]
    other = Place("test", "ws", "chan", "thread-3")
    reply = await say(app, "/world import", ADA, other, files=(Attachment("w.json", first),))
    assert not reply.error, reply.text
    again = (await say(app, "/world export", ADA, other)).files[0][1]
    assert again == first
    assert (await world_of(app, other)).character("Mira").references


@pytest.mark.parametrize("data", [b"{}", b"not json", b'{"format": "worldloom.world", "version": 1, "title": "x",'
                                  b' "events": [{"seq": 1, "group": 1, "author": "a", "at": 0,'
                                  b' "event": {"kind": "panel_drawn"}}], "images": {}}'])
async def test_invalid_world_files_are_refused_and_change_nothing(app: App, data: bytes) -> None:
    other = Place("test", "ws", "chan", "thread-4")
    reply = await say(app, "/world import", ADA, other, files=(Attachment("w.json", data),))
    assert reply.error and len(reply.text) < 300
    assert await app.service.world_id_for(other) is None


async def test_commands_at_the_same_moment_build_on_each_other(app: App, outlet: RecordingOutlet) -> None:
    await start(app)
    actors = [Actor("test", f"u{i}", f"user{i}") for i in range(6)]
    replies = await asyncio.gather(*(say(app, f"/continue step {i}", a) for i, a in enumerate(actors)))
    assert not any(r.error for r in replies)
    panels = sorted(d.record["panel"] for d in outlet.delivered)
    assert panels == [1, 2, 3, 4, 5, 6]
    world = await world_of(app)
    assert [p.parent for p in world.panels] == [None, 1, 2, 3, 4, 5]
    await asyncio.gather(*(say(app, f"/cref Extra{i} a person in a hat", a) for i, a in enumerate(actors)))
    assert sum(ch.name.startswith("Extra") for ch in (await world_of(app)).characters) == 6


@pytest.mark.parametrize("line", ["/contnue she runs", "/continue " + "x" * 10_000, "/cref", "/scene --time",
                                  "/reroll 99", "/why 5", "/cref Mira a girl --cw 150", "/world branch x",
                                  "/imagine", "", "   ", "/world frobnicate", "🐉🐉🐉", '/cref "Mira a girl'])
async def test_bad_input_gets_a_short_error_and_changes_nothing(app: App, line: str) -> None:
    await start(app)
    before = await world_of(app)
    reply = await say(app, line)
    assert reply.error and 0 < len(reply.text) < 600
    assert (await world_of(app)) == before


async def test_odd_but_valid_text_is_kept(app: App, outlet: RecordingOutlet) -> None:
    await start(app)
    line = "/continue Mira's scarf flutters 🧣 — «au revoir», she says \"don't go\" 日本語"
    assert not (await say(app, line)).error
    record = outlet.delivered[-1].record
    assert record["command"] == line
    for piece in ("🧣", "«au revoir»", "\"don't go\"", "日本語"):
        assert piece in record["shot"]["action"] or piece in record["prompt"]


async def test_commands_outside_a_world_explain_how_to_start(app: App) -> None:
    reply = await say(app, "/continue hello", place=Place("test", "ws", "chan", "nowhere"))
    assert reply.error and "/world new" in reply.text


async def test_reroll_keeps_the_prompt_and_changes_the_seed(app: App, outlet: RecordingOutlet) -> None:
    await start(app)
    await say(app, "/continue Mira waves")
    await say(app, "/reroll")
    first, second = outlet.delivered
    assert second.record["prompt"] == first.record["prompt"] and second.record["seed"] != first.record["seed"]
    assert second.take == 1 and (await world_of(app)).panels[0].take == 1


async def test_cref_with_an_image_stores_a_clean_reference(app: App) -> None:
    await start(app)
    reply = await say(app, "/cref Mira --cw 40", files=(Attachment("m.png", png()),))
    assert not reply.error, reply.text
    ref = (await world_of(app)).character("Mira").references[0]
    assert ref.weight == 40 and await app.store.has_blob(ref.image)
    bad = await say(app, "/cref Tom", BEN, files=(Attachment("t.txt", b"not an image"),))
    assert bad.error and "image" in bad.text
    assert not (await world_of(app)).character("Tom").references


async def test_rate_limit_answers_clearly(app: App) -> None:
    await start(app)
    replies = [await say(app, f"/continue beat {i}") for i in range(app.service.limits.renders_per_minute + 1)]
    assert not any(r.error for r in replies[:-1])
    assert replies[-1].error and "slow down" in replies[-1].text


async def test_why_explains_a_panel(app: App) -> None:
    await start(app)
    await say(app, "/continue close-up Mira smiles")
    text = (await say(app, "/why 1")).text
    assert "Panel 1" in text and "Kept from before" in text and "Mira" in text and "Dropped" in text


async def test_a_configured_llm_planner_plans_off_the_loop_and_falls_back(tmp_path) -> None:
    import json
    import threading

    from bot.app import open_app
    from bot.config import Settings
    from engine.llm_planner import LLMPlanner
    from engine.renderers.storyboard.renderer import SketchRenderer

    threads: list[str] = []

    def generate(prompt: str) -> str:
        threads.append(threading.current_thread().name)
        if len(threads) > 1:  # the second answer is garbage, as from a tiny random model
            return "I am a tiny random model ###"
        return json.dumps({"shot": {"characters": ["Mira"], "camera": "wide shot", "action": "Mira dances"},
                           "events": [{"type": "scene", "weather": "snow"}]})

    async with open_app(Settings(database=str(tmp_path / "w.db")), renderer=SketchRenderer(),
                        planner=LLMPlanner(generate, timeout_s=5)) as app:
        outlet = RecordingOutlet()
        app.outbox.connect("test", outlet)
        await start(app)
        await say(app, "/continue Mira dances in the snow")
        await say(app, "/continue Mira sings")
        planned, fallback = outlet.delivered
    assert planned.record["shot"]["camera"] == "wide shot" and planned.record["scene"]["weather"] == "snow"
    assert fallback.record["shot"]["action"] == "Mira sings"  # the rule planner's reading
    assert threads and threading.main_thread().name not in threads


@pytest.fixture
async def reading_app(tmp_path, outlet: RecordingOutlet) -> AsyncIterator[App]:
    """An app whose renderer reads reference images (so anchoring and the previous panel apply)."""
    settings = Settings(database=str(tmp_path / "r.db"), engine={"previous_panel_reference": 0.3})
    async with open_app(settings, renderer=ImageReadingSketch()) as app:
        app.outbox.connect("test", outlet)
        yield app


async def test_a_first_solo_panel_anchors_the_character_and_undo_takes_both_back(reading_app: App) -> None:
    app = reading_app
    await start(app)
    await say(app, "/continue Mira waves")
    mira = (await world_of(app)).character("Mira")
    images = await app.store.panel_images((await world_of(app)).id)
    assert mira.references and mira.references[0].image == images[1]
    await say(app, "/continue Tom and Mira talk")  # two in frame: no anchor for Tom
    assert not (await world_of(app)).character("Tom").references
    await say(app, "/undo")  # the newest command, not the anchored panel
    world = await world_of(app)
    assert [p.index for p in world.panels] == [1] and world.character("Mira").references
    await say(app, "/undo")
    world = await world_of(app)
    assert world.panels == () and not world.character("Mira").references


async def test_no_anchoring_for_a_renderer_that_draws_from_words(app: App) -> None:
    await start(app)
    await say(app, "/continue Mira waves")
    assert not (await world_of(app)).character("Mira").references


async def test_the_previous_panel_is_a_weak_style_reference_when_enabled(reading_app: App,
                                                                        outlet: RecordingOutlet) -> None:
    app = reading_app
    await start(app)
    await say(app, "/continue Mira waves")
    await say(app, "/continue Tom waves back")
    first, second = [await app.store.job(d.job_id) for d in outlet.delivered]
    assert first is not None and second is not None
    assert not [r for r in first.spec["job"]["references"] if r["kind"] == "previous"]
    [prev] = [r for r in second.spec["job"]["references"] if r["kind"] == "previous"]
    images = await app.store.panel_images((await world_of(app)).id)
    assert prev["weight"] == 0.3 and prev["path"] == str(app.store.blob_path(images[1]))


async def test_why_keeps_apart_what_was_kept_and_what_changed(app: App) -> None:
    await start(app)
    await say(app, "/continue Mira waves")
    await say(app, "/continue Mira takes off her scarf as night falls")
    text = (await say(app, "/why 2")).text
    kept = text.split("Kept from before:", 1)[1].split("\n", 1)[0]
    changed = text.split("Changed:", 1)[1].split("\n", 1)[0]
    assert "night" in changed and "scarf" in changed
    assert "place Harbour" in kept and "weather fog" in kept
    assert "time" not in kept and "Mira" not in kept


async def test_reroll_of_an_old_panel_draws_its_world_as_it_was(app: App, outlet: RecordingOutlet) -> None:
    await start(app)
    await say(app, "/continue Mira waits")
    await say(app, "/continue Mira walks into a smoky tavern as night falls and takes off her scarf")
    await say(app, "/reroll 1")
    first, _, again = outlet.delivered
    assert again.record["panel"] == 1 and again.take == 1
    assert again.record["scene"] == first.record["scene"]
    assert again.record["characters"] == first.record["characters"]


async def test_a_world_file_with_images_that_are_not_images_is_refused(app: App) -> None:
    import base64
    import hashlib
    import json

    await start(app)
    await say(app, "/cref Mira a young woman", files=(Attachment("m.png", png()),))
    doc = json.loads((await say(app, "/world export")).files[0][1])
    junk = b"\x00random bytes, not an image" * 10
    sha = hashlib.sha256(junk).hexdigest()
    old = next(iter(doc["images"]))
    doc["images"] = {sha: base64.b64encode(junk).decode()}
    text = json.dumps(doc).replace(old, sha)
    other = Place("test", "ws", "chan", "thread-junk")
    reply = await say(app, "/world import", ADA, other, files=(Attachment("w.json", text.encode()),))
    assert reply.error and "not accepted" in reply.text
    assert await app.service.world_id_for(other) is None
