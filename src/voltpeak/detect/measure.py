"""What lab tools report per peak beyond Ep and ip: its height over its baseline, Ep/2, half-width, onset and charge.

Every measure is taken on the peak's own sweep, above the baseline ``find_couples`` draws under it (the line
extrapolated from before its wave), in the sweep's sign-normalised frame (the peak a maximum). Where that line
runs far under the peak's own hill (the height over twice the prominence: a reverse peak on the forward wave's
decay, a wave on another's tail), the peak gets no measures; ``voltpeak detect`` then gives a reverse peak of a
couple the height its couple measured (``ipa``/``ipc``).

- ``height``: the current at the apex over the baseline (A, or A/m²), signed like the current;
- ``E_p2`` (V): the half-peak potential, where the current last crosses half the height on the way up;
- ``half_width`` (V): the width at half height (from ``E_p2`` to the crossing after the apex);
- ``onset`` (V): where the tangent at the wave's steepest rise meets the baseline (the tangent method);
- ``charge`` (C, or C/m²): the current above the baseline integrated over time, from where the wave leaves the
  baseline to where it returns to it (or the sweep ends), signed like the current. Absent without time or a scan
  rate (a number the file cannot give is not invented).
"""

from __future__ import annotations

import numpy as np

from voltpeak.detect.couples import baseline_of
from voltpeak.detect.peaks import Context
from voltpeak.peak import Peak


def peak_measures(ctx: Context, peaks: list[Peak]) -> list[dict]:
    """Per peak of ``peaks`` (each with its sample ``index``), the measures of the module text; {} where the
    baseline crosses the peak (nothing above it to measure)."""
    return [_measures(ctx, peaks, p) if p.index is not None else {} for p in peaks]


def _crossing(E: np.ndarray, above: np.ndarray, level: float, i: int, step: int) -> float | None:
    """The potential where ``above`` falls to ``level`` going from sample ``i`` by ``step`` (±1), linearly
    interpolated; None when it never does within the sweep."""
    j = i
    while 0 <= j + step < len(above) and above[j + step] > level:
        j += step
    k = j + step
    if not 0 <= k < len(above):
        return None
    t = (above[j] - level) / (above[j] - above[k])
    return float(E[j] + t * (E[k] - E[j]))


def _measures(ctx: Context, peaks: list[Peak], peak: Peak) -> dict:
    value, slope, k = baseline_of(ctx, peaks, peak)
    a, b, direction = ctx.sweeps[k]
    E = ctx.v.potential_V[a:b]
    y, _, _ = ctx.smoothed(k)
    above = y - (value + slope * (E - peak.potential))
    p = peak.index - a
    height = float(above[p])
    # A baseline far under the peak's own hill (over twice its prominence) runs under another wave's tail or the
    # forward wave's decay (a reverse peak): nothing measured on it would mean anything.
    if height <= 0 or (peak.prominence and height > 2 * peak.prominence):
        return {}
    signed = direction * ctx.sign  # from the normalised frame back to the file's currents
    out = {"height": height * signed}
    e_p2 = _crossing(E, above, height / 2, p, -1)
    after = _crossing(E, above, height / 2, p, +1)
    if e_p2 is not None:
        out["E_p2"] = e_p2
        if after is not None:
            out["half_width"] = abs(after - e_p2)
    # The tangent at the steepest rise between the wave's foot and its apex.
    foot = p
    while foot > 0 and above[foot - 1] > 0:
        foot -= 1
    if p - foot >= 3:
        # Per sample, over the stretch's mean step (repeated potentials — a potentiostat's resolution — would
        # make a per-sample dE/dE meaningless).
        step = (E[p] - E[foot]) / (p - foot)
        rise = np.gradient(above[foot:p + 1])
        s = foot + int(np.argmax(rise))
        if rise[s - foot] > 0 and step:
            out["onset"] = float(E[s] - above[s] / rise[s - foot] * step)
    end = p
    while end < len(above) - 1 and above[end + 1] > 0:
        end += 1
    dt = _time_steps(ctx, a, b)
    if dt is not None and end > foot:
        # Trapezoids over the samples above the baseline (current × time: C, or C/m² for densities).
        segment = np.clip(above[foot:end + 1], 0, None)
        out["charge"] = float(np.sum((segment[1:] + segment[:-1]) / 2 * dt[foot:end])) * signed
    return out


def _time_steps(ctx: Context, a: int, b: int) -> np.ndarray | None:
    """Seconds between consecutive samples of a sweep: from the file's time, or |ΔE| / scan rate; None when the
    file gives neither."""
    v = ctx.v
    if v.time_s is not None:
        return np.abs(np.diff(v.time_s[a:b]))
    if v.scan_rate_V_s:
        return np.abs(np.diff(v.potential_V[a:b])) / v.scan_rate_V_s
    return None
