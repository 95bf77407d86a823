"""The respondent map (segment.report.respondent_map): an exact neighbour graph handed to UMAP;
the same seed gives the same coordinates, segments stay apart, no-answer rows are out; a rerun
reads the cached map and umap-learn's kernels are cached on disk."""

from __future__ import annotations

import numpy as np
import pytest

from segment.report.respondent_map import umap_embedding
from segment.resources import bundled_path
from segment.survey.read import read_survey


@pytest.fixture(scope="module")
def answers():
    import pandas as pd

    frame, cb = read_survey(
        bundled_path("data", "kz2020_synthetic.csv"),
        bundled_path("data", "kz2020_synthetic_codebook.yaml"),
    )
    X = cb.model_codes(frame, [it.column for it in cb.segmentation_items]).head(400).copy()
    X.iloc[7] = np.nan  # a respondent who answered nothing is not placed
    truth = pd.read_csv(bundled_path("data", "kz2020_synthetic_truth.csv"))["segment"].head(400)
    return X, truth.to_numpy()


def test_the_map_is_reproducible_and_keeps_segments_apart(answers):
    X, truth = answers
    coords, rows = umap_embedding(X, random_state=3)
    again, rows_again = umap_embedding(X, random_state=3)
    assert np.array_equal(coords, again) and np.array_equal(rows, rows_again)
    assert 7 not in rows and len(rows) == len(X) - 1 and coords.shape == (len(rows), 2)
    labels = truth[rows]
    # a respondent's nearest mapped neighbour is mostly in the same true segment
    d = ((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert (labels[d.argmin(axis=1)] == labels).mean() > 0.8


def test_a_rerun_reads_the_cached_map_and_bad_entries_are_recomputed(
    answers, tmp_path, monkeypatch
):
    from segment.report import respondent_map

    X, _ = answers
    monkeypatch.setenv("SEGMENT_CACHE_DIR", str(tmp_path))
    computed, rows = umap_embedding(X, random_state=4)
    (entry,) = (tmp_path / "maps").glob("*.npy")
    calls = []
    monkeypatch.setattr(respondent_map, "_layout", lambda *a: calls.append(a) or computed * 0)
    cached, cached_rows = umap_embedding(X, random_state=4)
    assert cached.tobytes() == computed.tobytes() and np.array_equal(rows, cached_rows)
    assert not calls
    umap_embedding(X, random_state=5)  # another seed is another map
    assert len(calls) == 1 and len(list((tmp_path / "maps").glob("*.npy"))) == 2
    for damage in (b"not a numpy file", b"\x93NUMPY" + b"\x00" * 200):
        entry.write_bytes(damage)
        again, _ = umap_embedding(X, random_state=4)
        assert again.tobytes() == (computed * 0).tobytes()  # recomputed, not read
    np.save(entry, np.zeros((3, 2)))  # the wrong shape
    umap_embedding(X, random_state=4)
    assert len(calls) == 4


def test_no_cache_when_the_cache_folder_is_set_empty(answers, tmp_path, monkeypatch):
    X, _ = answers
    monkeypatch.setenv("SEGMENT_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    coords, _ = umap_embedding(X.head(60), random_state=1)
    assert coords.shape[1] == 2 and not any(tmp_path.iterdir())


def test_umap_kernels_are_cached_on_disk():
    import umap.layouts
    import umap.umap_

    from segment.report.respondent_map import _UNCACHED_KERNELS, _cache_umap_kernels

    _cache_umap_kernels()
    modules = {"umap.umap_": umap.umap_, "umap.layouts": umap.layouts}
    for module, name in _UNCACHED_KERNELS:
        kernel = getattr(modules[module], name)
        assert type(kernel._cache).__name__ == "FunctionCache", name
