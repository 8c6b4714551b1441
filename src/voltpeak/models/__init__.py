"""Models: the custom LLaVA-style MLLM (``voltpeak.models.mllm``) and the heatmap peak detector
(``voltpeak.models.heatmap``), both saved as ``config.json`` (its ``kind``) + ``model.safetensors``; and Qwen-VL
fine-tunes (``voltpeak.models.qwen``, saved with a ``voltpeak.json``). ``load_model`` reads each."""

import json
from pathlib import Path

from voltpeak.models.heatmap import HeatmapConfig, HeatmapNet
from voltpeak.models.mllm import MLLM, MLLMConfig, letterbox, train_tokenizer


def load_model(directory: str | Path, device: str = "cpu"):
    """The saved model in ``directory`` (an MLLM or a heatmap detector, by its config's ``kind``)."""
    if (Path(directory) / "voltpeak.json").is_file():  # a Qwen-VL adapter or merged model
        from voltpeak.models.qwen import QwenVL

        return QwenVL.from_pretrained(directory, device=device)
    kind = json.loads((Path(directory) / "config.json").read_text()).get("kind", "mllm")
    return (HeatmapNet if kind == "heatmap" else MLLM).from_pretrained(directory, device=device)


__all__ = ["MLLM", "MLLMConfig", "HeatmapNet", "HeatmapConfig", "letterbox", "train_tokenizer", "load_model"]
