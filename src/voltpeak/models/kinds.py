"""The model kinds voltpeak knows, in one table: loading, configs, building, collators and the trainers read it, so
a new kind is one row here (and its module) rather than a branch in each of them.

A model's kind is named by its config (``"kind"``; an MLLM config may leave it out) and by the file that marks a
saved model: ``config.json`` with that ``kind`` for voltpeak's own models, ``voltpeak.json`` for a Qwen-VL fine-tune
(whose ``config.json`` is the base model's).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from voltpeak.errors import InputError


@dataclass(frozen=True)
class Kind:
    """One model kind: where its classes live and how it is trained.

    Attributes
    ----------
    name : str
        The ``kind`` its config names.
    module : str
        The module holding its config and model classes (imported when first needed: Qwen's pulls transformers).
    config, model : str
        Class names of its config (a ``Settings``) and its model (``build``, ``from_pretrained``, ``predict_batch``).
    marker : str
        The file that marks a saved model of this kind.
    trainer : str
        ``loop``: voltpeak's own training loop (time budgets, ``init``); ``sft``: TRL's SFTTrainer or ms-swift.
    tokens : bool
        The model reads and writes voltpeak's own tokens: a tokenizer is trained with it and its batches are token
        sequences (the MLLM); otherwise it learns from images and peak maps alone.
    threshold : bool
        Its detection threshold is tuned on the validation samples at the end of training.
    backends : tuple of str
        What can run its predictions: ``transformers`` (in process), ``vllm``, ``swift`` (``voltpeak.predict``).
    """

    name: str
    module: str
    config: str
    model: str
    marker: str = "config.json"
    trainer: str = "loop"
    tokens: bool = False
    threshold: bool = False
    backends: tuple = ("transformers",)

    def config_class(self):
        return getattr(import_module(self.module), self.config)

    def model_class(self):
        return getattr(import_module(self.module), self.model)


KINDS = {k.name: k for k in (
    Kind("mllm", "voltpeak.models.mllm", "MLLMConfig", "MLLM", tokens=True),
    Kind("heatmap", "voltpeak.models.heatmap", "HeatmapConfig", "HeatmapNet", threshold=True),
    Kind("qwen", "voltpeak.models.qwen", "QwenConfig", "QwenVL", marker="voltpeak.json", trainer="sft",
         backends=("transformers", "vllm", "swift")),
)}
DEFAULT_KIND = "mllm"  # what a model config without a "kind" is


def kind_of(config: dict) -> Kind:
    """The kind a model config (a dict, as in a training config's ``model``) names; InputError for an unknown one."""
    name = config.get("kind", DEFAULT_KIND)
    if name not in KINDS:
        raise InputError(f"model kind must be {', '.join(KINDS)}, got {name!r}")
    return KINDS[name]


def model_config(data: dict):
    """The config object of a model config dict (``ValueError`` for a bad setting, as ``Settings`` raise)."""
    return kind_of(data).config_class().from_dict(data)


def saved_kind(directory: str | Path) -> Kind | None:
    """The kind of the model saved in ``directory``; None where no kind's marker file is there."""
    directory = Path(directory)
    for kind in KINDS.values():
        if kind.marker != "config.json" and (directory / kind.marker).is_file():
            return kind
    config = directory / "config.json"
    if not config.is_file():
        return None
    try:
        return KINDS.get(json.loads(config.read_text()).get("kind", DEFAULT_KIND))
    except (ValueError, AttributeError):  # not a JSON object: no model of ours
        return None
