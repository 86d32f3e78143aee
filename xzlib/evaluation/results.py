"""A composite indicator built step by step: :func:`composite` and its :class:`Composite` result.

:func:`composite` chains the steps of :mod:`.steps` in COINr's order (denominate -> impute
-> screen -> treat -> normalise -> aggregate) over any units x indicators table and any
framework table (:class:`~xzlib.evaluation.meta.Meta`).  The result keeps every named
data set and the arguments of every step, so :meth:`Composite.regenerate` rebuilds the
index with one assumption changed, and :meth:`Composite.uncertainty` varies them all.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import UsageError
from . import steps
from .meta import Meta

__all__ = ["STEPS", "DSETS", "composite", "Composite", "rank_table"]

logger = logging.getLogger(__name__)

#: The steps in pipeline order and the data set each writes (COINr's dset names).
STEPS = {"denominate": "Denominated", "impute": "Imputed", "screen": "Screened",
         "treat": "Treated", "normalise": "Normalised", "aggregate": "Aggregated"}
DSETS = ("Raw", *STEPS.values())

#: Defaults of each step (``None``: the step is skipped).
DEFAULTS: dict[str, dict | None] = {
    "denominate": None,
    "impute": None,
    "screen": None,
    "treat": {"method": "winsorise", "winmax": 5, "skew_thresh": 2.0, "kurt_thresh": 3.5,
              "log": "log_CT"},
    "normalise": {"method": "minmax", "l_u": (0.0, 100.0)},
    "aggregate": {"method": "arithmetic"},
}
_ALLOWED = {
    "denominate": {"by", "scale"},
    "impute": {"method", "group"},
    "screen": {"dat_thresh", "nonzero_thresh", "unit_screen", "force"},
    "treat": {"method", "winmax", "skew_thresh", "kurt_thresh", "log", "force_win",
              "combine_treat", "indicators"},
    "normalise": {"method", "indicators", "l_u", "m_sd", "npara", "scale_factor", "ties", "ref",
                  "cap_max", "scale", "targ", "gposts", "trunc2posts"},
    "aggregate": {"method", "dat_thresh", "weights"},
}


def rank_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Rank every column, 1 = highest, ties share the lowest rank ("min"), NaN kept.

    As COINr's ``rank_df`` / ``get_results``.
    """
    return scores.rank(axis=0, ascending=False, method="min", na_option="keep").astype("Int64")


def _spec(step: str, value) -> dict | None:
    """Normalise one step argument: None/False skip, True/default, a method name or a dict."""
    if value is None or value is False:
        return None
    if value is True or value == "default":
        base = DEFAULTS[step]
        return dict(base) if base is not None else {}
    if isinstance(value, str):
        key = "by" if step == "denominate" else "method"
        if step == "denominate":
            raise UsageError("denominate must be True (use the framework's 'denominator' "
                             "column) or a dict {'by': {indicator: column}}")
        return {**(DEFAULTS[step] or {}), key: value} if step in ("treat",) else {key: value}
    if isinstance(value, Mapping):
        bad = set(value) - _ALLOWED[step]
        if bad:
            raise UsageError(f"{step}: unknown option(s) {sorted(bad)}; valid: "
                             f"{', '.join(sorted(_ALLOWED[step]))}")
        base = DEFAULTS[step] if step in ("treat", "normalise", "aggregate") else None
        out = dict(base or {})
        if step == "normalise" and value.get("method", "minmax") != "minmax":
            out.pop("l_u", None)
        out.update(value)
        return out
    raise UsageError(f"{step} must be None, True, a method name or a dict; got {value!r}")


