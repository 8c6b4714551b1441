"""The simulator's truth: the peaks of a noiseless CV, found without the detector's code.

Truth and the detector it judges must not share a helper, or one bug would bias both alike and no benchmark would
see it. This module shares only the Voltammogram type's sweep split with ``voltpeak.detect``; the maxima, their
prominences and the turning-point rule are written out here.

A true peak is a local extremum of the right kind on a sweep (a maximum of the current on an anodic-going sweep, a
minimum on a cathodic-going one; IUPAC currents), unsmoothed, whose topographic prominence reaches a fraction of the
CV's current range, and which is not an effect of a turning point of the potential:

- at the turning potential itself (within ``EDGE_FRACTION / 4`` of the window) it never is a peak;
- within ``EDGE_FRACTION`` of the window, only a major one is (prominence ≥ ``EDGE_MAJOR_FRACTION`` of the range:
  a sharp adsorption spike next to the switch);
- within ``END_ZONE_FRACTION``, a one-sided one is not (prominence under ``END_PROMINENCE_RATIO`` times its larger
  fall: the overshoot after the charging-current jump at a switch, or a roll-over on the climb to it).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from voltpeak.peak import Peak
from voltpeak.voltammogram import Voltammogram, cycle_numbers, sweeps

EDGE_FRACTION = 0.02
EDGE_MAJOR_FRACTION = 0.25
END_ZONE_FRACTION = 0.05
END_PROMINENCE_RATIO = 0.25


class SweepFrame(NamedTuple):
    """A potential programme as ``true_peaks`` reads it: its sweeps (start, stop, direction), each sample's cycle,
    the window's width (V) and each sweep's turning potentials (the lowest and highest of it and its neighbours).
    A CV's total current and each couple's own current share one (``sweep_frame``)."""

    sweeps: list[tuple[int, int, int]]
    cycles: np.ndarray
    window: float
    limits: list[tuple[float, float]]


def sweep_frame(E: np.ndarray) -> SweepFrame:
    """The ``SweepFrame`` of the potentials ``E`` (V)."""
    sw = sweeps(E)
    limits = []
    for k in range(len(sw)):
        # The turning potentials around this sweep: its neighbours share them.
        around = E[sw[max(k - 1, 0)][0]:sw[min(k + 1, len(sw) - 1)][1]]
        limits.append((float(around.min()), float(around.max())))
    return SweepFrame(sw, cycle_numbers(E, sw), float(E.max() - E.min()), limits)


def true_peaks(v: Voltammogram, min_prominence_fraction: float = 0.01, frame: SweepFrame | None = None) -> list[Peak]:
    """Peaks of the noiseless voltammogram ``v`` (IUPAC currents, A), in time order.

    Parameters
    ----------
    v : Voltammogram
        A noiseless CV.
    min_prominence_fraction : float
        Smallest prominence, as a fraction of the current range (max − min over the record).
    frame : SweepFrame, optional
        ``sweep_frame(v.potential_V)``, when the caller has it.

    Returns
    -------
    list of Peak
        Each with its potential (V; sub-step, the vertex of the parabola through the three samples around the
        extremum), current (A), direction, cycle, sample ``index`` and ``prominence`` (A).
    """
    E, current = v.potential_V, v.current
    if len(v) < 5:
        return []
    high, low = current.max(), current.min()
    if high == low:
        return []
    sw, cycles, window, limits = sweep_frame(E) if frame is None else frame
    scale = float(high - low)
    out = []
    for k, (a, b, direction) in enumerate(sw):
        n = b - a
        if n < 5:
            continue
        y = current[a:b] * direction  # the sweep's peaks as maxima
        found, prominences = maxima(y)
        keep = prominences >= min_prominence_fraction * scale
        for p, prominence in zip(found[keep], prominences[keep]):
            if p < 2 or p > n - 3 or _at_turning(E[a + p], y, p, prominence, limits[k], window, scale):
                continue
            y0, y1, y2 = y[p - 1], y[p], y[p + 1]
            curvature = y0 - 2 * y1 + y2
            delta = float(np.clip(0.5 * (y0 - y2) / curvature, -0.5, 0.5)) if curvature < 0 else 0.0
            potential = E[a + p] + delta * (E[a + p + 1] - E[a + p - 1]) / 2
            current_at = (y1 - 0.25 * (y0 - y2) * delta) * direction
            out.append(Peak("anodic" if direction > 0 else "cathodic", float(potential), float(current_at),
                            int(cycles[a + p]), quantity=v.quantity, index=int(a + p), prominence=float(prominence)))
    return out


def maxima(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local maxima of ``y`` (a flat top: its middle sample) and their topographic prominences: the height above
    the higher of the two lowest points reached, left and right, before ``y`` rises above the maximum or ends."""
    step = np.diff(y)
    moving = np.flatnonzero(step)
    rising = step[moving] > 0
    top = np.flatnonzero(rising[:-1] & ~rising[1:])
    found = (moving[top] + 1 + moving[top + 1]) // 2
    prominences = np.empty(len(found))
    # A noiseless CV's sweep can hold hundreds of tiny maxima: numpy's functions without their Python wrappers.
    nonzero, lowest = np.nonzero, np.minimum.reduce
    for m, p in enumerate(found):
        higher = nonzero(y[:p] > y[p])[0]
        left = lowest(y[higher[-1] if len(higher) else 0:p + 1])
        higher = nonzero(y[p + 1:] > y[p])[0]
        right = lowest(y[p:p + 1 + higher[0] if len(higher) else len(y)])
        prominences[m] = y[p] - max(left, right)
    return found, prominences


def _at_turning(potential: float, y: np.ndarray, p: int, prominence: float, limits: tuple[float, float],
                window: float, scale: float) -> bool:
    """Whether the maximum ``y[p]`` at ``potential`` is a turning point's effect (the rule in the module text)."""
    distance = min(potential - limits[0], limits[1] - potential)
    edge = EDGE_FRACTION * window
    if distance < edge / 4 or (distance < edge and prominence < EDGE_MAJOR_FRACTION * scale):
        return True
    if distance < END_ZONE_FRACTION * window:
        larger_fall = y[p] - min(y[:p].min(), y[p + 1:].min())
        return prominence < END_PROMINENCE_RATIO * larger_fall
    return False
