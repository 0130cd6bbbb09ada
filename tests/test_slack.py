"""End-to-end tests of the Slack adapter: real slack-bolt and slack_sdk against tests/fake_slack.py.

Socket Mode runs over a real websocket, HTTP mode over a real aiohttp server on loopback with
signed requests. Every test ends by checking that the fake saw no call that breaks Slack's
OpenAPI description or Block Kit limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from bot.app import App, open_app
from bot.config import ConfigError, Settings
from bot.platforms import slack_blocks as kit
from bot.platforms.slack_app import SlackPlatform
from bot.platforms.slack_config import SlackConfig
from engine.jobs import Renderer
from tests.fake_slack import FakeSlack
from tests.fake_slack_payloads import http_body, signed_headers
from tests.fakes import GatedRenderer

SECRET = "test-signing-secret"
CHANNEL = "C0STORY"
ACK_LIMIT_S = 3.0


def png(size: tuple[int, int] = (64, 64), colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@dataclass
class Env:
    app: App
    slack: FakeSlack
    mode: str
    session: aiohttp.ClientSession
    config: dict[str, Any]
    stack: contextlib.AsyncExitStack
    platform: SlackPlatform | None = None

    async def serve(self) -> None:
        """Starts a new adapter on the app, as `worldloom run` does."""
        new = SlackPlatform(self.app.service, self.config, self.slack.bot_token, self.slack.app_token, SECRET)
        self.platform = await self.stack.enter_async_context(self.app.serving(new))

    @property
    def url(self) -> str:
        assert self.platform is not None
        host, port = self.platform.http_address
        return f"http://{host}:{port}/slack/events"

    async def send(self, kind: str, payload: dict[str, Any], retry: int = 0) -> float:
        """Delivers a request the way Slack would in this mode (`retry`: re-sent, X-Slack-Retry-Num);
        returns the seconds until the ack."""
        if self.mode == "socket":
            return (await self.slack.ack(await self.slack.push(kind, payload, retry=retry))).seconds
        body, content_type = http_body(kind, payload)
        headers = signed_headers(SECRET, body, content_type)
        if retry:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        start = time.perf_counter()
        async with self.session.post(self.url, data=body, headers=headers) as r:
            assert r.status == 200, await r.text()
        return time.perf_counter() - start

    async def restart(self) -> None:
        """A new adapter on the same app and store, as after a process restart."""
        await self.stack.aclose()
        self.stack = contextlib.AsyncExitStack()
        await self.serve()

    async def world_id(self, root: str) -> str:
        world_id = await self.app.store.world_for(("slack", self.slack.team_id, CHANNEL, root))
        assert world_id is not None
        return world_id


@asynccontextmanager
async def slack_env(tmp_path: Path, mode: str = "socket", renderer: Renderer | None = None) -> AsyncIterator[Env]:
    async with FakeSlack() as slack, open_app(Settings(database=str(tmp_path / "w.db")), renderer=renderer) as app, \
            aiohttp.ClientSession() as session:
        slack.add_user("UADA", "ada")
        slack.add_user("UBEN", "ben")
        slack.add_user("UMOD", "mod", admin=True)
        config = {"mode": mode, "api_base": slack.api_url, "files_base": slack.files_url, "host": "127.0.0.1",
                  "port": 0, "progress_seconds": 0.05}
        env = Env(app, slack, mode, session, config, contextlib.AsyncExitStack())
        try:
            await env.serve()
            yield env
        finally:
            await env.stack.aclose()
        assert slack.violations == []


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with slack_env(tmp_path) as e:
        yield e


async def new_world(env: Env, text: str = "The Lighthouse --style ink wash", user: str = "UADA") -> str:
    """/world new in the channel; returns the ts of the root message (the world's thread)."""
    slack = env.slack
    before = len(slack.roots(CHANNEL))
    seconds = await env.send("slash_commands", slack.slash(CHANNEL, user, "new " + text))
    assert seconds < ACK_LIMIT_S
    await slack.wait_for(lambda: len(slack.roots(CHANNEL)) > before
                         and slack.bot_replies(CHANNEL, slack.roots(CHANNEL)[-1]["ts"]), what="the new world")
    return str(slack.roots(CHANNEL)[-1]["ts"])


async def say(env: Env, user: str, text: str, root: str | None, files: list[dict[str, Any]] | None = None) -> None:
    """@worldloom TEXT in the thread (or the channel); returns once the answer is in."""
    await env.send("events_api", env.slack.mention(CHANNEL, user, text, root, files))
    await env.platform.drain()


async def draw(env: Env, root: str, text: str = "Mira opens the door", user: str = "UADA") -> dict[str, Any]:
    """@worldloom continue TEXT; returns the message with the panel's buttons once it is posted."""
    slack = env.slack
    before = len(buttons(slack, root))
    await env.send("events_api", slack.mention(CHANNEL, user, f"continue {text}", root))
    await slack.wait_for(lambda: len(buttons(slack, root)) > before, what="a panel")
    return buttons(slack, root)[-1]


def buttons(slack: FakeSlack, root: str) -> list[dict[str, Any]]:
    return [m for m in slack.bot_replies(CHANNEL, root) if any(b["type"] == "actions" for b in m.get("blocks", []))]


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


# ---------------------------------------------------------------- worlds, characters, panels


async def test_world_new_posts_root_message_whose_thread_is_the_world(env: Env) -> None:
    root = await new_world(env)
    message = env.slack.roots(CHANNEL)[-1]
    assert message["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "🌍 The Lighthouse",
                                                               "emoji": True}}
    assert "ink wash" in json.dumps(message["blocks"])
    assert f"<@{env.slack.bot_user_id}> continue" in json.dumps(message["blocks"])  # how to play
    world = await env.app.service.world(await env.world_id(root))
    assert (world.title, world.style.prefix) == ("The Lighthouse", "ink wash")
    reply = env.slack.bot_replies(CHANNEL, root)[0]
    assert "New world *The Lighthouse*" in reply["text"]
    assert f"<@{env.slack.bot_user_id}> cref" in reply["text"]  # "/cref" hints become mentions in Slack


