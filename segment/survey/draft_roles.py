"""Roles of the columns of a drafted codebook: ids, weights, design, demographics, politics.

Used by :mod:`segment.survey.draft`. Columns are recognised by the names (and, in SPSS / Stata
files, the variable labels) of the big surveys' codebooks, each checked against the data:

- **ids** (:func:`find_id`): a column is the respondent id only if it is unique and never blank;
  when ids restart in each wave, year or country of a pooled file the id is composite
  (``id: [year, id]``);
- **weights** (:func:`find_weight`): never a constant column (a constant weighs nothing), never
  a selection probability or a population-size weight used alone (ESS ``pweight``, EVS/WVS
  ``S019``), and in each survey its recommended weight first;
- **design** (:func:`find_design`): stratum, PSU and fpc columns, with ``lonely_psu: adjust``
  when a stratum holds one PSU and ``nest: true`` when PSU labels restart in each stratum;
- **administrative and derived columns** (:func:`ignored_reason`): row names, constants,
  interview dates and times, interviewer numbers, sums of other items;
- **profile variables** (:func:`profile_role`): demographics, party id, vote, political interest
  and knowledge, media use.

Sources of the names: ESS data documentation (rounds 1-10: ``idno``, ``cntry``, ``essround``,
``dweight``, ``pspwght``, ``pweight``, ``anweight``, ``stratum``, ``psu``, ``agea``, ``gndr``,
``eduyrs``, ``eisced``, ``hinctnta``, ``brncntr``, ``uempla``, ``mnactic``, ``polintr``,
``prtv*``, ``prtcl*``, ``lrscale``, ``domicil``, ``inwyys`` .. ``inwtm``); the GSS codebook
(``year``, ``id``, ``wtssall``, ``wtssps``, ``wtssnr``, ``vstrat``, ``vpsu``, ``age``, ``sex``,
``race``, ``educ``, ``degree``, ``income``, ``rincome``, ``realinc``, ``region``, ``xnorcsiz``,
``wrkstat``, ``marital``, ``partyid``, ``polviews``, ``vote16``, ``pres16``, ``news``); the WVS
wave 7 and EVS/WVS integrated codebooks (``D_INTERVIEW``, ``W_WEIGHT``, ``S003``, ``S006``,
``S017``, ``S018``, ``S019``, ``S020``, ``X001`` sex, ``X003`` age, ``X025`` education,
``X047`` income, ``Q260`` sex, ``Q262`` age, ``Q275`` education, ``Q288`` income, ``E033`` and
``Q240`` left-right); Afrobarometer (``RESPNO``, ``withinwt``, ``combinwt``, ``URBRUR``,
``REGION``); the Central Asia Barometer (``ID``, ``WEIGHT``); CSES module 5 (``IMD1005`` case id,
``IMD1010_1`` .. ``_3`` sample, demographic and political weights, ``IMD2001_1`` age,
``IMD2002`` gender, ``IMD2003`` education, ``IMD2006`` income, ``IMD3006`` left-right); ANES 2020
(``V200001`` case id, ``V200010a`` / ``V200010b`` pre / post weights, ``V200010c`` variance
unit, ``V200010d`` variance stratum); CCES / CES (``caseid``, ``commonweight``,
``commonpostweight``, ``birthyr``, ``gender``, ``educ``, ``race``, ``faminc``, ``pid3``,
``pid7``, ``ideo5``, ``inputstate``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .cells import as_float, blank_cells
from .design_columns import check_design

__all__ = [
    "Design",
    "Profile",
    "dummy_labels",
    "find_design",
    "find_id",
    "find_weight",
    "ideology_item",
    "ignored_reason",
    "name_key",
    "profile_role",
]


def name_key(column: str) -> str:
    """Lower-case column name with separators as ``_`` (``economic.cond.national``: same)."""
    return re.sub(r"[^0-9a-z]+", "_", str(column).lower()).strip("_")


def _tokens(column: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", str(column))
    return [t for t in re.split(r"[^0-9a-z]+", spaced.lower()) if t]


def _text_cells(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip()


def _is_unique(frame: pd.DataFrame, columns: Sequence[str]) -> bool:
    """Whether ``columns`` together are never blank and unique in every row."""
    blank = np.zeros(len(frame), dtype=bool)
    for c in columns:
        blank |= blank_cells(frame[c])
    if blank.any():
        return False
    key = pd.DataFrame({c: _text_cells(frame[c]) for c in columns})
    return not bool(key.duplicated().any())


def _is_constant(series: pd.Series) -> bool:
    return _text_cells(series).dropna().nunique() <= 1


# ----------------------------------------------------------------------------- ids
#: Respondent id names (ESS idno; GSS id; Afrobarometer RESPNO; WVS 7 D_INTERVIEW; EVS/WVS
#: S006; CSES IMD1005; ANES 2020 V200001; CCES caseid; Qualtrics ResponseId; common names).
ID_NAMES = (
    "idno", "id", "resp_id", "respid", "respno", "respondent", "respondent_id", "caseid",
    "case_id", "serial", "interview_id", "d_interview", "s006", "imd1005", "v200001",
    "responseid", "response_id", "uniqueid", "record_id",
)  # fmt: skip
#: Columns a pooled file's ids restart in (GSS year; ESS cntry, essround; EVS/WVS S002, S003,
#: S020; WVS 7 B_COUNTRY; common names).
WAVE_NAMES = (
    "year", "wave", "round", "essround", "cntry", "country", "s020", "s002", "s002evs",
    "s003", "b_country", "survey", "study",
)  # fmt: skip


def find_id(frame: pd.DataFrame) -> tuple[str | tuple[str, ...] | None, str]:
    """The respondent id (a column, or the columns of a composite id) and why.

    Returns ``(None, why)`` when no id-named column is unique, alone or with a wave column.
    """
    keys = {name_key(c): str(c) for c in frame.columns}
    named = [keys[n] for n in ID_NAMES if n in keys]
    waves = [keys[n] for n in WAVE_NAMES if n in keys]
    for col in named:
        if _is_unique(frame, [col]):
            return col, f"{col} - respondent id (a known id name, unique and never blank)"
    for col in named:
        for wave in waves:
            if wave != col and _is_unique(frame, [wave, col]):
                return (wave, col), (
                    f"[{wave}, {col}] - {col} repeats across {wave} (a pooled file), the pair "
                    "is unique: a composite id"
                )
        for i, a in enumerate(waves):
            for b in waves[i + 1 :]:
                if col not in (a, b) and _is_unique(frame, [a, b, col]):
                    return (a, b, col), f"[{a}, {b}, {col}] - unique together: a composite id"
    if named:
        also = ", ".join(waves) or "no wave column"
        return None, f"no id: {', '.join(named)} repeat or are blank (also with {also})"
    return None, "no id: no column with a known respondent-id name"


# ----------------------------------------------------------------------------- weights
@dataclass(frozen=True)
class _WeightName:
    name: str
    rank: int
    what: str


_WEIGHTS = tuple(
    _WeightName(n, r, w)
    for r, (n, w) in enumerate(
        [
            ("pspwght", "ESS post-stratification weight (includes the design weight)"),
            ("anweight", "ESS analysis weight (pspwght x pweight)"),
            ("dweight", "ESS design weight (no post-stratification)"),
            ("wtssps", "GSS post-stratified weight (2021 on)"),
            ("wtssnr", "GSS weight with non-response adjustment"),
            ("wtssall", "GSS weight (1972-2018)"),
            ("wtss", "GSS weight"),
            ("withinwt", "Afrobarometer within-country weight"),
            ("combinwt", "Afrobarometer combined (cross-country) weight"),
            ("w_weight", "WVS weight"),
            ("s017", "EVS/WVS weight"),
            ("s018", "EVS/WVS equilibrated weight"),
            ("imd1010_2", "CSES demographic weight"),
            ("imd1010_1", "CSES sample weight"),
            ("imd1010_3", "CSES political weight"),
            ("v200010b", "ANES 2020 post-election weight"),
            ("v200010a", "ANES 2020 pre-election weight"),
            ("commonpostweight", "CCES post-election weight"),
            ("commonweight", "CCES weight"),
            ("final_weight", "final weight"),
            ("finalwt", "final weight"),
            ("wt_final", "final weight"),
            ("weight", "survey weight"),
            ("weights", "survey weight"),
            ("wgt", "survey weight"),
            ("wght", "survey weight"),
            ("wt", "survey weight"),
            ("w", "survey weight"),
            ("design_weight", "design weight"),
            ("pweight", "sampling weight (Stata's pweight)"),
        ]
    )
)
#: Weight-like columns that are not a respondent's weight.
_NOT_WEIGHTS = {
    "prob": "ESS selection probability (the design weight is its inverse), not a weight",
    "s019": "EVS/WVS population-size weight: equal within a country, used only with S017",
}
#: ESS files: pweight is the population-size weight (constant within a country).
_ESS_MARKERS = ("pspwght", "dweight", "anweight")


def _weight_values(series: pd.Series) -> np.ndarray | None:
    values, bad = as_float(series)
    if bad.any() or np.isnan(values).any() or not np.all(np.isfinite(values)):
        return None
    if not np.all(values > 0):
        return None
    return values


def find_weight(frame: pd.DataFrame) -> tuple[str | None, str, dict[str, str]]:
    """The weight column, why, and why each other weight-like column is not the weight.

    ESS files: ``pspwght`` (post-stratification, includes the design weight) before ``dweight``;
    ``anweight`` first when the file holds several countries (ESS's advice for cross-country
    analysis; within one country it is ``pspwght`` times a constant); ``pweight`` never (the
    population-size weight is constant within a country). A constant column is never a weight.
    """
    keys = {name_key(c): str(c) for c in frame.columns}
    ess = any(m in keys for m in _ESS_MARKERS)
    several_countries = "cntry" in keys and not _is_constant(frame[keys["cntry"]])
    candidates: list[tuple[int, str, str]] = []
    rejected: dict[str, str] = {}
    for key, col in keys.items():
        if key in _NOT_WEIGHTS:
            rejected[col] = _NOT_WEIGHTS[key]
            continue
        known = next((w for w in _WEIGHTS if w.name == key), None)
        if known is None and not re.search(r"(^|_)(weight|wght|wgt|wt)(_|$)|weight$", key):
            continue
        rank = known.rank if known else len(_WEIGHTS)
        what = known.what if known else "a weight by its name"
        if ess and key == "pweight":
            rejected[col] = "ESS population-size weight (constant within a country): not used"
            continue
        if ess and key == "anweight" and several_countries:
            rank = -1
            what = "ESS analysis weight (pspwght x pweight), for a file of several countries"
        values = _weight_values(frame[col])
        if values is None:
            rejected[col] = f"{what}: not a positive number in every row"
        elif np.all(values == values[0]):
            rejected[col] = f"{what}: constant ({values[0]:g} in every row), weighs nothing"
        else:
            candidates.append((rank, col, what))
    if not candidates:
        return None, "no weight: no usable column with a weight name (unweighted)", rejected
    candidates.sort()
    _, col, what = candidates[0]
    for _, other, other_what in candidates[1:]:
        rejected[other] = f"{other_what}: not used (the weight is {col})"
    return col, f"{col} - {what}", rejected


# ----------------------------------------------------------------------------- design
_STRATA = ("stratum", "strata", "strat", "vstrat", "v200010d", "stratum_id", "strata_id")
_PSU = ("psu", "vpsu", "cluster", "clust", "v200010c", "psu_id", "cluster_id")
_FPC = ("fpc",)


@dataclass(frozen=True)
class Design:
    """Sampling-design columns found, the design block's options and why."""

    columns: Mapping[str, str] = field(default_factory=dict)
    lonely_psu: str | None = None
    nest: bool = False
    why: tuple[str, ...] = ()

    def to_yaml(self) -> dict:
        out: dict = dict(self.columns)
        if self.lonely_psu is not None:
            out["lonely_psu"] = self.lonely_psu
        if self.nest:
            out["nest"] = True
        return out


