"""Independent fits (bootstrap refits) in parallel worker processes, with the same results.

:func:`map_in_order` calls a function on every task and returns the results in task order,
in this process (``n_jobs=1``) or in joblib's loky worker processes. The tasks carry
everything random (the resampled rows, the simulated answers, the seeds), drawn by the caller
in the order a serial loop draws them, so the results do not depend on the number of
processes or on which worker ran what. Each worker computes with one thread (BLAS, OpenMP and
numba) so that the processes do not compete for the cores; loky keeps its workers between
calls, so only the first parallel step of a run pays for starting them (about 1-2 s: Python,
scikit-learn and the compiled kernels from numba's disk cache).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

__all__ = ["default_jobs", "map_in_order", "map_unordered", "resolve_jobs"]

T = TypeVar("T")
R = TypeVar("R")

#: Fewer tasks than this run in-process: starting workers would cost more than they save.
MIN_PARALLEL_TASKS = 8


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)  # not Linux


def default_jobs() -> int:
    """Worker processes when the user gives none: ``SEGMENT_JOBS``, else the usable cores."""
    configured = os.environ.get("SEGMENT_JOBS", "").strip()
    if configured.isdigit() and int(configured) >= 1:
        return int(configured)
    return _usable_cores()


def resolve_jobs(n_jobs: int | None) -> int:
    """``None``: :func:`default_jobs`; ``-1``: every usable core; else ``n_jobs`` (>= 1)."""
    if n_jobs is None:
        return default_jobs()
    if n_jobs == -1:
        return _usable_cores()
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, -1 or None, got {n_jobs!r}")
    return int(n_jobs)


def _one_thread(func: Callable[[Any], Any], task: Any) -> Any:
    import numba

    numba.set_num_threads(1)
    return func(task)


def map_in_order(func: Callable[[T], R], tasks: Sequence[T], n_jobs: int | None = None) -> list[R]:
    """``[func(t) for t in tasks]``, on up to ``n_jobs`` processes (see the module docstring).

    ``func`` must be a module-level function (it is sent to the workers by reference).
    """
    jobs = min(resolve_jobs(n_jobs), len(tasks))
    if jobs <= 1 or len(tasks) < MIN_PARALLEL_TASKS:
        return [func(t) for t in tasks]
    from joblib import Parallel, delayed

    run = Parallel(n_jobs=jobs, backend="loky", inner_max_num_threads=1)
    return list(run(delayed(_one_thread)(func, t) for t in tasks))


def map_unordered(
    func: Callable[[T], R], tasks: Sequence[T], n_jobs: int | None = None
) -> Iterator[R]:
    """``func(t)`` for every task, yielded as each finishes (in task order in this process).

    For a caller that reports progress; ``func``'s results must say which task they belong to.
    Tasks are sent to the workers one at a time, in the order given (put the slowest first).
    """
    jobs = min(resolve_jobs(n_jobs), len(tasks))
    if jobs <= 1:
        yield from (func(t) for t in tasks)
        return
    from joblib import Parallel, delayed

    run = Parallel(
        n_jobs=jobs,
        backend="loky",
        inner_max_num_threads=1,
        batch_size=1,
        return_as="generator_unordered",
    )
    yield from run(delayed(_one_thread)(func, t) for t in tasks)
