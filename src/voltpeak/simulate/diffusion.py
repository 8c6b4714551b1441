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
from scipy.special import erfc

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


def kinetic_weights(j: np.ndarray, k_dt: np.ndarray) -> np.ndarray:
    """Semi-integral weights of a flux j steps old for a species a first-order chemical step consumes (rate k,
    ``k_dt`` = kΔt): (1/√Δt) ∫ e^{−ks} (πs)^{−½} ds over that flux's interval, exact for a current constant over
    each step, whatever kΔt. Shape (len(j), len(k_dt)). (For k = 0 they are (2/√π)(√(j+1) − √j), within 1/(8j)
    of the Grünwald weights.)"""
    jj = np.asarray(j, dtype=float)[:, None]
    kdt = np.asarray(k_dt, dtype=float)[None, :]
    safe = np.maximum(kdt, 1e-12)
    kinetic = (erfc(np.sqrt(safe * jj)) - erfc(np.sqrt(safe * (jj + 1)))) / np.sqrt(safe)
    plain = 2 / np.sqrt(np.pi) * (np.sqrt(jj + 1) - np.sqrt(jj))
    return np.where(kdt > 1e-12, kinetic, plain)


MECHANISM_CODES = {"E": 0, "EC": 1, "ECcat": 2}
_NERNSTIAN_K0 = 1e6  # cm/s: a rate constant that makes Butler–Volmer Nernstian, for stepped mechanisms


