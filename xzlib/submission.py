"""The submission format: one workbook per street per batch, as a street office fills it in.

A workbook ``<street_code>_<street_name>.xlsx`` has a notes sheet (填报说明) and one sheet
per programme table.  The data sheets differ from the processed tables in the ways a clerk
expects:

* headers are Chinese with the unit, e.g. ``政府资金（万元）`` (:attr:`Column.header`);
* the street is given once, on the notes sheet, not on every row;
* communities are named (``紫荆社区``), not coded;
* coded values are written in Chinese (``微公益创投``, ``已办结``, ``是``/``否``);
* dates are Excel dates.

This module declares that layout once (:func:`fields`) and writes workbooks from
processed-form frames (:func:`write_workbook`, used by the sample generator) or empty
(:func:`write_template`, ``xz template``).  Reading them back is :mod:`xzlib.ingest`'s job.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import schemas
from .fsutil import atomic_file
from .roster import divisions as _divisions

__all__ = [
    "NOTES_SHEET",
    "SHEETS",
    "META_FIELDS",
    "SYNTHETIC_LABEL",
    "Field",
    "fields",
    "workbook_name",
    "to_submission",
    "write_workbook",
    "write_template",
    "write_templates",
    "template_name",
]

NOTES_SHEET = "填报说明"
#: Sheet name of each programme table.
SHEETS = {name: s.zh for name, s in schemas.SCHEMAS.items()}
#: Key cells on the notes sheet (column A label, column B value), in order.
META_FIELDS = {"street_code": "镇街代码", "street_name": "镇街名称", "batch": "填报批次",
               "data_nature": "数据性质"}
#: Value of 数据性质 for synthetic data; anything else is treated as real data.
SYNTHETIC_LABEL = "示例数据（合成数据，非真实统计）"
REAL_LABEL = "正式填报数据"
#: Fixed document date so that the same data gives the same bytes.
_EPOCH = dt.datetime(2019, 1, 1)


@dataclass(frozen=True)
class Field:
    """One column of a submission sheet.

    Attributes
    ----------
    header : str
        Header as written in the template.
    column : str
        Processed-table column it fills.
    kind : {"value", "community_name", "label", "bool", "date", "datetime"}
        How the written value maps to the processed value.
    required : bool
        Whether a clerk must fill it in.
    """

    header: str
    column: str
    kind: str
    required: bool
    help: str


def fields(table: str) -> list[Field]:
    """Return the submission columns of ``table``, in sheet order."""
    out = []
    for c in schemas.get_schema(table).columns:
        if c.name == "street_code":
            continue  # given once on the notes sheet
        if c.name == "community_code":
            out.append(Field("社区名称", c.name, "community_name", not c.nullable,
                             "社区名称，如「紫荆社区」" + ("；全街道项目留空" if c.nullable else "")))
            continue
        if c.dtype == "boolean":
            kind = "bool"
        elif c.label_map:
            kind = "label"
        elif c.dtype.startswith("datetime64"):
            kind = "datetime" if c.name.endswith("_at") else "date"
        else:
            kind = "value"
        help_ = c.description
        if c.label_map:
            help_ += " 填写: " + " / ".join(c.label_map.values())
        out.append(Field(c.header, c.name, kind, not c.nullable, help_))
    return out


def workbook_name(street_code: str, street_name: str) -> str:
    """Return the file name of a street's workbook, e.g. ``440402001_翠香街道.xlsx``."""
    return f"{street_code}_{street_name}.xlsx"


def to_submission(df: pd.DataFrame, table: str, names: dict | None = None) -> pd.DataFrame:
    """Turn a processed-form frame into the sheet a clerk would send.

    Community codes become names, coded values Chinese labels, booleans 是/否.
    """
    names = (names if names is not None
             else _divisions().drop_duplicates("code").set_index("code")["name"].to_dict())
    out = {}
    for f in fields(table):
        col = schemas.get_schema(table).column(f.column)
        s = df[f.column]
        if f.kind == "community_name":
            s = s.astype("string").map(names)
        elif f.kind in ("label", "bool"):
            s = s.astype("string").map(col.label_map)
        out[f.header] = s.astype(object).where(s.notna(), None)
    return pd.DataFrame(out)


