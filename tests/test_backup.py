"""`worldloom backup` while the bot works, `worldloom restore` after: nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.app import open_app
from bot.cli import main
from bot.config import Settings
from bot.context import Actor, Place
from bot.limits import Limits
from bot.store import Store
from bot.store.backup import BadBackup, backup, restore
from engine.events import fold
from engine.renderers.storyboard.renderer import SketchRenderer
from tests.fakes import RecordingOutlet

WORLDS = 10
COMMANDS = 200


def config(tmp_path: Path, db: Path) -> Path:
    path = tmp_path / f"{db.parent.name}.toml"
    path.write_text(f'[worldloom]\ndatabase = "{db}"\n', encoding="utf-8")
    return path


def place(i: int) -> Place:
    return Place("test", "ws", "chan", f"thread-{i % WORLDS}")


@pytest.fixture(autouse=True)
def no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLDLOOM_CONFIG", raising=False)


async def test_a_backup_taken_while_200_commands_run_restores_every_acknowledged_panel(tmp_path: Path) -> None:
    live = tmp_path / "live" / "worldloom.db"
    saved = tmp_path / "backup"
    settings = Settings(database=str(live), per_user_cap=100, global_cap=1000, limits=Limits(renders_per_minute=0))
    acknowledged: list[tuple[Place, int, int, str]] = []  # (thread, panel, take, job id) once the reply came
    snapshot: list[tuple[Place, int, int, str]] = []
    async with open_app(settings, renderer=SketchRenderer()) as app:
        app.outbox.connect("test", RecordingOutlet())
        for i in range(WORLDS):
            await app.service.execute_text(f"/world new World {i}", Actor("test", "u0", "ada"), place(i))
        halfway, started = asyncio.Event(), asyncio.Event()

        async def command(i: int) -> None:
            if i >= COMMANDS // 2:
                await started.wait()  # the second half runs while the backup is being taken
            actor = Actor("test", f"u{i % 20}", f"user{i % 20}")
            line = f"/continue person {i} walks in" if i % 4 else f"/cref Person{i} a traveller number {i}"
            reply = await app.service.execute_text(line, actor, place(i))
            assert not reply.error, reply.text
            if reply.ticket is not None:
                acknowledged.append((place(i), reply.ticket.panel, reply.ticket.take, reply.ticket.job_id))
            if len(acknowledged) >= 60:
                halfway.set()

        async def take_backup() -> int:
            await halfway.wait()
            snapshot.extend(acknowledged)  # everything acknowledged before the backup began
            started.set()
            return await asyncio.to_thread(main, ["--config", str(config(tmp_path, live)), "backup", str(saved)])

        results = await asyncio.gather(take_backup(), *(command(i) for i in range(COMMANDS)))
        assert results[0] == 0
        # While this bot holds the database, restoring over it is refused with a clear message.
        assert await asyncio.to_thread(main, ["--config", str(config(tmp_path, live)), "restore", str(saved)]) == 2
        await app.outbox.wait_idle()
    assert len(acknowledged) == COMMANDS * 3 // 4 and 60 <= len(snapshot) < len(acknowledged)

    with closing(sqlite3.connect(saved / "worldloom.db")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file

    restored = tmp_path / "restored" / "worldloom.db"
    assert await asyncio.to_thread(main, ["--config", str(config(tmp_path, restored)), "restore", str(saved)]) == 0
    async with Store.open(restored) as store:
        for where, panel, take, job_id in snapshot:
            world_id = await store.world_for(where.key())
            assert world_id is not None
            world = fold(world_id, await store.records(world_id))
            assert world.panel(panel).take >= take
            job = await store.job(job_id)
            assert job is not None, f"job {job_id} of an acknowledged panel is missing"
            if job.image is not None:
                assert store.blob_path(job.image).is_file()
    # The restored bot finishes what was still rendering at backup time and posts it.
    outlet = RecordingOutlet()
    async with open_app(Settings(database=str(restored)), renderer=SketchRenderer()) as app:
        app.outbox.connect("test", outlet)
        await app.outbox.recover("test")
        await app.outbox.wait_idle()
        posted = {j.id for j in await app.store.jobs_in_state("posted")}
    assert {job_id for *_, job_id in snapshot} <= posted


async def test_restore_refuses_a_folder_that_is_no_backup(tmp_path: Path) -> None:
    with pytest.raises(BadBackup, match=r"holds no worldloom\.db"):
        restore(tmp_path, tmp_path / "db" / "worldloom.db")
    (tmp_path / "worldloom.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(BadBackup, match="not a readable database"):
        restore(tmp_path, tmp_path / "db" / "worldloom.db")
    with pytest.raises(BadBackup, match="no database"):
        backup(tmp_path / "missing.db", tmp_path / "out")


async def test_a_second_backup_copies_only_new_images(tmp_path: Path) -> None:
    db = tmp_path / "live" / "worldloom.db"
    async with open_app(Settings(database=str(db)), renderer=SketchRenderer()) as app:
        app.outbox.connect("test", RecordingOutlet())
        await app.service.execute_text("/world new Pier", Actor("test", "u", "ada"), place(0))
        for text in ("waves", "the tide comes in"):
            reply = await app.service.execute_text(f"/continue {text}", Actor("test", "u", "ada"), place(0))
            await reply.ticket.done  # type: ignore[union-attr]
            second = await asyncio.to_thread(backup, db, tmp_path / "b")
        assert (second.blobs, second.blobs_total) == (1, 2)  # the first panel's image was already there


def test_restore_exit_codes_and_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config(tmp_path, tmp_path / "x" / "worldloom.db")), "restore",
                 str(tmp_path / "nothing")]) == 2
    assert "worldloom backup" in capsys.readouterr().err
