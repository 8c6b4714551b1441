"""A process that reads plot axes for another: image paths in (one JSON string per line on stdin), pickled
``("ok", AxesReading | None)`` or ``("error", exception)`` out on stdout, in order.

    python -m voltpeak.axes.worker

``voltpeak.predict`` runs two of these ahead of its model. A plain subprocess (not ``multiprocessing``) so that a
user's script calling ``predict`` needs no ``if __name__ == "__main__"`` guard: nothing of the caller is imported.
"""

from __future__ import annotations

import json
import pickle
import sys

from voltpeak.axes import read_file
from voltpeak.errors import InputError


def main() -> int:
    out = sys.stdout.buffer
    for line in sys.stdin:
        try:
            result = ("ok", read_file(json.loads(line), threads=1))  # one OCR thread: two workers share 2 cores
        except InputError as e:  # no OCR engine: the caller says so as it would reading in process
            result = ("error", e)
        pickle.dump(result, out)
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
