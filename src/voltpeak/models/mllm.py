"""The custom multimodal LM: vision encoder → connector (MLP) → causal LM (Llama family), LLaVA-style.

    model = MLLM.build(MLLMConfig(), tokenizer)            # from a small config (training from scratch)
    model = MLLM.from_pretrained("runs/x/checkpoints/last")  # a saved model (config, weights, tokenizer)

The image becomes ``image_tokens`` feature vectors written into the text embeddings at the placeholder positions
(``<image>`` tokens). The loss is teacher-forced cross-entropy on the answer tokens only (image, prompt and padding
masked; EOS right after the answer), averaged per token. All parts live on one device and dtype.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from voltpeak.answer import IMAGE_TOKEN
from voltpeak.models.inputs import Letterbox, letterboxed
from voltpeak.settings import Settings

PAD, BOS, EOS = "<pad>", "<s>", "</s>"


@dataclass
class MLLMConfig(Settings):
    """Sizes and choices of the three parts. Pretrained parts come from local Hugging Face directories."""

    kind: str = "mllm"
    image_size: int = 256  # the image is letterboxed into a square of this side (pixels)
    vision: str = "conv"  # "conv": a small convolutional stem; "clip": a CLIP vision tower; "heatmap": a detector
    vision_path: str | None = None  # a pretrained tower (local directory: CLIP, or a saved heatmap detector)
    vision_config: dict | None = None  # heatmap: the detector's HeatmapConfig fields (set from vision_path)
    vision_tokens: int = 24  # heatmap: candidate peaks passed to the LM as image tokens
    vision_floor: float = 0.0  # heatmap: candidates scoring below this become one learned "empty" token
    vision_channels: tuple = (32, 64, 128, 192)  # conv: widths of the stride-2 stages
    stem_patch: int = 0  # conv: > 0 starts with a patchify layer (kernel = stride = this) at the first width
    vision_hidden: int = 192  # clip from a config: hidden size, layers, heads, patch
    vision_layers: int = 4
    vision_heads: int = 4
    vision_patch: int = 16
    connector_depth: int = 2  # Linear (GELU Linear) × (depth − 1)
    lm_path: str | None = None  # a pretrained Llama-family LM (local directory), else built from the sizes
    lm_hidden: int = 256
    lm_layers: int = 4
    lm_heads: int = 4
    lm_intermediate: int = 768
    max_length: int = 1024
    location_bins: int = 0  # > 0: coordinates as <x…>/<y…> tokens of this many bins over the square input
    freeze_vision: bool = False
    lora_rank: int = 0  # > 0: LoRA on the LM's projections (a pretrained LM), the rest of the LM frozen
    lora_alpha: int = 16
    max_new_tokens: int = 200
    dtype: str = "float32"
    prompt: str = ""  # the prompt at prediction (and, with a fixed prompt, in training); "" for PROMPTS[0]

    _what = "model setting"

    def validate(self):
        """A wrong choice is one line here, not an error deep in building the model."""
        choices = {"vision": ("conv", "clip", "heatmap"), "dtype": ("float32", "bfloat16", "float16")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        for name in ("image_size", "vision_tokens", "lm_hidden", "lm_layers", "lm_heads", "max_length",
                     "max_new_tokens", "connector_depth"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.location_bins < 0 or self.lora_rank < 0:
            raise ValueError("location_bins and lora_rank must be 0 or more")


class ConvStem(nn.Module):
    """Stride-2 conv stages (conv–GroupNorm–GELU), optionally after a patchify layer; the last map's cells are
    the image tokens."""

    def __init__(self, channels: tuple, patch: int = 0):
        super().__init__()
        layers, previous = [], 3
        if patch:
            layers += [nn.Conv2d(3, channels[0], patch, stride=patch), nn.GroupNorm(8, channels[0]), nn.GELU()]
            previous, channels = channels[0], channels[1:]
        for c in channels:
            layers += [nn.Conv2d(previous, c, 3, stride=2, padding=1), nn.GroupNorm(8, c), nn.GELU(),
                       nn.Conv2d(c, c, 3, padding=1), nn.GroupNorm(8, c), nn.GELU()]
            previous = c
        self.net = nn.Sequential(*layers)
        self.out_dim = previous

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        features = self.net(pixels)  # (B, C, h, w)
        return features.flatten(2).transpose(1, 2)  # (B, h·w, C)


class Connector(nn.Module):
    """Image features → LM embeddings: LayerNorm, an MLP (Linear, then GELU–Linear × (depth − 1)), plus a learned
    position embedding per image token (where a feature sits in the image, which a 1-D text position cannot say)."""

    def __init__(self, in_dim: int, hidden: int, depth: int, tokens: int, regions: bool = False):
        super().__init__()
        layers: list[nn.Module] = [nn.LayerNorm(in_dim), nn.Linear(in_dim, hidden)]
        for _ in range(depth - 1):
            layers += [nn.GELU(), nn.Linear(hidden, hidden)]
        self.mlp = nn.Sequential(*layers)
        self.positions = nn.Parameter(torch.randn(tokens, hidden) * 0.02)
        if regions:  # a region token with no candidate worth reading (region towers only: no unused parameter)
            self.empty = nn.Parameter(torch.zeros(hidden))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.mlp(features) + self.positions


class CLIPTower(nn.Module):
    """A CLIP vision tower; features are the penultimate hidden state without the CLS token."""

    def __init__(self, config: MLLMConfig):
        super().__init__()
        from transformers import CLIPVisionConfig, CLIPVisionModel

        if config.vision_path:
            self.model = CLIPVisionModel.from_pretrained(config.vision_path)
        else:
            self.model = CLIPVisionModel(CLIPVisionConfig(
                hidden_size=config.vision_hidden, intermediate_size=4 * config.vision_hidden,
                num_hidden_layers=config.vision_layers, num_attention_heads=config.vision_heads,
                image_size=config.image_size, patch_size=config.vision_patch))
        self.out_dim = self.model.config.hidden_size

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        hidden = self.model(pixel_values=pixels, output_hidden_states=True).hidden_states[-2]
        return hidden[:, 1:]


class HeatmapTower(nn.Module):
    """A heatmap peak detector (``voltpeak.models.heatmap``) as the vision tower. Its ``vision_tokens`` strongest
    candidate peaks (local heatmap maxima, weak ones included) become the image tokens, left to right — region
    tokens, as grounded MLLMs use. A token holds the detector's score, its "points up", "axes reversed" and
    "anodic" probabilities, the position, the heatmap patch around it and the detector's last feature map at its
    cell; the forward also
    returns each token's location bins (x, y), which the MLLM adds as the LM's own location-token embeddings so
    that the LM can point at what it sees."""

    PATCH = 2  # radius of the heatmap patch (cells)

    def __init__(self, config: MLLMConfig):
        super().__init__()
        from voltpeak.models.heatmap import HeatmapConfig, HeatmapNet

        if config.vision_path:
            from voltpeak.models import model_dir

            self.net = HeatmapNet.from_pretrained(model_dir(config.vision_path))  # a model or a run directory
            config.vision_config = asdict(self.net.config)
        else:
            self.net = HeatmapNet(HeatmapConfig.from_dict(config.vision_config or {"image_size": config.image_size}))
        if self.net.config.image_size != config.image_size:
            raise ValueError(f"the detector takes {self.net.config.image_size} px images, the MLLM "
                             f"{config.image_size} px")
        self.tokens, self.bins, self.size = config.vision_tokens, max(1, config.location_bins), config.image_size
        width = self.net.head[0].in_channels
        self.out_dim = 6 + (2 * self.PATCH + 1) ** 2 + width

    def forward(self, pixels: torch.Tensor, reversed_axes: list[bool | None] | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Region tokens and their location bins; ``reversed_axes`` (per image; None: unknown) overrides the
        detector's guess where the plot's axes were read."""
        from torch.nn import functional as F

        from voltpeak.models.heatmap import known_reversed

        output, reversed_logit, maps = self.net(pixels)
        reversed_logit = known_reversed(reversed_logit, reversed_axes)
        n, s = output.shape[-1], self.net.config.stride
        heat, up = torch.sigmoid(output[:, :1]), torch.sigmoid(output[:, 1:2])
        maxima = heat * (heat == F.max_pool2d(heat, 3, stride=1, padding=1))
        score, cell = maxima.flatten(1).topk(self.tokens, dim=1)  # (B, K)
        offsets = output[:, 2:].flatten(2)
        x = (cell % n + offsets[:, 0].gather(1, cell) + 0.5) * s  # input pixels
        y = (cell // n + offsets[:, 1].gather(1, cell) + 0.5) * s
        order = x.argsort(dim=1)  # left to right, as answers are written
        score, cell, x, y = (t.gather(1, order) for t in (score, cell, x, y))

        def at(grid):  # (B, C, n·n) → (B, K, C) at the candidates' cells
            return grid.gather(2, cell[:, None, :].expand(-1, grid.shape[1], -1)).transpose(1, 2)

        points_up = at(up.flatten(2))
        flipped = torch.sigmoid(reversed_logit)[:, None, None].expand(-1, self.tokens, 1)
        anodic = points_up + flipped - 2 * points_up * flipped  # P(exactly one holds)
        patch = F.unfold(heat, 2 * self.PATCH + 1, padding=self.PATCH)
        features = torch.cat([score[..., None], points_up, flipped, anodic, (x / self.size)[..., None],
                              (y / self.size)[..., None], at(patch), at(maps[-1].flatten(2))], dim=2)
        where = torch.stack([(x / self.size * self.bins).floor(), (y / self.size * self.bins).floor()], dim=2)
        return features, where.clamp(0, self.bins - 1).long()


class MLLM(nn.Module):
    def __init__(self, config: MLLMConfig, tokenizer, vision: nn.Module, connector: nn.Module, lm: nn.Module):
        super().__init__()
        self.config, self.tokenizer = config, tokenizer
        self.vision, self.connector, self.lm = vision, connector, lm
        self.image_token_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
        self.image_tokens = _token_count(vision, config.image_size)
        # The ids of <x000>…, <y000>… (to add a region token's location as the LM's own location embeddings).
        bins = location_tokens(config.location_bins)
        self.register_buffer("location_ids", torch.tensor(tokenizer.convert_tokens_to_ids(bins) if bins else [],
                                                          dtype=torch.long).view(2, -1), persistent=False)

    # ----- construction -----
    @classmethod
    def build(cls, config: MLLMConfig, tokenizer) -> MLLM:
        """Parts from the config (pretrained ones from their directories), on one dtype."""
        from transformers import LlamaConfig, LlamaForCausalLM

        if config.vision == "heatmap" and not config.location_bins:
            raise ValueError("the heatmap tower needs location_bins > 0")
        vision = {"conv": lambda: ConvStem(config.vision_channels, config.stem_patch), "clip": lambda: CLIPTower(
            config), "heatmap": lambda: HeatmapTower(config)}[config.vision]()
        if config.lm_path:
            lm = LlamaForCausalLM.from_pretrained(config.lm_path)
            lm.resize_token_embeddings(len(tokenizer))
        else:
            lm = LlamaForCausalLM(LlamaConfig(
                vocab_size=len(tokenizer), hidden_size=config.lm_hidden, intermediate_size=config.lm_intermediate,
                num_hidden_layers=config.lm_layers, num_attention_heads=config.lm_heads,
                num_key_value_heads=config.lm_heads, max_position_embeddings=config.max_length,
                bos_token_id=tokenizer.convert_tokens_to_ids(BOS), eos_token_id=tokenizer.convert_tokens_to_ids(EOS),
                pad_token_id=tokenizer.convert_tokens_to_ids(PAD), tie_word_embeddings=True))
            if config.vision == "heatmap":
                _copy_head(lm)
        connector = Connector(vision.out_dim, lm.config.hidden_size, config.connector_depth,
                              _token_count(vision, config.image_size), regions=config.vision == "heatmap")
        if config.lora_rank:
            from peft import LoraConfig, get_peft_model

            lm = get_peft_model(lm, LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, target_modules=[
                "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]))
        model = cls(config, tokenizer, vision, connector, lm)
        if config.freeze_vision:
            for p in model.vision.parameters():
                p.requires_grad_(False)
        return model.to(getattr(torch, config.dtype))

    def parts(self) -> dict[str, nn.Module]:
        return {"vision": self.vision, "connector": self.connector, "lm": self.lm}

    def train(self, mode: bool = True) -> MLLM:
        super().train(mode)
        if self.config.freeze_vision:  # a frozen tower keeps its normalisation statistics and no dropout
            self.vision.eval()
        return self

    def trainable_parameters(self) -> dict[str, int]:
        """Trainable parameter count of each part."""
        return {name: sum(p.numel() for p in part.parameters() if p.requires_grad)
                for name, part in self.parts().items()}

    def meant_to_train(self) -> dict[str, bool]:
        """The parts the config trains (the preflight refuses one of these without a trainable parameter)."""
        return {"vision": not self.config.freeze_vision, "connector": True, "lm": True}

    def save_pretrained(self, directory: str | Path):
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.config.save(directory / "config.json")
        state = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        save_file(_untie(state), str(directory / "model.safetensors"))
        self.tokenizer.save_pretrained(str(directory))

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str = "cpu") -> MLLM:
        from safetensors.torch import load_file
        from transformers import PreTrainedTokenizerFast

        directory = Path(directory)
        config = MLLMConfig.load(directory / "config.json")
        tokenizer = PreTrainedTokenizerFast.from_pretrained(str(directory))
        # The saved weights replace whatever a pretrained path would load: build from sizes only.
        model = cls.build(MLLMConfig(**{**asdict(config), "vision_path": None, "lm_path": None}), tokenizer) \
            if not config.lm_path else cls.build(config, tokenizer)
        state = load_file(str(directory / "model.safetensors"))
        model.load_state_dict(state, strict=False)
        missing = set(model.state_dict()) - set(state) - _tied(model)
        if missing:
            raise ValueError(f"{directory}: weights missing for {sorted(missing)[:3]}")
        model.config = config
        return model.to(device).eval()

    # ----- forward -----
    def embed(self, pixels: torch.Tensor, input_ids: torch.Tensor,
              reversed_axes: list[bool | None] | None = None) -> torch.Tensor:
        """Text embeddings with the image features written at the ``<image>`` positions (``reversed_axes``: the
        plots' direction where their axes were read, for a detector tower)."""
        table = self.lm.get_input_embeddings()
        embeddings = table(input_ids)
        if reversed_axes is not None and isinstance(self.vision, HeatmapTower):
            seen = self.vision(pixels.to(embeddings.dtype), reversed_axes)
        else:
            seen = self.vision(pixels.to(embeddings.dtype))
        if isinstance(seen, tuple):  # region tokens with their location bins
            # The LM's own (tied) location-token embeddings, at unit RMS: at the LM's small initial embedding
            # scale they would vanish beside the connector's output (measured: F1 0.02 after 250 steps).
            x, y = (table(self.location_ids[k][seen[1][..., k]]) for k in (0, 1))
            features = self.connector(seen[0]) + _unit_rms(x) + _unit_rms(y)
            # Weak candidates all look alike (the empty token): the LM reads a short list, not noise.
            weak = seen[0][..., :1] < self.config.vision_floor
            features = torch.where(weak, self.connector.empty.to(features.dtype), features)
        else:
            features = self.connector(seen)
        slots = input_ids == self.image_token_id
        if int(slots.sum()) != features.shape[0] * features.shape[1]:
            raise ValueError(f"{int(slots.sum())} image placeholders for {features.shape[0] * features.shape[1]} "
                             "image features")
        return embeddings.masked_scatter(slots.unsqueeze(-1), features.to(embeddings.dtype))

    def forward(self, pixels, input_ids, attention_mask, labels=None):
        """Logits, and with ``labels`` (−100 where not supervised) the summed token loss and the token count
        (callers divide by the count of the whole accumulation window: a per-token mean)."""
        out = self.lm(inputs_embeds=self.embed(pixels, input_ids), attention_mask=attention_mask)
        if labels is None:
            return out.logits, None, None
        logits = out.logits[:, :-1].float()
        target = labels[:, 1:]
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                                           ignore_index=-100, reduction="sum")
        return out.logits, loss, int((target != -100).sum())

    @torch.no_grad()
    def prompt_ids(self, prompt: str | None = None) -> list[int]:
        """The ids the answer follows (``prompt``: default the model's own)."""
        return prompt_ids(self.tokenizer, self.image_tokens, predict_prompt(self.config) if prompt is None else prompt)

    def generate(self, pixels: torch.Tensor, prompt_ids: torch.Tensor, max_new_tokens: int | None = None,
                 reversed_axes: list[bool | None] | None = None) -> list[str]:
        """Greedy answers for a batch (prompts of equal length: the same prompt for all)."""
        attention = torch.ones_like(prompt_ids)
        out = self.lm.generate(inputs_embeds=self.embed(pixels, prompt_ids, reversed_axes), attention_mask=attention,
                               max_new_tokens=max_new_tokens or self.config.max_new_tokens, do_sample=False,
                               eos_token_id=self.tokenizer.convert_tokens_to_ids(EOS),
                               pad_token_id=self.tokenizer.convert_tokens_to_ids(PAD))
        return [self.decode(row) for row in out]

    # ----- the contract every voltpeak model keeps (train and predict call only these) -----
    @torch.no_grad()
    def predict_batch(self, images: list, reversed_axes: list[bool | None] | None = None) -> list[dict]:
        """Per PIL image, its output line's ``peaks`` (records), ``text`` (the answer) and ``error`` (why the answer
        could not be read, else None); ``reversed_axes``: per image, the plot's direction where the axes told it."""
        from voltpeak.answer import AnswerError
        from voltpeak.peak import Peak

        pixels, boxes = letterboxed(images, self.config.image_size, next(self.parameters()).device)
        ids = torch.tensor([self.prompt_ids()] * len(boxes), device=pixels.device)
        out = []
        for box, text in zip(boxes, self.generate(pixels, ids, reversed_axes=reversed_axes)):
            line = {"peaks": [], "text": text, "error": None}
            try:
                found = read_answer(text, box, self.config.location_bins, self.config.image_size)
                line["peaks"] = [Peak(p["direction"], x=round(p["x"], 5), y=round(p["y"], 5)).to_record()
                                 for p in found]
            except AnswerError as e:
                line["error"] = str(e)
            out.append(line)
        return out

    def batch_loss(self, batch: dict, device, forward=None) -> torch.Tensor:
        """The summed answer-token loss of a training batch (``Collator``'s); ``forward`` runs the model (itself,
        or its DDP wrapper)."""
        return (forward or self)(batch["pixels"].to(device), batch["input_ids"].to(device),
                                 batch["attention_mask"].to(device), batch["labels"].to(device))[1]

    @staticmethod
    def batch_count(batch: dict) -> int:
        """What a batch's loss sums over: its answer tokens."""
        return int((batch["labels"][:, 1:] != -100).sum())

    def decode(self, ids) -> str:
        """Text of token ids without the special tokens, removed by name: ``skip_special_tokens`` would also drop
        the location tokens of a freshly trained tokenizer (added tokens), though not of a reloaded one."""
        text = self.tokenizer.decode(ids, skip_special_tokens=False)
        for token in (PAD, BOS, EOS, IMAGE_TOKEN):
            text = text.replace(token, "")
        return text


def _copy_head(lm: nn.Module):
    """Start the first layer's attention as a copier (value and output projections the identity): what a head
    attends to reaches the residual stream unchanged, so a region token's location embedding can be written out
    through the tied output embeddings from the first step; training then only has to learn where to look.
    (Measured without it: the x/y tokens stayed at 3.6–4.1 nats, near chance, after 250 steps.)"""
    attention = lm.model.layers[0].self_attn
    with torch.no_grad():
        for projection in (attention.v_proj, attention.o_proj):
            if projection.weight.shape[0] == projection.weight.shape[1]:
                projection.weight.copy_(torch.eye(projection.weight.shape[0]))


def _unit_rms(v: torch.Tensor) -> torch.Tensor:
    return v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + 1e-12)


