"""Outputs that never harm (issue 17): every CSV the package writes is spreadsheet-safe, every
Markdown renders no HTML from labels, and no figure parses a label as mathtext.

The CSVs are read back with the csv module, the Markdown is rendered with markdown-it-py (a
dependency of rich) with raw HTML allowed, as a default renderer would, and every tag of the
result is checked against the tags Markdown itself makes.
"""

from __future__ import annotations

import csv
import dataclasses
import html.parser
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import run_cli
from markdown_it import MarkdownIt

from segment._escape import csv_cell, csv_frame, markdown_code_block, markdown_text, script_json
from segment.resources import bundled_path

#: Text a spreadsheet would run: OWASP's first characters (and two beyond its list).
FORMULAS = [
    '=HYPERLINK("http://x")',
    "+1",
    "-1+1",
    "@SUM(1)",
    "\tx",
    "\rx",
    "\nx",
    " =1+1",
    "\uff1d1+1",  # full-width equals
]
#: Text a Markdown renderer would turn into HTML or markup.
MARKUP = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "[x](javascript:alert(1)) *em* `code` | a | b",
    "# heading\n- item\n1. item\n<div>",
]
#: Math a figure would parse, one of them malformed (matplotlib raises on it).
MATH = ["$\\foo{$", "$x^2$"]

#: The tags Markdown makes by itself; anything else in a rendering came from a label.
MARKDOWN_TAGS = {
    "h1", "h2", "h3", "h4", "p", "ul", "ol", "li", "em", "strong", "blockquote", "pre", "code",
    "table", "thead", "tbody", "tr", "th", "td", "hr", "br",
}  # fmt: skip


