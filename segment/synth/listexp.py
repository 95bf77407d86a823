"""A SYNTHETIC list-experiment survey that reproduces Table 1 of Jones & Smyth (2022), PONARS
Eurasia Policy Memo 806.

Jones & Smyth (PONARS Eurasia Policy Memo 806, 2022) report a list experiment on support for
Kazakhstan's CSTO membership: N = 400, J = 4 control items, and the control and treatment means
of the item count for the whole sample and by gender, education, ethnicity and region (Table 1).
The respondent-level data are not public. :func:`generate_table1_survey` builds a respondent file
whose arm means reproduce the table, and that also carries a short battery of the kz2020
segment items so that respondents can be typed into segments:

1. each respondent's 2020 segment is drawn from the kz2020 typology's shares and answers the
   battery from the typology's answer distributions (as :mod:`segment.synth.survey`);
2. gender, education, ethnicity and region are drawn with the table's sample shares
   (respondents outside the printed categories are "other" or missing, as in the memo's note);
3. the sensitive attitude Z (supports CSTO membership) is drawn with a segment-specific
   probability (an assumption: stronger support where trust in Russia and the state is higher),
   the control count Y* ~ Binomial(4, 0.69), and the reported count is Y* + treat * Z;
4. treatment is assigned *before* any answer, by complete randomisation of n / 2 within blocks
   of the table's variables (:func:`blocked_assignment`), independently of the segment, and is
   never changed afterwards;
5. a seeded, deterministic search (simulated annealing) then changes one control count or one
   treated respondent's sensitive answer at a time, keeping every value possible (counts 0..4,
   Z 0/1), until the arm means of every subgroup match the table as closely as the arms' sizes
   allow (a mean over 26 respondents moves in steps of 1/26).

The table is not internally consistent everywhere: the printed support of Kazakhs (42.3%),
Almaty (27.0%) and "All others" (63.6%) differs from treatment minus control by more than
1.5 points; their means are still targeted, but only the consistent rows are promised to
within 0.01.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from segment._escape import csv_frame
from segment._files import atomic_write_text
from segment.cards.typology import Typology
from segment.listexp.published import load_published_table

from .survey import DEFAULT_SPREAD, draw_categories, item_answer_probs

__all__ = [
    "BATTERY",
    "SEGMENT_SUPPORT",
    "TABLE1",
    "Table1Row",
    "generate_table1_survey",
    "write_table1_survey",
]

J = 4


@dataclass(frozen=True)
class Table1Row:
    variable: str | None
    category: str | None
    share: float
    control: float
    treatment: float
    printed_support: float

    @property
    def consistent(self) -> bool:
        """Printed support agrees with treatment minus control within 1.5 points."""
        return abs(100 * (self.treatment - self.control) - self.printed_support) <= 1.5


def _table1_rows() -> tuple[Table1Row, ...]:
    """Table 1 of Jones & Smyth (2022), PONARS Eurasia Policy Memo 806, from the published data
    (``profiles/jones_smyth_2022_table1.yaml``, :func:`segment.listexp.load_published_table`):
    sample share, control mean, treatment mean, printed support %."""
    return tuple(
        Table1Row(
            r.variable,
            r.level,
            round(r.sample_pct / 100, 4),
            float(r.control_text),
            float(r.treatment_text),
            r.support_pct,
        )
        for r in load_published_table().rows
    )


#: The memo's Table 1 as the generator targets it (one source: the published data file).
TABLE1 = _table1_rows()
#: Short battery of kz2020 items carried for typing respondents into segments.
BATTERY = (
    "dem_engaged_parties",
    "gov_religious",
    "ext_threat_western_values",
    "cr_assembly",
    "trust_nur_otan",
    "ext_trust_russia",
    "cr_associate",
    "opt_future",
    "trust_first_president",
    "dem_working",
)
#: Assumed probability of supporting CSTO membership in each 2020 segment.
SEGMENT_SUPPORT = {
    "illiberal_loyalists": 0.80,
    "satisfied_conservatives": 0.70,
    "conflicted_optimists": 0.60,
    "realists": 0.50,
    "disenchanted_democrats": 0.40,
    "angry_liberals": 0.25,
}
#: Weights of the rows in the search's loss. With arms balanced by design the table cannot hold
#: everywhere: at the printed shares, the education rows' treatment means average 3.27 and the
#: region rows' control means at least 2.80, against 3.32 and 2.76 for the whole sample (the
#: memo's arms must have differed in composition). The whole sample, the headline, weighs most;
#: the rows whose printed support is not treatment minus control weigh least.
WHOLE_SAMPLE_WEIGHT = 200.0
INCONSISTENT_ROW_WEIGHT = 0.5
#: Weight of the pull towards ``SEGMENT_SUPPORT`` against the fit to Table 1.
SEGMENT_PULL = 0.1
LEVELS = {
    "gender": ("male", "female"),
    "education": ("secondary_or_less", "university"),
    "ethnicity": ("kazakh", "russian", "other"),
    "region": ("almaty", "astana", "other", None),
}


def _categories(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    shares = {r.category: r.share for r in TABLE1 if r.variable}
    out = {}
    for var, cats in LEVELS.items():
        p = np.array([shares.get(c, 0.0) if c is not None else 0.0 for c in cats])
        rest = 1 - p.sum()
        if rest > 1e-9:
            p[[c in ("other", None) and shares.get(c) is None for c in cats].index(True)] = rest
        counts = np.floor(p * n).astype(int)
        counts[np.argmax(p)] += n - counts.sum()
        values = np.repeat(np.arange(len(cats)), counts)
        out[var] = np.array(cats, dtype=object)[rng.permutation(values)]
    return out


def generate_table1_survey(
    n: int = 400,
    *,
    seed: int = 2022,
    typology: Typology | str = "kz2020",
    iterations: int = 600_000,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The SYNTHETIC Table 1 survey (see the module docstring).

    The search is simulated annealing over single-respondent moves (a control count up or down,
    or the sensitive answer of a treated respondent; the arms are fixed by
    :func:`blocked_assignment` beforehand), with running sums so that each move costs O(1); the
    last fifth of the moves only accepts improvements.

    Returns
    -------
    data : DataFrame
        ``resp_id, y, treat, gender, education, ethnicity, region`` and the battery items
        (kz2020 codes; 8 = don't know).
    truth : DataFrame
        ``resp_id, segment`` (the generating 2020 segment; for tests only).
    """
    t = typology if isinstance(typology, Typology) else Typology.load(typology)
    rng = np.random.default_rng(seed)
    ids = [s.id for s in t.segments]
    shares = np.array([s.share for s in t.segments])
    seg = rng.choice(len(ids), size=n, p=shares / shares.sum())
    cats = _categories(rng, n)
    treat = blocked_assignment(np.random.default_rng([seed, 1]), cats, n)
    groups = np.stack(
        [
            np.ones(n, dtype=bool) if r.variable is None else cats[r.variable] == r.category
            for r in TABLE1
        ],
        axis=1,
    ).astype(float)
    support = np.array([SEGMENT_SUPPORT[i] for i in ids])
    z = (rng.random(n) < support[seg]).astype(int) * treat
    y_star = rng.binomial(J, 0.69, n)
    search = _Table1Search(groups, seg, len(ids), n, support, treat, z, y_star)
    uniform = rng.random((iterations, 3))
    picks = rng.integers(0, n, size=(iterations, 2))
    search.run(uniform, picks, iterations)
    data: dict[str, object] = {
        "resp_id": np.arange(1, n + 1),
        "y": y_star + treat * z,
        "treat": treat,
        "gender": cats["gender"],
        "education": cats["education"],
        "ethnicity": cats["ethnicity"],
        "region": cats["region"],
    }
    for name in BATTERY:
        item = t.instrument[name]
        codes, probs = item_answer_probs(t, item, DEFAULT_SPREAD)
        data[name] = codes[draw_categories(rng, probs[seg])].astype(int)
    truth = pd.DataFrame({"resp_id": data["resp_id"], "segment": np.array(ids, dtype=object)[seg]})
    return pd.DataFrame(data), truth


