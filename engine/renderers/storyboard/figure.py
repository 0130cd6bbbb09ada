"""The Figure value: what one character looks like in a panel, decided before any drawing. Pure."""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.renderers.storyboard.palette import RGB


@dataclass(frozen=True)
class Figure:
    """What one character looks like in a panel, decided before any drawing."""

    name: str
    colours: dict[str, RGB]
    hair: str = "medium"  # short | medium | long | bald | curly | ponytail
    hat: tuple[str, RGB] | None = None
    scarf: RGB | None = None
    cloak: RGB | None = None
    coat: bool = False
    skirt: RGB | None = None
    glasses: bool = False
    beard: bool = False
    scar: bool = False
    held: tuple[tuple[str, RGB], ...] = ()
    kind: str = "person"  # person | animal | bird | dragon | robot | flower | object
    noun: str = ""
    old: bool = False
    expression: str = ""  # smile | frown | shout | cry | surprise | "" (calm)
    view: str = "front"  # front | back | profile
    look: int = 0  # -1 left, 0 at the camera, 1 right
    arm_up: bool = False
    stride: bool = False
    scale: float = 1.0  # height relative to an average adult (tall, child, ...)
    bulk: float = 1.0  # shoulder and hip width (stocky, slim, ...)

    def facing(self, look: int) -> Figure:
        """The same figure looking left (-1), at the camera (0) or right (1)."""
        return replace(self, look=look)

    def facing_away(self) -> Figure:
        """The same figure seen from behind."""
        return replace(self, view="back")
