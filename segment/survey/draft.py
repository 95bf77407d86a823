"""Draft a codebook from a data file (``segment codebook infer``).

The draft is a starting point, not a verdict: column roles, domains and ordinal/nominal types
are guessed from names, value labels and the values seen, and the YAML says so. SPSS/Stata value
labels become level labels; labels that read as "don't know" or "refused" (English or Russian)
and SPSS user-missing codes become special codes.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from segment._util import plain_number

from .cells import as_float
from .codebook import Codebook
from .tables import FileMeta

__all__ = ["infer_codebook"]

_ID_NAMES = {
    "id",
    "resp_id",
    "respid",
    "respondent",
    "respondent_id",
    "caseid",
    "case_id",
    "serial",
    "interview_id",
}
_WEIGHT_NAMES = {
    "weight",
    "weights",
    "wt",
    "wgt",
    "w",
    "pweight",
    "design_weight",
    "final_weight",
    "wt_final",
}
_DK = re.compile(
    r"don'?t know|\bdk\b|not sure|hard to say|затрудня|не знаю|білмеймін|қиналамын", re.I
)
_REFUSED = re.compile(r"refus|no answer|отказ|нет ответа|бас тарт", re.I)
_ORDINAL_WORDS = re.compile(
    r"agree|important|trust|satisf|good|bad|likely|often|never|always|much|very|not at all|"
    r"better|worse|approve|support|oppose|strong|weak|fair|poor|excellent|согла|доверя|важн",
    re.I,
)
_DOMAIN_WORDS = [  # checked in this order; a keyword must start a word
    ("external", r"russia|china|west|usa|foreign|threat"),
    ("trust", r"trust|confid|довер"),
    ("governance", r"gov|leader|strongman|expert"),
    ("civic_rights", r"speech|assembl|associat|rights?$|freedom"),
    ("democracy", r"democra|dem$|media|ngo|part(y|ies)|election"),
    ("optimism", r"econom|future|optimis|soviet|nostalg"),
    (
        "demographics",
        r"age$|sex$|gender|region|oblast|educ|income|ethnic|nation|lang|employ|occup|settle|urban|rural|religion|marri|news|child|house",
    ),
]
MAX_CATEGORIES = 15


def _guess_domain(column: str, label: str | None) -> str:
    """Domain whose keywords start a word of the column name or label (``age``, not ``engaged``)."""
    words = re.split(r"[^0-9a-zа-яёәғқңөұүһі]+", f"{column} {label or ''}".lower())
    for domain, pattern in _DOMAIN_WORDS:
        if any(re.match(f"(?:{pattern})", w) for w in words if w):
            return domain
    return "other"


def _find_role(frame: pd.DataFrame, names: set[str], check) -> str | None:
    for col in frame.columns:
        if str(col).lower() in names and check(frame[col]):
            return str(col)
    return None


def _is_unique_id(series: pd.Series) -> bool:
    return bool(series.notna().all() and series.astype("string").str.strip().is_unique)


def _is_weight(series: pd.Series) -> bool:
    values, bad = as_float(series)
    return bool(not bad.any() and np.all(np.isfinite(values)) and np.all(values > 0))


def infer_codebook(
    frame: pd.DataFrame, meta: FileMeta | None = None, title: str | None = None
) -> Codebook:
    """Draft a codebook for ``frame``.

    Parameters
    ----------
    frame : DataFrame
        The data as read by :func:`segment.survey.tables.read_table`.
    meta : FileMeta, optional
        Variable labels, value labels and user-missing codes (SPSS / Stata).
    title : str, optional

    Returns
    -------
    Codebook
        A codebook that the same file passes (:meth:`Codebook.check_data` finds nothing).
    """
    meta = meta or FileMeta()
    id_col = _find_role(frame, _ID_NAMES, _is_unique_id)
    weight_col = _find_role(frame, _WEIGHT_NAMES, _is_weight)
    items: list[dict[str, Any]] = []
    for col in frame.columns:
        col = str(col)
        if col in (id_col, weight_col):
            continue
        items.append(_infer_item(col, frame[col], meta))
    doc = {
        "schema": "segment.codebook/1",
        "title": title or "inferred codebook",
        "note": (
            "Drafted by `segment codebook infer`: review every item's domain, type "
            "(ordinal or nominal), level order and special codes before using it."
        ),
        "languages": ["en"],
        "id": id_col,
        "weight": weight_col,
        "dont_know": "keep",
        "refused": "missing",
        "items": items,
    }
    return Codebook.from_dict(doc, file=f"<inferred from {title or 'data'}>")


def _infer_item(col: str, series: pd.Series, meta: FileMeta) -> dict[str, Any]:
    var_label = meta.variable_labels.get(col)
    item: dict[str, Any] = {"column": col, "question": var_label or col}
    item["domain"] = _guess_domain(col, var_label)
    values, bad = as_float(series)
    if bad.any():
        item["type"] = "text"
        item["note"] = "non-numeric values: recode to integer codes to use this column as an item"
        return item
    observed = np.unique(values[~np.isnan(values)])
    labels = meta.value_labels.get(col, {})
    user_missing = set(meta.user_missing.get(col, []))
    integer = bool(np.all(np.mod(observed, 1) == 0))
    if not labels and (not integer or len(observed) > MAX_CATEGORIES):
        item["type"] = "numeric"
        if len(observed):
            item["min"] = plain_number(observed.min())
            item["max"] = plain_number(observed.max())
        return item
    codes = sorted(set(labels) | set(observed.tolist()))
    if any(not float(c).is_integer() for c in codes):
        item["type"] = "numeric"
        item["min"], item["max"] = plain_number(min(codes)), plain_number(max(codes))
        return item
    levels: dict[int, str] = {}
    dont_know: dict[int, str] = {}
    refused: dict[int, str] = {}
    missing: list[int] = []
    for code in codes:
        label = labels.get(code)
        icode = int(code)
        if label is not None and _DK.search(label):
            dont_know[icode] = label
        elif label is not None and _REFUSED.search(label):
            refused[icode] = label
        elif code in user_missing:
            missing.append(icode)
        else:
            levels[icode] = label if label is not None else str(icode)
    if not levels:
        item["type"] = "numeric"
        return item
    words = " ".join(labels.values())
    ordinal = bool(_ORDINAL_WORDS.search(words)) or (not labels and len(levels) >= 2)
    item["type"] = "ordinal" if ordinal else "nominal"
    if ordinal:
        item["higher_means_more"] = True
    item["levels"] = levels
    if dont_know:
        item["dont_know"] = dont_know
    if refused:
        item["refused"] = refused
    if missing:
        item["missing"] = missing
    unlabelled = [c for c in observed.tolist() if labels and c not in labels]
    if unlabelled:
        item["note"] = (
            f"codes seen in the data without a value label: {[plain_number(c) for c in unlabelled]}"
        )
    return item
