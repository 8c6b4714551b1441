"""Benchmark of the image models on real CV plots that their authors published on GitHub beside the data they plot.

    python benchmarks/realplots.py [--model default --model mllm-small] [--mirror DIR] [--per-image]

``benchmarks/realplots/manifest.jsonl`` names each plot: its repository, the commit, the image's path there (or a
notebook and the output cell that holds it), the data files it was drawn from, the program that drew it, the number
of curves, its split (``val``, or ``test``: chosen by repository before any prediction was looked at, never used to
tune anything) and how the plot relates to the data. ``benchmarks/realplots/truth.jsonl`` holds the peaks of every
curve drawn, found in the data with ``voltpeak detect`` and kept where a person would mark them on that plot, in
volts on the plot's own potential scale, with the plotted potential window.

The images are not part of this repository: they are taken from repository snapshots under ``--mirror`` (one folder
per repository, ``owner+name/repo``, a bare git directory or a checkout) with ``git show COMMIT:PATH`` and cached in
``benchmarks/.cache/realplots/<id>.<ext>``; for those that cannot be found the script says how to get them and goes
on with the rest. Each model predicts the images with the axes read, the predictions are scored in data space with
the project's rule (Hungarian matching of the same direction, |ΔE| ≤ max(20 mV, 2 % of the plotted window)), and a
table gives, per split and per number of curves, precision, recall, F1, sample accuracy, the share of plots whose
potential axis was read, and the share of matched peaks within 10 mV. The predictions go to
``benchmarks/.cache/realplots/predictions_<model>.jsonl`` (``voltpeak evaluate --truth
benchmarks/realplots/truth.jsonl --pred ...`` scores them the same way).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from common import curves_slice, record  # noqa: E402

from voltpeak.evaluate import Matching, match_peaks, summarise  # noqa: E402
from voltpeak.peak import Peak  # noqa: E402

DATA = HERE / "realplots"
CACHE = HERE / ".cache" / "realplots"
MIRROR = CACHE.parent / "mirror"  # repository snapshots, owner+name/repo (git-ignored, as the cache)
NEAR_V = 0.010  # "within 10 mV" of the matched truth


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def git_dir(mirror: Path, repo: str) -> Path | None:
    """The git directory of a repository snapshot under ``mirror`` (``owner+name/repo``, bare or a checkout)."""
    base = mirror / repo.replace("/", "+")
    for candidate in (base / "repo" / ".git", base / "repo", base / ".git", base):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def git_show(gdir: Path, commit: str, path: str) -> bytes | None:
    done = subprocess.run(["git", "--git-dir", str(gdir), "show", f"{commit}:{path}"], capture_output=True)
    return done.stdout if done.returncode == 0 else None


def image_bytes(entry: dict, raw: bytes) -> tuple[bytes, str] | None:
    """The image of an entry from the file's bytes: the file itself, or a notebook's output image."""
    if "notebook_output" not in entry:
        return raw, Path(entry["image"]).suffix.lower().lstrip(".") or "png"
    cell, output = entry["notebook_output"]
    try:
        data = json.loads(raw)["cells"][cell]["outputs"][output]["data"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    for mime, ext in (("image/png", "png"), ("image/jpeg", "jpg")):
        if mime in data:
            text = data[mime]
            return base64.b64decode("".join(text) if isinstance(text, list) else text), ext
    return None


def cached(entry: dict, cache: Path) -> Path | None:
    found = sorted(cache.glob(f"{entry['id']}.*"))
    return next((p for p in found if p.suffix != ".part"), None)


def materialise(entries: list[dict], mirror: Path, cache: Path) -> dict[str, Path]:
    """The image of every entry that is cached or can be taken from a snapshot; says how to get the others."""
    cache.mkdir(parents=True, exist_ok=True)
    paths, missing = {}, []
    for entry in entries:
        path = cached(entry, cache)
        if path is None:
            gdir = git_dir(mirror, entry["repo"])
            raw = git_show(gdir, entry["commit"], entry["image"]) if gdir else None
            got = image_bytes(entry, raw) if raw is not None else None
            if got is not None:
                path = cache / f"{entry['id']}.{got[1]}"
                path.write_bytes(got[0])
        if path is None:
            missing.append(entry)
        else:
            paths[entry["id"]] = path
    if missing:
        print(f"{len(missing)} of {len(entries)} images are not under {mirror} or {cache}: fetch each repository's "
              f"snapshot (github:OWNER/NAME, at the commit named) into {mirror}/OWNER+NAME/repo, or download the file "
              f"into {cache}/<id>.<ext> (a notebook's image is the output named in the manifest):")
        for entry in missing:
            where = f" (notebook output {entry['notebook_output']})" if "notebook_output" in entry else ""
            print(f"  {entry['id']}: https://raw.githubusercontent.com/{entry['repo']}/{entry['commit']}/"
                  f"{entry['image'].replace(' ', '%20')}{where}")
    return paths


def x_read(line: dict) -> bool:
    """Whether the plot's potential axis was read (a map and a unit: potentials can be given)."""
    x = (line.get("axes") or {}).get("x") or {}
    return x.get("map") is not None and x.get("factor_to_si") is not None


