"""The upload area of ``voltpeak serve``: files a browser sends to the analysis page, kept apart per session.

    area = UploadArea(Path("/tmp/voltpeak-uploads"), lifetime_s=3600)
    upload = await area.receive(token, request)   # a multipart body, streamed to disk and checked
    area.get(token, upload.id)                     # None for another session's id

A session is a random token the browser holds in an HttpOnly, SameSite=Strict cookie; its uploads live under a
folder named by the token's hash, each in a folder named by a random id, so an id from another session leads
nowhere. A request body is streamed straight into the upload's folder (nothing is written elsewhere, nothing held
whole in memory) and stopped at ``max_file_bytes``; names are checked and sanitised; the content is then read by
voltpeak's readers (a CV) or by Pillow (a PNG or JPEG) before the upload is kept. An upload unused for
``lifetime_s`` is deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import threading
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from voltpeak.read import CV_SUFFIXES

COOKIE = "voltpeak_session"
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16): 128 random bits
SESSION_DIR = re.compile(r"[0-9a-f]{32}")  # a session's folder: its token's SHA-256, cut
PACKAGE_SUFFIX = ".json"  # an echemdb data package's descriptor (one of the readers' suffixes), uploaded with its CSV
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
MAX_FILE_BYTES = 25 * 1024 * 1024  # the largest BioLogic .mpr of the project's real files is 2 MB
MAX_PIXELS = 40_000_000  # a plot; a larger image is a decompression bomb or a photograph of a poster
MAX_FILES = 2  # one file, or a data package's .json and .csv
MAX_SESSION_UPLOADS = 50
MAX_AREA_BYTES = 2 * 1024 ** 3
WHAT = "a CV file (CSV/TXT, Gamry .DTA, BioLogic .mpr/.mpt, an echemdb .json with its .csv) or a PNG/JPEG plot"


class Refused(Exception):
    """An upload refused: the HTTP status (4xx) and the reason in one line."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


@dataclass
class Upload:
    """One upload: ``kind`` "cv" or "image", the ``name`` shown (sanitised), the file the readers take (``main``,
    relative to ``files/``), every file kept, and the label page's id once it was sent there."""

    id: str
    kind: str
    name: str
    main: str
    files: list[str] = field(default_factory=list)
    size: int = 0
    created: float = 0.0
    sent: str | None = None
    folder: Path | None = None  # set when loaded; not stored

    @property
    def path(self) -> Path:
        return self.folder / "files" / self.main

    def record(self) -> dict:
        """What the page sees: never a server path."""
        return {"id": self.id, "kind": self.kind, "name": self.name, "size": self.size, "sent": self.sent}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def suffix_of(name: str) -> str:
    """The suffix that says the format (``.dta`` for ``x.DTA.txt``: Gamry's exports keep theirs)."""
    lower = name.lower()
    return ".dta" if lower.endswith(".dta.txt") else os.path.splitext(lower)[1]


def safe_name(raw: str) -> str:
    """A file name the upload area can hold: letters, digits and ``._-+() `` kept, anything else ``_``, at most 120
    characters (the suffix kept); a name that is a path (``/``, ``\\``, ``..``) is refused, not cut down."""
    raw = unicodedata.normalize("NFC", raw or "").strip()
    shown = raw[:80]
    if not raw:
        raise Refused(400, "a file without a name")
    if "/" in raw or "\\" in raw or "\x00" in raw or raw.strip(". ") == "" or ".." in raw.split("/"):
        raise Refused(400, f"{shown!r}: a file name, not a path, is expected")
    name = re.sub(r"[^\w.+()\- ]", "_", raw).strip(" .") or "upload"
    stem, suffix = os.path.splitext(name)
    return stem[:120 - len(suffix[:16])] + suffix[:16]


class _Parts:
    """Callbacks of python-multipart's streaming parser: each file part written to ``folder`` as it arrives."""

    def __init__(self, folder: Path, max_bytes: int):
        self.folder, self.max_bytes = folder, max_bytes
        self.names: list[str] = []
        self.sizes: list[int] = []
        self._field, self._value, self._headers = b"", b"", {}
        self._out = None

    def callbacks(self) -> dict:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_done, "on_part_data": self._data, "on_part_end": self._end}

    def _begin(self):
        self._headers = {}

    def _header_field(self, data, start, end):
        self._field += data[start:end]

    def _header_value(self, data, start, end):
        self._value += data[start:end]

    def _header_end(self):
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_done(self):
        from python_multipart.multipart import parse_options_header

        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"filename" not in options:
            self._out = None  # a plain form field: not kept
            return
        if len(self.names) >= MAX_FILES:
            raise Refused(400, f"at most {MAX_FILES} files an upload: {WHAT}")
        raw = options[b"filename"].decode("utf-8", "replace")
        name = safe_name(raw)
        if suffix_of(name) not in (*CV_SUFFIXES, *IMAGE_FORMATS):
            raise Refused(415, f"{name}: not a file voltpeak reads; it takes {WHAT}")
        if name.lower() in (n.lower() for n in self.names):
            raise Refused(400, f"{name}: sent twice")
        self.names.append(name)
        self.sizes.append(0)
        self._out = open(self.folder / name, "xb")  # exclusive: never over another file

    def _data(self, data, start, end):
        if self._out is None:
            return
        self.sizes[-1] += end - start
        if self.sizes[-1] > self.max_bytes:
            raise Refused(413, f"{self.names[-1]}: over the upload limit of {self.max_bytes // 2 ** 20} MB")
        self._out.write(data[start:end])

    def _end(self):
        if self._out is not None:
            self._out.close()
            self._out = None

    def close(self):
        if self._out is not None:
            self._out.close()


