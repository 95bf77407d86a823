"""Reading YAML / JSON input and writing outputs atomically.

Outputs are written to a temporary file in the destination folder and moved into place with
:func:`os.replace`, so a failure never leaves a partial file and never clobbers an existing one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .exceptions import InputError, Problem

__all__ = [
    "atomic_path",
    "atomic_write_text",
    "load_yaml",
    "schema_problems",
]


def load_yaml(path: str | os.PathLike, what: str, error: type[InputError]) -> Any:
    """Parse a YAML file, turning every failure into ``error`` naming the file and line."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(what, [Problem(name, "", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise error(
            what,
            [Problem(name, f"byte {exc.start}", "file is not UTF-8 text; save it as UTF-8")],
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(what, [Problem(name, where, f"not valid YAML: {problem}")]) from None
    if not isinstance(data, dict):
        raise error(what, [Problem(name, "", "expected a YAML mapping at the top level")])
    return data


def _stringify_keys(obj: Any) -> Any:
    """YAML allows integer keys (answer codes); JSON Schema needs string keys."""
    if isinstance(obj, dict):
        return {str(k): _stringify_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_stringify_keys(v) for v in obj]
    return obj


def _format_path(parts: Any, doc: Any) -> str:
    out = ""
    node = doc
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
            label = None
            try:
                node = node[part]
                if isinstance(node, dict):
                    label = node.get("column") or node.get("id") or node.get("name")
            except (IndexError, KeyError, TypeError):
                node = None
            if isinstance(label, str):
                out += f"({label})"
        else:
            out += f".{part}" if out else str(part)
            try:
                node = node[part]
            except (KeyError, TypeError, IndexError):
                node = None
    return out or "(top level)"


def schema_problems(doc: dict, schema_name: str, file: str) -> list[Problem]:
    """Validate ``doc`` against a bundled JSON Schema; one :class:`Problem` per violation."""
    schema = json.loads((files("segment") / "schemas" / schema_name).read_text(encoding="utf-8"))
    plain = _stringify_keys(doc)
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for err in sorted(validator.iter_errors(plain), key=lambda e: list(map(str, e.absolute_path))):
        # oneOf failures are vague; report the most specific sub-error instead.
        best = jsonschema.exceptions.best_match([err])
        where = _format_path(list(best.absolute_path), plain)
        problems.append(Problem(file, where, best.message))
    return problems


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; outputs are ordinary files
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` newlines) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


@contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; when the block succeeds, swap it in for
    ``path`` (an existing folder there is replaced, and put back if the swap fails). A failed
    block leaves ``path`` as it was and no temporary folder behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp creates 0700; outputs are ordinary folders
        for f in tmp.rglob("*"):
            if f.is_file():
                os.chmod(f, 0o666 & ~umask)
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
        try:
            os.replace(tmp, path)
        except BaseException:
            if old is not None:
                os.replace(old, path)
            raise
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def atomic_write(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and move the result to ``path`` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
