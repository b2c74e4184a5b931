"""Brute-force, loop-per-observer model of the interest semantics (test oracle).

Written straight from the definition in ``spatial.interest``'s docstring, with
none of the manager's data structures, so the two can be compared exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


def distances_from(positions: NDArray[np.float32], o: int) -> NDArray[np.float32]:
    """float32 distances from slot ``o`` to every slot, computed like the manager."""
    dx = positions[:, 0] - positions[o, 0]
    dz = positions[:, 1] - positions[o, 1]
    d2 = dx * dx
    d2 += dz * dz
    return np.sqrt(d2)


@dataclass
class OracleResult:
    visible: dict[int, set[int]] = field(default_factory=dict)
    entered: dict[int, set[int]] = field(default_factory=dict)
    left: dict[int, set[int]] = field(default_factory=dict)
    in_range: dict[int, set[int]] = field(default_factory=dict)


class OracleInterest:
    def __init__(self, radius: float = 20.0, k: int = 64, margin: float = 2.0) -> None:
        self.radius = np.float32(radius)
        self.outer = np.float32(radius + margin)
        self.k = k
        self.vis: dict[int, set[int]] = {}
        self.inx: dict[int, set[int]] = {}

    def update(
        self, positions: NDArray[np.float32], active: NDArray[np.bool_], observers: list[int]
    ) -> OracleResult:
        positions = np.asarray(positions, dtype=np.float32)
        res = OracleResult()
        new_vis: dict[int, set[int]] = {}
        new_inx: dict[int, set[int]] = {}
        for o in observers:
            o = int(o)
            old_v = self.vis.get(o, set())
            old_x = self.inx.get(o, set())
            if not active[o]:
                v: set[int] = set()
                x: set[int] = set()
            else:
                d = distances_from(positions, o)
                cand = [e for e in np.flatnonzero(active) if e != o]
                in_r = sorted((float(d[e]), int(e)) for e in cand if d[e] <= self.radius)
                x = {e for _, e in in_r[: self.k]}
                a = {e for e in x if e in old_x or e in old_v}
                b = sorted(
                    (float(d[e]), e)
                    for e in old_v
                    if e not in x and active[e] and e != o and d[e] <= self.outer
                )
                c = sorted((float(d[e]), e) for e in x if e not in a)
                v = set(a)
                for _, e in b + c:
                    if len(v) >= self.k:
                        break
                    v.add(e)
            new_vis[o] = v
            new_inx[o] = x
            res.visible[o] = v
            res.in_range[o] = x
            res.entered[o] = v - old_v
            res.left[o] = old_v - v
        self.vis = new_vis
        self.inx = new_inx
        return res
