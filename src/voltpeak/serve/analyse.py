"""The analysis page of ``voltpeak serve`` (``/analyse``): drop a CV file or a plot image, see what voltpeak finds.

A CV file gets ``voltpeak detect``'s analysis (``voltpeak.detect.files.analyse_line``) with the corrections as
query parameters, the same table as ``detect --table`` (``voltpeak.detect.report.table_parts``), and its exports
(CSV, Excel, PNG/SVG plot, the JSON line); a figure gets ``voltpeak predict``'s line, its axes read by OCR or
given by hand (two points per axis). "Send to label" copies an uploaded CV into the label store's own folder, which
the label page lists after the ``--data`` folders.

Uploads live in an ``UploadArea`` (``voltpeak.serve.uploads``), per browser session. Detection, plots and
prediction run in FastAPI's thread pool (plain ``def`` routes), so the server answers other requests meanwhile.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Body, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from voltpeak.errors import InputError, VoltpeakError
from voltpeak.serve.payload import sweeps_payload
from voltpeak.serve.uploads import COOKIE, TOKEN, Refused, Upload, UploadArea, new_token

UPLOAD_PATH = "/api/analyse/upload"
GONE = "no such upload in this session (uploads are kept for an hour after their last use): drop the file again"
MAX_RU_OHM = 1e9  # Ω: beyond any cell; a larger value only overflows the corrected potentials
MAX_SIDE = 2400  # px: a larger figure is shrunk before its axes are read (peaks are fractions of the image)
X_UNITS = ("V", "mV")
Y_UNITS = ("A", "mA", "µA", "nA", "pA", "A/cm²", "mA/cm²", "µA/cm²", "A/m²")
EXPORTS = {"csv": ("text/csv", ".peaks.csv"), "xlsx": (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".peaks.xlsx"),
    "png": ("image/png", ".png"), "svg": ("image/svg+xml", ".svg"), "jsonl": ("application/jsonl", ".jsonl")}
_PREDICT = threading.Lock()  # one prediction at a time: the OCR engine and a model's buffers are not shared safely
_SEND = threading.Lock()


@lru_cache(maxsize=16)
def _analysed(path: str, mtime: float, cycle: int | None, convention: str, analysis):
    """``analyse_line`` of an uploaded file, kept for the downloads that follow a view (``mtime`` keys a changed
    file). Never raises: a file that cannot be analysed gives its error line and None."""
    from voltpeak.detect.files import analyse_line

    return analyse_line(path, cycle, convention, analysis)


@lru_cache(maxsize=4)
def _model(directory: str):
    from voltpeak.models import load_model

    return load_model(directory)


def _scrub(obj, names: dict[str, str]):
    """``obj`` (JSON-able) with every server path in ``names`` replaced by the name the user knows: no reply says
    where the server keeps a file."""
    text = json.dumps(obj)
    for path, name in names.items():
        text = text.replace(json.dumps(path)[1:-1], json.dumps(name)[1:-1])
    return json.loads(text)


def _number(text: str | None, what: str, low: float = -math.inf, high: float = math.inf, strict: bool = False):
    """A form field's number, None when empty; a 422 saying what is wrong otherwise."""
    if text is None or str(text).strip() == "":
        return None
    try:
        x = float(str(text).replace(",", "."))
    except ValueError:
        raise HTTPException(422, f"{what}: {str(text)[:40]!r} is not a number") from None
    if not math.isfinite(x) or x < low or x > high or (strict and x == low):
        bounds = f"over {low:g}" if strict and high == math.inf else f"from {low:g}" if high == math.inf else \
            f"from {low:g} to {high:g}"
        raise HTTPException(422, f"{what}: {x:g} is out of range ({bounds})")
    return x


# The command line's option names in detect's messages, as the page's fields name them (longest first).
FIELDS = (("--from-reference", "the file's reference"), ("--reference", "potentials vs"), ("--ph", "pH"),
          ("--fc", "Fc/Fc+ E1/2"), ("--ru", "R_u"), ("--area", "area / cm²"), ("--blank", "blank"))


def _page_words(message: str) -> str:
    """A detect message for the page: its fields where the command line's options are named."""
    for option, field in FIELDS:
        message = message.replace(option, f"'{field}'")
    return message


def _finite(reply: dict, what: str) -> dict:
    """``reply`` where every number is finite; a 422 naming ``what`` otherwise (JSON has no infinity)."""
    try:
        json.dumps(reply, allow_nan=False)
    except ValueError:
        raise HTTPException(422, f"{what} give numbers out of range (infinite)") from None
    return reply


