"""What the storyboard renderer draws for a panel: plain data built from the world and the shot.

Pure (no Pillow here): composing a panel builds this for every job, whichever renderer runs it.
"""

from __future__ import annotations

from typing import Any

from engine.appearance import character_text
from engine.world import Panel, World


def board(world: World, panel: Panel) -> dict[str, Any]:
    """What the storyboard renderer draws (plain data, see engine/renderers/storyboard/)."""
    s = world.scene
    loc = world.location(s.location)
    chars = []
    for name in panel.shot.characters:
        ch = world.find_character(name)
        if ch is not None:
            chars.append({"name": ch.name, "description": character_text(ch), "appearance": ch.appearance()})
    return {
        "panel": panel.index, "title": world.title, "caption": panel.shot.action or panel.command,
        "camera": panel.shot.camera, "characters": chars, "action": panel.shot.action,
        "location": loc.name if loc else s.location, "location_description": loc.description if loc else None,
        "props": list(loc.props) if loc else [], "time_of_day": s.time_of_day, "lighting": s.lighting,
        "light_from": s.light_from, "weather": s.weather, "style": world.style.prefix or None,
    }
