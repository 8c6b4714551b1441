"""Qwen2.5-VL (and Qwen2-VL, the same code) fine-tuned with LoRA on the language model, its vision tower and merger
trained fully, by LoRA, or frozen, each by config. Qwen3-VL is refused: it grounds points in relative 0–1000
coordinates and needs its own processor, so this code does not serve it as it stands.

A saved model is a folder with ``voltpeak.json`` (the ``QwenConfig``, ``kind`` "qwen"), the processor files, and
either a peft adapter (``adapter_config.json`` + ``adapter_model.safetensors``; the base model is read from
``QwenConfig.path``) or a whole merged model (``config.json`` + weights; ``merge``).

Coordinates: Qwen2.5-VL points are absolute pixels of the image *after* the processor's resize (``smart_resize``:
sides multiples of patch × merge within the configured pixel bounds). The resized size is
``image_grid_thw[1:] × patch_size`` (``Geometry``); ``to_pixels`` / ``to_fractions`` convert the contract's
fractions exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import Qwen2_5_VLProcessor

from voltpeak.answer import PROMPTS, AnswerError, format_answer, parse_answer, smart_resize
from voltpeak.errors import InputError
from voltpeak.settings import Settings

FREEZE_MODES = ("full", "lora", "frozen")
LM_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
QWEN_TYPES = ("qwen2_vl", "qwen2_5_vl")
PROMPT = PROMPTS[0]


@dataclass
class QwenConfig(Settings):
    kind: str = "qwen"
    path: str = ""  # the base model: a local folder (or a hub id where the machine reaches the hub)
    min_pixels: int = 0  # the processor's pixel bounds (0: the saved processor's own)
    max_pixels: int = 0
    vision: str = "full"  # the vision tower (patch embedding + blocks): full, lora or frozen
    merger: str = "full"  # the merger (vision → language projector): full, lora or frozen
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lm_targets: tuple = LM_TARGETS  # the language model's linear layers that get LoRA
    dtype: str = "auto"  # auto (bf16 on a GPU that has it, else fp32), bf16, fp16, fp32
    max_new_tokens: int = 512
    merge: bool = False  # after training, also write run/merged: the adapters merged into the weights
    extra: dict = field(default_factory=dict)  # more from_pretrained keywords (attn_implementation, ...)

    _what = "qwen model"

    def validate(self):
        if not self.path:
            raise ValueError("'path' must name the base model (a local Qwen2.5-VL folder)")
        for part in ("vision", "merger"):
            if getattr(self, part) not in FREEZE_MODES:
                raise ValueError(f"{part} must be full, lora or frozen, got {getattr(self, part)!r}")
        if self.dtype not in ("auto", "bf16", "fp16", "fp32"):
            raise ValueError(f"dtype must be auto, bf16, fp16 or fp32, got {self.dtype!r}")
        if self.lora_r < 1:
            raise ValueError(f"lora_r must be at least 1, got {self.lora_r}")


def read_saved(folder: str | Path) -> QwenConfig:
    """The ``QwenConfig`` of a saved voltpeak Qwen model (its ``voltpeak.json``)."""
    return QwenConfig.load(Path(folder) / "voltpeak.json")


def write_saved(folder: str | Path, config: QwenConfig, processor, **changes):
    """What makes a folder of Qwen weights (an adapter checkpoint, a merged model) a voltpeak model: the processor
    and ``voltpeak.json`` (the config, with ``changes``)."""
    processor.save_pretrained(folder)
    config.save(Path(folder) / "voltpeak.json", **changes)


class ImageOnlyProcessor(Qwen2_5_VLProcessor):
    """Qwen2-VL/Qwen2.5-VL's processor without its video processor (which needs torchvision, absent on CPUs)."""

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        self.image_token, self.video_token = "<|image_pad|>", "<|video_pad|>"
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
        super(Qwen2_5_VLProcessor, self).__init__(image_processor, tokenizer, chat_template=chat_template)

    def save_pretrained(self, save_directory, **kwargs):
        out = super().save_pretrained(save_directory, **kwargs)
        # Laid out as Qwen's own folders (preprocessor_config.json, whence the video processor loads too; Qwen's
        # processor class), so other tools (ms-swift, vLLM) load it as usual.
        self.image_processor.save_pretrained(save_directory)
        for path in Path(save_directory).glob("*config.json"):
            data = json.loads(path.read_text())
            if data.get("processor_class") == type(self).__name__:
                data["processor_class"] = "Qwen2_5_VLProcessor"
                path.write_text(json.dumps(data, indent=2))
        return out


