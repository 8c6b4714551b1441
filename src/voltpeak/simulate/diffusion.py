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


def reduction_current(potential_V: np.ndarray, dt_s, e0_V, n=1, area_cm2=0.0707, c_ox_mol_cm3=1e-6,
                      c_red_mol_cm3=0.0, d_ox_cm2_s=1e-5, d_red_cm2_s=1e-5, k0_cm_s=np.inf, alpha=0.5,
                      temperature_K=298.15) -> np.ndarray:
    """Reduction current (A, positive for O + ne → R) of couples at each potential sample.

    Parameters
    ----------
    potential_V : ndarray, shape (N,) or (N, B)
        Potential at each time step (the current of step k is evaluated at ``potential_V[k]``); with two
        dimensions, B independent couples are computed together (one column each; every other argument may then
        be a length-B array). A column may be padded at its end: a current never depends on later samples.
    dt_s : float or ndarray
        Time step, s.
    e0_V : float or ndarray
        Formal potential, V.
    n : int or ndarray
        Electrons transferred.
    area_cm2 : float or ndarray
        Electrode area, cm².
    c_ox_mol_cm3, c_red_mol_cm3 : float or ndarray
        Bulk concentrations of O and R, mol/cm³ (1 mM = 1e-6 mol/cm³).
    d_ox_cm2_s, d_red_cm2_s : float or ndarray
        Diffusion coefficients, cm²/s.
    k0_cm_s : float or ndarray
        Standard rate constant, cm/s; ``inf`` for a reversible (Nernstian) couple.
    alpha : float or ndarray
        Transfer coefficient.
    temperature_K : float or ndarray
        Temperature, K.
    """
    E = np.asarray(potential_V, dtype=float)
    single = E.ndim == 1
    E2 = E[:, None] if single else E
    N, B = E2.shape
    par = [np.broadcast_to(np.asarray(x, dtype=float), (B,)) for x in
           (dt_s, e0_V, n, area_cm2, c_ox_mol_cm3, c_red_mol_cm3, d_ox_cm2_s, d_red_cm2_s, k0_cm_s, alpha,
            temperature_K)]
    dt, e0, nn, area, c_ox, c_red, d_ox, d_red, k0, a, temp = par
    nFA = nn * F * area
    eta = (nn * F / (R * temp)) * (E2 - e0)
    sqrt_dt = np.sqrt(dt)
    out = np.empty((N, B))
    rev = np.isinf(k0)
    if rev.any():
        # Nernst: c_O(0)/c_R(0) = e^{nfη} fixes the semi-integral M; the current is its semi-derivative.
        theta = np.exp(np.clip(eta[:, rev], -700, 700))
        m = nFA[rev] * (c_ox[rev] - theta * c_red[rev]) / (1 / np.sqrt(d_ox[rev]) + theta / np.sqrt(d_red[rev]))
        u = semiderivative_weights(N)[:, None]
        out[:, rev] = fftconvolve(m / sqrt_dt[rev], u, axes=0)[:N]  # m/√Δt = Σ_j w_j i_{k−j}
    q = ~rev
    if q.any():
        eq, aq = eta[:, q], a[q]
        forward = np.exp(np.clip(-aq * eq, -700, 700))
        backward = np.exp(np.clip((1 - aq) * eq, -700, 700))
        z = c_ox[q] * forward - c_red[q] * backward
        p = sqrt_dt[q] / nFA[q] * (forward / np.sqrt(d_ox[q]) + backward / np.sqrt(d_red[q]))
        kk = nFA[q] * k0[q]
        gain = kk / (1 + kk * p)
        out[:, q] = _butler_volmer_steps(gain, z, p, grunwald_weights(N))
    return out[:, 0] if single else out


# The far history of the semi-integral is carried by a sum of exponentials: w_j = (1/π) ∫₀^∞ e^{−(j+½)s}
# (1 − e^{−s})^{−½} ds, discretised by the trapezoid rule in log s, is exact to ~1e-6 relative for j ≥ NEAR and
# j ≤ 3·10⁵, and each exponential's share of the history updates recursively: O(1) work per step, not O(k).
NEAR = 32
_U = np.arange(-36.0, np.log(60.0 / NEAR) + 0.5, 0.5)
_S = np.exp(_U)
_SOE_COEFF = 0.5 * _S * np.exp(-_S / 2) / np.sqrt(-np.expm1(-_S)) / np.pi


def _butler_volmer_steps(gain: np.ndarray, z: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """i_k = gain_k (z_k − p_k Σ_{j≥1} w_j i_{k−j}), step by step (arrays of shape (N, B)).

    The history sum takes its last ``NEAR`` terms exactly and the rest from the sum of exponentials.
    """
    N, B = z.shape
    # Currents are stored newest-first at the end of ``history`` so the near sum is one contiguous product.
    history = np.zeros((N, B))
    decay = np.exp(-_S)[:, None]
    entry = np.exp(-_S * (NEAR - 1))[:, None]
    far = np.zeros((len(_S), B))  # H_m(k) = Σ_{j ≥ NEAR} e^{−s_m j} i_{k−j}
    near_w = w[1:NEAR]
    if N * B < 200_000:  # few, short columns: the exact O(N²) sum costs less than the exponentials' upkeep
        for k in range(N):
            s = w[1:k + 1] @ history[N - k:] if k else 0.0
            history[N - 1 - k] = gain[k] * (z[k] - p[k] * s)
        return history[::-1]
    for k in range(N):
        if k >= NEAR:
            far = decay * (far + entry * history[N - 1 - (k - NEAR)])
            s = near_w @ history[N - k:N - k + NEAR - 1] + _SOE_COEFF @ far
        else:
            s = w[1:k + 1] @ history[N - k:] if k else 0.0
        history[N - 1 - k] = gain[k] * (z[k] - p[k] * s)
    return history[::-1]