def rendered(markdown: str) -> tuple[set[str], str]:
    """The tags and the visible text of ``markdown`` rendered as CommonMark with tables and raw
    HTML allowed."""
    page = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)

    tags: set[str] = set()
    text: list[str] = []

    class Parser(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.add(tag)

        def handle_data(self, data):
            text.append(data)

    Parser().feed(page)
    return tags, " ".join("".join(text).split())


def shown(label: str) -> str:
    return " ".join(label.split())


# ------------------------------------------------------------------ the escaping functions


@pytest.mark.parametrize("text", FORMULAS)
def test_csv_cell_quotes_formula_text(text):
    out = csv_cell(text)
    assert out[0] == "'" and out[1:] == text.replace("\r", "\n")


@pytest.mark.parametrize("value", ["Loyal", "1-2", "a=b", "", "'=quoted", "O'Brien", "x\t"])
def test_csv_cell_leaves_plain_text(value):
    assert csv_cell(value) == value


@pytest.mark.parametrize("value", [-0.5, -1, 0, np.float64(-2.5), np.nan, None, True])
def test_csv_cell_leaves_numbers_and_missing_values(value):
    assert csv_cell(value) is value


def test_csv_frame_keeps_numbers_numeric_and_safe_frames_untouched():
    frame = pd.DataFrame(
        {
            "id": ["=a", "b", None],
            "x": [-0.5, -1.0, 2.0],
            "n": [-1, 2, 3],
            "cat": pd.Categorical(["+c", "d", "d"]),
            "s": pd.array(["@e", None, "f"], dtype="string"),
            "mixed": ["-1", -1.5, None],
        }
    )
    out = csv_frame(frame)
    assert out["x"].dtype == float and out["n"].dtype == frame["n"].dtype
    assert out["id"].tolist()[:2] == ["'=a", "b"] and pd.isna(out["id"].iloc[2])
    assert out["cat"].tolist() == ["'+c", "d", "d"]
    assert out["s"].dtype == frame["s"].dtype and out["s"].iloc[0] == "'@e"
    assert out["mixed"].tolist()[:2] == ["'-1", -1.5]
    assert frame["id"].iloc[0] == "=a"  # the input is not changed
    safe = frame[["x", "n"]]
    assert csv_frame(safe) is safe
    assert list(csv_frame(pd.DataFrame({"=col": [1]})).columns) == ["'=col"]


@pytest.mark.parametrize("label", MARKUP)
def test_markdown_text_renders_as_the_label_itself(label):
    tags, text = rendered(f"## {markdown_text(label)}\n\n- {markdown_text(label)}\n")
    assert tags <= {"h2", "ul", "li"}
    assert text.count(shown(label)) == 2


@pytest.mark.parametrize("text", ["```", "a ```` b", "plain"])
def test_markdown_code_block_is_not_closed_by_its_text(text):
    tags, shown_text = rendered(markdown_code_block(f"{text}\n<script>x</script>"))
    assert tags == {"pre", "code"} and "<script>x</script>" in shown_text


def test_script_json_cannot_close_its_element():
    text = script_json({"name": "</script><!-- & -->"})
    assert "<" not in text and ">" not in text and "&" not in text


# ------------------------------------------------------------------ every CSV writer

N = 60


def read_back(path: Path) -> list[dict[str, str]]:
    delimiter = "\t" if path.suffix == ".tsv" else ","
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def assert_neutralised(rows: list[dict], text: dict[str, list[str]], numbers: list[str]) -> None:
    """Each text column reads back as its values with a leading quote; numbers as numbers."""
    assert rows
    for col, values in text.items():
        got = [r[col] for r in rows]
        assert got == ["'" + v.replace("\r", "\n") for v in values], col
    for col in numbers:
        cells = [r[col] for r in rows if r[col] != ""]
        assert cells and all(c[0] != "'" for c in cells), col
        np.asarray(cells, dtype=float)  # every cell parses as a number


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """A 2-segment model of 300 bundled respondents (fitted once)."""
    folder = tmp_path_factory.mktemp("model")
    data = folder / "s.csv"
    pd.read_csv(bundled_path("data", "kz2020_synthetic.csv")).head(300).to_csv(data, index=False)
    from segment.segments.fit import fit_segments
    from segment.survey.read import read_survey

    frame, cb = read_survey(data, bundled_path("data", "kz2020_synthetic_codebook.yaml"))
    return fit_segments(frame, cb, 2, n_init=1), data


def _ids(prefix: str) -> list[str]:
    return [f"{prefix}{i}" for i in range(N)]


def write_scored(prefix: str, tmp: Path, small_model) -> list[tuple[Path, dict, list]]:
    """`segment score`: respondent ids and segment names beginning with ``prefix``."""
    from segment.segments.model_file import load_model, save_model
    from segment.segments.scoring import score_file

    model, data = small_model
    save_model(model, tmp / "m.json")
    model = load_model(tmp / "m.json")
    names = [f"{prefix}segment {s + 1}" for s in range(len(model.segments))]
    for seg, name in zip(model.segments, names, strict=True):
        seg["name"] = name
    frame = pd.read_csv(data).head(N)
    frame["resp_id"] = _ids(prefix)
    frame.to_parquet(tmp / "in.parquet")  # a carriage return survives Parquet, not CSV input
    score_file(model, tmp / "in.parquet", tmp / "scored.csv", labels=tmp / "labels.csv")
    labels = [r for r in read_back(tmp / "labels.csv") if r["column"] == "segment" and r["value"]]
    assert [r["label"] for r in labels] == ["'" + n.replace("\r", "\n") for n in names]
    segment = [r["segment"] for r in read_back(tmp / "scored.csv")]
    expected_names = [names[int(s) - 1] for s in segment]
    return [
        (
            tmp / "scored.csv",
            {"resp_id": _ids(prefix), "segment_label": expected_names},
            ["segment", "p_seg1", "p_seg2", "max_probability", "items_used"],
        )
    ]


def write_weighted(prefix: str, tmp: Path, small_model) -> list[tuple[Path, dict, list]]:
    """`segment weights rake` output (survey.tables.write_table), CSV and TSV."""
    from segment.survey.tables import write_table

    frame = pd.DataFrame(
        {
            "resp_id": _ids(prefix),
            "region": [f"{prefix}region"] * N,
            "weight": np.linspace(-0.5, 2.0, N),
            "age": np.arange(N) - 3,
        }
    )
    out = []
    for suffix in (".csv", ".tsv"):
        write_table(frame, tmp / f"weighted{suffix}")
        out.append(
            (
                tmp / f"weighted{suffix}",
                {"resp_id": _ids(prefix), "region": [f"{prefix}region"] * N},
                ["weight", "age"],
            )
        )
    return out


def write_synthetic(prefix: str, tmp: Path, small_model) -> list[tuple[Path, dict, list]]:
    """`segment synth`: the respondent file and the truth file (segment names)."""
    from segment.survey.codebook import Codebook
    from segment.synth.survey import SyntheticSurvey, write_survey

    data = pd.DataFrame({"resp_id": _ids(prefix), "weight": np.full(N, 1.0), "x": -np.ones(N)})
    truth = pd.DataFrame(
        {"resp_id": _ids(prefix), "segment": ["a"] * N, "segment_name": [f"{prefix}Loyal"] * N}
    )
    survey = SyntheticSurvey(
        data=data,
        codebook=Codebook.load(bundled_path("data", "kz2020_synthetic_codebook.yaml")),
        truth=truth,
        segment_ids=("a",),
        population_shares=np.ones(1),
        sample_shares=np.ones(1),
        item_categories={},
        item_probs={},
    )
    paths = write_survey(survey, tmp, "syn")
    return [
        (paths["data"], {"resp_id": _ids(prefix)}, ["weight", "x"]),
        (
            paths["truth"],
            {"resp_id": _ids(prefix), "segment_name": [f"{prefix}Loyal"] * N},
            [],
        ),
    ]


def write_listexp_survey(prefix: str, tmp: Path, small_model) -> list[tuple[Path, dict, list]]:
    """`segment synth listexp`: the list-experiment respondents and their true answers."""
    from segment.synth.listexp import write_table1_survey

    data = pd.DataFrame(
        {"resp_id": _ids(prefix), "y": np.arange(N) % 5 - 1, "region": [f"{prefix}r"] * N}
    )
    truth = pd.DataFrame({"resp_id": _ids(prefix), "sensitive": np.arange(N) % 2})
    write_table1_survey(data, truth, tmp / "le.csv", tmp / "le_truth.csv")
    return [
        (tmp / "le.csv", {"resp_id": _ids(prefix), "region": [f"{prefix}r"] * N}, ["y"]),
        (tmp / "le_truth.csv", {"resp_id": _ids(prefix)}, ["sensitive"]),
    ]


@pytest.mark.parametrize(
    "writer", [write_scored, write_weighted, write_synthetic, write_listexp_survey]
)
@pytest.mark.parametrize("prefix", ['=HYPERLINK("http://x")', "+1", "-1+1", "@SUM(1)", "\t", "\r"])
def test_every_csv_writer_neutralises_formulas_and_keeps_numbers(
    writer, prefix, tmp_path, small_model
):
    for path, text, numbers in writer(prefix, tmp_path, small_model):
        assert_neutralised(read_back(path), text, numbers)


def test_a_safe_csv_is_written_as_before(tmp_path):
    """No quote where none is needed: a table of plain text and negative numbers is the bytes
    pandas writes."""
    from segment.survey.tables import write_table

    frame = pd.DataFrame({"resp_id": ["a1", "b2"], "x": [-0.5, 1.25], "n": [-1, 2]})
    write_table(frame, tmp_path / "t.csv")
    expected = frame.to_csv(index=False, lineterminator="\n", float_format="%.10g")
    assert (tmp_path / "t.csv").read_text("utf-8") == expected


# ------------------------------------------------------------------ every Markdown writer


@pytest.fixture(scope="module")
def cards(small_model):
    """Profile cards of the small model (as `segment profile` builds them)."""
    from segment.cards.profile_stats import profile_segments
    from segment.cards.wording import build_cards
    from segment.survey.read import read_survey

    model, data = small_model
    frame, cb = read_survey(data, bundled_path("data", "kz2020_synthetic_codebook.yaml"))
    X = cb.model_codes(frame, model.items)
    profiles = profile_segments(model.estimator.predict_proba(X), frame, cb, items=model.items)
    return build_cards(profiles, cb)


def _odd_cards(cards, label: str) -> list:
    return [
        dataclasses.replace(
            card,
            name=label,
            tagline=label + " tagline",
            domain_titles={d: label for d in card.domain_titles},
            bullets=tuple(dataclasses.replace(b, text=label) for b in card.bullets[:3]),
            match={"reference_name": label, "reference_tagline": label, "named": True, "score": 1},
        )
        for card in cards
    ]


def profiles_md(cards: list, label: str) -> str:
    from segment.report.markdown import profiles_markdown

    return profiles_markdown(
        cards,
        title=label,
        share_base="respondents",
        min_cell=30,
        synthetic=True,
        typology_title=label,
    )


def profile_md(cards: list, label: str) -> str:
    from segment.cards.render import cards_to_markdown

    return cards_to_markdown(cards, explain=True, synthetic=True, title=label)


@pytest.mark.parametrize("writer", [profiles_md, profile_md])
@pytest.mark.parametrize("label", MARKUP)
def test_card_markdown_renders_no_html_from_labels(writer, label, cards):
    tags, text = rendered(writer(_odd_cards(cards, label), label))
    assert tags <= MARKDOWN_TAGS
    assert shown(label) in text


@pytest.fixture(scope="module")
def odd_listexp(tmp_path_factory):
    """The bundled list experiment with the three regions renamed to markup."""
    path = tmp_path_factory.mktemp("le") / "odd <b>list*.csv"
    d = pd.read_csv(bundled_path("data", "kz2022_listexp.csv"))
    d["region"] = d["region"].map(dict(zip(["almaty", "astana", "other"], MARKUP, strict=False)))
    d.to_csv(path, index=False)
    return path


def test_listexp_markdown_renders_no_html_from_the_data(odd_listexp, capsys):
    args = ["listexp", odd_listexp, "--J", "4", "--by", "region", "--published", "none"]
    code, out, err = run_cli([*args, "--format", "markdown"], capsys)
    assert code == 0, err
    tags, text = rendered(out)
    assert tags <= MARKDOWN_TAGS
    for label in [*MARKUP[:3], odd_listexp.name]:
        assert shown(label) in text


def test_compare_markdown_renders_no_html_from_names(small_model, tmp_path, capsys):
    from segment.segments.model_file import load_model, save_model

    model, data = small_model
    save_model(model, tmp_path / "m.json")
    model = load_model(tmp_path / "m.json")
    for seg, label in zip(model.segments, MARKUP, strict=False):
        seg["name"] = label
    save_model(model, tmp_path / "odd.json")
    labels = "<script>x</script>,a|b"
    code, out, err = run_cli(
        ["compare", tmp_path / "odd.json", data, data, "--labels", labels, "--format", "markdown"],
        capsys,
    )
    assert code == 0, err
    tags, text = rendered(out)
    assert tags <= MARKDOWN_TAGS
    for label in [*MARKUP[:2], "<script>x</script>", "a|b"]:
        assert shown(label) in text


# ------------------------------------------------------------------ figures


@pytest.mark.parametrize("usetex", [False, True])
def test_figures_draw_math_labels_as_written(usetex):
    """Labels with mathtext (one malformed) draw without error, also when the user's settings
    ask for LaTeX, and the user's settings are left as they were."""
    from segment.report import figures as F

    names = [*MATH, "plain"]
    pal = F.segment_palette(3)
    shares = pd.DataFrame(
        {"segment": [0, 1, 2], "share": [0.5, 0.3, 0.2], "ci_low": [0.4, 0.2, 0.1]}
    ).assign(ci_high=lambda d: d["share"] + 0.1)
    rows = shares.rename(columns={"share": "estimate"}).assign(label=names)
    waves = pd.DataFrame({"segment": [0, 1, 2], "name": names, "share_1": [0.5, 0.3, 0.2]}).assign(
        share_2=[0.4, 0.4, 0.2], se_1=0.01, se_2=0.01
    )
    with plt.rc_context({"text.usetex": usetex}):
        pngs = [
            F.shares_figure(shares, names, pal, xlabel=MATH[0]),
            F.support_figure(rows, overall=0.3, title=MATH[0], palette=pal),
            F.compare_figure(waves, pal, (MATH[0], MATH[1])),
            F.umap_figure(np.zeros((6, 2)), np.repeat([0, 1, 2], 2), names, pal),
        ]
        assert plt.rcParams["text.usetex"] is usetex
        assert plt.rcParams["text.parse_math"] is True
    assert all(png.startswith(b"\x89PNG") for png in pngs)


# ------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def odd_run(tmp_path_factory):
    """`segment run` (k = 2, no map) on 300 bundled respondents whose codebook's title,
    domain, item phrases and profile answer labels carry markup and math, and whose ids are
    formulas; then `segment score` of them with the segment names made formulas."""
    folder = tmp_path_factory.mktemp("odd")
    doc = yaml.safe_load(bundled_path("data", "kz2020_synthetic_codebook.yaml").read_text("utf-8"))
    doc["title"] = f"{MARKUP[0]} {MATH[0]}"
    for d in doc["domains"]:
        if d["name"] == "civic_rights":
            d["label"] = f"{MARKUP[1]} {MATH[1]}"
    for it in doc["items"]:
        if it["column"] == "cr_free_speech":
            it["short"] = f"{MARKUP[0]} {MATH[0]}"
        elif it["column"] == "dem_working":
            it["short"] = f"{MATH[1]} {MARKUP[2]}"
        elif it["column"] == "gender":
            it["short"] = f'=HYPERLINK("http://x") {MATH[0]}'
            it["levels"][1]["en"] = f"{MARKUP[0]} {MATH[1]}"
            it["levels"][1].pop("short", None)
    codebook = folder / "codebook.yaml"
    codebook.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    data = folder / "survey.csv"
    frame = pd.read_csv(bundled_path("data", "kz2020_synthetic.csv")).head(300)
    prefixes = FORMULAS[:5]
    frame["resp_id"] = [f"{prefixes[i % 5]}{i}" for i in range(len(frame))]
    frame.to_csv(data, index=False)
    return folder, data, codebook, frame["resp_id"].tolist()


def test_run_with_markup_and_math_in_the_codebook_writes_a_safe_report(odd_run, capsys):
    folder, data, codebook, ids = odd_run
    report = folder / "report"
    args = ["run", data, "--codebook", codebook, "--k", "2", "--no-map", "--typology", "none"]
    code, _, err = run_cli([*args, "--listexp", "none", "-o", report, "--quiet"], capsys)
    assert code == 0, err
    assert "Traceback" not in err
    tags, text = rendered((report / "profiles.md").read_text("utf-8"))
    assert tags <= MARKDOWN_TAGS
    assert shown(f"{MARKUP[0]} {MATH[0]}") in text  # the title, as written
    assert shown(f"{MARKUP[1]} {MATH[1]}") in text  # the domain heading
    page = (report / "index.html").read_text("utf-8")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert page.count("data:image/png;base64,") >= 3  # the figures were drawn

    model = report / "model.json"
    from segment.segments.model_file import load_model, save_model

    m = load_model(model)
    for seg, prefix in zip(m.segments, ['=HYPERLINK("http://x")', "@SUM(1)"], strict=True):
        seg["name"] = f"{prefix} segment"
    save_model(m, folder / "odd.json")
    scored = folder / "scored.csv"
    code, _, err = run_cli(["score", folder / "odd.json", data, "-o", scored, "--quiet"], capsys)
    assert code == 0, err
    rows = read_back(scored)
    assert [r["resp_id"] for r in rows] == ["'" + i for i in ids]
    assert {r["segment_label"][:2] for r in rows} <= {"'=", "'@"}
    assert all(float(r["max_probability"]) >= 0 for r in rows)
