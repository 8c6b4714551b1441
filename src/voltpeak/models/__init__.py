"""Models: the custom LLaVA-style MLLM (``voltpeak.models.mllm``) and the heatmap peak detector
(``voltpeak.models.heatmap``), both saved as ``config.json`` (its ``kind``) + ``model.safetensors``; and Qwen-VL
fine-tunes (``voltpeak.models.qwen``, saved with a ``voltpeak.json``). The registry: ``model_dir`` finds a shipped,
saved or trained model by name or folder, ``load_model`` reads each."""

import json
from pathlib import Path

from voltpeak.errors import InputError
from voltpeak.models.heatmap import HeatmapConfig, HeatmapNet
from voltpeak.models.mllm import MLLM, MLLMConfig, letterbox, train_tokenizer
from voltpeak.rundir import newest_checkpoint

SHIPPED = Path(__file__).resolve().parent / "shipped"


def model_dir(name: str) -> Path:
    """The folder of a saved model: a shipped model's name, ``default``, a model folder or a run directory."""
    if name == "default" and (SHIPPED / "default").is_file():
        name = (SHIPPED / "default").read_text().strip()
    path = SHIPPED / name if name and "/" not in name and (SHIPPED / name).is_dir() else Path(name)
    if newest_checkpoint(path) is not None:  # a run directory: its newest checkpoint
        path = newest_checkpoint(path)
        path = path / "model" if (path / "model").is_dir() else path  # Qwen checkpoints are the model
    if (path / "voltpeak.json").is_file():  # a Qwen-VL fine-tune (adapter or merged)
        return path
    if not (path / "config.json").is_file() or not (path / "model.safetensors").is_file():
        raise InputError(f"{name}: not a saved voltpeak model (config.json + model.safetensors, or voltpeak.json)"
                         + (" — no model is shipped in this checkout" if name == "default" else ""))
    return path


def load_model(directory: str | Path, device: str = "cpu"):
    """The saved model in ``directory`` (an MLLM or a heatmap detector, by its config's ``kind``)."""
    if (Path(directory) / "voltpeak.json").is_file():  # a Qwen-VL adapter or merged model
        from voltpeak.models.qwen import QwenVL

        return QwenVL.from_pretrained(directory, device=device)
    kind = json.loads((Path(directory) / "config.json").read_text()).get("kind", "mllm")
    return (HeatmapNet if kind == "heatmap" else MLLM).from_pretrained(directory, device=device)


__all__ = ["MLLM", "MLLMConfig", "HeatmapNet", "HeatmapConfig", "letterbox", "train_tokenizer", "load_model",
           "model_dir", "SHIPPED"]
