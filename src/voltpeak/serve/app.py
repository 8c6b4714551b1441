"""``voltpeak serve``: one web app to analyse a dropped CV file or figure, label raw CVs, review evaluations and
compare training runs.

    voltpeak serve --data cvs/ [--runs runs/] [--truth T.jsonl --pred P.jsonl] [--db labels.sqlite]

Pages: ``/analyse`` (``voltpeak.serve.analyse``), ``/label``, ``/review``, ``/runs``; a JSON API under ``/api``. The
server reads files only under the folders it was given (files are named by ``<folder index>/<relative path>`` and
resolved inside that folder) and writes uploads only into its upload area (``voltpeak.serve.uploads``), answers
JSON that the pages insert as text (never as HTML), refuses request bodies over ``MAX_BODY`` bytes (uploads: over
their own limit, as they stream in), and binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import json
import socket
import tempfile
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import numpy as np
from fastapi import Body, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from voltpeak.errors import InputError, VoltpeakError
from voltpeak.read import CV_SUFFIXES
from voltpeak.rundir import read_metrics
from voltpeak.serve.analyse import UPLOAD_PATH, add_routes
from voltpeak.serve.paths import inside
from voltpeak.serve.payload import sweeps_payload
from voltpeak.serve.review import Review
from voltpeak.serve.runs import find_runs, run_dirs
from voltpeak.serve.store import LabelStore
from voltpeak.serve.suggest import label_record
from voltpeak.serve.uploads import UploadArea

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 64 * 1024  # bytes: a label edit is a few hundred
# The files listed: what the readers take, a data package by its CSV (read with its .json).
LISTED_SUFFIXES = tuple(s for s in CV_SUFFIXES if s != ".json")
SNAP_FRACTION = 0.03  # a click snaps to the extremum within this fraction of its sweep's samples on either side


@dataclass
class ServeConfig:
    data: list[Path] = field(default_factory=list)  # folders of raw CV files to label
    runs: list[Path] = field(default_factory=list)  # folders holding training run directories
    truth: Path | None = None  # an evaluation to review: truth and predictions JSONL
    pred: Path | None = None
    images: Path | None = None  # where the review's image sources live (default: the truth file's folder)
    space: str = "image"
    db: Path = Path("labels.sqlite")
    suggest: str = "detector"  # label proposals: the classical detector, or a model (shipped name or folder)
    uploads: Path | None = None  # the analysis page's upload area (default: a new temporary folder, removed at exit)
    upload_lifetime_s: float = 3600.0  # an upload unused this long is deleted

    @property
    def inbox(self) -> Path:
        """The label store's own folder: CVs sent to label from the analysis page (beside the store's file)."""
        return self.db.parent / f"{self.db.stem}-uploads"

    def label_roots(self) -> list[Path]:
        """The folders the label page lists: the ``--data`` folders, then the inbox once it exists (last, so the
        data folders' file ids never move)."""
        return [*self.data, self.inbox] if self.inbox.is_dir() else list(self.data)


def list_cv_files(roots: list[Path]) -> list[tuple[str, Path]]:
    """(id, path) of every file the readers may take under the data folders, sorted; id = ``i/relative path``.
    Left out: hidden files, symlinks that lead out of their folder (the app refuses to open those), and the ``.mpt``
    text export of a recording whose ``.mpr`` lies beside it (one recording, listed once)."""
    out = []
    for i, root in enumerate(roots):
        for path in sorted(root.rglob("*")):
            name = path.name.lower()
            relative = path.relative_to(root).as_posix()
            if not path.is_file() or not name.endswith(LISTED_SUFFIXES) or any(
                    part.startswith(".") for part in path.relative_to(root).parts) or inside(root, relative) is None:
                continue
            if name.endswith(".mpt") and any(path.with_suffix(s).is_file() for s in (".mpr", ".MPR")):
                continue
            out.append((f"{i}/{relative}", path))
    return out


@lru_cache(maxsize=32)
def _voltammogram(path: str, mtime: float):
    from voltpeak.read import read

    return read(path)


def load_cv(path: Path):
    return _voltammogram(str(path), path.stat().st_mtime)


def cv_payload(file_id: str, path: Path) -> dict:
    """The CV as the label page draws it (``sweeps_payload``), with its id and file name."""
    return {"id": file_id, "name": path.name, **sweeps_payload(load_cv(path))}


def snap(path: Path, sweep: int, index: int, exact: bool = False) -> dict:
    """The label a click at sample ``index`` of ``sweep`` means: the local extremum of that sweep around it (a
    maximum on an anodic-going sweep, a minimum on a cathodic-going one; reversed in US-convention files), or the
    sample itself when ``exact`` (an accepted suggestion, placed by the detector on the smoothed sweep)."""
    from voltpeak.detect.peaks import current_sign

    v = load_cv(path)
    sweeps = v.sweeps()
    if not 0 <= sweep < len(sweeps):
        raise InputError(f"no sweep {sweep} in {path.name}")
    a, b, direction = sweeps[sweep]
    if not 0 <= index < b - a:
        raise InputError(f"no sample {index} in sweep {sweep} of {path.name}")
    best = index
    if not exact:
        half = max(3, int(SNAP_FRACTION * (b - a)))
        lo, hi = max(0, index - half), min(b - a, index + half + 1)
        best = lo + int(np.argmax(v.current[a + lo:a + hi] * current_sign(v) * direction))
    return label_record(v, sweep, best)


def suggestions(path: Path, source: str = "detector") -> list[dict]:
    """Label proposals for a CV: the classical detector's peaks, or those of a trained image model (a shipped name
    or a model folder) found in a plot of the CV."""
    from voltpeak.serve.suggest import detector_suggestions, model_suggestions

    v = load_cv(path)
    return detector_suggestions(v) if source == "detector" else model_suggestions(v, source)


def export_lines(store: LabelStore, files: list[tuple[str, Path]], roots: list[Path]) -> list[dict]:
    """Truth JSONL records (what ``voltpeak build`` reads) of the CVs marked done: sources relative to the first
    data folder (save the file there) or absolute, peaks in V and A with direction and cycle."""
    from voltpeak.peak import Peak

    done = {f for f, s in store.statuses().items() if s == "done"}
    labels = store.all_labels()
    base = roots[0].resolve() if roots else None
    out = []
    for file_id, path in files:
        if file_id not in done:
            continue
        full = path.resolve()
        source = full.relative_to(base).as_posix() if base and full.is_relative_to(base) else str(full)
        quantity = load_cv(path).quantity
        peaks = [Peak(lab["direction"], potential=lab["potential"], current=lab["current"], cycle=lab["cycle"],
                      quantity=quantity).to_record() for lab in labels.get(file_id, [])]
        out.append({"source": source, "peaks": peaks, "group": source.rsplit(".", 1)[0]})
    return out


def create_app(config: ServeConfig):
    """The FastAPI application for ``config``."""
    store = LabelStore(config.db)
    review = Review.load(config.truth, config.pred, config.space, config.images) if config.truth else None
    temporary = config.uploads is None
    area = UploadArea(Path(tempfile.mkdtemp(prefix="voltpeak-uploads-")) if temporary else config.uploads,
                      config.upload_lifetime_s)

    @asynccontextmanager
    async def lifespan(app):
        yield
        if temporary:  # the uploads of a temporary area go with the server
            area.close()

    app = FastAPI(title="voltpeak", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.uploads = area
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def limits(request: Request, call_next):
        length = request.headers.get("content-length")
        upload = request.url.path == UPLOAD_PATH  # files: limited as they stream in (``UploadArea.receive``)
        if length is not None and (not length.isdigit() or (int(length) > MAX_BODY and not upload)):
            return JSONResponse({"error": f"request body over {MAX_BODY} bytes"}, status_code=413)
        if request.method in ("POST", "PUT") and length is None and not upload:
            return JSONResponse({"error": "a request body needs a Content-Length"}, status_code=411)
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'")
        return response

    def files() -> list[tuple[str, Path]]:
        return list_cv_files(config.label_roots())

    def cv_path(file_id: str) -> Path:
        root, _, rel = file_id.partition("/")
        roots = config.label_roots()
        path = inside(roots[int(root)], rel) if root.isdigit() and int(root) < len(roots) else None
        if path is None:
            raise HTTPException(404, "no such file")
        return path

    unreadable: dict[str, str] = {}  # file id → why it cannot be read, as voltpeak detect says it

    def unreadable_file(file_id: str, path: Path, error: VoltpeakError) -> HTTPException:
        """A 422 saying why a CV cannot be read (its path as the list shows it, not the server's); the file list
        marks the file from now on."""
        unreadable[file_id] = str(error).replace(str(path), file_id.partition("/")[2])
        return HTTPException(422, unreadable[file_id])

    def labels_reply(file_id: str, ids=None) -> dict:
        return {"labels": store.labels(file_id), "ids": ids or []}

    @app.get("/")
    def home():
        return RedirectResponse("/analyse")

    for page in ("label", "review", "runs"):
        app.add_api_route(f"/{page}", (lambda p: lambda: FileResponse(STATIC / f"{p}.html"))(page), methods=["GET"])

    @app.get("/api/files")
    def api_files():
        statuses, counts = store.statuses(), store.counts()
        roots = config.label_roots()
        items = [{"id": fid, "name": path.name, "folder": str(roots[int(fid.split("/")[0])].name),
                  "path": fid.split("/", 1)[1], "status": statuses.get(fid, "todo"), "labels": counts.get(fid, 0),
                  **({"error": unreadable[fid]} if fid in unreadable else {})}
                 for fid, path in files()]
        progress = {s: sum(i["status"] == s for i in items) for s in ("todo", "done", "skipped")}
        return {"files": items, "progress": progress}

    @app.get("/api/cv/{file_id:path}")
    def api_cv(file_id: str):
        path = cv_path(file_id)
        try:
            return cv_payload(file_id, path)
        except VoltpeakError as e:
            raise unreadable_file(file_id, path, e) from None

    @app.get("/api/labels/{file_id:path}")
    def api_labels(file_id: str):
        cv_path(file_id)
        return labels_reply(file_id)

    @app.post("/api/labels/{file_id:path}")
    def api_add(file_id: str, body: Annotated[dict, Body()]):
        path = cv_path(file_id)
        items = body.get("labels") if isinstance(body.get("labels"), list) else [body]
        try:
            labels = [{**snap(path, int(item["sweep"]), int(item["index"]), item.get("snap", True) is False),
                       "origin": str(item.get("origin", "hand"))[:16]} for item in items[:200]]
        except (KeyError, TypeError, ValueError) as e:  # a VoltpeakError (unreadable CV) is a ValueError too
            raise HTTPException(422, f"bad label: {e}") from None
        return labels_reply(file_id, store.add(file_id, labels))

    @app.put("/api/labels/{file_id:path}/{label_id}")
    def api_move(file_id: str, label_id: int, body: Annotated[dict, Body()]):
        path = cv_path(file_id)
        try:
            lab = snap(path, int(body["sweep"]), int(body["index"]), body.get("snap", True) is False)
        except (KeyError, TypeError, ValueError) as e:
            raise HTTPException(422, f"bad label: {e}") from None
        if not store.move(file_id, label_id, lab):
            raise HTTPException(404, "no such label")
        return labels_reply(file_id, [label_id])

    @app.delete("/api/labels/{file_id:path}/{label_id}")
    def api_delete(file_id: str, label_id: int):
        cv_path(file_id)
        store.delete(file_id, label_id)
        return labels_reply(file_id)

    @app.get("/api/suggestions/{file_id:path}")
    def api_suggestions(file_id: str):
        path = cv_path(file_id)
        try:
            return {"suggestions": suggestions(path, config.suggest), "source": config.suggest}
        except VoltpeakError as e:
            raise unreadable_file(file_id, path, e) from None

    @app.get("/api/analysis/{file_id:path}")
    def api_analysis(file_id: str):
        """What ``voltpeak detect`` reports for the file: peaks with their measures, couples with E1/2, ΔEp,
        ipa/ipc, the reverse baseline's method and the reversibility class."""
        from voltpeak.detect import detect_file

        path = cv_path(file_id)
        try:
            line = detect_file(str(path), None)
        except Exception as e:  # a file the analysis cannot take is the user's to know, never a server error
            raise unreadable_file(file_id, path, e) from None
        return {**line, "source": path.name}

    @app.post("/api/status/{file_id:path}")
    def api_status(file_id: str, body: Annotated[dict, Body()]):
        cv_path(file_id)
        try:
            store.set_status(file_id, str(body.get("status")))
        except ValueError as e:
            raise HTTPException(422, str(e)) from None
        return {"status": body["status"]}

    @app.get("/api/export")
    def api_export():
        text = "".join(json.dumps(line) + "\n" for line in export_lines(store, files(), config.label_roots()))
        return PlainTextResponse(text, media_type="application/jsonl",
                                 headers={"Content-Disposition": 'attachment; filename="labels.jsonl"'})

    @app.get("/api/review")
    def api_review(filter: Annotated[list[str] | None, Query()] = None, sort: str = "worst", source: str = "",
                   peaks: int | None = None, family: str = "", offset: int = 0,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50):
        if review is None:
            raise HTTPException(404, "no evaluation loaded (serve --truth T.jsonl --pred P.jsonl)")
        return review.page(filter or [], sort, source, peaks, family, max(0, offset), limit)

    @app.get("/api/review/sample/{n}")
    def api_review_sample(n: int):
        if review is None or not 0 <= n < len(review.samples):
            raise HTTPException(404, "no such sample")
        return review.detail(n)

    @app.get("/api/review/image/{n}")
    def api_review_image(n: int):
        path = review.image_path(n) if review is not None and 0 <= n < len(review.samples) else None
        if path is None:
            raise HTTPException(404, "no image")
        return FileResponse(path)

    @app.get("/api/review/cv/{n}")
    def api_review_cv(n: int):
        path = review.cv_path(n) if review is not None and 0 <= n < len(review.samples) else None
        if path is None:
            raise HTTPException(404, "no CV file")
        return cv_payload(str(n), path)

    add_routes(app, config, area, STATIC)

    @app.get("/api/runs")
    def api_runs():
        return {"runs": find_runs(config.runs)}

    @app.get("/api/runs/metrics")
    def api_run_metrics(name: Annotated[list[str] | None, Query()] = None):
        known = run_dirs(config.runs)
        return {"runs": {n: read_metrics(known[n]) for n in (name or [])[:12] if n in known}}

    return app


def serve(config: ServeConfig, host: str = "127.0.0.1", port: int = 8765, log=print):
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    for folder in [*config.data, *config.runs]:
        if not folder.is_dir():
            raise InputError(f"{folder}: not a folder")
    if config.uploads is not None and config.uploads.exists() and not config.uploads.is_dir():
        raise InputError(f"--uploads {config.uploads}: not a folder")
    for f in (config.truth, config.pred):
        if f is not None and not f.is_file():
            raise InputError(f"{f}: no such file")
    if (config.truth is None) != (config.pred is None):
        raise InputError("--truth and --pred go together")
    if config.suggest != "detector":
        from voltpeak.models import model_dir

        model_dir(config.suggest)  # a clear error now rather than on the first CV
    app = create_app(config)
    # The port is taken here, before the URL is printed: a busy one is one line, not uvicorn's [Errno 98] later.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {e.strerror or e} (choose another with --port)") from None
    log(f"voltpeak serve: http://{host}:{port}/ (analyse, label, review, runs)")
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
