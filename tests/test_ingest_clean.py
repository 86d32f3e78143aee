"""`xz clean`: batches of submissions -> processed tables, all or nothing, every problem."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from tests import factories
from xzlib import cli, dataset, schemas, submission
from xzlib.ingest import clean as cl
from xzlib.ingest import mess
from xzlib.ingest.mess import _Out, _write_xlsx
from xzlib.ingest.problems import neutralise
from xzlib.roster import street_of

STREETS = {"440402001": "翠香街道", "440402003": "前山街道"}
CX, QS = "440402001_翠香街道", "440402003_前山街道"


# --------------------------------------------------------------------------- helpers


def split_by_street(frames: dict[str, pd.DataFrame]) -> dict[str, dict[str, pd.DataFrame]]:
    out: dict[str, dict[str, pd.DataFrame]] = {c: {} for c in STREETS}
    for table, df in frames.items():
        schema = schemas.get_schema(table)
        if "street_code" in df.columns:
            st = df["street_code"].astype("string")
        else:
            st = street_of(df["community_code"], schema.years(df))
        for code in STREETS:
            out[code][table] = df[(st == code).to_numpy()].reset_index(drop=True)
    return out


def write_tidy(folder: Path, frames=None, *, synthetic: bool = True) -> Path:
    frames = factories.all_tables() if frames is None else frames
    for code, sub in split_by_street(frames).items():
        submission.write_workbook(folder / submission.workbook_name(code, STREETS[code]), sub,
                                  street_code=code, street_name=STREETS[code], batch=folder.name,
                                  synthetic=synthetic)
    return folder


def notes_rows(code: str, *, synthetic: bool = True, code_cell: str | None = None) -> list:
    return [["镇街代码", code if code_cell is None else code_cell],
            ["镇街名称", STREETS[code]], ["填报批次", "t"],
            ["数据性质", submission.SYNTHETIC_LABEL if synthetic else submission.REAL_LABEL]]


def sheet_rows(table: str, df: pd.DataFrame) -> list[list]:
    """The sheet a clerk sends, as rows of cells (header first)."""
    sub = submission.to_submission(df, table)
    rows = [list(sub.columns)]
    for rec in sub.itertuples(index=False):
        rows.append([None if v is None or (not isinstance(v, str) and pd.isna(v)) else
                     (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for v in rec])
    return rows


def write_book(path: Path, code: str, sheets: dict[str, list[list]], *, merges=None,
               notes: list | None = None) -> Path:
    outs = [_Out(submission.NOTES_SHEET, notes or notes_rows(code))]
    for table, rows in sheets.items():
        outs.append(_Out(submission.SHEETS[table], rows, list((merges or {}).get(table, ()))))
    _write_xlsx(path, outs)
    return path


def tidy_sheets(code: str, frames=None) -> dict[str, list[list]]:
    frames = factories.all_tables() if frames is None else frames
    sub = split_by_street(frames)[code]
    return {t: sheet_rows(t, df) for t, df in sub.items()}


def run(raw: Path, out: Path | None = None, **kw) -> cl.CleanResult:
    return cl.clean(raw, out or raw.parent.parent / "processed", **kw)


def tables(out: Path) -> dict[str, pd.DataFrame]:
    return {t: dataset.load(t, data_dir=out, names=False) for t in schemas.TABLES}


def assert_same_tables(a: Path, b: Path) -> None:
    ta, tb = tables(a), tables(b)
    for t in schemas.TABLES:
        pd.testing.assert_frame_equal(ta[t], tb[t], obj=t)


def tree_hash(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def data(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def tidy(data) -> Path:
    """A tidy batch cleaned into data/tidy-out (the reference)."""
    raw = write_tidy(data / "raw" / "tidy")
    result = run(raw, data / "tidy-out")
    assert result.ok, result.summary()
    return data / "tidy-out"


def messy_batch(data: Path, name: str, mutate) -> Path:
    """A batch whose 翠香 workbook is rewritten by ``mutate(sheets) -> (sheets, merges)``."""
    raw = write_tidy(data / "raw" / name)
    sheets, merges = mutate(tidy_sheets("440402001"))
    write_book(raw / f"{CX}.xlsx", "440402001", sheets, merges=merges)
    return raw


# --------------------------------------------------------------------------- tidy batches


def test_tidy_batch_gives_the_input_tables(tidy):
    got = tables(tidy)
    for t, df in factories.all_tables().items():
        schema = schemas.get_schema(t)
        want = schemas.coerce(df, schema).sort_values(list(schema.key), ignore_index=True)
        pd.testing.assert_frame_equal(got[t], want, obj=t)
    man = dataset.manifest(tidy)
    assert man["synthetic"] is True and man["batch"] == "tidy"
    assert {s["file"] for s in man["sources"]} == {f"{CX}.xlsx", f"{QS}.xlsx"}
    assert all(len(s["sha256"]) == 64 and s["bytes"] > 0 for s in man["sources"])


def test_same_batch_gives_byte_identical_tables(data, tidy):
    result = run(data / "raw" / "tidy", data / "again")
    assert result.ok
    assert tree_hash(tidy) == tree_hash(data / "again")


def test_report_goes_beside_not_inside_the_processed_folder(data, tidy):
    rep = data / "interim" / "clean-report-tidy"
    assert sorted(p.name for p in rep.iterdir()) == ["clean-report.csv", "clean-report.xlsx"]
    assert not any("report" in p.name for p in tidy.iterdir())


# --------------------------------------------------------------------------- mess, one kind each


def _title_rows(sheets):
    out = {}
    merges = {}
    for t, rows in sheets.items():
        w = len(rows[0])
        out[t] = [[f"2018年{submission.SHEETS[t]}统计表"] + [None] * (w - 1),
                  ["单位：万元"] + [None] * (w - 1), *rows]
        merges[t] = [(0, 0, 0, w - 1)]
    return out, merges


def _map_cells(fn):
    def mutate(sheets):
        return {t: [rows[0]] + [[fn(t, rows[0][j], v) for j, v in enumerate(r)] for r in rows[1:]]
                for t, rows in sheets.items()}, {}
    return mutate


def _fullwidth(t, header, v):
    if isinstance(v, float | int) and not isinstance(v, bool):
        text = str(int(v)) if float(v).is_integer() else repr(float(v))
        return text.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    return v


def _separators(t, header, v):
    if isinstance(v, float | int) and not isinstance(v, bool) and v >= 1000 and "年" not in header:
        return f"{int(v):,}" if float(v).is_integer() else f"{v:,}"
    return v


def _padded_names(t, header, v):
    if header == "社区名称" and isinstance(v, str):
        return {"紫荆社区": " 紫荆社区居委会\u3000", "翠香社区": "翠香 "}.get(v, v)
    if isinstance(v, str) and header in ("事件类别", "项目类别", "办理状态"):
        return f" {v}\u3000"
    return v


def _dates(t, header, v):
    if isinstance(v, dt.datetime):
        if v.time() == dt.time():
            return f"{v.year}年{v.month}月{v.day}日"
        return v.strftime("%Y/%m/%d %H:%M")
    return v


def _totals_and_spacers(sheets):
    out = {}
    for t, rows in sheets.items():
        if len(rows) < 2:
            out[t] = rows
            continue
        head, body = rows[0], rows[1:]
        total = [None] * len(head)
        total[head.index("社区名称")] = "合计"
        for j, h in enumerate(head):
            vals = [r[j] for r in body]
            if "（" in h and all(isinstance(v, float | int) for v in vals if v is not None) \
                    and not h.startswith(("年份", "网格编号", "第三方")):
                total[j] = sum(v for v in vals if v is not None)
        spacer = [None] * len(head)
        out[t] = [head, body[0], spacer, *body[1:], spacer, total] if t != "grid_cases" \
            else [head, body[0], spacer, *body[1:]]
    return out, {}


MESS = {
    "title_and_units_rows": _title_rows,
    "fullwidth_digits": _map_cells(_fullwidth),
    "thousands_separators": _map_cells(_separators),
    "padded_names_and_labels": _map_cells(_padded_names),
    "date_forms": _map_cells(_dates),
    "total_row_and_spacer_rows": _totals_and_spacers,
}


@pytest.mark.parametrize("kind", sorted(MESS))
def test_each_kind_of_mess_gives_the_tidy_tables(data, tidy, kind):
    raw = messy_batch(data, kind, MESS[kind])
    result = run(raw, data / "messy-out")
    assert result.ok, result.summary()
    assert_same_tables(tidy, data / "messy-out")


def test_merged_community_cells_are_filled(data, tidy):
    frames = factories.all_tables()
    two = pd.concat([frames["communities"]] * 2, ignore_index=True)
    two.loc[3:, "year"] = 2017  # the same communities a year earlier
    frames["communities"] = two
    ref = write_tidy(data / "raw" / "ref", frames)
    assert run(ref, data / "ref-out").ok

    def mutate(sheets):
        rows = sheets["communities"]
        head, body = rows[0], rows[1:]
        body.sort(key=lambda r: r[1])  # community name, then rows of both years adjacent
        k = head.index("社区名称")
        merges = []
        for i in range(0, len(body), 2):
            body[i + 1][k] = None
            merges.append((i + 1, k, i + 2, k))
        sheets["communities"] = [head, *body]
        return sheets, {"communities": merges}

    raw = write_tidy(data / "raw" / "merged", frames)
    sheets, merges = mutate(tidy_sheets("440402001", frames))
    write_book(raw / f"{CX}.xlsx", "440402001", sheets, merges=merges)
    result = run(raw, data / "merged-out")
    assert result.ok, result.summary()
    assert_same_tables(data / "ref-out", data / "merged-out")


def test_money_in_yuan_is_converted_and_recorded(data, tidy):
    def mutate(sheets):
        rows = sheets["projects"]
        j = rows[0].index("政府资金（万元）")
        rows[0][j] = "资金 元"
        for r in rows[1:]:
            r[j] = f"{round(r[j] * 10000):,}"
        return sheets, {}

    raw = messy_batch(data, "yuan", mutate)
    result = run(raw, data / "yuan-out")
    assert result.ok, result.summary()
    assert_same_tables(tidy, data / "yuan-out")
    conv = dataset.manifest(data / "yuan-out")["conversions"]
    assert conv == [{"file": f"{CX}.xlsx", "sheet": "项目", "column": "资金 元",
                     "field": "projects.gov_funds_wan", "from": "元", "to": "万元",
                     "factor": "0.0001", "rows": 1, "where": "header"}]
    assert any(w.rule == "unit_converted" for w in result.warnings)


def test_qualifiers_load_the_number_and_are_recorded(data, tidy):
    def mutate(sheets):
        rows = sheets["projects"]
        j = rows[0].index("服务人次（人次）")
        rows[1][j] = f"约{int(rows[1][j])}"
        return sheets, {}

    raw = messy_batch(data, "qual", mutate)
    result = run(raw, data / "qual-out")
    assert result.ok
    assert_same_tables(tidy, data / "qual-out")
    man = dataset.manifest(data / "qual-out")
    assert man["qualifiers"] == [{"file": f"{CX}.xlsx", "sheet": "项目", "row": 2,
                                  "column": "服务人次（人次）", "field": "projects.beneficiaries",
                                  "value": "约1200", "loaded": "1200", "qualifier": "about",
                                  "marker": "约", "key": {"project_id": "P2018-0001"}}]
    w = [w for w in result.warnings if w.rule == "qualifier"]
    assert len(w) == 1 and w[0].row == 2 and "约" in w[0].message


def test_street_named_instead_of_coded_and_alias_names_are_warnings(data, tidy):
    def mutate(sheets):
        rows = sheets["communities"]
        rows[1][1] = "紫荆社区居委会"
        return sheets, {}

    raw = write_tidy(data / "raw" / "names")
    sheets, _ = mutate(tidy_sheets("440402001"))
    write_book(raw / f"{CX}.xlsx", "440402001", sheets,
               notes=notes_rows("440402001", code_cell="翠香街道"))
    (raw / f"{CX}.xlsx").rename(raw / "翠香街道报表.xlsx")  # no code in the file name either
    result = run(raw, data / "names-out")
    assert result.ok, result.summary()
    assert_same_tables(tidy, data / "names-out")
    alias = [w for w in result.warnings if w.rule == "alias"]
    assert alias and alias[0].column == "社区名称" and alias[0].row == 2


def test_wrong_total_row_is_a_warning_not_an_error(data, tidy):
    def mutate(sheets):
        rows = sheets["communities"]
        head = rows[0]
        total = [None] * len(head)
        total[head.index("社区名称")] = "合计"
        total[head.index("户数（户）")] = 1  # wrong
        sheets["communities"] = [*rows, total]
        return sheets, {}

    raw = messy_batch(data, "total", mutate)
    result = run(raw, data / "total-out")
    assert result.ok
    assert_same_tables(tidy, data / "total-out")
    w = [w for w in result.warnings if w.rule == "total"]
    assert len(w) == 1 and w[0].row == 4 and w[0].column == "户数（户）"
    assert "7200" in w[0].message


# --------------------------------------------------------------------------- rejections


def _bad_cell(table: str, header: str, value, row: int = 2):
    def mutate(sheets):
        rows = sheets[table]
        rows[row - 1][rows[0].index(header)] = value
        return sheets, {}
    return mutate


REJECT = {
    # kind: (mutation, sheet, row, column as written, rule)
    "not_a_number": (_bad_cell("communities", "户数（户）", "很多"), "社区基本情况", 2, "户数（户）",
                     "number"),
    "not_a_date": (_bad_cell("deliberations", "会议日期", "下周一"), "议事协商", 2, "会议日期",
                   "date"),
    "unknown_community": (_bad_cell("grid_cases", "社区名称", "紫金社区"), "网格事件", 2, "社区名称",
                          "community"),
    "community_of_another_street": (_bad_cell("grid_cases", "社区名称", "金钟社区", 3), "网格事件", 3,
                                    "社区名称", "community_street"),
    "not_an_allowed_label": (_bad_cell("grid_cases", "办理状态", "已撤销"), "网格事件", 2, "办理状态",
                             "allowed"),
    "not_yes_no": (_bad_cell("communities", "是否设社区党委", "可能"), "社区基本情况", 2,
                   "是否设社区党委", "bool"),
    "out_of_range": (_bad_cell("communities", "户数（户）", -5), "社区基本情况", 2, "户数（户）", "range"),
    "required_missing": (_bad_cell("projects", "项目名称", None), "项目", 2, "项目名称", "not_null"),
    "bad_id_format": (_bad_cell("projects", "项目编号", "P 2018/1"), "项目", 2, "项目编号", "format"),
    "duplicate_key": (_bad_cell("grid_cases", "事件编号", "G2018-0000001", 3), "网格事件", 3, "事件编号",
                      "unique"),
    "cross_column_rule": (_bad_cell("communities", "网格长数（人）", 99), "社区基本情况", 2,
                          "网格长数（人）", "grid_leaders_le_grids"),
    "status_without_date": (_bad_cell("grid_cases", "办结时间", None), "网格事件", 2, "办结时间",
                            "resolved_has_date"),
    "non_integer": (_bad_cell("communities", "网格数（个）", 2.5), "社区基本情况", 2, "网格数（个）",
                    "number"),
    "wrong_unit_in_header": (lambda s: (_rename(s, "projects", "政府资金（万元）", "政府资金（美元）"),
                                        {}), "项目", 1, "政府资金（美元）", "unit"),
    "missing_column": (lambda s: (_drop(s, "grid_cases", "事件类别"), {}), "网格事件", 1, "事件类别",
                       "missing_column"),
}


def _rename(sheets, table, old, new):
    rows = sheets[table]
    rows[0][rows[0].index(old)] = new
    return sheets


def _drop(sheets, table, header):
    rows = sheets[table]
    j = rows[0].index(header)
    sheets[table] = [r[:j] + r[j + 1:] for r in rows]
    return sheets


@pytest.mark.parametrize("kind", sorted(REJECT))
def test_each_kind_of_rejection_names_file_sheet_row_and_column(data, tidy, kind):
    mutate, sheet, row, column, rule = REJECT[kind]
    before = tree_hash(tidy)
    raw = messy_batch(data, kind, mutate)
    result = run(raw, tidy)  # tries to replace the good processed data
    assert not result.ok
    hits = [p for p in result.problems if p.rule == rule]
    assert hits, result.summary()
    p = hits[0]
    assert (p.file, p.sheet, p.row, p.column) == (f"{CX}.xlsx", sheet, row, column), p
    assert p.message and p.suggestion and p.severity == "error"
    assert tree_hash(tidy) == before  # all or nothing
    with open(result.report_paths[1], encoding="utf-8-sig", newline="") as f:
        report = [(r["文件 (file)"], r["工作表 (sheet)"], r["行号 (row)"], r["列 (column)"],
                   r["规则 (rule)"]) for r in csv.DictReader(f)]
    assert (f"{CX}.xlsx", sheet, str(row), column, rule) in report


def test_every_problem_of_every_file_in_one_pass(data):
    raw = write_tidy(data / "raw" / "many")
    s1 = tidy_sheets("440402001")
    s1["communities"][1][2] = "很多"            # 翠香: row 2
    s1["grid_cases"][2][1] = "紫金社区"         # 翠香: row 3
    write_book(raw / f"{CX}.xlsx", "440402001", s1)
    s2 = tidy_sheets("440402003")
    s2["deliberations"][1][1] = "2018-02-30"   # 前山: row 2
    write_book(raw / f"{QS}.xlsx", "440402003", s2)
    (raw / "broken.xlsx").write_bytes(b"PK\x03\x04garbage")
    result = run(raw)
    assert not result.ok
    where = {(p.file, p.sheet, p.row, p.rule) for p in result.problems}
    assert (f"{CX}.xlsx", "社区基本情况", 2, "number") in where
    assert (f"{CX}.xlsx", "网格事件", 3, "community") in where
    assert (f"{QS}.xlsx", "议事协商", 2, "date") in where
    assert ("broken.xlsx", "", None, "corrupt") in where
    assert not (data / "processed").exists()


def test_mixed_synthetic_and_real_is_an_error(data):
    raw = write_tidy(data / "raw" / "mixed")
    write_book(raw / f"{QS}.xlsx", "440402003", tidy_sheets("440402003"),
               notes=notes_rows("440402003", synthetic=False))
    result = run(raw)
    assert not result.ok
    assert [p.rule for p in result.problems] == ["mixed_synthetic"]


def test_two_submissions_for_one_street_is_an_error(data):
    raw = write_tidy(data / "raw" / "twice")
    write_book(raw / "翠香街道（更正）.xlsx", "440402001", tidy_sheets("440402001"))
    result = run(raw)
    assert not result.ok
    assert "duplicate_submission" in {p.rule for p in result.problems}


def test_real_batch_is_not_synthetic(data):
    raw = write_tidy(data / "raw" / "real", synthetic=False)
    result = run(raw)
    assert result.ok and dataset.manifest(data / "processed")["synthetic"] is False


def test_unknown_street_is_an_error(data):
    raw = write_tidy(data / "raw" / "nost")
    write_book(raw / f"{CX}.xlsx", "440402001", tidy_sheets("440402001"),
               notes=notes_rows("440402001", code_cell="某某街道"))
    result = run(raw)
    assert not result.ok
    p = next(p for p in result.problems if p.rule == "street")
    assert p.file == f"{CX}.xlsx" and p.sheet == "填报说明" and p.column == "镇街代码"


def test_report_files_list_every_problem_and_neutralise_formulas(data):
    raw = write_tidy(data / "raw" / "formula")
    s = tidy_sheets("440402001")
    s["grid_cases"][1][s["grid_cases"][0].index("事件类别")] = "=HYPERLINK(\"http://x\")"
    write_book(raw / f"{CX}.xlsx", "440402001", s)
    result = run(raw)
    assert not result.ok
    xlsx, csv_path = result.report_paths
    assert csv_path.parent == data / "interim" / "clean-report-formula"
    with open(csv_path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    bad = [r for r in rows if r["级别 (severity)"] == "错误"]
    assert len(bad) == len(result.problems)
    assert bad[0]["值 (value)"] == "'=HYPERLINK(\"http://x\")"
    assert bad[0]["行号 (row)"] == "2" and bad[0]["工作表 (sheet)"] == "网格事件"
    report = pd.read_excel(xlsx, sheet_name="错误", engine="calamine")
    assert report["值 (value)"].iloc[0].startswith("'=")
    assert neutralise("@SUM(A1)") == "'@SUM(A1)" and neutralise("-1") == "'-1"
    assert neutralise(5) == 5


def test_summary_is_a_readable_table(data):
    raw = messy_batch(data, "sum", _bad_cell("communities", "户数（户）", "很多"))
    text = run(raw).summary()
    assert "失败 (failed)" in text and "社区基本情况" in text and "很多" in text
    assert "Traceback" not in text


# --------------------------------------------------------------------------- atomicity, safety


def test_failing_batch_leaves_previous_processed_folder_byte_identical(data, tidy):
    before = tree_hash(tidy)
    raw = messy_batch(data, "bad", _bad_cell("communities", "户数（户）", "很多"))
    raw_before = tree_hash(raw)
    result = run(raw, tidy)
    assert not result.ok
    assert tree_hash(tidy) == before
    assert tree_hash(raw) == raw_before  # raw files are never modified
    assert not any(p.name.startswith(".") for p in tidy.parent.iterdir())  # no leftovers


def test_folders_may_not_overlap(data):
    raw = write_tidy(data / "raw" / "b")
    from xzlib.errors import UsageError

    with pytest.raises(UsageError):
        cl.clean(raw, raw / "processed")
    with pytest.raises(UsageError):
        cl.clean(raw, data / "processed", report_dir=data / "processed" / "rep")
    with pytest.raises(UsageError):
        cl.clean(raw, data / "processed", report_dir=raw / "rep")
    with pytest.raises(UsageError):
        cl.clean(data / "raw" / "missing", data / "processed")


def test_cli_exit_status(data, capsys):
    raw = write_tidy(data / "raw" / "cli")
    assert cli.main(["clean", "--raw", str(raw), "--out", str(data / "p")]) == 0
    assert "成功 (ok)" in capsys.readouterr().out
    bad = messy_batch(data, "clibad", _bad_cell("communities", "户数（户）", "很多"))
    assert cli.main(["clean", "--raw", str(bad), "--out", str(data / "p")]) == 1
    out = capsys.readouterr()
    assert "很多" in out.out and "Traceback" not in out.err
    assert cli.main(["clean", "--raw", str(data / "raw" / "nope"), "--out", str(data / "p")]) == 2


def test_lock_files_and_other_files_are_skipped_with_a_warning(data, tidy):
    raw = write_tidy(data / "raw" / "extra")
    (raw / "~$440402001_翠香街道.xlsx").write_bytes(b"lock")
    (raw / "说明.docx").write_bytes(b"doc")
    result = run(raw)
    assert result.ok
    assert {w.rule for w in result.warnings} >= {"lock_file", "unsupported"}


# --------------------------------------------------------------------------- messify


def four_street_batch(folder: Path) -> Path:
    """Four streets, so that messify uses xlsx, GBK CSV, xls and UTF-8-BOM CSV."""
    frames = factories.all_tables()
    extra = {"440402002": ("梅华街道", "440402002001"), "440402004": ("吉大街道", "440402004001")}
    for code, (name, comm) in extra.items():
        sub = {t: df[df.index == 0].copy() for t, df in frames.items()}
        for t, df in sub.items():
            df["community_code"] = comm
            if "street_code" in df.columns:
                df["street_code"] = code
            key = schemas.get_schema(t).key[0]
            if key != "community_code":
                df[key] = df[key].astype(str) + code[-1]
        submission.write_workbook(folder / submission.workbook_name(code, name), sub,
                                  street_code=code, street_name=name, batch=folder.name,
                                  synthetic=True)
    return write_tidy(folder)


def test_messify_round_trips_through_clean(data):
    tidy_raw = four_street_batch(data / "raw" / "four")
    assert run(tidy_raw, data / "four-out").ok
    messy = mess.messify(tidy_raw, data / "raw" / "four-messy", seed=3)
    names = sorted(p.name for p in messy.iterdir())
    assert "440402002_梅华街道__网格事件.csv" in names            # GBK CSV street
    assert "440402003_前山街道.xls" in names                      # Excel 97 street
    assert "440402004_吉大街道__项目.csv" in names                # UTF-8-BOM CSV street
    gbk = (messy / "440402002_梅华街道__社区基本情况.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    assert "社区基本情况" in gbk.decode("gbk")
    assert (messy / "440402004_吉大街道__项目.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    import xlrd

    assert "项目" in xlrd.open_workbook(str(messy / "440402003_前山街道.xls")).sheet_names()
    result = run(messy, data / "four-messy-out")
    assert result.ok, result.summary()
    assert_same_tables(data / "four-out", data / "four-messy-out")


def test_messify_is_deterministic_and_works_in_place(data):
    tidy_raw = four_street_batch(data / "raw" / "det")
    a = mess.messify(tidy_raw, data / "raw" / "a", seed=1)
    b = mess.messify(tidy_raw, data / "raw" / "b", seed=1)
    assert tree_hash(a) == tree_hash(b)
    in_place = mess.messify(tidy_raw, tidy_raw, seed=1)
    assert tree_hash(in_place) == tree_hash(a)
    assert not any(p.name.startswith(".") for p in tidy_raw.parent.iterdir())


@pytest.mark.slow
def test_messy_sample_batch_gives_the_tidy_sample_tables(tmp_path):
    from xzlib import sample

    tidy_raw = sample.write_sample(tmp_path / "raw" / "sample", seed=0)
    assert run(tidy_raw, tmp_path / "tidy-out").ok
    messy = mess.messify(tidy_raw, tmp_path / "raw" / "messy", seed=0)
    result = run(messy, tmp_path / "messy-out")
    assert result.ok, result.summary()
    assert_same_tables(tmp_path / "tidy-out", tmp_path / "messy-out")
    man = json.loads((tmp_path / "messy-out" / "manifest.json").read_text(encoding="utf-8"))
    assert man["synthetic"] is True and man["conversions"] and man["qualifiers"]
    assert {s.get("encoding") for s in man["sources"]} >= {"gb18030", "utf-8-sig"}


def test_repeated_header_rows_and_footers_are_skipped(data, tidy):
    def mutate(sheets):
        rows = sheets["grid_cases"]
        footer = ["填表人：张三", None, "审核人：李四"] + [None] * (len(rows[0]) - 3)
        sheets["grid_cases"] = [rows[0], rows[1], list(rows[0]), *rows[2:], footer]
        return sheets, {}

    raw = messy_batch(data, "rep", mutate)
    result = run(raw, data / "rep-out")
    assert result.ok, result.summary()
    assert_same_tables(tidy, data / "rep-out")
    assert {"repeated_header", "footer"} <= {w.rule for w in result.warnings}
