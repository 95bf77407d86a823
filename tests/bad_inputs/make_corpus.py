"""Rebuild the bad-input corpus from the bundled files (run from the repository root).

    .venv/bin/python tests/bad_inputs/make_corpus.py

Every file is a few rows of a bundled file (``data/kz2020_synthetic.csv``,
``data/kz2020_synthetic_codebook.yaml``, ``data/kz2022_listexp.csv``, ``profiles/kz2020.yaml``)
with one thing broken. The model file is fitted once with

    segment fit data/kz2020_synthetic.csv --codebook tests/bad_inputs/codebook.yaml \
        --k 3 --n-init 1 --typology none -o tests/bad_inputs/model.json

(this script runs that command when ``model.json`` is missing) and then corrupted. What each file
is for is listed in ``README.md``; ``cases.yaml`` says which command must reject it and how.
"""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ITEMS = [
    "cr_free_speech",
    "cr_associate",
    "trust_president",
    "trust_army",
    "trust_nur_otan",
    "gov_strongman",
    "opt_economy",
    "age",
    "gender",
]
N_ROWS = 6


def write(name: str, data: str | bytes) -> None:
    path = HERE / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


def csv_text(frame: pd.DataFrame, sep: str = ",") -> str:
    return frame.to_csv(index=False, sep=sep, lineterminator="\n")


def dump_yaml(doc) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def checksum(doc: dict) -> str:
    body = {k: v for k, v in doc.items() if k != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def resealed(doc: dict) -> str:
    """A hand-edited model whose checksum was recomputed (so only the content checks catch it)."""
    doc = dict(doc)
    doc["checksum"] = checksum(doc)
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------ codebook
def codebook_doc() -> dict:
    full = yaml.safe_load((REPO / "data" / "kz2020_synthetic_codebook.yaml").read_text("utf-8"))
    items = [it for it in full["items"] if it["column"] in ITEMS]
    scales = {it["scale"] for it in items if "scale" in it}
    doc = {
        "schema": full["schema"],
        "title": "Bad-input corpus: 9 items of the SYNTHETIC kz2020 survey",
        "synthetic": True,
        "languages": full["languages"],
        "id": "resp_id",
        "weight": "weight",
        "dont_know": "keep",
        "refused": "missing",
        "scales": {k: v for k, v in full["scales"].items() if k in scales},
        "items": items,
    }
    return doc


def codebooks(doc: dict) -> None:
    text = dump_yaml(doc)
    write("codebook.yaml", text)
    write("codebook_cp1251.yaml", text.encode("cp1251", errors="replace"))
    write("codebook_utf16.yaml", text.encode("utf-16"))
    write("codebook_empty.yaml", b"")
    # a hand edit that broke the indentation of one level label
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("name: rather_not"))
    lines[at] = lines[at].replace("name: rather_not", "  name: rather_not: x")
    write("codebook_invalid_yaml.yaml", "".join(lines))

    def variant(name: str, edit) -> None:
        d = copy.deepcopy(doc)
        edit(d)
        write(name, dump_yaml(d))

    def item(d: dict, column: str) -> dict:
        return next(it for it in d["items"] if it["column"] == column)

    variant(
        "codebook_duplicate_item.yaml", lambda d: d["items"].append(dict(item(d, "trust_army")))
    )
    variant(
        "codebook_code_overlap.yaml", lambda d: item(d, "trust_army").update(refused={4: "Refused"})
    )
    variant("codebook_unknown_scale.yaml", lambda d: item(d, "trust_army").update(scale="trust5"))
    variant(
        "codebook_bad_domain.yaml",
        lambda d: (
            d.update(
                domains=[
                    {"name": n}
                    for n in ("civic_rights", "trust", "demographics", "governance", "optimism")
                ]
            ),
            item(d, "trust_army").update(domain="trsut"),
        ),
    )
    variant("codebook_min_above_max.yaml", lambda d: item(d, "age").update(min=90, max=18))
    variant("codebook_no_items.yaml", lambda d: d.pop("items"))
    variant("codebook_id_is_item.yaml", lambda d: d.update(id="trust_army"))
    variant(
        "codebook_text_level_code.yaml",
        lambda d: item(d, "gender")["levels"].update({"other": "Other"}),
    )
    variant("codebook_wrong_schema.yaml", lambda d: d.update(schema="segment.codebook/2"))
    write("codebook_list_top.yaml", dump_yaml(doc["items"]))


# ------------------------------------------------------------------------------ typology
TYPOLOGY_HEAD = {
    "schema": "segment.typology/1",
    "name": "corpus",
    "title": "Two segments of the kz2020 typology (bad-input corpus)",
    "instrument": "../../profiles/kz2020_instrument.yaml",
}


