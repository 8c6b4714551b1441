"""One simulated CV: redox couples on a potential programme, plus charging, background and noise, with exact truth."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from voltpeak.errors import InputError
from voltpeak.peak import Peak
from voltpeak.simulate.background import background
from voltpeak.simulate.diffusion import (
    MECHANISM_CODES,
    adsorbed_reduction_current,
    ee_reduction_current,
    reduction_current,
)
from voltpeak.simulate.truth import sweep_frame, true_peaks
from voltpeak.simulate.waveform import potential_programme
from voltpeak.voltammogram import Voltammogram

# E: one electron-transfer step; EC: followed by R ⇌ Z; ECcat: R turned back into O (catalytic, EC′);
# EE: two successive one-electron steps; ads: a surface-confined (adsorbed) couple.
MECHANISMS = ("E", "EC", "ECcat", "EE", "ads")
# Truth peaks: local extrema whose prominence reaches this fraction of the noiseless current range ("visible").
VISIBLE_FRACTION = 0.01
# Faint peaks, down to this fraction, are recorded too: a graph of one cycle, or of a CV overlaid with a smaller
# one, has its own current range, and a peak too faint for the whole record can be plain in it (and vice versa).
FAINT_FRACTION = 0.001


@dataclass
class RedoxCouple:
    """One couple O + n e ⇌ R with Butler–Volmer kinetics and planar diffusion.

    Attributes
    ----------
    e0_V : float
        Formal potential, V.
    n : int
        Electrons transferred.
    k0_cm_s : float
        Standard rate constant, cm/s (``inf``: reversible).
    alpha : float
        Transfer coefficient, 0 < α < 1.
    c_ox_mM, c_red_mM : float
        Bulk concentrations, mM.
    d_ox_cm2_s, d_red_cm2_s : float
        Diffusion coefficients, cm²/s.
    mechanism : str
        One of ``MECHANISMS``.
    k_f_s, k_b_s : float
        EC: rate constants of R → Z and Z → R (1/s); ECcat: of the catalytic R → O step (``k_f_s``).
    e0_2_V, k0_2_cm_s, alpha_2, d_int_cm2_s : float
        EE: the second step I + e ⇌ R (formal potential, rate constant, transfer coefficient) and the
        intermediate's diffusion coefficient; ``n`` is 1 for each step.
    gamma_mol_cm2, k_s_per_s : float
        ads: total surface coverage (mol/cm²) and the surface rate constant (1/s; ``inf``: Nernstian).
    interaction : float
        ads: Frumkin's interaction g (dimensionless, > −4; negative: attractive neighbours, a sharper spike).
    """

    e0_V: float
    n: int = 1
    k0_cm_s: float = float("inf")
    alpha: float = 0.5
    c_ox_mM: float = 1.0
    c_red_mM: float = 0.0
    d_ox_cm2_s: float = 1e-5
    d_red_cm2_s: float = 1e-5
    mechanism: str = "E"
    k_f_s: float = 0.0
    k_b_s: float = 0.0
    e0_2_V: float = 0.0
    k0_2_cm_s: float = float("inf")
    alpha_2: float = 0.5
    d_int_cm2_s: float = 1e-5
    gamma_mol_cm2: float = 1e-10
    k_s_per_s: float = float("inf")
    interaction: float = 0.0

    def validate(self):
        _positive("n", self.n)
        _positive("k0_cm_s", self.k0_cm_s)
        _positive("d_ox_cm2_s", self.d_ox_cm2_s)
        _positive("d_red_cm2_s", self.d_red_cm2_s)
        _non_negative("c_ox_mM", self.c_ox_mM)
        _non_negative("c_red_mM", self.c_red_mM)
        if self.c_ox_mM + self.c_red_mM <= 0:
            raise InputError("c_ox_mM + c_red_mM must be positive")
        if not 0 < self.alpha < 1:
            raise InputError(f"alpha must lie between 0 and 1, got {self.alpha}")
        if self.mechanism not in MECHANISMS:
            raise InputError(f"unknown mechanism {self.mechanism!r}; known: {', '.join(MECHANISMS)}")
        for name in ("k_f_s", "k_b_s"):
            _non_negative(name, getattr(self, name))
        if self.mechanism in ("EC", "ECcat") and self.k_f_s <= 0:
            raise InputError(f"k_f_s must be positive for mechanism {self.mechanism}, got {self.k_f_s}")
        if self.mechanism in ("EC", "ECcat") and self.c_red_mM > 0:
            raise InputError(f"c_red_mM must be 0 for mechanism {self.mechanism} (only O in the bulk)")
        if self.mechanism == "EE":
            _positive("k0_2_cm_s", self.k0_2_cm_s)
            _positive("d_int_cm2_s", self.d_int_cm2_s)
            if not 0 < self.alpha_2 < 1:
                raise InputError(f"alpha_2 must lie between 0 and 1, got {self.alpha_2}")
        if self.mechanism == "ads":
            _positive("gamma_mol_cm2", self.gamma_mol_cm2)
            _positive("k_s_per_s", self.k_s_per_s)
            if not self.interaction > -4:
                raise InputError(f"interaction must be above -4 (the layer would condense), got {self.interaction}")

    @property
    def kernel(self):
        """The function that computes this couple's reduction current from the potential samples."""
        return {"EE": ee_reduction_current, "ads": adsorbed_reduction_current}.get(self.mechanism, reduction_current)

    def kernel_args(self, conditions: Conditions) -> tuple:
        """The arguments of ``kernel`` after the potential: numbers only, so couples can be stacked column-wise."""
        dt, T, A = conditions.step_V / conditions.scan_rate_V_s, conditions.temperature_K, conditions.area_cm2
        if self.mechanism == "EE":
            return (dt, self.e0_V, self.e0_2_V, A, self.c_ox_mM * 1e-6, self.d_ox_cm2_s, self.d_int_cm2_s,
                    self.d_red_cm2_s, self.k0_cm_s, self.k0_2_cm_s, self.alpha, self.alpha_2, T)
        if self.mechanism == "ads":
            return (dt, self.e0_V, self.n, A, self.gamma_mol_cm2, self.k_s_per_s, self.alpha, np.nan, T,
                    self.interaction)
        return (dt, self.e0_V, self.n, A, self.c_ox_mM * 1e-6, self.c_red_mM * 1e-6, self.d_ox_cm2_s,
                self.d_red_cm2_s, self.k0_cm_s, self.alpha, T, MECHANISM_CODES[self.mechanism], self.k_f_s,
                self.k_b_s)

    def current(self, E: np.ndarray, conditions: Conditions) -> np.ndarray:
        """Faradaic current (A, IUPAC: anodic positive) of this couple on the potential samples ``E``."""
        return -self.kernel(E, *self.kernel_args(conditions))


