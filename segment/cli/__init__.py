"""The ``segment`` command line. The only part of the package that prints.

One module per command or command group, named after it (``select_command`` and
``profile_command`` for ``segment select`` and ``segment profile``: ``select`` and ``profile``
are standard-library names). A command parses its arguments, calls the library and prints;
statistics and file formats live in the library.

Every command exits 0 on success and 2 on bad input, printing one message that lists every
problem found (file, column or location, row, value, expected). Outputs are written atomically:
a failed command leaves no partial file, and existing files are only replaced with ``--force``.
"""

from __future__ import annotations

import sys
import warnings

import click

from segment.exceptions import InputError, SegmentError

from . import (  # noqa: F401 - importing a command module registers its command
    codebook,
    compare,
    describe,
    fit,
    listexp,
    profile_command,
    quiz,
    run,
    score,
    select_command,
    synth,
    typing_tool,
    typology,
    weights,
)
from ._common import cli, err, say, show_click_error

__all__ = ["cli", "main"]


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A library warning as one line a user can read (no source path, no code line)."""
    say(err, f"warning: {message}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning input errors into exit code 2 and library warnings into
    one-line messages."""
    with warnings.catch_warnings():
        warnings.showwarning = _print_warning
        _main(argv)


def _main(argv: list[str] | None) -> None:
    try:
        cli.main(args=argv, prog_name="segment", standalone_mode=False)
    except click.exceptions.Abort:
        err.print("Aborted.")
        sys.exit(1)
    except click.ClickException as exc:
        show_click_error(exc)
        sys.exit(2)
    except InputError as exc:  # every problem, each quoting file, column and value from input
        say(err, str(exc))
        sys.exit(2)
    except SegmentError as exc:
        say(err, f"error: {exc}")
        sys.exit(2)
    except SystemExit:
        raise
    sys.exit(0)
