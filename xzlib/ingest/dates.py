"""Dates: every form a clerk writes (see :func:`parse_dates`)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .cells import _BLANK_WORDS, BLANK, DATE, NUMBER, prep
from .numbers import cn_integer

__all__ = ["DateResult", "parse_dates", "parse_date_text", "batch_period", "too_late", "year_too_late",
           "id_years"]

# --------------------------------------------------------------------------- dates

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_DATE_RE = re.compile(
    r"^(?P<y>\d{4})\s*(?:年|[./\-])\s*(?P<m>\d{1,2})\s*(?:(?:月|[./\-])\s*(?P<d>\d{1,2})\s*[日号]?)?"
    r"\s*(?:月)?"
    r"(?:(?:\s+|T|日)?\s*(?P<H>\d{1,2})\s*[:：时点]\s*(?P<M>\d{1,2})\s*(?:[:：分]\s*(?P<S>\d{1,2}(?:\.\d+)?)\s*秒?)?\s*分?)?$"
)


_CN_RUN = re.compile("[〇○零一二三四五六七八九十廿卅两]+")


def _cn_run(m: re.Match) -> str:
    """A run of Chinese numerals in a date: 二〇一八 (digit by digit), 十一, 廿三."""
    run = m.group()
    if len(run) in (2, 4) and all(ch in "〇○零一二三四五六七八九" for ch in run) \
            and m.string[m.end():m.end() + 1] == "年":
        return "".join(str("〇一二三四五六七八九".find(ch) if ch not in "零○"
                           else 0) for ch in run)
    n = cn_integer(run)
    return "?" if n is None else str(n)


@lru_cache(maxsize=65536)
def parse_date_text(text: str) -> tuple[pd.Timestamp | None, str]:
    """Parse one date cell written as text.

    Returns ``(timestamp, precision)`` with precision ``"day"``, ``"month"`` (``2018年7月``,
    read as the 1st) or ``"time"``; ``(None, reason)`` when unreadable.

    >>> parse_date_text("2018年7月3日")
    (Timestamp('2018-07-03 00:00:00'), 'day')
    >>> parse_date_text("2018.7")[1]
    'month'
    >>> parse_date_text("43284")[0]
    Timestamp('2018-07-03 00:00:00')
    >>> parse_date_text("二〇一七年二月十一日")[0]
    Timestamp('2017-02-11 00:00:00')
    """
    t = unicodedata.normalize("NFKC", text).strip()
    if not t.isascii() and _CN_RUN.search(t):
        t = _CN_RUN.sub(_cn_run, t)
        if "?" in t:
            return None, "无法识别的日期 (unrecognised date)"
    if re.fullmatch(r"\d{8}", t):
        try:
            return pd.Timestamp(dt.date(int(t[:4]), int(t[4:6]), int(t[6:]))), "day"
        except ValueError:
            return None, "日期不存在 (no such date)"
    if re.fullmatch(r"\d{5}(\.\d+)?", t):
        return _serial(float(t))
    m = _DATE_RE.match(t)
    if not m:
        return None, "无法识别的日期 (unrecognised date)"
    y, mo = int(m.group("y")), int(m.group("m"))
    d = int(m.group("d")) if m.group("d") else None
    try:
        if m.group("H") is not None:
            sec = float(m.group("S") or 0)
            ts = pd.Timestamp(dt.datetime(y, mo, d or 1, int(m.group("H")), int(m.group("M")),
                                          int(sec)))
            return ts, "time" if d else "month"
        return pd.Timestamp(dt.date(y, mo, d or 1)), "day" if d else "month"
    except ValueError:
        return None, "日期不存在 (no such date)"


def _number_date(v: float) -> tuple[pd.Timestamp | None, str]:
    """A number in a date column: ``20170211`` (eight digits) or an Excel serial."""
    if v.is_integer() and 10_000_000 <= v <= 99_999_999:
        return parse_date_text(str(int(v)))
    return _serial(v)


def _serial(v: float) -> tuple[pd.Timestamp | None, str]:
    if not 1 <= v < 2_958_466:
        return None, "无法识别的日期 (unrecognised date)"
    ts = (_EXCEL_EPOCH + pd.to_timedelta(v, unit="D")).round("s")
    return ts, "time" if ts != ts.normalize() else "day"


@dataclass
class DateResult:
    """Dates parsed from one column (``value`` is ``datetime64[ns]``; see NumberResult)."""

    value: pd.Series
    blank: pd.Series
    bad: pd.Series
    reason: pd.Series
    month_only: pd.Series
    serial: pd.Series


def parse_dates(s: pd.Series, pre: tuple | None = None) -> DateResult:
    """Parse a column of dates in any of the forms a clerk uses.

    Excel dates and datetimes pass through; numbers (and digit-only text) are Excel serial
    numbers (``43284`` = 2018-07-03), eight digits are ``YYYYMMDD``; text may be ISO
    (``2018-07-03 14:30``), ``2018/07/03``, ``2018.7.3``, ``2018年7月3日`` or
    ``2018年7月`` (month only: read as the 1st, flagged in ``month_only``).  Times are
    rounded to the second.

    Returns
    -------
    DateResult
    """
    idx = s.index
    value = pd.Series(pd.NaT, index=idx, dtype="datetime64[ns]")
    reason = pd.Series(None, index=idx, dtype=object)
    month_only = pd.Series(False, index=idx)
    serial = pd.Series(False, index=idx)
    if pd.api.types.is_datetime64_any_dtype(s):
        value = s.astype("datetime64[ns]").dt.round("s")
        return DateResult(value, s.isna(), pd.Series(False, index=idx), reason, month_only, serial)
    text_all, kinds = pre if pre is not None else prep(s)
    blank = pd.Series(kinds == BLANK, index=idx) | text_all.isin(_BLANK_WORDS - {""}).fillna(False)
    todo = ~blank
    isdt = pd.Series(kinds == DATE, index=idx) & todo
    if isdt.any():
        value[isdt] = pd.to_datetime(s[isdt].map(
            lambda v: v if isinstance(v, dt.datetime) else
            dt.datetime(v.year, v.month, v.day) if isinstance(v, dt.date) else None
        ).tolist()).astype("datetime64[ns]").round("s")
        todo &= ~isdt
    isnum = pd.Series(kinds == NUMBER, index=idx) & todo
    if isnum.any():
        got = [_number_date(float(v)) for v in s[isnum]]
        value[isnum] = pd.to_datetime([g[0] for g in got]).astype("datetime64[ns]")
        reason[isnum] = [None if g[0] is not None else g[1] for g in got]
        serial[isnum] = True
        todo &= ~isnum
    if todo.any():
        text = text_all[todo]
        fast = pd.to_datetime(text, format="ISO8601", errors="coerce")
        ok = fast.notna() & text.str.fullmatch(
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
        ).fillna(False)
        ok = ok.astype(bool)
        if ok.any():
            value[ok[ok].index] = fast[ok].astype("datetime64[ns]").dt.round("s")
        rest = text[~ok.to_numpy()]
        if len(rest):
            parsed = {u: parse_date_text(u) for u in pd.unique(rest.to_numpy())}
            got = [parsed[t] for t in rest]
            value[rest.index] = pd.to_datetime([g[0] for g in got]).astype("datetime64[ns]")
            reason[rest.index] = [None if g[0] is not None else g[1] for g in got]
            month_only[rest.index] = [g[1] == "month" for g in got]
            serial[rest.index] = rest.str.fullmatch(r"[0-9]{5}(\.[0-9]+)?").fillna(False).to_numpy()
    bad = ~blank & value.isna()
    reason[bad & reason.isna()] = "无法识别的日期 (unrecognised date)"
    return DateResult(value, blank.astype(bool), bad.astype(bool), reason, month_only, serial)



def batch_period(*texts: str) -> tuple[int, int] | None:
    """Return the years a batch covers, from its notes (填报批次) or its file name.

    The first text holding a year range (``2013-2018``, ``2013至2018年``) or a single
    year (``2018年度``) decides; ``None`` when none does.

    >>> batch_period("", "附件2：湾仔街道2013-2018年基层治理数据（定稿）")
    (2013, 2018)
    >>> batch_period("2018年度")
    (2018, 2018)
    """
    for text in texts:
        t = unicodedata.normalize("NFKC", text or "")
        m = re.search(r"(?<![0-9])((?:19|20)[0-9]{2})\s*年?\s*(?:-|–|—|~|至|到)\s*((?:19|20)[0-9]{2})"
                      r"(?![0-9])", t)
        if m and int(m.group(1)) <= int(m.group(2)):
            return int(m.group(1)), int(m.group(2))
        years = re.findall(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])", t)
        if len(set(years)) == 1:
            return int(years[0]), int(years[0])
    return None


def too_late(value: pd.Series, period: tuple[int, int] | None,
             today: dt.date | None = None) -> tuple[pd.Series, pd.Series]:
    """Return ``(mask, reason)``: dates after the batch's period or after today."""
    today = today or dt.date.today()
    end_today = pd.Timestamp(today) + pd.Timedelta(days=1)
    reason = pd.Series(None, index=value.index, dtype=object)
    future = (value >= end_today).fillna(False).astype(bool)
    reason[future] = f"晚于今天 {today.isoformat()} (a date in the future)"
    late = future.copy()
    if period is not None:
        after = (value >= pd.Timestamp(period[1] + 1, 1, 1)).fillna(False).astype(bool) & ~future
        reason[after] = f"晚于本批次的填报期 {period[0]}-{period[1]} 年 (after the batch's period)"
        late |= after
    return late, reason


