"""A scan-rate series: several CVs of one system at different scan rates, read together.

Couples are followed across the files by their E1/2 (the nearest within ``MATCH_V``). For each couple:

- ip against v^½ (both peaks), a straight line through the origin's neighbourhood: Randles–Ševčík,
  ip = 0.4463 nFAC √(nFvD/RT), gives D from the slope where n, the area A and the concentration C are given;
- log|ip| against log v: slope 0.5 for a diffusing species, 1 for a surface-confined one;
- Ep against log v: flat for a reversible couple; for an irreversible peak |dEp/d log v| = 2.303 RT / (2αnF)
  (Nicholson–Shain; a surface-confined one, Laviron 1979: 2.303 RT / (αnF)), cathodic — (1 − α) for the anodic
  peak — which gives α; reported for couples with ΔEp over 150 mV only.

Scan rates come from the files (the rate they state, else |dE/dt| from their time column), or are given.

Every derived number is gated, and a number withheld says why (``withheld``): a fit explaining less than
``R2_MIN`` of its points' variance gives no number; the regime needs the log–log slope within ``SLOPE_TOLERANCE``
of 0.5 or 1; α must lie in (0, 1); D comes only from a diffusion-controlled, reversible couple. Files in which a
couple was not found are named (``missing``); anodic and cathodic D more than ``D_AGREE``× apart are a warning.
"""

from __future__ import annotations

import numpy as np

from voltpeak.errors import InputError
from voltpeak.simulate.diffusion import F, R  # C/mol, J/(mol K)

MATCH_V = 0.05  # a couple is the same across scan rates when its E1/2 moves less than this
R2_MIN = 0.9  # a straight-line fit that explains less of its points gives no number
SLOPE_TOLERANCE = 0.1  # log ip–log v: 0.5 ± 0.1 diffusion, 1 ± 0.1 adsorption
SLOW_DELTA_EP = 0.15  # V: a couple whose mean ΔEp is over this is slow (its peaks move with log v)
D_AGREE = 2.0  # anodic and cathodic D further apart than this factor: a warning


def scan_rate(v) -> float | None:
    """The CV's scan rate (V/s): the one its file states, else the median over its sweeps of each sweep's span
    over its duration (per-sample ratios would read 0 where a potentiostat repeats a potential); None when
    neither is known."""
    if v.scan_rate_V_s:
        return float(v.scan_rate_V_s)
    if v.time_s is None or len(v) < 3:
        return None
    rates = [abs(v.potential_V[b - 1] - v.potential_V[a]) / (v.time_s[b - 1] - v.time_s[a])
             for a, b, _ in v.sweeps() if v.time_s[b - 1] > v.time_s[a]]
    rate = float(np.median(rates)) if rates else 0.0
    return rate if np.isfinite(rate) and rate > 0 else None


def _line(x: np.ndarray, y: np.ndarray) -> dict:
    slope, intercept = np.polyfit(x, y, 1)
    fitted = slope * x + intercept
    total = float(((y - y.mean()) ** 2).sum())
    return {"slope": float(slope), "intercept": float(intercept),
            "r2": 1.0 - float(((y - fitted) ** 2).sum()) / total if total > 0 else 1.0}


