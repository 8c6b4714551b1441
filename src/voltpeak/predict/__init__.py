"""``voltpeak predict``: peaks from plot images with a trained model, one contract line per image.

    voltpeak predict --model runs/x/checkpoints/last/model plot1.png plot2.png -o pred.jsonl
    voltpeak predict --model default ds/test.jsonl     # every image of a built split

Shipped models live in ``voltpeak/models/shipped/<name>`` and are chosen by name (``--model heatmap``,
``--model mllm-small``); ``--model default`` is the one named in ``shipped/default`` (the best on the validation
holdout). ``--model`` also takes a saved model folder or a run directory (its newest checkpoint), Qwen-VL fine-tunes
included (a folder with ``voltpeak.json``: an adapter checkpoint or a merged model; ``--backend vllm`` or ``swift``
generate them elsewhere with the same output). An answer that cannot be read gives ``"error"`` and no peaks, never a
crash.

Each image's axes are read (``voltpeak.axes``) unless ``axes="off"``: every peak then also carries ``potential``
(V) and ``current`` (A, or A/m² with ``"quantity": "j"``) as the plot prints them, the line carries ``axes`` (what
was read), ``couples`` (E1/2 and ΔEp of peaks of one curve, paired as ``detect`` pairs them) and ``convention``;
the plot's direction read off its tick labels replaces the model's own guess. What could not be read is absent
and ``warning`` says why.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from voltpeak.axes import MAX_POTENTIAL_V
from voltpeak.errors import InputError
from voltpeak.models.inputs import open_images


def image_inputs(inputs: list[str]) -> list[tuple[str, Path]]:
    """(source as given, image path) for image files and for the images of built split JSONL files."""
    out = []
    for item in inputs:
        p = Path(item)
        if p.suffix == ".jsonl" and p.is_file():
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    image = json.loads(line)["images"][0]
                except (ValueError, KeyError, IndexError, TypeError):
                    raise InputError(f"{item}:{n}: not a line of a built split (a JSON object with \"images\"); "
                                     "predict takes images or the train/val/test .jsonl of voltpeak build") from None
                out.append((image, p.parent / image))
        else:
            out.append((item, p))
    return out


def predict(model, items: list[tuple[str, Path]], batch_size: int = 16, progress=lambda x: x, axes="auto",
            refine: bool = True):
    """Yield one output line per (source, image path).

    ``axes``: "auto" reads each plot's axes, "off" gives image positions only, and a function of an image
    returning an ``AxesReading`` (``voltpeak.axes.manual_axes``) gives them by hand. ``refine``: the model's peaks
    checked against the curves drawn, one per curve (``voltpeak.predict.curves``)."""
    from voltpeak.models.mllm import letterbox

    if getattr(model, "kind", None) == "qwen":
        from voltpeak.models.qwen import predict_lines

        yield from with_axes(predict_lines(model, items, batch_size, progress), items, axes, refine)
        return
    device = next(model.parameters()).device
    ahead = _AxesAhead(items) if axes == "auto" and len(items) > batch_size else None
    try:
        for a in progress(range(0, len(items), batch_size)):
            chunk = items[a:a + batch_size]
            images, good, lines = open_images(chunk)
            readings = ([ahead.reading(a + k, im) for k, im in zip(good, images)] if ahead else
                        [axes_of(im, axes) for im in images])
            known = [None if r is None else r.up_is_cathodic for r in readings]
            pixels, boxes = [], []
            for k, im in zip(good, images):
                tensor, box = letterbox(im, model.config.image_size)
                pixels.append(tensor)
                boxes.append((k, box))
            if pixels:
                found = model.predict_batch(torch.stack(pixels).to(device), [box for _, box in boxes], known)
                for (k, _), line in zip(boxes, found):
                    lines[k] = {"source": chunk[k][0], **line}
            for k, image, reading in zip(good, images, readings):
                finish(lines[k], image, reading, refine)
            for k in range(len(chunk)):
                yield lines[k]
    finally:  # also when the caller stops early: no worker left behind
        if ahead:
            ahead.close()


class _AxesAhead:
    """Axes of many images read by two worker processes (``voltpeak.axes.worker``) ahead of the model, which
    waits only for its own batch: OCR is most of predict's time on a CPU, and the model and the workers share the
    cores. Item k goes to worker k mod 2; each answers in order."""

    WORKERS = 2

    def __init__(self, items: list[tuple[str, Path]]):
        import subprocess
        import sys
        import threading

        self._procs = [subprocess.Popen([sys.executable, "-m", "voltpeak.axes.worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE) for _ in range(self.WORKERS)]
        self._done: dict[int, object] = {}
        self._next = [w for w in range(self.WORKERS)]  # the next item each worker will answer
        paths = [str(path) for _, path in items]
        for w, proc in enumerate(self._procs):  # fed from threads: a full pipe must not stall the model
            threading.Thread(target=self._feed, args=(proc, paths[w::self.WORKERS]), daemon=True).start()

    @staticmethod
    def _feed(proc, paths: list[str]) -> None:
        try:
            for path in paths:
                proc.stdin.write((json.dumps(path) + "\n").encode())
            proc.stdin.close()
        except (BrokenPipeError, ValueError):  # the worker ended early; its items are read in process instead
            pass

    def reading(self, k: int, image):
        """The ``AxesReading`` of item k (``image``: its opened image, read in process if its worker failed)."""
        import pickle

        w = k % self.WORKERS
        while k not in self._done and self._next[w] <= k:
            try:
                status, value = pickle.load(self._procs[w].stdout)
            except (EOFError, pickle.UnpicklingError):
                break
            if status == "error":
                raise value
            self._done[self._next[w]] = value
            self._next[w] += self.WORKERS
        return self._done.pop(k) if k in self._done else axes_of(image, "auto")

    def close(self):
        for proc in self._procs:
            proc.kill()
            proc.wait()


def axes_of(image, axes):
    """The ``AxesReading`` of an image for ``predict``'s ``axes`` option (None when "off")."""
    if axes == "off":
        return None
    if axes == "auto":
        from voltpeak.axes import read_axes

        return read_axes(image)
    return axes(image)


