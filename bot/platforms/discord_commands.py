"""The slash commands: discord.py app_commands mirroring bot.grammar, built into Command values.

Options arrive typed (Discord enforces the ranges and lengths declared here), so nothing is
re-parsed: each callback builds its Command and hands it to the Handler, which defers first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import Choice, Range

from bot import commands as c
from bot.grammar import COMMAND_NAMES, MAX_NAME, MAX_TITLE, pixel_size

if TYPE_CHECKING:
    from bot.platforms.discord_app import Handler

Interaction = discord.Interaction[Any]
Seed = Range[int, 0, 2**32 - 1]
Steps = Range[int, 1, 150]
Weight = Range[int, 0, 100]
PanelNo = Range[int, 1, 2**31 - 1]
Name = Range[str, 1, MAX_NAME]
Words = Range[str, 1, 1000]

RATIOS = [Choice(name=label, value=value) for label, value in (
    ("1:1 square", "1:1"), ("3:2 landscape", "3:2"), ("2:3 portrait", "2:3"), ("4:3", "4:3"), ("3:4", "3:4"),
    ("16:9 wide", "16:9"), ("9:16 tall", "9:16"), ("21:9 cinema", "21:9"))]
TOPICS = [Choice(name=t, value=t) for t in ("world", *(n for n in COMMAND_NAMES if not n.startswith("world ")))]
_RENDER_HELP = {"seed": "Same seed, same picture (0-4294967295)", "ar": "Aspect ratio of this panel",
                "no": "What not to draw in this panel", "steps": "Sampling steps (1-150)"}


def ratio(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    w, h = value.split(":")
    return int(w), int(h)


def render_options(seed: int | None, ar: str | None, no: str | None, steps: int | None) -> c.RenderOptions:
    wh = ratio(ar)
    return c.RenderOptions(seed=seed, ar=wh, size=pixel_size(*wh) if wh else None, negative=no or "", steps=steps)


def build_tree(client: discord.Client, handler: Handler) -> app_commands.CommandTree[Any]:
    """Every worldloom command on a new CommandTree for `client`."""
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)

    async def characters(interaction: Interaction, current: str) -> list[Choice[str]]:
        return await handler.complete(interaction, current, "characters")

    async def locations(interaction: Interaction, current: str) -> list[Choice[str]]:
        return await handler.complete(interaction, current, "locations")

    world = app_commands.Group(name="world", description="Start, show, export, import or branch a world")

    @world.command(name="new", description="Start a new world in a new thread (or in this thread if it has none)")
    @app_commands.describe(title="The world's name; it also names the thread",
                           style="Words put into every prompt, e.g. 'ink and watercolour'",
                           negative="What never to draw in this world", seed="The world's seed (0-4294967295)",
                           ar="Default aspect ratio of its panels")
    @app_commands.choices(ar=RATIOS)
    async def world_new(interaction: Interaction, title: Range[str, 1, MAX_TITLE] | None = None,
                        style: Words | None = None, negative: Words | None = None, seed: Seed | None = None,
                        ar: str | None = None) -> None:
        await handler.run(interaction, c.NewWorld(title=title or "", style=style or "", negative=negative or "",
                                                  seed=seed, ar=ratio(ar)))

    @world.command(name="show", description="Show this thread's world: style, scene, characters")
    async def world_show(interaction: Interaction) -> None:
        await handler.run(interaction, c.ShowWorld())

    @world.command(name="history", description="Who changed what in this world")
    async def world_history(interaction: Interaction) -> None:
        await handler.run(interaction, c.ShowHistory())

    @world.command(name="export", description="Download this world as a file")
    async def world_export(interaction: Interaction) -> None:
        await handler.run(interaction, c.ExportWorld())

    @world.command(name="import", description="Load a world file: here if this thread has no world, else a new thread")
    @app_commands.describe(file="A .world.json (or .zip) exported with /world export")
    async def world_import(interaction: Interaction, file: discord.Attachment) -> None:
        await handler.run(interaction, c.ImportWorld(), attachment=file, kind="world")

    @world.command(name="branch", description="A new world, in a new thread, from the story up to a panel")
    @app_commands.describe(panel="The last panel the branch keeps")
    async def world_branch(interaction: Interaction, panel: PanelNo) -> None:
        await handler.run(interaction, c.BranchWorld(panel=panel))

    tree.add_command(world)

    @tree.command(name="cref", description="Register or update a character, with an optional reference image")
    @app_commands.describe(name="The character's name", description="How they look: 'a tall knight in red armour'",
                           image="A reference picture (PNG, JPEG or WebP)",
                           cw="Reference weight: 0 keeps only the face, 100 also hair and clothes",
                           aliases="Other names, separated by commas", lock="Only you (and moderators) may change them")
    @app_commands.autocomplete(name=characters)
    async def cref(interaction: Interaction, name: Name, description: Words | None = None,
                   image: discord.Attachment | None = None, cw: Weight | None = None, aliases: str | None = None,
                   lock: bool = False) -> None:
        names = tuple(a.strip()[:MAX_NAME] for a in (aliases or "").split(",") if a.strip())
        await handler.run(interaction, c.RegisterCharacter(name=name.strip(), description=(description or "").strip(),
                                                           cw=cw, aliases=names, lock=lock), attachment=image)

    @tree.command(name="sref", description="Set the world's style from words and/or a reference image")
    @app_commands.describe(style="Style words, e.g. 'moody noir comic, heavy ink'", image="A style reference image",
                           sw="How strongly the style image counts (0-100)")
    async def sref(interaction: Interaction, style: Words | None = None, image: discord.Attachment | None = None,
                   sw: Weight | None = None) -> None:
        await handler.run(interaction, c.SetStyle(text=(style or "").strip(), sw=sw), attachment=image)

    @tree.command(name="scene", description="Move to a location and set time, light and weather")
    @app_commands.describe(location="Where the story is now", description="What the location looks like",
                           time="Time of day: dawn, noon, night ...", light="Lighting: candlelit, harsh neon ...",
                           weather="Rain, fog, clear ...")
    @app_commands.autocomplete(location=locations)
    async def scene(interaction: Interaction, location: Name | None = None, description: Words | None = None,
                    time: Range[str, 1, 100] | None = None, light: Range[str, 1, 100] | None = None,
                    weather: Range[str, 1, 100] | None = None) -> None:
        await handler.run(interaction, c.SetScene(location=location, description=description or "", time=time,
                                                  light=light, weather=weather))

    @tree.command(name="imagine", description="Draw a panel from this text alone")
    @app_commands.describe(text="What the panel shows", **_RENDER_HELP)
    @app_commands.choices(ar=RATIOS)
    async def imagine(interaction: Interaction, text: Words, seed: Seed | None = None, ar: str | None = None,
                      no: Words | None = None, steps: Steps | None = None) -> None:
        await handler.run(interaction, c.Imagine(text=text, options=render_options(seed, ar, no, steps)),
                          text=f"/imagine {text}")

    @tree.command(name="continue", description="Move the story on and draw the next panel")
    @app_commands.describe(text="What happens next (empty: the story goes on as it is)", **_RENDER_HELP)
    @app_commands.choices(ar=RATIOS)
    async def continue_(interaction: Interaction, text: Words | None = None, seed: Seed | None = None,
                        ar: str | None = None, no: Words | None = None, steps: Steps | None = None) -> None:
        await handler.run(interaction, c.ContinueStory(text=text or "", options=render_options(seed, ar, no, steps)),
                          text=f"/continue {text or ''}".strip())

    @tree.command(name="reroll", description="Draw the last panel (or a given one) again with a new seed")
    @app_commands.describe(panel="Which panel (default: the last)")
    async def reroll(interaction: Interaction, panel: PanelNo | None = None) -> None:
        await handler.run(interaction, c.Reroll(panel=panel), text=f"/reroll {panel or ''}".strip())

    @tree.command(name="undo", description="Take back the last change in this world")
    async def undo(interaction: Interaction) -> None:
        await handler.run(interaction, c.Undo())

    @tree.command(name="why", description="What went into a panel's prompt: kept, changed, dropped")
    @app_commands.describe(panel="Which panel (default: the last)")
    async def why(interaction: Interaction, panel: PanelNo | None = None) -> None:
        await handler.run(interaction, c.Why(panel=panel))

    @tree.command(name="help", description="The commands, or the details of one")
    @app_commands.describe(command="Show the options of this command")
    @app_commands.choices(command=TOPICS)
    async def help_(interaction: Interaction, command: str | None = None) -> None:
        await handler.run(interaction, c.Help(topic=command), ephemeral=True)

    tree.on_error = handler.on_tree_error  # type: ignore[method-assign]
    return tree
