"""``voltpeak serve``: the web app (label raw CVs, review evaluations, compare training runs)."""

from voltpeak.serve.app import ServeConfig, create_app, serve
from voltpeak.serve.store import LabelStore

__all__ = ["ServeConfig", "create_app", "serve", "LabelStore"]
