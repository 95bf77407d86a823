"""Differencing attacks on every list-experiment output (issue 17, item 1).

The attacker reads everything `segment listexp` prints (JSON and text) or the library returns,
knows how many respondents each group has in each arm (more than is printed), and tries to
recover a hidden respondent's count by subtraction: the whole sample's mean times its arm size
minus the published groups' means times theirs. Two tests:

* the *candidate set*: every count 0..J+1 the hidden respondent could have given that is
  consistent with all printed numbers (at their printed precision, with the other withheld
  respondents free within 0..J+1). Recovered means a candidate set of one.
* the *rank test* (independent of :mod:`segment.disclosure`'s own audit): the published sums,
  as 0/1 vectors over respondents of one arm, must not span the indicator of any set of fewer
  than ``min_cell`` respondents that is withheld (a group's arm, or respondents sharing every
  label).
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from segment.disclosure import MIN_CELL_SIZE
from segment.listexp import difference_in_means
from segment.listexp.disclose import COMPLEMENT, MISSING, protect_groups, protect_partition
from segment.listexp.subgroups import overall_row, subgroup_table

J = 4


def _survey(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A list experiment of ``n`` respondents in groups a and b, plus a group "tiny" of one
    treated respondent who answered 5 (the sensitive item: yes) and one control respondent."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    y = np.minimum(rng.binomial(J, 0.5, n) + t * (rng.random(n) < 0.4), J + t)
    g = np.where(rng.random(n) < 0.5, "a", "b")
    tiny = pd.DataFrame({"y": [5, 2], "treat": [1, 0], "g": ["tiny", "tiny"]})
    return pd.concat([pd.DataFrame({"y": y, "treat": t, "g": g}), tiny], ignore_index=True)


@pytest.fixture()
def tiny_file(tmp_path):
    path = tmp_path / "tiny.csv"
    _survey().to_csv(path, index=False)
    return path


def _decimals(x: float) -> int:
    text = repr(float(x))
    return 0 if "." not in text or "e" in text else len(text.split(".")[1].rstrip("0"))


def _interval(value: float) -> tuple[float, float]:
    """All values a printed number could have been rounded from."""
    half = 0.5 * 10.0 ** -_decimals(value)
    return value - half, value + half


def _candidates(doc: dict, frame: pd.DataFrame, arm: int, target: int) -> set[int]:
    """Counts the hidden respondent at row ``target`` could have, given every printed number:
    the whole sample's mean and every published group's mean (each within its rounding) times
    the arm sizes, the other withheld respondents anywhere in 0..J+1."""
    key = "treatment" if arm == 1 else "control"
    in_arm = frame["treat"].to_numpy() == arm
    top = J + arm
    lo_total, hi_total = (v * in_arm.sum() for v in _interval(doc["overall"][key]))
    published = [g for g in doc["groups"] if not g["suppressed"]]
    for g in published:
        n_g = int((in_arm & (frame["g"] == g["group"]).to_numpy()).sum())
        lo, hi = _interval(g[key])
        lo_total, hi_total = lo_total - hi * n_g, hi_total - lo * n_g
    shown = frame["g"].isin([g["group"] for g in published]).to_numpy()
    others = int((in_arm & ~shown).sum()) - 1  # withheld respondents beside the target
    assert in_arm[target] and not shown[target]
    return {v for v in range(top + 1) if v <= hi_total + 1e-9 and v + top * others >= lo_total}


def test_the_attack_works_on_unprotected_numbers():
    # the attacker is right: from the full-precision means printed before (overall, a and b,
    # as difference_in_means gives them), the treated respondent's count 5 comes back
    frame = _survey()
    shown = frame[frame["g"] != "tiny"]
    r = difference_in_means(shown["y"].to_numpy(), shown["treat"].to_numpy(), J=J,
                            by=shown["g"].to_numpy())  # fmt: skip
    whole = difference_in_means(frame["y"].to_numpy(), frame["treat"].to_numpy(), J=J)
    g = r.groups
    rest = sum(g.loc[k, "mean_treat"] * g.loc[k, "n_treat"] for k in ("a", "b"))
    assert whole.mean_treat * whole.n_treat - rest == pytest.approx(5.0)


def _json(capsys, *args) -> dict:
    code, out, _ = run_cli(["listexp", *args, "--format", "json"], capsys)
    assert code == 0
    return json.loads(out)


def test_json_output_gives_no_subtraction_back(tiny_file, capsys):
    code, out, _ = run_cli(
        ["listexp", tiny_file, "--J", J, "--by", "g", "--format", "json"], capsys
    )
    assert code == 0
    doc = json.loads(out)
    by = {g["group"]: g for g in doc["groups"]}
    assert by["tiny"]["withheld"] == (
        "withheld: fewer than 30 respondents in control and in treatment"
    )
    # one withheld group in a line would follow from the total: a complement is withheld too
    assert sum(g["suppressed"] for g in doc["groups"]) == 2
    assert any(g["withheld"] == COMPLEMENT for g in doc["groups"])
    for g in doc["groups"]:
        if g["suppressed"]:
            assert all(g[k] is None for k in ("n", "control", "treatment", "estimate", "se"))
    frame = _survey()
    treated, control = len(frame) - 2, len(frame) - 1
    assert len(_candidates(doc, frame, 1, treated)) > 1  # the treated respondent's 5
    assert len(_candidates(doc, frame, 0, control)) > 1
    # differences only between published groups: none here (one group is published)
    assert doc["differences"] == []


def test_published_precision_in_json(tiny_file, capsys):
    doc = _json(capsys, tiny_file, "--J", J, "--by", "g")
    for row in [doc["overall"], *doc["groups"]]:
        for key in ("control", "treatment"):
            if row[key] is not None:
                assert _decimals(row[key]) <= 2, (key, row[key])
        for key in ("estimate", "ci_low", "ci_high", "bounded", "headline"):
            if row[key] is not None:
                assert _decimals(row[key]) <= 3, (key, row[key])
                # no more digits than the standard error supports
                assert _decimals(row[key]) <= max(0, 1 - math.floor(math.log10(row["se"])))
        if row["se"] is not None:
            assert len(f"{row['se']:.10g}".lstrip("0.").rstrip("0")) <= 2
    assert _decimals(doc["design_effect_test"]["p_value"]) <= 3


def test_text_output_prints_no_number_of_a_withheld_group(tiny_file, capsys):
    code, out, _ = run_cli(["listexp", tiny_file, "--J", J, "--by", "g"], capsys)
    assert code == 0
    assert "g tiny: withheld: fewer than 30 respondents in control and in treatment" in out
    assert "complementary suppression" in out
    for line in out.splitlines():
        if "│ g " in line and ("withheld" in line or "tiny" in line):
            cells = line.split("│")[3:6]  # n, control, treatment
            assert not any(re.search(r"\d", c) for c in cells), line


def test_library_rows_are_protected_too():
    frame = _survey()
    y, t, g = frame["y"].to_numpy(), frame["treat"].to_numpy(), frame["g"].to_numpy(object)
    groups, _ = subgroup_table(y, t, {"g": g}, J=J)
    shown = [r for r in groups if not r["suppressed"]]
    assert len(shown) == 1 and shown[0]["group"] in ("a", "b")
    doc = {"overall": overall_row(y, t, J=J), "groups": groups}
    assert len(_candidates(doc, frame, 1, len(frame) - 2)) > 1


@pytest.mark.parametrize("n_control", [1, 29])
def test_a_whole_sample_with_a_small_arm_is_withheld(tmp_path, capsys, n_control):
    frame = pd.DataFrame({"y": [1, 2, 3, 4, 5] * 10 + [3] * n_control})
    frame["treat"] = [1] * 50 + [0] * n_control
    path = tmp_path / "small.csv"
    frame.to_csv(path, index=False)
    code, out, _ = run_cli(["listexp", path, "--J", J, "--format", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    o = doc["overall"]
    assert o["withheld"] == "withheld: fewer than 30 respondents in control"
    assert all(o[k] is None for k in ("n", "control", "treatment", "estimate", "se", "bounded"))
    assert doc["design_effect_test"]["p_value"] is None
    code, out, _ = run_cli(["listexp", path, "--J", J], capsys)
    assert code == 0
    assert "withheld: fewer than 30 respondents in control" in out
    assert "3.00" not in out and "3.0" not in out


def test_ml_on_a_withheld_sample_is_withheld_not_a_traceback(tmp_path, capsys):
    frame = pd.DataFrame({"y": [1, 2, 3, 4, 5] * 10 + [3], "x": range(51)})
    frame["treat"] = [1] * 50 + [0]
    path = tmp_path / "one.csv"
    frame.to_csv(path, index=False)
    code, out, _ = run_cli(
        ["listexp", path, "--J", J, "--method", "ml", "--covariates", "x", "--format", "json"],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["overall"]["withheld"] and "model" not in doc


def _missing_survey(n_missing: int, tiny: bool) -> tuple[np.ndarray, dict]:
    rng = np.random.default_rng(3)
    labels = list(rng.choice(["a", "b"], 300)) + [None] * (2 * n_missing)
    treat = list(rng.integers(0, 2, 300)) + [0, 1] * n_missing
    if tiny:
        labels += ["tiny", "tiny"]
        treat += [0, 1]
    return np.array(treat), {"g": np.array(labels, dtype=object)}


def test_a_small_missing_group_is_protected_by_a_withheld_group():
    # 5 respondents without a label in each arm: overall minus a minus b would give their sum
    treat, by = _missing_survey(5, tiny=False)
    y = np.random.default_rng(4).integers(0, J + 1, len(treat)) + treat
    groups, _ = subgroup_table(y, treat, by, J=J)
    withheld = [g for g in groups if g["suppressed"]]
    assert len(withheld) == 1 and withheld[0]["withheld"] == COMPLEMENT


def test_a_large_missing_group_is_itself_a_complement():
    # 40 unlabelled respondents per arm and a group of one per arm: the withheld sum covers 41
    treat, by = _missing_survey(40, tiny=True)
    labels = np.array([MISSING if v is None else v for v in by["g"]], dtype=object)
    reasons = protect_groups(treat, {"g": labels}, min_cell=30)
    assert reasons["g"]["a"] is None and reasons["g"]["b"] is None
    assert reasons["g"]["tiny"].startswith("withheld: fewer than 30")


def test_linked_variables_cannot_isolate_a_respondent():
    # g1: tiny (1 + 1), B (35 + 35), C (the rest); g2: D = exactly B's respondents, E = the rest.
    # g1's complement of tiny is B, but D = B is published in g2, so E - C would be tiny's
    # atom: the audit withholds g2 too.
    n_c = 300
    treat = np.array([0, 1] + [0, 1] * 35 + [0, 1] * (n_c // 2))
    g1 = np.array(["tiny"] * 2 + ["B"] * 70 + ["C"] * n_c, dtype=object)
    g2 = np.where(g1 == "B", "D", "E").astype(object)
    reasons = protect_groups(treat, {"g1": g1, "g2": g2}, min_cell=30)
    assert reasons["g1"]["C"] is None
    assert reasons["g2"]["D"] is not None and reasons["g2"]["E"] is not None
    _assert_no_small_set_recoverable(treat, {"g1": g1, "g2": g2}, reasons, 30)


def _assert_no_small_set_recoverable(treat, by, reasons, m):
    """The rank test over respondents (independent of the module's atom audit)."""
    for arm in (0, 1):
        idx = np.flatnonzero(treat == arm)
        if idx.size < m:
            continue
        sets = [np.ones(idx.size)]
        for var, labels in by.items():
            for group, why in reasons[var].items():
                if why is None:
                    sets.append((labels[idx] == group).astype(float))
        P = np.array(sets)
        rank = np.linalg.matrix_rank(P)
        small = []
        for var, labels in by.items():
            for group in np.unique(labels):
                if group == MISSING or reasons[var].get(group) is not None:
                    member = labels[idx] == group
                    if 0 < member.sum() < m:
                        small.append(member)
        labels_of = np.stack([by[v][idx] for v in by], axis=1).astype(str)
        for atom in np.unique(labels_of, axis=0):
            member = np.all(labels_of == atom, axis=1)
            if 0 < member.sum() < m:
                small.append(member)
        for member in small:
            # recoverable iff adding the set's indicator does not raise the rank
            assert np.linalg.matrix_rank(np.vstack([P, member.astype(float)])) > rank, (
                arm,
                int(member.sum()),
            )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), min_size=30, max_size=240),
    st.integers(0, 2**32 - 1),
    st.sampled_from([10, 30]),
)
def test_no_small_set_is_recoverable_hypothesis(cells, seed, m):
    # respondents' labels of two variables (3 = missing for the first) and random arms
    rng = np.random.default_rng(seed)
    treat = rng.integers(0, 2, len(cells))
    g1 = np.array([MISSING if a == 3 else f"x{a}" for a, _ in cells], dtype=object)
    g2 = np.array([f"z{b}" for _, b in cells], dtype=object)
    by = {"g1": g1, "g2": g2}
    reasons = protect_groups(treat, by, min_cell=m)
    for var, labels in by.items():
        for group, why in reasons[var].items():
            if why is None:  # published: both arms at the threshold
                for arm in (0, 1):
                    assert ((labels == group) & (treat == arm)).sum() >= m
    _assert_no_small_set_recoverable(treat, by, reasons, m)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 80), st.integers(0, 80)), min_size=1, max_size=6),
    st.tuples(st.integers(0, 40), st.integers(0, 40)),
)
def test_partition_lines_hold_no_small_withheld_sum(rows, unpublished):
    # the segments' rule: per arm, the withheld rows and the unpublished respondents together
    # describe no one or at least min_cell respondents (or nothing can be added)
    counts = np.array(rows, dtype=float)
    withheld, reasons = protect_partition(counts, np.array(unpublished), min_cell=30)
    for arm in (0, 1):
        inside = counts[withheld, arm].sum() + unpublished[arm]
        nothing_left = not ((~withheld) & (counts[:, arm] > 0)).any()
        assert inside == 0 or inside >= 30 or nothing_left
    for w, why, (c, t) in zip(withheld, reasons, counts, strict=True):
        assert w == (why is not None)
        if min(c, t) < 30:
            assert w and why.startswith("withheld: fewer than 30")


