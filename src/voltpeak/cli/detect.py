"""``voltpeak detect PATH...``: peaks and couples of raw CV files, one JSON line per file (no model, no extra)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voltpeak.cli.common import (
    EXIT_BAD_INPUT,
    Output,
    existing_folder,
    non_negative_float,
    number,
    positive_float,
    positive_int,
    progress,
    refuse_to_overwrite,
)
from voltpeak.errors import InputError


def ph(text: str) -> float:
    x = number(text)
    if not -2 <= x <= 16:  # concentrated acids and bases reach a little past 0 and 14
        raise argparse.ArgumentTypeError(f"a pH lies between -2 and 16, got {x}")
    return x


def add_parser(sub) -> None:
    d = sub.add_parser("detect", help="peaks, E1/2 and ΔEp of raw CV files (no model needed)",
                       description="Peaks of raw CV files: one JSON line per input with peaks and redox couples. "
                                   "Reads CSV/TXT tables, echemdb data packages, Gamry .DTA, BioLogic .mpr/.mpt.")
    d.add_argument("paths", nargs="+", metavar="PATH", help="CV files")
    d.add_argument("-o", "--output", metavar="OUT.jsonl", help="write here instead of stdout")
    d.add_argument("--cycle", type=positive_int, metavar="N", help="only this cycle (numbered from 1; default: all)")
    d.add_argument("--convention", choices=("auto", "iupac", "us"), default="auto",
                   help="current sign convention: iupac (anodic positive), us (cathodic positive), or auto "
                        "(from which branch lies higher; default)")
    d.add_argument("--force", action="store_true", help="overwrite OUT.jsonl (and the CSV/Excel files) if they exist")
    g = d.add_argument_group("corrections (applied in this order)")
    g.add_argument("--blank", metavar="FILE", help="a blank recording, subtracted sweep by sweep")
    g.add_argument("--ru", type=non_negative_float, default=0.0, metavar="OHM",
                   help="uncompensated resistance: potentials become E - I*Ru (default 0)")
    g.add_argument("--reference", metavar="REF", help="give potentials against REF: SHE, NHE, SCE, Ag/AgCl (sat. "
                   "KCl), Ag/AgCl-3M, MSE-sat, Hg/HgO-1M-NaOH, RHE (needs --ph, or a pH the file states), "
                   "Fc/Fc+ (needs --fc)")
    g.add_argument("--from-reference", metavar="REF", help="the file's reference (overrides what the file says)")
    g.add_argument("--ph", type=ph, metavar="PH",
                   help="the solution's pH (for RHE; default: the pH an echemdb file states)")
    g.add_argument("--fc", type=number, metavar="E", help="E1/2 of ferrocene against the file's reference, V")
    g.add_argument("--area", type=positive_float, metavar="CM2",
                   help="electrode area: peak charges also per cm² (and --ru reads current densities)")
    r = d.add_argument_group("output for people")
    r.add_argument("--table", action="store_true",
                   help="a table per file on stdout (units printed); the JSON lines then go only to -o")
    r.add_argument("--csv", metavar="FILE.csv", help="every peak as a CSV row (SI units)")
    r.add_argument("--excel", metavar="FILE.xlsx", help="the same rows in an Excel workbook, and one row per file")
    r.add_argument("--plot", metavar="DIR", help="each CV with its peaks, heights and couples, as PNG and SVG in DIR")
    d.set_defaults(func=run)


def run(args) -> int:
    from voltpeak.detect import Analysis
    from voltpeak.detect.corrections import reference_name
    from voltpeak.detect.files import analyse_line
    from voltpeak.detect.report import table, write_csv, write_excel

    # The library checks these per file; said here once, before any file is read.
    for name in (args.reference, args.from_reference):
        if name:
            reference_name(name)
    if args.reference and reference_name(args.reference) == "Fc/Fc+" and args.fc is None:
        raise InputError("--reference Fc/Fc+ needs --fc E: the E1/2 of ferrocene measured against the file's "
                         "reference (V)")
    if args.blank and not Path(args.blank).is_file():
        raise InputError(f"--blank {args.blank}: no such file")
    exports = [(p, s) for p, s in ((args.csv, ".csv"), (args.excel, ".xlsx")) if p]
    for path, suffix in exports:
        if not path.lower().endswith(suffix):
            raise InputError(f"{path}: the file name should end in {suffix}")
        refuse_to_overwrite(path, args.force)
        existing_folder(path)  # said now, not after every file was read
    analysis = Analysis(args.reference, args.from_reference, args.ph, args.fc, args.blank, args.ru, args.area)
    # JSON Lines go to -o, or to stdout unless the table takes it.
    out = Output(args.output, args.force) if args.output or not args.table else None
    failed = 0
    completed = False
    lines = []
    names = [Path(p).name for p in args.paths]  # plot names: the file's, numbered where two files share one
    names = [f"{k + 1}_{n}" if names.count(n) > 1 else n for k, n in enumerate(names)]
    try:
        for path, name in zip(progress(args.paths, "detect"), names):
            line, v = analyse_line(path, args.cycle, args.convention, analysis)
            if line.get("error"):
                failed += 1
                print(f"voltpeak detect: {line['error']}", file=sys.stderr)
            if out:
                out.write(line)
            if args.table and not line.get("error"):  # the error is said once, on stderr
                print(table(line) + "\n", flush=True)
            if args.plot and v is not None:
                from voltpeak.detect.plots import plot_cv

                try:
                    plot_cv(v, line, Path(args.plot), name)
                except Exception as e:  # a picture that cannot be drawn costs no file its line
                    print(f"voltpeak detect: {path}: no plot ({type(e).__name__}: {e})".splitlines()[0],
                          file=sys.stderr)
            lines.append(line)
        completed = True
    finally:
        if out:
            out.close(keep=completed)  # an interrupted run leaves no half-written file behind
    if args.csv:
        print(f"voltpeak detect: wrote {write_csv(lines, args.csv)}", file=sys.stderr)
    if args.excel:
        print(f"voltpeak detect: wrote {write_excel(lines, args.excel)}", file=sys.stderr)
    return EXIT_BAD_INPUT if failed else 0
