"""The classical peak detector: per sweep, noise-adaptive smoothing, prominence relative to the CV, per cycle.

    >>> from voltpeak.read import read
    >>> from voltpeak.detect import detect, find_couples
    >>> v = read("cv.DTA")
    >>> peaks = detect(v, cycle=1)
    >>> couples = find_couples(v, peaks)

A peak is a local maximum of the current on an anodic-going sweep or a local minimum on a cathodic-going sweep
(DESIGN.md). Each sweep is searched on its own, so the switching potential, where the current is extreme in time
but not along the sweep, is never a peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from voltpeak.detect.smooth import noise_std, savgol, window_length
from voltpeak.peak import Peak
from voltpeak.voltammogram import Voltammogram, cycle_numbers, sweeps

__all__ = ["DetectorSettings", "detect", "find_couples", "Couple", "baseline"]


@dataclass(frozen=True)
class DetectorSettings:
    """Thresholds of the detector.

    Attributes
    ----------
    noise_factor : float
        A peak's prominence must exceed this many standard deviations of the smoothed noise.
    min_prominence_fraction : float
        ... and this fraction of the CV's current range (max − min over the whole record).
    max_smooth_window_V : float
        Widest smoothing window, in V of potential along the sweep.
    edge_fraction : float
        Peaks closer than this fraction of the sweep's potential span to either end are turning-point effects.
    """

    noise_factor: float = 5.0
    min_prominence_fraction: float = 0.02
    max_smooth_window_V: float = 0.03
    edge_fraction: float = 0.01


DEFAULT = DetectorSettings()


def detect(v: Voltammogram, cycle: int | None = None, settings: DetectorSettings = DEFAULT) -> list[Peak]:
    """Peaks of a voltammogram.

    Parameters
    ----------
    v : Voltammogram
        The CV (current in A or A/m²; IUPAC sign convention, anodic current positive).
    cycle : int, optional
        Only peaks of this cycle (numbered from 1).
    settings : DetectorSettings
        Thresholds.

    Returns
    -------
    list of Peak
        In time order, each with potential (V), current (smoothed, same unit as ``v.current``), direction,
        cycle, sample ``index`` and ``height`` above the extrapolated baseline.
    """
    E, current = v.potential_V, v.current
    if len(E) < 5:
        return []
    sw = sweeps(E)
    cycles = cycle_numbers(E, sw)
    scale = float(current.max() - current.min())
    if scale <= 0:
        return []
    noise = noise_std(current)
    peaks: list[Peak] = []
    for a, b, direction in sw:
        if cycle is not None and cycles[a] > cycle or cycle is not None and cycles[b - 1] < cycle:
            continue
        n = b - a
        if n < 5:
            continue
        span = abs(E[b - 1] - E[a])
        step = span / (n - 1)
        m = window_length(noise, scale, step, settings.max_smooth_window_V, n)
        y = savgol(current[a:b] * direction, m)
        smoothed_noise = noise * (1.5 / np.sqrt(m) if m >= 5 else 1.0)
        threshold = max(settings.noise_factor * smoothed_noise, settings.min_prominence_fraction * scale)
        idx, _ = find_peaks(y, prominence=threshold)
        if len(idx) == 0:
            continue
        edge = max(2, m // 2, int(settings.edge_fraction * (n - 1)))
        previous = edge
        for p in idx:
            if p < edge or p > n - 1 - edge:
                continue
            c = int(cycles[a + p])
            if cycle is not None and c != cycle:
                continue
            # Vertex of the parabola through the three samples around the maximum: sub-step position.
            y0, y1, y2 = y[p - 1], y[p], y[p + 1]
            denom = y0 - 2 * y1 + y2
            delta = 0.5 * (y0 - y2) / denom if denom < 0 else 0.0
            delta = min(max(delta, -0.5), 0.5)
            e_peak = E[a + p] + delta * (E[a + p + 1] - E[a + p - 1]) / 2
            i_peak = (y1 - 0.25 * (y0 - y2) * delta) * direction
            base, slope = baseline(E[a:b], y, previous, p)
            previous = p + 1
            peaks.append(Peak("anodic" if direction > 0 else "cathodic", float(e_peak), float(i_peak), c,
                              quantity=v.quantity, index=int(a + p), height=float(i_peak - base * direction),
                              baseline=(base * direction, slope * direction)))
    return peaks


@dataclass
class Couple:
    """An anodic and a cathodic peak of one redox process, with E1/2, ΔEp and baseline-corrected peak currents.

    ``ipa`` and ``ipc`` are signed like the currents (ipc negative in the IUPAC convention). ``method`` says how
    the later (reverse) peak was measured: ``"nicholson"`` (from the forward baseline, the switching current and
    Nicholson's 1966 relation) or ``"linear"`` (from its own extrapolated pre-wave baseline).
    """

    anodic: Peak
    cathodic: Peak
    ipa: float
    ipc: float
    method: str = "linear"

    @property
    def e_half_V(self) -> float:
        return (self.anodic.potential + self.cathodic.potential) / 2

    @property
    def delta_ep_V(self) -> float:
        return self.anodic.potential - self.cathodic.potential

    def to_record(self, peaks: list[Peak]) -> dict:
        """JSON record; ``anodic``/``cathodic`` are indices into ``peaks``, potentials in V, currents like peaks."""
        ratio = abs(self.ipa / self.ipc) if self.ipc else None
        return {
            "anodic": peaks.index(self.anodic),
            "cathodic": peaks.index(self.cathodic),
            "cycle": self.anodic.cycle,
            "E_half": round(self.e_half_V, 6),
            "delta_Ep": round(self.delta_ep_V, 6),
            "ipa": float(f"{self.ipa:.6g}"),
            "ipc": float(f"{self.ipc:.6g}"),
            "ipa_ipc": None if ratio is None else round(float(ratio), 4),
            "reverse_baseline": self.method,
        }


# Widest ΔEp paired as one couple (V): quasi-reversible couples reach ~0.3 V; beyond that pairing is a guess.
MAX_DELTA_EP_V = 0.5
# Adsorbed couples have ΔEp near 0; a small negative value is still the same process.
MIN_DELTA_EP_V = -0.03


def find_couples(v: Voltammogram, peaks: list[Peak]) -> list[Couple]:
    """Pair anodic and cathodic peaks of the same cycle into couples.

    Pairs minimise the total |ΔEp| (Hungarian assignment) among pairs with ``MIN_DELTA_EP_V ≤ ΔEp ≤
    MAX_DELTA_EP_V``. The earlier (forward) peak's current is its ``height`` above the baseline extrapolated
    from before its wave. The reverse peak sits on the decaying current of the forward wave: when the two
    peaks are the last before and the first after the same switching potential, it is measured with
    Nicholson's relation, i_pr = (i_pr)0 + 0.485 (i_sp)0 + 0.086 i_pf, with (i_pr)0 and (i_sp)0 taken from the
    forward baseline (shifted by the charging-current jump at the switch); otherwise from its own baseline.
    """
    from scipy.optimize import linear_sum_assignment

    couples = []
    for c in sorted({p.cycle for p in peaks}):
        an = [p for p in peaks if p.cycle == c and p.direction == "anodic"]
        ca = [p for p in peaks if p.cycle == c and p.direction == "cathodic"]
        if not an or not ca:
            continue
        dep = np.array([[a.potential - k.potential for k in ca] for a in an])
        ok = (dep >= MIN_DELTA_EP_V) & (dep <= MAX_DELTA_EP_V)
        cost = np.where(ok, np.abs(dep), 1e6)
        rows, cols = linear_sum_assignment(cost)
        for r, k in zip(rows, cols):
            if ok[r, k]:
                couples.append(_measure(v, peaks, an[r], ca[k]))
    couples.sort(key=lambda cp: (cp.anodic.cycle, cp.e_half_V))
    return couples


def _measure(v: Voltammogram, peaks: list[Peak], a: Peak, k: Peak) -> Couple:
    fwd, rev = (a, k) if a.index < k.index else (k, a)
    heights = {id(a): a.height, id(k): k.height}
    method = "linear"
    between = [p for p in peaks if fwd.index < p.index < rev.index]
    sw = sweeps(v.potential_V)
    turn = next((b - 1 for s, b, _ in sw if s <= fwd.index < b - 1), None)
    if turn is not None and not between and rev.index > turn and fwd.baseline is not None:
        # Consecutive peaks around one switch: Nicholson's relation on the forward baseline.
        E, current = v.potential_V, v.current
        w = max(3, min(10, (rev.index - turn) // 4, (turn - fwd.index) // 4))
        before = np.polyval(np.polyfit(np.arange(-w, 1), current[turn - w:turn + 1], 1), 0.0)
        after = np.polyval(np.polyfit(np.arange(1, w + 1), current[turn + 1:turn + 1 + w], 1), 0.0)
        jump = after - before  # charging current changes sign at the switch
        bg_value, bg_slope = fwd.baseline
        sign = 1.0 if fwd.direction == "anodic" else -1.0
        sp0 = sign * (before - (bg_value + bg_slope * (E[turn] - fwd.potential)))
        rev0 = -sign * (rev.current - (bg_value + bg_slope * (rev.potential - fwd.potential) + jump))
        pf = sign * fwd.height
        if sp0 >= 0 and rev0 > 0 and pf > 0:
            heights[id(rev)] = -sign * (rev0 + 0.485 * sp0 + 0.086 * pf)
            method = "nicholson"
    return Couple(a, k, heights[id(a)], heights[id(k)], method)


def baseline(x: np.ndarray, y: np.ndarray, start: int, p: int, foot_fraction: float = 0.002,
             fit_window_V: float = 0.1) -> tuple[float, float]:
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
    foot_fraction : float
        The foot of the wave is the last point before the peak within this fraction of the peak height above
        the baseline (Metrohm's base-point rule with a small fraction; in noisy data the foot falls where the
        wave leaves the noise).
    fit_window_V : float
        The baseline is the straight line fitted over at most this much potential ending at the foot.

    Returns
    -------
    (value, slope)
        Baseline current at the peak potential (unit of ``y``) and its slope (unit of ``y`` per V). Found twice:
        first from a flat line through the lowest point before the peak, then from the fitted line itself.
    """
    xs, ys = x[start:p + 1], y[start:p + 1]
    q = p - start
    if q < 3:
        return float(ys[0]), 0.0
    low = int(np.argmin(ys[:q]))
    value, slope = float(ys[low]), 0.0
    for _ in range(2):
        rel = ys - (value + slope * (xs - xs[q]))
        below = np.flatnonzero(rel[low:q] <= foot_fraction * rel[q])
        foot = low + int(below[-1]) if len(below) else low
        near = np.flatnonzero(np.abs(xs[:foot + 1] - xs[foot]) <= fit_window_V)
        if len(near) < 3:
            break
        fx, fy = xs[near], ys[near]
        xm, ym = fx.mean(), fy.mean()
        sxx = float(((fx - xm) ** 2).sum())
        slope = float(((fx - xm) * (fy - ym)).sum() / sxx) if sxx > 0 else 0.0
        value = float(ym + slope * (xs[q] - xm))
    return value, slope
