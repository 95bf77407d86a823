"""Shared pieces of the command line: consoles, common options, the command group."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from .. import __version__

BUNDLED_DATA = "kz2020_synthetic.csv"
BUNDLED_CODEBOOK = "kz2020_synthetic_codebook.yaml"
SYNTHETIC_BANNER = (
    "SYNTHETIC DATA: these respondents were generated from the kz2020 typology; "
    "the real 2020 poll is not public."
)

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
    "--encoding", default="utf-8", show_default=True, help="Text encoding of CSV input."
)
FORCE = click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
CODEBOOK = _option_codebook()


def _refuse_existing(paths: list[Path], force: bool) -> None:
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise click.UsageError(
            f"output exists and would be replaced: {', '.join(existing)}; pass --force to replace it"
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="segment")
def cli() -> None:
    """Attitude segmentation for opinion polls (see README.md)."""