def _notes_rows(meta: dict) -> list[list]:
    rows = [[META_FIELDS[k], meta.get(k, "")] for k in META_FIELDS]
    rows += [[], ["说明", "每个工作表第一行为表头，请勿改动表头；金额单位为万元；一行填写一条记录。"],
             [], ["工作表", "表头", "是否必填", "说明"]]
    for table, sheet in SHEETS.items():
        rows += [[sheet, f.header, "必填" if f.required else "选填", f.help] for f in fields(table)]
    return rows


def _write_notes(wb, meta: dict, bold):
    """The notes sheet (填报说明): the key cells, then every column explained."""
    notes = wb.add_worksheet(NOTES_SHEET)
    for r, row in enumerate(_notes_rows(meta)):
        for c, v in enumerate(row):
            notes.write_string(r, c, str(v), bold if c == 0 else None)
    notes.set_column(0, 0, 16)
    notes.set_column(1, 1, 40)
    notes.set_column(3, 3, 60)
    return notes


def write_workbook(
    path: str | os.PathLike,
    frames: dict[str, pd.DataFrame],
    *,
    street_code: str,
    street_name: str,
    batch: str,
    synthetic: bool,
) -> Path:
    """Write one street's submission workbook, atomically and byte-reproducibly.

    Parameters
    ----------
    path : path
        Target ``.xlsx`` file.
    frames : dict of str to DataFrame
        Processed-form rows of this street for each table (missing tables are written
        empty).
    street_code, street_name, batch : str
        Written on the notes sheet.
    synthetic : bool
        Marks the workbook as 示例数据 on the notes sheet and in every sheet's title.
    """
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"street_code": street_code, "street_name": street_name, "batch": batch,
            "data_nature": SYNTHETIC_LABEL if synthetic else REAL_LABEL}
    with atomic_file(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_formulas": False,
                                       "strings_to_urls": False})
        wb.set_properties({"created": _EPOCH, "title": f"{street_name} {batch}"})
        bold = wb.add_format({"bold": True})
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        time_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        _write_notes(wb, meta, bold)
        for table, sheet_name in SHEETS.items():
            ws = wb.add_worksheet(sheet_name)
            flds = fields(table)
            for c, f in enumerate(flds):
                ws.write_string(0, c, f.header, bold)
                ws.set_column(c, c, max(10, len(f.header) * 2))
            df = frames.get(table)
            if df is None or df.empty:
                continue
            sub = to_submission(df, table)
            columns = [_cells(sub[f.header], f.kind) for f in flds]
            writers = [_writer(ws, f.kind, date_fmt, time_fmt) for f in flds]
            for r, row in enumerate(zip(*columns, strict=True), start=1):
                for c, v in enumerate(row):
                    if v is not None:
                        writers[c](r, c, v)
        wb.close()
    return path


def _cells(s: pd.Series, kind: str) -> list:
    """Return a column's cells as Python values, None where missing."""
    values = list(pd.to_datetime(s).dt.to_pydatetime()) if kind in ("date", "datetime") else s.tolist()
    return [None if m else v for v, m in zip(values, s.isna().to_numpy(), strict=True)]


def _writer(ws, kind: str, date_fmt, time_fmt):
    if kind == "date":
        return lambda r, c, v: ws.write_datetime(r, c, v, date_fmt)
    if kind == "datetime":
        return lambda r, c, v: ws.write_datetime(r, c, v, time_fmt)

    def write(r, c, v):
        if isinstance(v, str):
            ws.write_string(r, c, v)
        else:
            ws.write_number(r, c, float(v))

    return write


# --------------------------------------------------------------------------- the template

#: Data rows that carry the template's validations (Excel's last row is 1,048,576).
TEMPLATE_ROWS = 100_000
#: Column of the notes sheet holding the drop-down lists (communities, labels).
_LIST_COL = 6


def _communities_of(street_code: str, year: int | None) -> list[str]:
    df = _divisions(year, level="community") if year else _divisions(level="community")
    names = df.loc[df["parent_code"] == street_code, "name"].drop_duplicates()
    return sorted(names.tolist())


