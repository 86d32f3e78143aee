"""Administrative divisions (streets/towns and communities) with their validity in time.

``data/reference/divisions.csv`` holds one row per division and period: a community that
moved from one street to another (the nine founding communities of 凤山街道, under 前山街道
until 2020-06-21) has one row per parent.  :func:`divisions` returns the structure valid at
the end of a given year, which is what programme data for that year is checked against.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

from . import config
from .errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "divisions", "valid_in", "streets", "street_list", "street_name", "street_of",
    "normalize_name", "name_index",
]

_COLUMNS = {
    "level": "category",
    "code": "string",
    "name": "string",
    "parent_code": "string",
    "valid_from": "datetime64[ns]",
    "valid_to": "datetime64[ns]",
    "code_status": "category",
    "source": "string",
    "note": "string",
}


@lru_cache(maxsize=4)
def _read(path: str, mtime: float) -> pd.DataFrame:
    import pandas as pd

    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    df = df.replace({"": None})
    for col, dtype in _COLUMNS.items():
        df[col] = pd.to_datetime(df[col]) if dtype.startswith("datetime") else df[col].astype(dtype)
    return df


def _all() -> pd.DataFrame:
    path = config.reference_dir() / "divisions.csv"
    return _read(str(path), path.stat().st_mtime).copy()


def valid_in(df: pd.DataFrame, year: int) -> pd.DataFrame:
    """Return the rows of ``df`` valid on 31 December of ``year``."""
    import pandas as pd

    day = pd.Timestamp(year=int(year), month=12, day=31)
    ok = (df["valid_from"].isna() | (df["valid_from"] <= day)) & (
        df["valid_to"].isna() | (df["valid_to"] >= day)
    )
    return df[ok.to_numpy()].reset_index(drop=True)


def divisions(year: int | None = None, *, level: str | None = None) -> pd.DataFrame:
    """Return streets/towns and communities, as valid at the end of ``year``.

    Parameters
    ----------
    year : int, optional
        Calendar year; the structure on 31 December is returned.  ``None`` returns every
        row with its validity period (the history).
    level : {"street", "community"}, optional
        Keep one level only.

    Returns
    -------
    DataFrame
        =============  ==============  =============================================
        column         dtype           meaning
        =============  ==============  =============================================
        level          category        ``street`` or ``community``
        code           string          9-digit street code / 12-digit community code
        name           string          official name (e.g. 翠香街道, 紫荆社区)
        parent_code    string          street of a community (440402 for a street)
        valid_from     datetime64      first day valid (NaT: before the data period)
        valid_to       datetime64      last day valid (NaT: still valid)
        code_status    category        ``official`` or ``provisional``
        source         string          where the row comes from
        note           string          history and caveats
        =============  ==============  =============================================

    Examples
    --------
    >>> import xzlib as xz
    >>> "凤山街道" in set(xz.divisions(2018)["name"])
    False
    """
    df = _all()
    if level is not None:
        if level not in ("street", "community"):
            raise UsageError(f"level must be one of street, community; got {level!r}")
        df = df[df["level"] == level].reset_index(drop=True)
    return df if year is None else valid_in(df, year)


def street_of(community_codes: pd.Series, years: pd.Series) -> pd.Series:
    """Return the street code of each community in the given year (``string``, NA if unknown).

    Parameters
    ----------
    community_codes : Series
        12-digit community codes.
    years : Series
        Calendar year of each row (same index); the street is the community's parent on
        31 December of that year.
    """
    import numpy as np
    import pandas as pd

    hist = divisions(level="community")
    # a table has a few hundred communities and a few years but up to millions of rows:
    # look each (community, year) pair up once, then index the rows into that table
    rows_c, communities = pd.factorize(community_codes.astype("string"))
    rows_y, year_values = pd.factorize(years)
    table = np.full((len(communities) + 1, len(year_values) + 1), None, dtype=object)
    for j, year in enumerate(year_values):  # row/column -1 (a missing code or year) stays NA
        parent = valid_in(hist, int(year)).set_index("code")["parent_code"]
        table[:-1, j] = pd.Series(communities).map(parent).to_numpy(dtype=object, na_value=None)
    return pd.Series(pd.array(table[rows_c, rows_y], dtype="string"),
                     index=community_codes.index)


def street_list(year: int) -> list[tuple[str, str]]:
    """Return ``(code, name)`` of the streets/towns valid at the end of ``year``, by code.

    The one reading of "which streets exist in a year": standard library only, so that
    ``xz build`` can plan without importing pandas; :func:`streets` is built on it.
    """
    path = config.reference_dir() / "divisions.csv"
    day = f"{int(year):04d}-12-31"
    out = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row.get("level") != "street":
                continue
            start, end = (row.get("valid_from") or "")[:10], (row.get("valid_to") or "")[:10]
            if (start and start > day) or (end and end < day):
                continue
            out[row["code"]] = row["name"]
    return sorted(out.items())


def streets(year: int) -> pd.DataFrame:
    """Return ``code`` and ``name`` of the streets/towns valid at the end of ``year``."""
    import pandas as pd

    rows = street_list(year)
    return pd.DataFrame({"code": pd.array([c for c, _ in rows], dtype="string"),
                         "name": pd.array([n for _, n in rows], dtype="string")})


def street_name(code: str) -> str:
    """Return the name of street ``code`` (any year).

    Raises
    ------
    UsageError
        If the code is unknown; the message lists the valid codes and names.
    """
    st = divisions(level="street").drop_duplicates("code")
    hit = st.loc[st["code"] == str(code), "name"]
    if hit.empty:
        valid = ", ".join(f"{c} {n}" for c, n in zip(st["code"], st["name"], strict=True))
        raise UsageError(f"unknown street code {code!r}; valid codes: {valid}")
    return str(hit.iloc[0])


_SUFFIXES = ("社区居民委员会", "社区居委会", "居民委员会", "居委会", "社区", "街道办事处", "街道办", "街道", "镇")


def normalize_name(name: str) -> str:
    """Return a name reduced for matching: NFKC, no spaces, no administrative suffix.

    >>> normalize_name(" 紫荆社区居委会　")
    '紫荆'
    """
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(name)))
    for suffix in _SUFFIXES:
        if s.endswith(suffix) and len(s) > len(suffix):
            return s[: -len(suffix)]
    return s


def name_index(year: int, level: str) -> dict[str, str]:
    """Return ``{normalized name: code}`` for one level valid at the end of ``year``."""
    df = divisions(year, level=level)
    return {normalize_name(n): c for n, c in zip(df["name"], df["code"], strict=True)}
