"""Workbooks filled the way street offices fill them, built here with openpyxl, xlsxwriter
and xlwt from the template's layout and hand-made values -- never with the cleaner's own
``xzlib.ingest.mess``.  Every test asserts the value read or the problem's file, sheet,
Excel row and column.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests import factories
from xzlib import dataset, submission
from xzlib.ingest import clean as cl

CX, CX_NAME = "440402001", "翠香街道"
WZ, WZ_NAME = "440402008", "湾仔街道"
ZIJING_NAME = "紫荆社区"


def notes(code: str = CX, name: str = CX_NAME, batch: str = "2013-2018年") -> list[list]:
    return [["镇街代码", code], ["镇街名称", name], ["填报批次", batch], ["数据性质", "正式填报数据"]]


def header(table: str) -> list[str]:
    return [f.header for f in submission.fields(table)]


def project_rows() -> list[list]:
    """Two 翠香 projects in the template's column order."""
    return [
        ["P2018-0001", 2018, ZIJING_NAME, "微公益创投", "镇街级", "公益翠香", "长者关爱（示例）",
         "示例社会组织 01", 8.5, 2.0, 1200, 88],
        ["P2018-0002", 2018, ZIJING_NAME, "微公益创投", "镇街级", None, "儿童托管（示例）",
         "示例社会组织 02", 6.0, 1.0, 800, None],
    ]


def meeting_rows() -> list[list]:
    return [["M2018-00001", dt.datetime(2018, 3, 4), ZIJING_NAME, "停车管理", 35, 4, 3, 2],
            ["M2018-00002", dt.datetime(2018, 7, 21), ZIJING_NAME, "加装电梯", 60, 3, 3, None]]


