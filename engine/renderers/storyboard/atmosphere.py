"""Light and weather over a drawn scene: time-of-day tint, glow of the light source, shadow side, rain, snow, fog.

Weather is drawn only outdoors; indoors it shows through the windows alone.
"""

from __future__ import annotations

import random

from PIL import Image, ImageChops

from engine.renderers.storyboard.draw import SafeDraw
from engine.renderers.storyboard.light import Light, light_source
from engine.renderers.storyboard.palette import RGB, mix, words
from engine.renderers.storyboard.scenes import Backdrop

WEATHER = {  # other words for the weathers drawn
    "rainy": "rain", "raining": "rain", "rains": "rain", "downpour": "rain", "showers": "rain", "snowy": "snow",
    "snowing": "snow", "snows": "snow", "snowfall": "snow", "foggy": "fog", "misty": "mist", "stormy": "storm",
    "thunderstorm": "storm", "thunder": "storm", "lightning": "storm", "tempest": "storm", "gale": "storm",
}


def gradient_mask(size: tuple[int, int], side: str, peak: int) -> Image.Image:
    """An L mask that is `peak` on the side away from the light and 0 towards it."""
    g = Image.linear_gradient("L")
    g = {
        "left": g.transpose(Image.Transpose.TRANSPOSE),
        "right": g.transpose(Image.Transpose.TRANSPOSE).transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        "above": g,
        "below": g.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
    }.get(side, g)
    return g.resize(size, Image.Resampling.BILINEAR).point(lambda v: v * peak // 255)


def _glow(
    size: tuple[int, int], centre: tuple[float, float], radius: float, colour: RGB, strength: float
) -> Image.Image:
    """An RGB image that is `colour` at centre fading to black: for a screen blend."""
    r = max(2, int(radius))
    blob = ImageChops.invert(Image.radial_gradient("L")).resize((2 * r, 2 * r), Image.Resampling.BILINEAR)
    mask = Image.new("L", size, 0)
    mask.paste(blob.point(lambda v: int(v * strength)), (int(centre[0]) - r, int(centre[1]) - r))
    return Image.composite(Image.new("RGB", size, colour), Image.new("RGB", size, 0), mask)


def light_scene(scene: Image.Image, lighting: str, light_from: str, light: Light, bd: Backdrop) -> Image.Image:
    """Time-of-day tint, light-source glow and the shadow side of the frame."""
    w, h = scene.size
    if light.strength:
        scene = Image.blend(scene, Image.new("RGB", scene.size, light.tint), light.strength)
    src = light_source(lighting)
    side = {
        "left": (0.0, 0.45),
        "right": (1.0, 0.45),
        "above": (0.5, 0.0),
        "behind": (0.5, 0.55),
        "front": (0.5, 1.0),
    }.get(light_from)
    if src:
        colour, strength = src
        centre = (w * side[0], h * side[1]) if side else bd.lamp or (w * 0.5, h * 0.4)
        scene = ImageChops.screen(scene, _glow(scene.size, centre, max(w, h) * 0.55, colour, strength))
        if "neon" in lighting.lower():  # neon comes in pairs: cyan answers the magenta
            scene = ImageChops.screen(
                scene, _glow(scene.size, (w - centre[0], h * 0.5), max(w, h) * 0.5, (30, 220, 255), strength * 0.8)
            )
    away = {"left": "left", "right": "right", "above": "above", "front": ""}.get(light_from, "")
    if away:
        dark = scene.point(lambda v: v * 55 // 100)
        scene = Image.composite(dark, scene, gradient_mask(scene.size, away, 120))
    if "overcast" in lighting.lower() or "gloom" in lighting.lower():
        scene = Image.blend(scene, scene.convert("L").convert("RGB"), 0.45)
    return scene


def weather_scene(scene: Image.Image, weather: str, light: Light, bd: Backdrop, seed: int) -> Image.Image:
    """Rain, snow, fog and storm drawn from the job seed; indoors only inside windows, never in space."""
    said = {WEATHER.get(w, w) for w in words(weather)}
    kinds = [k for k in ("rain", "snow", "fog", "storm", "mist", "drizzle", "blizzard") if k in said]
    if not kinds or (bd.interior and not bd.windows) or bd.kind == "space":
        return scene
    w, h = scene.size
    rng = random.Random(f"weather:{seed}")
    layer = Image.new("RGBA", scene.size, (0, 0, 0, 0))
    d = SafeDraw(layer)
    storm = "storm" in kinds
    wet = mix((210, 218, 235), light.tint, light.strength * 0.5)
    if storm and not bd.interior:  # indoors the storm darkens only the windows (below)
        scene = Image.blend(scene, Image.new("RGB", scene.size, (22, 24, 40)), 0.35)
    if storm or "rain" in kinds or "drizzle" in kinds:
        length, lw = h * 0.05, max(1, w // 500)
        for _ in range(int(w * h / (1500 if storm else 2600))):
            x, y = rng.uniform(-0.1, 1.0) * w, rng.uniform(-0.05, 1.0) * h
            d.line([(x, y), (x + length * 0.28, y + length)], fill=(*wet, rng.randint(70, 150)), width=lw)
    if "snow" in kinds or "blizzard" in kinds:
        for _ in range(int(w * h / 2200)):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.6, 1.0) * max(1.0, h * 0.006)
            d.ellipse((x - r, y - r, x + r, y + r), fill=(250, 250, 255, rng.randint(150, 240)))
    if storm:
        x, y = rng.uniform(0.25, 0.75) * w, 0.0
        pts = [(x, y)]
        while y < bd.horizon * 0.9:
            x, y = x + rng.uniform(-0.05, 0.05) * w, y + rng.uniform(0.05, 0.12) * h
            pts.append((x, y))
        d.line(pts, fill=(190, 200, 255, 90), width=max(3, w // 90))
        d.line(pts, fill=(255, 255, 255, 255), width=max(1, w // 300))
    if "fog" in kinds or "mist" in kinds:
        veil = gradient_mask(scene.size, "below", 150)
        layer.alpha_composite(
            Image.merge(
                "RGBA", (*Image.new("RGB", scene.size, mix((220, 224, 230), light.tint, light.strength)).split(), veil)
            )
        )
    if bd.interior:  # only the windows show the weather
        keep = Image.new("L", scene.size, 0)
        for box in bd.windows:
            SafeDraw(keep).rectangle(box, fill=255)
        layer.putalpha(ImageChops.multiply(layer.getchannel("A"), keep))
    out = scene.convert("RGBA")
    out.alpha_composite(layer)
    return out.convert("RGB")


