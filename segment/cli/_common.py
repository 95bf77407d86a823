"""Shared pieces of the command line: consoles, common options, the command group."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click
from rich.console import Console

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


# wide enough for the fit tables when output goes to a file or a pipe
out = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, highlight=False, soft_wrap=True)


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


def progress_bar(total: int, quiet: bool, label: str):
    """A rich progress bar on stderr and its tick function (both None when quiet)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if quiet:
        return None, None
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(label, total=total)
    return bar, (lambda message: bar.update(task, advance=1, description=message))