def _example(col: schemas.Column, kind: str) -> str:
    if kind in ("label", "bool"):
        return next(iter(col.label_map.values()))
    if col.allowed:
        return col.allowed[0]
    if kind == "date":
        return "2018-07-03"
    if kind == "datetime":
        return "2018-07-03 14:30"
    if col.dtype == "Int64":
        return "120" if col.name != "year" else "2018"
    if col.dtype == "float64":
        return "12.5"
    if col.pattern:
        return {"project_id": "P2018-0001", "meeting_id": "M2018-00001",
                "case_id": "G2018-0000001"}.get(col.name, "A-001")
    return ""


def _validation(col: schemas.Column, f: Field, lists: dict, period: tuple[int, int]) -> dict:
    """The Excel data validation of one column (xlsxwriter's options)."""
    import datetime as _dt

    need = "必填" if f.required else "选填"
    unit = f"单位：{col.unit}。" if col.unit else ""
    example = _example(col, f.kind)
    rule = ("从下拉列表选择" if f.kind in ("community_name", "label", "bool") or col.allowed
            else "日期，如 2018-07-03" if f.kind == "date"
            else "日期和时间，如 2018-07-03 14:30" if f.kind == "datetime"
            else "字母、数字、- 或 _" if col.pattern else "")
    hint = f"{col.zh}，{need}。{unit}{rule}" + (f"。例: {example}" if example and not
                                             rule.startswith("日期") else "")
    v: dict = {"input_title": f.header[:32], "input_message": hint[:255],
               "error_title": "输入有误"[:32], "ignore_blank": True}
    if (f.kind == "community_name" and f.column in lists) or f.kind in ("label", "bool") \
            or col.allowed:
        v.update(validate="list", source=lists[f.column])
        v["error_message"] = f"请从下拉列表中选择「{f.header}」。"[:255]
    elif f.kind in ("date", "datetime"):
        lo, hi = _dt.datetime(period[0], 1, 1), _dt.datetime(period[1], 12, 31, 23, 59, 59)
        v.update(validate="date", criteria="between", minimum=lo, maximum=hi)
        v["error_message"] = (f"「{f.header}」应为 {period[0]}-01-01 至 {period[1]}-12-31 之间的"
                              f"日期，如 {example}。")
    elif col.dtype in ("Int64", "float64"):
        lo = col.min if col.min is not None else 0
        hi = col.max
        if col.name == "year":
            lo, hi = period
        whole = col.dtype == "Int64"
        v.update(validate="integer" if whole else "decimal", criteria="between", minimum=lo,
                 maximum=hi if hi is not None else 1e12)
        what = "整数" if whole else "数字"
        rng = f"{_fmt(lo)} 至 {_fmt(hi)}" if hi is not None else f"不小于 {_fmt(lo)}"
        v["error_message"] = f"「{f.header}」应为{what}，{rng}{('（' + col.unit + '）') if col.unit else ''}。"
        v["input_message"] = (hint + f"。{what}，{rng}")[:255]
    else:
        v.update(validate="length", criteria="between", minimum=1,
                 maximum=40 if col.pattern else 200)
        v["error_message"] = (f"「{f.header}」最多 {40 if col.pattern else 200} 个字"
                              + ("（字母、数字、- 或 _）" if col.pattern else "") + "。")
    return v


