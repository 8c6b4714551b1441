"""The run directory's pointer to its newest checkpoint, written one way by every training backend.

    RUN/checkpoints/last   the newest checkpoint folder's name (step-NNNNNN, or checkpoint-N for Qwen-VL)
"""

from __future__ import annotations

import os
from pathlib import Path


def mark_last(checkpoints: Path, name: str) -> None:
    """Point ``checkpoints/last`` at the checkpoint folder ``name`` atomically: a crash leaves the old pointer or
    the new one, never a half-written file."""
    tmp = checkpoints / ".last.tmp"
    tmp.write_text(name)
    os.replace(tmp, checkpoints / "last")
