"""The image filter: a tiny random classifier (built offline) in the render batch and on uploads."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.app import App, open_app
from bot.config import Settings
from bot.context import Actor, Attachment, Delivery, Place, Reply
from bot.image_guard import UPLOAD_REFUSED, ImageGuard
from bot.public_settings import ModerationSettings
from engine.errors import RenderFailed
from engine.jobs import RenderJob
from engine.moderation.images import ClassifierError, ImageClassifier, ModeratedRenderer
from engine.renderers.storyboard.renderer import SketchRenderer
from tests.conftest import ADA
from tests.moderation_support import FLAG_ALL, FLAG_NONE, build_tiny_classifier

pytest.importorskip("transformers")

PLACE = Place("test", "guild-1", "chan", "thread-1")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_tiny_classifier(tmp_path_factory.mktemp("nsfw-classifier"))


@dataclass
class SpoilingOutlet:
    """A RecordingOutlet on a platform that has spoilers."""

    spoilers = True
    delivered: list[Delivery] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)

    async def deliver(self, d: Delivery) -> str:
        self.delivered.append(d)
        return f"msg-{d.job_id}"

    async def failed(self, place: Place, job_id: str, panel: int, error: str) -> None:
        self.failures.append((job_id, error))


def opened(db: Path, model: Path, threshold: float, **more: Any) -> AbstractAsyncContextManager[App]:
    moderation = ModerationSettings(image_model=str(model), image_threshold=threshold, **more)
    return open_app(Settings(database=str(db), moderation=moderation), renderer=SketchRenderer())


async def say(app: App, line: str, place: Place = PLACE, files: tuple[Attachment, ...] = (),
              actor: Actor = ADA) -> Reply:
    reply = await app.service.execute_text(line, actor, place, files)
    if reply.ticket is not None:
        try:
            await reply.ticket.done
        except Exception:
            pass
    return reply


def png(colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 48), colour).save(out, "PNG")
    return out.getvalue()


def job(job_id: str) -> RenderJob:
    return RenderJob(job_id, "w", 1, "u", "a lighthouse", "", 1, 64, 64, 1)


# ---------------------------------------------------------------- the classifier in the render batch


def test_a_batch_is_classified_once_on_the_render_thread(model: Path) -> None:
    classifier = ImageClassifier(str(model), ["nsfw"])
    calls: list[tuple[str, int]] = []
    explicit = classifier.explicit

    def counting(pngs: Sequence[bytes]) -> Any:
        calls.append((threading.current_thread().name, len(pngs)))
        return explicit(pngs)

    classifier.explicit = counting  # type: ignore[method-assign]
    renderer = ModeratedRenderer(SketchRenderer(), classifier)
    renderer.load()
    pngs = renderer.render([job("a"), job("b"), job("c")], lambda *_: True)
    assert len(pngs) == 3 and calls == [(threading.current_thread().name, 3)]  # one pass for the batch
    verdicts = [renderer.take_verdict(j) for j in "abc"]
    assert all(v is not None and v.label == "nsfw" and 0 < v.score < 1 for v in verdicts)
    assert renderer.take_verdict("a") is None  # taken once
    assert renderer.name == "sketch" and renderer.capabilities == SketchRenderer.capabilities
    renderer.close()


def test_a_model_without_the_configured_labels_is_a_clear_error(model: Path) -> None:
    with pytest.raises(ClassifierError, match="none of image_labels"):
        ImageClassifier(str(model), ["porn"]).load()
    with pytest.raises(ClassifierError, match="cannot load"):
        ImageClassifier(str(model / "missing"), ["nsfw"]).load()


async def test_rendered_panels_run_through_the_engine_worker(tmp_path: Path, model: Path) -> None:
    async with opened(tmp_path / "w.db", model, FLAG_NONE) as app:
        names: list[str] = []
        renderer = app.engine.renderer
        assert isinstance(renderer, ModeratedRenderer)
        explicit = renderer.classifier.explicit

        def spying(pngs: Sequence[bytes]) -> Any:
            names.append(threading.current_thread().name)
            return explicit(pngs)

        renderer.classifier.explicit = spying  # type: ignore[method-assign]
        outlet = SpoilingOutlet()
        app.outbox.connect("test", outlet)
        await say(app, "/world new The Pier")
        await say(app, "/continue the harbour at dawn")
        assert names == ["worldloom-render"] and len(outlet.delivered) == 1
        assert not outlet.delivered[0].spoiler


# ---------------------------------------------------------------- refuse, spoiler, age-restricted


async def test_a_flagged_panel_is_held_back_and_can_be_rerolled(tmp_path: Path, model: Path) -> None:
    async with opened(tmp_path / "w.db", model, FLAG_ALL) as app:
        outlet = SpoilingOutlet()
        app.outbox.connect("test", outlet)
        await say(app, "/world new The Pier")
        reply = await say(app, "/continue the harbour at dawn")
        assert outlet.delivered == []
        [(job_id, error)] = outlet.failures
        assert "image filter held the picture back" in error and "/reroll 1" in error
        stored = await app.store.job(job_id)
        assert stored is not None and stored.state == "failed" and stored.image is None
        assert reply.ticket is not None and "held the picture back" in str(reply.ticket.done.exception())
        assert app.admin is not None
        [row] = await app.admin.recent_audit("test", "guild-1")
        assert (row.action, row.actor_id) == ("refused:image", "test:u-ada") and "nsfw" in row.detail
        reroll = await say(app, "/reroll 1")
        assert not reroll.error and "take 2" in reroll.text and len(outlet.failures) == 2


async def test_spoiler_action_posts_it_as_a_spoiler_where_the_platform_has_them(tmp_path: Path, model: Path) -> None:
    db = tmp_path / "w.db"
    async with opened(db, model, FLAG_ALL, action="spoiler") as app:
        outlet = SpoilingOutlet()
        app.outbox.connect("test", outlet)
        await say(app, "/world new The Pier")
        await say(app, "/continue the harbour at dawn")
        [posted] = outlet.delivered
        assert posted.spoiler
        await app.store.set_job_state(posted.job_id, "rendered")  # as if the bot died before posting
    async with opened(db, model, FLAG_ALL, action="spoiler") as app:
        outlet = SpoilingOutlet()
        app.outbox.connect("test", outlet)
        assert await app.outbox.recover("test") == 1
        assert [d.spoiler for d in outlet.delivered] == [True]  # still a spoiler after a restart
        # An outlet without spoilers (Slack, the console) gets the strict rule: held back.
        plain = replace(PLACE, platform="plain")
        recording = SpoilingOutlet()
        recording.spoilers = False  # type: ignore[misc]
        app.outbox.connect("plain", recording)
        await say(app, "/world new Elsewhere", place=plain)
        await say(app, "/continue a quiet street", place=plain)
        assert recording.delivered == [] and len(recording.failures) == 1


async def test_age_restricted_threads_take_what_the_setting_allows(tmp_path: Path, model: Path) -> None:
    nsfw = replace(PLACE, age_restricted=True)
    for allowed in (True, False):
        async with opened(tmp_path / f"{allowed}.db", model, FLAG_ALL, allow_in_age_restricted=allowed) as app:
            outlet = SpoilingOutlet()
            app.outbox.connect("test", outlet)
            await say(app, "/world new After dark", place=nsfw)
            await say(app, "/continue the harbour at night", place=nsfw)
            assert len(outlet.delivered) == (1 if allowed else 0)
            reply = await say(app, "/cref Mira a sailor", place=nsfw, files=(Attachment("m.png", png()),))
            assert reply.error is not allowed


# ---------------------------------------------------------------- uploads and world files


async def test_flagged_uploads_are_refused_before_anything_is_stored(tmp_path: Path, model: Path) -> None:
    async with opened(tmp_path / "w.db", model, FLAG_ALL) as app:
        await say(app, "/world new The Pier")
        for line in ("/cref Mira a sailor", "/sref ink wash"):
            reply = await say(app, line, files=(Attachment("ref.png", png()),))
            assert reply.error and reply.text == UPLOAD_REFUSED
        world_id = await app.service.world_id_for(PLACE)
        world = await app.service.world(world_id or "")
        assert world.find_character("Mira") is None and world.style.reference is None
        assert not (app.store.blob_dir.exists() and any(app.store.blob_dir.rglob("*")))
        assert app.admin is not None
        rows = await app.admin.recent_audit("test", "guild-1")
        assert [r.action for r in rows] == ["refused:upload", "refused:upload"]
        assert "/sref image" in rows[0].detail and "/cref image" in rows[1].detail


async def test_world_files_with_flagged_images_are_refused(tmp_path: Path, model: Path) -> None:
    async with opened(tmp_path / "ok.db", model, FLAG_NONE) as app:
        await say(app, "/world new The Pier")
        assert not (await say(app, "/cref Mira a sailor", files=(Attachment("ref.png", png()),))).error
        exported = (await say(app, "/world export")).files[0][1]
    assert json.loads(exported)["images"]
    async with opened(tmp_path / "strict.db", model, FLAG_ALL) as app:
        reply = await say(app, "/world import", files=(Attachment("w.json", exported),))
        assert reply.error and reply.text == UPLOAD_REFUSED
        assert await app.service.world_id_for(PLACE) is None


async def test_without_a_verdict_from_the_batch_the_image_is_classified_off_the_loop(model: Path) -> None:
    """Render workers on Ray draw elsewhere: the bot then classifies each rendered image in a thread."""
    classifier = ImageClassifier(str(model), ["nsfw"])
    threads: list[str] = []

    def classify(pngs: Sequence[bytes]) -> Any:
        threads.append(threading.current_thread().name)
        return classifier.explicit(pngs)

    notes: list[tuple[str, str]] = []

    async def note(kind: str, actor: Actor, place: Place, detail: str) -> None:
        notes.append((kind, actor.key()))

    row = type("Row", (), {"id": "j1", "panel": 2, "take": 0, "author": "ada", "place": {"platform": "test"},
                           "spec": {"job": {"user": "test:u-ada"}}})()
    strict = ImageGuard(ModerationSettings(image_model=str(model), image_threshold=FLAG_ALL), classify, note)
    with pytest.raises(RenderFailed, match="/reroll 2"):
        await strict.rendered(row, PLACE, png(), spoilers=False)
    lenient = ImageGuard(ModerationSettings(image_model=str(model), image_threshold=FLAG_NONE), classify, note)
    assert await lenient.rendered(row, PLACE, png(), spoilers=False) is False
    assert len(threads) == 2 and threading.current_thread().name not in threads
    assert notes == [("image", "test:u-ada")]
