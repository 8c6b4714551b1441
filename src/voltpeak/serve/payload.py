"""What the pages draw of a voltammogram: its sweeps as JSON (the label, review and analysis pages share it)."""

from __future__ import annotations

import numpy as np


def sweeps_payload(v) -> dict:
    """The CV per sweep: its cycle, direction and samples (E in V, I in the file's current unit: A or A/m²), with
    the quantity, unit, number of cycles and of samples."""
    cycles = v.cycle_numbers()
    sweeps = [{"index": k, "start": int(a), "cycle": int(cycles[a]), "direction": int(d),
               "E": np.round(v.potential_V[a:b], 7).tolist(), "I": [float(f"{x:.6g}") for x in v.current[a:b]]}
              for k, (a, b, d) in enumerate(v.sweeps())]
    return {"quantity": v.quantity, "unit": "A" if v.quantity == "I" else "A/m²",
            "cycles": int(cycles.max()) if len(cycles) else 0, "points": len(v), "sweeps": sweeps}
