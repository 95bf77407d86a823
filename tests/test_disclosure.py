"""The disclosure-control mechanism (segment/disclosure.py) against differencing attacks.

The attacker of these tests knows every published cell and every line total, and solves for the
hidden cells; the rank test below is independent of the module's null-space test.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segment.disclosure import (
    MIN_CELL_SIZE,
    determined_cells,
    protect_cells,
    published,
    recoverable,
    table_lines,
)


def _recoverable(hidden: np.ndarray, lines: list[np.ndarray], j: int) -> bool:
    """Whether hidden cell ``j`` follows from the line totals: its column of the incidence
    matrix is outside the span of the other hidden cells' columns."""
    cells = np.flatnonzero(hidden)
    M = np.array([[1.0 if c in line else 0.0 for c in cells] for line in lines])
    if M.size == 0:
        return False
    others = M[:, cells != j]
    rank_all = np.linalg.matrix_rank(M)
    rank_others = np.linalg.matrix_rank(others) if others.size else 0
    return rank_all > rank_others


tables = st.tuples(st.integers(1, 5), st.integers(1, 5)).flatmap(
    lambda shape: st.lists(
        st.integers(0, 120), min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]
    ).map(lambda cells: np.array(cells, dtype=float).reshape(shape))
)


@settings(max_examples=150, deadline=None)
@given(tables, st.booleans(), st.booleans())
def test_no_small_cell_is_recoverable_from_a_protected_table(table, rows, columns):
    n_rows, n_cols = table.shape
    lines = table_lines(n_rows, n_cols, row_totals=rows, column_totals=columns)
    counts = table.ravel()
    # a line's total is published only when it describes enough respondents itself, and a line
    # of one cell publishes that cell (the caller never lists one)
    lines = [line for line in lines if counts[line].sum() >= MIN_CELL_SIZE and line.size > 1]
    hide = protect_cells(counts, lines)

    assert np.all(hide[counts < MIN_CELL_SIZE]), "a cell under the threshold is shown"
    for line in lines:
        hidden_total = counts[line][hide[line]].sum()
        assert hidden_total == 0 or hidden_total >= MIN_CELL_SIZE, (table, line)
    for j in np.flatnonzero(hide & (counts > 0) & (counts < MIN_CELL_SIZE)):
        assert not _recoverable(hide, lines, j), (table, j)


def test_one_hidden_group_gets_a_complement():
    # groups of 400, 250, 12 and 5 respondents with missing labels: the total is published, so
    # hiding the 12 alone would give it away (1,500 - 400 - 250 - ... ).
    counts = np.array([400.0, 250.0, 12.0, 838.0, 5.0])
    hidden = np.array([False, False, False, False, True])  # the missing label is never shown
    hide = protect_cells(counts, [np.arange(5)], hidden=hidden)
    assert hide.tolist() == [False, True, True, False, True]


def test_a_large_enough_hidden_union_needs_no_complement():
    counts = np.array([400.0, 250.0, 12.0, 25.0])
    hide = protect_cells(counts, [np.arange(4)])
    assert hide.tolist() == [False, False, True, True]


def test_the_audit_catches_a_cell_isolated_by_two_lines():
    # A 2 x 2 table where one row and one column are fully hidden except for a small corner:
    # row sums and column sums together pin the small cell down unless a fourth cell goes.
    counts = np.array([5.0, 40.0, 40.0, 300.0])
    lines = table_lines(2, 2)
    hide = protect_cells(counts, lines)
    for j in np.flatnonzero(hide & (counts < MIN_CELL_SIZE)):
        assert not _recoverable(hide, lines, j)
    assert hide.all()


@pytest.mark.parametrize(
    ("hidden", "expected"),
    [
        ([True, False, False], [True, False, False]),  # alone in a line: determined
        ([True, True, False], [False, False, False]),  # two in one line: only their sum
    ],
)
def test_determined_cells(hidden, expected):
    assert determined_cells(np.array(hidden), [np.arange(3)]).tolist() == expected


@pytest.mark.parametrize(
    ("value", "kind", "se", "expected"),
    [
        (0.123456, "share", None, 0.123),
        (0.123456, "share", 0.041, 0.123),
        (0.123456, "share", 0.41, 0.12),
        (2.87654, "mean", None, 2.88),
        (12.3456, "percent", None, 12.3),
        (0.0412345, "se", None, 0.041),
        (1499.6, "count", None, 1500),
        (0.0123456, "p", None, 0.012),
        (0.87654, "p", None, 0.88),
        (float("nan"), "share", None, None),
        (None, "mean", None, None),
    ],
)
def test_published_precision(value, kind, se, expected):
    assert published(value, kind, se=se) == expected


def test_recoverable_sums():
    # cells a, b, c, d; published: a + b + c + d, c + d, d
    sets = np.array([[1, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1]])
    targets = np.array(
        [
            [1, 1, 0, 0],  # a + b = total - (c + d): recoverable
            [1, 0, 0, 0],  # a alone: not
            [0, 0, 1, 0],  # c = (c + d) - d: recoverable
            [1, 0, 1, 0],  # a + c: not
        ]
    )
    assert recoverable(sets, targets).tolist() == [True, False, True, False]
    assert recoverable(np.zeros((0, 4)), targets).tolist() == [False] * 4


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_recoverable_agrees_with_determined_cells_on_unit_targets(n_lines, n_cells, seed):
    rng = np.random.default_rng(seed)
    incidence = rng.random((n_lines, n_cells)) < 0.5
    lines = [np.flatnonzero(row) for row in incidence]
    expected = determined_cells(np.ones(n_cells, dtype=bool), lines)
    assert recoverable(incidence.astype(float), np.eye(n_cells)).tolist() == expected.tolist()
