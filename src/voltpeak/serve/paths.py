"""Where the web app may read: only files under the folders it was given."""

from __future__ import annotations

from pathlib import Path


def inside(root: Path, relative: str) -> Path | None:
    """``root/relative`` when it is a file inside ``root`` (no ``..`` out, no absolute path, no symlink out), else
    None."""
    if not relative or relative.startswith(("/", "\\")) or "\x00" in relative or ":" in relative[:3]:
        return None
    base = root.resolve()
    path = (base / relative).resolve()
    return path if path.is_relative_to(base) and path.is_file() else None
