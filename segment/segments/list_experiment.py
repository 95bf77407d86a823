"""A list experiment analysed as ``segment listexp`` reports it: overall, by subgroup, by
regression on covariates and by attitude segment.

The estimators are those of :mod:`segment.listexp` (Blair & Imai 2012; Imai 2011); the segments
come from a saved :class:`~segment.segments.model.SegmentModel`, typed from the list-experiment
respondents' own answers (:func:`segment.segments.support.support_by_segment`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from segment.disclosure import MIN_CELL_SIZE
from segment.disclosure import published as publish
from segment.listexp import (
    design_effect_test,
    ict_lm,
    ict_ml,
    ict_nls,
    predict_prevalence,
)
from segment.listexp.files import check_list_file, column_of, in_file, numeric_values
from segment.listexp.published import PublishedTable, match_rows
from segment.listexp.subgroups import overall_row, subgroup_table
from segment.weights.survey_design import SurveyDesign

from .model import SegmentModel
from .support import support_by_segment

__all__ = ["LIST_METHODS", "analyse_list_experiment", "published_payload"]

#: Estimators of :func:`analyse_list_experiment`: difference in means, or Imai (2011)
#: regression by linear or nonlinear least squares or maximum likelihood.
LIST_METHODS = ("dim", "lm", "nls", "ml")


def analyse_list_experiment(
    frame: pd.DataFrame,
    file: str,
    *,
    count: str = "y",
    treat: str = "treat",
    J: int,
    method: str = "dim",
    covariates: Sequence[str] = (),
    by: Sequence[str] = (),
    weights: str | None = None,
    strata: str | None = None,
    psu: str | None = None,
    variance: str = "linearization",
    segments: SegmentModel | None = None,
    n_boot: int = 500,
    random_state: int = 0,
    min_cell: int = MIN_CELL_SIZE,
    published: PublishedTable | None = None,
) -> dict[str, Any]:
    """Estimate support for the sensitive item of a list-experiment file.

    Parameters
    ----------
    frame : DataFrame
        The respondent file as read (:func:`segment.survey.tables.read_table`); ``file`` names
        it in every problem.
    count, treat : str
        Columns of the item count and the 0/1 treatment indicator.
    J : int
        Number of control items.
    method : {"dim", "lm", "nls", "ml"}
        Difference in means only, or also an Imai (2011) regression on ``covariates`` (with
        ``segments``, ``"ml"`` adds each segment's posterior probability but the first's).
    by : sequence of str
        Columns to estimate support within (groups under ``min_cell`` are suppressed).
    weights, strata, psu : str, optional
        Columns of survey weights and the sampling design (design-based standard errors of the
        difference in means and of ``"ml"``, by ``variance``).
    segments : SegmentModel, optional
        A model or typing tool: support within each of its segments (``n_boot`` resamples).
    published : PublishedTable, optional
        A published table of the same experiment
        (:func:`segment.listexp.published.load_published_table`): its figures go beside ours,
        and its rows whose printed support is not treatment minus control are named with the
        arithmetic.

    Returns
    -------
    dict
        JSON-ready: ``file, J, method, weighted, overall, groups, differences,
        design_effect_test`` and, as asked, ``design, model, segments, published``. ``overall``
        and every group hold the fields of :data:`segment.listexp.subgroups.ROW_FIELDS`: the
        difference in means, the bounded estimate, the ``flag`` and the ``headline``, with
        ``suppressed`` and ``withheld`` (why, else None). Every number has been through the
        disclosure rules of :mod:`segment.listexp.disclose` (threshold per arm, complementary
        suppression, published precision); when the whole sample is withheld, so are the
        design-effect test, the regression and the segments (``withheld`` says why).

    Raises
    ------
    InputError
        Naming the file, column, row and value of every problem with the data.
    ValueError
        For ``strata``/``psu`` with ``method`` ``"lm"`` or ``"nls"`` (no design-based variance).
    """
    if method not in LIST_METHODS:
        raise ValueError(f"method must be one of {list(LIST_METHODS)}, got {method!r}")
    if (strata or psu) and method in ("lm", "nls"):
        raise ValueError(
            "--strata/--psu give design-based standard errors for --method dim and ml; "
            f"--method {method} has only the respondent-level sandwich"
        )
    y, t, w = check_list_file(frame, file, count, treat, J, weights)
    payload: dict[str, Any] = {"file": file, "J": J, "method": method, "weighted": w is not None}
    design: dict[str, Any] = {}
    if strata or psu:
        design = {
            "strata": column_of(frame, strata, file, "--strata").to_numpy(dtype=object)
            if strata
            else None,
            "psu": column_of(frame, psu, file, "--psu").to_numpy(dtype=object) if psu else None,
            "variance": variance,
            "random_state": random_state,
        }
    payload["overall"] = overall_row(y, t, J=J, weights=w, min_cell=min_cell, **design)
    if "design" in payload["overall"]:
        payload["design"] = payload["overall"].pop("design")
    by_labels = {
        name: column_of(frame, name, file, "--by")
        .astype("string")
        .to_numpy(dtype=object, na_value=None)
        for name in by
    }
    groups, differences = subgroup_table(
        y, t, by_labels, J=J, weights=w, min_cell=min_cell, **design
    )
    payload["groups"], payload["differences"] = groups, differences
    if published is not None:
        payload["published"] = published_payload(published, payload["overall"], groups)
    withheld = payload["overall"]["withheld"]
    payload["design_effect_test"] = _design_effect(y, t, J, withheld)
    if withheld is not None:
        # every statistic of the whole sample is withheld with it
        if segments is not None:
            payload["segments"] = {"method": None, "table": [], "withheld": withheld}
        return payload
    if method != "dim":
        payload["model"] = _regression(
            frame, file, y, t, w, J, method, list(covariates), segments, design,
            {"y": count, "treat": treat, "weights": weights},
            {"strata": strata, "psu": psu, "weight": weights},
        )  # fmt: skip
        payload["ml"] = payload["model"]  # kept for scripts written against earlier output
    if segments is not None:
        support = support_by_segment(
            segments,
            frame.assign(**{count: y, treat: t}),
            count=count,
            treat=treat,
            weights=w,
            n_boot=n_boot,
            random_state=random_state,
            min_n=min_cell,
            J=J,
        )
        payload["segments"] = {
            "method": support.method,
            "table": support.table.replace({np.nan: None}).to_dict(orient="records"),
        }
    return payload


def _design_effect(y: np.ndarray, t: np.ndarray, J: int, withheld: str | None) -> dict:
    """The design-effect test of Blair & Imai (2012), its p-values at two significant digits
    (None with the reason when the whole sample is withheld)."""
    method = (
        "Blair & Imai (2012), Bonferroni-corrected; p_value with Andrews-Soares "
        "moment selection, p_value_blair_imai with the paper's (and R list's) selection"
    )
    if withheld is not None:
        return {"p_value": None, "p_value_blair_imai": None, "method": method, "withheld": withheld}
    test = design_effect_test(y, t, J)
    as_printed = design_effect_test(y, t, J, moment_selection="blair-imai")
    return {
        "p_value": publish(test.p_value, "p"),
        "p_value_blair_imai": publish(as_printed.p_value, "p"),
        "method": method,
    }


def published_payload(table: PublishedTable, overall: dict, groups: list[dict]) -> dict:
    """The published table beside ours: its title, source, provenance, the notes on its
    inconsistent rows, and one row per printed row with our figures (``ours``)."""
    ours = match_rows(table, [{"variable": None, "group": None, **overall}, *groups])
    by_key = {(r["variable"], r["group"]): r for r in ours}
    rows = []
    for p in table.rows:
        o = by_key.get((p.variable, p.level))
        rows.append(
            {
                "variable": p.variable,
                "level": p.level,
                "label": p.label,
                "sample_pct": p.sample_pct,
                "control": p.control,
                "treatment": p.treatment,
                "control_text": p.control_text,
                "treatment_text": p.treatment_text,
                "support": p.support_pct / 100,
                "difference": p.difference_pct / 100,
                "consistent": p.consistent,
                "note": None if p.consistent else p.arithmetic,
                "ours": None
                if o is None or o.get("suppressed")
                else {k: o[k] for k in ("n", "control", "treatment", "estimate", "headline")},
            }
        )
    return {
        "title": table.title,
        "source": table.source,
        "provenance": table.provenance,
        "notes": table.notes(),
        "rows": rows,
    }


def _regression(
    frame: pd.DataFrame,
    file: str,
    y: np.ndarray,
    t: np.ndarray,
    w: np.ndarray | None,
    J: int,
    method: str,
    names: list[str],
    segments: SegmentModel | None,
    design: dict[str, Any],
    list_columns: dict[str, str | None],
    design_columns: dict[str, str | None],
) -> dict[str, Any]:
    """The Imai (2011) regression of ``method`` and its average predicted prevalence."""
    columns = [numeric_values(column_of(frame, c, file, "--covariates"), file) for c in names]
    labels = list(names)
    if segments is not None and method == "ml":
        # the segment as a covariate: posterior probabilities of every segment but the first
        proba = segments.predict_proba(frame)
        for k in range(1, proba.shape[1]):
            columns.append(np.nan_to_num(proba[:, k], nan=0.0))
            labels.append(f"P({segments.names[k]})")
    X = pd.DataFrame(dict(zip(labels, columns, strict=True))) if columns else None
    fitters: dict[str, Callable[..., Any]] = {"lm": ict_lm, "nls": ict_nls, "ml": ict_ml}
    fitter = fitters[method]
    if design:
        sd = SurveyDesign(
            w,
            strata=design["strata"],
            psu=design["psu"],
            file=file,
            columns={k: v for k, v in design_columns.items() if v},
        )
        with in_file(file, list_columns):
            result = fitter(y, t, X, J, weights=w, design=sd)
    else:
        with in_file(file, list_columns):
            result = fitter(y, t, X, J, weights=w)
    prev = predict_prevalence(result, X)
    se = prev.se
    return {
        "method": method,
        "covariates": labels,
        "summary": result.summary(),
        "prevalence": publish(prev.estimate, "share", se=se),
        "ci": [publish(prev.ci_low, "share", se=se), publish(prev.ci_high, "share", se=se)],
    }
