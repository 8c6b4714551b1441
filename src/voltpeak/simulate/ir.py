"""Uncompensated resistance: the electrode sees E_eff = E − R_u·I, with I the total current that E_eff drives.

Every step solves E_eff = E_k − R_u (Σ faradaic(E_eff) + C_dl (E_eff − E_eff,k−1)/Δt + background) by Newton's
method with analytic slopes, for all CVs of a batch at once (one unknown per CV, its couples'
currents summed). The charging current then relaxes after a switch with the physical time constant R_u·C_dl.
Diffusing couples (E, EC, EC′) and adsorbed layers are supported; EE couples are not (yet).
"""

from __future__ import annotations

import numpy as np

from voltpeak.errors import InputError
from voltpeak.simulate.background import background as non_faradaic
from voltpeak.simulate.diffusion import F, Kinetics, R, _History
from voltpeak.simulate.waveform import pad_columns

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
    for couples, _, _ in items:
        if any(c.mechanism == "EE" for c in couples):
            raise InputError("uncompensated resistance (ru_ohm) is not simulated with EE couples yet")
    n_cv = len(items)
    E_app = pad_columns([E for _, _, E in items])  # (N, n_cv)
    N = len(E_app)
    cond = [c for _, c, _ in items]
    dt = np.array([c.step_V / c.scan_rate_V_s for c in cond])
    ru = np.array([c.ru_ohm for c in cond])
    cdl = np.array([c.cdl_F for c in cond])
    # The background flows through R_u too; the charging current is solved for below.
    background = np.column_stack([non_faradaic(E_app[:, j], None, cond[j], charging=np.zeros(N))
                                  for j in range(n_cv)])

    cols = [(j, c) for j, (couples, _, _) in enumerate(items) for c in couples]
    diff = [(j, c) for j, c in cols if c.mechanism != "ads"]
    ads = [(j, c) for j, c in cols if c.mechanism == "ads"]
    d_cv = np.array([j for j, _ in diff], dtype=int)
    a_cv = np.array([j for j, _ in ads], dtype=int)

    def arr(group, f):
        return np.array([f(cond[j], c) for j, c in group], dtype=float)

    if diff:
        # The same numbers that reduction_current takes, one column per couple.
        dt_d, d_e0, n, area, c_ox, c_red, d_ox, d_red, k0, alpha, temp, code, k_f, k_b = np.array(
            [c.kernel_args(cond[j]) for j, c in diff], dtype=float).T
        kin = Kinetics(dt_d, n * F * area, alpha, d_ox, d_red, c_ox, c_red, k0, code, k_f, k_b)
        d_nf = n * F / (R * temp)
        plain = _History(N, len(diff))
        chemical = _History(N, len(diff), kin.chem_dt) if np.any(kin.chem_dt > 0) else None
    if ads:
        a_nf = arr(ads, lambda cd, c: c.n * F / (R * cd.temperature_K))
        a_e0 = arr(ads, lambda cd, c: c.e0_V)
        a_gamma = arr(ads, lambda cd, c: c.gamma_mol_cm2)
        a_ks = arr(ads, lambda cd, c: c.k_s_per_s)
        a_alpha = arr(ads, lambda cd, c: c.alpha)
        a_nFA = arr(ads, lambda cd, c: c.n * F * cd.area_cm2)
        a_ks_finite = np.where(np.isinf(a_ks), 0.0, a_ks)
        a_dt = dt[a_cv]
        gamma_o = _ads_equilibrium(E_app[0, a_cv], a_nf, a_e0, a_gamma)

    def faradaic(x, s, kc):
        """Column currents (A, IUPAC) at E_eff = x (per CV) with the step's histories, and their slopes (A/V)."""
        i_d = g_d = i_a = g_a = None
        if diff:
            (gain, z, p, r), (dgain, dz, dp, dr) = kin.terms(d_nf * (x[d_cv] - d_e0), slopes=True)
            q = z - p * s - r * kc
            i_d, g_d = -gain * q, -d_nf * (dgain * q + gain * (dz - dp * s - dr * kc))
        if ads:
            eta = a_nf * (x[a_cv] - a_e0)
            eq = a_gamma / (1 + np.exp(-eta))
            fwd, bwd = np.exp((1 - a_alpha) * eta), np.exp(-a_alpha * eta)
            # Nernstian layers have an infinite rate: nothing of the old coverage's excess is kept.
            keep = np.exp(-a_ks * (fwd + bwd) * a_dt)
            d_new = a_nf * eq * (1 - eq / a_gamma) * (1 - keep) \
                - (gamma_o - eq) * keep * a_dt * a_ks_finite * a_nf * ((1 - a_alpha) * fwd - a_alpha * bwd)
            i_a, g_a = a_nFA * (eq + (gamma_o - eq) * keep - gamma_o) / a_dt, a_nFA * d_new / a_dt
        return i_d, g_d, i_a, g_a

    def summed(per_column_d, per_column_a):
        out = np.zeros(n_cv)
        if diff:
            out += np.bincount(d_cv, per_column_d, minlength=n_cv)
        if ads:
            out += np.bincount(a_cv, per_column_a, minlength=n_cv)
        return out

    x_prev = E_app[0].copy()
    drop, drop_prev = np.zeros(n_cv), np.zeros(n_cv)
    e_eff = np.empty((N, n_cv))
    charging = np.empty((N, n_cv))
    own_d = np.empty((N, len(diff)))
    own_a = np.empty((N, len(ads)))
    # Far from E° an exponential may overflow: inf then gives the right limits (no excess kept, no coverage).
    with np.errstate(over="ignore"):
        for k in range(N):
            s = plain.value(k) if diff else 0.0
            kc = chemical.value(k) if diff and chemical else 0.0
            x = E_app[k] + 2 * drop - drop_prev  # the iR drop extrapolated from the last two steps
            for _ in range(NEWTON_STEPS):
                i_d, g_d, i_a, g_a = faradaic(x, s, kc)
                now = cdl * (x - x_prev) / dt + background[k] + summed(i_d, i_a)
                step = (x - E_app[k] + ru * now) / (1 + ru * (cdl / dt + summed(g_d, g_a)))
                x = x - step
            # The currents at x by the last linearisation: off by O(step²), and exactly consistent with x.
            if diff:
                i_d = i_d - g_d * step[d_cv]
                own_d[k] = i_d
                plain.push(k, -i_d)
                if chemical:
                    chemical.push(k, -i_d)
            if ads:
                i_a = i_a - g_a * step[a_cv]
                own_a[k] = i_a
                gamma_o = gamma_o + i_a * a_dt / a_nFA
            charging[k] = cdl * (x - x_prev) / dt
            e_eff[k] = x
            drop_prev, drop, x_prev = drop, x - E_app[k], x
    results = []
    for j, (couples, _, E) in enumerate(items):
        own = []
        for c in couples:
            if c.mechanism == "ads":
                own.append(own_a[:len(E), [m for m, (jj, cc) in enumerate(ads) if jj == j and cc is c][0]])
            else:
                own.append(own_d[:len(E), [m for m, (jj, cc) in enumerate(diff) if jj == j and cc is c][0]])
        results.append((own, charging[:len(E), j], e_eff[:len(E), j]))
    return results


def _ads_equilibrium(x, nf, e0, gamma):
    """Oxidised coverage of a Nernstian adsorbed layer at potential x."""
    return gamma / (1 + np.exp(np.clip(-nf * (x - e0), -700, 700)))
