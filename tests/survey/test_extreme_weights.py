"""Weights near the float limit: scale-free statistics stay finite (issue 17, item 9)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli

from segment._util import normalised_weights
from segment.survey.summary import kish_design_effect

BAD = Path(__file__).resolve().parents[1] / "bad_inputs"


@pytest.mark.parametrize("scale", [1.0, 1e-300, 1e300, 1e307])
def test_normalised_weights_and_kish_do_not_depend_on_the_scale(scale):
    w = np.array([1.0, 2.0, 0.5, 1.0])
    np.testing.assert_allclose(normalised_weights(w * scale), normalised_weights(w), rtol=1e-12)
    assert kish_design_effect(w * scale) == pytest.approx(kish_design_effect(w), rel=1e-12)


def test_all_weights_1e308_describe_like_weights_of_1(tmp_path, capsys):
    survey = pd.read_csv(BAD / "survey.csv", dtype=str, keep_default_na=False)
    printed = {}
    for value in ("1e308", "1"):
        survey["weight"] = value
        survey.to_csv(tmp_path / f"w{value}.csv", index=False)
        code, out, err = run_cli(
            ["describe", tmp_path / f"w{value}.csv", "--codebook", BAD / "codebook.yaml"], capsys
        )
        assert code == 0, err
        assert "nan%" not in (out + err).lower()
        printed[value] = out.split("Attitude items")[1]
    assert printed["1e308"] == printed["1"]
