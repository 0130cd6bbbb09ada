"""Nothing acknowledged is lost when the process is killed (SIGKILL), and nothing is posted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from bot.app import open_app
from bot.config import Settings
from bot.store import Store
from engine.events import fold
from tests.crash_child import PLACE
from tests.fakes import RecordingOutlet

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = [
    'ada /world new "Crash Test" --seed 5',
    "ada /cref Mira a young woman with short red hair, wearing a blue scarf",
    "ben /cref Tom an old fisherman with a white beard --lock",
    "ada /scene Harbour a windy harbour --time dusk --weather rain",
    "ben /sref ink and watercolor",
    "ada /undo",
]


def child(db: Path, *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.crash_child", str(db), *flags], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def send(proc: subprocess.Popen[str], line: str, expect: str = "ACK") -> str:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    answer = proc.stdout.readline()  # blocks until the child acknowledged (or died: empty)
    assert answer.startswith(expect), answer
    return answer


def send_and_see(proc: subprocess.Popen[str], line: str, marker: str) -> None:
    """Sends a render command; waits for its ACK and the child's marker line, in either order
    (the worker may get there before or after the command is acknowledged)."""
    first = send(proc, line, expect="")
    assert proc.stdout is not None
    second = proc.stdout.readline()
    assert sorted(x.split(" ")[0].strip() for x in (first, second)) == sorted(["ACK", marker])


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


async def world_in(db: Path):
    async with Store.open(db) as store:
        world_id = await store.world_for(PLACE.key())
        assert world_id is not None
        return fold(world_id, await store.records(world_id))


async def test_a_world_reads_back_identical_after_sigkill_between_commands(tmp_path: Path) -> None:
    killed_db, clean_db = tmp_path / "killed.db", tmp_path / "clean.db"
    proc = child(killed_db)
    for line in SCRIPT:
        send(proc, line)
    kill(proc)
    proc = child(clean_db)  # the same commands, never interrupted
    for line in SCRIPT:
        send(proc, line)
    proc.stdin.close()  # type: ignore[union-attr]
    assert proc.wait(timeout=30) == 0
    killed, clean = await world_in(killed_db), await world_in(clean_db)
    assert replace(killed, id="x") == replace(clean, id="x")
    assert killed.style.prefix == "" and killed.scene.weather == "rain"  # the /undo took back the /sref
    assert killed.character("Tom").locked


async def test_a_job_killed_mid_render_is_rendered_again_and_posted_once(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    proc = child(db, "--block-render")
    for line in SCRIPT[:4]:
        send(proc, line)
    send_and_see(proc, "ada /continue Mira waves at Tom", "RENDERING")
    kill(proc)

    async with Store.open(db) as store:
        [job] = await store.jobs_in_state("planned", "queued", "rendering")
        planned_seed, planned_prompt = job.spec["job"]["seed"], job.spec["job"]["prompt"]
    for _ in range(2):  # restart twice: the second restart must find nothing left to post
        async with open_app(Settings(database=str(db))) as app:
            outlet = RecordingOutlet()
            app.outbox.connect("test", outlet)
            picked = await app.outbox.recover("test")
            await app.outbox.wait_idle()
            posted = await app.store.job(job.id)
        if _ == 0:
            assert picked == 1 and len(outlet.delivered) == 1
            assert outlet.delivered[0].record["seed"] == planned_seed
            assert outlet.delivered[0].record["prompt"] == planned_prompt
            assert posted is not None and posted.state == "posted"
        else:
            assert picked == 0 and outlet.delivered == []


async def test_a_rendered_but_unposted_panel_survives_sigkill_and_is_posted_once(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    proc = child(db, "--report-rendered")  # no outlet for this platform there: the panel stays "rendered"
    for line in SCRIPT[:4]:
        send(proc, line)
    send_and_see(proc, "ada /continue Mira waves at Tom", "RENDERED")
    kill(proc)
    async with Store.open(db) as store:
        [job] = await store.jobs_in_state("rendered")
    async with open_app(Settings(database=str(db))) as app:
        outlet = RecordingOutlet()
        app.outbox.connect("test", outlet)
        assert await app.outbox.recover("test") == 1
        assert [d.job_id for d in outlet.delivered] == [job.id]
        assert (await app.store.job(job.id)).state == "posted"  # type: ignore[union-attr]
