"""The classical peak detector: per sweep, noise-adaptive smoothing, prominence relative to the CV, per cycle.

    >>> from voltpeak.read import read
    >>> from voltpeak.detect import detect, find_couples
    >>> v = read("cv.DTA")
    >>> peaks = detect(v, cycle=1)
    >>> couples = find_couples(v, peaks)

A peak is a local maximum of the current on an anodic-going sweep or a local minimum on a cathodic-going sweep
(docs/contracts.md). Each sweep is searched on its own, so the switching potential, where the current is extreme in time
but not along the sweep, is never a peak.
"""

from voltpeak.detect.baseline import baseline
from voltpeak.detect.couples import Couple, analyse, find_couples
from voltpeak.detect.files import Analysis, detect_file, detect_line
from voltpeak.detect.peaks import Context, DetectorSettings, current_sign, detect, prominent_maxima

__all__ = ["DetectorSettings", "Context", "detect", "analyse", "find_couples", "Couple", "baseline",
           "current_sign", "prominent_maxima", "detect_file", "detect_line", "Analysis"]
