"""The compiled encoder (segment/models/_encoding.py) gives the codes of the numpy one.

The reference is the general path: scikit-learn's ``check_array`` on the whole table, then
``np.unique`` per column at fit and ``searchsorted`` per column at scoring, as every version
before the compiled encoder did. It is forced here by making ``answer_table`` refuse every
input, so each test compares the two paths on the same data: categories, codes, fit results
and the errors of unseen answers and infinities.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segment.models import LatentClassModel, OrdinalLatentClassModel
from segment.models import latent_class as lc
from segment.models._encoding import BLOCK_ROWS, LUT_SPAN, answer_table, lookup


@pytest.fixture
def general(monkeypatch):
    """A context in which every input takes the general (numpy) path."""

    class _General:
        def __enter__(self):
            monkeypatch.setattr(lc, "answer_table", lambda X: None)

        def __exit__(self, *exc):
            monkeypatch.setattr(lc, "answer_table", answer_table)

    return _General()


def _answers(n=600, n_items=4, seed=0):
    """Codes 0..4 with structure (two classes), as a float array with 10% NaN."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, n)
    codes = (rng.integers(0, 3, (n, n_items)) + 2 * z[:, None]).astype(float)
    codes[rng.random((n, n_items)) < 0.1] = np.nan
    return codes


def _frames():
    """(name, DataFrame or array) pairs covering the forms users hand in."""
    a = _answers()
    names = [f"q{j + 1}" for j in range(a.shape[1])]
    full = np.where(np.isnan(a), 0, a)
    yield "float with NaN", pd.DataFrame(a + 1, columns=names)
    yield "int64", pd.DataFrame(full.astype(np.int64) + 1, columns=names)
    yield "negative int8", pd.DataFrame(full.astype(np.int8) - 2, columns=names)
    yield "uint8 codes array", full.astype(np.uint8)
    yield "uint8 frame", pd.DataFrame(full.astype(np.uint8) + 3, columns=names)
    yield "float32", pd.DataFrame((a + 1).astype(np.float32), columns=names)
    yield (
        "nullable Int64",
        pd.DataFrame(
            {
                c: pd.array(np.where(np.isnan(a[:, j]), None, a[:, j] + 1), "Int64")
                for j, c in enumerate(names)
            }
        ),
    )
    yield "nullable Float64", pd.DataFrame(a + 1, columns=names).astype("Float64")
    yield (
        "mixed dtypes",
        pd.DataFrame(
            {
                "q1": a[:, 0] + 1,
                "q2": full[:, 1].astype(np.int32),
                "q3": pd.array(np.where(np.isnan(a[:, 2]), None, a[:, 2]), "Int16"),
                "q4": full[:, 3].astype(np.uint16) * 7,
            }
        ),
    )
    dk = np.where(a == 4, 98, a)  # a "don't know" code beside 0-3: a lookup table
    yield "codes with 98", pd.DataFrame(dk, columns=names)
    yield "halves", pd.DataFrame(a / 2 - 0.25, columns=names)  # no integers: binary search
    wide = np.where(a == 4, LUT_SPAN * 3.0, a)  # integers too far apart for a table
    yield "wide range", pd.DataFrame(wide, columns=names)
    yield "C-ordered float array", np.ascontiguousarray(a * 10)
    yield "F-ordered float array", np.asfortranarray(a - 100)


FRAMES = list(_frames())


