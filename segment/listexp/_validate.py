"""Input checks and covariate matrices shared by the list-experiment estimators.

Every check collects all problems found and raises one :class:`~segment.exceptions.InputError`
naming the column, the 1-based row and the bad value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from segment._util import z_critical
from segment.exceptions import InputError, Problem, problems_at_rows

#: At most this many bad rows are listed per column and kind of problem; the rest are counted.
_MAX_ROWS_LISTED = 20
_SOURCE = "data"


# --------------------------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------------------------


def _rows_problems(where: str, bad: np.ndarray, values: np.ndarray, message: str) -> list[Problem]:
    """One Problem per bad row of the list-experiment data (see :func:`problems_at_rows`)."""
    return problems_at_rows(_SOURCE, where, bad, values, message, _MAX_ROWS_LISTED)


def _as_1d(x, name: str, problems: list[Problem]) -> np.ndarray | None:
    """``x`` as a one-dimensional array, or None with a problem reported."""
    if isinstance(x, (pd.Series, pd.Index)):
        x = x.to_numpy()
    arr = np.asarray(x)
    if arr.ndim != 1:
        problems.append(
            Problem(_SOURCE, name, f"expected a one-dimensional array, got shape {arr.shape}")
        )
        return None
    return arr


def _numeric(arr: np.ndarray, name: str, problems: list[Problem]) -> np.ndarray | None:
    """Float copy of ``arr``; every non-numeric entry is reported."""
    if arr.dtype == bool:
        return arr.astype(float)
    if np.issubdtype(arr.dtype, np.number):
        return arr.astype(float)
    out = np.empty(arr.shape, dtype=float)
    bad = np.zeros(arr.shape, dtype=bool)
    for i, v in enumerate(arr):  # only reached for object/string input, not on the fast path
        if v is None:
            out[i] = np.nan
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            bad[i] = True
            out[i] = np.nan
    if bad.any():
        problems.extend(_rows_problems(name, bad, arr, "not a number"))
        return None
    return out


def _check_list_data(y, treat, J, weights, *, what: str, max_J: int | None = None):
    """Validate a standard-design list experiment; raise InputError listing every problem.

    ``max_J`` bounds ``J``, given or read from the counts, for an estimator that it sizes.
    Returns ``(y, t, J, w)`` as float arrays (``t`` boolean, ``w`` None when no weights).
    """
    y_arr, t_arr, w_arr, n = _check_lengths(y, treat, weights, what)
    problems: list[Problem] = []
    yf = _numeric(y_arr, "y", problems)
    tf, bad_t = _treatment_values(t_arr, problems)
    wf = None
    if w_arr is not None:
        wf = _weight_values(w_arr, problems)
    J = _checked_J(J, problems)
    if yf is not None:
        problems.extend(_count_problems(yf, y_arr, tf, J))
    if not bad_t.any():
        problems.extend(_no_respondent_problems(tf, wf, n))
    if problems or yf is None:  # yf is None only with a problem reported
        raise InputError(what, problems)
    t = tf == 1.0
    if J is None:
        J = int(max(yf[~t].max(), yf[t].max() - 1, 1))
    if max_J is not None and J > max_J:
        raise InputError(
            what,
            [
                Problem(
                    _SOURCE,
                    "J",
                    f"expected at most {max_J} control items for this estimator (a list of 3 "
                    "to 6 is usual)",
                    value=J,
                )
            ],
        )
    return yf, t, int(J), wf


def _check_lengths(
    y, treat, weights, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    """``(y, treat, weights, n)`` as one-dimensional arrays of one length ``n``, or InputError."""
    problems: list[Problem] = []
    y_arr = _as_1d(y, "y", problems)
    t_arr = _as_1d(treat, "treat", problems)
    w_arr = None if weights is None else _as_1d(weights, "weights", problems)
    if problems or y_arr is None or t_arr is None:  # None only with a problem reported
        raise InputError(what, problems)
    n = y_arr.size
    for name, arr in (("treat", t_arr), ("weights", w_arr)):
        if arr is not None and arr.size != n:
            problems.append(
                Problem(
                    _SOURCE,
                    name,
                    f"has {arr.size} values but y has {n}; expected one per respondent",
                )
            )
    if problems:
        raise InputError(what, problems)
    return y_arr, t_arr, w_arr, n


def _treatment_values(t_arr: np.ndarray, problems: list[Problem]) -> tuple[np.ndarray, np.ndarray]:
    """The treatment as floats (NaN where unreadable) and the rows that are not 0/1, reported."""
    # treat: booleans, 0/1 numbers or the strings TRUE/FALSE
    if t_arr.dtype == bool:
        tf = t_arr.astype(float)
    elif np.issubdtype(t_arr.dtype, np.number):
        tf = t_arr.astype(float)
    else:
        mapping = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0}
        tf = np.array([mapping.get(str(v).strip().lower(), np.nan) for v in t_arr])
    bad_t = ~np.isin(tf, (0.0, 1.0))
    if bad_t.any():
        problems.extend(
            _rows_problems(
                "treat", bad_t, t_arr, "expected a binary treatment indicator: 0/1 or False/True"
            )
        )
    return tf, bad_t


def _weight_values(w_arr: np.ndarray, problems: list[Problem]) -> np.ndarray | None:
    """The weights as floats; missing, infinite and negative weights are reported."""
    wf = _numeric(w_arr, "weights", problems)
    if wf is not None:
        miss = ~np.isfinite(wf)
        if miss.any():
            problems.extend(
                _rows_problems(
                    "weights",
                    miss,
                    w_arr,
                    "missing or infinite weight; expected a finite number >= 0",
                )
            )
        neg = np.isfinite(wf) & (wf < 0)
        if neg.any():
            problems.extend(
                _rows_problems("weights", neg, w_arr, "negative weight; expected a number >= 0")
            )
    return wf


#: The most control items the estimators that model the count distribution accept (they hold
#: J + 2 probabilities per respondent); real lists have 3 to 6 items. Differences in means
#: take any J (a domain contrast of scores up to 1000 is one).
MAX_CONTROL_ITEMS = 50


def _checked_J(J, problems: list[Problem]):
    """``J`` when it is None or a positive integer; None with a problem reported otherwise."""
    if J is not None:
        if isinstance(J, bool) or not isinstance(J, (int, np.integer)) or J < 1:
            problems.append(
                Problem(
                    _SOURCE, "J", "expected a positive integer number of control items", value=J
                )
            )
            J = None
    return J


def _count_problems(yf: np.ndarray, y_arr: np.ndarray, tf: np.ndarray, J) -> list[Problem]:
    """Item counts that are missing, fractional, negative or above ``J`` (``J + 1`` if treated)."""
    problems: list[Problem] = []
    miss = ~np.isfinite(yf)
    if miss.any():
        problems.extend(
            _rows_problems(
                "y",
                miss,
                y_arr,
                "missing item count; expected an integer count (drop incomplete rows first)",
            )
        )
    fin = np.isfinite(yf)
    nonint = fin & (yf != np.round(yf))
    if nonint.any():
        problems.extend(_rows_problems("y", nonint, y_arr, "expected a whole-number item count"))
    neg = fin & (yf < 0)
    if neg.any():
        problems.extend(_rows_problems("y", neg, y_arr, "negative item count; expected 0 or more"))
    if J is not None:  # rows with a bad treat value are reported under treat only
        over_c = fin & (tf == 0) & (yf > J)
        if over_c.any():
            problems.extend(
                _rows_problems(
                    "y",
                    over_c,
                    y_arr,
                    f"control respondent's count exceeds J = {J}; expected 0..{J}",
                )
            )
        over_t = fin & (tf == 1) & (yf > J + 1)
        if over_t.any():
            problems.extend(
                _rows_problems(
                    "y",
                    over_t,
                    y_arr,
                    f"treated respondent's count exceeds J + 1 = {J + 1}; expected 0..{J + 1}",
                )
            )
    return problems


def _no_respondent_problems(tf: np.ndarray, wf: np.ndarray | None, n: int) -> list[Problem]:
    """One problem per arm without respondents (with positive weight, when weighted)."""
    problems: list[Problem] = []
    pos = np.ones(n, bool) if wf is None else np.nan_to_num(wf) > 0
    for arm, label in ((1.0, "treated (treat = 1)"), (0.0, "control (treat = 0)")):
        if not np.any((tf == arm) & pos):
            problems.append(
                Problem(
                    _SOURCE,
                    "treat",
                    f"no {label} respondents{'' if wf is None else ' with positive weight'}; "
                    "both arms need respondents",
                )
            )
    return problems


# --------------------------------------------------------------------------------------------
# covariate matrices
# --------------------------------------------------------------------------------------------


def _covariate_matrix(X, n: int | None, intercept: bool, what: str, names: list[str] | None = None):
    """Covariate (regressor) matrix (float64, C-order) and column names; missing or constant
    columns are errors."""
    M, cols = _as_matrix(X, n, what)
    problems: list[Problem] = []
    for j, c in enumerate(cols):
        bad = ~np.isfinite(M[:, j])
        if bad.any():
            problems.extend(
                _rows_problems(
                    f"X[{c}]",
                    bad,
                    M[:, j],
                    "missing or infinite covariate; expected a finite number",
                )
            )
    if intercept:
        if M.shape[0] > 0:
            problems.extend(_constant_column_problems(M, cols))
        M = np.column_stack([np.ones(M.shape[0]), M])
        cols = ["(Intercept)", *cols]
    if problems:
        raise InputError(what, problems)
    return np.ascontiguousarray(M), cols


def _as_matrix(X, n: int | None, what: str) -> tuple[np.ndarray, list[str]]:
    """``X`` (None, a DataFrame or an array) as a float matrix of ``n`` rows, and column names."""
    if X is None:
        cols: list[str] = []
        M = np.empty((n or 0, 0))
    elif isinstance(X, pd.DataFrame):
        cols = [str(c) for c in X.columns]
        M = X.to_numpy(dtype=float)
    else:
        M = np.asarray(X, dtype=float)
        if M.ndim == 1:
            M = M[:, None]
        if M.ndim != 2:
            raise InputError(
                what,
                [Problem(_SOURCE, "X", f"expected a 2-D covariate matrix, got shape {M.shape}")],
            )
        cols = [f"x{j + 1}" for j in range(M.shape[1])]
    if n is not None and M.shape[0] != n:
        raise InputError(
            what,
            [
                Problem(
                    _SOURCE,
                    "X",
                    f"has {M.shape[0]} rows but y has {n}; expected one per respondent",
                )
            ],
        )
    return M, cols


def _constant_column_problems(M: np.ndarray, cols: list[str]) -> list[Problem]:
    """One problem per constant column of ``M`` (an intercept is about to be added)."""
    problems: list[Problem] = []
    with np.errstate(invalid="ignore"):
        lo = np.nanmin(np.where(np.isfinite(M), M, np.nan), axis=0) if M.shape[1] else np.array([])
        hi = np.nanmax(np.where(np.isfinite(M), M, np.nan), axis=0) if M.shape[1] else np.array([])
    for j in np.flatnonzero(lo == hi):
        problems.append(
            Problem(
                _SOURCE,
                f"X[{cols[j]}]",
                "constant column; an intercept is already added "
                "(pass intercept=False to supply your own)",
            )
        )
    return problems


def count_variation_problems(yf: np.ndarray, t: np.ndarray, *, within_arms: bool) -> list[Problem]:
    """Problems when the item count does not vary (rows of positive weight only).

    The same count from every respondent leaves nothing to estimate; with ``within_arms`` (the
    least-squares estimators) the same count from every respondent of one arm leaves that
    arm's regression without residual variance, so its standard errors would be zero.
    """
    if yf.size == 0:
        return []
    if yf.min() == yf.max():
        return [
            Problem(
                _SOURCE,
                "y",
                "every respondent gave the same item count; "
                "expected counts that vary (there is nothing to estimate)",
                value=f"{yf[0]:g}",
            )
        ]
    if not within_arms:
        return []
    problems: list[Problem] = []
    for arm, name in ((0, "control"), (1, "treatment")):
        counts = yf[t == arm]
        if counts.size and counts.min() == counts.max():
            problems.append(
                Problem(
                    _SOURCE,
                    "y",
                    f"every respondent in {name} gave the same item count, so least squares "
                    "has no residual variance there; expected counts that vary within each arm "
                    "(--method ml does not need it)",
                    value=f"{counts[0]:g}",
                )
            )
    return problems


def coef_table(params: np.ndarray, se: np.ndarray, index: pd.Index, level: float) -> pd.DataFrame:
    """Wald table: ``coef, se, z, p_value, ci_low, ci_high`` (normal reference distribution)."""
    z = z_critical(level)
    zz = params / se
    return pd.DataFrame(
        {
            "coef": params,
            "se": se,
            "z": zz,
            "p_value": 2 * stats.norm.sf(np.abs(zz)),
            "ci_low": params - z * se,
            "ci_high": params + z * se,
        },
        index=index,
    )
