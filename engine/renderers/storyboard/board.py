"""What the storyboard renderer draws for a panel: plain data built from the world and the shot.

Pure (no Pillow here): composing a panel builds this for every job, whichever renderer runs it.
Besides the words it carries each character's aliases (so the renderer knows who acts when the
action says "old Tom") and, for characters whose words name no outfit colour, an outfit colour
chosen across the whole world so no two characters share one and each keeps theirs in every panel.
"""

from __future__ import annotations

from typing import Any

from engine.appearance import character_text
from engine.renderers.storyboard.looks import named_outfit
from engine.renderers.storyboard.palette import RGB, default_outfit
from engine.world import Character, Panel, World


def _entry(ch: Character) -> dict[str, Any]:
    return {"name": ch.name, "description": character_text(ch), "appearance": ch.appearance()}


def outfit_colours(world: World) -> dict[str, RGB]:
    """Default outfit colours for the world's characters whose words name none.

    Named outfits are taken first; then each unnamed character, in the order they were registered,
    takes its name's tone or the next one far enough from every colour taken before it.
    """
    entries = [(ch.name, _entry(ch)) for ch in world.characters]
    taken = [c for _, e in entries if (c := named_outfit(e))]
    out: dict[str, RGB] = {}
    for name, e in entries:
        if named_outfit(e) is None:
            out[name] = default_outfit(name, taken)
            taken.append(out[name])
    return out


def board(world: World, panel: Panel) -> dict[str, Any]:
    """What the storyboard renderer draws (plain JSON data, see engine/renderers/storyboard/)."""
    s = world.scene
    loc = world.location(s.location)
    outfits = outfit_colours(world)
    chars = []
    for name in panel.shot.characters:
        ch = world.find_character(name)
        if ch is not None:
            entry = _entry(ch)
            entry["aliases"] = list(ch.aliases)
            if ch.name in outfits:
                entry["outfit_colour"] = list(outfits[ch.name])
            chars.append(entry)
    return {
        "panel": panel.index, "title": world.title, "caption": panel.shot.action or panel.command,
        "camera": panel.shot.camera, "characters": chars, "action": panel.shot.action,
        "location": loc.name if loc else s.location, "location_description": loc.description if loc else None,
        "props": list(loc.props) if loc else [], "time_of_day": s.time_of_day, "lighting": s.lighting,
        "light_from": s.light_from, "weather": s.weather, "style": world.style.prefix or None,
    }
