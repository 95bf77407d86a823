"""Typing tools: golden questions chosen inside cross-validation folds, scored like any model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segment.segments.typing_tool as tt
from segment import read_survey
from segment.cards.typology import Typology
from segment.cli import main
from segment.segments.fit import fit_segments
from segment.segments.model_file import load_model, save_model
from segment.segments.typing_tool import build_typing_tool, read_true_segments, select_questions


@pytest.fixture(scope="module")
def setup(bundled_survey):
    data, codebook, _ = bundled_survey
    frame, cb = read_survey(data, codebook)
    model = fit_segments(frame, cb, 6, typology=Typology.load("kz2020"), n_init=3)
    return data, frame, model


def test_accuracy_grows_with_questions_and_all_items_reproduce_the_model(setup):
    _, frame, model = setup
    result = select_questions(model, frame, [3, 10, len(model.items)])
    acc = result.table.set_index("questions")["accuracy"]
    assert 0 < acc[3] < acc[10] <= 1
    assert acc[len(model.items)] == pytest.approx(1.0)
    assert len(set(result.order)) == len(result.order) == len(model.items)


def test_questions_are_chosen_inside_each_training_fold(setup, monkeypatch):
    _, frame, model = setup
    calls = []
    real = tt._greedy

    def spy(log_lik, log_prior, target, weights, max_k):
        calls.append(len(target))
        return real(log_lik, log_prior, target, weights, max_k)

    monkeypatch.setattr(tt, "_greedy", spy)
    select_questions(model, frame, [4], n_folds=5)
    assert len(calls) == 6  # five training folds, then the final all-data selection
    assert all(n < len(frame) for n in calls[:5]) and calls[5] == len(frame)
    assert sum(len(frame) - n for n in calls[:5]) == len(frame)  # each respondent held out once


def test_tool_is_the_model_with_the_other_items_missing(setup, tmp_path):
    data, _frame, model = setup
    questions = ["trust_nur_otan", "cr_free_speech", "gov_religious"]
    tool = build_typing_tool(model, questions, {"cv_accuracy": 0.8})
    path = tmp_path / "tool.json"
    save_model(tool, path)
    loaded = load_model(path)
    raw = pd.read_csv(data)
    blanked = raw.copy()
    blanked[[c for c in model.items if c not in questions]] = np.nan
    np.testing.assert_allclose(loaded.predict_proba(raw), model.predict_proba(blanked), atol=1e-12)
    assert loaded.items == questions and loaded.fit["typing_tool"]["cv_accuracy"] == 0.8


def test_cli_typing_tool_then_score(setup, tmp_path, capsys):
    data, _, model = setup
    model_path, tool_path = tmp_path / "m.json", tmp_path / "tool.json"
    save_model(model, model_path)
    with pytest.raises(SystemExit) as info:
        main(
            ["typing-tool", str(model_path), str(data), "--questions", "3-6", "-o", str(tool_path)]
        )
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "holdout accuracy" in out and "Saved" in out
    tool = load_model(tool_path)
    answers = [f"--answer={q}=1" for q in tool.items]
    with pytest.raises(SystemExit) as info:
        main(["score", str(tool_path), *answers, "--format", "json"])
    assert info.value.code == 0
    assert '"items_used":' in capsys.readouterr().out


@pytest.mark.parametrize("measurement", ["nominal", "ordinal"])
def test_a_tool_scores_like_the_full_model_with_the_other_items_missing(setup, measurement):
    _, frame, _ = setup
    cb = setup[2].codebook
    model = fit_segments(frame.iloc[:800], cb, 3, n_init=1, measurement=measurement)
    questions = model.items[2:6]
    tool = build_typing_tool(model, questions)
    assert type(tool.estimator).__name__ == "LatentClassModel"
    assert tool.items == questions
    codes, _, _ = model.answers(frame.iloc[:50])
    kept = np.isin(np.array(model.items), questions)
    codes[:, ~kept] = np.nan
    np.testing.assert_allclose(
        tool.predict_proba(frame.iloc[:50]), model.proba_of_codes(codes), rtol=0, atol=1e-12
    )
    np.testing.assert_array_equal(tool.estimator.prior_shares_, model.estimator.prior_shares_)
    assert tool.estimator.loglik_ == model.estimator.loglik_


def test_the_model_is_refitted_without_the_held_out_respondents(setup, monkeypatch):
    """Each fold refits the latent class model on its training respondents only, so a held-out
    respondent shapes neither the parameters nor the questions that type them."""
    _, frame, model = setup
    fitted_rows = []
    real_clone = tt.clone

    def spy_clone(est):
        copy = real_clone(est)
        real_fit = copy.fit

        def fit(X, *args, **kwargs):
            fitted_rows.append(len(X))
            return real_fit(X, *args, **kwargs)

        copy.fit = fit
        return copy

    monkeypatch.setattr(tt, "clone", spy_clone)
    select_questions(model, frame, [4], n_folds=5, refit_n_init=1)
    assert len(fitted_rows) == 5
    assert sum(len(frame) - n for n in fitted_rows) == len(frame)


@pytest.mark.parametrize("sizes", [[2], [3, 8]])
def test_baseline_is_the_largest_segment_and_the_tool_beats_it(setup, sizes):
    _, frame, model = setup
    table = select_questions(model, frame, sizes, refit_n_init=1).table
    baseline = table["baseline"].iloc[0]
    assert (table["baseline"] == baseline).all()
    assert 1 / len(model.names) <= baseline < 0.5  # six segments, the largest about a fifth
    assert (table["accuracy"] > baseline).all()


def test_agreement_with_the_true_segment_on_synthetic_data(setup, bundled_survey):
    _, frame, model = setup
    truth = read_true_segments(bundled_survey[2], frame, ["resp_id"])
    table = select_questions(model, frame, [3, 10], refit_n_init=1, true_segments=truth).table
    acc = table.set_index("questions")["truth_accuracy"]
    assert table["baseline"].iloc[0] < acc[3] < acc[10] <= table["full_truth_accuracy"].iloc[0]
    # a permutation of the true labels is the same segmentation: the match is one-to-one
    renamed = np.array([f"x{t}" for t in truth], dtype=object)
    again = select_questions(model, frame, [3, 10], refit_n_init=1, true_segments=renamed).table
    np.testing.assert_allclose(again["truth_accuracy"], table["truth_accuracy"])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("resp_id,label\n100001,a\n", "missing: segment"),
        ("resp_id,segment\n100001,a\n", "survey respondents have no true segment"),
    ],
)
def test_a_bad_truth_file_is_refused_with_exit_2(setup, tmp_path, capsys, rows, message):
    data, _, model = setup
    model_path = tmp_path / "model.json"
    save_model(model, model_path)
    truth = tmp_path / "truth.csv"
    truth.write_text(rows, encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["typing-tool", str(model_path), str(data), "--questions", "3", "--truth",
              str(truth), "-o", str(tmp_path / "tool.json")])  # fmt: skip
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "tool.json").exists()
