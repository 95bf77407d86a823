"""Defaults that the command line shows in its help and the library uses, kept in a module that
imports nothing, so that ``segment --help`` need not import the library to print them."""

from __future__ import annotations

#: Bootstrap resamples per k for stability: the default of
#: :func:`segment.models.selection.select_n_components`, ``segment select`` and ``segment run``,
#: so that the two commands give the same table for the same data and seed.
SELECT_N_BOOT = 5
