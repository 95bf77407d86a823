"""Differencing attacks on what the commands print (issue 17): `segment profile --format json`
and `segment run`'s report, on a poll with a small, distinct group of respondents.

The poll is the bundled survey with 15 extra respondents who give the lowest answer to every
question and share a rare ethnic code, so a 7-segment model gives them (nearly) a segment of
their own: a segment of 15, and small segment-by-category cells in every demographic table.

The attacker reads only the outputs: every published segment share, every number behind a
card bullet (a category's share in a segment and in the sample, a mean position), and for the
report the data of every drawn composition chart and the segment-size chart. Each number is a
linear equation in the unknown weighted cells (segment x category, the whole sample's
categories, the segment sizes, as fractions of the total weight), beside the tables'
additivity (a segment's categories add up to its size, the segments to the whole sample, the
sizes to one). A cell is recovered when the equations fix it (it is zero in every null-space
vector). No cell of fewer than 30 respondents (posterior-weighted, unweighted) may be
recovered; the same attack on the threshold-only statistics does recover some, so it can fail.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli

from segment.cards.naming import name_segments
from segment.cards.profile_stats import profile_segments
from segment.cards.render import cards_to_dicts
from segment.cards.wording import build_cards
from segment.resources import bundled_path
from segment.segments.model_file import load_model
from segment.survey.read import read_survey

MIN = 30
CODEBOOK = bundled_path("data", "kz2020_synthetic_codebook.yaml")
#: demographics with a value for every respondent (a share's denominator is the segment)
COMPLETE = ["gender", "ethnicity", "language", "employment", "news_source", "settlement"]


def invoke(args: list) -> int:
    """Exit code of ``segment ARGS`` (module fixtures cannot capture output)."""
    from segment.cli import main

    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    return int(exc.value.code)


@pytest.fixture(scope="module")
def poll(tmp_path_factory):
    """The poll: its CSV ``path``, ``frame``, codebook ``cb`` and a 7-segment ``model_path``."""
    folder = tmp_path_factory.mktemp("poll")
    frame, cb = read_survey(bundled_path("data", "kz2020_synthetic.csv"), CODEBOOK)
    raw = pd.read_csv(bundled_path("data", "kz2020_synthetic.csv"))
    odd = raw.sample(15, random_state=1).copy()
    for it in cb.segmentation_items:
        odd[it.column] = min(level.code for level in it.levels)
    odd["ethnicity"] = 6
    odd["resp_id"] = raw["resp_id"].max() + 1 + np.arange(len(odd))
    path = folder / "poll.csv"
    pd.concat([raw, odd], ignore_index=True).to_csv(path, index=False)
    frame, cb = read_survey(path, CODEBOOK)
    model_path = folder / "model.json"
    args = ["fit", path, "--codebook", CODEBOOK, "--k", "7", "--n-init", "2", "-o", model_path]
    assert invoke(args) == 0
    return SimpleNamespace(path=path, frame=frame, cb=cb, model_path=model_path)


@pytest.fixture(scope="module")
def fitted(poll, tmp_path_factory):
    """The fitted model and the posterior memberships of every respondent."""
    frame, cb, model_path = poll.frame, poll.cb, poll.model_path
    model = load_model(model_path)
    X = cb.model_codes(frame, model.items)
    assert X.notna().any(axis=1).all()
    return model, model.estimator.predict_proba(X)


class Attack:
    """Unknown weighted cells, the linear equations the outputs give, and what they fix."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.rows: list[dict[int, float]] = []

    def cell(self, key: tuple) -> int:
        return self.index.setdefault(key, len(self.index))

    def equation(self, coefficients: dict[tuple, float]) -> None:
        """``sum coefficient * unknown = a published (known) number``."""
        self.rows.append({self.cell(k): c for k, c in coefficients.items()})

    def recovered(self) -> set[tuple]:
        A = np.zeros((len(self.rows), len(self.index)))
        for r, row in enumerate(self.rows):
            for j, c in row.items():
                A[r, j] = c
        _, s, vt = np.linalg.svd(A)
        null = vt[int((s > 1e-9 * s.max()).sum()) :]
        free = np.abs(null).max(axis=0) > 1e-7 if len(null) else np.zeros(A.shape[1], bool)
        return {key for key, j in self.index.items() if not free[j]}