def _fmt(x) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def write_template(path: str | os.PathLike, *, street_code: str = "", street_name: str = "",
                   batch: str = "", year: int | None = None) -> Path:
    """Write an empty submission workbook that prevents mistakes at the source.

    In exactly the format :mod:`xzlib.ingest` reads: the notes sheet with the street and
    batch filled in; one sheet per table with a frozen, locked header row, widths that
    fit the Chinese headers, and on every column an Excel data validation (whole numbers
    and decimals in their range, dates within the programme period, drop-down lists for
    the street's communities of ``year`` and every coded column: 项目类别, 资助层级,
    办理状态, 事件类别, 是/否), an input message (rule, unit, example) and an error alert.

    Parameters
    ----------
    path : path
        Target ``.xlsx`` file (written atomically).
    street_code, street_name : str
        The street (both filled on the notes sheet); empty for a blank template.
    batch : str
        填报批次 (default: ``"<year>年"`` when ``year`` is given).
    year : int, optional
        The year the workbook is for: its communities fill the drop-down list and its
        dates are checked against it.  Without it, every community the street ever had
        and the whole programme period.
    """
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if year and not batch:
        batch = f"{year}年"
    period = (year, year) if year else (schemas.FIRST_YEAR, schemas.LAST_YEAR)
    meta = {"street_code": street_code, "street_name": street_name, "batch": batch,
            "data_nature": REAL_LABEL}
    with atomic_file(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False,
                                            "strings_to_urls": False})
        wb.set_properties({"created": _EPOCH, "title": f"{street_name} {batch} 填报模板".strip()})
        bold = wb.add_format({"bold": True})
        head = wb.add_format({"bold": True, "locked": True, "bg_color": "#DDEBF7", "border": 1,
                              "text_wrap": True, "valign": "vcenter"})
        free = wb.add_format({"locked": False})
        text = wb.add_format({"locked": False, "num_format": "@"})
        date_fmt = wb.add_format({"locked": False, "num_format": "yyyy-mm-dd"})
        time_fmt = wb.add_format({"locked": False, "num_format": "yyyy-mm-dd hh:mm"})
        notes = _write_notes(wb, meta, bold)
        # drop-down lists, in columns of the notes sheet (a hidden sheet would be skipped)
        lists: dict[str, str] = {}
        col_no = _LIST_COL

        def add_list(key: str, title: str, values: list[str]) -> None:
            nonlocal col_no
            notes.write_string(0, col_no, title, bold)
            for r, v in enumerate(values, start=1):
                notes.write_string(r, col_no, v)
            letter = xlsxwriter.utility.xl_col_to_name(col_no)
            lists[key] = f"='{NOTES_SHEET}'!${letter}$2:${letter}${max(2, len(values) + 1)}"
            notes.set_column(col_no, col_no, max(12, 2 * max((len(v) for v in values), default=4)))
            col_no += 1

        comms = _communities_of(street_code, year) if street_code else []
        if comms:
            add_list("community_code", f"社区名单（{year or '历年'}）", comms)
        for table in SHEETS:
            for f in fields(table):
                col = schemas.get_schema(table).column(f.column)
                if f.column in lists or f.kind == "community_name":
                    continue
                if f.kind in ("label", "bool"):
                    add_list(f.column, f.header, list(col.label_map.values()))
                elif col.allowed:
                    add_list(f.column, f.header, list(col.allowed))
        for table, sheet_name in SHEETS.items():
            ws = wb.add_worksheet(sheet_name)
            for c, f in enumerate(fields(table)):
                col = schemas.get_schema(table).column(f.column)
                ws.write_string(0, c, f.header, head)
                fmt = (date_fmt if f.kind == "date" else time_fmt if f.kind == "datetime"
                       else text if col.pattern else free)
                ws.set_column(c, c, max(10, 2 * len(f.header) + 2), fmt)
                ws.data_validation(1, c, TEMPLATE_ROWS, c, _validation(col, f, lists, period))
            ws.set_row(0, 32)
            ws.freeze_panes(1, 0)
            ws.protect("", {"insert_rows": True, "delete_rows": True, "sort": True,
                            "autofilter": True, "format_columns": True, "format_cells": True})
        wb.close()
    return path


def write_templates(out_dir: str | os.PathLike, *, year: int | None = None) -> list[Path]:
    """Write one template per street of ``year`` (every street if None) into ``out_dir``."""
    df = _divisions(year, level="street") if year else _divisions(level="street")
    df = df.drop_duplicates("code").sort_values("code")
    out = Path(out_dir)
    return [write_template(out / template_name(code, name, year), street_code=code,
                           street_name=name, year=year)
            for code, name in zip(df["code"], df["name"], strict=True)]


def template_name(street_code: str, street_name: str, year: int | None = None) -> str:
    """File name of a street's template: ``440402001_翠香街道_2018年.xlsx``."""
    return f"{street_code}_{street_name}" + (f"_{year}年" if year else "") + ".xlsx"