def find_design(frame: pd.DataFrame, taken: set[str]) -> Design:
    """Strata, PSU and fpc columns by name (ESS stratum / psu; GSS vstrat / vpsu; ANES 2020)."""
    keys = {name_key(c): str(c) for c in frame.columns if str(c) not in taken}
    found: dict[str, str] = {}
    why = []
    for role, names in (("strata", _STRATA), ("psu", _PSU), ("fpc", _FPC)):
        col = next((keys[n] for n in names if n in keys), None)
        if col is None:
            continue
        s = frame[col]
        if blank_cells(s).any():
            why.append(f"{col} is named like a {role} column but has blank cells: not used")
            continue
        if role != "fpc" and _is_constant(s):
            why.append(f"{col} is named like a {role} column but is constant: not used")
            continue
        found[role] = col
        n = _text_cells(s).nunique()
        why.append(f"{role}: {col} ({n} different values)")
    if not found:
        return Design()
    problems = check_design(
        strata=frame[found["strata"]] if "strata" in found else None,
        psu=frame[found["psu"]] if "psu" in found else None,
        fpc=frame[found["fpc"]] if "fpc" in found else None,
        columns=found,
    )
    nest = any("a PSU must lie in one stratum" in p.message for p in problems)
    if nest:
        why.append("PSU labels repeat in several strata: nest: true (labels restart per stratum)")
        problems = check_design(
            strata=frame[found["strata"]],
            psu=frame[found["psu"]],
            fpc=frame[found["fpc"]] if "fpc" in found else None,
            columns=found,
            nest=True,
        )
    lonely = None
    if any("single PSU" in p.message for p in problems):
        lonely = "adjust"
        n = sum("single PSU" in p.message for p in problems)
        why.append(
            f"{n} strata hold a single PSU: lonely_psu: adjust (centred at the grand mean, "
            "conservative)"
        )
    remaining = check_design(
        strata=frame[found["strata"]] if "strata" in found else None,
        psu=frame[found["psu"]] if "psu" in found else None,
        fpc=frame[found["fpc"]] if "fpc" in found else None,
        columns=found,
        nest=nest,
        lonely_psu=lonely or "fail",
    )
    if remaining and "fpc" in found:
        why.append(f"{found.pop('fpc')} is not a consistent fpc: not used")
    return Design(found, lonely, nest, tuple(why))


