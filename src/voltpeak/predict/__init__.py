"""``voltpeak predict``: peaks from plot images with a trained model, one contract line per image.

    voltpeak predict --model runs/x/checkpoints/last/model plot1.png plot2.png -o pred.jsonl
    voltpeak predict --model default ds/test.jsonl     # every image of a built split

Shipped models live in ``voltpeak/models/shipped/<name>`` and are chosen by name (``--model heatmap``,
``--model mllm-small``); ``--model default`` is the one named in ``shipped/default`` (the best on the validation
holdout). ``--model`` also takes a saved model folder or a run directory (its newest checkpoint), Qwen-VL fine-tunes
included (a folder with ``voltpeak.json``: an adapter checkpoint or a merged model; ``--backend vllm`` or ``swift``
generate them elsewhere with the same output: ``voltpeak.predict.vllm``, ``voltpeak.predict.swift``). An answer
that cannot be read gives ``"error"`` and no peaks, never a crash.

Each image's axes are read (``voltpeak.axes``) unless ``axes="off"``: every peak then also carries ``potential``
(V) and ``current`` (A, or A/m² with ``"quantity": "j"``) as the plot prints them, the line carries ``axes`` (what
was read), ``couples`` (E1/2 and ΔEp of peaks of one curve, paired as ``detect`` pairs them) and ``convention``;
the plot's direction read off its tick labels replaces the model's own guess. What could not be read is absent
and ``warning`` says why.

The jobs, one module each: ``inputs`` (what is asked about), ``axes_pool`` (axes read in process or by workers ahead
of the model), ``curves`` (the peaks checked per curve drawn), ``readout`` (volts and amperes, couples by colour);
this module runs the batches through any model kind's ``predict_batch``.
"""

from __future__ import annotations

from pathlib import Path

from voltpeak.models.inputs import open_images
from voltpeak.predict.axes_pool import AxesAhead, axes_of
from voltpeak.predict.inputs import image_inputs
from voltpeak.predict.readout import add_axes, image_couples

__all__ = ["predict", "image_inputs", "with_axes", "finish", "add_axes", "image_couples", "axes_of"]


def predict(model, items: list[tuple[str, object]], batch_size: int = 16, progress=lambda x: x, axes="auto",
            refine: bool = True):
    """Yield one output line per (source, image path or PIL image), with any model kind (its ``predict_batch``).

    ``axes``: "auto" reads each plot's axes, "off" gives image positions only, and a function of an image
    returning an ``AxesReading`` (``voltpeak.axes.manual_axes``) gives them by hand. ``refine``: the model's peaks
    checked against the curves drawn, one per curve (``voltpeak.predict.curves``)."""
    on_disk = all(isinstance(image, (str, Path)) for _, image in items)
    ahead = AxesAhead(items) if axes == "auto" and on_disk and len(items) > batch_size else None
    try:
        for a in progress(range(0, len(items), batch_size)):
            chunk = items[a:a + batch_size]
            images, good, lines = open_images(chunk)
            readings = ([ahead.reading(a + k, im) for k, im in zip(good, images)] if ahead else
                        [axes_of(im, axes) for im in images])
            known = [None if r is None else r.up_is_cathodic for r in readings]
            if images:
                for k, line in zip(good, model.predict_batch(images, known)):
                    lines[k] = {"source": chunk[k][0], **line}
            for k, image, reading in zip(good, images, readings):
                finish(lines[k], image, reading, refine)
            for k in range(len(chunk)):
                yield lines[k]
    finally:  # also when the caller stops early: no worker left behind
        if ahead:
            ahead.close()


def with_axes(lines, items: list[tuple[str, Path]], axes, refine: bool = True):
    """Output lines of another backend (vLLM, ms-swift) with the axes read and the peaks checked per curve after
    the fact."""
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
