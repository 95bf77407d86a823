"""Raking (`segment.weights.raking`, `segment weights rake`): a published example, properties,
errors."""

from __future__ import annotations

import hashlib
import itertools
import math
import re

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segment.exceptions import DataError
from segment.survey.codebook import Codebook
from segment.survey.tables import read_table
from segment.weights.raking import (
    ConvergenceError,
    Margins,
    MarginsError,
    RakingResult,
    load_margins,
    rake,
)

KZ_MARGINS = "kz_margins.yaml"


@pytest.fixture(scope="module")
def kz():
    """(raw frame, codebook, margins) of the bundled survey and profiles/kz_margins.yaml."""
    from segment.resources import bundled_path

    frame, _ = read_table(bundled_path("data", "kz2020_synthetic.csv"))
    codebook = Codebook.load(bundled_path("data", "kz2020_synthetic_codebook.yaml"))
    return frame, codebook, load_margins(bundled_path("profiles", KZ_MARGINS))


# --------------------------------------------------------------------- published example
# Wikipedia, "Iterative proportional fitting", section "Example": a 4 x 4 table raked to row
# targets 150, 300, 400, 150 and column targets 200, 300, 400, 100, adjusting rows then columns.
# The article prints the table after the third iteration to two decimals (the figures below, as
# copied into a public test fixture that cites the article); its later iterations change
# the cells by at most 0.052.
WIKI_SEED = np.array([[40, 30, 20, 10], [35, 50, 100, 75], [30, 80, 70, 120], [20, 30, 40, 50]])
WIKI_ROWS = [150, 300, 400, 150]
WIKI_COLS = [200, 300, 400, 100]
WIKI_AFTER_3 = np.array(
    [
        [64.61, 46.28, 35.42, 3.83],
        [49.95, 68.15, 156.49, 25.37],
        [56.70, 144.40, 145.06, 53.76],
        [28.74, 41.18, 63.03, 17.03],
    ]
)
WIKI_MARGINS = {
    "scale": "counts",
    "margins": {
        "row": {i: t for i, t in enumerate(WIKI_ROWS)},
        "col": {j: t for j, t in enumerate(WIKI_COLS)},
    },
}


