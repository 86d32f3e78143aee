"""A disk cache of the district-wide evaluation, shared by every report of a batch.

Every street report needs the same Monte Carlo evaluation of all streets (its rank among
them).  Computing it once per report would dominate a batch build, so the notebooks call
:func:`cached_evaluate` instead of :func:`xzlib.evaluation.evaluate`: the first call
computes the evaluation and pickles it atomically under ``<data>/interim/cache/``; every
later call with the same inputs loads it.  ``xz build`` primes the cache once before it
dispatches the reports, and a notebook run on its own (JupyterLab, plain papermill)
still works: it simply computes the evaluation on its first call.

The cache key is the SHA-256 of the processed data manifest (which holds the hash of
every table), the reference data, the year, the number of runs, the seed, the evaluator,
the ``xzlib`` version and the hash of the ``xzlib`` source files, so new data or a code
change never serves a stale evaluation.

This module imports only the standard library at module level: ``xz build`` uses it to
compute keys before it knows whether there is any work to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import os
import pickle
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .. import __version__, config
from .. import processed as _manifest
from ..fsutil import atomic_file

__all__ = [
    "cached_evaluate",
    "cached_call",
    "cache_key",
    "cache_path",
    "cache_dir",
    "clear",
    "reference_sha256",
    "source_sha256",
    "ranks_records",
    "DEFAULT_EVALUATOR",
    "SOURCE_ENV",
]

logger = logging.getLogger(__name__)

#: The evaluator used when none is given, as ``"module:function"``.
DEFAULT_EVALUATOR = "xzlib.evaluation:evaluate"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


# --------------------------------------------------------------------------- hashes


def _tree_sha256(root: Path, *, suffixes: set[str] | None = None) -> str:
    h = hashlib.sha256()
    if not root.is_dir():
        return h.hexdigest()
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in filenames:
            suffix = os.path.splitext(name)[1]
            if suffix in _SKIP_SUFFIXES or name.startswith("."):
                continue
            if suffixes is not None and suffix not in suffixes:
                continue
            files.append(Path(dirpath) / name)
    for path in sorted(files):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


#: Environment variable through which ``xz build`` hands its kernels the source hash it
#: computed at the start of the build, so that the builder and every report of the batch
#: agree on the evaluation's cache key even if a file is edited during the build.
SOURCE_ENV = "XZ_SOURCE_SHA256"


def source_sha256() -> str:
    """Return a SHA-256 over every source and data file of the installed ``xzlib`` package.

    A change to any module, template or bundled file changes it, so reports (and the
    cached evaluation) built by older code are rebuilt.  Inside a kernel started by
    ``xz build``, the value the build computed (``$XZ_SOURCE_SHA256``).
    """
    return os.environ.get(SOURCE_ENV) or _tree_sha256(_PACKAGE_DIR)


def reference_sha256() -> str:
    """Return a SHA-256 over the reference CSV files (divisions, facts, events, awards)."""
    return _tree_sha256(config.reference_dir(), suffixes={".csv"})


# --------------------------------------------------------------------------- cache


def cache_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the cache folder: ``<data>/interim/cache`` beside ``<data>/processed``.

    When the processed folder is not called ``processed`` (a custom ``--data`` folder), the
    cache lives inside it, in ``interim-cache/``.
    """
    folder = _manifest.folder(data_dir).resolve()
    if folder.name == "processed":
        return folder.parent / "interim" / "cache"
    return folder / "interim-cache"


def _evaluator_name(evaluate: Callable | str | None) -> str:
    if evaluate is None:
        return DEFAULT_EVALUATOR
    if isinstance(evaluate, str):
        return evaluate
    return f"{evaluate.__module__}:{evaluate.__qualname__}"


def _resolve(evaluate: Callable | str | None) -> Callable:
    if callable(evaluate):
        return evaluate
    module, _, name = _evaluator_name(evaluate).partition(":")
    return getattr(importlib.import_module(module), name)


