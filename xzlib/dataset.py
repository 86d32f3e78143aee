"""Processed tables on disk: the only module that reads or writes them.

``data/processed/`` holds one parquet file per programme table and ``manifest.json``:
the schema version, the batch, whether the data is synthetic, every source file with its
SHA-256, and every table with its row count and SHA-256.  The manifest has no wall-clock
time in it, so cleaning the same raw batch twice gives byte-identical output and the hash
of the manifest identifies the data (the batch builder keys reports on it).

Writes are all-or-nothing: the new directory is assembled beside the old one and swapped
in only when complete (:func:`write_tables`).  The schema is enforced on write (every rule)
and on read: a table whose file has the SHA-256 recorded at write time is the checked
table; any other file is checked against every rule again (:func:`load`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import pandas as pd

from . import config, schemas
from .divisions import divisions as _divisions
from .divisions import street_of
from .errors import DataError, UsageError
from .fsutil import atomic_dir

__all__ = ["load", "load_all", "manifest", "write_tables", "validate", "sha256", "MANIFEST"]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
_META_KEY = b"xzlib"


def sha256(path: str | os.PathLike) -> str:
    """Return the hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _dir(data_dir) -> Path:
    if data_dir is None:
        return config.processed_dir()
    p = Path(data_dir)
    # Accept either the processed folder itself or a data folder that holds one.
    return p if (p / MANIFEST).exists() or not (p / "processed").is_dir() else p / "processed"


def manifest(data_dir: str | os.PathLike | None = None) -> dict:
    """Return the manifest of the processed data.

    Raises
    ------
    UsageError
        If there is no processed data yet (run ``xz sample`` then ``xz clean``).
    """
    path = _dir(data_dir) / MANIFEST
    if not path.exists():
        raise UsageError(
            f"no processed data at {path.parent}: run `xz clean` first "
            "(or `make data` for the sample batch)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _manifest_tables(folder: Path) -> dict:
    """The ``tables`` entry of the manifest (read-only; parsed once per file version)."""
    path = folder / MANIFEST
    version = _version(path)
    if version is None:
        return manifest(folder).get("tables", {})  # raises the usual UsageError
    return _parse_manifest_tables(str(path), version)


@lru_cache(maxsize=4)
def _parse_manifest_tables(path: str, version: tuple) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8")).get("tables", {})


# --------------------------------------------------------------------------- write


def write_tables(
    frames: dict[str, pd.DataFrame],
    out: str | os.PathLike | None = None,
    *,
    sources: list[dict] | None = None,
    batch: str = "",
    synthetic: bool = False,
    extra: dict | None = None,
    divisions: pd.DataFrame | None = None,
) -> Path:
    """Check and write the programme tables and their manifest, atomically.

    Every table is coerced to its schema and checked (foreign keys included) first; if
    any table breaks a rule nothing is written and :class:`~xzlib.errors.DataError` lists
    every problem.  Otherwise the tables, sorted by their key, are written to a temporary
    folder beside ``out`` which then replaces ``out`` (:func:`xzlib.fsutil.atomic_dir`).

    Parameters
    ----------
    frames : dict of str to DataFrame
        One frame per table in :data:`xzlib.schemas.TABLES`.
    out : path, optional
        Target folder (default ``config.processed_dir()``).
    sources : list of dict, optional
        Source files (``file``, ``sha256``, ``bytes``) recorded in the manifest.
    batch : str
        Name of the raw batch.
    synthetic : bool
        Whether the data is synthetic (示例数据); recorded in the manifest and in each
        parquet file's metadata, and set as ``df.attrs["synthetic"]`` on load.
    extra : dict, optional
        More manifest entries (e.g. unit conversions applied by the cleaner).
    divisions : DataFrame, optional
        Divisions history for the foreign-key check (default: the reference divisions).

    Returns
    -------
    Path
        The folder written.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out) if out is not None else config.processed_dir()
    missing = [t for t in schemas.TABLES if t not in frames]
    if missing:
        raise UsageError(f"write_tables needs every table; missing {missing}")
    divs = _divisions() if divisions is None else divisions
    typed, problems = {}, []
    for name in schemas.TABLES:
        schema = schemas.get_schema(name)
        df = schemas.coerce(frames[name], schema)
        problems += schemas.check(df, schema, divs)
        # Rows in key order: the output does not depend on the order of the input files.
        typed[name] = df.sort_values(list(schema.key), kind="stable", ignore_index=True)
    if any(p.severity == "error" for p in problems):
        raise DataError(problems, context=f"refusing to write {out}")

    tables = {}
    with atomic_dir(out) as tmp:
        for name, df in typed.items():
            table = pa.Table.from_pandas(df, preserve_index=False)
            meta = dict(table.schema.metadata or {})
            meta[_META_KEY] = json.dumps(
                {"table": name, "schema_version": schemas.SCHEMA_VERSION, "synthetic": synthetic,
                 "batch": batch}, ensure_ascii=False).encode()
            path = tmp / f"{name}.parquet"
            pq.write_table(table.replace_schema_metadata(meta), path, compression="zstd")
            tables[name] = {"file": path.name, "rows": len(df), "sha256": sha256(path)}
        doc = {
            "schema_version": schemas.SCHEMA_VERSION,
            "batch": batch,
            "synthetic": synthetic,
            "tables": tables,
            "sources": sorted(sources or [], key=lambda s: s.get("file", "")),
        }
        doc.update(extra or {})
        (tmp / MANIFEST).write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n",
                                    encoding="utf-8")
    log.info("wrote %d tables to %s", len(tables), out)
    return out


# --------------------------------------------------------------------------- read


def _read_raw(name: str, folder: Path) -> tuple[pd.DataFrame, str]:
    """Return a table (a private copy) and the SHA-256 of its file."""
    path = folder / f"{name}.parquet"
    if not path.exists():
        raise UsageError(f"{path} is missing: run `xz clean` to rebuild the processed data")
    stat = path.stat()
    df, digest = _read_parquet(str(path), name, stat.st_mtime_ns, stat.st_size)
    return df.copy(), digest


@lru_cache(maxsize=8)
def _read_parquet(path: str, name: str, mtime_ns: int, size: int) -> tuple[pd.DataFrame, str]:
    """Read one table (memoised per file version: reports load the same tables often)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = Path(path).read_bytes()
    table = pq.read_table(pa.BufferReader(data))
    df = table.to_pandas()
    meta = json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}"))
    df.attrs.update({"table": name, "synthetic": bool(meta.get("synthetic", False)),
                     "batch": meta.get("batch", "")})
    return df, hashlib.sha256(data).hexdigest()


