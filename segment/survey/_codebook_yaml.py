"""Parsing, validating and writing the YAML of codebook items (used by
:mod:`segment.survey.codebook`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from segment._util import duplicates, plain_number
from segment.exceptions import Problem

from .items import (
    _SCALE_FIELDS,
    _SLUG,
    MAX_CODE,
    MAX_LEVELS,
    Domain,
    Item,
    Level,
    default_role,
    domain_label,
)


def _index_in(where: str, key: str) -> int | None:
    """``3`` for a location like ``items[3](q1).scale`` when ``key`` is ``items``."""
    m = re.match(rf"^{key}\[(\d+)\]", where)
    return int(m.group(1)) if m else None


def _key_in(where: str, key: str) -> str | None:
    """``agree5`` for a location like ``scales.agree5.levels`` when ``key`` is ``scales``."""
    m = re.match(rf"^{key}\.([A-Za-z0-9_]+)", where)
    return m.group(1) if m else None


def _short_number(value: Any) -> Any:
    """``value``, or its first and last digits when it is too long to print whole."""
    text = str(value)
    return value if len(text) <= 30 else f"{text[:12]}...{text[-6:]} ({len(text)} digits)"


def _text(value: Any) -> tuple[dict[str, str], str | None, str | None, str | None]:
    """(labels by language, name slug, short English phrase, cell text) of a label."""
    if isinstance(value, str):
        return {"en": value}, None, None, None
    value = dict(value)
    name = value.pop("name", None)
    short = value.pop("short", None)
    cell = value.pop("value", None)
    return value, name, short, cell


def _domains(doc: Mapping[str, Any], file: str) -> tuple[dict[str, Domain] | None, list[Problem]]:
    """The declared ``domains:`` by name (None when the codebook declares none)."""
    raw = doc.get("domains")
    if raw is None:
        return None, []
    problems = []
    out: dict[str, Domain] = {}
    for i, d in enumerate(raw):
        if d["name"] in out:
            problems.append(
                Problem(file, f"domains[{i}].name", "domain declared twice", value=d["name"])
            )
            continue
        out[d["name"]] = Domain(
            name=d["name"],
            label=d.get("label") or domain_label(d["name"]),
            role=d.get("role", "segmentation"),
            description=d.get("description"),
        )
    return out, problems


def _item_role(
    raw: Mapping[str, Any], domains: Mapping[str, Domain] | None, file: str, where: str
) -> tuple[str, list[Problem]]:
    """The item's role: its own ``role:``, else its domain's, else the legacy default."""
    domain = raw["domain"]
    if domains is not None and domain not in domains:
        declared = ", ".join(domains) or "none"
        return "ignored", [
            Problem(
                file,
                f"{where}.domain",
                f"domain not declared in `domains:` (declared: {declared})",
                value=domain,
            )
        ]
    if "role" in raw:
        return raw["role"], []
    if domains is not None:
        return domains[domain].role, []
    return default_role(domain), []


def _levels(
    codes: Mapping[Any, Any] | None, file: str, where: str, languages: tuple[str, ...]
) -> tuple[tuple[Level, ...], list[Problem]]:
    problems: list[Problem] = []
    out = []
    for code, raw in (codes or {}).items():
        if abs(int(code)) > MAX_CODE:
            problems.append(
                Problem(
                    file,
                    f"{where}.{code}",
                    f"answer code out of range; expected an integer from {-MAX_CODE:,} to "
                    f"{MAX_CODE:,} (docs/formats.md, Limits)",
                    value=_short_number(code),
                )
            )
            continue
        labels, name, short, cell = _text(raw)
        if name is not None and not _SLUG.match(name):
            problems.append(
                Problem(
                    file, f"{where}.{code}.name", "expected a lower_snake_case slug", value=name
                )
            )
        if "en" not in labels:
            problems.append(Problem(file, f"{where}.{code}", "label has no English ('en') text"))
        for lang in labels:
            if lang not in languages:
                problems.append(
                    Problem(
                        file,
                        f"{where}.{code}",
                        f"language not listed in `languages` {list(languages)}",
                        value=lang,
                    )
                )
        out.append(Level(code=int(code), labels=labels, name=name, short=short, value=cell))
    return tuple(out), problems


def _build_item(
    raw: Mapping[str, Any],
    scales: Mapping[str, Mapping[str, Any]],
    languages: tuple[str, ...],
    file: str,
    where: str,
    domains: Mapping[str, Domain] | None = None,
) -> tuple[Item | None, list[Problem]]:
    role, problems = _item_role(raw, domains, file, where)
    fields: dict[str, Any] = {}
    scale_name = raw.get("scale")
    if scale_name is not None:
        if scale_name not in scales:
            known = ", ".join(sorted(scales)) or "none defined"
            problems.append(
                Problem(
                    file, f"{where}.scale", f"no such scale (defined: {known})", value=scale_name
                )
            )
            return None, problems
        fields.update(scales[scale_name])
    fields.update({k: raw[k] for k in _SCALE_FIELDS if k in raw})
    kind = fields.get("type", "ordinal")
    levels, p1 = _levels(fields.get("levels"), file, f"{where}.levels", languages)
    dk, p2 = _levels(fields.get("dont_know"), file, f"{where}.dont_know", languages)
    ref, p3 = _levels(fields.get("refused"), file, f"{where}.refused", languages)
    problems += p1 + p2 + p3
    if kind in ("ordinal", "nominal") and not levels:
        problems.append(Problem(file, f"{where}.levels", f"a {kind} item needs its answer levels"))
    if kind in ("numeric", "text") and levels:
        problems.append(Problem(file, f"{where}.levels", f"a {kind} item has no answer levels"))
    bounds: list[Problem] = []
    n_codes = len(levels) + len(dk) + len(ref)
    if n_codes > MAX_LEVELS:
        bounds.append(
            Problem(
                file,
                where,
                f"{n_codes:,} answer codes; expected at most {MAX_LEVELS:,} (docs/formats.md, "
                "Limits)",
            )
        )
    for i, c in enumerate(fields.get("missing", [])):
        if not abs(c) <= MAX_CODE:  # also refuses NaN and infinity
            bounds.append(
                Problem(
                    file,
                    f"{where}.missing[{i}]",
                    f"expected a code from {-MAX_CODE:,} to {MAX_CODE:,} (docs/formats.md, Limits)",
                    value=_short_number(c),
                )
            )
    if bounds:  # codes that would size allocations: nothing below may use them
        return None, problems + bounds
    all_codes = [lv.code for lv in (*levels, *dk, *ref)] + [c for c in fields.get("missing", [])]
    for code in duplicates(all_codes):
        problems.append(
            Problem(
                file,
                where,
                "code used twice (levels, dont_know, refused and missing must not overlap)",
                value=code,
            )
        )
    names = [lv.name for lv in (*levels, *dk, *ref) if lv.name is not None]
    for name in duplicates(names):
        problems.append(Problem(file, where, "level name used twice", value=name))
    texts = [t.strip().casefold() for lv in (*levels, *dk, *ref) if lv.value for t in [lv.value]]
    for text in duplicates(texts):
        problems.append(Problem(file, where, "answer text (`value:`) used twice", value=text))
    lo, hi = fields.get("min"), fields.get("max")
    if lo is not None and hi is not None and lo > hi:
        problems.append(Problem(file, f"{where}.min", f"min is above max ({hi})", value=lo))
    bands = tuple((float(a), float(b), str(c)) for a, b, c in fields.get("bands", []))
    for a, b, label in bands:
        if a > b:
            problems.append(
                Problem(
                    file, f"{where}.bands", f"band {label!r}: lower bound above upper", value=[a, b]
                )
            )
    for label in duplicates([b[2] for b in bands]):
        problems.append(Problem(file, f"{where}.bands", "band label used twice", value=label))
    question = _text(raw["question"])[0] if "question" in raw else {}
    if role == "segmentation" and kind == "text":
        problems.append(
            Problem(
                file,
                f"{where}.role",
                "a text item cannot be segmented on; give it levels (type ordinal or nominal) "
                "or role: profile / ignored",
            )
        )
    if problems:
        return None, problems
    item = Item(
        column=raw["column"],
        domain=raw["domain"],
        type=kind,
        role=role,
        question=question,
        short=raw.get("short"),
        measures=fields.get("measures"),
        higher_means_more=bool(fields.get("higher_means_more", True)),
        levels=levels,
        dont_know=dk,
        refused=ref,
        missing=tuple(float(c) for c in fields.get("missing", [])),
        min=lo,
        max=hi,
        bands=bands,
        scale=scale_name,
        note=raw.get("note"),
        say=dict(raw.get("say") or {}),
        composition=bool(raw.get("composition", False)),
    )
    return item, problems


def _item_yaml_fields(it: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"type": it.type}
    if it.measures is not None:
        out["measures"] = it.measures
    if it.type == "ordinal":
        out["higher_means_more"] = it.higher_means_more
    if it.levels:
        out["levels"] = {lv.code: lv.to_yaml() for lv in it.levels}
    if it.dont_know:
        out["dont_know"] = {lv.code: lv.to_yaml() for lv in it.dont_know}
    if it.refused:
        out["refused"] = {lv.code: lv.to_yaml() for lv in it.refused}
    if it.missing:
        out["missing"] = [int(c) if float(c).is_integer() else c for c in it.missing]
    if it.min is not None:
        out["min"] = it.min
    if it.max is not None:
        out["max"] = it.max
    if it.bands:
        out["bands"] = [[plain_number(a), plain_number(b), c] for a, b, c in it.bands]
    return out


def _unchecked_item(fields: Mapping[str, Any]) -> Item:
    """An item built from scale fields alone, without validation (for comparing fields)."""
    langs = ("en", "ru", "kk", "name")

    def lv(key: str) -> tuple[Level, ...]:
        return _levels(fields.get(key), "", "", langs)[0]

    return Item(
        column="_",
        domain="other",
        type=fields.get("type", "ordinal"),
        measures=fields.get("measures"),
        higher_means_more=bool(fields.get("higher_means_more", True)),
        levels=lv("levels"),
        dont_know=lv("dont_know"),
        refused=lv("refused"),
        missing=tuple(float(c) for c in fields.get("missing", [])),
        min=fields.get("min"),
        max=fields.get("max"),
        bands=tuple((float(a), float(b), str(c)) for a, b, c in fields.get("bands", [])),
    )


def _item_to_yaml(
    it: Item, scales: Mapping[str, Mapping[str, Any]], domain_roles: Mapping[str, str]
) -> dict[str, Any]:
    out: dict[str, Any] = {"column": it.column}
    if it.question:
        q = dict(it.question)
        out["question"] = q["en"] if set(q) == {"en"} else q
    out["domain"] = it.domain
    if domain_roles.get(it.domain) != it.role:
        out["role"] = it.role
    if it.short is not None:
        out["short"] = it.short
    fields = _item_yaml_fields(it)
    if it.scale is not None:
        out["scale"] = it.scale
        scale_fields = _item_yaml_fields(_unchecked_item(scales.get(it.scale, {})))
        fields = {k: v for k, v in fields.items() if scale_fields.get(k) != v}
    out.update(fields)
    if it.say:
        out["say"] = dict(it.say)
    if it.composition:
        out["composition"] = True
    if it.note is not None:
        out["note"] = it.note
    return out
