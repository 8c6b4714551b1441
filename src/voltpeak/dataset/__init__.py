"""The dataset stage: a pool of labelled CVs → composed graphs → rendered images with answers → splits. (The answer
format the images are labelled in is ``voltpeak.answer``: models read it too.)"""

from voltpeak.dataset.build import BuildConfig, build, make_plan, make_sample, merge
from voltpeak.dataset.compose import Graph, compose
from voltpeak.dataset.pool import LabelledCV, Pool, load_pool

__all__ = ["BuildConfig", "build", "make_plan", "make_sample", "merge", "Graph", "compose", "LabelledCV", "Pool",
           "load_pool"]
