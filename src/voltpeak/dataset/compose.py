"""Compose a graph: 1 to K labelled CVs (one cycle each) overlaid on shared axes in engineering units.

A graph's truth peaks are those visible on its own current axis (prominence ≥ ``VISIBLE_FRACTION`` of the plotted
range, where the pool records prominences, as the simulator does).

A graph's curves share the quantity (current or current density). Sometimes one simulated system is shown at
several scan rates, re-simulated with exact labels, as papers do. Currents are scaled into the unit that makes the
largest one a number between 1 and 1000 (µA, mA, ...), potentials shown in V (or mV); under the US convention the
printed current is cathodic-positive.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from voltpeak.dataset.pool import LabelledCV
from voltpeak.render.draw import Curve, engineering_unit, occluded
from voltpeak.render.style import CURRENT_LABELS, DENSITY_LABELS, PlotStyle
from voltpeak.simulate.cv import VISIBLE_FRACTION
from voltpeak.voltammogram import Voltammogram

NAMES = ("CV {i}", "Scan {i}", "Sample {a}", "Electrode {i}", "Run {i}", "{c} mM", "Trace {i}")
SIMILAR = 4.0  # overlaid CVs differ in size by at most this factor, so no curve is drawn flat
SERIES_LADDER = (0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.5, 2.0, 3.0, 4.0, 5.0, 7.5, 10.0)  # scan rates / the CV's own


@dataclass
class GraphPeak:
    """A truth peak of a composed graph: in SI (V, A or A/m²) and as printed on the axes."""

    direction: str
    potential_V: float
    current: float
    cycle: int
    curve: int
    shown_potential: float
    shown_current: float


@dataclass
class Graph:
    curves: list[Curve]
    peaks: list[GraphPeak]
    potential_label: str
    current_label: str
    potential_factor: float  # shown potential = factor × V
    current_factor: float  # shown current = factor × A (or A/m²), negative under the US convention
    quantity: str
    window_V: tuple[float, float]
    sources: list[str]
    series: bool


def compose(rng: np.random.Generator, candidates: list[LabelledCV], style: PlotStyle, max_curves: int = 4,
            curve_weights: tuple = (0.5, 0.25, 0.15, 0.1), series_fraction: float = 0.05) -> Graph:
    """One graph from ``candidates`` (a split's CVs) drawn by ``rng``, labelled for ``style``'s conventions."""
    weights = np.asarray(curve_weights[:max_curves], dtype=float)
    count = min(1 + int(rng.choice(len(weights), p=weights / weights.sum())), len(candidates))
    first = candidates[int(rng.integers(len(candidates)))]
    series = count > 1 and first.params is not None and rng.random() < series_fraction
    if series:
        picked = _series(rng, first, count)
        sources = [first.source] * len(picked)
    else:
        same = _similar(candidates, first)
        others = [same[int(i)] for i in rng.permutation(len(same))[:count - 1]]
        picked = [_one_cycle(rng, c) for c in [first, *others]]
        sources = [c.source for c in [first, *others]]
    quantity = first.voltammogram.quantity
    # A graph's truth is what its own current axis shows: a peak whose prominence is under the visible fraction
    # of the plotted range is not marked (a faint peak of a small curve beside a big one), and a faint peak of
    # the whole record can be plain in one cycle (peaks with no prominence, hand labels, are always marked).
    span = max(float(v.current.max()) for v, _, _ in picked) - min(float(v.current.min()) for v, _, _ in picked)
    picked = [(v, [p for p in cv_peaks if p.prominence is None or p.prominence >= VISIBLE_FRACTION * span], cycle)
              for v, cv_peaks, cycle in picked]
    largest = max(float(np.abs(v.current).max()) for v, _, _ in picked)
    unit, factor = engineering_unit(largest, quantity)
    if quantity == "j" and rng.random() < 0.5:
        unit = unit.replace(" cm⁻²", "/cm²")
    e_factor = 1e3 if style.potential_unit == "mV" else 1.0
    i_factor = -factor if style.us_convention else factor
    ref = f" vs {style.reference}" if style.reference else ""
    potential_label = style.potential_label.format(unit=style.potential_unit, ref=ref)
    labels = DENSITY_LABELS if quantity == "j" else CURRENT_LABELS
    current_label = (style.current_label if quantity == "I" else labels[int(rng.integers(len(labels)))])
    current_label = current_label.format(unit=unit)
    curves, peaks = [], []
    names = _names(rng, picked, series) if len(picked) > 1 or rng.random() < 0.3 else [""]
    for k, ((v, cv_peaks, cycle), name) in enumerate(zip(picked, names)):
        curves.append(Curve(v.potential_V * e_factor, v.current * i_factor, name))
        for p in cv_peaks:
            peaks.append(GraphPeak(p.direction, float(p.potential), float(p.current), cycle, k,
                                   float(p.potential) * e_factor, float(p.current) * i_factor))
    # A curve that would hide another's peak under its line is left out (the first curve always stays); not in a
    # series, whose neighbouring curves' peaks lie a few pixels apart as papers draw them, every curve's marked.
    points = np.array([(p.shown_potential, p.shown_current) for p in peaks]).reshape(-1, 2)
    hiding = set() if series else occluded(curves, points, [p.curve for p in peaks], style) - {0}
    if hiding:
        keep = [k for k in range(len(curves)) if k not in hiding]
        renumber = {k: i for i, k in enumerate(keep)}
        curves = [curves[k] for k in keep]
        picked = [picked[k] for k in keep]
        sources = [sources[k] for k in keep]
        peaks = [replace(p, curve=renumber[p.curve]) for p in peaks if p.curve in renumber]
    lo = min(float(v.potential_V.min()) for v, _, _ in picked)
    hi = max(float(v.potential_V.max()) for v, _, _ in picked)
    return Graph(curves, peaks, potential_label, current_label, e_factor, i_factor, quantity, (lo, hi),
                 list(dict.fromkeys(sources)), series)


_BY_SIZE: dict = {}  # id(candidates) → (candidates, sizes ascending, their indices): one sort per split


def _similar(candidates: list[LabelledCV], first: LabelledCV) -> list[LabelledCV]:
    """The candidates of ``first``'s quantity within a factor ``SIMILAR`` of its size, ``first`` excluded, in the
    candidates' order (a binary search in the sizes, sorted once per list)."""
    key = id(candidates)
    if key not in _BY_SIZE or _BY_SIZE[key][0] is not candidates:
        sizes = np.array([c.size for c in candidates])
        order = np.argsort(sizes, kind="stable")
        _BY_SIZE[key] = (candidates, sizes[order], order)
    _, sizes, order = _BY_SIZE[key]
    lo = np.searchsorted(sizes, first.size / SIMILAR, side="left")
    hi = np.searchsorted(sizes, first.size * SIMILAR, side="right")
    quantity = first.voltammogram.quantity
    return [candidates[i] for i in np.sort(order[lo:hi])
            if candidates[i] is not first and candidates[i].voltammogram.quantity == quantity]


def _one_cycle(rng: np.random.Generator, cv: LabelledCV):
    """The CV cut to one of its cycles (drawn), with that cycle's peaks, faint ones included: (voltammogram, peaks,
    cycle). A hand-labelled CV whose labels name only some of its cycles (a labeller marks one) is drawn at one of
    those: its other cycles are unlabelled, not free of peaks."""
    v = cv.voltammogram
    cycles = v.cycle_numbers()
    n = int(cycles.max())
    labelled = sorted({p.cycle or 1 for p in cv.peaks} & set(range(1, n + 1))) if cv.origin == "labelled" else []
    allowed = labelled if labelled else list(range(1, n + 1))
    cycle = 1 if n == 1 else allowed[int(rng.integers(len(allowed)))]
    keep = cycles == cycle
    if n > 1 and keep.sum() < 0.5 * len(v) / n and 1 in allowed:  # a short stub of a last cycle: take the first
        cycle, keep = 1, cycles == 1
    cut = Voltammogram(v.potential_V[keep], v.current[keep], None if v.time_s is None else v.time_s[keep],
                       quantity=v.quantity, scan_rate_V_s=v.scan_rate_V_s, reference=v.reference, source=v.source)
    peaks = [p for p in cv.peaks + cv.faint
             if (p.cycle or 1) == cycle and p.potential is not None and p.current is not None]
    return cut, peaks, cycle


def _series(rng: np.random.Generator, cv: LabelledCV, count: int):
    """The simulated system of ``cv`` at ``count`` scan rates (its own among them), one cycle each."""
    from voltpeak.simulate.batch import simulate_set
    from voltpeak.simulate.cv import Conditions, RedoxCouple

    couples = [RedoxCouple(**{k: (np.inf if v is None else v) for k, v in c.items()})
               for c in cv.params["couples"]]
    conditions = Conditions(**{k: (tuple(v) if isinstance(v, list) else v)
                               for k, v in cv.params["conditions"].items()})
    # Up to 8 rates from the short ladder (the stream of earlier builds unchanged), more from the long one.
    ladder = [0.2, 0.25, 0.5, 2.0, 4.0, 5.0, 10.0] if count <= 8 else SERIES_LADDER
    factors = sorted({1.0, *rng.choice(ladder, size=count - 1, replace=False)})
    # One cycle each, sampled every 2 mV at most: a plot shows no finer detail, and the series stays cheap.
    variants = [(couples, replace(conditions, scan_rate_V_s=float(np.clip(conditions.scan_rate_V_s * f, 0.001, 10.0)),
                                  cycles=1, step_V=max(conditions.step_V, 0.002)), rng) for f in factors]
    return [(sim.noisy, sim.truth + sim.faint, 1) for sim in simulate_set(variants)]


def _names(rng: np.random.Generator, picked, series: bool) -> list[str]:
    """Legend labels: scan rates for a series (or when every curve has one), else one naming scheme."""
    rates = [v.scan_rate_V_s for v, _, _ in picked]
    if series or (all(rates) and len(set(rates)) == len(rates) and rng.random() < 0.6):
        return [f"{r * 1e3:.3g} mV/s" if r < 1 else f"{r:.3g} V/s" for r in rates]
    scheme = NAMES[int(rng.integers(len(NAMES)))]
    levels = [0.1, 0.2, 0.5, 1, 2, 5, 10] if len(picked) <= 7 else [0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20,
                                                                        50]
    conc = sorted(rng.choice(levels, size=len(picked), replace=False))
    return [scheme.format(i=i + 1, a="ABCDEFGHIJKL"[i], c=f"{conc[i]:g}") for i in range(len(picked))]


