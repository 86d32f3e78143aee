"""The composite index, COINr-style: screen -> treat -> normalise -> aggregate.

Each step is one function with one job that takes and returns a units x indicators
DataFrame (:func:`screen`, :func:`treat`, :func:`normalise`, :func:`aggregate`).  The
nominal run chains them with the framework's defaults.  The Monte Carlo varies every
uncertain assumption at once -- outlier treatment, normalisation, weights (+/-25 %),
aggregation and one dropped indicator -- and is vectorised: the few distinct normalised
matrices are computed once, every run is a gather, two matrix products and a comparison,
with no Python loop per run.  First-order and total sensitivity indices come from a
Saltelli design (Jansen estimators) over the five assumption groups.

:func:`evaluate` returns an :class:`Evaluation`: plain DataFrames, picklable, with
helpers that hand report notebooks plain Python types.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import UsageError
from .indicators import (
    Framework,
    _street_names,
    compute_values,
    indicator_table,
    is_synthetic,
    kurtosis,
    load_framework,
    load_tables,
    skewness,
    street_units,
)

__all__ = [
    "TREATMENTS",
    "NORMALISATIONS",
    "AGGREGATIONS",
    "ASSUMPTIONS",
    "Screen",
    "screen",
    "outlier_stats",
    "treat",
    "normalise",
    "positive",
    "aggregate",
    "sample_design",
    "simulate",
    "rank_scores",
    "Evaluation",
    "evaluate",
    "evaluate_matrix",
]

log = logging.getLogger("xzlib")

#: Outlier treatments; the first is the nominal one (COINr's default: winsorise, then log).
TREATMENTS = ("winsorise", "none", "log")
#: Normalisations; the first (min-max 0-100) is the nominal one.
NORMALISATIONS = ("minmax", "zscore", "rank", "dist2mean")
#: Aggregations; the first (weighted arithmetic mean) is the nominal one.
AGGREGATIONS = ("arithmetic", "geometric")
#: Uncertain assumptions varied by the Monte Carlo (the factor groups of the sensitivity
#: analysis), with Chinese and English labels.
ASSUMPTIONS = {
    "treatment": ("异常值处理", "Outlier treatment"),
    "normalisation": ("标准化方法", "Normalisation"),
    "aggregation": ("加总方法", "Aggregation"),
    "weights": ("权重", "Weights"),
    "dropped": ("剔除一个指标", "One indicator dropped"),
}
_STEP_LABELS = {
    "winsorise": ("缩尾（必要时取对数）", "winsorise (log if still skewed)"),
    "none": ("不处理", "none"),
    "log": ("取对数", "log transform"),
    "minmax": ("极差标准化 0-100", "min-max 0-100"),
    "zscore": ("Z分数", "z-score"),
    "rank": ("排序", "rank"),
    "dist2mean": ("与区均值的相对距离", "distance to the district mean"),
    "arithmetic": ("算术平均", "arithmetic mean"),
    "geometric": ("几何平均", "geometric mean"),
}
_EPS = 1e-12


# --------------------------------------------------------------------------- screen


class Screen(NamedTuple):
    """Result of :func:`screen`.

    ``values`` keeps the ranked units and kept indicators; ``indicators`` has one row per
    indicator (``n_streets``, ``coverage``, ``kept``, ``reason``); ``units`` one row per
    unit (``n_indicators``, ``availability``, ``ranked``, ``note``).
    """

    values: pd.DataFrame
    indicators: pd.DataFrame
    units: pd.DataFrame


def screen(values: pd.DataFrame, *, coverage: float = 2 / 3,
           availability: float = 2 / 3) -> Screen:
    """Screen indicators by coverage and units by data availability.

    Steps, in order: (1) drop indicators with a value for fewer than ``coverage`` of the
    units; (2) do not rank units with a value on fewer than ``availability`` of the
    remaining indicators (they are flagged, not silently ranked); (3) drop indicators
    without variation among the ranked units (they cannot discriminate, and min-max
    would divide by zero).

    Parameters
    ----------
    values : DataFrame
        Units (index) x indicators (columns), raw values with NaN for missing.
    coverage, availability : float
        Thresholds (fractions of units / of indicators), inclusive.

    Returns
    -------
    Screen
    """
    x = values.astype(float)
    have = x.notna()
    n_units = max(len(x), 1)
    cov = have.sum(axis=0) / n_units
    keep = cov >= coverage - _EPS
    reason = pd.Series(np.where(keep, "", "coverage"), index=x.columns, dtype=object)
    kept = list(x.columns[keep.to_numpy()])
    n_ind = have[kept].sum(axis=1)
    avail = n_ind / max(len(kept), 1)
    ranked = (avail >= availability - _EPS) & (n_ind > 0)
    rx = x.loc[ranked.to_numpy(), kept]
    spread = (rx.max(axis=0) - rx.min(axis=0)).fillna(0)
    flat = spread <= _EPS * (1 + rx.abs().max(axis=0).fillna(0))
    for col in flat.index[flat.to_numpy()]:
        reason[col] = "no variation"
    kept = [c for c in kept if reason[c] == ""]
    ind = pd.DataFrame({"n_streets": have.sum(axis=0).astype(int), "coverage": cov,
                        "kept": reason == "", "reason": reason}, index=x.columns)
    note = np.where(ranked, "", "insufficient data: " + (avail * 100).round(0).astype(int)
                    .astype(str) + "% of indicators")
    units = pd.DataFrame({"n_indicators": n_ind.astype(int), "availability": avail,
                          "ranked": ranked, "note": note}, index=x.index)
    log.info("screen(coverage=%.3f, availability=%.3f): %d/%d indicators kept, %d/%d units ranked",
             coverage, availability, len(kept), x.shape[1], int(ranked.sum()), len(x))
    return Screen(x.loc[ranked.to_numpy(), kept], ind, units)


# --------------------------------------------------------------------------- treat


def outlier_stats(values: pd.DataFrame, *, skew: float = 2.0, kurt: float = 3.5) -> pd.DataFrame:
    """Return skewness, excess kurtosis and the outlier flag of each indicator (column).

    An indicator is flagged when ``abs(skew) > skew`` and ``kurtosis > kurt`` (COINr's
    default rule).
    """
    a = values.to_numpy(dtype=float)
    s, k = skewness(a, axis=0), kurtosis(a, axis=0)
    flag = (np.abs(s) > skew) & (k > kurt)
    return pd.DataFrame({"skew": s, "kurtosis": k, "outlier": flag}, index=values.columns)


def _log_ct(v: np.ndarray, positive_skew: bool) -> np.ndarray:
    """COINr's compact log transform, increasing in ``v``; reflected for negative skew."""
    lo, hi = np.nanmin(v), np.nanmax(v)
    off = (hi - lo) / 100 or 1.0
    return np.log(v - lo + off) if positive_skew else -np.log(hi - v + off)


