"""Every ``--format json`` is valid JSON: ``null`` for NaN and infinities, never ``NaN``."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli as run

from segment import read_survey
from segment._util import json_text
from segment.cards.typology import Typology
from segment.resources import bundled_path
from segment.segments.fit import fit_segments
from segment.segments.model_file import save_model


def strict_loads(text: str):
    """``json.loads`` that refuses the NaN / Infinity Python writes but JSON does not have."""

    def refuse(word: str):
        raise AssertionError(f"{word} in JSON output")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def files(bundled_survey, tmp_path_factory):
    data, codebook, _ = bundled_survey
    folder = tmp_path_factory.mktemp("json")
    frame, cb = read_survey(data, codebook)
    model = fit_segments(frame.head(400), cb, 3, typology=Typology.load("kz2020"), n_init=1)
    save_model(model, folder / "model.json")
    small = folder / "small.csv"
    pd.read_csv(data).head(200).to_csv(small, index=False)
    return {
        "data": data,
        "codebook": codebook,
        "small": small,
        "model": folder / "model.json",
        "wave2": bundled_path("data", "kz2022_synthetic_wave.csv"),
        "listexp": bundled_path("data", "kz2022_listexp.csv"),
    }


COMMANDS = {
    # --bootstrap 0: no stability, which the table holds as NaN
    "select": "select {small} --codebook {codebook} --k 1-2 --n-init 1 --bootstrap 0",
    "compare": "compare {model} {data} {wave2}",
    "profile": "profile {model} {small}",
    "listexp": "listexp {listexp} --J 4 --by gender,region --min-cell 400",
    "listexp by segment": "listexp {listexp} --J 4 --segments {model} --bootstrap 10",
    "codebook check": "codebook check {codebook} {data}",
    "score one person": "score {model} --answer trust_army=1",
    "score no answer": "score {model} --answer trust_army=9",
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_json_output_is_valid_json(files, capsys, command):
    args = [*COMMANDS[command].format(**files).split(), "--format", "json"]
    code, out, err = run(args, capsys)
    assert code in (0, 2), err
    doc = strict_loads(out)
    assert isinstance(doc, dict) and doc


def test_select_json_has_null_stability_without_a_bootstrap(files, capsys):
    args = [*COMMANDS["select"].format(**files).split(), "--format", "json"]
    _, out, _ = run(args, capsys)
    assert all(row["stability"] is None for row in strict_loads(out)["table"])


def test_score_json_lines_are_valid_json(files, tmp_path, capsys):
    out = tmp_path / "scored.jsonl"
    code, _, err = run(["score", files["model"], files["small"], "-o", out, "--quiet"], capsys)
    assert code == 0, err
    records = [strict_loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 200


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (float("nan"), None),
        (float("inf"), None),
        (-np.inf, None),
        (np.float32("nan"), None),
        (pd.NA, None),
        (pd.NaT, None),
        (np.int64(3), 3),
        (np.bool_(True), True),
        (np.array([1.5, np.nan]), [1.5, None]),
        ({1: (np.nan, "x")}, {"1": [None, "x"]}),
        (1.25, 1.25),
    ],
)
def test_json_text_writes_null_for_what_json_cannot_hold(value, expected):
    text = json_text({"v": value}, indent=None)
    assert strict_loads(text) == {"v": expected}
    assert "NaN" not in text and "Infinity" not in text


def test_json_text_leaves_its_input_alone_and_refuses_what_it_cannot_convert():
    doc = {"v": [float("nan")]}
    assert json_text(doc, indent=None) == '{"v": [null]}'
    assert math.isnan(doc["v"][0])
    with pytest.raises(TypeError):
        json_text({"v": object()})
