"""Pure parsers of the cleaner: numbers, qualifiers, dates, headers, names, labels."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xzlib import schemas
from xzlib.ingest import normalize as nz

WAN = nz.UNITS["万元"]
REACH = nz.UNITS["人次"]


def one(cell, **kw):
    r = nz.parse_numbers(pd.Series([cell], dtype=object), **kw)
    return r


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("cell, value", [
    ("１２３", 123),              # full-width digits
    ("１２．５", 12.5),            # full-width decimal point
    ("3,000", 3000),             # thousands separator
    ("3，000", 3000),             # full-width comma
    (" 42 ", 42),                # padded
    ("42\u3000", 42),            # full-width space
    ("1.2万", 12000),             # 万 multiplier
    ("0.5亿", 50_000_000),        # 亿 multiplier
    ("三千二百", 3200),            # Chinese numerals
    ("一百零五", 105),
    ("两万", 20000),
    (3100.0, 3100),              # an Excel number
    (7, 7),
])
def test_number_forms_are_read(cell, value):
    r = one(cell, units=REACH)
    assert not r.bad.iloc[0]
    assert r.value.iloc[0] == value
    assert r.qualifier.isna().iloc[0]


@pytest.mark.parametrize("cell, value, qualifier, marker", [
    ("约3000", 3000, "about", "约"),
    ("130多", 130, "at_least", "多"),
    ("3,000余", 3000, "at_least", "余"),
    ("超过147", 147, "at_least", "超过"),
    ("1000以上", 1000, "at_least", "以上"),
    ("2000左右", 2000, "about", "左右"),
    ("不足50", 50, "at_most", "不足"),
    ("约1.2万", 12000, "about", "约"),
    ("３０００多人次", 3000, "at_least", "多"),
])
def test_qualifiers_are_kept_beside_the_number(cell, value, qualifier, marker):
    r = one(cell, units=REACH)
    assert not r.bad.iloc[0]
    assert r.value.iloc[0] == value
    assert r.qualifier.iloc[0] == qualifier
    assert r.marker.iloc[0] == marker


def test_units_in_cells_and_headers_convert_into_the_schema_unit():
    # header in 元: factor 0.0001 into 万元
    r = one("355,000", factor=WAN["元"], units=WAN, header_unit="元")
    assert r.value.iloc[0] == 35.5
    # 1.2万 under a 元 header is 1.2 万元
    assert one("1.2万", factor=WAN["元"], units=WAN, header_unit="元").value.iloc[0] == 1.2
    # a unit in the cell overrides the header's
    r = one("300000元", units=WAN, header_unit="万元")
    assert r.value.iloc[0] == 30 and r.unit.iloc[0] == "元"
    assert one("5万元", units=WAN, header_unit="万元").value.iloc[0] == 5
    # 万人次 header
    assert one("1.2345", factor=REACH["万人次"], units=REACH, header_unit="万人次",
               integer=True).value.iloc[0] == 12345
    # exact: 12.34 万元 written as 123400 元 comes back as the same double
    assert one(123400.0, factor=WAN["元"], units=WAN).value.iloc[0] == 12.34


@pytest.mark.parametrize("cell, reason", [
    ("abc", "不是数字"),
    ("1,2345", "千分位"),
    ("12美元", "不是数字"),
    ("3人", "单位"),            # wrong unit for a money column
    ("nan", "不是数字"),
    ("inf", "不是数字"),
])
def test_unreadable_numbers_are_rejected_with_a_reason(cell, reason):
    r = one(cell, units=WAN, header_unit="万元")
    assert r.bad.iloc[0]
    assert reason in r.reason.iloc[0]


def test_multiplier_under_a_wan_header_is_ambiguous():
    r = one("1.2万", units=WAN, header_unit="万元")
    assert r.bad.iloc[0] and "含义不明" in r.reason.iloc[0]


def test_integer_columns_reject_fractions_and_dates():
    assert "整数" in one("12.5", integer=True).reason.iloc[0]
    assert "日期" in one(dt.date(2018, 1, 1)).reason.iloc[0]


def test_blanks_and_dashes():
    r = nz.parse_numbers(pd.Series([None, "", "  ", "\u3000", "—", "-", np.nan], dtype=object))
    assert r.blank.all() and not r.bad.any()
    assert r.dash.tolist() == [False, False, False, False, True, True, False]


def test_clean_columns_take_the_fast_path_and_keep_exact_doubles():
    values = ["0.1", "12.34", "999.99", "3", "-2"]
    r = nz.parse_numbers(pd.Series(values, dtype="str"))
    assert r.value.tolist() == [float(v) for v in values]


_decimals = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999999"), places=2,
                        allow_nan=False, allow_infinity=False)


def _plain(d: Decimal) -> str:
    return format(d.normalize(), "f")


@settings(max_examples=200, deadline=None)
@given(d=_decimals, style=st.sampled_from(["plain", "grouped", "fullwidth", "padded", "wan"]),
       qual=st.sampled_from(["", "约{}", "{}多", "{}余", "超过{}", "{}以上", "{}左右"]))
def test_number_parser_round_trips(d, style, qual):
    text = _plain(d)
    if style == "grouped":
        whole, _, frac = text.partition(".")
        text = f"{int(whole):,}" + ("." + frac if frac else "")
    elif style == "fullwidth":
        text = text.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    elif style == "padded":
        text = f" {text}\u3000"
    elif style == "wan":
        text = _plain(d / 10000) + "万"
    cell = qual.format(text) if qual else text
    r = one(cell, units=REACH)
    assert not r.bad.iloc[0], cell
    assert r.value.iloc[0] == float(d)
    if qual:
        assert r.qualifier.iloc[0] in ("about", "at_least")
    else:
        assert r.qualifier.isna().iloc[0]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_number_parser_never_raises(text):
    r = nz.parse_number_text(text)
    assert (r.value is None) == bool(r.error)


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize("cell, expected", [
    ("2018年7月3日", "2018-07-03"),
    ("2018.7.3", "2018-07-03"),
    ("2018/07/03", "2018-07-03"),
    ("2018-07-03", "2018-07-03"),
    ("20180703", "2018-07-03"),
    ("43284", "2018-07-03"),          # Excel serial number as text
    (43284.0, "2018-07-03"),          # Excel serial number as a number
    (dt.date(2018, 7, 3), "2018-07-03"),
    (dt.datetime(2018, 7, 3, 14, 30), "2018-07-03 14:30"),
    ("2018/7/3 14:30", "2018-07-03 14:30"),
    ("2018年7月3日 14:30:05", "2018-07-03 14:30:05"),
    ("２０１８－０７－０３", "2018-07-03"),
    ("43284.6041666667", "2018-07-03 14:30"),
])
def test_date_forms_are_read(cell, expected):
    r = nz.parse_dates(pd.Series([cell], dtype=object))
    assert not r.bad.iloc[0]
    assert r.value.iloc[0] == pd.Timestamp(expected)


def test_month_only_dates_are_read_as_the_first_and_flagged():
    r = nz.parse_dates(pd.Series(["2018年7月", "2018.7"], dtype=object))
    assert r.value.tolist() == [pd.Timestamp("2018-07-01")] * 2
    assert r.month_only.all()


@pytest.mark.parametrize("cell", ["2018-02-30", "下周一", "18.7.3", "2018年13月"])
def test_bad_dates_are_rejected(cell):
    r = nz.parse_dates(pd.Series([cell], dtype=object))
    assert r.bad.iloc[0] and r.reason.iloc[0]


@settings(max_examples=200, deadline=None)
@given(ts=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 12, 31)),
       form=st.sampled_from(["zh", "dots", "slash", "iso", "compact", "serial", "excel"]),
       with_time=st.booleans())
def test_date_parser_round_trips(ts, form, with_time):
    ts = pd.Timestamp(ts).floor("s")
    if not with_time:
        ts = ts.normalize()
    y, m, d = ts.year, ts.month, ts.day
    hms = f" {ts.hour}:{ts.minute:02d}:{ts.second:02d}" if with_time else ""
    cell = {
        "zh": f"{y}年{m}月{d}日{hms}",
        "dots": f"{y}.{m}.{d}{hms}",
        "slash": f"{y}/{m:02d}/{d:02d}{hms}",
        "iso": ts.isoformat(sep=" "),
        "compact": f"{y}{m:02d}{d:02d}" if not with_time else ts.isoformat(sep=" "),
        "serial": (ts - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1),
        "excel": ts.to_pydatetime(),
    }[form]
    r = nz.parse_dates(pd.Series([cell], dtype=object))
    assert not r.bad.iloc[0], cell
    assert r.value.iloc[0] == ts


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize("header, column, unit, factor", [
    ("政府资金（万元）", "gov_funds_wan", "万元", 1),
    ("金额（万元）", "gov_funds_wan", "万元", 1),
    ("金额(万元)", "gov_funds_wan", "万元", 1),
    ("政府资金/万元", "gov_funds_wan", "万元", 1),
    ("资金 元", "gov_funds_wan", "元", Decimal("0.0001")),
    ("社会资金（单位：元）", "social_funds_wan", "元", Decimal("0.0001")),
    ("服务人次", "beneficiaries", None, 1),
    ("服务人次（万人次）", "beneficiaries", "万人次", 10000),
    ("＊项目编号", "project_id", None, 1),
    ("社区", "community_code", None, 1),
])
def test_header_aliases_and_units(header, column, unit, factor):
    m = nz.match_header("projects", header)
    assert m.spec is not None and m.spec.column == column
    assert m.unit == unit and m.factor == factor and not m.problem


def test_header_without_unit_takes_the_units_line():
    m = nz.match_header("projects", "政府资金", default_unit="元")
    assert m.unit == "元" and m.factor == Decimal("0.0001")
    # a units line does not apply to a column that cannot have that unit
    assert nz.match_header("projects", "服务人次", default_unit="元").unit is None


def test_header_with_a_wrong_unit_is_a_problem():
    m = nz.match_header("projects", "金额（美元）")
    assert m.spec.column == "gov_funds_wan" and "美元" in m.problem


def test_ignored_and_unknown_headers():
    assert nz.match_header("communities", "序号").ignored
    assert nz.match_header("communities", "备注").ignored
    assert nz.match_header("communities", "联系电话").spec is None


def test_alias_table_covers_every_submission_column():
    table = nz.alias_table()
    for t in schemas.TABLES:
        from xzlib.submission import fields

        cols = set(table.loc[table["table"] == t, "column"])
        assert {f.column for f in fields(t)} <= cols
    # aliases never collide within a table
    for t in schemas.TABLES:
        seen = {}
        for spec in nz.field_specs(t):
            for n in spec.names:
                assert seen.setdefault(n, spec.column) == spec.column, (t, n)


@pytest.mark.parametrize("name, table", [
    ("社区基本情况", "communities"), (" 项目 ", "projects"), ("2018年网格事件", "grid_cases"),
    ("议事协商表", "deliberations"), ("Sheet1", None),
])
def test_sheet_names(name, table):
    assert nz.table_for_sheet(name) == table


# --------------------------------------------------------------------------- names, labels


def test_community_names_resolve_suffix_and_space_insensitively():
    names = pd.Series(["紫荆社区", " 紫荆社区 ", "紫荆社区居委会", "紫荆", "紫荆社区\u3000",
                       "440402001001", "沥溪社区"])
    r = nz.resolve_names(names, pd.Series([2018] * len(names)))
    assert r.code.astype("string").tolist() == ["440402001001"] * 6 + ["440402009001"]
    assert r.alias.tolist() == [False, False, True, True, False, False, False]
    assert not r.bad.any()


def test_unknown_or_out_of_period_community_names_are_rejected():
    r = nz.resolve_names(pd.Series(["紫金社区", "新溪社区"]), pd.Series([2018, 2018]),
                         pd.Series(["440402001", "440402009"]))
    assert r.bad.all()
    assert "找不到" in r.reason.iloc[0] and "紫荆社区" in r.suggestion.iloc[0]
    assert "2018" in r.reason.iloc[1]


def test_streets_resolve_from_codes_and_names():
    assert nz.resolve_street("440402001") == ("440402001", False)
    assert nz.resolve_street("翠香街道") == ("440402001", False)
    assert nz.resolve_street("翠香街道办事处") == ("440402001", True)
    assert nz.resolve_street("南屏") == ("440402102", True)
    assert nz.resolve_street("某某街道") == (None, False)


def test_labels_and_booleans():
    col = schemas.get_schema("projects").column("programme")
    codes, blank, bad = nz.parse_labels(pd.Series(["微公益创投", " 社会建设创新项目", "innovation",
                                                   "其他", None]), col)
    assert codes.astype("string").tolist()[:3] == ["micro_charity", "innovation", "innovation"]
    assert bad.tolist() == [False, False, False, True, False]
    assert blank.tolist() == [False, False, False, False, True]
    vals, _, bad = nz.parse_bools(pd.Series(["是", "否", "√", "×", "Y", "n", "也许"]))
    assert vals.tolist()[:6] == [True, False, True, False, True, False]
    assert bad.tolist() == [False] * 6 + [True]


def test_total_rows_are_recognised():
    assert nz.total_marker(pd.Series(["合计", "合 计", "小计：", "总计", "紫荆社区", None],
                                     dtype=object)).tolist() == [
        "total", "total", "subtotal", "total", None, None]


def test_identifiers_are_nfkc_text_is_only_stripped():
    assert nz.parse_text(pd.Series(["Ｐ２０１８－０００１ "]), nfkc=True).tolist() == ["P2018-0001"]
    assert nz.parse_text(pd.Series(["\u3000长者（助餐）服务 ", "  "])).tolist() == [
        "长者（助餐）服务", pd.NA]


def test_docs_alias_table_is_current():
    from xzlib import config

    text = (config.docs_dir() / "ingest.md").read_text(encoding="utf-8")
    assert nz.alias_markdown() in text, "run normalize.update_docs() to refresh docs/ingest.md"
