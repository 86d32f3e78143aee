"""Names -> codes: communities and streets, for the year of each row."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ..roster import divisions as _divisions
from ..roster import normalize_name, valid_in
from .cells import _BLANK_WORDS, BLANK, _take_cat, clean_key, prep

__all__ = ["NameResult", "resolve_names", "resolve_street", "community_parents", "streets_in_name"]

# --------------------------------------------------------------------------- names


@dataclass
class NameResult:
    """Names resolved to codes (see :func:`resolve_names`).

    ``code`` is the code (or NA), ``blank``/``bad`` as elsewhere, ``alias`` True where the
    name matched only after removing a suffix or is not the official name, ``official`` the
    official name matched, ``reason``/``suggestion`` explain each bad cell.
    """

    code: pd.Series
    blank: pd.Series
    bad: pd.Series
    alias: pd.Series
    official: pd.Series
    reason: pd.Series
    suggestion: pd.Series


@lru_cache(maxsize=64)
def _community_lookup(year: int) -> tuple[dict, dict, dict, dict]:
    df = valid_in(_divisions(level="community"), year)
    by_norm = {normalize_name(n): c for n, c in zip(df["name"], df["code"], strict=True)}
    by_exact = {clean_key(n): c for n, c in zip(df["name"], df["code"], strict=True)}
    names = dict(zip(df["code"], df["name"], strict=True))
    parents = dict(zip(df["code"], df["parent_code"], strict=True))
    return by_norm, by_exact, names, parents


def community_parents(year: int) -> dict[str, str]:
    """Return ``{community code: street code}`` valid at the end of ``year``."""
    return _community_lookup(int(year))[3]


def _all_names(level: str) -> dict[str, list[tuple[str, object, object]]]:
    df = _divisions(level=level)
    out: dict[str, list] = {}
    for n, c, f, t in zip(df["name"], df["code"], df["valid_from"], df["valid_to"], strict=True):
        out.setdefault(normalize_name(n), []).append((c, f, t))
    return out


def _resolve_one(name: str, year: int, street: str | None) -> tuple:
    by_norm, by_exact, names, parents = _community_lookup(year)
    key = clean_key(name)
    if re.fullmatch(r"440402\d{6}", key):
        if key in names:
            return key, False, names[key], None, None
        return None, False, None, f"社区代码在 {year} 年不存在 (unknown code)", \
            "用 `xz list --year` 查看当年的社区"
    if key in by_exact:
        code = by_exact[key]
        return code, False, names[code], None, None
    norm = normalize_name(key)
    if norm in by_norm:
        code = by_norm[norm]
        return code, True, names[code], None, None
    hist = _all_names("community").get(norm)
    if hist:
        return None, False, None, f"该社区在 {year} 年不存在 (not a community in {year})", \
            "核对年份或社区名称"
    pool = [n for c, n in names.items() if street is None or parents[c] == street] or list(
        names.values())
    close = difflib.get_close_matches(name.strip(), pool, n=3, cutoff=0.3)
    hint = ("是否为: " + "、".join(close)) if close else "填写社区全称，如「紫荆社区」"
    return None, False, None, f"找不到该社区 (unknown community in {year})", hint


def resolve_names(names: pd.Series, years: pd.Series, streets: pd.Series | None = None,
                  pre: tuple | None = None) -> NameResult:
    """Resolve community names (or 12-digit codes) to codes valid in each row's year.

    Matching ignores spaces, full-width forms and the suffixes 社区 / 社区居委会 /
    居委会; a name that matched only that way is flagged in ``alias``.

    Parameters
    ----------
    names : Series
        Raw cells.
    years : Series of Int64
        Year of each row (rows without a year are not resolved and not flagged).
    streets : Series, optional
        Street code of each row, used to suggest names of that street.
    """
    idx = names.index
    text, kinds = pre if pre is not None else prep(names)
    blank = pd.Series(kinds == BLANK, index=idx) | text.isin(_BLANK_WORDS - {""}).fillna(False)
    text = text.where(~blank)
    yrs = pd.array(years, dtype="Int64")
    cat = pd.Categorical(text)
    st = (pd.Categorical(pd.Series(streets, index=idx).astype("str")) if streets is not None
          else pd.Categorical([""] * len(idx)))
    y = np.asarray(yrs.fillna(-1), dtype=np.int64)
    nst = len(st.categories) + 1
    combo = ((cat.codes.astype(np.int64) + 1) * 4000 + (y + 1)) * nst + (st.codes.astype(np.int64) + 1)
    uniq, inv = np.unique(combo, return_inverse=True)
    res = []
    for u in uniq:
        sc = int(u % nst) - 1
        yr = int((u // nst) % 4000) - 1
        c = int(u // nst // 4000) - 1
        if c < 0 or yr < 0:
            res.append((None, False, None, None, None))
            continue
        street = str(st.categories[sc]) if streets is not None and sc >= 0 else None
        res.append(_resolve_one(str(cat.categories[c]), yr, street))
    cols = list(zip(*res, strict=True)) if res else [()] * 5
    inv = np.asarray(inv).reshape(-1)

    def take(k: int) -> pd.Series:
        return _take_cat(list(cols[k]), inv, idx)

    code = take(0)
    alias = pd.Series(np.array([bool(a) for a in cols[1]] + [False], dtype=bool)[inv]
                      if len(idx) else np.array([], dtype=bool), index=idx)
    bad = ~blank & code.isna() & pd.Series(y >= 0, index=idx)
    return NameResult(code, blank.astype(bool), bad.astype(bool), alias, take(2), take(3),
                      take(4))


def resolve_street(value: object) -> tuple[str | None, bool]:
    """Resolve a street written as a 9-digit code or a name (any year) to its code.

    Returns ``(code, alias)``: alias is True when the name matched only without its
    suffix (``翠香`` / ``翠香街道办事处``); ``(None, False)`` if unknown.

    >>> resolve_street(" 翠香街道 ")
    ('440402001', False)
    >>> resolve_street("翠香街道办事处")
    ('440402001', True)
    """
    key = clean_key(value)
    if not key:
        return None, False
    df = _divisions(level="street").drop_duplicates("code")
    if re.fullmatch(r"\d{9}(\.0)?", key):
        key = key[:9]
        return (key, False) if key in set(df["code"]) else (None, False)
    for n, c in zip(df["name"], df["code"], strict=True):
        if clean_key(n) == key:
            return c, False
    norm = normalize_name(key)
    for n, c in zip(df["name"], df["code"], strict=True):
        if normalize_name(n) == norm:
            return c, True
    return None, False



def streets_in_name(text: str) -> list[str]:
    """Return the street codes a file name names: a 9-digit code or a street's full name
    anywhere in it (``附件2：湾仔街道2013-2018年基层治理数据（定稿）``), or a name
    without its suffix before the first ``_``/``-``/space (``翠香_2018``).

    >>> streets_in_name("附件2：湾仔街道2013-2018年基层治理数据（定稿）")
    ['440402008']
    >>> streets_in_name("440402001_翠香街道")
    ['440402001']
    """
    t = unicodedata.normalize("NFKC", text or "")
    df = _divisions(level="street").drop_duplicates("code")
    known = set(df["code"])
    found = [c for c in re.findall(r"(?<![0-9])(440402[0-9]{3})(?![0-9])", t) if c in known]
    key = clean_key(t)
    for n, c in zip(df["name"], df["code"], strict=True):
        if clean_key(n) in key:
            found.append(c)
    first = re.split(r"[_\-\s]", t.strip())[0]
    code, _ = resolve_street(first)
    if code:
        found.append(code)
    return sorted(set(found))
