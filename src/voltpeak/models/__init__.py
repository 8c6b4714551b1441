"""Models: the custom LLaVA-style MLLM (``voltpeak.models.mllm``)."""

from voltpeak.models.mllm import MLLM, MLLMConfig, letterbox, train_tokenizer

__all__ = ["MLLM", "MLLMConfig", "letterbox", "train_tokenizer"]