class UploadArea:
    """Uploads under ``root``, one folder per session (named by the hash of its token) and per upload.

    Parameters
    ----------
    root : Path
        The area; created if missing. Nothing is written outside it.
    lifetime_s : float
        An upload not used for this long (s) is deleted by ``sweep``.
    max_file_bytes : int
        The largest file taken; a larger one is refused (413) as soon as its bytes pass the limit.
    """

    def __init__(self, root: Path, lifetime_s: float = 3600.0, max_file_bytes: int = MAX_FILE_BYTES):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.root = self.root.resolve()
        self.lifetime_s, self.max_file_bytes = lifetime_s, max_file_bytes
        self._lock = threading.Lock()
        self._swept = 0.0

    # Sessions and ids -------------------------------------------------------------------------------------------

    def session_dir(self, token: str) -> Path:
        if not TOKEN.fullmatch(token or ""):
            raise Refused(403, "no session: reload the page")
        return self.root / hashlib.sha256(token.encode()).hexdigest()[:32]

    def _folder(self, token: str, upload_id: str) -> Path | None:
        if not UPLOAD_ID.fullmatch(upload_id or ""):
            return None
        folder = self.session_dir(token) / upload_id
        return folder if (folder / "meta.json").is_file() else None

    def get(self, token: str, upload_id: str) -> Upload | None:
        """This session's upload ``upload_id`` (its lifetime renewed), or None: unknown, expired, or another
        session's."""
        folder = self._folder(token, upload_id)
        if folder is None:
            return None
        if time.time() - folder.stat().st_mtime > self.lifetime_s:  # expired, not swept yet
            shutil.rmtree(folder, ignore_errors=True)
            return None
        try:
            upload = Upload(**json.loads((folder / "meta.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None
        upload.folder = folder
        os.utime(folder)  # used now: its lifetime starts again
        return upload

    def uploads(self, token: str) -> list[Upload]:
        """This session's uploads, oldest first."""
        folder = self.session_dir(token)
        found = [self.get(token, f.name) for f in folder.iterdir()] if folder.is_dir() else []
        return sorted((u for u in found if u is not None), key=lambda u: u.created)

    def save(self, upload: Upload) -> None:
        """Write the upload's record (atomically: a reader sees the old one or the new one)."""
        tmp = upload.folder / "meta.json.part"
        data = {k: v for k, v in asdict(upload).items() if k != "folder"}
        tmp.write_text(json.dumps(data))
        os.replace(tmp, upload.folder / "meta.json")

    def remove(self, token: str, upload_id: str) -> bool:
        folder = self._folder(token, upload_id)
        if folder is None:
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return True

    # Receiving --------------------------------------------------------------------------------------------------

    async def receive(self, token: str, request) -> Upload:
        """Stream a multipart request's files into a new upload of this session, then check them (``check``, in a
        worker thread). Raises Refused (4xx) with the reason; a refused upload leaves nothing behind."""
        from python_multipart.multipart import MultipartParser, parse_options_header
        from starlette.concurrency import run_in_threadpool

        self.sweep()
        ctype, options = parse_options_header(request.headers.get("content-type", ""))
        if ctype != b"multipart/form-data" or not options.get(b"boundary"):
            raise Refused(415, f"send files as multipart/form-data: {WHAT}")
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_FILES * self.max_file_bytes + 65536:
            raise Refused(413, f"over the upload limit of {self.max_file_bytes // 2 ** 20} MB a file")
        session = self.session_dir(token)
        with self._lock:
            if session.is_dir() and sum(1 for _ in session.iterdir()) >= MAX_SESSION_UPLOADS:
                raise Refused(429, f"this session holds {MAX_SESSION_UPLOADS} uploads: remove some first")
            if self._bytes() > MAX_AREA_BYTES:
                raise Refused(429, "the server's upload area is full: try again later")
            upload_id = secrets.token_urlsafe(16)
            folder = session / upload_id
            (folder / "files").mkdir(parents=True)
        parts = _Parts(folder / "files", self.max_file_bytes)
        parser = MultipartParser(options[b"boundary"], parts.callbacks())
        try:
            try:
                async for chunk in request.stream():
                    parser.write(chunk)
                parser.finalize()
            finally:
                parts.close()
            if not parts.names:
                raise Refused(400, f"no file in the request: send {WHAT}")
            upload = Upload(upload_id, "", "", "", parts.names, sum(parts.sizes), time.time(), folder=folder)
            await run_in_threadpool(check, upload)
            self.save(upload)
            return upload
        except Refused:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        except Exception as e:  # a broken body (python-multipart's parse errors, a client gone): the user's to know
            shutil.rmtree(folder, ignore_errors=True)
            raise Refused(400, f"the upload could not be read as multipart/form-data ({type(e).__name__})") from None

    # Cleaning up ------------------------------------------------------------------------------------------------

    def sweep(self, force: bool = False) -> int:
        """Delete uploads unused for ``lifetime_s`` and sessions left empty (at most once a minute unless
        ``force``); returns how many uploads went."""
        now = time.time()
        if not force and now - self._swept < min(60.0, self.lifetime_s):
            return 0
        self._swept = now
        gone = 0
        with self._lock:
            # Only what the area made: a folder given with --uploads may hold other things, left alone.
            for session in self.root.iterdir():
                if not (SESSION_DIR.fullmatch(session.name) and session.is_dir()):
                    continue
                for folder in session.iterdir():
                    if not UPLOAD_ID.fullmatch(folder.name):
                        continue
                    try:
                        idle = now - folder.stat().st_mtime
                    except FileNotFoundError:
                        continue
                    if idle > self.lifetime_s:
                        shutil.rmtree(folder, ignore_errors=True)
                        gone += 1
                if not any(session.iterdir()):
                    session.rmdir()
        return gone

    def _bytes(self) -> int:
        return sum(f.stat().st_size for d in self.root.iterdir() if SESSION_DIR.fullmatch(d.name)
                   for f in d.rglob("*") if f.is_file())

    def close(self) -> None:
        """Delete the whole area (the server is stopping)."""
        shutil.rmtree(self.root, ignore_errors=True)


def check(upload: Upload) -> None:
    """Fill in the upload's kind, name and main file from what was sent, and have the content read: a CV by
    voltpeak's readers, an image by Pillow (a PNG or JPEG by its bytes; a .jpg that is a PNG is taken). Raises
    Refused (422) with the reader's reason, naming the file as the user did."""
    files = upload.folder / "files"
    names = upload.files
    for name in names:
        if (files / name).stat().st_size == 0:
            raise Refused(422, f"{name}: an empty file")
    suffixes = [suffix_of(n) for n in names]
    images = [n for n, s in zip(names, suffixes) if s in IMAGE_FORMATS]
    if images:
        if len(names) > 1:
            raise Refused(400, f"one image an upload, alone: {', '.join(names)}")
        _check_image(files / images[0], images[0])
        upload.kind, upload.name, upload.main = "image", images[0], images[0]
        return
    packages = [n for n, s in zip(names, suffixes) if s == PACKAGE_SUFFIX]
    tables = [n for n, s in zip(names, suffixes) if s != PACKAGE_SUFFIX]
    if packages and len(tables) != 1:
        raise Refused(422, f"{packages[0]}: an echemdb data package needs its .csv too: choose or drop both files")
    if len(tables) != 1:
        raise Refused(400, f"one CV an upload (or a data package's .json with its .csv): {', '.join(names)}")
    main = tables[0]
    if packages:
        if suffix_of(main) != ".csv":
            raise Refused(422, f"{packages[0]}: a data package's data is a .csv, not {main}")
        # The reader finds a package's descriptor beside its CSV by the CSV's name.
        wanted = os.path.splitext(main)[0] + ".json"
        if packages[0] != wanted:
            os.replace(files / packages[0], files / wanted)
            upload.files = [main, wanted]
    _check_cv(files / main, main)
    upload.kind, upload.name, upload.main = "cv", main, main


def _check_cv(path: Path, name: str) -> None:
    from voltpeak.errors import VoltpeakError
    from voltpeak.read import read

    try:
        read(path)
    except VoltpeakError as e:
        raise Refused(422, shown(str(e), path, name)) from None
    except Exception as e:  # a reader's bug on strange bytes is still the upload's fault, said in one line
        raise Refused(422, f"{name}: not readable as a CV ({type(e).__name__})") from None


def _check_image(path: Path, name: str) -> None:
    from PIL import Image, UnidentifiedImageError

    want = IMAGE_FORMATS[suffix_of(name)]
    try:
        with Image.open(path) as im:
            found, (w, h) = im.format, im.size
            if found not in IMAGE_FORMATS.values():
                raise Refused(422, f"{name}: a {found} image; PNG or JPEG are taken")
            if w * h > MAX_PIXELS:
                raise Refused(422, f"{name}: {w}×{h} pixels, over the {MAX_PIXELS // 10 ** 6} megapixels taken")
            im.verify()
    except Refused:
        raise
    except Image.DecompressionBombError:  # Pillow's own bound, met before the size is known here
        raise Refused(422, f"{name}: over the {MAX_PIXELS // 10 ** 6} megapixels taken") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Refused(422, f"{name}: not a {want} image (its bytes are not one)") from None


def shown(message: str, path: Path, name: str) -> str:
    """A reader's message with the server's path replaced by the name the user gave."""
    return message.replace(str(path), name).replace(path.name, name).splitlines()[0]
