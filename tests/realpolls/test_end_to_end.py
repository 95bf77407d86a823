"""From a real poll's raw file to a report, as a new user goes: no hand edits anywhere.

For each real poll (``conftest.py``; sources in ``tests/reference/real_polls/README.md``):
``segment codebook infer`` drafts the codebook from the CSV, ``segment codebook check`` accepts
it, ``segment run --k K`` fits, names, profiles and writes the report, and ``segment score``
scores the file with the saved model. K is the number of segments StepMix's BIC prefers on the
reference battery, and the fit must reach StepMix's log-likelihood for it within 0.01 (the
weighted one when the drafted codebook finds the survey's weight). That requires the drafted
codebook to segment on the reference battery with the reference's categories, which the tests
check first, item by item.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_reference_loglik import REFERENCES, reference_matrix

from segment.cli import cli
from segment.segments.fit import segmentation_inputs
from segment.survey.read import read_survey

#: The polls run end to end: four countries, four subjects.
POLLS = ["gss2018_spending", "ess2021_norway", "beps1997_leaders", "cnes1997_values"]
#: Tolerance on the log-likelihood (issue 15), as in test_reference_loglik.py.
TOL = 0.01
#: Words of the bundled Kazakh study that must not reach a report on another survey.
KAZAKH_CONTEXT = re.compile(
    r"(?i:Kazakh|kz2020|Illiberal Loyalists|Angry Liberals|civic rights|Nur Otan|typology)"
    r"|\bCSTO\b"
)
#: Embedded images (base64 text, where any word can appear by chance).
DATA_URI = re.compile(r"data:[a-z/+]+;base64,[A-Za-z0-9+/=]+")


def invoke(args: list) -> tuple[int, str]:
    """Run ``segment ARGS`` in this process; return (exit code, stdout + stderr)."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


class EndToEnd:
    """What one poll's run produced: the drafted codebook, the run folder and the model."""

    def __init__(self, poll: str, csv: Path, folder: Path):
        self.poll = poll
        self.csv = csv
        self.reference = REFERENCES[poll]
        self.codebook = folder / "codebook.yaml"
        self.report = folder / "report"
        code, self.infer_output = invoke(["codebook", "infer", csv, "-o", self.codebook])
        assert code == 0, self.infer_output
        self.check_code, self.check_output = invoke(["codebook", "check", self.codebook, csv])
        self.frame, self.cb = read_survey(csv, self.codebook)
        self.variant = (
            "weighted"
            if self.cb.weight and "weighted" in self.reference["results"]
            else "unweighted"
        )
        self.k = self.reference["results"][self.variant]["bic_preferred_k"]
        self.run_code, self.run_output = invoke(
            [
                *("run", csv, "--codebook", self.codebook, "--k", self.k),
                *("--no-map", "--seed", 1, "-o", self.report, "--quiet"),
            ]
        )
        assert self.run_code == 0, self.run_output
        self.model = json.loads((self.report / "model.json").read_text(encoding="utf-8"))
        self.html = (self.report / "index.html").read_text(encoding="utf-8")
        self.markdown = (self.report / "profiles.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def end_to_end(real_poll_csv, tmp_path_factory):
    runs: dict[str, EndToEnd] = {}

    def get(poll: str) -> EndToEnd:
        if poll not in runs:
            runs[poll] = EndToEnd(poll, real_poll_csv(poll), tmp_path_factory.mktemp(poll))
        return runs[poll]

    return get


@pytest.mark.parametrize("poll", POLLS)
def test_the_drafted_codebook_passes_its_own_check(poll, end_to_end):
    run = end_to_end(poll)
    assert run.check_code == 0, run.check_output


@pytest.mark.parametrize("poll", POLLS)
def test_the_drafted_codebook_segments_on_the_reference_battery(poll, end_to_end):
    run = end_to_end(poll)
    drafted = [it.column for it in run.cb.segmentation_items]
    assert sorted(drafted) == sorted(run.reference["battery"]["items"])


@pytest.mark.parametrize("poll", POLLS)
def test_the_drafted_codes_are_the_reference_categories(poll, end_to_end):
    """Every item's drafted codes and the reference's codes are one category each other's:
    the cross-table of the two is a permutation matrix (missing in both at the same rows)."""
    run = end_to_end(poll)
    inputs = segmentation_inputs(run.frame, run.cb)
    X_ref, _ = reference_matrix(run.csv, run.reference)
    drafted = pd.DataFrame(inputs.X, columns=inputs.items)
    for col in X_ref.columns:
        ours = drafted[col].to_numpy(dtype=float)
        theirs = X_ref[col].to_numpy(dtype=float)[inputs.asked]
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=col)
        table = pd.crosstab(ours[~np.isnan(ours)], theirs[~np.isnan(theirs)])
        assert table.shape[0] == table.shape[1], col
        assert ((table > 0).sum(axis=0) == 1).all() and ((table > 0).sum(axis=1) == 1).all(), col


@pytest.mark.parametrize("poll", POLLS)
def test_segment_run_reaches_the_reference_loglik(poll, end_to_end):
    run = end_to_end(poll)
    expected = run.reference["results"][run.variant]["by_k"][str(run.k)]
    assert run.model["fit"]["loglik"] == pytest.approx(expected["loglik"], abs=TOL)


@pytest.mark.parametrize("poll", POLLS)
def test_the_report_speaks_of_this_survey_only(poll, end_to_end):
    run = end_to_end(poll)
    for text in (DATA_URI.sub("", run.html), run.markdown):
        assert not KAZAKH_CONTEXT.search(text), KAZAKH_CONTEXT.search(text)
        assert "SYNTHETIC" not in text.upper()
    for domain in run.cb.domains:
        if any(it.domain == domain.name for it in run.cb.segmentation_items):
            assert domain.label in run.html, domain.label


@pytest.mark.parametrize("poll", POLLS)
def test_segment_names_are_unique_and_never_demographic(poll, end_to_end):
    run = end_to_end(poll)
    names = [s["name"] for s in run.model["segments"]]
    assert len(set(names)) == len(names) == run.k
    demographic_labels = {
        lv.label() for it in run.cb.profile_items for lv in it.levels if len(lv.label()) > 2
    }
    for name in names:
        for label in demographic_labels:
            assert not re.search(rf"\b{re.escape(label)}\b", name), (name, label)


@pytest.mark.parametrize("poll", ["gss2018_spending", "ess2021_norway"])
def test_scored_file_has_safe_columns_and_the_models_segments(poll, end_to_end, tmp_path):
    run = end_to_end(poll)
    scored = tmp_path / "scored.csv"
    code, output = invoke(["score", run.report / "model.json", run.csv, "-o", scored])
    assert code == 0, output
    table = pd.read_csv(scored)
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,31}", c) for c in table.columns)
    assert len(table) == len(run.frame)
    scored_in = table["segment"].notna()
    assert set(table.loc[scored_in, "segment"].astype(int)) <= set(range(1, run.k + 1))
    assert (table.loc[~scored_in, "no_segment"] == "no_answers").all()
