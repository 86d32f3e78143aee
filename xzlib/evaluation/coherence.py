"""Statistical coherence of a composite: the Handbook's audit of its structure.

For every indicator and aggregate below the index: its correlation with its parent and
with the index (over units, pairwise-complete, as COINr's ``get_corr``); for every
aggregate: Cronbach's alpha of its children (COINr's ``get_cronbach``).  Flags mark what a
methodologist looks at: a negative correlation (the component pulls against its parent),
a near-zero one (it hardly contributes to what its parent measures), and an alpha below
the usual 0.7.  With about ten units, as in the governance evaluation, these statistics
are noisy: read them as prompts for a closer look, not verdicts.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import UsageError
from .meta import Meta

__all__ = ["Coherence", "coherence", "cronbach_alpha", "CORRELATIONS"]

logger = logging.getLogger(__name__)

#: Correlation methods.
CORRELATIONS = ("pearson", "spearman", "kendall")


class Coherence(NamedTuple):
    """Result of :func:`coherence`.

    ``correlations``: one row per indicator and aggregate below the index, columns
    ``code``, ``name``, ``level``, ``parent``, ``corr_parent``, ``corr_index``, ``n``
    (units with both values), ``flag`` (``negative``, ``weak`` or ``""``).
    ``alpha``: one row per aggregate, columns ``code``, ``name``, ``level``,
    ``n_children``, ``alpha`` (Cronbach's), ``flag`` (``low`` below ``alpha_min``).
    """

    correlations: pd.DataFrame
    alpha: pd.DataFrame


def cronbach_alpha(data: pd.DataFrame) -> float:
    """Cronbach's alpha of the columns of ``data`` (pairwise-complete covariances).

    ``k^2 * mean off-diagonal covariance / sum of all covariances``, as COINr's
    ``get_cronbach``; NaN with fewer than two columns or no variance.
    """
    k = data.shape[1]
    if k < 2:
        return float("nan")
    cov = data.astype(float).cov().to_numpy()
    total = np.nansum(cov)
    if not np.isfinite(total) or total == 0:
        return float("nan")
    off = (total - np.nansum(np.diag(cov))) / (k * (k - 1))
    return float(k**2 * off / total)


def _corr(a: pd.Series, b: pd.Series, method: str) -> tuple[float, int]:
    ok = a.notna() & b.notna()
    n = int(ok.sum())
    if n < 3 or a[ok].nunique() < 2 or b[ok].nunique() < 2:
        return float("nan"), n
    return float(a[ok].corr(b[ok], method=method)), n


def coherence(comp, *, dset: str = "Aggregated", method: str = "pearson", weak: float = 0.3,
              alpha_min: float = 0.7) -> Coherence:
    """Correlations with parent and index, and Cronbach's alpha of every group.

    Parameters
    ----------
    comp : Composite, or (DataFrame, Meta)
        A composite (:func:`xzlib.composite`), or a units x codes table with every
        indicator and aggregate and its framework.
    dset : str, default "Aggregated"
        Data set of the composite to use (its indicators are normalised, so the
        directions are already applied).
    method : {"pearson", "spearman", "kendall"}, default "pearson"
    weak : float, default 0.3
        A correlation with the parent in [0, weak) is flagged ``weak``; below 0,
        ``negative``.
    alpha_min : float, default 0.7
        Cronbach's alpha below this is flagged ``low`` (the usual rule of thumb the
        Handbook quotes; with few children alpha is low by construction).

    Returns
    -------
    Coherence
    """
    if method not in CORRELATIONS:
        raise UsageError(f"method must be one of {', '.join(CORRELATIONS)}; got {method!r}")
    if isinstance(comp, tuple):
        data, meta = comp[0], Meta.from_frame(comp[1])
    else:
        if dset not in comp.dsets:
            raise UsageError(f"dset must be one of {', '.join(comp.dsets)}; got {dset!r}")
        data, meta = comp.dsets[dset], comp.meta
    t = meta.table
    missing = [c for c in t.index if c not in data.columns]
    if missing:
        raise UsageError(f"coherence needs every indicator and aggregate; missing {missing[:5]} "
                         "(use the Aggregated data set)")
    top = meta.index_code
    rows = []
    for code in t.index:
        if code == top:
            continue
        par = t.at[code, "parent"]
        rp, n = _corr(data[code], data[par], method)
        ri, _ = _corr(data[code], data[top], method)
        flag = "" if not np.isfinite(rp) else "negative" if rp < 0 else "weak" if rp < weak else ""
        rows.append({"code": code, "name": t.at[code, "name"], "level": int(t.at[code, "level"]),
                     "parent": par, "corr_parent": rp, "corr_index": ri, "n": n, "flag": flag})
    corr = pd.DataFrame(rows, columns=["code", "name", "level", "parent", "corr_parent",
                                       "corr_index", "n", "flag"])
    arows = []
    for code in t.index[t["level"] > 1]:
        kids = meta.children(code)
        a = cronbach_alpha(data[kids])
        arows.append({"code": code, "name": t.at[code, "name"], "level": int(t.at[code, "level"]),
                      "n_children": len(kids), "alpha": a,
                      "flag": "low" if np.isfinite(a) and a < alpha_min else ""})
    alpha = pd.DataFrame(arows, columns=["code", "name", "level", "n_children", "alpha", "flag"])
    logger.debug("coherence(%s): %d negative, %d weak, %d low alpha", method,
                 int((corr["flag"] == "negative").sum()), int((corr["flag"] == "weak").sum()),
                 int((alpha["flag"] == "low").sum()))
    return Coherence(corr, alpha)
