"""Non-faradaic currents: charging of the double layer and a sloped, curved background."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter


def background(E: np.ndarray, t: np.ndarray, conditions, charging: np.ndarray | None = None) -> np.ndarray:
    """Charging current plus a background linear and quadratic in (E − window centre), A.

    Without ``charging``, the charging current is ±Cdl·v relaxing after each switch with time constant
    ``conditions.rc_s``; with uncompensated resistance the caller passes the one it solved for.
    """
    if charging is None:
        direction = np.sign(np.diff(E, prepend=E[0] - (E[1] - E[0])))
        charging = conditions.cdl_F * conditions.scan_rate_V_s * direction
        if conditions.rc_s > 0:
            decay = np.exp(-(t[1] - t[0]) / conditions.rc_s)
            charging = lfilter([1 - decay], [1, -decay], charging, zi=[decay * charging[0]])[0]
    centre = (E.max() + E.min()) / 2
    return charging + conditions.slope_A_V * (E - centre) + conditions.curvature_A_V2 * (E - centre) ** 2
