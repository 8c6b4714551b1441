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
        out[:, rev] = _causal_convolve(m / sqrt_dt[rev], u)  # m/√Δt = Σ_j w_j i_{k−j}
    q = ~rev
    if q.any():
        kinetics = Kinetics(dt[q], nFA[q], a[q], d_ox[q], d_red[q], c_ox[q], c_red[q], k0[q], mech[q], kf[q], kb[q])
        out[:, q] = _steps(*kinetics.terms(eta[:, q]), kinetics.chem_dt)
    return out[:, 0] if single else out


def _causal_convolve(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Σ_j w_j x_{k−j} for k < len(x), column by column (x: (N, B), w: (N, 1)), by FFT (numpy's: scipy.signal
    costs a third of a second to import, more than a small run's whole simulation)."""
    N = len(x)
    size = _fast_length(2 * N - 1)
    return np.fft.irfft(np.fft.rfft(x, size, axis=0) * np.fft.rfft(w, size, axis=0), size, axis=0)[:N]


def _fast_length(n: int) -> int:
    """The smallest 2^a·3^b·5^c ≥ n: FFT lengths numpy transforms fast (a power of two can be twice as long)."""
    best = 1 << max(n - 1, 0).bit_length()
    p3 = 1
    while p3 < best:
        p35 = p3
        while p35 < best:
            size = p35 << max(0, (n - 1) // p35).bit_length()  # p35 · the smallest power of two reaching n
            best = min(best, size)
            p35 *= 5
        p3 *= 3
    return best


class Kinetics:
    """Per-column constants of diffusing couples (E, EC, EC′) and the coefficients of their step equation.

    With the surface concentrations written as bulk − coefficient × (i_k + history), Butler–Volmer gives
    i_k = gain (z − p S_k − r K_k): S_k the semi-integral's history, K_k the history under the chemical kernel.
    """

    def __init__(self, dt, nFA, alpha, d_ox, d_red, c_ox, c_red, k0, mechanism, k_f, k_b):
        self.alpha = alpha
        g = np.sqrt(dt) / nFA
        so, sr = np.sqrt(d_ox), np.sqrt(d_red)
        ec, catalytic = mechanism == 1, mechanism == 2
        # EC: the part of R's history that the chemistry erodes, K/(1 + K) with K = k_f/k_b (1 when k_b = 0).
        share = np.where(k_b > 0, k_f / np.where(k_b > 0, k_f + k_b, 1.0), 1.0)
        self.chem_dt = np.where(mechanism == 0, 0.0, k_f + np.where(catalytic, 0.0, k_b)) * dt
        own = kinetic_weights([0], self.chem_dt)[0]  # the chemistry already acts within the current step
        # Every coefficient is g (a·e^{−αη} + b·e^{(1−α)η}); the constants a, b depend on the mechanism only.
        # c0: of the current step's own flux; p: of the plain history S; r: of the chemical history K.
        ones = np.ones_like(g)
        # Rows c0, z, p, r: the factors of e^{−αη} (``on_fwd``) and of e^{(1−α)η} (``on_bwd``).
        self.on_fwd = np.array([g * np.where(catalytic, own, 1.0) / so, c_ox * ones,
                                g * np.where(catalytic, 0.0, 1.0) / so, g * np.where(catalytic, own, 0.0) / so])
        self.on_bwd = np.array([g * np.where(catalytic, own / so * sr, np.where(ec, 1 - share + share * own, 1.0)) / sr,
                                -np.where(mechanism == 0, c_red, 0.0) * ones,
                                g * np.where(catalytic, 0.0, np.where(ec, 1 - share, 1.0)) / sr,
                                g * np.where(catalytic, own / so * sr, np.where(ec, share, 0.0)) / sr])
        self.kk = nFA * np.where(np.isinf(k0), _NERNSTIAN_K0, k0)
        self.fwd_rate, self.bwd_rate = -alpha, 1 - alpha  # taken once: the iR solver calls ``terms`` per step

    def terms(self, eta: np.ndarray, slopes: bool = False):
        """gain, z, p, r at the overpotentials ``eta`` (n f (E − E°); shape (..., B)); with ``slopes``, also
        their derivatives with respect to eta (for Newton steps)."""
        fwd = np.exp(np.minimum(self.fwd_rate * eta, 700))  # only overflow needs guarding; underflow gives 0
        bwd = np.exp(np.minimum(self.bwd_rate * eta, 700))
        if eta.ndim == 1:
            on_fwd, on_bwd = self.on_fwd, self.on_bwd
        else:
            shape = (4,) + (1,) * (eta.ndim - 1) + (eta.shape[-1],)
            on_fwd, on_bwd = self.on_fwd.reshape(shape), self.on_bwd.reshape(shape)
        c0, z, p, r = on_fwd * fwd + on_bwd * bwd
        gain = self.kk / (1 + self.kk * c0)
        if not slopes:
            return gain, z, p, r
        d_c0, dz, dp, dr = on_fwd * (self.fwd_rate * fwd) + on_bwd * (self.bwd_rate * bwd)
        return (gain, z, p, r), (-gain * gain * d_c0, dz, dp, dr)


# The far history of the semi-integral is carried by a sum of exponentials: w_j = (1/π) ∫₀^∞ e^{−(j+½)s}
# (1 − e^{−s})^{−½} ds, discretised by the trapezoid rule in log s, is exact to ~1e-6 relative for j ≥ NEAR and
# j ≤ 3·10⁵, and each exponential's share of the history updates recursively: O(1) work per step, not O(k).
NEAR = 32
_U = np.arange(-36.0, np.log(60.0 / NEAR) + 0.5, 0.5)
_S = np.exp(_U)
_SOE_COEFF = 0.5 * _S * np.exp(-_S / 2) / np.sqrt(-np.expm1(-_S)) / np.pi


class _History:
    """Σ_{j≥1} W_j i_{k−j} for every column, as step k advances: Grünwald weights, or a chemical step's weights
    (``chem_dt`` = kΔt per column). Long, wide runs keep the last ``NEAR`` terms exactly and the rest as a sum
    of exponentials updated in O(1) per step; short ones sum exactly."""

    def __init__(self, N: int, B: int, chem_dt: np.ndarray | None = None, past: np.ndarray | None = None):
        self.N = N
        # One short column: the O(N²) sum costs less than the exponentials' upkeep; batches take the latter.
        self.exact = N * B < 10_000
        # Currents newest-first at the end of ``past``, so each near sum is one contiguous product. Two histories
        # of the same currents (plain and chemical) may share it: ``past`` of the other, pushed to by one.
        self.past = np.zeros((N, B)) if past is None else past
        plain = chem_dt is None
        if self.exact:
            self.weights = grunwald_weights(N) if plain else kinetic_weights(np.arange(N), chem_dt)
            self.vector = self.weights.ndim == 1
            return
        self.near = grunwald_weights(NEAR)[1:] if plain else kinetic_weights(np.arange(1, NEAR), chem_dt)
        self.vector = plain  # weights the same for every column: a matrix-vector product
        if plain:
            rate, coeff = _S[:, None], _SOE_COEFF[:, None]
        else:
            # The chemical weights are exactly (1/π) ∫ u^{−½} e^{−j(u+κ)} (1 − e^{−(u+κ)})/(u+κ) du, κ = kΔt:
            # the same quadrature nodes, with rates u + κ and coefficients that depend on the column.
            rate = _S[:, None] + chem_dt[None, :]
            coeff = 0.5 / np.pi * np.sqrt(_S)[:, None] * -np.expm1(-rate) / rate  # trapezoid step 0.5
        # Exponentials far slower than the run (s N ≪ 1) act as one: a single node with their total coefficient
        # and mean rate keeps the weights within ~5e-6 for N ≤ 10⁵ and halves the upkeep.
        slow = _U < -np.log(N) - 5
        lumped = coeff[slow].sum(axis=0, keepdims=True)
        rate = np.vstack([(coeff[slow] * rate[slow]).sum(axis=0, keepdims=True) / lumped, rate[~slow]])
        coeff = np.vstack([lumped, coeff[~slow]])
        self.coeff = coeff[:, 0] if plain else coeff
        self.decay = np.exp(-rate)
        self.entry = np.exp(-rate * (NEAR - 1))  # a flux leaving the near window is NEAR steps old next step
        self.far = np.zeros((len(rate), B))
        self.entering = np.empty((len(rate), B))

    def sums(self):
        """Σ_{j≥1} W_j i_{k−j} for k = 0, 1, …, N − 1 in turn; the caller records i_k (``push``) before asking
        for the next. A generator: the state stays in local names between steps (most of a step's cost). Weights
        the same for every column go through ``np.dot`` (the BLAS product ``@`` makes, with less dispatch)."""
        N, past, vector = self.N, self.past, self.vector
        dot, multiply, reduce = np.dot, np.multiply, np.add.reduce
        yield 0.0
        if self.exact:
            weights = self.weights
            for k in range(1, N):
                w = weights[1:k + 1]
                yield dot(w, past[N - k:]) if vector else reduce(w * past[N - k:], axis=0)
            return
        near = self.near
        for k in range(1, min(NEAR, N)):
            w = near[:k]
            yield dot(w, past[N - k:]) if vector else reduce(w * past[N - k:], axis=0)
        far, entry, decay, coeff, entering = self.far, self.entry, self.decay, self.coeff, self.entering
        for k in range(NEAR, N):
            # far ← decay (far + entry i), in place: the same products and sums as written out, no new arrays.
            multiply(entry, past[N - 1 - (k - NEAR)], out=entering)
            far += entering
            far *= decay
            recent = past[N - k:N - k + NEAR - 1]
            yield dot(near, recent) + dot(coeff, far) if vector else reduce(near * recent, axis=0) + reduce(
                coeff * far, axis=0)

    def push(self, k: int, current: np.ndarray):
        self.past[self.N - 1 - k] = current


def _steps(gain, z, p, r, chem_dt) -> np.ndarray:
    """i_k = gain_k (z_k − p_k S_k − r_k K_k), step by step (arrays of shape (N, B)).

    S_k = Σ_{j≥1} w_j i_{k−j} is the semi-integral's history; K_k the same with the chemical step's weights
    (``kinetic_weights``, ``chem_dt`` = kΔt per column).
    """
    N, B = z.shape
    plain = _History(N, B)
    # Both histories sum the same currents: one record of them, pushed once a step.
    chemical = _History(N, B, chem_dt, past=plain.past) if np.any(r != 0) else None
    base, on_s, on_c = gain * z, -gain * p, -gain * r  # i_k = base + on_s S_k + on_c K_k
    past = plain.past  # i_k is recorded at row N − 1 − k
    if chemical:
        for k, s, kc in zip(range(N), plain.sums(), chemical.sums()):
            past[N - 1 - k] = base[k] + on_s[k] * s + on_c[k] * kc
    else:
        for k, s in zip(range(N), plain.sums()):
            past[N - 1 - k] = base[k] + on_s[k] * s
    return past[::-1].copy()


class EESteps:
    """Per-column constants of EE couples and their step equations: i1 = c1 + s11 S1 + s12 S2 and
    i2 = c2 + s21 S1 + s22 S2, with S1, S2 the histories of the semi-integrals of the two currents."""

    def __init__(self, dt_s, e1_V, e2_V, area_cm2, c_ox_mol_cm3, d_ox_cm2_s, d_int_cm2_s, d_red_cm2_s, k1_cm_s,
                 k2_cm_s, alpha1, alpha2, temperature_K, B: int):
        dt, self.e1, self.e2, area, self.c_ox, d_o, d_i, d_r, k1, k2, self.a1, self.a2, temp = (
            np.broadcast_to(np.asarray(x, dtype=float), (B,)) for x in
            (dt_s, e1_V, e2_V, area_cm2, c_ox_mol_cm3, d_ox_cm2_s, d_int_cm2_s, d_red_cm2_s, k1_cm_s, k2_cm_s,
             alpha1, alpha2, temperature_K))
        self.f = F / (R * temp)
        FA = F * area
        self.g = np.sqrt(dt) / FA
        self.so, self.si, self.sr = np.sqrt(d_o), np.sqrt(d_i), np.sqrt(d_r)
        self.K1 = FA * np.where(np.isinf(k1), _NERNSTIAN_K0, k1)
        self.K2 = FA * np.where(np.isinf(k2), _NERNSTIAN_K0, k2)
        # Per-column constants of ``terms``, taken once and shaped to broadcast over (step 1 or 2, ..., column):
        # the iR solver calls it every time step, where each numpy call costs more than its arithmetic.
        self.e12 = np.stack([self.e1, self.e2])[:, None]
        self.rates = np.array([[-self.a1, -self.a2], [1 - self.a1, 1 - self.a2]])[:, :, None]  # e^{−αη}, e^{(1−α)η}
        self.roots = np.array([[self.so, self.si], [self.si, self.sr]])[:, :, None]  # what divides f1, f2; b1, b2
        self.inv_K = np.stack([1 / self.K1, 1 / self.K2])[:, None]

    def terms(self, E: np.ndarray) -> tuple:
        """c1, s11, s12, c2, s21, s22 at the potentials ``E`` (V; shape (M, B))."""
        g, si = self.g, self.si
        eta = self.f * (E - self.e12)  # η1, η2
        # f1, f2 = e^{−α η}, b1, b2 = e^{(1−α) η}. Only overflow needs guarding (underflow gives 0); np.minimum
        # costs a third of np.clip per step.
        fb = np.exp(np.minimum(self.rates * eta, 700))
        (f1, f2), b1 = fb[0], fb[1, 0]
        # a11 i1 + a12 i2 = r1, a21 i1 + a22 i2 = r2 (divided by K to keep Nernstian steps well conditioned):
        # a11 = 1/K1 + g (f1/√D_O + b1/√D_I), a12 = −g b1/√D_I, a21 = −g f2/√D_I, a22 = 1/K2 + g (f2/√D_I + b2/√D_R).
        # Right-hand sides r1 = c_O* f1 − g S1 (f1/√D_O + b1/√D_I) + g S2 b1/√D_I, r2 = g S1 f2/√D_I − g S2
        # (f2/√D_I + b2/√D_R); Cramer's rule then makes each current linear in the histories S1, S2. Each
        # element goes through the operations of these formulas whether the two steps share an array or not, and
        # a12 = −w1, a21 = −v2 (a sign flip is exact): the same bits as the formulas written out.
        over = fb / self.roots
        g12 = g * (over[0] + over[1])  # g (f1/√D_O + b1/√D_I), g (f2/√D_I + b2/√D_R)
        a11, a22 = self.inv_K + g12
        u1, (v1, w2) = self.c_ox * f1, -g12
        w1, v2 = g * b1 / si, g * f2 / si
        det = a11 * a22 - w1 * v2
        p1, q1, p2, q2 = a22 / det, w1 / det, v2 / det, a11 / det
        return p1 * u1, p1 * v1 + q1 * v2, p1 * w1 + q1 * w2, p2 * u1, p2 * v1 + q2 * v2, p2 * w1 + q2 * w2


def ee_reduction_current(potential_V: np.ndarray, dt_s, e1_V, e2_V, area_cm2=0.0707, c_ox_mol_cm3=1e-6,
                         d_ox_cm2_s=1e-5, d_int_cm2_s=1e-5, d_red_cm2_s=1e-5, k1_cm_s=np.inf, k2_cm_s=np.inf,
                         alpha1=0.5, alpha2=0.5, temperature_K=298.15) -> np.ndarray:
    """Reduction current (A) of two successive one-electron steps O + e ⇌ I (E1°), I + e ⇌ R (E2°).

    Each step has its own Butler–Volmer kinetics (``inf``: Nernstian); the semi-integrals M1, M2 of the two
    currents give c_O = c_O* − M1/(FA√D_O), c_I = (M1 − M2)/(FA√D_I), c_R = M2/(FA√D_R); each step solves a
    2×2 linear system for the two currents. Returns i1 + i2. Shapes as for ``reduction_current``: (N,) or (N, B)
    with length-B parameters.
    """
    E = np.asarray(potential_V, dtype=float)
    single = E.ndim == 1
    E2 = E[:, None] if single else E
    N, B = E2.shape
    c1, s11, s12, c2, s21, s22 = EESteps(dt_s, e1_V, e2_V, area_cm2, c_ox_mol_cm3, d_ox_cm2_s, d_int_cm2_s,
                                         d_red_cm2_s, k1_cm_s, k2_cm_s, alpha1, alpha2, temperature_K, B).terms(E2)
    h1, h2 = _History(N, B), _History(N, B)
    # Both steps' equations side by side (axis 1): half the array operations per step, the same arithmetic.
    c, on_1, on_2 = np.stack([c1, c2], axis=1), np.stack([s11, s21], axis=1), np.stack([s12, s22], axis=1)
    past1, past2 = h1.past, h2.past  # i1_k, i2_k recorded at row N − 1 − k
    for k, s1, s2 in zip(range(N), h1.sums(), h2.sums()):
        past1[N - 1 - k], past2[N - 1 - k] = c[k] + on_1[k] * s1 + on_2[k] * s2
    total = past1[::-1] + past2[::-1]
    return total[:, 0] if single else total


def adsorbed_reduction_current(potential_V: np.ndarray, dt_s, e0_V, n=1, area_cm2=0.0707, gamma_mol_cm2=1e-10,
                               k_s_per_s=np.inf, alpha=0.5, oxidised_fraction=np.nan,
                               temperature_K=298.15, interaction=0.0) -> np.ndarray:
    """Reduction current (A) of a surface-confined couple O(ads) + ne ⇌ R(ads) with total coverage Γ (mol/cm²).

    Nernstian (``k_s_per_s = inf``): Γ_O/Γ_R = e^{nfη}, sharp symmetric peaks with ΔEp = 0, i_p = n²F²AvΓ/4RT and
    a width at half height of 3.53 RT/nF. Finite k_s (1/s, Laviron): dΓ_O/dt = k_s (Γ_R e^{(1−α)nfη} −
    Γ_O e^{−αnfη}), integrated exactly for rates constant over each step. The coverage starts in equilibrium with
    the first potential unless ``oxidised_fraction`` is given (NaN: not given). ``interaction`` is Frumkin's g
    (``surface_coverage``): attractive neighbours (g < 0) make the sharp spikes of single-crystal CVs, i_p =
    n²F²AvΓ/((4 + g)RT); finite k_s then relaxes towards that equilibrium at Laviron's rates (an approximation).
    Shapes as for ``reduction_current``: (N,) or (N, B) with length-B parameters.
    """
    E = np.asarray(potential_V, dtype=float)
    single = E.ndim == 1
    E2 = E[:, None] if single else E
    dt, e0, n, area, gamma, k_s, alpha, fraction, temp, g = [
        np.broadcast_to(np.asarray(x, dtype=float), (E2.shape[1],)) for x in
        (dt_s, e0_V, n, area_cm2, gamma_mol_cm2, k_s_per_s, alpha, oxidised_fraction, temperature_K, interaction)]
    eta = n * F / (R * temp) * (E2 - e0)
    # Far from E° an exponential may overflow: inf then gives the right limits (no coverage, instant relaxation).
    with np.errstate(over="ignore"):
        equilibrium = gamma * surface_coverage(eta, g)
        relax = np.exp(-k_s * (np.exp((1 - alpha) * eta) + np.exp(-alpha * eta)) * dt)  # 0 when Nernstian
    start = np.where(np.isnan(fraction), equilibrium[0], fraction * gamma)
    if np.isinf(k_s).all():
        gamma_o = equilibrium
    else:
        gamma_o = np.empty_like(equilibrium)
        x = start
        for k in range(len(E2)):
            x = equilibrium[k] + (x - equilibrium[k]) * relax[k]
            gamma_o[k] = x
    previous = np.vstack([start, gamma_o[:-1]])
    out = -n * F * area * (gamma_o - previous) / dt
    return out[:, 0] if single else out


def surface_coverage(eta: np.ndarray, g) -> np.ndarray:
    """Oxidised fraction θ of an adsorbed layer in equilibrium at η = nF(E − E°)/RT, Frumkin's isotherm
    θ/(1 − θ)·e^{g(θ − ½)} = e^η (g = 0: Langmuir, θ = 1/(1 + e^{−η})).

    g < 0 (attraction, down to −4 where the layer would condense at once) narrows the peak to a spike, g > 0
    broadens it; the peak stays at E° by symmetry. Solved for u = ln θ/(1 − θ) by bisection: u + g(θ(u) − ½) = η
    is increasing in u for g > −4 and its root lies within η ± |g|/2. ``g`` broadcasts against ``eta``'s last axis.
    """
    eta = np.asarray(eta, dtype=float)
    g = np.broadcast_to(np.asarray(g, dtype=float), eta.shape[-1:] if eta.ndim else ())
    with np.errstate(over="ignore"):
        if not np.any(g):
            return 1 / (1 + np.exp(-eta))
        lo, hi = eta - np.abs(g) / 2, eta + np.abs(g) / 2
        for _ in range(48):  # the bracket, at most 4 wide, halves each time: far below double precision of θ
            mid = (lo + hi) / 2
            above = mid + g * (1 / (1 + np.exp(-mid)) - 0.5) > eta
            hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
        return 1 / (1 + np.exp(-(lo + hi) / 2))


def coverage_slope(theta: np.ndarray, g) -> np.ndarray:
    """dθ/dη of ``surface_coverage`` at coverage ``theta``: θ(1 − θ)/(1 + gθ(1 − θ))."""
    w = theta * (1 - theta)
    return w / (1 + g * w)
