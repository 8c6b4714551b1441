"""Column headers such as ``E / V vs Ag/AgCl``, ``<I>/mA`` or ``j / mA cm-2``: what they hold, in which unit."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREFIX = {"": 1.0, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "n": 1e-9, "p": 1e-12, "k": 1e3}
# Area units and their size in m².
_AREA = {"m2": 1.0, "cm2": 1e-4, "mm2": 1e-6}

_BRACKETED = re.compile(r"^(?P<name>.+?)\s*[(\[](?P<unit>[^()\[\]]*)[)\]]\s*$")
_SLASHED = re.compile(r"^(?P<name>[^/]+?)\s*/\s*(?P<unit>.+)$")
# A unit after an underscore, as scripts name columns ("E_V", "I_uA", "j_mA_cm2", "t_s"): only units, so that
# "E_we" stays a name.
_UNDERSCORED = re.compile(r"^(?P<name>[A-Za-z][A-Za-z ]*?)_(?P<unit>[mµμunp]?(?:V|A(?:_cm2|/cm2|/cm²)?)|m?s|min|h)$")

_POTENTIAL_NAMES = ("ewe", "e", "potential", "voltage", "u", "vf", "ewe-ece", "e_we", "we potential")
_CURRENT_NAMES = ("i", "<i>", "im", "current", "i_we", "we current")
_DENSITY_NAMES = ("j", "current density", "<j>", "cd")
_TIME_NAMES = ("t", "time", "elapsed time", "time elapsed")


@dataclass
class Column:
    """One parsed header: the kind of quantity, the factor to SI, and a reference electrode if written."""

    kind: str | None  # "E", "I", "j", "t" or None
    factor: float  # multiply the column by this to get V, A, A/m² or s
    reference: str | None = None


def split_header(text: str) -> tuple[str, str]:
    """``"E / V vs SCE"`` -> ``("E", "V vs SCE")``; ``"Current (uA)"`` -> ``("Current", "uA")``."""
    text = text.strip().strip('"').strip("'").strip()
    text = re.sub(r"^WE\(\d+\)\.", "", text, flags=re.IGNORECASE)  # Autolab NOVA: "WE(1).Potential (V)"
    m = _BRACKETED.match(text) or _SLASHED.match(text) or _UNDERSCORED.match(text)
    if not m:
        return text, ""
    return m.group("name").strip(), m.group("unit").strip().replace("_cm2", "/cm2")


def _clean_name(name: str) -> tuple[str, str | None]:
    """Lower-case name without a trailing ``vs <reference>``, and that reference."""
    name = re.sub(r"\s+", " ", name.strip())
    m = re.match(r"^(.*?)\s+(?:vs\.?|versus)\s+(.+)$", name, flags=re.IGNORECASE)
    if m:
        return m.group(1).lower(), m.group(2)
    return name.lower(), None


def _potential_factor(unit: str) -> tuple[float, str | None] | None:
    m = re.match(r"^(?P<p>[mµμu]?)V\b\s*(?:vs\.?|versus|against)?\s*(?P<ref>.*)$", unit.strip())
    if not m:
        return None
    ref = m.group("ref").strip() or None
    return _PREFIX[m.group("p")], ref


def _current_factor(unit: str) -> tuple[float, bool] | None:
    """Factor to A (or to A/m²) and whether the unit is a current density."""
    u = unit.strip().replace(" ", "").replace("^", "").replace("²", "2").replace("⁻", "-")
    m = re.match(r"^(?P<p>[mµμunpk]?)A(?:(?:/|\*?)(?P<area>[cm]?m)(?:-?2|2)?)?$", u)
    if not m:
        return None
    factor = _PREFIX[m.group("p")]
    area = m.group("area")
    if area is None:
        return factor, False
    if not re.search(r"(/[cm]?m2?$|[cm]?m-2$)", u):
        return None
    return factor / _AREA[area + "2"], True


def parse_column(header: str) -> Column:
    """Classify one column header; ``kind`` is None when it is none of E, I, j, t."""
    name, unit = split_header(header)
    key, name_ref = _clean_name(name)
    if key.startswith("control") or key in ("ece", "<ece>"):
        return Column(None, 1.0)
    if key in _POTENTIAL_NAMES or "potential" in key:
        if not unit:
            return Column("E", 1.0, name_ref)
        pf = _potential_factor(unit)
        return Column("E", pf[0], pf[1] or name_ref) if pf else Column(None, 1.0)
    if key in _CURRENT_NAMES or key in _DENSITY_NAMES or "current" in key:
        density_name = key in _DENSITY_NAMES or "density" in key
        if not unit:
            return Column("j" if density_name else "I", 1.0)
        cf = _current_factor(unit)
        if cf is None:
            return Column(None, 1.0)
        return Column("j" if (cf[1] or density_name) else "I", cf[0])
    if key in _TIME_NAMES or key.startswith("time"):
        if not unit or unit.lower() in ("s", "sec"):
            return Column("t", 1.0)
        return Column("t", {"ms": 1e-3, "min": 60.0, "h": 3600.0}.get(unit.lower(), 1.0))
    return Column(None, 1.0)
