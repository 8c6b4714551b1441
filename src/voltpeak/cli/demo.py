"""``voltpeak demo``: the whole loop on embedded defaults, written as an HTML report (the 'ml' and 'ocr' extras)."""

from __future__ import annotations

from voltpeak.cli.common import non_negative_float


def add_parser(sub) -> None:
    m = sub.add_parser("demo", help="the main job on embedded defaults",
                       description="The whole loop on embedded defaults: the detector on bundled CV files, simulate "
                                   "labelled CVs, build plot images, predict with the shipped model (and on plots of "
                                   "the real CVs of --real), evaluate, write an HTML report.")
    m.add_argument("--out", default="voltpeak-demo", metavar="DIR", help="report folder (default voltpeak-demo)")
    m.add_argument("--force", action="store_true", help="replace the report folder if it exists")
    m.add_argument("--train-minutes", type=non_negative_float, default=0.0, metavar="M",
                   help="first train a small heatmap detector for about M minutes and show its curves "
                        "(default 0: no training)")
    m.add_argument("--real", metavar="DIR",
                   help="a folder of real CV files (the hand labels in the package name files relative to it); "
                        "their plots are predicted and scored too (default: none)")
    m.set_defaults(func=run)


def needs(args) -> tuple[str, ...]:
    return ("ml", "ocr")


def run(args) -> int:
    from voltpeak.demo import run_demo

    return run_demo(args.out, force=args.force, train_minutes=args.train_minutes, real=args.real)
