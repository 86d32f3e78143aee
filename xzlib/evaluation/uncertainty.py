"""Uncertainty and sensitivity of a composite indicator: a vectorised Monte Carlo at any level.

Every run of the Monte Carlo draws, independently, one alternative for each uncertain
assumption: the imputation, the outlier treatment, the normalisation, the aggregation
method of every level, noise on the weights of every level (COINr's
``get_noisy_weights``: ``w * (1 + U(-s, s))``) and one indicator dropped (or none).  The
few distinct (imputation x treatment x normalisation) matrices are computed once with
the step functions of :mod:`.steps`; a run is then a gather and one weighted mean per
level (matrix products over a block of runs), with no Python loop per run.  First-order
and total sensitivity indices come from a Saltelli design (Saltelli 2010 and Jansen
1999 estimators) over the assumption groups.

:func:`naive_monte_carlo` is the straightforward per-run loop over the step functions;
it gives the same ranks and is the baseline of ``benchmarks/bench_evaluate.py``.

The unit set is that of the nominal run (after its screening), so that every run ranks
the same units.  Geometric and harmonic means need positive values: in a run that uses
either at some level, each normalised indicator with a value <= 0 is first mapped
linearly onto [1, 100] (order and relative distances kept).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import UsageError
from . import steps
from .meta import Meta

__all__ = ["ASSUMPTIONS", "Plan", "plan", "sample_design", "nominal_design", "simulate",
           "rank_scores", "sobol", "Uncertainty", "monte_carlo", "naive_monte_carlo"]

logger = logging.getLogger(__name__)

#: The assumption groups varied (and the factor groups of the sensitivity analysis),
#: with Chinese and English labels.
ASSUMPTIONS = {
    "imputation": ("缺失值插补", "Imputation"),
    "treatment": ("异常值处理", "Outlier treatment"),
    "normalisation": ("标准化方法", "Normalisation"),
    "aggregation": ("加总方法", "Aggregation"),
    "weights": ("权重", "Weights"),
    "dropped": ("剔除一个指标", "One indicator dropped"),
}
_STEP_OF = {"imputation": "impute", "treatment": "treat", "normalisation": "normalise"}
_POSITIVE = ("geometric", "harmonic")


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True, eq=False)
class Plan:
    """Everything a run needs, computed once: the variants and the framework matrices.

    Attributes
    ----------
    units, indicators : list of str
    alternatives : dict
        Per assumption group, the list of alternatives (specs), nominal first;
        ``aggregation`` holds one list of method names per level.
    variants : ndarray (V, 2, n, p)
        Normalised values per (imputation, treatment, normalisation) combination, as is
        (``[:, 0]``) and mapped onto [1, 100] where needed for geometric / harmonic
        means (``[:, 1]``); 0 where missing.
    masks : ndarray (V, n, p) of bool
        Where values exist.
    shape : tuple of int
        Number of imputation, treatment and normalisation alternatives.
    meta : Meta
        Framework restricted to the codes used.
    spreads : ndarray (codes,)
        Weight noise of each code (by its level).
    """

    units: list
    indicators: list
    alternatives: dict
    variants: np.ndarray
    masks: np.ndarray
    shape: tuple
    meta: Meta
    spreads: np.ndarray
    drop: bool
    dat_thresh: list
    codes: list = field(default_factory=list)

    @property
    def varied(self) -> list[str]:
        """Assumption groups that actually vary."""
        out = [g for g in ("imputation", "treatment", "normalisation")
               if len(self.alternatives[g]) > 1]
        if any(len(a) > 1 for a in self.alternatives["aggregation"]):
            out.append("aggregation")
        if (self.spreads > 0).any():
            out.append("weights")
        if self.drop:
            out.append("dropped")
        return out


def _alternatives(step: str, nominal, alts) -> list:
    from .results import _spec

    out = [nominal]
    for a in alts or ():
        s = _spec(step, a)
        if s is not None and step == "treat" and s.get("method") == "none":
            s = None
        if s not in out:
            out.append(s)
    return out


def plan(comp, *, imputation: Sequence | None = None, treatment: Sequence | None = None,
         normalisation: Sequence | None = None, aggregation: Sequence | None = None,
         per_level: bool = True, weights: float | Mapping[int, float] | None = 0.25,
         drop: bool = True) -> Plan:
    """Prepare a Monte Carlo over ``comp`` (a :class:`~xzlib.evaluation.results.Composite`).

    Parameters
    ----------
    comp : Composite
        The nominal composite; its step arguments are the nominal alternatives.
    imputation, treatment, normalisation : list, optional
        Alternatives of each step, as for :func:`xzlib.composite` (a method name or a
        dict of options; ``None`` in the list skips the step).  The nominal one is
        always included, first.  Default: the nominal only (not varied).
    aggregation : list of str, optional
        Alternative methods (``arithmetic``, ``geometric``, ``harmonic``).
    per_level : bool, default True
        Draw the aggregation method independently at every level; False: one method
        for all levels in a run.
    weights : float or mapping level -> float, default 0.25
        Weight noise: each weight of the codes at that level (1 = indicator weights)
        is multiplied by ``1 + U(-s, s)``; a float applies to every level.
    drop : bool, default True
        Drop one indicator at random (or none, each of the p + 1 cases equally likely).

    Returns
    -------
    Plan
    """
    m: Meta = comp.meta
    nominal = comp.steps
    alts = {
        "imputation": _alternatives("impute", nominal.get("impute"), imputation),
        "treatment": _alternatives("treat", nominal.get("treat"), treatment),
        "normalisation": _alternatives("normalise", nominal.get("normalise"), normalisation),
    }
    nlev = m.n_levels
    nom_agg = nominal["aggregate"]["method"]
    nom_agg = list(nom_agg) if isinstance(nom_agg, list | tuple) else [nom_agg] * (nlev - 1)
    nom_agg = [steps._choice(a, steps.AGGREGATIONS, "aggregate method") for a in nom_agg]
    extra = [steps._choice(a, steps.AGGREGATIONS, "aggregate method") for a in aggregation or ()]
    if per_level:
        alts["aggregation"] = [list(dict.fromkeys([a, *extra])) for a in nom_agg]
    else:
        if len(set(nom_agg)) > 1 and extra:
            raise UsageError("per_level=False needs one nominal aggregation method for all levels")
        alts["aggregation"] = [list(dict.fromkeys([nom_agg[0], *extra]))] * (nlev - 1)
    alts["per_level"] = bool(per_level)
    th = nominal["aggregate"].get("dat_thresh")
    dat_thresh = list(th) if isinstance(th, list | tuple) else [th] * (nlev - 1)
    units = list(comp.dsets["Normalised"].index)
    inds = m.indicators
    base = comp.dsets.get("Denominated", comp.dsets["Raw"])
    groups = comp.unit_data
    V = []
    for imp in alts["imputation"]:
        x = base
        if imp is not None:
            grp = imp.get("group")
            x = steps.impute(x, imp.get("method", "mean"),
                             groups=groups[grp] if grp is not None else None)
        x = x.loc[units, inds]
        for tr in alts["treatment"]:
            t = steps.treat(x, **tr).data if tr is not None else x
            for nm in alts["normalisation"]:
                a = dict(nm)
                s = steps.normalise(t, m, a.pop("method"), **a).to_numpy(dtype=float)
                V.append(s)
    S = np.stack(V)                                          # (V, n, p)
    mask = np.isfinite(S)
    pos = S.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        lo, hi = np.nanmin(S, axis=1, keepdims=True), np.nanmax(S, axis=1, keepdims=True)
        remap = (lo <= 0) & np.isfinite(lo)
        mapped = 1 + 99 * (S - lo) / (hi - lo)
    pos = np.where(remap, mapped, pos)
    variants = np.where(mask[:, None], np.stack([S, pos], axis=1), 0.0)
    codes = list(m.table.index)
    lv = m.table["level"].to_numpy()
    if weights is None:
        spread = np.zeros(len(codes))
    elif isinstance(weights, Mapping):
        bad = [k for k in weights if int(k) not in range(1, nlev)]
        if bad:
            raise UsageError(f"weights: level(s) {bad} out of range; levels with weights are "
                             f"1..{nlev - 1}")
        spread = np.array([float(weights.get(int(v), 0.0)) for v in lv])
    else:
        spread = np.where(lv < nlev, float(weights), 0.0)
    if ((spread < 0) | (spread >= 1)).any():
        raise UsageError("weight noise must be in [0, 1)")
    shape = (len(alts["imputation"]), len(alts["treatment"]), len(alts["normalisation"]))
    return Plan(units=units, indicators=inds, alternatives=alts, variants=variants, masks=mask,
                shape=shape, meta=m, spreads=spread, drop=bool(drop), dat_thresh=dat_thresh,
                codes=codes)


# --------------------------------------------------------------------------- design


def sample_design(rng: np.random.Generator, runs: int, pl: Plan) -> dict[str, np.ndarray]:
    """Draw ``runs`` independent combinations of the assumptions of ``pl``.

    Returns
    -------
    dict of str to ndarray
        ``imputation``, ``treatment``, ``normalisation`` (index of the alternative),
        ``aggregation`` (runs x levels: index into :data:`~.steps.AGGREGATIONS`),
        ``weights`` (runs x codes multipliers) and ``dropped`` (indicator index or -1).
    """
    ni, nt, nn = pl.shape
    aggs = pl.alternatives["aggregation"]
    if pl.alternatives["per_level"]:
        agg = np.stack([np.array([steps.AGGREGATIONS.index(a) for a in al])[
            rng.integers(0, len(al), runs)] for al in aggs], axis=1)
    else:
        al = np.array([steps.AGGREGATIONS.index(a) for a in aggs[0]])
        agg = np.repeat(al[rng.integers(0, len(al), runs)][:, None], len(aggs), axis=1)
    return {
        "imputation": rng.integers(0, ni, runs),
        "treatment": rng.integers(0, nt, runs),
        "normalisation": rng.integers(0, nn, runs),
        "aggregation": agg,
        "weights": 1 + pl.spreads[None, :] * rng.uniform(-1, 1, (runs, len(pl.codes))),
        "dropped": (rng.integers(-1, len(pl.indicators), runs) if pl.drop
                    else np.full(runs, -1)),
    }


def nominal_design(pl: Plan, runs: int = 1) -> dict[str, np.ndarray]:
    """A design whose every run is the nominal composite."""
    z = np.zeros(runs, dtype=np.int64)
    nom = [steps.AGGREGATIONS.index(a[0]) for a in pl.alternatives["aggregation"]]
    return {"imputation": z, "treatment": z, "normalisation": z,
            "aggregation": np.tile(np.array(nom), (runs, 1)),
            "weights": np.ones((runs, len(pl.codes))), "dropped": z - 1}


# --------------------------------------------------------------------------- simulate


def _transform(x: np.ndarray, mask: np.ndarray, method: str) -> np.ndarray:
    """Values to average for ``method``: x, log x or 1/x (0 where missing)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(mask, x, 1.0)
        t = safe if method == "arithmetic" else np.log(safe) if method == "geometric" else 1 / safe
    return np.where(mask, t, 0.0)


