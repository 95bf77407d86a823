"""The main job, end to end: a poll in, named and profiled segments and their support out.

:func:`run_analysis` chains the package's steps in the order an analyst would take them and
returns everything a report needs (:class:`Analysis`); :mod:`segment.report` writes it out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segment.cards.card import ProfileCard
from segment.cards.profile_stats import SegmentProfiles
from segment.cards.publish import publish_cards
from segment.cards.typology import Typology, typology_fits, typology_for
from segment.cards.wording import build_cards
from segment.models import LatentClassModel
from segment.models.selection import BOOT_N_INIT, N_BOOT, Selection, select_n_components
from segment.report.respondent_map import umap_embedding
from segment.segments.confirm import N_BOOT as N_BOOT_CONFIRM
from segment.segments.confirm import ConfirmatoryFit, confirm_typology
from segment.segments.fit import (
    ModelInputs,
    fit_estimator,
    measurement_estimator,
    name_and_profile,
    segment_model,
    segmentation_inputs,
)
from segment.segments.model import SegmentModel
from segment.segments.support import SegmentSupport, support_by_segment
from segment.survey.codebook import Codebook
from segment.survey.read import read_survey
from segment.survey.summary import MIN_CELL_SIZE, SurveySummary, summarise_survey
from segment.survey.tables import read_table

__all__ = ["STEPS", "Analysis", "ListExperiment", "ListexpResults", "run_analysis"]

#: The steps of :func:`run_analysis`, in order (the CLI's progress display).
STEPS = (
    "validate",
    "choose k",
    "fit",
    "name and profile",
    "confirm typology",
    "map respondents",
    "list experiment",
)


@dataclass(frozen=True)
class ListExperiment:
    """Where a list experiment lives and how it was asked.

    Attributes
    ----------
    path : Path
        Respondent file (CSV, SPSS, Stata, Parquet, Excel).
    count, treat : str
        Columns of the item count and the 0/1 treatment indicator.
    J : int
        Number of control items.
    by : tuple of str
        Columns to estimate support within (e.g. gender, region); those the file lacks are
        skipped.
    weights : str, optional
        Column of survey weights.
    strata, psu : str, optional
        Columns of the sampling design: design-based standard errors for the overall and
        subgroup estimates.
    label : str
        What the sensitive item measures, for the report ("support for CSTO membership").
    published : Path, optional
        A published table of the same experiment (``profiles/jones_smyth_2022_table1.yaml``'s
        format), shown beside the estimates with its inconsistent rows named.
    synthetic : bool
        Whether the file is generated data (the bundled one is).
    """

    path: Path
    count: str = "y"
    treat: str = "treat"
    J: int = 4
    by: tuple[str, ...] = ()
    weights: str | None = None
    label: str = "the sensitive item"
    synthetic: bool = False
    strata: str | None = None
    psu: str | None = None
    published: Path | None = None


@dataclass(frozen=True)
class ListexpResults:
    """List-experiment estimates: overall, by subgroup and by segment.

    ``overall`` and each of ``groups`` hold the fields of
    :data:`segment.listexp.subgroups.ROW_FIELDS` (difference in means, constrained ML, flag,
    headline); ``published`` is the published table beside ours
    (:func:`segment.segments.list_experiment.published_payload`) when ``spec.published`` names
    one. Every number has been through the disclosure rules of
    :mod:`segment.listexp.disclose`; ``withheld`` says why the whole sample's estimates are
    not published (an arm under the minimum cell size), else None (``n`` is then 0 and
    ``design_effect_p`` NaN).
    """

    spec: ListExperiment
    n: int
    overall: dict
    groups: list[dict]
    differences: list[dict]
    design_effect_p: float
    support: SegmentSupport
    n_typed: int
    design: str | None = None
    published: dict | None = None
    withheld: str | None = None


@dataclass(frozen=True)
class Analysis:
    """Everything :func:`run_analysis` found (no respondent-level data but the embedding).

    Attributes
    ----------
    title : str
    data_path : Path
    codebook : Codebook
    summary : SurveySummary
    selection : Selection or None
        Fit statistics by number of segments (None when selection was skipped).
    k : int
    k_reason : str
        Why this number of segments.
    model : SegmentModel
    profiles : SegmentProfiles
        The segments' statistics under the threshold rule, which names, words and the
        confirmatory fit read (:mod:`segment.cards.publish`).
    published : SegmentProfiles or None
        The same statistics as printed, with complementary suppression (every number of the
        report, the terminal and the tables); ``profiles`` when None.
    names : DataFrame
        Match of each segment to the reference typology
        (:func:`segment.cards.naming.name_segments`).
    cards : list of ProfileCard
    embedding : (n, 2) array or None
        UMAP coordinates of the respondents who answered at least one item.
    embedding_labels : (n,) int array or None
        Most likely segment of each embedded respondent.
    listexp : ListexpResults or None
    typology : Typology or None
    seed : int
    min_cell : int
    n_not_asked : int
        Respondents who answered none of the segmentation items (not asked the battery, e.g.
        a split ballot, or every answer missing). They are left out of the model, of its n
        and of the segment sizes and their intervals, and are in no segment: a report says
        "785 respondents were not asked this battery and are not in any segment".
        ``summary.n - n_not_asked`` respondents are in the model.
    measurement : str
        The item model (``nominal``, ``ordinal`` or ``cumulative``).
    confirm : ConfirmatoryFit or None
        The typology's segments fitted and tested one by one
        (:func:`segment.segments.confirm.confirm_typology`); None without a typology or
        with ``confirm=False``. The cards describe the exploratory model (``model``).
    timings : dict of str -> float
        Seconds per step.
    """

    title: str
    data_path: Path
    codebook: Codebook
    summary: SurveySummary
    selection: Selection | None
    k: int
    k_reason: str
    model: SegmentModel
    profiles: SegmentProfiles
    names: pd.DataFrame
    cards: list[ProfileCard]
    embedding: np.ndarray | None
    embedding_labels: np.ndarray | None
    listexp: ListexpResults | None
    typology: Typology | None
    seed: int
    min_cell: int
    n_not_asked: int = 0
    measurement: str = "nominal"
    confirm: ConfirmatoryFit | None = None
    timings: dict[str, float] = field(default_factory=dict)
    published: SegmentProfiles | None = None

    @property
    def synthetic(self) -> bool:
        return bool(self.codebook.synthetic)

    @property
    def printed(self) -> SegmentProfiles:
        """The statistics every output prints: :attr:`published`, else :attr:`profiles`."""
        return self.published if self.published is not None else self.profiles


def _read_listexp(spec: ListExperiment, encoding: str):
    """The list-experiment file with its counts, treatment and weights checked (every problem
    named by file, column, row and value), before anything is fitted."""
    from segment.listexp.files import check_list_file, column_of

    file = str(spec.path)
    frame, _ = read_table(spec.path, encoding=encoding)
    y, t, w = check_list_file(frame, file, spec.count, spec.treat, spec.J, spec.weights)
    for col, option in ((spec.strata, "strata"), (spec.psu, "psu")):
        if col:
            column_of(frame, col, file, option)
    return frame, y, t, w


def _listexp_results(
    spec: ListExperiment,
    data,
    model: SegmentModel,
    *,
    seed: int,
    n_boot: int,
    min_cell: int,
) -> ListexpResults:
    from segment.disclosure import published as published_value
    from segment.listexp.published import load_published_table
    from segment.listexp.subgroups import overall_row, subgroup_table
    from segment.segments.list_experiment import published_payload

    from .listexp import design_effect_test

    frame, y, t, w = data
    design: dict[str, Any] = {}
    if spec.strata or spec.psu:
        design = {
            "strata": frame[spec.strata].to_numpy(dtype=object) if spec.strata else None,
            "psu": frame[spec.psu].to_numpy(dtype=object) if spec.psu else None,
            "random_state": seed,
        }
    overall = overall_row(y, t, J=spec.J, weights=w, min_cell=min_cell, **design)
    by = {
        c: frame[c].astype("string").to_numpy(dtype=object, na_value=None)
        for c in spec.by
        if c in frame.columns
    }
    groups, differences = subgroup_table(y, t, by, J=spec.J, weights=w, min_cell=min_cell, **design)
    support = support_by_segment(
        model,
        frame.assign(**{spec.count: y, spec.treat: t}),
        count=spec.count,
        treat=spec.treat,
        weights=w,
        n_boot=n_boot,
        random_state=seed,
        min_n=min_cell,
        J=spec.J,
    )
    _, reasons, used = model.answers(frame)
    published = None
    if spec.published is not None:
        published = published_payload(load_published_table(spec.published), overall, groups)
    withheld = overall["withheld"]
    return ListexpResults(
        spec=spec,
        n=0 if withheld else int(overall["n"]),
        overall=overall,
        groups=groups,
        differences=differences,
        design_effect_p=float("nan")
        if withheld
        else published_value(design_effect_test(y, t, spec.J).p_value, "p"),
        support=support,
        n_typed=int(((reasons == None) & (used > 0)).sum()),  # noqa: E711 - elementwise
        design=overall.get("design"),
        published=published,
        withheld=withheld,
    )


def run_analysis(
    data: str | Path,
    codebook: str | Path | Codebook | None = None,
    *,
    k: int | None = None,
    ks: Sequence[int] | None = None,
    typology: Typology | str | None = "auto",
    listexp: ListExperiment | None = None,
    measurement: str = "nominal",
    n_init: int = 10,
    n_boot_select: int = N_BOOT,
    n_boot_support: int = 500,
    confirm: bool = True,
    n_boot_confirm: int = N_BOOT_CONFIRM,
    embed: bool = True,
    min_cell: int = MIN_CELL_SIZE,
    random_state: int = 1,
    title: str | None = None,
    encoding: str = "utf-8",
    progress: Callable[[str, str], None] | None = None,
    n_jobs: int | None = None,
) -> Analysis:
    """Run the main job on a survey file.

    Steps (:data:`STEPS`): validate the data against the codebook; choose the number of
    segments with :func:`segment.models.selection.select_n_components` (lowest BIC among stable,
    reportable solutions) unless ``k`` is given; fit the latent class model; name the segments
    against ``typology`` and profile them; with a typology, fit its segments in a confirmatory
    fit and test each against merging with its nearest neighbour
    (:func:`segment.segments.confirm.confirm_typology`); map respondents with UMAP; estimate the
    list experiment overall, by subgroup and by segment (typing its respondents with the model).

    Parameters
    ----------
    data, codebook
        The survey and its codebook (see :func:`segment.read_survey`).
    k : int, optional
        Number of segments; chosen from ``ks`` when omitted.
    ks : sequence of int, optional
        Numbers of segments to compare (the selection table of the report). Default: 2 to 8
        without ``k``; none with ``k`` (no table, and no time spent on it). Given with ``k``,
        the table is computed for ``ks`` and ``k`` and the analyst's ``k`` is used.
    typology : Typology, name, path, "auto", "none" or None
        ``"auto"``: the codebook's ``typology:`` when it fits the codebook, else none
        (:func:`segment.cards.typology.typology_for`).
    listexp : ListExperiment, optional
    measurement : {"nominal", "ordinal", "cumulative"}
        The item model, as ``segment fit --measurement``
        (:func:`segment.segments.fit.fit_segments`), for the comparison of k and the fit.
    n_boot_select, n_boot_support : int
        Bootstrap resamples for stability (per k; the default of ``segment select``, so both
        give the same table) and for support by segment.
    confirm : bool
        Run the confirmatory fit when there is a typology and the survey asks its battery
        (:func:`segment.cards.typology.typology_fits`; the "confirm typology" step).
    n_boot_confirm : int
        Bootstrap samples of each of its merge tests.
    embed : bool
        Compute the UMAP map.
    random_state : int
        Seed of every random step: the same data and seed give the same analysis.
    encoding : str
        Text encoding of CSV input (the survey and the list-experiment file).
    progress : callable(step, message), optional
        Called as each step starts (``message`` "start", or "skipped" for the choose-k step
        with ``k`` and no ``ks``, the map without ``embed``, the confirmatory fit without a
        typology and the list experiment without ``listexp``) and ends ("done"); in between, the
        validate step reports the items it segments on (a line starting "Segmenting on") and
        the choose-k step each fit (short messages such as "k=3 fitted").
    n_jobs : int or None, default=None
        Processes for the comparison of k and the confirmatory bootstrap (1: this process;
        -1: every usable core; None: ``SEGMENT_JOBS``, else every usable core; see
        :func:`segment.models.parallel.resolve_jobs`); the analysis is the same whatever the
        number.

    Raises
    ------
    DataError
        When a segmentation item has fewer than two different answers or fewer than three
        items are usable (:func:`segment.segments.fit.segmentation_inputs`), before any fit.
    """
    timings: dict[str, float] = {}
    step = _step_timer(timings, progress)

    step("validate")
    frame, cb, summary, typology, inputs, listexp_data = _validate(
        data, codebook, typology, listexp, encoding, min_cell
    )
    if progress:
        progress("validate", inputs.describe())
    X, w = inputs.X, inputs.weights

    if ks is None:
        ks = range(2, 9) if k is None else ()
    step("choose k", skipped=k is not None and not ks)  # the analyst's k, nothing to compare
    template = measurement_estimator(cb, inputs.items, measurement)
    selection, k, k_reason = _choose_k(
        X, w, k, ks, n_init, n_boot_select, random_state, progress, template, n_jobs
    )

    step("fit")
    estimator = fit_estimator(
        X,
        cb,
        k,
        sample_weight=w,
        n_init=n_init,
        random_state=random_state,
        measurement=measurement,
    )

    step("name and profile")
    model, profiles, published, names, cards = _name_and_profile(
        estimator, inputs, frame[inputs.asked], cb, typology, min_cell, measurement
    )

    # only a survey that asks the typology's battery, as --typology auto decides
    confirming = typology is not None and confirm and typology_fits(cb, typology)
    step("confirm typology", skipped=not confirming)
    confirmatory = None
    if confirming and typology is not None:
        confirmatory = confirm_typology(
            X,
            frame[inputs.asked],
            cb,
            typology,
            sample_weight=w,
            free=estimator,
            n_boot=n_boot_confirm,
            random_state=random_state,
            min_cell=min_cell,
            n_jobs=n_jobs,
        )

    step("map respondents", skipped=not embed)
    embedding, labels = _map_respondents(estimator, X, embed, random_state)

    step("list experiment", skipped=listexp is None)
    le = None
    if listexp is not None:
        le = _listexp_results(
            listexp,
            listexp_data,
            model,
            seed=random_state,
            n_boot=n_boot_support,
            min_cell=min_cell,
        )
    step("")
    return Analysis(
        title=title or summary.title,
        data_path=Path(data),
        codebook=cb,
        summary=summary,
        selection=selection,
        k=k,
        k_reason=k_reason,
        model=model,
        profiles=profiles,
        published=published,
        names=names,
        cards=cards,
        embedding=embedding,
        embedding_labels=labels,
        listexp=le,
        typology=typology,
        seed=random_state,
        min_cell=min_cell,
        n_not_asked=inputs.n_not_asked,
        measurement=measurement,
        confirm=confirmatory,
        timings=timings,
    )


def _step_timer(
    timings: dict[str, float], progress: Callable[[str, str], None] | None
) -> Callable[..., None]:
    """A ``step(name, skipped=False)`` that times the running step into ``timings`` and
    reports to ``progress``."""
    clock = time.perf_counter()
    step_name = None

    def step(name: str, skipped: bool = False) -> None:
        nonlocal clock, step_name
        now = time.perf_counter()
        if step_name is not None:
            timings[step_name] = now - clock
            if progress:
                progress(step_name, "done")
        clock, step_name = now, name
        if name and progress:
            progress(name, "skipped" if skipped else "start")

    return step


def _validate(
    data: str | Path,
    codebook: str | Path | Codebook | None,
    typology: Typology | str | None,
    listexp: ListExperiment | None,
    encoding: str,
    min_cell: int,
) -> tuple[
    pd.DataFrame,
    Codebook,
    SurveySummary,
    Typology | None,
    ModelInputs,
    tuple | None,
]:
    """The validate step: the survey, its summary, the typology, model inputs, list file."""
    frame, cb = read_survey(data, codebook, encoding=encoding)
    summary = summarise_survey(frame, cb, min_cell=min_cell)
    typology = typology_for(cb, typology)
    inputs = segmentation_inputs(frame, cb, file=str(data))
    listexp_data = _read_listexp(listexp, encoding) if listexp is not None else None
    return frame, cb, summary, typology, inputs, listexp_data


def _choose_k(
    X: pd.DataFrame,
    w: np.ndarray | None,
    k: int | None,
    ks: Sequence[int],
    n_init: int,
    n_boot_select: int,
    random_state: int,
    progress: Callable[[str, str], None] | None,
    template: LatentClassModel | None = None,
    n_jobs: int | None = None,
) -> tuple[Selection | None, int, str]:
    """The choose-k step: the selection table over ``ks`` (and ``k``) and the number of
    segments used."""
    ks = sorted(set(ks) | ({k} if k and ks else set()))
    selection = None
    if ks:
        selection = select_n_components(
            X,
            ks,
            sample_weight=w,
            n_init=n_init,
            n_boot=n_boot_select,
            boot_n_init=BOOT_N_INIT,
            random_state=random_state,
            progress=(lambda msg: progress("choose k", msg)) if progress else None,
            estimator=template,
            n_jobs=n_jobs,
        )
    if k is not None:
        k_reason = f"k = {k} was set by the analyst."
    elif selection is not None:
        k, k_reason = selection.recommended, selection.reason
    else:
        raise ValueError("give k or a non-empty ks to choose it from")
    return selection, k, k_reason


def _name_and_profile(
    estimator: LatentClassModel,
    inputs: ModelInputs,
    frame: pd.DataFrame,
    cb: Codebook,
    typology: Typology | None,
    min_cell: int,
    measurement: str,
) -> tuple[SegmentModel, SegmentProfiles, SegmentProfiles, pd.DataFrame, list[ProfileCard]]:
    """The name-and-profile step: the segment model, its profiles, names and cards (``frame``:
    the respondents in the model)."""
    X, w = inputs.X, inputs.weights
    named = name_and_profile(
        estimator, X, frame, cb, sample_weight=w, typology=typology, min_cell=min_cell
    )
    model = segment_model(
        estimator,
        named,
        X,
        cb,
        sample_weight=w,
        typology=typology,
        measurement=measurement,
        n_not_asked=inputs.n_not_asked,
    )
    profiles, names = named.profiles, named.names
    published = named.published if named.published is not None else profiles
    cards = build_cards(profiles, cb, names if typology is not None else None, typology)
    cards = publish_cards(cards, profiles, published)
    return model, profiles, published, names, cards


def _map_respondents(
    estimator: LatentClassModel, X: pd.DataFrame, embed: bool, random_state: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The map step: UMAP coordinates and most likely segments of the embedded respondents."""
    embedding = labels = None
    if embed and len(X) >= 20:
        embedding, rows = umap_embedding(X, random_state=random_state)
        labels = np.argmax(estimator.predict_proba(X)[rows], axis=1)
    return embedding, labels