def year_too_late(years: pd.Series, period: tuple[int, int] | None,
                  today: dt.date | None = None) -> tuple[pd.Series, pd.Series]:
    """Return ``(mask, reason)``: years after the batch's period or after this year."""
    today = today or dt.date.today()
    y = pd.to_numeric(years, errors="coerce")
    reason = pd.Series(None, index=years.index, dtype=object)
    future = (y > today.year).fillna(False).astype(bool)
    reason[future] = f"晚于今年 {today.year} (a year in the future)"
    late = future.copy()
    if period is not None:
        after = (y > period[1]).fillna(False).astype(bool) & ~future
        reason[after] = f"晚于本批次的填报期 {period[0]}-{period[1]} 年 (after the batch's period)"
        late |= after
    return late, reason


_ID_YEAR = r"^[A-Za-z]{1,3}[-_]?((?:19|20)[0-9]{2})[-_]"


def id_years(ids: pd.Series) -> pd.Series:
    """Return the year an ID carries (``M2017-00012`` -> 2017) as Int64, else NA."""
    # the year sits in the first 9 characters: match the few distinct prefixes only
    codes, uniq = pd.factorize(ids.astype("str").str.slice(0, 9))
    found = [re.match(_ID_YEAR, u) if isinstance(u, str) else None for u in uniq]
    years = np.array([int(m.group(1)) if m else -1 for m in found] + [-1], dtype=np.int64)
    y = years[codes]
    return pd.Series(pd.arrays.IntegerArray(y, y < 0), index=ids.index)
