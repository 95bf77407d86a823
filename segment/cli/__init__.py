"""The ``segment`` command line. The only module that prints.

Every command exits 0 on success and 2 on bad input, printing one message that lists every
problem found (file, column or location, row, value, expected). Outputs are written atomically:
a failed command leaves no partial file, and existing files are only replaced with ``--force``.
"""

from __future__ import annotations

import sys

import click

from ..exceptions import InputError, SegmentError
from . import compare, listexp, quiz, scoring, segments, survey, weights  # noqa: F401 - registers the commands
from ._common import cli, err

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning input errors into exit code 2."""
    try:
        cli.main(args=argv, prog_name="segment", standalone_mode=False)
    except click.exceptions.Abort:
        err.print("Aborted.")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except InputError as exc:
        err.print(str(exc), markup=False)
        sys.exit(2)
    except SegmentError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(2)
    except SystemExit:
        raise
    sys.exit(0)
