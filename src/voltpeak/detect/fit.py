"""Overlapping couples measured by fitting the whole cycle: diffusing couples, charging current and a background.

Where waves overlap, each sits on its neighbours' diffusion tails: the peaks of the total current are not the
couples' own, and no straight baseline drawn under one wave follows the tail of another. Here the cycle's current
is fitted as

    i(t) = Σ_j A_j g_j(t; E°_j, k0_j, α_j, k_f,j) + a + b·E(t) + c·q_τ(t)

with g_j the current of a diffusing couple (planar diffusion, Butler–Volmer kinetics, and a following chemical
step of rate k_f where the data ask for it: the simulator's ``reduction_current``), q_τ the sweep direction
relaxed with the cell's time constant τ (double-layer charging) and a + b·E a sloped background. The amplitudes
and background enter linearly and are solved for at each step (variable projection); E°_j, log k0_j, α_j (and
log k_f,j) are fitted by ``scipy.optimize.least_squares``, started from the detector's pairs and Nicholson's
ψ(ΔEp). Slow couples' waves interleave, so pairs of couples are also tried with their reverse waves swapped; a
couple the detector could not pair (a wave merged into its neighbour's) is added where the residual shows a wave,
while the fit improves. The search runs on a coarse grid and is polished on a finer one; the fit is kept only
when its residual there is at the noise; otherwise ``find_couples`` keeps its baselines.

Each couple's own peaks are then those of its fitted current (Epa, Epc), and its peak currents are measured on the
data: the current less the fitted background, charging and other couples, averaged over a few millivolts at each
peak. The reverse peak is measured from the forward wave's own decay (the couple's current had the potential been
held at the switch), as Nicholson's baseline intends; a couple whose product is lost shows it in the data's reverse
peak, whatever the fitted model assumes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.signal import savgol_filter

from voltpeak.simulate.diffusion import F, R, reduction_current

NOMINAL_RATE_V_S = 0.1  # scan rate assumed where the file gives none (only scales the fitted k0)
TAUS = (0.0, 1.0, 2.0, 4.0, 8.0)  # charging relaxation times tried (samples)
E0_RANGE_V = 0.08  # how far a formal potential may move from its start
ALPHA_RANGE = (0.2, 0.8)  # transfer coefficients fitted
LOGK0_RANGE = (-5.0, 1.0)  # log10 k0 (cm/s, at D = 1e-5 cm²/s); 10 cm/s is Nernstian at any rate here
LOGKF_RANGE = (-3.0, 3.0)  # log10 of a following chemical step's rate (1/s)
BLOCKS = 4  # parameters per couple: E°, log10 k0, α, log10 k_f (−inf: no chemical step)
GIVE_UP = 60.0  # a first fit this many noise deviations off is a record the model cannot follow (a real CV's
# shapes, a digitised curve with no noise): not worth adding couples to. Simulated CVs missing a couple reach 48.
GOOD_FIT = 1.5  # a fit is kept when its residual's rms is within this many noise deviations
ADD_WHILE = 1.2  # a couple is added while the rms exceeds this many noise deviations ...
ADD_GAIN = 0.85  # ... and the added couple lowers the rms at least this much (as a factor)
MAX_ADDED = 2  # couples added to those found (three merged waves are beyond one cycle's fit)
MAX_SAMPLES = 4000  # longer records (to the cycle's end) keep their baselines: a fit would take seconds
SEARCH_SAMPLES = 300  # the search fits every k-th sample, k the least that keeps to this many (time ∝ samples)
FIT_SAMPLES = 1000  # ... and its result is polished on this many: a coarse grid's discretisation shows on clean data
POLISH_STEPS = 8  # evaluations the polish may take
NOISE_FLOOR = 1e-3  # of the current range: the least noise a fit is held to
EDGE_V = 0.01  # an added couple's wave peaking this near a sweep's end peaks past the window: no couple
AVERAGE_V = 0.005  # the data's correction to a fitted peak height: mean residual within this of the peak


D_UNIT_CM2_S = 1e-5  # the unit couple's diffusion coefficient: fitted k0 are given at it
TEMPERATURE_K = 298.15
F_RT = F / (R * TEMPERATURE_K)  # 1/V


def psi_nicholson(delta_ep_V: float, alpha: float = 0.5) -> float | None:
    """ψ from the peak separation (V, n = 1) on Nicholson's working curve: Lavagnini et al.'s (2004) fit of it
    up to 200 mV, Klingler & Kochi's (1981) irreversible relation ψ = 2.18 √(α/π) exp(−α² f ΔEp) beyond; None
    up to 61 mV (a reversible separation: ψ is then beyond what ΔEp can tell)."""
    x = delta_ep_V * 1000
    if x <= 61.0:
        return None
    if x <= 200.0:
        return float((-0.6288 + 0.0021 * x) / (1 - 0.017 * x))
    return float(2.18 * np.sqrt(alpha / np.pi) * np.exp(-alpha ** 2 * F_RT * delta_ep_V))


def log_k0_of(psi: float, rate_V_s: float) -> float:
    """log10 k0 (cm/s, at D = 1e-5 cm²/s) of Nicholson's ψ at the scan rate ``rate_V_s`` (V/s)."""
    return float(np.log10(psi * np.sqrt(np.pi * D_UNIT_CM2_S * F_RT * rate_V_s)))


