"""Which jobs render next: round-robin over users, compatible jobs batched together (pure)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol, TypeVar

from engine.jobs import RenderJob


class Waiting(Protocol):
    @property
    def job(self) -> RenderJob: ...

    @property
    def seq(self) -> int: ...  # submission order


W = TypeVar("W", bound=Waiting)


def take_batch(waiting: Sequence[W], served: Mapping[str, int], max_batch: int) -> list[W]:
    """The next batch: led by the user served least recently, filled round-robin.

    `served` maps a user to the tick of their last batch (absent: never served).
    """
    if not waiting:
        return []
    lead = min(waiting, key=lambda e: (served.get(e.job.user, -1), e.seq))
    key = lead.job.batch_key()
    # Compatible jobs per user, oldest first; users in order of their oldest waiting job.
    per_user: dict[str, list[W]] = {}
    for e in waiting:
        if e.job.batch_key() == key:
            per_user.setdefault(e.job.user, []).append(e)
    users = sorted(per_user, key=lambda u: (served.get(u, -1), per_user[u][0].seq))
    batch: list[W] = []
    depth = 0
    total = sum(map(len, per_user.values()))
    while len(batch) < max_batch and len(batch) < total:
        for u in users:
            if depth < len(per_user[u]) and len(batch) < max_batch:
                batch.append(per_user[u][depth])
        depth += 1
    return batch


def batches_in_order(waiting: Sequence[W], served: Mapping[str, int], tick: int, max_batch: int) -> Iterator[list[W]]:
    """Every batch the scheduler would take, in order, if nothing new arrived (works on copies)."""
    left = list(waiting)
    seen = dict(served)
    while left:
        batch = take_batch(left, seen, max_batch)
        tick += 1
        for e in batch:
            left.remove(e)
            seen[e.job.user] = tick
        yield batch
