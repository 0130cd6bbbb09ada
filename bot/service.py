"""WorldService: every platform's commands, handled the same way.

An adapter turns its input into a Command, an Actor and a Place and awaits `execute`; the
answer is a Reply. Work on one world is serialised by one asyncio lock per world, so two
commands typed at the same moment build on each other. Render commands are planned inside
the lock and handed to bot.rendering.Renderings, which posts the panel through the platform's
Outlet when it is done.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

from bot import commands as c
from bot.context import Actor, Attachment, NewPlace, Place, Reply
from bot.explain import explain_panel
from bot.grammar import help_text, parse
from bot.images import BadImage, ImageLimits, check_image, clean_image
from bot.rendering import Renderings
from bot.store import Store
from bot.worldfile import BadWorldFile, export_world, image_hashes, parse_world_file
from engine.appearance import character_text, guess_pronoun, parse_description
from engine.errors import LimitExceeded, NotAllowed, WorldError
from engine.events import (
    CharacterReferenceSet,
    CharacterRegistered,
    Event,
    LocationSet,
    Record,
    SceneChanged,
    StyleSet,
    Undone,
    WorldCreated,
    active,
    fold,
    last_undoable,
)
from engine.world import ImageRef, World

log = logging.getLogger(__name__)
SYSTEM_AUTHOR = "worldloom"


@dataclass(frozen=True)
class Limits:
    max_characters: int = 50
    max_locations: int = 100
    max_panels: int = 5000
    max_description: int = 1000
    renders_per_minute: int = 6  # 0 = no limit (the console: one local person at a keyboard)
    image: ImageLimits = field(default_factory=ImageLimits)


@dataclass
class _Cached:
    records: list[Record]
    world: World
    creator: str


class WorldService:
    def __init__(self, store: Store, renderings: Renderings, *, limits: Limits | None = None,
                 default_seed: Callable[[], int] | None = None) -> None:
        self.store = store
        self.renderings = renderings
        self.limits = limits or Limits()
        self._default_seed = default_seed or (lambda: secrets.randbits(31))
        self._locks: dict[str, asyncio.Lock] = {}
        self._cache: dict[str, _Cached] = {}
        self._recent: dict[str, list[float]] = {}

    # ------------------------------------------------------------ entry points

    async def execute_text(self, line: str, actor: Actor, place: Place,
                           attachments: Sequence[Attachment] = (), new_place: NewPlace | None = None) -> Reply:
        """Parses one line of the grammar and executes it; user errors become ephemeral replies."""
        try:
            command = parse(line)
        except WorldError as e:
            return Reply(str(e), ephemeral=True, error=True)
        return await self.execute(command, actor, place, attachments, new_place, text=line.strip())

    async def execute(self, command: c.Command, actor: Actor, place: Place,
                      attachments: Sequence[Attachment] = (), new_place: NewPlace | None = None,
                      text: str = "") -> Reply:
        try:
            return await self._dispatch(command, actor, place, list(attachments), new_place, text)
        except WorldError as e:
            return Reply(str(e), ephemeral=True, error=True)

    async def world_id_for(self, place: Place) -> str | None:
        return await self.store.world_for(place.key())

    async def world(self, world_id: str) -> World:
        return (await self._load(world_id)).world

    async def reference_from_panel(self, actor: Actor, place: Place, panel: int, name: str,
                                   weight: int = 100) -> Reply:
        """The "Use as reference" button: a rendered panel becomes a character's reference image."""
        try:
            world_id = await self.store.world_for(place.key())
            if world_id is None:
                raise WorldError("there is no world here")
            async with self._lock(world_id):
                cached = await self._load(world_id)
                ch = cached.world.character(name)
                cached.world.panel(panel)
                if ch.locked and ch.author_id != actor.key() and not self.may_moderate(actor, cached):
                    raise NotAllowed(f"{ch.name} is locked; only its author, the world's creator or a moderator "
                                     "can change its reference")
                image = (await self.store.panel_images(world_id)).get(panel)
                if image is None:
                    raise WorldError(f"panel {panel} has no image yet")
                event = CharacterReferenceSet(name=ch.name, reference=ImageRef(image, weight))
                await self.append(cached, actor, [event])
                return Reply(f"🖼 Panel {panel} is now the reference image of **{ch.name}**.", world_id=world_id)
        except WorldError as e:
            return Reply(str(e), ephemeral=True, error=True)

    async def anchor(self, world_id: str, group: int, name: str, image: str) -> bool:
        """Automatic anchoring: a character's first solo panel becomes its reference image.

        The event joins the panel's own command group, so undoing the panel undoes the anchor.
        """
        async with self._lock(world_id):
            cached = await self._load(world_id)
            if group not in {r.group for r in active(cached.records)}:
                return False  # the panel was undone meanwhile
            ch = cached.world.find_character(name)
            if ch is None or ch.references:
                return False
            event = CharacterReferenceSet(name=ch.name, reference=ImageRef(image, 100), auto=True)
            new = await self.store.append(world_id, SYSTEM_AUTHOR, [event], author_id=SYSTEM_AUTHOR, group=group)
            cached.records.extend(new)
            cached.world = replace(event.apply(cached.world), version=len(cached.records))
            return True

    async def character_names(self, place: Place) -> list[str]:
        """For autocomplete: the characters of the place's world."""
        world_id = await self.store.world_for(place.key())
        return [ch.name for ch in (await self.world(world_id)).characters] if world_id else []

    async def location_names(self, place: Place) -> list[str]:
        world_id = await self.store.world_for(place.key())
        return [loc.name for loc in (await self.world(world_id)).locations] if world_id else []

    # ------------------------------------------------------------ dispatch

    async def _dispatch(self, cmd: c.Command, actor: Actor, place: Place, files: list[Attachment],
                        new_place: NewPlace | None, text: str) -> Reply:
        if isinstance(cmd, c.Help):
            return Reply(help_text(cmd.topic), ephemeral=True)
        if isinstance(cmd, c.NewWorld):
            return await self._new_world(cmd, actor, place, new_place)
        if isinstance(cmd, c.ImportWorld):
            return await self._import(cmd, actor, place, files, new_place)
        world_id = await self.store.world_for(place.key())
        if world_id is None:
            raise WorldError("there is no world here yet: start one with /world new TITLE")
        async with self._lock(world_id):
            cached = await self._load(world_id)
            handler = self._handlers().get(type(cmd))
            if handler is None:
                raise WorldError(f"{type(cmd).__name__} is not supported here")
            return await handler(cmd, actor, place, cached, files, new_place, text or _default_text(cmd))

    def _handlers(self) -> dict[type, Callable[..., Awaitable[Reply]]]:
        return {
            c.ShowWorld: self._show, c.ShowHistory: self._history, c.ExportWorld: self._export,
            c.BranchWorld: self._branch, c.RegisterCharacter: self._cref, c.SetStyle: self._sref,
            c.SetScene: self._scene, c.Undo: self._undo, c.Why: self._why,
            c.Imagine: self._render, c.ContinueStory: self._render, c.Reroll: self._reroll,
        }

    def _lock(self, world_id: str) -> asyncio.Lock:
        return self._locks.setdefault(world_id, asyncio.Lock())

    async def _load(self, world_id: str) -> _Cached:
        cached = self._cache.get(world_id)
        if cached is None:
            records = await self.store.records(world_id)
            info = await self.store.world_info(world_id)
            cached = _Cached(records, fold(world_id, records), info["creator_id"] if info else "")
            self._cache[world_id] = cached
        return cached

    async def append(self, cached: _Cached, actor: Actor, events: list[Event],
                     job: tuple[str, int, int, dict[str, object], dict[str, object]] | None = None) -> World:
        """Stores one command's events (and its job) at once, then advances the cached world."""
        world_id = cached.world.id
        new = await self.store.append(world_id, actor.name, events, job, author_id=actor.key())
        cached.records.extend(new)
        if any(isinstance(r.event, Undone) for r in new):
            cached.world = fold(world_id, cached.records)
        else:
            world = cached.world
            for r in new:
                world = r.event.apply(world)
            cached.world = replace(world, version=len(cached.records))
        return cached.world

    def may_moderate(self, actor: Actor, cached: _Cached) -> bool:
        return actor.is_admin or actor.key() == cached.creator

    def check_rate(self, actor: Actor) -> None:
        if self.limits.renders_per_minute <= 0:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        key = f"{actor.platform}:{actor.id}"
        recent = [t for t in self._recent.get(key, []) if now - t < 60.0]
        if len(recent) >= self.limits.renders_per_minute:
            raise LimitExceeded(f"slow down: at most {self.limits.renders_per_minute} panels a minute per person")
        recent.append(now)
        self._recent[key] = recent

    # ------------------------------------------------------------ worlds

    async def _new_world(self, cmd: c.NewWorld, actor: Actor, place: Place, new_place: NewPlace | None) -> Reply:
        title = cmd.title or "Untitled world"
        if new_place is not None:
            place = await new_place(title)
        width, height = _size_for(cmd.ar) if cmd.ar else (768, 512)
        seed = cmd.seed if cmd.seed is not None else self._default_seed()
        world_id = _new_id()
        created = WorldCreated(title=title, seed=seed, width=width, height=height, style=cmd.style,
                               negative=cmd.negative)
        await self.store.create_world(world_id, title, actor.name, [created], binding=place.key(),
                                      author_id=actor.key())
        style = f"\nStyle: {cmd.style}" if cmd.style else ""
        return Reply(f"🌍 New world **{title}** (seed {seed}, {width}x{height}).{style}\n"
                     "Add characters with /cref NAME DESCRIPTION, set the scene with /scene, "
                     "then /imagine or /continue.", world_id=world_id)

    async def _show(self, cmd: c.ShowWorld, actor: Actor, place: Place, cached: _Cached, *_: object) -> Reply:
        return Reply(describe_world(cached.world), world_id=cached.world.id)

    async def _history(self, cmd: c.ShowHistory, actor: Actor, place: Place, cached: _Cached, *_: object) -> Reply:
        undone = {r.event.group for r in cached.records if isinstance(r.event, Undone)}
        lines = []
        for r in cached.records[-40:]:
            mark = "~~" if r.group in undone else ""
            lines.append(f"{r.seq}. {r.author}: {mark}{r.event.describe()}{mark}")
        return Reply(_clip("History (newest last):\n" + "\n".join(lines)), world_id=cached.world.id)

    async def _export(self, cmd: c.ExportWorld, actor: Actor, place: Place, cached: _Cached, *_: object) -> Reply:
        images = {sha: await self.store.get_blob(sha) for sha in image_hashes(cached.records)}
        data = await asyncio.to_thread(export_world, cached.world.title, cached.records, images)
        name = f"{_slug(cached.world.title)}.world.json"
        return Reply(f"📦 Exported **{cached.world.title}** ({len(cached.records)} events, {len(images)} images).",
                     files=((name, data),), world_id=cached.world.id)

    async def _import(self, cmd: c.ImportWorld, actor: Actor, place: Place, files: list[Attachment],
                      new_place: NewPlace | None) -> Reply:
        if not files:
            raise WorldError("attach a world file (.json or .zip) to import")
        title, records, images = await asyncio.to_thread(parse_world_file, files[0].data)
        # A world file's images become references that renderers open: same rules as uploads.
        try:
            for blob in images.values():
                await asyncio.to_thread(check_image, blob, self.limits.image)
        except BadImage as e:
            raise BadWorldFile(f"the world file holds an image that is not accepted: {e}") from None
        existing = await self.store.world_for(place.key())
        if existing is not None and new_place is None:
            cached = await self._load(existing)
            if not self.may_moderate(actor, cached):
                raise NotAllowed("only the world's creator or a moderator can import over this world")
        if new_place is not None:
            place = await new_place(title)
        for blob in images.values():
            await self.store.put_blob(blob)
        world_id = _new_id()
        await self.store.import_world(world_id, title, actor.name, records, binding=place.key(),
                                      author_id=actor.key())
        return Reply(f"📥 Imported **{title}** ({len(records)} events).", world_id=world_id)

    async def _branch(self, cmd: c.BranchWorld, actor: Actor, place: Place, cached: _Cached,
                      files: list[Attachment], new_place: NewPlace | None, text: str) -> Reply:
        cached.world.panel(cmd.panel)  # raises UnknownPanel with the valid range
        keep: list[Record] = []
        for r in active(cached.records):
            keep.append(r)
            panel = getattr(r.event, "panel", None)
            if panel is not None and getattr(panel, "index", None) == cmd.panel:
                break
        title = f"{cached.world.title} (branch at panel {cmd.panel})"
        target = await new_place(title) if new_place is not None else place
        world_id = _new_id()
        renumbered = [replace(r, seq=i) for i, r in enumerate(keep, start=1)]
        await self.store.import_world(world_id, title, actor.name, renumbered, binding=target.key(),
                                      branched_from=cached.world.id, author_id=actor.key())
        return Reply(f"🌿 Branched **{title}** from panel {cmd.panel}; the story goes on from there.",
                     world_id=world_id)

    # ------------------------------------------------------------ state commands

    async def _cref(self, cmd: c.RegisterCharacter, actor: Actor, place: Place, cached: _Cached,
                    files: list[Attachment], *_: object) -> Reply:
        world = cached.world
        old = world.find_character(cmd.name)
        if old is None and len(world.characters) >= self.limits.max_characters:
            raise LimitExceeded(f"this world already has {self.limits.max_characters} characters")
        if old is not None and old.locked and old.author_id != actor.key() and not self.may_moderate(actor, cached):
            raise NotAllowed(f"{old.name} is locked; only {old.author or 'its author'}, the world's creator "
                             "or a moderator can change it")
        if len(cmd.description) > self.limits.max_description:
            raise LimitExceeded(f"the description is too long (max {self.limits.max_description} characters)")
        refs: tuple[ImageRef, ...] = ()
        if files:
            sha = await self._store_image(files[0])
            refs = (ImageRef(sha, cmd.cw if cmd.cw is not None else 100),)
        elif cmd.image:
            raise WorldError(f"could not read the image {cmd.image!r}")
        elif cmd.cw is not None and old is not None and old.references:
            refs = tuple(replace(r, weight=cmd.cw) for r in old.references)
        if old is None and not cmd.description and not refs:
            raise WorldError(f"describe {cmd.name} or attach an image, e.g. /cref {cmd.name} a tall knight in red")
        pronoun = guess_pronoun(cmd.description) if cmd.description else (old.pronoun if old else "they")
        event = CharacterRegistered(
            name=cmd.name, description=cmd.description, traits=parse_description(cmd.description),
            pronoun=pronoun, aliases=cmd.aliases, references=refs, locked=cmd.lock, author=actor.name,
            author_id=actor.key())
        world = await self.append(cached, actor, [event])
        ch = world.character(cmd.name)
        what = "Updated" if old else "Registered"
        ref = f" with a reference image (cw {refs[0].weight})" if refs else ""
        aka = f" (also {', '.join(ch.aliases)})" if ch.aliases else ""
        return Reply(f"👤 {what} **{ch.name}**{aka}{ref}: {character_text(ch) or 'no description'}",
                     world_id=world.id)

    async def _sref(self, cmd: c.SetStyle, actor: Actor, place: Place, cached: _Cached,
                    files: list[Attachment], *_: object) -> Reply:
        ref = None
        if files:
            ref = ImageRef(await self._store_image(files[0]), cmd.sw if cmd.sw is not None else 100)
        elif cmd.image:
            raise WorldError(f"could not read the image {cmd.image!r}")
        if not cmd.text and ref is None:
            s = cached.world.style
            return Reply(f"🎨 Style: {s.prefix or '(none)'}; negative: {s.negative or '(none)'}; "
                         f"style image: {'yes' if s.reference else 'no'}")
        world = await self.append(cached, actor, [StyleSet(prefix=cmd.text or None, reference=ref)])
        return Reply(f"🎨 Style set: {world.style.prefix or '(unchanged)'}"
                     + (" with a style reference image" if ref else ""), world_id=world.id)

    async def _scene(self, cmd: c.SetScene, actor: Actor, place: Place, cached: _Cached, *_: object) -> Reply:
        world = cached.world
        events: list[Event] = []
        if cmd.location:
            known = world.location(cmd.location)
            if known is None and len(world.locations) >= self.limits.max_locations:
                raise LimitExceeded(f"this world already has {self.limits.max_locations} locations")
            if known is None or cmd.description:
                events.append(LocationSet(name=known.name if known else cmd.location,
                                          description=cmd.description or None))
        scene = SceneChanged(
            location=(world.location(cmd.location).name if world.location(cmd.location) else cmd.location)
            if cmd.location else None,
            time_of_day=cmd.time, lighting=cmd.light, weather=cmd.weather)
        if any(v is not None for v in (scene.location, scene.time_of_day, scene.lighting, scene.weather)):
            events.append(scene)
        if not events:
            return Reply(describe_scene(world))
        world = await self.append(cached, actor, events)
        return Reply("🎬 " + describe_scene(world), world_id=world.id)

    async def _undo(self, cmd: c.Undo, actor: Actor, place: Place, cached: _Cached, *_: object) -> Reply:
        group = last_undoable(cached.records)
        if not group:
            raise WorldError("nothing to undo")
        author = group[0].author
        if group[0].author_id != actor.key() and not self.may_moderate(actor, cached):
            raise NotAllowed(f"the last change was made by {author}; only they, the world's creator "
                             "or a moderator can undo it")
        summary = "; ".join(r.event.describe() for r in group)
        world = await self.append(cached, actor, [Undone(group=group[0].group, summary=_clip(summary, 300))])
        return Reply(f"↩️ Undid {author}'s change: {_clip(summary, 1500)}", world_id=world.id)

    async def _why(self, cmd: c.Why, actor: Actor, place: Place, cached: _Cached, *_: object) -> Reply:
        return Reply(_clip(explain_panel(cached.records, cached.world, cmd.panel)), world_id=cached.world.id)

    # ------------------------------------------------------------ render commands

    async def _render(self, cmd: c.Imagine | c.ContinueStory, actor: Actor, place: Place, cached: _Cached,
                      files: list[Attachment], new_place: NewPlace | None, text: str) -> Reply:
        if len(cached.world.panels) >= self.limits.max_panels:
            raise LimitExceeded(f"this world has reached {self.limits.max_panels} panels; branch it to go on")
        self.check_rate(actor)
        return await self.renderings.draw(self, cached, cmd, actor, place, text)

    async def _reroll(self, cmd: c.Reroll, actor: Actor, place: Place, cached: _Cached,
                      files: list[Attachment], new_place: NewPlace | None, text: str) -> Reply:
        self.check_rate(actor)
        return await self.renderings.reroll(self, cached, cmd.panel, actor, place, text)

    async def _store_image(self, file: Attachment) -> str:
        data = await asyncio.to_thread(clean_image, file.data, self.limits.image)
        return await self.store.put_blob(data)


# ---------------------------------------------------------------- text helpers


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
    lines = [f"🌍 **{world.title}** · {len(world.panels)} panels · seed {world.seed} · {world.width}x{world.height}"]
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
    return _clip("\n".join(lines))


def _default_text(cmd: c.Command) -> str:
    return "/" + type(cmd).__name__.lower()


def _clip(text: str, limit: int = 1900) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slug(title: str) -> str:
    s = "".join(ch.lower() if ch.isalnum() else "-" for ch in title).strip("-")
    return "-".join(filter(None, s.split("-")))[:40] or "world"


def _new_id() -> str:
    return secrets.token_hex(6)


def _size_for(ar: tuple[int, int], area: int = 768 * 512) -> tuple[int, int]:
    w, h = ar
    width = max(64, round((area * w / h) ** 0.5 / 64) * 64)
    height = max(64, round((area * h / w) ** 0.5 / 64) * 64)
    return width, height