def psi_of(log_k0: float, rate_V_s: float) -> float:
    """Nicholson's ψ of k0 = 10^log_k0 cm/s (at D = 1e-5 cm²/s) at the scan rate ``rate_V_s`` (V/s)."""
    return float(10.0 ** log_k0 / np.sqrt(np.pi * D_UNIT_CM2_S * F_RT * rate_V_s))


def start_log_k0(delta_ep_V: float, rate_V_s: float) -> float:
    """Where the fit starts log10 k0 for a couple of peak separation ``delta_ep_V``: Nicholson's ψ of it (a
    reversible separation starts at ψ = 20)."""
    psi = psi_nicholson(delta_ep_V)
    return log_k0_of(20.0 if psi is None or psi <= 0 else psi, rate_V_s)


@dataclass
class FittedCouple:
    """One couple's own peaks from the fit: potentials (V) and heights in the IUPAC frame (anodic positive); its
    fitted E° (V), log10 k0 (k0 in cm/s at D = 1e-5 cm²/s and the time step given), α and log10 k_f, each with
    its standard deviation (``inf`` where the data do not determine it)."""

    e_pa: float
    e_pc: float
    ipa: float
    ipc: float
    e0: float
    log_k0: float
    alpha: float
    log_kf: float  # log10 of a following chemical step's rate (1/s); −inf where there is none
    sd_e0: float
    sd_log_k0: float
    sd_alpha: float
    sd_log_kf: float


def _relaxed(direction: np.ndarray, tau: float) -> np.ndarray:
    """The sweep direction (±1) relaxed with time constant ``tau`` samples: the double-layer charging current's
    shape (first-order filter)."""
    if not tau:
        return direction.astype(float)
    decay = np.exp(-1.0 / tau)
    out = np.empty(len(direction))
    acc = float(direction[0])
    for i, d in enumerate(direction):
        acc = decay * acc + (1 - decay) * d
        out[i] = acc
    return out


