"""Settings: dataclasses that save themselves as a JSON object and load back from one — defaults, overridden key
by key; unknown keys and bad values are one-line errors naming the file."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

from voltpeak.errors import InputError


class Settings:
    """The base of every settings dataclass (training, simulation, build, each model kind's config).

    ``load(path)`` gives the defaults overridden by the JSON object in ``path`` (None: the defaults), through
    ``from_dict`` (which a subclass may extend with its own checks, raising ValueError or InputError);
    ``save(path)`` writes what ``load`` reads back equal (``extra`` keys aside: those are for other readers)."""

    _what = "setting"  # how an unknown key is named in errors

    @classmethod
    def from_dict(cls, data: dict):
        config = settings_from_dict(cls, data, cls._what)
        config.validate()
        return config

    def validate(self):
        """Raise InputError or ValueError on a bad value (nothing to check by default)."""

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def save(self, path: str | Path, /, **extra) -> Path:
        """Write the settings as JSON to ``path``, ``extra`` keys beside them (overriding fields of the same name)."""
        Path(path).write_text(json.dumps({**self.to_dict(), **extra}, indent=1), encoding="utf-8")
        return Path(path)

    @classmethod
    def load(cls, path: str | Path | None):
        if path is None:
            config = cls()
            config.validate()
            return config
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InputError(f"{path}: not JSON ({e})") from None
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected a JSON object of settings")
        try:
            return cls.from_dict(data)
        except (InputError, TypeError, ValueError) as e:
            raise InputError(f"{path}: {e}") from None


def settings_from_dict(cls, data: dict, what: str = "setting"):
    """An instance of the dataclass ``cls`` from ``data`` (lists become tuples); an unknown key is an
    ``InputError`` naming it as an unknown ``what``."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"unknown {what} {unknown[0]!r}; known: {', '.join(sorted(known))}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
