"""Scoring a partitioned Parquet dataset on a Dask cluster (``segment score --engine dask``).

Each partition is scored independently with :meth:`SegmentModel.score_frame` and written with
the columns of any scored file (:func:`segment.segments.scoring.scored_table`: ``segment``,
``segment_label``, ``p_seg1`` ...); the model travels
to the workers as the text of its model file (checked again on each worker, never a pickle of
the model), so the result is identical to scoring in one process.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pandas as pd

from segment._files import atomic_directory

from .model import DEFAULT_MIN_PROBABILITY, SegmentModel
from .model_file import model_from_json, model_to_dict
from .scoring import scored_table

__all__ = ["score_parquet_dask"]


@functools.lru_cache(maxsize=4)
def _model(text: str) -> SegmentModel:
    return model_from_json(text, "<model sent to the worker>")


def _score_partition(frame: pd.DataFrame, text: str, min_probability: float) -> pd.DataFrame:
    model = _model(text)
    scored = model.score_frame(frame, min_probability=min_probability)
    table = scored_table(model, scored, min_probability=min_probability)
    return table.frame.reset_index(drop=True)


def score_parquet_dask(
    model: SegmentModel,
    source: str | os.PathLike,
    output: str | os.PathLike,
    *,
    client=None,
    min_probability: float = DEFAULT_MIN_PROBABILITY,
) -> int:
    """Score every row of a Parquet dataset on a Dask cluster and write Parquet to ``output``.

    Parameters
    ----------
    model : SegmentModel
    source : path
        A Parquet file or a folder of Parquet files (one dataset).
    output : path
        Folder to create; written to a temporary folder beside it and moved into place. An
        existing folder is replaced only if `segment score` made it (its ``.segment-output``).
    client : distributed.Client, optional
        The cluster to use (default: the current client, or Dask's default scheduler).

    Returns
    -------
    int
        Number of respondents scored.
    """
    import json

    import dask.dataframe as dd
    from dask.dataframe.utils import make_meta

    text = json.dumps(model_to_dict(model))
    ddf = dd.read_parquet(str(source))
    meta = _score_partition(make_meta(ddf), text, min_probability).iloc[:0]
    scored = ddf.map_partitions(_score_partition, text, min_probability, meta=meta)
    output = Path(output)
    with atomic_directory(output, "score") as tmp:
        kwargs = {} if client is None else {"compute_kwargs": {"scheduler": client}}
        scored.to_parquet(str(tmp), write_index=False, **kwargs)
        n = int(dd.read_parquet(str(tmp)).shape[0].compute())
    return n
