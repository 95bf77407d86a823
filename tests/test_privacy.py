"""Respondents' privacy: no output of `segment` carries a respondent's id, free-text answer or
row, and no reported cell describes fewer respondents than the minimum (here 40, not the
default 30, to check that the setting is honoured everywhere).

The bundled survey is rewritten with ids and a free-text column that are easy to find
("KZ-...", "TXT-..."), then every output file of `segment run`, `profile`, `listexp`,
`select`, `compare` and `score --format` JSON is scanned.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from segment.resources import bundled_path

MIN_CELL = 40


@pytest.fixture(scope="module")
def secret_survey(tmp_path_factory) -> dict:
    """The bundled survey and list experiment with findable ids and a free-text answer."""
    root = tmp_path_factory.mktemp("privacy")
    rng = np.random.default_rng(7)
    frame = pd.read_csv(bundled_path("data", "kz2020_synthetic.csv"))
    ids = [f"KZ-{v:08x}" for v in rng.integers(0, 2**32, len(frame))]
    frame["resp_id"] = ids
    frame["comment"] = [
        f"TXT-{v:08x} my neighbour said so" for v in rng.integers(0, 2**32, len(frame))
    ]
    data = root / "survey.csv"
    frame.to_csv(data, index=False)
    doc = yaml.safe_load(bundled_path("data", "kz2020_synthetic_codebook.yaml").read_text("utf-8"))
    doc["items"] = [
        *doc["items"],
        {"column": "comment", "type": "text", "domain": "other", "question": "Anything else?"},
    ]
    codebook = root / "survey.yaml"
    codebook.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    listexp = pd.read_csv(bundled_path("data", "kz2022_listexp.csv"))
    le_ids = [f"KZ-{v:08x}" for v in rng.integers(0, 2**32, len(listexp))]
    listexp["resp_id"] = le_ids
    le_path = root / "listexp.csv"
    listexp.to_csv(le_path, index=False)
    secrets = set(ids) | set(le_ids) | {c.split()[0] for c in frame["comment"]}
    return {
        "root": root,
        "data": data,
        "codebook": codebook,
        "listexp": le_path,
        "secrets": secrets,
    }


@pytest.fixture(scope="module")
def outputs(secret_survey, tmp_path_factory) -> dict[str, str]:
    """Every file and printed JSON the commands write, by name."""
    s = secret_survey
    out_dir = tmp_path_factory.mktemp("privacy_out")
    report = out_dir / "report"
    texts: dict[str, str] = {}

    _main(
        [
            "run",
            s["data"],
            "--codebook",
            s["codebook"],
            "--listexp",
            s["listexp"],
            "--k",
            "6",
            "--ks",
            "none",
            "--min-cell",
            MIN_CELL,
            "-o",
            report,
            "--quiet",
        ]
    )
    for p in sorted(report.rglob("*")):
        if p.is_file():
            texts[f"report/{p.name}"] = p.read_text(encoding="utf-8")
    return {"texts": texts, "report": report, "dir": out_dir}


def _json_commands(s, model: Path, out_dir: Path) -> list[list]:
    return [
        [
            "profile",
            model,
            s["data"],
            "--codebook",
            s["codebook"],
            "--format",
            "json",
            "--explain",
            "--min-cell",
            MIN_CELL,
        ],
        [
            "listexp",
            s["listexp"],
            "--J",
            "4",
            "--by",
            "gender,education,ethnicity,region",
            "--segments",
            model,
            "--bootstrap",
            "50",
            "--min-cell",
            MIN_CELL,
            "--format",
            "json",
        ],
        [
            "select",
            s["data"],
            "--codebook",
            s["codebook"],
            "--k",
            "2-3",
            "--bootstrap",
            "0",
            "--n-init",
            "1",
            "--format",
            "json",
        ],
        [
            "compare",
            model,
            s["data"],
            s["data"],
            "--codebook",
            s["codebook"],
            "--format",
            "json",
        ],
    ]


def _main(args) -> str:
    """Run ``segment ARGS`` in this process (module-scoped fixtures cannot use capsys);
    return what it printed on stdout."""
    from segment.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    assert exc.value.code == 0, args
    return buf.getvalue()


@pytest.fixture(scope="module")
def json_outputs(secret_survey, outputs) -> dict[str, str]:
    model = outputs["report"] / "model.json"
    return {args[0]: _main(args) for args in _json_commands(secret_survey, model, outputs["dir"])}


def test_no_output_contains_an_id_or_a_free_text_answer(secret_survey, outputs, json_outputs):
    pattern = re.compile(r"(KZ|TXT)-[0-9a-f]{8}")
    everything = {**outputs["texts"], **json_outputs}
    assert set(outputs["texts"]) == {
        "report/index.html",
        "report/profiles.md",
        "report/model.json",
        "report/.segment-output",
    }
    for name, text in everything.items():
        hits = {m.group(0) for m in pattern.finditer(text)} & secret_survey["secrets"]
        assert not hits, f"{name} leaks {sorted(hits)[:3]}"
        assert "my neighbour said so" not in text, name


def _counts(obj, key_names=("n", "count", "weighted_n", "effective_n", "n_treat", "n_control")):
    """Every numeric value stored under a count-like key, anywhere in a JSON document."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in key_names and isinstance(v, int | float) and v is not None:
                yield k, v
            else:
                yield from _counts(v, key_names)
    elif isinstance(obj, list):
        for v in obj:
            yield from _counts(v, key_names)


@pytest.mark.parametrize("command", ["profile", "listexp"])
def test_no_json_cell_describes_fewer_than_the_minimum(json_outputs, command):
    doc = json.loads(json_outputs[command])
    counts = list(_counts(doc))
    if command == "profile":
        assert doc["min_cell"] == MIN_CELL  # profile JSON reports shares and positions only
    else:
        assert counts, "expected some reported counts"
    small = [(k, v) for k, v in counts if v < MIN_CELL]
    assert not small, small
    if command == "listexp":
        suppressed = [g for g in doc["groups"] if g["suppressed"]]
        assert suppressed and all(g["estimate"] is None for g in suppressed if "estimate" in g)


def test_report_tables_never_show_a_count_below_the_minimum(outputs):
    html = outputs["texts"]["report/index.html"]
    # the subgroup table: N is the third column; withheld rows say why instead
    table = html[html.index("<th>Variable</th>") :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
    assert rows
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        if "withheld" in row:
            continue
        assert int(cells[2]) >= MIN_CELL, row
    assert f"fewer than {MIN_CELL} respondents" in html


def test_model_file_holds_parameters_not_rows(outputs):
    doc = json.loads(outputs["texts"]["report/model.json"])
    text = json.dumps(doc)
    assert "resp_id" not in text or doc["codebook"].get("id") == "resp_id"

    # no array in the model file is as long as the survey (1,500 rows)
    def lengths(obj):
        if isinstance(obj, list):
            yield len(obj)
            for v in obj:
                yield from lengths(v)
        elif isinstance(obj, dict):
            for v in obj.values():
                yield from lengths(v)

    assert max(lengths(doc)) < 1500
