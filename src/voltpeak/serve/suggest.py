"""Label suggestions for a raw CV from the classical detector, or from a trained image model: the CV is drawn as a
plain plot (IUPAC axes, known frame), the model finds the peaks in the image, and each is mapped back to the data
(pixel → potential and current through the frame) and placed on the nearest sample of a sweep of its direction."""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np

STYLE_SEED = 3  # one fixed clean style for every CV drawn for a model


def detector_suggestions(v) -> list[dict]:
    """The classical detector's peaks (sweep and sample of each)."""
    from voltpeak.detect import detect

    sweeps = v.sweeps()
    out = []
    for p in detect(v):
        sweep = next(k for k, (a, b, _) in enumerate(sweeps) if a <= p.index < b)
        out.append(label_record(v, sweep, int(p.index - sweeps[sweep][0]), "detector"))
    return out


def label_record(v, sweep: int, idx: int, origin: str | None = None) -> dict:
    """A label at sample ``idx`` of ``sweep``: its cycle, potential (V), current and the sweep's direction."""
    a, _, direction = v.sweeps()[sweep]
    out = {"sweep": sweep, "idx": idx, "cycle": int(v.cycle_numbers()[a + idx]),
           "potential": float(v.potential_V[a + idx]), "current": float(v.current[a + idx]),
           "direction": "anodic" if direction > 0 else "cathodic"}
    return {**out, "origin": origin} if origin else out


@lru_cache(maxsize=2)
def _model(name: str):
    from voltpeak.models import load_model, model_dir

    return load_model(model_dir(name))


def draw(v):
    """(Rendered plot, its Frame, the current's unit and factor drawn, the sign that made the plot IUPAC) of a CV."""
    from voltpeak.detect.peaks import current_sign
    from voltpeak.render.draw import Curve, Frame, engineering_unit, render
    from voltpeak.render.style import sample_style

    sign = current_sign(v)
    unit, factor = engineering_unit(float(np.abs(v.current).max()) or 1.0, v.quantity)
    style = sample_style(np.random.default_rng(STYLE_SEED), "publication")
    style.us_convention, style.title, style.legend = False, "", ""
    curves = [Curve(v.potential_V, v.current * sign * factor)]
    rendered = render(curves, np.zeros((0, 2)), style, "E / V", f"{'I' if v.quantity == 'I' else 'j'} / {unit}")
    return rendered, Frame.of(curves, style), unit, factor, sign


def model_suggestions(v, name: str) -> list[dict]:
    """Peaks a trained image model (a shipped name or a model folder) finds in a plot of the CV."""
    from PIL import Image

    from voltpeak.axes import manual_axes
    from voltpeak.axes.frame import Box
    from voltpeak.predict import predict

    rendered, frame, unit, factor, sign = draw(v)
    image = Image.open(io.BytesIO(rendered.png))
    # The axes are the ones just drawn: handed over, not read back by OCR.
    box = Box(round(frame.x0), round(frame.y0), round(frame.x1), round(frame.y1))
    reading = manual_axes(rendered.width, rendered.height, box, (frame.xlo, frame.xhi, "V"),
                          (frame.ylo, frame.yhi, unit))
    line = next(predict(_model(name), [("cv.png", image)], axes=lambda _: reading))
    sweeps = v.sweeps()
    # Every sample in pixels, to find the one under each predicted point.
    px, py = frame.to_px(v.potential_V, v.current * sign * factor)
    out, taken = [], set()
    for p in line["peaks"]:
        x, y = p["x"] * rendered.width, p["y"] * rendered.height
        want = 1 if p["direction"] == "anodic" else -1
        best = None
        for k, (a, b, d) in enumerate(sweeps):
            if d != want:
                continue
            dist = (px[a:b] - x) ** 2 + (py[a:b] - y) ** 2
            i = int(np.argmin(dist))
            if best is None or dist[i] < best[2]:
                best = (k, i, dist[i])
        if best is not None and best[2] <= 15.0 ** 2 and (best[0], best[1]) not in taken:
            taken.add((best[0], best[1]))
            out.append(label_record(v, best[0], best[1], "model"))
    return out
