"""Shared pieces of the command line: consoles, common options, the command group.

Printing user-supplied text (issue 17; README, "Outputs that never harm"): the consoles
:data:`out` and :data:`err` write every control character of what they print as a visible
escape (:func:`~segment._escape.visible_controls`) and never read ``:emoji:`` codes. Where rich
reads markup (a message printed with markup, a table cell, header or title), user text goes
through :func:`~segment._escape.terminal_text`: a whole message with :func:`say`, tables built
with :class:`Table` (which escapes every ``str`` cell, header, title and caption), styled user
text as ``Text(visible_controls(value), style=...)``. What is written without rich goes through
:func:`echo` (plain text, Markdown) or :func:`echo_json`; click's own error messages through
:func:`show_click_error`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import click
from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.table import Table as RichTable
from rich.text import Text

from segment._escape import terminal_json, terminal_text, visible_controls
from segment._version import __version__

BUNDLED_DATA = "kz2020_synthetic.csv"
BUNDLED_CODEBOOK = "kz2020_synthetic_codebook.yaml"
SYNTHETIC_BANNER = (
    "SYNTHETIC DATA: these respondents were generated from the kz2020 typology; "
    "the real 2020 poll is not public."
)

#: Bounds on option values that size an allocation or the work (docs/formats.md, "Limits").
MAX_SEGMENTS = 100
MAX_STARTS = 1000
MAX_REPLICATES = 100_000
MAX_CONTROL_ITEMS = 50
MAX_SYNTHETIC_RESPONDENTS = 1_000_000
MAX_JOBS = 1024
#: Random seeds: what numpy's legacy seeding and scikit-learn's ``random_state`` accept.
SEED = click.IntRange(0, 2**32 - 1)


class FiniteFloatRange(click.FloatRange):
    """:class:`click.FloatRange` that also refuses ``nan`` and ``inf`` (which pass its bounds
    or mean nothing)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class TerminalConsole(Console):
    """A rich console that prints no control character: every one in the text it prints (a
    ``str`` before it is laid out, anything else as it is rendered) is written as a visible
    escape, however the text reached it (markup or not, a ``Text``, a table, Markdown)."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(visible_controls(text), **kwargs)

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None and not segment.text.isprintable():
                segment = segment._replace(text=visible_controls(segment.text))
            yield segment


# wide enough for the fit tables when output goes to a file or a pipe
out = TerminalConsole(
    highlight=False, soft_wrap=False, emoji=False, width=None if sys.stdout.isatty() else 140
)
err = TerminalConsole(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def say(console: Console, message: object, **kwargs: Any) -> None:
    """Print a message that holds user-supplied text (and no markup of its own) literally:
    through :func:`~segment._escape.terminal_text`, so no ``[tag]`` in a name is read as markup.
    ``kwargs`` go to :meth:`rich.console.Console.print` (``style``, ``soft_wrap``)."""
    console.print(terminal_text(message), **kwargs)


def _cell(value: Any) -> Any:
    return terminal_text(value) if isinstance(value, str) else value


class Table(RichTable):
    """A rich table for user-supplied text: every ``str`` cell, column header and footer, title
    and caption goes through :func:`~segment._escape.terminal_text`, so it prints as written
    (markup of the command line's own: pass a ``Text``). Every command builds its tables with
    it, never with ``rich.table.Table``."""

    def __init__(self, *headers: Any, title: Any = None, caption: Any = None, **kwargs: Any):
        super().__init__(*headers, title=_cell(title), caption=_cell(caption), **kwargs)

    def add_column(self, header: Any = "", footer: Any = "", **kwargs: Any) -> None:
        super().add_column(_cell(header), _cell(footer), **kwargs)

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        super().add_row(*(_cell(r) for r in renderables), **kwargs)


def echo(text: str, *, nl: bool = True) -> None:
    """Write plain text (a problem list, Markdown) to stdout with :func:`click.echo`, every
    control character as a visible escape (:func:`~segment._escape.visible_controls`)."""
    click.echo(visible_controls(text), nl=nl)


def echo_json(obj: Any) -> None:
    """Write ``obj`` as JSON text, every control, bidi or format character as a ``\\u`` escape
    (:func:`~segment._escape.terminal_json`): the same values, nothing a terminal acts on."""
    from segment._util import json_text

    click.echo(terminal_json(json_text(obj)))


class _VisibleStream:
    """A text stream that writes to ``stream`` with every control character made visible.

    It says it is a terminal, so that click writes escape sequences to it (to be shown) rather
    than deleting them, as it does for a file or a pipe."""

    def __init__(self, stream: IO[str]):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(visible_controls(text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return True


def show_click_error(exc: click.ClickException) -> None:
    """Print a click error (usage, bad parameter: they quote file names and arguments) as click
    does, on stderr, with every control character made visible."""
    exc.show(file=_VisibleStream(sys.stderr))  # type: ignore[arg-type]


def _option_codebook(help_text: str = "Codebook YAML of DATA (default: drafted from the file)."):
    return click.option(
        "--codebook",
        "codebook_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help=help_text,
    )


ENCODING = click.option(
    "--encoding",
    default="utf-8",
    show_default=True,
    help="Text encoding of CSV input (utf-8, cp1251, utf-16, ...).",
)
FORCE = click.option(
    "--force",
    is_flag=True,
    help="Replace OUTPUT if it exists (a folder only if this command made it; never an input).",
)
CODEBOOK = _option_codebook()


def _refuse_existing(paths: list[Path], force: bool) -> None:
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise click.UsageError(
            f"output exists and would be replaced: {', '.join(existing)}; "
            "pass --force to replace it"
        )


def guard_file(path: Path, inputs, force: bool, need_bytes: int = 0) -> Path:
    """Check a single-file output before any work (README, "Where outputs go"): never an input
    (nor a folder), an existing file replaced only with ``force``, the folder writable. Holds
    the output's lock until the command ends. Returns the path to write (links resolved)."""
    from segment._files import check_output, output_lock

    target = check_output(path, folder=False, inputs=inputs, need_bytes=need_bytes)
    _refuse_existing([target], force)
    click.get_current_context().with_resource(output_lock(target))
    return target


def guard_folder(
    path: Path,
    command: str,
    inputs,
    force: bool,
    replace_own: bool = False,
    legacy=None,
    need_bytes: int = 0,
) -> Path:
    """Check an output folder before any work: as :func:`guard_file`, and an existing folder is
    replaced only if empty or made by ``segment <command>`` (its ``.segment-output`` marker), with
    ``force`` (or without, when ``replace_own``)."""
    from segment._files import check_output, check_replaceable_folder, output_lock

    target = check_output(path, folder=True, inputs=inputs, need_bytes=need_bytes)
    check_replaceable_folder(target, command, legacy)
    if target.is_dir() and any(target.iterdir()) and not (force or replace_own):
        raise click.UsageError(
            f"output exists and would be replaced: {path}; pass --force to replace it"
        )
    click.get_current_context().with_resource(output_lock(target))
    return target


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="segment")
def cli() -> None:
    """Attitude segmentation for opinion polls (see README.md)."""


