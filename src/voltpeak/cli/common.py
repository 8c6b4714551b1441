"""What the commands share: where their output goes (``Output``), the checks of a place to write, the option types
(argparse's one-line errors) and the progress bar."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

from voltpeak.errors import InputError

EXIT_BAD_INPUT = 2


def progress(items, desc: str, unit: str = "file", total: int | None = None):
    from tqdm import tqdm

    # disable=None: a bar on a terminal only, so piped output and CI logs stay clean.
    return tqdm(items, desc=desc, unit=unit, total=total, disable=None, file=sys.stderr, leave=False)


def existing_folder(path: str) -> Path:
    """The folder ``path`` would be written into; InputError where it does not exist."""
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise InputError(f"{path}: the folder {parent} does not exist")
    return parent


def refuse_to_overwrite(path: str, force: bool) -> None:
    """InputError where ``path`` exists and ``--force`` was not given: a user's file is never replaced unasked."""
    if Path(path).exists() and not force:
        raise InputError(f"{path} exists; use --force to overwrite it")


class Output:
    """Where JSON Lines go: stdout, or a new file written atomically (never over a user's file without --force)."""

    def __init__(self, path: str | None, force: bool):
        self.path = path
        if path and Path(path).is_dir():
            raise InputError(f"{path} is a directory")
        self._tmp = None
        if path:
            refuse_to_overwrite(path, force)
            parent = existing_folder(path)
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


def positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number from 1 up, got {n}")
    return n


def number(text: str) -> float:
    """A finite number from an option's text (argparse's one-line error otherwise)."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return x


def positive_float(text: str) -> float:
    x = number(text)
    if not x > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {x}")
    return x


def non_negative_float(text: str) -> float:
    x = number(text)
    if not x >= 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {x}")
    return x