def blocked_assignment(rng: np.random.Generator, cats: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Treatment (0/1) by complete randomisation of n / 2 within blocks of Table 1's variables.

    The blocks are the cells of gender x education x ethnicity x region; each block's
    respondents are shuffled and alternately assigned, the first arm of each block drawn at
    random, then one treated respondent of an odd block moves to control or back, at random,
    until exactly n // 2 are treated. The assignment uses its own random stream and nothing but
    these pre-treatment variables, so it is independent of the segment and of the answers.
    """
    keys = np.array(["|".join(str(cats[v][i]) for v in LEVELS) for i in range(n)], dtype=object)
    treat = np.zeros(n, dtype=int)
    odd: list[np.ndarray] = []
    for key in sorted(set(keys)):
        members = rng.permutation(np.flatnonzero(keys == key))
        treat[members] = (np.arange(len(members)) + int(rng.integers(2))) % 2
        if len(members) % 2:
            odd.append(members)
    excess = int(treat.sum()) - n // 2
    if excess:
        arm = 1 if excess > 0 else 0
        # odd blocks whose extra respondent is in the over-full arm: move one of each back
        heavy = [m for m in odd if 2 * (treat[m] == arm).sum() > len(m)]
        for b in rng.choice(len(heavy), size=abs(excess), replace=False):
            treat[rng.choice(heavy[b][treat[heavy[b]] == arm])] ^= 1
    return treat


def _row_weight(row: Table1Row) -> float:
    if row.variable is None:
        return WHOLE_SAMPLE_WEIGHT
    return 1.0 if row.consistent else INCONSISTENT_ROW_WEIGHT


class _Table1Search:
    """The simulated-annealing search of :func:`generate_table1_survey`, with running sums.

    The arms are never changed: only control counts and the sensitive answers of treated
    respondents move.

    ``treat``, ``z`` and ``y_star`` are changed in place; the running sums are the item-count
    sums and counts of each arm in every Table 1 row (``sum_c, n_c, sum_t, n_t``) and in every
    segment (``seg_sum, seg_n``), and ``current`` is the loss of the present state.
    """

    def __init__(
        self,
        groups: np.ndarray,
        seg: np.ndarray,
        k: int,
        n: int,
        support: np.ndarray,
        treat: np.ndarray,
        z: np.ndarray,
        y_star: np.ndarray,
    ):
        self.groups, self.seg, self.support = groups, seg, support
        self.treat, self.z, self.y_star = treat, z, y_star
        self.target_c = np.array([r.control for r in TABLE1])
        self.target_t = np.array([r.treatment for r in TABLE1])
        # rows whose printed support contradicts their means weigh less than the others
        self.row_weight = np.tile([_row_weight(r) for r in TABLE1], 2)
        self.sum_c = groups[treat == 0].T @ y_star[treat == 0]
        self.n_c = groups[treat == 0].sum(axis=0)
        self.sum_t = groups[treat == 1].T @ (y_star + z)[treat == 1]
        self.n_t = groups[treat == 1].sum(axis=0)
        # per segment: sum and count of reported counts in each arm (for the pull on segment DiM)
        self.seg_sum = np.zeros((2, k))
        self.seg_n = np.zeros((2, k))
        np.add.at(self.seg_sum, (treat, seg), y_star + treat * z)
        np.add.at(self.seg_n, (treat, seg), 1)
        self.weight = np.bincount(seg, minlength=k) / n
        self.current = self.loss(
            self.sum_c, self.n_c, self.sum_t, self.n_t, self.seg_sum, self.seg_n
        )

    def loss(self, sc, nc, st, nt, ss, sn) -> float:
        """Distance of the arm means from Table 1, plus the pull towards ``SEGMENT_SUPPORT``."""
        dev = np.concatenate([sc / nc - self.target_c, st / nt - self.target_t])
        # squared error, plus a steep hinge that pulls every row inside 0.008 of the table
        hinge = np.maximum(np.abs(dev) - 0.008, 0) ** 2
        table = (self.row_weight * (dev**2 + 50 * hinge)).sum()
        dim = ss[1] / np.maximum(sn[1], 1) - ss[0] / np.maximum(sn[0], 1)
        return float(table + SEGMENT_PULL * (self.weight * (dim - self.support) ** 2).sum())

    def accept(self, new, temperature, u):
        """Metropolis rule: always take an improvement, a worse state with falling probability."""
        return new < self.current or (
            temperature > 0 and u < np.exp((self.current - new) / temperature)
        )

    def run(self, uniform: np.ndarray, picks: np.ndarray, iterations: int) -> None:
        """Propose and accept or reject one move per iteration; the last fifth only improves."""
        greedy_from = int(iterations * 0.8)
        for it in range(iterations):
            temperature = 1e-4 * (1 - it / greedy_from) if it < greedy_from else 0.0
            u_kind, u_step, u_accept = uniform[it]
            i = picks[it, 0]
            ss = self.seg_sum.copy()
            if self.treat[i] == 1 and u_kind < 0.5:
                self.flip_answer(i, u_accept, temperature, ss)
            else:
                self.step_count(i, u_step, u_accept, temperature, ss)

    def flip_answer(self, i, u_accept, temperature, ss) -> None:
        """Flip the sensitive answer of treated respondent ``i``."""
        z, seg = self.z, self.seg
        dz = 1 - 2 * z[i]
        st = self.sum_t + dz * self.groups[i]
        ss[1, seg[i]] += dz
        new = self.loss(self.sum_c, self.n_c, st, self.n_t, ss, self.seg_n)
        if self.accept(new, temperature, u_accept):
            z[i] += dz
            self.sum_t, self.seg_sum, self.current = st, ss, new

    def step_count(self, i, u_step, u_accept, temperature, ss) -> None:
        """Move the control count of respondent ``i`` one up or down, within 0..J."""
        treat, y_star, g_i = self.treat, self.y_star, self.groups[i]
        step = 1 if u_step < 0.5 else -1
        if not 0 <= y_star[i] + step <= J:
            return
        if treat[i] == 0:
            sc, st = self.sum_c + step * g_i, self.sum_t
        else:
            sc, st = self.sum_c, self.sum_t + step * g_i
        ss[treat[i], self.seg[i]] += step
        new = self.loss(sc, self.n_c, st, self.n_t, ss, self.seg_n)
        if self.accept(new, temperature, u_accept):
            y_star[i] += step
            self.sum_c, self.sum_t, self.seg_sum, self.current = sc, st, ss, new


def write_table1_survey(
    data: pd.DataFrame, truth: pd.DataFrame, data_path: str | Path, truth_path: str | Path
) -> None:
    """Write the respondents and their true answers as CSV (each file atomically)."""
    atomic_write_text(data_path, csv_frame(data).to_csv(index=False, lineterminator="\n"))
    atomic_write_text(truth_path, csv_frame(truth).to_csv(index=False, lineterminator="\n"))
