"""Bundled reference typologies and data.

``profiles/`` and ``data/`` sit at the top of the source tree and are shipped inside the wheel as
``segment/_bundled/profiles`` and ``segment/_bundled/data``. These helpers find them in an
installed package (via :mod:`importlib.resources`) and in a source checkout alike.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .exceptions import SegmentError

__all__ = ["bundled_path", "list_bundled"]

_KINDS = ("profiles", "data")


def _root(kind: str) -> Path:
    if kind not in _KINDS:
        raise SegmentError(f"unknown bundled resource kind {kind!r}; expected one of {_KINDS}")
    packaged = Path(str(files("segment") / "_bundled" / kind))
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / kind
    if checkout.is_dir():
        return checkout
    raise SegmentError(
        f"bundled {kind}/ not found (looked in {packaged} and {checkout}); reinstall segment"
    )


def bundled_path(kind: str, name: str) -> Path:
    """Path of a bundled file, e.g. ``bundled_path("profiles", "kz2020.yaml")``.

    Raises
    ------
    SegmentError
        If there is no such file; the message lists the files that exist.
    """
    root = _root(kind)
    path = root / name
    if not path.is_file():
        available = ", ".join(list_bundled(kind)) or "none"
        raise SegmentError(f"no bundled {kind} file {name!r}; available: {available}")
    return path


def list_bundled(kind: str) -> list[str]:
    """Names of the bundled files of one kind (``"profiles"`` or ``"data"``)."""
    root = _root(kind)
    return sorted(p.name for p in root.iterdir() if p.is_file() and not p.name.startswith("."))
