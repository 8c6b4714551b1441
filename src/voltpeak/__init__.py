"""voltpeak: find the peaks of cyclic voltammograms, and measure how well models do it.

    >>> from voltpeak.read import read
    >>> from voltpeak.detect import detect, find_couples
    >>> v = read("cv.DTA")
    >>> peaks = detect(v, cycle=1)

The stages live in sub-packages named after them (``read``, ``detect``, ``evaluate``); the package itself only
exports the two types every stage shares and the errors.
"""

from voltpeak.errors import InputError, ReadError, VoltpeakError
from voltpeak.peak import Peak
from voltpeak.voltammogram import Voltammogram

__all__ = ["Voltammogram", "Peak", "VoltpeakError", "ReadError", "InputError"]
__version__ = "0.1.0"
