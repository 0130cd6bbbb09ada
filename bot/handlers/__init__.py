"""Command handlers: one function per command, found by the command's type.

Each module keeps its own table (`HANDLERS`); `ALL` joins them. The render commands (/imagine,
/continue, /reroll, /edit) are handled by the service itself, since drawing is its main path.
"""

from __future__ import annotations

from bot.handlers import admin, cast, comics, story, worlds
from bot.handlers.base import Handler

ALL: dict[type, Handler] = {**worlds.HANDLERS, **cast.HANDLERS, **story.HANDLERS, **comics.HANDLERS,
                            **admin.HANDLERS}