def _back(q: np.ndarray, method: str) -> np.ndarray:
    """Inverse of :func:`_transform` applied to a weighted mean."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return q if method == "arithmetic" else np.exp(q) if method == "geometric" else 1 / q


def _level_sums(m: Meta, lv: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column order putting siblings together, start of each parent's block, block sizes.

    Sums over children are then ``np.add.reduceat`` over contiguous blocks: no matrix
    product, so no BLAS threads (which spin badly on a busy machine) for these tiny
    inner dimensions.
    """
    kids = {c: i for i, c in enumerate(m.codes(lv - 1))}
    blocks = [[kids[c] for c in m.children(q)] for q in m.codes(lv)]
    sizes = np.array([len(b) for b in blocks])
    return (np.array([i for b in blocks for i in b]), np.r_[0, np.cumsum(sizes)[:-1]],
            sizes.astype(float))


def simulate(pl: Plan, design: Mapping[str, np.ndarray], *, levels: Iterable[int] = (),
             chunk: int = 1024):
    """Index scores of every run of ``design``, vectorised over runs.

    The first aggregation (indicators, the widest level) is done per distinct
    (variant, method) pair for all its runs at once, so that no (runs x units x
    indicators) array is gathered; the levels above work on the small (runs x units x
    aggregates) arrays directly.

    Parameters
    ----------
    pl : Plan
    design : dict
        From :func:`sample_design`.
    levels : iterable of int
        Also return the aggregates of these levels (runs x units x codes).
    chunk : int
        Runs per block of the first aggregation (bounds memory).

    Returns
    -------
    ndarray (runs, units)
        Index scores; with ``levels``, a tuple (index, {level: array}).
    """
    m = pl.meta
    nlev = m.n_levels
    n, p = pl.masks.shape[1:]
    R = len(design["imputation"])
    ni, nt, nn = pl.shape
    var = (design["imputation"] * nt + design["treatment"]) * nn + design["normalisation"]
    agg = np.asarray(design["aggregation"])
    positive = np.isin(agg, [steps.AGGREGATIONS.index(a) for a in _POSITIVE]).any(axis=1)
    pos_of = {c: i for i, c in enumerate(pl.codes)}
    base_w = m.table["weight"].to_numpy(dtype=float)[None, :] * design["weights"]
    drop = design["dropped"]
    hit = np.flatnonzero(drop >= 0)
    base_w[hit, [pos_of[pl.indicators[d]] for d in drop[hit]]] = 0.0
    cols = {lv: [pos_of[c] for c in m.codes(lv)] for lv in range(1, nlev + 1)}
    want = sorted(set(int(v) for v in levels))
    extra = {}
    na = len(steps.AGGREGATIONS)
    # level 2, grouped by (variant, positive, method)
    perm, starts, sizes = _level_sums(m, 2)
    k2 = len(sizes)
    W1 = base_w[:, cols[1]][:, perm]                                 # (R, p), siblings together
    ps = positive | (agg[:, 0] != 0)             # geometric / harmonic always use [1, 100]
    key = (var * 2 + ps) * na + agg[:, 0]
    X = np.empty((R, n, k2))
    M = np.empty((R, n, k2), dtype=bool)
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    th2 = pl.dat_thresh[0]
    for grp in np.split(order, bounds):
        v, rest = divmod(int(key[grp[0]]), 2 * na)
        pz, mi = divmod(rest, na)
        name = steps.AGGREGATIONS[mi]
        mask = pl.masks[v][:, perm]
        T = _transform(pl.variants[v, pz][:, perm], mask, name)
        Mv = mask.astype(float)
        okv = (np.add.reduceat(Mv, starts, axis=1) / sizes >= float(th2)) if th2 is not None else None
        for a in range(0, len(grp), chunk):
            r = grp[a:a + chunk]
            w = W1[r][:, None, :]
            num = np.add.reduceat(T[None] * w, starts, axis=2)
            den = np.add.reduceat(Mv[None] * w, starts, axis=2)
            with np.errstate(divide="ignore", invalid="ignore"):
                val = _back(num / den, name)
            ok = (den > 0) & np.isfinite(val)
            if okv is not None:
                ok &= okv[None]
            M[r] = ok
            X[r] = np.where(ok, val, 0.0)
    if 2 in want:
        extra[2] = np.where(M, X, np.nan)
    for lv in range(3, nlev + 1):
        perm, starts, sizes = _level_sums(m, lv)
        X, M = X[:, :, perm], M[:, :, perm]
        W = base_w[:, cols[lv - 1]][:, perm][:, None, :]            # (R, 1, k)
        den = np.add.reduceat(M * W, starts, axis=2)
        val = np.empty_like(den)
        meth = agg[:, lv - 2]
        for mi in np.unique(meth):
            name = steps.AGGREGATIONS[mi]
            r = slice(None) if len(np.unique(meth)) == 1 else np.flatnonzero(meth == mi)
            num = np.add.reduceat(_transform(X[r], M[r], name) * W[r], starts, axis=2)
            with np.errstate(divide="ignore", invalid="ignore"):
                val[r] = _back(num / den[r], name)
        ok = (den > 0) & np.isfinite(val)
        th = pl.dat_thresh[lv - 2]
        if th is not None:
            ok &= np.add.reduceat(M.astype(float), starts, axis=2) / sizes >= float(th)
        M = ok
        X = np.where(ok, val, 0.0)
        if lv in want:
            extra[lv] = np.where(ok, val, np.nan)
    out = np.where(M[:, :, 0], X[:, :, 0], np.nan)
    return (out, extra) if want else out