def typology_doc() -> dict:
    full = yaml.safe_load((REPO / "profiles" / "kz2020.yaml").read_text("utf-8"))
    segments = []
    for seg in full["segments"][:2]:
        bullets = {
            dom: blist[:2]
            for dom, blist in seg["bullets"].items()
            if dom in ("civic_rights", "trust", "demographics")
        }
        segments.append({"id": seg["id"], "name": seg["name"], "share": 0.5, "bullets": bullets})
    return {**TYPOLOGY_HEAD, "levels": full["levels"], "segments": segments}


def typologies(doc: dict) -> None:
    write("typology.yaml", dump_yaml(doc))

    def variant(name: str, edit) -> None:
        d = copy.deepcopy(doc)
        edit(d)
        write(name, dump_yaml(d))

    def first_attitude_claim(d: dict) -> dict:
        for blist in d["segments"][0]["bullets"].values():
            for b in blist:
                for c in b["claims"]:
                    if "items" in c:
                        return c
        raise LookupError

    def first_demographic_claim(d: dict) -> dict:
        for seg in d["segments"]:
            for b in seg["bullets"].get("demographics", []):
                for c in b["claims"]:
                    if c.get("categories"):
                        return c
        raise LookupError

    variant(
        "typology_unknown_item.yaml",
        lambda d: first_attitude_claim(d)["items"].append("trust_armyy"),
    )
    variant(
        "typology_unknown_level.yaml", lambda d: first_attitude_claim(d).update(level="super_high")
    )
    variant("typology_shares_not_1.yaml", lambda d: d["segments"][1].update(share=0.6))
    variant(
        "typology_duplicate_segment.yaml",
        lambda d: d["segments"][1].update(id=d["segments"][0]["id"]),
    )
    variant(
        "typology_missing_instrument.yaml", lambda d: d.update(instrument="kz2019_instrument.yaml")
    )
    variant(
        "typology_bad_category.yaml",
        lambda d: first_demographic_claim(d)["categories"].append("cosmonauts"),
    )
    variant(
        "typology_demographic_as_attitude.yaml",
        lambda d: first_attitude_claim(d)["items"].append("gender"),
    )
    russian = {**doc, "title": "Две группы типологии kz2020 (корпус плохих входных данных)"}
    write("typology_cp1251.yaml", dump_yaml(russian).encode("cp1251"))


