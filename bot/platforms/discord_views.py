"""How panels look on Discord: the panel message (DiscordOutlet), its buttons, the character
picker and the Continue modal.

Buttons and the picker are `discord.ui.DynamicItem`s: the world id and panel number live in the
custom id, so a press on a panel posted before a restart is still understood. The work itself
is done by the Handler in discord_app.py, reached through `interaction.client.handler`.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from PIL import Image

from bot.context import Delivery, DeliveryRefused, Place, RenderTicket

if TYPE_CHECKING:
    from bot.platforms.discord_app import Handler

log = logging.getLogger(__name__)

MAX_CONTENT = 2000
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
# Unknown channel, missing access, thread locked: retrying after a restart cannot help.
GONE_FOR_GOOD = frozenset({10003, 50001, 50083})
_WORLD = r"(?P<world>[0-9A-Za-z_-]{1,40})"
_PANEL = r"(?P<panel>[0-9]{1,10})"

# action -> (label, emoji, style); the order is the order of the buttons under a panel.
ACTIONS: dict[str, tuple[str, str, discord.ButtonStyle]] = {
    "reroll": ("Reroll", "🎲", discord.ButtonStyle.secondary),
    "continue": ("Continue", "➡️", discord.ButtonStyle.primary),
    "vary": ("Vary", "🔀", discord.ButtonStyle.secondary),
    "ref": ("Use as reference", "🖼️", discord.ButtonStyle.secondary),
    "undo": ("Undo", "↩️", discord.ButtonStyle.danger),
}


def clip(text: str, limit: int = MAX_CONTENT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def handler_of(interaction: discord.Interaction[Any]) -> Handler:
    return interaction.client.handler  # type: ignore[attr-defined, no-any-return]


class PanelButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                  template=r"wl:(?P<action>reroll|continue|vary|ref|undo):" + _WORLD + ":" + _PANEL):
    """One of the buttons under a posted panel."""

    def __init__(self, action: str, world_id: str, panel: int) -> None:
        label, emoji, style = ACTIONS[action]
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style,
                                           custom_id=f"wl:{action}:{world_id}:{panel}"))
        self.action, self.world_id, self.panel = action, world_id, panel

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: Any, /) -> PanelButton:
        return cls(match["action"], match["world"], int(match["panel"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await handler_of(interaction).panel_button(interaction, self.action, self.world_id, self.panel)


class CharacterPicker(discord.ui.DynamicItem[discord.ui.Select[Any]],
                      template=r"wl:pick:" + _WORLD + ":" + _PANEL):
    """"Use as reference": which character gets this panel as its reference image."""

    def __init__(self, world_id: str, panel: int, names: Sequence[str] = ()) -> None:
        options = [discord.SelectOption(label=n[:100], value=n[:100]) for n in names[:25]]
        super().__init__(discord.ui.Select(custom_id=f"wl:pick:{world_id}:{panel}", options=options,
                                           placeholder=f"Whose reference is panel {panel}?"))
        self.world_id, self.panel = world_id, panel

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: Any, /) -> CharacterPicker:
        return cls(match["world"], int(match["panel"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        values = self.item.values
        if values:
            await handler_of(interaction).use_as_reference(interaction, self.world_id, self.panel, values[0])


class ContinueModal(discord.ui.Modal):
    """Asks what happens next; submitting continues the story."""

    def __init__(self, world_id: str, panel: int, opened_by: int) -> None:
        # The opening interaction's id keeps two people's modals apart in discord.py's modal store.
        super().__init__(title=f"Continue after panel {panel}"[:45], custom_id=f"wl:next:{world_id}:{opened_by}",
                         timeout=15 * 60)
        self.world_id, self.panel = world_id, panel
        self.text: discord.ui.TextInput[ContinueModal] = discord.ui.TextInput(
            label="What happens next?", style=discord.TextStyle.paragraph, required=False, max_length=1000,
            placeholder="she turns around; rain starts to fall")
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        await handler_of(interaction).continue_from_modal(interaction, self.world_id, self.text.value)


def panel_view(world_id: str, panel: int) -> discord.ui.View:
    """The buttons under a panel. Fully dynamic, so discord.py keeps no per-message state for it."""
    view = discord.ui.View(timeout=None)
    for action in ACTIONS:
        view.add_item(PanelButton(action, world_id, panel))
    return view


def picker_view(world_id: str, panel: int, names: Sequence[str]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CharacterPicker(world_id, panel, names))
    return view


DYNAMIC_ITEMS = (PanelButton, CharacterPicker)


class UploadFile(discord.File):
    """discord.py sends attachment ids as integers; the API describes them as snowflake strings."""

    def to_dict(self, index: int) -> dict[str, Any]:
        return {**super().to_dict(index), "id": str(index)}


def shrink_to_fit(png: bytes, limit: int) -> bytes:
    """A JPEG of the panel, scaled down until it fits the upload limit. CPU work: run it in a thread."""
    with Image.open(io.BytesIO(png)) as img:
        rgb = img.convert("RGB")
    scale = 1.0
    while True:
        size = (max(1, int(rgb.width * scale)), max(1, int(rgb.height * scale)))
        out = io.BytesIO()
        (rgb if scale == 1.0 else rgb.resize(size)).save(out, "JPEG", quality=85)
        if out.tell() <= limit or size == (1, 1):
            return out.getvalue()
        scale *= 0.7


class DiscordOutlet:
    """Posts finished panels into their thread with the bot token (bot.context.Outlet)."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self.upload_limits: dict[str, int] = {}  # thread id -> the limit its last interaction reported

    def _channel(self, place: Place) -> discord.PartialMessageable:
        guild_id = int(place.workspace) if place.workspace.isdigit() else None
        return self.client.get_partial_messageable(int(place.thread), guild_id=guild_id)

    async def deliver(self, d: Delivery) -> str:
        limit = self.upload_limits.get(d.place.thread, DEFAULT_UPLOAD_LIMIT)
        data, ext = d.png, "png"
        if len(data) > limit:
            data, ext = await asyncio.to_thread(shrink_to_fit, data, limit), "jpg"
        take = f" (take {d.take + 1})" if d.take else ""
        caption = clip(f"**#{d.panel}**{take} · {d.caption.removeprefix(f'#{d.panel} · ')}")
        try:
            msg = await self._channel(d.place).send(
                caption, file=UploadFile(io.BytesIO(data), filename=f"panel-{d.panel:03d}-{d.take}.{ext}"),
                view=panel_view(d.world_id, d.panel), nonce=d.job_id[:25],
                allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as e:
            if e.code in GONE_FOR_GOOD:
                raise DeliveryRefused(f"Discord error {e.code}: {e.text}") from e
            raise
        return str(msg.id)

    async def failed(self, place: Place, job_id: str, panel: int, error: str) -> None:
        try:
            await self._channel(place).send(clip(f"⚠️ Panel {panel} could not be drawn: {error}"),
                                            nonce=f"x{job_id}"[:25], allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException:
            log.exception("could not report the failure of job %s", job_id)


def progress_text(ticket: RenderTicket) -> str:
    status = ticket.handle.status()
    if status.state == "queued":
        ahead = status.position
        return f"⏳ Panel {ticket.panel} waits in the queue: {ahead} panel{'s' if ahead != 1 else ''} ahead."
    if status.state == "rendering":
        return f"🖌️ Panel {ticket.panel} is being drawn: step {status.step} of {status.total}."
    return f"📤 Panel {ticket.panel} is drawn; posting it."
