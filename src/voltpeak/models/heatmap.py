"""A heatmap peak detector for plot images: a small U-Net that draws a peak heatmap with a sub-pixel offset
(CenterNet-style), whether each peak points up or down on the image, and whether the plot's axes are reversed.

    model = HeatmapNet.build(HeatmapConfig())
    peaks = model.detect(pixels, boxes)      # per image: [{"direction", "x", "y", "score"}], x/y image fractions

The letterboxed square input (``image_size`` px) maps to heatmaps of ``image_size / stride`` cells. Cell ``i``
covers input pixels ``[i·s, (i+1)·s)``; a peak at input pixel ``x`` sits at cell coordinate ``u = x/s − ½``, whose
nearest cell ``c = round(u)`` is the heatmap's positive and ``u − c`` the offset it learns, so decoding
``(c + offset + ½)·s`` gives ``x`` back exactly. Training targets: a Gaussian of ``sigma`` cells around each peak
(penalty-reduced focal loss, Law & Deng 2018; Zhou et al. 2019) and an L1 loss on the offsets at the peaks.

Direction is not a second heatmap: both would fire on every peak, the weaker one a false positive. An anodic peak
is a maximum of the current, drawn as a bump pointing up — unless the plot follows the US convention (potential
decreasing to the right, cathodic current up), which turns the whole CV by 180°. So the net learns two easy
things — per peak, up or down (a local shape), and per image, reversed or not (a global one: tick order, the side
diffusion tails run to) — and a peak is anodic when exactly one of them holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from voltpeak.models.inputs import letterboxed
from voltpeak.peak import DIRECTIONS, Peak
from voltpeak.settings import Settings


@dataclass
class HeatmapConfig(Settings):
    """Sizes of the detector and its decoding. ``channels``: widths of the encoder stages, each halving the
    resolution (the first works at ``image_size / 2``); the decoder climbs back to ``image_size / stride``."""

    kind: str = "heatmap"
    image_size: int = 256  # the image is letterboxed into a square of this side (pixels)
    channels: tuple = (32, 48, 64, 96, 128)
    stem: int = 4  # the first stage's stride: 2 (a 3×3 conv) or 4 (a 4×4 patchify conv)
    stride: int = 4  # input pixels per heatmap cell: stem, 2·stem, 4·stem, ...
    sigma: float = 1.5  # Gaussian radius of a target peak (cells)
    threshold: float = 0.3  # a local heatmap maximum above this is a peak
    offset_weight: float = 1.0
    reversed_weight: float = 5.0  # the per-image reversed-axes loss against the per-peak terms

    _what = "heatmap setting"

    @classmethod
    def from_dict(cls, data: dict) -> HeatmapConfig:
        # Models saved before the "layout" head was dropped name the head that remains (docs/experiments.md).
        return super().from_dict({k: v for k, v in data.items() if (k, v) != ("reversed_head", "pooled")})

    def validate(self):
        deepest = self.stem * 2 ** (len(self.channels) - 1)
        if self.stem not in (2, 4):
            raise ValueError(f"stem must be 2 or 4, got {self.stem}")
        if self.stride < self.stem or self.stride & (self.stride - 1) or self.stride > deepest:
            raise ValueError(f"stride must be a power of two from {self.stem} to {deepest}, got {self.stride}")
        if self.image_size % deepest:
            raise ValueError(f"image_size must be a multiple of {deepest}, got {self.image_size}")


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """Two conv–GroupNorm–ReLU; the first strided (a stride-4 one is a 4×4 patchify conv). GroupNorm, not
    BatchNorm: the same normalisation in training and inference (measured: with BatchNorm's running statistics
    the global reversed-axes logit moved by ~9 between the two modes)."""
    first = nn.Conv2d(cin, cout, 4, stride=4, bias=False) if stride == 4 else \
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
    return nn.Sequential(first, nn.GroupNorm(8, cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.GroupNorm(8, cout),
                         nn.ReLU(inplace=True))


class HeatmapNet(nn.Module):
    """Encoder (stride-2 stages) → decoder (upsample + skip) → 4 maps (peak logit, up logit, x and y offsets), and
    the logit that the plot's axes are reversed, from the deepest map (mean-pooled: the layout) and the last
    decoder map (mean- and max-pooled: the peak shapes, whose diffusion tails run right, or left when reversed)."""

    def __init__(self, config: HeatmapConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.down = nn.ModuleList([_block(3, c[0], config.stem)] + [_block(a, b, 2) for a, b in zip(c, c[1:])])
        # Decoder stages from the deepest map up to the output resolution.
        ups = int(np.log2(config.stem * 2 ** (len(c) - 1) // config.stride))
        self.up = nn.ModuleList(_block(c[-1 - k] + c[-2 - k], c[-2 - k]) for k in range(ups))
        width = c[-1 - ups]
        self.head = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(width, 4, 1))
        with torch.no_grad():  # start the heatmap near a 1 % prior (CenterNet's bias), offsets at 0
            self.head[-1].bias.copy_(torch.tensor([-4.6, 0.0, 0.0, 0.0]))
        # Whether the axes are reversed: a linear read of the deepest map's mean and the last map's mean and max.
        self.reversed = nn.Linear(c[-1] + 2 * width, 1)
        # oneDNN's convolutions run faster on channels-last tensors (measured in the training loop on 2 CPU cores:
        # 0.65 → 0.5 s per step of 16); the weights are saved contiguous, so the files do not depend on it.
        self.to(memory_format=torch.channels_last)

    @classmethod
    def build(cls, config: HeatmapConfig) -> HeatmapNet:
        return cls(config)

    @property
    def cells(self) -> int:
        return self.config.image_size // self.config.stride

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """The (B, 4, cells, cells) output maps, the (B,) reversed-axes logits, and the decoder's maps (the
        deepest encoder map first)."""
        skips, x = [], pixels.contiguous(memory_format=torch.channels_last)
        for stage in self.down:
            x = stage(x)
            skips.append(x)
        maps = [x]
        for k, stage in enumerate(self.up):
            skip = skips[-2 - k]
            x = stage(torch.cat([F.interpolate(x, size=skip.shape[-2:], mode="nearest"), skip], 1))
            maps.append(x)
        pooled = torch.cat([maps[0].mean((2, 3)), x.mean((2, 3)), x.amax((2, 3))], 1)
        return self.head(x), self.reversed(pooled)[:, 0], maps

    # ----- targets and loss -----
    def targets(self, peaks: list[list[tuple[int, float, float]]], reversed_axes: list[bool],
                readable: list[bool] | None = None) -> dict:
        """Training targets for peaks given per image as (direction index, x, y in input pixels) and whether each
        image's axes are reversed: ``heat`` (B, 1, n, n), ``up`` and ``mask`` (B, 1, n, n; 1 at the peak cells),
        ``offset`` (B, 2, n, n), ``reversed`` (B,), and ``readable`` (B,): 0 for an image whose axes the
        reversed-axes term should not learn from (its tick labels shrunk past reading), else 1."""
        n, s, sigma = self.cells, self.config.stride, self.config.sigma
        heat = np.zeros((len(peaks), 1, n, n), np.float32)
        up = np.zeros_like(heat)
        mask = np.zeros_like(heat)
        offset = np.zeros((len(peaks), 2, n, n), np.float32)
        grid = np.arange(n, dtype=np.float32)
        for b, (image_peaks, flip) in enumerate(zip(peaks, reversed_axes)):
            for d, x, y in image_peaks:
                u, v = x / s - 0.5, y / s - 0.5
                cu, cv = int(round(u)), int(round(v))
                if not (0 <= cu < n and 0 <= cv < n):
                    continue
                g = np.exp(-((grid[None, :] - cu) ** 2 + (grid[:, None] - cv) ** 2) / (2 * sigma ** 2))
                np.maximum(heat[b, 0], g, out=heat[b, 0])
                heat[b, 0, cv, cu] = 1.0
                up[b, 0, cv, cu] = float((d == 0) != bool(flip))
                offset[b, :, cv, cu] = (u - cu, v - cv)
                mask[b, 0, cv, cu] = 1.0
        return {"heat": torch.from_numpy(heat), "up": torch.from_numpy(up), "mask": torch.from_numpy(mask),
                "offset": torch.from_numpy(offset), "reversed": torch.tensor(reversed_axes, dtype=torch.float32),
                "readable": torch.tensor([True] * len(peaks) if readable is None else readable, dtype=torch.float32)}

    def loss(self, output: torch.Tensor, reversed_logit: torch.Tensor, targets: dict) -> torch.Tensor:
        """Summed focal + up/down + offset + reversed-axes loss (callers divide by the window's peak count)."""
        heat, mask = targets["heat"], targets["mask"]
        p = torch.sigmoid(output[:, :1].float()).clamp(1e-4, 1 - 1e-4)
        positive = heat.eq(1).float()
        pos = -(torch.log(p) * (1 - p) ** 2 * positive).sum()
        neg = -(torch.log(1 - p) * p ** 2 * (1 - heat) ** 4 * (1 - positive)).sum()
        up = (F.binary_cross_entropy_with_logits(output[:, 1:2].float(), targets["up"], reduction="none")
              * mask).sum()
        off = (F.l1_loss(output[:, 2:].float(), targets["offset"], reduction="none") * mask).sum()
        flip = F.binary_cross_entropy_with_logits(reversed_logit.float(), targets["reversed"],
                                                  weight=targets["readable"], reduction="sum")
        return pos + neg + up + self.config.offset_weight * off + self.config.reversed_weight * flip

    # ----- decoding -----
    def decode(self, output: torch.Tensor, reversed_logit: torch.Tensor,
               threshold: float | None = None) -> list[list[tuple[int, float, float, float]]]:
        """Peaks per image as (direction index, x, y in input pixels, score): local 3×3 maxima of the heatmap
        above ``threshold``, placed by the offsets; anodic when exactly one of "points up" and "axes reversed"."""
        threshold = self.config.threshold if threshold is None else threshold
        s = self.config.stride
        heat = torch.sigmoid(output[:, 0].float())
        peaks = (heat == F.max_pool2d(heat[:, None], 3, stride=1, padding=1)[:, 0]) & (heat > threshold)
        out: list[list] = [[] for _ in range(output.shape[0])]
        for b, cv, cu in peaks.nonzero().tolist():
            up, dx, dy = output[b, 1:, cv, cu].float().tolist()
            anodic = (up > 0) != bool(reversed_logit[b] > 0)
            out[b].append((0 if anodic else 1, (cu + dx + 0.5) * s, (cv + dy + 0.5) * s, float(heat[b, cv, cu])))
        return out

    @torch.no_grad()
    def detect(self, pixels: torch.Tensor, boxes, threshold: float | None = None,
               reversed_axes: list[bool | None] | None = None) -> list[list[dict]]:
        """Peaks per image (``direction``, ``x``/``y`` fractions of the original image, ``score``).
        ``reversed_axes`` (per image; None: unknown) overrides the net's guess of the plot's direction where the
        axes were read."""
        output, reversed_logit, _ = self(pixels)
        reversed_logit = known_reversed(reversed_logit, reversed_axes)
        found = []
        for image_peaks, box in zip(self.decode(output, reversed_logit, threshold), boxes):
            rows = []
            for d, x, y, score in image_peaks:
                fx, fy = box.to_fraction(x, y)
                if -0.01 <= fx <= 1.01 and -0.01 <= fy <= 1.01:  # not in the letterbox's margins
                    rows.append({"direction": DIRECTIONS[d], "x": fx, "y": fy, "score": round(score, 4)})
            found.append(sorted(rows, key=lambda r: (r["x"], r["y"])))
        return found

    # ----- the contract every voltpeak model keeps (train and predict call only these) -----
    def predict_batch(self, images: list, reversed_axes: list[bool | None] | None = None) -> list[dict]:
        """Per PIL image, its output line's ``peaks`` (records, each with the detector's ``score`` as an extra key),
        ``text`` (the records as JSON) and ``error`` (None); ``reversed_axes``: per image, the plot's direction
        where the axes told it."""
        pixels, boxes = letterboxed(images, self.config.image_size, next(self.parameters()).device)
        out = []
        for peaks in self.detect(pixels, boxes, reversed_axes=reversed_axes):
            records = [{**Peak(p["direction"], x=p["x"], y=p["y"]).to_record(), "score": p["score"]} for p in peaks]
            out.append({"peaks": records, "text": json.dumps(records), "error": None})
        return out

    def batch_loss(self, batch: dict, device, forward=None) -> torch.Tensor:
        """The summed loss of a training batch (``HeatmapCollator``'s); ``forward`` runs the net (itself, or its
        DDP wrapper)."""
        output, reversed_logit, _ = (forward or self)(batch["pixels"].to(device))
        return self.loss(output, reversed_logit, {k: v.to(device) for k, v in batch.items() if k in (
            "heat", "up", "mask", "offset", "reversed", "readable")})

    @staticmethod
    def batch_count(batch: dict) -> int:
        """What a batch's loss sums over: its peaks."""
        return int(batch["mask"].sum())

    # ----- saving -----
    def parts(self) -> dict[str, nn.Module]:
        return {"detector": self}

    def trainable_parameters(self) -> dict[str, int]:
        return {"detector": sum(p.numel() for p in self.parameters() if p.requires_grad)}

    def meant_to_train(self) -> dict[str, bool]:
        return {"detector": True}

    def save_pretrained(self, directory: str | Path):
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.config.save(directory / "config.json")
        save_file({k: v.detach().contiguous() for k, v in self.state_dict().items()},
                  str(directory / "model.safetensors"))

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str = "cpu") -> HeatmapNet:
        from safetensors.torch import load_file

        directory = Path(directory)
        model = cls(HeatmapConfig.load(directory / "config.json"))
        model.load_state_dict(load_file(str(directory / "model.safetensors")))
        return model.to(device).eval()


def known_reversed(logits: torch.Tensor, reversed_axes: list[bool | None] | None) -> torch.Tensor:
    """The per-image reversed-axes logits with the known ones (True/False, read off the tick labels) put in
    as certainties; None entries keep the net's own guess."""
    if reversed_axes is None:
        return logits
    known = torch.tensor([r is not None for r in reversed_axes], device=logits.device)
    value = torch.tensor([20.0 if r else -20.0 for r in reversed_axes], device=logits.device, dtype=logits.dtype)
    return torch.where(known, value, logits)
