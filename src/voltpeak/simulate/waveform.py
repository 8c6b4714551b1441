"""The potential programme of a CV: start, vertices, cycles, step and scan rate → E(t)."""

from __future__ import annotations

import numpy as np

from voltpeak.errors import InputError


def potential_programme(start_V: float, vertices_V: tuple[float, ...], cycles: int, step_V: float,
                        scan_rate_V_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Staircase-free triangular programme sampled every ``step_V``.

    The potential leaves ``start_V`` towards ``vertices_V[0]``, visits the vertices in turn and returns to
    ``start_V``; that is one cycle (docs/contracts.md: a cycle leaves the start potential and comes back to it).

    Parameters
    ----------
    start_V : float
        Start (and end) potential, V.
    vertices_V : tuple of float
        Turning potentials of one cycle, V (usually two: one below and one above the start, or the start may
        itself be a vertex, then one).
    cycles : int
        Number of cycles.
    step_V : float
        Potential step between samples, V.
    scan_rate_V_s : float
        Scan rate, V/s.

    Returns
    -------
    time_s, potential_V : ndarray
        The first sample is one step after the start (the first current sample of a sweep belongs to its first
        step, as in semi-integral simulators); the last sample is back at ``start_V``.
    """
    if step_V <= 0:
        raise InputError(f"step must be positive, got {step_V} V")
    if scan_rate_V_s <= 0:
        raise InputError(f"scan rate must be positive, got {scan_rate_V_s} V/s")
    if cycles < 1:
        raise InputError(f"cycles must be at least 1, got {cycles}")
    points = [start_V, *vertices_V, start_V]
    span = max(points) - min(points)
    if span <= 0:
        raise InputError("the potential window has zero width (start and vertices are equal)")
    if step_V > span:
        raise InputError(f"step ({step_V} V) is larger than the potential window ({span} V)")
    legs = []
    for a, b in zip(points[:-1], points[1:]):
        n = int(round(abs(b - a) / step_V))
        if n:
            legs.append(a + np.sign(b - a) * step_V * np.arange(1, n + 1))
    one = np.concatenate(legs)
    E = np.tile(one, cycles)
    t = np.arange(1, len(E) + 1) * (step_V / scan_rate_V_s)
    return t, E


def pad_columns(potentials: list[np.ndarray]) -> np.ndarray:
    """Potential programmes side by side, shape (longest, count), each padded at its end with its last value.

    Padding is harmless to simulated currents: no current depends on later samples.
    """
    N = max(len(E) for E in potentials)
    out = np.empty((N, len(potentials)))
    for j, E in enumerate(potentials):  # column by column: np.pad costs more than the copy
        out[:len(E), j] = E
        out[len(E):, j] = E[-1]
    return out
