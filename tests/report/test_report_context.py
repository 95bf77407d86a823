"""The report without hard-coded context: a survey that is not the Kazakh one (a generated US
"spending" battery, tests/report/spending_survey.py) gets no typology by default, a summary,
captions and "Who they are" from its own codebook, and population wording only when weighted."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
import spending_survey
from helpers import run_cli as run

from segment._escape import markdown_text
from segment.cards.profile_stats import _quartile_categories
from segment.cards.typology import Typology, typology_fits, typology_for
from segment.pipeline import run_analysis
from segment.report import build_html, write_report
from segment.report import writer as report_writer
from segment.report.figures import _wrap, chart_labels
from segment.report.markdown import profiles_markdown
from segment.resources import bundled_path
from segment.survey.codebook import Codebook


@pytest.fixture(scope="module")
def survey(tmp_path_factory) -> tuple[Path, Path]:
    return spending_survey.write(tmp_path_factory.mktemp("spending"))


@pytest.fixture(scope="module")
def weighted_survey(tmp_path_factory) -> tuple[Path, Path]:
    return spending_survey.write(tmp_path_factory.mktemp("spending_w"), weighted=True)


@pytest.fixture(scope="module")
def spending(survey):
    """The main job on the spending survey, with the default typology ("auto")."""
    return run_analysis(*survey, ks=[2, 3], embed=False, n_init=2, n_boot_select=2)


@pytest.fixture(scope="module")
def html(spending) -> str:
    return build_html(spending)


def _text(html: str) -> str:
    """The page without its embedded images."""
    return re.sub(r'src="data:[^"]+"', "", html)


# ------------------------------------------------------------------ the typology


@pytest.fixture(scope="module")
def kz_codebook() -> Codebook:
    return Codebook.load(bundled_path("data", "kz2020_synthetic_codebook.yaml"))


@pytest.fixture(scope="module")
def us_codebook(survey) -> Codebook:
    return Codebook.load(survey[1])


@pytest.mark.parametrize(
    ("which", "key", "requested", "expected"),
    [
        ("kz", "keep", "auto", "kz2020"),  # the bundled codebook says typology: kz2020
        ("kz", "keep", "AUTO", "kz2020"),
        ("kz", None, "auto", None),  # no typology: key, no typology
        ("kz", "no_such_typology", "auto", None),  # a key naming nothing that exists
        ("kz", "keep", "none", None),
        ("kz", "keep", None, None),
        ("kz", "keep", "kz2020", "kz2020"),
        ("us", "keep", "auto", None),  # the spending survey names no typology
        ("us", "kz2020", "auto", None),  # ... and does not ask kz2020's battery
        ("us", "keep", "kz2020", "kz2020"),  # an explicit name is used as asked
        ("us", "keep", " None ", None),
    ],
)
def test_typology_for_resolves_the_typology_option(
    kz_codebook, us_codebook, which, key, requested, expected
):
    cb = kz_codebook if which == "kz" else us_codebook
    if key != "keep":
        cb = dataclasses.replace(cb, typology=key)
    got = typology_for(cb, requested)
    assert (None if got is None else got.name) == expected


def test_typology_for_passes_a_typology_object_through(us_codebook):
    t = Typology.load("kz2020")
    assert typology_for(us_codebook, t) is t


@pytest.mark.parametrize(("which", "fits"), [("kz", True), ("us", False)])
def test_a_typology_fits_only_a_codebook_that_asks_its_battery(
    kz_codebook, us_codebook, which, fits
):
    cb = kz_codebook if which == "kz" else us_codebook
    assert typology_fits(cb, Typology.load("kz2020")) is fits


def test_a_typology_file_named_by_the_codebook_is_found_beside_it(tmp_path, kz_codebook):
    import shutil

    for name in ("kz2020.yaml", "kz2020_instrument.yaml"):
        shutil.copy(bundled_path("profiles", name), tmp_path / name.replace("kz2020", "mine"))
    text = (tmp_path / "mine.yaml").read_text("utf-8")
    (tmp_path / "mine.yaml").write_text(text.replace("kz2020_instrument", "mine_instrument"))
    cb = dataclasses.replace(
        kz_codebook, typology="mine.yaml", path=str(tmp_path / "codebook.yaml")
    )
    assert typology_for(cb).path == str(tmp_path / "mine.yaml")


def test_the_spending_survey_gets_no_typology_by_default(spending):
    assert spending.typology is None
    assert spending.k == 3


# ------------------------------------------------------------------ no Kazakh context


@pytest.mark.parametrize(
    "word",
    [
        "kz2020",
        "Kazakh",
        "CSTO",
        "civic rights",
        "Civic Rights",
        "adults",
        "--k",
        "2020",
        "typology",
        "Reference segment",
        "not at all important",
    ],
)
def test_a_report_on_another_survey_has_no_kazakh_context(html, word):
    assert word.lower() not in _text(html).lower()


def test_the_summary_names_the_battery_from_the_codebook(html):
    summary = re.search(r'<p class="lead">(.*?)</p>', html, re.S).group(1)
    assert "by their answers to 6 questions on Government spending." in summary
    assert "fall into 3 attitude segments" in summary
    assert "of respondents" in summary


def test_the_summary_lists_several_domains_in_the_codebooks_order(bundled_report):
    html = (bundled_report / "index.html").read_text("utf-8")
    summary = re.search(r'<p class="lead">(.*?)</p>', html, re.S).group(1)
    assert (
        "39 questions in 7 areas: Civic Rights, Democracy, Trust, Civic Sector, Governance, "
        "External threat and Optimism." in summary
    )
    assert "of adults aged 18 and over in Kazakhstan" in summary


def test_the_heatmap_caption_quotes_the_codebooks_own_answers(html):
    assert "0 = the lowest answer, e.g. “Too little”; 100 = the highest, e.g. “Too much”" in html


# ------------------------------------------------------------------ who they are


@pytest.mark.parametrize("variable", ["age", "sex", "region"])
def test_who_they_are_draws_the_codebooks_profile_items(html, variable):
    assert f'alt="Composition of each segment by {variable}"' in html


def test_who_they_are_says_which_profile_items_it_leaves_out(html):
    assert "Not drawn: state (12 categories, too many to draw)." in html
    assert "Composition of each segment by state" not in html
    assert "Age: split at the sample's quartiles" in html


def test_a_number_without_bands_is_profiled_by_quartile_groups(spending):
    d = spending.profiles.demographics
    groups = list(dict.fromkeys(d.loc[d["variable"] == "age", "category"]))
    assert len(groups) == 4
    assert groups[0].startswith("under ") and groups[-1].endswith(" and over")


@pytest.mark.parametrize(
    ("values", "labels"),
    [
        (np.arange(18, 90, dtype=float), ["under 35", "35-52", "53-70", "71 and over"]),
        (np.array([0, 0, 0, 1, 1, 2.0]), ["under 1", "1 and over"]),
        (np.array([1.5, 2.5, 3.5, 4.5, 5.5, np.nan]), ["under 2.5", "2.5 to under 3.5"]),
        (np.array([3.0, 3.0, 3.0]), None),  # one value: no groups
        (np.array([np.nan, np.nan]), None),
    ],
)
def test_quartile_groups_never_print_the_samples_extremes(values, labels):
    groups = _quartile_categories(values)
    if labels is None:
        assert groups is None
        return
    names = [name for name, _ in groups]
    assert names[: len(labels)] == labels
    known = values[np.isfinite(values)]
    assert not any(f"{known.min():g}" in n or f"{known.max():g}" in n for n in names)
    masks = np.array([m for _, m in groups])
    assert (masks.sum(axis=0) == np.isfinite(values)).all()  # every answer in one group


def test_a_codebook_without_profile_items_says_so(spending):
    cb = spending.codebook
    items = tuple(dataclasses.replace(it, role="ignored") if it.is_profile else it for it in cb)
    empty = spending.profiles.demographics.iloc[0:0]
    a = dataclasses.replace(
        spending,
        codebook=dataclasses.replace(cb, items=items),
        profiles=dataclasses.replace(spending.profiles, demographics=empty),
    )
    page = build_html(a)
    assert "declares no profile variables" in page
    assert "Composition of each segment" not in page


# ------------------------------------------------------------------ population wording


@pytest.mark.parametrize(
    ("weighted", "population", "base"),
    [
        (False, True, "respondents"),  # unweighted: shares of respondents, whatever it says
        (True, True, "adults aged 18 and over in the United States"),
        (True, False, "the population"),
    ],
)
def test_population_wording_only_when_weighted(spending, weighted, population, base):
    a = dataclasses.replace(
        spending,
        summary=dataclasses.replace(spending.summary, weighted=weighted),
        codebook=dataclasses.replace(
            spending.codebook, population=spending_survey.POPULATION if population else None
        ),
    )
    page = _text(build_html(a))
    assert f"Share of {base} in each segment" in page
    assert f"% of {base} (95% interval" in page  # the cards
    assert f"of {base}; the others are" in page  # the summary
    if base == "respondents":
        assert "United States" not in page


def test_a_weighted_survey_uses_the_codebooks_population(weighted_survey):
    a = run_analysis(*weighted_survey, k=3, embed=False, n_init=2)
    page = build_html(a)
    assert "Share of adults aged 18 and over in the United States in each segment" in page
    assert "survey weights applied" in page


# ------------------------------------------------------------------ choosing k


def test_without_a_selection_table_k_is_said_to_be_set_by_the_analyst(spending):
    a = dataclasses.replace(spending, selection=None, k_reason="k = 3 was set by the analyst.")
    page = build_html(a)
    assert "3 segments. k = 3 was set by the analyst." in page
    assert "No other numbers of segments were compared for this run" in page
    assert "BIC and bootstrap stability" not in page
    assert '<th class="num">BIC</th>' not in page


def test_advice_about_k_comes_from_the_selection_table(spending):
    sel = spending.selection
    assert sel.recommended == 3 and spending.k == 3
    page = _text(build_html(spending))
    assert "3 segments. Lowest BIC" in page and "rule would choose" not in page
    # the analyst set k = 3 but the table would choose 2: the table's own choice is given,
    # never a typology's size
    table = sel.table.assign(bic=[1.0, 2.0])
    chose_2 = dataclasses.replace(sel, table=table, recommended=2, reason="lowest BIC (1.0)")
    a = dataclasses.replace(spending, selection=chose_2, k_reason="k = 3 was set by the analyst.")
    page = _text(build_html(a))
    assert (
        "3 segments. k = 3 was set by the analyst. On this comparison the rule would choose "
        "k = 2: lowest BIC (1.0)." in page
    )
    assert "--k" not in page
    # a table whose BIC still falls at its largest k says so
    table = sel.table.assign(bic=[3.0, 2.0])
    b = dataclasses.replace(spending, selection=dataclasses.replace(sel, table=table))
    assert "BIC is lowest at the largest number compared (k = 3)" in build_html(b)


@pytest.mark.parametrize(("typology_size", "advice"), [(6, True), (3, False)])
def test_the_typology_hint_names_only_the_typologys_own_size(spending, typology_size, advice):
    t = Typology.load("kz2020")
    t = dataclasses.replace(t, segments=t.segments[:typology_size])
    page = build_html(dataclasses.replace(spending, typology=t))
    assert (f"<code>--k {typology_size}</code>" in page) is advice
    assert "--k 6" not in build_html(spending)


# ------------------------------------------------------------------ respondents not asked


def test_the_methods_say_how_many_respondents_were_not_asked(spending, html):
    n_out = spending.n_not_asked
    assert n_out > 0
    n = spending.summary.n
    assert (
        f"{n_out:,} of the {n:,} respondents were not asked these questions (or answered none "
        f"of them) and are in no segment: they are left out of the model, and the segment "
        f"sizes, their intervals and the profiles describe the other {n - n_out:,}." in html
    )
    summary = re.search(r'<p class="lead">(.*?)</p>', html, re.S).group(1)
    assert summary.startswith(f"This report segments {n - n_out:,} respondents")
    assert f"{n_out:,} of the {n:,} respondents were not asked these questions" in summary


def test_one_respondent_not_asked_is_one_respondent(spending):
    page = build_html(dataclasses.replace(spending, n_not_asked=1))
    n = spending.summary.n
    assert (
        f"One of the {n:,} respondents was not asked these questions (or answered none of "
        "them) and is in no segment" in page
    )
    assert f"This report segments {n - 1:,} respondents" in page
    assert "The other 1" not in page and "1 of the" not in page


def test_a_report_where_everyone_was_asked_says_nothing_of_it(spending):
    page = build_html(dataclasses.replace(spending, n_not_asked=0))
    assert "not asked" not in page


# ------------------------------------------------------------------ names on charts


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("Angry Liberals", 16, "Angry Liberals"),
        ("Disenchanted Democrats", 16, "Disenchanted\nDemocrats"),
        ("Low on welfare, Low on foreign aid, High on the military, Women", 16,
         "Low on welfare,\nLow on foreign…"),
        ("Averyveryveryverylongwordthatcannot", 16, "Averyveryveryverylongwordthatcannot"),
        ("Low on conditions of Blacks, High", 16, "Low on\nconditions of…"),
        ("Low, on\n welfare  ", 40, "Low, on welfare"),
    ],
)  # fmt: skip
def test_chart_labels_wrap_to_two_lines_with_an_ellipsis(text, width, expected):
    assert _wrap(text, width) == expected


class _ShortCard:
    """A card with a short label (as segment.cards will give them)."""

    def __init__(self, card, short):
        self._card, self.short_label = card, short

    def __getattr__(self, name):
        return getattr(self._card, name)


def test_charts_use_the_cards_short_label_and_tables_the_full_name(spending, monkeypatch):
    cards = [_ShortCard(c, f"Short {c.segment}") for c in spending.cards]
    a = dataclasses.replace(spending, cards=cards)
    seen = {}
    real = report_writer.figures.shares_figure

    def spy(shares, names, palette, **kw):
        seen["names"] = list(names)
        return real(shares, names, palette, **kw)

    monkeypatch.setattr(report_writer.figures, "shares_figure", spy)
    page = build_html(a)
    assert seen["names"] == [f"Short {s}" for s in range(a.k)]
    for card in spending.cards:
        assert f"</span>{card.name}</td>" in page  # the sizes table: full names
        assert f"<h3>{card.name}</h3>" in page  # the cards


def test_without_short_labels_charts_fall_back_to_the_full_names(spending):
    # a card given no short label takes its name as one (ProfileCard.__post_init__)
    cards = [dataclasses.replace(c, short_label="") for c in spending.cards]
    a = dataclasses.replace(spending, cards=cards)
    names = report_writer.segment_names(a)
    assert report_writer.chart_names(a, names) == names
    assert names == [c.name for c in sorted(spending.cards, key=lambda c: c.segment)]


# ------------------------------------------------------------------ escaping, determinism


def test_user_supplied_labels_are_escaped(spending):
    cb = spending.codebook
    domains = tuple(
        dataclasses.replace(d, label="<b>Spending</b> & co") if d.name == "spending" else d
        for d in cb.domains
    )
    cb = dataclasses.replace(cb, domains=domains, population="<i>adults</i>")
    a = dataclasses.replace(
        spending, codebook=cb, summary=dataclasses.replace(spending.summary, weighted=True)
    )
    page = build_html(a)
    assert "<b>Spending" not in page and "<i>adults" not in page
    assert "6 questions on &lt;b&gt;Spending&lt;/b&gt; &amp; co." in page
    assert "of &lt;i&gt;adults&lt;/i&gt;" in page


def test_the_same_analysis_gives_the_same_page(spending, html):
    assert build_html(spending) == html


# ------------------------------------------------------------------ the commands


@pytest.mark.parametrize("typology", ["none", "auto"])
def test_run_on_another_survey_with_or_without_auto(tmp_path, capsys, survey, typology):
    data, codebook = survey
    out = tmp_path / "report"
    args = ["run", data, "--codebook", codebook, "--k", "3", "--no-map", "--typology", typology]
    code, stdout, _ = run([*args, "-o", out], capsys)
    assert code == 0
    assert "reference" not in stdout and "kz2020" not in stdout
    page = (out / "index.html").read_text("utf-8")
    assert "kz2020" not in _text(page) and "Reference segment" not in page
    assert json.loads((out / "model.json").read_text("utf-8")).get("typology") is None


def test_fit_and_profile_with_no_typology(tmp_path, capsys, survey):
    data, codebook = survey
    model = tmp_path / "model.json"
    args = ["fit", data, "--codebook", codebook, "--k", "3", "--n-init", "2"]
    code, _, err = run([*args, "--typology", "none", "-o", model], capsys)
    assert code == 0, err
    for typology in ("none", "auto"):
        code, out, err = run(
            ["profile", model, data, "--typology", typology, "--format", "json"], capsys
        )
        assert code == 0, err
        payload = json.loads(out)
        assert payload["typology"] is None
        assert all(not s.get("match") for s in payload["segments"])
        code, out, err = run(["profile", model, data, "--typology", typology], capsys)
        assert code == 0, err
        assert "kz2020" not in out and "match" not in out


def test_run_analysis_names_the_bundled_survey_after_kz2020_through_its_codebook(k6):
    assert k6.typology is not None and k6.typology.name == "kz2020"


@pytest.fixture(scope="module")
def k6():
    return run_analysis(
        bundled_path("data", "kz2020_synthetic.csv"),
        bundled_path("data", "kz2020_synthetic_codebook.yaml"),
        k=6,
        ks=[],
        embed=False,
        n_init=2,
    )


def test_the_bundled_report_still_reads_like_the_2020_study(k6):
    page = _text(build_html(k6))
    assert "6 of the 6 segments match one of the 6 segments of the reference typology" in page
    assert "Reference segment (kz2020)" in page
    assert "in the layout of the reference typology (Segmentation of Kazakh population" in page
    assert "findings about adults aged 18 and over in Kazakhstan" in page


def test_write_report_on_another_survey(tmp_path, spending):
    folder = write_report(spending, tmp_path / "r")
    assert sorted(p.name for p in folder.iterdir()) == [
        ".segment-output",
        "index.html",
        "model.json",
        "profiles.md",
    ]


def test_chart_labels_add_lines_until_every_segment_is_told_apart():
    names = [
        "Low on spending on space exploration, High on Social Security",
        "Low on spending on space exploration, High on childcare",
        "Angry Liberals",
    ]
    labels = chart_labels(names, 20)
    assert len(set(labels)) == 3
    assert labels[2] == "Angry Liberals"
    assert all(line.endswith(("…", *(w for w in " ".join(names).split()))) for line in labels)
    for label, name in zip(labels, names, strict=True):  # whole words only, in order
        words = label.replace("…", "").split()
        assert words == name.split()[: len(words)]


# ------------------------------------------------------------------ profiles.md


def test_profiles_markdown_speaks_of_respondents_and_names_no_typology(tmp_path, spending):
    md = (write_report(spending, tmp_path / "r") / "profiles.md").read_text("utf-8")
    assert md.startswith("# Segment profiles: National spending priorities")
    assert "% of respondents (95% interval" in md
    assert "### Government spending" in md
    assert "typology" not in md.lower() and "reference" not in md.lower()
    assert "SYNTHETIC" not in md


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<b>Spending</b> & *co*", r"&lt;b&gt;Spending&lt;/b&gt; &amp; \*co\*"),
        ("# one", r"\# one"),
        ("1. two", r"1\. two"),
        ("- x", r"\- x"),
        ("a_b [c](d)", r"a\_b \[c\](d)"),
        ("Low on welfare, High\n on arms", "Low on welfare, High on arms"),
        ("2020 poll", "2020 poll"),
    ],
)
def test_markdown_escapes_what_the_codebook_says(text, expected):
    assert markdown_text(text) == expected


def test_profiles_markdown_escapes_names_and_domain_titles(spending):
    card = spending.cards[0]
    odd = dataclasses.replace(
        card,
        name="*Bold* <i>name</i>",
        domain_titles={d: f"# {t} & _co_" for d, t in card.domain_titles.items()},
    )
    md = profiles_markdown(
        [odd], title="A [poll]", share_base="respondents", min_cell=30, synthetic=False
    )
    assert "## \\*Bold\\* &lt;i&gt;name&lt;/i&gt;" in md
    assert "### \\# Government spending &amp; \\_co\\_" in md
    assert "# Segment profiles: A \\[poll\\]" in md


# ------------------------------------------------------------------ no typology, every path


@pytest.fixture(scope="module")
def bundled_without_typology():
    """The bundled survey and list experiment, with --typology none."""
    from segment.pipeline import ListExperiment

    return run_analysis(
        bundled_path("data", "kz2020_synthetic.csv"),
        bundled_path("data", "kz2020_synthetic_codebook.yaml"),
        k=4,
        ks=[],
        embed=False,
        n_init=2,
        n_boot_support=20,
        typology="none",
        listexp=ListExperiment(
            bundled_path("data", "kz2022_listexp.csv"),
            J=4,
            by=("gender",),
            synthetic=True,
            label="support for CSTO membership",
        ),
    )


def test_the_bundled_survey_with_no_typology_renders_every_section(
    tmp_path, bundled_without_typology
):
    a = bundled_without_typology
    assert a.typology is None
    folder = write_report(a, tmp_path / "r")
    page = _text((folder / "index.html").read_text("utf-8"))
    md = (folder / "profiles.md").read_text("utf-8")
    for text in (page, md):
        text = text.replace(a.title, "")  # the data's title says it was generated from kz2020
        assert "typology" not in text.lower() and "kz2020" not in text
        assert "reference segment" not in text.lower() and "--k 6" not in text
    assert ">Support for the sensitive item: support for CSTO membership</h2>" in page
    assert page.count("SYNTHETIC DATA") == 2  # the survey and the list experiment
    assert "4 segments. k = 4 was set by the analyst." in page
    assert "No other numbers of segments were compared for this run" in page


# ------------------------------------------------------------------ hostile text


@pytest.mark.parametrize("control", ["\u202e", "\x1b[2J", "\x07", "\x9b", "\r"])
def test_control_characters_in_labels_are_shown_not_obeyed(spending, control):
    """A bidi override or terminal escape in a codebook title or segment name reaches the page
    and profiles.md as a visible escape (its ``repr``), never as the character."""
    title = f"Poll {control} title"
    a = dataclasses.replace(
        spending, codebook=dataclasses.replace(spending.codebook, title=title), title=title
    )
    cards = [dataclasses.replace(c, name=f"Segment{control}name") for c in a.cards]
    a = dataclasses.replace(a, cards=cards)
    page = build_html(a)
    markdown = profiles_markdown(
        cards, title=title, share_base="respondents", min_cell=30, synthetic=False
    )
    visible = f"Poll {repr(control)[1:-1]} title"
    assert control not in page and control not in markdown
    assert visible in page
    assert markdown_text(visible) in markdown  # rendered, it reads as the visible escape


def test_a_profile_variable_with_every_cell_withheld_is_not_drawn(spending):
    """A panel that would be all grey (a small group and its complement in every row) is left
    out, with the reason under "Who they are"."""
    demographics = spending.printed.demographics
    variable = demographics["variable"].iloc[0]
    hidden = demographics["variable"] == variable
    published = dataclasses.replace(
        spending.printed,
        demographics=demographics.assign(
            share=demographics["share"].mask(hidden),
            sample_share=demographics["sample_share"].mask(hidden),
        ),
    )
    a = dataclasses.replace(spending, published=published)
    drawn, notes = report_writer.profile_variables(a)
    label = a.codebook[variable].short or variable
    assert variable not in drawn
    assert f"{label} (every cell describes fewer than 30 respondents or would reveal one)" in notes
    assert variable in report_writer.profile_variables(spending)[0]
