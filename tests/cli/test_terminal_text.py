"""User-supplied text never acts on the terminal (issue 17; README, "Outputs that never harm").

Labels, item, column, segment and typology names, file names and cell values quoted in errors
are printed literally: no rich markup in them is read (``[bold red]``, ``[link=...]``, a stray
``[/]`` that used to be a MarkupError and a traceback), and no control character reaches the
terminal (ANSI CSI, OSC 8 links, BEL, carriage return, the bidi override U+202E, the one-byte
C1 CSI): each shows as the escape Python's ``repr`` writes (``\\x1b``). Every hostile string is
placed in a codebook (title, item label, level label, domain label), a typology (segment names),
a data file (column names, group values, a bad cell) and a file name, and the real commands run
in-process on small files.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from segment._escape import (
    is_terminal_control,
    markdown_text,
    terminal_json,
    terminal_text,
    visible_controls,
)
from segment.cli import main
from segment.cli._common import Table, TerminalConsole
from segment.resources import bundled_path

HOSTILE = {
    "markup": "[bold red]x[/] [link=http://e.vil]y[/link]",
    "stray-close": "a[/]b",
    "csi": "\x1b[2J\x1b[31mz",
    "osc8": "\x1b]8;;http://e.vil\x1b\\w\x1b]8;;\x1b\\",
    "bel": "b\x07e\x1b]0;t\x07",
    "cr": "fake\rreal",
    "bidi": "abc\u202efed",
    "c1": "\x9b2Jc",
}
IDS = list(HOSTILE)
#: The hostile strings run through the commands end to end (one set of files and one fit
#: each): markup, a terminal escape, a carriage return and a bidi override; the console tests
#: below take every string.
FILE_CASES = {key: HOSTILE[key] for key in ("markup", "csi", "cr", "bidi")}

#: What no output may hold, written out here rather than taken from the code under test: C0
#: controls but line feed and tab, DEL, C1 controls, the bidi marks, embeddings, overrides and
#: isolates.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CONTROLS = {"\x1b", "\x07", "\r", "\b", "\u202e", "\x9b"}


def shown(text: str) -> str:
    """``text`` as the user must see it: each control character as ``repr`` writes it."""
    return "".join(repr(c)[1:-1] if c in CONTROLS else c for c in text)


def flat(text: str) -> str:
    """White space folded, so that a wrapped paragraph still holds a phrase."""
    return " ".join(text.split())


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run(*args) -> Result:
    """``segment ARGS`` in-process, stdout and stderr captured as a terminal gets them: UTF-8,
    strict (a lone surrogate would fail to print)."""
    streams = [io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True) for _ in "oe"]
    with contextlib.redirect_stdout(streams[0]), contextlib.redirect_stderr(streams[1]):
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in args])
    out, err = (s.buffer.getvalue().decode("utf-8") for s in streams)
    return Result(exc.value.code, out, err)


def assert_safe(result: Result, code: int = 0) -> str:
    """The exit code, no traceback, no control character in either stream; the whole output."""
    text = result.text
    assert result.code == code, text
    assert "Traceback" not in text, text
    assert not FORBIDDEN.search(text), sorted({hex(ord(c)) for c in FORBIDDEN.findall(text)})
    assert not any(is_terminal_control(c) for c in text)
    return text


# ----------------------------------------------------------------------------- the files
@dataclass
class Files:
    hostile: str
    folder: Path
    data: Path
    codebook: Path
    typology: Path

    def label(self, prefix: str) -> str:
        return f"{prefix}{self.hostile}"

    @property
    def csv(self) -> str:
        return in_csv(self.hostile)


def _codebook(h: str) -> dict:
    doc = yaml.safe_load(bundled_path("data", "kz2020_synthetic_codebook.yaml").read_text("utf-8"))
    doc["title"] = f"T:{h}"
    for it in doc["items"]:
        if it["column"] == "cr_free_speech":
            it["short"] = f"S:{h}"
        elif it["column"] == "opt_economy":
            it["column"] = f"E:{in_csv(h)}"
        elif it["column"] == "gender":
            it["column"] = f"G:{in_csv(h)}"
            it["levels"][1]["en"] = f"L:{h}"
    for d in doc["domains"]:
        if d["name"] == "civic_rights":
            d["label"] = f"D:{h}"
    return doc


def _typology(h: str) -> dict:
    doc = yaml.safe_load(bundled_path("profiles", "kz2020.yaml").read_text("utf-8"))
    doc["instrument"] = str(bundled_path("profiles", "kz2020_instrument.yaml"))
    for i, s in enumerate(doc["segments"]):
        s["name"] = f"N{i}:{h}"
    return doc


def _write_yaml(path: Path, doc: dict) -> Path:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def in_csv(h: str) -> str:
    """``h`` for a column name or cell of a CSV file: a carriage return cannot be in one (the
    reader refuses the file, :func:`test_a_carriage_return_in_a_csv_header_is_refused`), so a
    backspace, which also rewrites what is shown, takes its place."""
    return h.replace("\r", "\b")


def _survey(h: str) -> pd.DataFrame:
    h = in_csv(h)
    frame = pd.read_csv(bundled_path("data", "kz2020_synthetic.csv")).head(200)
    return frame.rename(columns={"opt_economy": f"E:{h}", "gender": f"G:{h}"})


@pytest.fixture(scope="module", params=list(FILE_CASES))
def files(request, tmp_path_factory) -> Files:
    h = FILE_CASES[request.param]
    folder = tmp_path_factory.mktemp(f"hostile-{request.param}")
    data = folder / "survey.csv"
    _survey(h).to_csv(data, index=False)
    codebook = _write_yaml(folder / "codebook.yaml", _codebook(h))
    typology = _write_yaml(folder / "typology.yaml", _typology(h))
    return Files(h, folder, data, codebook, typology)


@pytest.fixture(scope="module")
def fitted(files) -> tuple[Files, Path, Result]:
    """``segment fit`` on the hostile files, named after the hostile typology (run once)."""
    model = files.folder / "model.json"
    result = run(
        "fit", files.data, "--codebook", files.codebook, "--k", "2", "--n-init", "1",
        "--typology", files.typology, "-o", model,
    )  # fmt: skip
    return files, model, result


# ----------------------------------------------------------------------------- (a) codebook
def test_describe_prints_the_codebook_labels_and_column_names_as_written(files):
    text = assert_safe(run("describe", files.data, "--codebook", files.codebook))
    for label in ("T:", "L:"):  # the title (the rule) and a level label (a table cell)
        assert shown(files.label(label)) in text
    assert shown(f"G:{files.csv}") in text  # a column name


def test_codebook_check_quotes_a_bad_cell_and_its_column_as_written(files, tmp_path):
    frame = _survey(files.hostile)
    column, value = f"G:{files.csv}", f"V:{files.csv}"
    frame[column] = frame[column].astype(object)
    frame.loc[2, column] = value
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    text = assert_safe(run("codebook", "check", files.codebook, bad), code=2)
    assert shown(column) in text
    assert repr(value) in text  # the value, quoted as the message quotes it
    text = assert_safe(run("describe", bad, "--codebook", files.codebook), code=2)
    assert repr(value) in text and "problem" in text
    result = run("codebook", "check", files.codebook, bad, "--format", "json")
    assert_safe(result, code=2)
    problems = json.loads(result.out)["problems"]
    assert {p["where"] for p in problems} == {column}
    assert {p["value"] for p in problems} == {value}  # the same text, escaped


def test_codebook_check_of_a_clean_file(files):
    text = assert_safe(run("codebook", "check", files.codebook, files.data))
    assert "OK against" in text


# ----------------------------------------------------------------------------- (b) typology
def test_fit_prints_segment_and_item_names_as_written(fitted):
    files, _, result = fitted
    text = assert_safe(result)
    assert shown(f"E:{files.csv}") in text  # "Segmenting on 39 items: ..."
    assert re.search(rf"N\d:{re.escape(shown(files.hostile))} \d+%", text), text


def test_profile_prints_cards_named_after_the_typology_as_written(fitted):
    files, model, _ = fitted
    args = ["profile", model, files.data, "--codebook", files.codebook]
    args += ["--typology", files.typology, "--min-cell", "5"]
    text = assert_safe(run(*args))
    folded = flat(shown(files.hostile))  # the \r made visible, then white space folded
    assert re.search(rf"N\d:{re.escape(folded)}", flat(text)), text
    assert f"S:{folded}" in flat(text)  # an item label in a bullet
    assert f"D:{folded}" in flat(text)  # a domain's heading


def test_typology_check_quotes_segment_names_and_its_path_as_written(files, tmp_path):
    text = assert_safe(run("typology", "check", files.typology))
    assert "OK (6 segments" in text
    doc = _typology(files.hostile)
    doc["segments"][1]["name"] = doc["segments"][0]["name"]
    twice = _write_yaml(tmp_path / "twice.yaml", doc)
    text = assert_safe(run("typology", "check", twice), code=2)
    name = f"N0:{files.hostile}"
    assert f"value {name!r}: used by two segments" in text


# ----------------------------------------------------------------------------- (c) data
def _listexp(h: str, folder: Path) -> Path:
    """The bundled list experiment, its region column and one region named with ``h``. (All its
    17 columns: with 4 the reader would take the semicolons of an OSC 8 link for the
    delimiter.)"""
    frame = pd.read_csv(bundled_path("data", "kz2022_listexp.csv"))
    frame = frame.rename(columns={"region": f"R:{h}"})
    frame[f"R:{h}"] = frame[f"R:{h}"].where(frame[f"R:{h}"] != "almaty", f"A:{h}")
    path = folder / "listexp.csv"
    frame.to_csv(path, index=False)
    return path


def test_listexp_prints_groups_and_columns_as_written_and_quotes_a_bad_count(files, tmp_path):
    h = files.csv
    data = _listexp(h, tmp_path)
    text = assert_safe(run("listexp", data, "--J", "4", "--by", f"R:{h}", "--min-cell", "10"))
    assert shown(f"R:{h}") in text and shown(f"A:{h}") in text
    result = run("listexp", data, "--J", "4", "--by", f"R:{h}", "--format", "json")
    assert_safe(result)
    assert f"A:{h}" in {g["group"] for g in json.loads(result.out)["groups"]}
    frame = pd.read_csv(data)
    frame["y"] = frame["y"].astype(object)
    frame.loc[4, "y"] = f"Y:{h}"
    frame.to_csv(data, index=False)
    text = assert_safe(run("listexp", data, "--J", "4"), code=2)
    assert repr(f"Y:{h}") in text


def test_a_carriage_return_in_a_csv_header_is_refused(tmp_path):
    data = tmp_path / "cr.csv"
    data.write_bytes(b'resp_id,"a\rb",c\n1,2,3\n2,3,4\n')
    text = assert_safe(run("listexp", data, "--J", "4"), code=2)
    assert str(data) in text


# ----------------------------------------------------------------------------- (d) file names
def _hostile_path(folder: Path, h: str, suffix: str) -> Path:
    """``folder/f<h><suffix>``; a ``/`` in ``h`` makes folders (a file name cannot hold it)."""
    path = folder.joinpath(*f"f{h}{suffix}".split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_file_names_are_printed_as_written(files, tmp_path):
    h = files.hostile
    data = _hostile_path(tmp_path / "d", h, ".csv")
    data.write_bytes(files.data.read_bytes())
    codebook = _hostile_path(tmp_path / "c", h, ".yaml")
    codebook.write_bytes(files.codebook.read_bytes())
    typology = _hostile_path(tmp_path / "t", h, ".yaml")
    typology.write_bytes(files.typology.read_bytes())

    text = assert_safe(run("describe", data, "--codebook", codebook))
    assert f"File: {shown(str(data))}" in text
    text = assert_safe(run("codebook", "check", codebook, data))
    assert f"{shown(str(data))}: OK against {shown(str(codebook))}" in text
    text = assert_safe(run("typology", "check", typology))
    assert f"{shown(str(typology))}: OK" in text
    output = _hostile_path(tmp_path / "o", h, ".yaml")
    text = assert_safe(run("codebook", "infer", data, "-o", output))
    assert f"Wrote {shown(str(output))}: " in text
    text = assert_safe(run("codebook", "infer", data, "-o", output), code=2)  # a click error
    assert f"output exists and would be replaced: {shown(str(output))}" in text
    missing = Path(f"{tmp_path / 'm'}{h}.json")
    text = assert_safe(run("profile", missing, data), code=2)
    assert shown(str(missing)) in text  # the missing model is named
    listexp = _hostile_path(tmp_path / "l", h, ".csv")
    listexp.write_bytes(_listexp("plain", tmp_path).read_bytes())
    text = assert_safe(run("listexp", listexp, "--J", "4", "--format", "markdown"))
    assert shown(markdown_text(listexp.name)) in text  # the Markdown's escaping, then ours


def test_a_file_name_that_is_not_utf8_is_printed_as_its_escape(tmp_path):
    """A name read from a Linux folder as ``surrogateescape`` text cannot be printed as it is:
    on a strict UTF-8 stdout (the default outside the C locale) its lone surrogate ended
    ``segment describe`` in a UnicodeEncodeError and a traceback."""
    data = tmp_path / "survey\udcff.csv"
    try:
        data.write_bytes(bundled_path("data", "kz2020_synthetic.csv").read_bytes())
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses the name")
    codebook = bundled_path("data", "kz2020_synthetic_codebook.yaml")
    text = assert_safe(run("describe", data, "--codebook", codebook))
    assert "survey\\udcff.csv" in text
    text = assert_safe(run("codebook", "check", codebook, data))
    assert "survey\\udcff.csv: OK against" in text
    text = assert_safe(run("describe", tmp_path / "missing\udcff.csv", "--codebook", codebook), 2)
    assert "missing\\udcff.csv" in text


# ----------------------------------------------------------------------------- the consoles
def _render(renderable, markup: bool = True) -> str:
    console = TerminalConsole(
        file=io.StringIO(), width=200, color_system="truecolor", force_terminal=True, emoji=False
    )
    console.print(renderable, markup=markup)
    return console.file.getvalue()


@pytest.mark.parametrize("h", HOSTILE.values(), ids=IDS)
def test_the_consoles_show_control_characters_however_text_reaches_them(h):
    """Markup or not, a ``Text`` or a table: the only escape sequences are rich's own styles."""
    for renderable, markup in [(h, False), (Text(h), True), (terminal_text(h), True)]:
        printed = re.sub(r"\x1b\[[0-9;]*m", "", _render(renderable, markup))
        assert not FORBIDDEN.search(printed)
    table = Table(title=h)
    table.add_column(h)
    table.add_row(h)
    table.add_row(Text.from_markup("[bold]CLI markup[/bold]"))
    printed = _render(table)
    assert "\x1b[1mCLI markup" in printed  # the command line's own styles still work
    plain = re.sub(r"\x1b\[[0-9;]*m", "", printed)
    assert not FORBIDDEN.search(plain)
    assert plain.count(shown(h)) == 3  # title, header, cell: as written, escaped once