def _disposition(filename: str) -> str:
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def add_routes(app, config, area: UploadArea, static: Path) -> None:
    """The analysis page, its API under ``/api/analyse`` and the session cookie, on ``app`` (a ``ServeConfig``'s)."""
    from voltpeak.detect.corrections import SCALES

    @app.middleware("http")
    async def session(request: Request, call_next):
        # One random token per browser session, in a cookie scripts cannot read and other sites cannot send.
        token = request.cookies.get(COOKIE, "")
        fresh = not TOKEN.fullmatch(token)
        request.state.token = new_token() if fresh else token
        response = await call_next(request)
        if fresh and request.url.path.startswith(("/analyse", "/api/analyse")):
            response.set_cookie(COOKIE, request.state.token, httponly=True, samesite="strict", path="/",
                                secure=request.url.scheme == "https")
        return response

    def upload_of(request: Request, upload_id: str, want: str | None = None) -> Upload:
        """This session's upload ``upload_id`` (of the kind ``want``: "cv" or "image"), else a 404."""
        try:
            upload = area.get(request.state.token, upload_id)
        except Refused as e:
            raise HTTPException(e.status, str(e)) from None
        if upload is None or want not in (None, upload.kind):
            raise HTTPException(404, GONE)
        return upload

    @app.get("/analyse")
    def page():
        return FileResponse(static / "analyse.html")

    @app.get("/api/analyse/uploads")
    def api_uploads(request: Request):
        area.sweep()
        return {"uploads": [u.record() for u in area.uploads(request.state.token)], "max_bytes": area.max_file_bytes,
                "references": SCALES, "x_units": X_UNITS, "y_units": Y_UNITS}

    @app.post(UPLOAD_PATH)
    async def api_upload(request: Request):
        try:
            upload = await area.receive(request.state.token, request)
        except Refused as e:
            return JSONResponse({"detail": str(e)}, status_code=e.status)
        return upload.record()

    @app.delete("/api/analyse/uploads/{upload_id}")
    def api_remove(request: Request, upload_id: str):
        if not area.remove(request.state.token, upload_id):
            raise HTTPException(404, GONE)
        return {"removed": upload_id}

    # A CV file ---------------------------------------------------------------------------------------------------

    def analysed(request: Request, upload: Upload) -> tuple[dict, object]:
        """The detect line (server paths replaced by the uploads' names) and the corrected voltammogram, for the
        corrections in the request's query; a 422 with the reason where they or the file do not allow it."""
        from voltpeak.detect import Analysis
        from voltpeak.detect.corrections import reference_name

        q = request.query_params
        cycle = _number(q.get("cycle"), "cycle", 1)
        if cycle is not None and cycle != int(cycle):
            raise HTTPException(422, f"cycle: {cycle:g} is not a whole number")
        convention = q.get("convention") or "auto"
        if convention not in ("auto", "iupac", "us"):
            raise HTTPException(422, "convention: auto, iupac or us")
        names = {str(upload.path): upload.name}
        blank = None
        if q.get("blank"):
            blank_upload = upload_of(request, q["blank"], "cv")
            blank, names[str(blank_upload.path)] = str(blank_upload.path), blank_upload.name
        try:
            reference, source = (reference_name(q[k]) if q.get(k) else None for k in ("reference", "from_reference"))
        except InputError as e:
            raise HTTPException(422, _page_words(str(e))) from None
        fc = _number(q.get("fc"), "Fc/Fc+ E1/2 (V)", -5, 5)
        if reference == "Fc/Fc+" and fc is None:
            raise HTTPException(422, "the Fc/Fc+ scale needs the E1/2 of ferrocene measured against the file's "
                                     "reference (V)")
        ph, ru = _number(q.get("ph"), "pH", -2, 16), _number(q.get("ru"), "R_u (ohm)", 0, MAX_RU_OHM) or 0.0
        analysis = Analysis(reference, source, ph, fc, blank, ru, _number(q.get("area"), "area (cm²)", 0, strict=True))
        line, v = _analysed(str(upload.path), upload.path.stat().st_mtime, None if cycle is None else int(cycle),
                            convention, analysis)
        line = _scrub(line, names)
        if v is None:
            raise HTTPException(422, _page_words(line["error"]))
        return line, v

    @app.get("/api/analyse/{upload_id}/cv")
    def api_cv(request: Request, upload_id: str):
        from voltpeak.detect.report import table_parts

        t0 = time.perf_counter()
        upload = upload_of(request, upload_id, "cv")
        line, v = analysed(request, upload)
        head, header, rows, notes = table_parts(line)
        return _finite({"upload": upload.record(), "line": line, "cv": sweeps_payload(v),
                        "table": {"head": head, "header": header, "rows": rows, "notes": notes},
                        "ms": round((time.perf_counter() - t0) * 1000, 1)}, "these corrections")

    @app.get("/api/analyse/{upload_id}/export/{fmt}")
    def api_export(request: Request, upload_id: str, fmt: str):
        from voltpeak.detect.plots import plot_cv
        from voltpeak.detect.report import write_csv, write_excel

        if fmt not in EXPORTS:
            raise HTTPException(404, f"no export {fmt!r}: {', '.join(EXPORTS)}")
        upload = upload_of(request, upload_id, "cv")
        line, v = analysed(request, upload)
        media, suffix = EXPORTS[fmt]
        with tempfile.TemporaryDirectory(dir=upload.folder) as tmp:  # inside the upload area, gone at once
            tmp = Path(tmp)
            if fmt == "csv":
                data = write_csv([line], tmp / "x.csv").read_bytes()
            elif fmt == "xlsx":
                data = write_excel([line], tmp / "x.xlsx").read_bytes()
            elif fmt in ("png", "svg"):
                try:
                    plot_cv(v, line, tmp, "plot")
                except Exception as e:  # a picture that cannot be drawn is said, as detect --plot says it
                    raise HTTPException(422, f"{upload.name}: no plot ({type(e).__name__}: {e})".splitlines()[0]) \
                        from None
                data = (tmp / f"plot.{fmt}").read_bytes()
            else:
                data = (json.dumps(line) + "\n").encode()
        stem = re.sub(r"(\.dta)?\.\w+$", "", upload.name, flags=re.IGNORECASE)  # x.DTA.txt → x
        return Response(data, media_type=media, headers={"Content-Disposition": _disposition(stem + suffix)})

    def inbox_files(upload: Upload) -> list[str]:
        return [upload.main] + [f for f in upload.files if f != upload.main]

    @app.post("/api/analyse/{upload_id}/label")
    def api_send(request: Request, upload_id: str):
        """Copy the uploaded CV (with its data package's .json) into the label store's folder, under a name no
        file there has; once per upload."""
        upload = upload_of(request, upload_id, "cv")
        index = len(config.data)  # the inbox is listed after the --data folders: their ids do not move
        with _SEND:
            if upload.sent and (config.inbox / upload.sent.partition("/")[2]).is_file():
                return {"file": upload.sent}
            config.inbox.mkdir(parents=True, exist_ok=True)
            files = inbox_files(upload)
            main_stem, _ = os.path.splitext(upload.main)
            taken = {p.name.lower().split(".")[0] for p in config.inbox.iterdir()}
            # A stem no file there has: a CSV beside another's .json would be read as that package, an .mpt
            # beside another's .mpr not listed.
            tag = next(t for t in ("", *(f"-{n}" for n in range(2, 100_000)))
                       if (main_stem.split(".")[0] + t).lower() not in taken)
            targets = [config.inbox / (main_stem.split(".")[0] + tag + f[len(main_stem.split(".")[0]):])
                       for f in files]
            for source, target in zip(files, targets):
                with open(upload.folder / "files" / source, "rb") as src, open(target, "xb") as dst:
                    shutil.copyfileobj(src, dst)
            upload.sent = f"{index}/{targets[0].name}"
            area.save(upload)
        return {"file": upload.sent}

    # A figure ----------------------------------------------------------------------------------------------------

    def model_choices() -> dict[str, str]:
        """Models a figure may be read with, by the name the page shows: the shipped ones (``default`` first) and
        the newest checkpoint of each run under ``--runs``. Only these: a client never names a folder."""
        from voltpeak.models import SHIPPED, model_dir
        from voltpeak.serve.runs import run_dirs

        out = {}
        names = (["default"] if (SHIPPED / "default").is_file() else []) + sorted(
            d.name for d in SHIPPED.iterdir() if d.is_dir() and not d.name.startswith((".", "_")))
        candidates = [(n, n) for n in names] + [(f"run:{n}", str(p)) for n, p in run_dirs(config.runs).items()]
        for name, where in candidates:
            try:
                out[name] = str(model_dir(where))
            except (InputError, OSError):
                continue  # a run without a saved model yet
        return out

    @app.get("/api/analyse/models")
    def api_models():
        choices = model_choices()
        default = choices.get("default")
        return {"models": [{"name": n, "label": n if n != "default" else
                            f"default ({next((m for m, p in choices.items() if p == default and m != n), n)})"}
                           for n in choices]}

    @app.get("/api/analyse/{upload_id}/image")
    def api_image(request: Request, upload_id: str):
        upload = upload_of(request, upload_id, "image")
        with open(upload.path, "rb") as f:
            png = f.read(8) == b"\x89PNG\r\n\x1a\n"
        return FileResponse(upload.path, media_type="image/png" if png else "image/jpeg")

    @app.post("/api/analyse/{upload_id}/figure")
    def api_figure(request: Request, upload_id: str, body: Annotated[dict, Body()]):
        """The figure's peaks as ``voltpeak predict`` gives them, with the model named in ``body["model"]``, the
        axes read off the image or, with ``body["axes"]``, given by hand: ``{"x": [[fraction, value], [fraction,
        value]], "x_unit": "V", "y": [...], "y_unit": "µA"}`` (fractions of the image's width, or height from the
        top)."""
        t0 = time.perf_counter()
        upload = upload_of(request, upload_id, "image")
        choices = model_choices()
        name = str(body.get("model") or "default")
        if name not in choices:
            raise HTTPException(422, f"model {name[:60]!r}: choose one of {', '.join(choices) or 'none (none found)'}")
        image = _open_figure(upload)
        given = _given_axes(body.get("axes")) if body.get("axes") is not None else None
        try:
            from voltpeak.predict import predict

            with _PREDICT:
                model = _model(choices[name])
                axes = "auto" if given is None else (lambda im: _hand_axes(im, given))
                line = next(predict(model, [(upload.name, image)], axes=axes))
        except ImportError as e:
            raise HTTPException(501, f"reading figures needs voltpeak's ml and ocr extras (pip install "
                                     f"'voltpeak[ml,ocr]'): {e.name} is missing") from None
        except VoltpeakError as e:  # a missing program (Tesseract), a model that cannot be loaded
            raise HTTPException(501, str(e).splitlines()[0]) from None
        warnings = [w for w in (line.get("warning") or "").split("; ") if w]
        if line.get("error"):
            warnings.insert(0, f"the model's answer could not be read: {line['error']}")
        return _finite({"upload": upload.record(), "model": name, "width": image.width, "height": image.height,
                        "peaks": line.get("peaks", []), "axes": line.get("axes"), "couples": line.get("couples", []),
                        "convention": line.get("convention"), "hand": given is not None, "warnings": warnings,
                        "ms": round((time.perf_counter() - t0) * 1000, 1)}, "the axes' values")