def tables(attack: Attack, cb, variables: list[str], k: int) -> None:
    """Additivity: sizes add to one; categories to the segment; segments to the sample."""
    attack.equation({("size", s): 1.0 for s in range(k)})
    for v in variables:
        codes = [level.code for level in cb[v].levels]
        for s in range(k):
            attack.equation({("size", s): -1.0, **{(v, s, c): 1.0 for c in codes}})
        for c in codes:
            attack.equation({(v, "sample", c): -1.0, **{(v, s, c): 1.0 for s in range(k)}})
        attack.equation({(v, "sample", c): 1.0 for c in codes})


def small_cells(frame, cb, resp, variables: list[str]) -> set[tuple]:
    """The cells of fewer than ``MIN`` respondents (posterior-weighted, unweighted)."""
    out = {("size", s) for s in np.flatnonzero(resp.sum(axis=0) < MIN)}
    for v in variables:
        values = frame[v].to_numpy(dtype=float)
        for level in cb[v].levels:
            member = values == level.code
            counts = resp[member].sum(axis=0)
            out |= {(v, s, level.code) for s in np.flatnonzero((counts > 0) & (counts < MIN))}
            if 0 < member.sum() < MIN:
                out.add((v, "sample", level.code))
    return out


def code_of(cb, variable: str, category) -> int:
    for level in cb[variable].levels:
        if category in (level.name, level.label(), level.code, str(level.code)):
            return level.code
    raise KeyError(category)


def card_equations(attack: Attack, cards: list[dict], cb, variables: list[str]) -> int:
    """The equations of the printed cards: shares, and each bullet's numbers; returns how
    many numbers were read."""
    read = 0
    for card in cards:
        s = card["segment"]
        if card["share"] is not None and np.isfinite(card["share"]):
            attack.equation({("size", s): 1.0})
            read += 1
        for bullet in card["bullets"]:
            numbers = bullet["numbers"]
            for say in bullet["demographic"]:
                v = say["variable"]
                if v not in variables:
                    continue
                codes = [code_of(cb, v, c) for c in say["categories"]]
                if codes and "share" in numbers:
                    share = float(numbers["share"])
                    attack.equation({("size", s): -share, **{(v, s, c): 1.0 for c in codes}})
                    read += 1
                if codes and "in the sample" in numbers:
                    attack.equation({(v, "sample", c): 1.0 for c in codes})
                    read += 1
                if not codes and "mean position" in numbers:
                    m, m0 = map(float, re.findall(r"[-\d.]+", numbers["mean position"])[:2])
                    levels = cb[v].levels
                    pos = cb[v].position(np.array([lv.code for lv in levels], dtype=float))
                    attack.equation(
                        {(v, s, lv.code): p - m for lv, p in zip(levels, pos, strict=True)}
                    )
                    attack.equation(
                        {(v, "sample", lv.code): p - m0 for lv, p in zip(levels, pos, strict=True)}
                    )
                    read += 2
    return read


def chart_equations(attack: Attack, demographics: pd.DataFrame, cb) -> int:
    """The equations of the drawn composition charts (a segment's and the sample's shares)."""
    read = 0
    for r in demographics.itertuples():
        c = code_of(cb, r.variable, r.category)
        if np.isfinite(r.share):
            attack.equation(
                {("size", int(r.segment)): -r.share, (r.variable, int(r.segment), c): 1}
            )
            read += 1
    sample = demographics.drop_duplicates(["variable", "category"])
    for r in sample.itertuples():
        if np.isfinite(r.sample_share):
            attack.equation({(r.variable, "sample", code_of(cb, r.variable, r.category)): 1.0})
            read += 1
    return read


