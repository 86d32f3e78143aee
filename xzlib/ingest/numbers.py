"""Numbers: every numeric cell through one reader (see :func:`parse_numbers`).

Only two outcomes: the value read exactly (a qualifier such as 约/多/余/超过/近 kept
beside it, a unit in the cell converted with exact decimals), or a reason the cell is
rejected.  Chinese numerals are read on cn2an's strict grammar (:func:`cn_integer`), with
this project's layer for 两/兩, 〇, 廿, colloquial abbreviations (两千五 = 2500) and mixed
forms (100万三千); anything else is rejected, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import numpy as np
import pandas as pd

from .cells import _BLANK_WORDS, _SPACE_RE, BLANK, BOOL, DATE, NUMBER, prep
from .headers import _ALL_UNITS, QUALIFIERS

__all__ = ["NumberText", "NumberResult", "cn_integer", "parse_number_text", "parse_numbers"]

# --------------------------------------------------------------------------- numbers

#: Characters of a Chinese numeral (小写, 大写, traditional forms, 廿/卅), mapped first.
_CN_MAP = str.maketrans({"两": "二", "兩": "二", "〇": "零", "○": "零", "萬": "万", "億": "亿",
                         "貳": "二", "參": "三", "陸": "六", "弍": "二",
                         **dict(zip("壹贰叁肆伍陆柒捌玖拾佰仟", "一二三四五六七八九十百千",
                                    strict=True))})
_CN_DIGIT = "零一二三四五六七八九壹贰叁肆伍陆柒捌玖"
_CN_UNIT = "十百千万亿拾佰仟"
_CN_CHARS = _CN_DIGIT + _CN_UNIT + "两兩〇○萬億貳參陸弍廿卅点"
#: Colloquial abbreviation: 两千五 = 两千五百 (the unit after the last digit is left out).
_COLLOQUIAL = re.compile(rf"(.+[千百万亿仟佰])([{_CN_DIGIT[1:]}])")
_NEXT_UNIT = {"千": "百", "百": "十", "万": "千", "亿": "千万", "仟": "佰", "佰": "拾"}
# forms cn2an's own writer emits or a clerk types that its strict grammar lacks (the
# normalisations of cn2an's normal mode, applied without that mode's digit-string and
# "speaking" fallbacks, which accept 三千三千三 as 6300)
_FILL = ((re.compile(r"(万)零(?=[一二三四五六七八九][千])"), r"\1"),
         (re.compile(r"([万亿])([一二三四五六七八九][十百])"), r"\1零\2"),
         (re.compile(r"([千])([一二三四五六七八九]?[十])"), r"\1零\2"),
         (re.compile(r"([百])([十])"), r"\1一\2"),
         (re.compile(r"零十"), "零一十"))
_ARABIC = r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|[+-]?\.[0-9]+"
_ARABIC_MULT = re.compile(rf"(?P<n>{_ARABIC})(?P<m>(?:[十百千])?(?:万亿|万|亿)?)")
_MULT_VALUE = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}
_DEC_DIGITS = {c: str(i % 10) for i, c in enumerate("零一二三四五六七八九")}


def _strict(text: str) -> int | None:
    """cn2an's strict grammar (小写 and 大写); None if ``text`` is not such a numeral."""
    import cn2an

    try:
        v = cn2an.cn2an(text, "strict")
    except Exception:  # noqa: BLE001 - cn2an raises ValueError, or KeyError on some input
        return None
    return int(v) if isinstance(v, int) or float(v).is_integer() else None


@lru_cache(maxsize=16384)
def cn_integer(text: str) -> int | None:
    """Read a Chinese integer numeral exactly; ``None`` if it is not one.

    The core is cn2an's strict grammar (``一百零五``, ``壹仟贰佰``, ``十二``); around it:
    两/兩, 〇, 廿/卅 and traditional forms, the colloquial abbreviation (``两千五`` =
    2500, ``三万五`` = 35000, ``一百二`` = 120) and the shortened forms ``一百十一``,
    ``一千一十``, ``十万零一千``.  A digit string (``一二三``) and malformed strings
    (``十一十二``, ``三千三千三``) are not numerals.

    >>> cn_integer("两千五"), cn_integer("一千零十"), cn_integer("十一十二")
    (2500, 1010, None)
    """
    s = text.translate(_CN_MAP).replace("廿", "二十").replace("卅", "三十")
    if not s or any(ch not in _CN_DIGIT + _CN_UNIT for ch in s):
        return None
    if not any(ch in _CN_UNIT for ch in s):
        # a digit string is read digit by digit only when it holds a 零/〇 (二〇一八,
        # 一〇〇); 一二三 or 三四 (a range: 三四个) is not a number
        if len(s) == 1:
            return _strict(s)
        if "零" in s and s[0] != "零" and all(ch in _DEC_DIGITS for ch in s):
            return int("".join(_DEC_DIGITS[ch] for ch in s))
        return None
    filled = s  # the fills only touch forms outside the strict grammar
    for pat, rep in _FILL:
        filled = pat.sub(rep, filled)
    v = _strict(filled)
    if v is not None:
        return v
    m = _COLLOQUIAL.fullmatch(s)
    if m:
        longer = m.group(1) + m.group(2) + _NEXT_UNIT[m.group(1)[-1]]
        v = _strict(longer)
        if v is None:
            for pat, rep in _FILL:
                longer = pat.sub(rep, longer)
            v = _strict(longer)
        return v
    return None


