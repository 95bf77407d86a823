"""Published list-experiment tables as data, checked for internal consistency.

A published table of a list experiment prints, per row, the control and treatment means and a
support percentage that should be their difference. :func:`load_published_table` reads such a
table from a YAML file (the bundled one is Table 1 of Jones & Smyth 2022, PONARS Eurasia Policy
Memo 806: ``profiles/jones_smyth_2022_table1.yaml``, copied from seed 001) and checks every row:
a row is consistent when the printed support is within rounding of treatment minus control,
``|100 (T - C) - S| <= 100 (h_T + h_C) + h_S`` with ``h`` half a unit of each figure's last
printed digit. Three rows of the memo's table fail (Kazakh: 3.20 - 2.83 = 37%, printed 42.3;
Almaty: 3.36 - 2.81 = 55%, printed 27.0; All others: 3.36 - 2.81 = 55%, printed 63.6), and every
reproduction of the table says so with the arithmetic (:attr:`PublishedRow.arithmetic`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segment._files import load_yaml
from segment.exceptions import InputError, Problem

__all__ = [
    "MEMO_TABLE1",
    "PublishedRow",
    "PublishedTable",
    "load_published_table",
    "match_rows",
]

#: The bundled file of Table 1 of Jones & Smyth (2022).
MEMO_TABLE1 = "jones_smyth_2022_table1.yaml"


def _half_unit(printed: str) -> float:
    """Half a unit of the last printed digit of ``printed`` ("2.76" -> 0.005, "3.0" -> 0.05)."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return 0.5 * 10.0**-decimals


@dataclass(frozen=True)
class PublishedRow:
    """One printed row: the data's ``variable`` and ``level`` (None for the whole sample), the
    table's ``label``, ``sample_pct``, the means as printed and the printed ``support_pct``."""

    variable: str | None
    level: str | None
    label: str
    sample_pct: float
    control_text: str
    treatment_text: str
    support_pct: float

    @property
    def control(self) -> float:
        return float(self.control_text)

    @property
    def treatment(self) -> float:
        return float(self.treatment_text)

    @property
    def difference_pct(self) -> float:
        """Treatment minus control, in points."""
        return 100 * (self.treatment - self.control)

    @property
    def tolerance(self) -> float:
        """The largest gap rounding of the printed figures allows, in points."""
        return 100 * (_half_unit(self.control_text) + _half_unit(self.treatment_text)) + 0.05

    @property
    def consistent(self) -> bool:
        """The printed support is treatment minus control, within rounding."""
        return abs(self.difference_pct - self.support_pct) <= self.tolerance + 1e-9

    @property
    def arithmetic(self) -> str:
        """E.g. ``"3.20 - 2.83 = 37%, printed 42.3"``."""
        return (
            f"{self.treatment_text} - {self.control_text} = {self.difference_pct:.0f}%, "
            f"printed {self.support_pct:.1f}"
        )


@dataclass(frozen=True)
class PublishedTable:
    """A published table: ``title``, ``source``, ``provenance``, ``n``, ``J`` and ``rows``."""

    title: str
    source: str
    provenance: str
    n: int
    J: int
    rows: tuple[PublishedRow, ...]
    path: str = ""

    @property
    def inconsistent(self) -> tuple[PublishedRow, ...]:
        """Rows whose printed support is not treatment minus control."""
        return tuple(r for r in self.rows if not r.consistent)

    def row(self, variable: str | None, level: str | None) -> PublishedRow | None:
        """The row of a data column and value (``None, None``: the whole sample), if printed."""
        for r in self.rows:
            if r.variable == variable and r.level == level:
                return r
        return None

    def notes(self) -> list[str]:
        """One sentence per inconsistent row, with its arithmetic."""
        return [
            f"{self.title}: {r.label}: the printed support is not treatment minus control "
            f"({r.arithmetic})."
            for r in self.inconsistent
        ]


def load_published_table(path: str | Path | None = None) -> PublishedTable:
    """Read a published table (default: the bundled Table 1 of Jones & Smyth 2022).

    Raises
    ------
    InputError
        Naming the file and row of every missing or malformed field.
    """
    if path is None:
        from segment.resources import bundled_path

        path = bundled_path("profiles", MEMO_TABLE1)
    what = "published list-experiment table"
    doc = load_yaml(path, what, InputError)
    name = str(path)
    problems: list[Problem] = []
    for key in ("title", "rows", "J", "n"):
        if key not in doc:
            problems.append(Problem(name, key, "missing"))
    rows = []
    for i, r in enumerate(doc.get("rows") or [], start=1):
        try:
            rows.append(
                PublishedRow(
                    variable=r.get("variable"),
                    level=None if r.get("level") is None else str(r["level"]),
                    label=str(r["label"]),
                    sample_pct=float(r["sample_pct"]),
                    control_text=str(r["control"]),
                    treatment_text=str(r["treatment"]),
                    support_pct=float(r["support_pct"]),
                )
            )
            float(r["control"]), float(r["treatment"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            problems.append(Problem(name, f"rows, row {i}", f"malformed row: {exc}"))
    if problems:
        raise InputError(what, problems)
    return PublishedTable(
        title=str(doc["title"]),
        source=str(doc.get("source", "")).strip(),
        provenance=str(doc.get("provenance", "")).strip(),
        n=int(doc["n"]),
        J=int(doc["J"]),
        rows=tuple(rows),
        path=name,
    )


def match_rows(table: PublishedTable, rows: list[dict]) -> list[dict]:
    """``rows`` (the overall row with ``variable`` None, then group rows) with the published
    figures beside them: ``published_control, published_treatment, published_support`` and
    ``published_note`` (the arithmetic of an inconsistent row), None where the table has no
    such row."""
    out = []
    for r in rows:
        p = table.row(r.get("variable"), r.get("group"))
        extra = {
            "published_label": None if p is None else p.label,
            "published_control": None if p is None else p.control,
            "published_treatment": None if p is None else p.treatment,
            "published_support": None if p is None else p.support_pct / 100,
            "published_note": None
            if p is None or p.consistent
            else f"printed support is not treatment minus control: {p.arithmetic}",
        }
        out.append({**r, **extra})
    return out