def reduction_current(potential_V: np.ndarray, dt_s, e0_V, n=1, area_cm2=0.0707, c_ox_mol_cm3=1e-6,
                      c_red_mol_cm3=0.0, d_ox_cm2_s=1e-5, d_red_cm2_s=1e-5, k0_cm_s=np.inf, alpha=0.5,
                      temperature_K=298.15, mechanism=0, k_f_s=0.0, k_b_s=0.0) -> np.ndarray:
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
    mechanism : int or ndarray
        ``MECHANISM_CODES``: 0 E; 1 EC, the product R turns into an inactive Z (R ⇌ Z, rate constants
        ``k_f_s`` and ``k_b_s`` in 1/s; ``k_b_s`` = 0 for an irreversible step; D_Z = D_R; no R in the bulk);
        2 EC′, R is turned back into O by a pseudo-first-order catalytic step (``k_f_s``; D_R taken equal to D_O).
    """
    E = np.asarray(potential_V, dtype=float)
    single = E.ndim == 1
    E2 = E[:, None] if single else E
    N, B = E2.shape
    par = [np.broadcast_to(np.asarray(x, dtype=float), (B,)) for x in
           (dt_s, e0_V, n, area_cm2, c_ox_mol_cm3, c_red_mol_cm3, d_ox_cm2_s, d_red_cm2_s, k0_cm_s, alpha,
            temperature_K, mechanism, k_f_s, k_b_s)]
    dt, e0, nn, area, c_ox, c_red, d_ox, d_red, k0, a, temp, mech, kf, kb = par
    nFA = nn * F * area
    eta = (nn * F / (R * temp)) * (E2 - e0)
    sqrt_dt = np.sqrt(dt)
    out = np.empty((N, B))
    rev = np.isinf(k0) & (mech == 0)
    if rev.any():
        # Nernst: c_O(0)/c_R(0) = e^{nfη} fixes the semi-integral M; the current is its semi-derivative.
        theta = np.exp(np.clip(eta[:, rev], -700, 700))
        m = nFA[rev] * (c_ox[rev] - theta * c_red[rev]) / (1 / np.sqrt(d_ox[rev]) + theta / np.sqrt(d_red[rev]))
        u = semiderivative_weights(N)[:, None]
        out[:, rev] = fftconvolve(m / sqrt_dt[rev], u, axes=0)[:N]  # m/√Δt = Σ_j w_j i_{k−j}
    q = ~rev
    if q.any():
        eq, aq = eta[:, q], a[q]
        fwd = np.exp(np.clip(-aq * eq, -700, 700))
        bwd = np.exp(np.clip((1 - aq) * eq, -700, 700))
        g = sqrt_dt[q] / nFA[q]
        so, sr = np.sqrt(d_ox[q]), np.sqrt(d_red[q])
        mq, kfq, kbq = mech[q], kf[q], kb[q]
        # Surface concentrations as c = bulk − coefficient × (i_k + history): the i_k coefficient c0, the plain
        # history S (coefficient p) and the history with the chemical kernel e^{−k t} (coefficient r).
        # EC: the part of R's history that the chemistry erodes, K/(1 + K) with K = k_f/k_b (1 when k_b = 0).
        share = np.where(kbq > 0, kfq / np.where(kbq > 0, kfq + kbq, 1.0), 1.0)
        catalytic = mq == 2
        chem_dt = np.where(mq == 0, 0.0, kfq + np.where(catalytic, 0.0, kbq)) * dt[q]
        own = kinetic_weights([0], chem_dt)[0]  # the chemistry already acts within the current step
        c0 = np.where(catalytic, g * own * (fwd + bwd) / so,
                      g * (fwd / so + np.where(mq == 1, 1 - share + share * own, 1.0) * bwd / sr))
        p = np.where(catalytic, 0.0, g * (fwd / so + np.where(mq == 1, 1 - share, 1.0) * bwd / sr))
        r = np.where(catalytic, c0, np.where(mq == 1, g * share * bwd / sr, 0.0))
        z = c_ox[q] * fwd - np.where(mq == 0, c_red[q], 0.0) * bwd
        kk = nFA[q] * np.where(np.isinf(k0[q]), _NERNSTIAN_K0, k0[q])
        gain = kk / (1 + kk * c0)
        out[:, q] = _steps(gain, z, p, r, chem_dt, grunwald_weights(N))
    return out[:, 0] if single else out


# The far history of the semi-integral is carried by a sum of exponentials: w_j = (1/π) ∫₀^∞ e^{−(j+½)s}
# (1 − e^{−s})^{−½} ds, discretised by the trapezoid rule in log s, is exact to ~1e-6 relative for j ≥ NEAR and
# j ≤ 3·10⁵, and each exponential's share of the history updates recursively: O(1) work per step, not O(k).
NEAR = 32
_U = np.arange(-36.0, np.log(60.0 / NEAR) + 0.5, 0.5)
_S = np.exp(_U)
_SOE_COEFF = 0.5 * _S * np.exp(-_S / 2) / np.sqrt(-np.expm1(-_S)) / np.pi


def _steps(gain, z, p, r, chem_dt, w) -> np.ndarray:
    """i_k = gain_k (z_k − p_k S_k − r_k K_k), step by step (arrays of shape (N, B)).

    S_k = Σ_{j≥1} w_j i_{k−j} is the semi-integral's history; K_k the same with the chemical step's weights
    (``kinetic_weights``, ``chem_dt`` = kΔt per column). Each takes its last ``NEAR`` terms exactly and the rest
    from the sum of exponentials (times e^{−k(j+½)Δt}), unless the exact O(N²) sums are cheaper.
    """
    N, B = z.shape
    chemistry = bool(np.any(r != 0))
    # Currents are stored newest-first at the end of ``history`` so the near sums are contiguous products.
    history = np.zeros((N, B))
    if N * B < 200_000:
        kernel = kinetic_weights(np.arange(N), chem_dt) if chemistry else None
        for k in range(N):
            if k:
                s = w[1:k + 1] @ history[N - k:]
                c = (kernel[1:k + 1] * history[N - k:]).sum(axis=0) if chemistry else 0.0
            else:
                s = c = 0.0
            history[N - 1 - k] = gain[k] * (z[k] - p[k] * s - r[k] * c)
        return history[::-1]
    decay = np.exp(-_S)[:, None]
    entry = np.exp(-_S * (NEAR - 1))[:, None]
    decay_c = np.exp(-(_S[:, None] + chem_dt[None, :]))
    entry_c = np.exp(-(_S[:, None] + chem_dt[None, :]) * (NEAR - 1) - chem_dt[None, :] / 2)
    near_w = w[1:NEAR]
    near_c = kinetic_weights(np.arange(1, NEAR), chem_dt)
    far = np.zeros((len(_S), B))  # Σ_{j ≥ NEAR} e^{−s_m j} i_{k−j}
    far_c = np.zeros((len(_S), B))  # the same with e^{−(s_m + kΔt) j}
    for k in range(N):
        if k >= NEAR:
            leaving = history[N - 1 - (k - NEAR)]
            far = decay * (far + entry * leaving)
            recent = history[N - k:N - k + NEAR - 1]
            s = near_w @ recent + _SOE_COEFF @ far
            if chemistry:
                far_c = decay_c * (far_c + entry_c * leaving)
                c = (near_c * recent).sum(axis=0) + _SOE_COEFF @ far_c
            else:
                c = 0.0
        else:
            s = w[1:k + 1] @ history[N - k:] if k else 0.0
            c = (near_c[:k] * history[N - k:]).sum(axis=0) if k and chemistry else 0.0
        history[N - 1 - k] = gain[k] * (z[k] - p[k] * s - r[k] * c)
    return history[::-1]