def analyse_series(lines: list[dict], rates: list[float], n: int = 1, area_cm2: float | None = None,
                   conc_mM: float | None = None, temperature_K: float = 298.15,
                   sources: list[str] | None = None) -> dict:
    """The series figures of couples seen in ``voltpeak detect`` lines at scan ``rates`` (V/s, one per line).

    Returns ``{"couples": [...]}``, one entry per couple followed in at least three files: its E1/2 per rate,
    the files it was not found in (``missing``, named by ``sources``), the three fits of the module text per peak
    direction with their R², and α and D (cm²/s) where they pass the gates — else ``withheld`` says why.
    """
    if len(lines) != len(rates) or len(lines) < 3:
        raise InputError("a scan-rate series needs at least three CVs, each with its scan rate")
    sources = list(sources) if sources else [f"file {k + 1}" for k in range(len(lines))]
    order = np.argsort(rates)
    lines, rates, sources = [lines[k] for k in order], [rates[k] for k in order], [sources[k] for k in order]
    if len(set(rates)) < 3:
        raise InputError("a scan-rate series needs at least three different scan rates")
    if not all(np.isfinite(r) and r > 0 for r in rates):
        raise InputError(f"scan rates must be positive, got {rates}")
    densities = any(line.get("quantity") == "j" for line in lines)
    tracks: list[list[tuple[float, dict, int]]] = []  # per couple: (rate, couple record, file index)
    for k, (rate, line) in enumerate(zip(rates, lines)):
        for c in line.get("couples", []):
            near = min(tracks, key=lambda t: abs(t[-1][1]["E_half"] - c["E_half"]), default=None)
            if near is not None and abs(near[-1][1]["E_half"] - c["E_half"]) <= MATCH_V and near[-1][0] != rate:
                near.append((rate, c, k))
            else:
                tracks.append([(rate, c, k)])
    out = []
    for track in (t for t in tracks if len(t) >= 3):
        v = np.array([r for r, _, _ in track])
        found = {k for _, _, k in track}
        entry = {"E_half": [c["E_half"] for _, c, _ in track], "scan_rates": v.tolist(),
                 "delta_Ep": [c["delta_Ep"] for _, c, _ in track],
                 "missing": [sources[k] for k in range(len(lines)) if k not in found], "warnings": []}
        slow = float(np.mean(entry["delta_Ep"])) > SLOW_DELTA_EP
        for side, key in (("anodic", "ipa"), ("cathodic", "ipc")):
            ip = np.array([abs(c[key]) if c[key] is not None else np.nan for _, c, _ in track])
            ep = np.array([c["E_pa" if side == "anodic" else "E_pc"] for _, c, _ in track])
            ok = np.isfinite(ip) & (ip > 0)
            if ok.sum() < 3:
                continue
            fit = {"scan_rates": v[ok].tolist(), "ip": ip[ok].tolist(), "Ep": ep[ok].tolist(),
                   "ip_vs_sqrt_v": _line(np.sqrt(v[ok]), ip[ok]),
                   "log_ip_vs_log_v": _line(np.log10(v[ok]), np.log10(ip[ok])),
                   "Ep_vs_log_v": _line(np.log10(v[ok]), ep[ok]), "withheld": {}}
            fit["regime"] = _regime(fit["log_ip_vs_log_v"])
            _alpha(fit, side, slow, n, temperature_K)
            _diffusion(fit, slow, densities, area_cm2, conc_mM, n, temperature_K)
            entry[side] = fit
        d = [entry[side]["D_cm2_s"] for side in ("anodic", "cathodic") if "D_cm2_s" in entry.get(side, {})]
        if len(d) == 2 and max(d) > D_AGREE * min(d):
            entry["warnings"].append(f"D anodic and cathodic {max(d) / min(d):.1f}× apart: a peak current of one "
                                     "side is not diffusion-limited (a following reaction, an overlapping wave)")
        out.append(entry)
    return {"couples": out}


def _regime(fit: dict) -> str:
    """What the log ip–log v slope says: "diffusion" (0.5), "adsorption" (1), "mixed" between, "unclear" when the
    points do not lie on a line."""
    if fit["r2"] < R2_MIN:
        return "unclear"
    slope = fit["slope"]
    return "diffusion" if abs(slope - 0.5) <= SLOPE_TOLERANCE else "adsorption" \
        if abs(slope - 1) <= SLOPE_TOLERANCE else "mixed"


def _alpha(fit: dict, side: str, slow: bool, n: int, temperature_K: float):
    """α from the peak's shift per decade of scan rate (module text), where the kinetics show: a slow couple
    whose peak moves on a line; else (a slow couple) ``withheld["alpha"]`` says why."""
    line = fit["Ep_vs_log_v"]
    shift = abs(line["slope"])  # V per decade
    if not slow:  # a reversible couple's peaks barely move, and noise would give any α: none is asked of it
        return
    if line["r2"] < R2_MIN or shift <= 0.01:
        fit["withheld"]["alpha"] = f"Ep does not move on a line with log v (R² {line['r2']:.2f}, " \
                                   f"{shift * 1000:.0f} mV per decade)"
        return
    # Irreversible diffusion: 2.303 RT/(2αnF) per decade; a surface layer (Laviron): 2.303 RT/(αnF).
    alpha_n = np.log(10) * R * temperature_K / (F * shift * (1 if fit["regime"] == "adsorption" else 2))
    alpha = float(alpha_n / n if side == "cathodic" else 1 - alpha_n / n)
    if 0 < alpha < 1:
        fit["alpha"] = alpha
    else:
        fit["withheld"]["alpha"] = f"{alpha:.2f} from the Ep–log v slope lies outside (0, 1)"


def _diffusion(fit: dict, slow: bool, densities: bool, area_cm2, conc_mM, n: int, temperature_K: float):
    """D by Randles–Ševčík, ip = 0.4463 n F A C √(n F v D / RT) (current in A, C in mol/cm³), from a reversible,
    diffusion-controlled couple whose ip lie on a line in √v; else ``withheld["D_cm2_s"]`` says why."""
    ip_line, log_line = fit["ip_vs_sqrt_v"], fit["log_ip_vs_log_v"]
    why = ("needs the electrode area and concentration (--area, --conc)" if not (area_cm2 and conc_mM) else
           "current densities: Randles–Ševčík needs currents" if densities else
           "a slow couple: the reversible Randles–Ševčík form does not hold" if slow else
           f"not diffusion-controlled (log ip–log v slope {log_line['slope']:.2f}, R² {log_line['r2']:.2f})"
           if fit["regime"] != "diffusion" else
           f"ip does not lie on a line in √v (R² {ip_line['r2']:.2f})" if ip_line["r2"] < R2_MIN else "")
    if why:
        fit["withheld"]["D_cm2_s"] = why
        return
    k = 0.4463 * n * F * area_cm2 * conc_mM * 1e-6 * np.sqrt(n * F / (R * temperature_K))
    fit["D_cm2_s"] = float((ip_line["slope"] / k) ** 2)
