"""Synthetic respondent files generated from a reference typology.

The real polls behind the bundled typology are not public, so the demo and the tests run on a
survey *generated* from it. The generator is a latent class model with known parameters:

1. each respondent's segment ``z`` is drawn from the segment shares;
2. each attitude item is drawn independently given ``z`` (local independence, so a correctly
   specified latent class model is the right model for these data). The typology's expected
   level for that segment and item (see
   :meth:`segment.cards.typology.Typology.expected_levels`) fixes the answer distribution:
   substantive answers come from a normal latent variable with standard deviation ``spread`` on
   the item's 0..1 "more" scale, cut at the midpoints between answer positions, with its centre
   solved so that the mean position equals the level's position; "divided" levels mix two
   latent normals near both ends; the don't-know share is the level's;
3. demographics are drawn per segment as its demographic claims state them, around
   approximate population margins (``<typology>_population.yaml``): an absolute claim ("Mostly
   Kazakhs") gives the named categories ``ABSOLUTE_SHARE`` of the segment, a comparative one
   ("More urban") the population share lifted by ``COMPARATIVE_LIFT``, an average one ("All
   ages") the population share; segments silent on a variable or comparative about it are
   calibrated by iterative proportional fitting (Deming & Stephan 1940) so that the mixture
   keeps the population margins (:func:`_segment_distributions`);
4. a sample is drawn from a candidate pool with the population file's oversample factors
   (Almaty and Astana), and design weights are the inverse selection factors times a small
   post-stratification-like noise, normalised to mean 1;
5. item non-response (blank and refused) is added independently of the segment.

The true segment of each respondent goes to a separate truth file, for tests only.

References
----------
Deming, W. E., & Stephan, F. F. (1940). On a least squares adjustment of a sampled frequency
table when the expected marginal totals are known. *Annals of Mathematical Statistics* 11(4):
427-444.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from segment._escape import csv_frame
from segment._files import atomic_write, atomic_write_text
from segment.cards.expected_answers import DEFAULT_SPREAD, item_answer_probs
from segment.cards.typology import Typology
from segment.exceptions import Problem, SegmentError, TypologyError
from segment.survey.codebook import Codebook, Item

from .population import Population, categories

__all__ = ["Population", "SyntheticSurvey", "generate_survey", "write_survey"]

#: An absolute demographic claim (strength ``strong``: "Mostly X", "Majority X", "Live mostly in
#: megapolises", "Mostly rural") gives the named categories this share of the segment ...
ABSOLUTE_SHARE = 0.70
#: ... and "Vast majority X" this one.
VAST_MAJORITY_SHARE = 0.88
#: A comparative claim ("More X": moderate; "Somewhat younger", "slightly more": slight) gives the
#: named categories the sample's share plus ``points``, or ``ratio`` times it if that is more.
COMPARATIVE_LIFT = {"moderate": (0.16, 1.35), "slight": (0.12, 1.30)}
#: Upper bound of a lifted share.
MAX_LIFTED_SHARE = 0.95
TILT_ITERATIONS = 500
MIXTURE_ITERATIONS = 500
FORMAT_NOTE = "segment.synth/1"


@dataclass
class SyntheticSurvey:
    """A generated survey with its generating parameters.

    Attributes
    ----------
    data : DataFrame
        The respondent file (id, weight, attitude items, demographics).
    codebook : Codebook
    truth : DataFrame
        ``resp_id``, ``segment`` (typology id) and ``segment_name`` of every respondent.
    segment_ids : tuple of str
    population_shares : ndarray
        Segment shares in the population.
    sample_shares : ndarray
        Segment shares expected in the (oversampled) sample.
    item_categories : dict
        For each attitude item, the codes of its model categories (substantive, then don't know).
    item_probs : dict
        For each attitude item, a (segments x categories) array of answer probabilities given
        that the answer is not blank or refused.
    """

    data: pd.DataFrame
    codebook: Codebook
    truth: pd.DataFrame
    segment_ids: tuple[str, ...]
    population_shares: np.ndarray
    sample_shares: np.ndarray
    item_categories: dict[str, np.ndarray]
    item_probs: dict[str, np.ndarray]

    def oracle_log_proba(self, data: pd.DataFrame | None = None) -> np.ndarray:
        """Log posterior segment probabilities under the true generating parameters.

        This is the best any latent class model can do on these data (the Bayes classifier):
        ``log P(z = k | x) = log pi_k + sum_j log P(x_j | z = k) - log-normaliser``, over the
        answered items (blank and refused answers drop out), with ``pi`` the sample shares.
        """
        data = self.data if data is None else data
        codes = self.codebook.model_codes(data, list(self.item_probs))
        log_post = np.tile(np.log(self.sample_shares), (len(codes), 1))
        for col, probs in self.item_probs.items():
            values = codes[col].to_numpy()
            cats = self.item_categories[col]
            idx = np.searchsorted(cats, values)
            idx = np.clip(idx, 0, len(cats) - 1)
            answered = ~np.isnan(values) & (cats[idx] == values)
            log_post[answered] += np.log(probs[:, idx[answered]].T)
        return log_post - logsumexp(log_post, axis=1, keepdims=True)

    def oracle_predict(self, data: pd.DataFrame | None = None) -> np.ndarray:
        """Most likely segment index (into ``segment_ids``) under the true parameters."""
        return np.argmax(self.oracle_log_proba(data), axis=1)


# ---------------------------------------------------------------------------- sampling
def draw_categories(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


@dataclass(frozen=True)
class _Target:
    """One demographic claim of a segment as a target share of its categories (a mask)."""

    mask: np.ndarray
    kind: str  # "absolute", "comparative" or "average"
    share: float = 0.0  # absolute: the share; comparative: unused
    points: float = 0.0
    ratio: float = 1.0

    def value(self, overall: np.ndarray) -> float:
        """The target share given the sample's (mixture's) distribution ``overall``."""
        p = float(overall[self.mask].sum())
        if self.kind == "absolute":
            return self.share
        if self.kind == "average":
            return p
        return min(max(p + self.points, self.ratio * p), MAX_LIFTED_SHARE)


def claim_targets(
    typology: Typology, variable: str, cats: Sequence[str], population_margin: np.ndarray
) -> list[list[_Target] | None]:
    """Per segment, the target shares its claims set on ``variable`` (see ``ABSOLUTE_SHARE``).

    An absolute claim whose categories already hold ``ABSOLUTE_SHARE`` of the population
    ("Kazakh or Russian speakers") sets no target. An average claim without categories ("All
    ages") sets every category to the sample's share.
    """
    out: list[list[_Target] | None] = []
    for seg in typology.segments:
        targets: list[_Target] = []
        claimed = False
        for bullet in seg.bullets:
            for claim in bullet.claims:
                if claim.variable != variable:
                    continue
                claimed = True
                strength = cast(str, claim.strength)  # required by the typology schema
                if strength == "average" and not claim.categories:
                    targets += [
                        _Target(np.arange(len(cats)) == c, "average") for c in range(len(cats))
                    ]
                    continue
                mask = np.isin(np.array(cats), list(claim.categories))
                if strength == "average":
                    targets.append(_Target(mask, "average"))
                elif strength == "strong":
                    vast = re.search(r"\bvast majority\b", bullet.text, re.IGNORECASE)
                    share = VAST_MAJORITY_SHARE if vast else ABSOLUTE_SHARE
                    if population_margin[mask].sum() < share:
                        targets.append(_Target(mask, "absolute", share=share))
                else:
                    points, ratio = COMPARATIVE_LIFT[strength]
                    targets.append(_Target(mask, "comparative", points=points, ratio=ratio))
        out.append(targets if claimed else None)
    return out


def _normalise(p: np.ndarray) -> np.ndarray:
    return p / p.sum(axis=-1, keepdims=True)


def _meet_targets(
    base: np.ndarray, parent_weights: np.ndarray, targets: Sequence[tuple[np.ndarray, float]]
) -> np.ndarray:
    """``base`` (parent categories x categories) tilted until each group holds its target share.

    The tilt multiplies the odds of a target's categories by one factor in every parent row
    (cyclic updates, each exact for its own target in the single-row case), so the segment's
    marginal share of each group, ``parent_weights @ rows``, reaches its target.
    """
    rows = base.copy()
    for _ in range(TILT_ITERATIONS):
        worst = 0.0
        for mask, target in targets:
            share = float(parent_weights @ rows[:, mask].sum(axis=1))
            worst = max(worst, abs(share - target))
            if 0 < share < 1:
                factor = target * (1 - share) / (share * (1 - target))
                rows[:, mask] *= factor
                rows = _normalise(rows)
        if worst < 1e-12:
            break
    return rows


def _segment_distributions(
    targets: Sequence[Sequence[_Target] | None],
    shares: np.ndarray,
    parent_probs: np.ndarray,
    table: np.ndarray,
) -> np.ndarray:
    """(segments x parent categories x categories) P(category | segment, parent category).

    ``parent_probs`` is P(parent category | segment) (one column of ones for a variable without
    a parent), ``table`` the population's P(category | parent category) and ``targets[k]`` the
    target shares of segment ``k`` (None: the segment is silent on the variable). A segment
    silent on the variable or with a comparative claim on it is a common *calibrated* table
    tilted to its targets; the calibrated table is adjusted by iterative proportional fitting
    (per parent category) until the mixture of all segments reproduces the population table,
    as far as the fixed shares allow. Any other segment (absolute or average claims only) is
    the population table tilted to its targets, and is not calibrated.
    """
    k = parent_probs.shape[0]
    calibrate = np.array([t is None or any(x.kind == "comparative" for x in t) for t in targets])
    within = _normalise((shares[:, None] * parent_probs).T).T  # P(segment | parent category)
    margin = (shares @ parent_probs) @ table
    wanted = [[(x.mask, x.value(margin)) for x in t or ()] for t in targets]
    probs = np.stack([_meet_targets(table, parent_probs[s], wanted[s]) for s in range(k)])
    calibrated = table.copy()
    for _ in range(MIXTURE_ITERATIONS if calibrate.any() else 0):
        mixture = np.einsum("kg,kgc->gc", within, probs)
        ratio = np.divide(table, mixture, out=np.ones_like(table), where=mixture > 0)
        calibrated = _normalise(calibrated * ratio)
        previous = probs.copy()
        for s in np.flatnonzero(calibrate):
            probs[s] = _meet_targets(calibrated, parent_probs[s], wanted[s])
        if np.max(np.abs(probs - previous)) < 1e-11:
            break
    return probs


def _demographic_tables(
    typology: Typology, population: Population, shares: np.ndarray
) -> dict[str, tuple[str | None, np.ndarray]]:
    """For each variable: its parent (or None) and P(category | segment[, parent category])."""
    tables: dict[str, tuple[str | None, np.ndarray]] = {}
    inst = typology.instrument
    for var, spec in population.variables.items():
        cats = categories(inst[var])
        if isinstance(spec, tuple):
            _, parent, rows = spec
            grand, parent_probs = tables[parent]
            if grand is not None:
                raise SegmentError(
                    f"population variable {var!r}: its parent {parent!r} "
                    "must not depend on another variable"
                )
            table = np.array(
                [[rows[pcat].get(c, 0.0) for c in cats] for pcat in categories(inst[parent])]
            )
            margin = (shares @ parent_probs) @ table
            targets = claim_targets(typology, var, cats, margin)
            tables[var] = (parent, _segment_distributions(targets, shares, parent_probs, table))
        else:
            base = np.array([[spec.get(c, 0.0) for c in cats]])
            targets = claim_targets(typology, var, cats, base[0])
            ones = np.ones((len(shares), 1))
            tables[var] = (None, _segment_distributions(targets, shares, ones, base)[:, 0, :])
    return tables


def _age_years(rng: np.random.Generator, band_idx: np.ndarray, item: Item) -> np.ndarray:
    years = np.zeros(len(band_idx))
    top = item.max if item.max is not None else 90
    for b, (lo, hi, _) in enumerate(item.bands):
        sel = band_idx == b
        if b == len(item.bands) - 1:
            span = np.minimum(rng.geometric(1 / 10, sel.sum()) - 1, top - lo)
            years[sel] = lo + span
        else:
            years[sel] = rng.integers(int(lo), int(hi) + 1, sel.sum())
    return years


def generate_survey(
    typology: Typology | str | Path = "kz2020",
    n: int = 1500,
    *,
    seed: int = 1,
    population: Population | str | Path | None = None,
    shares: Mapping[str, float] | None = None,
    spread: float = DEFAULT_SPREAD,
) -> SyntheticSurvey:
    """Generate a synthetic respondent file from a typology (see the module docstring).

    Parameters
    ----------
    typology : Typology or path or bundled name
    n : int
        Number of respondents.
    seed : int
        Seed of the random generator; the same inputs and seed give the same survey.
    population : Population or path, optional
        Population margins; default ``<typology name>_population.yaml`` beside the typology.
    shares : mapping, optional
        Segment shares (by segment id) replacing the typology's, e.g. for a second wave.
    spread : float
        Standard deviation of the latent answer variable on the 0..1 scale; larger means more
        overlap between segments.
    """
    typology, population = _load_inputs(typology, n, spread, population)
    inst = typology.instrument
    seg_ids = tuple(s.id for s in typology.segments)
    pop_shares = _segment_shares(typology, shares)
    rng = np.random.default_rng(seed)

    over = population.oversample
    factors_max = max([1.0, *over.get("factors", {}).values()]) if over else 1.0
    pool = math.ceil(n * 2 * factors_max)
    z = draw_categories(rng, np.tile(pop_shares, (pool, 1)))
    tables = _demographic_tables(typology, population, pop_shares)
    demo_idx = _draw_demographics(rng, tables, z)
    z, demo_idx, weight = _select_sample(rng, n, pool, over, inst, z, demo_idx)

    columns: dict[str, np.ndarray] = {}
    id_col = inst.id_columns[0] if inst.id_columns else "resp_id"
    columns[id_col] = np.arange(100001, 100001 + n)
    columns[inst.weight or "weight"] = weight
    nonresp = population.nonresponse
    partial = rng.random(n) < nonresp.get("partial_share", 0.0)
    p_blank = nonresp.get("item_missing", 0.0) + partial * nonresp.get("partial_missing", 0.0)
    attitudes, item_categories, item_probs = _attitude_columns(
        rng, typology, z, n, nonresp, p_blank, spread
    )
    columns.update(attitudes)
    columns.update(_demographic_columns(rng, inst, demo_idx, n, nonresp))
    data = _respondent_frame(columns, inst)
    truth = pd.DataFrame(
        {
            id_col: data[id_col].to_numpy(),
            "segment": np.array(seg_ids)[z],
            "segment_name": np.array([s.name for s in typology.segments])[z],
        }
    )
    sample_shares = _sample_shares(pop_shares, tables, over, inst)
    codebook = _synthetic_codebook(typology, n, seed, shares, spread)
    return SyntheticSurvey(
        data, codebook, truth, seg_ids, pop_shares, sample_shares, item_categories, item_probs
    )


def _load_inputs(
    typology: Typology | str | Path,
    n: int,
    spread: float,
    population: Population | str | Path | None,
) -> tuple[Typology, Population]:
    """Check ``n`` and ``spread``; load the typology and its population margins if need be."""
    if not isinstance(typology, Typology):
        typology = Typology.load(typology)
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise SegmentError(f"n must be a positive integer, got {n!r}")
    if not spread > 0:
        raise SegmentError(f"spread must be positive, got {spread!r}")
    if not isinstance(population, Population):
        if population is None:
            if typology.path is None:
                raise SegmentError("the typology has no file path; pass population=")
            population = Path(typology.path).with_name(f"{typology.name}_population.yaml")
        population = Population.load(population, typology.instrument)
    return typology, population


def _draw_demographics(
    rng: np.random.Generator,
    tables: Mapping[str, tuple[str | None, np.ndarray]],
    z: np.ndarray,
) -> dict[str, np.ndarray]:
    """Category index of every demographic variable, given the segment (and parent category)."""
    demo_idx: dict[str, np.ndarray] = {}
    for var, (parent, probs) in tables.items():
        rows = probs[z] if parent is None else probs[z, demo_idx[parent]]
        demo_idx[var] = draw_categories(rng, rows)
    return demo_idx


def _select_sample(
    rng: np.random.Generator,
    n: int,
    pool: int,
    over: Mapping[str, Any],
    inst: Codebook,
    z: np.ndarray,
    demo_idx: dict[str, np.ndarray],
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Draw ``n`` of the pool with the oversample factors; their segments, demographics, weights."""
    if over:
        var = over["variable"]
        cats = categories(inst[var])
        f_cat = np.array([over["factors"].get(c, 1.0) for c in cats])
        f = f_cat[demo_idx[var]]
    else:
        f = np.ones(pool)
    chosen = np.sort(rng.choice(pool, size=n, replace=False, p=f / f.sum()))
    z = z[chosen]
    demo_idx = {v: idx[chosen] for v, idx in demo_idx.items()}
    noise = rng.lognormal(0.0, 0.2, n)
    weight = noise / f[chosen]
    weight = np.round(weight / weight.mean(), 4)
    return z, demo_idx, weight


def _attitude_columns(
    rng: np.random.Generator,
    typology: Typology,
    z: np.ndarray,
    n: int,
    nonresp: Mapping[str, float],
    p_blank: np.ndarray,
    spread: float,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Answers to every attitude item given the segment, with refused and blank answers."""
    columns: dict[str, np.ndarray] = {}
    item_categories: dict[str, np.ndarray] = {}
    item_probs: dict[str, np.ndarray] = {}
    for item in typology.instrument.attitude_items:
        codes, probs = item_answer_probs(typology, item, spread)
        item_categories[item.column], item_probs[item.column] = codes, probs
        values = codes[draw_categories(rng, probs[z])].astype(float)
        u = rng.random(n)
        if len(item.refused):
            values[u < nonresp.get("refused", 0.0)] = item.refused[0].code
        values[(u >= nonresp.get("refused", 0.0)) & (u < nonresp.get("refused", 0.0) + p_blank)] = (
            np.nan
        )
        columns[item.column] = values
    return columns, item_categories, item_probs


def _demographic_columns(
    rng: np.random.Generator,
    inst: Codebook,
    demo_idx: Mapping[str, np.ndarray],
    n: int,
    nonresp: Mapping[str, float],
) -> dict[str, np.ndarray]:
    """Codes (or years, for a banded item) of every demographic item, with refused answers."""
    columns: dict[str, np.ndarray] = {}
    for item in inst.demographic_items:
        idx = demo_idx[item.column]
        if item.bands:
            values = _age_years(rng, idx, item)
        else:
            values = np.array([lv.code for lv in item.levels], dtype=float)[idx]
            if len(item.refused):
                values[rng.random(n) < nonresp.get("demographic_refused", 0.0)] = item.refused[
                    0
                ].code
        columns[item.column] = values
    return columns


def _respondent_frame(columns: Mapping[str, np.ndarray], inst: Codebook) -> pd.DataFrame:
    """The respondent file: every column but the weight as nullable integers."""
    data = pd.DataFrame(columns)
    for col in data.columns:
        if col != (inst.weight or "weight"):
            data[col] = data[col].astype("Int64")
    return data


def _segment_shares(typology: Typology, shares: Mapping[str, float] | None) -> np.ndarray:
    if shares is None:
        stated = [s.share for s in typology.segments]
        raw = [x for x in stated if x is not None]
        if len(raw) != len(stated):
            raw = [1.0] * len(typology.segments)
    else:
        unknown = sorted(set(shares) - {s.id for s in typology.segments})
        if unknown:
            raise TypologyError(
                "segment shares",
                [
                    Problem(
                        "--shares", "", f"no such segment in typology {typology.name!r}", value=u
                    )
                    for u in unknown
                ],
            )
        raw = [float(shares.get(s.id, 0.0)) for s in typology.segments]
        if any(x < 0 for x in raw) or sum(raw) <= 0:
            raise SegmentError(
                f"segment shares must be non-negative and not all zero, got {dict(shares)}"
            )
    arr = np.asarray(raw, dtype=float)
    return arr / arr.sum()


def _sample_shares(
    pop_shares: np.ndarray, tables: Mapping[str, Any], over: Mapping[str, Any], inst: Codebook
) -> np.ndarray:
    """Expected segment shares in the sample: population shares times E[selection factor | z]."""
    if not over:
        return pop_shares
    var = over["variable"]
    parent, probs = tables[var]
    f = np.array([over["factors"].get(c, 1.0) for c in categories(inst[var])])
    if parent is None:
        mean_f = probs @ f
    else:
        pparent, parent_probs = tables[parent]
        if pparent is not None:
            raise SegmentError("oversampling on a variable two levels deep is not supported")
        mean_f = np.einsum("kg,kgc,c->k", parent_probs, probs, f)
    return _normalise(pop_shares * mean_f)


def _synthetic_codebook(
    typology: Typology, n: int, seed: int, shares: Mapping[str, float] | None, spread: float
) -> Codebook:
    doc = typology.instrument.to_dict()
    command = f"segment synth --typology {typology.name} --n {n} --seed {seed}"
    if shares is not None:
        command += " --shares " + ",".join(f"{k}={v:g}" for k, v in shares.items())
    if spread != DEFAULT_SPREAD:
        command += f" --spread {spread:g}"
    doc["title"] = f"SYNTHETIC survey generated from the {typology.name} typology"
    doc["synthetic"] = True
    doc["note"] = (
        "SYNTHETIC DATA: every respondent was generated by `segment synth` from the reference "
        f"typology {typology.name!r} and approximate population margins; no real person answered. "
        "The real 2020 poll behind the typology is not public. "
        f"Generated with `{command}` ({FORMAT_NOTE}). "
        "Design weights reflect an oversample of Almaty and Astana."
    )
    doc["source"] = typology.title or typology.name
    return Codebook.from_dict(doc, file=f"<synthetic codebook {typology.name}>")


def write_survey(survey: SyntheticSurvey, out_dir: str | Path, stem: str) -> dict[str, Path]:
    """Write ``<stem>.csv``, ``<stem>_codebook.yaml`` and ``<stem>_truth.csv`` atomically."""
    out_dir = Path(out_dir)
    paths = {
        "data": out_dir / f"{stem}.csv",
        "codebook": out_dir / f"{stem}_codebook.yaml",
        "truth": out_dir / f"{stem}_truth.csv",
    }
    data_csv = csv_frame(survey.data).to_csv(index=False, lineterminator="\n")
    truth_csv = csv_frame(survey.truth).to_csv(index=False, lineterminator="\n")
    codebook_yaml = survey.codebook.to_yaml()

    def write_data(p: Path) -> None:
        """Write the respondent file to ``p`` (UTF-8, ``\\n`` newlines)."""
        p.write_text(data_csv, encoding="utf-8", newline="\n")

    atomic_write(paths["data"], write_data)
    atomic_write_text(paths["codebook"], codebook_yaml)
    atomic_write_text(paths["truth"], truth_csv)
    return paths
