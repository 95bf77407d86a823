"""Draft a codebook from a data file (``segment codebook infer``).

The draft is meant to be used as it is for the common cases and says in YAML comments what it
guessed and why. It is built in three steps, each in a module of its own:

1. the role of each column (:mod:`segment.survey.draft_roles`): the respondent id (composite
   when ids restart per wave), the weight, the sampling design, administrative and derived
   columns (ignored), and profile variables (demographics, politics, media use) by the names of
   the big surveys (ESS, GSS, WVS/EVS, Afrobarometer, Central Asia Barometer, CSES, ANES, CCES);
   every other column with an answer scale is the attitude battery (``role: segmentation``);
2. the answer scale of each column (:mod:`segment.survey.draft_answers`): value labels, text
   answers mapped to codes (``value:``), ordinal scales recognised from their words, don't-know
   and refusal codes from labels and survey conventions; items of one format get one scale;
3. the domains (:mod:`segment.survey.draft_domains`): the battery grouped by name prefix and
   answer scale; demographics, politics and background as profile domains; administrative and
   derived columns in an ignored domain.

:func:`draft_codebook` returns a :class:`Draft` (the codebook and its commented YAML);
:func:`infer_codebook` the codebook alone. The draft always passes its own file
(:meth:`Codebook.check_data` finds nothing): a column the draft cannot describe is kept as an
ignored text item with a comment.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
import yaml

from segment._util import plain_number

from .codebook import Codebook
from .draft_answers import MAX_CATEGORIES, Answer, Answers, merge_answers, read_answers
from .draft_domains import KNOWN_QUESTIONS, KNOWN_SAY, group_domains, name_prefixes
from .draft_roles import (
    Profile,
    dummy_labels,
    find_design,
    find_id,
    find_weight,
    ideology_item,
    ignored_reason,
    name_key,
    profile_role,
)
from .tables import FileMeta

__all__ = ["MAX_CATEGORIES", "Draft", "DraftItem", "draft_codebook", "infer_codebook"]

#: The profile and ignored domains of a draft: (name, label, role).
PROFILE_DOMAINS = {
    "demographics": ("Demographics", "profile"),
    "politics": ("Politics", "profile"),
    "background": ("Background", "profile"),
    "administrative": ("Administrative and derived", "ignored"),
}
#: Cell text R's ``write.csv`` writes for a missing value.
R_NA = "NA"


@dataclass
class DraftItem:
    """One column of the draft: its role, domain, answers and the reasons."""

    column: str
    role: str
    domain: str
    answers: Answers
    question: str
    profile: Profile | None = None
    why: list[str] = field(default_factory=list)
    scale: str | None = None
    domain_label: str = ""
    short: str | None = None
    say: dict[str, str] | None = None

    def fields(self) -> dict[str, Any]:
        """The item's YAML mapping (scale fields inlined unless a named scale holds them)."""
        out: dict[str, Any] = {"column": self.column, "question": self.question}
        out["domain"] = self.domain
        if self.profile is not None and self.profile.short and self.role == "profile":
            out["short"] = self.profile.short
        elif self.short is not None:
            out["short"] = self.short
        if self.say is not None and self.role == "segmentation":
            out["say"] = dict(self.say)
        if self.answers.kind in ("text", "empty"):
            out["type"] = "text"
            return out
        scale = self.answers.scale_fields()
        if self.profile is not None and self.profile.measures and "measures" not in scale:
            scale = {"type": scale["type"], "measures": self.profile.measures, **scale}
        if self.scale is not None:
            out["scale"] = self.scale
        else:
            out.update(scale)
        if self.answers.type == "numeric" and self.profile and self.profile.measures == "age":
            bands = _age_bands(self.answers)
            if bands:
                out["bands"] = bands
        return out


