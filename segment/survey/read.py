"""A survey in: its respondent file read and checked against its codebook (or a drafted one)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .codebook import Codebook
from .draft import infer_codebook
from .tables import read_table

__all__ = ["read_survey"]


def read_survey(
    path: str | os.PathLike,
    codebook: Codebook | str | os.PathLike | None = None,
    *,
    encoding: str = "utf-8",
) -> tuple[pd.DataFrame, Codebook]:
    """Read a respondent file and its codebook.

    Parameters
    ----------
    path : path-like
        CSV (comma, semicolon or tab separated), Parquet, SPSS ``.sav`` or Stata ``.dta``.
    codebook : Codebook or path-like, optional
        The file's codebook. When given, the data are validated against it. When omitted, a
        draft codebook is inferred from the file (value labels and user-missing codes of SPSS
        and Stata files are used); review it before relying on it.
    encoding : str
        Text encoding of CSV files.

    Returns
    -------
    frame : DataFrame
        The data, with item and weight columns as float codes (blank = NaN).
    codebook : Codebook

    Raises
    ------
    DataError
        Listing every violation of the codebook (file, column, row, value, expected).
    """
    frame, meta = read_table(path, encoding=encoding)
    if codebook is None:
        codebook = infer_codebook(frame, meta, title=Path(path).name)
    elif not isinstance(codebook, Codebook):
        codebook = Codebook.load(codebook)
    return codebook.validate(frame, file=str(path)), codebook
