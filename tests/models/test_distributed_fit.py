"""fit_latent_class_dask: the same EM as the in-memory fit, on partitioned Parquet on a cluster."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from segment import read_survey
from segment.models import LatentClassModel
from segment.segments.model import SegmentModel
from segment.segments.model_file import load_model, save_model

distributed = pytest.importorskip("distributed")
from segment.models.dask_fit import fit_latent_class_dask  # noqa: E402

K = 5


@pytest.fixture(scope="module")
def client():
    # worker processes, so that the encoded partitions and the tasks really travel (pickled)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def survey(bundled_survey):
    """Bundled survey codes with weights, missing answers, 3 empty rows and a zero weight."""
    data, codebook, _ = bundled_survey
    frame, cb = read_survey(data, codebook)
    X = cb.model_codes(frame)
    X.iloc[[3, 50, 700]] = np.nan  # respondents with no answers: excluded, counted
    w = frame[cb.weight].to_numpy(dtype=float).copy()
    w[10] = 0.0  # a zero weight drops the respondent from the likelihood
    assert X.isna().to_numpy().sum() > 1218  # refused answers are missing (NaN) besides
    return X, w, cb


def write_parts(X, w, folder, n_parts):
    """Parquet files of uneven sizes (one partition each); weight in column ``weight``."""
    folder.mkdir()
    frame = X.assign(weight=w)
    cuts = np.unique(np.round(np.linspace(0, 1, n_parts + 1) ** 1.5 * len(frame)).astype(int))
    for i, (a, b) in enumerate(itertools.pairwise(cuts)):
        frame.iloc[a:b].to_parquet(folder / f"part{i:03d}.parquet")
    return folder


def random_start(X, k, seed):
    rng = np.random.default_rng(seed)
    probs = [rng.dirichlet(np.ones(X[c].nunique()), size=k) for c in X.columns]
    return {"weights": np.full(k, 1.0 / k), "item_probs": probs}


class FromStart(LatentClassModel):
    """The in-memory fit from given item probabilities (and equal shares, as ``fit`` starts)."""

    def _starts(self, data, weights, rng):
        n_items, n_cat, k = self._shape()
        theta = np.zeros((n_items, n_cat, k))
        for j, p in enumerate(self.start["item_probs"]):
            theta[j, : p.shape[1], :] = p.T
        return [theta]


def in_memory_from(start, X, w, k, **kwargs):
    model = FromStart(k, n_init=0, **kwargs)
    model.start = start
    return model.fit(X, sample_weight=w)


def assert_same_fit(got, ref, rtol=1e-8):
    assert got.loglik_ == pytest.approx(ref.loglik_, rel=rtol)
    np.testing.assert_allclose(got.loglik_path_, ref.loglik_path_, rtol=rtol)
    assert (got.n_iter_, got.converged_) == (ref.n_iter_, ref.converged_)
    np.testing.assert_allclose(got.weights_, ref.weights_, rtol=rtol, atol=1e-12)
    for a, b in zip(got.item_probs_, ref.item_probs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)
    for a, b in zip(got.categories_, ref.categories_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert got.entropy_ == pytest.approx(ref.entropy_, rel=rtol)
    assert (got.n_empty_, got.n_samples_fit_) == (ref.n_empty_, ref.n_samples_fit_)
    assert got.n_parameters() == ref.n_parameters()


# ---------------------------------------------------------------- exactness
@pytest.mark.parametrize("n_parts", [1, 4, 11])
def test_dask_em_equals_in_memory_em_from_the_same_start(survey, client, tmp_path, n_parts):
    """Same log-likelihood path, iterations and parameters to 1e-8, whatever the partitions."""
    X, w, _ = survey
    start = random_start(X, K, seed=3)
    ref = in_memory_from(start, X, w, K, tol=1e-11)
    assert ref.n_iter_ > 10 and ref.converged_ and ref.n_empty_ == 3
    source = write_parts(X, w, tmp_path / "answers", n_parts)
    got = fit_latent_class_dask(
        source, list(X.columns), K, weight="weight", init=start, tol=1e-11, client=client
    )
    assert_same_fit(got, ref)
    np.testing.assert_allclose(got.predict_proba(X), ref.predict_proba(X), atol=1e-8)
    assert not hasattr(got, "labels_")


def test_dask_em_stops_at_max_iter_like_in_memory_em(survey, client, tmp_path):
    X, w, _ = survey
    start = random_start(X, K, seed=4)
    with pytest.warns(Warning, match="did not converge"):
        ref = in_memory_from(start, X, w, K, max_iter=7)
    source = write_parts(X, w, tmp_path / "answers", 3)
    with pytest.warns(Warning, match="did not converge"):
        got = fit_latent_class_dask(
            source, list(X.columns), K, weight="weight", init=start, max_iter=7, client=client
        )
    assert_same_fit(got, ref)
    assert got.n_iter_ == 7 and not got.converged_


def test_starting_from_a_fitted_model_keeps_its_maximum(survey, client, tmp_path):
    X, w, _ = survey
    ref = LatentClassModel(4, n_init=2, random_state=0, tol=1e-10).fit(X, sample_weight=w)
    source = write_parts(X, w, tmp_path / "answers", 5)
    got = fit_latent_class_dask(source, None, 4, weight="weight", init=ref, client=client)
    assert got.loglik_ >= ref.loglik_ - 1e-8 * abs(ref.loglik_)
    np.testing.assert_allclose(got.predict_proba(X), ref.predict_proba(X), atol=1e-4)


# ---------------------------------------------------------------- start from a sample
def test_start_from_a_sample_gives_a_normal_fitted_estimator(survey, client, tmp_path):
    X, w, cb = survey
    source = write_parts(X, w, tmp_path / "answers", 4)
    got = fit_latent_class_dask(
        source,
        list(X.columns),
        4,
        weight="weight",
        n_init=2,
        sample_size=600,
        client=client,
        random_state=0,
    )
    assert got.converged_ and got.n_empty_ == 3 and got.n_samples_fit_ == 1497
    # its log-likelihood is that of its parameters on all the data (empty rows add 0)
    assert got.loglik_ == pytest.approx(float(w @ got.score_samples(X)), rel=1e-10)
    assert np.all(np.diff(got.loglik_path_) >= -1e-9 * abs(got.loglik_))  # EM never goes down
    # a model file round trip: predict / save / load work as for an in-memory fit
    segments = [
        {"index": s, "name": f"Segment {s + 1}", "named": False, "reference": None,
         "score": None, "share": float(got.weights_[s])}
        for s in range(4)
    ]  # fmt: skip
    model = SegmentModel(estimator=got, codebook=cb, items=list(X.columns), segments=segments)
    save_model(model, tmp_path / "model.json")
    loaded = load_model(tmp_path / "model.json").estimator
    np.testing.assert_allclose(loaded.predict_proba(X), got.predict_proba(X), atol=1e-12)
    assert loaded.loglik_ == got.loglik_


def test_same_seed_same_model_and_threads_without_a_client(survey, tmp_path):
    """No client: Dask's local threads; a seed fixes the sample and the starts."""
    X, w, _ = survey
    source = write_parts(X, w, tmp_path / "answers", 3)
    fits = [
        fit_latent_class_dask(
            source, None, 3, weight="weight", n_init=1, sample_size=500, random_state=7
        )
        for _ in range(2)
    ]
    assert fits[0].loglik_ == fits[1].loglik_
    np.testing.assert_array_equal(fits[0]._theta, fits[1]._theta)