@dataclass
class Draft:
    """A drafted codebook: the validated :class:`Codebook` and the YAML with its reasons."""

    codebook: Codebook
    doc: dict[str, Any]
    items: list[DraftItem]
    comments: dict[str, list[str]]
    title: str

    def to_yaml(self) -> str:
        """The codebook YAML with comments saying what was guessed and why."""
        return _render(self)


def infer_codebook(
    frame: pd.DataFrame, meta: FileMeta | None = None, title: str | None = None
) -> Codebook:
    """Draft a codebook for ``frame`` (see :func:`draft_codebook`).

    Returns
    -------
    Codebook
        A codebook that the same file passes (:meth:`Codebook.check_data` finds nothing).
    """
    return draft_codebook(frame, meta, title).codebook


def draft_codebook(
    frame: pd.DataFrame, meta: FileMeta | None = None, title: str | None = None
) -> Draft:
    """Draft a codebook for ``frame``, with the reasons for every guess.

    Parameters
    ----------
    frame : DataFrame
        The data as read by :func:`segment.survey.tables.read_table` (CSV cells as text).
    meta : FileMeta, optional
        Variable labels, value labels and user-missing codes (SPSS / Stata).
    title : str, optional
        The codebook's title (the file name).

    Returns
    -------
    Draft
        ``draft.codebook`` passes the same file; ``draft.to_yaml()`` is the commented YAML.
    """
    meta = meta or FileMeta()
    title = title or "inferred codebook"
    frame = frame.rename(columns=str)
    comments: dict[str, list[str]] = {}
    missing_text = _r_missing(frame)
    if missing_text:
        comments["missing_text"] = [
            f"missing_text: {R_NA} - cells written by R's write.csv for a missing value"
        ]
    data = _blank(frame, missing_text)
    id_col, id_why = find_id(data)
    weight, weight_why, not_weights = find_weight(data)
    id_cols = [id_col] if isinstance(id_col, str) else list(id_col or [])
    taken = {*id_cols, *([weight] if weight else [])}
    design = find_design(data, taken)
    taken |= set(design.columns.values())
    comments["id"] = [f"id: {id_why}"]
    comments["weight"] = [f"weight: {weight_why}"] + [
        f"  {c} not the weight: {w}" for c, w in not_weights.items()
    ]
    if design.why:
        comments["design"] = [f"design: {w}" for w in design.why]
    columns = [c for c in data.columns if c not in taken]
    items = _draft_items(data, columns, meta, not_weights)
    _assign_domains(items, meta)
    found = sorted({t for it in items for t in it.answers.missing_texts})
    if found:
        missing_text = [*missing_text, *found]
        comments.setdefault("missing_text", []).append(
            "missing_text: " + ", ".join(found) + " - answers that mean not asked, not "
            "eligible or no valid answer (read as blank)"
        )
    scales = _named_scales(items)
    doc = _document(title, id_col, weight, design.to_yaml(), missing_text, items, scales)
    codebook = Codebook.from_dict(doc, file=f"<inferred from {title}>")
    problems = codebook.check_data(frame, file=title)
    if problems:  # a column the draft misread: keep it, as an ignored text item
        bad = {p.where.split(" + ")[0] for p in problems}
        for it in items:
            if it.column in bad:
                it.answers = Answers(kind="text", type="text")
                it.role, it.domain, it.scale = "ignored", "administrative", None
                it.why.append("the drafted codes did not fit every cell: kept as text, ignored")
        scales = _named_scales(items)
        doc = _document(title, id_col, weight, design.to_yaml(), missing_text, items, scales)
        codebook = Codebook.from_dict(doc, file=f"<inferred from {title}>")
    return Draft(codebook, doc, items, comments, title)


