"""Texts that explain a world: /why (kept, changed, dropped), /world show and the scene line."""

from __future__ import annotations

from engine.appearance import character_text
from engine.events import PanelDrawn, PanelEdited, Record, active, world_at_panel
from engine.world import World


def explain_panel(records: list[Record], world: World, index: int | None) -> str:
    panel = world.panel(index)
    before, after = world_at_panel(world.id, records, panel.index)
    # The command that made the current take: the one that drew it, or the last /edit of it.
    group = [r.group for r in active(records) if isinstance(r.event, (PanelDrawn, PanelEdited))
             and r.event.panel and r.event.panel.index == panel.index][-1]
    changed = [r.event.describe() for r in active(records)
               if r.group == group and not isinstance(r.event, (PanelDrawn, PanelEdited))]
    lines = [f"**Panel {panel.index}** · {panel.author}: {panel.command}"]
    if panel.notes:
        lines.append("Understood: " + "; ".join(panel.notes))
    lines.append("Changed: " + ("; ".join(changed) if changed else "nothing in the world, only the action"))
    kept = _kept(before, after, panel.shot.characters, panel.command)
    if kept:
        lines.append("Kept from before: " + "; ".join(kept))
    lines.append(f"Camera: {panel.shot.camera or 'default'} · in frame: "
                 f"{', '.join(panel.shot.characters) or 'nobody'} · action: {panel.shot.action or '(none)'}")
    if panel.references:
        lines.append("References: " + "; ".join(panel.references))
    if panel.prompt_notes:
        lines.append("; ".join(panel.prompt_notes))
    if panel.dropped:
        lines.append("Dropped to fit the prompt budget (lowest priority first): " + "; ".join(panel.dropped))
    else:
        lines.append("Dropped: nothing, everything fit the prompt budget.")
    lines.append(f"Seed {panel.seed}" + (f" (take {panel.take + 1})" if panel.take else "")
                 + f" · prompt: {panel.prompt}")
    return "\n".join(lines)


def _kept(before: World, after: World, framed: tuple[str, ...], text: str) -> list[str]:
    """What carried over unchanged into the panel: characters as they were, and the scene."""
    low = text.casefold()
    out = []
    for name in framed:
        was, now = before.find_character(name), after.find_character(name)
        if was is None or now is None or was.traits != now.traits:
            continue  # new, or changed by this text: listed under "Changed"
        how = "named" if any(n.casefold() in low for n in now.names()) else "carried over from the last panel"
        out.append(f"{now.name} ({how}) as {character_text(now) or 'registered'}")
    b, a = before.scene, after.scene
    for label, old, new in (("place", b.location, a.location), ("time", b.time_of_day, a.time_of_day),
                            ("light", b.lighting, a.lighting), ("weather", b.weather, a.weather)):
        if old and old == new:
            out.append(f"{label} {new}")
    return out


def describe_scene(world: World) -> str:
    s = world.scene
    loc = world.location(s.location)
    where = f"{loc.name}" + (f" ({loc.description})" if loc and loc.description else "") if loc else "nowhere yet"
    bits = [f"Scene: {where}"]
    for label, value in (("time", s.time_of_day), ("light", s.lighting), ("weather", s.weather)):
        if value:
            bits.append(f"{label}: {value}")
    if loc and loc.props:
        bits.append("props: " + ", ".join(loc.props))
    return "; ".join(bits)


def describe_world(world: World) -> str:
    lines = [f"🌍 **{world.title}** · {count(len(world.panels), 'panel')} · seed {world.seed} · "
             f"{world.width}x{world.height}"]
    if world.style.prefix:
        lines.append(f"Style: {world.style.prefix}")
    lines.append(describe_scene(world))
    for ch in world.characters:
        lock = " 🔒" if ch.locked else ""
        ref = " 🖼" if ch.references else ""
        lines.append(f"• **{ch.name}**{lock}{ref}: {character_text(ch) or '(no description)'}")
    others = [loc.name for loc in world.locations if loc.name != world.scene.location]
    if others:
        lines.append("Other places: " + ", ".join(others))
    return clip("\n".join(lines))


def count(n: int, noun: str) -> str:
    """"1 panel", "2 panels"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def clip(text: str, limit: int = 1900) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
