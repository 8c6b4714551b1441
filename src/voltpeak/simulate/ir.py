"""Uncompensated resistance: the electrode sees E_eff = E − R_u·I, with I the total current that E_eff drives.

Every step solves E_eff = E_k − R_u (Σ faradaic(E_eff) + C_dl (E_eff − E_eff,k−1)/Δt + background) by Newton's
method with analytic slopes, for all CVs of a batch at once (one unknown per CV, its couples'
currents summed). The charging current then relaxes after a switch with the physical time constant R_u·C_dl.
Every mechanism is supported: diffusing couples (E, EC, EC′), EE couples and adsorbed layers.
"""

from __future__ import annotations

import numpy as np

from voltpeak.simulate.background import background as non_faradaic
from voltpeak.simulate.background import capacitance
from voltpeak.simulate.diffusion import EESteps, F, Kinetics, R, _History, coverage_slope, surface_coverage
from voltpeak.simulate.waveform import pad_columns

_DX = 1e-7  # V, the forward difference of EE slopes
_DX_PAIR = np.array([[0.0], [_DX]])
NEWTON_STEPS = 2  # from the extrapolated drop, analytic slopes: currents within ~1e-9 of converged (tested)


def currents_with_ir(items: list[tuple]) -> list[tuple[list[np.ndarray], np.ndarray, np.ndarray]]:
    """Faradaic currents of each couple, charging current and E_eff for CVs with uncompensated resistance.

    Parameters
    ----------
    items : list of (couples, conditions, E)
        CVs with ``conditions.ru_ohm > 0``; E the applied potential samples.

    Returns
    -------
    list of (own, charging, E_eff)
        Per CV: the couples' currents (A, IUPAC), the charging current (A) and the effective potential (V).
    """
    n_cv = len(items)
    E_app = pad_columns([E for _, _, E in items])  # (N, n_cv)
    N = len(E_app)
    cond = [c for _, c, _ in items]
    dt = np.array([c.step_V / c.scan_rate_V_s for c in cond])
    ru = np.array([c.ru_ohm for c in cond])
    # C_dl at each applied potential (a sloping double layer), per CV.
    cdl = np.column_stack([c.cdl_F * np.broadcast_to(capacitance(E_app[:, j], c), (N,)) for j, c in enumerate(cond)])
    # The background flows through R_u too; the charging current is solved for below.
    background = np.column_stack([non_faradaic(E_app[:, j], None, cond[j], charging=np.zeros(N))
                                  for j in range(n_cv)])

    # Three kinds of columns, each with the numbers its kernel takes: diffusing couples (E, EC, EC′), EE couples
    # and adsorbed layers; ``*_cv`` says which CV each column belongs to.
    cols = [(j, c) for j, (couples, _, _) in enumerate(items) for c in couples]
    kinds = {kind: [(j, c) for j, c in cols if {"EE": "ee", "ads": "ads"}.get(c.mechanism, "diff") == kind]
             for kind in ("diff", "ee", "ads")}
    diff, ee, ads = kinds["diff"], kinds["ee"], kinds["ads"]
    d_cv, e_cv, a_cv = (np.array([j for j, _ in kinds[kind]], dtype=int) for kind in ("diff", "ee", "ads"))

    def args(group):
        return np.array([c.kernel_args(cond[j]) for j, c in group], dtype=float).T

    # Constants of the step equations are taken once here (negations and 1 − α included): the loop below runs
    # NEWTON_STEPS passes per time step over small arrays, where each numpy call costs more than its arithmetic.
    if diff:
        dt_d, d_e0, n, area, c_ox, c_red, d_ox, d_red, k0, alpha, temp, code, k_f, k_b = args(diff)
        kin = Kinetics(dt_d, n * F * area, alpha, d_ox, d_red, c_ox, c_red, k0, code, k_f, k_b)
        d_nf = n * F / (R * temp)
        minus_d_nf = -d_nf
        plain = _History(N, len(diff))
        chemical = _History(N, len(diff), kin.chem_dt, past=plain.past) if np.any(kin.chem_dt > 0) else None
    if ee:
        steps = EESteps(*args(ee), B=len(ee))
        first, second = _History(N, len(ee)), _History(N, len(ee))
    if ads:
        a_dt, a_e0, a_n, a_area, a_gamma, a_ks, a_alpha, _, a_temp, a_g = args(ads)
        a_nf = a_n * F / (R * a_temp)
        a_nFA = a_n * F * a_area
        a_ks_finite = np.where(np.isinf(a_ks), 0.0, a_ks)
        gamma_o = a_gamma * surface_coverage(np.clip(a_nf * (E_app[0, a_cv] - a_e0), -700, 700), a_g)
        a_fwd_rate, a_bwd_rate, minus_ks, a_nf_gamma = 1 - a_alpha, -a_alpha, -a_ks, a_nf * a_gamma
        # Langmuir layers (g = 0) take the isotherm's closed form, and dθ/dη = θ(1 − θ) exactly.
        langmuir = not np.any(a_g)

    def faradaic(x, s, kc, s1, s2):
        """Column currents (A, IUPAC) at E_eff = x (per CV) with the step's histories, and their slopes (A/V):
        per kind (diffusing, EE, adsorbed; None where a kind has no column), (current, slope); EE: the two
        steps' reduction currents and slopes."""
        out_diff = out_ee = out_ads = None
        if diff:
            (gain, z, p, r), (dgain, dz, dp, dr) = kin.terms(d_nf * (x[d_cv] - d_e0), slopes=True)
            q = z - p * s - r * kc
            out_diff = -gain * q, minus_d_nf * (dgain * q + gain * (dz - dp * s - dr * kc))
        if ee:
            # Two linear-in-history step currents; their slopes by a forward difference (the 2×2 solve is cheap).
            # Both points in one call (rows x, x + dx): each is an element-wise pass, so no bit changes.
            (i1, j1), (i2, j2) = _ee_pair(steps.terms(x[e_cv] + _DX_PAIR), s1, s2)
            out_ee = (i1, i2), ((j1 - i1) / _DX, (j2 - i2) / _DX)
        if ads:
            eta = a_nf * (x[a_cv] - a_e0)
            if langmuir:
                theta = 1 / (1 + np.exp(-eta))
                theta_slope = theta * (1 - theta)
            else:
                theta = surface_coverage(eta, a_g)
                theta_slope = coverage_slope(theta, a_g)
            eq = a_gamma * theta
            excess = gamma_o - eq
            fwd, bwd = np.exp(a_fwd_rate * eta), np.exp(a_bwd_rate * eta)
            # Nernstian layers have an infinite rate: nothing of the old coverage's excess is kept.
            keep = np.exp(minus_ks * (fwd + bwd) * a_dt)
            d_new = a_nf_gamma * theta_slope * (1 - keep) \
                - excess * keep * a_dt * a_ks_finite * a_nf * (a_fwd_rate * fwd - a_alpha * bwd)
            # Oxidation of the layer is anodic current.
            out_ads = a_nFA * (eq + excess * keep - gamma_o) / a_dt, a_nFA * d_new / a_dt
        return out_diff, out_ee, out_ads

    def summed(out):
        """Per CV, the sums over its columns of the currents and of their slopes, IUPAC."""
        out_diff, out_ee, out_ads = out
        totals = np.zeros(n_cv), np.zeros(n_cv)
        for part, total in enumerate(totals):
            if out_diff:
                total += np.bincount(d_cv, out_diff[part], minlength=n_cv)
            if out_ee:
                total -= np.bincount(e_cv, out_ee[part][0] + out_ee[part][1], minlength=n_cv)
            if out_ads:
                total += np.bincount(a_cv, out_ads[part], minlength=n_cv)
        return totals

    x_prev = E_app[0].copy()
    drop, drop_prev = np.zeros(n_cv), np.zeros(n_cv)
    e_eff = np.empty((N, n_cv))
    charging = np.empty((N, n_cv))
    own = {kind: np.empty((N, len(group))) for kind, group in kinds.items()}
    cdl_dt = cdl / dt
    # Far from E° an exponential may overflow: inf then gives the right limits (no excess kept, no coverage).
    zeros = iter(lambda: 0.0, None)  # the history sums of a kind without columns
    histories = zip(plain.sums() if diff else zeros, chemical.sums() if diff and chemical else zeros,
                    first.sums() if ee else zeros, second.sums() if ee else zeros)
    with np.errstate(over="ignore"):
        for k, (s, kc, s1, s2) in zip(range(N), histories):
            E_k, cdl_k, cdl_dt_k, background_k = E_app[k], cdl[k], cdl_dt[k], background[k]
            x = E_k + 2 * drop - drop_prev  # the iR drop extrapolated from the last two steps
            for _ in range(NEWTON_STEPS):
                out = faradaic(x, s, kc, s1, s2)
                current, slope = summed(out)
                now = cdl_k * (x - x_prev) / dt + background_k + current
                step = (x - E_k + ru * now) / (1 + ru * (cdl_dt_k + slope))
                x = x - step
            # The currents at x by the last linearisation: off by O(step²), and exactly consistent with x.
            out_diff, out_ee, out_ads = out
            if diff:
                i, g = out_diff
                own["diff"][k] = i = i - g * step[d_cv]
                plain.push(k, -i)  # the chemical history's too
            if ee:
                (i1, i2), (g1, g2) = out_ee
                i1, i2 = i1 - g1 * step[e_cv], i2 - g2 * step[e_cv]
                first.push(k, i1)
                second.push(k, i2)
                own["ee"][k] = -(i1 + i2)
            if ads:
                i, g = out_ads
                own["ads"][k] = i = i - g * step[a_cv]
                gamma_o = gamma_o + i * a_dt / a_nFA
            charging[k] = cdl_k * (x - x_prev) / dt
            e_eff[k] = x
            drop_prev, drop, x_prev = drop, x - E_k, x
    column = {id(c): (kind, m) for kind, group in kinds.items() for m, (_, c) in enumerate(group)}
    results = []
    for j, (couples, _, E) in enumerate(items):
        currents = [own[column[id(c)][0]][:len(E), column[id(c)][1]] for c in couples]
        results.append((currents, charging[:len(E), j], e_eff[:len(E), j]))
    return results


def _ee_pair(terms, s1, s2):
    """The two steps' reduction currents of EE couples from ``EESteps.terms`` and the histories."""
    c1, s11, s12, c2, s21, s22 = terms
    return c1 + s11 * s1 + s12 * s2, c2 + s21 * s1 + s22 * s2
