"""Saving and loading fitted segmentation models as JSON (format ``segment.model/1``).

A model file is data, never a pickle: loading parses JSON and fills numeric arrays, so it cannot
run code. It holds the codebook, the items and their answer categories, the fitted parameters,
fit statistics and a SHA-256 fingerprint of the training answers, but no respondent-level data.
Floats are written with full precision (``repr``), keys in a fixed order and no timestamps, so
the same model gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from ._files import atomic_write_text
from ._util import plain_number
from .codebook import Codebook
from .exceptions import InputError, Problem
from .models import LatentClassModel

__all__ = [
    "FORMAT",
    "ModelFileError",
    "data_fingerprint",
    "load_model",
    "model_to_dict",
    "save_model",
]

FORMAT = "segment.model/1"


class ModelFileError(InputError):
    """A model file cannot be read: wrong format, newer version, truncated or inconsistent."""


def data_fingerprint(X: pd.DataFrame | np.ndarray, sample_weight=None) -> str:
    """SHA-256 of the answer codes (and weights) a model was fitted on."""
    arr = np.ascontiguousarray(np.asarray(X, dtype=float))
    h = hashlib.sha256()
    h.update(str(arr.shape).encode())
    h.update(np.nan_to_num(arr, nan=-1e300).tobytes())
    if sample_weight is not None:
        h.update(np.ascontiguousarray(np.asarray(sample_weight, dtype=float)).tobytes())
    return h.hexdigest()


def model_to_dict(
    model: LatentClassModel,
    *,
    codebook: Codebook | None = None,
    X=None,
    sample_weight=None,
    segment_names: list[str] | None = None,
) -> dict[str, Any]:
    """The JSON-ready mapping of a fitted model."""
    k = model.n_components
    items = [
        str(c)
        for c in getattr(model, "feature_names_in_", [f"x{j}" for j in range(model.n_features_in_)])
    ]
    names = segment_names or [f"Segment {i + 1}" for i in range(k)]
    doc: dict[str, Any] = {
        "format": FORMAT,
        "package": {"name": "segment", "version": __version__},
        "model": {
            "type": "LatentClassModel",
            "params": {
                key: model.get_params()[key]
                for key in ("n_components", "n_init", "max_iter", "tol", "random_state")
            },
            "items": items,
            "categories": [[plain_number(v) for v in cats] for cats in model.categories_],
            "shares": [float(v) for v in model.weights_],
            "prior_shares": [float(v) for v in model._shares],
            "item_probs": [
                [[float(p) for p in row] for row in probs] for probs in model.item_probs_
            ],
            "coef": None
            if model.coef_ is None
            else [[float(v) for v in row] for row in model.coef_],
            "n_covariates": int(model.n_covariates_),
        },
        "fit": {
            "loglik": float(model.loglik_),
            "n_parameters": model.n_parameters(),
            "entropy": float(model.entropy_),
            "n_respondents": int(model.n_samples_fit_),
            "n_empty": int(model.n_empty_),
            "n_iter": int(model.n_iter_),
            "converged": bool(model.converged_),
            "start_logliks": [float(v) for v in model.start_logliks_],
        },
        "segments": [
            {"index": i, "name": names[i], "share": float(model.weights_[i])} for i in range(k)
        ],
        "codebook": None if codebook is None else codebook.to_dict(),
        "training_data": None
        if X is None
        else {"rows": len(X), "sha256": data_fingerprint(X, sample_weight)},
    }
    if X is not None:
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        doc["fit"].update(
            bic=float(model.bic(X, sample_weight=w)),
            aic=float(model.aic(X, sample_weight=w)),
            sabic=float(model.sabic(X, sample_weight=w)),
        )
    return doc


def save_model(model: LatentClassModel, path: str | Path, **kwargs) -> None:
    """Write a fitted model as JSON, atomically. Keyword arguments as :func:`model_to_dict`."""
    text = json.dumps(model_to_dict(model, **kwargs), indent=1, ensure_ascii=False, allow_nan=False)
    atomic_write_text(path, text + "\n")


def load_model(path: str | Path) -> tuple[LatentClassModel, dict[str, Any]]:
    """Read a model file: the fitted model and the file's mapping (codebook, segments, fit).

    Raises
    ------
    ModelFileError
        For a file that is not JSON, of another or newer format, or whose arrays do not fit
        together.
    """
    path = Path(path)
    name = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"model file {name}", [Problem(name, "", "file not found")]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(
            f"model file {name}",
            [Problem(name, "", f"not a valid JSON model file ({exc}); was it truncated?")],
        ) from None
    fmt = doc.get("format") if isinstance(doc, dict) else None
    if fmt != FORMAT:
        raise ModelFileError(
            f"model file {name}",
            [
                Problem(
                    name,
                    "format",
                    f"expected {FORMAT!r}; this version of segment cannot read it",
                    value=fmt,
                )
            ],
        )
    try:
        m = doc["model"]
        model = LatentClassModel(**m["params"])
        categories = [np.asarray(c, dtype=float) for c in m["categories"]]
        probs = [np.asarray(p, dtype=float) for p in m["item_probs"]]
        k = model.n_components
        problems = []
        if len(categories) != len(m["items"]) or len(probs) != len(categories):
            problems.append(
                Problem(name, "model", "items, categories and item_probs differ in length")
            )
        for j, (cats, p) in enumerate(zip(categories, probs, strict=False)):
            if p.shape != (k, len(cats)) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
                problems.append(
                    Problem(
                        name,
                        f"model.item_probs[{j}]",
                        f"expected {k} rows of {len(cats)} probabilities summing to 1",
                    )
                )
        if problems:
            raise ModelFileError(f"model file {name}", problems)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(
            f"model file {name}", [Problem(name, "model", f"malformed model section: {exc!r}")]
        ) from None
    n_max = max(len(c) for c in categories)
    theta = np.zeros((len(categories), n_max, k))
    for j, p in enumerate(probs):
        theta[j, : p.shape[1], :] = p.T
    model.categories_ = categories
    model._code_dtype = np.uint8 if n_max < 255 else np.uint16 if n_max < 65535 else np.uint32
    model._missing_code = n_max
    model._store(theta)
    model.weights_ = np.asarray(m["shares"], dtype=float)
    model._shares = np.asarray(m["prior_shares"], dtype=float)
    model.coef_ = None if m["coef"] is None else np.asarray(m["coef"], dtype=float)
    model.n_covariates_ = int(m["n_covariates"])
    model.n_features_in_ = len(categories)
    model.feature_names_in_ = np.asarray(m["items"], dtype=object)
    fit = doc["fit"]
    model.loglik_ = float(fit["loglik"])
    model.entropy_ = float(fit["entropy"])
    model.n_samples_fit_ = int(fit["n_respondents"])
    model.n_empty_ = int(fit["n_empty"])
    model.n_iter_ = int(fit["n_iter"])
    model.converged_ = bool(fit["converged"])
    model.start_logliks_ = np.asarray(fit["start_logliks"], dtype=float)
    return model, doc