def rank_scores(scores: np.ndarray, *, chunk: int = 2048, pairwise: bool = False):
    """Rank units within each run (row): 1 + number of units with a higher score.

    Ties (within a relative 1e-9, so that float noise of the vectorised sums does not
    split them) share the best rank (COINr's "min"); missing scores rank last.  With
    ``pairwise=True`` also return the (n, n) count of runs in which unit i scored
    higher than unit j.
    """
    s = np.where(np.isfinite(scores), scores, -np.inf)
    R, n = s.shape
    ranks = np.empty((R, n), dtype=np.int32)
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


def sobol(y: Mapping[str, np.ndarray], names: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """First-order (Saltelli 2010) and total (Jansen 1999) indices per output column.

    ``y["A"]``, ``y["B"]`` and ``y[name]`` (A with group ``name`` taken from B) are
    (runs, outputs) arrays.  Values are clipped to [0, 1]; NaN where the output never
    varies.
    """
    ya, yb = np.asarray(y["A"], float), np.asarray(y["B"], float)
    var = np.var(np.concatenate([ya, yb]), axis=0)
    first, total = [], []
    with np.errstate(invalid="ignore", divide="ignore"):
        for name in names:
            yab = np.asarray(y[name], float)
            first.append(np.where(var > 0, np.mean(yb * (yab - ya), axis=0) / var, np.nan))
            total.append(np.where(var > 0, np.mean((ya - yab) ** 2, axis=0) / (2 * var), np.nan))
    return np.clip(np.array(first), 0, 1), np.clip(np.array(total), 0, 1)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False, repr=False)