def _open_figure(upload: Upload):
    """The uploaded figure as RGB, its longer side at most ``MAX_SIDE`` px; a 422 where it does not decode."""
    from PIL import Image

    try:
        with Image.open(upload.path) as im:
            image = im.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        raise HTTPException(422, f"{upload.name}: the image does not decode") from None
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


def _given_axes(given) -> dict:
    """Hand-set axes checked: two points per axis (a fraction of the image in [0, 1] and a finite value, the two
    apart in both), and a unit of the lists the page offers."""
    if not isinstance(given, dict):
        raise HTTPException(422, "axes: two points per axis and their units")
    out = {}
    for axis, units in (("x", X_UNITS), ("y", Y_UNITS)):
        points = given.get(axis)
        unit = given.get(f"{axis}_unit")
        if unit not in units:
            raise HTTPException(422, f"{axis} axis: the unit is one of {', '.join(units)}")
        try:
            (f1, v1), (f2, v2) = ((float(f), float(v)) for f, v in points)
        except (TypeError, ValueError):
            raise HTTPException(422, f"{axis} axis: click two points and give both their values") from None
        if not all(math.isfinite(x) for x in (f1, v1, f2, v2)) or not (0 <= f1 <= 1 and 0 <= f2 <= 1):
            raise HTTPException(422, f"{axis} axis: the points lie on the image and their values are numbers")
        if abs(f1 - f2) < 0.01 or v1 == v2:
            raise HTTPException(422, f"{axis} axis: two points apart, with two different values")
        out[axis], out[f"{axis}_unit"] = ((f1, v1), (f2, v2)), unit
    return out


def _hand_axes(image, given: dict):
    """An ``AxesReading`` from two points per axis: the line through them taken out to the plot's frame (found in
    the image, else its edges), where ``manual_axes`` wants the values."""
    import numpy as np

    from voltpeak.axes import manual_axes
    from voltpeak.axes.frame import Box, find_frame

    rgb = np.asarray(image)
    height, width = rgb.shape[:2]
    frame = find_frame(rgb) or Box(0, 0, width, height)

    def at(points, size: int, a: float, b: float) -> tuple[float, float]:
        (f1, v1), (f2, v2) = points
        slope = (v2 - v1) / ((f2 - f1) * size)
        return v1 + slope * (a - f1 * size), v1 + slope * (b - f1 * size)

    x = (*at(given["x"], width, frame.x0, frame.x1), given["x_unit"])
    y = (*at(given["y"], height, frame.y1, frame.y0), given["y_unit"].replace("/cm²", " cm-2").replace("/m²", " m-2"))
    return manual_axes(width, height, frame, x, y)
