"""Non-faradaic currents: charging of the double layer, a sloped, curved background, and the breakdown currents at
the window's ends."""

from __future__ import annotations

import numpy as np


def background(E: np.ndarray, t: np.ndarray, conditions, charging: np.ndarray | None = None) -> np.ndarray:
    """Charging current plus a background linear and quadratic in (E − window centre) plus the breakdown currents
    at the window's ends, A.

    Without ``charging``, the charging current is ±Cdl(E)·v (``capacitance``) relaxing after each switch with time
    constant ``conditions.rc_s``; with uncompensated resistance the caller passes the one it solved for.
    """
    if charging is None:
        direction = np.sign(np.diff(E, prepend=E[0] - (E[1] - E[0])))
        charging = conditions.cdl_F * conditions.scan_rate_V_s * direction
        if conditions.rc_s > 0:
            decay = np.exp(-(t[1] - t[0]) / conditions.rc_s)
            charging = relax(charging, decay)
        charging = charging * capacitance(E, conditions)
    lo, hi = E.min(), E.max()
    centre = (hi + lo) / 2
    out = charging + conditions.slope_A_V * (E - centre) + conditions.curvature_A_V2 * (E - centre) ** 2
    below, above = conditions.onset_A
    if below or above:
        w = conditions.onset_width_V
        out = out - below * np.exp((lo - E) / w) + above * np.exp((E - hi) / w)
    return out


def capacitance(E: np.ndarray, conditions) -> np.ndarray | float:
    """The double layer's capacitance along the potentials ``E`` relative to ``conditions.cdl_F``: 1 +
    ``cdl_slope_V``·(E − window centre), at least 0.05 (a double layer that slopes); 1 without a slope."""
    if not conditions.cdl_slope_V:
        return 1.0
    return np.maximum(0.05, 1 + conditions.cdl_slope_V * (E - (E.max() + E.min()) / 2))


def relax(x: np.ndarray, decay: float) -> np.ndarray:
    """The first-order response y_k = decay·y_{k−1} + (1 − decay)·x_k (y_{−1} = x_0) to a piecewise-constant
    ``x``, exactly, one exponential per constant stretch (a CV's charging current changes sign at the switches
    only)."""
    y = np.empty(len(x))
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(x)) + 1, [len(x)]])
    powers = decay ** np.arange(1, np.diff(bounds).max() + 1)  # once for the longest stretch: pow is slow
    before = x[0]
    for a, b in zip(bounds[:-1], bounds[1:]):
        y[a:b] = x[a] + (before - x[a]) * powers[:b - a]
        before = y[b - 1]
    return y
