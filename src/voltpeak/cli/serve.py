"""``voltpeak serve``: the web app to analyse a dropped CV file or figure, label CVs, review an evaluation and compare
training runs (the 'web' extra; figures also need 'ml' and 'ocr')."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voltpeak.cli.common import positive_int


def port(text: str) -> int:
    n = positive_int(text)
    if n > 65535:
        raise argparse.ArgumentTypeError(f"a port is 1–65535, got {n}")
    return n


def add_parser(sub) -> None:
    w = sub.add_parser("serve", help="the web app: analyse a CV file or figure, label CVs, review evaluations, "
                                     "compare training runs",
                       description="Serve the web app on http://HOST:PORT/: /analyse (drop a CV file or a plot image: "
                                   "its peaks, corrections, downloads), /label (folders of raw CV files; labels "
                                   "saved at once to a SQLite file), /review (an evaluation: truth + predictions), "
                                   "/runs (training runs' curves). Reads only under the folders and files given, and "
                                   "writes uploads only into their folder.")
    w.add_argument("--data", action="append", default=[], metavar="DIR", help="a folder of CV files to label")
    w.add_argument("--runs", action="append", default=[], metavar="DIR", help="a folder of training runs")
    w.add_argument("--truth", metavar="T.jsonl", help="truth of the evaluation to review")
    w.add_argument("--pred", metavar="P.jsonl", help="predictions of the evaluation to review")
    w.add_argument("--images", metavar="DIR", help="where the review's sources are (default: beside --truth)")
    w.add_argument("--space", choices=("image", "data"), default="image",
                   help="the review's matching space (default image)")
    w.add_argument("--db", default="labels.sqlite", metavar="FILE", help="the label store (default labels.sqlite)")
    w.add_argument("--suggest", default="detector", metavar="M",
                   help="label suggestions: detector (the classical one, default) or a model that reads plots "
                        "(a shipped name such as heatmap, or a model folder): the CV is drawn, its peaks mapped back")
    w.add_argument("--uploads", metavar="DIR", help="where the analysis page keeps uploaded files (default: a new "
                   "temporary folder, deleted when the server stops); each is deleted an hour after its last use")
    w.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    w.add_argument("--port", type=port, default=8765, help="port (default 8765)")
    w.set_defaults(func=run)


def needs(args) -> tuple[str, ...]:
    return ("web",) if args.suggest == "detector" else ("web", "ml", "ocr")  # a model's suggestions


def run(args) -> int:
    from voltpeak.serve import ServeConfig, serve

    config = ServeConfig(data=[Path(d) for d in args.data], runs=[Path(d) for d in args.runs],
                         truth=Path(args.truth) if args.truth else None, pred=Path(args.pred) if args.pred else None,
                         images=Path(args.images) if args.images else None, space=args.space, db=Path(args.db),
                         suggest=args.suggest, uploads=Path(args.uploads) if args.uploads else None)
    serve(config, args.host, args.port, log=lambda text: print(text, file=sys.stderr))
    return 0