@dataclass
class Conditions:
    """The experiment: potential programme, electrode, double layer, background and noise.

    Attributes
    ----------
    start_V : float
        Start potential, V.
    vertices_V : tuple of float
        Turning potentials of one cycle, V.
    cycles : int
    step_V : float
        Potential step, V.
    scan_rate_V_s : float
    area_cm2 : float
        Electrode area, cm².
    temperature_K : float
    cdl_F : float
        Double-layer capacitance, F (the charging current is ±Cdl·v).
    rc_s : float
        Time constant of the charging transient after each switch, s.
    cdl_slope_V : float
        Relative change of the double-layer capacitance per volt from the window centre, 1/V: the charging
        current is scaled by 1 + cdl_slope_V·(E − centre) (at least 0.05), a double layer that slopes.
    slope_A_V, curvature_A_V2 : float
        Background current linear and quadratic in (E − window centre).
    onset_A, onset_width_V : tuple of float, float
        Solvent or electrolyte breakdown at the window's ends (hydrogen and oxygen evolution): currents of
        −onset_A[0] at the lower and +onset_A[1] at the upper end, falling e-fold every ``onset_width_V`` inwards.
    noise_A : float
        Standard deviation of white noise, A.
    mains_A, mains_hz : float
        Amplitude and frequency of mains pickup.
    ru_ohm : float
        Uncompensated resistance, Ω: the electrode sees E − R_u·I (solved self-consistently; the charging
        current then relaxes with R_u·C_dl and ``rc_s`` is not used).
    """

    start_V: float
    vertices_V: tuple = (-0.5, 0.5)
    cycles: int = 1
    step_V: float = 0.001
    scan_rate_V_s: float = 0.1
    area_cm2: float = float(np.pi * 0.15**2)
    temperature_K: float = 298.15
    cdl_F: float = 0.0
    rc_s: float = 0.0
    cdl_slope_V: float = 0.0
    slope_A_V: float = 0.0
    curvature_A_V2: float = 0.0
    noise_A: float = 0.0
    mains_A: float = 0.0
    mains_hz: float = 50.0
    ru_ohm: float = 0.0
    onset_A: tuple = (0.0, 0.0)
    onset_width_V: float = 0.05

    def validate(self):
        _positive("area_cm2", self.area_cm2)
        _positive("onset_width_V", self.onset_width_V)
        if len(self.onset_A) != 2 or min(self.onset_A) < 0:
            raise InputError(f"onset_A must be two non-negative currents, got {self.onset_A!r}")
        _positive("temperature_K", self.temperature_K)
        for name in ("cdl_F", "rc_s", "noise_A", "mains_A", "ru_ohm"):
            _non_negative(name, getattr(self, name))


