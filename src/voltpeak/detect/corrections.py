"""What an electrochemist corrects before reading peaks: a blank (background) recording, the uncompensated
resistance, and the reference electrode the potentials are given against.

Reference potentials against the standard hydrogen electrode at 25 °C (V; Bard & Faulkner, 2nd ed., Table C.2;
Ag/AgCl 3 M KCl from the electrode makers' tables): the RHE sits at −0.0592·pH V against SHE, and a ferrocene
scale is set by the E1/2 of Fc/Fc⁺ the user measured against the file's own reference.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from voltpeak.errors import InputError
from voltpeak.voltammogram import Voltammogram, cycle_numbers, sweeps

REFERENCES_V = {
    "SHE": 0.0,
    "NHE": 0.0,
    "SCE": 0.241,  # saturated KCl
    "Ag/AgCl": 0.197,  # saturated KCl (the common one, and what a bare "Ag/AgCl" is taken for)
    "Ag/AgCl-3M": 0.210,  # 3 M KCl
    "MSE-sat": 0.640,  # Hg/Hg2SO4, saturated K2SO4
    "Hg/HgO-1M-NaOH": 0.140,
}
NERNST_V = 0.05916  # RT ln(10) / F at 25 °C
ALIASES = {"Ag/AgCl sat": "Ag/AgCl", "Ag/AgCl-sat": "Ag/AgCl", "Ag/AgCl 3M": "Ag/AgCl-3M", "SCE sat": "SCE",
           "Fc": "Fc/Fc+", "ferrocene": "Fc/Fc+", "MSE": "MSE-sat", "Hg/Hg2SO4": "MSE-sat", "Hg/Hg2SO4 sat": "MSE-sat",
           "Hg/HgO": "Hg/HgO-1M-NaOH", "Hg/HgO 1M NaOH": "Hg/HgO-1M-NaOH"}
SCALES = sorted(REFERENCES_V) + ["RHE", "Fc/Fc+"]


def _key(name: str) -> str:
    """A reference's name without case, spaces, brackets, dots or the filling's "KCl": "Ag/AgCl (sat. KCl)" →
    "ag/agclsat"."""
    return re.sub(r"[\s().,]|kcl", "", name.strip().lower())


def reference_name(name: str) -> str:
    """The canonical name of a reference electrode (case and spelling variants accepted); InputError if unknown."""
    known = {_key(n): n for n in SCALES} | {_key(alias): n for alias, n in ALIASES.items()}
    key = _key(name)
    if key in known:
        return known[key]
    raise InputError(f"reference {name!r} is not one voltpeak converts; known: {', '.join(SCALES)}")


def reference_shift(source: str, target: str, ph: float | None = None, fc_V: float | None = None) -> float:
    """Volts to add to potentials measured against ``source`` to give them against ``target``.

    Parameters
    ----------
    source, target : str
        Reference electrodes (``SCALES``, or their aliases). RHE needs ``ph``; Fc/Fc⁺ as the target needs
        ``fc_V``, the E1/2 of ferrocene measured against ``source`` (V). Fc/Fc⁺ cannot be a source.
    """
    source, target = reference_name(source), reference_name(target)
    if source == target:
        return 0.0
    if source == "Fc/Fc+":
        raise InputError("potentials against Fc/Fc+ cannot be converted to an electrode scale")
    if target == "Fc/Fc+":
        if fc_V is None:
            raise InputError("--reference Fc/Fc+ needs --fc E: the E1/2 of ferrocene measured against the file's "
                             "reference (V)")
        return -fc_V
    return _vs_she(source, ph) - _vs_she(target, ph)


def _vs_she(name: str, ph: float | None) -> float:
    if name == "RHE":
        if ph is None:
            raise InputError("the RHE scale needs the solution's pH (--ph)")
        return -NERNST_V * ph
    return REFERENCES_V[name]


def correct_ir(v: Voltammogram, ru_ohm: float, area_cm2: float | None = None, sign: float = 1.0) -> Voltammogram:
    """``v`` with the potential the electrode saw: E − I·R_u (I in A, anodic positive: ``sign`` is −1 for a file
    in the US convention; a current density needs the area)."""
    if ru_ohm < 0:
        raise InputError(f"--ru must not be negative, got {ru_ohm}")
    current_A = v.current * sign
    if v.quantity == "j":
        if not area_cm2:
            raise InputError(f"{v.source}: the file gives a current density; --ru needs --area to know the current")
        current_A = v.current * area_cm2 * 1e-4  # A/m² × m²
    return replace(v, potential_V=v.potential_V - current_A * ru_ohm)


def subtract_blank(v: Voltammogram, blank: Voltammogram, flip: bool = False) -> Voltammogram:
    """``v`` minus a blank recording (electrolyte alone), sweep by sweep: each sweep of ``v`` loses the blank's
    sweep of the same direction and cycle (the blank's last such sweep when it has fewer cycles), interpolated at
    the sweep's own potentials. The blank must cover the sweep's potentials (to 1 %). ``flip``: the blank's
    currents are in the other sign convention than ``v``'s."""
    if blank.quantity != v.quantity:
        raise InputError(f"the blank gives {blank.quantity}, {v.source} gives {v.quantity}: not comparable")
    own, theirs = sweeps(v.potential_V), sweeps(blank.potential_V)
    if not own or not theirs:
        raise InputError("the blank or the CV has no sweep (a constant potential)")
    own_cycles, their_cycles = cycle_numbers(v.potential_V, own), cycle_numbers(blank.potential_V, theirs)
    current = v.current.copy()
    for a, b, direction in own:
        same = [(their_cycles[s[0]], s) for s in theirs if s[2] == direction]
        if not same:
            raise InputError(f"the blank has no {'anodic' if direction > 0 else 'cathodic'}-going sweep")
        wanted = own_cycles[a]
        _, (c, d, _) = min(same, key=lambda cs: (cs[0] != wanted, -cs[0]))
        order = np.argsort(blank.potential_V[c:d])
        E, current_blank = blank.potential_V[c:d][order], blank.current[c:d][order] * (-1.0 if flip else 1.0)
        lo, hi = v.potential_V[a:b].min(), v.potential_V[a:b].max()
        slack = 0.01 * (hi - lo)
        if E[0] > lo + slack or E[-1] < hi - slack:
            raise InputError(f"the blank's sweep covers {E[0]:.3f}–{E[-1]:.3f} V, not the CV's {lo:.3f}–{hi:.3f} V")
        current[a:b] = v.current[a:b] - np.interp(v.potential_V[a:b], E, current_blank)
    return replace(v, current=current)
