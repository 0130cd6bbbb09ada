"""The panel buttons, the character picker and the Continue modal on Discord.

Buttons and the picker are `discord.ui.DynamicItem`s: the world id and panel number live in the
custom id, so a press on a panel posted before a restart is still understood. Items only parse
and forward: the work is done by whatever the client offers as `PanelActions` (the adapter in
discord_interactions.py), and what a button means is the kit's (bot.platforms.common).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import discord

from bot.platforms import common as kit

MAX_CONTENT = 2000
_WORLD = r"(?P<world>[0-9A-Za-z_-]{1,40})"
_PANEL = r"(?P<panel>[0-9]{1,10})"

# action -> (label, emoji, style); the order is the order of the buttons under a panel.
BUTTONS: dict[str, tuple[str, str, discord.ButtonStyle]] = {
    kit.REROLL: ("Reroll", "🎲", discord.ButtonStyle.secondary),
    kit.CONTINUE: ("Continue", "➡️", discord.ButtonStyle.primary),
    kit.VARY: ("Vary", "🔀", discord.ButtonStyle.secondary),
    kit.REFERENCE: ("Use as reference", "🖼️", discord.ButtonStyle.secondary),
    kit.UNDO: ("Undo", "↩️", discord.ButtonStyle.danger),
}


class PanelActions(Protocol):
    """What the items forward to (offered by the client as `interaction.client.actions`)."""

    async def panel_button(self, interaction: discord.Interaction[Any], action: str, world_id: str,
                           panel: int) -> None: ...

    async def continue_from_modal(self, interaction: discord.Interaction[Any], world_id: str, panel: int,
                                  text: str) -> None: ...

    async def use_as_reference(self, interaction: discord.Interaction[Any], world_id: str, panel: int,
                               name: str) -> None: ...


def clip(text: str, limit: int = MAX_CONTENT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def actions_of(interaction: discord.Interaction[Any]) -> PanelActions:
    return interaction.client.actions  # type: ignore[attr-defined, no-any-return]


class PanelButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                  template=r"wl:(?P<action>reroll|continue|vary|ref|undo):" + _WORLD + ":" + _PANEL):
    """One of the buttons under a posted panel."""

    def __init__(self, action: str, world_id: str, panel: int) -> None:
        label, emoji, style = BUTTONS[action]
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style,
                                           custom_id=f"wl:{action}:{world_id}:{panel}"))
        self.action, self.world_id, self.panel = action, world_id, panel

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: Any, /) -> PanelButton:
        return cls(match["action"], match["world"], int(match["panel"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await actions_of(interaction).panel_button(interaction, self.action, self.world_id, self.panel)


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
            await actions_of(interaction).use_as_reference(interaction, self.world_id, self.panel, values[0])


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
        await actions_of(interaction).continue_from_modal(interaction, self.world_id, self.panel,
                                                          self.text.value)


def panel_view(world_id: str, panel: int) -> discord.ui.View:
    """The buttons under a panel. Fully dynamic, so discord.py keeps no per-message state for it."""
    view = discord.ui.View(timeout=None)
    for action in BUTTONS:
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