@dataclass
class SimulatedCV:
    """A simulated CV: noisy and noiseless voltammograms, the truth peaks (of the noiseless total current), the
    couples' own peaks that the total current turned into shoulders, and the faint peaks under the truth's bar."""

    noisy: Voltammogram
    clean: Voltammogram
    truth: list[Peak]
    shoulders: list[Peak] = field(default_factory=list)
    faint: list[Peak] = field(default_factory=list)
    couples: list[RedoxCouple] = field(default_factory=list)
    conditions: Conditions | None = None

    def truth_record(self, source: str) -> dict:
        lo, hi = self.clean.window_V
        return {"source": source, "peaks": [_with_prominence(p) for p in self.truth],
                "faint": [_with_prominence(p) for p in self.faint],
                "shoulders": [p.to_record() for p in self.shoulders], "window": [round(lo, 6), round(hi, 6)],
                "params": {"couples": [_jsonable(c) for c in self.couples],
                           "conditions": _jsonable(self.conditions)}}


def simulate_cv(couples: list[RedoxCouple], conditions: Conditions,
                rng: np.random.Generator | None = None) -> SimulatedCV:
    """Simulate one CV.

    The faradaic current of each couple is computed by semi-integration (``reduction_current``); charging
    current ±Cdl·v relaxes after each switch with time constant ``rc_s``; background and noise are added last.
    Currents follow the IUPAC convention (anodic positive). Truth peaks come from the noiseless total current.
    """
    conditions.validate()
    for c in couples:
        c.validate()
    t, E = potential_programme(conditions.start_V, tuple(conditions.vertices_V), conditions.cycles,
                               conditions.step_V, conditions.scan_rate_V_s)
    if conditions.ru_ohm > 0:
        from voltpeak.simulate.ir import currents_with_ir

        own, charging, _ = currents_with_ir([(couples, conditions, E)])[0]
        return assemble(couples, conditions, t, E, own, rng or np.random.default_rng(), charging)
    own = [c.current(E, conditions) for c in couples]
    return assemble(couples, conditions, t, E, own, rng or np.random.default_rng())


def assemble(couples: list[RedoxCouple], conditions: Conditions, t: np.ndarray, E: np.ndarray,
             own: list[np.ndarray], rng: np.random.Generator, charging: np.ndarray | None = None) -> SimulatedCV:
    """A CV from its couples' faradaic currents ``own`` (IUPAC, A): background, noise, truth and shoulders."""
    total = background(E, t, conditions, charging)
    if own:
        total = total + np.sum(own, axis=0)
    clean = Voltammogram(E, total, t, scan_rate_V_s=conditions.scan_rate_V_s, source="simulated")
    noise = rng.normal(0.0, conditions.noise_A, len(E)) if conditions.noise_A > 0 else 0.0
    if conditions.mains_A > 0:
        noise = noise + conditions.mains_A * np.sin(2 * np.pi * conditions.mains_hz * t + rng.uniform(0, 2 * np.pi))
    noisy = Voltammogram(E, total + noise, t, scan_rate_V_s=conditions.scan_rate_V_s, source="simulated")
    frame = sweep_frame(E)  # the same for the total and each couple's own current
    found = true_peaks(clean, FAINT_FRACTION, frame=frame)
    bar = VISIBLE_FRACTION * float(total.max() - total.min())
    truth = [p for p in found if p.prominence >= bar]
    faint = [p for p in found if p.prominence < bar]
    return SimulatedCV(noisy, clean, truth, _shoulders(E, t, own, clean, truth, frame), faint, list(couples),
                       conditions)


def _shoulders(E, t, currents, clean, truth, frame) -> list[Peak]:
    """Peaks each couple would show alone that the total current has no peak for: recorded as shoulders."""
    from voltpeak.evaluate import match_peaks

    out = []
    for current in currents:
        alone = true_peaks(Voltammogram(E, current, t), VISIBLE_FRACTION, frame=frame)
        m = match_peaks(truth, alone, window_V=clean.window_V)
        out += [alone[j] for j in m.fn]
    return out


def _with_prominence(p: Peak) -> dict:
    """A peak record with its prominence (same unit as its current), which a graph's truth is judged by."""
    return {**p.to_record(), "prominence": float(f"{p.prominence:.4g}")}


def _positive(name, value):
    if not value > 0:
        raise InputError(f"{name} must be positive, got {value}")


def _non_negative(name, value):
    if not value >= 0:
        raise InputError(f"{name} must not be negative, got {value}")


def _jsonable(obj) -> dict:
    """The dataclass's fields as JSON values (tuples as lists, an infinite rate constant as null)."""
    out = {}
    for f in fields(obj):
        v = getattr(obj, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else (None if isinstance(v, float) and np.isinf(v) else v)
    return out