def _token_count(vision: nn.Module, size: int) -> int:
    with torch.no_grad():
        seen = vision.eval()(torch.zeros(1, 3, size, size))
    vision.train()
    return int((seen[0] if isinstance(seen, tuple) else seen).shape[1])


def _tied(model: nn.Module) -> set[str]:
    """Names of parameters that share storage with an earlier one (tied embeddings)."""
    seen, tied = {}, set()
    for name, tensor in model.state_dict().items():
        key = tensor.data_ptr()
        if key in seen:
            tied.add(name)
        seen.setdefault(key, name)
    return tied


def _untie(state: dict) -> dict:
    """Drop tensors that share storage with an earlier one (safetensors refuses shared tensors)."""
    seen, out = set(), {}
    for name, tensor in state.items():
        if tensor.data_ptr() in seen:
            continue
        seen.add(tensor.data_ptr())
        out[name] = tensor
    return out


def location_tokens(bins: int) -> list[str]:
    return [f"<x{i:03d}>" for i in range(bins)] + [f"<y{i:03d}>" for i in range(bins)]


def train_tokenizer(texts: list[str], location_bins: int = 0, vocab_size: int = 800):
    """A byte-level BPE trained on ``texts`` with the special tokens (and location tokens) this model uses."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = [PAD, BOS, EOS, IMAGE_TOKEN] + location_tokens(location_bins)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size + len(special), special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=PAD, bos_token=BOS, eos_token=EOS,
                                   additional_special_tokens=[IMAGE_TOKEN])
    if location_bins:
        # Location tokens decode as text (so answers read back), yet are single tokens.
        fast.add_tokens(location_tokens(location_bins), special_tokens=False)
    return fast


def prompt_ids(tokenizer, image_tokens: int, prompt: str) -> list[int]:
    """BOS, ``image_tokens`` image placeholders, then the prompt's ids: what every answer follows."""
    return ([tokenizer.convert_tokens_to_ids(BOS)] + [tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)] * image_tokens
            + tokenizer.encode(prompt, add_special_tokens=False))