def test_without_persist_and_from_a_dask_frame_the_fit_is_the_same(survey, tmp_path):
    """persist=False re-reads the partitions every iteration; a dask DataFrame is accepted."""
    dd = pytest.importorskip("dask.dataframe")
    X, w, _ = survey
    start = random_start(X, 3, seed=5)
    source = write_parts(X, w, tmp_path / "answers", 3)
    kept = fit_latent_class_dask(source, None, 3, weight="weight", init=start)
    reread = fit_latent_class_dask(source, None, 3, weight="weight", init=start, persist=False)
    frame = dd.from_pandas(X.assign(weight=w), npartitions=2)
    direct = fit_latent_class_dask(frame, None, 3, weight="weight", init=start)
    assert_same_fit(reread, kept, rtol=1e-12)
    assert_same_fit(direct, kept, rtol=1e-12)


# ---------------------------------------------------------------- real data
def test_gss82_reaches_the_polca_maximum(shared_data, client, tmp_path):
    # poLCA 1.6, gss82 ~ 1, nclass=3, 10 random starts: log-likelihood -2754.545 (as in
    # tests/models/test_latent_class.py); here the sample holds all 1,202 respondents
    gss82 = pd.read_csv(shared_data / "lca" / "gss82.csv")
    folder = tmp_path / "gss82"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(gss82)), 3)):
        gss82.iloc[part].to_parquet(folder / f"part{i}.parquet")
    got = fit_latent_class_dask(
        folder, None, 3, tol=1e-10, max_iter=5000, client=client, random_state=0
    )
    assert got.loglik_ == pytest.approx(-2754.545, abs=0.01)
    assert got.n_parameters() == 20
    assert got.bic(gss82) == pytest.approx(5650.926, abs=0.01)
    np.testing.assert_allclose(got.weights_, [0.621, 0.207, 0.172], atol=0.001)


# ---------------------------------------------------------------- errors
@pytest.fixture()
def small(survey, tmp_path):
    X, w, _ = survey
    return X.iloc[:200], w[:200], tmp_path


def test_categories_are_scanned_or_given(small):
    X, w, tmp_path = small
    source = write_parts(X, w, tmp_path / "answers", 2)
    start = random_start(X, 2, seed=0)
    scanned = fit_latent_class_dask(source, None, 2, weight="weight", init=start)
    given = {c: np.unique(X[c].dropna()) for c in X.columns}
    explicit = fit_latent_class_dask(source, None, 2, weight="weight", init=start, categories=given)
    assert explicit.loglik_ == scanned.loglik_
    col = X.columns[0]
    given[col] = given[col][:-1]
    with pytest.raises(ValueError, match=rf"partition \d+: {col}, row \d+: answer .* was not seen"):
        fit_latent_class_dask(source, None, 2, weight="weight", init=start, categories=given)


def test_bad_weights_name_the_partition_and_row(small):
    X, w, tmp_path = small
    w = w.copy()
    w[150] = -1.0
    source = write_parts(X, w, tmp_path / "answers", 1)
    with pytest.raises(ValueError, match=r"partition 0, row 151: weight 'weight' .* got -1.0"):
        fit_latent_class_dask(source, None, 2, weight="weight")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"columns": ["nope"]}, r"columns not in the data: \['nope'\]"),
        ({"n_components": 0}, "n_components must be a positive integer"),
        ({"sample_size": 1}, "sample_size must be an integer of at least 2"),
        ({"init": {"weights": [0.5, 0.5], "item_probs": []}}, "init item_probs has 0 items"),
        ({"weight": "nope"}, r"columns not in the data: \['nope'\]"),
    ],
)
def test_bad_arguments_are_named(small, kwargs, message):
    X, w, tmp_path = small
    source = write_parts(X, w, tmp_path / "answers", 1)
    args = {"columns": list(X.columns), "n_components": 2, "weight": "weight"} | kwargs
    with pytest.raises(ValueError, match=message):
        fit_latent_class_dask(source, **args)