def _flagged(v: np.ndarray, skew: float, kurt: float) -> tuple[bool, float]:
    s, k = float(skewness(v)), float(kurtosis(v))
    return bool(abs(s) > skew and k > kurt), s


def treat(values: pd.DataFrame, *, method: str = "winsorise", skew: float = 2.0,
          kurt: float = 3.5, winmax: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Treat outliers, one indicator at a time.

    Parameters
    ----------
    values : DataFrame
        Units x indicators.
    method : {"winsorise", "none", "log"}
        ``winsorise`` (COINr's default): while an indicator is flagged (see
        :func:`outlier_stats`) and at most ``winmax`` times, replace its most extreme
        value(s) on the skewed side by the next value; if it is still flagged, use the
        log transform of the original values instead.  ``log``: log-transform every
        flagged indicator.  ``none``: leave values as they are.
    skew, kurt : float
        Thresholds of the outlier rule.
    winmax : int
        Maximum number of winsorisation steps per indicator.

    Returns
    -------
    treated : DataFrame
        A new frame; unflagged indicators are unchanged.
    log : DataFrame
        One row per indicator: ``treatment`` (``none``, ``winsorised``, ``log``) and
        ``points`` (values winsorised).
    """
    if method not in TREATMENTS:
        raise UsageError(f"method must be one of {', '.join(TREATMENTS)}; got {method!r}")
    out = values.astype(float).copy()
    rows = []
    for col in out.columns:
        v = out[col].to_numpy(dtype=float).copy()
        ok = np.isfinite(v)
        flagged, s0 = _flagged(v, skew, kurt)
        how, points = "none", 0
        if flagged and method == "log":
            v[ok] = _log_ct(v[ok], s0 > 0)
            how = "log"
        elif flagged and method == "winsorise":
            w = v.copy()
            for _ in range(int(winmax)):
                still, s = _flagged(w, skew, kurt)
                if not still:
                    break
                vals = np.unique(w[ok])
                if len(vals) < 2:
                    break
                if s > 0:
                    hit = w == vals[-1]
                    w[hit] = vals[-2]
                else:
                    hit = w == vals[0]
                    w[hit] = vals[1]
                points += int(hit.sum())
            if _flagged(w, skew, kurt)[0]:
                v[ok] = _log_ct(v[ok], s0 > 0)
                how, points = "log", 0
            else:
                v, how = w, "winsorised"
        out[col] = v
        rows.append({"indicator": col, "treatment": how, "points": points})
    log.debug("treat(method=%s, skew=%s, kurt=%s, winmax=%s)", method, skew, kurt, winmax)
    return out, pd.DataFrame(rows, columns=["indicator", "treatment", "points"]).set_index("indicator")


# --------------------------------------------------------------------------- normalise


def _normalise_array(x: np.ndarray, direction: np.ndarray, method: str) -> np.ndarray:
    """Normalise columns of ``x`` (units x indicators) after applying the direction."""
    xd = x * direction[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "minmax":
            lo, hi = np.nanmin(xd, axis=0), np.nanmax(xd, axis=0)
            rng = hi - lo
            out = np.where(rng > 0, 100 * (xd - lo) / np.where(rng > 0, rng, 1), 50.0)
            out = np.clip(out, 0.0, 100.0)   # rounding may give 100.00000000000001
        elif method == "zscore":
            mean = np.nanmean(xd, axis=0)
            sd = np.nanstd(xd, axis=0, ddof=1)
            # equal values have no spread: the SD of their rounded mean's residuals is noise
            sd = np.where(np.nanmax(xd, axis=0) > np.nanmin(xd, axis=0), sd, 0.0)
            out = np.where(sd > 0, (xd - mean) / np.where(sd > 0, sd, 1), 0.0)
        elif method == "rank":
            out = pd.DataFrame(xd).rank(axis=0, method="average").to_numpy(dtype=float)
        elif method == "dist2mean":
            mean = np.nanmean(xd, axis=0)
            scale = np.nanmean(np.abs(x), axis=0)
            out = np.where(scale > 0, 100 * (xd - mean) / np.where(scale > 0, scale, 1), 0.0)
        else:
            raise UsageError(f"method must be one of {', '.join(NORMALISATIONS)}; got {method!r}")
    return np.where(np.isfinite(x), out, np.nan)


def normalise(values: pd.DataFrame, directions: Mapping[str, int] | pd.Series,
              method: str = "minmax") -> pd.DataFrame:
    """Normalise each indicator (column) so that higher is better.

    The direction is applied first (``x * direction``), then:

    * ``minmax``: ``100 * (x - min) / (max - min)``, 0-100 (50 if all values are equal);
    * ``zscore``: ``(x - mean) / sd`` (sample SD);
    * ``rank``: rank among the units, 1 = worst (ties share the average rank);
    * ``dist2mean``: ``100 * (x - mean) / mean(|x|)``, the percentage distance to the
      district mean (for the non-negative rates of the framework, ``mean(|x|)`` is the
      mean itself).

    All four are invariant to rescaling an indicator by a positive constant, and
    reversing the direction reverses the score (``100 - s``, ``-z``, ``n + 1 - r``,
    ``-d``).

    Parameters
    ----------
    values : DataFrame
        Units x indicators.
    directions : mapping or Series
        +1 or -1 per indicator.
    method : {"minmax", "zscore", "rank", "dist2mean"}

    Returns
    -------
    DataFrame
        Same shape, NaN where the value is missing.
    """
    d = np.array([int(directions[c]) for c in values.columns], dtype=float)
    out = _normalise_array(values.to_numpy(dtype=float), d, method)
    return pd.DataFrame(out, index=values.index, columns=values.columns)


def _positive_array(s: np.ndarray) -> np.ndarray:
    lo, hi = np.nanmin(s, axis=0), np.nanmax(s, axis=0)
    rng = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rng > 0, 1 + 99 * (s - lo) / np.where(rng > 0, rng, 1), 50.5)


def positive(scores: pd.DataFrame) -> pd.DataFrame:
    """Map each normalised indicator linearly onto [1, 100] for geometric aggregation.

    The geometric mean needs strictly positive scores; the map keeps each indicator's
    order and relative distances.
    """
    return pd.DataFrame(_positive_array(scores.to_numpy(dtype=float)), index=scores.index,
                        columns=scores.columns)


# --------------------------------------------------------------------------- aggregate


def aggregate(scores: pd.DataFrame, groups: Mapping[str, str] | pd.Series | None = None,
              weights: Mapping[str, float] | pd.Series | None = None,
              method: str = "arithmetic") -> pd.DataFrame:
    """Aggregate columns into groups by a weighted mean, skipping missing values.

    Parameters
    ----------
    scores : DataFrame
        Units x columns (normalised indicators, or dimension scores).
    groups : mapping column -> group, optional
        Default: one group called ``index``.
    weights : mapping column -> weight, optional
        Default: equal weights.  Weights of missing values are dropped and the rest
        renormalised (available-case aggregation).
    method : {"arithmetic", "geometric"}
        Weighted arithmetic mean, or weighted geometric mean (scores must be > 0; use
        :func:`positive`).

    Returns
    -------
    DataFrame
        Units x groups (in order of first appearance).

    Raises
    ------
    UsageError
        Unknown method, or non-positive scores for the geometric mean.
    """
    if method not in AGGREGATIONS:
        raise UsageError(f"method must be one of {', '.join(AGGREGATIONS)}; got {method!r}")
    cols = list(scores.columns)
    g = [groups[c] for c in cols] if groups is not None else ["index"] * len(cols)
    w = np.array([float(weights[c]) for c in cols] if weights is not None else [1.0] * len(cols))
    x = scores.to_numpy(dtype=float)
    if method == "geometric":
        if np.nanmin(x) <= 0:
            raise UsageError("geometric aggregation needs scores > 0; map them with positive()")
        x = np.log(x)
    out = {}
    for grp in dict.fromkeys(g):
        idx = [k for k, v in enumerate(g) if v == grp]
        xs, ws = x[:, idx], w[idx]
        ok = np.isfinite(xs)
        den = (ok * ws).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            val = np.where(den > 0, np.where(ok, xs, 0) @ ws / den, np.nan)
        out[grp] = np.exp(val) if method == "geometric" else val
    return pd.DataFrame(out, index=scores.index)


# --------------------------------------------------------------------------- Monte Carlo


def sample_design(rng: np.random.Generator, runs: int, n_indicators: int, n_dimensions: int,
                  spread: float = 0.25) -> dict[str, np.ndarray]:
    """Draw ``runs`` independent combinations of the uncertain assumptions.

    Returns
    -------
    dict of str to ndarray
        ``treatment`` (index into :data:`TREATMENTS`), ``normalisation``
        (:data:`NORMALISATIONS`), ``aggregation`` (:data:`AGGREGATIONS`), ``weights``
        (runs x (indicators + dimensions) multipliers, uniform in 1 +/- spread) and
        ``dropped`` (indicator index, or -1 for none; uniform over the p + 1 choices).
    """
    return {
        "treatment": rng.integers(0, len(TREATMENTS), runs),
        "normalisation": rng.integers(0, len(NORMALISATIONS), runs),
        "aggregation": rng.integers(0, len(AGGREGATIONS), runs),
        "weights": rng.uniform(1 - spread, 1 + spread, (runs, n_indicators + n_dimensions)),
        "dropped": rng.integers(-1, n_indicators, runs),
    }


def _nominal_design(runs: int, p: int, m: int) -> dict[str, np.ndarray]:
    z = np.zeros(runs, dtype=np.int64)
    return {"treatment": z, "normalisation": z, "aggregation": z,
            "weights": np.ones((runs, p + m)), "dropped": z - 1}


def _variants(treated: list[np.ndarray], direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (treatment, normalisation, aggregation) score matrices, computed once.

    Geometric variants hold ``log(positive(score))`` so that every run aggregates by a
    weighted arithmetic mean (of logs, for geometric runs) and ranks need no ``exp``.
    """
    n, p = treated[0].shape
    mask = np.isfinite(treated[0])
    out = np.empty((len(TREATMENTS), len(NORMALISATIONS), len(AGGREGATIONS), n, p))
    for t, x in enumerate(treated):
        for k, method in enumerate(NORMALISATIONS):
            s = _normalise_array(x, direction, method)
            out[t, k, 0] = s
            out[t, k, 1] = np.log(_positive_array(s))
    out = np.where(mask, out, 0.0)
    return out.reshape(-1, n, p), mask


def simulate(variants: np.ndarray, mask: np.ndarray, groups: np.ndarray, weights: np.ndarray,
             dim_weights: np.ndarray, design: Mapping[str, np.ndarray], *,
             chunk: int = 4096, dimensions: bool = False):
    """Composite scores of every run of ``design`` (vectorised over runs).

    Parameters
    ----------
    variants : ndarray (T*K*A, n, p)
        From ``_variants``: scores per treatment, normalisation and aggregation, 0 where
        missing.
    mask : ndarray (n, p) of bool
        Where values exist.
    groups : ndarray (p,) of int
        Dimension index of each indicator.
    weights, dim_weights : ndarray (p,), (m,)
        Nominal weights.
    design : dict
        From :func:`sample_design`.
    chunk : int
        Runs per vectorised block (bounds memory).
    dimensions : bool
        Also return the dimension scores (runs x n x m).

    Returns
    -------
    ndarray (runs, n)
        Index scores (for geometric runs, the log of the geometric index; monotone, so
        ranks are unaffected).  With ``dimensions=True`` a tuple (index, dimensions).
    """
    n, p = mask.shape
    m = int(groups.max()) + 1
    G = np.zeros((p, m))
    G[np.arange(p), groups] = 1.0
    H = (mask[:, :, None] * G[None]).transpose(1, 0, 2).reshape(p, n * m)
    R = len(design["treatment"])
    var = ((design["treatment"] * len(NORMALISATIONS) + design["normalisation"])
           * len(AGGREGATIONS) + design["aggregation"])
    W = weights[None, :] * design["weights"][:, :p]
    drop = design["dropped"]
    hit = drop >= 0
    W[np.flatnonzero(hit), drop[hit]] = 0.0
    Dw = dim_weights[None, :] * design["weights"][:, p:]
    scores = np.empty((R, n))
    dims = np.empty((R, n, m)) if dimensions else None
    for a in range(0, R, chunk):
        b = min(a + chunk, R)
        c = b - a
        S = variants[var[a:b]]                                   # (c, n, p)
        num = ((S * W[a:b, None, :]).reshape(c * n, p) @ G).reshape(c, n, m)
        den = (W[a:b] @ H).reshape(c, n, m)
        ok = den > 0
        D = np.where(ok, num / np.where(ok, den, 1.0), 0.0)
        dw = Dw[a:b, None, :] * ok
        tot = dw.sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores[a:b] = np.where(tot > 0, (D * dw).sum(axis=2) / np.where(tot > 0, tot, 1), np.nan)
        if dimensions:
            dims[a:b] = np.where(ok, D, np.nan)
    return (scores, dims) if dimensions else scores


def rank_scores(scores: np.ndarray, *, chunk: int = 4096,
                pairwise: bool = False):
    """Rank units within each run (row): 1 + number of units with a higher score.

    Ties (within a relative 1e-9) share the best rank; missing scores rank last.  With
    ``pairwise=True`` also return the (n, n) count of runs in which unit i scored higher
    than unit j.
    """
    s = np.where(np.isfinite(scores), scores, -np.inf)
    R, n = s.shape
    ranks = np.empty((R, n), dtype=np.int16)
    counts = np.zeros((n, n), dtype=np.int64)
    for a in range(0, R, chunk):
        x = s[a:a + chunk]
        fin = np.where(np.isfinite(x), np.abs(x), 0.0)
        tol = 1e-9 * (1.0 + fin.max(axis=1))
        higher = x[:, None, :] > x[:, :, None] + tol[:, None, None]   # [r, i, j]: j beats i
        ranks[a:a + chunk] = 1 + higher.sum(axis=2)
        if pairwise:
            counts += higher.sum(axis=0).T
    return (ranks, counts) if pairwise else ranks


def _sobol(y: dict[str, np.ndarray], names: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """First-order (Saltelli 2010) and total (Jansen 1999) indices per output column."""
    ya, yb = y["A"].astype(float), y["B"].astype(float)
    var = np.var(np.concatenate([ya, yb]), axis=0)
    first, total = [], []
    with np.errstate(invalid="ignore", divide="ignore"):
        for name in names:
            yab = y[name].astype(float)
            first.append(np.where(var > 0, np.mean(yb * (yab - ya), axis=0) / var, np.nan))
            total.append(np.where(var > 0, np.mean((ya - yab) ** 2, axis=0) / (2 * var), np.nan))
    return np.clip(np.array(first), 0, 1), np.clip(np.array(total), 0, 1)


# --------------------------------------------------------------------------- result


def _plain(v):
    """A value as a plain Python type (None for missing)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _records(df: pd.DataFrame) -> list[dict]:
    cols = list(df.columns)
    return [{c: _plain(v) for c, v in zip(cols, row, strict=True)}
            for row in df.itertuples(index=False, name=None)]


@dataclass(frozen=True, eq=False, repr=False)
class Evaluation:
    """The evaluation of one year: nominal scores, rank uncertainty and sensitivity.

    Every attribute is a small DataFrame or a dict, so the object pickles cheaply (the
    batch builder computes it once) and :meth:`to_dict` gives JSON-ready data.

    Attributes
    ----------
    year : int or None
        Evaluation year.
    ranks : DataFrame
        One row per street: ``street_code``, ``street_name``, ``ranked``, ``score``
        (nominal, 0-100), ``rank`` (nominal, 1 = best), ``n_ranked``, ``rank_median``,
        ``rank_q05``, ``rank_q95`` (the 90 % rank interval over the Monte Carlo runs),
        ``p_top3``, ``p_bottom3``, ``mean_abs_shift`` (mean absolute difference between
        a run's rank and the nominal rank), ``n_indicators``, ``availability``, ``note``.
        Streets below the data-availability threshold have ``ranked = False`` and NaN.
    dimensions : DataFrame
        One row per street and dimension: nominal ``score`` (0-100), ``rank``,
        ``district_median``, ``district_sd``, ``flag`` (``above``/``below`` beyond the
        median +/- 1 SD), ``rank_q05``/``rank_q95`` over the runs, labels.
    indicators : DataFrame
        The year's indicator table (see :func:`xzlib.evaluation.indicators`) with the
        nominal normalised ``score`` and whether the indicator was ``kept``.
    screening : DataFrame
        One row per indicator: coverage, kept/reason, skewness, kurtosis, outlier flag,
        nominal treatment and points winsorised.
    pairwise : DataFrame
        ``pairwise.loc[a, b]`` = share of runs in which street a outranks street b.
    rank_counts : DataFrame
        Street x rank (1..n): number of runs with that rank.
    sensitivity : DataFrame
        One row per assumption: first-order and total sensitivity index of the mean
        absolute rank shift (district level).
    sensitivity_streets : DataFrame
        Street x assumption: first-order and total index of the street's rank.
    strengths : DataFrame
        Strengths and weaknesses per street (``kind``), with value, unit and rank.
    similar : DataFrame
        The most similar streets per street (RMS distance of normalised indicators).
    labels : dict
        Chinese and English labels of dimensions, indicators and assumptions.
    settings : dict
        Everything needed to reproduce the evaluation (year, runs, seed, thresholds,
        framework version, nominal choices).
    synthetic : bool
        Whether the data is the synthetic sample (示例数据).
    """

    year: int | None
    ranks: pd.DataFrame
    dimensions: pd.DataFrame
    indicators: pd.DataFrame
    screening: pd.DataFrame
    pairwise: pd.DataFrame
    rank_counts: pd.DataFrame
    sensitivity: pd.DataFrame
    sensitivity_streets: pd.DataFrame
    strengths: pd.DataFrame
    similar: pd.DataFrame
    labels: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    synthetic: bool = False

    def __repr__(self) -> str:
        ranked = int(self.ranks["ranked"].sum()) if len(self.ranks) else 0
        kept = int(self.screening["kept"].sum()) if len(self.screening) else 0
        return (f"Evaluation(year={self.year}, streets={len(self.ranks)}, ranked={ranked}, "
                f"indicators={kept}/{len(self.screening)}, runs={self.settings.get('runs')}, "
                f"seed={self.settings.get('seed')}{', synthetic' if self.synthetic else ''})")

    def robust_pairs(self, threshold: float | None = None) -> pd.DataFrame:
        """Pairs (a, b) where a outranks b in at least ``threshold`` of the runs.

        Parameters
        ----------
        threshold : float, optional
            Default ``settings["robust"]`` (0.9).

        Returns
        -------
        DataFrame
            ``street_code``, ``other_code``, ``p`` (share of runs), sorted by street.
        """
        t = self.settings.get("robust", 0.9) if threshold is None else float(threshold)
        if self.pairwise.empty:
            return pd.DataFrame(columns=["street_code", "other_code", "p"])
        long = self.pairwise.stack().rename("p").reset_index()
        long.columns = ["street_code", "other_code", "p"]
        long = long[(long["street_code"] != long["other_code"]) & (long["p"] >= t - _EPS)]
        return long.sort_values(["street_code", "p"], ascending=[True, False]).reset_index(drop=True)

    def street_summary(self, street_code: str) -> dict:
        """Return one street's evaluation as plain Python types (for report notebooks).

        Parameters
        ----------
        street_code : str
            9-digit street code.

        Returns
        -------
        dict
            ``street_code``, ``street_name``, ``year``, ``synthetic``, ``ranked``,
            ``note``, ``score``, ``rank``, ``n_ranked``, ``rank_median``,
            ``rank_interval`` ([q05, q95]), ``p_top3``, ``p_bottom3``,
            ``mean_abs_shift``, ``dimensions`` (list of dicts: score vs district median
            with the +/- 1 SD flag), ``strengths``, ``weaknesses``, ``similar``,
            ``robustly_above`` / ``robustly_below`` (streets this one outranks / is
            outranked by in >= 90 % of runs) and ``sensitivity`` (per assumption).
            Missing numbers are None.

        Raises
        ------
        UsageError
            If the street is not part of the evaluation; the message lists the codes.
        """
        code = str(street_code)
        row = self.ranks[self.ranks["street_code"] == code]
        if row.empty:
            valid = ", ".join(f"{c} {n}" for c, n in zip(self.ranks["street_code"],
                                                          self.ranks["street_name"], strict=True))
            raise UsageError(f"street {code!r} is not in this evaluation; streets: {valid}")
        r = {k: _plain(v) for k, v in row.iloc[0].items()}
        top = self.settings.get("top", 3)
        dims = self.dimensions[self.dimensions["street_code"] == code].drop(columns="street_code")
        sw = self.strengths[self.strengths["street_code"] == code].drop(columns="street_code")
        sim = self.similar[self.similar["street_code"] == code].drop(columns="street_code")
        robust = self.robust_pairs()
        sens = self.sensitivity_streets[self.sensitivity_streets["street_code"] == code]
        return {
            "street_code": code,
            "street_name": r.get("street_name") or "",
            "year": _plain(self.year),
            "synthetic": bool(self.synthetic),
            "ranked": bool(r["ranked"]),
            "note": r.get("note") or "",
            "score": r["score"],
            "rank": r["rank"],
            "n_ranked": r["n_ranked"],
            "rank_median": r["rank_median"],
            "rank_interval": [r["rank_q05"], r["rank_q95"]],
            f"p_top{top}": r[f"p_top{top}"],
            f"p_bottom{top}": r[f"p_bottom{top}"],
            "mean_abs_shift": r["mean_abs_shift"],
            "dimensions": _records(dims),
            "strengths": _records(sw[sw["kind"] == "strength"].drop(columns="kind")),
            "weaknesses": _records(sw[sw["kind"] == "weakness"].drop(columns="kind")),
            "similar": _records(sim),
            "robustly_above": [str(c) for c in robust.loc[robust["street_code"] == code, "other_code"]],
            "robustly_below": [str(c) for c in robust.loc[robust["other_code"] == code, "street_code"]],
            "sensitivity": _records(sens.drop(columns="street_code")),
        }

    def to_dict(self) -> dict:
        """Return everything as plain Python types (JSON-serialisable)."""
        pw = {str(a): {str(b): _plain(v) for b, v in row.items()}
              for a, row in self.pairwise.iterrows()}
        rc = {str(a): {str(b): _plain(v) for b, v in row.items()}
              for a, row in self.rank_counts.iterrows()}
        return {
            "year": _plain(self.year),
            "synthetic": bool(self.synthetic),
            "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.settings.items()},
            "labels": self.labels,
            "ranks": _records(self.ranks),
            "dimensions": _records(self.dimensions),
            "indicators": _records(self.indicators),
            "screening": _records(self.screening),
            "pairwise": pw,
            "rank_counts": rc,
            "sensitivity": _records(self.sensitivity),
            "sensitivity_streets": _records(self.sensitivity_streets),
            "strengths": _records(self.strengths),
            "similar": _records(self.similar),
        }


# --------------------------------------------------------------------------- evaluation


def _strengths(raw: pd.DataFrame, norm: pd.DataFrame, meta: pd.DataFrame, k: int) -> pd.DataFrame:
    """Up to ``k`` strengths (top third among streets) and weaknesses (bottom third)."""
    n = len(raw)
    third = max(1, n // 3)
    signed = raw * meta.loc[raw.columns, "direction"].to_numpy()[None, :]
    best = signed.rank(axis=0, ascending=False, method="max")   # pessimistic for strengths
    worst = signed.rank(axis=0, ascending=False, method="min")  # optimistic for weaknesses
    med = raw.median(axis=0)
    rows = []
    for code in raw.index:
        for kind, rk, keep, asc in (("strength", best, lambda r: r <= third, True),
                                    ("weakness", worst, lambda r: r > n - third, False)):
            r = rk.loc[code]
            cand = r[keep(r) & raw.loc[code].notna()]
            order = pd.DataFrame({"rank": cand, "score": norm.loc[code, cand.index]})
            order = order.sort_values(["rank", "score"], ascending=[asc, not asc]).head(k)
            for pos, (ind, o) in enumerate(order.iterrows(), start=1):
                mt = meta.loc[ind]
                rows.append({"street_code": code, "kind": kind, "order": pos, "indicator": ind,
                             "dimension": mt["dimension"], "label_zh": mt["label_zh"],
                             "label_en": mt["label_en"], "value": raw.at[code, ind],
                             "unit": mt["unit"], "unit_en": mt["unit_en"],
                             "rank": int(o["rank"]), "n_streets": int(raw[ind].notna().sum()),
                             "district_median": med[ind], "score": o["score"]})
    cols = ["street_code", "kind", "order", "indicator", "dimension", "label_zh", "label_en",
            "value", "unit", "unit_en", "rank", "n_streets", "district_median", "score"]
    return pd.DataFrame(rows, columns=cols)


def _similar(norm: pd.DataFrame, names: Mapping[str, str], k: int) -> pd.DataFrame:
    """The ``k`` nearest streets by RMS distance over indicators both have (0-100 scale)."""
    x = norm.to_numpy(dtype=float)
    ok = np.isfinite(x)
    diff = np.where(ok[:, None, :] & ok[None, :, :], x[:, None, :] - x[None, :, :], 0.0)
    common = (ok[:, None, :] & ok[None, :, :]).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.sqrt((diff**2).sum(axis=2) / common)
    dist[common < max(1, x.shape[1] / 2)] = np.nan
    np.fill_diagonal(dist, np.nan)
    rows = []
    codes = list(norm.index)
    for i, code in enumerate(codes):
        d = dist[i]
        order = [j for j in np.argsort(np.where(np.isfinite(d), d, np.inf), kind="stable")
                 if np.isfinite(d[j])][:k]
        for pos, j in enumerate(order, start=1):
            rows.append({"street_code": code, "order": pos, "similar_code": codes[j],
                         "similar_name": names.get(codes[j], ""), "distance": float(d[j])})
    return pd.DataFrame(rows, columns=["street_code", "order", "similar_code", "similar_name",
                                       "distance"])


def evaluate_matrix(
    values: pd.DataFrame,
    framework: str | Path | Framework | None = None,
    *,
    runs: int = 1000,
    seed: int = 0,
    sensitivity: bool = True,
    settings: Mapping | None = None,
    year: int | None = None,
    indicator_table: pd.DataFrame | None = None,
    synthetic: bool = False,
) -> Evaluation:
    """Evaluate a streets x indicators matrix of raw values (the engine of :func:`evaluate`).

    Parameters
    ----------
    values : DataFrame
        Index: street codes; columns: indicator ids of the framework; raw values in
        natural units, NaN for missing.
    framework : path or Framework, optional
        Gives each indicator's dimension, direction and weight, and the settings.
    runs, seed, sensitivity, settings
        As for :func:`evaluate`.
    year : int, optional
        Recorded in the result.
    indicator_table : DataFrame, optional
        The year's :func:`indicators` table, attached with the normalised scores.
    synthetic : bool
        Recorded in the result (reports say 示例数据).

    Returns
    -------
    Evaluation
    """
    fw = load_framework(framework).with_settings(settings)
    s = fw.settings
    runs = int(runs)
    if runs < 1:
        raise UsageError(f"runs must be >= 1; got {runs}")
    unknown = [c for c in values.columns if c not in fw.ids]
    if unknown:
        raise UsageError(f"unknown indicator(s) {unknown}; valid ids: {', '.join(fw.ids)}")
    meta = fw.meta()
    dmeta = fw.dimension_meta()
    values = values.copy()
    values.index = values.index.astype(str)
    values = values[[c for c in fw.ids if c in values.columns]].astype(float)
    names = _street_names()

    # 1. screen
    scr = screen(values, coverage=s["coverage"], availability=s["availability"])
    X = scr.values
    if X.shape[0] < 2 or X.shape[1] == 0:
        raise UsageError(
            f"nothing to rank for {year if year is not None else 'these data'}: "
            f"{X.shape[0]} street(s) with enough data, {X.shape[1]} indicator(s) kept "
            f"(coverage >= {s['coverage']:.2f}, availability >= {s['availability']:.2f})")
    kept = list(X.columns)
    units = list(X.index)
    n, p = X.shape
    direction = meta.loc[kept, "direction"].to_numpy(dtype=float)
    w0 = meta.loc[kept, "weight"].to_numpy(dtype=float)
    dims = [d for d in dmeta.index if d in set(meta.loc[kept, "dimension"])]
    m = len(dims)
    groups = np.array([dims.index(d) for d in meta.loc[kept, "dimension"]])
    dw0 = dmeta.loc[dims, "weight"].to_numpy(dtype=float)

    # 2. treat (all variants once: they are few)
    treated, tlog = {}, None
    for t in TREATMENTS:
        treated[t], lg = treat(X, method=t, skew=s["skew"], kurt=s["kurtosis"], winmax=s["winmax"])
        if t == TREATMENTS[0]:
            tlog = lg

    # 3-4. nominal run, step by step (COINr style)
    norm = normalise(treated[TREATMENTS[0]], meta["direction"], NORMALISATIONS[0])
    dscore = aggregate(norm, meta.loc[kept, "dimension"], meta.loc[kept, "weight"], AGGREGATIONS[0])
    dscore = dscore[[d for d in dims if d in dscore.columns]]
    index = aggregate(dscore, None, dmeta.loc[dims, "weight"], AGGREGATIONS[0])["index"]
    nominal_rank = rank_scores(index.to_numpy()[None, :])[0].astype(int)

    # 5. Monte Carlo (A) and, for the sensitivity indices, B and the A_B^(g) hybrids
    variants, mask = _variants([treated[t].to_numpy(dtype=float) for t in TREATMENTS], direction)
    rng = np.random.default_rng(seed)
    A = sample_design(rng, runs, p, m, s["weight_spread"])
    parts = {"A": A}
    if sensitivity:
        B = sample_design(rng, runs, p, m, s["weight_spread"])
        parts["B"] = B
        for g in ASSUMPTIONS:
            parts[g] = {**A, g: B[g]}
    scores, dim_runs = simulate(variants, mask, groups, w0, dw0, A, dimensions=True)
    ranks_a, counts = rank_scores(scores, pairwise=True)
    ranks_a = ranks_a.astype(int)
    q05, q50, q95 = np.quantile(ranks_a, [0.05, 0.5, 0.95], axis=0, method="inverted_cdf")
    top = int(s["top"])
    p_top = (ranks_a <= top).mean(axis=0)
    p_bottom = (ranks_a >= n - top + 1).mean(axis=0)
    mas = np.abs(ranks_a - nominal_rank[None, :]).mean(axis=0)

    # dimension rank intervals over the same runs
    dim_q = np.full((2, n, m), np.nan)
    for j in range(m):
        rk = rank_scores(dim_runs[:, :, j]).astype(float)
        rk[~np.isfinite(dim_runs[:, :, j])] = np.nan
        dim_q[:, :, j] = np.nanquantile(rk, [0.05, 0.95], axis=0, method="inverted_cdf")
    del dim_runs

    # 6. sensitivity (Saltelli design: A, B and the A_B hybrids; Saltelli/Jansen estimators)
    n_eval = runs
    if sensitivity:
        rest = {k: np.concatenate([d[k] for name, d in parts.items() if name != "A"]) for k in A}
        ranks_rest = rank_scores(simulate(variants, mask, groups, w0, dw0, rest)).astype(float)
        n_eval += len(ranks_rest)
        y = {"A": ranks_a.astype(float)}
        y.update({k: ranks_rest[i * runs:(i + 1) * runs]
                  for i, k in enumerate(k for k in parts if k != "A")})
        first, total = _sobol(y, ASSUMPTIONS)
        ymas = {k: np.abs(v - nominal_rank[None, :]).mean(axis=1, keepdims=True) for k, v in y.items()}
        f_all, t_all = _sobol(ymas, ASSUMPTIONS)
    else:
        first = total = np.full((len(ASSUMPTIONS), n), np.nan)
        f_all = t_all = np.full((len(ASSUMPTIONS), 1), np.nan)

    # ---- assemble
    all_codes = list(values.index)
    pos = {c: i for i, c in enumerate(units)}
    ranks = pd.DataFrame({"street_code": all_codes,
                          "street_name": [names.get(c, "") for c in all_codes]})
    ranks["ranked"] = ranks["street_code"].isin(units)
    idx = [pos.get(c) for c in all_codes]

    def col(arr, dtype=float):
        out = np.array([arr[i] if i is not None else np.nan for i in idx], dtype=float)
        return pd.array(out, dtype="Int64") if dtype is int else out

    ranks["score"] = col(index.to_numpy())
    ranks["rank"] = col(nominal_rank, int)
    ranks["n_ranked"] = n
    ranks["rank_median"] = col(q50, int)
    ranks["rank_q05"] = col(q05, int)
    ranks["rank_q95"] = col(q95, int)
    ranks[f"p_top{top}"] = col(p_top)
    ranks[f"p_bottom{top}"] = col(p_bottom)
    ranks["mean_abs_shift"] = col(mas)
    ranks["n_indicators"] = scr.units.loc[all_codes, "n_indicators"].to_numpy()
    ranks["availability"] = scr.units.loc[all_codes, "availability"].to_numpy()
    ranks["note"] = scr.units.loc[all_codes, "note"].to_numpy()
    ranks = ranks.sort_values(["rank", "street_code"], na_position="last", kind="stable")
    ranks = ranks.reset_index(drop=True)

    # dimensions: score vs district median +/- 1 SD
    drows = []
    med, sd = dscore.median(axis=0), dscore.std(axis=0)
    drank = dscore.rank(axis=0, ascending=False, method="min")
    for code in all_codes:
        for j, d in enumerate(dims):
            sc = dscore.at[code, d] if code in pos else np.nan
            flag = ""
            if np.isfinite(sc) and np.isfinite(sd[d]):
                flag = "above" if sc > med[d] + sd[d] else "below" if sc < med[d] - sd[d] else ""
            i = pos.get(code)
            drows.append({"street_code": code, "dimension": d, "label_zh": dmeta.at[d, "label_zh"],
                          "label_en": dmeta.at[d, "label_en"], "score": sc,
                          "rank": drank.at[code, d] if i is not None else np.nan,
                          "rank_q05": dim_q[0, i, j] if i is not None else np.nan,
                          "rank_q95": dim_q[1, i, j] if i is not None else np.nan,
                          "district_median": med[d], "district_sd": sd[d], "flag": flag})
    dimensions = pd.DataFrame(drows)
    for c in ("rank", "rank_q05", "rank_q95"):
        dimensions[c] = dimensions[c].astype("Int64")

    # screening table
    scrt = scr.indicators.join(outlier_stats(values.loc[units, values.columns], skew=s["skew"],
                                             kurt=s["kurtosis"]))
    scrt["treatment"] = "none"
    scrt["points"] = 0
    scrt.loc[tlog.index, "treatment"] = tlog["treatment"]
    scrt.loc[tlog.index, "points"] = tlog["points"].to_numpy()
    scrt = meta[["dimension", "label_zh", "label_en"]].join(scrt, how="inner")
    scrt = scrt.reset_index(names="indicator")

    # indicator table with nominal scores
    long = norm.stack().rename("score").reset_index()
    long.columns = ["street_code", "indicator", "score"]
    if indicator_table is not None:
        it = indicator_table
        if year is not None and "year" in it.columns:
            it = it[it["year"] == year]
        it = it.merge(long, on=["street_code", "indicator"], how="left")
    else:
        it = values.stack().rename("value").reset_index()
        it.columns = ["street_code", "indicator", "value"]
        it = it.merge(meta[["dimension", "label_zh", "label_en", "unit", "unit_en", "direction"]],
                      left_on="indicator", right_index=True).merge(
            long, on=["street_code", "indicator"], how="left")
    it["kept"] = it["indicator"].isin(kept)
    it = it.reset_index(drop=True)

    pairwise = pd.DataFrame(counts / runs, index=units, columns=units)
    pairwise.index.name = "street_code"
    rank_counts = pd.DataFrame(
        np.stack([np.bincount(ranks_a[:, i], minlength=n + 1)[1:] for i in range(n)]),
        index=pd.Index(units, name="street_code"), columns=range(1, n + 1))
    labels_zh = {g: ASSUMPTIONS[g][0] for g in ASSUMPTIONS}
    labels_en = {g: ASSUMPTIONS[g][1] for g in ASSUMPTIONS}
    sens = pd.DataFrame({"assumption": list(ASSUMPTIONS), "label_zh": list(labels_zh.values()),
                         "label_en": list(labels_en.values()), "first_order": f_all[:, 0],
                         "total": t_all[:, 0]})
    srows = [{"street_code": code, "assumption": g, "label_zh": labels_zh[g],
              "label_en": labels_en[g], "first_order": first[k, i], "total": total[k, i]}
             for i, code in enumerate(units) for k, g in enumerate(ASSUMPTIONS)]
    sens_streets = pd.DataFrame(srows, columns=["street_code", "assumption", "label_zh",
                                                "label_en", "first_order", "total"])

    strengths = _strengths(values.loc[units, kept], norm, meta, int(s["strengths"]))
    similar = _similar(norm, names, int(s["similar"]))

    labels = {
        "dimensions": {d: {"zh": dmeta.at[d, "label_zh"], "en": dmeta.at[d, "label_en"]}
                       for d in dmeta.index},
        "indicators": {i: {"zh": meta.at[i, "label_zh"], "en": meta.at[i, "label_en"],
                           "unit": meta.at[i, "unit"], "unit_en": meta.at[i, "unit_en"],
                           "direction": int(meta.at[i, "direction"]),
                           "dimension": meta.at[i, "dimension"],
                           "formula": meta.at[i, "formula"]} for i in meta.index},
        "assumptions": {g: {"zh": z, "en": e} for g, (z, e) in ASSUMPTIONS.items()},
        "methods": {k: {"zh": z, "en": e} for k, (z, e) in _STEP_LABELS.items()},
    }
    from .. import __version__

    settings_out = {
        "year": year, "runs": runs, "seed": int(seed), "sensitivity": bool(sensitivity),
        "model_evaluations": int(n_eval),
        **{k: (dict(v) if isinstance(v, Mapping) else v) for k, v in s.items()},
        "framework_version": fw.version, "framework_source": fw.source,
        "nominal": {"treatment": TREATMENTS[0], "normalisation": NORMALISATIONS[0],
                    "aggregation": AGGREGATIONS[0], "weights": "equal", "dropped": None},
        "treatments": list(TREATMENTS), "normalisations": list(NORMALISATIONS),
        "aggregations": list(AGGREGATIONS), "kept_indicators": kept, "dimensions": dims,
        "n_ranked": n, "xzlib_version": __version__,
    }
    log.info("evaluate(year=%s, runs=%d, seed=%d): %d streets ranked on %d indicators in %d "
             "dimensions", year, runs, seed, n, p, m)
    return Evaluation(year=year, ranks=ranks, dimensions=dimensions, indicators=it,
                      screening=scrt, pairwise=pairwise, rank_counts=rank_counts,
                      sensitivity=sens, sensitivity_streets=sens_streets, strengths=strengths,
                      similar=similar, labels=labels, settings=settings_out,
                      synthetic=bool(synthetic))


def evaluate(
    year: int,
    runs: int = 1000,
    seed: int = 0,
    *,
    tables: Mapping[str, pd.DataFrame | None] | None = None,
    data_dir=None,
    framework: str | Path | Framework | None = None,
    streets: Iterable[str] | None = None,
    sensitivity: bool = True,
    settings: Mapping | None = None,
) -> Evaluation:
    """Evaluate the streets in ``year``: nominal composite, rank uncertainty, sensitivity.

    Nominal run: coverage screen, outlier treatment (winsorise, else log), min-max 0-100
    with direction, equal weights, arithmetic mean of indicators into dimensions and of
    dimensions into the index.  The Monte Carlo varies, all together, the outlier
    treatment (winsorise / none / log), the normalisation (min-max, z-score, rank,
    distance to the district mean), every weight (uniform +/-25 %), the aggregation
    (arithmetic / geometric) and one indicator dropped at random (or none).

    Parameters
    ----------
    year : int
        Evaluation year.
    runs : int, default 1000
        Monte Carlo runs for the rank distribution.  With ``sensitivity=True`` the model
        is evaluated ``7 * runs`` times (Saltelli design over the five assumptions).
    seed : int, default 0
        Seed of the random generator; the same seed gives the same result.
    tables : mapping of str to DataFrame, optional
        Tables to use instead of the processed data (see :func:`indicators`).
    data_dir : path, optional
        Processed data folder.
    framework : path or Framework, optional
        Indicator framework (default: the one shipped with xzlib).
    streets : list of str, optional
        Streets to evaluate (default: those valid in ``year``).
    sensitivity : bool, default True
        Compute first-order and total sensitivity indices.
    settings : mapping, optional
        Override method defaults of the framework (``coverage``, ``availability``,
        ``skew``, ``kurtosis``, ``winmax``, ``weight_spread``, ``robust``, ``top``,
        ``strengths``, ``similar``).

    Returns
    -------
    Evaluation
        See :class:`Evaluation`; ``.ranks`` has one row per street with ``score``,
        ``rank``, ``rank_median``, ``rank_q05``, ``rank_q95``, ``p_top3``, ``p_bottom3``
        and ``mean_abs_shift``.

    Raises
    ------
    UsageError
        No processed data, or fewer than two streets / no indicator left after screening.

    Examples
    --------
    >>> import xzlib as xz
    >>> ev = xz.evaluate(2018, runs=1000, seed=0)        # doctest: +SKIP
    >>> ev.ranks[["street_name", "rank", "rank_q05", "rank_q95", "p_top3"]]  # doctest: +SKIP
    >>> ev.street_summary("440402005")["rank_interval"]  # doctest: +SKIP
    """
    fw = load_framework(framework).with_settings(settings)
    tabs = load_tables(tables, data_dir=data_dir)
    units = street_units([int(year)], streets)
    raw = compute_values(tabs, fw, units)
    table = indicator_table(raw, fw)
    X = raw.pivot(index="street_code", columns="indicator", values="value")
    X = X.reindex(index=units[int(year)], columns=fw.ids)
    return evaluate_matrix(X, fw, runs=runs, seed=seed, sensitivity=sensitivity, year=int(year),
                           indicator_table=table, synthetic=is_synthetic(tabs))
