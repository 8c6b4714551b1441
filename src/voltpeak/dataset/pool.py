"""The pool of labelled CVs a dataset is composed from.

A pool is named by a spec (``voltpeak build --pool SPEC``, optionally ``NAME=SPEC``):

- a truth JSONL file, or a folder holding ``truth.jsonl`` (what ``voltpeak simulate`` writes and the web labelling
  tool exports). One object per CV file::

      {"source": "cv_000001_si.csv", "peaks": [<contract peak records>], "group": "paper-12"}

  ``source`` is relative to the JSONL's folder (or absolute); ``peaks`` in V and A (or A/m² with
  ``"quantity": "j"``), each with its ``cycle``; ``group`` (optional, default: the source) is what splits keep
  together — a paper, an electrode, a file — so no group is in two splits. ``faint`` (optional): peaks under
  the truth's bar, each with its ``prominence`` like the simulator's peaks, for graphs to judge in their own current
  range. Other keys (``window``, ``params``, ``shoulders``) are kept; ``params`` marks a simulated CV. A peak
  given by its potential only (a hand label read off a plot) is placed on the curve (``place_on_curve``).
- ``detect:PATH`` (a CV file or a folder of them): the detector's peaks, as proposals.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from voltpeak.errors import InputError, VoltpeakError
from voltpeak.evaluate.files import read_jsonl
from voltpeak.peak import Peak
from voltpeak.read import CV_SUFFIXES
from voltpeak.voltammogram import Voltammogram


@dataclass
class LabelledCV:
    """A CV with its truth peaks, where it came from and the group that splits keep together."""

    voltammogram: Voltammogram
    peaks: list[Peak]
    source: str
    group: str
    origin: str  # "simulated", "labelled" or "detector"
    params: dict | None = field(default=None, repr=False)
    faint: list[Peak] = field(default_factory=list, repr=False)  # peaks under the bar, with prominences

    @cached_property
    def size(self) -> float:
        """The current range (its scale on an axis shared with other CVs)."""
        current = self.voltammogram.current
        return float(current.max() - current.min())


@dataclass
class Pool:
    name: str
    spec: str
    cvs: list[LabelledCV]

    def digest(self) -> str:
        """A hash of the sources and their peaks (what a resumed build must find unchanged)."""
        h = hashlib.sha256()
        for cv in self.cvs:
            h.update(cv.source.encode())
            h.update(repr([p.to_record() for p in cv.peaks]).encode())
            if cv.faint or any(p.prominence is not None for p in cv.peaks):  # they decide a graph's truth too
                h.update(repr([(p.to_record(), p.prominence) for p in cv.peaks + cv.faint]).encode())
        return h.hexdigest()[:16]


def load_pool(spec: str) -> Pool:
    """Read a pool spec (see the module docstring). Raises InputError naming what is wrong."""
    name, named, rest = spec.partition("=")
    if not named or not rest or any(c in name for c in "/\\:."):  # no NAME= in front
        name, rest = "", spec
    if rest.startswith("detect:"):
        cvs = _detected(rest[len("detect:"):])
        default = Path(rest[len("detect:"):]).stem or "detected"
    else:
        path = Path(rest)
        truth = path / "truth.jsonl" if path.is_dir() else path
        if not truth.is_file():
            raise InputError(f"pool {rest}: no such truth file (a .jsonl, a folder with truth.jsonl, "
                             "or detect:PATH)")
        cvs = _labelled(truth)
        default = (path.name if path.is_dir() else path.stem) or "pool"
    if not cvs:
        raise InputError(f"pool {spec}: holds no CV")
    return Pool(name or default, spec, cvs)


def _labelled(truth: Path) -> list[LabelledCV]:
    from voltpeak.read import read

    out = []
    for k, rec in enumerate(read_jsonl(truth), 1):
        source = rec.get("source")
        if not isinstance(source, str):
            raise InputError(f"{truth}:{k}: needs a 'source' (the CV file)")
        path = Path(source) if Path(source).is_absolute() else truth.parent / source
        try:
            v = read(path)
            peaks = [place_on_curve(v, Peak.from_record(r)) for r in rec.get("peaks") or []]
            faint = [Peak.from_record(r) for r in rec.get("faint") or []]
        except VoltpeakError as e:
            raise InputError(f"{truth}:{k}: {e}") from None
        except (TypeError, ValueError, KeyError) as e:
            raise InputError(f"{truth}:{k}: bad peak record ({e})") from None
        params = rec.get("params")
        out.append(LabelledCV(v, peaks, source, str(rec.get("group", source)),
                              "simulated" if params else "labelled", params, faint))
    return out


PLACE_WINDOW_V = 0.01  # a potential-only label moves to the sweep's extremum within this distance (V)


def place_on_curve(v: Voltammogram, peak: Peak) -> Peak:
    """A label given by potential only (hand labels read off a plot) placed on the curve: on a sweep of its
    direction (in its cycle), the sample nearest its potential, moved to the sweep's extremum within
    ``PLACE_WINDOW_V``; its current and sample index come from there. A complete label is returned as it is."""
    if peak.current is not None or peak.potential is None:
        return peak
    from voltpeak.detect.peaks import current_sign

    want = 1 if peak.direction == "anodic" else -1
    cycles = v.cycle_numbers()
    best = None
    for a, b, d in v.sweeps():
        if d != want or (peak.cycle is not None and cycles[a] != peak.cycle and cycles[b - 1] != peak.cycle):
            continue
        e = v.potential_V[a:b]
        near = np.flatnonzero(np.abs(e - peak.potential) <= PLACE_WINDOW_V)
        if not len(near):
            continue
        i = near[int(np.argmax(v.current[a + near] * current_sign(v) * d))]
        if best is None or abs(e[i] - peak.potential) < best[1]:
            best = (a + int(i), abs(e[i] - peak.potential))
    if best is None:
        raise InputError(f"a {peak.direction} label at {peak.potential} V lies on no {peak.direction}-going sweep"
                         + (f" of cycle {peak.cycle}" if peak.cycle else ""))
    k = best[0]
    return Peak(peak.direction, float(v.potential_V[k]), float(v.current[k]), peak.cycle or int(cycles[k]),
                v.quantity, index=k)


HAND_HALVES = ("train", "test")


def hand_label_lines(labels: Path, data: Path, sure_only: bool = False, half: str | None = None) -> list[dict]:
    """Truth records of the hand labels in ``labels/*.jsonl`` (e.g. the bundled ``voltpeak/examples/labels``; sources
    relative to ``data``, the folder of the project's collection of real CV files) with absolute sources, grouped by
    paper folder (echemdb) or by file; ``sure_only`` leaves out the labels marked ``"confidence": "low"`` (features
    an expert might or might not mark). ``half`` ("train" or "test") keeps one of two fixed halves of the labelled
    systems (``hand_half``): models learn from one and are measured on the other."""
    if half not in (None, *HAND_HALVES):
        raise ValueError(f"half must be train or test, got {half!r}")
    out = []
    for path in sorted(Path(labels).glob("*.jsonl")):
        for rec in read_jsonl(path):
            source = rec["source"]
            if half and hand_half(source) != half:
                continue
            peaks = [{k: v for k, v in p.items() if k != "confidence"} for p in rec["peaks"]
                     if not (sure_only and p.get("confidence") == "low")]
            group = str(Path(source).parent) if source.startswith("echemdb/") else source
            out.append({"source": str(Path(data).resolve() / source), "peaks": peaks, "group": group})
    return out


def hand_half(source: str) -> str:
    """The half ("train" or "test") of a hand-labelled CV, by a hash of its system: the paper of an echemdb CV, the
    concentration and compound of a Gamry file (``10mM_F2CA_…``: its scan rates and repeats stay together)."""
    if source.startswith("echemdb/"):
        system = str(Path(source).parent)
    else:
        system = "_".join(Path(source).name.lstrip("_").split("_")[:2]).lower()
    u = int(hashlib.sha256(f"hand-half:{system}".encode()).hexdigest()[:13], 16) / 16**13
    return HAND_HALVES[u >= 0.5]


def _detected(where: str) -> list[LabelledCV]:
    from voltpeak.detect import detect
    from voltpeak.read import read

    root = Path(where)
    if root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in CV_SUFFIXES)
    elif root.is_file():
        files = [root]
    else:
        raise InputError(f"pool detect:{where}: no such file or folder")
    out = []
    for p in files:
        try:
            v = read(p)
        except VoltpeakError:
            continue  # a folder may hold other files; unreadable ones are not CVs
        out.append(LabelledCV(v, detect(v), str(p), str(p), "detector"))
    return out
