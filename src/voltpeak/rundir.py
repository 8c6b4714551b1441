"""A training run's directory: written by every training backend (``voltpeak.train``), read by predict (its newest
checkpoint, ``voltpeak.models.model_dir``) and by the web app's runs page (``voltpeak.serve.runs``).

    RUN/config.json             the training config (and ``backend`` where it is not voltpeak's own loop)
    RUN/metrics.jsonl           one row per logged step: step, loss, lr, epoch, seconds, val_* at validations
    RUN/checkpoints/NAME/       step-NNNNNN (voltpeak's loop: model/ and trainer.pt) or checkpoint-N (Qwen-VL)
    RUN/checkpoints/last        the newest checkpoint folder's name
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from voltpeak.errors import InputError

CONFIG = "config.json"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoints"


def start_run(run: Path, config, resume: bool, need_checkpoint: bool = True, **extra) -> Path:
    """Make (or reopen, with ``resume``) the run directory ``run`` and save ``config`` (a ``Settings``, with
    ``extra`` keys) into it. A run already there without ``resume``, or ``resume`` without a checkpoint where one
    is needed, is an InputError."""
    if (run / METRICS).exists() and not resume:
        raise InputError(f"{run} holds a run; use --resume to continue it, or another 'out'")
    if resume and need_checkpoint and newest_checkpoint(run) is None:
        raise InputError(f"{run}: no checkpoint to resume from")
    (run / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    config.save(run / CONFIG, **extra)
    return run


def newest_checkpoint(run: Path) -> Path | None:
    """The checkpoint folder ``checkpoints/last`` names; None when the run has none."""
    last = Path(run) / CHECKPOINTS / "last"
    return Path(run) / CHECKPOINTS / last.read_text().strip() if last.is_file() else None


def mark_last(run: Path, name: str) -> None:
    """Point ``checkpoints/last`` at the checkpoint folder ``name`` atomically: a crash leaves the old pointer or
    the new one, never a half-written file."""
    tmp = Path(run) / CHECKPOINTS / ".last.tmp"
    tmp.write_text(name)
    os.replace(tmp, Path(run) / CHECKPOINTS / "last")


def read_metrics(run: Path) -> list[dict]:
    """The rows of a run's metrics.jsonl; a half-written last line (a run still writing) is skipped."""
    rows = []
    path = Path(run) / METRICS
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if path.is_file() else []:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int):
            rows.append(row)
    return rows


def write_metrics(run: Path, rows: list[dict]) -> None:
    """Replace the run's metrics.jsonl with ``rows``, atomically (a crash leaves the old log or the new one)."""
    tmp = Path(run) / f".{METRICS}.tmp"
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    os.replace(tmp, Path(run) / METRICS)


def truncate_metrics(run: Path, step: int) -> None:
    """Drop log rows after ``step`` (written after the checkpoint a resumed run starts from)."""
    if (Path(run) / METRICS).exists():
        write_metrics(run, [r for r in read_metrics(run) if r["step"] <= step])
