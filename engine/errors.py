"""Every error worldloom raises on purpose, in one tree.

    WorldError            something a user asked for cannot be done; the message is for them
      UnknownCharacter
      UnknownPanel
      NotAllowed          a permission rule refused it
      LimitExceeded       a size, rate or quota limit
        QueueFull         the render queue is full, in total or for one person
      GrammarError        (bot.grammar) a line that does not parse
    RenderFailed          a job could not be rendered; the message is fit to show to a user
    RenderCancelled       the job was cancelled, or the engine closed

`is_oom` recognises out-of-memory errors from torch without importing it.
"""

from __future__ import annotations


class WorldError(Exception):
    """Root of every error a user can cause; adapters turn these into short replies."""


class UnknownCharacter(WorldError):
    pass


class UnknownPanel(WorldError):
    pass


class NotAllowed(WorldError):
    pass


class LimitExceeded(WorldError):
    pass


class QueueFull(LimitExceeded):
    """Too many jobs waiting, in total or for one user."""


class RenderFailed(Exception):
    """A job could not be rendered; the message is fit to show to a user."""


class RenderCancelled(Exception):
    """The job was cancelled (or the engine closed) before it finished."""


def is_oom(exc: BaseException) -> bool:
    """True for CUDA/MPS out-of-memory errors, recognised without importing torch."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return "OutOfMemoryError" in names or "out of memory" in str(exc).lower()