@pytest.mark.parametrize("in_event", [True, False], ids=["files in the event", "files only in the message"])
async def test_mention_with_an_image_registers_a_character(env: Env, in_event: bool) -> None:
    root = await new_world(env)
    image = env.slack.add_file(png(), channel=CHANNEL, thread_ts=root)
    body = env.slack.mention(CHANNEL, "UADA", "cref Mira a girl with a red scarf --lock", root, [image])
    if not in_event:  # app_mention events can leave the files out: the adapter reads the message
        del body["event"]["files"]
    await env.send("events_api", body)
    await env.platform.drain()
    assert "Registered *Mira* with a reference image" in texts(env.slack.bot_replies(CHANNEL, root))
    assert env.slack.downloads == [(image["id"], True)]  # downloaded once, with the bot token
    assert bool(env.slack.calls_to("conversations.replies")) is not in_event
    mira = (await env.app.service.world(await env.world_id(root))).character("Mira")
    assert mira.locked and mira.author == "ada" and len(mira.references) == 1
    assert await env.app.store.has_blob(mira.references[0].image)


@pytest.mark.parametrize(("where", "expected"), [
    ("other thread", "only read files shared in this thread"),
    ("other host", "not stored on this platform"),
    ("too large", "too large"),
    ("not an image", "attach a PNG, JPEG or WebP"),
    ("channel level", "attach the image to a message in the world's thread"),
])
async def test_files_from_elsewhere_are_refused_and_change_nothing(env: Env, where: str, expected: str) -> None:
    root = await new_world(env)
    thread: str | None = root
    if where == "other thread":
        other = await new_world(env, "Elsewhere")
        image = env.slack.add_file(png(), channel=CHANNEL, thread_ts=other)
    elif where == "other host":
        image = env.slack.add_file(png(), channel=CHANNEL, thread_ts=root, url_private="https://evil.example/a.png")
    elif where == "too large":
        image = env.slack.add_file(b"\0" * (10 * 1024 * 1024 + 1), channel=CHANNEL, thread_ts=root)
    elif where == "not an image":
        image = env.slack.add_file(b"hello", "notes.txt", "text/plain", channel=CHANNEL, thread_ts=root)
    else:  # typed in the channel: the channel's only world, but the file is not in its thread
        image, thread = env.slack.add_file(png(), channel=CHANNEL), None
    await say(env, "UADA", "cref Mira a girl", thread, [image])
    assert expected in env.slack.ephemerals[-1]["text"]
    assert env.slack.downloads == []
    assert (await env.app.service.world(await env.world_id(root))).find_character("Mira") is None


