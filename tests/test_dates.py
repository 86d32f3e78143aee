"""Dates: every supported form read back exactly (Hypothesis), and the period checks."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xzlib.ingest.dates import batch_period, id_years, parse_date_text, parse_dates, too_late

_D = "〇一二三四五六七八九"


def _small(n: int) -> str:
    """1..31 in Chinese (test-side writer): 三, 十, 十一, 二十, 二十三, 三十一."""
    tens, ones = divmod(n, 10)
    return ("" if tens == 0 else ("十" if tens == 1 else _D[tens] + "十")) + (_D[ones] if ones else "")


def forms(d: dt.date) -> dict[str, object]:
    ts = dt.datetime(d.year, d.month, d.day)
    serial = (ts - dt.datetime(1899, 12, 30)).days
    return {
        "excel date": ts, "serial": float(serial), "serial text": str(serial),
        "iso": d.isoformat(), "slash": f"{d.year}/{d.month:02d}/{d.day:02d}",
        "dots": f"{d.year}.{d.month}.{d.day}", "zh": f"{d.year}年{d.month}月{d.day}日",
        "compact text": d.strftime("%Y%m%d"), "compact number": int(d.strftime("%Y%m%d")),
        "chinese": "".join(_D[int(c)] for c in str(d.year)) + f"年{_small(d.month)}月{_small(d.day)}日",
        "chinese 零 号": "".join("零" if c == "0" else _D[int(c)] for c in str(d.year))
                        + f"年{_small(d.month)}月{_small(d.day)}号",
        "full-width": f"{d.year}年{d.month}月{d.day}日".translate(
            str.maketrans("0123456789", "０１２３４５６７８９")),
    }


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_every_form_reads_back_exactly(d):
    f = forms(d)
    r = parse_dates(pd.Series(list(f.values()), dtype=object))
    assert not r.bad.any(), dict(zip(f, r.reason, strict=True))
    assert (r.value == pd.Timestamp(d)).all(), dict(zip(f, r.value, strict=True))


@settings(max_examples=100, deadline=None)
@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)))
def test_date_and_time_forms(t):
    t = t.replace(microsecond=0)
    texts = [t.strftime("%Y-%m-%d %H:%M:%S"), f"{t.year}年{t.month}月{t.day}日 {t.hour}:{t.minute:02d}:{t.second:02d}",
             f"{t.year}/{t.month}/{t.day} {t.hour}时{t.minute}分{t.second}秒"]
    r = parse_dates(pd.Series([t, *texts], dtype=object))
    assert not r.bad.any(), r.reason.tolist()
    assert (r.value == pd.Timestamp(t)).all()


@pytest.mark.parametrize("text", ["二〇一八年二月三十日", "二〇一八年十三月", "20180230", "十一十二年",
                                  "一八年七月", "2018年7月3日上午九时半"])
def test_impossible_or_malformed_dates_are_rejected(text):
    assert parse_date_text(text)[0] is None


def test_month_only_chinese():
    assert parse_date_text("二零一八年七月") == (pd.Timestamp("2018-07-01"), "month")


def test_batch_period_from_notes_or_file_name():
    assert batch_period("2013-2018年", "x") == (2013, 2018)
    assert batch_period("", "附件2：湾仔街道2013-2018年基层治理数据（定稿）") == (2013, 2018)
    assert batch_period("2018年度") == (2018, 2018)
    assert batch_period("sample", "440402001_翠香街道") is None


def test_too_late_after_period_and_after_today():
    v = pd.Series(pd.to_datetime(["2018-12-31 23:00", "2019-01-01 00:00", "2027-10-21 00:00"]))
    late, why = too_late(v, (2013, 2018), today=dt.date(2026, 12, 2))
    assert late.tolist() == [False, True, True]
    assert "2013-2018" in why[1] and "今天" in why[2]
    late, _ = too_late(v, None, today=dt.date(2026, 12, 2))
    assert late.tolist() == [False, False, True]


def test_id_years():
    got = id_years(pd.Series(["M2017-00012", "P2018_0001", "G2016-0000001", "X-1", None, "2017"]))
    assert got.tolist() == [2017, 2018, 2016, pd.NA, pd.NA, pd.NA]
