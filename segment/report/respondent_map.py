"""The respondent map: a two-dimensional UMAP layout of respondents' answers, fast on a rerun.

UMAP (McInnes, Healy & Melville 2018, arXiv:1802.03426) from umap-learn, with two costs taken
out of every run after the first:

- **Compilation.** umap-learn compiles its fuzzy-graph and layout functions with numba in every
  process (they are not cached on disk): about 6 s of a 1,500-respondent map. Before the first
  map, :func:`_cache_umap_kernels` re-wraps those functions, unchanged, with ``cache=True``, so
  numba stores the machine code on disk (beside umap's sources, or in numba's cache folder) and
  later processes load it. Same functions, same arguments: the same coordinates.
- **The whole layout, when nothing changed.** The coordinates are kept in the user's cache
  folder (``SEGMENT_CACHE_DIR``, else ``$XDG_CACHE_HOME/segment``, else ``~/.cache/segment``),
  named by the SHA-256 of everything they depend on (the one-hot answers, the seed, the
  neighbour count and the versions of segment and umap-learn): rerunning a report on the same
  data and seed reads them back. At most :data:`CACHE_ENTRIES` maps are kept (the least
  recently used go); a cache entry that cannot be read or does not fit is recomputed. Set
  ``SEGMENT_CACHE_DIR`` to an empty string to turn the cache off.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from segment._version import __version__

__all__ = ["CACHE_ENTRIES", "map_cache_dir", "umap_embedding"]

#: Layout epochs: umap-learn's own choice above 10,000 points (500 below). On the bundled
#: survey's 1,500 respondents, 200 epochs take 1.0 s against 2.4 s for 500 and place as many
#: respondents next to one of their own true segment (85.5% of nearest neighbours either way).
N_EPOCHS = 200
#: Maps kept in the cache folder.
CACHE_ENTRIES = 32
#: umap-learn functions compiled in every process unless re-wrapped: (module, function).
_UNCACHED_KERNELS = (
    ("umap.umap_", "smooth_knn_dist"),
    ("umap.umap_", "compute_membership_strengths"),
    ("umap.layouts", "clip"),
    ("umap.layouts", "_nb_optimize_layout_euclidean_single_epoch"),
)


def map_cache_dir() -> Path | None:
    """The folder of cached maps, or None when ``SEGMENT_CACHE_DIR`` is set empty."""
    configured = os.environ.get("SEGMENT_CACHE_DIR")
    if configured is not None:
        return Path(configured) / "maps" if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "segment" / "maps"


def _cache_umap_kernels() -> None:
    """Re-wrap umap-learn's numba functions that have no disk cache with ``cache=True``."""
    import importlib

    import numba
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    for module_name, name in _UNCACHED_KERNELS:
        module = importlib.import_module(module_name)
        kernel = getattr(module, name, None)
        uncached = isinstance(getattr(kernel, "_cache", None), NullCache)
        if not (isinstance(kernel, CPUDispatcher) and uncached and not kernel.overloads):
            continue  # re-wrapped already, compiled already, or another umap-learn version
        options = {k: v for k, v in kernel.targetoptions.items() if k != "nopython"}
        setattr(module, name, numba.njit(cache=True, **options)(kernel.py_func))


def _layout(points: np.ndarray, n_neighbors: int, random_state: int) -> np.ndarray:
    import umap
    from sklearn.neighbors import NearestNeighbors
    from threadpoolctl import threadpool_limits

    _cache_umap_kernels()
    with threadpool_limits(limits=1):
        distances, neighbours = (
            NearestNeighbors(n_neighbors=n_neighbors, algorithm="brute")
            .fit(points)
            .kneighbors(points)
        )
    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        n_epochs=N_EPOCHS,
        min_dist=0.3,
        metric="euclidean",
        random_state=random_state,
        n_jobs=1,
        precomputed_knn=(neighbours, distances, None),
    )
    with warnings.catch_warnings():  # no search index is kept: the map never transforms
        warnings.filterwarnings("ignore", message="precomputed_knn", category=UserWarning)
        coords = reducer.fit_transform(points)
    return np.asarray(coords, dtype=float)


def _cache_key(points: np.ndarray, n_neighbors: int, random_state: int) -> str:
    from importlib.metadata import version

    digest = hashlib.sha256()
    header = f"segment {__version__}; umap-learn {version('umap-learn')}; "
    header += f"shape {points.shape}; {points.dtype}; k {n_neighbors}; seed {random_state}"
    digest.update(header.encode())
    digest.update(np.ascontiguousarray(points).tobytes())
    return digest.hexdigest()


def _read_cached(path: Path, n_rows: int) -> np.ndarray | None:
    try:
        if path.stat().st_size > 64 * n_rows + 4096:  # 16 bytes a row, plus the header
            return None
        coords = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if coords.dtype != np.float64 or coords.shape != (n_rows, 2) or not np.isfinite(coords).all():
        return None
    os.utime(path)  # recently used
    return coords


def _write_cached(folder: Path, path: Path, coords: np.ndarray) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{path.name}.{os.getpid()}.tmp"
        with open(tmp, "wb") as handle:
            np.save(handle, coords, allow_pickle=False)
        os.replace(tmp, path)
        kept = sorted(folder.glob("*.npy"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[CACHE_ENTRIES:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only or full cache folder: the map is simply not kept


def umap_embedding(
    X: pd.DataFrame, *, random_state: int = 1, use_cache: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Two-dimensional UMAP map (McInnes, Healy & Melville 2018) of respondents' answers.

    Each item is one-hot encoded (a missing answer is no category), so respondents who give
    the same answers sit together; seeded, hence single-threaded and reproducible. The
    neighbour graph (15 nearest neighbours, Euclidean, each respondent its own first) is found
    exactly by scikit-learn and handed to UMAP (``precomputed_knn``), which lays it out in
    :data:`N_EPOCHS` epochs. The compiled code and,
    with ``use_cache``, the coordinates are cached on disk (see the module docstring): a rerun
    gives the same bytes.

    Returns
    -------
    coords : (m, 2) array
    rows : (m,) int array
        Rows of ``X`` that were embedded (those with at least one answer).
    """
    onehot = pd.get_dummies(X.astype("category"), dummy_na=False).to_numpy(dtype=np.float32)
    rows = np.flatnonzero(onehot.any(axis=1))
    points = onehot[rows]
    n_neighbors = min(15, len(rows) - 1)
    folder = map_cache_dir() if use_cache else None
    if folder is None:
        return _layout(points, n_neighbors, random_state), rows
    path = folder / f"{_cache_key(points, n_neighbors, random_state)}.npy"
    coords = _read_cached(path, len(rows))
    if coords is None:
        coords = _layout(points, n_neighbors, random_state)
        _write_cached(folder, path, coords)
    return coords, rows
