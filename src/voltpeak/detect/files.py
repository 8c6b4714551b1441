"""``voltpeak detect`` on files: one output line (DESIGN's detect record) per file, or the line that says why
not."""

from __future__ import annotations

from pathlib import Path

from voltpeak.detect.couples import find_couples
from voltpeak.detect.peaks import Context, detect
from voltpeak.errors import VoltpeakError
from voltpeak.read import read

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")  # plots: predict's


def detect_file(path: str, cycle: int | None, convention: str = "auto") -> dict:
    """One output line of ``voltpeak detect`` for one file; raises VoltpeakError where it cannot be done."""
    if Path(path).suffix.lower() in IMAGE_SUFFIXES:
        raise VoltpeakError(f"{path}: a plot image, not CV data; voltpeak predict --model default {path} reads "
                            "peaks off a plot")
    v = read(path)
    lo, hi = v.window_V
    if hi - lo <= 0:
        raise VoltpeakError(f"{path}: the potential is constant; not a voltammogram")
    ctx = Context.of(v, convention)  # sweeps, cycles and noise, computed once for the whole analysis
    n_cycles = int(ctx.cycles.max())
    if cycle is not None and cycle > n_cycles:
        raise VoltpeakError(f"{path}: no cycle {cycle} (the file has {n_cycles})")
    peaks = detect(v, cycle, context=ctx)
    couples = find_couples(v, peaks, context=ctx)
    return {
        "source": path,
        "peaks": [p.to_record() for p in peaks],
        "couples": [c.to_record(peaks) for c in couples],
        "cycles": n_cycles,
        "window": [round(lo, 6), round(hi, 6)],
        "quantity": v.quantity,
        "convention": "us" if ctx.sign < 0 else "iupac",
    }


def detect_line(path: str, cycle: int | None, convention: str = "auto") -> dict:
    """``detect_file``, or the line that says why it could not be done; never raises for one bad file."""
    try:
        return detect_file(path, cycle, convention)
    except VoltpeakError as e:
        error = str(e)
    except Exception as e:  # a bug must not cost the user the other files
        error = f"unexpected error ({type(e).__name__}: {e})".splitlines()[0]
    return {"source": path, "peaks": [], "couples": [], "error": error}
