"""Leave-one-program-out: does the image detector hold on plots drawn by a program it never saw?

    python benchmarks/programs.py [--n 1500] [--minutes 7] [--out data/programs] [--model default]

Builds one dataset per plotting program from the same simulated CVs (ours: the fast renderer and matplotlib in our
styles; matplotlib's style sheets; Vega-Lite; R's ggplot2 — each in all eight style families, a quarter of the
images degraded as real pictures are), each with a holdout of CVs no training graph shows, drawn by that program.
Then, per foreign program, a heatmap detector trained from nothing on the other programs' sets, and one trained
as long (the same wall-time budget, the shipped recipe otherwise) on all four; each scored on every program's
holdout. ``--model`` adds rows for already trained models (shipped names or run directories). Prints a table.
Folders already built or trained under ``--out`` are reused (delete them to rebuild). ``--build-only`` stops after
the builds: ``make model`` fine-tunes the shipped detector on them (``configs/heatmap-programs.json``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from common import record  # noqa: E402

from voltpeak.rundir import newest_checkpoint  # noqa: E402

# Who draws each program's set (weights over ENGINES).
PROGRAMS = {
    "ours": {"raster": 0.9, "matplotlib": 0.1},
    "matplotlib-sheets": {"matplotlib-sheet": 1.0},
    "vega-lite": {"vega": 1.0},
    "ggplot2": {"ggplot": 1.0},
}
FOREIGN = ("matplotlib-sheets", "vega-lite", "ggplot2")


def voltpeak(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "voltpeak", *args], check=True, cwd=ROOT)


def build_sets(out: Path, n: int) -> dict[str, Path]:
    """One built folder per program (train/val/test from the training pool, holdout_unseen from unseen CVs)."""
    if not (out / "pool" / "truth.jsonl").is_file():
        voltpeak("simulate", "--n", str(max(n // 2, 50)), "--out", str(out / "pool"), "--seed", "21")
    if not (out / "pool-holdout" / "truth.jsonl").is_file():
        voltpeak("simulate", "--n", "150", "--out", str(out / "pool-holdout"), "--seed", "777")
    sets = {}
    for k, (program, engines) in enumerate(PROGRAMS.items()):
        folder = out / program
        if not (folder / "manifest.json").is_file():
            config = out / f"build-{program}.json"
            config.write_text(json.dumps({"engine_weights": engines,
                                          "degrade_fraction": 0.25, "holdout_n": 200}))
            voltpeak("build", "--pool", f"sim={out / 'pool'}", "--holdout", f"unseen={out / 'pool-holdout'}", "--n",
                     str(n), "--out", str(folder), "--seed", str(30 + k), "--config", str(config), "--force")
        sets[program] = folder
    return sets


def train(out: Path, name: str, folders: list[Path], minutes: float) -> Path:
    """A heatmap detector from nothing on ``folders`` for ``minutes`` (the shipped recipe otherwise)."""
    run = out / "runs" / name
    if newest_checkpoint(run) is not None:
        return run
    recipe = json.loads((ROOT / "configs" / "heatmap.json").read_text())
    recipe.update(dataset=[str(f) for f in folders], out=str(run), minutes=minutes, val_every=10**6,
                  save_every=10**6)
    config = out / f"train-{name}.json"
    config.write_text(json.dumps(recipe))
    voltpeak("train", "--config", str(config))
    return run


def score(model_path: str | Path, sets: dict[str, Path], n: int) -> dict[str, dict]:
    from voltpeak.models import load_model, model_dir
    from voltpeak.train import evaluate_model
    from voltpeak.train.data import load_split

    model = load_model(model_dir(str(model_path)))
    return {program: evaluate_model(model, load_split(folder, "holdout_unseen", n), 32)
            for program, folder in sets.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1500, help="images per program's set")
    parser.add_argument("--minutes", type=float, default=7.0, help="wall time of each training run")
    parser.add_argument("--out", default="data/programs")
    parser.add_argument("--model", action="append", default=[], help="also score these models (repeatable)")
    parser.add_argument("--holdout-n", type=int, default=200, help="holdout plots scored per program")
    parser.add_argument("--build-only", action="store_true", help="only build the sets (make model's fine-tune data)")
    args = parser.parse_args()
    out = (ROOT / args.out).resolve()
    sets = build_sets(out, args.n)
    if args.build_only:
        return 0
    rows = [(name, score(name, sets, args.holdout_n)) for name in args.model]
    for left in FOREIGN:
        run = train(out, f"without-{left}", [f for p, f in sets.items() if p != left], args.minutes)
        rows.append((f"trained without {left} ({args.minutes:g} min)", score(run, sets, args.holdout_n)))
    run = train(out, "all", list(sets.values()), args.minutes)
    rows.append((f"trained on all four ({args.minutes:g} min)", score(run, sets, args.holdout_n)))
    print(f"\nF1 / sample accuracy on each program's holdout ({args.holdout_n} plots of unseen CVs; left-out program "
          "in bold)\n")
    print("| model | " + " | ".join(PROGRAMS) + " |")
    print("|---|" + "---|" * len(PROGRAMS))
    for name, metrics in rows:
        cells = []
        for program, m in metrics.items():
            cell = f"{m['f1']:.3f} / {m['sample_accuracy']:.3f}"
            cells.append(f"**{cell}**" if name.startswith(f"trained without {program} ") else cell)
            if name.startswith(f"trained without {program} "):
                record("predict", f"left-out program {program}: F1 / sample accuracy", cell, "goal 0.97 / 0.90")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