# ----------------------------------------------------------------------------- cells
def _r_missing(frame: pd.DataFrame) -> list[str]:
    """``["NA"]`` when a column of numbers holds ``NA`` cells, or any column of a file with R's
    ``rownames`` column does (R's ``write.csv``)."""
    r_file = len(frame.columns) > 0 and name_key(frame.columns[0]) in ("rownames", "")
    for col in frame.columns:
        s = frame[col]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        cells = s.astype("string").str.strip()
        na = (cells == R_NA).fillna(False).to_numpy(bool)
        if not na.any():
            continue
        rest = cells[~na].dropna()
        rest = rest[rest != ""]
        if r_file or rest.empty or pd.to_numeric(rest, errors="coerce").notna().all():
            return [R_NA]
    return []


def _blank(frame: pd.DataFrame, texts: list[str]) -> pd.DataFrame:
    if not texts:
        return frame
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            hit = s.astype("string").str.strip().isin(texts).fillna(False).to_numpy(bool)
            if hit.any():
                out[col] = s.mask(hit)
    return out


# ----------------------------------------------------------------------------- items
def _draft_items(
    data: pd.DataFrame, columns: list[str], meta: FileMeta, not_weights: Mapping[str, str]
) -> list[DraftItem]:
    prefixes = sorted(set(name_prefixes(columns).values()))
    items: list[DraftItem] = []
    for col in columns:
        label = meta.variable_labels.get(col)
        profile = None if ideology_item(col) else profile_role(col, label)
        answers = read_answers(
            data[col],
            labels=meta.value_labels.get(col),
            user_missing=meta.user_missing.get(col, ()),
            nominal=bool(profile and profile.nominal),
        )
        known = KNOWN_QUESTIONS.get(name_key(col))
        question = label or (
            known[0] if known else profile.short.capitalize() if profile and profile.short else col
        )
        item = DraftItem(col, "segmentation", "", answers, question, profile, list(answers.why))
        if known is not None:
            item.short = known[1]
            item.say = KNOWN_SAY.get(name_key(col))
        reason = not_weights.get(col) or ignored_reason(data, col, prefixes)
        if reason is not None:
            item.role, item.domain = "ignored", "administrative"
            item.why.insert(0, reason)
        elif answers.kind in ("text", "empty"):
            item.role, item.domain = "ignored", "administrative"
            item.why.insert(0, "free text, dates or names: not an answer scale")
        elif profile is not None:
            item.role, item.domain = "profile", profile.domain
            item.why.insert(0, profile.why)
            if answers.kind == "numeric":
                if profile.measures == "education" and not profile.short:
                    item.profile = replace(profile, short="years of education")
                    item.question = label or "Years of education"
                short = item.profile.short if item.profile else None
                item.why.append(f"numbers kept numeric: {short or col}")
            elif profile.short is None and profile.measures:
                item.profile = replace(profile, short=profile.measures)
                item.question = label or profile.measures.capitalize()
        elif answers.kind == "numeric":
            item.role, item.domain = "profile", "background"
            item.why.insert(0, "numbers, not an answer scale: described, not segmented on")
        elif not ideology_item(col):
            item.why.insert(0, "an answer scale not named as a profile variable: attitude item")
        items.append(item)
    _ideology(items)
    _merge_formats(items)
    for item in items:
        if item.role == "profile":
            _name_dummy(item)
        if item.role == "ignored":
            item.answers = Answers(kind="text", type="text")
    return items


def _name_dummy(item: DraftItem) -> None:
    """Labels of a known 0/1 dummy (``female``, ESS ``brn*``, ``uempla``, ``polint``)."""
    a = item.answers
    if a.source != "codes" or {x.code for x in a.levels} != {0, 1}:
        return
    labels = dummy_labels(item.column)
    if labels is None:
        return
    zero, one = labels
    item.answers = replace(a, levels=(Answer(zero, 0), Answer(one, 1)))
    item.why.append(f"0/1 dummy named {item.column}: 1 = {one}, 0 = {zero}")


