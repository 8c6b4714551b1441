"""``voltpeak build --pool SPEC --n N --out DIR``: a training dataset of composed graphs rendered as images."""

from __future__ import annotations

import sys
from pathlib import Path

from voltpeak.cli.common import positive_int, progress
from voltpeak.errors import InputError


def add_parser(sub) -> None:
    b = sub.add_parser("build", help="a training dataset: composed graphs rendered as images, answers, splits",
                       description="Compose graphs of 1 to K labelled CVs, render them in many plot styles, and write "
                                   "images, ms-swift messages JSONL (train/val/test and holdouts), truth JSONL, a "
                                   "Hugging Face parquet copy and a manifest into DIR. Deterministic for a seed; "
                                   "resumes an interrupted build; --shard i/N builds a part on one of N machines.")
    b.add_argument("--pool", action="append", required=True, metavar="SPEC",
                   help="labelled CVs: a truth JSONL, a folder with truth.jsonl (voltpeak simulate), or "
                        "detect:PATH (detector proposals); NAME=SPEC names it; repeatable")
    b.add_argument("--holdout", action="append", metavar="SPEC",
                   help="a pool only for its own holdout split (sources never used in training); repeatable")
    b.add_argument("--n", type=positive_int, required=True, help="samples in train + val + test")
    b.add_argument("--out", required=True, metavar="DIR", help="output folder")
    b.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed, same bytes")
    b.add_argument("--config", metavar="FILE", help="JSON file overriding BuildConfig fields")
    b.add_argument("--shard", default="1/1", metavar="i/N", help="build only shard i of N (default 1/1)")
    b.add_argument("--workers", type=positive_int, help="processes (default: all cores)")
    b.add_argument("--push-to-hub", metavar="REPO", help="also push the parquet copy to the Hugging Face Hub")
    b.add_argument("--force", action="store_true", help="replace a different build in DIR")
    b.set_defaults(func=run)


def shard(text: str) -> tuple[int, int]:
    """``--shard i/N`` as (i, N); InputError unless 1 ≤ i ≤ N."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise InputError(f"--shard must look like i/N (e.g. 1/4), got {text!r}") from None
    if not 1 <= i <= n:
        raise InputError(f"--shard i/N needs 1 ≤ i ≤ N, got {text!r}")
    return i, n


def run(args) -> int:
    from voltpeak.dataset import BuildConfig, build, load_pool, make_plan

    out = Path(args.out)
    if out.exists() and not out.is_dir():  # said before the pools are read (build finds the rest of DIR itself)
        raise InputError(f"{out} is a file, not a folder")
    part = shard(args.shard)
    config = BuildConfig.load(args.config)
    pools = [load_pool(spec) for spec in args.pool]
    holdouts = [load_pool(spec) for spec in args.holdout or []]
    plan = make_plan(pools, holdouts, args.n, args.seed, config)
    manifest = build(plan, out, part, args.workers, args.force,
                     progress=lambda total: progress(None, "build", "image", total))
    if manifest is None:
        print(f"shard {part[0]}/{part[1]} done; the dataset is merged when the last shard finishes",
              file=sys.stderr)
        return 0
    counts = ", ".join(f"{k} {v}" for k, v in manifest["counts"].items())
    print(f"wrote {out}: {counts}", file=sys.stderr)
    if args.push_to_hub:
        from datasets import load_dataset

        load_dataset("parquet", data_files={k: str(out / v) for k, v in manifest["hf_data_files"].items()}
                     ).push_to_hub(args.push_to_hub)
        print(f"pushed to the Hugging Face Hub as {args.push_to_hub}", file=sys.stderr)
    return 0
