"""``voltpeak build``: labelled CVs → composed, rendered graphs → a ``messages`` dataset with splits.

    voltpeak build --pool sim/ --pool lab=labels.jsonl --holdout paper7=other.jsonl --n 25000 --out ds --seed 0

Writes into ``--out``:

- ``images/*.png``; ``train.jsonl`` / ``val.jsonl`` / ``test.jsonl`` (and ``holdout_<name>.jsonl``) in the ms-swift
  format, image paths relative to ``--out`` (run swift from there);
- ``truth_<split>.jsonl``: the contract's peak records per image (``x``, ``y`` fractions; potential in V and current in
  A or A/m²) plus what was drawn (axes, units, style, sources) — what ``voltpeak evaluate`` compares against;
- ``hf/<split>/*.parquet``: the same samples as a Hugging Face ``datasets`` copy with the images embedded;
- ``manifest.json``: config, seed, pools, counts and SHA-256 of every output file.

Sample k is a pure function of (seed, stream, k): the main stream (train/val/test) and one stream per holdout
pool. Samples are built in work units of ``unit`` samples; a unit writes its part files, then a ``.done`` marker,
so an interrupted build resumes where it stopped and ``--shard i/N`` processes build disjoint units of one dataset;
whoever finishes the last unit merges the parts (the same bytes as one process).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from voltpeak.answer import IMAGE_TOKEN, PROMPTS, format_answer
from voltpeak.dataset.compose import compose
from voltpeak.dataset.pool import LabelledCV, Pool
from voltpeak.errors import InputError
from voltpeak.peak import Peak
from voltpeak.render import ENGINES, FAMILIES, degrade, render, sample_style
from voltpeak.render.programs import require
from voltpeak.render.style import COLORMAPS
from voltpeak.settings import Settings

SPLITS = ("train", "val", "test")
OUTPUTS = ("images", "parts", "hf", "manifest.json", "build.json")  # what --force may remove (plus split files)


@dataclass
class BuildConfig(Settings):
    """How graphs are composed and drawn; a JSON file may override any field (``voltpeak build --config``)."""

    max_curves: int = 4  # CVs per graph, at most (up to 12)
    curve_weights: tuple = (0.5, 0.25, 0.15, 0.1)  # probability of 1, 2, ... curves
    series_fraction: float = 0.05  # multi-curve graphs of one simulated system at several scan rates
    colormap_fraction: float = 0.6  # graphs of 5 curves or more drawn in a colormap or a long colour list
    splits: tuple = (0.8, 0.1, 0.1)  # train, val, test shares of the groups (and of the samples)
    holdout_n: int = 0  # samples per holdout pool; 0: a tenth of n, at least 1
    # Who draws: weights by name ({"raster": 0.9, "bokeh": 0.1}; names missing weigh 0; the names are
    # voltpeak.render.style.FAMILIES / ENGINES). By default the eight families but "calculator" (matplotlib-drawn,
    # slower) and the fast renderer, matplotlib itself for 2 %; matplotlib's style sheets, Vega-Lite, ggplot2, Bokeh
    # and plotly on request. A list in the order of those names (configs written before the names) still loads,
    # with a warning: adding an engine would shift its meaning.
    family_weights: dict = field(default_factory=lambda: {f: 1.0 for f in FAMILIES if f != "calculator"})
    engine_weights: dict = field(default_factory=lambda: {"raster": 0.98, "matplotlib": 0.02})
    degrade_fraction: float = 0.0  # images then degraded as real pictures are (voltpeak.render.degrade)
    factor: int = 28  # image sides are multiples of this (Qwen2.5-VL: patch 14 × merge 2)
    min_pixels: int = 256 * 28 * 28
    max_pixels: int = 576 * 28 * 28
    unit: int = 200  # samples per work unit (resume and shard granularity)

    def __post_init__(self):  # one weight per family and engine however given (a config file, or code)
        self.family_weights = _by_name(self.family_weights, FAMILIES, "family_weights")
        self.engine_weights = _by_name(self.engine_weights, ENGINES, "engine_weights")

    def validate(self):
        if not 1 <= self.max_curves <= 12 or len(self.curve_weights) < self.max_curves:
            raise InputError(f"max_curves must be 1–12 with as many curve_weights, got {self.max_curves}")
        for name in ("curve_weights", "splits", "family_weights", "engine_weights"):
            values = getattr(self, name)
            values = list(values.values()) if isinstance(values, dict) else values
            if not all(isinstance(v, (int, float)) and v >= 0 for v in values) or sum(values) <= 0:
                raise InputError(f"{name} must be non-negative numbers with a positive sum, got {list(values)}")
        if len(self.splits) != 3:
            raise InputError(f"splits needs three shares (train, val, test), got {list(self.splits)}")
        for engine, weight in self.engine_weights.items():
            if weight:
                require(engine)
        for name in ("series_fraction", "degrade_fraction", "colormap_fraction"):
            if not 0 <= getattr(self, name) <= 1:
                raise InputError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        if self.factor < 1 or self.unit < 1 or self.holdout_n < 0 or not 0 < self.min_pixels <= self.max_pixels:
            raise InputError("factor and unit must be positive, holdout_n not negative, "
                             "0 < min_pixels ≤ max_pixels")


def _by_name(weights, names: tuple, what: str) -> dict:
    """``weights`` (a dict by name, or a list in the order of ``names``: an old config, with a warning) as a weight
    for every name, in the order of ``names``."""
    if not isinstance(weights, dict):
        if len(weights) > len(names):
            raise InputError(f"{what} has {len(weights)} weights, more than the {len(names)} of {', '.join(names)}")
        weights = dict(zip(names, weights))
        warnings.warn(f"{what} given as a list, read in the order {', '.join(names[:len(weights)])}; name them "
                      f"instead: {json.dumps({k: v for k, v in weights.items() if v})}", FutureWarning, stacklevel=4)
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise InputError(f"{what}: unknown name {unknown[0]!r}; known: {', '.join(names)}")
    return {name: weights.get(name, 0.0) for name in names}


@dataclass
class Plan:
    """Which CVs each split draws from: groups of the training pools hashed into train/val/test; each holdout
    pool is a split of its own."""

    seed: int
    n: int
    config: BuildConfig
    splits: dict[str, list[LabelledCV]]
    holdout_n: int
    pools: list[dict] = field(default_factory=list)

    def streams(self) -> list[tuple[str, int]]:
        """(stream, samples): the main stream, then one per holdout."""
        return [("main", self.n)] + [(s, self.holdout_n) for s in self.splits if s not in SPLITS]

    def units(self) -> list[tuple[str, int, int]]:
        """Work units (stream, first sample, end), in output order."""
        size = self.config.unit
        return [(s, a, min(a + size, count)) for s, count in self.streams() for a in range(0, count, size)]

    def identity(self) -> dict:
        """What a resumed or sharded build must share with the parts already on disk."""
        return {"seed": self.seed, "n": self.n, "holdout_n": self.holdout_n, "config": self.config.to_dict(),
                "pools": self.pools}


def make_plan(pools: list[Pool], holdouts: list[Pool], n: int, seed: int, config: BuildConfig) -> Plan:
    """Assign the training pools' groups to train/val/test (by a hash of seed, pool and group) and give each
    holdout pool its split; ``n`` samples in the main stream, ``config.holdout_n`` per holdout."""
    splits: dict[str, list[LabelledCV]] = {s: [] for s in SPLITS}
    edges = np.cumsum(config.splits) / sum(config.splits)
    for pool in pools:
        for cv in pool.cvs:
            # A hash of the group, not a random draw: a group lands in the same split whatever else is pooled.
            u = int(hashlib.sha256(f"{seed}:{pool.name}:{cv.group}".encode()).hexdigest()[:13], 16) / 16**13
            splits[SPLITS[int(np.searchsorted(edges, u, side="right"))]].append(cv)
    names = [p.name for p in pools]
    for pool in holdouts:
        if pool.name in names or f"holdout_{pool.name}" in splits:
            raise InputError(f"pool name {pool.name!r} is used twice; name pools with NAME=SPEC")
        splits[f"holdout_{pool.name}"] = pool.cvs
    if not any(splits[s] for s in SPLITS):
        raise InputError("no CV to train on: give at least one --pool")
    described = [{"name": p.name, "spec": p.spec, "cvs": len(p.cvs), "groups": len({c.group for c in p.cvs}),
                  "holdout": p in holdouts, "digest": p.digest()} for p in [*pools, *holdouts]]
    holdout_n = config.holdout_n or max(1, n // 10)
    return Plan(seed, n, config, splits, holdout_n if holdouts else 0, described)


def make_sample(plan: Plan, stream: str, k: int) -> tuple[str, bytes, dict, dict]:
    """Sample ``k`` of ``stream``: (split, PNG bytes, ms-swift line, truth line)."""
    config = plan.config
    index = 0 if stream == "main" else 1 + list(plan.splits).index(stream)
    rng = np.random.default_rng([plan.seed, index, k])
    if stream == "main":
        shares = np.array([config.splits[i] if plan.splits[s] else 0.0 for i, s in enumerate(SPLITS)])
        split = SPLITS[int(rng.choice(3, p=shares / shares.sum()))]
    else:
        split = stream
    weights = np.asarray(list(config.family_weights.values()), dtype=float)
    family = FAMILIES[int(rng.choice(len(FAMILIES), p=weights / weights.sum()))]
    style = sample_style(rng, family, config.factor, config.min_pixels, config.max_pixels,
                         tuple(config.engine_weights.values()))
    graph = compose(rng, plan.splits[split], style, config.max_curves, config.curve_weights, config.series_fraction)
    if len(graph.curves) >= 5 and rng.random() < config.colormap_fraction:
        # Many curves: a colormap as people use for a series (viridis...) or a long list of named colours.
        names = [f"cmap:{c}" for c in COLORMAPS] + ["rainbow", "black-first"]
        style = replace(style, palette=names[int(rng.integers(len(names)))])
    points = np.array([(p.shown_potential, p.shown_current) for p in graph.peaks]).reshape(-1, 2)
    drawn = render(graph.curves, points, style, graph.potential_label, graph.current_label)
    degraded = []
    if config.degrade_fraction and rng.random() < config.degrade_fraction:
        drawn, degraded = degrade(drawn, rng)
    name = f"images/{stream}-{k:07d}.png"
    answer = format_answer([{"label": p.direction, "point_2d": xy, "potential": p.shown_potential,
                             "current": p.shown_current} for p, xy in zip(graph.peaks, drawn.points_px)])
    prompt = PROMPTS[int(rng.integers(len(PROMPTS)))]
    swift = {"messages": [{"role": "user", "content": IMAGE_TOKEN + prompt},
                          {"role": "assistant", "content": answer}], "images": [name]}
    peaks = []
    for p, (x, y) in zip(graph.peaks, drawn.points_px):
        record = Peak(p.direction, p.potential_V, p.current, p.cycle, graph.quantity,
                      x=round(float(x) / drawn.width, 6), y=round(float(y) / drawn.height, 6)).to_record()
        peaks.append({**record, "curve": p.curve})
    truth = {"source": name, "peaks": peaks, "window": [round(v, 6) for v in graph.window_V],
             "image": {"width": drawn.width, "height": drawn.height, "sha256": hashlib.sha256(drawn.png).hexdigest()},
             "axes": {"potential": graph.potential_label, "current": graph.current_label,
                      "potential_factor": graph.potential_factor, "current_factor": graph.current_factor,
                      "quantity": graph.quantity},
             "curves": len(graph.curves), "series": graph.series, "sources": graph.sources, "split": split,
             "style": style.to_dict(), "degraded": degraded}
    return split, drawn.png, swift, truth


_PLAN: Plan | None = None  # set before the worker processes fork


def _build_unit(args) -> int:
    out, u, (stream, a, b) = args
    rows = []
    for k in range(a, b):
        split, png, swift, truth = make_sample(_PLAN, stream, k)
        _write_atomic(out / truth["source"], png)
        rows.append({"split": split, "swift": swift, "truth": truth, "png": png})
    lines = "".join(json.dumps({"split": r["split"], "swift": r["swift"], "truth": r["truth"]}, ensure_ascii=False)
                    + "\n" for r in rows)
    _write_parquet(out, u, rows)
    _write_atomic(out / "parts" / f"{u:05d}.jsonl", lines.encode())
    (out / "parts" / f"{u:05d}.done").touch()
    return b - a


def _write_parquet(out: Path, u: int, rows: list[dict]):
    """This unit's samples of each split as a ``datasets`` parquet file with the images embedded."""
    from datasets import Dataset, Features, Image, List, Value, disable_progress_bars

    disable_progress_bars()

    features = Features({"messages": List({"role": Value("string"), "content": Value("string")}),
                         "images": List(Image()), "truth": Value("string")})
    for split in sorted({r["split"] for r in rows}):
        mine = [r for r in rows if r["split"] == split]
        data = {"messages": [r["swift"]["messages"] for r in mine],
                "images": [[{"bytes": r["png"], "path": r["swift"]["images"][0]}] for r in mine],
                "truth": [json.dumps(r["truth"], ensure_ascii=False) for r in mine]}
        target = out / "hf" / split / f"{u:05d}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        Dataset.from_dict(data, features=features).to_parquet(buffer)
        _write_atomic(target, buffer.getvalue())