def test_min_cell_is_counted_per_arm(tmp_path, capsys):
    # 50 respondents: 45 treated, 5 in control: a group of 50 but its control arm is 5
    frame = _survey()
    extra = pd.DataFrame({"y": [2] * 50, "treat": [1] * 45 + [0] * 5, "g": ["c"] * 50})
    path = tmp_path / "arms.csv"
    pd.concat([frame, extra]).to_csv(path, index=False)
    by = {g["group"]: g for g in _json(capsys, path, "--J", J, "--by", "g")["groups"]}
    assert by["c"]["withheld"] == "withheld: fewer than 30 respondents in control"


def test_default_threshold_is_the_module_constant():
    assert MIN_CELL_SIZE == 30


@pytest.fixture(scope="module")
def k6_model():
    from segment import read_survey
    from segment.cards.typology import Typology
    from segment.resources import bundled_path
    from segment.segments.fit import fit_segments

    frame, cb = read_survey(
        bundled_path("data", "kz2020_synthetic.csv"),
        bundled_path("data", "kz2020_synthetic_codebook.yaml"),
    )
    return fit_segments(frame, cb, 6, typology=Typology.load("kz2020"), n_init=1)


def _listexp_frame() -> pd.DataFrame:
    from segment.resources import bundled_path

    return pd.read_csv(
        bundled_path("data", "kz2022_listexp.csv"), keep_default_na=False, na_values=[""]
    )


