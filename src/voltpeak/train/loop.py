"""``voltpeak train --config FILE``: the training loop of the models (the custom MLLM, the heatmap detector).

    voltpeak train --config configs/mllm-small.json [--resume]

A run directory holds ``config.json``, ``metrics.jsonl`` (one JSON object per step: loss, lr; and every
``val_every`` steps the validation metrics of generated answers scored by ``voltpeak evaluate``'s matcher) and
``checkpoints/step-NNNNNN/`` (model, optimizer, data position and RNG states; ``checkpoints/last`` names the newest).
The learning rate warms up linearly, then follows a cosine down to ``min_lr_ratio`` × lr (``lr_at``). Gradients
accumulate over ``grad_accum`` micro-batches and the loss is a mean over every answer token of the window.
The model's ``kind`` (``mllm``, the default, or ``heatmap``) picks what is trained; both share this loop.
A killed run continues with ``--resume`` from its last checkpoint: same data order, same random state.

Several devices: launch the same command with ``torchrun --nproc_per_node N -m voltpeak train --config FILE`` (or
``accelerate launch``): each process takes its own ``batch_size`` slice of every step's window of
``N × batch_size`` samples, DistributedDataParallel all-reduces the gradients (NCCL on GPUs, Gloo on CPUs), and
process 0 alone validates and writes the run directory. Logged losses are process 0's.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from voltpeak.errors import InputError
from voltpeak.models import KINDS, kind_of, load_model, model_config, model_dir, saved_kind
from voltpeak.models.mllm import train_tokenizer
from voltpeak.rundir import METRICS, mark_last, newest_checkpoint, start_run, truncate_metrics
from voltpeak.settings import Settings
from voltpeak.train.data import Collator, HeatmapCollator, predict_prompt, training_data
from voltpeak.train.validate import evaluate_model, preflight, tune_threshold


@dataclass
class TrainConfig(Settings):
    dataset: str | list = ""  # a folder written by voltpeak build, or a list of them (training splits joined)
    out: str = "runs/mllm"
    model: dict = field(default_factory=dict)  # MLLMConfig fields; HeatmapConfig ("heatmap"), QwenConfig ("qwen")
    init: str = ""  # start from this saved model's weights (a shipped name, a model folder or a run directory; its
    # own config then stands for ``model``): fine-tuning, e.g. on plots of new programs
    steps: int = 1000
    minutes: float = 0.0  # a wall-time budget for the whole run (0: none): stepping stops in time to validate and
    # save before it is spent, and the cosine schedule runs on the budget's fraction used, not on ``steps``
    batch_size: int = 8
    grad_accum: int = 1
    lr: float = 1e-3
    vision_lr: float = 0.0  # 0: lr
    connector_lr: float = 0.0  # 0: lr
    warmup_steps: int = 50
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    val_every: int = 200
    val_samples: int = 64
    save_every: int = 200
    keep_checkpoints: int = 2
    seed: int = 0
    device: str = "auto"  # auto, cpu, cuda
    precision: str = "fp32"  # fp32; bf16 or fp16 autocast on a GPU
    threads: int = 0  # CPU threads (0: torch's default)
    train_limit: int = 0  # only the first N training samples (0: all)
    tokenizer_vocab: int = 800
    augment: bool = True  # the detector: label-preserving colour changes (see HeatmapCollator)
    shrink: float = 0.0  # the detector: the fraction of images shrunk and moved on their square (augment)
    fixed_prompt: bool = True  # train on the model's prediction prompt, not each sample's wording
    report_to: str = "none"  # none, tensorboard, wandb, mlflow

    def validate(self):
        if not self.dataset:
            raise InputError("the training config needs 'dataset' (a folder written by voltpeak build)")
        for name in ("steps", "batch_size", "grad_accum", "val_every", "save_every", "val_samples"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)}")
        own_loop = kind_of(self.model).trainer == "loop"
        if self.init and not own_loop:
            raise InputError("init is for voltpeak's own loop; a Qwen-VL run starts from its model's path")
        if self.precision not in ("fp32", "bf16", "fp16"):
            raise InputError(f"precision must be fp32, bf16 or fp16, got {self.precision!r}")
        if isinstance(self.shrink, bool) or not isinstance(self.shrink, (int, float)) or not 0 <= self.shrink <= 1:
            raise InputError(f"shrink must be a fraction from 0 to 1, got {self.shrink!r}")
        if not self.minutes >= 0:
            raise InputError(f"minutes must be 0 (no budget) or more, got {self.minutes}")
        if self.minutes and not own_loop:
            raise InputError("minutes (a time budget) is for voltpeak's own loop; Qwen-VL trains by steps")
        if self.report_to not in ("none", "tensorboard", "wandb", "mlflow"):
            raise InputError(f"report_to must be none, tensorboard, wandb or mlflow, got {self.report_to!r}")
        try:
            model_config(self.model)
        except ValueError as e:
            raise InputError(f"model: {e}") from None


def lr_at(step: int, config: TrainConfig, spent: float | None = None) -> float:
    """The learning-rate factor at ``step`` (from 1): linear warm-up, then cosine down to ``min_lr_ratio`` over
    the steps, or over the time budget where one is set (``spent``: the fraction of it used so far) — whichever
    runs out first, so a run that reaches its steps inside its budget still ends annealed."""
    if step <= config.warmup_steps:
        return step / max(1, config.warmup_steps)
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    if spent is not None:
        progress = max(progress, spent)
    return config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def _device(config: TrainConfig) -> torch.device:
    if config.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(config.device)


def _reporter(config: TrainConfig, run: Path):
    """A function that sends a metrics dict to the chosen tracker (none by default)."""
    if config.report_to == "tensorboard":
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(run / "tensorboard"))
        return lambda row: [writer.add_scalar(k, v, row["step"]) for k, v in row.items()
                            if k != "step" and isinstance(v, (int, float))]
    if config.report_to == "wandb":
        import wandb

        wandb.init(project="voltpeak", dir=str(run), config=config.to_dict())
        return lambda row: wandb.log(row, step=row["step"])
    if config.report_to == "mlflow":
        import mlflow

        mlflow.start_run()
        return lambda row: mlflow.log_metrics({k: v for k, v in row.items() if k != "step"}, step=row["step"])
    return lambda row: None


def train(config: TrainConfig, resume: bool = False, stop_after: int | None = None, log=print) -> Path:
    """Train (or continue) the run ``config.out``; returns the run directory. ``stop_after`` ends the process's
    work after that many steps (a test's stand-in for a kill)."""
    if kind_of(config.model).trainer == "sft":  # Qwen-VL trains through TRL's SFTTrainer
        from voltpeak.train.sft import train_qwen

        return train_qwen(config, resume, log)
    clock = time.perf_counter()  # the time budget counts from here: loading and building are part of the run
    run = Path(config.out)
    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    main = rank == 0  # the process that validates and writes the run directory
    init = model_dir(config.init) if config.init and not resume else None  # a bad name fails before the run starts
    if init is not None:
        kind = saved_kind(init)
        wanted = kind_of(config.model) if config.model else kind  # an MLLM config names no kind
        if kind.trainer != "loop" or wanted != kind:
            raise InputError(f"init {config.init}: a {kind.name} model cannot start a {wanted.name} run (init "
                             "is for voltpeak's own detector and MLLM)")
    if main:
        start_run(run, config, resume)
    elif resume and newest_checkpoint(run) is None:
        raise InputError(f"{run}: no checkpoint to resume from")
    if config.threads:
        torch.set_num_threads(config.threads)
    device = _device(config)
    if world > 1:  # launched by torchrun / accelerate launch: one process per device, gradients all-reduced
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
    examples, validation = training_data(config.dataset, config.train_limit, config.val_samples)

    if resume:
        checkpoint = newest_checkpoint(run)
        model = load_model(checkpoint / "model", device=str(device))
        state = torch.load(checkpoint / "trainer.pt", weights_only=False)
    else:
        torch.manual_seed(config.seed)
        if init:
            model = load_model(init, device=str(device))
        else:
            model = _build(config.model, examples, config.tokenizer_vocab).to(device)
        state = None
    model.train()
    if main:
        preflight(model, log)
    forward = model
    if world > 1:
        forward = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    collator = collator_for(model, config.fixed_prompt, cache=True, augment=config.augment,
                           shrink=config.shrink)
    base = {"vision": config.vision_lr or config.lr, "connector": config.connector_lr or config.lr}
    groups = [{"params": [p for p in module.parameters() if p.requires_grad], "name": part,
               "base_lr": base.get(part, config.lr)} for part, module in model.parts().items()]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]], lr=config.lr,
                                  weight_decay=config.weight_decay)
    step, epoch, position = 0, 0, 0
    if state:
        # The time budget and the schedule that runs on it go on from where the run stopped, not from zero.
        used = state.get("seconds", 0.0)
        if config.minutes and used >= config.minutes * 60 - 1:
            raise InputError(f"{run}: its time budget of {config.minutes:g} min is spent (step {state['step']}); "
                             "raise minutes in its config to train on")
        clock -= used
        optimizer.load_state_dict(state["optimizer"])
        step, epoch, position = state["step"], state["epoch"], state["position"]
        torch.set_rng_state(state["torch_rng"])
        np.random.set_state(state["numpy_rng"])
        random.setstate(state["python_rng"])
        if main:
            truncate_metrics(run, step)
    report = _reporter(config, run) if main else (lambda row: None)
    autocast = config.precision != "fp32" and device.type == "cuda"
    dtype = torch.bfloat16 if config.precision == "bf16" else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=autocast and config.precision == "fp16")
    if state:  # the rest of what a resumed run must continue exactly: fp16 loss scale, the GPUs' generators
        if state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        if state.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
    order = np.random.default_rng([config.seed, epoch]).permutation(len(examples))
    started, done_here, window = time.perf_counter(), 0, config.batch_size * world
    budget = config.minutes * 60
    finishing = 0.0  # seconds a closing validation and save take: kept in hand at the end of a budget
    if budget and main:  # measured once before the first step, so even a short budget keeps enough in hand
        t = time.perf_counter()
        evaluate_model(model, validation)
        finishing = 2 * (time.perf_counter() - t)
        model.train()
    ended = False
    with open(run / METRICS if main else os.devnull, "a", encoding="utf-8") as metrics:
        while not ended and step < config.steps and (stop_after is None or done_here < stop_after):
            step += 1
            step_started = time.perf_counter()
            spent = (step_started - clock) / budget if budget else None
            factor = lr_at(step, config, spent)
            for g in optimizer.param_groups:
                g["lr"] = g["base_lr"] * factor
            batches = []
            for _ in range(config.grad_accum):
                if position + window > len(order):
                    epoch, position = epoch + 1, 0
                    order = np.random.default_rng([config.seed, epoch]).permutation(len(examples))
                mine = order[position + rank * config.batch_size:position + (rank + 1) * config.batch_size]
                batches.append(collator([examples[i] for i in mine]))
                position += window
            # A mean over every answer token (peak, for the detector) of the window, on all processes together:
            # DDP averages the processes' gradients, so each scales its sum by world / the window's count, and
            # the step is the one a single process would take on the whole window.
            tokens = sum(model.batch_count(b) for b in batches)
            if world > 1:
                tokens = int(_all_sum(float(tokens), device))
            tokens = max(1, tokens)
            total = 0.0
            for b in batches:
                with torch.autocast(device.type, dtype=dtype, enabled=autocast):
                    loss = model.batch_loss(b, device, forward)
                scaler.scale(loss * world / tokens).backward()
                total += float(loss.detach())
            if world > 1:
                total = _all_sum(total, device)
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            done_here += 1
            now = time.perf_counter()
            # Out of time when one more step and the closing validation and save would overrun the budget.
            ended = bool(budget) and now - clock + (now - step_started) + finishing >= budget
            if world > 1:  # every process stops at the same step
                flag = torch.tensor([float(ended)], device=device)
                torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
                ended = bool(flag.item())
            final = ended or step == config.steps
            if not main:
                continue
            row = {"step": step, "loss": total / tokens, "lr": config.lr * factor, "epoch": epoch,
                   "seconds": round(now - started, 2)}
            closing = time.perf_counter()
            if final and KINDS[model.config.kind].threshold:
                model.config.threshold = tune_threshold(model, validation)
                log(f"heatmap threshold tuned on the validation samples: {model.config.threshold}")
            if step % config.val_every == 0 or final:
                row.update({f"val_{k}": v for k, v in evaluate_model(model, validation).items()})
                log(f"step {step}: loss {row['loss']:.4f}, val F1 {row['val_f1']:.3f}")
            metrics.write(json.dumps(row) + "\n")
            metrics.flush()
            report(row)
            if step % config.save_every == 0 or final:
                _save(run, model, optimizer, scaler, step, epoch, position, config.keep_checkpoints,
                      time.perf_counter() - clock)
            if step % config.val_every == 0 or step % config.save_every == 0:
                # What a closing validation and save cost, measured (tuning the threshold: about one more).
                finishing = max(finishing, 2 * (time.perf_counter() - closing))
    if ended and main:
        log(f"time budget of {config.minutes:g} min reached at step {step}")
    if world > 1:
        torch.distributed.barrier()  # the others wait for the last checkpoint
        torch.distributed.destroy_process_group()
    return run