def predict_prompt(config=None) -> str:
    """The prompt of prediction and validation: the model's own, else the first dataset wording."""
    from voltpeak.answer import PROMPTS

    return (config.prompt if config is not None else "") or PROMPTS[0]


_LOC = re.compile(r"(anodic|cathodic)\s*<x(\d+)>\s*<y(\d+)>")


def read_answer(text: str, box: Letterbox, bins: int, size: int) -> list[dict]:
    """Peaks (direction, x, y fractions of the original image) from a model answer: location tokens over the
    square input (``bins`` of them per side), or the contract's JSON answer in pixels; raises AnswerError."""
    from voltpeak.answer import AnswerError, parse_answer

    if bins:
        found = [(m.group(1), int(m.group(2)), int(m.group(3))) for m in _LOC.finditer(text)]
        if not found and text.strip() != "none":
            raise AnswerError(f"no location tokens in the answer: {text[:80]!r}")
        out = []
        for direction, bx, by in found:
            fx, fy = box.to_fraction((bx + 0.5) * size / bins, (by + 0.5) * size / bins)
            out.append({"direction": direction, "x": fx, "y": fy})
        return out
    return [{"direction": p["direction"], "x": p["x_px"] / box.width, "y": p["y_px"] / box.height}
            for p in parse_answer(text) if "x_px" in p]