def _fit(X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LatentClassModel(2, n_init=2, max_iter=60, random_state=3).fit(X)


@pytest.mark.parametrize(("name", "X"), FRAMES, ids=[name for name, _ in FRAMES])
def test_the_compiled_encoder_gives_the_codes_and_fit_of_the_numpy_one(general, name, X):
    fast = _fit(X)
    assert fast._prepare_columns(X, fitting=False) is not None  # the compiled path is taken
    with general:
        reference = _fit(X)
        reference_codes = reference._prepare(X, fitting=False)
    assert len(fast.categories_) == len(reference.categories_)
    for mine, theirs in zip(fast.categories_, reference.categories_, strict=True):
        assert mine.dtype == theirs.dtype == np.float64
        np.testing.assert_array_equal(mine, theirs)
    codes = fast._prepare(X, fitting=False)
    assert codes.dtype == reference_codes.dtype and codes.flags.c_contiguous
    np.testing.assert_array_equal(codes, reference_codes)
    assert fast.loglik_ == reference.loglik_
    np.testing.assert_array_equal(fast.labels_, reference.labels_)
    np.testing.assert_array_equal(fast.predict_proba(X), reference.predict_proba(X))
    assert fast.bic(X) == reference.bic(X)


def test_the_public_encode_matches_the_numpy_encoder():
    X = pd.DataFrame(_answers() + 1)
    model = _fit(X)
    values = X.to_numpy()
    np.testing.assert_array_equal(model.encode(values), model._encode_general(values, None))
    # a C-ordered array longer than a block, and an uint8 array of the model's own codes
    many = np.tile(values, (3 * BLOCK_ROWS // len(values) + 1, 1))
    np.testing.assert_array_equal(model.encode(many), model._encode_general(many, None))
    zero_based = _fit(np.where(np.isnan(values), 0, values - 1).astype(np.uint8))
    own = np.ascontiguousarray(np.where(np.isnan(values), 0, values - 1).astype(np.uint8))
    assert zero_based.encode(own) is own  # already the model's codes: no copy


@pytest.mark.parametrize(
    "unseen",
    [
        pd.DataFrame({"q1": [1.0, 2.0], "q2": [1.0, 7.0]}),
        pd.DataFrame({"q1": [1, 2], "q2": [1, 7]}),
        pd.DataFrame({"q1": [1, 2], "q2": [1, 7]}, dtype="Int64"),
        pd.DataFrame({"q1": [1.0, 2.0], "q2": [1.0, 1.5]}),
    ],
    ids=["float", "int", "Int64", "between categories"],
)
def test_unseen_answers_are_refused_with_the_message_of_before(general, unseen):
    frame = pd.DataFrame({"q1": [1, 2, 1, 2, 1, 2], "q2": [1, 1, 2, 2, 1, 2]})
    model = LatentClassModel(2, n_init=1, random_state=0).fit(frame)
    with pytest.raises(ValueError, match=r"q2, row 2: answer .* was not seen") as fast:
        model.predict_proba(unseen)
    with general, pytest.raises(ValueError) as reference:
        model.predict_proba(unseen)
    assert str(fast.value) == str(reference.value)


@pytest.mark.parametrize("fitting", [True, False])
def test_infinity_is_refused_as_before(general, fitting):
    frame = pd.DataFrame({"q1": [1.0, 2, 1, 2, 1, 2], "q2": [1.0, 1, 2, 2, 1, 2]})
    bad = frame.copy()
    bad.loc[3, "q1"] = np.inf
    model = LatentClassModel(2, n_init=1, random_state=0)
    if not fitting:
        model.fit(frame)
    act = model.fit if fitting else model.predict
    with pytest.raises(ValueError, match="infinity") as fast:
        act(bad)
    with general, pytest.raises(ValueError) as reference:
        act(bad)
    assert str(fast.value) == str(reference.value)


def test_a_wrong_number_of_columns_is_refused_as_before(general):
    model = _fit(pd.DataFrame(_answers() + 1))
    narrow = pd.DataFrame(_answers()[:, :3] + 1)
    with pytest.raises(ValueError, match="features") as fast:
        model.predict(narrow)
    with general, pytest.raises(ValueError) as reference:
        model.predict(narrow)
    assert str(fast.value) == str(reference.value)


def test_forms_the_compiled_encoder_does_not_read_take_the_general_path():
    a = _answers()
    assert answer_table(pd.DataFrame(a > 1)) is None  # booleans
    assert answer_table(a.astype(np.float16)) is None
    assert answer_table(a[:, 0]) is None  # one dimension: check_array's error
    assert answer_table(a[:0]) is None  # no rows
    assert answer_table(pd.DataFrame({"q": ["1", "2"]})) is None
    assert answer_table(a.tolist()) is None
    # and they fit as before
    model = _fit(pd.DataFrame(np.where(np.isnan(a), 0, a) > 1))
    assert [list(c) for c in model.categories_] == [[0.0, 1.0]] * a.shape[1]


def test_the_lookup_of_categories():
    look = lookup([np.array([1.0, 2, 3]), np.array([1.0, 2, 8, 9]), np.array([0.5, 1.5])])
    assert list(look.mode) == [0, 1, 2]  # consecutive, table, binary search
    assert list(look.table[1, :9]) == [0, 1, -1, -1, -1, -1, -1, 2, 3]


def test_the_ordinal_model_reads_frames_through_the_compiled_encoder(general):
    X = pd.DataFrame(_answers() + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = OrdinalLatentClassModel(2, n_init=1, max_iter=30, random_state=0).fit(X)
        with general:
            reference = OrdinalLatentClassModel(2, n_init=1, max_iter=30, random_state=0).fit(X)
    assert fast.loglik_ == reference.loglik_
    np.testing.assert_array_equal(fast.predict_proba(X), reference.predict_proba(X))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    values=st.lists(
        st.one_of(
            st.sampled_from([np.nan, -3.0, 0.0, 1.0, 2.0, 5.0, 97.0, 1e6, 2.5]),
            st.integers(-5, 300).map(float),
        ),
        min_size=12,
        max_size=60,
    ),
    dtype=st.sampled_from(["float64", "float32", "Float64", "Int64", "int64", "int16"]),
)
def test_any_column_encodes_as_before(general, values, dtype):
    col = np.array(values)
    if dtype in ("int64", "int16"):
        col = np.clip(np.where(np.isnan(col), 0, col), -30_000, 30_000).astype(dtype)
    elif dtype == "float32":
        col = col.astype(np.float32)
    elif dtype == "Int64":
        col = np.floor(col)
    frame = pd.DataFrame({"a": col, "b": col[::-1].copy()})
    if dtype in ("Float64", "Int64"):
        frame = frame.astype(dtype)

    def run():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = LatentClassModel(2, n_init=0, max_iter=5).fit(frame)
        except ValueError as exc:  # a constant or empty column
            return str(exc), None, None
        return None, model.categories_, model._prepare(frame, fitting=False)

    with general:
        reference = run()
    fast = run()
    assert fast[0] == reference[0]
    if reference[0] is None:
        for mine, theirs in zip(fast[1], reference[1], strict=True):
            np.testing.assert_array_equal(mine, theirs)
        np.testing.assert_array_equal(fast[2], reference[2])
