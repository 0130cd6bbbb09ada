"""Light of the sketch renderer: time-of-day palettes and light sources named by the scene. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from engine.renderers.storyboard.palette import RGB, words


@dataclass(frozen=True)
class Light:
    """How a time of day (or a light source) colours the whole panel."""

    sky_top: RGB
    sky_low: RGB
    ground: RGB
    tint: RGB
    strength: float  # 0 = no tint, 1 = everything becomes tint
    stars: bool = False


TIMES: dict[str, Light] = {
    "dawn": Light((118, 108, 170), (250, 186, 176), (120, 120, 110), (255, 170, 180), 0.14),
    "morning": Light((118, 178, 235), (218, 232, 246), (132, 160, 100), (255, 250, 235), 0.04),
    "noon": Light((64, 148, 238), (196, 226, 252), (130, 170, 92), (255, 255, 240), 0.0),
    "afternoon": Light((88, 160, 226), (228, 226, 200), (136, 160, 94), (255, 236, 200), 0.06),
    "golden hour": Light((226, 168, 96), (255, 218, 146), (150, 140, 80), (255, 190, 96), 0.18),
    "sunset": Light((112, 70, 140), (250, 148, 72), (110, 96, 80), (255, 140, 84), 0.2),
    "dusk": Light((62, 50, 118), (240, 138, 86), (86, 80, 86), (170, 96, 140), 0.26),
    "evening": Light((40, 44, 96), (170, 110, 120), (70, 70, 80), (80, 70, 130), 0.32),
    "night": Light((8, 14, 40), (34, 46, 92), (30, 36, 50), (16, 26, 72), 0.5, True),
    "midnight": Light((4, 4, 18), (18, 24, 56), (20, 22, 34), (8, 12, 44), 0.6, True),
}
DEFAULT_TIME = Light((150, 190, 230), (226, 236, 246), (140, 160, 110), (255, 255, 255), 0.0)


def time_light(time_of_day: str) -> Light:
    """The palette for a time of day; understands phrases like 'late at night'."""
    t = time_of_day.lower()
    for name in sorted(TIMES, key=len, reverse=True):
        if name in t:
            return TIMES[name]
    if "sunrise" in t:
        return TIMES["dawn"]
    return TIMES["noon"] if "midday" in t or "day" in t else DEFAULT_TIME


# Light sources: keyword -> (glow colour, glow strength, extra tint strength).
SOURCES: tuple[tuple[tuple[str, ...], RGB, float], ...] = (
    (("candle", "fire", "torch", "lantern", "lamp", "hearth", "ember"), (255, 150, 60), 0.55),
    (("neon",), (255, 40, 200), 0.5),
    (("moon",), (120, 150, 255), 0.4),
    (("sun", "daylight", "golden"), (255, 228, 150), 0.3),
    (("spotlight", "dramatic", "harsh", "chiaroscuro", "rim"), (255, 250, 235), 0.4),
    (("magic", "glow", "bioluminescent"), (110, 255, 210), 0.4),
)


def light_source(lighting: str) -> tuple[RGB, float] | None:
    """Glow colour and strength for a lighting phrase (None for none/unknown)."""
    toks = words(lighting)
    for keys, colour, strength in SOURCES:
        # Whole words, or a source with "light" or "lit" after it: candlelight, moonlit, firelight.
        if any(t.removesuffix("s") in keys or t.removesuffix("light") in keys or t.removesuffix("lit") in keys
               for t in toks):
            return colour, strength
    return None