def load_processor(path: str | Path, min_pixels: int = 0, max_pixels: int = 0):
    """The processor of a Qwen-VL folder with the given pixel bounds (0: its own). Qwen's full processor where it
    loads (torchvision present), else the same one without video."""
    from transformers import AutoImageProcessor, AutoProcessor, AutoTokenizer

    bounds = {k: v for k, v in (("min_pixels", min_pixels), ("max_pixels", max_pixels)) if v}
    try:
        return AutoProcessor.from_pretrained(path, **bounds)
    except (OSError, ImportError, ValueError, TypeError, AttributeError):  # no video processor (needs torchvision)
        pass
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        return ImageOnlyProcessor(AutoImageProcessor.from_pretrained(path, **bounds), tokenizer,
                                  chat_template=tokenizer.chat_template)
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: no Qwen-VL processor here ({str(e).splitlines()[0]})") from None


@dataclass(frozen=True)
class Geometry:
    """What a Qwen-VL processor does to an image's size: sides resized to multiples of patch × merge pixels with
    the area within (min_pixels, max_pixels) (``smart_resize``); the model's points are pixels of that size."""

    patch: int  # pixels a vision patch spans
    merge: int  # patches merged into one token along each side
    min_pixels: int
    max_pixels: int

    @classmethod
    def of(cls, processor) -> Geometry:
        ip = processor.image_processor
        return cls(int(ip.patch_size), int(ip.merge_size), int(ip.size["shortest_edge"]), int(ip.size["longest_edge"]))

    @property
    def bounds(self) -> tuple[int, int]:
        return self.min_pixels, self.max_pixels

    def resized(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) in pixels of the input the model sees for an image of ``height`` × ``width``."""
        return smart_resize(height, width, self.patch * self.merge, self.min_pixels, self.max_pixels)

    def of_grid(self, grid_thw) -> tuple[int, int]:
        """(height, width) of the resized input, pixels, from a row of the processor's ``image_grid_thw``."""
        return int(grid_thw[1]) * self.patch, int(grid_thw[2]) * self.patch


def to_pixels(x: float, y: float, size: tuple[int, int]) -> tuple[float, float]:
    """Fractions (x from the left, y from the top) → Qwen's absolute pixels of a (height, width) input."""
    return x * size[1], y * size[0]


def to_fractions(x_px: float, y_px: float, size: tuple[int, int]) -> tuple[float, float]:
    """Qwen's absolute pixels of a (height, width) input → fractions of the image."""
    return x_px / size[1], y_px / size[0]


def rescale_answer(text: str, scale_x: float, scale_y: float) -> str:
    """A dataset answer (JSON, points in pixels of the stored image) with its points in pixels of a resized one."""
    if scale_x == scale_y == 1:
        return text
    items = json.loads(text)
    return format_answer([{**p, "point_2d": [p["point_2d"][0] * scale_x, p["point_2d"][1] * scale_y]}
                          for p in items])


def _dtype(name: str, device: torch.device) -> torch.dtype:
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[name]