def test_emoji_codes_in_names_stay_text():
    assert ":warning:" in _render(terminal_text("x :warning: y"))


def test_every_table_and_plain_print_goes_through_the_safe_helpers():
    """No command builds a ``rich.table.Table`` or calls ``click.echo`` itself: both would pass
    user text on unescaped."""
    cli = Path(__file__).resolve().parents[2] / "segment" / "cli"
    for path in cli.glob("*.py"):
        if path.name == "_common.py":
            continue
        source = path.read_text(encoding="utf-8")
        assert "rich.table" not in source, path.name
        assert "click.echo" not in source, path.name


# ----------------------------------------------------------------------------- the function
#: Text built from what matters: brackets, slashes, backslashes, tag names, every kind of
#: control, and any other character.
CONTROL_PIECES = list("\n\t\x1b\x07\r\x9b\x7f\u202e\u2066\u200e\u2028\udcff\u200d\U000e0041")
PIECES = st.sampled_from(
    ["[", "]", "/", "\\", "b", "bold", "link=", "#f00", "@click", "=", " ", ":smile:", "ж"]
) | st.sampled_from(CONTROL_PIECES)
TEXT = st.lists(PIECES | st.characters(), max_size=24).map("".join)


@settings(max_examples=400, deadline=None)
@given(TEXT)
@example("\\[1]")  # rich drops the backslash before a bracket that opens no tag
@example("\\\\[bold]x[/]")
@example("[/]")
def test_terminal_text_prints_exactly_the_visible_text(value):
    escaped = terminal_text(value)
    assert not any(is_terminal_control(c) for c in escaped)
    assert not FORBIDDEN.search(escaped)
    assert Text.from_markup(escaped, emoji=False).plain == visible_controls(value)
    if not visible_controls(value).endswith("\\"):  # markup of the CLI's own may follow it
        after = Text.from_markup(f"{escaped}[bold]!", emoji=False)
        assert after.plain == visible_controls(value) + "!"
        assert after.spans[-1].style == "bold"


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_visible_controls_is_idempotent_and_escapes_only_controls(value):
    once = visible_controls(value)
    assert visible_controls(once) == once
    assert not any(is_terminal_control(c) for c in once)
    assert once.replace("\\", "") == "".join(
        repr(c)[1:-1].replace("\\", "") if is_terminal_control(c) else c.replace("\\", "")
        for c in value
    )
    # printing what was printed, escaped again, shows the same
    assert Text.from_markup(terminal_text(once), emoji=False).plain == once


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        TEXT | st.integers(), lambda c: st.lists(c) | st.dictionaries(TEXT, c), max_leaves=8
    )
)
def test_terminal_json_reads_back_to_the_same_values(obj):
    text = terminal_json(json.dumps(obj, indent=2, ensure_ascii=False))
    assert not any(is_terminal_control(c) for c in text)
    assert json.loads(text) == obj


