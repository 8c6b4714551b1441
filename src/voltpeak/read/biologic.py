"""BioLogic EC-Lab files: ``.mpr`` (binary) read with ``yadg``; ``.mpt`` text exports as tables."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import numpy as np

from voltpeak.errors import ReadError
from voltpeak.read.table import finish
from voltpeak.read.units import parse_column

_POTENTIAL = ("Ewe", "Ewe-Ece", "E")
_CURRENT = ("<I>", "I")


def eclab_table(text: str) -> str:
    """The column table of an EC-Lab ``.mpt`` text export: its header block (``Nb header lines : N``) removed."""
    m = re.search(r"Nb header lines\s*:\s*(\d+)", text[:2000])
    if not m:
        return text
    lines = text.splitlines(keepends=True)
    return "".join(lines[int(m.group(1)) - 1:])


def read_biologic(path: Path):
    """Read an EC-Lab ``.mpr`` file; E from ``Ewe`` (V), current from ``<I>`` or ``I`` (converted from mA to A)."""
    try:
        from yadg import extractors
    except ImportError:  # pragma: no cover - yadg is a dependency
        raise ReadError(f"{path.name}: BioLogic files need the 'yadg' package") from None
    logging.getLogger("yadg").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = extractors.extract("eclab.mpr", str(path), timezone="UTC").to_dataset()
    except Exception as e:  # yadg raises many kinds; the user needs one line
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ReadError(f"{path.name}: not a readable EC-Lab file ({first[:200]})") from None

    def column(names):
        for n in names:
            if n in data.data_vars:
                return n
        return None

    e_name, i_name = column(_POTENTIAL), column(_CURRENT)
    if e_name is None or i_name is None:
        has = ", ".join(map(str, data.data_vars))
        raise ReadError(f"{path.name}: EC-Lab file without Ewe and I columns (has {has})")

    def values(name, kind_unit):
        unit = data[name].attrs.get("units") or ""
        col = parse_column(f"{kind_unit} / {unit}") if unit else None
        return data[name].to_numpy().astype(float) * (col.factor if col and col.kind else 1.0)

    E = values(e_name, "E")
    current = values(i_name, "I")
    t = data["time"].to_numpy().astype(float) if "time" in data.data_vars else None
    if t is not None and not np.isfinite(t).all():
        t = None
    # EC-Lab records oxidation currents as positive (IUPAC), whatever the branches look like.
    return finish(path, E, current, t, meta={"format": "biologic", "convention": "iupac"})
