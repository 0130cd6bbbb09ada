"""The SQLite store: migrations, transactions, blobs, jobs and bindings."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from bot.store import MIGRATIONS, Store
from engine.events import SceneChanged, WorldCreated, fold

BINDING = ("console", "local", "c", "t")


async def test_migrations_apply_once_and_pragmas_hold(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    async with Store.open(db) as store:
        await store.create_world("w1", "T", "ada", [WorldCreated(title="T")], binding=BINDING)
    async with Store.open(db) as store:  # reopening must not re-run migration 1
        rows = await store.fetch_all("SELECT version FROM schema_migrations")
        assert [r["version"] for r in rows] == list(range(1, len(MIGRATIONS) + 1))
        assert (await store.fetch_all("PRAGMA journal_mode"))[0][0] == "wal"
        assert (await store.fetch_all("PRAGMA foreign_keys"))[0][0] == 1
        assert await store.world_for(BINDING) == "w1"


async def test_append_numbers_groups_and_survives_reopen(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    async with Store.open(db) as store:
        await store.create_world("w1", "T", "ada", [WorldCreated(title="T")])
        await store.append("w1", "ben", [SceneChanged(time_of_day="dusk"), SceneChanged(weather="rain")])
        before = await store.records("w1")
    async with Store.open(db) as store:
        after = await store.records("w1")
    assert after == before
    assert [(r.seq, r.group, r.author) for r in after] == [(1, 1, "ada"), (2, 2, "ben"), (3, 2, "ben")]
    assert fold("w1", after).scene.weather == "rain"


async def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    async with Store.open(tmp_path / "w.db") as store:
        await store.create_world("w1", "T", "ada", [WorldCreated()])
        with pytest.raises(Exception, match="FOREIGN KEY"):
            # the job row names a world that does not exist: the events of the group must not stay either
            await store.append("w1", "ben", [SceneChanged(time_of_day="dusk")],
                               job=("j1", 1, 0, {}, {"platform": "x"}))
            await store.append("missing", "ben", [SceneChanged(time_of_day="dusk")])
        assert [r.seq for r in await store.records("w1")] == [1, 2]
        assert await store.records("missing") == []


async def test_concurrent_appends_never_lose_or_duplicate_seq(tmp_path: Path) -> None:
    async with Store.open(tmp_path / "w.db") as store:
        await store.create_world("w1", "T", "ada", [WorldCreated()])
        await asyncio.gather(*(store.append("w1", f"u{i}", [SceneChanged(weather=str(i))]) for i in range(40)))
        recs = await store.records("w1")
    assert [r.seq for r in recs] == list(range(1, 42))
    assert len({r.group for r in recs}) == 41


async def test_blobs_are_content_addressed_files(tmp_path: Path) -> None:
    async with Store.open(tmp_path / "w.db") as store:
        sha = await store.put_blob(b"png-bytes")
        assert sha == hashlib.sha256(b"png-bytes").hexdigest()
        assert await store.put_blob(b"png-bytes") == sha
        assert store.blob_path(sha).parent.parent == tmp_path / "blobs"
        assert await store.get_blob(sha) == b"png-bytes" and await store.has_blob(sha)


async def test_job_lifecycle_and_panel_images(tmp_path: Path) -> None:
    async with Store.open(tmp_path / "w.db") as store:
        await store.create_world("w1", "T", "ada", [WorldCreated()])
        place = {"platform": "console", "workspace": "l", "channel": "c", "thread": "t"}
        await store.append("w1", "ada", [SceneChanged(weather="fog")], job=("j1", 1, 0, {"job": {}}, place))
        assert [j.id for j in await store.jobs_in_state("planned")] == ["j1"]
        sha = await store.put_blob(b"img")
        await store.job_rendered("j1", sha)
        assert await store.panel_images("w1") == {1: sha}
        await store.job_posted("j1", "m-1")
        job = await store.job("j1")
        assert job is not None and (job.state, job.message_id, job.place) == ("posted", "m-1", place)
        with pytest.raises(ValueError):
            await store.set_job_state("j1", "exploded")


async def test_the_same_image_stored_twice_at_once_is_one_blob(tmp_path: Path) -> None:
    # Two worlds can render the same words to the same bytes at the same moment.
    data = b"\x89PNG same picture" * 1000
    async with Store.open(tmp_path / "w.db") as store:
        shas = await asyncio.gather(*(store.put_blob(data) for _ in range(8)))
        assert len(set(shas)) == 1 and await store.get_blob(shas[0]) == data
    assert [p.name for p in store.blob_path(shas[0]).parent.iterdir()] == [shas[0]]  # no stray temporaries
