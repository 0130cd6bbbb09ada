"""A world's panel as a ComicPanel: its speech read from its text, its speakers' heads when known."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.comic.page import ComicPanel
from engine.comic.speech import extract_speech
from engine.renderers.storyboard.board import board as storyboard_board
from engine.renderers.storyboard.renderer import figure_positions
from engine.world import Panel, World


def panel_text(panel: Panel) -> str:
    """The words a panel's speech is read from: the action the planner kept (it survives /reroll)."""
    return panel.shot.action or ""


def comic_panel(world: World, panel: Panel, png: bytes, *, storyboard: bool = False,
                board: Mapping[str, Any] | None = None, text: str | None = None) -> ComicPanel:
    """The ComicPanel for one of the world's panels.

    storyboard: the image was drawn by the storyboard renderer, so its figures stand where
    figure_positions says and balloons can point at them; otherwise speakers get caption boxes.
    board: the job's board if kept (else rebuilt from `world`, best the world as it was at that panel).
    text: read speech from this instead of the panel's action.
    """
    said = extract_speech(panel_text(panel) if text is None else text, world.characters, panel.shot.characters)
    heads: tuple[tuple[str, float, float], ...] = ()
    if storyboard and said:
        b = dict(board) if board is not None else storyboard_board(world, panel)
        heads = tuple((name, x, y) for name, (x, y) in figure_positions(b, panel.width, panel.height).items())
    return ComicPanel(number=panel.index, png=png, camera=panel.shot.camera or "", speech=said, heads=heads)
