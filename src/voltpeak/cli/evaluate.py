"""``voltpeak evaluate --truth T --pred P``: predicted peaks matched to true ones (Hungarian), and the metrics."""

from __future__ import annotations

import json
import sys

from voltpeak.cli.common import EXIT_BAD_INPUT, Output, positive_float
from voltpeak.errors import InputError


def add_parser(sub) -> None:
    e = sub.add_parser("evaluate", help="match predictions to truth (Hungarian) and report metrics",
                       description="Metrics of predicted peaks against true peaks (Hungarian matching per source, "
                                   "same direction; docs/contracts.md): JSON on stdout, a readable report on stderr.")
    e.add_argument("--truth", required=True, metavar="T.jsonl", help="true peaks, one line per source")
    e.add_argument("--pred", required=True, metavar="P.jsonl", help="predicted peaks, one line per source")
    e.add_argument("--space", choices=("data", "image"), default="data",
                   help="compare potentials (data) or image fractions (image); default data")
    e.add_argument("--tolerance", type=positive_float, metavar="TOL",
                   help="largest distance of a match: V (data) or fraction (image); default: data "
                        "max(0.02 V, 2 %% of the CV's potential window), image 0.02")
    e.add_argument("--same-cycle", action="store_true", help="also require equal cycle numbers")
    e.add_argument("-o", "--output", metavar="OUT.json", help="write metrics and per-source matches here")
    e.add_argument("--force", action="store_true", help="overwrite OUT.json if it exists")
    e.set_defaults(func=run)


def run(args) -> int:
    from voltpeak.evaluate.files import evaluate_files, report

    out = Output(args.output, args.force) if args.output else None
    result = evaluate_files(args.truth, args.pred, args.space, args.tolerance, args.same_cycle)
    if not result["per_source"]:
        raise InputError(f"{args.truth}: no truth records: there is nothing to score")
    print(json.dumps(result["metrics"]))
    print(report(result), file=sys.stderr)
    for warning in result["warnings"]:
        print(f"voltpeak evaluate: warning: {warning}", file=sys.stderr)
    if out:
        out.write(result, indent=1)
        out.close()
    if result["nothing_matched"]:
        print("voltpeak evaluate: nothing could be matched; the scores above mean nothing", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0