def warn_if_drafted(codebook_path: Path | None) -> None:
    if codebook_path is None:
        err.print(
            "warning: no --codebook: using a codebook drafted from the file. Every unlabelled "
            "code counts as an answer on an ordered scale, so don't-know or refused codes such as "
            "8, 9 or 99 would be read as the top of the scale; write a codebook for real work "
            "(segment codebook infer DATA -o codebook.yaml, then review it).",
            markup=False,
        )


def parse_ks(text: str) -> list[int]:
    """Numbers such as ``2-8`` or ``3,4,6``, sorted and unique."""
    ks: list[int] = []
    for part in text.split(","):
        lo, sep, hi = part.partition("-")
        try:
            bounds = (int(lo), int(hi) if sep else int(lo))
        except ValueError:
            raise click.BadParameter(
                f"expected numbers like 2-10 or 3,4,6, got {text!r}", param_hint="--k"
            ) from None
        if max(bounds) > MAX_SEGMENTS:
            raise click.BadParameter(
                f"at most {MAX_SEGMENTS} segments, got {text!r}", param_hint="--k"
            )
        ks.extend(range(bounds[0], bounds[1] + 1))
    if not ks or min(ks) < 1:
        raise click.BadParameter(f"k must be positive, got {text!r}", param_hint="--k")
    return sorted(set(ks))


MEASUREMENT = click.option(
    "--measurement",
    type=click.Choice(["nominal", "ordinal", "cumulative"]),
    default="nominal",
    show_default=True,
    help="Item model: nominal (free answer probabilities), or the codebook's ordinal items as "
    "adjacent-category (ordinal) or cumulative logits (far fewer parameters).",
)

JOBS = click.option(
    "--jobs",
    "jobs",
    type=click.IntRange(min=1, max=MAX_JOBS),
    default=None,
    help="Processes for independent fits (each k's fit, bootstrap refits); default: "
    "SEGMENT_JOBS, else one per core; 1: one fit after another in this process. The results "
    "are the same either way.",
)


def progress_bar(total: int, quiet: bool, label: str):
    """A rich progress bar on stderr and its tick function (both None when quiet)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if quiet:
        return None, None
    bar = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(label, total=total)
    return bar, (lambda message: bar.update(task, advance=1, description=message))