def _format(a: Answers) -> Hashable:
    """What items of one answer scale share: codes from the lowest to the highest, or texts."""
    if a.source == "codes":
        codes = [x.code for x in a.levels if x.code is not None]
        return ("codes", a.type, min(codes), max(codes)) if codes else ("codes", a.type)
    if a.source == "texts" and all(x.rank is not None for x in a.levels):
        return ("ranked", a.measures, a.type, len(a.levels))
    return (a.source, a.type, tuple((x.code, x.label) for x in a.levels))


def _ideology(items: list[DraftItem]) -> None:
    """Left-right self-placement: an attitude when asked in the battery's answer format (ESS
    lrscale, 0-10 like the im* items), else a profile variable (GSS polviews, 1-7 beside the
    -1/0/1 spending items)."""
    for it in items:
        if not ideology_item(it.column) or it.role != "segmentation":
            continue
        fmt = _format(it.answers)
        if any(
            o is not it and o.role == "segmentation" and _format(o.answers) == fmt
            for o in items
            if not ideology_item(o.column)
        ):
            it.why.insert(0, "ideology self-placement in the battery's answer format: attitude")
        else:
            it.role, it.domain = "profile", "politics"
            it.profile = Profile("politics", None, "political views", False, "")
            it.question = it.question if it.question != it.column else "Political views"
            it.why.insert(0, "ideology self-placement, not in the battery's answer format: profile")


def _merge_formats(items: list[DraftItem]) -> None:
    """Items of one format and role get one scale (the union of the codes seen)."""
    groups: dict[Hashable, list[DraftItem]] = {}
    for it in items:
        if it.answers.is_categorical and it.role != "ignored":
            groups.setdefault((it.role, _format(it.answers)), []).append(it)
    for members in groups.values():
        if len(members) < 2:
            continue
        merged = merge_answers([it.answers for it in members])
        for it, a in zip(members, merged, strict=True):
            it.answers = a


# ----------------------------------------------------------------------------- domains, scales
def _assign_domains(items: list[DraftItem], meta: FileMeta) -> None:
    battery = [it for it in items if it.role == "segmentation"]
    formats = {it.column: _format(it.answers) for it in battery}
    domains = group_domains([it.column for it in battery], formats, meta.variable_labels)
    by_col = {it.column: it for it in battery}
    for d in domains:
        for col in d.columns:
            by_col[col].domain = d.name
            by_col[col].why.append(f"domain {d.name}: {d.why}")
    for it in items:
        it.domain_label = next(
            (d.label for d in domains if d.name == it.domain),
            PROFILE_DOMAINS.get(it.domain, (it.domain,))[0],
        )


