"""Parameter distributions of ``voltpeak simulate``: defaults, a JSON file to override them, and sampling.

A config file is a JSON object whose keys are fields of ``SimulationConfig``; ranges are ``[low, high]`` (sampled
uniformly, or log-uniformly for the fields named in ``LOG_UNIFORM``), choices are lists of values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from voltpeak.errors import InputError
from voltpeak.settings import Settings
from voltpeak.simulate.cv import MECHANISMS, Conditions, RedoxCouple
from voltpeak.simulate.diffusion import F, R

CHOICES = ("step_V", "n", "mains_hz", "mechanism_weights")  # lists of values; other lists are [low, high]
REST_V = 0.12  # a couple's wave is over this far from its formal potential (n = 1: ~5 RT/F)
LOG_UNIFORM = ("scan_rate_V_s", "k0_cm_s", "c_mM", "d_cm2_s", "cdl_F_cm2", "rc_s", "snr", "k_chem_s",
               "gamma_mol_cm2", "k_s_per_s", "ads_sharpness", "onset_size")


@dataclass
class SimulationConfig(Settings):
    couples: tuple = (1, 3)  # number of couples per CV, inclusive range
    window_V: tuple = (0.6, 1.6)
    centre_V: tuple = (-0.5, 0.5)
    step_V: tuple = (0.0005, 0.001, 0.002)  # choices
    scan_rate_V_s: tuple = (0.01, 1.0)
    cycles: tuple = (1, 2)  # inclusive range
    start_at_vertex: float = 0.7  # probability; otherwise the CV starts mid-window
    anodic_first: float = 0.5  # probability
    mechanism_weights: tuple = (0.55, 0.1, 0.05, 0.1, 0.2)  # E, EC, ECcat, EE, ads (voltpeak.simulate.MECHANISMS)
    reversible: float = 0.4  # probability that a couple (or an adsorbed layer) is Nernstian
    k0_cm_s: tuple = (1e-4, 1.0)
    alpha: tuple = (0.35, 0.65)
    n: tuple = (1, 1, 1, 2)  # choices
    c_mM: tuple = (0.5, 5.0)
    d_cm2_s: tuple = (3e-6, 2e-5)
    reduced_form: float = 0.5  # probability that the bulk holds R instead of O (E mechanism)
    k_chem_s: tuple = (0.01, 10.0)  # EC and EC′ chemical rate constants, 1/s
    reversible_chemistry: float = 0.5  # EC: probability that Z turns back into R (k_b = k_f × U(0.1, 1))
    ee_gap_V: tuple = (0.05, 0.4)  # EE: E1° − E2°
    gamma_mol_cm2: tuple = (2e-11, 4e-10)  # adsorbed coverage
    k_s_per_s: tuple = (1.0, 1e4)  # adsorbed layer's rate constant when not Nernstian
    # Adsorbed layer's peak height over Langmuir's (Frumkin g = 4/s − 4): above 1 the sharp spikes of single
    # crystals (n = 1: 15 mV wide at 4, 4 mV at 10, 0.5 mV at 40: one sample), below 1 broadened by repulsion
    # (0.5: 200 mV; Langmuir 91 mV).
    ads_sharpness: tuple = (1.0, 1.0)
    min_separation_V: float = 0.15  # between formal potentials
    edge_margin_V: float = 0.15  # formal potentials this far inside the window
    near_switch: float = 0.0  # probability that the outermost couple lies 0.01 V to edge_margin_V from a vertex
    area_cm2: float = float(np.pi * 0.15**2)
    cdl_F_cm2: tuple = (5e-6, 5e-5)
    cdl_slope: tuple = (0.0, 0.0)  # relative change of Cdl per V (a sloping double layer), 1/V
    rc_s: tuple = (1e-4, 2e-2)
    slope: tuple = (-0.2, 0.2)  # background slope in peak currents per V
    curvature: tuple = (-0.1, 0.1)  # background curvature in peak currents per V²
    snr: tuple = (15.0, 500.0)  # smallest Randles–Ševčík peak current / noise std
    mains: tuple = (0.0, 0.5)  # mains amplitude / noise std
    mains_hz: tuple = (50.0, 60.0)  # choices
    resistive: float = 0.05  # probability of uncompensated resistance
    ir_drop_V: tuple = (0.005, 0.05)  # R_u × the largest peak current
    onset: float = 0.0  # probability, per end of the window, of a breakdown current (H₂ or O₂ evolution)
    onset_size: tuple = (0.2, 3.0)  # its current at the vertex, in largest peak currents
    onset_width_V: tuple = (0.02, 0.1)  # its e-fold width inwards from the vertex, V

    def validate(self):
        for f in fields(self):
            value = getattr(self, f.name)
            values = value if isinstance(value, tuple) else (value,)
            if not values or not all(isinstance(x, (int, float)) and np.isfinite(x) for x in values):
                raise InputError(f"setting {f.name!r} must be a number or a list of numbers, got {value!r}")
            if isinstance(f.default, tuple) != isinstance(value, tuple):
                kind = "a list" if isinstance(f.default, tuple) else "a number"
                raise InputError(f"setting {f.name!r} must be {kind}, got {value!r}")
            if isinstance(value, tuple) and f.name not in CHOICES and (len(value) != 2 or value[0] > value[1]):
                raise InputError(f"setting {f.name!r} must be a range [low, high], got {list(value)!r}")
        for name in ("window_V", "step_V", "scan_rate_V_s", "k0_cm_s", "c_mM", "d_cm2_s", "snr", "area_cm2",
                     "couples", "cycles", "n", "k_chem_s", "gamma_mol_cm2", "k_s_per_s", "ads_sharpness",
                     "onset_size", "onset_width_V"):
            values = getattr(self, name)
            if min(values if isinstance(values, tuple) else (values,)) <= 0:
                raise InputError(f"setting {name!r} must be positive, got {values!r}")
        if len(self.mechanism_weights) != len(MECHANISMS) or min(self.mechanism_weights) < 0 \
                or sum(self.mechanism_weights) <= 0:
            raise InputError(f"setting 'mechanism_weights' needs {len(MECHANISMS)} non-negative weights "
                             f"({', '.join(MECHANISMS)}), got {self.mechanism_weights!r}")
        if max(self.step_V) > min(self.window_V):
            raise InputError(f"setting 'step_V' ({max(self.step_V)} V) is larger than the window "
                             f"({min(self.window_V)} V)")

    def sample(self, rng: np.random.Generator) -> tuple[list[RedoxCouple], Conditions]:
        """One CV's couples and conditions."""

        def draw(name):
            lo, hi = getattr(self, name)[:2]
            if name in LOG_UNIFORM:
                return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
            return float(rng.uniform(lo, hi))

        def pick(name):
            return getattr(self, name)[int(rng.integers(len(getattr(self, name))))]

        window = draw("window_V")
        centre = draw("centre_V")
        lo, hi = centre - window / 2, centre + window / 2
        count = int(rng.integers(self.couples[0], self.couples[1] + 1))
        e0s = _spread(rng, lo + self.edge_margin_V, hi - self.edge_margin_V, count, self.min_separation_V)
        # Features are drawn only when switched on, so the default settings keep their random stream.
        if self.near_switch and rng.random() < self.near_switch:
            gap = float(rng.uniform(0.01, self.edge_margin_V))
            if rng.random() < 0.5:
                e0s[-1] = max(hi - gap, e0s[-2] + self.min_separation_V if len(e0s) > 1 else -np.inf)
            else:
                e0s[0] = min(lo + gap, e0s[1] - self.min_separation_V if len(e0s) > 1 else np.inf)
        weights = np.asarray(self.mechanism_weights, dtype=float)
        couples = []
        for e0 in e0s:
            mechanism = MECHANISMS[int(rng.choice(len(MECHANISMS), p=weights / weights.sum()))]
            c = draw("c_mM")
            reduced = mechanism == "E" and rng.random() < self.reduced_form
            couple = RedoxCouple(
                e0_V=round(float(e0), 4), n=int(pick("n")) if mechanism in ("E", "ads") else 1,
                k0_cm_s=float("inf") if rng.random() < self.reversible else draw("k0_cm_s"),
                alpha=draw("alpha"), c_ox_mM=0.0 if reduced else c, c_red_mM=c if reduced else 0.0,
                d_ox_cm2_s=draw("d_cm2_s"), d_red_cm2_s=draw("d_cm2_s"), mechanism=mechanism)
            if mechanism in ("EC", "ECcat"):
                couple.k_f_s = draw("k_chem_s")
                if mechanism == "EC" and rng.random() < self.reversible_chemistry:
                    couple.k_b_s = couple.k_f_s * float(rng.uniform(0.1, 1.0))
            elif mechanism == "EE":
                couple.e0_2_V = round(couple.e0_V - draw("ee_gap_V"), 4)
                couple.k0_2_cm_s = float("inf") if rng.random() < self.reversible else draw("k0_cm_s")
                couple.alpha_2, couple.d_int_cm2_s = draw("alpha"), draw("d_cm2_s")
            elif mechanism == "ads":
                couple.gamma_mol_cm2 = draw("gamma_mol_cm2")
                couple.k_s_per_s = float("inf") if rng.random() < self.reversible else draw("k_s_per_s")
                if self.ads_sharpness != (1.0, 1.0):
                    couple.interaction = 4 / draw("ads_sharpness") - 4
            couples.append(couple)
        # R in the bulk only above every couple whose bulk holds O (else the two would react in solution, and no
        # potential would leave both at rest): lower ones hold O instead.
        for c in couples:
            if c.c_red_mM and any(o.c_ox_mM and o.e0_V + 2 * REST_V > c.e0_V for o in couples if o is not c):
                c.c_ox_mM, c.c_red_mM = c.c_red_mM, 0.0
        rate = draw("scan_rate_V_s")
        anodic_first = rng.random() < self.anodic_first
        first, second = (hi, lo) if anodic_first else (lo, hi)
        # Start where the bulk is at rest, as at the open-circuit potential: positive of the couples whose bulk
        # holds O, negative of those holding R (else the first step drives a Cottrell spike). A vertex start
        # switches to the other vertex when only that one is at rest; a mid-window start lies inside that range.
        rest_lo = max([-np.inf] + [c.e0_V + REST_V for c in couples if c.mechanism != "ads" and c.c_ox_mM])
        rest_hi = min([np.inf] + [(c.e0_2_V if c.mechanism == "EE" else c.e0_V) - REST_V
                                  for c in couples if c.mechanism != "ads" and c.c_red_mM])
        at_vertex = rng.random() < self.start_at_vertex
        mid = float(rng.uniform(0.0, 1.0))
        inner_lo, inner_hi = max(rest_lo, lo + 0.1 * window), min(rest_hi, hi - 0.1 * window)
        if at_vertex or inner_lo > inner_hi:
            start, vertices = second, (first,)
            if not rest_lo <= second <= rest_hi and rest_lo <= first <= rest_hi:
                start, vertices = first, (second,)
        else:
            start, vertices = inner_lo + mid * (inner_hi - inner_lo), (first, second)
        # Scale background and noise by the smallest peak (Randles–Ševčík, or n²F²AvΓ/4RT when adsorbed).
        ip = min(_peak_estimate(c, rate, self.area_cm2) for c in couples)
        noise = ip / draw("snr")
        ip_max = max(_peak_estimate(c, rate, self.area_cm2) for c in couples)
        ru = 0.0
        if rng.random() < self.resistive:
            ru = draw("ir_drop_V") / ip_max
        conditions = Conditions(
            start_V=round(start, 4), vertices_V=tuple(round(v, 4) for v in vertices),
            cycles=int(rng.integers(self.cycles[0], self.cycles[1] + 1)), step_V=float(pick("step_V")),
            scan_rate_V_s=rate, area_cm2=self.area_cm2, cdl_F=draw("cdl_F_cm2") * self.area_cm2,
            rc_s=draw("rc_s"), slope_A_V=draw("slope") * ip, curvature_A_V2=draw("curvature") * ip,
            noise_A=noise, mains_A=draw("mains") * noise, mains_hz=float(pick("mains_hz")), ru_ohm=ru)
        if self.cdl_slope != (0.0, 0.0):
            conditions.cdl_slope_V = draw("cdl_slope")
        if self.onset:
            conditions.onset_A = tuple(draw("onset_size") * ip_max if rng.random() < self.onset else 0.0
                                       for _ in range(2))
            conditions.onset_width_V = draw("onset_width_V")
        return couples, conditions


def _peak_estimate(c: RedoxCouple, rate: float, area: float) -> float:
    f = F / (R * 298.15)
    if c.mechanism == "ads":
        return c.n**2 * F * f * area * rate * c.gamma_mol_cm2 / (4 + c.interaction)
    return 0.4463 * c.n * F * area * max(c.c_ox_mM, c.c_red_mM) * 1e-6 * np.sqrt(
        c.n * f * rate * min(c.d_ox_cm2_s, c.d_red_cm2_s))


def _spread(rng, lo: float, hi: float, count: int, gap: float) -> np.ndarray:
    """``count`` sorted values in [lo, hi] at least ``gap`` apart (as many as fit)."""
    room = (hi - lo) - gap * (count - 1)
    if room < 0:
        count = max(1, int((hi - lo) / gap) + 1)
        room = max(0.0, (hi - lo) - gap * (count - 1))
    base = np.sort(rng.uniform(0, room, count))
    return lo + base + gap * np.arange(count)
