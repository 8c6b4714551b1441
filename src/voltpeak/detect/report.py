"""``voltpeak detect``'s output for people: a table on the terminal, and CSV or Excel files of the same rows.

One row per peak (its couple's E1/2, ΔEp, ipa/ipc and class beside it), potentials in V, widths in mV, currents
and charges in the unit that keeps them readable (µA, µC, ...), always named in the header.
"""

from __future__ import annotations

import csv
from pathlib import Path

PREFIXES = ((1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"))
PEAK_COLUMNS = ("source", "cycle", "direction", "Ep_V", "ip", "height", "Ep2_V", "half_width_mV", "onset_V",
                "charge", "height_density_A/cm²", "charge_density_C/cm²", "E_half_V", "delta_Ep_mV", "ipa_ipc",
                "class", "reverse_baseline", "E0_V", "k0_cm_s", "alpha", "psi")


def si_unit(values, base: str) -> tuple[float, str]:
    """The scale and unit name (e.g. 1e-6, "µA") that puts the largest |value| at 1 or more."""
    largest = max((abs(x) for x in values if x is not None), default=0.0)
    if largest == 0:
        return 1.0, base
    for factor, prefix in PREFIXES:
        if largest >= factor:
            return factor, prefix + base
    return PREFIXES[-1][0], PREFIXES[-1][1] + base


def rows(line: dict) -> list[dict]:
    """One dict per peak of a ``detect`` line, with its couple's figures (SI units: V, A or A/m², C or C/m²),
    then two per couple found inside merged waves (direction "anodic, merged" or "cathodic, merged": the couple's
    own potential and height, no sample of its own)."""
    couple_of, merged = {}, []
    for c in line.get("couples", []):
        if c.get("own_peaks", True):
            couple_of[c["anodic"]] = couple_of[c["cathodic"]] = c
        else:
            merged.append(c)
    out = []
    for i, p in enumerate(line.get("peaks", [])):
        out.append(_row(line, couple_of.get(i, {}), p["direction"], p.get("cycle"), p.get("potential"), p))
    for c in merged:
        for side, e, key in (("anodic", "E_pa", "ipa"), ("cathodic", "E_pc", "ipc")):
            out.append(_row(line, c, f"{side}, merged", c.get("cycle"), c.get(e), {"height": c.get(key)}))
    return out


def _row(line: dict, c: dict, direction: str, cycle, potential, p: dict) -> dict:
    return {"source": line["source"], "cycle": cycle, "direction": direction, "Ep_V": potential,
            "ip": p.get("current"), "height": p.get("height"), "Ep2_V": p.get("E_p2"),
            "half_width_mV": _mV(p.get("half_width")), "onset_V": p.get("onset"), "charge": p.get("charge"),
            "height_density_A/cm²": p.get("height_density"), "charge_density_C/cm²": p.get("charge_density"),
            "E_half_V": c.get("E_half"), "delta_Ep_mV": _mV(c.get("delta_Ep")), "ipa_ipc": c.get("ipa_ipc"),
            "class": c.get("class"), "reverse_baseline": c.get("reverse_baseline"),
            **{column: c.get("kinetics", {}).get(key) for column, key in KINETICS_COLUMNS}}


KINETICS_COLUMNS = (("E0_V", "E0"), ("k0_cm_s", "k0_cm_s"), ("alpha", "alpha"), ("psi", "psi"))


def _mV(x):
    return None if x is None else round(x * 1000, 1)


def table(line: dict) -> str:
    """A fixed-width table of one file's peaks and couples, units in the header."""
    if line.get("error"):
        return f"{line['source']}: error: {line['error']}"
    head, header, body, notes = table_parts(line)
    widths = [max(len(h), *(len(b[k]) for b in body)) if body else len(h) for k, h in enumerate(header)]
    lines = [head, "  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(b, widths)) for b in body]
    return "\n".join(lines + [f"  {note}" for note in notes])


def table_parts(line: dict) -> tuple[str, list[str], list[list[str]], list[str]]:
    """What ``table`` prints, in pieces (the web app's analysis page lays them out as a table): the head line, the
    column titles (units in them), each row's cells as text, and the notes under the table (corrections,
    warnings, withheld numbers, kinetics)."""
    found = rows(line)
    # Densities as electrochemists write them: per cm² (the line keeps SI's per m²).
    per = 1e-4 if line.get("quantity") == "j" else 1.0
    i_scale, i_unit = si_unit([r[k] * per for r in found for k in ("ip", "height") if r[k] is not None],
                              "A/cm²" if per != 1 else "A")
    q_scale, q_unit = si_unit([r["charge"] * per for r in found if r["charge"] is not None],
                              "C/cm²" if per != 1 else "C")
    i_scale, q_scale = i_scale / per, q_scale / per
    n_couples = len(line.get("couples", []))
    head = (f"{line['source']}: {len(found)} peak{'s' * (len(found) != 1)}, {n_couples} couple"
            f"{'s' * (n_couples != 1)}, {line.get('cycles')} cycle{'s' * (line.get('cycles') != 1)}, "
            f"{line.get('convention', 'iupac').upper()} currents"
            + (f", potentials vs {line['reference']}" if line.get("reference") else ""))
    area = line.get("area_cm2")  # --area: the peak's current and charge per cm² beside them
    if area:
        j_scale, j_unit = si_unit([r["height_density_A/cm²"] for r in found if r["height_density_A/cm²"]], "A/cm²")
        d_scale, d_unit = si_unit([r["charge_density_C/cm²"] for r in found if r["charge_density_C/cm²"]], "C/cm²")
    # Each column: its header, the row's key, its format (None: the text as it is) and scale.
    columns = [("cycle", "cycle", "d", 1.0), ("peak", "direction", None, 1.0), ("Ep (V)", "Ep_V", ".4f", 1.0),
               (f"ip ({i_unit})", "ip", ".4g", i_scale), (f"height ({i_unit})", "height", ".4g", i_scale),
               *([(f"jp ({j_unit})", "height_density_A/cm²", ".4g", j_scale)] if area else []),
               ("Ep/2 (V)", "Ep2_V", ".4f", 1.0), ("FWHM (mV)", "half_width_mV", ".1f", 1.0),
               ("onset (V)", "onset_V", ".4f", 1.0), (f"Q ({q_unit})", "charge", ".4g", q_scale),
               *([(f"Q/A ({d_unit})", "charge_density_C/cm²", ".4g", d_scale)] if area else []),
               ("E1/2 (V)", "E_half_V", ".4f", 1.0), ("ΔEp (mV)", "delta_Ep_mV", ".1f", 1.0),
               ("ipa/ipc", "ipa_ipc", ".3f", 1.0), ("class", "class", None, 1.0)]
    header = [title for title, *_ in columns]
    body = [[(r[key] or "") if spec is None else _fmt(r[key], spec, scale) for _, key, spec, scale in columns]
            for r in found]
    notes = [f"corrected: {note}" for note in line.get("corrections", [])]
    notes += [f"warning: {w}" for w in line.get("warnings", [])]
    notes += [f"withheld: {p['direction']} peak at {p['potential']:.4f} V: {what} ({why})"
              for p in line.get("peaks", []) for what, why in p.get("withheld", {}).items()]
    for c in line.get("couples", []):
        kinetics = c.get("kinetics", {})
        withheld = {**c.get("withheld", {}), **kinetics.get("withheld", {})}
        if kinetics:
            notes.append(f"kinetics: couple at E1/2 {c['E_half']:.4f} V: {kinetics_text(kinetics)}")
        notes += [f"withheld: couple at E1/2 {c['E_half']:.4f} V: {what} ({why})" for what, why in withheld.items()]
    return head, header, body, notes


def kinetics_text(k: dict) -> str:
    """A couple's fitted kinetics in words: E°, k0 (or ψ), α, and ψ from ΔEp (1σ uncertainties)."""
    parts = [f"E° {k['E0']:.4f} V" + (f" ± {k['E0_sd'] * 1000:.1f} mV" if k.get("E0_sd") is not None else "")]
    if "k0_cm_s" in k:
        parts.append(f"k0 {k['k0_cm_s']:.3g} cm/s (×/÷ {k['k0_sd_factor']:.2f}; D {k['D_assumed_cm2_s']:g} cm²/s "
                     "assumed, k0 ∝ √D)")
    if "psi" in k:
        parts.append(f"ψ {k['psi']:.3g}")
    if "alpha" in k:
        parts.append(f"α {k['alpha']:.2f} ± {k['alpha_sd']:.2f}")
    if "k_chem_s" in k:
        parts.append(f"following chemical step k {k['k_chem_s']:.3g} /s (×/÷ {k['k_chem_sd_factor']:.2f})")
    if "psi_nicholson" in k:
        parts.append(f"ψ from ΔEp (Nicholson) {k['psi_nicholson']:.3g}")
    return ", ".join(parts)


def _fmt(x, spec: str, scale: float = 1.0) -> str:
    return "" if x is None else format(x if scale == 1.0 else x / scale, spec)  # cycles stay whole numbers


UNITS = {"I": ("A", "C"), "j": ("A/m²", "C/m²")}  # current and charge units of a line's quantity (SI)


def export_table(lines: list[dict]) -> tuple[list[str], list[list]]:
    """The header and rows of the CSV and Excel exports: currents and charges named with their SI unit (``ip_A``,
    ``charge_C``; ``ip_A/m²`` for densities), or, where the files mix currents and densities, a unit column
    beside them."""
    quantities = {line.get("quantity", "I") for line in lines if not line.get("error")} or {"I"}
    current, charge = UNITS.get(next(iter(quantities)), UNITS["I"])
    named = {"ip": f"ip_{current}", "height": f"height_{current}", "charge": f"charge_{charge}"}
    mixed = len(quantities) > 1
    header = list(PEAK_COLUMNS) + ["current_unit", "charge_unit"] if mixed else \
        [named.get(k, k) for k in PEAK_COLUMNS]
    body = []
    for line in lines:
        units = list(UNITS.get(line.get("quantity", "I"), UNITS["I"]))
        body += [[r[k] for k in PEAK_COLUMNS] + (units if mixed else []) for r in rows(line)]
    return header, body


def write_csv(lines: list[dict], path: str | Path) -> Path:
    """Every peak of ``lines`` as a CSV row (SI units, named in the header; see ``export_table``)."""
    header, body = export_table(lines)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(body)
    return Path(path)


def write_excel(lines: list[dict], path: str | Path) -> Path:
    """An Excel workbook: sheet "peaks" (the CSV's rows) and sheet "files" (one row per file: cycles, window,
    quantity, reference, corrections or the error)."""
    from openpyxl import Workbook

    book = Workbook()
    peaks = book.active
    peaks.title = "peaks"
    header, body = export_table(lines)
    peaks.append(header)
    for row in body:
        peaks.append(row)
    files = book.create_sheet("files")
    files.append(["source", "cycles", "window_low_V", "window_high_V", "quantity", "reference", "corrections",
                  "error"])
    for line in lines:
        window = line.get("window") or [None, None]
        files.append([line["source"], line.get("cycles"), window[0], window[1], line.get("quantity"),
                      line.get("reference"), "; ".join(line.get("corrections", [])), line.get("error")])
    book.save(path)
    return Path(path)
