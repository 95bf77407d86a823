"""The confirmatory fit against a reference typology (segment.segments.confirm)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segment.segments.confirm as confirm_module
from segment.cards.typology import Typology
from segment.exceptions import SegmentError
from segment.segments.confirm import confirm_typology, expected_item_probs
from segment.segments.fit import segmentation_inputs
from segment.survey.read import read_survey

#: Bootstrap samples in these tests: 19 is the fewest at which p can reach 0.05.
N_BOOT = 19


@pytest.fixture(scope="module")
def kz2020():
    return Typology.load("kz2020")


@pytest.fixture(scope="module")
def bundled(bundled_survey):
    data, codebook, truth = bundled_survey
    frame, cb = read_survey(data, codebook)
    return frame, cb, pd.read_csv(truth)


def confirm(frame, cb, typology, **kwargs):
    inputs = segmentation_inputs(frame, cb)
    return confirm_typology(
        inputs.X, frame[inputs.asked], cb, typology, sample_weight=inputs.weights, **kwargs
    )


@pytest.fixture(scope="module")
def bundled_fit(bundled, kz2020):
    frame, cb, _ = bundled
    return confirm(frame, cb, kz2020, n_boot=N_BOOT)


def test_every_reference_segment_in_the_typology_order_with_its_true_share(
    bundled_fit, bundled, kz2020
):
    _, _, truth = bundled
    table = bundled_fit.table
    assert list(table["segment"]) == [s.id for s in kz2020.segments]
    assert list(table["name"]) == [s.name for s in kz2020.segments]
    true_share = truth["segment"].value_counts(normalize=True)
    for row in table.itertuples():
        assert row.ci_low <= row.share <= row.ci_high
        assert abs(row.share - true_share[row.segment]) < 0.05
        assert row.distance < 0.06  # each class is its reference segment


def test_the_bundled_survey_separates_four_and_merges_the_pair_bic_cannot_separate(bundled_fit):
    table = bundled_fit.table.set_index("segment")
    merged = table[table["status"] == "merged"]
    assert set(merged.index) == {"conflicted_optimists", "realists"}
    assert set(merged["nearest"]) == {"conflicted_optimists", "realists"}
    assert (merged["delta_bic"] < 0).all() and (merged["delta_aic"] > 0).all()
    assert (table.drop(merged.index)["status"] == "supported").all()
    lines = bundled_fit.statements()
    assert (
        "Conflicted Optimists and Realists are not separated at N = 1,500: BIC prefers merging "
        "them; AIC and the bootstrap LRT prefer six." in lines
    )
    assert lines[0].startswith("The data separate Illiberal Loyalists, Satisfied Conservatives")


def test_the_confirmatory_fit_is_compared_with_the_free_fit(bundled, kz2020, bundled_fit):
    from segment.models import LatentClassModel

    frame, cb, _ = bundled
    inputs = segmentation_inputs(frame, cb)
    free = LatentClassModel(6, random_state=1).fit(inputs.X, sample_weight=inputs.weights)
    result = confirm(frame, cb, kz2020, n_boot=1, free=free)
    # weak prior: the confirmatory six reach the free six's likelihood to within a few points
    assert result.fit["loglik"] == pytest.approx(free.loglik_, abs=10)
    assert result.fit["loglik"] <= free.loglik_ + 1e-6
    assert result.free is not None and result.free["n_parameters"] == result.fit["n_parameters"]
    text = result.summary()
    assert "free k=6" in text and "confirmatory k=6" in text
    for seg in kz2020.segments:
        assert seg.name in text


@pytest.mark.parametrize("dropped", ["angry_liberals", "realists"])
def test_a_reference_segment_the_data_do_not_contain_is_not_supported(bundled, kz2020, dropped):
    frame, cb, truth = bundled
    keep = (truth["segment"] != dropped).to_numpy()
    result = confirm(frame[keep], cb, kz2020, n_boot=N_BOOT)
    status = result.table.set_index("segment")["status"]
    assert status[dropped] == "not supported"
    assert (status.drop(dropped) != "not supported").all()
    assert any(line.startswith(f"{kz2020[dropped].name} is not supported") for line in
               result.statements())  # fmt: skip


def test_a_pair_of_mutual_nearest_neighbours_is_tested_once(bundled, kz2020, monkeypatch):
    frame, cb, _ = bundled
    calls = []
    original = confirm_module._bootstrap_lr

    def counting(*args, **kwargs):
        calls.append(args[3].n_components)
        return original(*args, **kwargs)

    monkeypatch.setattr(confirm_module, "_bootstrap_lr", counting)
    result = confirm(frame, cb, kz2020, n_boot=1)
    pairs = {frozenset((r.segment, r.nearest)) for r in result.table.itertuples()}
    assert len(calls) == len(pairs) < len(kz2020.segments)


def test_the_same_seed_gives_the_same_table(bundled, kz2020):
    frame, cb, _ = bundled
    sub = frame.iloc[:700]
    a = confirm(sub, cb, kz2020, n_boot=3, random_state=4)
    b = confirm(sub, cb, kz2020, n_boot=3, random_state=4)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_expected_probabilities_follow_the_typology_on_the_data_codes(bundled, kz2020):
    frame, cb, _ = bundled
    inputs = segmentation_inputs(frame, cb)
    probs = expected_item_probs(inputs.X, cb, kz2020)
    assert len(probs) == inputs.X.shape[1]
    for col, p in zip(inputs.X.columns, probs, strict=True):
        assert p.shape == (len(kz2020.segments), inputs.X[col].nunique())
        np.testing.assert_allclose(p.sum(axis=1), 1.0)
    j = list(inputs.X.columns).index("cr_free_speech")
    positions = cb["cr_free_speech"].position(np.unique(inputs.X["cr_free_speech"].dropna()))
    mean = np.nansum(probs[j] * np.nan_to_num(positions), axis=1)
    levels = [kz2020.expected_levels(s.id).get("cr_free_speech") for s in kz2020.segments]
    stated = [e.level.position for e in levels if e is not None and e.level.position is not None]
    assert stated and np.ptp(mean) > 0.2  # the segments' expected answers differ


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"prior_strength": -1.0}, "non-negative"), ({"prior_strength": float("nan")}, "non-neg")],
)
def test_bad_settings_are_refused(bundled, kz2020, kwargs, message):
    frame, cb, _ = bundled
    with pytest.raises(SegmentError, match=message):
        confirm(frame.iloc[:100], cb, kz2020, **kwargs)


def test_to_dict_is_plain_numbers(bundled_fit):
    import json

    doc = json.loads(json.dumps(bundled_fit.to_dict()))
    assert doc["k"] == 6 and len(doc["segments"]) == 6
    assert doc["statements"] == bundled_fit.statements()


def test_a_reference_segment_of_few_respondents_has_its_share_withheld(bundled, kz2020):
    """The typology's segment the data lack holds a few posterior respondents: its share and
    interval are withheld, with one more so that it is not one minus the others, and no
    verdict, summary or record quotes them."""
    frame, cb, truth = bundled
    keep = (truth["segment"] != "angry_liberals").to_numpy()
    result = confirm(frame[keep], cb, kz2020, n_boot=N_BOOT)
    counts = result.estimator.predict_proba(segmentation_inputs(frame[keep], cb).X).sum(axis=0)
    t = result.table
    assert counts[t["segment"].to_list().index("angry_liberals")] < 30
    hidden = t["withheld"].to_numpy()
    assert hidden[counts < 30].all() and hidden.sum() >= 2 and counts[hidden].sum() >= 30
    assert t.loc[hidden, ["share", "ci_low", "ci_high"]].isna().all().all()
    assert t.loc[~hidden, "share"].notna().all()
    for r in t[hidden].itertuples():
        assert "%" not in r.verdict.replace("under 2%", "")
    assert "nan" not in result.summary()
    rows = result.to_dict()["segments"]
    assert all(r["share"] is None for r in rows if r["withheld"])


def test_the_table_does_not_depend_on_the_number_of_processes(bundled, kz2020):
    frame, cb, _ = bundled
    sub = frame.iloc[:600]
    serial = confirm(sub, cb, kz2020, n_boot=9, random_state=2, n_jobs=1)
    parallel = confirm(sub, cb, kz2020, n_boot=9, random_state=2, n_jobs=2)
    pd.testing.assert_frame_equal(serial.table, parallel.table)
    assert serial.to_dict() == parallel.to_dict()


@pytest.mark.parametrize(("n", "n_items", "m"), [(1, 1, 7), (37, 5, 1_000), (600, 21, 600)])
def test_skipping_a_simulation_leaves_the_stream_of_simulating_it(n, n_items, m):
    """The parent skips each sample's simulation and a worker replays it from the recorded
    state: both the replayed sample and the parent's next draws equal drawing in one place."""
    model = type("Model", (), {})()
    model.n_components = 3
    model.weights_ = np.array([0.5, 0.3, 0.2])
    model.categories_ = [np.arange(1.0, 5.0)] * n_items
    model.item_probs_ = [np.full((3, 4), 0.25)] * n_items
    observed = np.ones((n, n_items), dtype=bool)
    here, skipping = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(3):
        rows_here = here.integers(0, m, n)
        sim_here = confirm_module._simulate(model, observed, here)
        rows = skipping.integers(0, m, n)
        state = confirm_module._skip_simulation(skipping, n, n_items)
        replay = np.random.Generator(np.random.PCG64())
        replay.bit_generator.state = state
        np.testing.assert_array_equal(rows, rows_here)
        np.testing.assert_array_equal(confirm_module._simulate(model, observed, replay), sim_here)
    assert here.integers(0, 2**62) == skipping.integers(0, 2**62)
    assert here.bit_generator.state == skipping.bit_generator.state