def _cn_decimal(text: str) -> Decimal | None:
    """A Chinese numeral with an optional 点 part (``三点五``), exactly."""
    if "点" not in text:
        n = cn_integer(text)
        return None if n is None else Decimal(n)
    head, _, tail = text.partition("点")
    tail = tail.translate(_CN_MAP)
    if not head or not tail or any(ch not in _DEC_DIGITS for ch in tail):
        return None
    n = cn_integer(head)
    return None if n is None else Decimal(f"{n}.{''.join(_DEC_DIGITS[c] for c in tail)}")


def _core_value(core: str) -> tuple[Decimal | None, bool, str]:
    """Return ``(value, multiplied, error)`` of a number without qualifier or unit.

    Arabic (``3,000``, ``1.2万``, ``0.5亿``), Chinese (any form of :func:`cn_integer`, with
    ``点`` decimals) or mixed (``100万三千``, ``1万600``).  ``multiplied`` is True when a
    万/亿 (or a 千/百 after Arabic digits) multiplies the number.
    """
    m = _ARABIC_MULT.fullmatch(core)
    if m:
        value = Decimal(m.group("n").replace(",", ""))
        mult = m.group("m")
        for ch in mult:
            value *= _MULT_VALUE[ch]
        return value, bool(mult), ""
    if re.fullmatch(r"[+-]?[0-9,]+(\.[0-9]+)?", core):
        return None, False, "separator"
    if re.search(r"[0-9]", core):  # mixed: Arabic integer runs written out in Chinese
        if re.search(r"[0-9][.,]|[.,][0-9]", core) or not re.search(f"[{_CN_CHARS}]", core):
            return None, False, "not_number"
        import cn2an

        core = re.sub(r"[0-9]+", lambda g: "".join("零一二三四五六七八九"[int(d)] for d in g.group())
                      if len(g.group()) > 1 and g.group()[0] == "0"  # 1百01 = 一百零一
                      else cn2an.an2cn(g.group()), core)
    sign = 1
    if core[:1] in ("负", "-"):
        sign, core = -1, core[1:]
    if not core or any(ch not in _CN_CHARS for ch in core):
        return None, False, "not_number"
    factor, multiplied = 1, bool(re.search("[万亿萬億]", core))
    m = re.fullmatch(r"(.+点[^万亿萬億]+)(万亿|万|亿|萬|億)", core)  # 二点五万
    if m:
        core, factor = m.group(1), 10**12 if len(m.group(2)) == 2 else 10**8 if m.group(2) in "亿億" else 10**4
    value = _cn_decimal(core)
    if value is not None:
        value *= factor * sign
    if value is None:
        return None, False, "not_number"
    return value, multiplied, ""


_QUAL_PRE = "|".join(sorted((q for q in QUALIFIERS if q not in ("多", "余", "以上", "左右",
                                                                 "上下", "以下", "来")),
                            key=len, reverse=True))
_QUAL_POST = "多|余|以上|左右|上下|以下|来"
_UNIT_ALT = "|".join(sorted((re.escape(u) for u in _ALL_UNITS if u), key=len, reverse=True))
_NUM_RE = re.compile(
    rf"^(?P<pre>{_QUAL_PRE})?"
    rf"(?P<num>[+\-负]?[0-9.,{_CN_CHARS}]+)"
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
    >>> parse_number_text("两千五").value, parse_number_text("十一十二").error
    (Decimal('2500'), 'not_number')
    """
    t = _SPACE_RE.sub("", unicodedata.normalize("NFKC", text))
    t = t.replace("，", ",").replace("。", ".")
    m = _NUM_RE.match(t)
    if not m:
        if re.fullmatch(r"[+-]?[\d,]+(\.\d+)?", t):
            return NumberText(None, error="separator")
        return NumberText(None, error="not_number")
    value, multiplied, error = _core_value(m.group("num"))
    if value is None:
        return NumberText(None, error=error)
    mult = m.group("mult")
    if mult:
        value *= _MULT[mult]
        multiplied = True
    words = [w for w in (m.group("pre"), m.group("q1"), m.group("q2"), m.group("post")) if w]
    quals = {QUALIFIERS[w] for w in words}
    if len(quals) > 1 and quals != {"about", "at_least"}:
        return NumberText(None, error="not_number")
    qualifier = None
    if quals:
        qualifier = "about" if "about" in quals else quals.pop()
    return NumberText(value, qualifier, "/".join(words), m.group("unit"), multiplied)


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
        plain = text.str.fullmatch(_PLAIN_NUM, na=False).astype(bool)
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

