"""The training stage: ``voltpeak train --config FILE`` (see ``voltpeak.train.loop``)."""

from voltpeak.train.loop import (
    TrainConfig,
    batch_count,
    batch_loss,
    collator_for,
    evaluate_model,
    lr_at,
    preflight,
    train,
)

__all__ = ["TrainConfig", "train", "lr_at", "preflight", "evaluate_model", "collator_for", "batch_loss",
           "batch_count"]
