"""Design-based standard errors of the profile statistics (items and demographics; issue 8)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import run_cli
from scipy.stats import false_discovery_control, norm

from segment import Codebook, read_survey
from segment.cards.profile_stats import profile_segments
from segment.resources import bundled_path
from segment.weights.survey_design import SurveyDesign

ITEMS = ["q1", "q2", "q3", "q4"]
LEVELS = {1: "1", 2: "2", 3: "3", 4: "4", 5: "5"}


def _doc(design: dict | None = None) -> dict:
    doc = {
        "schema": "segment.codebook/1",
        "id": "rid",
        "weight": "w",
        "items": [
            *(
                {
                    "column": q,
                    "domain": "trust",
                    "type": "ordinal",
                    "levels": LEVELS,
                    "dont_know": {8: "Don't know"},
                }
                for q in ITEMS
            ),
            {
                "column": "sex",
                "domain": "demographics",
                "type": "nominal",
                "levels": {1: {"name": "man", "en": "Man"}, 2: {"name": "woman", "en": "Woman"}},
            },
        ],
    }
    if design:
        doc["design"] = design
    return doc


def _poll(n_villages: int, size: int, *, cluster: float, seed: int, equal_weights=False):
    """A poll of villages in 4 regions; ``cluster`` scales the village effects.

    Segment membership leans by village and answers share a village random effect, so with
    ``cluster > 0`` respondents of a village resemble each other.
    """
    rng = np.random.default_rng(seed)
    village = np.repeat(np.arange(n_villages), size)
    n = village.size
    lean = cluster * rng.normal(scale=1.2, size=n_villages)[village]
    logits = np.stack([np.zeros(n), lean, -lean + 0.3], axis=1) + rng.normal(size=(n, 3))
    resp = np.exp(2 * logits)
    resp /= resp.sum(axis=1, keepdims=True)
    frame = pd.DataFrame(
        {
            "rid": np.arange(n),
            "w": np.ones(n) if equal_weights else rng.uniform(0.5, 2.0, size=n),
            "region": village % 4,
            "village": village,
        }
    )
    woman = rng.random(n) < 1 / (1 + np.exp(-cluster * rng.normal(size=n_villages)[village]))
    frame["sex"] = np.where(woman, 2.0, 1.0)
    segment_shift = resp @ np.array([-0.8, 0.0, 0.8])
    for j, q in enumerate(ITEMS):
        u = cluster * rng.normal(scale=0.9, size=n_villages)[village]
        latent = 3 + (j % 2 * 2 - 1) * segment_shift + u + rng.normal(size=n)
        codes = np.clip(np.round(latent), 1, 5)
        codes[rng.random(n) < 0.08] = 8  # don't know
        codes[rng.random(n) < 0.02] = np.nan  # not asked
        frame[q] = codes
    return frame, resp


# ---------------------------------------------------------------- an independent computation
def _influence_se(frame: pd.DataFrame, resp: np.ndarray, item: str, k: int) -> float:
    """SE of segment k's mean position minus the sample's, by numerical differentiation.

    The influence of respondent j is the derivative of the difference with respect to a
    relative change of j's weight (central differences, all respondents at once); with every
    respondent its own PSU in one stratum the variance is ``n / (n - 1) sum (z - zbar)^2``.
    Nothing here uses segment.weights.survey_design or segment.cards.profile_stats.
    """
    w = frame["w"].to_numpy(dtype=float)
    w = w / w.mean()
    codes = frame[item].to_numpy(dtype=float)
    s = np.isin(codes, [1, 2, 3, 4, 5]).astype(float)
    x = np.where(s > 0, (codes - 1) / 4, 0.0)
    r = resp[:, k]
    n = len(w)
    eps = 1e-6

    def difference(W):  # rows of W are weight vectors
        seg = (W * r * s) @ x / ((W * r * s).sum(axis=1))
        whole = (W * s) @ x / ((W * s).sum(axis=1))
        return seg - whole

    up = w[None, :] * (1 + eps * np.eye(n))
    down = w[None, :] * (1 - eps * np.eye(n))
    z = (difference(up) - difference(down)) / (2 * eps)
    return float(np.sqrt(n / (n - 1) * ((z - z.mean()) ** 2).sum()))


def test_one_psu_per_respondent_agrees_with_an_independent_computation():
    frame, resp = _poll(30, 10, cluster=0.0, seed=1)
    cb = Codebook.from_dict(_doc())
    n = len(frame)
    p = profile_segments(resp, frame, cb, design=SurveyDesign(n=n), min_cell=0)
    assert p.design == "linearization: 1 stratum, 300 PSUs, 300 respondents"
    items = p.items.set_index(["segment", "item"])
    for q in ITEMS:
        for k in range(3):
            row = items.loc[(k, q)]
            assert row["se"] == pytest.approx(_influence_se(frame, resp, q, k), rel=1e-6)
            z = abs(row["difference"]) / row["se"]
            assert row["p_value"] == pytest.approx(2 * norm.sf(z), rel=1e-9)
    # the Benjamini-Hochberg adjustment is of the design-based p-values
    np.testing.assert_allclose(
        p.items["p_adjusted"], false_discovery_control(p.items["p_value"].to_numpy())
    )
    # unequal weights make the design effect differ from 1; equal weights give exactly 1
    assert not np.allclose(p.items["deff"], 1.0, atol=0.01)
    equal = frame.assign(w=1.0)
    e = profile_segments(resp, equal, cb, design=SurveyDesign(n=n), min_cell=0)
    np.testing.assert_allclose(e.items["deff"], 1.0, rtol=1e-9)
    np.testing.assert_allclose(e.demographics["deff"], 1.0, rtol=1e-9)
    for q in ITEMS:
        row = e.items.set_index(["segment", "item"]).loc[(1, q)]
        assert row["se"] == pytest.approx(_influence_se(equal, resp, q, 1), rel=1e-6)
    # with known (0/1) memberships and equal weights the test of segment minus sample agrees
    # with the Welch test of the segment against the rest
    hard = np.eye(3)[resp.argmax(axis=1)]
    welch = profile_segments(hard, equal, cb, min_cell=0).items["p_value"]
    ours = profile_segments(hard, equal, cb, design=SurveyDesign(n=n), min_cell=0).items
    np.testing.assert_allclose(norm.isf(ours["p_value"] / 2), norm.isf(welch / 2), rtol=0.1)


def test_without_a_design_the_items_are_unchanged():
    frame, resp = _poll(30, 10, cluster=1.0, seed=2)
    plain = profile_segments(resp, frame, Codebook.from_dict(_doc()), min_cell=0)
    assert plain.design is None
    assert list(plain.items.columns) == [
        "segment",
        "item",
        "domain",
        "weighted_n",
        "mean_code",
        "position",
        "dont_know",
        "sample_position",
        "sample_dont_know",
        "difference",
        "effect_size",
        "p_value",
        "suppressed",
        "p_adjusted",
    ]
    assert "se" not in plain.demographics and "deff" not in plain.demographics
    designed = profile_segments(
        resp,
        frame,
        Codebook.from_dict(_doc({"strata": "region", "psu": "village"})),
        min_cell=0,
    )
    # the estimates are the same; only the standard errors and tests change
    same = [c for c in plain.items.columns if c not in ("p_value", "p_adjusted")]
    pd.testing.assert_frame_equal(designed.items[same], plain.items[same])
    cols = list(designed.items.columns)
    assert cols[cols.index("difference") + 1 : cols.index("difference") + 3] == ["se", "deff"]
    pd.testing.assert_frame_equal(
        designed.demographics.drop(columns=["se", "deff"]), plain.demographics
    )


@pytest.fixture(scope="module")
def clustered():
    frame, resp = _poll(40, 25, cluster=1.0, seed=7)
    cb = Codebook.from_dict(_doc({"strata": "region", "psu": "village"}))
    return frame, resp, cb


def test_clustering_raises_the_design_effect_and_the_p_values(clustered):
    frame, resp, cb = clustered
    plain = profile_segments(resp, frame, Codebook.from_dict(_doc()), min_cell=0)
    designed = profile_segments(resp, frame, cb, min_cell=0)
    srs = profile_segments(resp, frame, cb, design=SurveyDesign(n=len(frame)), min_cell=0)
    assert designed.design.startswith("linearization: 4 strata, 40 PSUs, 1,000 respondents")
    assert (designed.items["deff"] > 1.2).all() and designed.items["deff"].median() > 3
    assert (srs.items["deff"] < 1.3).all()  # unequal weights only
    assert (designed.items["se"] > srs.items["se"]).all()
    assert (designed.items["se"] / srs.items["se"]).median() > 1.5
    # larger p-values than the same test treating respondents as independent ...
    assert (designed.items["p_value"] > srs.items["p_value"]).all()
    assert (designed.items["p_adjusted"] > srs.items["p_adjusted"]).all()
    # ... and than the Welch test without a design wherever clustering matters (that test,
    # with Kish effective sizes of the posterior weights, is conservative with soft memberships,
    # so a small design effect need not overturn it)
    clustered_rows = designed.items["deff"] > 2
    assert clustered_rows.sum() >= 8
    assert (designed.items["p_value"] > plain.items["p_value"])[clustered_rows].all()
    assert (designed.items["p_value"] > plain.items["p_value"]).mean() >= 0.75
    # membership and sex lean by village, so the demographic shares are clustered too
    assert designed.demographics["deff"].median() > 1.5
    assert (designed.demographics["se"] > srs.demographics["se"]).all()
    # a demographic share's SE is the design-based SE of its ratio estimator
    man = designed.demographics.set_index(["segment", "category"]).loc[(2, "man")]
    design = SurveyDesign.from_codebook(cb, frame, weights=frame["w"] / frame["w"].mean())
    known = frame["sex"].isin([1, 2]).to_numpy()
    est = design.ratio(resp[:, 2] * (frame["sex"] == 1), resp[:, 2] * known)
    assert man["share"] == pytest.approx(est.estimate[0], rel=1e-12)
    assert man["se"] == pytest.approx(est.se[0], rel=1e-9)
    assert man["deff"] == pytest.approx(est.deff[0], rel=1e-9)


@pytest.mark.parametrize("variance", ["linearization", "bootstrap"])
def test_row_order_does_not_matter(clustered, variance):
    frame, resp, cb = clustered
    rng = np.random.default_rng(0)
    if variance == "linearization":
        perm = rng.permutation(len(frame))
    else:
        # the bootstrap numbers PSUs in order of first appearance (segment.weights.survey_design),
        # so a given seed draws the same replicates when respondents are shuffled within their PSUs
        village = frame["village"].to_numpy()
        perm = np.lexsort((rng.random(len(frame)), village))
        assert not (perm == np.arange(len(frame))).all()
    options = {"min_cell": 0, "variance": variance, "n_boot": 200, "random_state": 4}
    a = profile_segments(resp, frame, cb, **options)
    b = profile_segments(resp[perm], frame.iloc[perm].reset_index(drop=True), cb, **options)
    pd.testing.assert_frame_equal(a.items, b.items, rtol=1e-9)
    pd.testing.assert_frame_equal(a.demographics, b.demographics, rtol=1e-9)
    assert a.design == b.design


def test_bootstrap_agrees_with_linearisation_on_the_bundled_survey():
    frame, cb = read_survey(
        bundled_path("data", "kz2020_synthetic.csv"),
        bundled_path("data", "kz2020_synthetic_codebook.yaml"),
    )
    truth = pd.read_csv(bundled_path("data", "kz2020_synthetic_truth.csv"))
    labels = pd.factorize(truth["segment"], sort=True)[0]
    k = labels.max() + 1
    resp = np.full((len(frame), k), 0.1 / (k - 1))
    resp[np.arange(len(frame)), labels] = 0.9
    psu = np.arange(len(frame)) // 25  # 60 PSUs of 25 respondents in 6 strata
    design = SurveyDesign(frame["weight"], strata=psu % 6, psu=psu)
    lin = profile_segments(resp, frame, cb, design=design)
    boot = profile_segments(
        resp, frame, cb, design=design, variance="bootstrap", n_boot=1000, random_state=1
    )
    assert boot.design.startswith("bootstrap: 6 strata, 60 PSUs")
    assert lin.items["se"].notna().all() and len(lin.items) == 39 * k
    ratio = boot.items["se"] / lin.items["se"]
    assert ratio.between(0.8, 1.2).all()
    assert abs(ratio.median() - 1) < 0.03
    np.testing.assert_allclose(boot.items["deff"], lin.items["deff"], rtol=0.4)


# ---------------------------------------------------------------- the command line
def _clustered_bundle(folder):
    frame = pd.read_csv(bundled_path("data", "kz2020_synthetic.csv"))
    frame["psu"] = np.arange(len(frame)) // 25
    frame["stratum"] = frame["psu"] % 6
    data = folder / "clustered.csv"
    frame.to_csv(data, index=False)
    doc = yaml.safe_load(bundled_path("data", "kz2020_synthetic_codebook.yaml").read_text("utf-8"))
    doc["design"] = {"strata": "stratum", "psu": "psu"}
    doc["items"] = [
        *doc["items"],
        {"column": "psu", "type": "numeric", "domain": "other"},
        {"column": "stratum", "type": "numeric", "domain": "other"},
    ]
    codebook = folder / "clustered.yaml"
    codebook.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    return data, codebook


def test_cli_profile_variance_bootstrap_with_a_codebook_design(tmp_path, capsys):
    data, codebook = _clustered_bundle(tmp_path)
    model = tmp_path / "m.json"
    code, _, _ = run_cli(
        ["fit", data, "--codebook", codebook, "--k", 6, "--n-init", 0, "-o", model], capsys
    )
    assert code == 0
    code, out, _ = run_cli(
        ["profile", model, data, "--codebook", codebook, "--variance", "bootstrap", "--format",
         "json", "--bootstrap", 100],
        capsys,
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    assert doc["design"].startswith("bootstrap: 6 strata, 60 PSUs, 1,500 respondents")
    assert len(doc["segments"]) == 6
    code, out, _ = run_cli(["profile", model, data, "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["design"].startswith("linearization: 6 strata")
    code, out, _ = run_cli(
        ["profile", model, data, "--variance", "bootstrap", "--bootstrap", 100, "--format",
         "markdown", "--explain"],
        capsys,
    )  # fmt: skip
    assert code == 0 and "(mean position" in out
    # without a design the option says it has no effect
    code, out, err = run_cli(
        ["profile", model, data, "--codebook",
         bundled_path("data", "kz2020_synthetic_codebook.yaml"),
         "--variance", "bootstrap", "--format", "json"],
        capsys,
    )  # fmt: skip
    assert code == 0 and json.loads(out)["design"] is None
    assert "--variance bootstrap has no effect" in err