async def test_continue_uploads_the_panel_into_the_thread_with_buttons(env: Env) -> None:
    slack = env.slack
    root = await new_world(env)
    panel = await draw(env, root, "a lighthouse keeper climbs the stairs, close-up")
    complete = slack.calls_to("files.completeUploadExternal")[-1]
    assert (complete.args["channel_id"], complete.args["thread_ts"]) == (CHANNEL, root)
    (uploaded,) = json.loads(complete.args["files"])
    assert slack.files[uploaded["id"]].data.startswith(b"\x89PNG")
    job = (await env.app.store.jobs_in_state("posted", "rendered"))[-1]
    assert slack.files[uploaded["id"]].name == f"panel-001-{job.id}.png"  # the job id: found after a restart
    actions = next(b for b in panel["blocks"] if b["type"] == "actions")["elements"]
    assert [(a["action_id"], a["value"]) for a in actions] == [(a, "1") for a in kit.PANEL_ACTIONS]
    assert panel["thread_ts"] == root
    # The queue message was edited in place to its final state, not posted again.
    await slack.wait_for(lambda: "✅ Panel 1 is posted below" in texts(slack.bot_replies(CHANNEL, root)))
    status = [m for m in slack.bot_replies(CHANNEL, root) if m["text"].startswith("✅")]
    assert len(status) == 1 and status[0]["ts"] < panel["ts"]
    job = (await env.app.store.jobs_in_state("posted"))[0]
    assert job.message_id == panel["ts"]


async def test_buttons_reroll_after_a_restart(env: Env) -> None:
    slack = env.slack
    root = await new_world(env)
    panel = await draw(env, root)
    await env.restart()  # the button carries the panel number: a new process understands it
    await env.send("interactive", slack.click(panel, kit.REROLL, "UBEN"))
    await slack.wait_for(lambda: len(buttons(slack, root)) == 2, what="the rerolled panel")
    assert slack.files[json.loads(slack.calls_to("files.completeUploadExternal")[-1].args["files"])[0]["id"]].name \
        .startswith("panel-001-1-")
    world = await env.app.service.world(await env.world_id(root))
    assert len(world.panels) == 1 and world.panel(1).take == 1


async def test_continue_modal_and_use_as_reference(env: Env) -> None:
    slack = env.slack
    root = await new_world(env)
    await say(env, "UADA", "cref Mira a girl with a red scarf", root)
    panel = await draw(env, root, "Mira waves")

    await env.send("interactive", slack.click(panel, kit.CONTINUE, "UBEN"))
    await slack.wait_for(lambda: slack.views, what="the continue modal")
    assert json.loads(slack.views[-1]["private_metadata"]) == {"team": slack.team_id, "channel": CHANNEL,
                                                              "thread": root, "panel": 1}
    await env.send("interactive", slack.submit(slack.views[-1], "UBEN", {"text": "she runs to the harbour"}))
    await slack.wait_for(lambda: len(buttons(slack, root)) == 2, what="panel 2")
    assert (await env.app.service.world(await env.world_id(root))).panel(2).author == "ben"

    await env.send("interactive", slack.click(panel, kit.REFERENCE, "UADA"))
    await slack.wait_for(lambda: len(slack.views) == 2, what="the reference modal")
    select = slack.views[-1]["blocks"][0]["element"]
    assert [o["value"] for o in select["options"]] == ["Mira"]
    await env.send("interactive", slack.submit(slack.views[-1], "UADA", {"character": "Mira"}))
    await env.platform.drain()
    assert "Panel 1 is now the reference image of *Mira*" in texts(slack.bot_replies(CHANNEL, root))
    world = await env.app.service.world(await env.world_id(root))
    images = await env.app.store.panel_images(world.id)
    assert world.character("Mira").references[0].image == images[1]