class _Model:
    """The cycle's model for fixed couples: columns of unit couples, the linear solve and the residual."""

    def __init__(self, E, y, mask, direction, dt, noise, coarse=1.0):
        self.E, self.y, self.mask, self.direction, self.dt = E, y, mask, direction, dt
        self.step = float(np.median(np.abs(np.diff(E)))) or 1e-3  # V a sample
        self.rate = self.step / dt  # V/s
        # Residuals in noise deviations (least_squares' tolerances are relative); a noise-free record is held to
        # a thousandth of its current range, and a model on a grid ``coarse`` times the polish's to that many
        # thousandths (the discretisation error grows with the step).
        self.unit = max(noise, NOISE_FLOOR * coarse * float(np.ptp(y[mask]))) or 1.0
        self.charging = _relaxed(direction, 2.0)

    def columns(self, e0, log_k0, alpha, log_kf, bulk_ox, E=None):
        """IUPAC currents (anodic positive) of couples of unit concentration, shape (N, len(e0)). A couple with
        a finite ``log_kf`` loses its product to a following chemical step (EC, rate 10^log_kf /s). A couple with R
        in the bulk is its mirror image: the reduction of O at −E, −E° with transfer coefficient 1 − α."""
        E = self.E if E is None else E
        sign = np.where(np.asarray(bulk_ox, dtype=bool), 1.0, -1.0)
        kf = 10.0 ** np.asarray(log_kf, dtype=float)
        return -sign * reduction_current(np.outer(E, sign), self.dt, sign * np.asarray(e0, dtype=float),
                                         k0_cm_s=10.0 ** np.asarray(log_k0, dtype=float),
                                         alpha=np.where(sign > 0, alpha, 1 - np.asarray(alpha, dtype=float)),
                                         mechanism=(kf > 0).astype(int), k_f_s=kf)

    def design(self, cols):
        return np.column_stack([cols, np.ones_like(self.E), self.E, self.charging])

    def solve(self, cols):
        A = self.design(cols)
        coef = np.linalg.lstsq(A[self.mask], self.y[self.mask], rcond=None)[0]
        return coef, A

    def residual(self, cols):
        coef, A = self.solve(cols)
        return (A[self.mask] @ coef - self.y[self.mask]) / self.unit

    def relax(self, cols) -> float:
        """Take the charging relaxation (of ``TAUS``, in this model's samples) that fits best with the couples'
        columns ``cols``; the rms then (noise deviations)."""
        best = None
        for tau in TAUS:
            self.charging = _relaxed(self.direction, tau)
            r = float(np.sqrt(np.mean(self.residual(cols) ** 2)))
            if best is None or r < best[0]:
                best = (r, self.charging)
        self.charging = best[1]
        return best[0]

    def fit(self, theta0, bulk_ox, max_nfev=30, move=True):
        """Least squares from ``theta0`` (E° V, log10 k0, α, log10 k_f: ``BLOCKS`` rows of one column per couple,
        flattened), E° within ``E0_RANGE_V`` of its start (``move``) or of where it is; a couple's k_f is fitted
        where it is finite (EC), held at 0 otherwise. (theta, rms in noise deviations, the Jacobian at theta over
        the parameters fitted, ``free`` of theta)."""
        theta0 = np.asarray(theta0, dtype=float).copy()
        K = len(bulk_ox)
        e0 = theta0[:K]
        reach = E0_RANGE_V if move else 0.01
        lo = np.r_[e0 - reach, np.full(K, LOGK0_RANGE[0]), np.full(K, ALPHA_RANGE[0]), np.full(K, LOGKF_RANGE[0])]
        hi = np.r_[e0 + reach, np.full(K, LOGK0_RANGE[1]), np.full(K, ALPHA_RANGE[1]), np.full(K, LOGKF_RANGE[1])]
        free = np.isfinite(theta0)
        theta0[free] = np.clip(theta0[free], lo[free] + 1e-9, hi[free] - 1e-9)
        step = np.repeat([2e-4, 1e-2, 5e-3, 1e-2], K)
        scale = np.repeat([0.01, 0.5, 0.1, 0.5], K)
        index = np.flatnonzero(free)

        def full(x):
            th = theta0.copy()
            th[free] = x
            return th.reshape(BLOCKS, K)

        def fun(x):
            return self.residual(self.columns(*full(x), bulk_ox))

        def jac(x):
            # One batch simulates every perturbed couple: each parameter moves only its own couple's column.
            th = full(x)
            base = self.columns(*th, bulk_ox)
            moved = th[:, index % K]  # column n: the couple parameter n moves, with it moved
            moved[index // K, np.arange(len(index))] += step[index]
            cols_moved = self.columns(*moved, [bulk_ox[j] for j in index % K])
            r0 = self.residual(base)
            J = np.empty((len(r0), len(index)))
            for n, j in enumerate(index):
                cols = base.copy()
                cols[:, j % K] = cols_moved[:, n]
                J[:, n] = (self.residual(cols) - r0) / step[j]
            return J

        start_rms = self.relax(self.columns(*theta0.reshape(BLOCKS, K), bulk_ox))  # then held
        if start_rms > 2 * GIVE_UP:  # hopeless: spare the optimiser (real CVs' shapes, noise-free digitised curves)
            return theta0, start_rms, None, free
        res = least_squares(fun, theta0[free], jac=jac, bounds=(lo[free], hi[free]), x_scale=scale[free],
                            max_nfev=max_nfev)
        return full(res.x).ravel(), float(np.sqrt(np.mean(res.fun ** 2))), res.jac, free


def deconvolve(E: np.ndarray, y: np.ndarray, sweeps: list[tuple[int, int, int]], cycle_mask: np.ndarray,
               noise: float, starts: list[tuple], dt_s: float) -> list[FittedCouple] | None:
    """Fit the couples of one cycle and measure each couple's own peaks (see the module's docstring).

    Parameters
    ----------
    E, y : ndarray
        Potential (V) and IUPAC-oriented current (anodic positive) of the record up to the cycle's end.
    sweeps : list of (start, stop, direction)
        The record's sweeps (``voltpeak.voltammogram.sweeps``) up to the cycle's end.
    cycle_mask : ndarray of bool
        The samples of the cycle fitted.
    noise : float
        White-noise deviation of ``y``.
    starts : list of (E°, ΔEp, bulk_ox, reverse share)
        One per couple found: its E1/2 (V), ΔEp (V), whether O is the species in the bulk (its reduction
        comes first) and its reverse peak's current over its forward peak's as baselines measured them (None
        where unknown).
    dt_s : float
        Time per sample (s).

    Returns
    -------
    list of FittedCouple (or None) or None
        The starting couples first, in order (None for a pair the fit finds no couple), then any added; None
        when the fit does not reach the noise.
    """
    if len(E) > MAX_SAMPLES:
        return None
    direction = np.empty(len(E))
    for a, b, d in sweeps:
        direction[a:b] = d
    k, f = -(-len(E) // SEARCH_SAMPLES), -(-len(E) // FIT_SAMPLES)
    search = _Model(E[::k], y[::k], cycle_mask[::k], direction[::k], dt_s * k, noise, coarse=k / f)
    fine = search if k == f else _Model(E[::f], y[::f], cycle_mask[::f], direction[::f], dt_s * f, noise)

    def polished(found, bulk_ox):  # the search's fit on the finer grid: there the rms is judged against the noise
        return found if fine is search else fine.fit(found[0], bulk_ox, max_nfev=POLISH_STEPS, move=False)

    K = len(starts)
    bulk_ox = [s[2] for s in starts]
    first = search.fit(np.r_[[s[0] for s in starts], [start_log_k0(s[1], search.rate) for s in starts],
                             np.full(K, 0.5), np.full(K, -np.inf)], bulk_ox)
    if first[1] > GIVE_UP:
        return None
    found = _repaired(search, first, bulk_ox)
    best = None  # ``found`` polished, where that was needed
    first_ox = sweeps[0][2] < 0
    while found[1] > ADD_WHILE and len(bulk_ox) < K + MAX_ADDED:
        best = polished(found, bulk_ox)  # the coarse grid's own error may be all that is left
        if best[1] <= ADD_WHILE:
            break
        tried = [search.fit(_with(found[0], e_new, start_log_k0(dep, search.rate)), bulk_ox + [first_ox])
                 for e_new, dep in _candidates(search, found[0], bulk_ox)]
        # An added couple too slow to show a wave in the window is a background's shape, not a couple.
        tried = [t for t in tried if t[0].reshape(BLOCKS, -1)[1, -1] > LOGK0_RANGE[0] + 0.05]
        if not tried or min(t[1] for t in tried) > ADD_GAIN * found[1]:
            break
        bulk_ox = bulk_ox + [first_ox]
        found = _repaired(search, min(tried, key=lambda t: t[1]), bulk_ox)
        best = None
    if best is None:
        best = polished(found, bulk_ox)
    short = [j for j, s in enumerate(starts) if s[3] is not None and s[3] < EC_SHARE]
    if short and (len(bulk_ox) > K or best[1] > GOOD_FIT):
        # Reverse waves short of their forward ones, which the plain couples explain only with couples added or
        # not at all: a following chemical step may explain them as they are (the simpler account wins a tie).
        theta = first[0].reshape(BLOCKS, K).copy()
        reach = 2 * 0.3 / search.rate  # s: a forward wave's product lives about this long before its reverse wave
        theta[3, short] = np.log10(-np.log(np.clip([starts[j][3] for j in short], 0.05, 0.95)) / reach)
        ec = polished(search.fit(theta.ravel(), bulk_ox[:K]), bulk_ox[:K])
        if ec[1] <= GOOD_FIT and (best[1] > GOOD_FIT or ec[1] <= EC_TIE * best[1]):
            best, bulk_ox = ec, bulk_ox[:K]
    theta, rms, jac, free = best
    if rms > GOOD_FIT:
        return None
    sd = _deviations(jac, rms, free)
    model = fine
    if f > 1:  # the couples measured on every sample
        model = _Model(E, y, cycle_mask, direction, dt_s, noise)
        model.relax(model.columns(*theta.reshape(BLOCKS, -1), bulk_ox))
    return _own_peaks(model, theta, sd, bulk_ox, sweeps, K)


EC_SHARE = 0.8  # a couple whose reverse wave is under this share of its forward one may lose its product (EC)
EC_TIE = 1.1  # the EC account is taken where its rms is within this factor of the plain couples'


def _with(theta: np.ndarray, e0: float, log_k0: float) -> np.ndarray:
    """``theta`` with one more couple (E° ``e0``, ``log_k0``, α ½, no chemical step)."""
    return np.column_stack([theta.reshape(BLOCKS, -1), [e0, log_k0, 0.5, -np.inf]]).ravel()


def _waves(model, theta, bulk_ox) -> list[tuple[float, float]]:
    """Each fitted couple's own anodic and cathodic peak potentials on the model's samples (V)."""
    K, E, direction = len(bulk_ox), model.E, model.direction
    cols = model.columns(*theta.reshape(BLOCKS, K), bulk_ox)
    out = []
    for j in range(K):
        up = np.where(model.mask & (direction > 0), cols[:, j], -np.inf)
        down = np.where(model.mask & (direction < 0), -cols[:, j], -np.inf)
        out.append((float(E[np.argmax(up)]), float(E[np.argmax(down)])))
    return out


SWAP_GAIN = 0.95  # swapped partners are kept where they lower the rms at least this much (as a factor)


def _repaired(model, found, bulk_ox):
    """The fit ``found`` (as ``_Model.fit`` gives it) with two couples' reverse waves swapped where that explains
    the cycle better: slow couples' waves interleave (A's forward, B's forward, A's reverse, B's reverse), and a
    fit started from the wrong partners keeps them, each couple's E° and rate bending to fit."""
    K, theta, rms = len(bulk_ox), found[0], found[1]
    if K < 2:
        return found
    waves = _waves(model, theta, bulk_ox)
    for j in range(K):
        for m in range(j + 1, K):
            if bulk_ox[j] != bulk_ox[m]:
                continue
            # Swap the later waves' partners: with O in the bulk the anodic peaks are the reverse ones.
            side = 0 if bulk_ox[j] else 1
            pj, pm = list(waves[j]), list(waves[m])
            pj[side], pm[side] = pm[side], pj[side]
            dep_j, dep_m = pj[0] - pj[1], pm[0] - pm[1]
            if min(dep_j, dep_m) < 0.03 or max(dep_j, dep_m) > 0.8:
                continue
            start = theta.reshape(BLOCKS, K).copy()
            start[:3, [j, m]] = [[(pj[0] + pj[1]) / 2, (pm[0] + pm[1]) / 2],
                                 [start_log_k0(dep_j, model.rate), start_log_k0(dep_m, model.rate)], [0.5, 0.5]]
            swapped = model.fit(start.ravel(), bulk_ox)
            if swapped[1] < SWAP_GAIN * rms:
                return swapped
    return found


def _deviations(jac: np.ndarray | None, rms: float, free: np.ndarray) -> np.ndarray:
    """Standard deviations of theta's parameters from the Jacobian of the residual over the ``free`` ones (in
    noise deviations, the couples' amplitudes projected out): the diagonal of (JᵀJ)⁻¹ scaled by the rms², at
    least 1 (a fit within the noise is not better than the noise allows). ``inf`` where the data do not determine
    a parameter (α of a Nernstian couple) or it was not fitted."""
    sd = np.full(len(free), np.inf)
    if jac is None:
        return sd
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = np.linalg.pinv(jac.T @ jac, rcond=1e-10)
        dev = np.sqrt(np.clip(np.diag(cov), 0, None)) * max(rms, 1.0)
    sd[free] = np.where(np.isfinite(dev) & (np.diag(jac.T @ jac) > 0), dev, np.inf)
    return sd


def _candidates(model, theta, bulk_ox) -> list[tuple[float, float]]:
    """Couples (E° V, ΔEp V) the residual shows missing: its largest bump on each direction's sweeps, each as a
    reversible couple's wave, and the two as one slow couple's waves where they lie the right way round (the
    anodic wave above the cathodic)."""
    K, E, direction, mask = len(bulk_ox), model.E, model.direction, model.mask
    coef, A = model.solve(model.columns(*theta.reshape(BLOCKS, K), bulk_ox))
    r = np.where(mask, model.y - A @ coef, 0.0)
    window = max(5, int(0.03 / model.step) | 1)
    if len(r) > window:
        r = savgol_filter(r, window, 2)
    bumps = {}
    for d in (1.0, -1.0):
        bump = np.where(direction == d, r * d, -np.inf)
        i = int(np.argmax(bump))
        if np.isfinite(bump[i]) and bump[i] > 0:
            bumps[d] = float(E[i])
    out = [(e - d * 0.029, 0.058) for d, e in bumps.items()]  # a wave's peak lies ~29 mV past its E° (n = 1)
    if len(bumps) == 2 and bumps[1.0] - bumps[-1.0] > 0.1:
        out.append(((bumps[1.0] + bumps[-1.0]) / 2, bumps[1.0] - bumps[-1.0]))
    return out


def _own_peaks(model, theta, sd, bulk_ox, sweeps, n_starts: int) -> list[FittedCouple | None] | None:
    K, E, mask = len(bulk_ox), model.E, model.mask
    cols = model.columns(*theta.reshape(BLOCKS, K), bulk_ox)
    coef, A = model.solve(cols)
    residual = model.y - A @ coef  # the data less every fitted part: its local mean corrects a fitted height
    half = max(2, int(round(AVERAGE_V / model.step)))
    in_cycle = [(a, b, d) for a, b, d in sweeps if mask[a:b].any()]
    out = []
    for j in range(K):
        own = cols[:, j] * coef[j]
        d_fwd = -1 if bulk_ox[j] else 1
        k = next((k for k, s in enumerate(in_cycle) if s[2] == d_fwd), None)
        if k is None or k + 1 >= len(in_cycle):
            return None  # no sweep back
        (fa, fb, _), (ra, rb, _) = in_cycle[k], in_cycle[k + 1]
        pf = fa + int(np.argmax(own[fa:fb] * d_fwd))
        pr = ra + int(np.argmax(-own[ra:rb] * d_fwd))
        ends = (E[fa], E[min(fb, len(E)) - 1], E[ra], E[min(rb, len(E)) - 1])
        past = min(abs(E[p] - e) for p, e in zip((pf, pf, pr, pr), ends))
        if coef[j] <= 0 or (j >= n_starts and past < EDGE_V):
            # A pair the fit gives no current (its peaks are other couples' waves), or an added couple whose
            # wave peaks past the window (a shape of the background): no couple.
            out.append(None)
            continue
        held = E.copy()
        held[fb:] = E[fb - 1]  # the potential held at the switch: the forward wave's own decay
        decay = model.columns(*theta.reshape(BLOCKS, K)[:, j:j + 1], [bulk_ox[j]], held)[:, 0] * coef[j]
        fwd = own[pf] + _local_mean(residual, pf, half)
        rev = own[pr] - decay[pr] + _local_mean(residual, pr, half)
        e_f, e_r = _vertex(E, own * d_fwd, pf), _vertex(E, -own * d_fwd, pr)
        (e_pa, ipa), (e_pc, ipc) = ((e_f, fwd), (e_r, rev)) if d_fwd > 0 else ((e_r, rev), (e_f, fwd))
        out.append(FittedCouple(e_pa, e_pc, ipa, ipc, *map(float, theta.reshape(BLOCKS, K)[:, j]),
                                *map(float, sd.reshape(BLOCKS, K)[:, j])))
    return out


def _local_mean(r: np.ndarray, p: int, half: int) -> float:
    """Mean of ``r`` within ``half`` samples of ``p``."""
    return float(np.mean(r[max(0, p - half):p + half + 1]))


def _vertex(E: np.ndarray, y: np.ndarray, p: int) -> float:
    """Potential of the parabola's vertex through the samples around the maximum ``y[p]`` (V)."""
    if p <= 0 or p >= len(y) - 1:
        return float(E[p])
    y0, y1, y2 = y[p - 1], y[p], y[p + 1]
    denom = y0 - 2 * y1 + y2
    delta = min(max(0.5 * (y0 - y2) / denom, -0.5), 0.5) if denom < 0 else 0.0
    return float(E[p] + delta * (E[p + 1] - E[p - 1]) / 2)