def test_the_escapes_are_pythons():
    assert visible_controls("a\x1b[2J\r\x07\x9b\x7f\u202e\udcff\U000e0041\n\tж\u200d") == (
        "a\\x1b[2J\\r\\x07\\x9b\\x7f\\u202e\\udcff\\U000e0041\n\tж\u200d"
    )
    assert terminal_text("[bold]x[/] [1] a[b \\[x]") == "\\[bold]x\\[/] [1] a[b \\\\\\[x]"
    assert terminal_text(3) == "3" and visible_controls(None) == "None"


def test_the_escaped_set_is_every_control_format_and_separator_character():
    """Every code point of categories Cc, Cf, Cs, Zl and Zp, but line feed, tab, ZWNJ and ZWJ."""
    kept = {"\n", "\t", "\u200c", "\u200d"}
    for code in range(0x110000):
        char = chr(code)
        expected = unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"}
        assert is_terminal_control(char) == (expected and char not in kept), hex(code)


def test_rich_escape_differs_where_it_would_show():
    """Why the package has its own markup escape: ``rich.markup.escape`` loses a backslash."""
    from rich.markup import escape

    console = Console(file=io.StringIO(), emoji=False)
    assert console.render_str(escape("\\[1]")).plain == "[1]"
    assert console.render_str(terminal_text("\\[1]")).plain == "\\[1]"
