"""The dataset stage: a pool of labelled CVs → composed graphs → rendered images with answers → splits."""

from voltpeak.dataset.answer import PROMPTS, AnswerError, format_answer, parse_answer, smart_resize
from voltpeak.dataset.build import BuildConfig, build, make_plan, make_sample, merge
from voltpeak.dataset.compose import Graph, compose
from voltpeak.dataset.pool import LabelledCV, Pool, load_pool

__all__ = ["PROMPTS", "AnswerError", "format_answer", "parse_answer", "smart_resize", "BuildConfig", "build",
           "make_plan", "make_sample", "merge", "Graph", "compose", "LabelledCV", "Pool", "load_pool"]
