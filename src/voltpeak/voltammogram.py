"""The one voltammogram type, and its segmentation into sweeps and cycles.

A sweep is a maximal run of monotonic potential between two turning points; a cycle is one period of the
potential programme that leaves the start potential and comes back to it (docs/contracts.md, "Words").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Fraction of the potential window by which E must reverse before a turning point counts: well above
# potentiostat jitter (< 1 mV) and well below any real switching amplitude (>= 50 mV).
TURN_FRACTION = 0.03


@dataclass
class Voltammogram:
    """Potential and current sampled in time order, with metadata.

    Attributes
    ----------
    potential_V : ndarray
        Potential E in V against the file's own reference electrode.
    current : ndarray
        Current I in A, or current density j in A/m² when ``quantity == "j"``.
    time_s : ndarray or None
        Time in s, where the source gives it.
    quantity : {"I", "j"}
        What ``current`` holds.
    scan_rate_V_s : float or None
        Scan rate in V/s, where known.
    reference : str or None
        Reference electrode, where known (e.g. ``"Ag/AgCl"``).
    source : str
        Where the data came from (a path as given by the user, or a name).
    meta : dict
        Anything else the reader found (instrument, notes, units as written in the file).
    """

    potential_V: np.ndarray
    current: np.ndarray
    time_s: np.ndarray | None = None
    quantity: str = "I"
    scan_rate_V_s: float | None = None
    reference: str | None = None
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.potential_V = np.asarray(self.potential_V, dtype=float)
        self.current = np.asarray(self.current, dtype=float)
        if self.time_s is not None:
            self.time_s = np.asarray(self.time_s, dtype=float)
        if self.quantity not in ("I", "j"):
            raise ValueError(f"quantity must be 'I' or 'j', not {self.quantity!r}")

    def __len__(self) -> int:
        return len(self.potential_V)

    @property
    def window_V(self) -> tuple[float, float]:
        """Lowest and highest potential in V."""
        return float(self.potential_V.min()), float(self.potential_V.max())

    def sweeps(self) -> list[tuple[int, int, int]]:
        """Sweeps as ``(start, stop, direction)``: sample slice ``start:stop``, direction +1 (anodic-going) or -1."""
        return sweeps(self.potential_V)

    def cycle_numbers(self) -> np.ndarray:
        """Cycle number (from 1) of every sample."""
        return cycle_numbers(self.potential_V)


def turning_points(potential_V: np.ndarray, min_reversal_V: float | None = None) -> np.ndarray:
    """Indices of the turning points of a potential programme.

    A local extremum of E is a turning point when E then moves away from it by at least ``min_reversal_V``,
    so jitter and noise in E never split a sweep. The first and last reversals of the record count when they
    are longer than a quarter of that, so short first and last sweeps are kept.

    Parameters
    ----------
    potential_V : ndarray
        Potential in V, in time order.
    min_reversal_V : float, optional
        Reversal needed in V; default ``TURN_FRACTION`` of the potential window.

    Returns
    -------
    ndarray of int
        Indices into ``potential_V``, increasing; neither the first nor the last sample.
    """
    E = np.asarray(potential_V, dtype=float)
    if len(E) < 3:
        return np.zeros(0, dtype=int)
    span = float(E.max() - E.min())
    h = TURN_FRACTION * span if min_reversal_V is None else min_reversal_V
    if span == 0:
        return np.zeros(0, dtype=int)
    # Candidates: local extremes of E (plateaus collapsed); only these can be turning points.
    d = np.sign(np.diff(E))
    nz = np.flatnonzero(d)
    if len(nz) == 0:
        return np.zeros(0, dtype=int)
    change = np.flatnonzero(d[nz[1:]] != d[nz[:-1]])
    cand = nz[change + 1]  # index of the sample where the new direction starts = the extremum
    cand = np.concatenate([cand, [len(E) - 1]])
    turns: list[int] = []
    # Zig-zag with hysteresis over the few candidates: keep the running extremum until E reverses by h.
    direction = 0
    ext_i = 0
    lo_i = hi_i = 0  # before the first sweep is confirmed: the lowest and highest points so far
    for i in cand:
        e = E[i]
        if direction == 0:
            lo_i = i if e < E[lo_i] else lo_i
            hi_i = i if e > E[hi_i] else hi_i
            if abs(e - E[0]) >= h:
                direction = 1 if e > E[0] else -1
                # A short first excursion the other way (a recording that starts just before a turn)
                # is a sweep of its own when it is more than jitter, as for the last sweep below.
                back_i = lo_i if direction > 0 else hi_i
                if abs(E[back_i] - E[0]) >= h / 4:
                    turns.append(back_i)
                ext_i = i
            continue
        if direction * (e - E[ext_i]) > 0:
            ext_i = i
        elif direction * (E[ext_i] - e) >= h:
            turns.append(ext_i)
            direction = -direction
            ext_i = i
    if direction == 0:
        return np.zeros(0, dtype=int)
    # Close the record: the last pending extremum turns when the tail reversal is not just jitter.
    tail = direction * (E[ext_i] - E[-1])
    if ext_i < len(E) - 1 and tail >= h / 4 and (not turns or ext_i != turns[-1]):
        turns.append(ext_i)
    return np.asarray(turns, dtype=int)


def sweeps(potential_V: np.ndarray) -> list[tuple[int, int, int]]:
    """Split a potential programme into sweeps.

    Returns
    -------
    list of (start, stop, direction)
        Each sweep covers samples ``start:stop``; consecutive sweeps share their turning point (the last sample
        of one is the first of the next). ``direction`` is +1 for anodic-going (E increasing), -1 otherwise.
    """
    E = np.asarray(potential_V, dtype=float)
    n = len(E)
    if n < 2 or E.max() == E.min():
        return []  # a constant potential has no sweep
    bounds = np.concatenate([[0], turning_points(E), [n - 1]])
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b <= a:
            continue
        direction = 1 if E[b] > E[a] else -1
        out.append((int(a), int(b) + 1, direction))
    return out


def cycle_numbers(potential_V: np.ndarray, sweep_list: list[tuple[int, int, int]] | None = None) -> np.ndarray:
    """Cycle number (from 1) of every sample.

    A new cycle starts where E comes back to the start potential while moving in the first sweep's direction
    (on the third sweep, fifth, ...), so a recording that starts mid-window still has whole cycles, and a short
    final table that only returns to the start potential completes the previous cycle. ``sweep_list`` saves
    recomputing ``sweeps(potential_V)`` when the caller has it.
    """
    E = np.asarray(potential_V, dtype=float)
    sw = sweeps(E) if sweep_list is None else sweep_list
    if len(sw) < 3:
        return np.ones(len(E), dtype=int)
    e0 = E[0]
    d0 = sw[0][2]
    tol = 0.01 * float(E.max() - E.min())
    starts = []
    for k in range(2, len(sw), 2):
        a, b, _ = sw[k]
        past = d0 * (E[a:b] - e0)
        back = np.flatnonzero(past >= -tol)
        if len(back) == 0 or past.max() <= tol:
            continue  # a short last sweep that only returns to the start potential: previous cycle
        starts.append(a + back[0])
    # Cycle number = 1 + number of cycle starts at or before the sample.
    return 1 + np.searchsorted(np.asarray(starts, dtype=int), np.arange(len(E)), side="right")


def branch_asymmetry(potential_V: np.ndarray, current: np.ndarray,
                     sweep_list: list[tuple[int, int, int]] | None = None) -> float:
    """How consistently anodic-going sweeps carry more current than the cathodic-going sweeps beside them.

    Charging current alone makes the anodic-going branch lie above the cathodic-going one in the IUPAC
    convention (anodic current positive); a file in the US convention, or one whose time order was reversed,
    shows the opposite.

    Returns
    -------
    float
        ∫(I_up − I_down) dE / ∫|I_up − I_down| dE over the first eight pairs of adjacent sweeps, in [-1, 1]:
        near +1 for IUPAC
        files, near −1 for US-convention ones, near 0 when the branches cross or coincide.
    """
    E = np.asarray(potential_V, dtype=float)
    current = np.asarray(current, dtype=float)
    sw = sweeps(E) if sweep_list is None else sweep_list
    signed = total = 0.0
    for (a1, b1, d1), (a2, b2, _) in zip(sw[:8], sw[1:9]):  # the first cycles decide; long records need no more
        (ua, ub), (da, db) = ((a1, b1), (a2, b2)) if d1 > 0 else ((a2, b2), (a1, b1))
        every = max(1, (ub - ua) // 250)  # a few hundred points per branch decide the sign
        x_up, i_up = E[ua:ub:every], current[ua:ub:every]
        x_down, i_down = E[da:db][::-1], current[da:db][::-1]
        lo, hi = max(x_up.min(), x_down.min()), min(x_up.max(), x_down.max())
        inside = (x_up >= lo) & (x_up <= hi)
        if inside.sum() < 3:
            continue
        # Sampling is uniform in E along a sweep, so plain sums stand in for the integrals.
        diff = i_up[inside] - np.interp(x_up[inside], x_down, i_down)
        signed += float(diff.sum())
        total += float(np.abs(diff).sum())
    return signed / total if total > 0 else 0.0
