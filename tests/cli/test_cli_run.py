"""`segment run` options: --k without a comparison of k, --ks, --measurement, --jobs."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import run_cli as run

N = 250


class Stop(Exception):
    """Raised by the stand-in for choosing k, once it has recorded its arguments."""


@pytest.fixture(scope="module")
def small_survey(bundled_survey, tmp_path_factory):
    data, codebook, _ = bundled_survey
    path = tmp_path_factory.mktemp("small") / "small.csv"
    pd.read_csv(data).head(N).to_csv(path, index=False)
    return path, codebook


@pytest.mark.parametrize(
    ("args", "compared"),
    [
        ([], [2, 3, 4, 5, 6, 7, 8]),  # no --k: choose among 2-8
        (["--ks", "3,5"], [3, 5]),
        (["--k", "2", "--ks", "3-4"], [2, 3, 4]),  # --ks given: compared, the analyst's k used
        (["--k", "2"], None),  # --k alone: no comparison
        (["--k", "2", "--ks", "none"], None),
    ],
)
def test_run_compares_k_only_when_asked(
    small_survey, tmp_path, capsys, monkeypatch, args, compared
):
    path, codebook = small_survey
    calls = []

    def select(X, ks, **kwargs):
        calls.append(list(ks))
        raise Stop

    monkeypatch.setattr("segment.pipeline.select_n_components", select)
    analyses = []
    monkeypatch.setattr("segment.report.write_report", lambda a, folder: analyses.append(a))
    argv = ["run", path, "--codebook", codebook, "--no-map", "-o", tmp_path / "r", "--quiet"]
    if compared is None:
        code, _, err = run([*argv, *args], capsys)
        assert code == 0, err
        assert calls == [] and analyses[0].selection is None and analyses[0].k == 2
        assert analyses[0].k_reason == "k = 2 was set by the analyst."
    else:
        with pytest.raises(Stop):
            run([*argv, *args], capsys)
        assert calls == [compared]


@pytest.mark.filterwarnings("ignore:.*not consecutive integers:UserWarning")
@pytest.mark.parametrize("measurement", ["nominal", "ordinal", "cumulative"])
def test_run_measurement_reaches_the_fit(small_survey, tmp_path, capsys, monkeypatch, measurement):
    path, codebook = small_survey
    analyses = []
    monkeypatch.setattr("segment.report.write_report", lambda a, folder: analyses.append(a))
    argv = ["run", path, "--codebook", codebook, "--k", "2", "--measurement", measurement]
    code, _, err = run([*argv, "--no-map", "-o", tmp_path / "r", "--quiet"], capsys)
    assert code == 0, err
    (a,) = analyses
    assert a.measurement == measurement and a.model.fit["measurement"] == measurement
    assert type(a.model.estimator).__name__ == (
        "LatentClassModel" if measurement == "nominal" else "OrdinalLatentClassModel"
    )


def test_run_with_k_writes_a_report_without_a_selection_table(small_survey, tmp_path, capsys):
    path, codebook = small_survey
    out = tmp_path / "r"
    code, _, err = run(
        ["run", path, "--codebook", codebook, "--k", "2", "--no-map", "-o", out, "--quiet"],
        capsys,
    )
    assert code == 0, err
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "k = 2 was set by the analyst" in html
    assert "BIC and bootstrap stability by number of segments" not in html  # no table


def test_run_rejects_an_unknown_measurement(small_survey, tmp_path, capsys):
    path, codebook = small_survey
    code, _, err = run(
        ["run", path, "--codebook", codebook, "--measurement", "gaussian", "-o", tmp_path / "r"],
        capsys,
    )
    assert code == 2 and "--measurement" in err


def test_steps_not_run_are_printed_as_skipped(small_survey, tmp_path, capsys):
    """--no-map and a survey without a list experiment: those steps say "skipped", not a time."""
    path, codebook = small_survey
    code, _, err = run(
        ["run", path, "--codebook", codebook, "--k", "2", "--no-map", "-o", tmp_path / "r"],
        capsys,
    )
    assert code == 0, err
    assert "[6/7] map respondents: skipped" in err
    assert "[7/7] list experiment: skipped" in err
    assert "map respondents ..." not in err and "list experiment: done" not in err
    assert "[3/7] fit: done in" in err


def test_run_with_k_says_the_comparison_was_skipped(small_survey, tmp_path, capsys):
    path, codebook = small_survey
    code, out, err = run(
        ["run", path, "--codebook", codebook, "--k", "2", "--no-map", "-o", tmp_path / "r"],
        capsys,
    )
    assert code == 0, err
    assert "[2/7] choose k: skipped (--k given: no comparison of k)" in err
    assert "choose k: done" not in err
    assert "k = 2 was set by the analyst. No other number was compared" in out


@pytest.mark.parametrize(
    ("args", "n_jobs"), [([], None), (["--jobs", "1"], 1), (["--jobs", "3"], 3)]
)
def test_jobs_reach_the_comparison_of_k(small_survey, tmp_path, capsys, monkeypatch, args, n_jobs):
    path, codebook = small_survey
    seen = []

    def select(X, ks, **kwargs):
        seen.append(kwargs["n_jobs"])
        raise Stop

    monkeypatch.setattr("segment.pipeline.select_n_components", select)
    monkeypatch.setattr("segment.models.selection.select_n_components", select)
    argv = ["--codebook", codebook, "--k", "2-3", *args]
    with pytest.raises(Stop):
        run(["select", path, *argv, "--quiet"], capsys)
    argv = ["--codebook", codebook, "--ks", "2-3", "--no-map", "-o", tmp_path / "r", *args]
    with pytest.raises(Stop):
        run(["run", path, *argv, "--quiet"], capsys)
    assert seen == [n_jobs, n_jobs]


@pytest.mark.parametrize("command", ["select", "run"])
def test_jobs_must_be_a_positive_number(small_survey, capsys, command):
    path, codebook = small_survey
    code, _, err = run([command, path, "--codebook", codebook, "--jobs", "0"], capsys)
    assert code == 2 and "--jobs" in err
