"""What a segmentation is fitted on: respondents not asked the battery, unusable items."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli as run

from segment import read_survey
from segment.exceptions import DataError
from segment.pipeline import run_analysis
from segment.segments.fit import fit_segments, segmentation_inputs
from segment.segments.model_file import save_model

N = 300
NOT_ASKED = 90


@pytest.fixture(scope="module")
def survey(bundled_survey):
    data, codebook, _ = bundled_survey
    frame, cb = read_survey(data, codebook)
    return frame.head(N), cb, codebook


@pytest.fixture(scope="module")
def split_ballot(survey, bundled_survey, tmp_path_factory):
    """The survey with the battery asked of only part of the sample (every item blank for
    the other respondents), as a file, and the items."""
    _, cb, codebook = survey
    raw = pd.read_csv(bundled_survey[0]).head(N)
    items = segmentation_inputs(survey[0], cb).items
    rng = np.random.default_rng(3)
    rows = rng.choice(N, NOT_ASKED, replace=False)
    raw.loc[rows, items] = np.nan
    path = tmp_path_factory.mktemp("split") / "split.csv"
    raw.to_csv(path, index=False)
    return path, codebook, rows


def test_respondents_not_asked_are_left_out_of_the_fit(split_ballot, survey):
    path, codebook, rows = split_ballot
    frame, cb = read_survey(path, codebook)
    inputs = segmentation_inputs(frame, cb)
    assert inputs.n_not_asked == NOT_ASKED and len(inputs.X) == N - NOT_ASKED
    assert inputs.weights is not None and inputs.weights.mean() == pytest.approx(1.0)
    model = fit_segments(frame, cb, 3, typology=None, n_init=1)
    asked_only = fit_segments(frame.drop(index=frame.index[rows]), cb, 3, typology=None, n_init=1)
    # the same model as a survey of the asked respondents alone: n, BIC and shares
    assert model.training["rows"] == N - NOT_ASKED
    assert model.training["n_not_asked"] == model.n_not_asked == NOT_ASKED
    assert model.fit["bic"] == pytest.approx(asked_only.fit["bic"], rel=1e-9)
    np.testing.assert_allclose(model.estimator.weights_, asked_only.estimator.weights_)
    assert model.estimator.n_empty_ == 0


def test_analysis_and_model_file_record_the_respondents_not_asked(split_ballot, tmp_path):
    path, codebook, _ = split_ballot
    messages = []
    a = run_analysis(
        path,
        codebook,
        k=3,
        typology=None,
        embed=False,
        n_init=1,
        progress=lambda step, message: messages.append((step, message)),
    )
    assert a.n_not_asked == NOT_ASKED and a.summary.n == N
    assert a.profiles.shares["weighted_n"].sum() == pytest.approx(N - NOT_ASKED)
    assert any(
        step == "validate" and m.startswith("Segmenting on 39 items: cr_free_speech, ")
        for step, m in messages
    )
    save_model(a.model, tmp_path / "model.json")  # as the report writes it
    doc = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    assert doc["training_data"]["n_not_asked"] == NOT_ASKED
    assert doc["training_data"]["rows"] == N - NOT_ASKED


def _edited(survey, bundled_survey, tmp_path, edit):
    raw = pd.read_csv(bundled_survey[0]).head(N)
    edit(raw)
    path = tmp_path / "edited.csv"
    raw.to_csv(path, index=False)
    return path


UNUSABLE = [
    (
        lambda raw: raw.__setitem__("trust_army", 2),
        None,
        "trust_army: every one of the 300 respondents who answered gave the same answer "
        "(code 2), so it cannot separate segments",
    ),
    (
        lambda raw: raw.__setitem__("trust_army", np.nan),
        None,
        "trust_army: no respondent answered this item",
    ),
    (
        lambda raw: None,
        "trust_army,trust_courts",
        "2 usable segmentation items (trust_army, trust_courts) of 2; a latent class model "
        "needs at least 3",
    ),
    (
        lambda raw: raw.__setitem__("trust_courts", 1),
        "trust_army,trust_courts,trust_media",
        "2 usable segmentation items (trust_army, trust_media) of 3",
    ),
]


@pytest.mark.parametrize(
    ("edit", "items", "message", "command"),
    [
        (*case, command)
        for case in UNUSABLE
        for command in ("fit", "select", "run")
        if command != "run" or case[1] is None  # segment run segments on the codebook's items
    ],
)
def test_unusable_items_are_refused_by_every_command_that_fits(
    survey, bundled_survey, tmp_path, capsys, edit, items, message, command
):
    path = _edited(survey, bundled_survey, tmp_path, edit)
    args = [command, path, "--codebook", survey[2]]
    args += {
        "fit": ["--k", "2", "--n-init", "1", "-o", tmp_path / "model.json"],
        "select": ["--k", "2", "--n-init", "1", "--bootstrap", "0"],
        "run": ["--k", "2", "--no-map", "--typology", "none", "-o", tmp_path / "r", "--quiet"],
    }[command]
    if items:
        args += ["--items", items]
    code, _, err = run(args, capsys)
    assert code == 2
    assert message in " ".join(err.split())
    assert "Traceback" not in err
    assert not (tmp_path / "model.json").exists() and not (tmp_path / "r").exists()


def test_segmentation_inputs_raise_a_data_error_naming_each_item(survey):
    frame, cb, _ = survey
    frame = frame.assign(trust_army=1.0, trust_courts=np.nan)
    with pytest.raises(DataError) as exc:
        segmentation_inputs(frame, cb, file="poll.csv")
    assert [(p.file, p.where) for p in exc.value.problems] == [
        ("poll.csv", "trust_army"),
        ("poll.csv", "trust_courts"),
    ]


@pytest.mark.parametrize("command", ["fit", "select"])
def test_commands_that_fit_say_what_they_segment_on(
    survey, tmp_path, capsys, command, split_ballot
):
    path, codebook, _ = split_ballot
    args = [command, path, "--codebook", codebook, "--k", "2", "--n-init", "1"]
    args += ["--items", "trust_army,trust_courts,trust_media,gov_strongman"]
    args += ["-o", tmp_path / "m.json"] if command == "fit" else ["--bootstrap", "0"]
    code, _, err = run(args, capsys)
    assert code == 0, err
    line = (
        "Segmenting on 4 items: trust_army, trust_courts, trust_media, gov_strongman "
        f"({NOT_ASKED} respondents answered none of them and are in no segment)"
    )
    assert line in " ".join(err.split())


def test_run_says_what_it_segments_on_and_who_is_in_no_segment(split_ballot, tmp_path, capsys):
    path, codebook, _ = split_ballot
    code, out, err = run(
        [
            "run",
            path,
            "--codebook",
            codebook,
            "--k",
            "2",
            "--no-map",
            "-o",
            tmp_path / "r",
        ],
        capsys,
    )
    assert code == 0, err
    assert "Segmenting on 39 items: cr_free_speech, cr_associate" in err
    text = " ".join(out.split())
    assert f"2 segments ({N - NOT_ASKED} respondents)" in text
    assert f"{NOT_ASKED} respondents were not asked the segmentation items" in text
