"""Gamry Framework ``.DTA`` files (6.x and 7.x layouts): header keys, then one or more ``CURVEn TABLE`` blocks.

All CURVE tables are joined in time order; cycles are found from the potential afterwards, because Gamry's
tables do not always hold whole cycles (a short last table may only complete the previous one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voltpeak.errors import ReadError
from voltpeak.read.table import finish

_POTENTIAL = ("Vf", "V", "Vm")
_CURRENT = ("Im", "I", "A")
_TIME = ("T", "Time")


def is_gamry(text: str) -> bool:
    return text.lstrip("\ufeff").startswith("EXPLAIN")


def _number(cell: str) -> float:
    cell = cell.strip()
    if "," in cell and "." not in cell:  # decimal comma of some Windows locales
        cell = cell.replace(",", ".")
    return float(cell)


def _pick(names: list[str], wanted: tuple[str, ...]) -> int | None:
    for w in wanted:
        if w in names:
            return names.index(w)
    return None


def read_gamry(path: Path, text: str):
    """Read a Gamry ``.DTA`` file.

    Returns
    -------
    Voltammogram
        E in V (``Vf``, V vs. the reference), I in A (``Im``), t in s (``T``); scan rate from ``SCANRATE``.
    """
    lines = text.splitlines()
    header: dict[str, str] = {}
    E, current, t = [], [], []
    tables = 0
    i = 0
    while i < len(lines):
        parts = lines[i].split("\t")
        key = parts[0].strip()
        if len(parts) >= 2 and parts[1].strip() == "TABLE":
            if not key.startswith("CURVE") or i + 2 >= len(lines):
                i += 1  # OCVCURVE and other tables are not part of the CV
                continue
            names = [c.strip() for c in lines[i + 1].split("\t")]
            k_e, k_i, k_t = _pick(names, _POTENTIAL), _pick(names, _CURRENT), _pick(names, _TIME)
            if k_e is None or k_i is None:
                has = ", ".join(filter(None, names))
                raise ReadError(f"{path.name}: {key} has no potential/current columns (has {has})")
            j = i + 3  # skip the names and units rows
            while j < len(lines) and lines[j].startswith("\t"):
                cells = lines[j].split("\t")
                try:
                    E.append(_number(cells[k_e]))
                    current.append(_number(cells[k_i]))
                    t.append(_number(cells[k_t]) if k_t is not None else np.nan)
                except (ValueError, IndexError):
                    raise ReadError(f"{path.name}: unreadable row {j + 1} in {key}") from None
                j += 1
            tables += 1
            i = j
            continue
        if key and len(parts) >= 3 and key.isupper():
            header[key] = parts[2].strip()
        i += 1
    if not tables:
        raise ReadError(f"{path.name}: Gamry file without a CURVE table (not a CV experiment?)")
    meta = {"format": "gamry", "tag": header.get("TAG"), "framework": header.get("FRAMEWORKVERSION"),
            "curves": tables}
    scan_rate = None
    try:
        scan_rate = float(header["SCANRATE"].replace(",", ".")) * 1e-3  # file unit: mV/s
    except (KeyError, ValueError):
        pass
    time = np.asarray(t) if np.isfinite(t).all() else None
    return finish(path, E, current, time, scan_rate_V_s=scan_rate, meta=meta)