def test_segments_go_through_the_same_rule(k6_model):
    from segment.segments.support import support_by_segment

    data = _listexp_frame()
    t = support_by_segment(k6_model, data, n_boot=20, J=J).table
    withheld = t["withheld"].map(lambda w: isinstance(w, str))
    assert withheld.any()  # 400 respondents in 6 segments: some arm is under 30
    cols = ["estimate", "se", "ci_low", "bounded", "headline", "modal_estimate", "effective_n"]
    assert t.loc[withheld, cols].isna().all().all()
    assert t.loc[~withheld, cols].notna().all().all()
    primary = t["withheld"].str.startswith("withheld: fewer", na=False)
    # never exactly one withheld segment: the whole sample minus the others would give it
    assert withheld.sum() != 1 or not primary.any()
    # published precision: shares to 0.1 point at most
    for v in t.loc[~withheld, ["estimate", "bounded", "headline", "share"]].to_numpy().ravel():
        assert _decimals(v) <= 3


def test_untyped_respondents_are_protected_by_a_withheld_segment(k6_model):
    from segment.segments.support import support_by_segment

    data = _listexp_frame()
    items = [c for c in k6_model.items if c in data.columns]
    data.loc[data.index[:6], items] = np.nan  # six respondents answered none of the items
    t = support_by_segment(k6_model, data, n_boot=20, J=J, min_n=5).table
    # with min_n 5 every segment passes the threshold; the six untyped respondents (about 3
    # an arm) would follow from the whole sample minus the segments: one segment protects them
    assert t["withheld"].tolist().count(COMPLEMENT) >= 1
    assert all(w in (None, COMPLEMENT) for w in t["withheld"])


def test_listexp_by_segment_when_the_whole_sample_is_withheld(k6_model, tmp_path, capsys):
    from segment.segments.model_file import save_model

    model = tmp_path / "m.json"
    save_model(k6_model, model)
    data = _listexp_frame()
    small = pd.concat([data[data["treat"] == 1], data[data["treat"] == 0].iloc[:3]])
    path = tmp_path / "small.csv"
    small.to_csv(path, index=False)
    doc = _json(capsys, path, "--J", J, "--segments", model, "--bootstrap", "10")
    assert doc["segments"]["table"] == []
    assert doc["segments"]["withheld"] == "withheld: fewer than 30 respondents in control"
    code, out, _ = run_cli(["listexp", path, "--J", J, "--segments", model], capsys)
    assert code == 0 and "Support by segment: withheld: fewer than 30" in out
