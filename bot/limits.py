"""How much one world and one person may do: sizes, counts and rates ([limits] in config.toml)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.images import ImageLimits


@dataclass(frozen=True)
class Limits:
    max_characters: int = 50
    max_locations: int = 100
    max_panels: int = 5000
    max_description: int = 1000
    renders_per_minute: int = 6  # 0 = no limit (the console: one local person at a keyboard)
    image: ImageLimits = field(default_factory=ImageLimits)
