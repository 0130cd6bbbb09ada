"""/edit PANEL TEXT on the real service path with the storyboard renderer (which cannot edit images):
a new take redrawn from the panel's plan with the change applied; sure edits only; the latest panel
changes the world from then on, an older one only that take."""

from __future__ import annotations

from bot.app import App
from bot.context import Attachment, Reply
from bot.grammar import parse
from engine.world import World
from tests.conftest import ADA, BEN, PLACE
from tests.fakes import RecordingOutlet


async def say(app: App, line: str, actor=ADA) -> Reply:
    reply = await app.service.execute_text(line, actor, PLACE)
    if reply.ticket is not None:
        await reply.ticket.done
    return reply


async def world_of(app: App) -> World:
    return await app.service.world(await app.service.world_id_for(PLACE) or "")


async def start(app: App) -> None:
    await say(app, '/world new "Harbour tales" --seed 5')
    await say(app, "/cref Mira a young woman with short red hair, wearing a blue scarf")
    await say(app, "/cref Ana a tall woman with black hair, wearing a green scarf")
    await say(app, "/scene Harbour a stone harbour --time morning")
    await say(app, "/continue a lantern hangs by the door")  # panel 1: the lantern is a prop of the harbour
    await say(app, "/continue Mira waves")  # panel 2
    await say(app, "/continue Mira and Ana walk along the pier")  # panel 3


def wearing(delivered, name: str) -> list[str]:
    """What the storyboard was told the character wears in a delivered panel."""
    return delivered.record["characters"][name]["appearance"]["wearing"]


def test_edit_is_declared_once_and_parsed() -> None:
    assert parse("/edit 3 make her scarf red").panel == 3  # type: ignore[attr-defined]
    assert parse("/edit #5 remove the lantern").text == "remove the lantern"  # type: ignore[attr-defined]


async def test_editing_the_latest_panel_makes_a_new_take_and_changes_the_world_from_then_on(
        app: App, outlet: RecordingOutlet) -> None:
    await start(app)
    seed = (await world_of(app)).panel(3).seed
    reply = await say(app, "/edit 3 make Mira's scarf red")
    assert not reply.error and "Panel 3 (take 2)" in reply.text and "keeps the change" in reply.text
    edited = outlet.delivered[-1]
    assert (edited.panel, edited.take) == (3, 1)
    assert "a red scarf" in edited.record["prompt"] and "a blue scarf" not in edited.record["prompt"]
    assert wearing(edited, "Mira") == ["a red scarf"] and wearing(edited, "Ana") == ["a green scarf"]
    world = await world_of(app)
    assert world.panel(3).take == 1 and world.panel(3).seed == seed  # same seed: the same picture, changed
    assert world.character("Mira").appearance()["wearing"] == ["a red scarf"]
    await say(app, "/continue Mira smiles")
    assert "a red scarf" in outlet.delivered[-1].record["prompt"]  # from then on
    takes = await app.store.panel_takes(world.id)
    assert {(3, 0), (3, 1)} <= set(takes) and takes[(3, 1)].image is not None
    why = (await say(app, "/why 3")).text
    assert "/edit 3 make Mira's scarf red" in why and "a blue scarf -> a red scarf" in why
    # /undo takes the edit back as one command: the old take and the old scarf return.
    await say(app, "/undo")  # the /continue
    undone = await say(app, "/undo")  # the edit
    assert "edited panel 3" in undone.text
    world = await world_of(app)
    assert world.panel(3).take == 0 and world.character("Mira").appearance()["wearing"] == ["a blue scarf"]


async def test_editing_an_older_panel_changes_only_that_take(app: App, outlet: RecordingOutlet) -> None:
    await start(app)
    reply = await say(app, "/edit 2 remove the lantern and make her scarf red")
    assert not reply.error and "Only this take changes" in reply.text
    edited = outlet.delivered[-1]
    assert (edited.panel, edited.take) == (2, 1)
    assert "a red scarf" in edited.record["prompt"] and "lantern" not in edited.record["prompt"]
    world = await world_of(app)
    assert world.panel(2).take == 1
    assert world.character("Mira").appearance()["wearing"] == ["a blue scarf"]  # the world is as it was
    assert any("lantern" in p for p in world.location("Harbour").props)
    await say(app, "/continue Mira sits down")
    later = outlet.delivered[-1]
    assert "a blue scarf" in later.record["prompt"] and "lantern" in later.record["prompt"]
    # Another take of the edited panel keeps the edit (it is redrawn as its current take shows it).
    await say(app, "/reroll 2")
    again = outlet.delivered[-1]
    assert (again.panel, again.take) == (2, 2) and wearing(again, "Mira") == ["a red scarf"]
    assert "lantern" not in again.record["prompt"]


async def test_only_sure_edits_change_anything(app: App, outlet: RecordingOutlet) -> None:
    await start(app)
    before = await world_of(app)
    # Two people wear scarves: whose is "the scarf"? Not sure, so nothing changes; the words stay.
    reply = await say(app, "/edit 3 make the scarf red")
    assert not reply.error and "Nothing in the world changes" in reply.text
    world = await world_of(app)
    assert world.characters == before.characters and world.panel(3).take == 1
    edited = outlet.delivered[-1]
    assert "the scarf red" in edited.record["shot"]["action"]  # the picture still gets the words
    assert wearing(edited, "Mira") == ["a blue scarf"] and wearing(edited, "Ana") == ["a green scarf"]
    # A sure one, on the same panel: her = Mira, the last one named.
    await say(app, "/edit 3 make Ana's scarf yellow")
    assert (await world_of(app)).character("Ana").appearance()["wearing"] == ["a yellow scarf"]
    assert (await world_of(app)).character("Mira").appearance()["wearing"] == ["a blue scarf"]


async def test_an_edited_world_exports_and_imports_with_its_takes(app: App) -> None:
    await start(app)
    await say(app, "/edit 3 make Mira's scarf red")
    await say(app, "/edit 2 remove the lantern")
    exported = await say(app, "/world export")
    ((name, data),) = exported.files
    other = PLACE.__class__("test", "ws", "chan", "thread-2")
    reply = await app.service.execute_text("/world import", ADA, other, [Attachment(name, data)])
    assert not reply.error, reply.text
    copy = await app.service.world(await app.service.world_id_for(other) or "")
    world = await world_of(app)
    assert copy.panels == world.panels and copy.characters == world.characters
    assert copy.panel(2).take == 1 and "edit: remove the lantern" in copy.panel(2).notes


async def test_bad_edits_are_refused_and_change_nothing(app: App) -> None:
    await start(app)
    version = (await world_of(app)).version
    for line, message in (("/edit 9 make it red", "no panel 9"), ("/edit 3", "needs some text"),
                          ("/edit three make it red", "panel number first")):
        reply = await say(app, line)
        assert reply.error and message in reply.text, reply.text
    assert (await world_of(app)).version == version


async def test_a_locked_characters_look_is_not_edited_by_others(app: App) -> None:
    await start(app)
    await say(app, "/cref Ana a tall woman with black hair, wearing a green scarf --lock")  # ada's
    for panel in (3, 2):  # the latest panel, and an older one (only a take would change)
        reply = await say(app, f"/edit {panel} make Ana's scarf yellow", BEN)
        assert reply.error and "locked" in reply.text
    world = await world_of(app)
    assert world.panel(2).take == 0 and world.panel(3).take == 0
    assert not (await say(app, "/edit 3 make Ana's scarf yellow")).error
