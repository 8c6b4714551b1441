"""Qwen-VL fine-tuning in process, through TRL's ``SFTTrainer``: the model kind ``qwen`` of ``voltpeak train``.

The run directory is the training loop's: ``config.json``, ``metrics.jsonl`` (loss and lr per step; every
``val_every`` steps the validation F1 of generated answers, scored by ``voltpeak evaluate``'s matcher) and
``checkpoints/checkpoint-N/`` (the adapter with the fully trained vision parts, optimizer and trainer state, the
processor and ``voltpeak.json``; ``checkpoints/last`` names the newest). The preflight counts the trainable
parameters of the vision tower, the merger and the language model before the first step.

Answers teach points in Qwen's pixels of the *resized* input: a dataset answer (pixels of the stored image) is
rescaled to the size the configured processor resizes that image to.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from voltpeak.models.qwen import PROMPT, Geometry, QwenConfig, QwenVL, rescale_answer, write_saved
from voltpeak.rundir import METRICS, mark_last, newest_checkpoint, start_run, truncate_metrics
from voltpeak.train.validate import evaluate_model, preflight


def sft_rows(examples, processor, fixed_prompt: bool = True) -> list[dict]:
    """TRL prompt-completion rows (only the completion is supervised) with the answers for the resized images."""
    from PIL import Image

    rows, geometry = [], Geometry.of(processor)
    for ex in examples:
        with Image.open(ex.image) as im:
            width, height = im.size
        h, w = geometry.resized(height, width)
        rows.append({"prompt": [{"role": "user", "content": PROMPT if fixed_prompt else ex.prompt.strip()}],
                     "completion": [{"role": "assistant", "content": rescale_answer(ex.target, w / width, h / height)}],
                     "images": [ex.image]})
    return rows


def _dataset(rows: list[dict]):
    from datasets import Dataset, Image, Sequence

    # Images decode lazily from their paths, batch by batch.
    return Dataset.from_list(rows).cast_column("images", Sequence(Image()))


def _optimizer(model: QwenVL, config):
    """AdamW with a learning rate per part: vision_lr, connector_lr (the merger) and lr (the language model)."""
    rates = {"vision": config.vision_lr or config.lr, "merger": config.connector_lr or config.lr,
             "language": config.lr}
    groups = [{"params": [p for p in ps if p.requires_grad], "lr": rates[part]}
              for part, ps in model.parts().items()]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=config.lr, weight_decay=config.weight_decay)


def train_qwen(config, resume: bool = False, log=print) -> Path:
    """Fine-tune the Qwen-VL of ``config.model`` on ``config.dataset``; returns the run directory."""
    from transformers import PrinterCallback, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from voltpeak.train.data import training_data

    run = start_run(Path(config.out), config, resume)
    checkpoints = run / "checkpoints"
    if config.threads:
        torch.set_num_threads(config.threads)
    device = "cuda" if config.device == "auto" and torch.cuda.is_available() else (
        "cpu" if config.device == "auto" else config.device)
    qwen_config = QwenConfig.from_dict(config.model)
    torch.manual_seed(config.seed)
    model = QwenVL.build(qwen_config, device)
    preflight(model, log)
    examples, validation = training_data(config.dataset, config.train_limit, config.val_samples)
    started = time.perf_counter()

    class RunLog(TrainerCallback):
        """Writes the run directory's metrics.jsonl, validates, and makes each checkpoint a voltpeak model."""

        def __init__(self):
            self.pending = {}

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step % config.val_every == 0 or state.global_step == config.steps:
                scores = evaluate_model(model, validation, batch_size=8)  # as for every kind: voltpeak predict's
                self.pending = {f"val_{k}": v for k, v in scores.items()}
                log(f"step {state.global_step}: val F1 {self.pending['val_f1']:.3f}")

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "loss" not in logs:
                return
            row = {"step": state.global_step, "loss": float(logs["loss"]), "lr": float(logs.get("learning_rate", 0)),
                   "epoch": float(logs.get("epoch", 0)), "seconds": round(time.perf_counter() - started, 2),
                   **self.pending}
            self.pending = {}
            with open(run / METRICS, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")

        def on_save(self, args, state, control, **kwargs):
            folder = checkpoints / f"checkpoint-{state.global_step}"
            write_saved(folder, model.config, model.processor)
            mark_last(run, folder.name)

    bf16, fp16 = config.precision == "bf16", config.precision == "fp16"
    args = SFTConfig(
        output_dir=str(checkpoints), max_steps=config.steps, per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum, learning_rate=config.lr, warmup_steps=config.warmup_steps,
        lr_scheduler_type="cosine_with_min_lr", lr_scheduler_kwargs={"min_lr_rate": config.min_lr_ratio},
        weight_decay=config.weight_decay, max_grad_norm=config.grad_clip, logging_steps=1,
        save_steps=config.save_every, save_total_limit=config.keep_checkpoints, seed=config.seed, bf16=bf16,
        fp16=fp16, use_cpu=device == "cpu", report_to=[] if config.report_to == "none" else [config.report_to],
        max_length=None, dataloader_num_workers=0, disable_tqdm=True, save_only_model=False)
    trainer = SFTTrainer(model=model.model, args=args, train_dataset=_dataset(sft_rows(
        examples, model.processor, config.fixed_prompt)), processing_class=model.processor,
        optimizers=(_optimizer(model, config), None), callbacks=[RunLog()])
    trainer.remove_callback(PrinterCallback)  # stdout stays clean; metrics.jsonl is the log
    checkpoint = None
    if resume:
        checkpoint = str(newest_checkpoint(run))
        truncate_metrics(run, int(checkpoint.rsplit("-", 1)[1]))
    trainer.train(resume_from_checkpoint=checkpoint)
    if qwen_config.merge:  # a plain Qwen-VL folder for release and vLLM
        model.merge(run / "merged")
        log(f"merged model written to {run / 'merged'}")
    return run
