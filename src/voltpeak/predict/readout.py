"""Peaks of image positions read in volts and amperes off a plot's axes, and paired into couples by line colour."""

from __future__ import annotations

from voltpeak.axes import MAX_POTENTIAL_V


def add_axes(line: dict, reading, image) -> None:
    """Put the axis reading into an output line: each peak's potential and current, the couples, the plot's
    convention, and a warning for what could not be read."""
    from voltpeak.peak import Peak

    quantity = reading.quantity
    peaks = []
    beyond = 0
    for rec in line["peaks"]:
        potential, current = reading.potential_V(rec["x"]), reading.current(rec["y"])
        if potential is not None and abs(potential) > MAX_POTENTIAL_V:
            potential, current = None, None  # a misread axis: no electrode sits there
            beyond += 1
        if potential is not None:
            rec["potential"] = round(potential, 6)
        if current is not None:
            rec["current"] = float(f"{current:.6g}")
            if quantity == "j":
                rec["quantity"] = "j"
        peaks.append(Peak(rec["direction"], potential, current, quantity=quantity, x=rec["x"], y=rec["y"]))
    line["axes"] = reading.to_record()
    if reading.reversed is not None:
        line["convention"] = "us" if reading.reversed else "iupac"
    line["couples"] = image_couples(peaks, image)
    warnings = reading.warnings
    if beyond:
        warnings = warnings + [f"{beyond} peak(s) would lie beyond ±{MAX_POTENTIAL_V:g} V: the potential axis is "
                               "misread there; not given"]
    if line["peaks"] and reading.x.map is None:
        warnings = warnings + ["peaks have no potential: the potential axis could not be read"]
    if warnings:
        line["warning"] = "; ".join(warnings)


def image_couples(peaks, image) -> list[dict]:
    """Couples among peaks read off a plot: pairs of one curve (the same line colour under the peak) as
    ``detect`` pairs them, with E1/2 and ΔEp; ``ipa``/``ipc`` are null (no baseline can be drawn from a picture)."""
    import numpy as np

    from voltpeak.detect.couples import pair

    rgb = np.asarray(image)
    placed = [p for p in peaks if p.potential is not None]
    colours = [_line_colour(rgb, p.x, p.y) for p in placed]
    groups: list[list[int]] = []
    for i, c in enumerate(colours):
        for g in groups:
            if c is not None and colours[g[0]] is not None and np.abs(c - colours[g[0]]).max() < 60:
                g.append(i)
                break
        else:
            groups.append([i])
    out = []
    for g in groups:
        an = [placed[i] for i in g if placed[i].direction == "anodic"]
        ca = [placed[i] for i in g if placed[i].direction == "cathodic"]
        for r, k in pair(an, ca):
            a, c = an[r], ca[k]
            out.append({"anodic": peaks.index(a), "cathodic": peaks.index(c),
                        "E_half": round((a.potential + c.potential) / 2, 6),
                        "delta_Ep": round(a.potential - c.potential, 6),
                        "ipa": None, "ipc": None, "ipa_ipc": None, "reverse_baseline": None})
    return sorted(out, key=lambda c: c["E_half"])


def _line_colour(rgb, x: float, y: float, radius: int = 4):
    """The colour of the line through an image point (x, y fractions): the most saturated or darkest pixels
    within ``radius`` px; None on blank paper."""
    import numpy as np

    h, w = rgb.shape[:2]
    cx, cy = int(x * w), int(y * h)
    patch = rgb[max(0, cy - radius):cy + radius + 1, max(0, cx - radius):cx + radius + 1].reshape(-1, 3).astype(int)
    if len(patch) == 0:
        return None
    strength = patch.max(axis=1) - patch.min(axis=1) + (255 - patch.mean(axis=1))  # colour or darkness
    if strength.max() < 80:
        return None
    return np.median(patch[strength >= strength.max() - 40], axis=0)
