"""Slow, independent reference solution of system (6) with equal masses 1/N, in exact arithmetic.

Test-only. Deliberately plain: Fraction positions and times, the sign-sum form of (6) (no ranks),
a brute-force search over all pairs of particles (both species) for the next meeting, initial
clusters by the explicit formulas of Lemma 4.1 (and their mirror images), meetings by Theorem 4.1:
x_i, y_j with i == j stick with velocity 0, otherwise they come out in the order sign(x_i - y_j) =
sign(i - j). Meeting of two particles of the same species or of three particles raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


def _sign(value: Fraction | int) -> int:
    return (value > 0) - (value < 0)


@dataclass
class ReferenceRun:
    """Positions (floats) at the output times and the exact event list (t, kind, i, j)."""

    x: list[list[float]]
    y: list[list[float]]
    events: list[tuple[Fraction, int, int, int]] = field(default_factory=list)
    t_last_event: Fraction = Fraction(0)


def _cluster_velocities(x: list[Fraction], y: list[Fraction]) -> tuple[list, list, list, list]:
    """Velocities right after t = 0 and stuck flags (1-based lists, index 0 unused).

    Lemma 4.1 at a point lam: x_i, h < i <= n and y_j, k < j <= m sit at lam (h, k = numbers of x, y
    strictly left; n, m = numbers at or left). x_i with i <= k leave left with speed (2(k-i)+1)/N,
    y_j with j > n leave right with speed (2(j-n)-1)/N, indices in both ranges stay; by symmetry
    y_j with j <= h leave left with speed (2(h-j)+1)/N and x_i with i > m leave right with speed
    (2(i-m)-1)/N. A particle alone at its position moves by the sign sum of (6).
    """
    N = len(x) - 1
    vx: list = [None] * (N + 1)
    vy: list = [None] * (N + 1)
    sx = [False] * (N + 1)
    sy = [False] * (N + 1)
    for _species, pos, other, v, stuck in ((0, x, y, vx, sx), (1, y, x, vy, sy)):
        for i in range(1, N + 1):
            lam = pos[i]
            same = [k for k in range(1, N + 1) if pos[k] == lam]
            opposite = [j for j in range(1, N + 1) if other[j] == lam]
            if len(same) == 1 and not opposite:
                v[i] = Fraction(
                    sum(_sign(lam - pos[k]) for k in range(1, N + 1)) - sum(_sign(lam - other[j]) for j in range(1, N + 1)),
                    N,
                )
                continue
            h = sum(1 for k in range(1, N + 1) if pos[k] < lam)  # own species strictly left
            n = sum(1 for k in range(1, N + 1) if pos[k] <= lam)
            k_ = sum(1 for j in range(1, N + 1) if other[j] < lam)  # other species strictly left
            m = sum(1 for j in range(1, N + 1) if other[j] <= lam)
            assert h < i <= n
            if i <= k_:
                v[i] = -Fraction(2 * (k_ - i) + 1, N)
            elif i <= m:
                v[i] = Fraction(0)
                stuck[i] = True
            else:
                v[i] = Fraction(2 * (i - m) - 1, N)
    return vx, vy, sx, sy


def _velocities(x: list[Fraction], y: list[Fraction], sx: list[bool], sy: list[bool]) -> tuple[list, list]:
    """Right-derivative velocities by the sign sum of (6) for t > 0 (only binary meetings)."""
    N = len(x) - 1

    def cross_sign(i: int, j: int) -> int:  # sign(x_i - y_j), just after a meeting: sign(i - j)
        return _sign(x[i] - y[j]) if x[i] != y[j] else _sign(i - j)

    vx: list = [Fraction(0)] * (N + 1)
    vy: list = [Fraction(0)] * (N + 1)
    for i in range(1, N + 1):
        if not sx[i]:
            vx[i] = Fraction(sum(_sign(x[i] - x[k]) for k in range(1, N + 1)) - sum(cross_sign(i, j) for j in range(1, N + 1)), N)
    for j in range(1, N + 1):
        if not sy[j]:
            vy[j] = Fraction(sum(_sign(y[j] - y[l]) for l in range(1, N + 1)) + sum(cross_sign(i, j) for i in range(1, N + 1)), N)
    return vx, vy


def reference_solution(x0: list, y0: list, t_out: list, run_to_final: bool = False) -> ReferenceRun:
    """Exact solution at the times t_out for sorted rational (or float) initial positions."""
    N = len(x0)
    x = [Fraction(0)] + [Fraction(v) for v in x0]
    y = [Fraction(0)] + [Fraction(v) for v in y0]
    times = [Fraction(t) for t in t_out]
    vx, vy, sx, sy = _cluster_velocities(x, y)
    particles = [(0, i) for i in range(1, N + 1)] + [(1, j) for j in range(1, N + 1)]

    def pos(p: tuple[int, int]) -> Fraction:
        return (x, y)[p[0]][p[1]]

    def vel(p: tuple[int, int]) -> Fraction:
        return (vx, vy)[p[0]][p[1]]

    run = ReferenceRun(x=[], y=[])
    t_now = Fraction(0)
    k = 0
    while True:
        t_next = None
        for a in range(len(particles)):
            for b in range(a + 1, len(particles)):
                p, q = particles[a], particles[b]
                gap, closing = pos(q) - pos(p), vel(p) - vel(q)
                if gap != 0 and _sign(gap) == _sign(closing):
                    t_meet = t_now + gap / closing
                    t_next = t_meet if t_next is None else min(t_next, t_meet)
        while k < len(times) and (t_next is None or times[k] < t_next):
            run.x.append([float(x[i] + vx[i] * (times[k] - t_now)) for i in range(1, N + 1)])
            run.y.append([float(y[j] + vy[j] * (times[k] - t_now)) for j in range(1, N + 1)])
            k += 1
        if t_next is None or (k == len(times) and not run_to_final):
            break
        for i in range(1, N + 1):
            x[i] += vx[i] * (t_next - t_now)
            y[i] += vy[i] * (t_next - t_now)
        t_now = t_next
        run.t_last_event = t_now
        moving = [p for p in particles if not (sx, sy)[p[0]][p[1]]]
        for p in moving:
            together = [q for q in particles if q != p and pos(q) == pos(p)]
            if len(together) > 1 or (together and (together[0][0] == p[0] or together[0] not in moving)):
                raise AssertionError(f"non-binary, same-species or stuck meeting at t = {t_now}: {p}, {together}")
            if together and p[0] == 0:
                i, j = p[1], together[0][1]
                run.events.append((t_now, int(i == j), i, j))
                if i == j:
                    sx[i] = sy[j] = True
        vx, vy = _velocities(x, y, sx, sy)
    return run
