"""Reconcile the data with the published figures (``published_facts``).

Each published fact of known meaning is mapped, declaratively (:data:`MAPPING`), to an
aggregate of the processed tables over the fact's scope and period; the data value is
converted to the fact's unit and judged against the published value given its
qualifier:

=========  ==========================================================================
qualifier  consistent when
=========  ==========================================================================
exact      ``|data - published| <= r``, with ``r`` half a unit of the published
           figure's last digit (0.5 for 5769, 0.05 for 147.3): equal within rounding
about      ``|data - published| <= 10 % of published`` (约/近/左右), plus ``r``
at_least   ``published - r <= data <= published * 1.5`` (多/超过/以上): at least the
           figure, and not so far above it that the article would have said more
=========  ==========================================================================

Facts without a mapping, or whose table has no rows in the period, get the verdict
``no data`` (not an error).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import UsageError, XzError
from .governance import _float, _strings, _years

__all__ = ["FactMeasure", "MAPPING", "UNITS", "VERDICTS", "reconcile", "verdict"]

logger = logging.getLogger(__name__)

#: Verdicts with their Chinese labels.
VERDICTS = {"consistent": "一致", "differs": "不一致", "no data": "无数据"}

#: Units as written in the article -> (base unit, factor to the base unit).
UNITS: dict[str, tuple[str, float]] = {
    "元": ("元", 1.0),
    "万元": ("元", 1e4),
    "亿元": ("元", 1e8),
    "人次": ("人次", 1.0),
    "万人次": ("人次", 1e4),
    "人": ("人", 1.0),
    "名": ("人", 1.0),
    "万人": ("人", 1e4),
    "个": ("个", 1.0),
    "万个": ("个", 1e4),
}


@dataclass(frozen=True)
class FactMeasure:
    """How to compute the data value of a published fact.

    Attributes
    ----------
    table : str
        ``communities`` or ``projects`` (any programme table works).
    agg : {"sum", "count", "nunique"}
        Aggregate over the rows in scope and period.
    column : str or None
        Column aggregated (``count`` without a column counts rows).
    where : tuple of (column, values)
        Keep rows whose column is one of the values.
    unit : str
        Unit of the aggregate as computed (a key of :data:`UNITS`).
    stock : bool
        A state at year end (communities): use the last year of the period only,
        instead of summing over the period.
    """

    table: str
    agg: str
    column: str | None = None
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unit: str = "个"
    stock: bool = False

    def describe(self) -> str:
        """The measure as text, e.g. ``sum(projects.gov_funds_wan | programme=innovation)``."""
        what = f"{self.table}.{self.column}" if self.column else f"{self.table} rows"
        conds = ", ".join(f"{c}={'|'.join(v)}" for c, v in self.where)
        kind = " at year end" if self.stock else ""
        return f"{self.agg}({what}{' | ' + conds if conds else ''}){kind} [{self.unit}]"


def _w(**kw) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list | tuple) else (v,)) for k, v in kw.items()))


_MC = _w(programme="micro_charity")
#: fact_id -> how to compute it from the data (scope and period come from the fact).
MAPPING: dict[str, FactMeasure] = {
    "communities_2018": FactMeasure("communities", "nunique", "community_code", stock=True),
    "party_committees_2018": FactMeasure("communities", "sum", "party_committee", stock=True),
    "service_centers_2018": FactMeasure("communities", "sum", "service_center", stock=True),
    "grids_2018": FactMeasure("communities", "sum", "grids", stock=True),
    "grid_leaders_2018": FactMeasure("communities", "sum", "grid_leaders", unit="人", stock=True),
    "grid_members_2018": FactMeasure("communities", "sum", "grid_members", unit="人", stock=True),
    "special_funds_2013_2018": FactMeasure("projects", "sum", "gov_funds_wan", unit="万元"),
    "innovation_funds_district_2013_2018": FactMeasure(
        "projects", "sum", "gov_funds_wan", _w(programme="innovation", funding_level="district"),
        unit="万元"),
    "charity_funds_street_2013_2018": FactMeasure(
        "projects", "sum", "gov_funds_wan",
        _w(programme=["micro_charity", "deliberation_fund"], funding_level="street"), unit="万元"),
    "social_funds_2013_2018": FactMeasure("projects", "sum", "social_funds_wan", unit="万元"),
    "innovation_projects_2013_2018": FactMeasure("projects", "count", None,
                                                 _w(programme="innovation")),
    "people_served_2013_2018": FactMeasure("projects", "sum", "beneficiaries", unit="人次"),
    "micro_charity_brands": FactMeasure("projects", "nunique", "brand", _MC),
    "micro_charity_social_funds": FactMeasure("projects", "sum", "social_funds_wan", _MC, unit="万元"),
    "micro_charity_projects": FactMeasure("projects", "count", None, _MC),
    "micro_charity_served": FactMeasure("projects", "sum", "beneficiaries", _MC, unit="人次"),
}

#: Relative tolerance of ``about`` (约) and the cap of ``at_least`` (多) above the figure.
ABOUT = 0.10
AT_LEAST_MAX = 0.50


def _decimals(value: float) -> int:
    for d in range(7):
        if abs(round(value, d) - value) <= 1e-9 * max(1.0, abs(value)):
            return d
    return 7


def verdict(published: float, data: float, qualifier: str, *, about: float = ABOUT,
            at_least_max: float = AT_LEAST_MAX) -> tuple[str, str]:
    """Judge a data value against a published one.

    Parameters
    ----------
    published, data : float
        Both in the published unit.
    qualifier : {"exact", "about", "at_least"}
        How the article hedges the figure.
    about : float
        Relative tolerance of ``about`` (default 0.10).
    at_least_max : float
        How far above the figure ``at_least`` still counts as consistent (default 0.50).

    Returns
    -------
    (verdict, rule)
        ``consistent``, ``differs`` or ``no data``, and the test applied as text.

    Examples
    --------
    >>> verdict(3000, 2950, "about")
    ('consistent', 'within ±10% of 3000: 2700 to 3300')
    >>> verdict(130, 128, "at_least")[0]
    'differs'
    """
    if data is None or published is None or not (math.isfinite(data) and math.isfinite(published)):
        return "no data", ""
    r = 0.5 * 10 ** -_decimals(published)
    q = str(qualifier)
    if q == "about":
        lo, hi = published - about * abs(published) - r, published + about * abs(published) + r
        rule = f"within ±{about:.0%} of {published:g}: {published * (1 - about):g} to {published * (1 + about):g}"
    elif q == "at_least":
        lo, hi = published - r, published * (1 + at_least_max)
        rule = f"at least {published:g} and at most {hi:g} (+{at_least_max:.0%})"
    else:
        lo, hi = published - r, published + r
        rule = f"equal to {published:g} within rounding (±{r:g})"
        if q != "exact":
            rule += f"; unknown qualifier {q!r} read as exact"
    return ("consistent" if lo <= data <= hi else "differs"), rule


def _scope_mask(df: pd.DataFrame, level: str, code: str, communities: pd.DataFrame | None) -> np.ndarray:
    if level in ("district", "", "None") or code in ("440402", ""):
        return np.ones(len(df), dtype=bool)
    if level == "street":
        if "street_code" in df.columns:
            return (_strings(df["street_code"]) == code)
        if "community_code" in df.columns and communities is not None:
            cm = communities[_strings(communities["street_code"]) == code]
            return np.isin(_strings(df["community_code"]), list(_strings(cm["community_code"])))
    if level == "community" and "community_code" in df.columns:
        return _strings(df["community_code"]) == code
    raise UsageError(f"cannot select scope {level} {code} in this table")


def _compute(m: FactMeasure, df: pd.DataFrame, years: np.ndarray, y0: int, y1: int,
             scope: np.ndarray) -> tuple[float, str]:
    """Return (value in m.unit, note) or (nan, reason)."""
    if m.stock:
        y0 = y1
    in_period = (years >= y0) & (years <= y1)
    if not in_period.any():
        return math.nan, f"no {m.table} rows in {y0}-{y1}" if y0 != y1 else f"no {m.table} rows in {y1}"
    have = sorted({int(y) for y in years[in_period]})
    missing = [y for y in range(y0, y1 + 1) if y not in have]
    note = f"data cover {', '.join(map(str, have))} only" if missing else ""
    keep = in_period & scope
    for col, vals in m.where:
        keep &= np.isin(_strings(df[col]), list(vals))
    rows = df.loc[keep]
    if m.agg == "count" and m.column is None:
        return float(len(rows)), note
    if m.agg == "count":
        return float(rows[m.column].notna().sum()), note
    if m.agg == "nunique":
        vals = _strings(rows[m.column])
        return float(len({v for v in vals if v not in (None, "")})), note
    if m.agg == "sum":
        return float(np.nansum(_float(rows[m.column]))), note
    raise UsageError(f"agg must be one of sum, count, nunique; got {m.agg!r}")


def _load_facts(facts: pd.DataFrame | None) -> pd.DataFrame:
    if facts is not None:
        return facts
    try:
        from .. import reference
    except ImportError as exc:
        raise UsageError("published facts are not available (xzlib.reference is missing); "
                         "pass facts=...") from exc
    return reference.facts()


def reconcile(
    *,
    facts: pd.DataFrame | None = None,
    tables: Mapping[str, pd.DataFrame | None] | None = None,
    data_dir=None,
    mapping: Mapping[str, FactMeasure] | None = None,
    about: float = ABOUT,
    at_least_max: float = AT_LEAST_MAX,
) -> pd.DataFrame:
    """Compare the data's aggregates with the published facts of the same scope and period.

    Parameters
    ----------
    facts : DataFrame, optional
        Published facts (columns of :func:`xzlib.facts`); default: ``xz.facts()``.
    tables : mapping of str to DataFrame, optional
        Tables to use instead of the processed data.
    data_dir : path, optional
        Processed data folder (when ``tables`` is None).
    mapping : mapping of fact_id to FactMeasure, optional
        Default :data:`MAPPING`.
    about : float, default 0.10
        Relative tolerance for ``about`` (约).
    at_least_max : float, default 0.50
        How far above the figure an ``at_least`` (多) fact is still consistent.

    Returns
    -------
    DataFrame
        One row per fact: ``fact_id``, ``topic``, ``metric``, ``scope_level``,
        ``scope_code``, ``period_start``, ``period_end``, ``unit``, ``qualifier``,
        ``published`` (value as written), ``data`` (the data's value in the same unit),
        ``difference`` (data - published), ``rel_difference``, ``verdict``
        (``consistent``, ``differs``, ``no data``), ``verdict_zh`` (一致/不一致/无数据),
        ``rule`` (the test applied), ``measure`` (how the data value was computed),
        ``quote`` and ``note``.  ``attrs["synthetic"]`` says whether the data is the
        synthetic sample.

    Raises
    ------
    UsageError
        No processed data (when ``tables`` is None and a mapped table is needed), or no
        published facts.

    Examples
    --------
    >>> import xzlib as xz
    >>> xz.reconcile()[["fact_id", "published", "data", "verdict"]]   # doctest: +SKIP
    """
    fx = _load_facts(facts)
    mp = MAPPING if mapping is None else mapping
    cache: dict[str, pd.DataFrame | None] = {}
    synthetic = False

    def table(name: str) -> pd.DataFrame | None:
        nonlocal synthetic
        if name not in cache:
            if tables is not None:
                cache[name] = tables.get(name)
            else:
                from ..dataset import load

                cache[name] = load(name, data_dir=data_dir)
            df = cache[name]
            synthetic |= bool(df is not None and df.attrs.get("synthetic", False))
        return cache[name]

    rows = []
    for f in fx.itertuples(index=False):
        fid = str(f.fact_id)
        pub = float(f.value) if pd.notna(f.value) else math.nan
        unit = "" if pd.isna(f.unit) else str(f.unit)
        base = {"fact_id": fid, "topic": _str(f.topic), "metric": _str(f.metric),
                "scope_level": _str(f.scope_level), "scope_code": _str(f.scope_code),
                "period_start": f.period_start, "period_end": f.period_end, "unit": unit,
                "qualifier": _str(f.qualifier), "published": pub}
        data, note, measure = math.nan, "", ""
        m = mp.get(fid)
        if m is None:
            note = "no mapping from this fact to the data"
        else:
            measure = m.describe()
            df = table(m.table)
            if df is None or df.empty:
                note = f"no {m.table} data"
            elif unit not in UNITS or UNITS[unit][0] != UNITS[m.unit][0]:
                note = f"unit {unit!r} cannot be compared with {m.unit!r}"
            else:
                years = _years(df, m.table)
                ok = np.isfinite(years)
                y0 = int(pd.Timestamp(f.period_start).year) if pd.notna(f.period_start) else int(years[ok].min())
                y1 = int(pd.Timestamp(f.period_end).year) if pd.notna(f.period_end) else int(years[ok].max())
                try:
                    scope = _scope_mask(df, base["scope_level"], base["scope_code"], table("communities")
                                        if m.table != "communities" else df)
                    value, note = _compute(m, df, np.where(ok, years, -1), y0, y1, scope)
                except (KeyError, XzError) as exc:
                    value, note = math.nan, f"cannot compute: {exc}"
                if math.isfinite(value):
                    data = value * UNITS[m.unit][1] / UNITS[unit][1]
        v, rule = verdict(pub, data, base["qualifier"], about=about, at_least_max=at_least_max)
        fnote = _str(f.note) if hasattr(f, "note") else ""
        rows.append({**base, "data": data, "difference": data - pub,
                     "rel_difference": (data - pub) / pub if pub else math.nan,
                     "verdict": v, "verdict_zh": VERDICTS[v], "rule": rule, "measure": measure,
                     "quote": _str(f.quote) if hasattr(f, "quote") else "",
                     "note": "; ".join(t for t in (note, fnote) if t)})
    cols = ["fact_id", "topic", "metric", "scope_level", "scope_code", "period_start",
            "period_end", "unit", "qualifier", "published", "data", "difference",
            "rel_difference", "verdict", "verdict_zh", "rule", "measure", "quote", "note"]
    out = pd.DataFrame(rows, columns=cols)
    out.attrs["synthetic"] = synthetic
    counts = out["verdict"].value_counts().to_dict()
    logger.info("reconcile: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    return out


def _str(v) -> str:
    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
