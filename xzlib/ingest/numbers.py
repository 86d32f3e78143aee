"""Numbers: every numeric cell through one reader (see :func:`parse_numbers`)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import numpy as np
import pandas as pd

from .cells import _BLANK_WORDS, _SPACE_RE, BLANK, BOOL, DATE, NUMBER, prep
from .headers import _ALL_UNITS, QUALIFIERS

__all__ = ["NumberText", "NumberResult", "parse_number_text", "parse_numbers"]

# --------------------------------------------------------------------------- numbers

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}


def _cn_int(text: str) -> int | None:
    """Parse a Chinese numeral (一百零五, 三千二百, 两万, 十二); None if not one."""
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS and ch not in _CN_BIG
                       for ch in text):
        return None
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            if digit:  # two digits in a row (一二) is not a numeral; 一百零五 is
                return None
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        else:
            section += digit or 0
            if section == 0:
                return None
            total += section * _CN_BIG[ch]
            section, digit = 0, None
    section += digit or 0
    return total + section


_QUAL_PRE = "|".join(sorted((q for q in QUALIFIERS if q not in ("多", "余", "以上", "左右",
                                                                 "上下", "以下", "来")),
                            key=len, reverse=True))
_QUAL_POST = "多|余|以上|左右|上下|以下|来"
_UNIT_ALT = "|".join(sorted((re.escape(u) for u in _ALL_UNITS if u), key=len, reverse=True))
_NUM_RE = re.compile(
    rf"^(?P<pre>{_QUAL_PRE})?"
    r"(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+|[零〇一二两三四五六七八九十百千]+)"
    rf"(?P<q1>多|余|来)?(?P<mult>万|亿|千|百)?(?P<q2>多|余)?"
    rf"(?P<unit>{_UNIT_ALT})?(?P<post>{_QUAL_POST})?$"
)
_MULT = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "千": Decimal(1000),
         "百": Decimal(100)}


@dataclass(frozen=True)
class NumberText:
    """One text cell read as a number (see :func:`parse_number_text`)."""

    value: Decimal | None
    qualifier: str | None = None
    marker: str = ""
    unit: str | None = None
    multiplied: bool = False
    error: str = ""


@lru_cache(maxsize=65536)
def parse_number_text(text: str) -> NumberText:
    """Parse one cell of text as a number.

    Returns the exact decimal value (multiplier applied, unit NOT applied), the canonical
    qualifier and the qualifier word(s) as written, the unit written in the cell, and an
    error code (``"not_number"``, ``"separator"``) when it cannot be read.

    >>> r = parse_number_text("约3,000余人次"); (r.value, r.qualifier, r.marker, r.unit)
    (Decimal('3000'), 'about', '约/余', '人次')
    >>> parse_number_text("1.2万").value
    Decimal('12000.0')
    >>> parse_number_text("１２３").value
    Decimal('123')
    >>> parse_number_text("三千二百").value
    Decimal('3200')
    """
    t = _SPACE_RE.sub("", unicodedata.normalize("NFKC", text))
    t = t.replace("，", ",").replace("。", ".")
    m = _NUM_RE.match(t)
    if not m:
        if re.fullmatch(r"[+-]?[\d,]+(\.\d+)?", t):
            return NumberText(None, error="separator")
        return NumberText(None, error="not_number")
    num = m.group("num")
    if re.fullmatch(r"[零〇一二两三四五六七八九十百千]+", num):
        n = _cn_int(num)
        if n is None:
            return NumberText(None, error="not_number")
        value = Decimal(n)
    else:
        try:
            value = Decimal(num.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the regex admits only numbers
            return NumberText(None, error="not_number")
    mult = m.group("mult")
    if mult:
        value *= _MULT[mult]
    words = [w for w in (m.group("pre"), m.group("q1"), m.group("q2"), m.group("post")) if w]
    quals = {QUALIFIERS[w] for w in words}
    if len(quals) > 1 and quals != {"about", "at_least"}:
        return NumberText(None, error="not_number")
    qualifier = None
    if quals:
        qualifier = "about" if "about" in quals else quals.pop()
    return NumberText(value, qualifier, "/".join(words), m.group("unit"), bool(mult))


@dataclass
class NumberResult:
    """Numbers parsed from one column.

    Attributes
    ----------
    value : Series of float64
        The number in the schema's unit (NaN where blank or unreadable).
    blank : Series of bool
        Empty cells (including a lone dash, see ``dash``).
    bad : Series of bool
        Cells that are not blank and could not be read; ``reason`` says why.
    reason : Series of object
        Short Chinese reason per bad cell.
    qualifier, marker : Series of object
        Canonical qualifier (``about``, ``at_least``, ``at_most``) and the words as
        written, where a cell had one.
    unit : Series of object
        The unit written in a cell (``300000元``), which then overrides the header's.
    dash : Series of bool
        Cells holding only ``-`` / ``—`` / ``/`` (read as empty).
    """

    value: pd.Series
    blank: pd.Series
    bad: pd.Series
    reason: pd.Series
    qualifier: pd.Series
    marker: pd.Series
    dash: pd.Series
    unit: pd.Series


_PLAIN_NUM = r"-?[0-9]+(?:\.[0-9]+)?"


def parse_numbers(s: pd.Series, *, factor: Decimal = Decimal(1), units: dict | None = None,
                  header_unit: str | None = None, integer: bool = False,
                  pre: tuple | None = None) -> NumberResult:
    """Parse a column of numbers as a clerk writes them.

    Parameters
    ----------
    s : Series
        Raw cells: numbers, text, or a mix (Excel).
    factor : Decimal
        Factor from the header's unit into the schema's unit (``元`` -> ``万元``: 0.0001).
    units : dict of str to Decimal, optional
        Units the column accepts in a cell (e.g. ``3000元``), with their factors; a unit in
        a cell overrides the header's.
    header_unit : str, optional
        The unit the header carries; a cell with a 万/亿 multiplier under a header whose
        unit already has one (``1.2万`` under ``金额（万元）``) is ambiguous and rejected.
    integer : bool
        Reject values that are not whole numbers.
    pre : tuple, optional
        ``prep(s)`` if already computed.

    Returns
    -------
    NumberResult
    """
    units = units or {}
    idx = s.index
    value = pd.Series(np.nan, index=idx, dtype="float64")
    reason = pd.Series(None, index=idx, dtype=object)
    qualifier = pd.Series(None, index=idx, dtype=object)
    marker = pd.Series(None, index=idx, dtype=object)
    cell_unit = pd.Series(None, index=idx, dtype=object)
    text_all, kinds = pre if pre is not None else prep(s)
    blank = pd.Series(kinds == BLANK, index=idx)
    dash = text_all.isin(_BLANK_WORDS - {""}).fillna(False).astype(bool) & ~blank
    blank = blank | dash
    todo = ~blank

    isnum = pd.Series(kinds == NUMBER, index=idx)
    if isnum.any():  # Excel numbers arrive as float/int
        nums = pd.to_numeric(s[isnum]).astype("float64")
        if factor == 1:
            value[isnum] = nums
        else:
            value[isnum] = [float(Decimal(repr(float(v))) * factor) for v in nums]
        todo &= ~isnum
    isdate = pd.Series((kinds == DATE) | (kinds == BOOL), index=idx) & todo
    reason[isdate] = "是日期，不是数字 (a date, not a number)"
    todo &= ~isdate
    if todo.any():
        text = text_all[todo]
        plain = text.str.fullmatch(_PLAIN_NUM).fillna(False).astype(bool)
        if plain.any():
            rows = text.index[plain.to_numpy()]
            if factor == 1:
                value[rows] = text[plain].astype("float64").to_numpy()
            else:
                value[rows] = [float(Decimal(t) * factor) for t in text[plain]]
        rest = text[~plain.to_numpy()]
        if len(rest):
            uniq = pd.unique(rest.to_numpy())
            parsed = {}
            for u in uniq:
                r = parse_number_text(u)
                if r.value is None:
                    why = ("千分位写法不对 (bad thousands separator)" if r.error == "separator"
                           else "不是数字 (not a number)")
                    parsed[u] = (np.nan, why, None, None, None)
                    continue
                f = factor
                if r.unit is not None:
                    if r.unit not in units:
                        accepted = "、".join(units) or "不带单位"
                        parsed[u] = (np.nan, f"单位「{r.unit}」不适用，应为 {accepted} "
                                             "(wrong unit)", None, None, None)
                        continue
                    f = units[r.unit]
                elif r.multiplied and header_unit and header_unit[:1] in ("万", "亿", "千", "百"):
                    parsed[u] = (np.nan, f"「万/亿」与表头单位「{header_unit}」重复，含义不明 "
                                         "(ambiguous multiplier)", None, None, None)
                    continue
                parsed[u] = (float(r.value * f), None, r.qualifier, r.marker or None, r.unit)
            got = rest.map(lambda t: parsed[t])
            value[rest.index] = [g[0] for g in got]
            reason[rest.index] = [g[1] for g in got]
            qualifier[rest.index] = [g[2] for g in got]
            marker[rest.index] = [g[3] for g in got]
            cell_unit[rest.index] = [g[4] for g in got]
    ok = value.notna()
    bad = ~blank & ~ok
    reason[bad & reason.isna()] = "不是数字 (not a number)"
    inf = ok & ~np.isfinite(value.fillna(0))
    if inf.any():
        bad |= inf
        reason[inf] = "不是有限的数字 (not finite)"
        value[inf] = np.nan
    if integer:
        frac = ok & ~bad & (value % 1 != 0)
        if frac.any():
            bad |= frac
            reason[frac] = "应为整数 (must be a whole number)"
            value[frac] = np.nan
    return NumberResult(value, blank, bad.astype(bool), reason, qualifier, marker, dash, cell_unit)