class Uncertainty:
    """Result of :func:`monte_carlo`.

    Attributes
    ----------
    rank_stats : DataFrame
        One row per unit: ``uCode``, ``score`` and ``rank`` (nominal), ``rank_mean``,
        ``rank_median``, ``rank_q05``, ``rank_q95`` (R's default quantiles, as COINr's
        ``RankStats``), ``rank_lo``, ``rank_hi`` (the 90 % interval in whole ranks),
        ``p_top`` (share of runs in the top ``settings["top"]``), ``mean_abs_shift``.
    ranks : ndarray (runs, units)
        The rank of every unit in every run.
    scores : ndarray (runs, units)
        The index in every run.
    pairwise : DataFrame
        ``pairwise.loc[a, b]``: share of runs in which a scores above b.
    sensitivity : DataFrame
        Per assumption group: first-order and total index of the mean absolute rank
        shift (empty without ``sensitivity=True``).
    sensitivity_units : DataFrame
        Per unit and assumption group: first-order and total index of the unit's rank.
    design : dict
        The sampled assumptions of every run.
    settings : dict
        Exactly what was varied, and how.
    """

    rank_stats: pd.DataFrame
    ranks: np.ndarray
    scores: np.ndarray
    pairwise: pd.DataFrame
    sensitivity: pd.DataFrame
    sensitivity_units: pd.DataFrame
    design: dict
    settings: dict
    levels: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Uncertainty(runs={self.settings['runs']}, units={len(self.rank_stats)}, "
                f"varied={self.settings['varied']})")

    def robust_pairs(self, threshold: float = 0.9) -> pd.DataFrame:
        """Pairs (a, b) where a outranks b in at least ``threshold`` of the runs."""
        long = self.pairwise.stack().rename("p").reset_index()
        long.columns = ["uCode", "other", "p"]
        long = long[(long["uCode"] != long["other"]) & (long["p"] >= threshold - 1e-12)]
        return long.sort_values(["uCode", "p"], ascending=[True, False]).reset_index(drop=True)


