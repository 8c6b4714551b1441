"""``voltpeak detect`` on files: one output line (the contract's detect record) per file, or the line that says why
not; with an ``Analysis``, the corrections an electrochemist asks for first (a blank, iR, a reference scale) and
what lab tools report per peak (``voltpeak.detect.measure``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from voltpeak.detect.corrections import correct_ir, reference_name, reference_shift, subtract_blank
from voltpeak.detect.couples import find_couples
from voltpeak.detect.kinetics import kinetic_class
from voltpeak.detect.measure import peak_measures
from voltpeak.detect.peaks import Context, current_sign, detect
from voltpeak.errors import InputError, VoltpeakError
from voltpeak.image import IMAGE_SUFFIXES
from voltpeak.read import read


@dataclass(frozen=True)
class Analysis:
    """What ``voltpeak detect`` corrects before it reads peaks, and the electrode's area.

    Attributes
    ----------
    reference : str, optional
        Give potentials against this reference (``voltpeak.detect.corrections.SCALES``).
    from_reference : str, optional
        The file's own reference: overrides what the file says (a header may name it in a way voltpeak does not
        know), and is needed where it says nothing.
    ph : float, optional
        The solution's pH, for the RHE scale.
    fc_V : float, optional
        E1/2 of ferrocene against the file's reference (V), for the Fc/Fc⁺ scale.
    blank : str, optional
        A blank recording subtracted sweep by sweep.
    ru_ohm : float
        Uncompensated resistance (Ω): potentials become E − I·R_u.
    area_cm2 : float, optional
        Electrode area (cm²): peak charges are also given per cm² (and --ru reads current densities).
    """

    reference: str | None = None
    from_reference: str | None = None
    ph: float | None = None
    fc_V: float | None = None
    blank: str | None = None
    ru_ohm: float = 0.0
    area_cm2: float | None = None




@lru_cache(maxsize=4)
def _read_blank(path: str):
    try:
        return read(path)
    except VoltpeakError as e:
        raise InputError(f"the blank: {e}") from None


def corrected(v, analysis: Analysis, convention: str = "auto"):
    """``v`` with the analysis's blank, iR and reference applied (in that order), and the corrections said.
    ``convention``: of ``v``'s currents, as for ``detect`` (iR needs the anodic current positive)."""
    done = []
    if analysis.blank or analysis.ru_ohm:
        sign = current_sign(v, convention)
    if analysis.blank:
        blank = _read_blank(analysis.blank)
        v = subtract_blank(v, blank, flip=current_sign(blank, convention) != sign)
        done.append(f"blank {analysis.blank} subtracted")
    if analysis.ru_ohm:
        v = correct_ir(v, analysis.ru_ohm, analysis.area_cm2, sign)
        done.append(f"iR: E - I x {analysis.ru_ohm:g} ohm")
    if analysis.reference:
        source = analysis.from_reference or v.reference
        if not source:
            raise InputError(f"{v.source}: the file does not say its reference electrode; give --from-reference")
        ph = analysis.ph if analysis.ph is not None else v.meta.get("ph")  # --ph, else the pH the file states
        if ph is None and "RHE" in (reference_name(source), reference_name(analysis.reference)):
            raise InputError(f"{v.source}: the RHE scale needs the solution's pH, which the file does not state; "
                             "give --ph")
        shift = reference_shift(source, analysis.reference, ph, analysis.fc_V)
        v = replace(v, potential_V=v.potential_V + shift, reference=reference_name(analysis.reference))
        stated = f", pH {ph:g} as the file states" if analysis.ph is None and ph is not None else ""
        done.append(f"potentials from {reference_name(source)} to {reference_name(analysis.reference)} "
                    f"({shift * 1000:+.1f} mV{stated})")
    return v, done


# Beyond this ΔEp (V) a couple's electron transfer is slow, and its ipa/ipc departs from 1 by kinetics alone (0.75–1.8
# for α 0.3–0.7, measured on voltpeak's simulator): one scan rate cannot tell that from a chemical step.
KINETIC_DELTA_EP_V = 0.1


