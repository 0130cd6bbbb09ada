"""Picture sizes: one rule for every `--ar`, whether it comes with /world new or with a panel."""

from __future__ import annotations

import math
from functools import lru_cache

TARGET_AREA = 768 * 512
DEFAULT_SIZE = (768, 512)


@lru_cache(maxsize=256)
def pixel_size(w: int, h: int) -> tuple[int, int]:
    """Width and height, multiples of 64, near TARGET_AREA pixels and as close to w:h as possible.

    Both errors are measured on a log scale; the ratio counts twice as much as the area because
    a wrong shape is visible and a slightly smaller picture is not (16:9 -> 832x448).
    """
    want = math.log(w / h)
    best = (math.inf, (512, 512))
    for pw in range(64, 2049, 64):
        for ph in range(64, 2049, 64):
            cost = 2 * abs(math.log(pw / ph) - want) + abs(math.log(pw * ph / TARGET_AREA))
            best = min(best, (cost, (pw, ph)))
    return best[1]
