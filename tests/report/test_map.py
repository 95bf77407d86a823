"""The respondent map (segment.pipeline.umap_embedding): an exact neighbour graph handed to
UMAP; the same seed gives the same coordinates, segments stay apart, no-answer rows are out."""

from __future__ import annotations

import numpy as np
import pytest

from segment.pipeline import umap_embedding
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
