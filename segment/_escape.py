"""The one escaping path of each output format: spreadsheet cells, Markdown, script JSON and
the terminal.

Every text the package writes into a CSV or tab-separated file goes through :func:`csv_cell`
(:func:`csv_frame` for a whole table), every user-supplied text it writes into Markdown through
:func:`markdown_text` (:func:`markdown_code_block` for preformatted text), and every object it
embeds in a ``<script>`` element of an HTML page through :func:`script_json`. HTML elsewhere is
built by Jinja2 with autoescape on. Every user-supplied text the command line prints goes
through :func:`terminal_text` where rich reads markup, and everything it prints through
:func:`visible_controls` (:func:`terminal_json` for JSON). The rules are in ``README.md``
("Outputs that never harm").
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FORMULA_TRIGGERS",
    "csv_cell",
    "csv_frame",
    "html_value",
    "is_terminal_control",
    "markdown_code_block",
    "markdown_text",
    "script_json",
    "terminal_json",
    "terminal_text",
    "visible_controls",
]

#: First characters that make a spreadsheet read a cell as a formula: OWASP's list (equals,
#: plus, minus, at, tab 0x09, carriage return 0x0D, line feed 0x0A) and the full-width forms of
#: the first four, which some spreadsheets (Excel with East Asian input) read as the same.
FORMULA_TRIGGERS = "=+-@\t\r\n\uff1d\uff0b\uff0d\uff20"

#: A text cell to neutralise: one that starts with a trigger, or whose first character after
#: leading white space is one (spreadsheets that trim the space on import then see a formula).
_FORMULA = re.compile(rf"\s*[{re.escape(FORMULA_TRIGGERS)}]")


def csv_cell(value: Any) -> Any:
    """A cell as a spreadsheet reads it as text: a formula-like text prefixed with ``'``.

    The rule of OWASP's "CSV Injection" page (https://owasp.org/www-community/attacks/CSV_Injection,
    as revised in 2025): no cell may begin with ``=``, ``+``, ``-``, ``@``, tab (0x09), carriage
    return (0x0D) or line feed (0x0A); a cell that would is prefixed with a single quote, which
    Excel, LibreOffice and Google Sheets show as the start of a text. The package also treats
    the full-width ``＝ ＋ － ＠`` as triggers and looks past leading white space (``" =1+1"``),
    which some spreadsheets trim on import. The field separator, quotes and line feeds inside a
    cell, the page's second concern, are quoted by the CSV writer (RFC 4180); a carriage return
    inside a cell becomes a line feed, because Python 3.11's writer leaves a bare carriage
    return unquoted and every reader would split the row there.

    Only text is changed: numbers (``-0.5`` written as a number), missing values and anything
    that is not a ``str`` are returned as they are, so numeric columns stay numeric.

    >>> csv_cell('=HYPERLINK("http://x")'), csv_cell("-1+1"), csv_cell(-0.5), csv_cell("Loyal")
    ('\\'=HYPERLINK("http://x")', "'-1+1", -0.5, 'Loyal')
    """
    if not isinstance(value, str):
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "'" + value if _FORMULA.match(value) else value


#: :func:`csv_cell` over an object array (the cells of a column that need it).
_csv_cells = np.frompyfunc(csv_cell, 1, 1)


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`csv_cell` applied to its column names and to every text cell.

    Numeric, boolean and date columns are untouched; in a column of text (object, string or
    categorical) only ``str`` cells that need it get the quote. Returns ``frame`` itself when
    nothing needs escaping, so a safe table is written byte for byte as before.
    """
    import pandas as pd

    columns = [csv_cell(c) for c in frame.columns]
    changed: dict[int, pd.Series] = {}
    for j in range(frame.shape[1]):
        s = frame.iloc[:, j]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        elif not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        try:
            hit = s.str.match(_FORMULA, na=False) | s.str.contains("\r", regex=False, na=False)
        except AttributeError:  # an object column without a single text cell
            continue
        hit = hit.to_numpy(dtype=bool)
        if not hit.any():
            continue
        values = s.to_numpy(dtype=object, copy=True)
        values[hit] = _csv_cells(values[hit])
        dtype = s.dtype if pd.api.types.is_string_dtype(s) and s.dtype != object else object
        changed[j] = pd.Series(values, index=s.index, dtype=dtype, name=s.name)
    if not changed and columns == list(frame.columns):
        return frame
    out = frame.copy()
    for j, s in changed.items():
        out.isetitem(j, s)
    out.columns = pd.Index(columns, dtype=object)
    return out


#: Characters Markdown may read as markup anywhere in a line (CommonMark emphasis, code, links,
#: escapes; GitHub's tables, strikethrough and math); each gets a backslash, which CommonMark
#: allows before any ASCII punctuation.
_MD_INLINE = re.compile(r"([\\`*_\[\]|~$])")
#: What makes a line a heading, list item, rule or setext underline, or an ordered list, when it
#: starts the line: any "#" (Python-Markdown needs no space after it), "-", "+" or "=" followed
#: by a space, the end or another of them, "1." or "1)" followed by a space or the end. A number
#: such as "-7.1" or "42.3" is left as it is.
_MD_LINE_START = re.compile(r"^(?:(#|[+\-=](?=[\s+\-=]|$))|(\d+)([.)])(?=\s|$))")


def markdown_text(text: object) -> str:
    """``text`` as literal Markdown, for any user-supplied text (names, labels, taglines,
    categories, codebook text, file names) written into a Markdown output.

    Line breaks and runs of white space become one space (a label cannot start a new block);
    control and bidi characters are written as visible escapes (:func:`visible_controls`);
    ``&``, ``<`` and ``>`` become the entities ``&amp;``, ``&lt;`` and ``&gt;``, so no renderer
    sees raw HTML or an autolink (Python-Markdown, unlike CommonMark, does not honour a
    backslash before ``<``); ``\\ ` * _ [ ] | ~ $`` are backslashed, so no emphasis, code span,
    link, table cell or math starts; a leading ``#``, or a leading ``+``, ``-``, ``=``,
    ``1.`` or ``1)`` that would open a list or draw a rule, is backslashed, so no heading, list
    or rule starts.

    >>> markdown_text("<script>alert(1)</script> *x* | 1. y")
    '&lt;script&gt;alert(1)&lt;/script&gt; \\\\*x\\\\* \\\\| 1. y'
    """
    text = " ".join(visible_controls(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_INLINE.sub(r"\\\1", text)

    def mark(m: re.Match) -> str:
        if m.group(1):  # "# x" -> "\# x"
            return "\\" + m.group(1)
        return m.group(2) + "\\" + m.group(3)  # "1. x" -> "1\. x"

    return _MD_LINE_START.sub(mark, text)


def markdown_code_block(text: str, info: str = "") -> str:
    """``text`` as a fenced code block whose fence is longer than any run of backticks inside
    it, so the text (a summary naming user columns) cannot close the block early."""
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def script_json(obj: Any) -> str:
    """JSON text safe inside an HTML ``<script>`` element: ``<``, ``>`` and ``&`` as ``\\u``
    escapes, so no ``</script>`` or ``<!--`` can end or change the element."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


#: Unicode categories a terminal does not show as characters: controls (C0, DEL, C1), format
#: characters (bidi embeddings, overrides and isolates, zero-width and invisible characters, the
#: tags of "ASCII smuggling"), surrogates (a file name read with ``surrogateescape``) and the
#: line and paragraph separators.
_UNSHOWN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Of those, the ones printed as they are: line feed and tab only start a line or move right,
#: and zero-width (non-)joiners shape Persian, Indic scripts and emoji sequences.
_SHOWN = frozenset("\n\t\u200c\u200d")


def is_terminal_control(char: str) -> bool:
    """Whether :func:`visible_controls` writes ``char`` (one character) as an escape."""
    return char not in _SHOWN and unicodedata.category(char) in _UNSHOWN


class _Translation(dict):
    """A :meth:`str.translate` table over every code point, filled as characters are met: a
    control as its escape (``python`` style: ``repr``'s, ``\\x1b``; ``json`` style: ``\\u001b``),
    any other character as itself."""

    def __init__(self, style: str):
        super().__init__()
        self.style = style

    def __missing__(self, code: int) -> str | int:
        char = chr(code)
        value: str | int = code
        if is_terminal_control(char):
            if self.style == "json":
                value = json.dumps(char)[1:-1]  # \u202e; a pair of \u escapes above U+FFFF
            else:
                value = repr(char)[1:-1]  # \x1b, \r, \x9b, \u202e, \udcff, \U000e0041
        self[code] = value
        return value


_VISIBLE = _Translation("python")
_JSON_VISIBLE = _Translation("json")

#: What rich reads as markup: a tag (``rich.markup.RE_TAGS``, rich 10 to 15: an opening bracket,
#: a lower-case letter, ``#``, ``/`` or ``@``, and the text to the next closing bracket) with the
#: backslashes before it, or backslashes before any other opening bracket (rich reads ``\\[`` as
#: an escaped ``[`` wherever it is).
_RICH_MARKUP = re.compile(r"(\\*)(\[[a-z#/@][^\[]*?])|(\\+)(?=\[)")


def visible_controls(text: object) -> str:
    """``text`` with every character a terminal would act on written as its escape.

    Terminal control sequences in a label or in a file quoted in an error message can clear the
    screen (``\\x1b[2J``), rewrite the line (``\\r``, ``\\b``), hide a link (OSC 8,
    ``\\x1b]8;;url\\x07``), set the window title (``\\x1b]0;...\\x07``) or reorder what is
    shown (the bidi override U+202E of "Trojan Source", CVE-2021-42574). Every character of the
    Unicode categories Cc (C0 controls, DEL, C1 controls such as the one-byte CSI ``\\x9b``),
    Cf (format characters: bidi embeddings, overrides, isolates and marks, zero-width and
    invisible characters, tag characters), Cs (lone surrogates, from file names decoded with
    ``surrogateescape``), Zl and Zp (line and paragraph separators) is written as Python's
    ``repr`` writes it: ``\\x1b``, ``\\r``, ``\\x9b``, ``\\u202e``, ``\\udcff``. Kept as they are:
    line feed and tab (they only start a line or move right, and messages have several lines),
    and the zero-width non-joiner and joiner U+200C and U+200D (they shape Persian, Indic
    scripts and emoji sequences).

    Backslashes are not doubled, so the function is idempotent: its result has no control
    character left, and escaping it again changes nothing. (A label that spells ``\\x1b`` and
    one that holds the escape character print the same; neither acts on the terminal.)

    >>> visible_controls("a\\x1b[2Jb\\rc\\u202ed\\n")
    'a\\\\x1b[2Jb\\\\rc\\\\u202ed\\n'
    """
    text = str(text)
    return text if text.isprintable() else text.translate(_VISIBLE)


def html_value(value: Any) -> Any:
    """``finalize`` of the Jinja2 environments (report, quiz): a plain string (user-supplied
    text, before autoescape) with its control and bidi characters as visible escapes
    (:func:`visible_controls`), so a U+202E in a label cannot reorder what the page shows;
    markup the templates build (``Markup``) and numbers pass unchanged."""
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup):
        return visible_controls(value)
    return value


def terminal_text(value: object) -> str:
    """``value`` as rich markup that prints it literally, for any user-supplied text (labels,
    item, column, segment and typology names, file names, cell values quoted in a message)
    printed by the command line.

    Two steps. Control characters become visible escapes (:func:`visible_controls`), so no
    escape sequence, carriage return, bell or bidi override reaches the terminal. Then every
    ``[`` that rich would read as a markup tag gets a backslash, and the backslashes before it
    are doubled, as ``rich.markup.escape`` does: ``[bold red]x[/]``, ``[link=http://x]`` and a
    stray ``[/]`` (a ``MarkupError`` unescaped) print as written. Backslashes before any other
    ``[`` get one more, since rich drops one there (``rich.markup.escape`` misses this:
    ``\\[1]`` printed as ``[1]``). Text rich does not read as markup (``[1]``, ``[Bold]``,
    ``a[b``) is left alone, so it shows no backslash.

    What rich prints of the result is exactly ``visible_controls(value)``; escaping what was
    printed again prints the same. The result is markup, so apply the function once, where the
    text meets a console, to a whole string (a message, a table cell or title) or a part that
    ends the markup: a trailing backslash is not doubled (unlike ``rich.markup.escape``, which
    then shows two), so a tag written right after it would be escaped. To style user text,
    give rich ``Text(visible_controls(value), style=...)`` instead. Rich's ``:emoji:`` codes
    have no escape: the command line's consoles turn them off.

    >>> terminal_text("[bold red]x[/] \\x1b]8;;http://x\\x07y [1]")
    '\\\\[bold red]x\\\\[/] \\\\x1b]8;;http://x\\\\x07y [1]'
    """
    return _RICH_MARKUP.sub(_escape_markup, visible_controls(value))


def _escape_markup(match: re.Match) -> str:
    backslashes, tag, before_bracket = match.groups()
    if tag is None:  # "\[1]": rich would print "[1]"
        return before_bracket + "\\"
    return f"{backslashes}{backslashes}\\{tag}"


def terminal_json(text: str) -> str:
    """JSON text (as :func:`segment._util.json_text` writes it) safe to print on a terminal: every
    character :func:`visible_controls` escapes written as a JSON ``\\u`` escape (``\\u202e``,
    ``\\u009b``), so the document reads back to the same values. JSON writes C0 controls as
    escapes already; DEL, C1 controls, bidi and format characters are kept as they are by
    ``ensure_ascii=False``, and can appear only inside strings, where the escape means the same
    character."""
    return text if text.isprintable() else text.translate(_JSON_VISIBLE)
