"""The construction steps of a composite indicator, with COINr's semantics as the default.

Each step is one pure function: a units x indicators DataFrame in, a new one out, the input
never modified.  The order of COINr's pipeline (and of :func:`xzlib.composite`) is
:func:`denominate` -> :func:`impute` -> :func:`screen` -> :func:`treat` -> :func:`normalise`
-> :func:`aggregate`.  Every function checks its choices and names the valid ones.

The reference is COINr 1.1.14 (R): ``R/denominate.R``, ``R/impute.R``, ``R/screen_units.R``,
``R/treat.R``, ``R/normalise.R``, ``R/aggregate.R``; the tests compare with its results on
its ASEM example to 1e-9.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import UsageError
from .meta import Meta

__all__ = [
    "IMPUTATIONS", "TREATMENTS", "LOG_TRANSFORMS", "NORMALISATIONS", "AGGREGATIONS",
    "RANK_TIES", "skewness", "kurtosis", "denominate", "impute", "Screened", "screen",
    "Treated", "treat", "normalise", "aggregate",
]

logger = logging.getLogger(__name__)

#: Imputation methods (COINr: none, i_mean, i_median, i_mean_grp, i_median_grp).
IMPUTATIONS = ("none", "mean", "median", "group_mean", "group_median")
#: Outlier treatments: COINr's default (winsorise, log if that fails), a log of every
#: flagged indicator (``log_CT`` or ``log_CT_plus``), or none.
TREATMENTS = ("winsorise", "log_CT", "log_CT_plus", "none")
#: Log transforms usable as the fallback of winsorisation.
LOG_TRANSFORMS = ("log_CT", "log_CT_plus")
#: Normalisations (COINr's n_* functions, plus the distance to the mean).
NORMALISATIONS = ("minmax", "zscore", "scaled", "rank", "prank", "borda", "goalposts",
                  "dist2max", "dist2targ", "dist2ref", "fracmax", "dist2mean", "none")
#: Aggregations (COINr's a_amean, a_gmean, a_hmean).
AGGREGATIONS = ("arithmetic", "geometric", "harmonic")
#: Tie rules of rank normalisations (R's ``ties.method`` that pandas shares).
RANK_TIES = ("min", "average", "max", "first")

_ALIASES = {
    "i_mean": "mean", "i_median": "median", "i_mean_grp": "group_mean",
    "i_median_grp": "group_median", "n_minmax": "minmax", "n_zscore": "zscore",
    "n_scaled": "scaled", "n_rank": "rank", "n_prank": "prank", "n_borda": "borda", "n_goalposts": "goalposts",
    "n_dist2max": "dist2max", "n_dist2targ": "dist2targ", "n_dist2ref": "dist2ref",
    "n_fracmax": "fracmax", "a_amean": "arithmetic", "a_gmean": "geometric",
    "a_hmean": "harmonic", "winsorize": "winsorise",
}


def _choice(value: str, valid: tuple[str, ...], what: str) -> str:
    v = _ALIASES.get(value, value) if isinstance(value, str) else value
    if v not in valid:
        raise UsageError(f"{what} must be one of {', '.join(valid)}; got {value!r}")
    return v


def _matrix(data: pd.DataFrame, what: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise UsageError(f"{what} must be a DataFrame (units x indicators); got {type(data).__name__}")
    dtypes = data.dtypes
    if all(dt.kind == "f" for dt in dtypes):
        return data
    for c, dt in dtypes.items():
        if pd.api.types.is_numeric_dtype(dt) or data[c].isna().all():
            continue
        num = pd.to_numeric(data[c], errors="coerce")
        bad = data[c][num.isna() & data[c].notna()]
        if len(bad):
            raise UsageError(f"{what}: column {c!r} is not numeric (value {bad.iloc[0]!r} in row "
                             f"{bad.index[0]!r}); give numbers, NaN for missing")
    return data.apply(pd.to_numeric, errors="coerce").astype(float)


# --------------------------------------------------------------------------- statistics


def _moments(a: np.ndarray, axis: int, k: int):
    """n, mean, m2 and the k-th central moment along ``axis`` ignoring NaN (keepdims)."""
    a = np.asarray(a, dtype=float)
    n = np.sum(np.isfinite(a), axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(a, axis=axis, keepdims=True) / n
        d = a - mean
        m2 = np.nansum(d**2, axis=axis, keepdims=True) / n
        mk = np.nansum(d**k, axis=axis, keepdims=True) / n
    spread = m2 > 1e-14 * (1 + mean**2)
    return n, m2, mk, spread


def skewness(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """Sample skewness ignoring NaN (adjusted Fisher-Pearson; COINr's ``skew``, pandas, Excel).

    NaN where fewer than 3 values or no spread.
    """
    n, m2, m3, spread = _moments(a, axis, 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = m3 / m2**1.5 * np.sqrt(n * (n - 1)) / (n - 2)
    return np.squeeze(np.where((n >= 3) & spread, out, np.nan), axis=axis)


def kurtosis(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """Sample excess kurtosis ignoring NaN (COINr's ``kurt``, pandas ``kurt``, Excel ``KURT``).

    NaN where fewer than 4 values or no spread.
    """
    n, m2, m4, spread = _moments(a, axis, 4)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = ((n + 1) * (m4 / m2**2 - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
    return np.squeeze(np.where((n >= 4) & spread, out, np.nan), axis=axis)


# --------------------------------------------------------------------------- denominate


def denominate(data: pd.DataFrame, denominators: pd.DataFrame, by: Mapping[str, str], *,
               scale: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Divide indicators by denominators (COINr's ``Denominate``).

    Parameters
    ----------
    data : DataFrame
        Units x indicators.
    denominators : DataFrame
        Units (same index) x denominator columns (population, area, GDP...).
    by : mapping indicator -> denominator column
        Indicators not named are left as they are.
    scale : mapping indicator -> float, optional
        ``x / (d / scale)``: e.g. 1000 for "per 1,000 inhabitants" (COINr's ScaleFactor).

    Returns
    -------
    DataFrame
    """
    x = _matrix(data, "data")
    out = x.copy()
    missing_units = [u for u in x.index if u not in denominators.index]
    if missing_units:
        raise UsageError(f"denominate: unit(s) {missing_units[:5]} have no row in the denominators")
    for ind, den in dict(by).items():
        if ind not in x.columns:
            raise UsageError(f"denominate: indicator {ind!r} is not a column of the data; "
                             f"columns: {', '.join(map(str, x.columns))}")
        if den not in denominators.columns:
            raise UsageError(f"denominate: denominator {den!r} of {ind!r} is not a column of "
                             f"the denominators; columns: {', '.join(map(str, denominators.columns))}")
        d = pd.to_numeric(denominators.loc[x.index, den], errors="coerce").astype(float)
        s = 1.0 if scale is None else float(dict(scale).get(ind, 1.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            out[ind] = x[ind] / (d / s)
    logger.debug("denominate: %d indicator(s)", len(by))
    return out


# --------------------------------------------------------------------------- impute


def impute(data: pd.DataFrame, method: str = "none", *, groups: pd.Series | None = None
           ) -> pd.DataFrame:
    """Fill missing values (COINr's ``Impute`` by column).

    Parameters
    ----------
    data : DataFrame
        Units x indicators.
    method : {"none", "mean", "median", "group_mean", "group_median"}
        ``mean``/``median``: the indicator's mean/median over units (``i_mean``,
        ``i_median``); ``group_*``: over the units of the same group (``i_mean_grp``,
        ``i_median_grp``; units without a group are left missing).  COINr's names are
        accepted too.
    groups : Series, optional
        Unit -> group label, needed by the ``group_*`` methods.

    Returns
    -------
    DataFrame
        Observed values unchanged; a value stays missing when its indicator (or its
        group) has no observed value.
    """
    method = _choice(method, IMPUTATIONS, "impute method")
    x = _matrix(data, "data")
    if method == "none" or not x.isna().any().any():
        return x.copy()
    if method.startswith("group_"):
        if groups is None:
            raise UsageError(f"impute method {method!r} needs groups (a unit -> group column)")
        g = pd.Series(groups).reindex(x.index)
        fill = x.groupby(g, dropna=True).transform(method.removeprefix("group_"))
    else:
        stat = x.mean(axis=0) if method == "mean" else x.median(axis=0)
        fill = pd.DataFrame(np.broadcast_to(stat.to_numpy(), x.shape), index=x.index,
                            columns=x.columns)
    out = x.where(x.notna(), fill)
    left = int(out.isna().sum().sum())
    if left:
        logger.info("impute(%s): %d value(s) still missing", method, left)
    return out


# --------------------------------------------------------------------------- screen


class Screened(NamedTuple):
    """Result of :func:`screen`: the kept units and COINr's data-availability summary."""

    data: pd.DataFrame
    summary: pd.DataFrame


def screen(data: pd.DataFrame, *, dat_thresh: float = 2 / 3, nonzero_thresh: float = 0.05,
           unit_screen: str = "byNA", force: Mapping[str, bool] | None = None) -> Screened:
    """Keep the units with enough data (COINr's ``Screen``).

    Parameters
    ----------
    data : DataFrame
        Units x indicators.
    dat_thresh : float, default 2/3
        A unit is excluded when its share of available values is below this (so a unit
        exactly at the threshold is kept, as in COINr).
    nonzero_thresh : float, default 0.05
        The same for the share of non-zero values among the available ones.
    unit_screen : {"byNA", "byzeros", "byNAandzeros"}
        Which rule excludes units.
    force : mapping unit -> bool, optional
        Units forced in (True) or out (False).

    Returns
    -------
    Screened
        ``data`` (kept units) and ``summary``: per unit ``N_missing``, ``N_zero``,
        ``N_miss_or_zero``, ``Dat_Avail``, ``Non_Zero``, ``LowData``, ``LowNonZero``,
        ``LowDatOrZeroFlag``, ``Included`` (COINr's column names).
    """
    modes = ("byNA", "byzeros", "byNAandzeros")
    if unit_screen not in modes:
        raise UsageError(f"unit_screen must be one of {', '.join(modes)}; got {unit_screen!r}")
    for name, v in (("dat_thresh", dat_thresh), ("nonzero_thresh", nonzero_thresh)):
        if not 0 <= float(v) <= 1:
            raise UsageError(f"{name} must be between 0 and 1; got {v!r}")
    x = _matrix(data, "data")
    na = x.isna().sum(axis=1)
    zero = (x == 0).sum(axis=1)
    p = x.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        avail = 1 - na / p
        nonzero = 1 - zero / (p - na)
    s = pd.DataFrame({"N_missing": na.astype(int), "N_zero": zero.astype(int),
                      "N_miss_or_zero": (na + zero).astype(int), "Dat_Avail": avail,
                      "Non_Zero": nonzero}, index=x.index)
    s["LowData"] = s["Dat_Avail"] < dat_thresh
    s["LowNonZero"] = s["Non_Zero"] < nonzero_thresh
    s["LowDatOrZeroFlag"] = s["LowData"] | s["LowNonZero"]
    s["Included"] = ~{"byNA": s["LowData"], "byzeros": s["LowNonZero"],
                      "byNAandzeros": s["LowDatOrZeroFlag"]}[unit_screen]
    for unit, inc in dict(force or {}).items():
        if unit not in s.index:
            raise UsageError(f"screen: forced unit {unit!r} is not in the data")
        s.at[unit, "Included"] = bool(inc)
    logger.debug("screen(%s, dat_thresh=%s): %d of %d units kept", unit_screen, dat_thresh,
                 int(s["Included"].sum()), len(s))
    return Screened(x.loc[s["Included"].to_numpy()].copy(), s)


# --------------------------------------------------------------------------- treat


class Treated(NamedTuple):
    """Result of :func:`treat`.

    ``data``: treated values; ``details``: one row per indicator (``skew``, ``kurtosis``,
    ``flagged``, ``treatment``, ``winsorised`` (values of the result changed by
    winsorisation, tied extremes included), ``nwin`` (COINr's ``winsorise.nwin``: values
    winsorised before a fallback to the log, if any), ``skew_after``, ``kurtosis_after``, ``passed``); ``points``:
    units x indicators, ``"winhi"``/``"winlo"`` for winsorised values, the transform's
    name for log-transformed ones, ``""`` otherwise (COINr's ``Treated_Points``).
    """

    data: pd.DataFrame
    details: pd.DataFrame
    points: pd.DataFrame


def _skew_kurt(v: np.ndarray) -> tuple[float, float]:
    """:func:`skewness` and :func:`kurtosis` of one vector at once (the hot loop of treat)."""
    x = v[np.isfinite(v)]
    n = x.size
    if n < 3:
        return float("nan"), float("nan")
    mean = x.sum() / n
    d = x - mean
    d2 = d * d
    m2 = d2.sum() / n
    if not m2 > 1e-14 * (1 + mean**2):
        return float("nan"), float("nan")
    m3 = (d2 * d).sum() / n
    s = m3 / m2**1.5 * np.sqrt(n * (n - 1)) / (n - 2)
    if n < 4:
        return float(s), float("nan")
    g2 = (d2 * d2).sum() / n / m2**2 - 3
    return float(s), float(((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3)))


def _passes(v: np.ndarray, skew_thresh: float, kurt_thresh: float) -> tuple[bool | None, float, float]:
    """COINr's ``check_SkewKurt``: passes unless |skew| >= t_s and kurtosis >= t_k."""
    s, k = _skew_kurt(v)
    if not (np.isfinite(s) and np.isfinite(k)):
        return None, s, k
    return bool(abs(s) < skew_thresh or k < kurt_thresh), s, k


def _winsorise(v: np.ndarray, winmax: int | None, skew_thresh: float, kurt_thresh: float,
               force: bool = False) -> tuple[np.ndarray, int, np.ndarray]:
    """COINr's ``winsorise``: replace the extreme value(s) on the skewed side by the next.

    Repeats while the indicator is flagged and fewer than ``winmax`` values have been
    winsorised; tied extremes are all replaced at once and all counted, so the count may
    exceed ``winmax`` by the size of the last tie.
    """
    x = v.copy()
    passing = _passes(x, skew_thresh, kurt_thresh)[0]
    imax = imin = np.zeros(0, dtype=int)
    nwin = 0
    ok = np.isfinite(x)
    while (not passing or force) and (winmax is None or nwin < winmax):
        vals = x[ok]
        if _skew_kurt(x)[0] >= 0:
            hi = vals.max()
            imax = np.flatnonzero(ok & (x == hi))
            rest = x[ok & (x != hi)]
            if rest.size == 0:
                break
            x[imax] = rest.max()
        else:
            lo = vals.min()
            imin = np.flatnonzero(ok & (x == lo))
            rest = x[ok & (x != lo)]
            if rest.size == 0:
                break
            x[imin] = rest.min()
        nwin = len(imax) + len(imin)
        passing = _passes(x, skew_thresh, kurt_thresh)[0]
        if passing is None:
            break
    points = np.full(len(x), "", dtype=object)
    points[imax] = "winhi"
    points[imin] = "winlo"
    return x, nwin, points


def _log_transform(v: np.ndarray, name: str) -> np.ndarray:
    """COINr's ``log_CT`` (never reflected) and ``log_CT_plus`` (reflected for negative skew)."""
    lo, hi = np.nanmin(v), np.nanmax(v)
    a = 0.01 * (hi - lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "log_CT" or _skew_kurt(v)[0] > 0:
            return np.log(v - lo + a)
        return -np.log(hi + a - v)


def treat(data: pd.DataFrame, method: str = "winsorise", *, winmax: int | None = 5,
          skew_thresh: float = 2.0, kurt_thresh: float = 3.5, log: str = "log_CT",
          force_win: bool = False, combine_treat: bool = False,
          indicators: Mapping[str, str | Mapping] | None = None) -> Treated:
    """Treat outliers, one indicator at a time (COINr's ``Treat``).

    An indicator is flagged when ``|skewness| >= skew_thresh`` and ``kurtosis >=
    kurt_thresh`` (sample skewness and excess kurtosis, NaN ignored).

    Parameters
    ----------
    data : DataFrame
        Units x indicators.
    method : {"winsorise", "log_CT", "log_CT_plus", "none"}
        ``winsorise`` (COINr's default): winsorise a flagged indicator (see
        ``winmax``); if it is still flagged, apply ``log`` to the *original* values
        (or to the winsorised ones with ``combine_treat``).  ``log_CT``/``log_CT_plus``:
        log-transform every flagged indicator.  ``none``: no treatment.
    winmax : int or None, default 5
        Winsorise while fewer than this many values have been winsorised (tied extremes
        are winsorised together and all counted); None: no limit.
    skew_thresh, kurt_thresh : float, default 2 and 3.5
        Thresholds of the outlier rule (inclusive, as COINr).
    log : {"log_CT", "log_CT_plus"}, default "log_CT"
        Fallback transform: ``log(x - min + 0.01 (max - min))`` (``log_CT``, COINr's
        default, never reflected) or, for negative skew, ``-log(max + 0.01 (max - min)
        - x)`` (``log_CT_plus``).
    force_win : bool
        Once a flagged indicator is winsorised, go on up to ``winmax`` values even after
        it passes (COINr's ``force_win``; an unflagged indicator is never treated).
    combine_treat : bool
        Apply the fallback to the winsorised values instead of the original ones.
    indicators : mapping indicator -> method or dict, optional
        Per-indicator overrides: a method name (``"none"`` exempts it) or a dict of
        the keyword arguments above.

    Returns
    -------
    Treated
    """
    x = _matrix(data, "data")
    base = {"method": method, "winmax": winmax, "skew_thresh": skew_thresh,
            "kurt_thresh": kurt_thresh, "log": log, "force_win": force_win,
            "combine_treat": combine_treat}
    arr = x.to_numpy(dtype=float)
    out = arr.copy()
    points = np.full(arr.shape, "", dtype=object)
    rows = []
    over = dict(indicators or {})
    unknown = [k for k in over if k not in x.columns]
    if unknown:
        raise UsageError(f"treat: unknown indicator(s) {unknown}; columns: {', '.join(x.columns)}")
    for j, col in enumerate(x.columns):
        spec = dict(base)
        o = over.get(col)
        if isinstance(o, str):
            spec["method"] = o
        elif isinstance(o, Mapping):
            bad = set(o) - set(base)
            if bad:
                raise UsageError(f"treat: unknown option(s) {sorted(bad)} for {col!r}; valid: "
                                 f"{', '.join(base)}")
            spec.update(o)
        m = _choice(spec["method"], TREATMENTS, "treat method")
        fallback = _choice(spec["log"], LOG_TRANSFORMS, "log")
        v = arr[:, j]
        passed, s0, k0 = _passes(v, spec["skew_thresh"], spec["kurt_thresh"])
        row = {"indicator": col, "skew": s0, "kurtosis": k0, "flagged": passed is False,
               "treatment": "none", "winsorised": 0, "nwin": 0, "skew_after": np.nan,
               "kurtosis_after": np.nan, "passed": passed}
        if m != "none" and passed is False:
            pts = np.full(len(v), "", dtype=object)
            new = v
            if m == "winsorise":
                new, nwin, pts = _winsorise(v, spec["winmax"], spec["skew_thresh"],
                                            spec["kurt_thresh"], bool(spec["force_win"]))
                row["winsorised"] = row["nwin"] = int(nwin)
                row["treatment"] = "winsorised" if nwin else "none"
                ok = _passes(new, spec["skew_thresh"], spec["kurt_thresh"])[0]
                if ok is None:            # no spread left: COINr returns the original values
                    new, pts = v, np.full(len(v), "", dtype=object)
                    row["winsorised"], row["treatment"] = 0, "none"
                elif ok is False:
                    src = new if spec["combine_treat"] else v
                    logged = _log_transform(src, fallback)
                    tag = fallback if fallback == "log_CT" or _skew_kurt(src)[0] > 0 else "log_CT_neg"
                    pts = np.where(pts != "", pts + "+" + tag, tag) if spec["combine_treat"] \
                        else np.full(len(v), tag, dtype=object)
                    if not spec["combine_treat"]:
                        row["winsorised"] = 0
                    new = logged
                    row["treatment"] = (f"winsorised+{fallback}" if spec["combine_treat"]
                                        and row["winsorised"] else fallback)
            else:
                new = _log_transform(v, m)
                tag = m if m == "log_CT" or _skew_kurt(v)[0] > 0 else "log_CT_neg"
                pts = np.full(len(v), tag, dtype=object)
                row["treatment"] = m
            pts = np.where(np.isfinite(v), pts, "")
            out[:, j] = new
            points[:, j] = pts
            _, row["skew_after"], row["kurtosis_after"] = _passes(new, spec["skew_thresh"],
                                                                  spec["kurt_thresh"])
            row["passed"] = _passes(new, spec["skew_thresh"], spec["kurt_thresh"])[0]
        rows.append(row)
    details = pd.DataFrame(rows).set_index("indicator")
    logger.debug("treat(%s): %d flagged, %d treated", method, int(details["flagged"].sum()),
                 int((details["treatment"] != "none").sum()))
    return Treated(pd.DataFrame(out, index=x.index, columns=x.columns), details,
                   pd.DataFrame(points, index=x.index, columns=x.columns))


# --------------------------------------------------------------------------- normalise


def _rank(x: np.ndarray, ties: str) -> np.ndarray:
    return pd.DataFrame(x).rank(axis=0, method=ties, na_option="keep").to_numpy(dtype=float)


def _normalise_columns(x: np.ndarray, method: str, p: dict, meta_cols: dict) -> np.ndarray:
    """Normalise the columns of ``x`` (already multiplied by the direction)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
        if method == "minmax":
            a, b = p.get("l_u", (0.0, 100.0))
            return (x - lo) / (hi - lo) * (b - a) + a
        if method == "zscore":
            m, s = p.get("m_sd", (0.0, 1.0))
            return (x - np.nanmean(x, axis=0)) / np.nanstd(x, axis=0, ddof=1) * s + m
        if method == "scaled":
            a, b = p.get("npara", (0.0, 100.0))
            return (x - a) / (b - a) * p.get("scale_factor", 100.0)
        if method in ("rank", "prank", "borda"):
            r = _rank(x, p.get("ties", "min"))
            if method == "rank":
                return r
            if method == "borda":
                return r - 1
            return (r - 1) / (np.isfinite(x).sum(axis=0) - 1)
        if method == "dist2max":
            return 1 - (hi - x) / (hi - lo)
        if method == "fracmax":
            return x / hi
        if method == "dist2mean":
            mean = np.nanmean(x, axis=0)
            scale = np.nanmean(np.abs(x), axis=0)
            return 100 * (x - mean) / scale
        if method == "dist2ref":
            ref = p.get("ref")
            if ref is None:
                raise UsageError("normalise method 'dist2ref' needs ref= (the reference unit)")
            xr = x[meta_cols["_units"].index(ref)] if ref in meta_cols["_units"] else None
            if xr is None:
                raise UsageError(f"dist2ref: reference unit {ref!r} is not in the data")
            y = 1 - (xr - x) / (xr - lo)
            return np.minimum(y, 1) if p.get("cap_max", False) else y
        if method == "dist2targ":
            # COINr: a global ``targ`` applies to x * direction as given; the framework's
            # targets are in natural units and are multiplied by the direction ("use_iMeta")
            t = (np.full(x.shape[1], float(p["targ"])) if "targ" in p
                 else meta_cols["target"] * meta_cols["direction"])
            if np.isnan(t).any():
                raise UsageError("dist2targ needs a target for every indicator (framework column "
                                 "'target')")
            y = (x - lo) / (t - lo)
            return np.minimum(y, 1) if p.get("cap_max", False) else y
        if method == "goalposts" and "gposts" in p:
            # COINr's global gposts = (lower, upper, scale) on x * direction, as given
            g = p["gposts"]
            y = (x - g[0]) / (g[1] - g[0])
            y = np.clip(y, 0, 1) if p.get("trunc2posts", True) else y
            return y * (g[2] if len(g) > 2 else 1.0)
        if method == "goalposts":
            lo_g, hi_g = meta_cols["goalpost_lower"], meta_cols["goalpost_upper"]
            if np.isnan(lo_g).any() or np.isnan(hi_g).any():
                raise UsageError("goalposts needs goalpost_lower and goalpost_upper for every "
                                 "indicator (framework columns)")
            d = meta_cols["direction"]
            # x is x_natural * d: (x_nat - lower)/(upper - lower), or (upper - x_nat)/(...) for d = -1
            g1 = np.where(d > 0, lo_g, -hi_g)
            g2 = np.where(d > 0, hi_g, -lo_g)
            y = (x - g1) / (g2 - g1)
            trunc = meta_cols["goalpost_trunc"]
            y = np.where(trunc, np.clip(y, 0, 1), y)
            sc = meta_cols["goalpost_scale"]
            return y * np.where(np.isnan(sc), p.get("scale", 1.0), sc)
        if method == "none":
            return x
    raise UsageError(f"normalise method must be one of {', '.join(NORMALISATIONS)}; got {method!r}")


_NORM_PARAMS = {"minmax": {"l_u"}, "zscore": {"m_sd"}, "scaled": {"npara", "scale_factor"},
                "rank": {"ties"}, "prank": {"ties"}, "borda": {"ties"},
                "dist2ref": {"ref", "cap_max"}, "dist2targ": {"targ", "cap_max"},
                "goalposts": {"scale", "gposts", "trunc2posts"}}


def normalise(data: pd.DataFrame, meta: Meta | pd.DataFrame | Mapping[str, int] | pd.Series,
              method: str = "minmax", *, indicators: Mapping[str, str | Mapping] | None = None,
              **params) -> pd.DataFrame:
    """Normalise each indicator (COINr's ``Normalise``), after multiplying by its direction.

    Parameters
    ----------
    data : DataFrame
        Units x indicators.
    meta : Meta, framework table, or mapping indicator -> direction
        Directions (+1/-1) and, for ``dist2targ`` and ``goalposts``, the ``target`` and
        ``goalpost_*`` columns.
    method : str, default "minmax"
        One of :data:`NORMALISATIONS` (COINr's ``n_*`` names are accepted):

        ============  ==========================================  =======================
        method        formula (x times its direction)             parameters
        ============  ==========================================  =======================
        minmax        (x - min) / (max - min) * (u - l) + l       ``l_u=(0, 100)``
        zscore        (x - mean) / sd * s + m  (sample sd)        ``m_sd=(0, 1)``
        scaled        (x - a) / (b - a) * scale_factor            ``npara=(0, 100)``,
                                                                  ``scale_factor=100``
        rank          rank, 1 = lowest                            ``ties="min"``
        prank         (rank - 1) / (n - 1)                        ``ties="min"``
        borda         rank - 1                                    ``ties="min"``
        goalposts     (x - lower) / (upper - lower), in [0, 1],   framework columns,
                      times the scale                             ``scale=1``; or COINr's
                                                                  global ``gposts=(l, u, s)``
                                                                  on x * direction
        dist2max      1 - (max - x) / (max - min)
        dist2targ     (x - min) / (target - min)                  ``cap_max=False``;
                                                                  framework ``target`` or
                                                                  global ``targ``
        dist2ref      1 - (x_ref - x) / (x_ref - min)             ``ref`` unit, ``cap_max``
        fracmax       x / max
        dist2mean     100 (x - mean) / mean(|x|)  (xzlib)
        none          x
        ============  ==========================================  =======================

        A zero range gives NaN (COINr warns and does the same).
    indicators : mapping indicator -> method or dict, optional
        Per-indicator overrides (``{"method": ..., **parameters}``).
    **params
        Parameters of ``method`` (see the table).

    Returns
    -------
    DataFrame
        Same shape; NaN where the value is missing.
    """
    x = _matrix(data, "data")
    if isinstance(meta, Meta | pd.DataFrame):
        m = Meta.from_frame(meta)
        t = m.table.reindex(x.columns)
        if t["level"].isna().any():
            missing = list(t.index[t["level"].isna()])
            raise UsageError(f"normalise: indicator(s) {missing} are not in the framework")
    else:
        d = pd.Series(dict(meta) if isinstance(meta, Mapping) else meta)
        t = pd.DataFrame({"direction": [d[c] for c in x.columns]}, index=x.columns)
        for c in ("target", "goalpost_lower", "goalpost_upper", "goalpost_scale"):
            t[c] = np.nan
        t["goalpost_trunc"] = True
    cols = {c: t[c].to_numpy(dtype=float) for c in ("direction", "target", "goalpost_lower",
                                                     "goalpost_upper", "goalpost_scale")}
    cols["goalpost_trunc"] = t["goalpost_trunc"].fillna(True).astype(bool).to_numpy()
    if not np.isin(cols["direction"], (1, -1)).all():
        raise UsageError("directions must be +1 or -1")
    cols["_units"] = list(x.index)

    def check(meth: str, p: dict) -> str:
        meth = _choice(meth, NORMALISATIONS, "normalise method")
        bad = set(p) - _NORM_PARAMS.get(meth, set())
        if bad:
            valid = ", ".join(sorted(_NORM_PARAMS.get(meth, set()))) or "none"
            raise UsageError(f"normalise {meth!r}: unknown parameter(s) {sorted(bad)}; valid: {valid}")
        if "ties" in p:
            _choice(p["ties"], RANK_TIES, "ties")
        return meth

    method = check(method, params)
    a = x.to_numpy() * cols["direction"][None, :]
    out = _normalise_columns(a, method, params, cols)
    for ind, o in dict(indicators or {}).items():
        if ind not in x.columns:
            raise UsageError(f"normalise: unknown indicator {ind!r}")
        spec = {"method": o} if isinstance(o, str) else dict(o)
        meth = check(spec.pop("method", method), spec)
        j = list(x.columns).index(ind)
        sub = {k: (v[j:j + 1] if isinstance(v, np.ndarray) else v) for k, v in cols.items()}
        out[:, j] = _normalise_columns(a[:, j:j + 1], meth, spec, sub)[:, 0]
    out = np.where(np.isfinite(a), out, np.nan)
    return pd.DataFrame(out, index=x.index, columns=x.columns)


# --------------------------------------------------------------------------- aggregate


def _per_level(value, n: int, what: str) -> list:
    if isinstance(value, list | tuple):
        if len(value) != n:
            raise UsageError(f"{what} must be one value or one per aggregation level ({n}); "
                             f"got {len(value)}")
        return list(value)
    return [value] * n


def _weighted(x: np.ndarray, w: np.ndarray, method: str) -> np.ndarray:
    """Weighted mean of each row over its non-missing values (COINr's a_amean/a_gmean/a_hmean)."""
    ok = np.isfinite(x)
    ww = np.where(ok, w[None, :], 0.0)
    den = ww.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "arithmetic":
            val = (np.where(ok, x, 0.0) * ww).sum(axis=1) / den
        elif method == "geometric":
            val = np.exp((np.where(ok, np.log(np.where(ok, x, 1.0)), 0.0) * ww).sum(axis=1) / den)
        else:
            val = den / (np.where(ok, 1.0 / np.where(ok, x, 1.0), 0.0) * ww).sum(axis=1)
    return np.where(ok.any(axis=1) & (den > 0), val, np.nan)


def aggregate(data: pd.DataFrame, meta: Meta | pd.DataFrame, method: str | list = "arithmetic",
              *, weights: Mapping[str, float] | None = None,
              dat_thresh: float | list | None = None) -> pd.DataFrame:
    """Aggregate indicators up every level of the framework (COINr's ``Aggregate``).

    Parameters
    ----------
    data : DataFrame
        Units x indicators (normalised).
    meta : Meta or framework table
        The hierarchy and nominal weights.
    method : str or list, default "arithmetic"
        ``arithmetic``, ``geometric`` or ``harmonic`` weighted mean (COINr's ``a_amean``,
        ``a_gmean``, ``a_hmean``), one for all levels or one per aggregation level
        (level 2 first).  Missing values are skipped and the weights of the others
        renormalised.  The geometric and harmonic means need positive values.
    weights : mapping code -> weight or "equal", optional
        Replace some nominal weights (``"equal"``: all equal, COINr's ``w = "none"``).
    dat_thresh : float or list, optional
        An aggregate is missing when the share of its children with a value is below
        this (one value, or one per level).

    Returns
    -------
    DataFrame
        The indicators followed by the aggregates of each level (level 2 first).

    Raises
    ------
    UsageError
        Unknown method; zero or negative values for the geometric mean, zero for the
        harmonic mean (normalise onto a positive range first, e.g. min-max ``l_u=(1, 100)``).
    """
    m = Meta.from_frame(meta)
    if isinstance(weights, str):
        if weights != "equal":
            raise UsageError(f"weights must be a mapping code -> weight or 'equal'; got {weights!r}")
        weights = dict.fromkeys(m.table.index, 1.0)
    if weights:
        m = m.with_weights(weights)
    x = _matrix(data, "data")
    missing = [c for c in m.indicators if c not in x.columns]
    if missing:
        raise UsageError(f"aggregate: indicator(s) {missing} of the framework are not in the data")
    nlev = m.n_levels
    methods = [_choice(v, AGGREGATIONS, "aggregate method") for v in _per_level(method, nlev - 1, "method")]
    threshs = _per_level(dat_thresh, nlev - 1, "dat_thresh")
    out = x[m.indicators].copy()
    w = m.table["weight"]
    for lv in range(2, nlev + 1):
        meth, th = methods[lv - 2], threshs[lv - 2]
        new = {}
        for code in m.codes(lv):
            kids = m.children(code)
            v = out[kids].to_numpy(dtype=float)
            if meth == "geometric" and (v[np.isfinite(v)] <= 0).any():
                raise UsageError(f"geometric mean of {code!r}: zero or negative values among "
                                 f"{kids}; normalise onto a positive range first (e.g. min-max "
                                 "l_u=(1, 100))")
            if meth == "harmonic" and (v[np.isfinite(v)] == 0).any():
                raise UsageError(f"harmonic mean of {code!r}: zero values among {kids}")
            val = _weighted(v, w[kids].to_numpy(dtype=float), meth)
            if th is not None:
                val = np.where(np.isfinite(v).mean(axis=1) < float(th), np.nan, val)
            new[code] = val
        out = pd.concat([out, pd.DataFrame(new, index=out.index)], axis=1)
    return out