# ----------------------------------------------------------------------------- ignored
_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?(\.\d+)?Z?([+-]\d{2}:?\d{2})?)?$|"
    r"^\d{1,2}[./]\d{1,2}[./]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?)?$|^\d{1,2}:\d{2}(:\d{2})?$"
)
#: Administrative columns: interview dates and times (ESS inwyys, inwmms, inwdds, inwshh,
#: inwsmm, inwyye .. inwtm, inwds, inwde; GSS dateintv, intid), interviewer numbers (ESS intnum,
#: GSS intid), file editions (ESS edition, proddate, name).
_ADMIN = re.compile(
    r"^(inw[a-z]*|intnum|intid|interviewer(_id)?|dateintv|date|start_?time|end_?time|"
    r"duration|edition|proddate|name|idate|int_date|interview_date|supqdat[a-z]*)$"
)
_ROW_NAMES = ("rownames", "row_names", "x", "unnamed_0", "", "v1", "_1", "index")
_DERIVED = re.compile(r"^(sum|total|tot|mean|avg|score|index|count)_?([a-z]\w*)$")


def ignored_reason(frame: pd.DataFrame, column: str, prefixes: Sequence[str]) -> str | None:
    """Why ``column`` is drafted as ``role: ignored``, or None.

    ``prefixes`` are the name prefixes shared by groups of columns (``nat`` of GSS ``nat*``):
    ``sumnat`` (a name starting with sum/total/mean/score and a prefix of such a group) is a sum
    of those items, derived, not an answer.
    """
    s = frame[column]
    key = name_key(column)
    text = _text_cells(s).dropna()
    text = text[text != ""]
    if text.empty:
        return "every cell is blank"
    if key in _ROW_NAMES:
        values, bad = as_float(s)
        if not bad.any() and not np.isnan(values).any() and np.all(np.diff(values) > 0):
            return "row names written by R or pandas (increasing numbers), not a respondent id"
    if text.nunique() == 1:
        what = "country code" if key in ("cntry", "country", "s003", "b_country") else "value"
        return f"constant: the same {what} ({text.iloc[0]!r}) in every row"
    if _ADMIN.match(key):
        return "interview date, time or interviewer (administrative)"
    sample = text.iloc[: min(len(text), 200)]
    if sample.str.match(_DATE).mean() > 0.9:
        return "dates or times (administrative)"
    m = _DERIVED.match(key)
    if m:
        rest = m.group(2)
        if any(rest.startswith(p) or p.startswith(rest) for p in prefixes if len(p) >= 2):
            return f"derived: a {m.group(1)} of other items (the {rest!r} items), not an answer"
    return None


