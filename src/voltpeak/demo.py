"""``voltpeak demo``: the main job on embedded defaults.

Detects the peaks of the bundled simulated CVs (written in the header styles voltpeak reads), evaluates them
against their exact truth with DESIGN.md's matching rule, and — when ../shared/data is present — detects the
peaks, E1/2 and ΔEp of the real Gamry CVs there. Everything lands in a report folder.
"""

from __future__ import annotations

import json
import shutil
import sys
from importlib import resources
from pathlib import Path

from voltpeak.errors import InputError

SHARED_CANDIDATES = (Path.cwd().parent / "shared" / "data", Path(__file__).resolve().parents[3] / "shared" / "data")


def examples_dir() -> Path:
    """The folder of bundled example CVs and their truth.jsonl."""
    return Path(str(resources.files("voltpeak") / "examples"))


def _detect_all(paths: list[str], out_path: Path, cycle: int | None = None) -> list[dict]:
    from voltpeak.cli import detect_line

    lines = [detect_line(p, cycle) for p in paths]
    out_path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return lines


def run_demo(out: str, force: bool = False) -> int:
    from voltpeak.evaluate.files import evaluate_files, report

    out_dir = Path(out)
    if out_dir.exists() and any(out_dir.iterdir()):
        if not force:
            raise InputError(f"{out} exists and is not empty; use --force to replace it")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    ex = examples_dir()
    files = sorted(str(p) for p in ex.iterdir() if p.name.startswith("cv_"))
    print(f"1/3 detecting peaks in {len(files)} bundled simulated CVs ({ex})")
    _detect_all(files, out_dir / "examples_detect.jsonl")
    print("2/3 evaluating against their exact truth (Hungarian matching, |ΔE| ≤ max(20 mV, 2 % of window))")
    result = evaluate_files(ex / "truth.jsonl", out_dir / "examples_detect.jsonl")
    (out_dir / "examples_metrics.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print("    " + report(result).replace("\n", "\n    "))

    shared = next((p for p in SHARED_CANDIDATES if p.is_dir()), None)
    if shared is None:
        print("3/3 real CVs: ../shared/data not found, skipped")
    else:
        gamry = sorted(str(p) for p in (shared / "gamry").glob("*DTA*"))
        print(f"3/3 detecting cycle 1 of {len(gamry)} real Gamry CVs ({shared / 'gamry'}; MIT, voltcycle project)")
        lines = _detect_all(gamry, out_dir / "gamry_detect.jsonl", cycle=1)
        print(f"    {'file':<46} {'peaks':>5} {'E1/2 / V':>9} {'ΔEp / mV':>9} {'ipa/ipc':>8}")
        for line in lines:
            name = Path(line["source"]).name[:46]
            if line.get("error"):
                print(f"    {name:<46} error: {line['error']}")
                continue
            c = line["couples"][0] if line["couples"] else None
            cols = (f"{c['E_half']:>9.3f} {c['delta_Ep'] * 1000:>9.1f} {c['ipa_ipc'] or float('nan'):>8.2f}" if c
                    else f"{'-':>9} {'-':>9} {'-':>8}")
            print(f"    {name:<46} {len(line['peaks']):>5} {cols}")
    print(f"\nreport folder: {out_dir}/ (detections as JSON Lines, metrics as JSON)")
    print("next: voltpeak detect YOUR_FILE.DTA --cycle 1   (CSV/TXT, echemdb .json, Gamry .DTA, BioLogic .mpr/.mpt)")
    sys.stdout.flush()
    return 0