def _describe(pl: Plan) -> dict:
    alts = pl.alternatives

    def plain(v):
        if isinstance(v, Mapping):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, tuple):
            return list(v)
        return v

    return {
        "imputation": [plain(a) for a in alts["imputation"]],
        "treatment": [plain(a) for a in alts["treatment"]],
        "normalisation": [plain(a) for a in alts["normalisation"]],
        "aggregation": {int(lv): list(a) for lv, a in
                        zip(range(2, pl.meta.n_levels + 1), alts["aggregation"], strict=True)},
        "aggregation_per_level": alts["per_level"],
        "weight_noise": {int(lv): float(pl.spreads[pl.meta.table["level"].to_numpy() == lv].max(initial=0))
                         for lv in range(1, pl.meta.n_levels)},
        "drop_one_indicator": pl.drop,
    }


def monte_carlo(comp, runs: int = 1000, seed: int = 0, *, imputation=None, treatment=None,
                normalisation=None, aggregation=None, per_level: bool = True,
                weights: float | Mapping[int, float] | None = 0.25, drop: bool = True,
                sensitivity: bool = False, top: int = 3, levels: Iterable[int] = (),
                chunk: int = 1024) -> Uncertainty:
    """Monte Carlo uncertainty analysis of a composite, every assumption at every level.

    Parameters
    ----------
    comp : Composite
        The nominal composite (:func:`xzlib.composite`).
    runs : int, default 1000
        Runs of the uncertainty analysis (with ``sensitivity``, the model is evaluated
        ``(2 + groups) * runs`` times, groups being the assumptions that vary).
    seed : int, default 0
        The same seed gives the same result.
    imputation, treatment, normalisation, aggregation, per_level, weights, drop
        What varies; see :func:`plan`.  By default only weights (+/-25 % at every
        level) and one dropped indicator vary.
    sensitivity : bool, default False
        Also estimate first-order and total sensitivity indices.
    top : int, default 3
        ``p_top`` is the share of runs in the top ``top``.
    levels : iterable of int
        Also keep the aggregates of these levels in every run (``.levels``).
    chunk : int
        Runs per vectorised block.

    Returns
    -------
    Uncertainty

    Examples
    --------
    >>> u = comp.uncertainty(10_000, treatment=["none", "log_CT"],  # doctest: +SKIP
    ...                      normalisation=["zscore", "rank"], aggregation=["geometric"])
    >>> u.rank_stats.head()                                        # doctest: +SKIP
    """
    runs = int(runs)
    if runs < 1:
        raise UsageError(f"runs must be >= 1; got {runs}")
    pl = plan(comp, imputation=imputation, treatment=treatment, normalisation=normalisation,
              aggregation=aggregation, per_level=per_level, weights=weights, drop=drop)
    rng = np.random.default_rng(seed)
    A = sample_design(rng, runs, pl)
    want = tuple(levels)
    res = simulate(pl, A, levels=want, chunk=chunk)
    scores, lv_scores = res if want else (res, {})
    ranks, counts = rank_scores(scores, pairwise=True)
    nominal = simulate(pl, nominal_design(pl))[0]
    nom_rank = rank_scores(nominal[None, :])[0]
    n = len(pl.units)
    top = int(top)
    q05, q50, q95 = np.quantile(ranks, [0.05, 0.5, 0.95], axis=0)
    lo, hi = np.quantile(ranks, [0.05, 0.95], axis=0, method="inverted_cdf")
    stats = pd.DataFrame({
        "uCode": pl.units, "score": nominal, "rank": nom_rank,
        "rank_mean": ranks.mean(axis=0), "rank_median": q50, "rank_q05": q05, "rank_q95": q95,
        "rank_lo": lo.astype(int), "rank_hi": hi.astype(int),
        "p_top": (ranks <= top).mean(axis=0),
        "mean_abs_shift": np.abs(ranks - nom_rank[None, :]).mean(axis=0),
    })
    varied = pl.varied
    n_eval = runs
    if sensitivity and varied:
        B = sample_design(rng, runs, pl)
        hybrids = {g: {**A, g: B[g]} for g in varied}
        rest = {k: np.concatenate([B[k], *(h[k] for h in hybrids.values())]) for k in A}
        rr = rank_scores(simulate(pl, rest, chunk=chunk)).astype(float)
        n_eval += len(rr)
        y = {"A": ranks.astype(float), "B": rr[:runs]}
        y.update({g: rr[(i + 1) * runs:(i + 2) * runs] for i, g in enumerate(varied)})
        first, total = sobol(y, varied)
        ym = {k: np.abs(v - nom_rank[None, :]).mean(axis=1, keepdims=True) for k, v in y.items()}
        f_all, t_all = sobol(ym, varied)
        sens = pd.DataFrame({"assumption": varied,
                             "label_zh": [ASSUMPTIONS[g][0] for g in varied],
                             "label_en": [ASSUMPTIONS[g][1] for g in varied],
                             "first_order": f_all[:, 0], "total": t_all[:, 0]})
        sens_u = pd.DataFrame([{"uCode": u, "assumption": g, "first_order": first[k, i],
                                "total": total[k, i]}
                               for i, u in enumerate(pl.units) for k, g in enumerate(varied)])
    else:
        sens = pd.DataFrame(columns=["assumption", "label_zh", "label_en", "first_order", "total"])
        sens_u = pd.DataFrame(columns=["uCode", "assumption", "first_order", "total"])
    pw = pd.DataFrame(counts / runs, index=pl.units, columns=pl.units)
    pw.index.name = "uCode"
    settings = {"runs": runs, "seed": int(seed), "sensitivity": bool(sensitivity),
                "model_evaluations": int(n_eval), "top": top, "varied": varied,
                "units": n, **_describe(pl)}
    logger.info("monte_carlo(runs=%d, seed=%d): %d units, varied %s", runs, seed, n, varied)
    return Uncertainty(rank_stats=stats, ranks=ranks, scores=scores, pairwise=pw,
                       sensitivity=sens, sensitivity_units=sens_u, design=A, settings=settings,
                       levels=lv_scores)