# ------------------------------------------------------------------------------ surveys
def surveys() -> pd.DataFrame:
    full = pd.read_csv(REPO / "data" / "kz2020_synthetic.csv", dtype=str, keep_default_na=False)
    base = full[["resp_id", "weight", *ITEMS]].head(N_ROWS).reset_index(drop=True)
    write("survey.csv", csv_text(base))

    def variant(name: str, edit, sep: str = ",") -> None:
        f = base.copy()
        edit(f)
        write(name, csv_text(f, sep))

    def cell(column: str, row: int, value: str):  # row is 1-based, as in the messages
        def edit(f: pd.DataFrame) -> None:
            f.loc[row - 1, column] = value

        return edit

    commented = base.assign(comment=["Доверяю армии", "", "Затрудняюсь", "", "", "нет"])
    write("survey_cp1251.csv", csv_text(commented).encode("cp1251"))
    write("survey_utf16.csv", csv_text(base).encode("utf-16"))
    write("survey_pipe_delimited.csv", csv_text(base, "|"))
    header, *rows = csv_text(base).splitlines()
    write(
        "survey_mixed_delimiters.csv",
        "\n".join([header, *(r.replace(",", ";") for r in rows)]) + "\n",
    )
    write("survey_empty.csv", b"")
    write("survey_blank_lines.csv", "\n  \n\n")
    write("survey_header_only.csv", header + "\n")
    variant("survey_duplicate_ids.csv", cell("resp_id", 4, "100002"))
    variant("survey_blank_id.csv", cell("resp_id", 3, ""))
    dup = base.copy()
    dup.insert(len(dup.columns), "trust_army_2", base["trust_army"])
    write("survey_duplicate_column.csv", csv_text(dup).replace("trust_army_2", "trust_army", 1))
    write("survey_empty_column_name.csv", csv_text(base.rename(columns={"trust_army": " "})))
    variant("survey_text_in_code.csv", cell("trust_army", 2, "high"))
    variant("survey_cyrillic_in_code.csv", cell("trust_nur_otan", 3, "Доверяю"))
    variant("survey_code_out_of_scale.csv", cell("trust_army", 5, "7"))
    variant("survey_code_zero.csv", cell("cr_free_speech", 1, "0"))
    variant("survey_fractional_code.csv", cell("trust_president", 4, "2.5"))
    variant("survey_age_out_of_range.csv", cell("age", 3, "150"))
    variant("survey_age_text.csv", cell("age", 6, "forty"))
    variant("survey_weight_nan.csv", cell("weight", 2, "NaN"))
    variant("survey_weight_negative.csv", cell("weight", 3, "-1"))
    variant("survey_weight_zero.csv", cell("weight", 4, "0"))
    variant("survey_weight_blank.csv", cell("weight", 5, ""))
    variant("survey_weight_inf.csv", cell("weight", 1, "inf"))
    comma = base.assign(weight=base["weight"].str.replace(".", ",", regex=False))
    write("survey_weight_decimal_comma.csv", csv_text(comma, ";"))
    write("survey_missing_item_column.csv", csv_text(base.drop(columns=["trust_army"])))
    write("survey_missing_weight_column.csv", csv_text(base.drop(columns=["weight"])))
    lines = csv_text(base).splitlines()
    lines[3] += ",4"
    write("survey_ragged_rows.csv", "\n".join(lines) + "\n")
    lines = csv_text(base).splitlines()
    lines[0] = lines[0].replace("trust_army,", "")
    write("survey_header_missing_name.csv", "\n".join(lines) + "\n")
    lines = csv_text(base).splitlines()
    lines[3] = '"' + lines[3]
    write("survey_unclosed_quote.csv", "\n".join(lines) + "\n")
    write("survey_not_excel.xlsx", csv_text(base))
    write("survey_not_spss.sav", csv_text(base))
    parquet = HERE / "survey_truncated.parquet"
    base.to_parquet(parquet, index=False)
    parquet.write_bytes(parquet.read_bytes()[:200])
    many = base.copy()
    for edit in (
        cell("resp_id", 2, "100001"),
        cell("weight", 3, "-2"),
        cell("trust_army", 4, "5"),
        cell("gender", 6, "3"),
    ):
        edit(many)
    write("survey_many_problems.csv", csv_text(many))
    # a second wave coded with another codebook: trust on 0-10 instead of 1-4
    other = base.copy()
    for col in ("trust_president", "trust_army", "trust_nur_otan"):
        other[col] = ["10", "0", "7", "5", "8", "3"]
    write("wave_other_codebook.csv", csv_text(other))
    return base


