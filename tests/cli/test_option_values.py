"""Every numeric option of every command refuses what it cannot mean (issue 17): exit 2 with
the option named, before any file is read; no traceback, no MemoryError from one number.

The options are found by walking the command tree, so a new option is swept too."""

from __future__ import annotations

import click
import pytest
from helpers import run_cli

from segment.cli import cli
from segment.cli._common import FiniteFloatRange

#: Placeholder arguments: never read, since a bad option value stops parsing first.
ARGUMENT = "no-such-file.csv"
#: Options that are required, with a good value, so that the option under test is the problem.
REQUIRED = {"--J": "4", "-o": "out", "--margins": "margins.yaml"}
#: Integer options that need no upper bound: they size nothing (a threshold, a seed checked
#: elsewhere, a chunk that is capped by the data, an iteration limit that only costs time
#: the user asked for, a sample size in arithmetic) or are checked against the data.
UNBOUNDED = {
    "--min-cell",
    "--chunk-size",
    "--max-iter",
    "--size",
    "--folds",
    "--n",
}


def commands(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def numeric_options():
    for path, command in commands():
        for p in command.params:
            if isinstance(p, click.Option) and isinstance(
                p.type, (click.IntRange, click.FloatRange)
            ):
                yield path, command, p


def base_args(path, command, skip: click.Option) -> list[str]:
    args = list(path)
    args += [ARGUMENT for p in command.params if isinstance(p, click.Argument)]
    for p in command.params:
        if isinstance(p, click.Option) and p.required and p is not skip:
            args += [p.opts[0], REQUIRED[p.opts[0]]]
    return args


CASES = [
    pytest.param(path, option, value, id=f"{' '.join(path)} {option.opts[0]} {value}")
    for path, command, option in numeric_options()
    for value in (
        ["nan", "inf", "-inf", "1e400", "-1e400"]
        if isinstance(option.type, click.FloatRange)
        else [str(10**30), "-" + str(10**30), "1.5", "many"]
    )
    if not (option.opts[0] in UNBOUNDED and value == str(10**30))
]


def test_the_sweep_reaches_every_command():
    swept = {path for path, _, _ in numeric_options()}
    assert {("fit",), ("select",), ("listexp",), ("synth",), ("score",), ("run",)} <= swept
    assert len(CASES) > 80


@pytest.mark.parametrize(("path", "option", "value"), CASES)
def test_a_number_an_option_cannot_mean_is_refused(
    path, option, value, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    command = dict(commands())[path]
    args = [*base_args(path, command, option), option.opts[0], value]
    code, out, err = run_cli(args, capsys)
    assert code == 2, (args, out, err)
    assert "Traceback" not in err and "Error" in err
    assert option.opts[0] in err or (option.name or "") in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("path", "option"),
    [pytest.param(path, p, id=f"{' '.join(path)} {p.opts[0]}") for path, _, p in numeric_options()],
)
def test_every_numeric_option_is_bounded(path, option):
    """A float option refuses nan and inf; an integer option has an upper bound unless it
    sizes nothing (``UNBOUNDED``)."""
    if isinstance(option.type, click.FloatRange):
        assert isinstance(option.type, FiniteFloatRange)
    elif option.opts[0] not in UNBOUNDED:
        assert option.type.max is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["select", ARGUMENT, "--k", "2-999999999"], "at most 100 segments"),
        (["run", ARGUMENT, "--ks", "2-101"], "at most 100 segments"),
    ],
)
def test_option_values_checked_after_parsing(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(args, capsys)
    assert code == 2 and message in err and "Traceback" not in err
