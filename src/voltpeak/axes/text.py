"""What the texts around a plot mean: tick label numbers, and axis titles (quantity, unit, reference, multiplier)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MINUS = str.maketrans({"−": "-", "–": "-", "—": "-", "‐": "-", "‒": "-"})
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def parse_number(text: str) -> float | None:
    """A tick label's value, or None: minus signs of any kind, a decimal comma, "1e-5", "2×10^-5" and "2×10⁻⁵",
    and an SI prefix after the number as web plots write it ("100µ", "−1.5m": plotly's default tick format; not
    "p", which OCR makes of a µ)."""
    m = re.match(r"^(.*\d)\s*([nµμumk])$", text.strip())
    if m:
        value = parse_number(m.group(1))
        return None if value is None else value * _PREFIXES[m.group(2)]
    t = text.translate(_MINUS).translate(_SUPERSCRIPT).replace(" ", "").replace("O", "0").replace("o", "0")
    if t.count(",") == 1 and "." not in t:
        t = t.replace(",", ".")
    t = t.replace(",", "")
    m = re.match(r"^([-+]?[\d.]*)[×xX*]10\^?([-+]?\d+)$", t)
    if m:
        mantissa = m.group(1) or "1"
        if mantissa in ("-", "+"):
            mantissa += "1"
        t = f"{mantissa}e{m.group(2)}"
    if not _NUMBER.match(t):
        return None
    return float(t)


# (unit text, factor to SI): V for potentials; A for currents; A/m² for current densities.
POTENTIAL_UNITS = {"V": 1.0, "mV": 1e-3}
CURRENT_UNITS = {"A": 1.0, "mA": 1e-3, "µA": 1e-6, "nA": 1e-9, "pA": 1e-12}
AREA_TO_M2 = {"cm": 1e-4, "m": 1.0, "mm": 1e-6}


@dataclass
class Title:
    """What an axis title says. ``unit`` is normalised ("V", "mV", "µA", "mA cm⁻²"...), ``factor`` converts the
    printed numbers to SI (V, A or A/m²; a multiplier such as ×10⁻⁵ included); None where not read."""

    text: str
    quantity: str | None  # "E", "I" or "j"
    unit: str | None
    factor: float | None
    reference: str | None
    multiplier: float = 1.0
    negated: bool = False  # the axis shows minus the current ("−I / µA"): cathodic currents plotted positive


_PREFIX = r"(?P<prefix>[pnµμumk]?)"
# OCR reads µ as µ, μ, u, or (rarely) p; "uA" is a common ASCII spelling too.
_PREFIXES = {"": 1.0, "k": 1e3, "m": 1e-3, "µ": 1e-6, "μ": 1e-6, "u": 1e-6, "n": 1e-9, "p": 1e-12}


def multiplier_of(text: str) -> float | None:
    """A multiplier written beside numbers or in a title: "×10⁻⁵", "x10^-5", "10^-5", "1e-5", "1E5"."""
    t = text.translate(_MINUS).translate(_SUPERSCRIPT).replace(" ", "")
    m = re.search(r"(?:[×xX*/]|^|\()10\^?\(?([-+]?\d{1,2})\)?", t)
    if m:
        return 10.0 ** int(m.group(1))
    m = re.search(r"(?:^|[^\d.])1[eE]([-+]?\d{1,2})(?![\d.])", t)
    # A mono font's 1 reads as l or I: taken only where it starts a word ("le-5", not "Cycle-5").
    m = m or re.search(r"(?:^|[\s(])[lI|][eE]([-+]\d{1,2})(?![\d.])", t)
    if m:
        return 10.0 ** int(m.group(1))
    return None


def parse_title(text: str, axis: str) -> Title:
    """Read an axis title (``axis`` "x": a potential, "y": a current or current density).

    Examples: ``E / V vs Ag/AgCl``, ``Potential (mV vs. SCE)``, ``Ewe/V``, ``I / µA``, ``i (mA)``,
    ``j / mA cm⁻²``, ``Current density (µA/cm²)``, ``Current (×10⁻⁵ A)``.
    """
    raw = " ".join(text.split())
    t = raw.translate(_MINUS).translate(_SUPERSCRIPT)
    reference = None
    # The reference runs from "vs" to a bracket, a comma, or the unit after a slash ("E vs RHE / V").
    m = re.search(r"\b(?:vs\.?|versus|against)\s*(.+?)(?=\s*(?:[()\[\],]|/\s*m?V\b|$))", t, re.IGNORECASE)
    if m:
        reference = m.group(1).strip(" .,;:/") or None
        t_units = t[:m.start()] + t[m.end():]
    else:
        t_units = t
    multiplier = multiplier_of(t_units) or 1.0
    t_units = re.sub(r"(?:[×xX*]\s*)?10\^?\(?[-+]?\d{1,2}\)?|1[eE][-+]?\d{1,2}", " ", t_units)
    if axis == "x":
        quantity = "E"
        unit = None
        for cand in re.finditer(r"(?<![A-Za-z])(mV|mv|V)(?![a-uw-z])", t_units):
            unit = "mV" if cand.group(1) == "mv" else cand.group(1)  # OCR reads a small-caps V as v
        factor = None if unit is None else POTENTIAL_UNITS[unit] * multiplier
        return Title(raw, quantity, unit, factor, reference, multiplier)
    density = re.search(r"densit|cm|m\s*-\s*2|m2|/\s*m\b", t_units, re.IGNORECASE) is not None
    unit = factor = None
    m = re.search(_PREFIX + r"A(?![a-zA-Z])\s*(?:/\s*|\s+|·)?\s*(?P<area>[ce]?m{1,2})?\s*(?P<pow>\^?-?2|²)?", t_units)
    if m:
        prefix = m.group("prefix")
        area = m.group("area") and m.group("area").replace("e", "c")  # a small c read as e
        factor = _PREFIXES[prefix] * multiplier
        shown = {"μ": "µ", "u": "µ"}.get(prefix, prefix) + "A"
        if area and (m.group("pow") or density):
            density = True
            factor /= AREA_TO_M2[area]
            shown += f" {area}⁻²"
        elif density:
            factor = None  # "density" said, but no area unit read: the number's unit is unknown
        unit = shown
    symbol = re.match(r"\s*([A-Za-z]+)", t_units)
    word = symbol.group(1).lower() if symbol else ""
    quantity = "j" if density or word == "j" else "I"
    negated = re.match(r"\s*-\s*[A-Za-z]", t_units) is not None or \
        re.match(r"\s*cathodic\s+current", t_units, re.IGNORECASE) is not None
    return Title(raw, quantity, unit, factor, reference, multiplier, negated)