# ----------------------------------------------------------------------------- profile
@dataclass(frozen=True)
class Profile:
    """A profile variable: its domain, what it measures, a short phrase, whether unordered."""

    domain: str
    measures: str | None
    short: str | None
    nominal: bool
    why: str


#: (name pattern, domain, measures, short phrase, nominal, source). Full matches of the name.
_PROFILE_NAMES: tuple[tuple[str, str, str | None, str | None, bool, str], ...] = (
    (r"agea|age|age_?years|x003|q262|imd2001_1", "demographics", "age", "age in years", False,
     "age (ESS agea, GSS/BEPS age, EVS/WVS X003, WVS Q262, CSES IMD2001_1)"),
    (r"yrbrn|birthyr|birth_?year|year_?of_?birth|yob|x002|q261", "demographics",
     "year of birth", "year of birth", False, "year of birth (ESS yrbrn, CCES birthyr)"),
    (r"gndr|sex|gender|female|male|x001|q260|imd2002|q101", "demographics", None, "gender", True,
     "gender (ESS gndr, GSS sex, CCES gender, EVS/WVS X001, WVS Q260, CSES IMD2002)"),
    (r"eduyrs", "demographics", "education", "years of full-time education", False,
     "education (ESS eduyrs: years of full-time education completed)"),
    (r"educ|edu_?years|years_?of_?education|yrs_?educ", "demographics", "education", None,
     False, "education (GSS educ: highest year of school completed; CCES educ: level)"),
    (r"eisced|edulvl[a-z]*|degree|educ_?level|education|edlevel|x025|q275|imd2003",
     "demographics", "education", "education", False,
     "education level (ESS eisced, GSS degree, EVS/WVS X025, WVS Q275, CSES IMD2003)"),
    (r"hinctnta|hinctnt|income\d*|rincome|rincom\d*|realinc|coninc|faminc\w*|x047\w*|q288\w*|"
     r"imd2006", "demographics", "income", "income", False,
     "income (ESS hinctnta: household net income decile; GSS income, rincom16, realinc; CCES "
     "faminc; EVS/WVS X047; WVS Q288; CSES IMD2006)"),
    (r"race\w*|ethnic\w*|hispanic|racecen\d", "demographics", None, "race or ethnicity", True,
     "race / ethnicity (GSS race, hispanic; CCES race)"),
    (r"region|regunit|inputstate|state|province|oblast|x048\w*|regio|city|town|district",
     "demographics", None,
     "region", True, "region (ESS, GSS, Afrobarometer region; CCES inputstate)"),
    (r"domicil|xnorcsiz|srcbelt|size|urbrur|urban|rural|settlement|settle\w*", "demographics",
     "rurality", "place of residence", False,
     "size of place (ESS domicil, GSS xnorcsiz / srcbelt, Afrobarometer URBRUR)"),
    (r"brn\w*|born|q263|native", "demographics", None, "born in the country", True,
     "country of birth (ESS brncntr and brn*, GSS born, WVS Q263)"),
    (r"uempla", "demographics", None, "unemployed", True,
     "unemployed, actively looking for a job (ESS uempla)"),
    (r"uempl\w*|mnactic|pdwrk|wrkstat|employ\w*|x028|q279|work_?status", "demographics", None,
     "work status", True, "work status (ESS uempla, mnactic; GSS wrkstat; EVS/WVS X028; WVS Q279)"),
    (r"marsts|marital\w*|maritalb|marstat|x007|q273", "demographics", None, "marital status",
     True, "marital status (ESS marsts, GSS marital, EVS/WVS X007, WVS Q273)"),
    (r"rlgblg|rlgdnm|relig|religion", "demographics", None, "religion", True,
     "religion (ESS rlgblg, rlgdnm; GSS relig)"),
    (r"hhmmb|hompop|childs|children|hh_?size|household_?size", "demographics", None,
     "household", False, "household (ESS hhmmb, GSS hompop, childs)"),
    (r"lnghom\d|language|lang", "demographics", None, "language", True, "language (ESS lnghom1)"),
    (r"isco\w*|occ\d*|occup\w*|occupation|class", "demographics", None, "occupation or class",
     True, "occupation (ESS isco08, GSS occ10, class)"),
    (r"cntry|country|s003|b_country", "demographics", None, "country", True,
     "country (ESS cntry, EVS/WVS S003, WVS B_COUNTRY)"),
    (r"partyid|pid\d?|party|prtcl\w*|clsprty|prtdgcl|party_?id", "politics", None, "party",
     True, "party identification (GSS partyid, ANES/CCES pid3 / pid7, ESS prtcl*, clsprty)"),
    (r"vote|voted|vote\d+|pres\d+|prtv\w*|turnout|vote_?choice|vote_?intention", "politics",
     None, "vote", True, "vote (ESS vote and prtv*, GSS vote16 / pres16, BEPS vote)"),
    (r"polintr|polint|pol_?interest|political_?interest|interest", "politics", "interest",
     "interest in politics", False, "political interest (ESS polintr)"),
    (r"political_?knowledge|polknow|pol_?knowledge|knowledge", "politics", "knowledge",
     "political knowledge", False, "political knowledge (BEPS political.knowledge)"),
    (r"news\w*|nwspol|netusoft|netustm|tvtot|tvpol|media_?use", "background", None,
     "news use", False, "news and media use (GSS news, ESS nwspol / netusoft / tvtot)"),
    (r"attend|rlgatnd|pray\w*", "background", None, "religious attendance", False,
     "religious attendance (GSS attend, ESS rlgatnd)"),
)  # fmt: skip
#: Word starts in the name's words or the variable label that mark a demographic
#: (``age``, not ``engaged``; ``religion``, not ``religious``).
_PROFILE_WORDS = re.compile(
    r"^(age|sex|gender|region|oblast|educ\w*|income\w*|ethnic\w*|race|lang\w*|employ\w*|"
    r"occup\w*|settle\w*|urban|rural|religion|marri\w*|marital|news\w*|children|nationality)$"
)
#: Names of a vote on an issue (a referendum), which is an opinion, not a party vote.
_ISSUE_WORDS = {
    "eu", "europe", "european", "brexit", "referendum", "ref", "indyref", "independence",
    "membership", "join", "leave", "remain", "euref", "nato", "union",
}  # fmt: skip
#: Ideology self-placement (GSS polviews, ESS lrscale, CCES ideo5, EVS/WVS E033, WVS Q240,
#: CSES IMD3006): an attitude in the battery's format, else a profile variable.
_IDEOLOGY = re.compile(
    r"^(polviews|lrscale|ideo\d?|ideology|libcon|lib_?con|left_?right|lr|lrself|e033|q240|"
    r"imd3006)$"
)


