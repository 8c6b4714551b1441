"""echemdb / frictionless data packages: a ``.json`` descriptor beside its ``.csv`` (columns t, E, I or j)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from voltpeak.errors import ReadError
from voltpeak.read.table import decode, read_table
from voltpeak.read.units import Column, parse_column
from voltpeak.voltammogram import branch_asymmetry


def descriptor_beside(csv_path: Path) -> Path | None:
    """The data package descriptor that describes this CSV, if one lies beside it."""
    candidate = csv_path.with_suffix(".json")
    return candidate if candidate.is_file() else None


def read_datapackage(path: Path):
    """Read a data package from its descriptor (or from its CSV when the descriptor lies beside it)."""
    descriptor = path if path.suffix.lower() == ".json" else descriptor_beside(path)
    try:
        package = json.loads(decode(descriptor.read_bytes(), descriptor))
        resource = package["resources"][0]
        fields = resource["schema"]["fields"]
    except (json.JSONDecodeError, KeyError, IndexError, TypeError):
        raise ReadError(f"{descriptor.name}: not a data package (no resources[0].schema.fields)") from None
    csv_path = path if path.suffix.lower() != ".json" else descriptor.parent / resource.get("path", "")
    if not csv_path.is_file():
        raise ReadError(f"{descriptor.name}: its data file {resource.get('path')!r} is missing")
    units: dict[str, Column] = {}
    for f in fields:
        name, unit = f.get("name", ""), f.get("unit")
        col = parse_column(f"{name} / {unit}" if unit else name)
        if col.kind == "E" and f.get("reference"):
            col.reference = f["reference"]
        units[name] = col
    v = read_table(csv_path, units=units)
    v.source = str(path)
    meta = resource.get("metadata", {}).get("echemdb", {})
    scan = meta.get("figureDescription", {}).get("scanRate", {})
    if scan.get("value") is not None:
        rate = parse_column(f"E / {str(scan.get('unit', 'V / s')).split('/')[0].strip()}")
        v.scan_rate_V_s = float(scan["value"]) * (rate.factor if rate.kind else 1.0)
    ph = (meta.get("system", {}).get("electrolyte", {}).get("ph") or {}).get("value")
    if isinstance(ph, (int, float)):
        v.meta["ph"] = float(ph)  # the electrolyte's pH as the package states it (for the RHE scale)
    v.meta.update({"format": "datapackage", "citation": meta.get("source", {}).get("citationKey"),
                   "figure": meta.get("source", {}).get("figure"), "curve": meta.get("source", {}).get("curve")})
    if meta.get("figureDescription", {}).get("type") == "digitized":
        v = _in_time_order(v)
    return v


def _in_time_order(v):
    """A digitised curve read forwards in time. The digitiser rebuilds time along the traced line, in whichever
    sense it was traced; the figure's currents are as published (IUPAC: oxidation positive). Where the branches
    say the trace ran backwards — the anodic-going branch under the cathodic-going one in the double layer — the
    samples are put back in the experiment's order (each peak then lies on the sweep that made it) and
    ``meta["time_reversed"]`` says so."""
    v.meta["convention"] = "iupac"
    if branch_asymmetry(v.potential_V, v.current) >= -0.5:
        return v
    time = None if v.time_s is None else v.time_s[-1] - v.time_s[::-1]
    return replace(v, potential_V=v.potential_V[::-1].copy(), current=v.current[::-1].copy(), time_s=time,
                   meta={**v.meta, "time_reversed": True})
