"""Faradaic current of a diffusing redox couple by semi-integration (Oldham & Myland, Electrochim. Acta 2011).

Planar semi-infinite diffusion makes the surface concentrations linear functionals of the current:

    c_O(0, t) = c_O* − M(t) / (nFA √D_O),    c_R(0, t) = c_R* + M(t) / (nFA √D_R),

with M the semi-integral of the reduction current, discretised with Grünwald weights
M_k = √Δt Σ_j w_j i_{k−j}, w_j = Γ(j + ½) / (√π j!). Butler–Volmer kinetics at the surface then give the current
of each step in closed form from the currents before it. In the reversible limit the surface concentrations follow
from the potential alone, and the current is the semi-derivative of a known sequence: one FFT convolution.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import fftconvolve

F = 96485.33212  # C/mol
R = 8.314462618  # J/(mol K)


@lru_cache(maxsize=16)
def grunwald_weights(n: int) -> np.ndarray:
    """Weights of the semi-integral, (1 − z)^(−½) = Σ w_j z^j: w_0 = 1, w_j = w_{j−1} (2j − 1) / (2j)."""
    j = np.arange(1, n)
    return np.concatenate([[1.0], np.cumprod((2 * j - 1) / (2 * j))])


@lru_cache(maxsize=16)
def semiderivative_weights(n: int) -> np.ndarray:
    """Weights of the inverse series, (1 − z)^(½) = Σ u_j z^j: u_0 = 1, u_j = u_{j−1} (j − 3/2) / j."""
    j = np.arange(1, n)
    return np.concatenate([[1.0], np.cumprod((j - 1.5) / j)])


def reduction_current(potential_V: np.ndarray, dt_s: float, e0_V: float, n: int = 1, area_cm2: float = 0.0707,
                      c_ox_mol_cm3: float = 1e-6, c_red_mol_cm3: float = 0.0, d_ox_cm2_s: float = 1e-5,
                      d_red_cm2_s: float = 1e-5, k0_cm_s: float = np.inf, alpha: float = 0.5,
                      temperature_K: float = 298.15) -> np.ndarray:
    """Reduction current (A, positive for O + ne → R) of one couple at each potential sample.

    Parameters
    ----------
    potential_V : ndarray
        Potential at each time step of length ``dt_s`` (the current of step k is evaluated at ``potential_V[k]``).
    dt_s : float
        Time step, s.
    e0_V : float
        Formal potential, V.
    n : int
        Electrons transferred.
    area_cm2 : float
        Electrode area, cm².
    c_ox_mol_cm3, c_red_mol_cm3 : float
        Bulk concentrations of O and R, mol/cm³ (1 mM = 1e-6 mol/cm³).
    d_ox_cm2_s, d_red_cm2_s : float
        Diffusion coefficients, cm²/s.
    k0_cm_s : float
        Standard rate constant, cm/s; ``inf`` for a reversible (Nernstian) couple.
    alpha : float
        Transfer coefficient.
    temperature_K : float
        Temperature, K.
    """
    E = np.asarray(potential_V, dtype=float)
    N = len(E)
    nf = n * F / (R * temperature_K)
    nFA = n * F * area_cm2
    eta = nf * (E - e0_V)
    sqrt_dt = np.sqrt(dt_s)
    if np.isinf(k0_cm_s):
        # Nernst: c_O(0)/c_R(0) = e^{nfη} fixes the semi-integral M; the current is its semi-derivative.
        theta = np.exp(np.clip(eta, -700, 700))
        m = nFA * (c_ox_mol_cm3 - theta * c_red_mol_cm3) / (1 / np.sqrt(d_ox_cm2_s) + theta / np.sqrt(d_red_cm2_s))
        return fftconvolve(m / sqrt_dt, semiderivative_weights(N))[:N]  # m/√Δt = Σ_j w_j i_{k−j}
    w = grunwald_weights(N)
    forward = np.exp(np.clip(-alpha * eta, -700, 700))
    backward = np.exp(np.clip((1 - alpha) * eta, -700, 700))
    z = c_ox_mol_cm3 * forward - c_red_mol_cm3 * backward
    p = sqrt_dt / nFA * (forward / np.sqrt(d_ox_cm2_s) + backward / np.sqrt(d_red_cm2_s))
    kk = nFA * k0_cm_s
    gain = kk / (1 + kk * p)
    i = np.zeros(N)
    for k in range(N):
        s = float(w[1:k + 1] @ i[k - 1::-1]) if k else 0.0  # Σ_{j≥1} w_j i_{k−j}: the history
        i[k] = gain[k] * (z[k] - p[k] * s)
    return i
