"""voltpeak: find the peaks of cyclic voltammograms, and measure how well models do it.

    >>> import voltpeak
    >>> v = voltpeak.read("cv.DTA")
    >>> peaks = voltpeak.detect(v, cycle=1)
"""

from voltpeak.detect import detect, find_couples
from voltpeak.errors import InputError, ReadError, VoltpeakError
from voltpeak.peak import Peak
from voltpeak.read import read
from voltpeak.voltammogram import Voltammogram

__all__ = ["Voltammogram", "Peak", "read", "detect", "find_couples", "VoltpeakError", "ReadError", "InputError"]
__version__ = "0.1.0"
