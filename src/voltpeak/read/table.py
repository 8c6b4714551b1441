"""CSV/TXT tables with a header row: delimiter and decimal mark sniffed, columns found by their quantity/unit names."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from voltpeak.errors import ReadError
from voltpeak.read.units import Column, parse_column
from voltpeak.voltammogram import Voltammogram

_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_MISSING = re.compile(r"^([+-]?(nan|inf)|na|n/a|)$", re.IGNORECASE)
_DELIMITERS = ("\t", ";", ",", None)  # None: runs of white space
_SNIFF_LINES = 400


def decode(raw: bytes, path: Path) -> str:
    """Text of a file, refusing binary content."""
    if not raw.strip():
        raise ReadError(f"{path.name}: empty file")
    if b"\x00" in raw[:8192]:
        raise ReadError(f"{path.name}: binary content, not a text table")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # decodes any byte


def _split(line: str, delim: str | None) -> list[str]:
    return [f.strip() for f in (line.split(delim) if delim else line.split())]


def _numeric_fields(fields: list[str]) -> int:
    return sum(bool(_NUMBER.match(f)) for f in fields)


def _is_data(fields: list[str], min_numbers: int = 1) -> bool:
    """A data row: numbers, and missing values (NaN, empty) in the other cells."""
    numbers = _numeric_fields(fields)
    return numbers >= min_numbers and numbers + sum(bool(_MISSING.match(f)) for f in fields) == len(fields)


def _sniff(lines: list[str]) -> tuple[str | None, int, bool]:
    """Delimiter, index of the first data line, and whether the decimal mark is a comma."""
    best = None
    for delim in _DELIMITERS:
        for i, line in enumerate(lines):
            fields = _split(line, delim)
            if len(fields) < 2 or not _is_data(fields, min_numbers=2):
                continue
            # Data starts here when the next lines have the same shape.
            following = [_split(x, delim) for x in lines[i + 1:i + 6] if x.strip()]
            if any(len(f) != len(fields) or not _is_data(f) for f in following):
                continue
            if best is None or i < best[1] or (i == best[1] and len(fields) > best[3]):
                best = (delim, i, fields, len(fields))
            break
    if best is None:
        raise ReadError("no table of numbers found (expected a header row and numeric columns)")
    delim, start, fields, _ = best
    decimal_comma = delim != "," and any("," in f for f in fields)
    return delim, start, decimal_comma


def _header_fields(line: str, delim: str | None, ncols: int) -> list[str]:
    fields = _split(line, delim)
    if delim is None and len(fields) != ncols:
        # White-space tables whose headers hold spaces ("E / V   I / A"): columns part on 2+ spaces.
        fields = [f.strip() for f in re.split(r"\t|\s{2,}", line.strip())]
    return fields


def _columns(header_fields: list[str], describe=parse_column) -> dict[str, tuple[int, Column]]:
    """The first E, current (I or j) and t columns: kind -> (column index, Column)."""
    found: dict[str, tuple[int, Column]] = {}
    for k, h in enumerate(header_fields):
        col = describe(h.strip().strip('"'))
        if col is not None and col.kind is not None:
            found.setdefault("I" if col.kind == "j" else col.kind, (k, col))  # one current column, I or j
    return found


def read_table(path: Path, text: str | None = None, units: dict[str, Column] | None = None) -> Voltammogram:
    """Read a delimited text table of a CV.

    Parameters
    ----------
    path : Path
        The file.
    text : str, optional
        Its decoded text, when the caller already has it.
    units : dict, optional
        Column name -> Column, overriding what the header says (used by datapackages whose units live in JSON).

    Raises
    ------
    ReadError
        No header naming a potential and a current column, or no usable rows.
    """
    if text is None:
        text = decode(path.read_bytes(), path)
    head = text[:200_000].splitlines()[:_SNIFF_LINES]
    try:
        delim, start, decimal_comma = _sniff(head)
    except ReadError as e:
        raise ReadError(f"{path.name}: {e}") from None
    ncols = len(_split(head[start], delim))
    # A row of missing values only (NaN, NaN) before the first numbers is a gap in the data, not a header row.
    rows = [_header_fields(line, delim, ncols) for line in head[:start]
            if line.strip() and not all(_MISSING.match(f) for f in _split(line, delim))]
    if not rows:
        raise ReadError(f"{path.name}: no header row naming the potential and current columns")
    header = rows[-1]
    if units:
        cols = _columns(header, units.get)
    else:
        cols = _columns(header)
        if "E" not in cols and len(rows) > 1 and len(rows[-2]) == len(header):
            # Names on one row and units on the next ("E,I" then "V,mA"), as some instruments export.
            header = [f"{name} / {unit}" if unit else name for name, unit in zip(rows[-2], header)]
            cols = _columns(header)
    if "E" not in cols:
        raise ReadError(f"{path.name}: no potential column (looked for E, Ewe, Potential, ...); columns: "
                        + ", ".join(header))
    if "I" not in cols:
        raise ReadError(f"{path.name}: no current column (looked for I, <I>, Current, j, ...); columns: "
                        + ", ".join(header))
    wanted = sorted({k for k, _ in cols.values()})
    if max(wanted) >= ncols:
        raise ReadError(f"{path.name}: the header names more columns than the data rows have")
    options = dict(sep=delim if delim else r"\s+", header=None, skiprows=start, usecols=wanted,
                   names=list(range(ncols)), decimal="," if decimal_comma else ".", engine="c")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=float, **options)
    except (ValueError, pd.errors.ParserError):
        # A footer or a stray text cell: parse as text, keep the rows whose cells are numbers.
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, on_bad_lines="skip", **options)
        except (ValueError, pd.errors.ParserError) as e:
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ReadError(f"{path.name}: unreadable table ({msg})") from None
        if decimal_comma:
            frame = frame.apply(lambda c: c.str.replace(",", ".", regex=False))
        frame = frame.apply(pd.to_numeric, errors="coerce")
    return _to_voltammogram(path, frame, cols)


def _to_voltammogram(path: Path, frame: pd.DataFrame, cols: dict[str, tuple[int, Column]]) -> Voltammogram:
    e_k, e_col = cols["E"]
    i_k, i_col = cols["I"]
    E = frame[e_k].to_numpy(dtype=float) * e_col.factor
    current = frame[i_k].to_numpy(dtype=float) * i_col.factor
    t = frame[cols["t"][0]].to_numpy(dtype=float) * cols["t"][1].factor if "t" in cols else None
    return finish(path, E, current, t, quantity=i_col.kind, reference=e_col.reference)


def finish(path: Path, E, current, t=None, **kwargs) -> Voltammogram:
    """Drop rows with a missing value and check that a voltammogram is left; used by every reader."""
    E = np.asarray(E, dtype=float)
    current = np.asarray(current, dtype=float)
    ok = np.isfinite(E) & np.isfinite(current)
    dropped = int(len(E) - ok.sum())
    if ok.sum() < 5:
        raise ReadError(f"{path.name}: fewer than 5 rows with both potential and current")
    if dropped:
        E, current = E[ok], current[ok]
        t = None if t is None else np.asarray(t, dtype=float)[ok]
    meta = kwargs.pop("meta", {})
    if dropped:
        meta["rows_dropped_not_finite"] = dropped
    return Voltammogram(E, current, t, source=str(path), meta=meta, **kwargs)
