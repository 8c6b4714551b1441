"""A scan-rate series: several CVs of one system at different scan rates, read together.

Couples are followed across the files by their E1/2 (the nearest within ``MATCH_V``). For each couple:

- ip against v^½ (both peaks), a straight line through the origin's neighbourhood: Randles–Ševčík,
  ip = 0.4463 nFAC √(nFvD/RT), gives D from the slope where n, the area A and the concentration C are given;
- log|ip| against log v: slope 0.5 for a diffusing species, 1 for a surface-confined one;
- Ep against log v: flat for a reversible couple; for an irreversible peak |dEp/d log v| = 2.303 RT / (2αnF)
  (Nicholson–Shain; a surface-confined one, Laviron 1979: 2.303 RT / (αnF)), cathodic — (1 − α) for the anodic
  peak — which gives α; reported for couples with ΔEp over 150 mV only.

Scan rates come from the files (the rate they state, else |dE/dt| from their time column), or are given.
"""

from __future__ import annotations

import numpy as np

from voltpeak.errors import InputError

F, R = 96485.33212, 8.314462618  # C/mol, J/(mol K)
MATCH_V = 0.05  # a couple is the same across scan rates when its E1/2 moves less than this


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
                   conc_mM: float | None = None, temperature_K: float = 298.15) -> dict:
    """The series figures of couples seen in ``voltpeak detect`` lines at scan ``rates`` (V/s, one per line).

    Returns ``{"couples": [...]}``, one entry per couple followed in at least three files: its E1/2 per rate,
    the three fits of the module text per peak direction, and D (cm²/s) where n, area and concentration allow.
    """
    if len(lines) != len(rates) or len(lines) < 3:
        raise InputError("a scan-rate series needs at least three CVs, each with its scan rate")
    order = np.argsort(rates)
    lines, rates = [lines[k] for k in order], [rates[k] for k in order]
    if len(set(rates)) < 3:
        raise InputError("a scan-rate series needs at least three different scan rates")
    if not all(np.isfinite(r) and r > 0 for r in rates):
        raise InputError(f"scan rates must be positive, got {rates}")
    densities = any(line.get("quantity") == "j" for line in lines)
    tracks: list[list[tuple[float, dict]]] = []  # per couple: (rate, couple record)
    for rate, line in zip(rates, lines):
        for c in line.get("couples", []):
            near = min(tracks, key=lambda t: abs(t[-1][1]["E_half"] - c["E_half"]), default=None)
            if near is not None and abs(near[-1][1]["E_half"] - c["E_half"]) <= MATCH_V and near[-1][0] != rate:
                near.append((rate, c))
            else:
                tracks.append([(rate, c)])
    out = []
    f = F / (R * temperature_K)
    for track in (t for t in tracks if len(t) >= 3):
        v = np.array([r for r, _ in track])
        entry = {"E_half": [c["E_half"] for _, c in track], "scan_rates": v.tolist(),
                 "delta_Ep": [c["delta_Ep"] for _, c in track]}
        for side, key in (("anodic", "ipa"), ("cathodic", "ipc")):
            ip = np.array([abs(c[key]) if c[key] is not None else np.nan for _, c in track])
            ep = np.array([c["E_pa" if side == "anodic" else "E_pc"] for _, c in track])
            ok = np.isfinite(ip) & (ip > 0)
            if ok.sum() < 3:
                continue
            fit = {"scan_rates": v[ok].tolist(), "ip": ip[ok].tolist(), "Ep": ep[ok].tolist(),
                   "ip_vs_sqrt_v": _line(np.sqrt(v[ok]), ip[ok]),
                   "log_ip_vs_log_v": _line(np.log10(v[ok]), np.log10(ip[ok])),
                   "Ep_vs_log_v": _line(np.log10(v[ok]), ep[ok])}
            slope = fit["log_ip_vs_log_v"]["slope"]
            fit["regime"] = "diffusion" if abs(slope - 0.5) <= 0.15 else "adsorption" if abs(slope - 1) <= 0.15 \
                else "mixed"
            shift = abs(fit["Ep_vs_log_v"]["slope"])  # V per decade
            # α only where the kinetics show: a slow couple (ΔEp over 150 mV) whose peak moves with the scan rate
            # (a reversible couple's peaks barely move, and noise would give any α).
            if shift > 0.01 and np.mean(entry["delta_Ep"]) > 0.15:
                # Irreversible diffusion: 2.303 RT/(2αnF) per decade; a surface layer (Laviron): 2.303 RT/(αnF).
                alpha_n = np.log(10) / (f * shift * (1 if fit["regime"] == "adsorption" else 2))
                fit["alpha"] = float(alpha_n / n if side == "cathodic" else 1 - alpha_n / n)
            # Randles–Ševčík for a reversible diffusing couple (not a slow one, whose α was read: its peak follows
            # another law), from currents (a density file's ip are A/m², which the area would count twice).
            if area_cm2 and conc_mM and fit["regime"] != "adsorption" and "alpha" not in fit and not densities:
                # ip = 0.4463 n F A C √(n f v D), C in mol/cm³ (current in A).
                k = 0.4463 * n * F * area_cm2 * conc_mM * 1e-6 * np.sqrt(n * f)
                fit["D_cm2_s"] = float((fit["ip_vs_sqrt_v"]["slope"] / k) ** 2)
            entry[side] = fit
        out.append(entry)
    return {"couples": out}