def with_axes(lines, items: list[tuple[str, Path]], axes, refine: bool = True):
    """Output lines of another backend (Qwen-VL, vLLM, ms-swift) with the axes read and the peaks checked per
    curve after the fact."""
    paths = dict(items)
    for line in lines:
        if not line.get("error"):
            images, _, failed = open_images([(line["source"], paths.get(line["source"], Path(line["source"])))])
            if images:
                finish(line, images[0], axes_of(images[0], axes), refine)
        yield line


def finish(line: dict, image, reading, refine: bool = True) -> None:
    """An output line completed on its image: the same peak given twice kept once, the peaks checked per curve
    (``refine``), and the axis reading put in (``reading``: None when the axes are off)."""
    from voltpeak.predict.curves import distinct, refine_line

    if line.get("error"):
        return
    line["peaks"] = distinct(line["peaks"])
    if refine:
        refine_line(line, image, reading)
    if reading is not None:
        add_axes(line, reading, image)


def add_axes(line: dict, reading, image) -> None:
    """Put the axis reading into an output line: each peak's potential and current, the couples, the plot's
    convention, and a warning for what could not be read."""
    from voltpeak.peak import Peak

    quantity = reading.quantity
    peaks = []
    beyond = 0
    for rec in line["peaks"]:
        potential, current = reading.potential_V(rec["x"]), reading.current(rec["y"])
        if potential is not None and abs(potential) > MAX_POTENTIAL_V:
            potential, current = None, None  # a misread axis: no electrode sits there
            beyond += 1
        if potential is not None:
            rec["potential"] = round(potential, 6)
        if current is not None:
            rec["current"] = float(f"{current:.6g}")
            if quantity == "j":
                rec["quantity"] = "j"
        peaks.append(Peak(rec["direction"], potential, current, quantity=quantity, x=rec["x"], y=rec["y"]))
    line["axes"] = reading.to_record()
    if reading.reversed is not None:
        line["convention"] = "us" if reading.reversed else "iupac"
    line["couples"] = image_couples(peaks, image)
    warnings = reading.warnings
    if beyond:
        warnings = warnings + [f"{beyond} peak(s) would lie beyond ±{MAX_POTENTIAL_V:g} V: the potential axis is "
                               "misread there; not given"]
    if line["peaks"] and reading.x.map is None:
        warnings = warnings + ["peaks have no potential: the potential axis could not be read"]
    if warnings:
        line["warning"] = "; ".join(warnings)


def image_couples(peaks, image) -> list[dict]:
    """Couples among peaks read off a plot: pairs of one curve (the same line colour under the peak) as
    ``detect`` pairs them, with E1/2 and ΔEp; ``ipa``/``ipc`` are null (no baseline can be drawn from a picture)."""
    import numpy as np

    from voltpeak.detect.couples import pair

    rgb = np.asarray(image)
    placed = [p for p in peaks if p.potential is not None]
    colours = [_line_colour(rgb, p.x, p.y) for p in placed]
    groups: list[list[int]] = []
    for i, c in enumerate(colours):
        for g in groups:
            if c is not None and colours[g[0]] is not None and np.abs(c - colours[g[0]]).max() < 60:
                g.append(i)
                break
        else:
            groups.append([i])
    out = []
    for g in groups:
        an = [placed[i] for i in g if placed[i].direction == "anodic"]
        ca = [placed[i] for i in g if placed[i].direction == "cathodic"]
        for r, k in pair(an, ca):
            a, c = an[r], ca[k]
            out.append({"anodic": peaks.index(a), "cathodic": peaks.index(c),
                        "E_half": round((a.potential + c.potential) / 2, 6),
                        "delta_Ep": round(a.potential - c.potential, 6),
                        "ipa": None, "ipc": None, "ipa_ipc": None, "reverse_baseline": None})
    return sorted(out, key=lambda c: c["E_half"])


def _line_colour(rgb, x: float, y: float, radius: int = 4):
    """The colour of the line through an image point (x, y fractions): the most saturated or darkest pixels
    within ``radius`` px; None on blank paper."""
    import numpy as np

    h, w = rgb.shape[:2]
    cx, cy = int(x * w), int(y * h)
    patch = rgb[max(0, cy - radius):cy + radius + 1, max(0, cx - radius):cx + radius + 1].reshape(-1, 3).astype(int)
    if len(patch) == 0:
        return None
    strength = patch.max(axis=1) - patch.min(axis=1) + (255 - patch.mean(axis=1))  # colour or darkness
    if strength.max() < 80:
        return None
    return np.median(patch[strength >= strength.max() - 40], axis=0)
