"""The governance evaluation of the streets: one instance of the general engine.

:func:`evaluate` computes the indicators of ``framework.toml`` from the processed tables
(:mod:`.governance`), screens them (:func:`screen`: coverage, data availability, no
variation), then runs the general engine of :mod:`.results` and :mod:`.uncertainty` on a
three-level framework (indicators -> the five dimensions -> the index): COINr's outlier
treatment, min-max 0-100, weighted arithmetic means, and the Monte Carlo over outlier
treatment, normalisation, aggregation, weights (+/-25 % at both levels) and one dropped
indicator.  :func:`evaluate` returns an :class:`Evaluation`: plain DataFrames, picklable,
with helpers that hand report notebooks plain Python types.
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
from . import uncertainty as mc
from .governance import (
    Framework,
    _street_names,
    compute_values,
    indicator_table,
    is_synthetic,
    load_framework,
    load_tables,
    street_units,
)
from .meta import Meta
from .results import Composite, composite
from .steps import kurtosis, skewness

__all__ = [
    "TREATMENTS",
    "NORMALISATIONS",
    "AGGREGATIONS",
    "ASSUMPTIONS",
    "Screen",
    "screen",
    "governance_meta",
    "nominal",
    "monte_carlo_options",
    "Evaluation",
    "evaluate",
    "evaluate_matrix",
]

logger = logging.getLogger(__name__)

#: Outlier treatments; the first is the nominal one (COINr's default: winsorise, then
#: ``log_CT``).
TREATMENTS = ("winsorise", "none", "log_CT")
#: Normalisations; the first (min-max 0-100) is the nominal one.
NORMALISATIONS = ("minmax", "zscore", "rank", "dist2mean")
#: Aggregations; the first (weighted arithmetic mean) is the nominal one.  One method
#: for both levels in a run.
AGGREGATIONS = ("arithmetic", "geometric")
#: Uncertain assumptions varied by the Monte Carlo (the factor groups of the sensitivity
#: analysis), with Chinese and English labels.
ASSUMPTIONS = {g: mc.ASSUMPTIONS[g] for g in
               ("treatment", "normalisation", "aggregation", "weights", "dropped")}
_STEP_LABELS = {
    "winsorise": ("缩尾（必要时取对数）", "winsorise (log if still skewed)"),
    "none": ("不处理", "none"),
    "log_CT": ("取对数", "log transform"),
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
    logger.info("screen(coverage=%.3f, availability=%.3f): %d/%d indicators kept, %d/%d units ranked",
             coverage, availability, len(kept), x.shape[1], int(ranked.sum()), len(x))
    return Screen(x.loc[ranked.to_numpy(), kept], ind, units)


def outlier_stats(values: pd.DataFrame, *, skew: float = 2.0, kurt: float = 3.5) -> pd.DataFrame:
    """Return skewness, excess kurtosis and the outlier flag of each indicator (column).

    An indicator is flagged when ``abs(skew) >= skew`` and ``kurtosis >= kurt`` (COINr's
    rule, thresholds inclusive).
    """
    a = values.to_numpy(dtype=float)
    s, k = skewness(a, axis=0), kurtosis(a, axis=0)
    flag = (np.abs(s) >= skew) & (k >= kurt)
    return pd.DataFrame({"skew": s, "kurtosis": k, "outlier": flag}, index=values.columns)


def _weights_record(meta: Meta) -> str | dict:
    """``"equal"`` when siblings all weigh the same, else every weight (for the settings)."""
    t = meta.table
    equal = all(t.loc[meta.children(c), "weight"].nunique() <= 1 for c in t.index[t["level"] > 1])
    return "equal" if equal else {c: float(w) for c, w in t["weight"].items() if t.at[c, "level"] < meta.n_levels}


def governance_meta(fw: Framework, indicators: Iterable[str]) -> Meta:
    """The three-level framework table of the governance index (indicators -> dimensions -> index).

    Parameters
    ----------
    fw : Framework
        The parsed ``framework.toml``.
    indicators : iterable of str
        The indicators kept by the screen; dimensions left without one are dropped.
    """
    keep = set(indicators)
    inds = [i for i in fw.indicators if i.id in keep]
    dims = [d for d in fw.dimensions if any(i.dimension == d.id for i in inds)]
    rows = [{"code": i.id, "level": 1, "parent": i.dimension, "weight": i.weight,
             "direction": i.direction, "name": i.label_en} for i in inds]
    rows += [{"code": d.id, "level": 2, "parent": "index", "weight": d.weight, "direction": 1,
              "name": d.label_en} for d in dims]
    rows.append({"code": "index", "level": 3, "parent": None, "weight": 1.0, "direction": 1,
                 "name": "Index"})
    return Meta.from_frame(pd.DataFrame(rows))


def monte_carlo_options(settings: Mapping) -> dict:
    """What the governance Monte Carlo varies (keyword arguments of :func:`.uncertainty.plan`).

    The alternatives of :data:`TREATMENTS`, :data:`NORMALISATIONS` and
    :data:`AGGREGATIONS` (one method for both levels in a run), every indicator and
    dimension weight within ``settings["weight_spread"]`` of nominal, one indicator dropped.
    """
    spread = float(settings["weight_spread"])
    return {"treatment": list(TREATMENTS[1:]), "normalisation": list(NORMALISATIONS[1:]),
            "aggregation": list(AGGREGATIONS[1:]), "per_level": False,
            "weights": {1: spread, 2: spread}, "drop": True}


def nominal(values: pd.DataFrame, fw: Framework) -> Composite:
    """The nominal governance composite of screened values (ranked streets x kept indicators)."""
    s = fw.settings
    return composite(
        values, governance_meta(fw, values.columns),
        treat={"method": "winsorise", "winmax": int(s["winmax"]), "skew_thresh": float(s["skew"]),
               "kurt_thresh": float(s["kurtosis"]), "log": "log_CT"},
        normalise={"method": "minmax", "l_u": (0.0, 100.0)}, aggregate="arithmetic")


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
    coherence : DataFrame
        Statistical coherence of the nominal index (see :func:`coherence_table`): one
        row per indicator and dimension, ``code``, ``level``, ``label_zh``, ``label_en``,
        ``parent``, ``corr_parent``, ``corr_index``, ``n``, ``flag``.
    alpha : DataFrame
        Cronbach's alpha of each dimension and of the index: ``code``, ``level``,
        ``label_zh``, ``label_en``, ``n_children``, ``alpha``, ``flag``.
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
    coherence: pd.DataFrame = field(default_factory=pd.DataFrame)
    alpha: pd.DataFrame = field(default_factory=pd.DataFrame)

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

    def coherence_table(self) -> pd.DataFrame:
        """The coherence table a report shows: one row per dimension and indicator.

        Returns
        -------
        DataFrame
            In framework order, each dimension followed by its indicators:
            ``level`` (2 dimension, 1 indicator), ``code``, ``label_zh``, ``label_en``,
            ``parent`` (the dimension of an indicator, ``index`` for a dimension),
            ``corr_parent`` (Pearson correlation with it over the ranked streets),
            ``corr_index`` (with the index), ``alpha`` (Cronbach's alpha of the
            dimension's indicators; NaN on indicator rows), ``flag`` (``negative`` or
            ``weak`` correlation with the parent, ``low`` alpha, joined by ``;``).
        """
        cols = ["level", "code", "label_zh", "label_en", "parent", "corr_parent", "corr_index",
                "alpha", "flag"]
        if self.coherence.empty:
            return pd.DataFrame(columns=cols)
        c = self.coherence.set_index("code")
        a = self.alpha.set_index("code")
        rows = []
        for dim in c.index[c["level"] == 2]:
            flags = [f for f in (c.at[dim, "flag"], a.at[dim, "flag"] if dim in a.index else "") if f]
            rows.append({"level": 2, "code": dim, "label_zh": c.at[dim, "label_zh"],
                         "label_en": c.at[dim, "label_en"], "parent": c.at[dim, "parent"],
                         "corr_parent": c.at[dim, "corr_parent"],
                         "corr_index": c.at[dim, "corr_index"],
                         "alpha": a.at[dim, "alpha"] if dim in a.index else np.nan,
                         "flag": ";".join(flags)})
            for ind in c.index[(c["level"] == 1) & (c["parent"] == dim)]:
                rows.append({"level": 1, "code": ind, "label_zh": c.at[ind, "label_zh"],
                             "label_en": c.at[ind, "label_en"], "parent": dim,
                             "corr_parent": c.at[ind, "corr_parent"],
                             "corr_index": c.at[ind, "corr_index"], "alpha": np.nan,
                             "flag": c.at[ind, "flag"]})
        return pd.DataFrame(rows, columns=cols)

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
            "coherence": _records(self.coherence),
            "alpha": _records(self.alpha),
        }


# --------------------------------------------------------------------------- evaluation


def _strengths(raw: pd.DataFrame, norm: pd.DataFrame, meta: pd.DataFrame, k: int) -> pd.DataFrame:
    """Up to ``k`` strengths (top third among streets) and weaknesses (bottom third).

    A street's strengths are the indicators where its rank (ties counted pessimistically)
    is in the top third, best rank first, then higher score; its weaknesses those in the
    bottom third (ties counted optimistically), worst rank first, then lower score.
    Indicators it has no value for are left out; equal keys keep the framework's order.
    """
    n = len(raw)
    third = max(1, n // 3)
    signed = raw * meta.loc[raw.columns, "direction"].to_numpy()[None, :]
    best = signed.rank(axis=0, ascending=False, method="max").to_numpy()  # pessimistic
    worst = signed.rank(axis=0, ascending=False, method="min").to_numpy()  # optimistic
    values = raw.to_numpy(dtype=float)
    scores = norm.reindex(index=raw.index, columns=raw.columns).to_numpy(dtype=float)
    has = ~np.isnan(values)
    med = raw.median(axis=0).to_numpy()
    counts = has.sum(axis=0)
    info = meta.loc[raw.columns, ["dimension", "label_zh", "label_en", "unit", "unit_en"]]
    info = info.to_dict("records")
    names = list(raw.columns)
    rows = []
    for i, code in enumerate(raw.index):
        for kind, rk, keep, sign in (("strength", best[i], best[i] <= third, 1),
                                     ("weakness", worst[i], worst[i] > n - third, -1)):
            cand = np.flatnonzero(keep & has[i])
            # rank first (best first for strengths, worst first for weaknesses), then the
            # score the other way round, a missing score last; stable
            order = sorted(cand, key=lambda j: (sign * rk[j], np.isnan(scores[i, j]),
                                                0.0 if np.isnan(scores[i, j])
                                                else -sign * scores[i, j]))[:k]
            for pos, j in enumerate(order, start=1):
                rows.append({"street_code": code, "kind": kind, "order": pos,
                             "indicator": names[j], **info[j], "value": values[i, j],
                             "rank": int(rk[j]), "n_streets": int(counts[j]),
                             "district_median": med[j], "score": scores[i, j]})
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
    dims = [d for d in dmeta.index if d in set(meta.loc[kept, "dimension"])]
    m = len(dims)

    # 2-4. nominal run: the general engine on indicators -> dimensions -> index
    comp = nominal(X, fw)
    tlog = comp.details["treat"]
    norm = comp.dsets["Normalised"]
    dscore = comp.scores[dims]
    index = comp.index
    nominal_rank = mc.rank_scores(index.to_numpy()[None, :])[0].astype(int)

    # 5-6. Monte Carlo and sensitivity (Saltelli design), vectorised by the general engine
    u = mc.monte_carlo(comp, runs, seed, sensitivity=sensitivity, top=int(s["top"]), levels=(2,),
                       **monte_carlo_options(s))
    ranks_a = u.ranks.astype(int)
    q05, q50, q95 = np.quantile(ranks_a, [0.05, 0.5, 0.95], axis=0, method="inverted_cdf")
    top = int(s["top"])
    p_top = (ranks_a <= top).mean(axis=0)
    p_bottom = (ranks_a >= n - top + 1).mean(axis=0)
    mas = np.abs(ranks_a - nominal_rank[None, :]).mean(axis=0)

    # dimension rank intervals over the same runs
    dim_runs = u.levels[2]
    dim_pos = [comp.meta.codes(2).index(d) for d in dims]
    dim_q = np.full((2, n, m), np.nan)
    for j, dj in enumerate(dim_pos):
        rk = mc.rank_scores(dim_runs[:, :, dj]).astype(float)
        rk[~np.isfinite(dim_runs[:, :, dj])] = np.nan
        dim_q[:, :, j] = np.nanquantile(rk, [0.05, 0.95], axis=0, method="inverted_cdf")
    del dim_runs

    n_eval = u.settings["model_evaluations"]
    first = np.full((len(ASSUMPTIONS), n), np.nan)
    total = first.copy()
    f_all = np.full((len(ASSUMPTIONS), 1), np.nan)
    t_all = f_all.copy()
    order = list(ASSUMPTIONS)
    for _, r in u.sensitivity.iterrows():
        k = order.index(r["assumption"])
        f_all[k, 0], t_all[k, 0] = r["first_order"], r["total"]
    if len(u.sensitivity_units):
        su = u.sensitivity_units
        upos = {c: i for i, c in enumerate(units)}
        for code, g, f1, tt in zip(su["uCode"], su["assumption"], su["first_order"], su["total"],
                                   strict=True):
            first[order.index(g), upos[code]] = f1
            total[order.index(g), upos[code]] = tt

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
    scrt.loc[tlog.index, "points"] = tlog["winsorised"].to_numpy()
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

    pairwise = u.pairwise.copy()
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
                    "aggregation": AGGREGATIONS[0], "weights": _weights_record(comp.meta),
                    "dropped": None},
        "monte_carlo": u.settings,
        "treatments": list(TREATMENTS), "normalisations": list(NORMALISATIONS),
        "aggregations": list(AGGREGATIONS), "kept_indicators": kept, "dimensions": dims,
        "n_ranked": n, "xzlib_version": __version__,
    }
    coh = comp.coherence()
    corr = coh.correlations.copy()
    alpha = coh.alpha.copy()
    lab = {**{i: (meta.at[i, "label_zh"], meta.at[i, "label_en"]) for i in meta.index},
           **{d: (dmeta.at[d, "label_zh"], dmeta.at[d, "label_en"]) for d in dmeta.index},
           "index": ("综合指数", "Index")}
    for df in (corr, alpha):
        df.insert(2, "label_zh", [lab[c][0] for c in df["code"]])
        df.insert(3, "label_en", [lab[c][1] for c in df["code"]])
    corr, alpha = corr.drop(columns="name"), alpha.drop(columns="name")
    logger.info("evaluate(year=%s, runs=%d, seed=%d): %d streets ranked on %d indicators in %d "
             "dimensions", year, runs, seed, n, p, m)
    return Evaluation(year=year, ranks=ranks, dimensions=dimensions, indicators=it,
                      screening=scrt, pairwise=pairwise, rank_counts=rank_counts,
                      sensitivity=sens, sensitivity_streets=sens_streets, strengths=strengths,
                      similar=similar, labels=labels, settings=settings_out,
                      synthetic=bool(synthetic), coherence=corr, alpha=alpha)


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
