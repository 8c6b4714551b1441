"""The training stage: ``voltpeak train --config FILE`` (see ``voltpeak.train.loop``)."""

from voltpeak.train.loop import TrainConfig, collator_for, lr_at, train
from voltpeak.train.validate import evaluate_model, preflight, score

__all__ = ["TrainConfig", "train", "lr_at", "preflight", "evaluate_model", "score", "collator_for"]
