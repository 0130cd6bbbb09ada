"""A small comic script for the comic tests: 8 storyboard panels, two speakers."""

from __future__ import annotations

from engine.comic.page import ComicPanel
from engine.comic.panels import comic_panel
from engine.jobs import RenderJob
from engine.planner import plan
from engine.renderers.storyboard.board import board
from engine.renderers.storyboard.renderer import render_panel
from engine.world import Character, Panel, World

WORLD = World(id="w", title="The Lighthouse", characters=(
    Character("Mira", "a young woman with short red hair", pronoun="she"),
    Character("Tom", "a tall man with a black beard", pronoun="he"),
))
SCRIPT = (
    "wide shot of Mira and Tom on the pier at dusk",
    "Mira looks into the fog",
    'Mira whispers "Who\'s there? Is anybody out on the rocks tonight?"',
    "close-up of Tom",
    'Tom raises his lantern. "It\'s only me, the old keeper, back from the village." he says',
    "Mira and Tom climb the stairs",
    "close-up of Mira",
    "establishing shot of the lighthouse at night",
)
SPOKEN = {"Mira": "Who's there? Is anybody out on the rocks tonight?",
          "Tom": "It's only me, the old keeper, back from the village."}


def script_panels(width: int = 768, height: int = 512, storyboard: bool = True) -> list[ComicPanel]:
    """The script drawn by the storyboard renderer, as ComicPanels."""
    out = []
    for i, text in enumerate(SCRIPT, 1):
        shot = plan(WORLD, text).shot
        panel = Panel(i, i - 1 or None, text, "ada", shot, "", "", i, width, height, 4)
        png = render_panel(RenderJob(f"j{i}", "w", i, "ada", "", "", i, width, height, 4, board=board(WORLD, panel)))
        out.append(comic_panel(WORLD, panel, png, storyboard=storyboard))
    return out
