"""`xz template`: the workbook that prevents mistakes, read back with openpyxl; a template
filled with the sample's values cleans to the same tables as the sample's own workbook."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xzlib import cli, dataset, sample, schemas, submission
from xzlib.ingest import clean as cl
from xzlib.roster import divisions, street_of

CX, CX_NAME = "440402001", "翠香街道"


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> openpyxl.Workbook:
    path = tmp_path_factory.mktemp("tpl") / "t.xlsx"
    assert cli.main(["template", "--street", CX, "--year", "2018", "--out", str(path)]) == 0
    return openpyxl.load_workbook(path)


def _validations(ws) -> dict[str, object]:
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out[re.match(r"[A-Z]+", rng).group()] = dv
    return out


def _list_values(wb, formula: str) -> list[str]:
    sheet, ref = formula.lstrip("=").split("!")
    ws = wb[sheet.strip("'")]
    return [c.value for row in ws[ref.replace("$", "")] for c in row if c.value is not None]


def test_notes_sheet_is_prefilled(book):
    ws = book[submission.NOTES_SHEET]
    cells = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, 5)}
    assert cells == {"镇街代码": CX, "镇街名称": CX_NAME, "填报批次": "2018年",
                     "数据性质": submission.REAL_LABEL}


@pytest.mark.parametrize("table", schemas.TABLES)
def test_every_column_has_a_validation_a_message_and_an_alert(book, table):
    ws = book[submission.SHEETS[table]]
    dvs = _validations(ws)
    flds = submission.fields(table)
    assert [ws.cell(1, c + 1).value for c in range(len(flds))] == [f.header for f in flds]
    for c, f in enumerate(flds):
        letter = openpyxl.utils.get_column_letter(c + 1)
        dv = dvs[letter]
        assert str(dv.sqref).startswith(f"{letter}2:{letter}")
        assert dv.promptTitle == f.header[:32] and dv.prompt and dv.showInputMessage
        assert dv.error and dv.showErrorMessage
        col = schemas.get_schema(table).column(f.column)
        if f.kind in ("community_name", "label", "bool") or col.allowed:
            assert dv.type == "list"
            values = _list_values(book, dv.formula1)
            if f.kind == "community_name":
                d = divisions(2018, level="community")
                assert values == sorted(d.loc[d["parent_code"] == CX, "name"])
            elif col.allowed and not col.labels:
                assert values == list(col.allowed)
            else:
                assert values == list(col.label_map.values())
        elif f.kind in ("date", "datetime"):
            assert dv.type == "date"
            lo, hi = float(dv.formula1), float(dv.formula2)
            assert (dt.datetime(1899, 12, 30) + dt.timedelta(days=lo)).date() == dt.date(2018, 1, 1)
            assert (dt.datetime(1899, 12, 30) + dt.timedelta(days=hi)).date() == dt.date(2018, 12, 31)
        elif col.dtype == "Int64":
            assert dv.type == "whole"
            assert float(dv.formula1) == (2018 if f.column == "year" else (col.min or 0))
            if col.max is not None and f.column != "year":
                assert float(dv.formula2) == col.max
        elif col.dtype == "float64":
            assert dv.type == "decimal" and float(dv.formula1) >= 0
        else:
            assert dv.type == "textLength"


@pytest.mark.parametrize("table", schemas.TABLES)
def test_header_frozen_locked_and_wide_enough(book, table):
    ws = book[submission.SHEETS[table]]
    assert ws.freeze_panes == "A2"
    assert ws.protection.sheet
    for c, f in enumerate(submission.fields(table), start=1):
        assert ws.cell(1, c).protection.locked
        dims = [d for d in ws.column_dimensions.values() if d.min <= c <= d.max]
        assert dims and dims[0].width >= 2 * len(f.header), f.header


def test_all_writes_one_template_per_street(tmp_path):
    assert cli.main(["template", "--all", "--year", "2018", "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.glob("*.xlsx"))
    streets = divisions(2018, level="street").sort_values("code")
    assert names == [submission.template_name(c, n, 2018)
                     for c, n in zip(streets["code"], streets["name"], strict=True)]


def test_unknown_street_is_a_usage_error(tmp_path):
    assert cli.main(["template", "--street", "440402999", "--out", str(tmp_path / "x.xlsx")]) == 2


def _fill(path: Path, frames: dict[str, pd.DataFrame]) -> None:
    """Fill a template the way a clerk pastes values: openpyxl, under the headers."""
    wb = openpyxl.load_workbook(path)
    for table, df in frames.items():
        ws = wb[submission.SHEETS[table]]
        sub = submission.to_submission(df, table)
        for rec in sub.itertuples(index=False):
            ws.append([None if v is None or (not isinstance(v, str) and pd.isna(v)) else
                       v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in rec])
    wb.save(path)


def test_filled_template_cleans_to_the_sample_tables(tmp_path):
    frames = sample.generate(years=[2018])
    mine = {}
    for t, df in frames.items():
        st = (df["street_code"].astype("string") if "street_code" in df.columns
              else street_of(df["community_code"], schemas.get_schema(t).years(df)))
        mine[t] = df[(st == CX).to_numpy()].reset_index(drop=True)
    ref = tmp_path / "data" / "raw" / "ref"
    submission.write_workbook(ref / submission.workbook_name(CX, CX_NAME), mine, street_code=CX,
                              street_name=CX_NAME, batch="2018年", synthetic=False)
    tpl = tmp_path / "data" / "raw" / "tpl"
    path = submission.write_template(tpl / "填好的模板.xlsx", street_code=CX, street_name=CX_NAME,
                                     year=2018)
    _fill(path, mine)
    a = cl.clean(ref, tmp_path / "data" / "a")
    b = cl.clean(tpl, tmp_path / "data" / "b")
    assert a.ok, a.summary()
    assert b.ok, b.summary()
    assert not b.warnings, b.summary()
    for t in schemas.TABLES:
        pd.testing.assert_frame_equal(dataset.load(t, data_dir=tmp_path / "data" / "a", names=False),
                                      dataset.load(t, data_dir=tmp_path / "data" / "b", names=False),
                                      obj=t)
        assert len(dataset.load(t, data_dir=tmp_path / "data" / "b", names=False)) == len(mine[t])
