"""Uncompensated resistance: the electrode sees E_eff = E − R_u·I, with I the total current that E_eff drives.

Every step solves E_eff = E_k − R_u (Σ faradaic(E_eff) + C_dl (E_eff − E_eff,k−1)/Δt + background) by a chord
Newton method (one numerical slope per step), for all CVs of a batch at once (one unknown per CV, its couples'
currents summed). The charging current then relaxes after a switch with the physical time constant R_u·C_dl.
Diffusing couples (E, EC, EC′) and adsorbed layers are supported; EE couples are not (yet).
"""

from __future__ import annotations

import numpy as np

from voltpeak.errors import InputError
from voltpeak.simulate.background import background as non_faradaic
from voltpeak.simulate.diffusion import F, Kinetics, R, _History
from voltpeak.simulate.waveform import pad_columns

CHORD_STEPS = 3  # Newton steps reusing the first slope: the residual falls ~1e4x per step at these drops
_DX = 1e-7  # V, for the numerical derivative


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
        nernst = np.isinf(a_ks)
        gamma_o = _ads_equilibrium(E_app[0, a_cv], a_nf, a_e0, a_gamma)

    def faradaic(x, k, s, kc):
        """Column currents (A, IUPAC) at E_eff = x (per CV) for step k, with the step's histories."""
        out_d = out_a = None
        if diff:
            gain, z, p, r = kin.terms(d_nf * (x[d_cv] - d_e0))
            out_d = -(gain * (z - p * s - r * kc))
        if ads:
            eta = a_nf * (x[a_cv] - a_e0)
            eq = _ads_equilibrium(x[a_cv], a_nf, a_e0, a_gamma)
            rates = np.where(nernst, 0.0, a_ks * (np.exp(np.clip((1 - a_alpha) * eta, -700, 700))
                                                   + np.exp(np.clip(-a_alpha * eta, -700, 700))))
            new = np.where(nernst, eq, eq + (gamma_o - eq) * np.exp(-np.minimum(rates * dt[a_cv], 700)))
            out_a = a_nFA * (new - gamma_o) / dt[a_cv]  # oxidation of the layer is anodic current
        return out_d, out_a

    def total(x, x_prev, k, s, kc):
        out_d, out_a = faradaic(x, k, s, kc)
        i = cdl * (x - x_prev) / dt + background[k]
        if out_d is not None:
            i = i + np.bincount(d_cv, out_d, minlength=n_cv)
        if out_a is not None:
            i = i + np.bincount(a_cv, out_a, minlength=n_cv)
        return i

    x_prev = E_app[0].copy()
    e_eff = np.empty((N, n_cv))
    charging = np.empty((N, n_cv))
    own_d = np.empty((N, len(diff)))
    own_a = np.empty((N, len(ads)))
    for k in range(N):
        s = plain.value(k) if diff else 0.0
        kc = chemical.value(k) if diff and chemical else 0.0
        x = x_prev + (E_app[k] - E_app[k - 1] if k else 0.0)
        now = total(x, x_prev, k, s, kc)
        slope = 1 + ru * (total(x + _DX, x_prev, k, s, kc) - now) / _DX
        for step in range(CHORD_STEPS):
            x = x - (x - E_app[k] + ru * now) / slope
            if step < CHORD_STEPS - 1:
                now = total(x, x_prev, k, s, kc)
        out_d, out_a = faradaic(x, k, s, kc)
        if diff:
            own_d[k] = out_d
            plain.push(k, -out_d)
            if chemical:
                chemical.push(k, -out_d)
        if ads:
            own_a[k] = out_a
            gamma_o = gamma_o + out_a * dt[a_cv] / a_nFA
        charging[k] = cdl * (x - x_prev) / dt
        e_eff[k] = x
        x_prev = x
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
