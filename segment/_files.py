"""Reading YAML / JSON input and writing outputs atomically.

Outputs are written to a temporary file in the destination folder and moved into place with
:func:`os.replace`, so a failure never leaves a partial file and never clobbers an existing one.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ._version import __version__
from .exceptions import InputError, OutputError, Problem

__all__ = [
    "MARKER",
    "atomic_directory",
    "atomic_path",
    "atomic_write_text",
    "check_output",
    "clean_stale",
    "load_json",
    "load_yaml",
    "output_lock",
    "parse_json",
    "parse_yaml",
    "read_bounded",
    "schema_problems",
]


#: Limits on untrusted input files (docs/formats.md, "Limits"). Checked before the content is
#: parsed (size) or while it is parsed (the rest), so that no input can exhaust memory or time.
#: Largest YAML or JSON input file, in bytes (10 MiB).
MAX_INPUT_BYTES = 10 * 2**20
#: Most alias uses (``*name``) in one YAML file.
MAX_ALIASES = 100
#: Most nodes that aliases may add to a YAML file when expanded (each use counts every node of
#: what it refers to): what stops a "billion laughs" file of a few hundred bytes.
MAX_ALIAS_NODES = 100_000
#: Deepest nesting of mappings and lists in a YAML or JSON input.
MAX_DEPTH = 64


class _Refused(yaml.MarkedYAMLError):
    """A YAML file breaks one of the limits above (a refusal, not a syntax error)."""


class _SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader (no tags that build objects) with limits on aliases, their expanded
    size and nesting depth, and refusing duplicate mapping keys.

    Aliases are counted while the file is composed: each use adds the node count of what it
    refers to, so the expanded size of a document is known before anything walks it
    (the "billion laughs" attack, CWE-776). Duplicate keys are refused as YAML 1.2 requires
    (section 3.2.1.1: mapping keys are unique); PyYAML keeps the last silently.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._alias_nodes = 0
        self._nodes = 0
        self._depth = 0
        self._deepest = 0
        #: Expanded node count and nesting height of each anchored node, by id.
        self._sizes: dict[int, tuple[int, int]] = {}

    def _refuse(self, message: str, mark: Any) -> _Refused:
        return _Refused(None, None, message, mark)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._alias(event)
            return super().compose_node(parent, index)
        collection = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        depth0 = self._depth
        if collection:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise self._refuse(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
        saved = self._deepest
        self._deepest = self._depth
        start = self._nodes + self._alias_nodes
        self._nodes += 1
        node = super().compose_node(parent, index)
        if event.anchor is not None:
            size = self._nodes + self._alias_nodes - start
            self._sizes[id(node)] = (size, self._deepest - depth0)
        self._deepest = max(saved, self._deepest)
        self._depth = depth0
        return node

    def _alias(self, event: Any) -> None:
        """Count one alias use and what it expands to; refuse past the limits."""
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            raise self._refuse(
                f"more than {MAX_ALIASES} aliases (*name); write the repeated parts out",
                event.start_mark,
            )
        target = self.anchors.get(event.anchor)
        if target is None:
            return  # PyYAML reports the undefined alias
        known = self._sizes.get(id(target))
        if known is None:
            raise self._refuse(
                f"alias *{event.anchor} is inside the value it refers to (a recursive alias); "
                "write the value out",
                event.start_mark,
            )
        size, height = known
        self._alias_nodes += size
        if self._alias_nodes > MAX_ALIAS_NODES:
            raise self._refuse(
                f"aliases expand to more than {MAX_ALIAS_NODES:,} values (an alias bomb, or a "
                "file that should write its repeated parts out)",
                event.start_mark,
            )
        if self._depth + height > MAX_DEPTH:
            raise self._refuse(
                f"nested more than {MAX_DEPTH} levels deep once alias *{event.anchor} is expanded",
                event.start_mark,
            )
        self._deepest = max(self._deepest, self._depth + height)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node)
                for k in (key, str(key)):
                    first = seen.get(k)
                    if first is not None:
                        raise _Refused(
                            None,
                            None,
                            f"duplicate key {key!r} (first at line {first.line + 1}); YAML keeps "
                            "only the last, so the first would be lost: remove or rename one",
                            key_node.start_mark,
                        )
                seen.setdefault(key, key_node.start_mark)
                seen.setdefault(str(key), key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


_MERGE_TAG = "tag:yaml.org,2002:merge"


def read_bounded(path: Path, what: str, error: type[InputError]) -> bytes:
    """The bytes of ``path``, refused before reading when over :data:`MAX_INPUT_BYTES`."""
    name = str(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise error(what, [Problem(name, "", "file not found")]) from None
    except IsADirectoryError:
        raise error(what, [Problem(name, "", "is a folder; expected a file")]) from None
    if len(data) > MAX_INPUT_BYTES:
        try:
            size = f"{path.stat().st_size / 2**20:,.1f} MiB"
        except OSError:
            size = "larger"
        raise error(
            what,
            [
                Problem(
                    name,
                    "",
                    f"file is {size}; input files are limited to {MAX_INPUT_BYTES / 2**20:g} MiB "
                    "(docs/formats.md, Limits)",
                )
            ],
        )
    return data


def _mark_where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def parse_yaml(text: str, name: str, what: str, error: type[InputError]) -> Any:
    """Parse YAML text with :class:`_SafeLoader`; every failure is ``error`` naming the line."""
    if len(text) > MAX_INPUT_BYTES:
        raise error(
            what,
            [
                Problem(
                    name, "", f"text is over the {MAX_INPUT_BYTES / 2**20:g} MiB limit of inputs"
                )
            ],
        )
    loader = None
    try:
        loader = _SafeLoader(text)  # the reader refuses control characters here
        return loader.get_single_data()
    except _Refused as exc:
        where = _mark_where(exc.problem_mark)
        raise error(what, [Problem(name, where, f"refused: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(
            what, [Problem(name, _mark_where(mark), f"not valid YAML: {problem}")]
        ) from None
    except RecursionError:  # not reached within MAX_DEPTH; kept so no input gives a traceback
        raise error(
            what, [Problem(name, "", f"nested more than {MAX_DEPTH} levels deep")]
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml(path: str | os.PathLike, what: str, error: type[InputError]) -> Any:
    """Parse a YAML file safely, turning every failure into ``error`` naming the file and line.

    Refused (exit 2, file and line named): files over :data:`MAX_INPUT_BYTES`, more than
    :data:`MAX_ALIASES` aliases or aliases expanding to more than :data:`MAX_ALIAS_NODES`
    values, nesting deeper than :data:`MAX_DEPTH`, duplicate mapping keys, and any tag that
    would build a Python object (PyYAML's safe loader).
    """
    path = Path(path)
    name = str(path)
    data = read_bounded(path, what, error)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            what,
            [Problem(name, f"byte {exc.start}", "file is not UTF-8 text; save it as UTF-8")],
        ) from None
    doc = parse_yaml(text, name, what, error)
    if not isinstance(doc, dict):
        raise error(what, [Problem(name, "", "expected a YAML mapping at the top level")])
    return doc


class _NotANumber(ValueError):
    """A number JSON cannot hold: ``NaN``, ``Infinity`` or a literal beyond float range."""

    def __init__(self, literal: str, message: str):
        super().__init__(message)
        self.literal = literal


def _no_constant(word: str) -> float:
    raise _NotANumber(word, f"{word} is not a JSON number")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _NotANumber(
            literal,
            f"number {literal} is beyond the range of floating-point numbers "
            "(about 1.8e308 either side of zero)",
        )
    return value


#: A JSON string on one line (JSON strings hold no raw line breaks).
_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _json_too_deep(text: str) -> int | None:
    """Line of the first bracket nested deeper than :data:`MAX_DEPTH` (brackets inside strings
    do not count), or None; a vectorised scan, so it is cheap on any file."""
    import numpy as np

    raw = np.frombuffer(_JSON_STRING.sub('""', text).encode("utf-8"), dtype=np.uint8)
    step = np.zeros(raw.shape, dtype=np.int32)
    step[(raw == ord("[")) | (raw == ord("{"))] = 1
    step[(raw == ord("]")) | (raw == ord("}"))] = -1
    depth = np.cumsum(step)
    if not depth.size or depth.max() <= MAX_DEPTH:
        return None
    at = int(np.argmax(depth > MAX_DEPTH))
    return int(np.count_nonzero(raw[:at] == ord("\n"))) + 1


def _line_of(text: str, word: str) -> str:
    """``line N`` of the first occurrence of ``word`` as a value (for messages)."""
    for n, line in enumerate(text.splitlines(), start=1):
        if re.search(rf"[:\[,]\s*{re.escape(word)}(?![\w.+-])", line):
            return f"line {n}"
    return ""


def parse_json(
    text: str,
    name: str,
    what: str,
    error: type[InputError],
    damaged: str = "the file looks truncated or damaged",
) -> Any:
    """Parse untrusted JSON text; every failure is ``error`` naming the file and line.

    Refused besides invalid JSON (``damaged`` says what that suggests): text over
    :data:`MAX_INPUT_BYTES`, nesting deeper than :data:`MAX_DEPTH` (checked before parsing),
    ``NaN``/``Infinity`` (Python writes them; JSON has no such numbers, RFC 8259 section 6) and
    numbers beyond float range such as ``1e400`` (Python would read them as infinity).
    """

    def fail(where: str, message: str) -> InputError:
        return error(what, [Problem(name, where, message)])

    if len(text) > MAX_INPUT_BYTES:
        raise fail("", f"text is over the {MAX_INPUT_BYTES / 2**20:g} MiB limit of inputs")
    line = _json_too_deep(text)
    if line is not None:
        raise fail(f"line {line}", f"refused: nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise fail(f"line {exc.lineno}", f"not valid JSON ({exc.msg}); {damaged}") from None
    except _NotANumber as exc:
        raise fail(
            _line_of(text, exc.literal),
            f"not valid JSON ({exc}); the file was edited or damaged after it was written",
        ) from None
    except ValueError as exc:  # an integer of more than 4,300 digits (Python's own limit)
        raise fail("", f"not valid JSON ({exc})") from None
    except RecursionError:  # not reached within MAX_DEPTH; kept so no input gives a traceback
        raise fail("", f"refused: nested more than {MAX_DEPTH} levels deep") from None


def load_json(path: str | os.PathLike, what: str, error: type[InputError]) -> Any:
    """Read and parse an untrusted JSON file (:func:`parse_json`; size limited before reading)."""
    path = Path(path)
    data = read_bounded(path, what, error)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            what,
            [Problem(str(path), f"byte {exc.start}", "file is not UTF-8 text; save it as UTF-8")],
        ) from None
    return parse_json(text, str(path), what, error)


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


#: The file every output folder segment writes holds; only such a folder is ever replaced.
MARKER = ".segment-output"
#: Temporaries (files, folders, a swapped-out old folder) start with this and the writer's pid.
TMP_PREFIX = ".segment-tmp-"
#: Lock files beside an output: ``.segment-lock-<name>`` (held with ``flock`` while writing).
LOCK_PREFIX = ".segment-lock-"
#: Free space any output needs at least.
MIN_FREE = 2**20
_TMP_NAME = re.compile(r"^\.segment-tmp-(\d+)-(.+)$")
#: Lock files held by this process, so that the library's writes inside a command that already
#: holds the output's lock do not lock it again.
_HELD: dict[str, int] = {}


def _refuse(path: str | os.PathLike, message: str) -> OutputError:
    return OutputError(f"{path}: {message}")


def resolve_output(path: str | os.PathLike) -> Path:
    """``path`` with symbolic links resolved (unchanged when it has none); a dangling link is
    refused, as GNU ``cp`` refuses to write through one."""
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise _refuse(
            path,
            f"is a symbolic link to {os.readlink(path)}, which does not exist; refusing to write "
            "through a dangling link: create its target or choose another -o",
        )
    real = Path(os.path.realpath(path))
    return path if real == Path(os.path.abspath(path)) else real


def marker_text(command: str) -> str:
    """The marker of a folder written by ``segment <command>`` (no time: outputs stay
    byte-identical)."""
    return (
        f"This folder was written by `segment {command}` (segment {__version__}).\n"
        "segment replaces a folder only while this file is in it.\n"
        f"command: {command}\nversion: {__version__}\n"
    )


def folder_owner(path: str | os.PathLike) -> str | None:
    """The command named by the marker of folder ``path`` (``""`` if unreadable), or None when it
    has no marker."""
    marker = Path(path) / MARKER
    if not marker.is_file():
        return None
    try:
        text = marker.read_text(encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return ""
    m = re.search(r"^command: (\S+)$", text, flags=re.MULTILINE)
    return m.group(1) if m else ""


def check_replaceable_folder(
    path: Path, command: str, legacy: Callable[[Path], bool] | None = None
) -> None:
    """Refuse to replace ``path`` unless it is missing, empty, or a folder ``segment <command>``
    made (its marker, or ``legacy`` for folders written before markers existed)."""
    if not (path.exists() or path.is_symlink()):
        return
    if not path.is_dir():
        raise _refuse(path, "exists and is not a folder; refusing to replace it; choose another -o")
    owner = folder_owner(path)
    if owner is None:
        if not any(path.iterdir()) or (legacy is not None and legacy(path)):
            return
        raise _refuse(
            path,
            f"not a folder segment made (no {MARKER} marker); refusing to replace it; choose "
            "another -o or remove it yourself",
        )
    if owner != command:
        made = f"`segment {owner}`" if owner else "an unknown command"
        raise _refuse(
            path,
            f"a folder made by {made}, not by `segment {command}`; refusing to replace it; choose "
            "another -o or remove it yourself",
        )


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_output(
    path: str | os.PathLike,
    *,
    folder: bool,
    inputs: Iterable[str | os.PathLike | None] = (),
    need_bytes: int = 0,
) -> Path:
    """Check an output location before any work: not an input, not a folder holding one or the
    working folder, not ``/`` or the home folder, and writable (a probe file is created in the
    destination folder and removed; at least ``need_bytes`` free). Returns the path to write to
    (:func:`resolve_output`)."""
    target = resolve_output(path)
    real = Path(os.path.realpath(target))
    shown = str(path)
    cwd = Path(os.path.realpath(os.getcwd()))
    home = Path(os.path.realpath(os.path.expanduser("~")))
    if real == Path(real.anchor) or real == home or _within(cwd, real):
        where = "the root folder" if real == Path(real.anchor) else "the home folder"
        if _within(cwd, real) and real not in (home, Path(real.anchor)):
            where = "the working folder" if real == cwd else "a folder holding the working folder"
        raise _refuse(shown, f"is {where}; refusing to write over it; choose another -o")
    for inp in inputs:
        if inp is None or not os.path.exists(inp):
            continue
        ri = Path(os.path.realpath(inp))
        same = real.exists() and os.path.samefile(real, ri)
        if same or real == ri:
            raise _refuse(shown, f"is an input of this command ({inp}); choose another -o")
        if _within(ri, real):
            raise _refuse(
                shown, f"holds an input of this command ({inp}); refusing to write over it"
            )
        if ri.is_dir() and _within(real, ri):
            raise _refuse(shown, f"is inside an input folder of this command ({inp})")
    if not folder and real.is_dir():
        raise _refuse(shown, "is a folder; expected a file name")
    probe_folder(real.parent, need_bytes, shown)
    return target


def probe_folder(folder: Path, need_bytes: int = 0, shown: str | None = None) -> None:
    """Refuse unless files can be written into ``folder`` (or its nearest existing ancestor,
    when it is still to be made): it is a folder, a probe file can be created there, and at least
    ``need_bytes`` are free."""
    base = folder
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise _refuse(shown or folder, f"{base} is a file, not a folder; choose another -o")
    try:
        fd, probe = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-probe-", dir=base)
        try:
            os.write(fd, b"\0" * 4096)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise _refuse(
            shown or folder, f"cannot write into {base}: {exc.strerror or exc}; choose another -o"
        ) from None
    free = shutil.disk_usage(base).free
    need_bytes = max(need_bytes, MIN_FREE)
    if free < need_bytes:
        raise _refuse(
            shown or folder,
            f"only {free / 2**20:.1f} MiB free in {base}, about {need_bytes / 2**20:.1f} MiB "
            "needed; free some space or choose another -o",
        )


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def clean_stale(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporaries segment left in ``folder`` when a writer died (``kill -9``, power
    loss): entries named ``.segment-tmp-<pid>-...`` whose process is gone. A swapped-out old
    output (``...<name>.old``) is put back when ``<name>`` itself is missing. Returns what was
    removed or put back."""
    folder = Path(folder)
    done: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return done
    for entry in entries:
        m = _TMP_NAME.match(entry.name)
        if m is None or _alive(int(m.group(1))):
            continue
        path = Path(entry.path)
        rest = m.group(2)
        if rest.endswith(".old"):
            original = folder / rest[: -len(".old")]
            if not (original.exists() or original.is_symlink()):
                os.replace(path, original)
                done.append(path)
                continue
        _remove(path)
        done.append(path)
    return done


@contextmanager
def output_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold ``.segment-lock-<name>`` beside ``path`` (``fcntl.flock``, not blocking) while
    writing; a second writer of the same output is refused at once with the holder's pid.
    Re-entrant within one process. Parent folders it had to make are removed again if still
    empty when it is released."""
    import fcntl

    path = Path(os.path.realpath(path))
    made = []
    parent = path.parent
    while not parent.exists():
        made.append(parent)
        parent = parent.parent
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.parent / f"{LOCK_PREFIX}{path.name}"
    key = str(lock)
    if key in _HELD:
        yield
        return
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise _refuse(
                path,
                f"another segment command is writing {path} (lock held by pid {holder}); "
                "wait for it to finish or choose another -o",
            ) from None
        try:
            st = os.stat(lock)
        except FileNotFoundError:
            st = None
        here = os.fstat(fd)
        if st is not None and (st.st_ino, st.st_dev) == (here.st_ino, here.st_dev):
            break
        os.close(fd)  # the holder removed the file between our open and flock: try again
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _HELD[key] = fd
    try:
        yield
    finally:
        del _HELD[key]
        lock.unlink(missing_ok=True)
        os.close(fd)
        for folder in made:
            try:
                folder.rmdir()
            except OSError:
                break


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    A symbolic link at ``path`` is followed (its target is replaced); stale temporaries of dead
    writers in the folder are removed first."""
    path = resolve_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(path):
        clean_stale(path.parent)
        fd, tmp = tempfile.mkstemp(
            prefix=f"{TMP_PREFIX}{os.getpid()}-{path.name}-", suffix=".tmp", dir=path.parent
        )
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
def atomic_directory(
    path: str | os.PathLike,
    command: str | None = None,
    legacy: Callable[[Path], bool] | None = None,
) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; when the block succeeds, swap it in for
    ``path`` (an existing folder there is replaced, and put back if the swap fails). A failed
    block leaves ``path`` as it was and no temporary folder behind.

    With ``command``, the folder gets the :data:`MARKER` of ``segment <command>`` and an existing
    folder is replaced only if it is empty or carries that marker (or ``legacy(path)`` holds).
    A symbolic link at ``path`` is followed: the folder replaces the link's target."""
    path = resolve_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(path):
        clean_stale(path.parent)
        legacy_old = path.with_name(f".{path.name}.old")  # left by versions before 17
        if legacy_old.exists() or legacy_old.is_symlink():
            if path.exists():
                _remove(legacy_old)
            else:
                os.replace(legacy_old, path)
        if command is not None:
            check_replaceable_folder(path, command, legacy)
        tmp = Path(
            tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-{path.name}-", dir=path.parent)
        )
        try:
            yield tmp
            if command is not None:
                (tmp / MARKER).write_text(marker_text(command), encoding="utf-8", newline="\n")
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)  # mkdtemp creates 0700; outputs are ordinary folders
            for f in tmp.rglob("*"):
                if f.is_file():
                    os.chmod(f, 0o666 & ~umask)
            old = None
            if path.exists():
                old = path.with_name(f"{TMP_PREFIX}{os.getpid()}-{path.name}.old")
                if old.exists():
                    _remove(old)
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