#: Labels (0, 1) of known 0/1 dummies: gender, born in the country (ESS brn*: 1 = born in the
#: country), unemployed and looking for work (ESS uempla), interested in politics.
_DUMMIES = (
    (r"female", ("Male", "Female")),
    (r"male", ("Female", "Male")),
    (r"brn\w*|born", ("Born abroad", "Born in the country")),
    (r"uempla", ("Not unemployed", "Unemployed, looking for work")),
    (r"polint\w*", ("Not interested in politics", "Interested in politics")),
)


def dummy_labels(column: str) -> tuple[str, str] | None:
    """Labels of codes 0 and 1 of a known 0/1 dummy (``female``: Male, Female), or None."""
    key = name_key(column)
    return next((labels for p, labels in _DUMMIES if re.fullmatch(p, key)), None)


def ideology_item(column: str) -> bool:
    """Whether ``column`` is a left-right or liberal-conservative self-placement."""
    return bool(_IDEOLOGY.match(name_key(column)))


def profile_role(column: str, label: str | None = None) -> Profile | None:
    """The profile domain and wording of ``column`` by the big surveys' names, or None.

    A vote named after an issue (``eu_vote``, ``brexit_vote``: a referendum) is an opinion and
    gets None; a party vote (``vote``, ``prtvtno``) is a profile variable.
    """
    key = name_key(column)
    words = set(_tokens(column))
    for pattern, domain, measures, short, nominal, source in _PROFILE_NAMES:
        if re.fullmatch(pattern, key):
            return Profile(domain, measures, short, nominal, f"{source}: profile")
    if "vote" in words or "voted" in words:
        if words & _ISSUE_WORDS:
            return None
        return Profile("politics", None, "vote", True, "a vote (party choice): profile")
    if words & {"party", "partisan", "partisanship"}:
        return Profile("politics", None, "party", True, "party identification: profile")
    text_words = [*_tokens(column), *_tokens(label or "")]
    hit = next((w for w in text_words if _PROFILE_WORDS.match(w)), None)
    if hit is not None:
        nominal = not re.match(r"^(age|educ|income)", hit)
        measures = next(
            (m for p, m in (("age", "age"), ("educ", "education"), ("income", "income"))
             if hit.startswith(p)),
            None,
        )  # fmt: skip
        domain = "background" if hit.startswith("news") else "demographics"
        return Profile(domain, measures, hit, nominal, f"the word {hit!r} marks a {domain} item")
    return None
