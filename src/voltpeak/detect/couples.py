"""Redox couples: an anodic and a cathodic peak paired as one process, with E1/2, ΔEp and ipa/ipc."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import linear_sum_assignment

from voltpeak.detect.baseline import baseline
from voltpeak.detect.fit import NOMINAL_RATE_V_S, deconvolve
from voltpeak.detect.kinetics import kinetics
from voltpeak.detect.peaks import DEFAULT, Context, DetectorSettings, detect
from voltpeak.detect.smooth import smoothed_noise
from voltpeak.peak import Peak
from voltpeak.voltammogram import Voltammogram


@dataclass
class Couple:
    """An anodic and a cathodic peak of one redox process, with E1/2, ΔEp and baseline-corrected peak currents.

    ``ipa`` and ``ipc`` are signed like the currents (ipc negative in the IUPAC convention), or None when the
    baseline could not be drawn under the peak. ``method`` says how the later (reverse) peak was measured:
    ``"nicholson"`` (from the forward baseline, the switching current and Nicholson's 1966 relation) or
    ``"linear"`` (from its own extrapolated pre-wave baseline), or ``"fit"`` (the cycle fitted as couples,
    charging and background, ``voltpeak.detect.fit``: then ``e_pa_V``/``e_pc_V`` are the couple's own peak
    potentials, which differ from its peaks' where waves overlap). A couple the fit found inside another couple's
    waves has no peaks of its own (``own_peaks`` False): ``anodic`` and ``cathodic`` are then the peaks of the
    merged waves it lies in.
    """

    anodic: Peak
    cathodic: Peak
    ipa: float | None
    ipc: float | None
    method: str = "linear"
    e_pa_V: float | None = None
    e_pc_V: float | None = None
    cycle: int | None = None
    own_peaks: bool = True
    withheld: str = ""  # why the reverse peak's current (and ipa/ipc) is not given, where it is not
    kinetics: dict | None = None  # a fitted couple's E°, ψ, k0 and α (``voltpeak.detect.kinetics``)

    def __post_init__(self):
        if self.e_pa_V is None:
            self.e_pa_V = self.anodic.potential
        if self.e_pc_V is None:
            self.e_pc_V = self.cathodic.potential
        if self.cycle is None:
            self.cycle = self.anodic.cycle

    @property
    def e_half_V(self) -> float:
        return (self.e_pa_V + self.e_pc_V) / 2

    @property
    def delta_ep_V(self) -> float:
        return self.e_pa_V - self.e_pc_V

    def to_record(self, peaks: list[Peak]) -> dict:
        """JSON record; ``anodic``/``cathodic`` are indices into ``peaks``, potentials in V, currents like
        peaks."""
        ratio = abs(self.ipa / self.ipc) if self.ipa is not None and self.ipc else None
        return {
            "anodic": peaks.index(self.anodic),
            "cathodic": peaks.index(self.cathodic),
            "cycle": self.cycle,
            "E_half": round(self.e_half_V, 6),
            "delta_Ep": round(self.delta_ep_V, 6),
            "E_pa": round(self.e_pa_V, 6),
            "E_pc": round(self.e_pc_V, 6),
            "ipa": None if self.ipa is None else float(f"{self.ipa:.6g}"),
            "ipc": None if self.ipc is None else float(f"{self.ipc:.6g}"),
            "ipa_ipc": None if ratio is None else round(float(ratio), 4),
            "reverse_baseline": self.method,
            "own_peaks": self.own_peaks,
            **({"withheld": {"ipa_ipc": self.withheld}} if self.withheld else {}),
            **({"kinetics": self.kinetics} if self.kinetics else {}),
        }


# Widest ΔEp paired as one couple (V): quasi-reversible couples reach ~0.3 V; beyond that pairing is a guess.
MAX_DELTA_EP_V = 0.5
# Adsorbed couples have ΔEp near 0; a small negative value is still the same process.
MIN_DELTA_EP_V = -0.03
# Slow couples reach ΔEp 0.5–0.8 V (k0 1e-4 cm/s): peaks left unpaired are paired this wide, and the couple is
# kept only where the cycle's fit explains it as one couple.
WIDE_DELTA_EP_V = 0.8


def pair(anodic: list[Peak], cathodic: list[Peak], widest_V: float = MAX_DELTA_EP_V) -> list[tuple[int, int]]:
    """Indices (anodic, cathodic) of the couples among peaks of one cycle (and one curve): the pairs that
    minimise the total |ΔEp| (Hungarian assignment) among those with ``MIN_DELTA_EP_V ≤ ΔEp ≤ widest_V``."""
    if not anodic or not cathodic:
        return []
    dep = np.array([[a.potential - k.potential for k in cathodic] for a in anodic])
    ok = (dep >= MIN_DELTA_EP_V) & (dep <= widest_V)
    rows, cols = linear_sum_assignment(np.where(ok, np.abs(dep), 1e6))
    return [(int(r), int(k)) for r, k in zip(rows, cols) if ok[r, k]]


# A couple with ΔEp this close to 0 is surface-confined (a reversible diffusion couple has ΔEp ≥ 59/n mV, 29.5 mV
# for n = 2): its two waves mirror each other, so peak currents over 3× apart are two features, not one couple.
SURFACE_DELTA_EP_V = 0.025
MAX_SURFACE_RATIO = 3.0


def _mirrored(c: Couple) -> bool:
    """False for a "surface couple" whose waves are no mirror images (a step's top and foot, a dip in a wave)."""
    if abs(c.delta_ep_V) >= SURFACE_DELTA_EP_V or c.ipa is None or not c.ipc:
        return True
    return 1 / MAX_SURFACE_RATIO <= abs(c.ipa / c.ipc) <= MAX_SURFACE_RATIO


def find_couples(v: Voltammogram, peaks: list[Peak], convention: str = "auto",
                 settings: DetectorSettings = DEFAULT, context: Context | None = None) -> list[Couple]:
    """Pair anodic and cathodic peaks of the same cycle into couples and measure their peak currents.

    Pairs minimise the total |ΔEp| (Hungarian assignment) among pairs with ``MIN_DELTA_EP_V ≤ ΔEp ≤
    MAX_DELTA_EP_V``; a surface-like pair (|ΔEp| under 25 mV) whose peak currents are over 3× apart is no
    couple. The earlier (forward) peak's current is measured from the baseline extrapolated from before its wave
    (``baseline``, on the sweep smoothed as ``detect`` does). The reverse peak sits on the
    decaying current of the forward wave: when the two peaks are the last before and the first after the same
    switching potential, it is measured with Nicholson's relation, i_pr = (i_pr)0 + 0.485 (i_sp)0 + 0.086 i_pf,
    with (i_pr)0 and (i_sp)0 taken from the forward baseline (shifted by the charging-current jump at the
    switch); otherwise from its own baseline. Peaks may come from anywhere (a detector, a model, a person): a
    peak without a sample ``index`` is placed on the nearest sample of a sweep of its direction and cycle.
    ``convention`` is the current's sign convention, as for ``detect``; ``context`` saves recomputing what
    ``detect`` already computed (see ``analyse``).
    """
    if not peaks or len(v) < 5:
        return []
    ctx = context or Context.of(v, convention, settings)
    located = [p if p.index is not None else _locate(ctx, p) for p in peaks]
    couples = []
    for c in sorted({p.cycle for p in located if p.cycle is not None}):
        an = [p for p in located if p.cycle == c and p.direction == "anodic" and p.index is not None]
        ca = [p for p in located if p.cycle == c and p.direction == "cathodic" and p.index is not None]
        pairs = [(an[r], ca[k]) for r, k in pair(an, ca)]
        left_an = [p for p in an if all(p is not a for a, _ in pairs)]
        left_ca = [p for p in ca if all(p is not k for _, k in pairs)]
        pairs += [(left_an[r], left_ca[k]) for r, k in pair(left_an, left_ca, WIDE_DELTA_EP_V)]
        measured = [cp for cp in (_measure(ctx, located, a, k) for a, k in pairs) if _mirrored(cp)]
        measured = fitted(ctx, c, measured) if measured else []
        # A wide pair stands only as the fit's couple.
        measured = [cp for cp in measured if cp.method == "fit" or
                    cp.anodic.potential - cp.cathodic.potential <= MAX_DELTA_EP_V]
        for couple in _trusted(measured, located):
            couple.anodic, couple.cathodic = (peaks[located.index(couple.anodic)],  # the caller's Peak objects
                                              peaks[located.index(couple.cathodic)])
            couples.append(couple)
    couples.sort(key=lambda cp: (cp.cycle, cp.e_half_V))
    return couples


def _trusted(couples: list[Couple], peaks: list[Peak]) -> list[Couple]:
    """``couples`` with the reverse peak's current withheld where no baseline under it can be trusted: a couple
    measured on straight or Nicholson baselines (the fit not kept) in a cycle with other waves — there such ratios
    fell within 15 % of the truth for 0 of 14 (Nicholson) and 5 of 12 (straight) cvsim couples, 2026-12-07."""
    out = []
    for c in couples:
        others = [p for p in peaks if p.cycle == c.cycle and p is not c.anodic and p is not c.cathodic
                  and _stands_out(p, c.anodic, c.cathodic)]
        if c.method != "fit" and others and c.ipa is not None and c.ipc is not None:
            reverse_anodic = c.anodic.index is not None and c.cathodic.index is not None and \
                c.anodic.index > c.cathodic.index
            c = replace(c, ipa=None if reverse_anodic else c.ipa, ipc=c.ipc if reverse_anodic else None,
                        withheld=f"overlapping waves: {len(others)} other peak(s) in the cycle, and the fit of "
                                 "the cycle was not kept; no baseline under the reverse peak can be trusted")
        out.append(c)
    return out


def fitted(ctx: Context, cycle: int, couples: list[Couple]) -> list[Couple]:
    """The couples of one cycle as the cycle's fit measures them (``voltpeak.detect.fit``), with any couple the
    fit found in a merged wave; ``couples`` unchanged where the fit does not reach the noise."""
    in_cycle = np.flatnonzero(ctx.cycles == cycle)
    end = int(in_cycle[-1]) + 1
    v = ctx.v
    E = v.potential_V[:end]
    step = float(np.median(np.abs(np.diff(E))))
    timed = v.time_s is not None and len(v.time_s) > 1
    rate_known = timed or bool(v.scan_rate_V_s)
    dt = float(np.median(np.diff(v.time_s[:end]))) if timed else step / (v.scan_rate_V_s or NOMINAL_RATE_V_S)
    starts = [(c.e_half_V, c.delta_ep_V, c.cathodic.index < c.anodic.index, _reverse_share(c)) for c in couples]
    try:
        found = deconvolve(E, ctx.current[:end], [s for s in ctx.sweeps if s[0] < end], ctx.cycles[:end] == cycle,
                           ctx.noise, starts, dt) if dt > 0 else None
    except (ValueError, np.linalg.LinAlgError):  # a record the model cannot follow (non-finite steps)
        found = None
    if found is None:
        return couples
    out = []
    for k, f in enumerate(found):
        if f is None:  # a pair of peaks the fit explains as other couples' waves
            continue
        if k < len(couples):
            own = couples[k]
        else:  # a couple inside the merged waves of the couples found: it names the peaks of those waves
            anodic = min((c.anodic for c in couples), key=lambda p: abs(p.potential - f.e_pa))
            cathodic = min((c.cathodic for c in couples), key=lambda p: abs(p.potential - f.e_pc))
            own = Couple(anodic, cathodic, None, None, own_peaks=False)
        # ``deconvolve`` works on the IUPAC-oriented current; heights return to the file's sign.
        out.append(replace(own, ipa=f.ipa * ctx.sign if f.ipa > 0 else None,
                           ipc=f.ipc * ctx.sign if f.ipc < 0 else None, method="fit", e_pa_V=f.e_pa, e_pc_V=f.e_pc,
                           kinetics=kinetics(f, step / dt, rate_known, f.e_pa - f.e_pc)))
    return out


def _reverse_share(c: Couple) -> float | None:
    """|reverse peak current / forward peak current| as the baselines measured them; None where one is missing."""
    if c.ipa is None or not c.ipc:
        return None
    ratio = abs(c.ipa / c.ipc)
    return ratio if c.cathodic.index < c.anodic.index else 1 / ratio


def _locate(ctx: Context, peak: Peak) -> Peak:
    """A copy of ``peak`` with the sample index nearest its potential on a sweep of its direction and cycle."""
    direction = 1 if peak.direction == "anodic" else -1
    E = ctx.v.potential_V
    best = None
    for a, b, d in ctx.sweeps:
        if d != direction or peak.potential is None:
            continue
        i = a + int(np.argmin(np.abs(E[a:b] - peak.potential)))
        if (peak.cycle is None or ctx.cycles[i] == peak.cycle) and (
                best is None or abs(E[i] - peak.potential) < abs(E[best] - peak.potential)):
            best = i
    return replace(peak, index=best, cycle=peak.cycle if peak.cycle is not None or best is None
                   else int(ctx.cycles[best]))


SWITCH_WINDOW = 60  # samples on each side of a switch that measure its charging-current jump
SWITCH_TAUS = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0)  # relaxation times tried for the jump (samples)


def switch_jump(y: np.ndarray) -> tuple[float, float]:
    """The current at a switching potential and the step the charging current makes there.

    ``y`` holds 2w + 1 samples centred on the switch (forward frame). Around a switch the current is a smooth
    faradaic part — a line in time with a kink, since the potential turns — plus the charging current's step,
    which relaxes with the cell's time constant τ: ``y(u) = a + b·u + d·|u| + J·(1 − e^{−u/τ})`` for
    u > 0 samples after the switch (J alone for τ = 0). Fitted by least squares for each τ of ``SWITCH_TAUS``; the
    best fit gives (a, J): the current reached at the switch and the step, both in the unit of ``y``.
    """
    w = len(y) // 2
    u = np.arange(-w, w + 1, dtype=float)
    # No u² term: over ±60 samples it trades off against a slow relaxation (the jump's spread at SNR 20 and
    # τ = 8 samples: 0.18 of the step with it over ±40, 0.024 without over ±60; measured).
    smooth = np.column_stack([np.ones_like(u), u, np.abs(u)])
    best = None
    for tau in SWITCH_TAUS:
        step = np.where(u > 0, 1.0 - np.exp(-u / tau), 0.0) if tau else (u > 0).astype(float)
        design = np.column_stack([smooth, step])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        residual = float(((design @ coef - y) ** 2).sum())
        if best is None or residual < best[0]:
            best = (residual, float(coef[0]), float(coef[-1]))
    return best[1], best[2]


def analyse(v: Voltammogram, cycle: int | None = None, settings: DetectorSettings = DEFAULT,
            convention: str = "auto") -> tuple[list[Peak], list[Couple]]:
    """``detect`` then ``find_couples``, sharing the sweeps, noise estimate and smoothed sweeps."""
    ctx = Context.of(v, convention, settings)
    peaks = detect(v, cycle, settings, context=ctx)
    return peaks, find_couples(v, peaks, context=ctx)


def baseline_of(ctx: Context, peaks: list[Peak], peak: Peak) -> tuple[float, float, int]:
    """Baseline (value at the peak, slope per V) in the IUPAC-oriented, sign-normalised frame; and the sweep."""
    k = ctx.sweep_of(peak.index)
    a, b, _ = ctx.sweeps[k]
    y, m, step = ctx.smoothed(k)
    # The baseline may use the sweep from past its switching transient, after any earlier peak on it.
    earlier = [q.index for q in peaks if q.index is not None and a <= q.index < peak.index]
    start = max([max(2, m // 2)] + [i - a + 1 for i in earlier])
    # The first wave of a sweep has its whole start before it: a longer fit steadies the slope, which Nicholson's
    # relation extrapolates to the switch (singles' ipa/ipc within 15 %: 94 → 96 % at 0.3 V, measured); a later
    # wave sits on the tail of an earlier one, which only a short, local line follows.
    E = ctx.v.potential_V
    value, slope = baseline(E[a:b], y, min(start, peak.index - a), peak.index - a, step,
                            fit_window_V=0.1 if earlier else 0.3, noise=smoothed_noise(ctx.noise, m))
    # ``baseline`` gives the line at the peak's sample; its callers anchor it at the peak's (sub-step) potential.
    return value + slope * (peak.potential - E[peak.index]), slope, k


MINOR_FEATURE = 0.1  # a peak under this fraction of a couple's prominence does not stand between its two peaks


def _stands_out(p: Peak, a: Peak, k: Peak) -> bool:
    """Whether ``p`` counts beside the couple of ``a`` and ``k``: a tenth of their smaller prominence or more
    (a peak of unknown prominence always counts)."""
    return p.prominence is None or p.prominence >= MINOR_FEATURE * min(a.prominence or 0.0, k.prominence or 0.0)


def _measure(ctx: Context, peaks: list[Peak], a: Peak, k: Peak) -> Couple:
    fwd, rev = (a, k) if a.index < k.index else (k, a)
    sign = ctx.sign
    # Heights in the sign-normalised frame of each peak's sweep (positive: above the baseline), then signed.
    f_value, f_slope, f_sweep = baseline_of(ctx, peaks, fwd)
    r_value, _, r_sweep = baseline_of(ctx, peaks, rev)
    f_dir = 1.0 if fwd.direction == "anodic" else -1.0
    f_height = fwd.current * sign * f_dir - f_value
    r_height = rev.current * sign * -f_dir - r_value
    method = "linear"
    # A peak between the two breaks Nicholson's premise (the reverse wave on the forward one's decay); a feature
    # under a tenth of the couple's own prominence (a noise wiggle on the return branch) does not.
    between = any(fwd.index < p.index < rev.index and _stands_out(p, fwd, rev) for p in peaks if p.index is not None)
    if r_sweep == f_sweep + 1 and not between:
        # The last peak before a switch and the first after it: Nicholson's relation on the forward baseline.
        turn = ctx.sweeps[f_sweep][1] - 1
        E, current = ctx.v.potential_V, ctx.current * f_dir  # forward frame: forward peak is a maximum
        w = max(3, min(SWITCH_WINDOW, (rev.index - turn) // 2, (turn - fwd.index) // 2))
        before, jump = switch_jump(current[turn - w:turn + w + 1])

        def forward_baseline(e):
            return f_value + f_slope * (e - fwd.potential)

        sp0 = before - forward_baseline(E[turn])
        rev0 = -(rev.current * sign * f_dir - (forward_baseline(rev.potential) + jump))
        if sp0 >= 0 and rev0 > 0 and f_height > 0:
            r_height = rev0 + 0.485 * sp0 + 0.086 * f_height
            method = "nicholson"
    heights = {id(fwd): f_height * f_dir * sign, id(rev): -r_height * f_dir * sign}
    # A baseline that crosses its peak (steep or curved background) measures nothing: report no current.
    ipa = heights[id(a)] if heights[id(a)] * sign > 0 else None
    ipc = heights[id(k)] if heights[id(k)] * sign < 0 else None
    return Couple(a, k, ipa, ipc, method)
