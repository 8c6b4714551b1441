"""Readers: a path in, one ``Voltammogram`` out, the format chosen by extension and content.

Formats: CSV/TXT tables with quantity/unit headers, echemdb/frictionless data packages, Gamry ``.DTA``,
BioLogic ``.mpr``/``.mpt``. Every failure is a ``ReadError`` with a one-line message.
"""

from __future__ import annotations

from pathlib import Path

from voltpeak.errors import ReadError
from voltpeak.voltammogram import Voltammogram

__all__ = ["read", "ReadError", "CV_SUFFIXES"]

# What the readers take: CSV/TXT tables, Gamry .DTA, BioLogic .mpr/.mpt, echemdb packages (a .json beside its CSV).
CV_SUFFIXES = (".csv", ".txt", ".dta", ".mpr", ".mpt", ".json")


def read(path: str | Path) -> Voltammogram:
    """Read a CV file.

    Parameters
    ----------
    path : str or Path
        A CSV/TXT table, a data package (``.json`` or its ``.csv``), a Gamry ``.DTA`` (or ``.DTA.txt``),
        or a BioLogic ``.mpr``/``.mpt``.

    Returns
    -------
    Voltammogram
        With ``source`` set to ``path`` as given.

    Raises
    ------
    ReadError
        The file is missing, empty, binary where text is expected, or holds no potential and current.
    """
    from voltpeak.read.biologic import eclab_table, read_biologic
    from voltpeak.read.echemdb import descriptor_beside, read_datapackage
    from voltpeak.read.gamry import is_gamry, read_gamry
    from voltpeak.read.table import decode, read_table

    p = Path(path)
    if not p.exists():
        raise ReadError(f"{path}: no such file")
    if p.is_dir():
        raise ReadError(f"{path}: is a directory, not a file")
    name = p.name.lower()
    try:
        if name.endswith(".mpr"):
            v = read_biologic(p)
        elif name.endswith(".json") or (name.endswith(".csv") and descriptor_beside(p)):
            v = read_datapackage(p)
        else:
            text = decode(p.read_bytes(), p)
            if is_gamry(text):
                v = read_gamry(p, text)
            elif text.startswith("EC-Lab ASCII FILE"):
                v = read_table(p, eclab_table(text))  # yadg misreads decimal commas in .mpt exports
                v.meta.update(format="biologic", convention="iupac")  # EC-Lab's own: oxidation positive
            else:
                v = read_table(p, text)
    except ReadError as e:
        # Readers name the file; the user needs it as they gave it (several files may share a name).
        message = str(e)
        if message.startswith(p.name + ":"):
            message = f"{path}{message[len(p.name):]}"
        raise ReadError(message) from None
    except PermissionError:
        raise ReadError(f"{path}: permission denied") from None
    except MemoryError:
        raise ReadError(f"{path}: too large to hold in memory") from None
    v.source = str(path)
    return v
