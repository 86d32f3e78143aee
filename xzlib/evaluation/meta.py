"""The framework table of a composite indicator (COINr's ``iMeta``), parsed and checked once.

A framework is a table with one row per indicator and per aggregate: ``code``, ``level``
(1 = indicator, the highest level is the index), ``parent`` (the code one level up; empty
at the top), ``weight`` (relative to its siblings), ``direction`` (+1 / -1, indicators
only) and optional per-indicator parameters: ``target``, ``denominator`` (a column of the
data), ``goalpost_lower``, ``goalpost_upper``, ``goalpost_scale``, ``goalpost_trunc``.
COINr's own column names (``iCode``, ``Level``, ``Parent``, ``Weight``, ``Direction``,
``Type``, ``Target``, ``Denominator``) are accepted as they are, so COINr's ``ASEM_iMeta``
reads unchanged; rows of ``Type`` ``Group``, ``Denominator`` or ``Other`` name columns of
the data that are not indicators.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..errors import UsageError

__all__ = ["Meta", "META_COLUMNS"]

logger = logging.getLogger(__name__)

#: Accepted columns (lower case) and the COINr spelling that maps onto each.
META_COLUMNS = {
    "code": "iCode", "level": "Level", "parent": "Parent", "weight": "Weight",
    "direction": "Direction", "type": "Type", "name": "iName", "target": "Target",
    "denominator": "Denominator", "goalpost_lower": "goalpost_lower",
    "goalpost_upper": "goalpost_upper", "goalpost_scale": "goalpost_scale",
    "goalpost_trunc": "goalpost_trunc2posts", "unit": "Unit",
}
_TYPES = ("Indicator", "Aggregate", "Group", "Denominator", "Other")


def _fail(row: int | None, column: str, value, expected: str) -> UsageError:
    where = f"framework table, row {row + 1}" if row is not None else "framework table"
    return UsageError(f"{where}, column {column!r}: got {value!r}; expected {expected}")


@dataclass(frozen=True, eq=False)
class Meta:
    """A checked framework: indicators and aggregates in an n-level hierarchy.

    Build it with :meth:`Meta.from_frame` (any iMeta-like table). Attributes are plain
    DataFrames indexed by code.

    Attributes
    ----------
    table : DataFrame
        Index ``code``; columns ``level`` (int), ``parent`` (str or None), ``weight``
        (float), ``direction`` (+1/-1 for indicators), ``type`` (``Indicator`` or
        ``Aggregate``), ``name`` and the optional parameter columns (NaN when absent).
    groups : list of str
        Data columns declared as unit groups (``Type == "Group"``).
    denominators : list of str
        Data columns declared as denominators.
    """

    table: pd.DataFrame
    groups: tuple[str, ...] = ()
    denominators: tuple[str, ...] = ()

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_frame(cls, frame: pd.DataFrame | Meta) -> Meta:
        """Parse and check an iMeta-like table.

        Parameters
        ----------
        frame : DataFrame or Meta
            One row per indicator and aggregate (see the module docstring); COINr's
            column names are accepted.

        Returns
        -------
        Meta

        Raises
        ------
        UsageError
            A missing column, an unknown parent, a level that is not one above its
            children's, a non-positive or missing weight, a direction other than +1/-1,
            duplicate codes; the message names the row, column and value.
        """
        if isinstance(frame, Meta):
            return frame
        if not isinstance(frame, pd.DataFrame):
            raise UsageError(f"the framework must be a DataFrame (COINr's iMeta); got "
                             f"{type(frame).__name__}")
        rename = {v: k for k, v in META_COLUMNS.items()}
        df = frame.rename(columns={c: rename.get(c, c) for c in frame.columns}).copy()
        df = df.reset_index(drop=True)
        for col in ("code", "level", "parent"):
            if col not in df.columns:
                raise UsageError(f"the framework table needs a column {col!r} (or COINr's "
                                 f"{META_COLUMNS[col]!r}); columns are {list(frame.columns)}")
        if "type" not in df.columns:
            lv = pd.to_numeric(df["level"], errors="coerce")
            df["type"] = np.where(lv == 1, "Indicator", "Aggregate")
        df["type"] = df["type"].astype(object).where(df["type"].notna(), "Other")
        for i, t in enumerate(df["type"]):
            if t not in _TYPES:
                raise _fail(i, "type", t, "one of " + ", ".join(_TYPES))
        groups = tuple(str(c) for c in df.loc[df["type"] == "Group", "code"])
        denoms = tuple(str(c) for c in df.loc[df["type"] == "Denominator", "code"])
        rows = df["type"].isin(["Indicator", "Aggregate"]).to_numpy()
        pos = np.flatnonzero(rows)
        df = df.loc[rows].copy()
        df["_row"] = pos
        codes = []
        for i, c in zip(pos, df["code"], strict=True):
            if not isinstance(c, str) or not c.strip():
                raise _fail(i, "code", c, "a non-empty code")
            codes.append(c.strip())
        df["code"] = codes
        dup = df["code"][df["code"].duplicated()]
        if len(dup):
            i = int(df.loc[dup.index[0], "_row"])
            raise _fail(i, "code", dup.iloc[0], "a code used once")
        levels = pd.to_numeric(df["level"], errors="coerce")
        for i, raw, lv in zip(df["_row"], df["level"], levels, strict=True):
            if not np.isfinite(lv) or lv < 1 or lv != int(lv):
                raise _fail(i, "level", raw, "an integer >= 1")
        df["level"] = levels.astype(int)
        for i, t, lv in zip(df["_row"], df["type"], df["level"], strict=True):
            if (t == "Indicator") != (lv == 1):
                raise _fail(i, "level", lv, "1 for an Indicator and > 1 for an Aggregate")
        top = int(df["level"].max())
        if top < 2:
            raise UsageError("the framework needs at least one aggregate above the indicators "
                             "(level 2 or more)")
        level_of = dict(zip(df["code"], df["level"], strict=True))
        parents = []
        for i, code, lv, par in zip(df["_row"], df["code"], df["level"], df["parent"], strict=True):
            missing = par is None or (isinstance(par, float) and np.isnan(par)) or par == ""
            if lv == top:
                if not missing:
                    raise _fail(i, "parent", par, f"empty for {code!r} at the top level {top}")
                parents.append(None)
                continue
            if missing:
                raise _fail(i, "parent", par, f"the code of an aggregate at level {lv + 1}")
            par = str(par).strip()
            if level_of.get(par) != lv + 1:
                valid = sorted(c for c, v in level_of.items() if v == lv + 1)
                raise _fail(i, "parent", par, f"one of {', '.join(valid)} (level {lv + 1})")
            parents.append(par)
        df["parent"] = pd.Series(parents, index=df.index, dtype=object)
        if (df["level"] == top).sum() != 1:
            raise UsageError(f"the framework needs exactly one code at the top level {top}; "
                             f"found {list(df.loc[df['level'] == top, 'code'])}")
        childless = set(df.loc[df["level"] > 1, "code"]) - set(df["parent"].dropna())
        if childless:
            raise UsageError(f"aggregate(s) without children: {sorted(childless)}")
        if "weight" not in df.columns:
            df["weight"] = 1.0
        w = pd.to_numeric(df["weight"], errors="coerce")
        for i, raw, v in zip(df["_row"], df["weight"], w, strict=True):
            if not np.isfinite(v) or v < 0:
                raise _fail(i, "weight", raw, "a number >= 0")
        df["weight"] = w.astype(float)
        if "direction" not in df.columns:
            df["direction"] = 1
        d = pd.to_numeric(df["direction"], errors="coerce")
        ind = (df["type"] == "Indicator").to_numpy()
        for i, raw, v, is_ind in zip(df["_row"], df["direction"], d, ind, strict=True):
            if is_ind and v not in (1, -1):
                raise _fail(i, "direction", raw, "+1 (higher is better) or -1")
        df["direction"] = np.where(ind, d.fillna(1), 1).astype(int)
        if "name" not in df.columns:
            df["name"] = df["code"]
        df["name"] = df["name"].where(df["name"].notna(), df["code"]).astype(str)
        for col in ("target", "goalpost_lower", "goalpost_upper", "goalpost_scale"):
            df[col] = pd.to_numeric(df[col], errors="coerce") if col in df.columns else np.nan
        if "goalpost_trunc" not in df.columns:
            df["goalpost_trunc"] = True
        if "denominator" not in df.columns:
            df["denominator"] = None
        df["denominator"] = df["denominator"].astype(object).where(df["denominator"].notna(), None)
        keep = ["code", "level", "parent", "weight", "direction", "type", "name", "target",
                "denominator", "goalpost_lower", "goalpost_upper", "goalpost_scale",
                "goalpost_trunc"]
        extra = [c for c in df.columns if c not in keep and c != "_row"]
        table = df[keep + extra].set_index("code")
        return cls(table=table, groups=groups, denominators=denoms)

    # ------------------------------------------------------------------ queries

    @property
    def n_levels(self) -> int:
        """Number of levels (indicators are level 1, the index is the top)."""
        return int(self.table["level"].max())

    @cached_property
    def indicators(self) -> list[str]:
        """Indicator codes in table order."""
        return list(self.table.index[self.table["level"] == 1])

    def codes(self, level: int) -> list[str]:
        """Codes of one level, in table order."""
        return list(self.table.index[self.table["level"] == level])

    @property
    def index_code(self) -> str:
        """The code at the top level (the index)."""
        return self.codes(self.n_levels)[0]

    def children(self, code: str) -> list[str]:
        """Codes whose parent is ``code``, in table order."""
        return list(self.table.index[(self.table["parent"] == code).to_numpy(dtype=bool)])

    @cached_property
    def lineage(self) -> pd.DataFrame:
        """One row per indicator: its ancestor at every level (columns ``1`` .. ``n``)."""
        rows = {}
        par = self.table["parent"]
        for code in self.indicators:
            chain, c = [code], code
            while isinstance(par[c], str):
                c = par[c]
                chain.append(c)
            rows[code] = chain
        return pd.DataFrame.from_dict(rows, orient="index",
                                      columns=list(range(1, self.n_levels + 1)))

    def membership(self, level: int) -> np.ndarray:
        """0/1 matrix (codes at ``level - 1`` x codes at ``level``): child -> parent."""
        kids, pars = self.codes(level - 1), self.codes(level)
        pos = {c: j for j, c in enumerate(pars)}
        g = np.zeros((len(kids), len(pars)))
        for i, k in enumerate(kids):
            g[i, pos[self.table.at[k, "parent"]]] = 1.0
        return g

    def weights(self) -> pd.Series:
        """Nominal weight of every code."""
        return self.table["weight"].copy()

    def effective_weights(self) -> pd.Series:
        """Each code's share of the index (COINr's ``get_eff_weights``).

        Weights are normalised among siblings and multiplied down the tree.
        """
        t = self.table
        eff = pd.Series(1.0, index=t.index)
        for lv in range(self.n_levels - 1, 0, -1):
            for code in self.codes(lv):
                sib = self.children(t.at[code, "parent"])
                tot = t.loc[sib, "weight"].sum()
                share = t.at[code, "weight"] / tot if tot > 0 else np.nan
                eff[code] = share * eff[t.at[code, "parent"]]
        return eff

    def with_weights(self, weights) -> Meta:
        """Return a copy with some weights replaced (mapping code -> weight)."""
        t = self.table.copy()
        for code, w in dict(weights).items():
            if code not in t.index:
                raise UsageError(f"unknown code {code!r} in weights; codes: {', '.join(t.index)}")
            if not np.isfinite(float(w)) or float(w) < 0:
                raise UsageError(f"weight of {code!r} must be a number >= 0; got {w!r}")
            t.at[code, "weight"] = float(w)
        return Meta(table=t, groups=self.groups, denominators=self.denominators)

    def without(self, indicators) -> Meta:
        """Return a copy without some indicators (and aggregates left without children)."""
        drop = set(indicators)
        t = self.table[~self.table.index.isin(drop)]
        for lv in range(2, self.n_levels + 1):
            has = set(t.loc[t["level"] == lv - 1, "parent"])
            t = t[(t["level"] != lv) | t.index.isin(has) | (t["level"] == self.n_levels)]
        return Meta(table=t.copy(), groups=self.groups, denominators=self.denominators)
