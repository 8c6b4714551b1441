"""Electrode kinetics of a fitted couple: k0, α and Nicholson's ψ, with their uncertainties and a cross-check.

The cycle's fit (``voltpeak.detect.fit``) gives each couple's E°, log k0 and α with standard deviations. What the
shape of a CV fixes is the dimensionless rate ψ = k0 / √(π D f v) (Nicholson 1965; f = F/RT, n = 1): k0 itself
needs the scan rate v (the file's time or stated rate) and D (assumed 1e-5 cm²/s here: k0 scales with √D).
Nicholson's working curve ψ(ΔEp) gives ψ again from the peak separation alone, an independent check of the fit
(Lavagnini et al. 2004's fit of the curve for ΔEp up to 200 mV, Klingler & Kochi 1981's irreversible limit beyond).
The class follows Matsuda & Ayabe (1955) on Λ = ψ√π: reversible for Λ ≥ 15, irreversible for Λ ≤ 10^(−2(1+α)).
"""

from __future__ import annotations

import numpy as np

from voltpeak.detect.fit import ALPHA_RANGE, D_UNIT_CM2_S, LOGK0_RANGE, FittedCouple, psi_nicholson, psi_of

MAX_ALPHA_SD = 0.1  # α is given only where the fit determines it this well
MAX_LOG_K0_SD = 0.3  # k0 (and ψ) are given only within a factor 2 (1σ)
REVERSIBLE_LAMBDA = 15.0  # Matsuda & Ayabe: Λ at or above this is reversible at this scan rate
REVERSIBLE = "reversible at this scan rate: k0 is beyond what the CV's shape can tell"  # why k0 is withheld


def kinetics(fit: FittedCouple, rate_V_s: float, rate_known: bool, delta_ep_V: float) -> dict:
    """The couple record's ``"kinetics"``: E° (V), ψ, k0 (cm/s), α and a following chemical step's rate k_chem
    (1/s, EC) with their standard deviations, ψ from Nicholson's working curve, and ``"withheld"`` naming each
    value the data cannot fix, with why.

    Parameters
    ----------
    fit : FittedCouple
        The couple as the cycle's fit gives it (log k0 at D = 1e-5 cm²/s and the rate ``rate_V_s``).
    rate_V_s : float
        Scan rate the fit's time step implies (V/s).
    rate_known : bool
        Whether that rate is the file's (its time or stated rate), not a nominal one: k0 needs it.
    delta_ep_V : float
        The couple's own peak separation (V).
    """
    out = {"E0": round(fit.e0, 6), "E0_sd": _sig(fit.sd_e0)}
    withheld = {}
    at_top = fit.log_k0 + max(fit.sd_log_k0, 0.1) >= LOGK0_RANGE[1] or \
        psi_of(fit.log_k0, rate_V_s) * np.sqrt(np.pi) >= 10 * REVERSIBLE_LAMBDA
    if at_top:
        withheld["k0_cm_s"] = REVERSIBLE
    elif not np.isfinite(fit.sd_log_k0) or fit.sd_log_k0 > MAX_LOG_K0_SD or fit.log_k0 <= LOGK0_RANGE[0] + 0.05:
        withheld["k0_cm_s"] = "not determined by the fit (uncertain beyond a factor 2)"
    else:
        out["psi"] = _sig(psi_of(fit.log_k0, rate_V_s))
        out["log10_psi_sd"] = _sig(fit.sd_log_k0)
        if rate_known:
            out["k0_cm_s"] = _sig(10.0 ** fit.log_k0)
            out["k0_sd_factor"] = _sig(10.0 ** fit.sd_log_k0)
            out["D_assumed_cm2_s"] = D_UNIT_CM2_S
        else:
            withheld["k0_cm_s"] = "the file gives no time or scan rate; ψ is given (k0 = ψ √(π D f v))"
    edge = min(fit.alpha - ALPHA_RANGE[0], ALPHA_RANGE[1] - fit.alpha) < 0.01
    if at_top or not np.isfinite(fit.sd_alpha) or fit.sd_alpha > MAX_ALPHA_SD or edge:
        withheld["alpha"] = "not determined by the fit" + (" (a reversible couple's shape holds none)" if at_top
                                                            else "")
    else:
        out["alpha"] = round(fit.alpha, 3)
        out["alpha_sd"] = _sig(fit.sd_alpha)
    if np.isfinite(fit.log_kf):  # the fit's following chemical step (EC)
        if not np.isfinite(fit.sd_log_kf) or fit.sd_log_kf > MAX_LOG_K0_SD:
            withheld["k_chem_s"] = "a following chemical step, its rate not determined by the fit"
        elif rate_known:
            out["k_chem_s"] = _sig(10.0 ** fit.log_kf)
            out["k_chem_sd_factor"] = _sig(10.0 ** fit.sd_log_kf)
        else:
            withheld["k_chem_s"] = "a following chemical step; the file gives no time or scan rate for its rate"
    nicholson = psi_nicholson(delta_ep_V, out.get("alpha", 0.5))
    if nicholson is not None and nicholson > 0:
        out["psi_nicholson"] = _sig(nicholson)
    if withheld:
        out["withheld"] = withheld
    return out


def kinetic_class(record: dict) -> str | None:
    """The class a ``kinetics`` record gives: ``chemically coupled`` where the fit has a following chemical step,
    else Matsuda & Ayabe's ``reversible``, ``quasi-reversible`` or ``irreversible``; None where the fit gives no
    ψ and is not reversible (the caller's ΔEp rule decides)."""
    if "k_chem_s" in record or "k_chem_s" in record.get("withheld", {}):
        return "chemically coupled"
    if "psi" not in record:
        return "reversible" if record.get("withheld", {}).get("k0_cm_s") == REVERSIBLE else None
    lam = record["psi"] * np.sqrt(np.pi)
    if lam >= REVERSIBLE_LAMBDA:
        return "reversible"
    return "irreversible" if lam <= 10 ** (-2 * (1 + record.get("alpha", 0.5))) else "quasi-reversible"


def _sig(x: float) -> float | None:
    """``x`` to 4 significant figures; None where it is not finite."""
    return float(f"{x:.4g}") if np.isfinite(x) else None