@dataclass(frozen=True, eq=False, repr=False)
class Composite:
    """A composite indicator: every data set of the pipeline and the arguments of every step.

    Attributes
    ----------
    meta : Meta
        The framework.
    dsets : dict of str to DataFrame
        ``Raw`` and one data set per step applied (``Denominated``, ``Imputed``,
        ``Screened``, ``Treated``, ``Normalised``, ``Aggregated``), units x columns;
        ``Aggregated`` has the normalised indicators and every aggregate.
    steps : dict
        The arguments each step was run with (skipped steps are absent).
    details : dict
        ``screen`` (COINr's data-availability summary), ``treat`` (per indicator) and
        ``treated_points``.
    unit_data : DataFrame
        The non-indicator columns of the input (names, groups, denominators) per unit.
    """

    meta: Meta
    dsets: dict
    steps: dict
    details: dict = field(default_factory=dict)
    unit_data: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __repr__(self) -> str:
        agg = self.dsets.get("Aggregated")
        n = len(agg) if agg is not None else len(self.dsets["Raw"])
        return (f"Composite(units={n}, indicators={len(self.meta.indicators)}, "
                f"levels={self.meta.n_levels}, steps={list(self.steps)})")

    # ------------------------------------------------------------------ results

    @property
    def scores(self) -> pd.DataFrame:
        """The ``Aggregated`` data set (normalised indicators and every aggregate)."""
        return self.dsets["Aggregated"]

    @property
    def index(self) -> pd.Series:
        """The index (top-level aggregate) per unit."""
        return self.scores[self.meta.index_code]

    def level(self, level: int) -> pd.DataFrame:
        """The scores of one level (1: normalised indicators; the top: the index)."""
        if level not in range(1, self.meta.n_levels + 1):
            raise UsageError(f"level must be between 1 and {self.meta.n_levels}; got {level!r}")
        return self.scores[self.meta.codes(level)]

    def ranks(self) -> pd.DataFrame:
        """Ranks of every indicator and aggregate (1 = best, ties "min", as COINr)."""
        return rank_table(self.scores)

    def results(self, *, kind: str = "aggregates") -> pd.DataFrame:
        """The results table (COINr's ``get_results``), best unit first.

        Parameters
        ----------
        kind : {"summary", "aggregates", "full"}
            ``summary``: index and rank; ``aggregates``: also every aggregate, highest
            level first; ``full``: also the indicators.

        Returns
        -------
        DataFrame
            ``uCode``, ``Rank`` (of the index, ties "min"), then the scores.
        """
        kinds = ("summary", "aggregates", "full")
        if kind not in kinds:
            raise UsageError(f"kind must be one of {', '.join(kinds)}; got {kind!r}")
        m, s = self.meta, self.scores
        t = m.table
        aggs = t[t["level"] > 1].sort_values(["level", "parent"], ascending=[False, True],
                                             kind="stable", na_position="first")
        cols = [m.index_code] if kind == "summary" else list(aggs.index)
        if kind == "full":
            cols += m.indicators
        out = pd.DataFrame({"uCode": s.index.astype(str)}, index=s.index)
        out["Rank"] = rank_table(s[[m.index_code]])[m.index_code]
        out = pd.concat([out, s[cols]], axis=1)
        out = out.sort_values(m.index_code, ascending=False, kind="stable", na_position="last")
        return out.reset_index(drop=True)

    # ------------------------------------------------------------------ regenerate

    def regenerate(self, **changes) -> Composite:
        """Rebuild with some step arguments changed (COINr's ``Regen`` after an edit).

        Parameters
        ----------
        **changes
            ``step=value`` as for :func:`composite` (a dict replaces the step's
            arguments, ``None`` skips the step); ``weights={code: w}`` and ``meta=``
            change the framework.

        Returns
        -------
        Composite
        """
        meta = changes.pop("meta", self.meta)
        w = changes.pop("weights", None)
        unknown = set(changes) - set(STEPS)
        if unknown:
            raise UsageError(f"unknown step(s) {sorted(unknown)}; steps: {', '.join(STEPS)}")
        args = {k: copy.deepcopy(v) for k, v in self.steps.items()}
        for k in STEPS:
            args.setdefault(k, None)
        args.update(changes)
        raw = self.dsets["Raw"]
        data = pd.concat([self.unit_data, raw], axis=1)
        return composite(data, Meta.from_frame(meta) if w is None else Meta.from_frame(meta)
                         .with_weights(w), **args)

    # ------------------------------------------------------------------ analysis

    def coherence(self, **kwargs) -> pd.DataFrame:
        """Statistical coherence table; see :func:`xzlib.evaluation.coherence.coherence`."""
        from .coherence import coherence

        return coherence(self, **kwargs)

    def uncertainty(self, runs: int = 1000, seed: int = 0, **kwargs):
        """Monte Carlo over the assumptions; see :func:`xzlib.evaluation.uncertainty.monte_carlo`."""
        from .uncertainty import monte_carlo

        return monte_carlo(self, runs=runs, seed=seed, **kwargs)


