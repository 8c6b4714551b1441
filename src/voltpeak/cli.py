"""The ``voltpeak`` command line. Every command has ``--help``; bad input gives one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import signal
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path

from voltpeak.errors import InputError, VoltpeakError

EXIT_BAD_INPUT = 2


def _progress(items, desc: str, unit: str = "file", total: int | None = None):
    from tqdm import tqdm

    # disable=None: a bar on a terminal only, so piped output and CI logs stay clean.
    return tqdm(items, desc=desc, unit=unit, total=total, disable=None, file=sys.stderr, leave=False)


def _existing_folder(path: str) -> Path:
    """The folder ``path`` would be written into; InputError where it does not exist."""
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise InputError(f"{path}: the folder {parent} does not exist")
    return parent


class Output:
    """Where JSON Lines go: stdout, or a new file written atomically (never over a user's file without --force)."""

    def __init__(self, path: str | None, force: bool):
        self.path = path
        if path and Path(path).is_dir():
            raise InputError(f"{path} is a directory")
        if path and Path(path).exists() and not force:
            raise InputError(f"{path} exists; use --force to overwrite it")
        self._tmp = None
        if path:
            parent = _existing_folder(path)
            fd, self._tmp = tempfile.mkstemp(prefix=".voltpeak-", dir=parent)
            self._f = os.fdopen(fd, "w", encoding="utf-8")
        else:
            self._f = sys.stdout

    def write(self, obj: dict, indent: int | None = None):
        self._f.write(json.dumps(obj, ensure_ascii=False, indent=indent) + "\n")
        if not self.path:
            self._f.flush()

    def close(self, keep: bool = True):
        if self._tmp:
            self._f.close()
            if keep:
                os.replace(self._tmp, self.path)
            else:
                os.unlink(self._tmp)


def cmd_detect(args) -> int:
    from voltpeak.detect import Analysis
    from voltpeak.detect.corrections import reference_name
    from voltpeak.detect.files import analyse_line
    from voltpeak.detect.report import table, write_csv, write_excel

    for name in (args.reference, args.from_reference):
        if name:
            reference_name(name)  # a wrong name is one line before any file is read
    if args.reference and reference_name(args.reference) == "Fc/Fc+" and args.fc is None:
        raise InputError("--reference Fc/Fc+ needs --fc E: the E1/2 of ferrocene measured against the file's "
                         "reference (V)")
    if args.blank and not Path(args.blank).is_file():
        raise InputError(f"--blank {args.blank}: no such file")
    exports = [(p, s) for p, s in ((args.csv, ".csv"), (args.excel, ".xlsx")) if p]
    for path, suffix in exports:
        if not path.lower().endswith(suffix):
            raise InputError(f"{path}: the file name should end in {suffix}")
        if Path(path).exists() and not args.force:
            raise InputError(f"{path} exists; use --force to overwrite it")
        _existing_folder(path)  # said now, not after every file was read
    analysis = Analysis(args.reference, args.from_reference, args.ph, args.fc, args.blank, args.ru, args.area)
    # JSON Lines go to -o, or to stdout unless the table takes it.
    out = Output(args.output, args.force) if args.output or not args.table else None
    failed = 0
    completed = False
    lines = []
    names = [Path(p).name for p in args.paths]  # plot names: the file's, numbered where two files share one
    names = [f"{k + 1}_{n}" if names.count(n) > 1 else n for k, n in enumerate(names)]
    try:
        for path, name in zip(_progress(args.paths, "detect"), names):
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


def cmd_series(args) -> int:
    import numpy as np

    from voltpeak.detect import Analysis
    from voltpeak.detect.files import analyse_file
    from voltpeak.detect.series import analyse_series, scan_rate

    if args.scan_rates and len(args.scan_rates) != len(args.paths):
        raise InputError(f"--scan-rates gives {len(args.scan_rates)} rates for {len(args.paths)} files")
    if args.output and Path(args.output).exists() and not args.force:
        raise InputError(f"{args.output} exists; use --force to overwrite it")
    analysis = Analysis(area_cm2=args.area)
    lines, rates = [], []
    for k, path in enumerate(args.paths):
        line, v = analyse_file(path, args.cycle, analysis=analysis)  # the area alone changes no potential or current
        rate = args.scan_rates[k] if args.scan_rates else scan_rate(v)
        if rate is None:
            raise InputError(f"{path}: the file gives no scan rate (nor time to read one from); give --scan-rates")
        lines.append(line)
        rates.append(rate)
    result = analyse_series(lines, rates, args.n, args.area, args.conc, sources=list(args.paths))
    result["sources"] = list(args.paths)
    out = Output(args.output, args.force)  # only once there is something to write: no stray temporary file
    out.write(result, indent=1)
    out.close()
    for c in result["couples"]:
        figures = [f"E1/2 {np.mean(c['E_half']):.4f} V over {len(c['scan_rates'])} of {len(args.paths)} files"
                   + (f" (not found in {', '.join(Path(m).name for m in c['missing'])})" if c["missing"] else "")]
        for side in ("cathodic", "anodic"):
            if side in c:
                fit = c[side]
                log = fit["log_ip_vs_log_v"]
                text = f"{side}: log ip/log v slope {log['slope']:.2f} ({fit['regime']}, R² {log['r2']:.2f})"
                if "D_cm2_s" in fit:
                    text += f", D {fit['D_cm2_s']:.3g} cm²/s (ip–v½ R² {fit['ip_vs_sqrt_v']['r2']:.2f})"
                if "alpha" in fit:
                    text += f", alpha {fit['alpha']:.2f} (Ep–log v R² {fit['Ep_vs_log_v']['r2']:.2f})"
                text += "".join(f", no {name.split('_')[0]}: {why}" for name, why in fit["withheld"].items())
                figures.append(text)
        print("voltpeak series: " + "; ".join(figures), file=sys.stderr)
        for warning in c["warnings"]:
            print(f"voltpeak series: warning: {warning}", file=sys.stderr)
    if not result["couples"]:
        print("voltpeak series: no couple was found in three or more of the files", file=sys.stderr)
    if args.plot:
        from voltpeak.detect.plots import plot_series

        for written in plot_series(result, Path(args.plot)):
            print(f"voltpeak series: wrote {written}", file=sys.stderr)
    return 0


def cmd_evaluate(args) -> int:
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


def cmd_simulate(args) -> int:
    from voltpeak.simulate.batch import CHUNK, simulate_to_folder
    from voltpeak.simulate.config import SimulationConfig

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, not a folder")
    if out.exists() and any(out.iterdir()) and not args.force:
        raise InputError(f"{out} exists and is not empty; use --force to write into it")
    config = SimulationConfig.load(args.config)
    chunks = -(-args.n // CHUNK)
    truth = simulate_to_folder(args.n, out, args.seed, config,
                               progress=lambda items: _progress(items, "simulate", f"x{CHUNK} CVs", chunks))
    print(f"wrote {args.n} CVs and {truth}", file=sys.stderr)
    return 0


def cmd_build(args) -> int:
    from voltpeak.dataset import BuildConfig, build, load_pool, make_plan

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, not a folder")
    shard = _shard(args.shard)
    config = BuildConfig.load(args.config)
    pools = [load_pool(spec) for spec in args.pool]
    holdouts = [load_pool(spec) for spec in args.holdout or []]
    plan = make_plan(pools, holdouts, args.n, args.seed, config)
    manifest = build(plan, out, shard, args.workers, args.force,
                     progress=lambda total: _progress(None, "build", "image", total))
    if manifest is None:
        print(f"shard {shard[0]}/{shard[1]} done; the dataset is merged when the last shard finishes",
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


def _shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise InputError(f"--shard must look like i/N (e.g. 1/4), got {text!r}") from None
    if not 1 <= i <= n:
        raise InputError(f"--shard i/N needs 1 ≤ i ≤ N, got {text!r}")
    return i, n


def cmd_train(args) -> int:
    from voltpeak.train import TrainConfig, train

    config = TrainConfig.load(args.config)
    log = lambda text: print(text, file=sys.stderr)  # noqa: E731
    if args.backend == "swift":
        from voltpeak.train.swift import train_swift

        run = train_swift(config, resume=args.resume, log=log)
    else:
        run = train(config, resume=args.resume, log=log)
    print(f"run written to {run}", file=sys.stderr)
    return 0


def cmd_predict(args) -> int:
    from voltpeak.models import load_model, model_dir
    from voltpeak.predict import image_inputs, predict, with_axes

    axes = _axes_option(args)
    folder = model_dir(args.model)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    items = image_inputs(args.inputs)
    if args.backend != "transformers" and not (folder / "voltpeak.json").is_file():
        raise InputError(f"--backend {args.backend} runs Qwen-VL models; {args.model} is not one")
    if args.backend == "vllm":
        from voltpeak.models.qwen import predict_vllm

        lines = with_axes(predict_vllm(folder, items), items, axes)
    elif args.backend == "swift":
        from voltpeak.train.swift import predict_swift

        lines = with_axes(predict_swift(folder, items, Path(tempfile.mkdtemp(prefix="voltpeak-swift-")),
                                        log=lambda text: print(text, file=sys.stderr)), items, axes)
    else:
        lines = predict(load_model(folder), items, args.batch_size,
                        progress=lambda it: _progress(it, "predict", "batch", -(-len(items) // args.batch_size)),
                        axes=axes)
    out = Output(args.output, args.force)
    failed = completed = False
    try:
        for line in lines:
            failed |= line["error"] is not None and line["text"] is None
            out.write(line)
        completed = True
    finally:
        out.close(keep=completed)  # an interrupted run leaves no file that looks finished
    return EXIT_BAD_INPUT if failed else 0


def _axes_option(args):
    """``predict``'s axes: "auto", "off", or a function giving the hand-set values at the frame's edges."""
    if args.x_axis is None and args.y_axis is None:
        return "off" if args.no_axes else "auto"

    def edges(text: str | None, option: str):
        if text is None:
            return None
        parts = text.split(",")
        try:
            lo, hi = float(parts[0]), float(parts[1])
        except (ValueError, IndexError):
            raise InputError(f"{option} {text!r}: expected LOW,HIGH,UNIT, e.g. -0.8,0.6,V or -20,30,uA") from None
        if len(parts) != 3 or lo == hi or not parts[2].strip():
            raise InputError(f"{option} {text!r}: expected LOW,HIGH,UNIT, e.g. -0.8,0.6,V or -20,30,uA")
        return lo, hi, parts[2].strip()

    x, y = edges(args.x_axis, "--x-axis"), edges(args.y_axis, "--y-axis")

    def manual(image):
        import numpy as np

        from voltpeak.axes import find_frame, manual_axes

        return manual_axes(image.width, image.height, find_frame(np.asarray(image)), x, y)

    return manual


def cmd_serve(args) -> int:
    from voltpeak.serve import ServeConfig, serve

    config = ServeConfig(data=[Path(d) for d in args.data], runs=[Path(d) for d in args.runs],
                         truth=Path(args.truth) if args.truth else None, pred=Path(args.pred) if args.pred else None,
                         images=Path(args.images) if args.images else None, space=args.space, db=Path(args.db),
                         suggest=args.suggest)
    serve(config, args.host, args.port, log=lambda text: print(text, file=sys.stderr))
    return 0


def cmd_demo(args) -> int:
    from voltpeak.demo import run_demo

    return run_demo(args.out, force=args.force, train_minutes=args.train_minutes)


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number from 1 up, got {n}")
    return n


def _number(text: str) -> float:
    """A finite number from an option's text (argparse's one-line error otherwise)."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return x


def _positive_float(text: str) -> float:
    x = _number(text)
    if not x > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {x}")
    return x


def _port(text: str) -> int:
    n = _positive_int(text)
    if n > 65535:
        raise argparse.ArgumentTypeError(f"a port is 1–65535, got {n}")
    return n


def _ph(text: str) -> float:
    x = _number(text)
    if not -2 <= x <= 16:  # concentrated acids and bases reach a little past 0 and 14
        raise argparse.ArgumentTypeError(f"a pH lies between -2 and 16, got {x}")
    return x


def _non_negative_float(text: str) -> float:
    x = _number(text)
    if not x >= 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {x}")
    return x


def build_parser() -> argparse.ArgumentParser:
    from voltpeak import __version__

    parser = argparse.ArgumentParser(prog="voltpeak", description="Find the peaks of cyclic voltammograms.")
    parser.add_argument("--version", action="version", version=f"voltpeak {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    d = sub.add_parser("detect", help="peaks, E1/2 and ΔEp of raw CV files (no model needed)",
                       description="Peaks of raw CV files: one JSON line per input with peaks and redox couples. "
                                   "Reads CSV/TXT tables, echemdb data packages, Gamry .DTA, BioLogic .mpr/.mpt.")
    d.add_argument("paths", nargs="+", metavar="PATH", help="CV files")
    d.add_argument("-o", "--output", metavar="OUT.jsonl", help="write here instead of stdout")
    d.add_argument("--cycle", type=_positive_int, metavar="N", help="only this cycle (numbered from 1)")
    d.add_argument("--convention", choices=("auto", "iupac", "us"), default="auto",
                   help="current sign convention: iupac (anodic positive), us (cathodic positive), or auto "
                        "(from which branch lies higher; default)")
    d.add_argument("--force", action="store_true", help="overwrite OUT.jsonl (and the CSV/Excel files) if they exist")
    g = d.add_argument_group("corrections (applied in this order)")
    g.add_argument("--blank", metavar="FILE", help="a blank recording, subtracted sweep by sweep")
    g.add_argument("--ru", type=_non_negative_float, default=0.0, metavar="OHM",
                   help="uncompensated resistance: potentials become E - I*Ru")
    g.add_argument("--reference", metavar="REF", help="give potentials against REF: SHE, NHE, SCE, Ag/AgCl (sat. "
                   "KCl), Ag/AgCl-3M, MSE-sat, Hg/HgO-1M-NaOH, RHE (needs --ph, or a pH the file states), "
                   "Fc/Fc+ (needs --fc)")
    g.add_argument("--from-reference", metavar="REF", help="the file's reference (overrides what the file says)")
    g.add_argument("--ph", type=_ph, metavar="PH",
                   help="the solution's pH (for RHE; default: the pH an echemdb file states)")
    g.add_argument("--fc", type=_number, metavar="E", help="E1/2 of ferrocene against the file's reference, V")
    g.add_argument("--area", type=_positive_float, metavar="CM2",
                   help="electrode area: peak charges also per cm² (and --ru reads current densities)")
    r = d.add_argument_group("output for people")
    r.add_argument("--table", action="store_true",
                   help="a table per file on stdout (units printed); the JSON lines then go only to -o")
    r.add_argument("--csv", metavar="FILE.csv", help="every peak as a CSV row (SI units)")
    r.add_argument("--excel", metavar="FILE.xlsx", help="the same rows in an Excel workbook, and one row per file")
    r.add_argument("--plot", metavar="DIR", help="each CV with its peaks, heights and couples, as PNG and SVG in DIR")
    d.set_defaults(func=cmd_detect)

    s = sub.add_parser("series", help="a scan-rate series: Randles–Ševčík, log ip vs log v, Ep vs log v",
                       description="Several CVs of one system at different scan rates: couples followed across "
                                   "them; ip vs v^1/2 (D from Randles–Ševčík with --n, --area, --conc), log ip vs "
                                   "log v (0.5 diffusion, 1 adsorption), Ep vs log v (alpha). JSON on stdout.")
    s.add_argument("paths", nargs="+", metavar="PATH", help="CV files of one system, at three scan rates or more")
    s.add_argument("--scan-rates", type=lambda t: [_positive_float(x) for x in t.split(",")], metavar="V1,V2,...",
                   help="scan rates in V/s, one per file (default: from each file)")
    s.add_argument("--cycle", type=_positive_int, default=1, metavar="N", help="the cycle read (default 1)")
    s.add_argument("--n", type=_positive_int, default=1, help="electrons per couple (default 1)")
    s.add_argument("--area", type=_positive_float, metavar="CM2", help="electrode area, cm² (for D)")
    s.add_argument("--conc", type=_positive_float, metavar="MM", help="bulk concentration, mM (for D)")
    s.add_argument("--plot", metavar="DIR", help="write the series' plots (PNG and SVG) into DIR")
    s.add_argument("-o", "--output", metavar="OUT.json", help="write here instead of stdout")
    s.add_argument("--force", action="store_true", help="overwrite OUT.json if it exists")
    s.set_defaults(func=cmd_series)

    e = sub.add_parser("evaluate", help="match predictions to truth (Hungarian) and report metrics",
                       description="Metrics of predicted peaks against true peaks (Hungarian matching per source, "
                                   "same direction; docs/contracts.md): JSON on stdout, a readable report on stderr.")
    e.add_argument("--truth", required=True, metavar="T.jsonl", help="true peaks, one line per source")
    e.add_argument("--pred", required=True, metavar="P.jsonl", help="predicted peaks, one line per source")
    e.add_argument("--space", choices=("data", "image"), default="data",
                   help="compare potentials (data) or image fractions (image); default data")
    e.add_argument("--tolerance", type=_positive_float, metavar="TOL",
                   help="largest distance of a match: V (data) or fraction (image); default: data "
                        "max(0.02 V, 2 %% of the CV's potential window), image 0.02")
    e.add_argument("--same-cycle", action="store_true", help="also require equal cycle numbers")
    e.add_argument("-o", "--output", metavar="OUT.json", help="write metrics and per-source matches here")
    e.add_argument("--force", action="store_true", help="overwrite OUT.json if it exists")
    e.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("simulate", help="physics-based CVs with exact truth peaks (CSV + truth.jsonl)",
                       description="Simulate CVs (Butler–Volmer kinetics, planar diffusion, charging, background, "
                                   "noise) into DIR: one CSV per CV in rotating header styles, and truth.jsonl with "
                                   "the peaks of each noiseless CV, its window and its parameters.")
    s.add_argument("--n", type=_positive_int, required=True, help="number of CVs")
    s.add_argument("--out", required=True, metavar="DIR", help="output folder")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed, same files")
    s.add_argument("--config", metavar="FILE", help="JSON file overriding the parameter distributions")
    s.add_argument("--force", action="store_true", help="write into DIR even if it is not empty")
    s.set_defaults(func=cmd_simulate)

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
    b.add_argument("--n", type=_positive_int, required=True, help="samples in train + val + test")
    b.add_argument("--out", required=True, metavar="DIR", help="output folder")
    b.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed, same bytes")
    b.add_argument("--config", metavar="FILE", help="JSON file overriding BuildConfig fields")
    b.add_argument("--shard", default="1/1", metavar="i/N", help="build only shard i of N (default 1/1)")
    b.add_argument("--workers", type=_positive_int, help="processes (default: all cores)")
    b.add_argument("--push-to-hub", metavar="REPO", help="also push the parquet copy to the Hugging Face Hub")
    b.add_argument("--force", action="store_true", help="replace a different build in DIR")
    b.set_defaults(func=cmd_build)

    t = sub.add_parser("train", help="train a model from a config (writes a run directory)",
                       description="Train a model (the custom MLLM; the heatmap detector with model kind "
                                   "'heatmap'; Qwen2.5-VL with LoRA, kind 'qwen') on a dataset from voltpeak build: "
                                   "warm-up + cosine schedule, "
                                   "gradient accumulation, checkpoints, validation F1 of its predictions, "
                                   "metrics.jsonl. --resume continues a killed run from its last checkpoint.")
    t.add_argument("--config", required=True, metavar="FILE", help="JSON training config (see configs/)")
    t.add_argument("--resume", action="store_true", help="continue the run in the config's 'out' folder")
    t.add_argument("--backend", choices=("voltpeak", "swift"), default="voltpeak",
                   help="voltpeak: in process (Qwen-VL through TRL's SFTTrainer); swift: write and run the "
                        "`swift sft` command of a Qwen-VL config in the ms-swift environment (make swift-env)")
    t.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="peaks from plot images with a trained model",
                       description="Peaks of plot images (PNG/JPEG files, or the images of a built split .jsonl) "
                                   "with a saved model: one JSON line per image with peaks (x, y fractions; potential "
                                   "in V and current in A where the plot's axes were read), the axes read, couples, "
                                   "the raw "
                                   "text, a warning for what could not be read and an error when the answer could "
                                   "not be read.")
    p.add_argument("--model", default="default", metavar="M",
                   help="a shipped model (default, heatmap, mllm-small), a saved model or a run directory "
                        "(default: default, the shipped detector)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="images, or split .jsonl files of a built dataset")
    p.add_argument("-o", "--output", metavar="OUT.jsonl", help="write here instead of stdout")
    p.add_argument("--batch-size", type=_positive_int, default=16, help="images per generation batch")
    p.add_argument("--backend", choices=("transformers", "vllm", "swift"), default="transformers",
                   help="how a Qwen-VL model generates: transformers (CPU/GPU, default), vllm (GPU, optional "
                        "extra; a merged model), swift (swift infer in the ms-swift environment); same output")
    p.add_argument("--threads", type=_positive_int, help="CPU threads")
    p.add_argument("--no-axes", action="store_true",
                   help="do not read the plots' axes (peaks in x, y only; the model guesses the plot's direction)")
    p.add_argument("--x-axis", metavar="LEFT,RIGHT,UNIT",
                   help="the potential axis by hand: the values at the frame's left and right edges and the unit "
                        "(e.g. -0.8,0.6,V; use --x-axis=... for a negative first value); skips axis reading")
    p.add_argument("--y-axis", metavar="BOTTOM,TOP,UNIT",
                   help="the current axis by hand: values at the frame's bottom and top edges and the unit "
                        "(e.g. -20,30,uA or -1,2,mA/cm2)")
    p.add_argument("--force", action="store_true", help="overwrite OUT.jsonl if it exists")
    p.set_defaults(func=cmd_predict)

    w = sub.add_parser("serve", help="the web app: label CVs, review evaluations, compare training runs",
                       description="Serve the web app on http://HOST:PORT/: /label (folders of raw CV files; labels "
                                   "saved at once to a SQLite file), /review (an evaluation: truth + predictions), "
                                   "/runs (training runs' curves). Reads only under the folders and files given.")
    w.add_argument("--data", action="append", default=[], metavar="DIR", help="a folder of CV files to label")
    w.add_argument("--runs", action="append", default=[], metavar="DIR", help="a folder of training runs")
    w.add_argument("--truth", metavar="T.jsonl", help="truth of the evaluation to review")
    w.add_argument("--pred", metavar="P.jsonl", help="predictions of the evaluation to review")
    w.add_argument("--images", metavar="DIR", help="where the review's sources are (default: beside --truth)")
    w.add_argument("--space", choices=("image", "data"), default="image", help="the review's matching space")
    w.add_argument("--db", default="labels.sqlite", metavar="FILE", help="the label store (default labels.sqlite)")
    w.add_argument("--suggest", default="detector", metavar="M",
                   help="label suggestions: detector (the classical one, default) or a model that reads plots "
                        "(a shipped name such as heatmap, or a model folder): the CV is drawn, its peaks mapped back")
    w.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    w.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    w.set_defaults(func=cmd_serve)

    m = sub.add_parser("demo", help="the main job on embedded defaults",
                       description="The whole loop on embedded defaults: the detector on bundled CV files, simulate "
                                   "labelled CVs, build plot images, predict with the shipped model (and on plots of "
                                   "the real CVs in ../shared/data when present), evaluate, write an HTML report.")
    m.add_argument("--out", default="voltpeak-demo", metavar="DIR", help="report folder (default voltpeak-demo)")
    m.add_argument("--force", action="store_true", help="replace the report folder if it exists")
    m.add_argument("--train-minutes", type=_non_negative_float, default=0.0, metavar="M",
                   help="first train a small heatmap detector for about M minutes and show its curves")
    m.set_defaults(func=cmd_demo)
    return parser


def _on_sigterm(signum, frame):
    """SIGTERM cleans up as Ctrl-C does in the process that runs the command (no half-written output left looking
    complete)."""
    raise KeyboardInterrupt


def _default_sigterm():
    # A forked worker, which a pool ends with SIGTERM, must die at once whatever it is blocked in: a Python handler
    # only runs between bytecodes, and a worker waiting in C would never end (the pool would wait for it forever).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


_FORK_HOOK: list = []


# What each extra installs (modules looked for, not imported); ``needs`` says which a command line needs beyond the
# core install (`pip install voltpeak`: reading, detect, series, evaluate, simulate, build with matplotlib).
EXTRAS = {"ml": ("torch", "transformers", "datasets", "peft", "trl", "safetensors"),
          "ocr": ("tesserocr", "rapidocr_onnxruntime"), "web": ("fastapi", "uvicorn"),
          "plots": ("vl_convert", "bokeh", "plotly", "playwright")}


def needs(args) -> tuple[str, ...]:
    """The extras a parsed command line needs."""
    if args.command == "predict":
        return ("ml",) if args.no_axes else ("ml", "ocr")  # the axis reader is the OCR
    if args.command == "serve":
        return ("web",) if args.suggest == "detector" else ("web", "ml", "ocr")  # a model's suggestions
    return {"train": ("ml",), "demo": ("ml", "ocr")}.get(args.command, ())


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_extra(extras) -> str | None:
    """The one-line reason a command cannot run here (an extra of ``extras`` is not installed), or None."""
    for extra in extras:
        absent = [m for m in EXTRAS[extra] if not _installed(m)]
        if absent:
            return (f"needs the '{extra}' extra ({', '.join(absent)} not installed): "
                    f"pip install 'voltpeak[{extra}]'")
    return None


def _extra_of(module: str) -> str | None:
    return next((extra for extra, modules in EXTRAS.items() if module.split(".")[0] in modules), None)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    why = missing_extra(needs(args))
    if why:
        print(f"voltpeak {args.command}: error: {why}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if threading.current_thread() is threading.main_thread():
        if not _FORK_HOOK:
            os.register_at_fork(after_in_child=_default_sigterm)
            _FORK_HOOK.append(True)
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return args.func(args)
    except VoltpeakError as e:
        print(f"voltpeak {args.command}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"voltpeak {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (FileNotFoundError, NotADirectoryError, PermissionError, IsADirectoryError) as e:
        # A place the user named that cannot be written or read (an output folder on a read-only disk).
        where = f": {e.filename}" if e.filename else ""
        print(f"voltpeak {args.command}: error: {e.strerror or e}{where}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except sqlite3.DatabaseError as e:
        print(f"voltpeak {args.command}: error: the store is not a voltpeak database ({e})", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ModuleNotFoundError as e:  # an option that needs an extra (build's foreign engines need 'plots')
        extra = _extra_of(e.name or "")
        if extra is None:
            raise
        why = missing_extra((extra,)) or f"needs the '{extra}' extra ({e.name} could not be imported): " \
            f"pip install 'voltpeak[{extra}]'"
        print(f"voltpeak {args.command}: error: {why}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
