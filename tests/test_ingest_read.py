"""Reading files: formats, encodings, header rows, merged cells, guards."""

from __future__ import annotations

import codecs
import datetime as dt
import zipfile

import pytest

from xzlib.ingest import read as rd
from xzlib.ingest.mess import _Out, _write_xls, _write_xlsx

HEAD = ["社区名称", "户数（户）", "常住人口（人）"]


def only_data(raw: rd.RawFile) -> rd.Sheet:
    sheets = [s for s in raw.sheets if s.kind == "data"]
    assert len(sheets) == 1, raw
    return sheets[0]


def test_gbk_csv_is_detected_from_real_gbk_bytes(tmp_path):
    text = "社区基本情况统计表,,\r\n单位：户,,\r\n" + ",".join(HEAD) + "\r\n紫荆社区,3000,9000\r\n"
    data = text.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    path = tmp_path / "440402001_翠香街道__社区基本情况.csv"
    path.write_bytes(data)
    raw = rd.read_file(path, tmp_path)
    assert raw.encoding == "gb18030" and raw.format == "csv" and not raw.problems
    sh = only_data(raw)
    assert sh.table == "communities" and sh.header_row == 3 and sh.headers == HEAD
    assert sh.units[0] == "户"
    assert sh.data.index.tolist() == [4]  # the Excel row the clerk sees
    assert sh.data.loc[4].tolist() == ["紫荆社区", "3000", "9000"]


@pytest.mark.parametrize("encoding, expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("utf-16", "utf-16"),
])
def test_text_encodings(tmp_path, encoding, expected):
    sep = "\t" if encoding == "utf-16" else ","
    text = sep.join(HEAD) + "\r\n" + sep.join(["翠香社区", "１２３", '"4,567"']) + "\r\n"
    suffix = ".tsv" if sep == "\t" else ".csv"
    path = tmp_path / f"x__社区基本情况{suffix}"
    path.write_bytes(text.encode(encoding))
    raw = rd.read_file(path, tmp_path)
    assert raw.encoding == expected
    sh = only_data(raw)
    assert sh.data.loc[2].tolist() == ["翠香社区", "１２３", "4,567"]


def test_detect_encoding_and_format():
    assert rd.detect_encoding("社区".encode("gbk") * 10) == "gb18030"
    assert rd.detect_encoding(codecs.BOM_UTF8 + b"a,b") == "utf-8-sig"
    assert rd.detect_format(b"PK\x03\x04") == "xlsx"
    assert rd.detect_format(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") == "xls"
    assert rd.detect_format(b"<html><body>") == "html"


def _sheet(name, rows, merges=()):
    out = _Out(name, [list(r) for r in rows], list(merges))
    return out


def test_header_row_is_found_below_title_and_unit_rows_and_merged_cells_are_filled(tmp_path):
    rows = [
        ["2018年社区基本情况统计表", None, None],
        ["单位：户、人", None, None],
        HEAD,
        ["紫荆社区", 3000, 9000],
        [None, 3100, 9300],     # merged with the cell above
        ["翠香社区", 2500, 7000],
    ]
    path = tmp_path / "a.xlsx"
    _write_xlsx(path, [_sheet("社区基本情况", rows, [(0, 0, 0, 2), (3, 0, 4, 0)])])
    sh = only_data(rd.read_file(path, tmp_path))
    assert sh.header_row == 3
    assert sh.data.index.tolist() == [4, 5, 6]
    assert sh.data[0].tolist() == ["紫荆社区", "紫荆社区", "翠香社区"]


def test_xls_written_by_xlwt_is_read(tmp_path):
    rows = [HEAD, ["紫荆社区", 3000, 9000.5], ["翠香社区", "２５００", None]]
    path = tmp_path / "b.xls"
    _write_xls(path, [_sheet("社区基本情况", rows)])
    raw = rd.read_file(path, tmp_path)
    assert raw.format == "xls" and not raw.problems
    sh = only_data(raw)
    assert sh.data.loc[2, 2] == 9000.5 and sh.data.loc[3, 1] == "２５００"
    import xlrd

    assert xlrd.open_workbook(str(path)).sheet_by_index(0).cell_value(1, 0) == "紫荆社区"


def test_sheet_is_identified_by_its_headers_when_its_name_is_unknown(tmp_path):
    rows = [["事件编号", "社区名称", "网格编号", "事件类别", "上报时间", "办结时间", "办理状态"],
            ["G1", "紫荆社区", 1, "其他", dt.datetime(2018, 1, 1, 9), None, "办理中"]]
    path = tmp_path / "c.xlsx"
    _write_xlsx(path, [_sheet("Sheet1", rows)])
    sh = only_data(rd.read_file(path, tmp_path))
    assert sh.table == "grid_cases" and sh.header_row == 1


@pytest.mark.parametrize("content, rule", [
    (b"", "empty"),
    (b"PK\x03\x04 this is not a zip", "corrupt"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "EncryptedPackage".encode("utf-16-le"),
     "encrypted"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "corrupt"),
    (b"<html><table><tr><td>1</td></tr></table></html>", "unsupported"),
])
def test_broken_files_give_a_clear_problem_never_an_exception(tmp_path, content, rule):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    raw = rd.read_file(path, tmp_path)
    assert [p.rule for p in raw.problems] == [rule]
    p = raw.problems[0]
    assert p.file == "bad.xlsx" and p.severity == "error" and p.suggestion
    assert "(" in p.message  # Chinese first, English in parentheses


def test_oversized_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\r\n" * 1000)
    monkeypatch.setattr(rd, "MAX_FILE_BYTES", 1000)
    raw = rd.read_file(path, tmp_path)
    assert [p.rule for p in raw.problems] == ["too_large"] and not raw.sheets


def test_sheet_with_too_many_rows_is_refused_from_its_declared_dimension(tmp_path, monkeypatch):
    rows = [HEAD] + [["紫荆社区", i, i] for i in range(50)]
    path = tmp_path / "rows.xlsx"
    _write_xlsx(path, [_sheet("社区基本情况", rows)])
    monkeypatch.setattr(rd, "MAX_SHEET_ROWS", 20)
    raw = rd.read_file(path, tmp_path)
    problems = [p for s in raw.sheets for p in s.problems]
    assert [p.rule for p in problems] == ["too_many_rows"]
    assert "51" in problems[0].message and problems[0].sheet == "社区基本情况"


def test_zip_bomb_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", "0" * 200_000)
    monkeypatch.setattr(rd, "MAX_UNZIPPED_BYTES", 100_000)
    raw = rd.read_file(path, tmp_path)
    assert [p.rule for p in raw.problems] == ["too_large"]


def test_csv_with_too_many_fields_names_the_line(tmp_path):
    text = ",".join(HEAD) + "\n" + "紫荆社区,1,2\n" * 40 + "翠香社区,1,2,3,4\n"
    path = tmp_path / "x__社区基本情况.csv"
    path.write_text(text, encoding="utf-8")
    raw = rd.read_file(path, tmp_path)
    problems = [p for s in raw.sheets for p in s.problems]
    assert [p.rule for p in problems] == ["csv_format"]
    assert problems[0].row == 42


def test_submission_key_groups_csv_files_per_street():
    assert rd.submission_key("440402001_翠香街道__项目.csv") == "440402001_翠香街道"
    assert rd.submission_key("440402001_翠香街道__填报说明.csv") == "440402001_翠香街道"
    assert rd.submission_key("440402001_翠香街道.xlsx") == "440402001_翠香街道"
