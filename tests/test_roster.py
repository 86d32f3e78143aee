"""Divisions with validity dates: the 2018 structure differs from the current one."""

from __future__ import annotations

import pytest

import xzlib as xz
from xzlib.errors import UsageError
from xzlib.roster import name_index, normalize_name, street_name

FENGSHAN, QIANSHAN = "440402009", "440402003"


def test_2018_has_no_fengshan_and_its_communities_sit_under_qianshan():
    d = xz.divisions(2018)
    assert "凤山街道" not in set(d["name"])
    founding = xz.divisions(2021, level="community")
    founding = founding[founding["parent_code"] == FENGSHAN]
    in_2018 = d.set_index("code")
    moved = [c for c in founding["code"] if c in in_2018.index]
    assert len(moved) == 9  # the nine founding communities; 新溪 came later
    assert set(in_2018.loc[moved, "parent_code"]) == {QIANSHAN}


def test_2021_is_the_current_structure():
    d = xz.divisions(2021)
    assert "凤山街道" in set(d["name"])
    current = xz.divisions(2025)
    assert len(d) == len(current)
    assert d["code"].is_unique


def test_every_community_has_a_valid_parent_each_year():
    for year in (2013, 2018, 2020, 2021, 2025):
        d = xz.divisions(year)
        streets = set(d.loc[d["level"] == "street", "code"])
        comm = d[d["level"] == "community"]
        assert comm["code"].is_unique, year
        assert set(comm["parent_code"]) <= streets, year


def test_codes_are_official_for_streets_and_provisional_for_communities():
    d = xz.divisions()
    assert set(d.loc[d["level"] == "street", "code_status"]) == {"official"}
    assert set(d.loc[d["level"] == "community", "code_status"]) == {"provisional"}
    assert d["source"].notna().all()


def test_names_match_with_or_without_suffix_and_spaces():
    assert normalize_name(" 紫荆社区居委会　") == normalize_name("紫荆") == "紫荆"
    idx = name_index(2018, "community")
    assert idx[normalize_name("紫荆社区")] == "440402001001"


def test_unknown_street_lists_valid_codes():
    with pytest.raises(UsageError, match="440402001 翠香街道"):
        street_name("123")
    with pytest.raises(UsageError, match="level must be one of"):
        xz.divisions(2018, level="town")


def test_street_of_agrees_with_a_plain_reading_of_the_roster():
    """street_of for every community in every year (moved ones included), a missing code,
    a missing year and an unknown code, against divisions.csv read row by row."""
    import csv
    import itertools

    import pandas as pd

    from xzlib import config
    from xzlib.roster import street_of

    with open(config.reference_dir() / "divisions.csv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["level"] == "community"]

    def expected(code, year):
        if code is None or year is None:
            return None
        day = f"{year}-12-31"
        hits = [r["parent_code"] for r in rows if r["code"] == code
                and (not r["valid_from"] or r["valid_from"][:10] <= day)
                and (not r["valid_to"] or r["valid_to"][:10] >= day)]
        return hits[0] if hits else None

    codes = sorted({r["code"] for r in rows}) + [None, "440402999999"]
    pairs = list(itertools.product(codes, [2013, 2018, 2021, None]))
    got = street_of(pd.Series([c for c, _ in pairs], dtype="string"),
                    pd.Series([y for _, y in pairs], dtype="Int64"))
    assert str(got.dtype) == "string"
    want = [expected(c, y) for c, y in pairs]
    assert [None if pd.isna(v) else v for v in got] == want
    moved = [c for c in codes if expected(c, 2018) != expected(c, 2021)]
    assert moved and any(expected(c, 2018) == QIANSHAN for c in moved)
