"""Models: the custom LLaVA-style MLLM (``voltpeak.models.mllm``) and the heatmap peak detector
(``voltpeak.models.heatmap``), both saved as ``config.json`` (its ``kind``) + ``model.safetensors``; and Qwen-VL
fine-tunes (``voltpeak.models.qwen``, saved with a ``voltpeak.json``). The registry: ``model_dir`` finds a shipped,
saved or trained model by name or folder, ``load_model`` reads each; the kinds' table is ``voltpeak.models.kinds``."""

from pathlib import Path

from voltpeak.errors import InputError
from voltpeak.models.heatmap import HeatmapConfig, HeatmapNet
from voltpeak.models.inputs import letterbox
from voltpeak.models.kinds import KINDS, kind_of, model_config, saved_kind
from voltpeak.models.mllm import MLLM, MLLMConfig, train_tokenizer
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
    kind = saved_kind(path)
    if kind is not None and (kind.marker != "config.json" or (path / "model.safetensors").is_file()):
        return path
    raise InputError(f"{name}: not a saved voltpeak model (config.json + model.safetensors, or voltpeak.json)"
                     + (" — no model is shipped in this checkout" if name == "default" else ""))


def load_model(directory: str | Path, device: str = "cpu"):
    """The saved model in ``directory``, of the kind its marker file names (``voltpeak.models.kinds``)."""
    kind = saved_kind(directory)
    if kind is None:
        raise InputError(f"{directory}: not a saved voltpeak model (no config.json or voltpeak.json)")
    return kind.model_class().from_pretrained(directory, device=device)


__all__ = ["MLLM", "MLLMConfig", "HeatmapNet", "HeatmapConfig", "letterbox", "train_tokenizer", "load_model",
           "model_dir", "SHIPPED", "KINDS", "kind_of", "model_config", "saved_kind"]
