"""Run MADAP's cyclic-voltammetry analysis (``madap.echem.voltammetry.voltammetry_CV``) on CVs given as an .npz.

Runs in MADAP's own environment (``make madap-env``: it pins old attrs and impedance), not voltpeak's:

    .venv-madap/bin/python benchmarks/madap_run.py CASES.npz OUT.json

CASES.npz holds ``E_k`` and ``I_k`` arrays (V, A) for k = 0..n−1. OUT.json gets, per CV, MADAP's E1/2 pairs (its
E1/2 and the anodic and cathodic peak currents, as MADAP pairs them), or the error MADAP raised.
"""

import json
import sys
from types import SimpleNamespace

import numpy as np
from madap.echem.voltammetry.voltammetry_CV import Voltammetry_CV


def analyse(E, current, rate=0.1):
    # As MADAP's own command line builds it (float arrays), without the time column: MADAP 1.2.8 fails on one
    # (it tests an array's truth value, and converts the time before it sets the unit it reads). The scan rate
    # only enters its diffusion coefficients, not used here.
    args = SimpleNamespace(temperature=298.15, applied_scan_rate=rate, mass_of_active_material=None,
                           electrode_area=None, concentration_of_active_material=None, window_size=1,
                           measured_current_units="A", measured_time_units="s", number_of_electrons=1)
    cv = Voltammetry_CV(np.asarray(current, float), np.asarray(E, float), None, None, args, scan_rate=None)
    cv.analyze()
    pairs = []
    for cycle, found in cv.E_half_params.items():
        for pair in found.values():
            a = cv.anodic_peak_params[cycle][pair["anodic_peak"]]
            c = cv.cathodic_peak_params[cycle][pair["cathodic_peak"]]
            pairs.append({"E_half": float(pair["E_half"]), "ipa": float(a["current"]), "ipc": float(c["current"])})
    return pairs


def main():
    data = np.load(sys.argv[1])
    n = len([k for k in data.files if k.startswith("E_")])
    out = []
    for k in range(n):
        try:
            out.append({"pairs": analyse(data[f"E_{k}"], data[f"I_{k}"])})
        except Exception as e:  # MADAP's own failure on a CV counts as nothing found
            out.append({"pairs": [], "error": f"{type(e).__name__}: {e}"[:200]})
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
