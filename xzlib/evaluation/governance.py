"""The indicator framework and the raw indicator values per street and year.

The framework (dimensions, indicators, method defaults) is declared once, in
``framework.toml`` beside this module, and parsed by :func:`load_framework`.  Each
indicator is a rate computed from the processed tables: a *numerator* and an optional
*denominator*, each a :class:`Measure` (one aggregate of one table over a street's rows of
one year), times a scale, with optional smoothing towards the district rate.

Everything here is a pure function: frames in, new frames out; inputs are never
modified.  :func:`indicator_table` is the tidy table behind ``xz.indicators``.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UsageError, XzError
from .steps import kurtosis, skewness

__all__ = [
    "indicators",
    "load_tables",
    "Measure",
    "Indicator",
    "Dimension",
    "Framework",
    "load_framework",
    "compute_values",
    "indicator_table",
    "prepare_tables",
    "skewness",
    "kurtosis",
]

logger = logging.getLogger(__name__)

#: Tables a measure may aggregate, with the column that gives a row's year.
YEAR_COLUMNS = {
    "communities": "year",
    "projects": "year",
    "deliberations": "date",
    "grid_cases": "reported_at",
    "awards": "year",
}
#: Programme tables (from ``xzlib.load``); ``awards`` is reference data (optional).
PROGRAMME_TABLES = ("communities", "projects", "deliberations", "grid_cases")
AGGS = ("sum", "count", "nunique", "mean", "median", "quantile")
#: Aggregates whose value is 0, not missing, for a street that reported the table but
#: has no matching row.
ADDITIVE = ("sum", "count", "nunique")
DERIVE_OPS = ("days_between", "at_most", "map")

#: Defaults of ``[settings]`` (overridden by the TOML file, then by the caller).
DEFAULT_SETTINGS: dict = {
    "coverage": 2 / 3,
    "availability": 2 / 3,
    "skew": 2.0,
    "kurtosis": 3.5,
    "winmax": 1,
    "weight_spread": 0.25,
    "robust": 0.9,
    "top": 3,
    "strengths": 3,
    "similar": 3,
    "award_points": {"national": 3, "provincial": 2, "municipal": 1},
}


# --------------------------------------------------------------------------- framework


@dataclass(frozen=True)
class Measure:
    """One aggregate of one table over the rows of a street in a year.

    Attributes
    ----------
    table : str
        ``communities``, ``projects``, ``deliberations``, ``grid_cases`` or ``awards``.
    agg : str
        ``sum``, ``count``, ``nunique``, ``mean``, ``median`` or ``quantile``.
    column : str or None
        Column aggregated; ``count`` without a column counts rows, with one counts
        non-missing values.
    q : float or None
        Quantile for ``agg="quantile"`` (linear interpolation, as numpy's default).
    where : tuple of (column, values)
        Keep rows whose column is one of the values.
    notna : tuple of str
        Keep rows where these columns are not missing.
    window : int
        Years ending in the evaluation year whose rows count (1: that year only).
    """

    table: str
    agg: str
    column: str | None = None
    q: float | None = None
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    notna: tuple[str, ...] = ()
    window: int = 1

    def describe(self) -> str:
        """Return the measure as text, e.g. ``sum(projects.gov_funds_wan | programme=innovation)``."""
        what = f"{self.table}.{self.column}" if self.column else f"{self.table} rows"
        agg = f"quantile{self.q:g}" if self.agg == "quantile" else self.agg
        conds = [f"{c}={'|'.join(v)}" for c, v in self.where]
        conds += [f"{c} not missing" for c in self.notna]
        if self.window > 1:
            conds.append(f"last {self.window} years")
        return f"{agg}({what}{' | ' + ', '.join(conds) if conds else ''})"


@dataclass(frozen=True)
class Dimension:
    """A dimension (pillar) of the framework."""

    id: str
    label_zh: str
    label_en: str
    weight: float = 1.0


@dataclass(frozen=True)
class Indicator:
    """One indicator: ``scale * numerator / denominator`` for a street and year.

    ``direction`` is +1 when higher is better and -1 when lower is better.  With
    ``smoothing = k > 0`` the rate is ``(num + k * p) / (den + k)`` where ``p`` is the
    district rate of that year (sum of numerators over sum of denominators), which pulls
    streets with few cases towards the district and gives the district rate, not a
    missing value, to a street with a zero denominator.
    """

    id: str
    dimension: str
    label_zh: str
    label_en: str
    unit: str
    unit_en: str
    direction: int
    numerator: Measure
    denominator: Measure | None = None
    scale: float = 1.0
    smoothing: float = 0.0
    benchmark: float | None = None
    weight: float = 1.0
    optional: bool = False

    @property
    def formula(self) -> str:
        """The formula as text (for reports and the method appendix)."""
        num = self.numerator.describe()
        if self.denominator is None:
            text = num
        elif self.smoothing:
            text = (f"({num} + {self.smoothing:g}*p) / ({self.denominator.describe()} + "
                    f"{self.smoothing:g})")
        else:
            text = f"{num} / {self.denominator.describe()}"
        return text if self.scale == 1 else f"{self.scale:g} * {text}"


@dataclass(frozen=True)
class Derived:
    """A column derived before aggregation: ``table.name = op(*args)``."""

    table: str
    name: str
    op: str
    args: tuple


@dataclass(frozen=True, eq=False)
class Framework:
    """The parsed indicator framework.

    Attributes
    ----------
    version : str
        Version string of the file.
    dimensions, indicators : tuple
        :class:`Dimension` and :class:`Indicator` records in file order.
    settings : dict
        Method defaults (coverage, availability, skew, kurtosis, winmax, weight_spread,
        robust, top, strengths, similar, award_points).
    derive : tuple of Derived
        Columns derived before aggregation.
    source : str
        The file the framework was read from.
    """

    version: str
    dimensions: tuple[Dimension, ...]
    indicators: tuple[Indicator, ...]
    settings: dict = field(default_factory=dict)
    derive: tuple[Derived, ...] = ()
    source: str = ""

    @property
    def ids(self) -> list[str]:
        """Indicator ids in framework order."""
        return [i.id for i in self.indicators]

    def indicator(self, id: str) -> Indicator:
        """Return indicator ``id``; the error lists the valid ids."""
        for ind in self.indicators:
            if ind.id == id:
                return ind
        raise UsageError(f"unknown indicator {id!r}; valid ids: {', '.join(self.ids)}")

    def dimension(self, id: str) -> Dimension:
        """Return dimension ``id``."""
        for dim in self.dimensions:
            if dim.id == id:
                return dim
        valid = ", ".join(d.id for d in self.dimensions)
        raise UsageError(f"unknown dimension {id!r}; valid ids: {valid}")

    def meta(self) -> pd.DataFrame:
        """Return one row per indicator (index ``indicator``) with its declaration."""
        rows = [{
            "indicator": i.id, "dimension": i.dimension, "label_zh": i.label_zh,
            "label_en": i.label_en, "unit": i.unit, "unit_en": i.unit_en,
            "direction": i.direction, "weight": i.weight, "benchmark": i.benchmark,
            "formula": i.formula, "optional": i.optional,
        } for i in self.indicators]
        return pd.DataFrame(rows).set_index("indicator")

    def dimension_meta(self) -> pd.DataFrame:
        """Return one row per dimension (index ``dimension``): labels and weight."""
        rows = [{"dimension": d.id, "label_zh": d.label_zh, "label_en": d.label_en,
                 "weight": d.weight} for d in self.dimensions]
        return pd.DataFrame(rows).set_index("dimension")

    def with_settings(self, overrides: Mapping | None = None) -> Framework:
        """Return a copy with some settings replaced (unknown keys raise UsageError)."""
        if not overrides:
            return self
        unknown = sorted(set(overrides) - set(DEFAULT_SETTINGS))
        if unknown:
            raise UsageError(f"unknown setting(s) {unknown}; valid: {', '.join(DEFAULT_SETTINGS)}")
        new = {k: float(Fraction(v)) if isinstance(v, str) else v for k, v in overrides.items()}
        return replace(self, settings={**self.settings, **new})

    def select(self, ids: Iterable[str]) -> Framework:
        """Return a copy with only the indicators ``ids`` (in framework order)."""
        keep = set(ids)
        for i in keep:
            self.indicator(i)
        return replace(self, indicators=tuple(i for i in self.indicators if i.id in keep))


def _fail(source: str, message: str) -> UsageError:
    return UsageError(f"{source}: {message}")


def _measure(spec, where: str, source: str) -> Measure:
    if not isinstance(spec, Mapping):
        raise _fail(source, f"{where} must be a table {{table = ..., agg = ...}}")
    unknown = set(spec) - {"table", "agg", "column", "q", "where", "notna", "window"}
    if unknown:
        raise _fail(source, f"{where}: unknown key(s) {sorted(unknown)}")
    table, agg = spec.get("table"), spec.get("agg")
    if table not in YEAR_COLUMNS:
        raise _fail(source, f"{where}.table must be one of {', '.join(YEAR_COLUMNS)}; got {table!r}")
    if agg not in AGGS:
        raise _fail(source, f"{where}.agg must be one of {', '.join(AGGS)}; got {agg!r}")
    column = spec.get("column")
    if column is None and agg != "count":
        raise _fail(source, f"{where}: agg {agg!r} needs a column")
    q = spec.get("q")
    if agg == "quantile" and not (isinstance(q, int | float) and 0 <= q <= 1):
        raise _fail(source, f"{where}: quantile needs q between 0 and 1")
    conds = []
    for col, val in dict(spec.get("where", {})).items():
        vals = val if isinstance(val, list) else [val]
        conds.append((str(col), tuple(str(v) for v in vals)))
    window = int(spec.get("window", 1))
    if window < 1:
        raise _fail(source, f"{where}.window must be >= 1")
    return Measure(table=table, agg=agg, column=column, q=None if q is None else float(q),
                   where=tuple(sorted(conds)), notna=tuple(spec.get("notna", ())),
                   window=window)


def _direction(value, where: str, source: str) -> int:
    if value in ("+", 1, "1", "+1"):
        return 1
    if value in ("-", -1, "-1"):
        return -1
    raise _fail(source, f"{where}.direction must be '+' or '-'; got {value!r}")


def parse_framework(doc: Mapping, source: str = "<dict>") -> Framework:
    """Build a :class:`Framework` from the parsed TOML document ``doc``.

    Raises
    ------
    UsageError
        If the document is incomplete or inconsistent; the message names the entry.
    """
    settings = {**DEFAULT_SETTINGS, **dict(doc.get("settings", {}))}
    unknown = sorted(set(settings) - set(DEFAULT_SETTINGS))
    if unknown:
        raise _fail(source, f"unknown setting(s) {unknown}")
    for key, value in settings.items():
        if isinstance(value, str):  # fractions such as "2/3", so that 6 of 9 passes 2/3
            try:
                settings[key] = float(Fraction(value))
            except (ValueError, ZeroDivisionError):
                raise _fail(source, f"settings.{key} must be a number or a fraction") from None
    dims = []
    for k, d in enumerate(doc.get("dimension", [])):
        try:
            dims.append(Dimension(id=str(d["id"]), label_zh=str(d["label_zh"]),
                                  label_en=str(d["label_en"]), weight=float(d.get("weight", 1))))
        except KeyError as exc:
            raise _fail(source, f"dimension #{k + 1} lacks {exc.args[0]!r}") from None
    dim_ids = [d.id for d in dims]
    if not dims or len(set(dim_ids)) != len(dim_ids):
        raise _fail(source, "dimensions must be present with unique ids")
    inds = []
    for k, d in enumerate(doc.get("indicator", [])):
        where = f"indicator {d.get('id', '#' + str(k + 1))}"
        missing = [key for key in ("id", "dimension", "label_zh", "label_en", "unit", "direction",
                                   "numerator") if key not in d]
        if missing:
            raise _fail(source, f"{where} lacks {missing}")
        if d["dimension"] not in dim_ids:
            raise _fail(source, f"{where}.dimension must be one of {', '.join(dim_ids)}")
        den = d.get("denominator")
        inds.append(Indicator(
            id=str(d["id"]), dimension=str(d["dimension"]), label_zh=str(d["label_zh"]),
            label_en=str(d["label_en"]), unit=str(d["unit"]), unit_en=str(d.get("unit_en", d["unit"])),
            direction=_direction(d["direction"], where, source),
            numerator=_measure(d["numerator"], f"{where}.numerator", source),
            denominator=None if den is None else _measure(den, f"{where}.denominator", source),
            scale=float(d.get("scale", 1)), smoothing=float(d.get("smoothing", 0)),
            benchmark=None if d.get("benchmark") is None else float(d["benchmark"]),
            weight=float(d.get("weight", 1)), optional=bool(d.get("optional", False)),
        ))
        if inds[-1].smoothing and den is None:
            raise _fail(source, f"{where}: smoothing needs a denominator")
    ids = [i.id for i in inds]
    if not inds or len(set(ids)) != len(ids):
        raise _fail(source, "indicators must be present with unique ids")
    derive = []
    for table, cols in dict(doc.get("derive", {})).items():
        if table not in YEAR_COLUMNS:
            raise _fail(source, f"derive.{table}: table must be one of {', '.join(YEAR_COLUMNS)}")
        for name, spec in cols.items():
            if spec.get("op") not in DERIVE_OPS:
                raise _fail(source, f"derive.{table}.{name}.op must be one of {', '.join(DERIVE_OPS)}")
            derive.append(Derived(table, name, spec["op"], tuple(spec.get("args", ()))))
    return Framework(version=str(doc.get("version", "")), dimensions=tuple(dims),
                     indicators=tuple(inds), settings=settings, derive=tuple(derive),
                     source=source)


@lru_cache(maxsize=8)
def _read_framework(path: str, mtime: float) -> Framework:
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    return parse_framework(doc, source=Path(path).name)


def load_framework(path: str | Path | Framework | None = None) -> Framework:
    """Return the indicator framework.

    Parameters
    ----------
    path : path or Framework, optional
        A TOML file in the format of ``xzlib/evaluation/framework.toml`` (the default),
        or an already parsed :class:`Framework` (returned as is).

    Returns
    -------
    Framework
        Dimensions, indicators (with their formulas) and method defaults.

    Raises
    ------
    UsageError
        If the file does not exist or is not a valid framework.

    Examples
    --------
    >>> from xzlib.evaluation import load_framework
    >>> fw = load_framework()
    >>> [d.id for d in fw.dimensions]
    ['D1', 'D2', 'D3', 'D4', 'D5']
    """
    if isinstance(path, Framework):
        return path
    if path is None:
        from .. import resources

        path = resources.path("framework")  # the framework shipped with xzlib
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"indicator framework not found at {p}")
    try:
        return _read_framework(str(p.resolve()), p.stat().st_mtime)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{p.name} is not valid TOML: {exc}") from None


# --------------------------------------------------------------------------- tables


def _float(s: pd.Series) -> np.ndarray:
    """Values as float64 with NaN for missing (booleans become 0/1)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if pd.api.types.is_bool_dtype(s.dtype) or str(s.dtype) == "boolean":
        return s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _strings(s: pd.Series) -> np.ndarray:
    """Values as an object array of str with None for missing."""
    return s.astype("string").to_numpy(dtype=object, na_value=None)


def _years(df: pd.DataFrame, table: str) -> np.ndarray:
    col = df[YEAR_COLUMNS[table]]
    if pd.api.types.is_datetime64_any_dtype(col):
        col = col.dt.year
    return pd.to_numeric(col, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _community_streets(tables: Mapping[str, pd.DataFrame | None]) -> dict[tuple[int, str], str]:
    """Map (year, community_code) -> street_code from the communities table."""
    com = tables.get("communities")
    if com is None or com.empty:
        return {}
    years = _years(com, "communities")
    ok = np.isfinite(years)
    return dict(zip(zip(years[ok].astype(int), _strings(com["community_code"])[ok], strict=True),
                    _strings(com["street_code"])[ok], strict=True))


def _division_parents() -> dict[str, str]:
    """Community -> street from the divisions history (latest valid parent), or {}."""
    try:
        from ..roster import divisions

        d = divisions(level="community").sort_values("valid_from", na_position="first")
        return dict(zip(_strings(d["code"]), _strings(d["parent_code"]), strict=True))
    except (OSError, XzError):  # pragma: no cover - reference data missing
        return {}


def _street_of(df: pd.DataFrame, table: str, years: np.ndarray, cmap: dict,
               parents: dict | None) -> np.ndarray:
    """The street of each row: its street_code, else its community's street that year."""
    if table == "awards":
        level = _strings(df["scope_level"])
        code = _strings(df["scope_code"])
        out = np.array([c if lv == "street" else None for lv, c in zip(level, code, strict=True)],
                       dtype=object)
        com = [i for i, lv in enumerate(level) if lv == "community"]
        if com:
            parents = _division_parents() if parents is None else parents
            for i in com:
                y = years[i]
                hit = cmap.get((int(y), code[i])) if np.isfinite(y) else None
                out[i] = hit or parents.get(code[i])
        return out
    if "street_code" in df.columns:
        return _strings(df["street_code"])
    if "community_code" not in df.columns:
        raise UsageError(f"{table} needs a street_code or community_code column")
    comm = _strings(df["community_code"])
    out = np.array([cmap.get((int(y), c)) if np.isfinite(y) else None
                    for y, c in zip(years, comm, strict=True)], dtype=object)
    if any(v is None for v in out):
        parents = _division_parents() if parents is None else parents
        out = np.array([v if v is not None else parents.get(c)
                        for v, c in zip(out, comm, strict=True)], dtype=object)
    return out


def _derive(frame: pd.DataFrame, source: pd.DataFrame, spec: Derived, settings: Mapping) -> None:
    """Add derived column ``spec.name`` to ``frame`` (a private working copy)."""
    if spec.op == "days_between":
        start, end = (pd.to_datetime(source[c]) for c in spec.args)
        frame[spec.name] = ((end - start).dt.total_seconds() / 86400.0).to_numpy(
            dtype=float, na_value=np.nan)
    elif spec.op == "at_most":
        col, limit = spec.args
        vals = frame[col].to_numpy(dtype=float) if col in frame else _float(source[col])
        out = np.where(np.isnan(vals), np.nan, (vals <= float(limit)).astype(float))
        frame[spec.name] = out
    elif spec.op == "map":
        col, key = spec.args
        mapping = settings.get(key, key) if isinstance(key, str) else key
        frame[spec.name] = pd.Series(_strings(source[col]), index=frame.index).map(
            {str(k): float(v) for k, v in dict(mapping).items()}).to_numpy(dtype=float)


def _needed(framework: Framework) -> dict[str, set[str]]:
    cols: dict[str, set[str]] = {}
    for ind in framework.indicators:
        for m in (ind.numerator, ind.denominator):
            if m is None:
                continue
            s = cols.setdefault(m.table, set())
            s.update(c for c in (m.column,) if c)
            s.update(c for c, _ in m.where)
            s.update(m.notna)
    return cols


def prepare_tables(
    tables: Mapping[str, pd.DataFrame | None],
    framework: Framework,
    years: Iterable[int] | None = None,
) -> dict[str, pd.DataFrame | None]:
    """Return working frames: ``_year``, ``_street`` and the columns the framework uses.

    Parameters
    ----------
    tables : mapping of str to DataFrame or None
        The processed tables (and optionally ``awards``); missing tables are None.
    framework : Framework
        Decides which columns and derived columns are needed.
    years : iterable of int, optional
        Keep rows of these years (and the years windowed measures reach back to).

    Returns
    -------
    dict of str to DataFrame or None
        New frames; the inputs are not modified.
    """
    needed = _needed(framework)
    derive = {}
    for d in framework.derive:
        derive.setdefault(d.table, []).append(d)
    windows = {}
    for ind in framework.indicators:
        for m in (ind.numerator, ind.denominator):
            if m is not None:
                windows[m.table] = max(windows.get(m.table, 1), m.window)
    cmap = _community_streets(tables)
    parents = None
    out: dict[str, pd.DataFrame | None] = {}
    for table, cols in needed.items():
        df = tables.get(table)
        if df is None:
            out[table] = None
            continue
        yrs = _years(df, table)
        keep = np.isfinite(yrs)
        if years is not None:
            ys = np.array(sorted(set(int(y) for y in years)), dtype=float)
            lo = ys - windows.get(table, 1) + 1
            keep &= np.any((yrs[:, None] >= lo[None, :]) & (yrs[:, None] <= ys[None, :]), axis=1)
        if table == "awards" and (~np.isfinite(yrs)).any():
            logger.debug("awards: %d undated award(s) cannot be placed in a year",
                      int((~np.isfinite(yrs)).sum()))
        src = df.loc[keep] if not keep.all() else df
        frame = pd.DataFrame({"_year": yrs[keep].astype(int)}, index=src.index)
        frame["_street"] = _street_of(src, table, yrs[keep], cmap, parents)
        made = {d.name for d in derive.get(table, [])}
        for d in derive.get(table, []):
            if d.name in cols or any(d.name in e.args for e in derive[table]):
                _derive(frame, src, d, framework.settings)
        for c in sorted(cols - made):
            if c not in src.columns:
                raise UsageError(f"{table} has no column {c!r} (needed by the framework); "
                                 f"columns are {list(src.columns)}")
            frame[c] = src[c]
        placed = frame["_street"].notna().to_numpy()
        if not placed.all():
            logger.debug("%s: %d row(s) without a street are not counted", table, int((~placed).sum()))
        frame = frame[placed].reset_index(drop=True)
        out[table] = frame
    if "awards" in out and out["awards"] is not None:
        out["awards"].attrs["undated_streets"] = _undated_streets(tables.get("awards"), cmap)
    return out


def _undated_streets(awards: pd.DataFrame | None, cmap: dict) -> set[str]:
    """Streets concerned by an award without a year (their award count is unknown)."""
    if awards is None or awards.empty:
        return set()
    yrs = _years(awards, "awards")
    bad = awards.loc[~np.isfinite(yrs)]
    if bad.empty:
        return set()
    streets = _street_of(bad, "awards", np.full(len(bad), np.nan), cmap, None)
    return {s for s in streets if s}


# --------------------------------------------------------------------------- values


def _aggregate(frame: pd.DataFrame, m: Measure) -> pd.Series:
    """Aggregate ``frame`` by (_year, _street) as measure ``m`` says."""
    rows = frame
    if m.window > 1:
        rows = pd.concat([rows.assign(_year=rows["_year"] + k) for k in range(m.window)],
                         ignore_index=True)
    mask = np.ones(len(rows), dtype=bool)
    for col, vals in m.where:
        mask &= pd.Series(_strings(rows[col])).isin(vals).to_numpy()
    for col in m.notna:
        mask &= rows[col].notna().to_numpy()
    rows = rows.loc[mask]
    keys = [rows["_year"].to_numpy(), rows["_street"].to_numpy()]
    if m.agg == "count" and m.column is None:
        vals = pd.Series(np.ones(len(rows)), index=rows.index)
        return vals.groupby(keys).sum()
    if m.agg == "nunique":
        return pd.Series(_strings(rows[m.column]), index=rows.index).groupby(keys).nunique()
    vals = pd.Series(_float(rows[m.column]), index=rows.index)
    g = vals.groupby(keys)
    if m.agg == "count":
        return g.count().astype(float)
    if m.agg == "sum":
        return g.sum()
    if m.agg == "mean":
        return g.mean()
    if m.agg == "median":
        return g.median()
    return g.quantile(m.q)


def _presence(prepared: Mapping, m: Measure, index: pd.MultiIndex) -> np.ndarray:
    """True where a street reported measure ``m``'s table in that year (so no row = 0)."""
    frame = prepared.get(m.table)
    if frame is None:
        return np.zeros(len(index), dtype=bool)
    years = index.get_level_values(0).to_numpy()
    streets = index.get_level_values(1).to_numpy()
    if m.table == "awards":
        # reference table: every street is covered in the years the table has dated
        # awards for, except streets concerned by an undated award.
        covered = set(frame["_year"])
        cov = np.zeros(len(index), dtype=bool)
        for k in range(m.window):
            cov |= np.isin(years - k, list(covered))
        if frame.empty:
            cov[:] = False
        undated = frame.attrs.get("undated_streets", set())
        return cov & ~np.isin(streets, list(undated))
    seen = frame[["_year", "_street"]].drop_duplicates()
    pairs = set(zip(seen["_year"].to_numpy(), seen["_street"].to_numpy(), strict=True))
    if m.window > 1:
        pairs = {(y + k, s) for y, s in pairs for k in range(m.window)}
    return np.array([(y, s) in pairs for y, s in zip(years, streets, strict=True)], dtype=bool)


def compute_values(
    tables: Mapping[str, pd.DataFrame | None],
    framework: Framework,
    units: Mapping[int, Iterable[str]],
) -> pd.DataFrame:
    """Return raw indicator values: one row per year, street and indicator.

    Parameters
    ----------
    tables : mapping of str to DataFrame or None
        Processed tables as :func:`xzlib.load` returns them (``awards`` optional).
    framework : Framework
        The indicators to compute.
    units : mapping of int to iterable of str
        For each year, the street codes to report (streets without data get NaN).

    Returns
    -------
    DataFrame
        Columns ``year`` (int), ``street_code`` (str), ``indicator`` (str), ``value``,
        ``numerator`` and ``denominator`` (float, before scale and smoothing).
    """
    pairs = [(int(y), str(s)) for y, ss in units.items() for s in ss]
    index = pd.MultiIndex.from_tuples(pairs, names=["year", "street_code"])
    prepared = prepare_tables(tables, framework, years=list(units))
    cache: dict[Measure, np.ndarray] = {}
    present: dict[tuple[str, int], np.ndarray] = {}

    def presence(m: Measure) -> np.ndarray:
        key = (m.table, m.window)
        if key not in present:
            present[key] = _presence(prepared, m, index)
        return present[key]

    def measure(m: Measure) -> np.ndarray:
        if m not in cache:
            frame = prepared.get(m.table)
            if frame is None:
                vals = np.full(len(index), np.nan)
            else:
                agg = _aggregate(frame, m)
                vals = agg.reindex(index).to_numpy(dtype=float) if len(agg) else np.full(len(index), np.nan)
                if m.agg in ADDITIVE:
                    vals = np.where(np.isnan(vals) & presence(m), 0.0, vals)
            cache[m] = vals
        return cache[m]

    years = index.get_level_values(0).to_numpy()
    out = []
    for ind in framework.indicators:
        num = measure(ind.numerator)
        den = measure(ind.denominator) if ind.denominator is not None else np.full(len(index), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            if ind.denominator is None:
                value = num * ind.scale
            elif ind.smoothing:
                ok = np.isfinite(num) & np.isfinite(den)
                tot = pd.DataFrame({"y": years[ok], "n": num[ok], "d": den[ok]}).groupby("y").sum()
                p = pd.Series(years).map(tot["n"] / tot["d"].where(tot["d"] > 0)).to_numpy(dtype=float)
                value = ind.scale * (num + ind.smoothing * p) / (den + ind.smoothing)
            else:
                value = np.where(den > 0, ind.scale * num / den, np.nan)
        value = np.where(np.isfinite(value), value, np.nan)
        out.append(pd.DataFrame({"year": years, "street_code": index.get_level_values(1).to_numpy(),
                                 "indicator": ind.id, "value": value, "numerator": num,
                                 "denominator": den}))
    res = pd.concat(out, ignore_index=True)
    res["year"] = res["year"].astype(int)
    return res


# --------------------------------------------------------------------------- tidy table


def _street_names() -> dict[str, str]:
    try:
        from ..roster import divisions

        st = divisions(level="street").drop_duplicates("code", keep="last")
        return dict(zip(_strings(st["code"]), _strings(st["name"]), strict=True))
    except (OSError, XzError):  # pragma: no cover - reference data missing
        return {}


def indicator_table(values: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """Add labels, units, district statistics, ranks and flags to raw values.

    Parameters
    ----------
    values : DataFrame
        Output of :func:`compute_values`.
    framework : Framework
        Labels, units, directions and the outlier thresholds (``settings``).

    Returns
    -------
    DataFrame
        One row per year, street and indicator; see :func:`xzlib.evaluation.indicators`.
    """
    meta = framework.meta()
    df = values.merge(meta[["dimension", "label_zh", "label_en", "unit", "unit_en", "direction",
                            "benchmark"]], left_on="indicator", right_index=True, how="left")
    names = _street_names()
    df.insert(2, "street_name", df["street_code"].map(names).fillna(""))
    key = [df["year"], df["indicator"]]
    g = df.groupby(key, sort=False)["value"]
    n_units = df.groupby(key, sort=False)["street_code"].transform("size")
    df["n_streets"] = g.transform("count").astype(int)
    df["coverage"] = df["n_streets"] / n_units
    df["district_median"] = g.transform("median")
    df["district_sd"] = g.transform("std")
    signed = df["value"] * df["direction"]
    df["rank"] = signed.groupby(key, sort=False).rank(ascending=False, method="min").astype("Int64")
    hi = df["value"] > df["district_median"] + df["district_sd"]
    lo = df["value"] < df["district_median"] - df["district_sd"]
    df["flag"] = np.select([hi.to_numpy(), lo.to_numpy()], ["above", "below"], "")
    better = (hi & (df["direction"] > 0)) | (lo & (df["direction"] < 0))
    worse = (lo & (df["direction"] > 0)) | (hi & (df["direction"] < 0))
    df["assessment"] = np.select([better.to_numpy(), worse.to_numpy()], ["better", "worse"], "")
    # skewness and kurtosis per year and indicator (vectorised over a wide matrix)
    wide = df.pivot_table(index=["year", "indicator"], columns="street_code", values="value",
                          aggfunc="first", dropna=False, sort=False)
    stats = pd.DataFrame({"skew": skewness(wide.to_numpy(dtype=float), axis=1),
                          "kurtosis": kurtosis(wide.to_numpy(dtype=float), axis=1)},
                         index=wide.index)
    df = df.merge(stats, left_on=["year", "indicator"], right_index=True, how="left")
    s = framework.settings
    df["outlier"] = ((df["skew"].abs() >= s["skew"]) & (df["kurtosis"] >= s["kurtosis"])).fillna(False)
    prev = df[["year", "street_code", "indicator", "value"]].assign(year=df["year"] + 1)
    df = df.merge(prev.rename(columns={"value": "_prev"}), on=["year", "street_code", "indicator"],
                  how="left")
    df["change"] = df["value"] - df["_prev"]
    order = {i: k for k, i in enumerate(framework.ids)}
    df["_o"] = df["indicator"].map(order)
    df = df.sort_values(["year", "_o", "street_code"], kind="stable").reset_index(drop=True)
    cols = ["year", "street_code", "street_name", "dimension", "indicator", "label_zh", "label_en",
            "value", "unit", "unit_en", "direction", "numerator", "denominator", "rank",
            "n_streets", "coverage", "district_median", "district_sd", "flag", "assessment",
            "benchmark", "skew", "kurtosis", "outlier", "change"]
    return df[cols]


# --------------------------------------------------------------------------- public API


def load_tables(tables: Mapping[str, pd.DataFrame | None] | None = None, *,
                data_dir=None) -> dict[str, pd.DataFrame | None]:
    """Return the tables an evaluation needs: the programme tables and the awards.

    Parameters
    ----------
    tables : mapping, optional
        Tables to use instead of the processed data (tests, notebooks); a missing key is
        a missing table.  ``awards`` is optional.
    data_dir : path, optional
        Processed data folder for :func:`xzlib.load` when ``tables`` is None.

    Returns
    -------
    dict of str to DataFrame or None
        ``communities``, ``projects``, ``deliberations``, ``grid_cases`` and ``awards``
        (None when not available: the awards indicator is then screened out).

    Raises
    ------
    UsageError
        No processed data (from :func:`xzlib.load`).
    """
    if tables is not None:
        out = {name: tables.get(name) for name in (*PROGRAMME_TABLES, "awards")}
        for name, df in tables.items():
            if name not in out:
                logger.debug("ignoring table %r (not used by the evaluation)", name)
            elif df is not None and not isinstance(df, pd.DataFrame):
                raise UsageError(f"tables[{name!r}] must be a DataFrame")
        return out
    from ..dataset import load

    out = {name: load(name, data_dir=data_dir) for name in PROGRAMME_TABLES}
    try:
        from .. import reference

        out["awards"] = reference.awards()
    except (ImportError, AttributeError, OSError, XzError) as exc:
        logger.info("awards not available (%s); the awards indicator is screened out", exc)
        out["awards"] = None
    return out


def is_synthetic(tables: Mapping[str, pd.DataFrame | None]) -> bool:
    """Whether any programme table says it is synthetic (示例数据)."""
    return any(bool(df.attrs.get("synthetic", False)) for name, df in tables.items()
               if df is not None and name in PROGRAMME_TABLES)


def data_years(tables: Mapping[str, pd.DataFrame | None]) -> list[int]:
    """Years with rows in any programme table."""
    years: set[int] = set()
    for name in PROGRAMME_TABLES:
        df = tables.get(name)
        if df is not None and not df.empty:
            y = _years(df, name)
            years.update(int(v) for v in np.unique(y[np.isfinite(y)]))
    return sorted(years)


def street_units(years: Iterable[int], streets: Iterable[str] | None = None) -> dict[int, list[str]]:
    """The streets evaluated in each year: ``streets`` if given, else the divisions'."""
    if streets is not None:
        codes = [str(s) for s in streets]
        return {int(y): codes for y in years}
    from ..roster import streets as valid_streets

    return {int(y): [str(c) for c in valid_streets(int(y))["code"]] for y in years}


def indicators(
    year: int | Iterable[int] | None = None,
    *,
    tables: Mapping[str, pd.DataFrame | None] | None = None,
    data_dir=None,
    framework: str | Path | Framework | None = None,
    streets: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Return every indicator for every street, in natural units, with district context.

    Parameters
    ----------
    year : int or list of int, optional
        Year(s) to compute; None computes every year with data (for trends).
    tables : mapping of str to DataFrame, optional
        Tables to use instead of the processed data (keys ``communities``, ``projects``,
        ``deliberations``, ``grid_cases``, optionally ``awards``).
    data_dir : path, optional
        Processed data folder (default ``XZ_DATA_DIR`` or the project's ``data/``).
    framework : path or Framework, optional
        Indicator framework (default: the one shipped with xzlib).
    streets : list of str, optional
        Street codes to report (default: the streets valid in each year,
        :func:`xzlib.streets`).

    Returns
    -------
    DataFrame
        One row per year, street and indicator:

        ===============  ========  ===============================================
        column           dtype     meaning
        ===============  ========  ===============================================
        year             int       evaluation year
        street_code      str       9-digit street code
        street_name      str       street name (empty if unknown)
        dimension        str       D1..D5
        indicator        str       indicator id (see ``framework.toml``)
        label_zh/_en     str       labels
        value            float     the rate in natural units (NaN: no data)
        unit/unit_en     str       unit of ``value``
        direction        int       +1 higher is better, -1 lower is better
        numerator        float     numerator before scale/smoothing (traceability)
        denominator      float     denominator (NaN if the indicator has none)
        rank             Int64     1 = best among streets with a value (ties share)
        n_streets        int       streets with a value
        coverage         float     n_streets / streets evaluated that year
        district_median  float     median over streets
        district_sd      float     standard deviation over streets (n-1)
        flag             str       ``above``/``below`` beyond median +/- 1 SD, else ""
        assessment       str       ``better``/``worse`` (flag read with the direction)
        benchmark        float     optional target (e.g. 100 %)
        skew, kurtosis   float     across streets (sample skewness, excess kurtosis)
        outlier          bool      abs(skew) >= 2 and kurtosis >= 3.5 (settings)
        change           float     value minus the previous year's value
        ===============  ========  ===============================================

        ``attrs["synthetic"]`` is True when the data is the synthetic sample (示例数据).

    Raises
    ------
    UsageError
        No processed data, or an invalid framework.

    Examples
    --------
    >>> import xzlib as xz
    >>> ind = xz.indicators(2018)                       # doctest: +SKIP
    >>> ind.pivot(index="street_name", columns="indicator", values="value")  # doctest: +SKIP
    """
    fw = load_framework(framework)
    tabs = load_tables(tables, data_dir=data_dir)
    if year is None:
        years = data_years(tabs)
    elif isinstance(year, int | np.integer):
        years = [int(year)]
    else:
        years = sorted({int(y) for y in year})
    units = street_units(years, streets)
    values = compute_values(tabs, fw, units)
    out = indicator_table(values, fw)
    out.attrs["synthetic"] = is_synthetic(tabs)
    out.attrs["framework"] = fw.version
    return out
