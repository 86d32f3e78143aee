"""Tests of the published reference data (facts, events, awards) and their loaders.

The CSV files are read twice: raw (text, exactly as committed) to check the file contract,
and through :mod:`xzlib.reference` to check the loaders' dtypes and errors.  No test copies a
total from the article: values are checked against their own quotes, not against constants.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from xzlib import reference, resources
from xzlib.errors import DataError, UsageError

# the committed reference data, as shipped inside the package (xzlib.reference_data)
REF = resources.path("reference")

DOCUMENTED = {
    "published_facts": [
        "fact_id",
        "topic",
        "metric",
        "value",
        "unit",
        "qualifier",
        "period_start",
        "period_end",
        "scope_level",
        "scope_code",
        "quote",
        "note",
    ],
    "events": [
        "event_id",
        "date",
        "date_precision",
        "scope_level",
        "scope_code",
        "title_zh",
        "title_en",
        "quote",
    ],
    "awards": [
        "award_id",
        "year",
        "level",
        "title",
        "unit",
        "scope_level",
        "scope_code",
        "quote",
        "note",
    ],
}
ID_COLUMN = {"published_facts": "fact_id", "events": "event_id", "awards": "award_id"}

# Ids other modules (sample generator, reconciliation) rely on, with the contract they use.
FIXED_FACTS = {
    # fact_id: (unit, qualifier, first year, last year)
    "communities_2018": ("个", "exact", 2018, 2018),
    "party_committees_2018": ("个", "exact", 2018, 2018),
    "service_centers_2018": ("个", "exact", 2018, 2018),
    "grids_2018": ("个", "exact", 2018, 2018),
    "grid_leaders_2018": ("名", "exact", 2018, 2018),
    "grid_members_2018": ("名", "exact", 2018, 2018),
    "special_funds_2013_2018": ("万元", "exact", 2013, 2018),
    "innovation_funds_district_2013_2018": ("万元", "exact", 2013, 2018),
    "charity_funds_street_2013_2018": ("万元", "about", 2013, 2018),
    "social_funds_2013_2018": ("万元", "at_least", 2013, 2018),
    "innovation_projects_2013_2018": ("个", "at_least", 2013, 2018),
    "people_served_2013_2018": ("万人次", "at_least", 2013, 2018),
    "micro_charity_brands": ("个", "exact", 2014, 2018),
    "micro_charity_social_funds": ("万元", "at_least", 2014, 2018),
    "micro_charity_projects": ("个", "at_least", 2014, 2018),
    "micro_charity_served": ("万人次", "at_least", 2014, 2018),
    "annual_innovation_fund": ("万元/年", "exact", 2013, None),
    "people_served_all_projects": ("万人", "about", None, None),
}

_ZH_DIGITS = "零一二三四五六七八九"
_ZH_NUMERALS = "零一二两三四五六七八九十百千万"
AT_LEAST_BEFORE, AT_LEAST_AFTER = ("超过",), ("多", "余", "以上")
ABOUT_BEFORE, ABOUT_AFTER = ("约", "近"), ("左右",)


def raw(table: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"{table}.csv", dtype=str, keep_default_na=False, encoding="utf-8")


def despace(text: str) -> str:
    return re.sub(r"\s+", "", text)


def zh_forms(n: int) -> list[str]:
    """Chinese-numeral spellings of a small whole number (三, 两, 十三, 二十一...)."""
    if n < 10:
        return [_ZH_DIGITS[n]] + (["两"] if n == 2 else [])
    if n < 100:
        tens, ones = divmod(n, 10)
        head = "十" if tens == 1 else _ZH_DIGITS[tens] + "十"
        return [head + (_ZH_DIGITS[ones] if ones else "")]
    return []


def value_spans(value: float, quote: str) -> list[tuple[int, int]]:
    """Where ``value`` is written in ``quote``, as Arabic digits or as a Chinese numeral."""
    q = despace(quote)
    text = str(int(value)) if float(value).is_integer() else repr(float(value))
    spans = [m.span() for m in re.finditer(rf"(?<![0-9.]){re.escape(text)}(?![0-9])", q)]
    if float(value).is_integer():
        for form in zh_forms(int(value)):
            pat = rf"(?<![{_ZH_NUMERALS}]){form}(?![{_ZH_NUMERALS}])"
            spans += [m.span() for m in re.finditer(pat, q)]
    return sorted(spans)


# --------------------------------------------------------------------------- file contract


@pytest.mark.parametrize("table", list(DOCUMENTED))
def test_csv_has_exactly_the_documented_columns(table):
    with (REF / f"{table}.csv").open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert header == DOCUMENTED[table]
    assert header == list(reference.COLUMNS[table])


@pytest.mark.parametrize("table", list(DOCUMENTED))
def test_csv_is_utf8_with_lf_line_ends_and_no_bom(table):
    data = (REF / f"{table}.csv").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in data
    data.decode("utf-8")


@pytest.mark.parametrize("table", list(DOCUMENTED))
def test_ids_are_unique_snake_case(table):
    ids = raw(table)[ID_COLUMN[table]]
    assert ids.is_unique, ids[ids.duplicated()].tolist()
    bad = [i for i in ids if not re.fullmatch(r"[a-z][a-z0-9_]*", i)]
    assert not bad


@pytest.mark.parametrize("table", list(DOCUMENTED))
def test_every_row_has_a_quote(table):
    df = raw(table)
    assert (df["quote"].str.strip() != "").all()
    assert not df["quote"].str.contains(r"\s").any(), "OCR spaces left in a quote"


def test_categorical_values_are_allowed():
    f, e, a = raw("published_facts"), raw("events"), raw("awards")
    assert set(f["qualifier"]) <= set(reference.QUALIFIERS)
    assert set(f["topic"]) <= set(reference.TOPICS)
    for df in (f, e, a):
        assert set(df["scope_level"]) <= set(reference.SCOPE_LEVELS)
    assert set(a["level"]) <= set(reference.AWARD_LEVELS)
    assert set(e["date_precision"]) <= {*reference.DATE_PRECISIONS, ""}
    assert ((e["date"] == "") == (e["date_precision"] == "")).all()


def test_fixed_fact_ids_exist():
    missing = set(FIXED_FACTS) - set(raw("published_facts")["fact_id"])
    assert not missing


@pytest.mark.parametrize("fact_id", sorted(FIXED_FACTS))
def test_fixed_facts_keep_their_contract(fact_id):
    unit, qualifier, first, last = FIXED_FACTS[fact_id]
    row = raw("published_facts").set_index("fact_id").loc[fact_id]
    assert (row["unit"], row["qualifier"]) == (unit, qualifier)
    assert row["scope_level"] == "district" and row["scope_code"] == "440402"
    if first is not None:
        assert row["period_start"] == f"{first}-01-01"
    if last is not None:
        assert row["period_end"] == f"{last}-12-31"


# --------------------------------------------------------------------------- fact content


@pytest.mark.parametrize(
    "row", raw("published_facts").to_dict("records"), ids=lambda r: r["fact_id"]
)
def test_value_is_written_in_its_quote(row):
    assert value_spans(float(row["value"]), row["quote"]), (row["value"], row["quote"])


@pytest.mark.parametrize(
    "row", raw("published_facts").to_dict("records"), ids=lambda r: r["fact_id"]
)
def test_qualifier_follows_the_markers_around_the_value(row):
    """多/余/超过/以上 -> at_least (also when combined with 约); 约/近/左右 -> about."""
    q = despace(row["quote"])
    start, end = value_spans(float(row["value"]), q)[0]
    before, after = q[max(0, start - 2) : start], q[end : end + 2]
    if before.endswith(AT_LEAST_BEFORE) or after.startswith(AT_LEAST_AFTER):
        expected = "at_least"
    elif before.endswith(ABOUT_BEFORE) or after.startswith(ABOUT_AFTER):
        expected = "about"
    else:
        expected = "exact"
    assert row["qualifier"] == expected
    if "约" in before and expected == "at_least":
        assert row["note"], "a combined 约…多 reading must be explained in note"


def test_periods_are_ordered_iso_dates():
    df = raw("published_facts")
    start = pd.to_datetime(df["period_start"], format="%Y-%m-%d")
    end = pd.to_datetime(df["period_end"].replace("", None), format="%Y-%m-%d")
    assert start.notna().all()
    assert (end.isna() | (start <= end)).all()


def test_numeric_values_are_plain_numbers():
    values = raw("published_facts")["value"]
    assert values.str.fullmatch(r"\d+(\.\d+)?").all()


# --------------------------------------------------------------------------- scope codes


def _scope_rows():
    for table in DOCUMENTED:
        for r in raw(table).to_dict("records"):
            yield pytest.param(table, r, id=f"{table}:{r[ID_COLUMN[table]]}")


@pytest.mark.parametrize(("table", "row"), list(_scope_rows()))
def test_scope_code_exists_at_its_level(table, row):
    div = pd.read_csv(REF / "divisions.csv", dtype=str, keep_default_na=False)
    code, level = row["scope_code"], row["scope_level"]
    if level == "district":
        assert code == "440402"
    else:
        assert code in set(div.loc[div["level"] == level, "code"]), (level, code)


@pytest.mark.parametrize(("table", "row"), list(_scope_rows()))
def test_scope_code_is_valid_when_the_row_applies(table, row):
    from xzlib.roster import divisions

    if table == "published_facts":
        year = (row["period_end"] or row["period_start"])[:4]
    elif table == "events":
        year = row["date"][:4]
    else:
        year = row["year"]
    if row["scope_level"] == "district" or not year:
        return
    valid = set(divisions(int(year), level=row["scope_level"])["code"])
    assert row["scope_code"] in valid


# --------------------------------------------------------------------------- verbatim quotes

ARTICLE = Path(
    os.environ.get("XZ_SOURCE_ARTICLE", "/work/shared/source/xiangzhou_governance_article.txt")
)


def _pieces(quote: str, text: str) -> list[str]:
    """Split ``quote`` greedily into the longest pieces found verbatim in ``text``."""
    q, out = despace(quote), []
    while q:
        k = len(q)
        while k and q[:k] not in text:
            k -= 1
        if k == 0:
            return [*out, q]
        out.append(q[:k])
        q = q[k:]
    return out


@pytest.mark.skipif(not ARTICLE.is_file(), reason="source article not available")
@pytest.mark.parametrize(("table", "row"), list(_scope_rows()))
def test_quote_is_verbatim_from_the_article(table, row):
    """A quote is article text, at most split across two out-of-order column breaks."""
    text = despace(ARTICLE.read_text(encoding="utf-8"))
    pieces = _pieces(row["quote"], text)
    assert all(p in text for p in pieces)
    assert len(pieces) <= 3 and min(map(len, pieces)) >= 5, pieces
    if len(pieces) > 1 and table != "events":
        assert "eassembl" in row["note"], "reassembled text must be explained in note"


# --------------------------------------------------------------------------- loaders


def _dtype_ok(series: pd.Series, dtype: str) -> bool:
    if dtype == "string":
        return isinstance(series.dtype, pd.StringDtype)
    if dtype == "category":
        return isinstance(series.dtype, pd.CategoricalDtype)
    return str(series.dtype) == dtype


@pytest.mark.parametrize(
    ("table", "loader"),
    [
        ("published_facts", reference.facts),
        ("events", reference.events),
        ("awards", reference.awards),
    ],
)
def test_loader_returns_documented_dtypes(table, loader):
    df = loader()
    assert list(df.columns) == DOCUMENTED[table]
    wrong = {
        c: str(df[c].dtype) for c, d in reference.COLUMNS[table].items() if not _dtype_ok(df[c], d)
    }
    assert not wrong
    assert len(df) == len(raw(table))


def test_loaders_return_copies():
    first = reference.facts()
    first.loc[:, "value"] = -1.0
    assert (reference.facts()["value"] >= 0).all()


def test_fact_returns_one_row():
    row = reference.fact("grids_2018")
    assert isinstance(row, pd.Series)
    assert row["fact_id"] == "grids_2018" and row.name == "grids_2018"
    assert row["value"] == float(
        raw("published_facts").set_index("fact_id").loc["grids_2018", "value"]
    )


def test_unknown_fact_raises_usage_error_naming_valid_ids():
    with pytest.raises(UsageError) as info:
        reference.fact("nope")
    assert "nope" in str(info.value)
    assert "grids_2018" in str(info.value) and "special_funds_2013_2018" in str(info.value)


def test_unknown_topic_raises_usage_error():
    with pytest.raises(UsageError, match="funding"):
        reference.facts(topic="weather")


def test_facts_filter_by_topic():
    grid = reference.facts(topic="grid")
    assert len(grid) > 0 and set(grid["topic"]) == {"grid"}


def test_events_sorted_with_undated_last():
    dates = reference.events()["date"]
    dated = dates.dropna()
    assert dated.is_monotonic_increasing
    assert dates.isna().sum() == 0 or dates.iloc[len(dated) :].isna().all()


def _private_reference(tmp_path, monkeypatch, table, text):
    ref = tmp_path / "reference"
    ref.mkdir()
    (ref / f"{table}.csv").write_text(text, encoding="utf-8")
    monkeypatch.setenv("XZ_DATA_DIR", str(tmp_path))
    return ref


def test_wrong_columns_raise_data_error(tmp_path, monkeypatch):
    _private_reference(tmp_path, monkeypatch, "awards", "award_id,year\nx,2015\n")
    with pytest.raises(DataError, match="columns must be"):
        reference.awards()


def test_disallowed_qualifier_raises_data_error(tmp_path, monkeypatch):
    header = ",".join(DOCUMENTED["published_facts"])
    line = "x,grid,grids,1,个,roughly,2018-01-01,2018-12-31,district,440402,1个,"
    _private_reference(tmp_path, monkeypatch, "published_facts", f"{header}\n{line}\n")
    with pytest.raises(DataError) as info:
        reference.facts()
    assert any(p.column == "qualifier" and p.value == "roughly" for p in info.value.problems)


def test_edited_file_is_reread(tmp_path, monkeypatch):
    ref = _private_reference(tmp_path, monkeypatch, "events", ",".join(DOCUMENTED["events"]) + "\n")
    assert reference.events().empty
    path = ref / "events.csv"
    path.write_text(
        path.read_text(encoding="utf-8") + "e1,2015-01-01,year,district,440402,标题,title,引文\n",
        encoding="utf-8",
    )
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert reference.events()["event_id"].tolist() == ["e1"]
