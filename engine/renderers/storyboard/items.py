"""Things in hands and on floors for the sketch renderer: small icons, recognisable at thumbnail size."""

from __future__ import annotations

from PIL import ImageDraw

from engine.renderers.storyboard.palette import INK, RGB

HELD = {  # carried-item keyword -> icon kind
    **dict.fromkeys(("lantern", "lamp", "candle", "torch"), "lantern"),
    **dict.fromkeys(("sword", "blade", "dagger", "knife", "axe", "saber", "sabre"), "blade"),
    **dict.fromkeys(("staff", "stick", "spear", "wand", "cane", "umbrella", "pole", "broom", "rod", "bow"), "staff"),
    **dict.fromkeys(
        ("book", "map", "letter", "scroll", "notebook", "paper", "phone", "card", "journal", "photo", "tablet", "sign"),
        "sheet",
    ),
    **dict.fromkeys(
        ("bag", "satchel", "backpack", "basket", "suitcase", "case", "box", "crate", "chest", "sack"), "bag"
    ),
    **dict.fromkeys(("cup", "mug", "glass", "bottle", "potion", "flask", "jar", "tankard"), "cup"),
    **dict.fromkeys(("flower", "rose", "bouquet", "plant"), "flower"),
}
def limb(
    d: ImageDraw.ImageDraw, p: tuple[float, float], q: tuple[float, float], width: float, colour: RGB, ow: int
) -> None:
    """An outlined limb: a thick ink stroke under a thinner colour stroke, with round ends."""
    for w, c in ((width + 2 * ow, INK), (width, colour)):
        d.line([p, q], fill=c, width=max(1, int(w)))
        for x, y in (p, q):
            d.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=c)


def draw_held(
    d: ImageDraw.ImageDraw, kind: str, colour: RGB, hx: float, hy: float, s: float, ow: int, side: int
) -> None:
    """A carried thing at a hand: small, iconic, recognisable at thumbnail size."""
    u = s * 0.05
    if kind == "lantern":
        d.line([(hx, hy), (hx, hy + u * 0.8)], fill=INK, width=ow)
        d.rounded_rectangle(
            (hx - u * 0.7, hy + u * 0.8, hx + u * 0.7, hy + u * 2.6),
            radius=u * 0.2,
            fill=(255, 214, 110),
            outline=INK,
            width=ow,
        )
    elif kind == "blade":
        limb(d, (hx, hy), (hx + side * u * 2.5, hy - u * 6), u * 0.35, (205, 210, 220), ow)
        d.line([(hx - u * 0.9, hy - u * 0.3), (hx + u * 0.9, hy + u * 0.3)], fill=INK, width=max(ow, int(u * 0.4)))
    elif kind == "staff":
        limb(d, (hx, hy - u * 7), (hx, hy + u * 8.5), u * 0.35, colour if colour != INK else (120, 84, 50), ow)
    elif kind == "sheet":
        d.rectangle((hx - u * 0.9, hy - u * 1.4, hx + u * 0.9, hy + u * 0.8), fill=colour, outline=INK, width=ow)
    elif kind == "bag":
        d.rounded_rectangle(
            (hx - u * 1.2, hy, hx + u * 1.2, hy + u * 2.2), radius=u * 0.4, fill=colour, outline=INK, width=ow
        )
    elif kind == "cup":
        d.rectangle((hx - u * 0.5, hy - u * 1.2, hx + u * 0.5, hy + u * 0.2), fill=colour, outline=INK, width=ow)
    elif kind == "flower":
        d.line([(hx, hy), (hx + side * u * 0.6, hy - u * 2.5)], fill=(60, 140, 60), width=max(1, int(u * 0.3)))
        d.ellipse(
            (hx + side * u * 0.6 - u * 0.7, hy - u * 3.2, hx + side * u * 0.6 + u * 0.7, hy - u * 1.8),
            fill=colour,
            outline=INK,
            width=ow,
        )
    else:
        d.ellipse((hx - u * 0.8, hy - u * 0.8, hx + u * 0.8, hy + u * 0.8), fill=colour, outline=INK, width=ow)