def _enforce(df: pd.DataFrame, name: str, digest: str, folder: Path) -> None:
    """Enforce the schema on read.

    A file whose SHA-256 is the one :func:`write_tables` recorded after checking every rule
    is that checked table, so nothing more is needed.  Any other file (edited, replaced,
    written by another tool) is checked against every rule again, foreign keys included;
    a broken rule raises :class:`DataError`.
    """
    _check_read(df, name)
    entry = _manifest_tables(folder).get(name, {})
    if entry.get("sha256") == digest:
        return
    problems = schemas.check(df, schemas.get_schema(name), _divisions())
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DataError(errors, context=f"{folder / (name + '.parquet')} (changed since `xz clean`)")
    log.warning("%s.parquet changed since `xz clean` wrote it; every rule checked again and "
                "passed", name)


def _check_read(df: pd.DataFrame, name: str) -> None:
    schema = schemas.get_schema(name)
    if list(df.columns) != schema.names:
        raise DataError([], context=f"{name}: columns {list(df.columns)} differ from the schema "
                        f"{schema.names}; rebuild with `xz clean`")
    for col in schema.columns:
        if str(df[col.name].dtype) != col.dtype:
            raise DataError([], context=f"{name}.{col.name} has dtype {df[col.name].dtype}, "
                            f"expected {col.dtype}; rebuild with `xz clean`")


def _join_names(df: pd.DataFrame, schema: schemas.TableSchema) -> pd.DataFrame:
    """Add street_code (if absent), street_name and community_name, as categoricals."""
    names = _divisions().drop_duplicates("code").set_index("code")["name"]
    out = df.copy()
    if "community_code" in out.columns:
        if "street_code" not in out.columns:
            street = street_of(out["community_code"], schema.years(out)).astype("category")
            out.insert(out.columns.get_loc("community_code"), "street_code", street)
        out["community_name"] = out["community_code"].map(names).astype("category")
    if "street_code" in out.columns:
        out["street_name"] = out["street_code"].map(names).astype("category")
    return out


