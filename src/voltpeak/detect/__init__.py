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
from scipy.signal import peak_prominences

try:  # scipy's compiled kernel, without the argument checks that cost more than the work on short inputs
    from scipy.signal._peak_finding_utils import _peak_prominences
except ImportError:  # pragma: no cover - a future scipy may move it
    _peak_prominences = None

from voltpeak.detect.smooth import noise_std, savgol, window_length
from voltpeak.peak import Peak
from voltpeak.voltammogram import Voltammogram, branch_asymmetry, cycle_numbers, sweeps

__all__ = ["DetectorSettings", "detect", "exact_peaks", "find_couples", "Couple", "baseline", "current_sign"]

CONVENTIONS = ("auto", "iupac", "us")


def current_sign(v: Voltammogram, convention: str = "auto", sweep_list=None) -> float:
    """+1 when the current follows the IUPAC convention (anodic positive), -1 for the US convention.

    ``"auto"`` decides from the branches: charging current puts the anodic-going branch above the cathodic-going
    one in IUPAC files; a clear reversal (``branch_asymmetry`` < -0.5) means the US convention (or a record whose
    time order was reversed). Peaks keep the direction of the sweep they lie on either way.
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}, not {convention!r}")
    if convention == "auto":
        return -1.0 if branch_asymmetry(v.potential_V, v.current, sweep_list) < -0.5 else 1.0
    return -1.0 if convention == "us" else 1.0


@dataclass(frozen=True)
class DetectorSettings:
    """Thresholds of the detector.

    Attributes
    ----------
    noise_factor : float
        A peak's prominence must exceed this many standard deviations of the smoothed noise.
    raw_noise_factor : float
        ... and this many standard deviations of the unsmoothed noise (smoothing cannot remove slow noise).
    min_prominence_fraction : float
        ... and this fraction of the CV's current range (max − min over the whole record).
    max_smooth_window_V : float
        Widest smoothing window, in V of potential along the sweep.
    smooth_noise_fraction : float
        Smoothing aims to bring white noise down to this fraction of the CV's current range.
    edge_fraction, end_zone_fraction, end_prominence_ratio, edge_major_fraction : float
        Turning-point effects, as fractions of the potential window (see ``turning_effect``).

    """

    noise_factor: float = 5.0
    raw_noise_factor: float = 4.0
    min_prominence_fraction: float = 0.01
    max_smooth_window_V: float = 0.03
    smooth_noise_fraction: float = 1 / 1000
    edge_fraction: float = 0.02
    end_zone_fraction: float = 0.05
    end_prominence_ratio: float = 0.25
    edge_major_fraction: float = 0.25


DEFAULT = DetectorSettings()


def detect(v: Voltammogram, cycle: int | None = None, settings: DetectorSettings = DEFAULT,
           convention: str = "auto") -> list[Peak]:
    """Peaks of a voltammogram.

    Parameters
    ----------
    v : Voltammogram
        The CV (current in A or A/m²).
    cycle : int, optional
        Only peaks of this cycle (numbered from 1).
    settings : DetectorSettings
        Thresholds.
    convention : {"auto", "iupac", "us"}
        Sign convention of the current (see ``current_sign``). Under the US convention anodic peaks are minima.

    Returns
    -------
    list of Peak
        In time order, each with potential (V), current (smoothed, same unit as ``v.current``), direction,
        cycle, sample ``index`` and ``height`` above the extrapolated baseline.
    """
    E = v.potential_V
    if len(E) < 5:
        return []
    sw = sweeps(E)
    sign = current_sign(v, convention, sw)
    current = v.current * sign
    cycles = cycle_numbers(E, sw)
    scale = float(current.max() - current.min())
    if scale <= 0:
        return []
    noise = noise_std(current)
    window = float(E.max() - E.min())
    peaks: list[Peak] = []
    for k, (a, b, direction) in enumerate(sw):
        if cycle is not None and (cycles[a] > cycle or cycles[b - 1] < cycle):
            continue
        n = b - a
        if n < 5:
            continue
        step = abs(E[b - 1] - E[a]) / (n - 1)
        m = window_length(noise, scale, step, settings.max_smooth_window_V, n, settings.smooth_noise_fraction)
        y = savgol(current[a:b] * direction, m)
        smoothed_noise = noise * (1.5 / np.sqrt(m) if m >= 5 else 1.0)
        threshold = max(settings.noise_factor * smoothed_noise, settings.raw_noise_factor * noise,
                        settings.min_prominence_fraction * scale)
        idx, prominences = prominent_maxima(y, threshold)
        if len(idx) == 0:
            continue
        # The turning potentials around this sweep: its neighbours share them, and a first sweep that starts
        # mid-window (a digitised loop) gets them from the next one.
        around = E[sw[max(k - 1, 0)][0]:sw[min(k + 1, len(sw) - 1)][1]]
        limits = (float(around.min()), float(around.max()))
        previous = max(2, m // 2)
        for p, prominence in zip(idx, prominences):
            if p < 2 or p > n - 3 or turning_effect(E[a + p], y, p, prominence, limits, window, scale, settings):
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
            base, slope = baseline(E[a:b], y, previous, p, step)
            previous = p + 1
            peaks.append(Peak("anodic" if direction > 0 else "cathodic", float(e_peak), float(i_peak * sign), c,
                              quantity=v.quantity, index=int(a + p),
                              height=float((i_peak - base * direction) * sign),
                              baseline=(base * direction * sign, slope * direction * sign),
                              prominence=float(prominence)))
    return peaks


def turning_effect(e_peak: float, y: np.ndarray, p: int, prominence: float, limits: tuple[float, float],
                   window: float, scale: float, settings: DetectorSettings) -> bool:
    """Whether a maximum at sweep index ``p`` is an effect of a nearby turning point rather than a peak.

    At the turning potential itself (within a quarter of ``edge_fraction``) it always is. Within
    ``edge_fraction`` of the window it is, unless it is a major peak (prominence of at least
    ``edge_major_fraction`` of the current range ``scale``: a sharp adsorption spike next to the switch).
    Within ``end_zone_fraction`` it is when it is one-sided: its prominence (the smaller fall) is under
    ``end_prominence_ratio`` times the larger fall — the overshoot after the charging-current jump at a switch,
    or a roll-over on the climb to it.
    """
    distance = min(e_peak - limits[0], limits[1] - e_peak)
    edge = settings.edge_fraction * window
    if distance < edge / 4 or distance < edge and prominence < settings.edge_major_fraction * scale:
        return True
    if distance < settings.end_zone_fraction * window:
        larger = max(y[p] - y[:p].min(), y[p] - y[p + 1:].min())
        return prominence < settings.end_prominence_ratio * larger
    return False



def prominent_maxima(y: np.ndarray, min_prominence: float) -> tuple[np.ndarray, np.ndarray]:
    """Local maxima of ``y`` whose topographic prominence reaches ``min_prominence``, and those prominences.

    Same result as ``scipy.signal.find_peaks(y, prominence=min_prominence)``, except that maxima of equal
    height on one hill count once; faster on noisy data: prominences only depend on the sequence of local
    extrema, so they are computed on that short sequence.
    """
    d = y[1:] - y[:-1]
    moving = d.nonzero()[0]
    if len(moving) < 2:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    rising = d[moving] > 0
    turn = (rising[:-1] != rising[1:]).nonzero()[0]
    # The sequence of extrema, with both ends; an extremum on a plateau (quantised currents) sits in its middle.
    extrema = np.empty(len(turn) + 2, dtype=np.intp)
    extrema[0], extrema[-1] = 0, len(y) - 1
    extrema[1:-1] = (moving[turn] + 1 + moving[turn + 1]) // 2
    candidates = (rising[turn].nonzero()[0] + 1).astype(np.intp)  # maxima, as positions in ``extrema``
    if len(candidates) == 0:
        return candidates, np.zeros(0)
    z = np.ascontiguousarray(y[extrema], dtype=np.float64)
    if _peak_prominences is not None:
        prominence = _peak_prominences(z, candidates, -1)[0]
    else:
        prominence = peak_prominences(z, candidates)[0]
    keep = (prominence >= min_prominence).nonzero()[0]
    # Maxima of equal height on one hill (e.g. a flat, quantised top) each get the full prominence:
    # keep one per hill, the first of the highest.
    hills: list[int] = []
    for k in keep:
        if hills:
            last = candidates[hills[-1]]
            if min(z[last], z[candidates[k]]) - z[last:candidates[k]].min() < min_prominence:
                if z[candidates[k]] > z[last]:
                    hills[-1] = k
                continue
        hills.append(k)
    return extrema[candidates[hills]], prominence[hills]



def exact_peaks(v: Voltammogram, min_prominence_fraction: float = 0.01, convention: str = "iupac") -> list[Peak]:
    """Peaks of a noiseless voltammogram (e.g. a simulation): every local extremum of the right kind on a sweep,
    unsmoothed, whose prominence reaches ``min_prominence_fraction`` of the current range, turning-point effects
    excluded as in ``detect``. This is the truth a simulator records."""
    exact = DetectorSettings(noise_factor=0.0, min_prominence_fraction=min_prominence_fraction,
                             max_smooth_window_V=0.0)
    return detect(v, settings=exact, convention=convention)


@dataclass
class Couple:
    """An anodic and a cathodic peak of one redox process, with E1/2, ΔEp and baseline-corrected peak currents.

    ``ipa`` and ``ipc`` are signed like the currents (ipc negative in the IUPAC convention), or None when the
    baseline could not be drawn under the peak. ``method`` says how the later (reverse) peak was measured:
    ``"nicholson"`` (from the forward baseline, the switching current and Nicholson's 1966 relation) or
    ``"linear"`` (from its own extrapolated pre-wave baseline).
    """

    anodic: Peak
    cathodic: Peak
    ipa: float | None
    ipc: float | None
    method: str = "linear"

    @property
    def e_half_V(self) -> float:
        return (self.anodic.potential + self.cathodic.potential) / 2

    @property
    def delta_ep_V(self) -> float:
        return self.anodic.potential - self.cathodic.potential

    def to_record(self, peaks: list[Peak]) -> dict:
        """JSON record; ``anodic``/``cathodic`` are indices into ``peaks``, potentials in V, currents like peaks."""
        ratio = abs(self.ipa / self.ipc) if self.ipa is not None and self.ipc else None
        return {
            "anodic": peaks.index(self.anodic),
            "cathodic": peaks.index(self.cathodic),
            "cycle": self.anodic.cycle,
            "E_half": round(self.e_half_V, 6),
            "delta_Ep": round(self.delta_ep_V, 6),
            "ipa": None if self.ipa is None else float(f"{self.ipa:.6g}"),
            "ipc": None if self.ipc is None else float(f"{self.ipc:.6g}"),
            "ipa_ipc": None if ratio is None else round(float(ratio), 4),
            "reverse_baseline": self.method,
        }


# Widest ΔEp paired as one couple (V): quasi-reversible couples reach ~0.3 V; beyond that pairing is a guess.
MAX_DELTA_EP_V = 0.5
# Adsorbed couples have ΔEp near 0; a small negative value is still the same process.
MIN_DELTA_EP_V = -0.03


def find_couples(v: Voltammogram, peaks: list[Peak], convention: str = "auto") -> list[Couple]:
    """Pair anodic and cathodic peaks of the same cycle into couples.

    Pairs minimise the total |ΔEp| (Hungarian assignment) among pairs with ``MIN_DELTA_EP_V ≤ ΔEp ≤
    MAX_DELTA_EP_V``. The earlier (forward) peak's current is its ``height`` above the baseline extrapolated
    from before its wave. The reverse peak sits on the decaying current of the forward wave: when the two
    peaks are the last before and the first after the same switching potential, it is measured with
    Nicholson's relation, i_pr = (i_pr)0 + 0.485 (i_sp)0 + 0.086 i_pf, with (i_pr)0 and (i_sp)0 taken from the
    forward baseline (shifted by the charging-current jump at the switch); otherwise from its own baseline.
    ``convention`` is the current's sign convention, as for ``detect``.
    """
    from scipy.optimize import linear_sum_assignment

    sign = current_sign(v, convention) if peaks else 1.0
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
                couples.append(_measure(v, peaks, an[r], ca[k], sign))
    couples.sort(key=lambda cp: (cp.anodic.cycle, cp.e_half_V))
    return couples


def _measure(v: Voltammogram, peaks: list[Peak], a: Peak, k: Peak, sign: float) -> Couple:
    fwd, rev = (a, k) if a.index < k.index else (k, a)
    heights = {id(a): a.height, id(k): k.height}
    method = "linear"
    between = [p for p in peaks if fwd.index < p.index < rev.index]
    sw = sweeps(v.potential_V)
    turn = next((b - 1 for s, b, _ in sw if s <= fwd.index < b - 1), None)
    if turn is not None and not between and rev.index > turn and fwd.baseline is not None:
        # Consecutive peaks around one switch: Nicholson's relation on the forward baseline.
        E, current = v.potential_V, v.current * sign  # IUPAC-oriented, like the relation
        w = max(3, min(10, (rev.index - turn) // 4, (turn - fwd.index) // 4))
        before = np.polyval(np.polyfit(np.arange(-w, 1), current[turn - w:turn + 1], 1), 0.0)
        after = np.polyval(np.polyfit(np.arange(1, w + 1), current[turn + 1:turn + 1 + w], 1), 0.0)
        jump = after - before  # charging current changes sign at the switch
        bg_value, bg_slope = fwd.baseline[0] * sign, fwd.baseline[1] * sign
        s = 1.0 if fwd.direction == "anodic" else -1.0
        sp0 = s * (before - (bg_value + bg_slope * (E[turn] - fwd.potential)))
        rev0 = -s * (rev.current * sign - (bg_value + bg_slope * (rev.potential - fwd.potential) + jump))
        pf = s * fwd.height * sign
        if sp0 >= 0 and rev0 > 0 and pf > 0:
            heights[id(rev)] = -s * (rev0 + 0.485 * sp0 + 0.086 * pf) * sign
            method = "nicholson"
    # A baseline that crosses its peak (steep or curved background) measures nothing: report no current.
    ipa = heights[id(a)] if heights[id(a)] is not None and heights[id(a)] * sign > 0 else None
    ipc = heights[id(k)] if heights[id(k)] is not None and heights[id(k)] * sign < 0 else None
    return Couple(a, k, ipa, ipc, method)


def baseline(x: np.ndarray, y: np.ndarray, start: int, p: int, step_V: float, foot_fraction: float = 0.002,
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
    step_V : float
        Mean potential step of the sweep (V).
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
    if p - start < 3:
        return float(y[start]), 0.0
    xs, ys = x[start:p + 1], y[start:p + 1]
    q = p - start
    low = int(np.argmin(ys[:q]))
    value, slope = float(ys[low]), 0.0
    span = max(2, int(fit_window_V / max(step_V, 1e-12)))
    for _ in range(2):
        rel = ys[low:q] - (value + slope * (xs[low:q] - xs[q]))
        below = (rel <= foot_fraction * (ys[q] - value)).nonzero()[0]
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
