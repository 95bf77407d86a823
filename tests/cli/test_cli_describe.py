"""`segment describe`: validate a survey against its codebook and summarise it."""

from __future__ import annotations

import re

from helpers import run_cli as run


def test_describe_without_arguments_validates_and_summarises_the_bundled_survey(capsys):
    code, out, _ = run(["describe"], capsys)
    assert code == 0
    assert "SYNTHETIC DATA" in out
    assert "1,500 respondents" in out
    assert re.search(r"design effect 1\.\d\d \(Kish\)", out)
    for domain in (
        "civic_rights",
        "democracy",
        "trust",
        "civic_sector",
        "governance",
        "external",
        "optimism",
    ):
        assert domain in out


def test_describe_suppresses_small_cells_and_never_prints_ids(capsys, bundled_survey):
    import pandas as pd

    code, out, _ = run(["describe"], capsys)
    assert code == 0
    assert "suppressed" in out  # e.g. small ethnic groups
    ids = pd.read_csv(bundled_survey[0], usecols=["resp_id"])["resp_id"].astype(str)
    assert not any(i in out for i in ids)
    composition = out[out.index("Composition") :]
    counts = [
        int(c.replace(",", "")) for c in re.findall(r"│\s+([\d,]+) │\s+[\d.]+% │", composition)
    ]
    assert counts and min(counts) >= 30


def test_describe_on_a_file_that_violates_its_codebook_exits_2_listing_problems(
    tmp_path, capsys, bundled_survey
):
    data, codebook, _ = bundled_survey
    lines = data.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[5].split(",")
    row[header.index("trust_army")] = "7"
    lines[5] = ",".join(row)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _out, err = run(["describe", str(bad), "--codebook", str(codebook)], capsys)
    assert code == 2
    assert (
        "trust_army, row 5: value 7: code not in the codebook; expected one of 1-4; "
        "8 (don't know); 9 (refused) or blank" in err
    )


def test_describe_drafts_a_codebook_when_none_is_given(capsys, shared_data):
    code, out, _ = run(["describe", str(shared_data / "lca" / "gss82.csv")], capsys)
    assert code == 0
    assert "1,202 respondents" in out


def test_no_suppressed_category_is_the_sample_minus_the_others(capsys, bundled_survey):
    """The categories of a variable add up to the respondents printed above them: a lone
    suppressed category (25 "Other language" speakers beside 1,475 shown) would be 1,500
    minus the others, so one more is withheld; every count and share follows the same rule."""
    import numpy as np
    import pandas as pd

    data, codebook, _ = bundled_survey
    code, out, _ = run(["describe", data, "--codebook", codebook], capsys)
    assert code == 0
    n = int(re.search(r"Valid against its codebook: ([\d,]+) respondents", out)[1].replace(",", ""))
    frame = pd.read_csv(data)
    rows, variable = [], None
    for line in out[out.index("Composition") :].splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 4 and cells[2] and cells[3].endswith(("%", "suppressed", "withheld")):
            variable = cells[0] or variable
            rows.append((variable, cells[1], cells[2]))
    table = pd.DataFrame(rows, columns=["variable", "category", "n"])
    assert {"language", "ethnicity"} <= set(table["variable"])
    for name, group in table.groupby("variable"):
        shown = group["n"].str.replace(",", "").str.isdigit()
        known = frame[name].notna().sum() if name in frame else n
        hidden_total = n - group.loc[shown, "n"].str.replace(",", "").astype(int).sum()
        hidden = int((~shown).sum()) + int(known < n)  # the respondents with no category
        assert hidden != 1 or hidden_total == 0, name
        if hidden_total:
            assert hidden_total >= 30 or hidden == 0, name
    language = table[table["variable"] == "language"].set_index("category")["n"]
    assert language["Other language"] == "<30" and (language == "–").sum() == 1
    assert np.isin(["–", "<30"], table["n"]).all()
