"""The consistency benchmark through the bot's real service path.

`ServiceRender` is the `render` callable of `run_benchmark`: each subject set becomes a world in a
thread of its own and is typed the way people type it, `/world new --style STYLE`, `/cref Subject
SUBJECT`, then `/continue the subject SETTING` per setting, through WorldService, the store, the
engine queue and the outbox. References **on** is the bot as configured by default: automatic
anchoring makes the subject's first solo panel its reference, and a multi-reference model gets
the references composing chooses. **Off** is `reference_mode = "off"`: no reference images at all
and no automatic anchoring. Both modes draw with one loaded renderer (a model is loaded once) and
the same world seed, so the panels' seeds match and references are the only difference.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

from bot.app import App, open_app
from bot.config import Settings
from bot.context import Actor, Place
from bot.limits import Limits
from engine.bench.consistency_sets import SubjectSet
from engine.jobs import Capabilities, Progress, Renderer, RenderJob

PLATFORM = "bench"
SUBJECT = "Subject"
_TINY = ("tiny-flux2-klein", "tiny-flux2", "tiny-qwen-edit-plus")


def renderer_for(model: str, *, device: str = "auto", dtype: str = "auto", size: int | None = None) -> Renderer:
    """The renderer the service would build for `model` (not loaded): "tiny" is the offline SD test
    pipeline, "tiny-flux2-klein" (or -flux2, -qwen-edit-plus) a toy multi-reference one, anything else
    a diffusers model id or folder (SD, SDXL, FLUX.2, Qwen-Image-Edit-Plus)."""
    from engine.renderers.registry import make_renderer

    settings: dict[str, Any] = {"reference_mode": "attention", "safety_checker": False}
    if size:
        settings.update(native_size=size, reference_size=size)
    if model == "tiny":
        return make_renderer("tiny", settings)
    if model in _TINY:
        return make_renderer("tiny", {**settings, "tiny_pipeline": model.removeprefix("tiny-")})
    return make_renderer("diffusion", {**settings, "model": model, "device": device, "dtype": dtype})


class SharedRenderer:
    """One loaded renderer behind several apps: their engines neither load nor close it."""

    def __init__(self, inner: Renderer) -> None:
        self.inner = inner
        self.name = inner.name

    @property
    def capabilities(self) -> Capabilities:
        return self.inner.capabilities

    def __getattr__(self, name: str) -> Any:  # count_tokens, native ...: whatever the renderer has
        return getattr(self.inner, name)

    def load(self) -> None: ...

    def render(self, jobs: list[RenderJob], progress: Progress) -> list[bytes]:
        return self.inner.render(jobs, progress)

    def close(self) -> None: ...


class ServiceRender:
    """Renders subject sets through the service (see the module doc). Use `async with`."""

    def __init__(self, renderer: Renderer, workdir: str | Path, *, steps: int, seed: int = 0) -> None:
        self.renderer = SharedRenderer(renderer)
        self.workdir = Path(workdir)
        self.steps, self.seed = steps, seed
        self._apps: dict[str, App] = {}
        self._stack = contextlib.AsyncExitStack()
        self.actor = Actor(PLATFORM, "bench", "bench")

    async def __aenter__(self) -> ServiceRender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()
        self._apps.clear()

    async def app(self, mode: str) -> App:
        """The app of one mode ("on" / "off"), opened on first use."""
        if mode not in self._apps:
            engine: dict[str, Any] = {"reference_mode": "attention" if mode == "on" else "off",
                                      "auto_anchor": mode == "on"}
            settings = Settings(database=str(self.workdir / f"bench-{mode}.db"), engine=engine,
                                limits=Limits(renders_per_minute=0), per_user_cap=10_000, global_cap=10_000)
            self._apps[mode] = await self._stack.enter_async_context(open_app(settings, renderer=self.renderer))
        return self._apps[mode]

    def lines(self, s: SubjectSet) -> list[str]:
        """The commands typed for one set."""
        title = f"{s.domain} {s.index}".replace('"', "'")
        head = [f'/world new "{title}" --style {_words(s.style)} --seed {self.seed} --ar 1:1',
                f"/cref {SUBJECT} {_words(s.subject)}"]
        return head + [f"/continue the subject {_words(setting)} --steps {self.steps}" for setting in s.settings]

    async def __call__(self, s: SubjectSet, references: bool) -> list[bytes]:
        mode = "on" if references else "off"
        app = await self.app(mode)
        place = Place(PLATFORM, "local", "consistency", f"{s.name}#{mode}")
        for line in self.lines(s):
            reply = await app.service.execute_text(line, self.actor, place)
            if reply.error:
                raise RuntimeError(f"{s.name}: {line!r} was refused: {reply.text}")
            if reply.ticket is not None:
                await reply.ticket.done
        world_id = await app.service.world_id_for(place)
        assert world_id is not None
        return [png for _, png in await app.service.drawn_panels(world_id)]


def _words(text: str) -> str:
    """Free text that cannot be read as an option: "--" would start one."""
    return " ".join(re.sub(r"[-—–]+", "-", text).split())