# --------------------------------------------------------------------------- baseline


def naive_monte_carlo(comp, pl: Plan, design: Mapping[str, np.ndarray]) -> np.ndarray:
    """The same runs as :func:`simulate`, one at a time through the step functions.

    For each run: impute, keep the nominal units, treat, normalise (then map onto
    [1, 100] for geometric / harmonic runs where needed), and aggregate with the run's
    weights and methods, all with the DataFrame functions of :mod:`.steps`.  Slow by
    design: the baseline of the benchmark and a check of the vectorised engine.

    Returns
    -------
    ndarray (runs, units)
        Index scores.
    """
    m = pl.meta
    alts = pl.alternatives
    base = comp.dsets.get("Denominated", comp.dsets["Raw"])
    R = len(design["imputation"])
    out = np.empty((R, len(pl.units)))
    w0 = m.table["weight"]
    for r in range(R):
        imp = alts["imputation"][design["imputation"][r]]
        x = base
        if imp is not None:
            grp = imp.get("group")
            x = steps.impute(x, imp.get("method", "mean"),
                             groups=comp.unit_data[grp] if grp is not None else None)
        x = x.loc[pl.units, pl.indicators]
        tr = alts["treatment"][design["treatment"][r]]
        if tr is not None:
            x = steps.treat(x, **tr).data
        nm = dict(alts["normalisation"][design["normalisation"][r]])
        s = steps.normalise(x, m, nm.pop("method"), **nm)
        methods = [steps.AGGREGATIONS[i] for i in design["aggregation"][r]]
        if any(a in _POSITIVE for a in methods):
            low = s.min(axis=0) <= 0
            if low.any():
                s.loc[:, low] = steps.normalise(s.loc[:, low], {c: 1 for c in s.columns[low]},
                                                "minmax", l_u=(1, 100))
        w = w0 * design["weights"][r]
        if design["dropped"][r] >= 0:
            w[pl.indicators[design["dropped"][r]]] = 0.0
        agg = steps.aggregate(s, m, methods, weights=dict(w), dat_thresh=pl.dat_thresh)
        out[r] = agg[m.index_code].to_numpy()
    return out