def present(frame, variables: list[str]) -> list[str]:
    complete = [v for v in variables if v in frame and frame[v].notna().all()]
    assert len(complete) >= 5
    return complete


def test_profile_json_recovers_no_small_cell(poll, fitted, capsys):
    path, frame, cb, model_path = poll.path, poll.frame, poll.cb, poll.model_path
    resp = fitted[1]
    code, out, err = run_cli(
        ["profile", model_path, path, "--format", "json", "--typology", "kz2020"], capsys
    )
    assert code == 0, err
    cards = json.loads(out)["segments"]
    variables = present(frame, COMPLETE)
    attack = Attack()
    tables(attack, cb, variables, resp.shape[1])
    assert card_equations(attack, cards, cb, variables) > 10
    small = small_cells(frame, cb, resp, variables)
    assert ("size", int(np.argmin(resp.sum(axis=0)))) in small  # the odd 15 have a segment
    assert attack.recovered() & small == set()


def test_the_attack_recovers_cells_from_threshold_only_cards(poll, fitted):
    """The same attack on cards printed from the threshold-only statistics finds the small
    segment's size (one minus the others) and small demographic cells."""
    frame, cb = poll.frame, poll.cb
    model, resp = fitted
    raw = profile_segments(resp, frame, cb, items=model.items)
    from segment.cards.typology import Typology

    typology = Typology.load("kz2020")
    cards = cards_to_dicts(build_cards(raw, cb, name_segments(raw, typology), typology))
    variables = present(frame, COMPLETE)
    attack = Attack()
    tables(attack, cb, variables, resp.shape[1])
    card_equations(attack, cards, cb, variables)
    leaked = attack.recovered() & small_cells(frame, cb, resp, variables)
    assert any(key[0] == "size" for key in leaked)


@pytest.fixture(scope="module")
def report(poll, tmp_path_factory):
    """Run `segment run` on the poll; keep what the report drew and the run's analysis."""
    path = poll.path
    import segment.pipeline
    from segment.report import figures

    drawn: dict[str, list] = defaultdict(list)
    analyses = []
    originals = {
        "demographics_figure": figures.demographics_figure,
        "profile_panel": figures.profile_panel,
        "shares_figure": figures.shares_figure,
    }
    run_analysis = segment.pipeline.run_analysis

    def recording(name):
        def draw(table, *args, **kwargs):
            drawn[name].append(table.copy())
            return originals[name](table, *args, **kwargs)

        return draw

    def analysed(*args, **kwargs):
        analyses.append(run_analysis(*args, **kwargs))
        return analyses[-1]

    mp = pytest.MonkeyPatch()
    for name in originals:
        mp.setattr(figures, name, recording(name))
    mp.setattr(segment.pipeline, "run_analysis", analysed)
    out = tmp_path_factory.mktemp("report") / "report"
    try:
        args = [
            "run", path, "--codebook", CODEBOOK, "--k", "7", "--ks", "none", "--no-map",
            "--listexp", "none", "--typology", "none", "-o", out, "--quiet",
        ]  # fmt: skip
        code = invoke(args)
    finally:
        mp.undo()
    return SimpleNamespace(code=code, out=out, drawn=drawn, analysis=analyses[0])


def test_report_recovers_no_small_cell(poll, report):
    frame, cb = poll.frame, poll.cb
    code, out, drawn, analysis = report.code, report.out, report.drawn, report.analysis
    assert code == 0
    X = cb.model_codes(frame, analysis.model.items)
    resp = analysis.model.estimator.predict_proba(X)
    k = resp.shape[1]
    variables = present(frame, COMPLETE)
    attack = Attack()
    tables(attack, cb, variables, k)
    read = 0
    for shares in drawn["shares_figure"]:
        for r in shares.itertuples():
            if np.isfinite(r.share):
                attack.equation({("size", int(r.segment)): 1.0})
                read += 1
    for table in drawn["demographics_figure"] + drawn["profile_panel"]:
        read += chart_equations(attack, table[table["variable"].isin(variables)], cb)
    assert read > 50
    small = small_cells(frame, cb, resp, variables)
    assert any(key[0] == "size" for key in small)
    assert attack.recovered() & small == set()
    # the report's tables and text print the same sizes (rounded) and no model file
    text = (out / "index.html").read_text("utf-8")
    assert "(shares withheld)" in text and "No model file is saved beside this page" in text
    assert "model.json" not in text
    assert not (out / "model.json").exists()


