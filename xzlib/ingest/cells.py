"""Raw cells -> text: kinds of cells, whitespace and full-width forms, blanks, totals,
labels and yes/no.

:func:`prep` turns a column of raw cells into ``(text, kinds)`` once; every other parser
(:mod:`.numbers`, :mod:`.dates`, :mod:`.names`) works from that.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pandas as pd

from .. import schemas

__all__ = [
    "BLANK", "TEXT", "NUMBER", "DATE", "BOOL",
    "clean_key", "is_blank", "total_marker", "prep", "parse_text", "parse_labels",
    "parse_bools", "LABEL_ALIASES",
]

_SPACE_CHARS = "\u3000\u00a0\ufeff\u200b"
# literal characters, no \\s: pandas then runs it in pyarrow (RE2) instead of Python's re
_SPACE_RE = re.compile("[ \t\r\n\x0b\x0c" + _SPACE_CHARS + "]+")
_STRIP = " \t\r\n\x0b\x0c" + _SPACE_CHARS


def clean_key(text: object) -> str:
    """Return ``text`` reduced for matching: NFKC, no whitespace, lower case.

    >>> clean_key(" 政府资金（万元）　")
    '政府资金(万元)'
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    return _SPACE_RE.sub("", s).lower()


# --------------------------------------------------------------------------- blanks, totals

_BLANK_WORDS = {"", "-", "--", "—", "——", "/", "\\", "－", "–"}
_TOTAL_RE = re.compile(r"^(合计|小计|总计|总合计|累计|合计数)(:|：)?$")


def is_blank(s: pd.Series) -> pd.Series:
    """Return True where a raw cell is empty (None, NaN or only whitespace)."""
    return pd.Series(prep(s)[1] == BLANK, index=s.index)


def _dashes(s: pd.Series) -> pd.Series:
    """True where a cell holds only a dash or slash (a clerk's 'none')."""
    return _text(s).isin(_BLANK_WORDS - {""}).fillna(False).astype(bool)


def total_marker(s: pd.Series, text: pd.Series | None = None) -> pd.Series:
    """Return 'total' / 'subtotal' / None per cell for 合计 / 小计 rows.

    >>> total_marker(pd.Series(["合 计", "小计：", "紫荆社区"])).tolist()
    ['total', 'subtotal', None]
    """
    t = _text(s) if text is None else text
    out = np.full(len(s), None, dtype=object)
    cand = t.str.contains("计", regex=False, na=False).to_numpy(dtype=bool)
    if not cand.any():
        return pd.Series(out, index=s.index, dtype=object)
    t = t[cand].str.replace(_SPACE_RE.pattern, "", regex=True)
    hit = t.str.fullmatch(_TOTAL_RE.pattern, na=False).astype(bool)
    h = np.flatnonzero(cand)[hit.to_numpy()]
    out[h] = np.where(t[hit].str.startswith("小计").to_numpy(), "subtotal", "total")
    return pd.Series(out, index=s.index, dtype=object)


# --------------------------------------------------------------------------- text helpers

#: Kinds of raw cells (see :func:`prep`).
BLANK, TEXT, NUMBER, DATE, BOOL = 0, 1, 2, 3, 4


def _fmt_number(v) -> str:
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


def _cell_kind(v) -> tuple[int, str | None]:
    if v is None:
        return BLANK, None
    if isinstance(v, str):
        return (TEXT, v) if v.strip(_STRIP) else (BLANK, None)
    if isinstance(v, bool):
        return BOOL, "是" if v else "否"
    if isinstance(v, float):
        if v != v:
            return BLANK, None
        return NUMBER, _fmt_number(v)
    if isinstance(v, int):
        return NUMBER, str(v)
    if isinstance(v, dt.datetime):
        return DATE, v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return DATE, v.isoformat()
    if v is pd.NA or v is pd.NaT:
        return BLANK, None
    return TEXT, str(v)