def load(name: str, year: int | None = None, *, data_dir=None, names: bool = True) -> pd.DataFrame:
    """Load one processed programme table, checked against its schema.

    Parameters
    ----------
    name : {"communities", "projects", "deliberations", "grid_cases"}
        The table.
    year : int, optional
        Keep only rows of this year (``year`` column, or the year of the date column).
    data_dir : path, optional
        Processed folder, or a data folder holding ``processed/`` (default: ``XZ_DATA_DIR``
        or the project's ``data/``).
    names : bool, default True
        Add ``street_name`` and ``community_name`` (and ``street_code`` for tables keyed by
        community, from the divisions valid in the row's year).

    Returns
    -------
    DataFrame
        Typed as documented below; ``df.attrs["synthetic"]`` says whether the data is
        synthetic (示例数据) and ``df.attrs["batch"]`` names the raw batch.

    Raises
    ------
    UsageError
        Unknown table or no processed data.
    DataError
        The file does not match the schema.  A file is trusted when its SHA-256 is the
        one ``xz clean`` recorded after checking it; any other file is checked against
        every rule of the schema again and must pass.

    Examples
    --------
    >>> import xzlib as xz
    >>> projects = xz.load("projects")          # doctest: +SKIP
    >>> projects.groupby("programme")["gov_funds_wan"].sum()  # doctest: +SKIP

    Notes
    -----
    Columns of each table:

    {tables}
    """
    if name not in schemas.SCHEMAS:
        raise UsageError(f"table must be one of {', '.join(schemas.TABLES)}; got {name!r}")
    folder = _dir(data_dir)
    key = _load_key(name, year, folder, names)
    if key is None:
        return _load(name, year, folder, names)
    with _LOADED_LOCK:
        hit = _LOADED.get(key)
        if hit is not None:
            _LOADED.move_to_end(key)
    if hit is None:
        hit = _load(name, year, folder, names)
        with _LOADED_LOCK:
            _LOADED[key] = hit
            while len(_LOADED) > _LOADED_MAX:
                _LOADED.popitem(last=False)
    out = hit.copy()
    out.attrs = dict(hit.attrs)
    return out


def _load(name: str, year, folder: Path, names: bool) -> pd.DataFrame:
    schema = schemas.get_schema(name)
    df, digest = _read_raw(name, folder)
    _enforce(df, name, digest, folder)
    if year is not None:
        df = df[(schema.years(df) == int(year)).to_numpy(dtype=bool, na_value=False)]
        df = df.reset_index(drop=True)
    return _join_names(df, schema) if names else df


# Tables as load() returned them, per file version: a report loads the same tables several
# times, and a batch of reports loads them again in the same kernel.  The key holds
# everything the result depends on (the table file, the manifest that vouches for it and
# the reference divisions that name its rows); callers get a copy.
_LOADED: OrderedDict = OrderedDict()
_LOADED_LOCK = threading.Lock()
_LOADED_MAX = 8


def _version(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _load_key(name: str, year, folder: Path, names: bool) -> tuple | None:
    """The memo key of a load, or None when it cannot be memoised (an error is coming)."""
    try:
        year_key = None if year is None else int(year)
    except (TypeError, ValueError):
        return None
    table = _version(folder / f"{name}.parquet")
    man = _version(folder / MANIFEST)
    if table is None or man is None:
        return None
    divs = config.reference_dir() / "divisions.csv"
    return (name, year_key, bool(names), str(folder.resolve()), table, man, str(divs),
            _version(divs) if names else None)


def load_all(year: int | None = None, *, data_dir=None, names: bool = True) -> dict[str, pd.DataFrame]:
    """Load every programme table; returns ``{name: DataFrame}`` (see :func:`load`)."""
    return {t: load(t, year, data_dir=data_dir, names=names) for t in schemas.TABLES}


def validate(data_dir=None) -> list:
    """Re-check processed data: hashes against the manifest, dtypes and every schema rule.

    Returns
    -------
    list of Problem
        Empty when the data is intact and valid.
    """
    from .errors import Problem

    folder = _dir(data_dir)
    man = manifest(folder)
    problems: list[Problem] = []
    divs = _divisions()
    for name in schemas.TABLES:
        entry = man["tables"].get(name)
        path = folder / f"{name}.parquet"
        if entry is None or not path.exists():
            problems.append(Problem(table=name, rule="missing", message=f"{path} is missing"))
            continue
        try:
            df, digest = _read_raw(name, folder)
            if digest != entry["sha256"]:
                problems.append(Problem(
                    table=name, rule="hash", file=str(path),
                    message="file changed since `xz clean` wrote it (SHA-256 differs)"))
            _check_read(df, name)
        except DataError as exc:
            problems.append(Problem(table=name, rule="dtype", message=str(exc)))
            continue
        problems += schemas.check(df, schemas.get_schema(name), divs)
    return problems


def _column_tables() -> str:
    blocks = []
    for s in schemas.SCHEMAS.values():
        rows = [f"``{s.name}`` ({s.zh}), key {', '.join(s.key)}:", ""]
        rows += [f"    - {c.name} ({c.dtype}{', ' + c.unit if c.unit else ''}): {c.zh}; "
                 f"{c.description}" for c in s.columns]
        blocks.append("\n".join(rows))
    return "\n\n    ".join(blocks)


load.__doc__ = load.__doc__.replace("{tables}", _column_tables())
