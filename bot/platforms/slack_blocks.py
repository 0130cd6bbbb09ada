"""Slack text and Block Kit for worldloom: pure builders, no I/O.

What the Slack adapter (bot/platforms/slack_app.py) sends and reads: the root message of a
world, the panel message with its buttons, the two modals, progress lines, and the conversion
between Slack's escaped mrkdwn and the plain text the grammar reads.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from bot.commands import CATALOGUE
from bot.platforms import common

# action_id of each panel button; the value is the panel number, so buttons work after a restart.
REROLL = "wl_reroll"
CONTINUE = "wl_continue"
REFERENCE = "wl_reference"
UNDO = "wl_undo"
PANEL_ACTIONS = (REROLL, CONTINUE, REFERENCE, UNDO)
# What each button means is the kit's (bot.platforms.common.button_command).
ACTION_OF = {REROLL: common.REROLL, CONTINUE: common.CONTINUE, REFERENCE: common.REFERENCE, UNDO: common.UNDO}
# callback_id of the modals that Continue and Use as reference open.
CONTINUE_VIEW = "wl_continue_view"
REFERENCE_VIEW = "wl_reference_view"

# Block Kit limits (https://api.slack.com/reference/block-kit): going over makes invalid_blocks.
SECTION_TEXT_MAX = 3000
MODAL_TITLE_MAX = 24
SELECT_OPTIONS_MAX = 100
OPTION_TEXT_MAX = 75
CONTINUE_TEXT_MAX = 2000

_COMMANDS = "|".join(g for g in CATALOGUE.groups() if not CATALOGUE.subcommands(g))
# "/continue" in the service's texts: in Slack only /world is a slash command, the rest are mentions.
_COMMAND_HINT = re.compile(rf"(?<![\w/@<:])/({_COMMANDS})\b")
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")


# ---------------------------------------------------------------- text in and out


def to_slack(text: str, bot_user_id: str = "") -> str:
    """The service's text (Discord-style markdown) as Slack mrkdwn.

    Escapes &, < and > first, so nothing a user typed can become a mention such as <!channel>,
    then maps **bold** and ~~strike~~, and "/cref" hints to "@worldloom cref" where a bot id is known.
    """
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = re.sub(r"\*\*(.+?)\*\*", r"*\1*", out, flags=re.S)
    out = re.sub(r"~~(.+?)~~", r"~\1~", out, flags=re.S)
    if bot_user_id:
        out = _COMMAND_HINT.sub(lambda m: f"<@{bot_user_id}> {m.group(1)}", out)
    return out


def from_slack(text: str) -> str:
    """Slack's message text as typed: <@U1> -> @U1, <#C1|general> -> #general, links -> labels."""

    def token(m: re.Match[str]) -> str:
        body = m.group(1)
        target, _, label = body.partition("|")
        if target.startswith(("@", "#")):
            return (target[0] + label) if label else target
        if target.startswith("!"):  # <!here>, <!subteam^S1|@artists>
            name = label or target[1:].split("^")[0]
            return name if name.startswith("@") else "@" + name
        return label or target

    return html.unescape(_SLACK_TOKEN.sub(token, text))


def strip_mention(text: str, bot_user_id: str) -> str:
    """The text of an app_mention without the bot's own <@BOTID> (wherever it stands)."""
    return re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>:?", " ", text).strip()


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- messages


def root_message(title: str, style: str, bot_user_id: str, prefix: str) -> tuple[str, list[dict[str, Any]]]:
    """The channel message whose thread is the world: title, style and how to play."""
    me = f"<@{bot_user_id}>" if bot_user_id else "@worldloom"
    how = (
        "*How to play:* reply in this thread.\n"
        f"• `{me} cref Mira a girl with a red scarf` registers a character (attach a picture to use it)\n"
        f"• `{me} scene lighthouse --time dusk` sets the scene\n"
        f"• `{me} continue Mira climbs the stairs` draws the next panel\n"
        f"Start a message with `{prefix}` instead of mentioning me if you like; `{me} help` lists every command."
    )
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(f"🌍 {title}", 150)}]
    if style:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": _clip("*Style:* " + to_slack(style), SECTION_TEXT_MAX)}})
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": how}})
    return f"🌍 {title}: a new worldloom world. Reply in the thread to play.", blocks


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "text": _plain(text), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def panel_blocks(panel: int, caption: str) -> list[dict[str, Any]]:
    """The message under a panel's image: its caption and the four buttons."""
    value = str(panel)
    undo = _button("↩️ Undo", UNDO, value)
    undo["confirm"] = {
        "title": _plain("Undo the last change?"),
        "text": {"type": "plain_text", "text": "This takes back the most recent change in this world."},
        "confirm": _plain("Undo"), "deny": _plain("Keep it"),
    }
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(to_slack(caption), SECTION_TEXT_MAX)}},
        {"type": "actions", "block_id": f"wl_panel_{panel}", "elements": [
            _button("🔁 Reroll", REROLL, value),
            _button("➡️ Continue", CONTINUE, value, "primary"),
            _button("🖼 Use as reference", REFERENCE, value),
            undo,
        ]},
    ]


# ---------------------------------------------------------------- modals


def _modal(callback_id: str, title: str, meta: dict[str, Any], blocks: list[dict[str, Any]],
           submit: str) -> dict[str, Any]:
    # private_metadata carries the thread: view_submission payloads do not say where the modal came from.
    return {"type": "modal", "callback_id": callback_id, "title": _plain(title, MODAL_TITLE_MAX),
            "submit": _plain(submit, MODAL_TITLE_MAX), "close": _plain("Cancel", MODAL_TITLE_MAX),
            "private_metadata": json.dumps(meta, separators=(",", ":")), "blocks": blocks}


def continue_modal(meta: dict[str, Any], panel: int) -> dict[str, Any]:
    block = {"type": "input", "block_id": "text", "optional": True,
             "label": _plain(f"What happens after panel {panel}?"),
             "element": {"type": "plain_text_input", "action_id": "text", "multiline": True,
                         "max_length": CONTINUE_TEXT_MAX,
                         "placeholder": _plain("she opens the door, close-up")}}
    return _modal(CONTINUE_VIEW, "Continue the story", meta, [block], "Draw")


def reference_modal(meta: dict[str, Any], panel: int, names: list[str]) -> dict[str, Any]:
    options = [{"text": _plain(n, OPTION_TEXT_MAX), "value": n} for n in names[:SELECT_OPTIONS_MAX]]
    block = {"type": "input", "block_id": "character",
             "label": _plain(f"Whose reference is panel {panel}?"),
             "element": {"type": "static_select", "action_id": "character", "options": options,
                         "placeholder": _plain("Choose a character")}}
    return _modal(REFERENCE_VIEW, "Use as reference", meta, [block], "Use it")


def view_value(view: dict[str, Any], block_id: str) -> str:
    """The submitted value of a modal's input (text or the selected option), "" when empty."""
    state = view.get("state", {}).get("values", {}).get(block_id, {}).get(block_id, {})
    if state.get("selected_option"):
        return str(state["selected_option"].get("value", ""))
    return str(state.get("value") or "")
