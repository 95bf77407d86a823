"""`segment listexp`: Table 1 with intervals, subgroup differences, support by segment."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import run_cli

from segment.disclosure import published
from segment.resources import bundled_path


def test_race_difference_in_means_by_south_matches_r_list(shared_data, capsys):
    # R list 9.2.6: overall 0.06780 (0.04958); south 0.25865; non-south 0.00543. The CLI
    # publishes them rounded to what their standard errors support (segment.disclosure).
    path = shared_data / "listexp" / "race.csv"
    code, out, _ = run_cli(
        ["listexp", path, "--J", "3", "--by", "south", "--format", "json"], capsys
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["overall"]["estimate"] == published(0.06780, "share", se=0.04958) == 0.068
    assert doc["overall"]["se"] == published(0.04958, "se") == 0.05
    by = {g["group"]: g for g in doc["groups"]}
    assert by["1"]["estimate"] == published(0.25865, "share", se=by["1"]["se"])
    assert by["0"]["estimate"] == published(0.00543, "share", se=by["0"]["se"])
    assert doc["differences"][0]["p_value"] < 0.05


def test_table1_prints_with_intervals_and_suppresses_small_groups(capsys):
    data = bundled_path("data", "kz2022_listexp.csv")
    code, out, _ = run_cli(
        [
            "listexp",
            data,
            "--J",
            "4",
            "--by",
            "gender,region",
            "--format",
            "markdown",
            "--min-cell",
            "60",
        ],
        capsys,
    )
    assert code == 0
    assert "| Entire sample |  | 400 | 2.77 | 3.31 |" in out
    assert "95% CI" in out and "Design-effect test" in out
    # 52 respondents, under 60 in each arm
    assert (
        "| region | astana | – | | | withheld: fewer than 60 respondents in control and in "
        "treatment | |" in out
    )


def test_support_by_segment_from_a_saved_model(tmp_path, capsys, bundled_survey):
    data, codebook, _ = bundled_survey
    model = tmp_path / "m.json"
    assert (
        run_cli(
            ["fit", data, "--codebook", codebook, "--k", "6", "--n-init", "2", "-o", model], capsys
        )[0]
        == 0
    )
    code, out, _ = run_cli(
        [
            "listexp",
            bundled_path("data", "kz2022_listexp.csv"),
            "--J",
            "4",
            "--segments",
            model,
            "--bootstrap",
            "50",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    assert "BCH" in doc["segments"]["method"]
    assert len(doc["segments"]["table"]) == 6


def test_ml_method_with_covariates(shared_data, capsys):
    path = shared_data / "listexp" / "race.csv"
    code, out, _ = run_cli(
        [
            "listexp",
            path,
            "--J",
            "3",
            "--method",
            "ml",
            "--covariates",
            "south,age,male,college",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["ml"]["prevalence"] == pytest.approx(0.155, abs=0.001)  # R list: 0.155


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "nope"], "no such column"),
        (["--by", "missing_column"], "no such column"),
        (["--J", "2"], "expected"),  # counts above J
    ],
)
def test_bad_input_exits_2_naming_the_problem(shared_data, capsys, args, message):
    path = shared_data / "listexp" / "race.csv"
    argv = ["listexp", path, "--J", "3", *args] if "--J" not in args else ["listexp", path, *args]
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert message in err


@pytest.mark.parametrize(("method", "prevalence"), [("lm", 0.071), ("nls", 0.088), ("ml", 0.155)])
def test_every_method_from_the_command_line(shared_data, capsys, method, prevalence):
    path = shared_data / "listexp" / "race.csv"
    code, out, _ = run_cli(
        [
            "listexp",
            path,
            "--J",
            "3",
            "--method",
            method,
            "--covariates",
            "south,age,male,college",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["model"]["prevalence"] == pytest.approx(prevalence, abs=0.002)
    assert "south" in doc["model"]["summary"]


def test_ml_with_the_segment_as_a_covariate(tmp_path, capsys, bundled_survey):
    data, codebook, _ = bundled_survey
    model = tmp_path / "m.json"
    assert (
        run_cli(
            ["fit", data, "--codebook", codebook, "--k", "3", "--n-init", "2", "-o", model], capsys
        )[0]
        == 0
    )
    code, out, _ = run_cli(
        [
            "listexp",
            bundled_path("data", "kz2022_listexp.csv"),
            "--J",
            "4",
            "--method",
            "ml",
            "--segments",
            model,
            "--bootstrap",
            "20",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    assert len(doc["model"]["covariates"]) == 2 and all(
        c.startswith("P(") for c in doc["model"]["covariates"]
    )


def test_power_command(capsys):
    code, out, _ = run_cli(
        ["listexp-power", "--J", "4", "--n", "400", "--prevalence", "0.56"], capsys
    )
    assert code == 0 and "+/- 20.8 points" in out  # about the memo's +/- 20 points at N = 400
    code, out, _ = run_cli(
        ["listexp-power", "--J", "4", "--half-width", "0.1", "--deff", "1.3"], capsys
    )
    assert code == 0 and "N = " in out
    assert run_cli(["listexp-power", "--J", "4"], capsys)[0] == 2


@pytest.mark.parametrize("variance", ["linearization", "bootstrap"])
def test_cli_listexp_design_based_standard_errors(tmp_path, capsys, variance):
    frame = pd.read_csv(bundled_path("data", "kz2022_listexp.csv"))
    path = tmp_path / "design.csv"
    frame.assign(psu=frame["resp_id"], stratum=1).to_csv(path, index=False)
    base = ["listexp", path, "--J", "4", "--format", "json"]
    code, out, _ = run_cli(base, capsys)
    srs = json.loads(out)["overall"]
    code, out, _ = run_cli(
        [*base, "--psu", "psu", "--strata", "stratum", "--variance", variance], capsys
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["design"].startswith(variance)
    # one respondent per PSU, one stratum: the design SE is the simple-random-sampling SE
    # (linearisation: up to the n/(n-1) vs per-arm small-sample factors; bootstrap: noise)
    tol = 0.01 if variance == "linearization" else 0.12
    assert doc["overall"]["se"] == pytest.approx(srs["se"], rel=tol)
    assert doc["overall"]["deff"] == pytest.approx(1.0, rel=3 * tol)
    assert doc["overall"]["estimate"] == pytest.approx(srs["estimate"])


@pytest.mark.parametrize("method", ["ml", "lm", "nls"])
def test_a_regression_without_covariates_is_the_intercept_model(method, capsys):
    """No --covariates: the intercept-only model, whose average prevalence is one number
    (it divided by zero rows before)."""
    data = bundled_path("data", "kz2022_listexp.csv")
    code, out, err = run_cli(["listexp", str(data), "--J", "4", "--method", method], capsys)
    assert code == 0, err
    assert "Traceback" not in out + err
    assert "Average predicted prevalence:" in out
