"""Plots' axes read for ``predict``: in process, by hand, or by worker processes ahead of the model."""

from __future__ import annotations

import json
from pathlib import Path


def axes_of(image, axes):
    """The ``AxesReading`` of an image for ``predict``'s ``axes`` option (None when "off")."""
    if axes == "off":
        return None
    if axes == "auto":
        from voltpeak.axes import read_axes

        return read_axes(image)
    return axes(image)


class AxesAhead:
    """Axes of many images read by two worker processes (``voltpeak.axes.worker``) ahead of the model, which
    waits only for its own batch: OCR is most of predict's time on a CPU, and the model and the workers share the
    cores. Item k goes to worker k mod 2; each answers in order."""

    WORKERS = 2

    def __init__(self, items: list[tuple[str, Path]]):
        import subprocess
        import sys
        import threading

        self._procs = [subprocess.Popen([sys.executable, "-m", "voltpeak.axes.worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE) for _ in range(self.WORKERS)]
        self._done: dict[int, object] = {}
        self._next = [w for w in range(self.WORKERS)]  # the next item each worker will answer
        paths = [str(path) for _, path in items]
        for w, proc in enumerate(self._procs):  # fed from threads: a full pipe must not stall the model
            threading.Thread(target=self._feed, args=(proc, paths[w::self.WORKERS]), daemon=True).start()

    @staticmethod
    def _feed(proc, paths: list[str]) -> None:
        try:
            for path in paths:
                proc.stdin.write((json.dumps(path) + "\n").encode())
            proc.stdin.close()
        except (BrokenPipeError, ValueError):  # the worker ended early; its items are read in process instead
            pass

    def reading(self, k: int, image):
        """The ``AxesReading`` of item k (``image``: its opened image, read in process if its worker failed)."""
        import pickle

        w = k % self.WORKERS
        while k not in self._done and self._next[w] <= k:
            try:
                status, value = pickle.load(self._procs[w].stdout)
            except (EOFError, pickle.UnpicklingError):
                break
            if status == "error":
                raise value
            self._done[self._next[w]] = value
            self._next[w] += self.WORKERS
        return self._done.pop(k) if k in self._done else axes_of(image, "auto")

    def close(self):
        for proc in self._procs:
            proc.kill()
            proc.wait()