def test_the_attack_recovers_cells_from_threshold_only_charts(poll, report):
    """Drawn from the threshold-only statistics, the charts give away small cells."""
    frame, cb = poll.frame, poll.cb
    analysis = report.analysis
    raw = analysis.profiles
    resp = analysis.model.estimator.predict_proba(cb.model_codes(frame, analysis.model.items))
    variables = present(frame, COMPLETE)
    attack = Attack()
    tables(attack, cb, variables, resp.shape[1])
    for r in raw.shares.itertuples():
        if np.isfinite(r.share):
            attack.equation({("size", int(r.segment)): 1.0})
    chart_equations(attack, raw.demographics[raw.demographics["variable"].isin(variables)], cb)
    leaked = attack.recovered() & small_cells(frame, cb, resp, variables)
    assert any(key[0] == "size" for key in leaked)
    assert any(key[0] != "size" for key in leaked)


def test_compare_json_recovers_no_small_share(poll, fitted, capsys, tmp_path):
    """Two waves scored with the poll's model: the poll (with its segment of 15) and 300
    respondents of the second wave. Each wave's shares add up to one and a change is
    ``share_2 - share_1``; no share of fewer than 30 respondents follows, and a withheld
    share has no standard error, change, interval or test beside it (each gives it back)."""
    path, frame, cb, model_path = poll.path, poll.frame, poll.cb, poll.model_path
    model = fitted[0]
    wave2 = tmp_path / "wave2.csv"
    pd.read_csv(bundled_path("data", "kz2022_synthetic_wave.csv")).head(300).to_csv(
        wave2, index=False
    )
    code, out, err = run_cli(["compare", model_path, path, wave2, "--format", "json"], capsys)
    assert code == 0, err
    records = json.loads(out)["segments"]
    k = len(records)
    attack = Attack()
    for wave in (1, 2):
        attack.equation({("share", wave, s): 1.0 for s in range(k)})
    for r in records:
        s = r["segment"]
        for wave in (1, 2):
            if r[f"share_{wave}"] is not None:
                attack.equation({("share", wave, s): 1.0})
            if r[f"suppressed_{wave}"]:
                numbers = [f"share_{wave}", f"se_{wave}", "change", "se_change", "ci_low"]
                numbers += ["ci_high", "z", "p_value", "p_holm"]
                assert all(r[key] is None for key in numbers), r
        if r["change"] is not None:
            attack.equation({("share", 2, s): 1.0, ("share", 1, s): -1.0})
    small = set()
    for wave, data in ((1, frame), (2, read_survey(wave2, cb)[0])):
        codes, reasons, used = model.answers(data)
        ok = np.array([r is None for r in reasons]) & (used > 0)
        counts = model.proba_of_codes(codes[ok]).sum(axis=0)
        small |= {("share", wave, s) for s in np.flatnonzero((counts > 0) & (counts < MIN))}
    assert ("share", 1, int(np.argmin(fitted[1].sum(axis=0)))) in small
    assert attack.recovered() & small == set()


def test_fit_prints_no_share_of_a_small_segment(poll, fitted):
    """`segment fit`'s closing line ("Wrote model.json: 7 segments (...)") takes the shares
    from printed_shares: the segment of 15 and one complement read "share withheld"."""
    from segment.segments.fit import printed_shares

    model, resp = fitted
    shares = printed_shares(model, poll.cb.model_codes(poll.frame, model.items))
    counts = resp.sum(axis=0)
    hidden = np.array([s is None for s in shares])
    assert hidden[counts < MIN].all() and hidden.sum() == 2 and counts[hidden].sum() >= MIN