async def test_undo_button_obeys_permissions_admin_from_users_info(env: Env) -> None:
    slack = env.slack
    root = await new_world(env)
    panel = await draw(env, root, user="UADA")
    await env.send("interactive", slack.click(panel, kit.UNDO, "UBEN"))
    await env.platform.drain()
    assert "only they, the world's creator or a moderator can undo it" in slack.ephemerals[-1]["text"]
    assert slack.ephemerals[-1]["thread_ts"] == root
    assert len((await env.app.service.world(await env.world_id(root))).panels) == 1

    await env.send("interactive", slack.click(panel, kit.UNDO, "UMOD"))  # a workspace admin
    await env.platform.drain()
    assert "Undid ada's change" in slack.bot_replies(CHANNEL, root)[-1]["text"]
    assert (await env.app.service.world(await env.world_id(root))).panels == ()
    assert len(slack.calls_to("users.info")) == 3  # once per person: cached


# ---------------------------------------------------------------- channel level, prefix, ignoring


async def test_slash_commands_in_the_channel_act_on_its_only_world(env: Env) -> None:
    slack = env.slack
    await env.send("slash_commands", slack.slash(CHANNEL, "UADA", "show"))
    await env.platform.drain()
    assert "no world in this channel yet" in slack.ephemerals[-1]["text"]

    root = await new_world(env)
    await env.send("slash_commands", slack.slash(CHANNEL, "UADA", "show"))
    await env.platform.drain()
    assert slack.bot_replies(CHANNEL, root)[-1]["text"].startswith("🌍 *The Lighthouse*")

    await new_world(env, "Second Story")
    await env.send("slash_commands", slack.slash(CHANNEL, "UADA", "show"))
    await env.platform.drain()
    told = slack.ephemerals[-1]
    assert "This channel has 2 worlds" in told["text"] and "thread_ts" not in told
    assert f"<@{slack.bot_user_id}> continue" in told["text"]


async def test_export_into_the_thread_and_import_from_the_channel(env: Env) -> None:
    slack = env.slack
    root = await new_world(env)
    await say(env, "UADA", "cref Mira a girl with a red scarf", root)
    await env.send("slash_commands", slack.slash(CHANNEL, "UADA", "export"))  # the channel's only world
    await env.platform.drain()
    complete = slack.calls_to("files.completeUploadExternal")[-1]
    assert complete.args["thread_ts"] == root
    exported = slack.files[json.loads(complete.args["files"])[0]["id"]]
    assert exported.name == "the-lighthouse.world.json"

    world_file = slack.add_file(exported.data, "copy.world.json", "application/json", channel=CHANNEL)
    await say(env, "UBEN", "world import", None, [world_file])  # at channel level: a new root message
    copy = slack.roots(CHANNEL)[-1]
    assert copy["ts"] != root and copy["blocks"][0]["text"]["text"] == "🌍 The Lighthouse"
    assert "Imported *The Lighthouse*" in slack.bot_replies(CHANNEL, copy["ts"])[-1]["text"]
    assert (await env.app.service.world(await env.world_id(copy["ts"]))).character("Mira")