def _base_model(path, dtype, device, extra: dict):
    from transformers import AutoConfig, AutoModelForImageTextToText

    try:
        model_type = AutoConfig.from_pretrained(path).model_type
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read a model config ({str(e).splitlines()[0]})") from None
    if model_type not in QWEN_TYPES:
        raise InputError(f"{path}: a {model_type} model; voltpeak fine-tunes {' and '.join(QWEN_TYPES)}")
    return AutoModelForImageTextToText.from_pretrained(path, dtype=dtype, **extra).to(device)


class QwenVL:
    """A Qwen-VL model with its processor and voltpeak's config; the peft-wrapped model when it has adapters."""

    def __init__(self, model, processor, config: QwenConfig):
        self.model, self.processor, self.config = model, processor, config

    @classmethod
    def build(cls, config: QwenConfig, device: str = "cpu") -> QwenVL:
        """The base model of ``config.path`` with LoRA on its language model and its vision parts set up as
        configured (``full``: trained whole, saved beside the adapter; ``lora``; ``frozen``)."""
        from peft import LoraConfig, get_peft_model

        device = torch.device(device)
        processor = load_processor(config.path, config.min_pixels, config.max_pixels)
        base = _base_model(config.path, _dtype(config.dtype, device), device, config.extra)
        targets = []
        for name, module in base.named_modules():
            part = part_of(name)
            if part == "language" and name.rsplit(".", 1)[-1] in config.lm_targets and "language_model" in name:
                targets.append(name)
            elif part in ("vision", "merger") and getattr(config, part) == "lora" and isinstance(
                    module, torch.nn.Linear):
                targets.append(name)
        whole = whole_modules(config, len(base.model.visual.blocks))
        if not targets:
            raise InputError(f"{config.path}: no language-model layer named {', '.join(config.lm_targets)} for LoRA")
        lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                          target_modules=targets, modules_to_save=whole or None, task_type="CAUSAL_LM")
        return cls(get_peft_model(base, lora), processor, config)

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str = "cpu") -> QwenVL:
        """A saved model: a folder with ``voltpeak.json`` and an adapter (or a merged model)."""
        from peft import PeftModel

        directory = Path(directory)
        config = read_saved(directory)
        device = torch.device(device)
        processor = load_processor(directory, config.min_pixels, config.max_pixels)
        if (directory / "adapter_config.json").is_file():
            base = _base_model(config.path, _dtype(config.dtype, device), device, config.extra)
            model = PeftModel.from_pretrained(base, directory).to(device)
        else:
            model = _base_model(directory, _dtype(config.dtype, device), device, config.extra)
        model.eval()
        return cls(model, processor, config)

    def save_pretrained(self, folder: str | Path):
        """The adapter (and the fully trained vision parts), the processor and ``voltpeak.json``."""
        folder = Path(folder)
        self.model.save_pretrained(folder)
        write_saved(folder, self.config, self.processor)

    def merge(self, folder: str | Path) -> Path:
        """Save the model with its adapters merged into the weights: a plain Qwen-VL folder (for vLLM, release)."""
        folder = Path(folder)
        merged = self.model.merge_and_unload() if hasattr(self.model, "merge_and_unload") else self.model
        merged.save_pretrained(folder)
        write_saved(folder, self.config, self.processor, path=str(folder.resolve()))
        return folder

    def parts(self) -> dict[str, list[torch.nn.Parameter]]:
        """The parameters of the vision tower, the merger and the language model (embeddings and head included)."""
        out = {"vision": [], "merger": [], "language": []}
        for name, p in self.model.named_parameters():
            out[part_of(name)].append(p)
        return out

    def trainable_parameters(self) -> dict[str, int]:
        return {part: sum(p.numel() for p in ps if p.requires_grad) for part, ps in self.parts().items()}

    def meant_to_train(self) -> dict[str, bool]:
        """The parts the config trains (the preflight refuses one of these without a trainable parameter)."""
        return {"vision": self.config.vision != "frozen", "merger": self.config.merger != "frozen", "language": True}

    def parameters(self):
        return self.model.parameters()

    @property
    def training(self) -> bool:
        return self.model.training

    def train(self, mode: bool = True) -> QwenVL:
        self.model.train(mode)
        return self

    def eval(self) -> QwenVL:
        return self.train(False)

    def predict_batch(self, images: list, reversed_axes: list[bool | None] | None = None) -> list[dict]:
        """Per PIL image, its output line's ``peaks``, ``text`` and ``error``, greedy; ``reversed_axes`` is not
        used (the answer's points are pixels of the image as drawn, whatever its direction)."""
        texts, sizes = self.generate(images)
        return [answer_line(text, size) for text, size in zip(texts, sizes)]

    @staticmethod
    def messages(prompt: str = PROMPT) -> list[dict]:
        return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]

    @torch.no_grad()
    def generate(self, images: list, prompt: str = PROMPT) -> tuple[list[str], list[tuple[int, int]]]:
        """Answers for PIL ``images`` and the (height, width) of the input each became, pixels."""
        text = self.processor.apply_chat_template(self.messages(prompt), add_generation_prompt=True)
        tok = self.processor.tokenizer
        inputs = self.processor(images=[im.convert("RGB") for im in images], text=[text] * len(images),
                                padding=True, padding_side="left", return_tensors="pt")
        device = next(self.model.parameters()).device
        inputs = {k: v.to(device) for k, v in inputs.items()}
        was_training = self.model.training
        self.model.eval()
        out = self.model.generate(**inputs, max_new_tokens=self.config.max_new_tokens, do_sample=False,
                                  pad_token_id=tok.pad_token_id, eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"))
        self.model.train(was_training)
        texts = tok.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        geometry = Geometry.of(self.processor)
        return texts, [geometry.of_grid(g) for g in inputs["image_grid_thw"].tolist()]


def whole_modules(config: QwenConfig, depth: int) -> list[str]:
    """The vision modules trained whole (peft's ``modules_to_save``) for a config and a vision tower of ``depth``
    blocks; peft wraps modules, not module lists, hence each block by name."""
    if config.vision == config.merger == "full":
        return ["visual"]
    whole = ["visual.patch_embed"] + [f"visual.blocks.{i}" for i in range(depth)] if config.vision == "full" else []
    return whole + (["visual.merger"] if config.merger == "full" else [])


def part_of(name: str) -> str:
    """vision, merger or language: the part a parameter or module of a Qwen-VL model belongs to."""
    if "visual." in name or name.endswith("visual"):
        return "merger" if ".merger" in name else "vision"
    return "language"


def read_peaks(text: str, size: tuple[int, int]) -> list[dict]:
    """Peaks (direction, x, y fractions, and the model's own ``potential`` and ``current`` in the plot's printed
    units where it wrote them) from a Qwen answer for an input of ``size`` (height, width) pixels; raises
    AnswerError."""
    out = []
    for p in parse_answer(text):
        if "x_px" in p:
            x, y = to_fractions(p["x_px"], p["y_px"], size)
            out.append({"direction": p["direction"], "x": x, "y": y,
                        **{key: p[key] for key in ("potential", "current") if key in p}})
    return out


def answer_line(text: str, size: tuple[int, int]) -> dict:
    """A contract predict line's ``peaks``, ``text`` and ``error`` from a Qwen answer for an input of ``size``
    (height, width) pixels (any backend: transformers, vLLM, ms-swift)."""
    from voltpeak.peak import Peak

    line = {"peaks": [], "text": text, "error": None}
    try:
        # The model's own reading of the axes (printed units) is kept beside the axis reader's SI values, so the
        # two can be compared (benchmarks/axes.py).
        line["peaks"] = [{**Peak(p["direction"], x=round(p["x"], 5), y=round(p["y"], 5)).to_record(),
                          **{f"answer_{key}": p[key] for key in ("potential", "current") if key in p}}
                         for p in read_peaks(text, size)]
    except AnswerError as e:
        line["error"] = str(e)
    return line