def _non_ascii(t: pd.Series) -> pd.Series:
    """Which strings have a character outside ASCII (missing values: no)."""
    if hasattr(t.str, "isascii"):  # pandas 3
        return ~t.str.isascii().fillna(True).astype(bool)
    return t.str.contains(r"[^\x00-\x7f]", regex=True, na=False).astype(bool)


def _normalise_text(t: pd.Series) -> pd.Series:
    t = t.str.strip()
    nonascii = _non_ascii(t)
    if not nonascii.any():
        return t
    # NFKC once per distinct value (Chinese columns repeat a lot)
    codes, uniq = pd.factorize(t)
    if len(uniq) <= max(1000, len(t) // 4):
        norm = [unicodedata.normalize("NFKC", u).strip(_STRIP) for u in uniq]
        return _expand(norm, codes, t)
    sub = t[nonascii]
    codes, uniq = pd.factorize(sub)
    norm = [unicodedata.normalize("NFKC", u).strip(_STRIP) for u in uniq]
    t = t.copy()
    t[nonascii] = _expand(norm, codes, sub)
    return t


def _expand(values: list[str], codes: np.ndarray, like: pd.Series) -> pd.Series:
    """Return ``values[codes]`` (-1 = NA) as a Series shaped and typed like ``like``."""
    import pyarrow as pa

    arr = pa.array(values, type=pa.large_string()).take(
        pa.array(codes, mask=codes < 0, type=pa.int64()))
    try:
        return pd.Series(pd.array(arr, dtype=like.dtype), index=like.index)
    except (TypeError, ValueError):  # a non-arrow string dtype
        return pd.Series(np.array([*values, None], dtype=object)[codes], index=like.index,
                         dtype=like.dtype)


def prep(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Return ``(text, kinds)`` for raw cells, in one pass.

    ``text`` (``str`` dtype) is each cell as text: NFKC-normalised and stripped for text
    cells, ``12.5``/``3`` for numbers, ISO for dates, NA for blanks.  ``kinds`` is an int8
    array of :data:`BLANK`, :data:`TEXT`, :data:`NUMBER`, :data:`DATE`, :data:`BOOL`.
    Columns that are all text (CSV, or text-only Excel columns) take a vectorised path.
    """
    if s.dtype != object:
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            kinds = np.where(s.isna().to_numpy(), BLANK, NUMBER).astype(np.int8)
            text = s.map(lambda v: None if pd.isna(v) else _fmt_number(v)).astype("str")
            return text, kinds
        t = s.astype("str")
        kinds_is_text = True
    else:
        vals = s.to_numpy(dtype=object)
        inferred = pd.api.types.infer_dtype(vals, skipna=True)
        kinds_is_text = inferred in ("string", "empty")
        if kinds_is_text:
            t = pd.Series(vals, index=s.index, dtype="str")
        else:
            pairs = [_cell_kind(v) for v in vals]
            kinds = np.fromiter((k for k, _ in pairs), dtype=np.int8, count=len(pairs))
            t = pd.Series([x for _, x in pairs], index=s.index, dtype="str")
            is_text = kinds == TEXT
            if is_text.any():
                t = t.copy()
                t[is_text] = _normalise_text(t[is_text])
                kinds[is_text & (t.fillna("").to_numpy() == "")] = BLANK
            t = t.where(kinds != BLANK)
            return t, kinds
    t = _normalise_text(t)
    blank = (t.isna() | (t == "")).to_numpy(dtype=bool, na_value=True)
    kinds = np.where(blank, BLANK, TEXT).astype(np.int8)
    return t.where(~blank), kinds


def _text(s: pd.Series) -> pd.Series:
    """Return the cells as ``str`` dtype (numbers without a trailing ``.0``), NFKC'd."""
    return prep(s)[0]


def parse_text(s: pd.Series, *, nfkc: bool = False, pre: tuple | None = None) -> pd.Series:
    """Return free text with surrounding (also full-width) spaces removed; blanks -> NA.

    With ``nfkc=True`` (identifiers) full-width letters and digits become half-width and
    inner spaces are removed.  Free text keeps its characters (full-width punctuation
    stays) and only loses surrounding whitespace.
    """
    if nfkc:
        t = (pre[0] if pre is not None else _text(s)).str.replace(_SPACE_RE.pattern, "", regex=True)
    else:
        vals = s if s.dtype != object else s.map(
            lambda v: v if isinstance(v, str) else None if _cell_kind(v)[0] == BLANK
            else _cell_kind(v)[1])
        t = vals.astype("str").str.strip(_STRIP)
    return t.where(t != "").astype("string")


# --------------------------------------------------------------------------- labels, booleans

_BOOL = {"是": True, "否": False, "有": True, "无": False, "y": True, "n": False, "yes": True,
         "no": False, "true": True, "false": False, "1": True, "0": False, "√": True,
         "✓": True, "✔": True, "×": False, "✗": False, "已设": True, "未设": False,
         "已建": True, "未建": False, "对": True}


def _take_cat(values: list, inv: np.ndarray, index) -> pd.Series:
    """Expand per-unique ``values`` (None = missing) to rows ``inv`` as a categorical."""
    vals = pd.Series(values, dtype=object)
    ucodes, ucats = pd.factorize(vals, use_na_sentinel=True)
    ucodes = np.append(ucodes, -1)  # inv == len(values) means "no value"
    codes = ucodes[inv] if len(inv) else np.array([], dtype=np.int64)
    cats = pd.Index(list(ucats), dtype=object)
    return pd.Series(pd.Categorical.from_codes(codes, cats), index=index)


def _lookup(s: pd.Series, table: dict[str, object], pre: tuple | None = None
            ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Map cells through ``table`` (keys are clean_key'd); return value, blank, bad."""
    text, kinds = pre if pre is not None else prep(s)
    blank = pd.Series(kinds == BLANK, index=s.index) | text.isin(_BLANK_WORDS - {""}).fillna(False)
    cat = pd.Categorical(text.where(~blank))
    mapped = [table.get(clean_key(c)) for c in cat.categories]
    codes = np.where(cat.codes < 0, len(mapped), cat.codes)
    value = _take_cat(mapped, codes, s.index)
    bad = ~blank & value.isna()
    return value, blank.astype(bool), bad.astype(bool)


def parse_labels(s: pd.Series, column: schemas.Column, pre: tuple | None = None
                 ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Map Chinese labels (or codes) of a coded column to codes.

    Returns ``(codes, blank, bad)``; matching ignores spaces, full-width forms and case.

    >>> from xzlib.schemas import get_schema
    >>> codes = parse_labels(pd.Series([" 已办结", "open", "x"]), get_schema("grid_cases").column("status"))[0]
    >>> codes.astype("string").tolist()
    ['resolved', 'open', <NA>]
    """
    table = {clean_key(v): v for v in (column.allowed or ())}
    table.update({clean_key(a): code for a, code in LABEL_ALIASES.get(column.name, {}).items()})
    table.update({clean_key(lab): code for code, lab in column.label_map.items()})
    return _lookup(s, table, pre)


#: Other words clerks use for the coded values (besides the template's labels and the
#: codes themselves); unambiguous synonyms only.
LABEL_ALIASES: dict[str, dict[str, str]] = {
    "funding_level": {"街道级": "street", "街道": "street", "镇街": "street", "区": "district"},
    "programme": {"社会建设创新": "innovation", "社会建设创新专项资金": "innovation",
                  "创新项目": "innovation", "微公益": "micro_charity",
                  "微公益创投项目": "micro_charity", "议事协商": "deliberation_fund",
                  "议事协商资金": "deliberation_fund"},
    "status": {"办结": "resolved", "已结案": "resolved", "结案": "resolved", "已完成": "resolved",
               "处理中": "open", "在办": "open", "未办结": "open"},
}


def parse_bools(s: pd.Series, pre: tuple | None = None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Map 是/否 (and 有/无, Y/N, TRUE/FALSE, 1/0, √/×) to booleans.

    Returns ``(values as boolean dtype, blank, bad)``.
    """
    value, blank, bad = _lookup(s, _BOOL, pre)
    return value.astype("boolean"), blank, bad