def _split(data: pd.DataFrame, meta: Meta) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Indicator columns (units x indicators, float) and the other columns, indexed by unit."""
    if not isinstance(data, pd.DataFrame):
        raise UsageError(f"data must be a DataFrame (units x indicators); got {type(data).__name__}")
    df = data
    if "uCode" in df.columns:
        codes = df["uCode"]
        if codes.isna().any() or codes.duplicated().any():
            bad = codes[codes.isna() | codes.duplicated()].iloc[0]
            raise UsageError(f"data: column 'uCode' must hold unique unit codes; got {bad!r} "
                             f"(row {int(np.flatnonzero((codes.isna() | codes.duplicated()).to_numpy())[0]) + 1})")
        df = df.set_index("uCode")
    elif df.index.duplicated().any():
        raise UsageError(f"data: duplicate unit code {df.index[df.index.duplicated()][0]!r} in the index")
    df = df.copy()
    df.index = df.index.astype(str)
    df.index.name = "uCode"
    missing = [c for c in meta.indicators if c not in df.columns]
    if missing:
        raise UsageError(f"data: indicator(s) {missing[:10]} of the framework are not columns; "
                         f"columns: {', '.join(map(str, df.columns[:20]))}")
    ind = df[meta.indicators]
    for c in ind.columns:
        col = ind[c]
        if not pd.api.types.is_numeric_dtype(col):
            num = pd.to_numeric(col, errors="coerce")
            bad = col[num.isna() & col.notna()]
            if len(bad):
                raise UsageError(f"data: column {c!r}, unit {bad.index[0]!r}: got {bad.iloc[0]!r}; "
                                 "expected a number (NaN or empty for missing)")
    x = ind.apply(pd.to_numeric, errors="coerce").astype(float)
    rest = df[[c for c in df.columns if c not in meta.indicators]]
    return x, rest


def composite(data: pd.DataFrame, meta: pd.DataFrame | Meta, *, denominate=None, impute=None,
              screen=None, treat=True, normalise=True, aggregate=True) -> Composite:
    """Build a composite indicator from any units x indicators table and framework.

    Parameters
    ----------
    data : DataFrame
        One row per unit: unit codes in a ``uCode`` column (COINr's iData) or the
        index, the indicators of ``meta`` as columns, and any other columns (names,
        groups, denominators).
    meta : DataFrame or Meta
        The framework table (COINr's iMeta or the lower-case columns of :class:`Meta`).
    denominate : None, True or dict, default None
        ``True``: divide each indicator by the data column named in the framework's
        ``denominator``; ``{"by": {indicator: column}, "scale": {...}}`` to say so here.
    impute : None, str or dict, default None
        ``"mean"``, ``"median"``, or ``{"method": "group_mean", "group": column}``
        (see :func:`~xzlib.evaluation.steps.impute`).
    screen : None or dict, default None
        ``{"dat_thresh": 0.9, "unit_screen": "byNA"}`` (see
        :func:`~xzlib.evaluation.steps.screen`).
    treat : True, None, str or dict, default True
        COINr's default (winsorise up to 5 values while ``|skew| >= 2`` and
        ``kurtosis >= 3.5``, else ``log_CT``), a method name or a dict of options.
    normalise : True, str or dict, default True
        Min-max onto 0-100, a method name or ``{"method": ..., parameters}``.
    aggregate : True, str or dict, default True
        Weighted arithmetic mean at every level, a method (or a list, one per level)
        and ``dat_thresh``, ``weights``.

    Returns
    -------
    Composite

    Raises
    ------
    UsageError
        Invalid data, framework or option; the message names the valid choices.

    Examples
    --------
    >>> import pandas as pd, xzlib as xz
    >>> data = pd.DataFrame({"uCode": ["A", "B", "C"], "x": [1.0, 2, 3], "y": [3.0, 1, 2]})
    >>> meta = pd.DataFrame({"iCode": ["x", "y", "Index"], "Level": [1, 1, 2],
    ...                      "Parent": ["Index", "Index", None], "Weight": [1, 1, 1],
    ...                      "Direction": [1, 1, 1]})
    >>> xz.composite(data, meta).results()[["uCode", "Rank", "Index"]]
      uCode  Rank  Index
    0     C     1   75.0
    1     A     2   50.0
    2     B     3   25.0
    """
    m = Meta.from_frame(meta)
    args = {"denominate": _spec("denominate", denominate), "impute": _spec("impute", impute),
            "screen": _spec("screen", screen), "treat": _spec("treat", treat),
            "normalise": _spec("normalise", normalise), "aggregate": _spec("aggregate", aggregate)}
    if args["normalise"] is None or args["aggregate"] is None:
        raise UsageError("normalise and aggregate cannot be skipped (use method 'none' to keep "
                         "values as they are)")
    x, rest = _split(data, m)
    dsets = {"Raw": x}
    details: dict = {}
    cur = x
    a = args["denominate"]
    if a is not None:
        by = a.get("by")
        if by is None:
            d = m.table.loc[m.indicators, "denominator"].dropna()
            by = dict(d)
            a = {**a, "by": by}
            args["denominate"] = a
        cur = steps.denominate(cur, rest, by, scale=a.get("scale"))
        dsets["Denominated"] = cur
    a = args["impute"]
    if a is not None:
        grp = a.get("group")
        if grp is not None and grp not in rest.columns:
            raise UsageError(f"impute: group column {grp!r} is not in the data; columns: "
                             f"{', '.join(map(str, rest.columns))}")
        cur = steps.impute(cur, a.get("method", "mean"),
                           groups=rest[grp] if grp is not None else None)
        dsets["Imputed"] = cur
    a = args["screen"]
    if a is not None:
        scr = steps.screen(cur, **a)
        cur = scr.data
        details["screen"] = scr.summary
        dsets["Screened"] = cur
    a = args["treat"]
    if a is not None:
        tr = steps.treat(cur, **a)
        cur = tr.data
        details["treat"] = tr.details
        details["treated_points"] = tr.points
        dsets["Treated"] = cur
    a = dict(args["normalise"])
    norm = steps.normalise(cur, m, a.pop("method"), **a)
    dsets["Normalised"] = norm
    a = dict(args["aggregate"])
    dsets["Aggregated"] = steps.aggregate(norm, m, a.pop("method"), **a)
    used = {k: v for k, v in args.items() if v is not None}
    logger.info("composite: %d units, %d indicators, %d levels, steps %s", len(norm),
                len(m.indicators), m.n_levels, list(used))
    return Composite(meta=m, dsets=dsets, steps=used, details=details,
                     unit_data=rest.loc[rest.index.isin(x.index)])
