"""Model files: a fitted segmentation as JSON (``"format": "segment.model"``, version 1).

A model file is data, never a pickle: loading parses JSON, checks it and fills numeric arrays,
so it cannot run code. It holds the codebook, the items and their answer categories, the fitted
parameters, the segments' names and their match with a reference typology, fit statistics, the
package and format versions and a SHA-256 fingerprint of the training answers, but no
respondent-level data. Floats are written with full precision, keys in a fixed order and no
timestamps, so the same model gives the same bytes.

Integrity: ``checksum`` is the SHA-256 of the file's content without the checksum, serialised
canonically (sorted keys, no spaces). A file written by a newer format version, a truncated file
or a file edited by hand (checksum mismatch) is refused with a message saying which.

Layout (top-level keys, in order): ``format, format_version, package, model, segments,
typology, fit, codebook, training_data, checksum``; ``model`` has ``type, params, items,
categories, shares, prior_shares, item_probs`` (per item, segments x categories), ``coef`` and
``n_covariates``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from segment._files import atomic_write_text, parse_json, read_bounded
from segment._util import plain_number
from segment._version import __version__
from segment.exceptions import CodebookError, InputError, Problem
from segment.models.multistart import count_best_starts
from segment.models.posterior import AnswerPosterior
from segment.survey.codebook import Codebook

from ._model_check import meaning_problems
from .model import SegmentModel

if TYPE_CHECKING:
    from segment.models import LatentClassModel

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFileError",
    "data_fingerprint",
    "load_model",
    "model_to_dict",
    "save_model",
]

FORMAT = "segment.model"
FORMAT_VERSION = 1
_PARAMS = ("n_components", "n_init", "max_iter", "tol", "random_state")
#: Parameters added after format version 1 first shipped: absent in older files (defaults).
_OPTIONAL_PARAMS = ("screen_rows",)


class ModelFileError(InputError):
    """A model file cannot be used: wrong or newer format, truncated, edited or inconsistent."""


def data_fingerprint(X: pd.DataFrame | np.ndarray, sample_weight=None) -> str:
    """SHA-256 of the answer codes (and weights) a model was fitted on."""
    arr = np.ascontiguousarray(np.asarray(X, dtype=float))
    h = hashlib.sha256()
    h.update(str(arr.shape).encode())
    h.update(np.nan_to_num(arr, nan=-1e300).tobytes())
    if sample_weight is not None:
        h.update(np.ascontiguousarray(np.asarray(sample_weight, dtype=float)).tobytes())
    return h.hexdigest()


def _canonical(doc: dict) -> bytes:
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def _checksum(doc: dict) -> str:
    return hashlib.sha256(_canonical({k: v for k, v in doc.items() if k != "checksum"})).hexdigest()


def model_to_dict(model: SegmentModel) -> dict[str, Any]:
    """The JSON mapping of a :class:`SegmentModel`, checksum included."""
    est = model.estimator
    doc: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package": {"name": "segment", "version": __version__},
        "model": {
            "type": "LatentClassModel",
            "params": {key: est.get_params()[key] for key in _PARAMS + _OPTIONAL_PARAMS},
            "items": list(model.items),
            "categories": [[plain_number(v) for v in cats] for cats in est.categories_],
            "shares": [float(v) for v in est.weights_],
            "prior_shares": [float(v) for v in est.prior_shares_],
            "item_probs": [[[float(p) for p in row] for row in probs] for probs in est.item_probs_],
            "coef": None if est.coef_ is None else [[float(v) for v in row] for row in est.coef_],
            "n_covariates": int(est.n_covariates_),
        },
        "segments": [_plain(s) for s in model.segments],
        "typology": model.typology,
        "fit": {
            "loglik": float(est.loglik_),
            "n_parameters": est.n_parameters(),
            "entropy": float(est.entropy_),
            "n_respondents": int(est.n_samples_fit_),
            "n_empty": int(est.n_empty_),
            "n_iter": int(est.n_iter_),
            "converged": bool(est.converged_),
            "start_logliks": [float(v) for v in est.start_logliks_],
            **{k: float(v) for k, v in model.fit.items() if k in ("bic", "aic", "sabic")},
            **(
                {"typing_tool": _plain(model.fit["typing_tool"])}
                if "typing_tool" in model.fit
                else {}
            ),
            # the item model the probabilities were fitted under (they score the same way)
            "measurement": str(model.fit.get("measurement", "nominal")),
            **(
                {"item_types": [str(t) for t in est.item_types_]}
                if hasattr(est, "item_types_")
                else {}
            ),
        },
        "codebook": model.codebook.to_dict(),
        "training_data": model.training,
    }
    # the checksum is of the JSON form (answer codes become string keys, as they are on reading)
    doc = json.loads(json.dumps(doc, ensure_ascii=False, allow_nan=False))
    doc["checksum"] = _checksum(doc)
    return doc


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    return value


def save_model(model: SegmentModel, path: str | Path) -> None:
    """Write a model file atomically."""
    text = json.dumps(model_to_dict(model), indent=1, ensure_ascii=False, allow_nan=False)
    atomic_write_text(path, text + "\n")


def model_from_json(text: str, name: str = "<model>") -> SegmentModel:
    """A :class:`SegmentModel` from the text of a model file (checked as :func:`load_model`)."""
    return _from_text(text, name)


def load_model(path: str | Path, *, scoring_only: bool = False) -> SegmentModel:
    """Read and check a model file.

    With ``scoring_only``, a model without covariates is read into the numpy-only
    :class:`~segment.models.posterior.AnswerPosterior` (same checks, same probabilities to
    rounding): scoring, ``predict`` and ``score_frame`` work, fitting and saving do not, and
    scikit-learn is never imported (one person scored in a fraction of a second).

    Raises
    ------
    ModelFileError
        For a file that is not JSON (e.g. truncated), of another format, of a newer format
        version, edited by hand (checksum mismatch) or whose arrays do not fit together.
    """
    path = Path(path)
    name = str(path)
    data = read_bounded(path, f"model file {name}", ModelFileError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(
            f"model file {name}", [Problem(name, "", "not a UTF-8 JSON model file")]
        ) from None
    return _from_text(text, name, scoring_only)


def _from_text(text: str, name: str, scoring_only: bool = False) -> SegmentModel:
    def fail(where: str, message: str, value: Any = None) -> ModelFileError:
        return ModelFileError(f"model file {name}", [Problem(name, where, message, value=value)])

    doc = parse_json(text, name, f"model file {name}", ModelFileError)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise fail("format", f"not a segment model file (expected format {FORMAT!r})", got)
    version = doc.get("format_version")
    if not isinstance(version, int):
        raise fail("format_version", "missing or not an integer", version)
    if version > FORMAT_VERSION:
        raise fail(
            "format_version",
            f"written by a newer segment (format version {version}; this is segment {__version__}, "
            f"which reads version {FORMAT_VERSION}); upgrade segment to read it",
            version,
        )
    if doc.get("checksum") != _checksum(doc):
        raise fail(
            "checksum",
            "the content does not match its checksum: "
            "the file was edited or damaged after it was written",
        )
    problems = meaning_problems(doc, name)
    if problems:
        raise ModelFileError(f"model file {name}", problems)
    try:
        codebook = Codebook.from_dict(doc["codebook"], file=f"{name} (codebook)")
    except CodebookError as exc:
        raise ModelFileError(f"model file {name}", exc.problems) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise fail("codebook", f"malformed: {exc!r}") from None
    try:
        estimator = _estimator(doc["model"], name, scoring_only)
        _restore_fit(estimator, doc["fit"])
        segments = list(doc["segments"])
        if len(segments) != estimator.n_components:
            raise fail("segments", f"expected {estimator.n_components} segments", len(segments))
        items = list(doc["model"]["items"])
        unknown = [c for c in items if c not in codebook]
        if unknown:
            raise fail("model.items", "items missing from the file's codebook", unknown)
        _check_codes(doc["model"]["categories"], items, codebook, name)
        return SegmentModel(
            estimator=estimator,
            codebook=codebook,
            items=items,
            segments=segments,
            typology=doc.get("typology"),
            fit=dict(doc["fit"]),
            training=doc.get("training_data"),
        )
    except ModelFileError:
        raise
    except KeyError as exc:
        raise fail(
            _missing_key_location(doc, exc.args[0]),
            "missing; the file was edited or damaged after it was written",
        ) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise fail("model", f"malformed model section: {exc!r}") from None


def _check_codes(categories: list, items: list[str], codebook: Codebook, name: str) -> None:
    """Every answer code of the model is a code its codebook gives the item."""
    problems = []
    for j, (column, codes) in enumerate(zip(items, categories, strict=True)):
        item = codebook[column]
        known = {float(c) for c in item.valid_codes}
        for i, code in enumerate(codes):
            if float(code) not in known:
                problems.append(
                    Problem(
                        name,
                        f"model.categories[{j}][{i}]",
                        f"not an answer code of {column} in the file's codebook",
                        value=code,
                    )
                )
    if problems:
        raise ModelFileError(f"model file {name}", problems)


_REQUIRED = {
    "model": (
        "type", "params", "items", "categories", "shares", "prior_shares", "item_probs", "coef",
        "n_covariates",
    ),
    "fit": (
        "loglik", "entropy", "n_respondents", "n_empty", "n_iter", "converged", "start_logliks",
    ),
}  # fmt: skip


def _missing_key_location(doc: dict, key: object) -> str:
    """Where a required key is missing: ``fit`` at the top level, else e.g. ``fit.loglik``."""
    if key not in doc and key in ("model", "fit", "segments"):
        return str(key)
    for section, keys in _REQUIRED.items():
        node = doc.get(section)
        if key in keys and isinstance(node, dict) and key not in node:
            return f"{section}.{key}"
    model = doc.get("model")
    params = model.get("params") if isinstance(model, dict) else None
    if key in _PARAMS and isinstance(params, dict) and key not in params:
        return f"model.params.{key}"
    return str(key)


def _estimator(m: dict, name: str, scoring_only: bool = False) -> LatentClassModel:
    """The file's model: a :class:`LatentClassModel`, or with ``scoring_only`` (and no
    covariates) the numpy-only :class:`AnswerPosterior`, which needs no scikit-learn."""
    if m.get("type") != "LatentClassModel":
        raise ModelFileError(
            f"model file {name}",
            [Problem(name, "model.type", "unsupported model type", value=m.get("type"))],
        )
    params = {k: m["params"][k] for k in _PARAMS + _OPTIONAL_PARAMS if k in m["params"]}
    categories = [np.asarray(c, dtype=float) for c in m["categories"]]
    probs = [np.asarray(p, dtype=float) for p in m["item_probs"]]
    k = int(params["n_components"])
    problems = []
    if not (len(categories) == len(m["items"]) == len(probs)):
        problems.append(Problem(name, "model", "items, categories and item_probs differ in length"))
    for j, (cats, p) in enumerate(zip(categories, probs, strict=False)):
        if (
            p.shape != (k, len(cats))
            or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6)
            or (p < 0).any()
        ):
            problems.append(
                Problem(
                    name,
                    f"model.item_probs[{j}]",
                    f"expected {k} rows of {len(cats)} probabilities summing to 1",
                )
            )
    shares = np.asarray(m["prior_shares"], dtype=float)
    if shares.shape != (k,) or not np.isclose(shares.sum(), 1.0, atol=1e-6):
        problems.append(Problem(name, "model.prior_shares", f"expected {k} shares summing to 1"))
    if problems:
        raise ModelFileError(f"model file {name}", problems)
    if scoring_only and m["coef"] is None:
        scorer = AnswerPosterior(categories, probs, shares, np.asarray(m["shares"], dtype=float))
        return cast("LatentClassModel", scorer)
    from segment.models import LatentClassModel

    model = LatentClassModel.from_parameters(
        categories,
        probs,
        shares,
        weights=np.asarray(m["shares"], dtype=float),
        coef=None if m["coef"] is None else np.asarray(m["coef"], dtype=float),
        feature_names=m["items"],
        **params,
    )
    model.n_covariates_ = int(m["n_covariates"])  # as the file says (checked on writing)
    return model


def _restore_fit(model: LatentClassModel, fit: dict) -> None:
    model.loglik_ = float(fit["loglik"])
    model.entropy_ = float(fit["entropy"])
    model.n_samples_fit_ = int(fit["n_respondents"])
    model.n_empty_ = int(fit["n_empty"])
    model.n_iter_ = int(fit["n_iter"])
    model.converged_ = bool(fit["converged"])
    model.start_logliks_ = np.asarray(fit["start_logliks"], dtype=float)
    model.n_best_starts_ = count_best_starts(model.start_logliks_)
