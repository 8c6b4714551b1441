"""The runs page's data: training run directories (a ``metrics.jsonl`` beside a ``config.json``) under folders."""

from __future__ import annotations

import json
from pathlib import Path

from voltpeak.rundir import CONFIG, METRICS, read_metrics

DEPTH = 3  # run directories are looked for this many levels under each folder


def run_dirs(roots: list[Path]) -> dict[str, Path]:
    """Run directories (a ``metrics.jsonl`` inside) under the folders, by name (relative to its folder; prefixed
    with the folder's name when there are several)."""
    out = {}
    for root in roots:
        for metrics in sorted(p for d in range(DEPTH + 1) for p in root.glob("/".join(["*"] * d + [METRICS]))):
            run = metrics.parent
            name = run.relative_to(root).as_posix() if run != root else root.name
            out[f"{root.name}/{name}" if len(roots) > 1 else name] = run
    return out


def find_runs(roots: list[Path]) -> list[dict]:
    """Each run: name, path, steps logged, last loss, best validation F1, model kind."""
    out = []
    for name, run in run_dirs(roots).items():
        rows = read_metrics(run)
        config = {}
        if (run / CONFIG).is_file():
            try:
                config = json.loads((run / CONFIG).read_text())
            except json.JSONDecodeError:
                pass
        f1 = [r["val_f1"] for r in rows if isinstance(r.get("val_f1"), (int, float))]
        out.append({"name": name, "path": str(run),
                    "steps": rows[-1]["step"] if rows else 0, "loss": rows[-1].get("loss") if rows else None,
                    "best_val_f1": max(f1) if f1 else None,
                    "kind": (config.get("model") or {}).get("kind", "mllm") if config else None,
                    "backend": config.get("backend", "voltpeak") if config else None})
    return out