def _write_atomic(path: Path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def build(plan: Plan, out: Path, shard: tuple[int, int] = (1, 1), workers: int | None = None, force: bool = False,
          progress=None) -> dict | None:
    """Build (this shard of) the dataset into ``out``; returns the manifest once every unit is done, else None.

    ``progress(total)`` may return a tqdm-like object (``update(n)``); units already done are skipped.
    """
    global _PLAN
    out.mkdir(parents=True, exist_ok=True)
    state = out / "build.json"
    identity = plan.identity()
    if force:
        for name in (*OUTPUTS, *[f"{s}.jsonl" for s in plan.splits], *[f"truth_{s}.jsonl" for s in plan.splits]):
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    if state.exists():
        if json.loads(state.read_text(encoding="utf-8")) != identity:
            raise InputError(f"{out} holds a different build (seed, n, config or pools differ); "
                             "use --force to replace it, or another --out")
    elif any(out.iterdir()):
        raise InputError(f"{out} exists and is not empty; use --force to build into it")
    else:
        _write_atomic(state, json.dumps(identity, indent=1).encode())
    (out / "parts").mkdir(exist_ok=True)
    units = plan.units()
    index, count = shard
    mine = [(out, u, unit) for u, unit in enumerate(units) if u % count == index - 1
            and not (out / "parts" / f"{u:05d}.done").exists()]
    bar = progress(sum(b - a for _, _, (_, a, b) in mine)) if progress else None
    _PLAN = plan
    workers = max(1, min(workers or os.cpu_count() or 1, len(mine)))
    if workers > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for done in pool.imap_unordered(_build_unit, mine):
                if bar:
                    bar.update(done)
    else:
        for args in mine:
            done = _build_unit(args)
            if bar:
                bar.update(done)
    if bar:
        bar.close()
    if all((out / "parts" / f"{u:05d}.done").exists() for u in range(len(units))):
        return merge(plan, out)
    return None


def merge(plan: Plan, out: Path) -> dict:
    """Concatenate the units' parts into the split files (streamed: memory does not grow with N) and write the
    manifest."""
    names = [(split, f"{split}.jsonl", f"truth_{split}.jsonl") for split in plan.splits]
    handles = {name: open(out / f".{name}.tmp", "w", encoding="utf-8") for _, *pair in names for name in pair}
    digests = {name: hashlib.sha256() for name in handles}
    counts = {split: 0 for split in plan.splits}
    images = hashlib.sha256()
    try:
        for u in range(len(plan.units())):
            with open(out / "parts" / f"{u:05d}.jsonl", encoding="utf-8") as f:
                for line in f:
                    row = json.loads(line)
                    split = row["split"]
                    counts[split] += 1
                    images.update(row["truth"]["image"]["sha256"].encode())
                    for name, obj in ((f"{split}.jsonl", row["swift"]), (f"truth_{split}.jsonl", row["truth"])):
                        text = json.dumps(obj, ensure_ascii=False) + "\n"
                        handles[name].write(text)
                        digests[name].update(text.encode())
    finally:
        for handle in handles.values():
            handle.close()
    for name in handles:
        os.replace(out / f".{name}.tmp", out / name)
    files = {name: digest.hexdigest() for name, digest in digests.items()}
    for part in sorted((out / "hf").rglob("*.parquet")):
        files[str(part.relative_to(out))] = hashlib.sha256(part.read_bytes()).hexdigest()
    manifest = {**plan.identity(), "counts": counts, "images_sha256": images.hexdigest(), "files": files,
                "hf_data_files": {s: f"hf/{s}/*.parquet" for s in plan.splits if counts[s]}}
    _write_atomic(out / "manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False).encode())
    return manifest
