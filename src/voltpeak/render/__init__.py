"""Rendering: CVs drawn as plot images in many styles, with the pixel position of every peak."""

from voltpeak.render.degrade import DEGRADATIONS, degrade
from voltpeak.render.draw import engineering_unit, render
from voltpeak.render.figure import Curve, Rendered
from voltpeak.render.style import ENGINES, FAMILIES, PlotStyle, sample_style

__all__ = ["Curve", "Rendered", "render", "engineering_unit", "PlotStyle", "sample_style", "FAMILIES", "ENGINES",
           "degrade", "DEGRADATIONS"]
