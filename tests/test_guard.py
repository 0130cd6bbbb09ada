"""Public-server rules through the real service and store: blocked words, bans, quotas, admin, audit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, open_app
from bot.config import ConfigError, Settings, settings_from_dict
from bot.context import Actor, Attachment, Place, Reply
from bot.grammar import parse
from bot.guard import BLOCKED_WORDS, Refusal, prompt_texts, world_texts
from bot.limits import Limits
from bot.public_settings import ModerationSettings, QuotaSettings
from engine.events import CharacterRegistered, Record, WorldCreated, fold
from tests.conftest import ADA, BEN

PLACE = Place("test", "guild-1", "chan", "thread-1")
OWNER = Actor("test", "u-owner", "owner", is_admin=True, manages_server=True)
DAY = 86_400.0


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:  # 2023-11-14 22:13:20 UTC
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    async with opened(tmp_path / "w.db") as app:
        yield app


def opened(db: Path, quotas: QuotaSettings | None = None, limits: Limits | None = None,
           **moderation: Any) -> AbstractAsyncContextManager[App]:
    return open_app(Settings(database=str(db), quotas=quotas or QuotaSettings(), limits=limits or Limits(),
                             moderation=ModerationSettings(**moderation)))


async def say(app: App, line: str, actor: Actor = ADA, place: Place = PLACE,
              files: tuple[Attachment, ...] = ()) -> Reply:
    reply = await app.service.execute_text(line, actor, place, files)
    if reply.ticket is not None:
        await reply.ticket.done
    return reply


async def state(app: App) -> tuple[int, int]:
    """(events in the world, jobs stored): what a refused command must not change."""
    world_id = await app.service.world_id_for(PLACE)
    assert world_id is not None
    jobs = await app.store.jobs_in_state("queued", "planned", "rendering", "rendered", "posted", "failed")
    return len(await app.store.records(world_id)), len(jobs)


async def audit(app: App, place: Place = PLACE) -> list[tuple[str, str, str]]:
    assert app.admin is not None
    return [(r.actor_id, r.action, r.detail) for r in await app.admin.recent_audit(place.platform, place.workspace)]


# ---------------------------------------------------------------- blocked words


@pytest.mark.parametrize("line", [
    "/continue she poses n.u.d.e on the pier",
    "/imagine a NSFW poster",
    "/cref Vera a woman, topless",
    "/cref Vera a woman in red --alias S3xy",
    "/scene Beach a quiet beach --light naked sun",
    "/sref erotic oil painting",
    "/world new Porn palace",
])
async def test_blocked_words_are_refused_privately_and_change_nothing(app: App, line: str) -> None:
    await say(app, "/world new The Pier")
    before = await state(app)
    heard: list[Refusal] = []
    app.guard.listen(heard.append)
    reply = await say(app, line)
    assert reply.error and reply.ephemeral and reply.text == BLOCKED_WORDS
    assert await state(app) == before and app.engine.stats["submitted"] == 0
    [(who, action, detail)] = await audit(app)
    assert (who, action) == ("test:u-ada", "refused:words") and line.split()[0] in detail
    assert [r.kind for r in heard] == ["words"]


async def test_negative_text_is_never_checked(app: App) -> None:
    await say(app, "/world new The Pier --negative nsfw, nude")
    reply = await say(app, "/continue the harbour at dawn --no nude, naked")
    assert not reply.error and "Panel 1" in reply.text
    assert await audit(app) == []


def test_every_prompt_text_of_a_command_is_read_and_no_negative() -> None:
    texts = prompt_texts(parse("/cref Mira a girl --alias Mimi --alias Mo --lock"))
    assert texts == ["Mira", "a girl", "Mimi", "Mo"]
    assert prompt_texts(parse("/world new Sea --style ink --negative blur")) == ["Sea", "ink"]
    assert prompt_texts(parse("/scene Pier old pier --time dusk --light neon --weather fog")) == [
        "Pier", "old pier", "dusk", "neon", "fog"]
    assert prompt_texts(parse("/continue she runs --no rain")) == ["she runs"]


async def test_blocked_words_in_an_imported_world_file_are_refused(app: App, tmp_path: Path) -> None:
    await say(app, "/world new The Pier")
    await say(app, "/cref Mira a girl with a scarf")
    exported = (await say(app, "/world export")).files[0][1]
    doc = json.loads(exported)
    doc["events"][-1]["event"]["description"] = "a girl, n a k e d"
    other = replace(PLACE, thread="thread-2")
    reply = await say(app, "/world import", place=other, files=(Attachment("w.json", json.dumps(doc).encode()),))
    assert reply.error and reply.text == BLOCKED_WORDS
    assert await app.service.world_id_for(other) is None
    # The same file untouched imports fine.
    assert not (await say(app, "/world import", place=other, files=(Attachment("w.json", exported),))).error


def test_world_texts_skip_negatives_authors_and_commands() -> None:
    records = parse_records()
    texts = world_texts(fold("w", records))
    assert "a girl with a scarf" in texts and "ink" in texts
    assert "blur" not in texts and "ada" not in texts


def parse_records() -> list[Record]:
    return [Record(1, 1, "ada", WorldCreated(title="T", seed=1, width=64, height=64, style="ink", negative="blur")),
            Record(2, 2, "ada", CharacterRegistered(name="Mira", description="a girl with a scarf"))]


async def test_age_restricted_places_follow_the_setting(tmp_path: Path) -> None:
    nsfw = replace(PLACE, age_restricted=True)
    for allowed in (False, True):
        async with opened(tmp_path / f"{allowed}.db", allow_in_age_restricted=allowed) as app:
            await say(app, "/world new After dark", place=nsfw)
            reply = await say(app, "/continue a nude study in charcoal", place=nsfw)
            assert reply.error is not allowed
            # Everywhere else the strict rules hold whatever the setting.
            await say(app, "/world new Daylight")
            assert (await say(app, "/continue a nude study in charcoal")).error


async def test_operator_block_list_and_allowed_words(tmp_path: Path) -> None:
    extra = tmp_path / "blocked.txt"
    extra.write_text("# our server\ngore\nblood bath\n", encoding="utf-8")
    async with opened(tmp_path / "w.db", blocklist_file=str(extra), allow_words=("naked",)) as app:
        await say(app, "/world new The Pier")
        assert (await say(app, "/continue a blood   bath")).error
        assert (await say(app, "/continue a pool of g0re")).error
        assert not (await say(app, "/continue the naked blade gleams")).error
        assert (await say(app, "/continue a nude")).error
    with pytest.raises(ConfigError, match="blocklist_file"):
        async with opened(tmp_path / "x.db", blocklist_file=str(tmp_path / "missing.txt")):
            pass


async def test_the_filter_can_be_switched_off(tmp_path: Path) -> None:
    async with opened(tmp_path / "w.db", prompt_filter=False) as app:
        await say(app, "/world new The Pier")
        assert not (await say(app, "/continue a nude study")).error


# ---------------------------------------------------------------- bans and admin


async def test_ban_unban_and_who_may_use_admin(app: App) -> None:
    await say(app, "/world new The Pier")
    refused = await say(app, "/admin ban @u-ben", ADA)  # ada does not manage the server
    assert refused.error and "Manage Server" in refused.text

    reply = await say(app, "/admin ban @u-ben spamming the thread", OWNER)
    assert not reply.error and reply.ephemeral and "banned" in reply.text
    for line in ("/continue Ben waves", "/world show", "/quota", "/help"):
        banned = await say(app, line, BEN)
        assert banned.error and "can't use worldloom in this server" in banned.text
    # Bans hold in that server only; others keep working.
    assert not (await say(app, "/world show", ADA)).error
    assert not (await say(app, "/help", BEN, replace(PLACE, workspace="guild-2"))).error

    assert "was already banned" in (await say(app, "/admin ban <@u-ben>", OWNER)).text
    assert "may use worldloom again" in (await say(app, "/admin unban @u-ben", OWNER)).text
    assert not (await say(app, "/world show", BEN)).error
    assert "was not banned" in (await say(app, "/admin unban @u-ben", OWNER)).text
    assert (await say(app, "/admin ban @u-owner", OWNER)).error  # not yourself

    rows = await audit(app)
    assert [(a, d) for _, a, d in rows] == [("unban", ""), ("unban", ""), ("ban", ""), ("ban", "spamming the thread")]
    shown = (await say(app, "/admin audit", OWNER)).text
    assert shown.startswith("Audit log, newest first:") and "owner: ban @u-ben — spamming the thread" in shown
    assert (await say(app, "/admin audit", ADA)).error


async def test_bans_survive_a_restart(tmp_path: Path) -> None:
    async with opened(tmp_path / "w.db") as app:
        await say(app, "/world new The Pier")
        await say(app, "/admin ban @u-ben", OWNER)
    async with opened(tmp_path / "w.db") as app:
        assert (await say(app, "/world show", BEN)).error


@pytest.mark.parametrize(("line", "message"), [
    ("/admin ban", "needs a @USER"),
    ("/admin quota @u-ben lots", "0-100000"),
    ("/admin quota @u-ben -3", "0-100000"),
    ("/admin quota @u-ben", "0-100000"),
])
async def test_admin_commands_say_what_is_wrong(app: App, line: str, message: str) -> None:
    reply = await say(app, line, OWNER)
    assert reply.error and message in reply.text


# ---------------------------------------------------------------- quotas


async def test_daily_quota_refuses_with_the_reset_time_and_resets_at_utc_midnight(tmp_path: Path) -> None:
    clock = Clock()
    async with opened(tmp_path / "w.db", QuotaSettings(panels_per_day=2)) as app:
        app.guard.clock = clock
        await say(app, "/world new The Pier")
        for i in range(2):
            assert not (await say(app, f"/continue wave {i}")).error
        refused = await say(app, "/continue one more")
        assert refused.error and refused.ephemeral
        assert "your 2 panels for today" in refused.text and "00:00 UTC (in 1 h 46 min)" in refused.text
        assert "0 of 2 panels left" in (await say(app, "/quota")).text
        # A refused panel changed nothing; others still have theirs.
        assert not (await say(app, "/continue Ben arrives", BEN)).error
        assert not (await say(app, "/reroll", OWNER)).error  # managers are not counted
        clock.now += 2 * 3600  # past midnight UTC
        assert not (await say(app, "/continue a new day")).error


async def test_quota_usage_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    async with opened(db, QuotaSettings(panels_per_day=1)) as app:
        await say(app, "/world new The Pier")
        assert not (await say(app, "/continue wave")).error
    async with opened(db, QuotaSettings(panels_per_day=1)) as app:
        refused = await say(app, "/continue again")
        assert refused.error and "00:00 UTC" in refused.text


async def test_server_quota_and_personal_limits(tmp_path: Path) -> None:
    async with opened(tmp_path / "w.db", QuotaSettings(server_panels_per_day=3, admins_exempt=False)) as app:
        await say(app, "/world new The Pier")
        assert "You have no daily limit here" in (await say(app, "/quota")).text
        await say(app, "/admin quota @u-ben 1", OWNER)
        assert not (await say(app, "/continue Ben waves", BEN)).error
        assert "your 1 panels" in (await say(app, "/continue again", BEN)).text
        assert not (await say(app, "/continue ada waves")).error
        assert not (await say(app, "/continue owner waves", OWNER)).error  # counted: admins_exempt = false
        refused = await say(app, "/continue ada again")
        assert refused.error and "this server has drawn its 3 panels" in refused.text
        text = (await say(app, "/quota", BEN)).text
        assert "0 of 1 panels left" in text and "0 of 3 panels left" in text
        reply = await say(app, "/admin quota @u-ben 0", OWNER)
        assert "the server's default (no limit)" in reply.text
        assert [a for _, a, _ in await audit(app)] == ["quota", "quota"]


async def test_a_panel_that_fails_to_store_gives_its_quota_back(tmp_path: Path) -> None:
    async with opened(tmp_path / "w.db", QuotaSettings(panels_per_day=1)) as app:
        await say(app, "/world new The Pier")
        real = app.store._insert_job

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("disk full")  # inside the transaction, after today's panel was counted

        app.store._insert_job = broken  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            await say(app, "/continue wave")
        app.store._insert_job = real  # type: ignore[method-assign]
        assert "1 of 1 panels left" in (await say(app, "/quota")).text  # the rollback took the count back
        assert not (await say(app, "/continue wave")).error
        assert "0 of 1 panels left" in (await say(app, "/quota")).text


async def test_closing_refuses_new_commands(app: App) -> None:
    await say(app, "/world new The Pier")
    app.guard.close_doors()
    reply = await say(app, "/continue wave")
    assert reply.error and "restarting" in reply.text


def test_settings_sections_are_checked() -> None:
    s = settings_from_dict({"quotas": {"panels_per_day": 5}, "moderation": {"allow_words": ["naked"]},
                            "worldloom": {"shutdown_seconds": 5}})
    assert s.quotas.panels_per_day == 5 and s.moderation.allow_words == ("naked",) and s.shutdown_seconds == 5.0
    for bad, message in (({"quotas": {"panels_per_day": "5"}}, "must be a int"),
                         ({"moderation": {"action": "hide"}}, "refuse"),
                         ({"moderation": {"image_threshold": 2}}, "between 0 and 1"),
                         ({"metrics": {"prot": 1}}, "unknown"),
                         ({"logging": {"format": "xml"}}, "json")):
        with pytest.raises(ConfigError, match=message):
            settings_from_dict(bad)


async def test_concurrent_panels_never_pass_the_quota(tmp_path: Path) -> None:
    async with opened(tmp_path / "w.db", QuotaSettings(panels_per_day=3), Limits(renders_per_minute=0)) as app:
        places = [replace(PLACE, thread=f"t{i}") for i in range(10)]
        for p in places:
            await say(app, "/world new Pier", place=p)
        replies = await asyncio.gather(*(app.service.execute_text("/continue wave", ADA, p) for p in places))
        assert sum(not r.error for r in replies) == 3
        assert all("your 3 panels" in r.text for r in replies if r.error)
