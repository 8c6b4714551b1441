"""Noisy CVs with exact truth, made with the MIT-licensed ``cvsim`` package (a test dependency).

Each case sums 1–3 independent couples (reversible or quasi-reversible, random E°, concentration and k0) simulated
by cvsim on one potential programme, then adds double-layer charging (with its RC transient after each switch),
a sloped background and white noise down to a given signal-to-noise ratio (smallest peak height / noise std).
The truth is the set of peaks of the noiseless total current (``voltpeak.simulate.truth.true_peaks``, which shares
no code with the detector it judges): local extrema per sweep with a prominence of at least 1 % of the current
range.

Used by ``benchmarks/detect.py``, the tests and ``scripts/make_examples.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from voltpeak.peak import Peak
from voltpeak.simulate.truth import true_peaks
from voltpeak.voltammogram import Voltammogram


@dataclass
class Case:
    clean: Voltammogram
    noisy: Voltammogram
    truth: list[Peak]
    snr: float
    couples: int
    # Per couple (all chemically reversible: cvsim's E_rev and E_q): its own E1/2 and peak potentials (V, from its
    # noiseless current alone, no charging or background), kind ("rev" or "q"), k0 (cm/s), α, its peak height (A)
    # and "ratio", its own |ipa/ipc| with the reverse peak measured from the forward wave's decay (Nicholson's
    # baseline: the current had the potential been held at the switch); None where it shows no two peaks.
    systems: list = field(default_factory=list)
    rate: float = 0.1  # scan rate, V/s


@lru_cache(maxsize=4096)
def _couple(kind: str, e0: float, k0: float, start: float, switch: float, step_mV: float, rate: float,
            alpha: float = 0.5):
    """One cvsim couple (cached: the benchmark reuses shapes); concentration 1 mM, D = 1e-5 cm²/s."""
    from cvsim.mechanisms import E_q, E_rev

    if kind == "rev":
        sim = E_rev(start, switch, e0, rate, 1.0, 1e-5, 1e-5, step_size=step_mV)
    else:
        sim = E_q(start, switch, e0, rate, 1.0, 1e-5, 1e-5, alpha, k0, step_size=step_mV)
    E, current = sim.simulate()
    return np.asarray(E), np.asarray(current)


def make_case(rng: np.random.Generator, n_points: int = 2000, snr_range=(15.0, 200.0),
              max_couples: int = 3, charging_range=(0.0, 0.3), kinetics: str = "mixed",
              near_switch: bool = False) -> Case:
    """One random noisy CV of about ``n_points`` samples (one cycle) with its exact truth; the charging current
    is a fraction ``charging_range`` of the smallest peak. ``kinetics``: "mixed" — half reversible, half
    quasi-reversible with k0 1e-1, 1e-2 or 3e-3 cm/s and α 0.5; "slow" — every couple quasi-reversible, k0
    log-uniform over 1e-4–1e-1 cm/s and α uniform over 0.3–0.7 (ΔEp up to about 0.5 V). ``near_switch``: the
    lowest E° slot lies 80 mV from the switching potential (not 200), so a forward peak comes within ~50 mV of
    the switch, or past it."""
    window = float(rng.choice([0.8, 1.0, 1.2]))
    step_mV = round(2 * window / n_points * 1000, 3)
    rate = float(rng.choice([0.05, 0.1, 0.2, 0.5]))
    start, switch = window / 2, -window / 2
    n_couples = int(rng.integers(1, max_couples + 1))
    # E° spread over the window, at least 0.2 V apart so couples stay distinct peaks.
    slots = np.linspace(-window / 2 + (0.08 if near_switch else 0.2), window / 2 - 0.2, 5)
    e0s = np.sort(rng.choice(slots, n_couples, replace=False)) + rng.uniform(-0.02, 0.02, n_couples)
    current = None
    heights, own = [], []
    for e0 in e0s:
        if kinetics == "slow":
            kind, k0, alpha = "q", float(10 ** rng.uniform(-4, -1)), round(float(rng.uniform(0.3, 0.7)), 2)
            k0 = float(f"{k0:.2g}")  # a cache of shapes that repeat
        else:
            kind, alpha = ("rev" if rng.random() < 0.5 else "q"), 0.5
            k0 = float(rng.choice([1e-1, 1e-2, 3e-3]))
        E, i = _couple(kind, round(float(e0), 3), k0, start, switch, step_mV, rate, alpha)
        scale = float(rng.uniform(0.4, 1.0))
        current = i * scale if current is None else current + i * scale
        heights.append(float(np.abs(i).max()) * scale)
        own.append((kind, round(float(e0), 3), k0, alpha, i * scale))
    mirror = rng.random() < 0.5
    if mirror:  # oxidation first: mirror potential and current
        E, current = -E, -current
    systems = []
    for (kind, e0, k0, alpha, i), height in zip(own, heights):
        alone = true_peaks(Voltammogram(E, -i if mirror else i))
        e_half = float(np.mean([p.potential for p in alone])) if len(alone) == 2 else None
        own_peaks = {p.direction: p.potential for p in alone}
        systems.append({"e_half": e_half, "kind": kind, "k0": k0, "alpha": alpha, "height": height,
                        "anodic": own_peaks.get("anodic"), "cathodic": own_peaks.get("cathodic"),
                        "ratio": None if e_half is None else
                        _own_ratio(-E if mirror else E, kind, e0, k0, alpha, rate, mirror)})
    ip = min(heights)
    # Charging current ±Cdl·v with an RC transient after each switch, plus a sloped background.
    direction = np.sign(np.gradient(E))
    n_rc = max(1, int(rng.uniform(2, 8)))
    kernel = np.exp(-np.arange(5 * n_rc) / n_rc)
    charging = np.convolve(direction, kernel / kernel.sum())[: len(E)]
    charging[: len(kernel)] = direction[: len(kernel)]  # no warm-up artefact at the start
    background = rng.uniform(*charging_range) * ip * charging + rng.uniform(-0.2, 0.2) * ip * E / window
    clean = Voltammogram(E, current + background, source="cvsim")
    truth = true_peaks(clean)
    snr = float(np.exp(rng.uniform(np.log(snr_range[0]), np.log(snr_range[1]))))
    noisy = Voltammogram(E, clean.current + rng.normal(0.0, ip / snr, len(E)), source="cvsim", scan_rate_V_s=rate)
    return Case(clean, noisy, truth, snr, n_couples, systems, rate)


def _own_ratio(E: np.ndarray, kind: str, e0: float, k0: float, alpha: float, rate: float, mirror: bool) -> float:
    """|ipa/ipc| of one couple alone on cvsim's potential programme ``E`` (reduction first; ``mirror``: the CV
    is shown mirrored, oxidation first): the forward peak from zero, the reverse one from the forward wave's
    decay, the current had the potential been held at the switch. cvsim cannot hold a potential, so this is
    voltpeak's simulator (tests/test_simulate.py holds it to cvsim within 1 %)."""
    from voltpeak.simulate.diffusion import reduction_current

    turn = int(np.argmin(E))
    held = E.copy()
    held[turn + 1:] = E[turn]
    step = float(np.median(np.abs(np.diff(E))))
    i, decay = reduction_current(np.c_[E, held], step / rate, e0, k0_cm_s=np.inf if kind == "rev" else k0,
                                 alpha=alpha).T
    fwd = float(i[:turn + 1].max())
    p = turn + int(np.argmin(i[turn:]))
    rev = float(decay[p] - i[p])
    return fwd / rev if mirror else rev / fwd


def _one(args) -> Case:
    seed, k, kwargs = args
    return make_case(np.random.default_rng([seed, k]), **kwargs)


def make_cases(n: int, seed: int = 0, processes: int = 1, **kwargs) -> list[Case]:
    """``n`` cases; case k depends only on (seed, k), so any number of processes gives the same cases."""
    jobs = [(seed, k, kwargs) for k in range(n)]
    if processes <= 1:
        return [_one(j) for j in jobs]
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(processes) as pool:
        return pool.map(_one, jobs, chunksize=4)
