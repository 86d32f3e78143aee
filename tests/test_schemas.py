"""Every schema rule rejects a violating row, and the problem names table, row and column."""

from __future__ import annotations

import pandas as pd
import pytest

from tests import factories as f
from xzlib import schemas
from xzlib.roster import divisions


@pytest.fixture(scope="module")
def divs():
    return divisions()


def problems(name, df, divs):
    schema = schemas.get_schema(name)
    return schemas.check(schemas.coerce(df, schema), schema, divs)


@pytest.mark.parametrize("name", schemas.TABLES)
def test_valid_tables_pass(name, divs):
    assert problems(name, getattr(f, name)(), divs) == []


# (table, row, column, bad value, rule)
VIOLATIONS = [
    ("communities", 1, "grids", None, "not_null"),
    ("communities", 0, "population", -5, "range"),
    ("communities", 2, "year", 1999, "range"),
    ("communities", 1, "community_code", "44040200100X", "format"),
    ("communities", 1, "community_code", "440402001001", "unique"),
    ("communities", 0, "grid_leaders", 7, "grid_leaders_le_grids"),
    ("communities", 2, "grid_members", 1, "grid_members_ge_grids"),
    ("communities", 0, "households", 9000, "households_le_population"),
    ("communities", 0, "owners_committees_with_branch", 6, "branch_le_committees"),
    ("communities", 1, "community_code", "440402099001", "foreign_key"),
    ("communities", 2, "street_code", "440402009", "foreign_key"),  # 凤山 did not exist in 2018
    ("communities", 0, "street_code", "440402002", "parent"),
    ("projects", 1, "programme", "lottery", "allowed"),
    ("projects", 0, "gov_funds_wan", 5000.0, "range"),
    ("projects", 0, "eval_score", 101.0, "range"),
    ("projects", 1, "funding_level", "street", "district_funds_innovation"),
    ("projects", 1, "project_id", "P2018-0001", "unique"),
    ("projects", 0, "project_id", "P 2018/1", "format"),
    ("projects", 0, "title", None, "not_null"),
    ("deliberations", 0, "adopted", 5, "adopted_le_proposals"),
    ("deliberations", 0, "implemented", 4, "implemented_le_adopted"),
    ("deliberations", 1, "participants", 0, "range"),
    ("deliberations", 1, "date", pd.Timestamp("2009-05-01"), "range"),
    ("grid_cases", 1, "resolved_at", pd.Timestamp("2018-05-01"), "resolved_after_reported"),
    ("grid_cases", 0, "resolved_at", pd.NaT, "resolved_has_date"),
    ("grid_cases", 2, "resolved_at", pd.Timestamp("2018-12-31"), "open_has_no_date"),
    ("grid_cases", 0, "category", "外星人", "allowed"),
    ("grid_cases", 2, "community_code", "440402009010", "foreign_key"),  # 新溪: after 2020
]


@pytest.mark.parametrize(("table", "row", "column", "value", "rule"), VIOLATIONS,
                         ids=[f"{v[0]}-{v[4]}-{v[2]}" for v in VIOLATIONS])
def test_each_rule_rejects_a_violating_row(table, row, column, value, rule, divs):
    df = getattr(f, table)()
    df[column] = df[column].astype(object)
    df.at[row, column] = value
    found = problems(table, df, divs)
    hits = [p for p in found if p.rule == rule]
    assert hits, f"rule {rule} did not fire; got {[(p.rule, p.row) for p in found]}"
    p = hits[0]
    assert p.table == table
    assert p.row == row
    reported = "community_code" if rule == "parent" else column
    assert p.column == schemas.get_schema(table).column(reported).header
    assert table in str(p) or p.file == ""  # where() falls back to the table name
    assert p.severity == "error"


def test_locate_maps_rows_to_excel_positions(divs):
    df = f.deliberations()
    df.at[1, "adopted"] = 9
    schema = schemas.get_schema("deliberations")
    df = schemas.coerce(df, schema)
    found = schemas.check(df, schema, divs,
                          locate=lambda i: {"file": "a.xlsx", "sheet": "议事协商", "row": int(i) + 2})
    p = next(p for p in found if p.rule == "adopted_le_proposals")
    assert (p.file, p.sheet, p.row) == ("a.xlsx", "议事协商", 3)
    assert "a.xlsx[议事协商] 第3行" in str(p)


def test_coerce_gives_documented_dtypes():
    for name in schemas.TABLES:
        schema = schemas.get_schema(name)
        df = schemas.coerce(getattr(f, name)(), schema)
        assert list(df.columns) == schema.names
        for col in schema.columns:
            assert str(df[col.name].dtype) == col.dtype, (name, col.name)


def test_check_collects_every_problem_not_the_first(divs):
    df = f.grid_cases()
    df["grid_no"] = [0, 0, 0]
    found = problems("grid_cases", df, divs)
    assert sorted(p.row for p in found if p.rule == "range") == [0, 1, 2]


def test_data_dictionary_lists_every_column_once():
    text = schemas.data_dictionary()
    for s in schemas.SCHEMAS.values():
        for c in s.columns:
            assert f"| `{c.name}` |" in text
