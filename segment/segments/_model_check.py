"""What a model file's numbers must mean before they are used (however valid its checksum).

A checksum proves a file was not changed after it was written, not that what was written makes
sense: anyone can recompute it. So every model file is checked for meaning before a model is
built from it (used by :mod:`segment.segments.model_file`):

- shares and answer probabilities are finite, non-negative and each set sums to one within
  :data:`SUM_TOLERANCE`;
- answer codes are integers (within the codebook's :data:`~segment.survey.items.MAX_CODE`),
  unique and in increasing order for each item; items are unique; segment names are unique
  (ignoring case and spaces: identical names would merge their probability columns);
- every array has the size the number of segments and items says (at most
  :data:`MAX_SEGMENTS` segments).

Every problem is a :class:`~segment.exceptions.Problem` naming the JSON path (e.g.
``segments[2].share``), the value and what was expected; all problems are listed at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from segment.exceptions import Problem
from segment.survey.items import MAX_CODE, MAX_ITEMS, MAX_LEVELS

__all__ = ["MAX_SEGMENTS", "SUM_TOLERANCE", "meaning_problems"]

#: Shares, and each segment's answer probabilities of an item, sum to 1 within this (the files
#: are written at full precision, so their sums are 1 to about 1e-15).
SUM_TOLERANCE = 1e-6
#: Most segments a model file may hold.
MAX_SEGMENTS = 100


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _integer(v: Any) -> bool:
    return _number(v) and float(v).is_integer()


def _int_at_least(v: Any, low: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _shown(v: Any) -> Any:
    """A value short enough to print in a message."""
    text = repr(v)
    return v if len(text) <= 60 else text[:50] + "..."


class _Checker:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, where: str, message: str, value: Any = None) -> None:
        self.problems.append(Problem(self.file, where, message, value=_shown(value)))

    def list_of(self, value: Any, where: str, n: int | None = None) -> list | None:
        """``value`` when it is a list (of ``n`` entries when given); else a problem and None."""
        if not isinstance(value, list):
            self.add(where, "expected a list", value)
            return None
        if n is not None and len(value) != n:
            self.add(where, f"expected {n} entries, one per {self._per(where)}", len(value))
            return None
        return value

    @staticmethod
    def _per(where: str) -> str:
        return "item" if where.endswith(("categories", "item_probs", "item_types")) else "segment"

    def distribution(self, values: Any, where: str, n: int, what: str) -> None:
        """``n`` finite, non-negative numbers summing to 1 (within :data:`SUM_TOLERANCE`)."""
        if not isinstance(values, list) or len(values) != n:
            got = len(values) if isinstance(values, list) else values
            self.add(where, f"expected {n} {what} summing to 1", got)
            return
        ok = True
        for i, v in enumerate(values):
            if not _number(v) or v < 0 or v > 1 + SUM_TOLERANCE:
                self.add(f"{where}[{i}]", "expected a finite number from 0 to 1", v)
                ok = False
        if ok and abs(math.fsum(values) - 1.0) > SUM_TOLERANCE:
            self.add(
                where,
                f"expected {n} {what} summing to 1 (within {SUM_TOLERANCE:g}); they sum to "
                f"{math.fsum(values):.10g}",
            )


def meaning_problems(doc: Mapping[str, Any], file: str) -> list[Problem]:
    """Every problem of meaning in the parsed model file ``doc`` (empty when it can be used).

    Checks the ``model``, ``segments`` and ``fit`` sections; the codebook is checked by
    :meth:`Codebook.from_dict <segment.survey.codebook.Codebook.from_dict>` and the answer codes
    against it by the caller. A missing section is left to the caller's message.
    """
    c = _Checker(file)
    m = doc.get("model")
    if not isinstance(m, Mapping):
        if "model" in doc:
            c.add("model", "expected a mapping", m)
        return c.problems
    k = _n_segments(c, m)
    items = _items(c, m.get("items"))
    n_items = len(items) if items is not None else None
    cats = _categories(c, m.get("categories"), n_items)
    if k is None:
        return c.problems
    for key in ("shares", "prior_shares"):
        c.distribution(m.get(key), f"model.{key}", k, "shares")
    _item_probs(c, m.get("item_probs"), k, cats, n_items)
    _coef(c, m, k)
    segments = doc.get("segments")
    if segments is not None:
        _segments(c, segments, k)
    fit = doc.get("fit")
    if isinstance(fit, Mapping):
        _fit(c, fit, items, n_items)
    return c.problems


def _n_segments(c: _Checker, m: Mapping[str, Any]) -> int | None:
    params = m.get("params")
    if not isinstance(params, Mapping):
        return None  # reported as missing by the caller
    k = params.get("n_components")
    if not (isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= MAX_SEGMENTS):
        c.add("model.params.n_components", f"expected an integer from 1 to {MAX_SEGMENTS}", k)
        return None
    for key, least in (("n_init", 0), ("max_iter", 1)):  # n_init=0: the k-means start alone
        v = params.get(key)
        if key in params and not _int_at_least(v, least):
            c.add(f"model.params.{key}", f"expected an integer of at least {least}", v)
    rows = params.get("screen_rows")
    if rows is not None and not _int_at_least(rows, 1):
        c.add("model.params.screen_rows", "expected an integer of at least 1 or null", rows)
    tol: Any = params.get("tol")
    if "tol" in params and not (_number(tol) and tol > 0):
        c.add("model.params.tol", "expected a positive number", tol)
    seed = params.get("random_state")
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool)):
        c.add("model.params.random_state", "expected an integer or null", seed)
    return k


def _items(c: _Checker, items: Any) -> list[str] | None:
    if not isinstance(items, list) or not items or len(items) > MAX_ITEMS:
        c.add("model.items", f"expected a list of 1 to {MAX_ITEMS:,} item names", items)
        return None
    seen: dict[str, int] = {}
    ok = True
    for i, name in enumerate(items):
        if not isinstance(name, str) or not name:
            c.add(f"model.items[{i}]", "expected an item name (text)", name)
            ok = False
        elif name in seen:
            c.add(f"model.items[{i}]", f"duplicate of model.items[{seen[name]}]", name)
            ok = False
        else:
            seen[name] = i
    return items if ok else None


def _categories(c: _Checker, cats: Any, n_items: int | None) -> list[list[int]] | None:
    cats = c.list_of(cats, "model.categories", n_items)
    if cats is None:
        return None
    out: list[list[int]] | None = []
    for j, codes in enumerate(cats):
        where = f"model.categories[{j}]"
        if not isinstance(codes, list) or not 1 <= len(codes) <= MAX_LEVELS:
            c.add(where, f"expected a list of 1 to {MAX_LEVELS:,} answer codes", codes)
            out = None
            continue
        bad = False
        for i, v in enumerate(codes):
            if not (_integer(v) and abs(v) <= MAX_CODE):
                c.add(
                    f"{where}[{i}]",
                    f"expected an integer answer code from {-MAX_CODE:,} to {MAX_CODE:,}",
                    v,
                )
                bad = True
        if bad:
            out = None
            continue
        for i in range(1, len(codes)):
            if codes[i] <= codes[i - 1]:
                message = (
                    "duplicate answer code"
                    if codes[i] == codes[i - 1]
                    else f"answer codes out of order (after {codes[i - 1]!r}); expected them "
                    "increasing"
                )
                c.add(f"{where}[{i}]", message, codes[i])
                bad = True
                break
        if bad:
            out = None
        elif out is not None:
            out.append([int(v) for v in codes])
    return out


def _item_probs(
    c: _Checker, probs: Any, k: int, cats: list[list[int]] | None, n_items: int | None
) -> None:
    probs = c.list_of(probs, "model.item_probs", n_items)
    if probs is None or cats is None:
        return
    for j, (codes, table) in enumerate(zip(cats, probs, strict=True)):
        where = f"model.item_probs[{j}]"
        shape = f"expected {k} rows of {len(codes)} probabilities summing to 1"
        if not isinstance(table, list) or len(table) != k:
            c.add(where, f"{shape} (one row per segment)")
            continue
        for s, row in enumerate(table):
            if not isinstance(row, list) or len(row) != len(codes):
                c.add(where, f"{shape}; row {s} has {len(row) if isinstance(row, list) else row}")
                continue
            bad = [i for i, v in enumerate(row) if not (_number(v) and 0 <= v <= 1)]
            if bad:
                c.add(f"{where}[{s}][{bad[0]}]", "expected a probability from 0 to 1", row[bad[0]])
            elif abs(math.fsum(row) - 1.0) > SUM_TOLERANCE:
                c.add(
                    where,
                    f"{shape} (within {SUM_TOLERANCE:g}); row {s} (segment {s + 1}) sums to "
                    f"{math.fsum(row):.10g}",
                )


def _coef(c: _Checker, m: Mapping[str, Any], k: int) -> None:
    coef = m.get("coef")
    n_cov = m.get("n_covariates")
    if "n_covariates" in m and not _int_at_least(n_cov, 0):
        c.add("model.n_covariates", "expected a non-negative integer", n_cov)
        return
    if coef is None:
        if isinstance(n_cov, int) and n_cov > 0:
            c.add("model.coef", f"missing: n_covariates is {n_cov}")
        return
    rows = c.list_of(coef, "model.coef")
    if rows is None:
        return
    if isinstance(n_cov, int) and len(rows) != n_cov + 1:
        c.add("model.coef", f"expected {n_cov + 1} rows (n_covariates + 1)", len(rows))
    for r, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != k:
            c.add(f"model.coef[{r}]", f"expected {k} finite numbers, one per segment", row)
        elif not all(_number(v) for v in row):
            c.add(f"model.coef[{r}]", "expected finite numbers", row)


def _segments(c: _Checker, segments: Any, k: int) -> None:
    if not isinstance(segments, list):
        c.add("segments", "expected a list", segments)
        return
    if len(segments) != k:
        return  # the caller's message: expected k segments
    names: dict[str, int] = {}
    for i, seg in enumerate(segments):
        where = f"segments[{i}]"
        if not isinstance(seg, Mapping):
            c.add(where, "expected a mapping", seg)
            continue
        if "index" in seg and seg["index"] != i:
            c.add(f"{where}.index", f"expected {i} (segments are listed in order)", seg["index"])
        name = seg.get("name")
        if not isinstance(name, str) or not name.strip():
            c.add(f"{where}.name", "expected a segment name (text)", name)
        else:
            key = " ".join(name.split()).casefold()
            if key in names:
                c.add(
                    f"{where}.name",
                    f"same name as segments[{names[key]}] (names must differ, ignoring case and "
                    "spaces, or their columns would merge)",
                    name,
                )
            names.setdefault(key, i)
        share = seg.get("share")
        if share is not None and not (_number(share) and 0 <= share <= 1):
            c.add(f"{where}.share", "expected a share from 0 to 1 (or null when suppressed)", share)
        score = seg.get("score")
        if score is not None and not _number(score):
            c.add(f"{where}.score", "expected a finite number or null", score)


def _fit(c: _Checker, fit: Mapping[str, Any], items: list[str] | None, n_items: int | None) -> None:
    for key in ("n_respondents", "n_empty", "n_iter"):
        v = fit.get(key)
        if key in fit and not _int_at_least(v, 0):
            c.add(f"fit.{key}", "expected a non-negative integer", v)
    for key in ("loglik", "entropy", "bic", "aic", "sabic"):
        if key in fit and not _number(fit[key]):
            c.add(f"fit.{key}", "expected a finite number", fit[key])
    starts = fit.get("start_logliks")
    if "start_logliks" in fit and not (
        isinstance(starts, list) and all(_number(v) for v in starts)
    ):
        c.add("fit.start_logliks", "expected a list of finite numbers", starts)
    if "item_types" in fit:
        c.list_of(fit["item_types"], "fit.item_types", n_items)
    tool = fit.get("typing_tool")
    if tool is not None:
        _typing_tool(c, tool, items)


def _typing_tool(c: _Checker, tool: Any, items: list[str] | None) -> None:
    if not isinstance(tool, Mapping):
        c.add("fit.typing_tool", "expected a mapping", tool)
        return
    questions = tool.get("questions")
    if not isinstance(questions, list) or len(set(map(str, questions))) != len(questions):
        c.add("fit.typing_tool.questions", "expected a list of different items", questions)
    elif items is not None:
        for i, q in enumerate(questions):
            if q not in items:
                c.add(f"fit.typing_tool.questions[{i}]", "not one of the model's items", q)
    for key in ("cv_accuracy", "baseline"):
        v = tool.get(key)
        if v is not None and not (_number(v) and 0 <= v <= 1):
            c.add(f"fit.typing_tool.{key}", "expected a proportion from 0 to 1 or null", v)
    for key, low in (("folds", 2), ("of_items", 1)):
        v = tool.get(key)
        if v is not None and not _int_at_least(v, low):
            c.add(f"fit.typing_tool.{key}", f"expected an integer of at least {low}", v)