def _all_sum(value: float, device) -> float:
    """``value`` summed over the processes of a distributed run."""
    t = torch.tensor([value], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(t)
    return float(t.item())


def _build(data: dict, examples, vocab: int):
    """A new model from its config dict (one that reads tokens with a tokenizer trained on the split's prompts and
    answers)."""
    kind, settings = kind_of(data), model_config(data)
    if not kind.tokens:
        return kind.model_class().build(settings)
    texts = [predict_prompt(settings)] + [e.prompt for e in examples[:2000]]
    texts += [_target(e, settings.location_bins) for e in examples[:2000]]
    return kind.model_class().build(settings, train_tokenizer(texts, settings.location_bins, vocab))


def collator_for(model, fixed_prompt: bool = True, cache: bool = False, augment: bool = False,
                 shrink: float = 0.0):
    """What turns examples into the model's training batches (for its ``batch_loss``)."""
    if KINDS[model.config.kind].tokens:
        return Collator.of(model, fixed_prompt, cache)
    return HeatmapCollator(model, cache, augment, shrink)


def _target(example, bins: int) -> str:
    """The answer text a sample teaches, for training the tokenizer (location tokens are added whole)."""
    if not bins:
        return example.target
    return "".join(f"{p['direction']}<x000><y000>" for p in example.peaks) or "none"


def _save(run: Path, model, optimizer, scaler, step, epoch, position, keep: int, seconds: float):
    """A checkpoint: the model, and what a resumed run continues from exactly (``seconds``: the run's wall time
    so far, which its time budget and schedule count)."""
    folder = run / "checkpoints" / f"step-{step:06d}"
    model.save_pretrained(folder / "model")
    torch.save({"optimizer": optimizer.state_dict(), "step": step, "epoch": epoch, "position": position,
                "seconds": seconds,
                "torch_rng": torch.get_rng_state(), "numpy_rng": np.random.get_state(),
                "python_rng": random.getstate(), "scaler": scaler.state_dict(),
                "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None},
               folder / "trainer.pt")
    mark_last(run, folder.name)
    old = sorted(p for p in (run / "checkpoints").glob("step-*") if p.is_dir())[:-keep]
    for p in old:
        shutil.rmtree(p)
