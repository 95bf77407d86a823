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
3. demographics are drawn from approximate population margins (``<typology>_population.yaml``)
   tilted by the segment's demographic claims ("More urban": urban categories' odds x 1.8);
4. a sample is drawn from a candidate pool with the population file's oversample factors
   (Almaty and Astana), and design weights are the inverse selection factors times a small
   post-stratification-like noise, normalised to mean 1;
5. item non-response (blank and refused) is added independently of the segment.

The true segment of each respondent goes to a separate truth file, for tests only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from segment._files import atomic_write, atomic_write_text
from segment.cards.expected_answers import DEFAULT_SPREAD, item_answer_probs
from segment.cards.typology import Typology
from segment.exceptions import Problem, SegmentError, TypologyError
from segment.survey.codebook import Codebook, Item

from .population import Population, categories

__all__ = ["Population", "SyntheticSurvey", "generate_survey", "write_survey"]

#: Odds multipliers for the strength of a demographic claim.
STRENGTH_ODDS = {"average": 1.0, "slight": 1.3, "moderate": 1.8, "strong": 4.0}
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


def _tilt(typology: Typology, variable: str, cats: Sequence[str]) -> np.ndarray:
    """(segments x categories) odds multipliers from the segments' demographic claims."""
    odds = np.ones((len(typology.segments), len(cats)))
    for k, seg in enumerate(typology.segments):
        for claim in seg.demographic_claims:
            if claim.variable != variable:
                continue
            # the typology schema requires a strength on every demographic claim
            factor = STRENGTH_ODDS[cast(str, claim.strength)]
            for cat in claim.categories:
                odds[k, list(cats).index(cat)] *= factor
    return odds


def _normalise(p: np.ndarray) -> np.ndarray:
    return p / p.sum(axis=-1, keepdims=True)


def _calibrate(odds: np.ndarray, base: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Tilted (segments x categories) distributions whose mixture is still ``base``.

    A segment's claim is comparative ("More urban" = more urban than the population), so the
    odds multipliers are rescaled per category, by iterative proportional fitting, until the
    share-weighted mixture of the segments' distributions reproduces the population margin.
    """
    adjust = np.ones_like(base)
    probs = _normalise(odds * base[None, :])
    for _ in range(500):
        probs = _normalise(odds * (adjust * base)[None, :])
        mixture = weights @ probs
        ratio = np.divide(base, mixture, out=np.ones_like(base), where=mixture > 0)
        adjust *= ratio
        if np.max(np.abs(ratio - 1)) < 1e-10:
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
        odds = _tilt(typology, var, cats)
        if isinstance(spec, tuple):
            _, parent, table = spec
            grand, parent_probs = tables[parent]
            if grand is not None:
                raise SegmentError(
                    f"population variable {var!r}: its parent {parent!r} "
                    "must not depend on another variable"
                )
            rows = []
            for g, pcat in enumerate(categories(inst[parent])):
                base = np.array([table[pcat].get(c, 0.0) for c in cats])
                seg_given_parent = _normalise(shares * parent_probs[:, g])
                rows.append(_calibrate(odds, base, seg_given_parent))
            tables[var] = (parent, np.stack(rows, axis=1))
        else:
            base = np.array([spec.get(c, 0.0) for c in cats])
            tables[var] = (None, _calibrate(odds, base, shares))
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
    data_csv = survey.data.to_csv(index=False, lineterminator="\n")
    truth_csv = survey.truth.to_csv(index=False, lineterminator="\n")
    codebook_yaml = survey.codebook.to_yaml()

    def write_data(p: Path) -> None:
        """Write the respondent file to ``p`` (UTF-8, ``\\n`` newlines)."""
        p.write_text(data_csv, encoding="utf-8", newline="\n")

    atomic_write(paths["data"], write_data)
    atomic_write_text(paths["codebook"], codebook_yaml)
    atomic_write_text(paths["truth"], truth_csv)
    return paths