# ------------------------------------------------------------------------------ models
def models() -> None:
    path = HERE / "model.json"
    if not path.exists():
        cmd = [
            str(Path(sys.executable).with_name("segment")),
            "fit",
            str(REPO / "data" / "kz2020_synthetic.csv"),
            "--codebook",
            str(HERE / "codebook.yaml"),
            "--k",
            "3",
            "--n-init",
            "1",
            "--typology",
            "none",
            "-o",
            str(path),
        ]
        subprocess.run(cmd, check=True)
    text = path.read_text("utf-8")
    doc = json.loads(text)
    write("model_truncated.json", text[: len(text) // 2])
    write("model_empty.json", b"")
    edited = copy.deepcopy(doc)
    edited["model"]["shares"][0] = round(edited["model"]["shares"][0] + 0.05, 6)
    write("model_edited.json", json.dumps(edited, indent=1, ensure_ascii=False) + "\n")
    newer = copy.deepcopy(doc)
    newer["format_version"] = 2
    write("model_newer_version.json", resealed(newer))
    write("model_not_a_model.json", json.dumps({"format": "segment.typology", "name": "kz2020"}))
    nan = text.replace('"loglik": ', '"loglik": NaN, "_was": ', 1)
    write("model_nan.json", nan)
    bad_probs = copy.deepcopy(doc)
    bad_probs["model"]["item_probs"][1][0][0] += 0.5
    write("model_inconsistent.json", resealed(bad_probs))
    no_fit = copy.deepcopy(doc)
    del no_fit["fit"]
    write("model_missing_section.json", resealed(no_fit))
    write("model_cp1251.json", text.replace("SYNTHETIC", "СИНТЕТИКА").encode("cp1251", "replace"))


# ------------------------------------------------------------------------------ list experiments
def listexps() -> None:
    full = pd.read_csv(REPO / "data" / "kz2022_listexp.csv", dtype=str, keep_default_na=False)
    base = full[["resp_id", "y", "treat", "gender", "region"]].head(12).reset_index(drop=True)
    base["w"] = ["1.2", "0.8", "1", "1", "0.9", "1.1", "1", "1", "0.7", "1.3", "1", "1"]
    assert set(base["treat"]) == {"0", "1"}
    write("listexp.csv", csv_text(base))

    def variant(name: str, column: str, row: int, value: str) -> None:
        f = base.copy()
        f.loc[row - 1, column] = value
        write(name, csv_text(f))

    control = [i + 1 for i, t in enumerate(base["treat"]) if t == "0"]
    treated = [i + 1 for i, t in enumerate(base["treat"]) if t == "1"]
    write("listexp_empty_arm.csv", csv_text(base.assign(treat="1")))
    variant("listexp_count_over_J.csv", "y", control[1], "5")
    variant("listexp_treated_over_J1.csv", "y", treated[2], "6")
    variant("listexp_count_negative.csv", "y", 5, "-1")
    variant("listexp_count_fractional.csv", "y", 6, "2.5")
    variant("listexp_count_text.csv", "y", 7, "three")
    variant("listexp_count_blank.csv", "y", 8, "")
    variant("listexp_treat_nonbinary.csv", "treat", 9, "2")
    variant("listexp_treat_text.csv", "treat", 10, "yes")
    variant("listexp_weight_negative.csv", "w", 11, "-0.5")
    variant("listexp_weight_nan.csv", "w", 12, "NaN")
    zero = base.copy()
    zero.loc[zero["treat"] == "0", "w"] = "0"
    write("listexp_zero_weight_arm.csv", csv_text(zero))
    write("listexp_no_count_column.csv", csv_text(base.rename(columns={"y": "count"})))
    cyr = base.assign(
        region=base["region"].map({"other": "другой", "astana": "Астана"}).fillna("Алматы")
    )
    write("listexp_cp1251.csv", csv_text(cyr).encode("cp1251"))
    write("listexp_count_constant.csv", csv_text(base.assign(y="2")))
    write(
        "listexp_control_constant.csv",
        csv_text(base.assign(y=base["y"].where(base["treat"] == "1", "1"))),
    )


# ------------------------------------------------------------------------------ untrusted files
def _bomb(head: list[str], tail: list[str]) -> str:
    """A "billion laughs" YAML file: 9 lists of 9 aliases of the one before (9**9 values)."""
    lines = [*head, "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
        prev = name
    return "\n".join([*lines, *tail]) + "\n"


def untrusted() -> None:
    """The files of ``cases_untrusted.yaml`` (issue 17: YAML limits, model files' meaning, code
    bounds). Runs alone: ``python -c "import make_corpus; make_corpus.untrusted()"`` from here."""
    text = (HERE / "codebook.yaml").read_text("utf-8")
    write(
        "codebook_alias_bomb.yaml",
        _bomb(
            ["schema: segment.codebook/1", "title: alias bomb"],
            [
                "items:",
                "- {column: x, domain: other, type: ordinal, levels: {1: {en: One}, 2: {en: Two}},"
                " note: *i}",
            ],
        ),
    )
    write(
        "margins_alias_bomb.yaml",
        _bomb(
            ["schema: segment.margins/1", "name: bomb", "scale: shares"],
            ["margins:", "  region: *i"],
        ),
    )
    write(
        "codebook_duplicate_key.yaml",
        text.replace("weight: weight\n", "weight: weight\nid: weight\n", 1),
    )
    four = "      4:\n        name: very\n"
    assert four in text
    write("codebook_duplicate_code.yaml", text.replace(four, "      3:\n        name: very\n", 1))
    write(
        "codebook_deep_nesting.yaml",
        text.replace("title: ", "note: " + "[" * 900 + "]" * 900 + "\ntitle: ", 1),
    )
    five = "      5:\n        name: extremely\n"
    assert five in text
    write(
        "codebook_code_1e9.yaml",
        text.replace(five, "      1000000000:\n        name: extremely\n", 1),
    )
    write(
        "codebook_code_23_digits.yaml",
        text.replace(five, "      12345678901234567890123:\n        name: extremely\n", 1),
    )
    typology = (HERE / "typology.yaml").read_text("utf-8")
    write("typology_duplicate_key.yaml", typology.replace("name: ", "name: twice\nname: ", 1))

    model_text = (HERE / "model.json").read_text("utf-8")
    doc = json.loads(model_text)

    def variant(name: str, edit) -> None:
        d = copy.deepcopy(doc)
        edit(d["model"], d)
        write(name, resealed(d))

    def negative_share(m, d):
        m["shares"][0] -= 0.8
        m["shares"][1] += 0.8
        m["prior_shares"] = list(m["shares"])
        d["segments"][2]["share"] = -0.1

    def not_normalised(m, d):
        m["prior_shares"] = [2 * v for v in m["prior_shares"]]

    def negative_prob(m, d):
        m["item_probs"][0][1][0] = -0.2
        m["item_probs"][0][1][1] += 0.2 + doc["model"]["item_probs"][0][1][0]

    def duplicate_code(m, d):
        m["categories"][0][1] = m["categories"][0][0]

    def fractional_code(m, d):
        m["categories"][0][1] = 2.5

    def duplicate_item(m, d):
        m["items"][1] = m["items"][0]

    def duplicate_name(m, d):
        d["segments"][1]["name"] = d["segments"][0]["name"]

    variant("model_negative_share.json", negative_share)
    variant("model_shares_not_normalised.json", not_normalised)
    variant("model_negative_probability.json", negative_prob)
    variant("model_duplicate_code.json", duplicate_code)
    variant("model_fractional_code.json", fractional_code)
    variant("model_duplicate_item.json", duplicate_item)
    variant("model_duplicate_segment_name.json", duplicate_name)
    write("model_1e400.json", model_text.replace('"loglik": ', '"loglik": 1e400, "_was": ', 1))
    deep = copy.deepcopy(doc)
    deep["typology"] = "NESTED"
    write(
        "model_deep_nesting.json",
        resealed(deep).replace('"NESTED"', "[" * 2000 + "]" * 2000, 1),
    )


# ------------------------------------------------------------------------------ README table
TABLE_HEAD = "| file | what is wrong | command that must reject it | expected message fragment |"


def resources() -> None:
    """The files of ``cases_resources.yaml`` (issue 17: data files bounded before decoding).
    Runs alone: ``python -c "import make_corpus; make_corpus.resources()"`` from here."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 35_000_000
    cols = "resp_id weight cr_free_speech cr_associate trust_president trust_army".split()
    cols += "trust_nur_otan gov_strongman opt_economy age gender".split()
    arrays = {"resp_id": pa.array(np.arange(n, dtype=np.int64))}
    for c in cols[1:]:
        arrays[c] = pa.array(np.full(n, 1.0) if c == "weight" else np.ones(n, dtype=np.int64))
    pq.write_table(
        pa.table(arrays),
        HERE / "survey_parquet_bomb.parquet",
        compression="zstd",
        row_group_size=64_000_000,
        data_page_size=1 << 30,
        write_statistics=False,
        use_dictionary=cols[1:],
        column_encoding={"resp_id": "DELTA_BINARY_PACKED"},
    )
    names = ",".join(f"c{i}" for i in range(10_001))
    ones = ",".join("1" for _ in range(10_001))
    (HERE / "survey_too_many_columns.csv").write_text(f"{names}\n{ones}\n", encoding="utf-8")
    survey = pd.read_csv(HERE / "survey.csv", dtype=str, keep_default_na=False)
    survey.loc[2, "weight"] = "1e300"  # one respondent would be the whole sample
    survey.to_csv(HERE / "survey_weight_1e300.csv", index=False)
    survey = pd.read_csv(HERE / "survey.csv", dtype=str, keep_default_na=False)
    survey.assign(**{"trust_army ": survey["trust_army"]}).to_csv(
        HERE / "survey_header_trailing_space.csv", index=False
    )
    survey.rename(columns={"trust_army": "Trust_Army"}).to_csv(
        HERE / "survey_header_case.csv", index=False
    )


def readme_table() -> None:
    """Rewrite the table of README.md from cases*.yaml (the text above the table is kept)."""
    cases = [
        c for f in sorted(HERE.glob("cases*.yaml")) for c in yaml.safe_load(f.read_text("utf-8"))
    ]

    def command(args: list[str], file: str) -> str:
        words = [
            a.replace("{file}", file).replace("{dir}/", "").replace("{out}/", "out/") for a in args
        ]
        return "segment " + " ".join(w.replace("{data}/", "data/") for w in words)

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    rows = [
        f"| `{c['file']}` | {cell(c['wrong'])} | `{cell(command(c['args'], c['file']))}` "
        f"| `{cell(c['expect'][0])}` |"
        for c in cases
    ]
    readme = HERE / "README.md"
    intro = readme.read_text("utf-8").split(TABLE_HEAD)[0]
    readme.write_text(
        intro + TABLE_HEAD + "\n|---|---|---|---|\n" + "\n".join(rows) + "\n", "utf-8"
    )


def main() -> None:
    codebooks(codebook_doc())
    typologies(typology_doc())
    surveys()
    models()
    listexps()
    untrusted()
    readme_table()


if __name__ == "__main__":
    main()