async def test_a_world_file_too_large_to_import_again_is_refused_on_export(env: Env) -> None:
    env.config["import_max_bytes"] = 2048  # a world file larger than this could never come back in
    await env.restart()
    slack = env.slack
    root = await new_world(env)
    await draw(env, root)  # the panel's image makes the file larger than 2 KiB
    uploads = len(slack.calls_to("files.completeUploadExternal"))
    await say(env, "UADA", "world export", root)
    said = slack.bot_replies(CHANNEL, root)[-1]["text"]
    assert "the-lighthouse.world.json was not sent" in said and "over 2 KiB" in said
    assert "import it again" in said
    assert len(slack.calls_to("files.completeUploadExternal")) == uploads  # nothing uploaded


async def test_prefix_messages_work_and_edits_and_own_messages_are_ignored(env: Env) -> None:
    slack = env.slack
    root = await new_world(env)
    before = len(slack.bot_replies(CHANNEL, root))
    edit = slack.event({"type": "message", "subtype": "message_changed", "channel": CHANNEL, "ts": slack._ts(),
                        "message": {"user": "UADA", "text": "!wl world show", "ts": root}})
    own = slack.event({"type": "message", "channel": CHANNEL, "user": slack.bot_user_id, "bot_id": slack.bot_id,
                       "text": "!wl world show", "ts": slack._ts(), "thread_ts": root})
    other = slack.user_message(CHANNEL, "UADA", "!wlx world show", root)
    for body in (edit, own, other):
        await env.send("events_api", body)

    typed = slack.user_message(CHANNEL, "UADA", "!wl scene harbour --time night", root)
    await env.send("events_api", typed)
    # The same message as an app_mention too (both subscriptions): answered once.
    await env.send("events_api", {**typed, "event": {**typed["event"], "type": "app_mention"}})
    await env.platform.drain()
    replies = slack.bot_replies(CHANNEL, root)[before:]
    assert [m["text"] for m in replies] == ["🎬 Scene: harbour; time: night"]


async def test_not_in_the_channel_answers_through_response_url(env: Env) -> None:
    env.slack.outside.add("C0OUTSIDE")
    await env.send("slash_commands", env.slack.slash("C0OUTSIDE", "UADA", "new Lost"))
    await env.platform.drain()
    assert "invite me" in env.slack.responses[-1]["text"]
    assert env.slack.responses[-1]["response_type"] == "ephemeral"
    assert await env.app.store.worlds_in_channel("slack", env.slack.team_id, "C0OUTSIDE") == []


# ---------------------------------------------------------------- HTTP mode: signatures and acks


async def test_http_mode_refuses_bad_signatures_and_stale_timestamps(tmp_path: Path) -> None:
    async with slack_env(tmp_path, "http") as env:
        slack = env.slack
        body, content_type = http_body("slash_commands", slack.slash(CHANNEL, "UADA", "new Forged"))
        forged = signed_headers("not-the-secret", body, content_type)
        stale = signed_headers(SECRET, body, content_type, timestamp=int(time.time()) - 6 * 60)
        for headers in (forged, stale, {"Content-Type": content_type}):
            async with env.session.post(env.url, data=body, headers=headers) as r:
                assert r.status == 401
        await env.platform.drain()
        assert [c.method for c in slack.calls] == ["auth.test"]  # only the start-up check
        assert await env.app.store.worlds_in_channel("slack", slack.team_id, CHANNEL) == []
        # The same command, signed with the right secret and a fresh timestamp, is served.
        assert await new_world(env, "Forged") and len(slack.roots(CHANNEL)) == 1


