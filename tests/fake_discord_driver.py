"""What tests call to drive the fake Discord: inject interactions, then wait for what the bot does.

`FakeDiscord` (tests/fake_discord.py) is built on `FakeDiscordDriver`; the driver holds no state of
its own and reads the guild model, the recorded requests and the gateway the server keeps. Waiting
re-checks its predicate on every request and event and has a deadline; it never sleeps.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests import fake_discord_payloads as payloads
from tests.fake_discord_payloads import FakeInteraction, Request


class FakeDiscordDriver:
    """Injects slash commands, autocomplete, component presses and modal submissions; waits with deadlines."""

    # Kept by FakeDiscord.
    requests: list[Request]
    interactions: dict[int, FakeInteraction]
    by_token: dict[str, FakeInteraction]
    commands: dict[str, dict[str, Any]]
    channels: dict[int, dict[str, Any]]
    members: dict[int, dict[str, Any]]
    messages: dict[int, dict[str, Any]]
    _changed: asyncio.Condition

    if TYPE_CHECKING:
        def snowflake(self) -> int: ...
        def panels(self, channel_id: int | None = None) -> list[dict[str, Any]]: ...
        def cdn_attachment(self, aid: int) -> dict[str, Any]: ...
        def _attachment(self, filename: str, data: bytes, content_type: str | None = None,
                        size: int | None = None) -> int: ...
        async def dispatch(self, event: str, data: dict[str, Any]) -> None: ...

    # ------------------------------------------------------------ waiting

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], Any], within: float = 10.0, what: str = "condition") -> Any:
        """Waits until predicate() is truthy (re-checked on every request and event); returns its value."""
        try:
            async with asyncio.timeout(within), self._changed:
                while not (value := predicate()):
                    await self._changed.wait()
                return value
        except TimeoutError:
            raise TimeoutError(f"waited {within} s for {what}") from None

    async def wait_for_request(self, method: str, path_regex: str, within: float = 10.0, *, count: int = 1,
                               where: Callable[[Request], bool] | None = None) -> list[Request]:
        """The first `count` finished requests matching method and path (a regex searched in the path)."""
        rx = re.compile(path_regex)

        def found() -> list[Request] | None:
            hits = [r for r in self.requests if r.method == method and r.status and rx.search(r.path)
                    and (where is None or where(r))]
            return hits[:count] if len(hits) >= count else None

        return await self.wait_for(found, within, f"{count} x {method} {path_regex}")

    async def wait_for_panels(self, channel_id: int | None = None, count: int = 1,
                              within: float = 15.0) -> list[dict[str, Any]]:
        def found() -> list[dict[str, Any]] | None:
            got = self.panels(channel_id)
            return got if len(got) >= count else None

        return await self.wait_for(found, within, f"{count} panel(s) in {channel_id}")

    async def wait_for_ack(self, ix: FakeInteraction, within: float = 10.0) -> FakeInteraction:
        await self.wait_for(lambda: ix.callback is not None, within, f"acknowledgement of interaction {ix.id}")
        return ix

    async def wait_for_original(self, ix: FakeInteraction, predicate: Callable[[dict[str, Any]], bool],
                                within: float = 15.0) -> dict[str, Any]:
        """The interaction's response message once predicate(message) holds."""
        def found() -> dict[str, Any] | None:
            msg = self.messages.get(ix.original_id or 0)
            return msg if msg is not None and predicate(msg) else None

        return await self.wait_for(found, within, f"the response of interaction {ix.id}")

    async def wait_for_reply(self, ix: FakeInteraction, within: float = 15.0) -> dict[str, Any]:
        """What the person sees in the end: the finished response, or the ephemeral followup after it."""
        def found() -> dict[str, Any] | None:
            for mid in reversed(ix.followups):
                if mid in self.messages:
                    return self.messages[mid]
            msg = self.messages.get(ix.original_id or 0)
            if msg is not None and not msg["flags"] & 128:  # 128: still "thinking"
                return msg
            return None

        return await self.wait_for(found, within, f"the reply to interaction {ix.id}")

    # ------------------------------------------------------------ injecting gateway events

    def _interaction_base(self, itype: int, user_id: int, channel_id: int) -> dict[str, Any]:
        channel = self.channels[channel_id]
        member = self.members[user_id]
        return payloads.interaction(self.snowflake(), itype, channel_id, channel, member)

    async def _inject(self, payload: dict[str, Any]) -> FakeInteraction:
        ix = FakeInteraction(int(payload["id"]), payload["token"], payload["type"], int(payload["channel_id"]),
                             int(payload["member"]["user"]["id"]), time.monotonic(), payload)
        self.interactions[ix.id] = ix
        self.by_token[ix.token] = ix
        await self.dispatch("INTERACTION_CREATE", payload)
        return ix

    def _options(self, command: str, values: dict[str, Any], focused: str | None,
                 resolved: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return payloads.command_options(self.commands, command, values, focused, resolved, self._upload, self.members)

    def _upload(self, *file: Any) -> dict[str, Any]:
        return self.cdn_attachment(self._attachment(*file))

    async def slash(self, command: str, user: int, channel: int, /, **values: Any) -> FakeInteraction:
        """A slash command, e.g. slash("world new", alice, TEXT_CHANNEL_ID, title="Moon").

        Attachment options take (filename, data[, content_type[, reported size]])."""
        payload = self._interaction_base(2, user, channel)
        resolved: dict[str, Any] = {}
        cmd, options = self._options(command, values, None, resolved)
        payload["data"] = {"id": cmd["id"], "name": cmd["name"], "type": 1, "options": options,
                           "guild_id": payload["guild_id"]}
        if resolved:
            payload["data"]["resolved"] = resolved
        return await self._inject(payload)

    async def autocomplete(self, command: str, user: int, channel: int, focused: str,
                           **values: Any) -> FakeInteraction:
        payload = self._interaction_base(4, user, channel)
        cmd, options = self._options(command, values, focused, {})
        payload["data"] = {"id": cmd["id"], "name": cmd["name"], "type": 1, "options": options}
        return await self._inject(payload)

    async def press(self, message: dict[str, Any], custom_id: str, user: int,
                    values: list[str] | None = None) -> FakeInteraction:
        """A button press (or a select choice, with values) on a message the bot posted."""
        component = payloads.component(message, custom_id)
        payload = self._interaction_base(3, user, int(message["channel_id"]))
        payload["message"] = message
        payload["data"] = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None:
            payload["data"]["values"] = values
        return await self._inject(payload)

    async def submit_modal(self, opened_by: FakeInteraction, user: int, **values: str) -> FakeInteraction:
        """Submits the modal the bot opened in answer to `opened_by`, typing `values` by custom_id."""
        modal = opened_by.modal
        if modal is None:
            raise AssertionError(f"interaction {opened_by.id} opened no modal")
        payload = self._interaction_base(5, user, opened_by.channel_id)
        payload["data"] = {"custom_id": modal["custom_id"], "components": payloads.modal_rows(modal, values)}
        if opened_by.payload.get("message"):
            payload["message"] = opened_by.payload["message"]
        return await self._inject(payload)