def _named_scales(items: list[DraftItem]) -> dict[str, dict[str, Any]]:
    """Scales shared by two or more items, named after their codes or words."""
    for it in items:
        it.scale = None
    groups: dict[str, list[DraftItem]] = {}
    for it in items:
        if it.answers.is_categorical:
            key = yaml.safe_dump(_scale_of(it), sort_keys=True)
            groups.setdefault(key, []).append(it)
    scales: dict[str, dict[str, Any]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        fields = _scale_of(members[0])
        name = _scale_name(members[0].answers, scales)
        scales[name] = fields
        for it in members:
            it.scale = name
    return scales


def _scale_of(it: DraftItem) -> dict[str, Any]:
    scale = it.answers.scale_fields()
    if it.profile is not None and it.profile.measures and "measures" not in scale:
        scale = {"type": scale["type"], "measures": it.profile.measures, **scale}
    return scale


def _scale_name(a: Answers, taken: Mapping[str, Any]) -> str:
    codes = [x.code for x in a.levels if x.code is not None]
    if a.source == "codes" and codes:
        lo, hi = min(codes), max(codes)
        base = f"codes_{lo}_to_{hi}".replace("-", "m")
    elif a.measures:
        base = f"{a.measures.replace(' ', '_')}{len(a.levels)}"
    else:
        base = f"{a.type}{len(a.levels)}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def _age_bands(a: Answers) -> list[list[Any]]:
    if a.min is None or a.max is None or a.min >= 35 or a.max < 55:
        return []
    lo, hi = plain_number(a.min), plain_number(a.max)
    return [[lo, 34, f"{lo}-34"], [35, 54, "35-54"], [55, hi, "55+"]]


# ----------------------------------------------------------------------------- the document
def _document(
    title: str,
    id_col: str | tuple[str, ...] | None,
    weight: str | None,
    design: dict[str, Any],
    missing_text: list[str],
    items: list[DraftItem],
    scales: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    used = list(dict.fromkeys(it.domain for it in items))
    order = [d for d in used if d not in PROFILE_DOMAINS] + [
        d for d in PROFILE_DOMAINS if d in used
    ]
    labels = {it.domain: it.domain_label or it.domain for it in items}
    domains = []
    for name in order:
        label, role = PROFILE_DOMAINS.get(name, (labels.get(name, name), "segmentation"))
        if name in PROFILE_DOMAINS:
            label = PROFILE_DOMAINS[name][0]
        domains.append({"name": name, "label": label, "role": role})
    roles = {d["name"]: d["role"] for d in domains}
    entries = []
    for it in items:  # in file order; `domains:` gives the print order
        fields = it.fields()
        if roles[it.domain] != it.role:
            fields = {**dict(list(fields.items())[:3]), "role": it.role, **fields}
        entries.append(fields)
    doc: dict[str, Any] = {
        "schema": "segment.codebook/1",
        "title": title,
        "note": (
            "Drafted by `segment codebook infer`; the comments say what was guessed and why. "
            "Review the roles, domains and special codes before publishing."
        ),
        "languages": ["en"],
        "id": list(id_col) if isinstance(id_col, tuple) else id_col,
        "weight": weight,
    }
    if design:
        doc["design"] = design
    doc["dont_know"] = "keep"
    doc["refused"] = "missing"
    if missing_text:
        doc["missing_text"] = list(dict.fromkeys(missing_text))
    doc["domains"] = domains
    if scales:
        doc["scales"] = scales
    doc["items"] = entries
    return doc


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100)


def _comment(lines: list[str], indent: str = "") -> str:
    return "".join(f"{indent}# {line}\n" for line in lines)


def _render(draft: Draft) -> str:
    doc, comments = draft.doc, draft.comments
    by_col = {it.column: it for it in draft.items}
    n_seg = sum(it.role == "segmentation" for it in draft.items)
    out = [
        _comment(
            [
                f"Codebook drafted by `segment codebook infer` from {draft.title}.",
                f"{n_seg} segmentation items, "
                f"{sum(it.role == 'profile' for it in draft.items)} profile, "
                f"{sum(it.role == 'ignored' for it in draft.items)} ignored; each guess is "
                "explained in a comment.",
            ]
        )
    ]
    for key, value in doc.items():
        if key in ("domains", "scales", "items"):
            continue
        out.append(_comment(comments.get(key, [])))
        out.append(_dump({key: value}))
    out.append("domains:\n")
    for d in doc["domains"]:
        members = [it for it in draft.items if it.domain == d["name"]]
        why = next((w for w in members[0].why if w.startswith(f"domain {d['name']}:")), None)
        note = why.split(": ", 1)[1] if why else f"{len(members)} {d['role']} items"
        out.append(_comment([f"{d['name']}: {note}"], "  "))
        out.append(f"  - {yaml.safe_dump(d, default_flow_style=True, width=200).strip()}\n")
    if "scales" in doc:
        out.append(_comment(["scales shared by items of one answer format"]))
        out.append(_dump({"scales": doc["scales"]}))
    out.append("items:\n")
    for entry in doc["items"]:
        it = by_col[entry["column"]]
        reasons = [w for w in it.why if not w.startswith("domain ")]
        out.append(_comment([f"{it.column}: {it.role} - {'; '.join(reasons) or 'drafted'}"]))
        out.append(_dump([entry]))
    return "".join(out)
