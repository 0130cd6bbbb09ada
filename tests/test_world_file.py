"""The world file carries the drawn panels: export -> import keeps the sheet; version 1 files still import."""

from __future__ import annotations

import json

import pytest

from bot.app import App
from bot.context import Attachment, Place
from bot.worldfile import VERSION
from tests.conftest import ADA
from tests.test_service import say, start


async def drawn(app: App, place: Place) -> list[tuple[int, bytes]]:
    world_id = await app.service.world_id_for(place)
    assert world_id is not None
    return [(p.index, png) for p, png in await app.service.drawn_panels(world_id)]


async def sheet(app: App, place: Place) -> bytes:
    world_id = await app.service.world_id_for(place)
    assert world_id is not None
    return await app.service.storyboard(world_id)


async def story(app: App) -> bytes:
    await start(app)
    await say(app, "/continue Mira waves at Tom")
    await say(app, "/continue close-up Tom laughs")
    await say(app, "/reroll 2")
    reply = await say(app, "/world export")
    assert not reply.error and "2 drawn panels" in reply.text
    return reply.files[0][1]


async def test_export_holds_every_drawn_panel_and_import_keeps_the_sheet(app: App) -> None:
    data = await story(app)
    doc = json.loads(data)
    assert doc["version"] == VERSION == 2
    images = await drawn(app, Place("test", "ws", "chan", "thread-1"))
    assert sorted(doc["panels"]) == ["1", "2"] and all(sha in doc["images"] for sha in doc["panels"].values())

    other = Place("test", "ws", "chan", "thread-copy")
    reply = await say(app, "/world import", ADA, other, files=(Attachment("w.json", data),))
    assert not reply.error and "2 drawn panels" in reply.text, reply.text
    assert await drawn(app, other) == images  # the newest take of panel 2 included
    assert await sheet(app, other) == await sheet(app, Place("test", "ws", "chan", "thread-1"))
    assert (await say(app, "/world export", ADA, other)).files[0][1] == data  # byte for byte
    # the imported panels are finished: nothing is posted again, and the story goes on after them
    assert not (await say(app, "/continue Mira walks home", ADA, other)).error
    assert [i for i, _ in await drawn(app, other)] == [1, 2, 3]


async def test_a_version_1_file_without_panel_images_still_imports(app: App) -> None:
    doc = json.loads(await story(app))
    doc["version"] = 1
    kept = set(json.dumps(doc["events"]).split('"')) & set(doc["images"])  # the references the events name
    del doc["panels"]
    doc["images"] = {sha: b64 for sha, b64 in doc["images"].items() if sha in kept}
    other = Place("test", "ws", "chan", "thread-v1")
    reply = await say(app, "/world import", ADA, other, files=(Attachment("w.json", json.dumps(doc).encode()),))
    assert not reply.error, reply.text
    world_id = await app.service.world_id_for(other)
    assert world_id is not None and len((await app.service.world(world_id)).panels) == 2
    assert await drawn(app, other) == []  # the story, without pictures


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("panels"), "panels"),  # version 2 must say which panels it draws, even none
    (lambda d: d["panels"].update({"9": next(iter(d["images"]))}), "does not draw: [9]"),
    (lambda d: d["panels"].update({"1": "0" * 64}), "does not contain"),
    (lambda d: d.update(version=1), "panels"),  # version 1 has no panels
    (lambda d: d.update(version=3), "version"),
])
async def test_world_files_with_wrong_panels_are_refused_and_change_nothing(app: App, change, message: str) -> None:
    doc = json.loads(await story(app))
    change(doc)
    other = Place("test", "ws", "chan", "thread-bad")
    reply = await say(app, "/world import", ADA, other, files=(Attachment("w.json", json.dumps(doc).encode()),))
    assert reply.error and message in reply.text, reply.text
    assert await app.service.world_id_for(other) is None


async def test_a_branch_keeps_the_pictures_it_shares(app: App) -> None:
    await story(app)
    original = await drawn(app, Place("test", "ws", "chan", "thread-1"))
    branch_place = Place("test", "ws", "chan", "thread-branch")

    async def new_place(title: str) -> Place:
        return branch_place

    reply = await app.service.execute_text("/world branch 1", ADA, Place("test", "ws", "chan", "thread-1"),
                                           new_place=new_place)
    assert not reply.error, reply.text
    assert await drawn(app, branch_place) == original[:1]
    await say(app, "/continue Mira runs", ADA, branch_place)
    after = await drawn(app, branch_place)
    assert [i for i, _ in after] == [1, 2] and after[1][1] != original[1][1]
    assert await drawn(app, Place("test", "ws", "chan", "thread-1")) == original  # untouched
