"""Differencing attacks on published profiles (issue 17): from every number the report, the
cards and `segment profile` print (the ``protect=True`` statistics), an attacker solves the
tables' additivity for the hidden cells; no cell of 1-29 respondents may be printed or follow.

The attacker's system is written here from the published frames alone, independently of
:mod:`segment.disclosure`: a segments-by-categories table with its margins (a segment's size
beside its categories, the whole sample's row, the grand total), each published share turned
into a count (equal weights, hard memberships, so share x size is the count exactly).
"""

from __future__ import annotations

import numpy as np
import pytest

from segment.cards.profile_stats import profile_segments
from segment.resources import bundled_path
from segment.survey.read import read_survey

MIN = 30
NOMINAL = ["ethnicity", "language", "employment", "news_source", "gender"]


@pytest.fixture(scope="module")
def survey():
    data = bundled_path("data", "kz2020_synthetic.csv")
    frame, cb = read_survey(data, bundled_path("data", "kz2020_synthetic_codebook.yaml"))
    return frame, cb


def memberships(n: int, sizes: list[int]) -> np.ndarray:
    """Hard memberships: the first ``sizes[0]`` rows in segment 0, and so on; the rest split
    round-robin over the other segments."""
    k = len(sizes) + 1
    labels = np.empty(n, dtype=int)
    start = 0
    for s, size in enumerate(sizes):
        labels[start : start + size] = s
        start += size
    labels[start:] = len(sizes) + np.arange(n - start) % (k - len(sizes))
    return np.eye(k)[labels]


def _determined(hidden: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Hidden unknowns fixed by ``A x = known`` (zero in every null-space vector)."""
    M = A[:, hidden]
    out = np.zeros(hidden.size, dtype=bool)
    if M.size == 0:
        return out
    _, s, vt = np.linalg.svd(M)
    null = vt[int((s > 1e-9).sum()) :]
    free = np.abs(null).max(axis=0) > 1e-9 if len(null) else np.zeros(M.shape[1], bool)
    out[np.flatnonzero(hidden)[~free]] = True
    return out


def exposed_cells(profiles, cb, frame, resp, variable: str) -> list[str]:
    """Cells of 1-29 respondents that the published ``variable`` table prints or determines."""
    d = profiles.demographics[profiles.demographics["variable"] == variable]
    cats = list(dict.fromkeys(d["category"]))
    k, C = resp.shape[1], len(cats)
    values = frame[variable].to_numpy(dtype=float)
    levels = {lv.name: lv.code for lv in cb[variable].levels}
    levels |= {lv.label(): lv.code for lv in cb[variable].levels}
    codes = [levels[c] for c in cats]
    onehot = np.column_stack([values == c for c in codes]).astype(float)
    truth = np.zeros((k + 1, C + 1))
    truth[:k, :C] = resp.T @ onehot
    truth[:k, C] = truth[:k, :C].sum(axis=1)
    truth[k] = truth[:k].sum(axis=0)
    shown = np.zeros((k + 1, C + 1), dtype=bool)
    for r in d.itertuples():
        shown[int(r.segment), cats.index(r.category)] = np.isfinite(r.share)
    sample = d.drop_duplicates("category").set_index("category")["sample_share"]
    shown[k, :C] = [np.isfinite(sample[c]) for c in cats]
    shown[:k, C] = profiles.shares.set_index("segment")["share"].notna().to_numpy()
    shown[k, C] = True
    width = C + 1
    A = []
    for r in range(k + 1):  # a row's categories add up to its total
        eq = np.zeros((k + 1, width))
        eq[r, :C], eq[r, C] = 1, -1
        A.append(eq.ravel())
    for c in range(C + 1):  # the segments add up to the whole sample
        eq = np.zeros((k + 1, width))
        eq[:k, c], eq[k, c] = 1, -1
        A.append(eq.ravel())
    hidden = ~shown.ravel()
    known = shown.ravel() | _determined(hidden, np.array(A))
    small = ((truth > 0) & (truth < MIN)).ravel()
    names = [f"{r}:{c}" for r in [*range(k), "whole sample"] for c in [*cats, "total"]]
    return [names[j] for j in np.flatnonzero(known & small)]


@pytest.mark.parametrize("sizes", [[20], [20, 25], [12, 40], [], [29, 31]])
@pytest.mark.parametrize("variable", NOMINAL)
def test_published_demographics_resist_differencing(survey, sizes, variable):
    frame, cb = survey
    resp = memberships(len(frame), sizes)
    ones = np.ones(len(frame))
    published = profile_segments(resp, frame, cb, sample_weight=ones, protect=True)
    assert exposed_cells(published, cb, frame, resp, variable) == []


def test_unprotected_statistics_are_attackable(survey):
    """The attack is real: the threshold rule alone prints the whole sample's small ethnic
    groups and lets a small segment's cells follow (why names and words use them, never an
    output)."""
    frame, cb = survey
    resp = memberships(len(frame), [20, 25])
    raw = profile_segments(resp, frame, cb, sample_weight=np.ones(len(frame)))
    assert exposed_cells(raw, cb, frame, resp, "ethnicity")


@pytest.mark.parametrize("sizes", [[20], [20, 25], [5, 40, 60], [31, 29]])
def test_published_segment_sizes_resist_differencing(survey, sizes):
    frame, cb = survey
    resp = memberships(len(frame), sizes)
    published = profile_segments(resp, frame, cb, sample_weight=np.ones(len(frame)), protect=True)
    counts = resp.sum(axis=0)
    hidden = published.shares["share"].isna().to_numpy()
    assert hidden[counts < MIN].all()
    # the sizes add up to the sample: the hidden ones are known only as their sum
    assert hidden.sum() != 1
    assert counts[hidden].sum() == 0 or counts[hidden].sum() >= MIN


def test_names_and_words_read_the_unprotected_statistics(survey):
    """Complementary suppression happens only in the published copy: the statistics segments
    are named and described by hide only cells under the threshold."""
    frame, cb = survey
    resp = memberships(len(frame), [20])
    ones = np.ones(len(frame))
    raw = profile_segments(resp, frame, cb, sample_weight=ones)
    published = profile_segments(resp, frame, cb, sample_weight=ones, protect=True)
    assert raw.shares["suppressed"].sum() == 1
    assert published.shares["suppressed"].sum() == 2
    assert raw.demographics["sample_share"].notna().all()
    assert published.demographics["sample_share"].isna().any()
