"""Scoring one person without scikit-learn: the numpy-only AnswerPosterior read from a model
file gives the probabilities of the full LatentClassModel, and `segment score --answer` never
imports scikit-learn, scipy or numba."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segment import read_survey
from segment.models import LatentClassModel
from segment.models.posterior import AnswerPosterior
from segment.segments.fit import fit_segments
from segment.segments.model_file import load_model, save_model


@pytest.fixture(scope="module")
def model_path(bundled_survey, tmp_path_factory):
    frame, codebook = read_survey(bundled_survey[0], bundled_survey[1])
    path = tmp_path_factory.mktemp("one") / "model.json"
    save_model(fit_segments(frame, codebook, 4, n_init=1), path)
    return path


@pytest.fixture(scope="module")
def both(model_path):
    return load_model(model_path), load_model(model_path, scoring_only=True)


def test_scoring_only_model_is_numpy_only(both):
    full, light = both
    assert isinstance(full.estimator, LatentClassModel)
    assert isinstance(light.estimator, AnswerPosterior)
    assert light.names == full.names and light.items == full.items


def test_same_scores_on_the_training_survey(both, bundled_survey):
    full, light = both
    raw = pd.read_csv(bundled_survey[0]).head(300)
    raw.iloc[::7, 5:20] = np.nan  # partial answers
    a, b = full.score_frame(raw), light.score_frame(raw)
    pd.testing.assert_frame_equal(
        a.drop(columns=[c for c in a if c.startswith("p_") or c == "max_probability"]),
        b.drop(columns=[c for c in b if c.startswith("p_") or c == "max_probability"]),
    )
    p = [c for c in a if c.startswith("p_")]
    np.testing.assert_allclose(a[p].to_numpy(float), b[p].to_numpy(float), rtol=1e-12, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_posterior_matches_the_model_on_any_answers(both, data):
    full, light = both
    est = full.estimator
    rows = data.draw(st.integers(1, 5))
    codes = np.full((rows, len(est.categories_)), np.nan)
    for j, cats in enumerate(est.categories_):
        picks = data.draw(
            st.lists(st.sampled_from([np.nan, *cats.tolist()]), min_size=rows, max_size=rows)
        )
        codes[:, j] = picks
    expected = est.predict_proba_codes(est.encode(codes))
    got = light.estimator.predict_proba_codes(light.estimator.encode(codes))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(got.sum(axis=1), 1.0)


def test_an_unseen_answer_is_named(both):
    _, light = both
    codes = np.full((2, len(light.items)), np.nan)
    codes[1, 3] = 99.0
    with pytest.raises(ValueError, match=r"column 3, row 2: answer 99\.0 was not seen"):
        light.estimator.encode(codes)


def test_score_answer_imports_no_scikit_learn(model_path):
    code = (
        "import sys\n"
        "from segment.cli import main\n"
        "sys.argv = ['segment', 'score', sys.argv[1], '--answer', 'trust_army=1']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "heavy = [m for m in ('sklearn', 'scipy', 'numba') if m in sys.modules]\n"
        "print('heavy:', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(model_path)], capture_output=True, text=True, check=True
    )
    assert "Segment:" in out.stdout and "heavy: []" in out.stdout
