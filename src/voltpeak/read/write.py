"""Write a voltammogram as a CSV/TXT table in one of the header styles the reader understands (docs/cli.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voltpeak.voltammogram import Voltammogram

# name: (potential header, current header, current-density header, delimiter, decimal mark, unit factor of I, of j)
# The factors convert A (or A/m²) into the unit the header names.
STYLES = {
    "si": ("E / V", "I / A", "j / A m-2", ",", ".", 1.0, 1.0),
    "ma": ("E / V", "I / mA", "j / mA cm-2", ",", ".", 1e3, 0.1),
    "paren": ("Potential (V)", "Current (uA)", "Current density (uA/cm2)", "\t", ".", 1e6, 100.0),
    "eclab": ("Ewe/V", "<I>/mA", "<j>/mA cm-2", ";", ",", 1e3, 0.1),
    "bare": ("E", "I", "j", " ", ".", 1.0, 1.0),
    "chi": ("Potential/V", "Current/A", "Current density/A m-2", ", ", ".", 1.0, 1.0),
}


def write_table(v: Voltammogram, path: str | Path, style: str = "si") -> Path:
    """Write ``v`` as a table with a header row; time is written first when ``v`` has it.

    Parameters
    ----------
    v : Voltammogram
    path : str or Path
    style : str
        One of ``STYLES``: header wording, delimiter, decimal mark and current unit.
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, not {style!r}")
    e_head, i_head, j_head, delim, decimal, i_factor, j_factor = STYLES[style]
    density = v.quantity == "j"
    columns = [v.potential_V, v.current * (j_factor if density else i_factor)]
    header = [e_head, j_head if density else i_head]
    if v.time_s is not None:
        columns.insert(0, v.time_s)
        header.insert(0, "t / s" if style != "bare" else "t")
    table = np.column_stack(columns)
    row = delim.join(["%.8g"] * table.shape[1]) + "\n"
    body = (row * len(table)) % tuple(table.ravel().tolist())  # one formatting pass: fast for long tables
    if decimal == ",":
        body = body.replace(".", ",")
    path = Path(path)
    path.write_text(delim.join(header) + "\n" + body, encoding="utf-8")
    return path