def openpyxl_book(path: Path, sheets: dict[str, list[list]], *, notes_rows=None,
                  merges: dict[str, list[str]] | None = None, header_rows: int = 1) -> Path:
    """Write a workbook with openpyxl (rows include the header rows)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = submission.NOTES_SHEET
    for row in notes() if notes_rows is None else notes_rows:
        ws.append(row)
    for table, rows in sheets.items():
        ws = wb.create_sheet(submission.SHEETS[table])
        for row in rows:
            ws.append(row)
        for ref in (merges or {}).get(table, ()):
            ws.merge_cells(ref)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def clean(raw: Path) -> cl.CleanResult:
    return cl.clean(raw, raw.parent.parent / "processed", report_dir=raw.parent.parent / "rep")


def load(raw: Path, table: str) -> pd.DataFrame:
    return dataset.load(table, data_dir=raw.parent.parent / "processed", names=False)


def errors(result: cl.CleanResult) -> list[tuple]:
    return [(p.file, p.sheet, p.row, p.column, p.rule) for p in result.problems]


@pytest.fixture
def raw(tmp_path) -> Path:
    return tmp_path / "data" / "raw" / "b"


# --------------------------------------------------------------------------- numbers


def test_colloquial_numerals_are_read_exactly(raw):
    rows = project_rows()
    rows[0][10], rows[1][10] = "两千五", "一百二"
    rows[0][8], rows[1][8] = "八点五", "6"
    openpyxl_book(raw / f"{CX}_{CX_NAME}.xlsx", {"projects": [header("projects"), *rows]})
    result = clean(raw)
    assert result.ok, result.summary()
    df = load(raw, "projects").set_index("project_id")
    assert df.loc["P2018-0001", "beneficiaries"] == 2500
    assert df.loc["P2018-0002", "beneficiaries"] == 120
    assert df.loc["P2018-0001", "gov_funds_wan"] == 8.5


def test_malformed_numeral_is_one_problem_at_its_cell(raw):
    rows = project_rows()
    rows[1][10] = "十一十二"
    openpyxl_book(raw / "b.xlsx", {"projects": [header("projects"), *rows]})
    result = clean(raw)
    assert not result.ok
    assert errors(result) == [("b.xlsx", "项目", 3, "服务人次（人次）", "number")]
    assert "Error" not in result.problems[0].message


# --------------------------------------------------------------------------- layouts


def test_merged_funds_over_two_projects_is_an_error_naming_the_range(raw):
    openpyxl_book(raw / "b.xlsx", {"projects": [header("projects"), *project_rows()]},
                  merges={"projects": ["I2:I3"]})
    result = clean(raw)
    assert not result.ok
    assert errors(result) == [("b.xlsx", "项目", 2, "政府资金（万元）", "merged_cells")]
    assert "I2:I3" in result.problems[0].message


def test_merged_community_name_is_filled_down(raw):
    rows = project_rows()
    rows[1][2] = None
    openpyxl_book(raw / "b.xlsx", {"projects": [header("projects"), *rows]},
                  merges={"projects": ["C2:C3"]})
    result = clean(raw)
    assert result.ok, result.summary()
    assert set(load(raw, "projects")["community_code"]) == {factories.ZIJING}


def test_formula_without_cached_value_is_an_error_not_an_empty_cell(raw):
    rows = project_rows()
    rows[1][9] = "=I3*0.5"  # social funds: optional, so an empty cell would pass silently
    openpyxl_book(raw / "b.xlsx", {"projects": [header("projects"), *rows]})
    result = clean(raw)
    assert not result.ok
    assert errors(result) == [("b.xlsx", "项目", 3, "社会资金（万元）", "formula_no_value")]
    assert "WPS" in result.problems[0].suggestion


def test_two_row_header_is_read_by_combining_the_levels(raw):
    h = header("projects")
    top = [*h[:8], "资金（万元）", "资金（万元）", *h[10:]]
    sub = [*h[:8], "政府", "社会", *h[10:]]
    merges = ["I1:J1"] + [f"{c}1:{c}2" for c in "ABCDEFGHKL"]
    openpyxl_book(raw / "b.xlsx", {"projects": [top, sub, *project_rows()]},
                  merges={"projects": merges})
    result = clean(raw)
    assert result.ok, result.summary()
    df = load(raw, "projects").set_index("project_id")
    assert df.loc["P2018-0001", ["gov_funds_wan", "social_funds_wan"]].tolist() == [8.5, 2.0]
    assert df.loc["P2018-0002", "beneficiaries"] == 800


def test_duplicate_column_never_suggests_deleting_data(raw):
    h = header("projects")
    h[9] = "政府资金"
    openpyxl_book(raw / "b.xlsx", {"projects": [h, *project_rows()]})
    result = clean(raw)
    assert not result.ok
    dup = [p for p in result.problems if p.rule == "duplicate_column"]
    assert [(p.sheet, p.row, p.column) for p in dup] == [("项目", 1, "政府资金")]
    assert "删除" not in dup[0].suggestion.replace("不要删除", "")
    for p in result.problems:
        assert "NAType" not in p.message and "argument" not in p.message


def test_street_from_a_file_name_that_contains_it(raw):
    blank_notes = [["镇街代码", None], ["镇街名称", None], ["填报批次", None], ["数据性质", None]]
    rows = [["P2018-0101", 2018, "湾仔社区", "微公益创投", "镇街级", None, "示例", "示例组织", 5, None,
             300, None]]
    name = f"附件2：{WZ_NAME}2013-2018年基层治理数据（定稿）.xlsx"
    openpyxl_book(raw / name, {"projects": [header("projects"), *rows]}, notes_rows=blank_notes)
    result = clean(raw)
    assert result.ok, result.summary()
    assert load(raw, "projects")["street_code"].tolist() == [WZ]


def test_street_unknown_lists_every_way_that_works(raw):
    openpyxl_book(raw / "报表.xlsx", {"projects": [header("projects"), *project_rows()]},
                  notes_rows=[["数据性质", "正式填报数据"]])
    result = clean(raw)
    p = next(p for p in result.problems if p.rule == "street")
    assert p.file == "报表.xlsx"
    for words in ("填报说明", "文件名", "CSV", "__"):
        assert words in p.suggestion


# --------------------------------------------------------------------------- dates


def test_date_forms_a_clerk_types(raw):
    rows = meeting_rows()
    rows[0][1] = 20180304  # a number in a General cell
    rows[1][1] = "二〇一八年七月二十一日"
    openpyxl_book(raw / "b.xlsx", {"deliberations": [header("deliberations"), *rows]})
    result = clean(raw)
    assert result.ok, result.summary()
    df = load(raw, "deliberations").set_index("meeting_id")
    assert df.loc["M2018-00001", "date"] == pd.Timestamp("2018-03-04")
    assert df.loc["M2018-00002", "date"] == pd.Timestamp("2018-07-21")


def test_date_after_the_period_and_id_year_mismatch(raw):
    rows = meeting_rows()
    rows[0][0], rows[0][1] = "M2017-00001", dt.datetime(2027, 10, 21)
    rows[1][0] = "M2017-00002"  # dated 2018
    openpyxl_book(raw / "b.xlsx", {"deliberations": [header("deliberations"), *rows]})
    result = clean(raw)
    assert not result.ok
    assert errors(result) == [("b.xlsx", "议事协商", 2, "会议日期", "date_late"),
                              ("b.xlsx", "议事协商", 3, "会议日期", "id_year")]
    assert "M2017-00002" in result.problems[1].message


def test_unreadable_date_gives_one_problem_only(raw):
    rows = meeting_rows()
    rows[0][1] = "2018年13月40日"
    openpyxl_book(raw / "b.xlsx", {"deliberations": [header("deliberations"), *rows]})
    result = clean(raw)
    assert errors(result) == [("b.xlsx", "议事协商", 2, "会议日期", "date")]


# --------------------------------------------------------------------------- other writers


def test_xlsxwriter_numbers_as_text_and_title_rows(raw):
    import xlsxwriter

    raw.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(raw / f"{CX}_{CX_NAME}.xlsx"))
    ws = wb.add_worksheet(submission.NOTES_SHEET)
    for r, row in enumerate(notes()):
        ws.write_row(r, 0, row)
    ws = wb.add_worksheet("项目")
    ws.merge_range(0, 0, 0, 11, "2018年翠香街道项目情况表")
    ws.write_row(1, 0, header("projects"))
    for r, row in enumerate(project_rows(), start=2):
        for c, v in enumerate(row):
            if v is not None:
                ws.write_string(r, c, str(v)) if c in (8, 10) else ws.write(r, c, v)
    ws.write_string(2, 10, "三万五")
    wb.close()
    result = clean(raw)
    assert result.ok, result.summary()
    df = load(raw, "projects").set_index("project_id")
    assert df.loc["P2018-0001", "beneficiaries"] == 35000
    assert df.loc["P2018-0002", "gov_funds_wan"] == 6.0


def test_xlwt_xls_with_chinese_numerals(raw):
    xlwt = pytest.importorskip("xlwt")
    raw.mkdir(parents=True)
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(submission.NOTES_SHEET)
    for r, row in enumerate(notes()):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    ws = wb.add_sheet("议事协商")
    for c, v in enumerate(header("deliberations")):
        ws.write(0, c, v)
    rows = meeting_rows()
    rows[0][1], rows[1][1] = "2018.3.4", "二零一八年七月二十一日"
    rows[0][4] = "三十五"
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            if v is not None:
                ws.write(r, c, v)
    wb.save(str(raw / f"{CX}_{CX_NAME}.xls"))
    result = clean(raw)
    assert result.ok, result.summary()
    df = load(raw, "deliberations").set_index("meeting_id")
    assert df.loc["M2018-00001", "participants"] == 35
    assert df.loc["M2018-00002", "date"] == pd.Timestamp("2018-07-21")


# --------------------------------------------------------------------------- encodings


def _csv_text() -> str:
    rows = [header("deliberations")]
    for r in meeting_rows():
        rows.append(["" if v is None else v.strftime("%Y-%m-%d") if isinstance(v, dt.datetime)
                     else str(v) for v in r])
    return "\r\n".join(",".join(r) for r in rows) + "\r\n"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-16-le", "utf-8-sig"])
def test_csv_encodings(raw, encoding):
    raw.mkdir(parents=True)
    (raw / f"{CX}_{CX_NAME}__议事协商.csv").write_bytes(_csv_text().encode(encoding))
    result = clean(raw)
    assert result.ok, result.summary()
    assert load(raw, "deliberations")["topic"].tolist() == ["停车管理", "加装电梯"]


def test_big5_is_chosen_for_traditional_text():
    from xzlib.ingest.read import detect_encoding

    text = "會議編號,會議日期,社區名稱,議題\r\nM2018-00001,2018-03-04,紫荊社區,停車管理與加裝電梯\r\n"
    assert detect_encoding(text.encode("big5")) == "big5"
    assert detect_encoding(_csv_text().encode("gbk")) == "gb18030"


def test_undecodable_csv_is_reported_not_loaded(raw):
    raw.mkdir(parents=True)
    (raw / f"{CX}_{CX_NAME}__议事协商.csv").write_bytes(bytes(range(128, 256)) * 40)
    result = clean(raw)
    assert not result.ok
    assert [p.rule for p in result.problems if p.file.endswith(".csv")] == ["encoding"]


def test_two_row_header_without_merges(raw):
    h = header("projects")
    top = [*h[:8], "资金（万元）", None, *h[10:]]
    sub = [None] * 8 + ["政府", "社会"] + [None] * 2
    openpyxl_book(raw / "b.xlsx", {"projects": [top, sub, *project_rows()]})
    result = clean(raw)
    assert result.ok, result.summary()
    df = load(raw, "projects").set_index("project_id")
    assert df.loc["P2018-0002", ["gov_funds_wan", "social_funds_wan"]].tolist() == [6.0, 1.0]


def test_merged_year_is_filled_down(raw):
    rows = project_rows()
    rows[1][1] = None
    openpyxl_book(raw / "b.xlsx", {"projects": [header("projects"), *rows]},
                  merges={"projects": ["B2:B3"]})
    result = clean(raw)
    assert result.ok, result.summary()
    assert load(raw, "projects")["year"].tolist() == [2018, 2018]


def test_label_synonyms_a_clerk_uses(raw):
    rows = project_rows()
    rows[0][4], rows[1][3] = "街道级", "微公益"
    openpyxl_book(raw / "b.xlsx", {"projects": [header("projects"), *rows]})
    result = clean(raw)
    assert result.ok, result.summary()
    df = load(raw, "projects")
    assert df["funding_level"].astype(str).tolist() == ["street", "street"]
    assert df["programme"].astype(str).tolist() == ["micro_charity", "micro_charity"]


def test_year_after_the_period_is_an_error(raw):
    rows = project_rows()
    rows[1][0], rows[1][1] = "P2019-0002", 2019
    openpyxl_book(raw / "b.xlsx", {"projects": [header("projects"), *rows]})
    result = clean(raw)
    assert errors(result) == [("b.xlsx", "项目", 3, "年份", "date_late")]
    assert "2013-2018" in result.problems[0].message
