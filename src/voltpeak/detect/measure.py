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
  baseline to where it returns to it (or the sweep ends), no further than 3 half-widths from the apex, signed like
  the current. Absent without time or a scan rate (a number the file cannot give is not invented); withheld, with
  the reason in ``withheld``, where the wave has no half-width or the charge is not 0.5–5× height × half-width / v
  (the span ran under another wave, or the baseline is not the peak's).
"""

from __future__ import annotations

import numpy as np

from voltpeak.detect.couples import baseline_of
from voltpeak.detect.peaks import Context
from voltpeak.peak import Peak

NO_BASELINE = ("no baseline of its own: the line before its wave runs far under the peak's hill (a reverse peak "
               "on the forward wave's decay, or a wave on another's tail)")
CHARGE_SPAN = 3.0  # half-widths either side of the apex: the farthest a peak's charge is integrated
# A peak's charge over height × half-width / v: 1.06 for a Gaussian, about 1–3 for a diffusion wave to its span's
# end; outside these the span ran under another wave or the baseline is not the peak's, and no charge is given.
CHARGE_RATIO = (0.5, 5.0)


def peak_measures(ctx: Context, peaks: list[Peak]) -> list[dict]:
    """Per peak of ``peaks`` (each with its sample ``index``), the measures of the module text; only a
    ``withheld`` reason where the baseline crosses the peak (nothing above it to measure)."""
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
        return {"withheld": {"E_p2, half_width, onset, charge": NO_BASELINE}}
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
        charge, why = _charge(E, above, dt, foot, p, end, out.get("half_width"))
        if why:
            out.setdefault("withheld", {})["charge"] = why
        else:
            out["charge"] = charge * signed
    return out


def _charge(E: np.ndarray, above: np.ndarray, dt: np.ndarray, foot: int, p: int, end: int,
            half_width: float | None) -> tuple[float | None, str]:
    """The charge over the baseline (trapezoids of current × time; C, or C/m²) of the wave from ``foot`` to
    ``end`` around its apex ``p``, taken no further than ``CHARGE_SPAN`` half-widths from the apex (a sweep's tail
    that never returns to the baseline is not the peak's); (None, why) where it cannot be trusted: no half-width
    (the wave never falls to half height), or a charge that height × half-width / v does not explain."""
    if half_width is None:
        return None, "the wave does not fall to half height: no span of its own to integrate"
    near = np.abs(E - E[p]) <= CHARGE_SPAN * half_width
    while foot < p and not near[foot]:
        foot += 1
    while end > p and not near[end]:
        end -= 1
    segment = np.clip(above[foot:end + 1], 0, None)
    charge = float(np.sum((segment[1:] + segment[:-1]) / 2 * dt[foot:end]))
    # The sweep's scan rate (V/s): over a few mV a staircase's steps make a local rate anything.
    rate = float(abs(E[-1] - E[0]) / max(np.sum(dt), 1e-12))
    expected = above[p] * half_width / rate if rate > 0 else 0.0
    if not expected or not CHARGE_RATIO[0] <= charge / expected <= CHARGE_RATIO[1]:
        return None, (f"{charge:.3g} over the baseline is {charge / expected:.2g}× height × half-width / v"
                      if expected else "no scan rate over the peak")
    return charge, ""


def _time_steps(ctx: Context, a: int, b: int) -> np.ndarray | None:
    """Seconds between consecutive samples of a sweep: from the file's time, or |ΔE| / scan rate; None when the
    file gives neither."""
    v = ctx.v
    if v.time_s is not None:
        return np.abs(np.diff(v.time_s[a:b]))
    if v.scan_rate_V_s:
        return np.abs(np.diff(v.potential_V[a:b])) / v.scan_rate_V_s
    return None