def _wiki_frame(layout: str) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The seed table as respondents: one per unit of count, or one per cell weighted by it."""
    rows, cols = np.divmod(np.arange(16), 4)
    if layout == "units":
        counts = WIKI_SEED.ravel()
        return pd.DataFrame({"row": np.repeat(rows, counts), "col": np.repeat(cols, counts)}), None
    return pd.DataFrame({"row": rows, "col": cols}), WIKI_SEED.ravel().astype(float)


def _cell_totals(frame: pd.DataFrame, weights: pd.Series) -> np.ndarray:
    table = weights.groupby([frame["row"], frame["col"]]).sum().unstack()
    return table.to_numpy()


@pytest.mark.parametrize("layout", ["units", "weighted_cells"])
def test_three_iterations_reproduce_the_wikipedia_example(layout):
    frame, base = _wiki_frame(layout)
    result = rake(frame, WIKI_MARGINS, base_weights=base, max_iter=3, strict=False)
    assert result.iterations == 3 and not result.converged
    np.testing.assert_allclose(_cell_totals(frame, result.weights), WIKI_AFTER_3, atol=0.005)


@pytest.mark.parametrize("layout", ["units", "weighted_cells"])
def test_converged_wikipedia_example_meets_the_margins_and_keeps_the_odds_ratios(layout):
    frame, base = _wiki_frame(layout)
    result = rake(frame, WIKI_MARGINS, base_weights=base, tol=1e-12)
    cells = _cell_totals(frame, result.weights)
    assert result.converged
    np.testing.assert_allclose(cells.sum(axis=1), WIKI_ROWS, rtol=1e-10)
    np.testing.assert_allclose(cells.sum(axis=0), WIKI_COLS, rtol=1e-10)
    # IPF multiplies rows and columns by factors, so every cross-product ratio of the seed stays.
    for (i, k), (j, m) in itertools.product(
        itertools.combinations(range(4), 2), itertools.combinations(range(4), 2)
    ):
        seed = WIKI_SEED[i, j] * WIKI_SEED[k, m] / (WIKI_SEED[i, m] * WIKI_SEED[k, j])
        raked = cells[i, j] * cells[k, m] / (cells[i, m] * cells[k, j])
        assert raked == pytest.approx(seed, rel=1e-9)
    np.testing.assert_allclose(cells, WIKI_AFTER_3, atol=0.06)  # and close to the article's


def test_a_textbook_two_by_two_rakes_to_its_closed_form():
    # 2 x 2 raking has a closed form: the fitted table keeps the seed's odds ratio.
    frame = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"]})
    seed = np.array([7.0, 9.0, 12.0, 7.0])  # survey table of Klemens' raking tutorial
    result = rake(
        frame,
        {"scale": "counts", "margins": {"a": {"x": 5, "y": 15}, "b": {"u": 10, "v": 10}}},
        base_weights=seed,
        tol=1e-12,
    )
    x = result.weights.to_numpy()
    assert x[0] + x[1] == pytest.approx(5) and x[0] + x[2] == pytest.approx(10)
    assert x[0] * x[3] / (x[1] * x[2]) == pytest.approx(7 * 7 / (9 * 12))


# --------------------------------------------------------------------- bundled data
# (0.5, 2.0) cannot be met by the bundled survey (11 Uyghur respondents for a 1.5% margin need
# weights above 2 times the mean); the mean raked weight is within tol of 1 only up to the
# rounding of the last trim (1.02e-6 at tol 1e-6), so the margins are raked to 1e-8 here.
@pytest.mark.parametrize("trim", [None, (0.3, 3.0), (0.45, 2.2)])
def test_bundled_survey_reproduces_the_kz_margins(kz, trim):
    frame, codebook, margins = kz
    result = rake(frame, margins, base_weights="weight", codebook=codebook, trim=trim, tol=1e-8)
    assert result.converged and result.max_error <= 1e-6
    table = result.margins
    assert len(table) == sum(math.prod(m.shape) for m in margins)
    assert (table["achieved"] - table["target"]).abs().max() <= 1e-6
    assert table.groupby("margin")["target"].sum().to_numpy() == pytest.approx(1.0)
    w = result.weights.to_numpy()
    assert w.mean() == pytest.approx(1.0, abs=1e-6)
    assert result.design_effect == pytest.approx(len(w) * (w**2).sum() / w.sum() ** 2)
    assert result.effective_n == pytest.approx(len(w) / result.design_effect)
    if trim is not None:
        # bounds relative to the mean raked weight, which is 1 with shares (within tol after
        # the last trim); the bounds themselves hold exactly
        lo, hi = trim
        assert w.min() >= lo and w.max() <= hi
        assert result.n_trimmed > 0
    # the weighted age-by-gender shares match, recomputed from scratch
    bands = pd.cut(frame["age"].astype(float), [17, 34, 54, 90], labels=["18-34", "35-54", "55+"])
    gender = frame["gender"].map({"1": "male", "2": "female"})
    shares = result.weights.groupby([bands, gender], observed=True).sum() / w.sum()
    assert shares[("55+", "female")] == pytest.approx(0.1484, abs=1e-6)


def test_summary_reports_design_effect_effective_n_and_every_category(kz):
    frame, codebook, margins = kz
    result = rake(frame, margins, base_weights="weight", codebook=codebook, trim=(0.3, 3))
    text = result.summary()
    assert f"Kish design effect (1 + CV^2): {result.design_effect:.3f}" in text
    assert f"effective sample size {result.effective_n:,.0f} of 1,500" in text
    assert "converged in" in text and "Trimming: bounds 0.3 and 3" in text
    for margin in margins:
        for combo, _ in margin.cells():
            assert " x ".join(combo) in text


# --------------------------------------------------------------------- properties
@st.composite
def raking_problems(draw):
    """Respondents on two variables, base weights, and margins some weights reproduce."""
    n = draw(st.integers(12, 80))
    ka, kb = draw(st.integers(2, 4)), draw(st.integers(2, 3))
    a = np.arange(n) % ka  # every category present
    b = np.array(draw(st.lists(st.integers(0, kb - 1), min_size=n, max_size=n)))
    b[:kb] = np.arange(kb)
    floats = st.floats(0.2, 5.0, allow_nan=False, allow_infinity=False)
    base = np.array(draw(st.lists(floats, min_size=n, max_size=n)))
    truth = np.array(draw(st.lists(floats, min_size=n, max_size=n)))  # feasible: reproduces them
    frame = pd.DataFrame({"a": [f"a{v}" for v in a], "b": [f"b{v}" for v in b]})
    margins = {
        "a": (pd.Series(truth).groupby(frame["a"]).sum() / truth.sum()).to_dict(),
        "b": (pd.Series(truth).groupby(frame["b"]).sum() / truth.sum()).to_dict(),
    }
    return frame, base, margins


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(raking_problems(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(problem, rnd):
    frame, base, margins = problem
    order = list(range(len(frame)))
    rnd.shuffle(order)
    first = rake(frame, margins, base_weights=base, tol=1e-10)
    shuffled = frame.iloc[order].reset_index(drop=True)
    second = rake(shuffled, margins, base_weights=base[order], tol=1e-10)
    np.testing.assert_allclose(
        second.weights.to_numpy(), first.weights.to_numpy()[order], rtol=1e-6
    )


@PROPERTY
@given(raking_problems(), st.floats(0.001, 1000.0))
def test_scaling_the_base_weights_does_not_change_the_result(problem, factor):
    frame, base, margins = problem
    first = rake(frame, margins, base_weights=base, tol=1e-10)
    second = rake(frame, margins, base_weights=base * factor, tol=1e-10)
    np.testing.assert_allclose(second.weights, first.weights, rtol=1e-6)


@PROPERTY
@given(raking_problems())
def test_data_that_already_match_the_margins_keep_their_weights(problem):
    frame, base, _ = problem
    base = base / base.mean()  # raked weights have mean 1 with shares
    own = {
        var: (pd.Series(base).groupby(frame[var]).sum() / base.sum()).to_dict()
        for var in ("a", "b")
    }
    result = rake(frame, own, base_weights=base)
    assert result.iterations == 0
    np.testing.assert_allclose(result.weights, base, rtol=1e-12)


@PROPERTY
@given(raking_problems())
def test_raking_reproduces_any_feasible_margins(problem):
    frame, base, margins = problem
    # IPF converges linearly, slowly when margins nearly bind a sparse table (hypothesis found
    # one 1.5e-9 off after 200 sweeps): the test is of the fixed point, not of the speed
    result = rake(frame, margins, base_weights=base, tol=1e-9, max_iter=5000)
    for var, shares in margins.items():
        got = result.weights.groupby(frame[var]).sum() / result.weights.sum()
        for category, share in shares.items():
            assert got[category] == pytest.approx(share, abs=1e-8)


@PROPERTY
@given(raking_problems(), st.sampled_from([(0.5, 2.0), (0.25, 4.0), (0.0, 3.0)]))
def test_trimmed_weights_stay_within_their_bounds(problem, trim):
    frame, base, margins = problem
    try:
        result = rake(frame, margins, base_weights=base, trim=trim, max_iter=500)
    except ConvergenceError as exc:  # bounds too tight for these margins: said so, not ignored
        assert "trimming bounds may be too tight" in str(exc)
        return
    w = result.weights.to_numpy()
    assert w.min() >= trim[0] and w.max() <= trim[1]  # x the mean weight, 1 with shares
    assert result.max_error <= 1e-6


# --------------------------------------------------------------------- joint margins, counts
def test_a_joint_margin_is_met_cell_by_cell():
    frame = pd.DataFrame(
        {
            "age": ["young", "young", "old", "old", "old", "young", "old", "young"],
            "sex": ["m", "f", "m", "f", "f", "m", "m", "f"],
            "city": ["x", "y", "x", "x", "y", "y", "x", "y"],
        }
    )
    joint = {"young": {"m": 0.2, "f": 0.3}, "old": {"m": 0.25, "f": 0.25}}
    result = rake(frame, {"age x sex": joint, "city": {"x": 0.5, "y": 0.5}}, tol=1e-10)
    got = result.weights.groupby([frame["age"], frame["sex"]]).sum() / len(frame)
    for age, by_sex in joint.items():
        for sex, share in by_sex.items():
            assert got[(age, sex)] == pytest.approx(share, abs=1e-9)
    assert set(result.margins["category"]) >= {"young x m", "old x f", "x", "y"}


def test_counts_give_weights_that_sum_to_the_population_total():
    frame = pd.DataFrame({"g": ["a", "a", "b"]})
    result = rake(frame, {"scale": "counts", "margins": {"g": {"a": 6000, "b": 4000}}})
    assert result.weights.tolist() == pytest.approx([3000, 3000, 4000])


def test_codebook_codes_and_level_names_both_match(kz):
    frame, codebook, _ = kz
    by_name = rake(frame, {"gender": {"male": 0.47, "female": 0.53}}, codebook=codebook)
    by_code = rake(frame, {"gender": {1: 0.47, 2: 0.53}}, codebook=codebook)
    np.testing.assert_allclose(by_name.weights, by_code.weights)


# --------------------------------------------------------------------- margins file errors
BAD_MARGINS = [
    ("margins:\n  gender: {male: 0.5, female: [0.5\n", "line", "not valid YAML"),
    (
        "margins:\n  gender: {male: 0.47, female: 0.50}\n",
        "margins.gender",
        "shares add up to 0.97; expected 1 (within 0.005)",
    ),
    ("margins:\n  gender: {male: 1.2, female: -0.2}\n", "margins.gender.female", "non-negative"),
    ("margins:\n  gender: {male: 0.5, female: lots}\n", "margins.gender.female", "value 'lots'"),
    ("margins:\n  smoker: {yes: 0.2, no: 0.8}\n", "margins.smoker.True", "put it in quotes"),
    (
        "margins:\n  age x sex:\n    young: {m: 0.5, f: 0.2}\n    old: {m: 0.3}\n",
        "margins.age x sex.old.f",
        "missing cell old x f",
    ),
    (
        "scale: counts\nmargins:\n  g: {a: 600, b: 400}\n  h: {c: 700, d: 500}\n",
        "margins.h",
        "counts add up to 1200, but margins.g adds up to 1000",
    ),
    ("margin:\n  g: {a: 1}\n", "margin", "unknown key"),
    ("scale: percent\nmargins:\n  g: {a: 1}\n", "scale", "expected 'shares' or 'counts'"),
    ("margins: []\n", "margins", "expected a mapping from a variable"),
]


@pytest.mark.parametrize(("text", "where", "message"), BAD_MARGINS)
def test_bad_margins_files_name_the_file_and_location(tmp_path, text, where, message):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MarginsError) as exc:
        load_margins(path)
    shown = str(exc.value)
    assert f"{path}, {where}" in shown
    assert message in shown


def test_missing_margins_file_is_named(tmp_path):
    with pytest.raises(MarginsError, match=r"nope\.yaml: file not found"):
        load_margins(tmp_path / "nope.yaml")


def test_kz_margins_file_documents_its_sources(kz):
    from segment.resources import bundled_path

    text = bundled_path("profiles", KZ_MARGINS).read_text(encoding="utf-8")
    assert "kz2020_population.yaml" in text and "APPROXIMATE" in text
    margins = kz[2]
    assert [m.name for m in margins] == ["age x gender", "settlement", "region", "ethnicity"]
    assert margins.note and "not official statistics" in margins.note


# --------------------------------------------------------------------- data errors
def _as_mapping(margins: Margins) -> dict:
    """The margins as the mapping a margins file holds (nested for joint margins)."""
    out: dict = {}
    for m in margins:
        node = out.setdefault(m.name, {})
        for combo, share in m.cells():
            inner = node
            for label in combo[:-1]:
                inner = inner.setdefault(label, {})
            inner[combo[-1]] = share
    return out


def test_a_data_category_missing_from_the_margins_is_named(kz):
    frame, codebook, margins = kz
    shares = _as_mapping(margins)
    del shares["ethnicity"]["german"]
    total = sum(shares["ethnicity"].values())
    shares["ethnicity"] = {k: v / total for k, v in shares["ethnicity"].items()}
    with pytest.raises(DataError) as exc:
        rake(frame, shares, codebook=codebook, file="kz.csv")
    text = str(exc.value)
    assert "kz.csv, ethnicity, row " in text
    assert (
        "value 'german': category not in the margins (<margins>, margins.ethnicity): 8 respondents"
        in text
    )
    assert "expected one of kazakh, russian, uzbek, ukrainian, uyghur, tatar, other" in text


def test_a_margin_category_absent_from_the_data_is_named(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("margins:\n  g: {a: 0.5, b: 0.3, nomad: 0.2}\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        rake(pd.DataFrame({"g": ["a", "b", "a"]}), load_margins(path), file="d.csv")
    assert f"{path}, margins.g.nomad: target 0.2 but no respondent of d.csv is in nomad" in str(
        exc.value
    )


def test_an_empty_category_with_zero_target_is_fine_but_respondents_in_it_are_not():
    frame = pd.DataFrame({"g": ["a", "b", "a"]})
    assert rake(frame, {"g": {"a": 0.5, "b": 0.5, "c": 0.0}}).converged
    with pytest.raises(DataError, match=r"d\.csv, g, row 2: value 'b': 1 respondent is in b"):
        rake(frame, {"g": {"a": 1.0, "b": 0.0}}, file="d.csv")


def test_a_missing_column_is_named():
    with pytest.raises(DataError, match=r"d\.csv, region: column named in the margins"):
        rake(pd.DataFrame({"g": ["a"]}), {"region": {"x": 1.0}}, file="d.csv")


def test_missing_values_are_an_error_naming_column_and_rows_or_keep_their_weight(kz):
    frame, codebook, _ = kz
    income = {
        "income": {
            "not_enough_food": 0.05,
            "food_only": 0.20,
            "food_and_clothes": 0.42,
            "durables": 0.27,
            "anything": 0.06,
        }
    }
    refused = np.flatnonzero(frame["income"].to_numpy() == "9") + 1
    with pytest.raises(DataError) as exc:
        rake(frame, income, base_weights="weight", codebook=codebook, file="kz.csv")
    text = str(exc.value)
    assert f"kz.csv, income, row {refused[0]}: 52 respondents have no category" in text
    assert ", ".join(str(r) for r in refused[:10]) + " and 42 more" in text
    kept = rake(frame, income, base_weights="weight", codebook=codebook, missing="keep")
    assert kept.n_kept == 52 and kept.n_raked == 1448
    base = frame["weight"].astype(float).to_numpy()
    np.testing.assert_array_equal(kept.weights.to_numpy()[refused - 1], base[refused - 1])
    assert (kept.margins["achieved"] - kept.margins["target"]).abs().max() <= 1e-6


@pytest.mark.parametrize(
    ("value", "shown"), [("0", "'0'"), ("-1.5", "'-1.5'"), ("heavy", "'heavy'"), ("", None)]
)
def test_bad_base_weights_are_named(value, shown):
    frame = pd.DataFrame({"g": ["a", "b", "a"], "w": ["1", value or None, "2"]})
    with pytest.raises(DataError) as exc:
        rake(frame, {"g": {"a": 0.5, "b": 0.5}}, base_weights="w", file="d.csv")
    text = str(exc.value)
    assert "d.csv, w, row 2: " in text and "not a positive finite number" in text
    if shown:
        assert f"value {shown}" in text


def test_codes_outside_the_codebook_are_named(kz):
    frame, codebook, _ = kz
    bad = frame.copy()
    bad.loc[4, "gender"] = "7"
    with pytest.raises(DataError, match=r"gender, row 5: value '7': 1 value is not a code"):
        rake(bad, {"gender": {"male": 0.5, "female": 0.5}}, codebook=codebook)


def test_contradictory_margins_do_not_converge_and_say_where():
    frame = pd.DataFrame({"age": ["y", "y", "o", "o"], "sex": ["m", "f", "m", "f"]})
    margins = {
        "sex": {"m": 0.5, "f": 0.5},
        "age x sex": {"y": {"m": 0.4, "f": 0.2}, "o": {"m": 0.2, "f": 0.2}},
    }
    with pytest.raises(ConvergenceError) as exc:
        rake(frame, margins, max_iter=50, file="d.csv")
    text = str(exc.value)
    assert "did not converge in 50 iterations" in text
    assert "sex = " in text and "against a target of 50.0000%" in text
    assert isinstance(exc.value.result, RakingResult) and not exc.value.result.converged


def test_too_tight_trimming_is_reported(kz):
    frame, codebook, margins = kz
    with pytest.raises(ConvergenceError, match=r"settlement = megapolis is at .*\(widen --trim\)"):
        rake(frame, margins, base_weights="weight", codebook=codebook, trim=(0.9, 1.1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_iter": 0}, "max_iter must be a positive integer, got 0"),
        ({"tol": 0}, "tol must be a number between 0 and 1, got 0"),
        ({"trim": (1.2, 3)}, "trim must be (lo, hi) with 0 <= lo < 1 < hi"),
        ({"trim": (0.5,)}, "got (0.5,)"),
        ({"missing": "drop"}, "missing must be 'error' or 'keep', got 'drop'"),
    ],
)
def test_bad_parameters_name_the_parameter_and_value(kwargs, message):
    with pytest.raises(ValueError) as exc:
        rake(pd.DataFrame({"g": ["a", "b"]}), {"g": {"a": 0.5, "b": 0.5}}, **kwargs)
    assert message in str(exc.value)


# --------------------------------------------------------------------- command line
@pytest.fixture
def data_copy(tmp_path, bundled_survey):
    data, codebook, _ = bundled_survey
    copy = tmp_path / "poll.csv"
    copy.write_bytes(data.read_bytes())
    return copy, codebook


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_cli_rakes_the_bundled_survey_end_to_end(tmp_path, capsys, data_copy):
    data, codebook = data_copy
    before = _digest(data)
    output = tmp_path / "out" / "weighted.csv"
    args = ["weights", "rake", data, "--margins", "kz_margins", "--codebook", codebook]
    code, out, err = run_cli([*args, "-o", output, "--trim", "0.3,3", "--tol", "1e-8"], capsys)
    assert code == 0, err
    assert _digest(data) == before  # input untouched
    assert "SYNTHETIC DATA" in out and "converged in" in out
    assert re.search(r"Kish design effect \(1 \+ CV\^2\): 1\.\d{3}", out)
    assert "effective sample size" in out and "55+ x female" in out and "almaty_city" in out
    assert "Base weights: column 'weight'" in out
    written, _ = read_table(output)
    original, _ = read_table(data)
    assert list(written.columns) == [*original.columns, "weight_raked"]
    pd.testing.assert_frame_equal(written[original.columns], original)  # other columns as read
    w = written["weight_raked"].astype(float)
    assert w.mean() == pytest.approx(1.0) and w.min() >= 0.3 - 1e-9
    assert [p.name for p in output.parent.iterdir()] == ["weighted.csv"]  # no temporary files

    # an existing output is kept without --force, replaced with it
    code, _, err = run_cli([*args, "-o", output], capsys)
    assert code == 2 and "pass --force to replace it" in err
    code, _, _ = run_cli([*args, "-o", output, "--force", "--column", "w2", "--quiet"], capsys)
    assert code == 0 and "w2" in read_table(output)[0].columns


def test_cli_writes_parquet_and_keeps_missing_rows_on_request(tmp_path, capsys, data_copy):
    data, codebook = data_copy
    margins = tmp_path / "income.yaml"
    margins.write_text(
        "margins:\n  income: {not_enough_food: 0.05, food_only: 0.2, food_and_clothes: 0.42,"
        " durables: 0.27, anything: 0.06}\n",
        encoding="utf-8",
    )
    output = tmp_path / "w.parquet"
    args = ["weights", "rake", data, "--margins", margins, "--codebook", codebook, "-o", output]
    code, _, err = run_cli(args, capsys)
    assert code == 2 and "income, row " in err and "52 respondents have no category" in err
    assert not output.exists()
    code, out, _ = run_cli([*args, "--missing", "keep"], capsys)
    assert code == 0 and "52 with a missing raking variable kept their base weight" in out
    assert pd.read_parquet(output)["weight_raked"].notna().all()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--trim", "3,0.3"], "expected 0 <= LO < 1 < HI"),
        (["--trim", "a,b"], "expected LO,HI"),
        (["--column", "weight"], "DATA already has a column 'weight'"),
        (["--base-weight", "nope"], "nope: base weight column is not in the data"),
    ],
)
def test_cli_bad_options_exit_2_and_write_nothing(tmp_path, capsys, data_copy, extra, message):
    data, codebook = data_copy
    output = tmp_path / "w.csv"
    args = ["weights", "rake", data, "--margins", "kz_margins", "--codebook", codebook]
    code, _, err = run_cli([*args, "-o", output, *extra], capsys)
    assert code == 2 and message in err
    assert not output.exists()


def test_cli_bad_margins_file_exits_2_with_no_partial_output(tmp_path, capsys, data_copy):
    data, codebook = data_copy
    margins = tmp_path / "m.yaml"
    margins.write_text("margins:\n  gender: {male: 0.4, female: 0.4}\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    output = out_dir / "w.csv"
    args = ["weights", "rake", data, "--margins", margins, "--codebook", codebook, "-o", output]
    code, _, err = run_cli(args, capsys)
    assert code == 2
    assert f"{margins}, margins.gender: shares add up to 0.8" in err
    assert list(out_dir.iterdir()) == []


def test_cli_non_convergence_exits_2_with_no_output(tmp_path, capsys, data_copy):
    data, codebook = data_copy
    output = tmp_path / "w.csv"
    args = ["weights", "rake", data, "--margins", "kz_margins", "--codebook", codebook]
    code, _, err = run_cli([*args, "-o", output, "--trim", "0.9,1.1"], capsys)
    assert code == 2 and "did not converge" in err and "widen --trim" in err
    assert not output.exists()


def test_cli_refuses_to_overwrite_its_input(tmp_path, capsys, data_copy):
    data, codebook = data_copy
    before = _digest(data)
    args = ["weights", "rake", data, "--margins", "kz_margins", "--codebook", codebook]
    code, _, err = run_cli([*args, "-o", data, "--force"], capsys)
    assert code == 2 and "OUTPUT is DATA itself" in err
    assert _digest(data) == before


def test_summary_prints_no_count_under_30_nor_one_that_follows(kz):
    """Four ethnic groups of 8-23 respondents: their n and sample share are "<30" and "–"; the
    rest of each margin is printed, and no margin has a single hidden cell of 1-29."""
    frame, codebook, margins = kz
    result = rake(frame, margins, base_weights="weight", codebook=codebook, trim=(0.3, 3))
    text = result.summary()
    table = result.margins
    for r in table.itertuples():
        line = next(
            row for row in text.splitlines() if row.split()[:1] and f" {r.category} " in row
        )
        if r.n < 30:
            assert " <30 " in line and f"{100 * r.sample:.2f}" not in line.split()[-4:-3]
        else:
            assert f" {r.n:,} " in line or " – " in line
    ethnicity = table[table["margin"] == "ethnicity"]
    assert (ethnicity["n"] < 30).sum() == 4
    assert "<30" in text and "consider merging it" in text
