"""/why: what a panel kept from before, what its words changed, and what was dropped."""

from __future__ import annotations

from engine.appearance import character_text
from engine.world import PanelDrawn, Record, World, active, fold


def explain_panel(records: list[Record], world: World, index: int | None) -> str:
    panel = world.panel(index)
    live = active(records)
    drawn = next(r for r in live if isinstance(r.event, PanelDrawn) and r.event.panel
                 and r.event.panel.index == panel.index)
    group = [r for r in live if r.group == drawn.group]
    before = fold(world.id, [r for r in live if r.seq < group[0].seq])
    lines = [f"**Panel {panel.index}** · {panel.author}: {panel.command}"]
    if panel.notes:
        lines.append("Understood: " + "; ".join(panel.notes))
    changed = [r.event.describe() for r in group if not isinstance(r.event, PanelDrawn)]
    lines.append("Changed: " + ("; ".join(changed) if changed else "nothing in the world, only the action"))
    kept = _kept(before, panel.shot.characters, panel.command)
    if kept:
        lines.append("Kept from before: " + "; ".join(kept))
    lines.append(f"Camera: {panel.shot.camera or 'default'} · in frame: "
                 f"{', '.join(panel.shot.characters) or 'nobody'} · action: {panel.shot.action or '(none)'}")
    if panel.dropped:
        lines.append("Dropped to fit the prompt budget (lowest priority first): " + "; ".join(panel.dropped))
    else:
        lines.append("Dropped: nothing, everything fit the prompt budget.")
    lines.append(f"Seed {panel.seed}" + (f" (take {panel.take + 1})" if panel.take else "")
                 + f" · prompt: {panel.prompt}")
    return "\n".join(lines)


def _kept(before: World, framed: tuple[str, ...], text: str) -> list[str]:
    """What carried over unchanged: characters not named in the text and the scene."""
    low = text.casefold()
    out = []
    for name in framed:
        ch = before.find_character(name)
        if ch is None:
            continue
        named = any(n.casefold() in low for n in ch.names())
        how = "named" if named else "carried over from the last panel"
        out.append(f"{ch.name} ({how}) as {character_text(ch) or 'registered'}")
    s = before.scene
    for label, value in (("place", s.location), ("time", s.time_of_day), ("light", s.lighting),
                         ("weather", s.weather)):
        if value:
            out.append(f"{label} {value}")
    return out
