"""The ``voltpeak`` command line. Every command has ``--help``; bad input gives one line on stderr and exit code 2.

One module per command, named as the command (``detect.py``, ``predict.py``, ...): its options (``add_parser``)
beside its handler (``run``), and the extras it needs beyond the core install (``needs``, where it needs any). This
module assembles the parser and turns errors and interrupts into one line and an exit code; ``common.py`` holds what
the commands share. Heavy libraries are imported inside the handlers, so ``voltpeak detect`` never loads torch.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sqlite3
import sys
import threading
import warnings

from voltpeak.cli import build, demo, detect, evaluate, predict, series, serve, simulate, train
from voltpeak.cli.common import EXIT_BAD_INPUT
from voltpeak.errors import VoltpeakError

# In the order --help lists them.
COMMANDS = {m.__name__.rpartition(".")[2]: m for m in (detect, series, evaluate, simulate, build, train, predict,
                                                        serve, demo)}

# What each extra installs (modules looked for, not imported); a command's ``needs`` says which its command line
# needs beyond the core install (`pip install voltpeak`: reading, detect, series, evaluate, simulate, build with
# matplotlib).
EXTRAS = {"ml": ("torch", "transformers", "datasets", "peft", "trl", "safetensors"),
          "ocr": ("tesserocr", "rapidocr_onnxruntime"), "web": ("fastapi", "uvicorn"),
          "plots": ("vl_convert", "bokeh", "plotly", "playwright")}


def build_parser() -> argparse.ArgumentParser:
    from voltpeak import __version__

    parser = argparse.ArgumentParser(prog="voltpeak", description="Find the peaks of cyclic voltammograms.")
    parser.add_argument("--version", action="version", version=f"voltpeak {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


def needs(args) -> tuple[str, ...]:
    """The extras a parsed command line needs: its command module's ``needs``, none where it has none."""
    command = COMMANDS[args.command]
    return command.needs(args) if hasattr(command, "needs") else ()


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


def _on_sigterm(signum, frame):
    """SIGTERM cleans up as Ctrl-C does in the process that runs the command (no half-written output left looking
    complete)."""
    raise KeyboardInterrupt


def _default_sigterm():
    # A forked worker, which a pool ends with SIGTERM, must die at once whatever it is blocked in: a Python handler
    # only runs between bytecodes, and a worker waiting in C would never end (the pool would wait for it forever).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


_FORK_HOOK: list = []


def _one_line(message, category, filename, lineno, file=None, line=None) -> str:
    return f"warning: {message}\n"  # a user reads what to change, not where in voltpeak it was noticed


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = _one_line
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
