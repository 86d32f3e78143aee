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
        notes = wb.add_worksheet(NOTES_SHEET)
        for r, row in enumerate(_notes_rows(meta)):
            for c, v in enumerate(row):
                notes.write_string(r, c, str(v), bold if c == 0 else None)
        notes.set_column(0, 0, 16)
        notes.set_column(1, 1, 40)
        notes.set_column(3, 3, 60)
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


def write_template(path: str | os.PathLike, *, street_code: str = "", street_name: str = "",
                   batch: str = "") -> Path:
    """Write an empty submission workbook with the notes sheet explaining every column."""
    return write_workbook(path, {}, street_code=street_code, street_name=street_name,
                          batch=batch, synthetic=False)
