"""The baseline under a peak, extrapolated from the current before its wave."""

from __future__ import annotations

import numpy as np


def baseline(x: np.ndarray, y: np.ndarray, start: int, p: int, step_V: float, foot_fraction: float = 0.002,
             fit_window_V: float = 0.1, noise: float = 0.0) -> tuple[float, float]:
    """Baseline under the peak at ``p``, extrapolated from the current before its wave.

    Parameters
    ----------
    x : ndarray
        Potential along the sweep (V).
    y : ndarray
        Smoothed current along the sweep, sign-normalised so the peak is a maximum.
    start : int
        First index the baseline may use: past the switching transient, after any earlier peak of the sweep.
    p : int
        Index of the peak.
    step_V : float
        Mean potential step of the sweep (V).
    foot_fraction : float
        The foot of the wave is the last point before the peak within this fraction of the peak height above
        the baseline (Metrohm's base-point rule with a small fraction; in noisy data the foot falls where the
        wave leaves the noise).
    fit_window_V : float
        The baseline is the straight line fitted over at most this much potential ending at the foot.
    noise : float
        Standard deviation of the noise left in ``y``: the foot lies where the wave rises 3 of them above the
        line, at the least (noise dips are no foot).

    Returns
    -------
    (value, slope)
        Baseline current at the peak potential (unit of ``y``) and its slope (unit of ``y`` per V). Found twice:
        first from a flat line through the lowest point before the peak, then from the fitted line itself.
    """
    if p - start < 3:
        return float(y[start]), 0.0
    xs, ys = x[start:p + 1], y[start:p + 1]
    q = p - start
    low = int(np.argmin(ys[:q]))
    value, slope = float(ys[low]), 0.0
    span = max(2, int(fit_window_V / max(step_V, 1e-12)))
    for _ in range(2):
        rel = ys[low:q] - (value + slope * (xs[low:q] - xs[q]))
        below = (rel <= max(foot_fraction * (ys[q] - value), 3 * noise)).nonzero()[0]
        foot = low + int(below[-1]) if len(below) else low
        lo = max(0, foot - span)
        if foot - lo < 2:
            break
        fx, fy = xs[lo:foot + 1], ys[lo:foot + 1]
        k = len(fx)
        sx, sy = fx.sum(), fy.sum()
        sxx = float(fx @ fx) - sx * sx / k
        slope = (float(fx @ fy) - sx * sy / k) / sxx if sxx > 0 else 0.0
        value = float(sy / k + slope * (xs[q] - sx / k))
    return value, slope