def score(entries: list[dict], truths: dict[str, dict], lines: dict[str, dict]) -> list[dict]:
    """Per image: its matching in data space, whether its x axis was read, and its slices."""
    rows = []
    for entry in entries:
        line = lines[entry["id"]]
        truth = truths[entry["id"]]
        pred = [] if line.get("error") else [Peak.from_record(r) for r in line.get("peaks") or []]
        true = [Peak.from_record(r) for r in truth["peaks"]]
        window = tuple(truth["window"]) if truth.get("window") else None
        matching = match_peaks(pred, true, "data", window_V=window)
        rows.append({"entry": entry, "matching": matching, "x_read": x_read(line),
                     "slices": ["all", entry["split"], curves_slice(entry["curves"])]})
    return rows


def summary(rows: list[dict]) -> dict:
    matchings: list[Matching] = [r["matching"] for r in rows]
    m = summarise(matchings, "data")
    errors = [e for mt in matchings for e in mt.errors]
    m["x_read"] = sum(r["x_read"] for r in rows) / len(rows) if rows else None
    m["near"] = sum(e <= NEAR_V + 1e-12 for e in errors) / len(errors) if errors else None
    m["matched"] = len(errors)
    return m


def fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def table(name: str, rows: list[dict]) -> None:
    order = ["all", "val", "test", "1 curve", "2–4 curves", "5–12 curves"]
    for key in order:
        part = [r for r in rows if key in r["slices"]]
        if not part:
            continue
        m = summary(part)
        print(f"| {name} | {key} | {len(part)} | {m['tp'] + m['fn']} | {fmt(m['precision'])} | {fmt(m['recall'])} | "
              f"{fmt(m['f1'])} | {fmt(m['sample_accuracy'])} | {fmt(m['x_read'])} | {fmt(m['near'])} "
              f"({m['matched']}) |")


def per_image(rows: list[dict], lines: dict[str, dict]) -> None:
    print("\n| id | split | curves | true | pred | TP | FP | FN | x read | warning |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        e, m, line = r["entry"], r["matching"], lines[r["entry"]["id"]]
        n_pred = len(line.get("peaks") or [])
        print(f"| {e['id']} | {e['split']} | {e['curves']} | {len(m.tp) + len(m.fn)} | {n_pred} | {len(m.tp)} | "
              f"{len(m.fp)} | {len(m.fn)} | {'yes' if r['x_read'] else 'no'} | "
              f"{(line.get('warning') or line.get('error') or '').replace('|', '/')[:80]} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="repeatable; default: default")
    parser.add_argument("--mirror", type=Path, default=MIRROR, help="folder of repository snapshots (owner+name/repo)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the images and predictions are kept")
    parser.add_argument("--manifest", type=Path, default=DATA / "manifest.jsonl")
    parser.add_argument("--truth", type=Path, default=DATA / "truth.jsonl")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--no-refine", action="store_true", help="the model's peaks alone (no per-curve check)")
    parser.add_argument("--per-image", action="store_true", help="also a line per image (TP/FP/FN, axis warnings)")
    args = parser.parse_args()
    entries = load_jsonl(args.manifest)
    truths = {t["source"]: t for t in load_jsonl(args.truth)}
    lost = [e["id"] for e in entries if e["id"] not in truths]
    if lost:
        print(f"no truth for {', '.join(lost)}: left out", file=sys.stderr)
        entries = [e for e in entries if e["id"] in truths]
    paths = materialise(entries, args.mirror, args.cache)
    present = [e for e in entries if e["id"] in paths]
    if not present:
        print("no image of the real-plot benchmark is present: skipping it")
        return 0
    from voltpeak.models import load_model, model_dir
    from voltpeak.predict import predict

    names = args.model or ["default"]
    items = [(e["id"], paths[e["id"]]) for e in present]
    results = []
    for name in names:
        model = load_model(model_dir(name))
        lines = {line["source"]: line for line in predict(model, items, args.batch_size, axes="auto",
                                                           refine=not args.no_refine)}
        rows = score(present, truths, lines)
        tag = re.sub(r'[^A-Za-z0-9_.-]+', '_', name) + ('_model-alone' if args.no_refine else '')
        out = args.cache / f"predictions_{tag}.jsonl"
        with open(out, "w", encoding="utf-8") as f:
            for r in rows:
                m = r["matching"]
                f.write(json.dumps({**lines[r["entry"]["id"]], "split": r["entry"]["split"],
                                    "match": {"tp": m.tp, "fp": m.fp, "fn": m.fn,
                                              "errors_V": [round(e, 6) for e in m.errors]}}) + "\n")
        results.append((name, rows, lines, out))
        m = summary(rows)
        record("predict", f"{name}: F1 / sample accuracy, real published plots with their data ({len(rows)} plots)",
               f"{m['f1']:.3f} / {m['sample_accuracy']:.3f}", "goal 0.93 F1 on real plots")
    print(f"{len(present)} of {len(entries)} plots present; data space, |ΔE| ≤ max(20 mV, 2 % of the window)\n")
    print("| model | slice | plots | true peaks | P | R | F1 | sample acc. | x axis read | matched within 10 mV |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, rows, _, _ in results:
        table(name, rows)
    for name, rows, lines, out in results:
        if args.per_image:
            print(f"\n### {name}")
            per_image(rows, lines)
        print(f"\npredictions of {name}: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
