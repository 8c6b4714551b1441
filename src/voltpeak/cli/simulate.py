"""``voltpeak simulate --n N --out DIR``: physics-based CVs with their exact peaks (CSV files and truth.jsonl)."""

from __future__ import annotations

import sys
from pathlib import Path

from voltpeak.cli.common import positive_int, progress
from voltpeak.errors import InputError


def add_parser(sub) -> None:
    s = sub.add_parser("simulate", help="physics-based CVs with exact truth peaks (CSV + truth.jsonl)",
                       description="Simulate CVs (Butler–Volmer kinetics, planar diffusion, charging, background, "
                                   "noise) into DIR: one CSV per CV in rotating header styles, and truth.jsonl with "
                                   "the peaks of each noiseless CV, its window and its parameters.")
    s.add_argument("--n", type=positive_int, required=True, help="number of CVs")
    s.add_argument("--out", required=True, metavar="DIR", help="output folder")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed, same files")
    s.add_argument("--config", metavar="FILE", help="JSON file overriding the parameter distributions")
    s.add_argument("--force", action="store_true", help="write into DIR even if it is not empty")
    s.set_defaults(func=run)


def run(args) -> int:
    from voltpeak.simulate.batch import CHUNK, simulate_to_folder
    from voltpeak.simulate.config import SimulationConfig

    # simulate_to_folder clears a folder's earlier CVs: a user's folder is refused unless --force.
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, not a folder")
    if out.exists() and any(out.iterdir()) and not args.force:
        raise InputError(f"{out} exists and is not empty; use --force to write into it")
    config = SimulationConfig.load(args.config)
    chunks = -(-args.n // CHUNK)
    truth = simulate_to_folder(args.n, out, args.seed, config,
                               progress=lambda items: progress(items, "simulate", f"x{CHUNK} CVs", chunks))
    print(f"wrote {args.n} CVs and {truth}", file=sys.stderr)
    return 0
