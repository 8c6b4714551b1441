"""Settings dataclasses loaded from JSON files: defaults, overridden key by key; unknown keys are errors."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from voltpeak.errors import InputError


def load_settings(cls, path: str | Path | None):
    """An instance of the dataclass ``cls``: its defaults, overridden by the JSON object in ``path`` (lists become
    tuples), then ``validate()``d."""
    if path is None:
        config = cls()
    else:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InputError(f"{path}: not JSON ({e})") from None
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected a JSON object of settings")
        try:
            config = settings_from_dict(cls, data)
        except (InputError, TypeError) as e:
            raise InputError(f"{path}: {e}") from None
    config.validate()
    return config


def settings_from_dict(cls, data: dict, what: str = "setting"):
    """An instance of the dataclass ``cls`` from ``data`` (lists become tuples); an unknown key is an
    ``InputError`` naming it as an unknown ``what``."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"unknown {what} {unknown[0]!r}; known: {', '.join(sorted(known))}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