def cache_key(
    year: int,
    *,
    runs: int = 1000,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    evaluate: Callable | str | None = None,
) -> str:
    """Return the cache key of an evaluation (a hex SHA-256).

    Parameters
    ----------
    year, runs, seed : int
        Arguments of the evaluation.
    data_dir : path, optional
        Processed data folder (default: ``XZ_DATA_DIR`` or the project's ``data/``).
    evaluate : callable or str, optional
        The evaluator, or its ``"module:function"`` name (default
        ``xzlib.evaluation:evaluate``).

    Returns
    -------
    str
        Changes whenever the data, the reference data, the arguments, the evaluator or the
        ``xzlib`` code change.
    """
    parts = {
        "data": _manifest.sha256(data_dir),
        "reference": reference_sha256(),
        "year": int(year),
        "runs": int(runs),
        "seed": int(seed),
        "evaluator": _evaluator_name(evaluate),
        "xzlib": __version__,
        "source": source_sha256(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def cache_path(
    year: int,
    *,
    runs: int = 1000,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    evaluate: Callable | str | None = None,
) -> Path:
    """Return the pickle file that holds (or will hold) this evaluation."""
    key = cache_key(year, runs=runs, seed=seed, data_dir=data_dir, evaluate=evaluate)
    return cache_dir(data_dir) / f"evaluation-{int(year)}-{key[:24]}.pickle"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (no-op where ``fcntl`` is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _load(path: Path) -> Any | None:
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a truncated or incompatible pickle: recompute
        logger.warning("ignoring unreadable evaluation cache %s (%s)", path, exc)
        return None


def _dump(obj: Any, path: Path) -> None:
    with atomic_file(path) as tmp, open(tmp, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())


def cached_evaluate(
    year: int,
    *,
    runs: int = 1000,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    evaluate: Callable | str | None = None,
):
    """Return the evaluation of ``year``, computed once and then loaded from disk.

    A drop-in replacement for ``xzlib.evaluation.evaluate(year, runs=..., seed=...,
    data_dir=...)`` in notebooks: the first call (or ``xz build``, before it runs the
    reports) computes and pickles the result atomically; later calls with the same data,
    arguments and code load it.  Concurrent callers (parallel kernels) wait for the one
    computing it rather than computing it again.

    Parameters
    ----------
    year : int
        Evaluation year.
    runs : int, default 1000
        Monte Carlo runs.
    seed : int, default 0
        Random seed.
    data_dir : path, optional
        Processed data folder (default: ``XZ_DATA_DIR`` or the project's ``data/``).
    evaluate : callable or str, optional
        The evaluator, called as ``evaluate(year, runs=runs, seed=seed,
        data_dir=data_dir)``; default ``xzlib.evaluation.evaluate``.  Mainly for tests.

    Returns
    -------
    Evaluation
        Whatever the evaluator returns (it must be picklable).

    Raises
    ------
    UsageError
        If there is no processed data.

    Examples
    --------
    >>> from xzlib.report.cache import cached_evaluate
    >>> ev = cached_evaluate(2018)            # doctest: +SKIP
    >>> ev.ranks.head()                       # doctest: +SKIP
    """
    path = cache_path(year, runs=runs, seed=seed, data_dir=data_dir, evaluate=evaluate)
    return _cached(
        path, lambda: _resolve(evaluate)(int(year), runs=runs, seed=seed, data_dir=data_dir)
    )


def _cached(path: Path, compute: Callable[[], Any]) -> Any:
    """Load ``path``, or compute, pickle atomically and return (one computer at a time)."""
    obj = _load(path)
    if obj is not None:
        logger.debug("loaded %s", path)
        return obj
    path.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(path.with_name(path.name + ".lock")):
        obj = _load(path)  # another process may have computed it while we waited
        if obj is None:
            t0 = time.monotonic()
            obj = compute()
            _dump(obj, path)
            logger.info("cached %s (%.1f s)", path.name, time.monotonic() - t0)
    return obj


def cached_call(func: Callable, *args, data_dir: str | os.PathLike | None = None, **kwargs):
    """Call ``func(*args, data_dir=data_dir, **kwargs)`` once per data and code version.

    For other district-wide computations that every report repeats (the indicator table,
    for instance): the result is pickled under :func:`cache_dir` with a key made of the
    function's name, the arguments (by ``repr``), the processed data manifest, the
    reference data and the ``xzlib`` source, exactly like :func:`cached_evaluate`.

    Parameters
    ----------
    func : callable
        A module-level function taking ``data_dir`` as a keyword; its result must be
        picklable and must depend only on its arguments and the data.
    *args, **kwargs
        Its arguments (their ``repr`` must identify them).
    data_dir : path, optional
        Processed data folder, passed on to ``func``.

    Examples
    --------
    >>> from xzlib.evaluation import indicators
    >>> ind = cached_call(indicators, None, data_dir=None)   # doctest: +SKIP
    """
    name = f"{func.__module__}:{func.__qualname__}"
    parts = {
        "func": name,
        "args": repr(args),
        "kwargs": repr(sorted(kwargs.items())),
        "data": _manifest.sha256(data_dir),
        "reference": reference_sha256(),
        "xzlib": __version__,
        "source": source_sha256(),
    }
    key = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    stem = "".join(ch if ch.isalnum() else "-" for ch in func.__qualname__)[:40]
    path = cache_dir(data_dir) / f"call-{stem}-{key[:24]}.pickle"
    return _cached(path, lambda: func(*args, data_dir=data_dir, **kwargs))


def clear(data_dir: str | os.PathLike | None = None) -> int:
    """Delete every cached result of ``data_dir``; returns how many were removed."""
    folder = cache_dir(data_dir)
    n = 0
    if folder.is_dir():
        for path in [*folder.glob("evaluation-*"), *folder.glob("call-*")]:
            with contextlib.suppress(OSError):
                path.unlink()
                n += path.suffix == ".pickle"
    return n


def ranks_records(evaluation) -> list[dict]:
    """Return the evaluation's ``ranks`` table as plain records (for JSON and the index page).

    Keeps ``street_code``, ``street_name`` (when present), ``score``, ``rank``,
    ``rank_q05`` and ``rank_q95``; missing values become ``None``.
    """
    ranks = getattr(evaluation, "ranks", None)
    if ranks is None:
        return []
    wanted = ["street_code", "street_name", "score", "rank", "rank_q05", "rank_q95"]
    frame = ranks.reset_index() if "street_code" not in ranks.columns else ranks
    cols = [c for c in wanted if c in frame.columns]
    out = []
    for row in frame[cols].itertuples(index=False):
        rec = {}
        for name, value in zip(cols, row, strict=True):
            try:
                missing = value is None or bool(value != value)  # None or NaN
            except TypeError:  # pd.NA
                missing = True
            if missing:
                rec[name] = None
            elif name in ("street_code", "street_name"):
                rec[name] = str(value)
            elif name == "score":
                rec[name] = float(value)
            else:
                rec[name] = float(value) if float(value) % 1 else int(value)
        out.append(rec)
    return out