async def test_http_acks_within_3s_while_the_queue_is_busy(tmp_path: Path) -> None:
    renderer = GatedRenderer()
    async with slack_env(tmp_path, "http", renderer=renderer) as env:
        slack = env.slack
        root = await new_world(env)
        await env.send("events_api", slack.mention(CHANNEL, "UADA", "continue the first panel", root))
        assert await asyncio.to_thread(renderer.started.wait, 10)  # the renderer holds the queue
        users = [f"U{i:03d}" for i in range(20)]
        for i, user in enumerate(users):
            slack.add_user(user, f"user{i}")
        # 100 signed requests from 20 concurrent senders; one in five asks for a panel.
        seconds = await load(env, root, users, per_sender=5)
        assert len(seconds) == 100 and max(seconds) < ACK_LIMIT_S
        print(f"\nslack HTTP ack under load: p50 {percentile(seconds, 50) * 1000:.1f} ms, "
              f"p99 {percentile(seconds, 99) * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms")
        await env.platform.drain()
        assert len(slack.calls_to("files.completeUploadExternal")) == 0  # nothing rendered yet
        renderer.gate.set()
        await slack.wait_for(lambda: len(buttons(slack, root)) == 21, seconds=30, what="21 panels")


async def load(env: Env, root: str, users: list[str], per_sender: int) -> list[float]:
    """Each user sends `per_sender` mentions in a row, all users at once; returns the ack times."""

    async def sender(user: str) -> list[float]:
        out = []
        for i in range(per_sender):
            text = "continue the crowd gathers" if i == 0 else "world show"
            out.append(await env.send("events_api", env.slack.mention(CHANNEL, user, text, root)))
        return out

    return [s for batch in await asyncio.gather(*(sender(u) for u in users)) for s in batch]


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if p < 100 else max(values)


async def test_socket_mode_acks_every_envelope_at_once_while_the_queue_is_busy(tmp_path: Path) -> None:
    renderer = GatedRenderer()
    async with slack_env(tmp_path, "socket", renderer=renderer) as env:
        slack = env.slack
        root = await new_world(env)
        await env.send("events_api", slack.mention(CHANNEL, "UADA", "continue the storm begins", root))
        assert await asyncio.to_thread(renderer.started.wait, 10)
        envelope = await slack.push("events_api", slack.mention(CHANNEL, "UBEN", "continue thunder", root))
        ack = await slack.ack(envelope)
        assert ack.seconds < ACK_LIMIT_S and ack.payload is None
        await env.platform.drain()
        status = slack.bot_replies(CHANNEL, root)[-1]
        assert status["text"].startswith("🎨 Panel 2")
        # The one queue message is edited in place as the job moves (progress_seconds is short here).
        await slack.wait_for(lambda: status["text"] == "🎨 Panel 2 is next in the queue.", what="a progress edit")
        renderer.gate.set()
        await slack.wait_for(lambda: len(buttons(slack, root)) == 2, what="both panels")


# ---------------------------------------------------------------- config and text


def test_config_checks() -> None:
    assert SlackConfig.from_dict({"api_base": "", "files_base": "http://127.0.0.1:9/f"}).files_base \
        == "http://127.0.0.1:9/f/"
    with pytest.raises(ConfigError, match="unknown"):
        SlackConfig.from_dict({"token": "xoxb"})
    with pytest.raises(ConfigError, match="mode"):
        SlackConfig.from_dict({"mode": "webhook"})


async def test_platform_needs_the_token_of_its_mode(tmp_path: Path) -> None:
    async with open_app(Settings(database=str(tmp_path / "w.db"))) as app:
        with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
            SlackPlatform(app.service, {}, "xoxb", None, None)
        with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
            SlackPlatform(app.service, {"mode": "http"}, "xoxb", None, None)


def test_slack_text_in_and_out() -> None:
    assert kit.to_slack("**Mira** <!channel> & ~~old~~ /continue", "UBOT") == \
        "*Mira* &lt;!channel&gt; &amp; ~old~ <@UBOT> continue"
    assert kit.to_slack("start one with /world new TITLE", "UBOT") == "start one with /world new TITLE"
    assert kit.from_slack("<@U1> meets <#C1|general> at <https://x.example|the inn> &amp; &lt;3") == \
        "@U1 meets #general at the inn & <3"
    assert kit.from_slack("<!here> <!subteam^S1|@artists> <mailto:a@b.example>") == "@here @artists mailto:a@b.example"
    assert kit.strip_mention("<@UBOT> continue she waves at <@U2>", "UBOT") == "continue she waves at <@U2>"
