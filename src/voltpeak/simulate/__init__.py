"""The simulator: physics-based CVs with exact peak labels (semi-integration, Butler–Volmer kinetics).

    >>> from voltpeak.simulate import Conditions, RedoxCouple, simulate_cv
    >>> cv = simulate_cv([RedoxCouple(e0_V=0.0, k0_cm_s=0.01)], Conditions(start_V=0.5, vertices_V=(-0.5,)))
    >>> cv.truth  # peaks of the noiseless total current
"""

from voltpeak.simulate.cv import Conditions, RedoxCouple, SimulatedCV, simulate_cv
from voltpeak.simulate.diffusion import reduction_current
from voltpeak.simulate.waveform import potential_programme

__all__ = ["Conditions", "RedoxCouple", "SimulatedCV", "simulate_cv", "reduction_current", "potential_programme"]