def classify(couple, ratio: float | None) -> str:
    """A couple's class at one scan rate: ``surface-confined`` (|ΔEp| < 20 mV: an adsorbed layer); for a couple
    the cycle's fit explains (Butler–Volmer kinetics, a following chemical step where the data ask for it), the
    class of its fitted parameters (``voltpeak.detect.kinetics``); otherwise ``chemically coupled`` (ipa/ipc
    outside 0.8–1.25: a chemical step consumes one side; judged only where ΔEp ≤ 100 mV, as a slow couple's ratio
    departs from 1 by itself), else ``reversible`` (ΔEp ≤ 75 mV, n = 1), ``quasi-reversible`` (≤ 200 mV) or
    ``irreversible``. One scan rate cannot tell a slow electron transfer from a large iR drop: correct iR first
    (--ru), or read a scan-rate series."""
    dep = couple.delta_ep_V
    if dep < 0.020:  # pairs reach down to ΔEp = −30 mV: an adsorbed layer's peaks may cross
        return "surface-confined"
    fitted = couple.kinetics and kinetic_class(couple.kinetics)
    if fitted:
        return fitted
    if ratio is not None and not 0.8 <= ratio <= 1.25 and dep <= KINETIC_DELTA_EP_V:
        return "chemically coupled"
    return "reversible" if dep <= 0.075 else "quasi-reversible" if dep <= 0.200 else "irreversible"


def detect_file(path: str, cycle: int | None, convention: str = "auto", analysis: Analysis | None = None) -> dict:
    """One output line of ``voltpeak detect`` for one file; raises VoltpeakError where it cannot be done."""
    return analyse_file(path, cycle, convention, analysis)[0]


def analyse_file(path: str, cycle: int | None, convention: str = "auto", analysis: Analysis | None = None):
    """``detect_file``'s line and the voltammogram it was read from (corrected): (line, Voltammogram)."""
    if Path(path).suffix.lower() in IMAGE_SUFFIXES:
        raise VoltpeakError(f"{path}: a plot image, not CV data; voltpeak predict --model default {path} reads "
                            "peaks off a plot")
    v = read(path)
    done = []
    if analysis is not None:
        v, done = corrected(v, analysis, convention)
    lo, hi = v.window_V
    if hi - lo <= 0:
        raise VoltpeakError(f"{path}: the potential is constant; not a voltammogram")
    ctx = Context.of(v, convention)  # sweeps, cycles and noise, computed once for the whole analysis
    n_cycles = int(ctx.cycles.max())
    if cycle is not None and cycle > n_cycles:
        raise VoltpeakError(f"{path}: no cycle {cycle} (the file has {n_cycles})")
    peaks = detect(v, cycle, context=ctx)
    couples = find_couples(v, peaks, context=ctx)
    records = [p.to_record() for p in peaks]
    area = analysis.area_cm2 if analysis else None
    for record, measures in zip(records, peak_measures(ctx, peaks)):
        record.update({k: x if k == "withheld" else float(f"{x:.6g}") for k, x in measures.items()})
        if area and "charge" in measures and v.quantity == "I":
            record["charge_density"] = float(f"{measures['charge'] / area:.6g}")  # C/cm²
    couple_records = []
    for c in couples:
        record = c.to_record(peaks)
        record["class"] = classify(c, record["ipa_ipc"])
        couple_records.append(record)
        for side, key in (("anodic", "ipa"), ("cathodic", "ipc")):  # the couple's heights are the better ones
            if record[key] is not None and c.own_peaks:
                records[record[side]]["height"] = record[key]
    if area and v.quantity == "I":  # peak current densities, as electrochemists report them with an area
        for record in records:
            if record.get("height") is not None:
                record["height_density"] = float(f"{record['height'] / area:.6g}")  # A/cm²
    line = {
        "source": path,
        "peaks": records,
        "couples": couple_records,
        "cycles": n_cycles,
        "window": [round(lo, 6), round(hi, 6)],
        "quantity": v.quantity,
        "convention": "us" if ctx.sign < 0 else "iupac",
    }
    if v.reference:
        line["reference"] = v.reference
    if area and v.quantity == "I":
        line["area_cm2"] = area
    if v.meta.get("time_reversed"):
        line["warnings"] = ["the digitised curve's time ran against the loop's sense (the anodic-going branch "
                            "under the cathodic-going one): read in reverse time order"]
    if done:
        line["corrections"] = done
    return line, v


def detect_line(path: str, cycle: int | None, convention: str = "auto", analysis: Analysis | None = None) -> dict:
    """``detect_file``, or the line that says why it could not be done; never raises for one bad file."""
    return analyse_line(path, cycle, convention, analysis)[0]


def analyse_line(path: str, cycle: int | None, convention: str = "auto", analysis: Analysis | None = None):
    """``analyse_file``, or (the line that says why it could not be done, None); never raises for one bad file."""
    try:
        return analyse_file(path, cycle, convention, analysis)
    except VoltpeakError as e:
        error = str(e)
    except Exception as e:  # a bug must not cost the user the other files
        error = f"unexpected error ({type(e).__name__}: {e})".splitlines()[0]
    return {"source": path, "peaks": [], "couples": [], "error": error}, None
