"""Files -> raw sheets: format and encoding detection, header rows, merged cells, guards.

A street office sends ``.xlsx``, old ``.xls`` or ``.csv``/``.tsv`` files (UTF-8, UTF-8 with
BOM, UTF-16 or GBK/GB18030 as Excel saves them).  :func:`read_file` turns one file into
:class:`Sheet` objects: the header row found below any title and unit rows, merged cells
filled in, and the data rows indexed by the row number the clerk sees in Excel.  Nothing
here interprets values; that is :mod:`xzlib.ingest.normalize`'s job.

The format is detected from the file's first bytes, not its extension, and the encoding of
a text file from its bytes, not assumed.  A file that is empty, encrypted, corrupt or too
large gives a :class:`~xzlib.errors.Problem` and no sheets; it never raises.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schemas
from ..errors import Problem
from ..submission import META_FIELDS, NOTES_SHEET
from . import normalize as nz

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_UNZIPPED_BYTES",
    "MAX_SHEET_ROWS",
    "MAX_CSV_ROWS",
    "HEADER_SCAN_ROWS",
    "Sheet",
    "RawFile",
    "SUPPORTED",
    "detect_format",
    "detect_encoding",
    "CANDIDATE_ENCODINGS",
    "read_file",
    "submission_key",
]

log = logging.getLogger("xzlib")

#: Files larger than this are refused (the batch is split or the file cut down).
MAX_FILE_BYTES = 150 * 1024 * 1024
#: An .xlsx whose parts unpack to more than this is refused (zip bombs, huge sheets).
MAX_UNZIPPED_BYTES = 600 * 1024 * 1024
#: Excel sheets with more rows than this are refused (save as CSV instead).
MAX_SHEET_ROWS = 500_000
#: CSV files with more data rows than this are refused.
MAX_CSV_ROWS = 2_000_000
#: The header row is looked for in this many rows from the top.
HEADER_SCAN_ROWS = 30
#: Extensions read as submissions.
SUPPORTED = (".xlsx", ".xlsm", ".xls", ".csv", ".tsv")

_UNITS_LINE = re.compile(r"单位\s*[:：]\s*([^\s,，;；)）]+)")


@dataclass
class Sheet:
    """One sheet (or CSV file) as read, before any value is interpreted.

    Attributes
    ----------
    file : str
        File name relative to the batch folder.
    sheet : str
        Sheet name (a CSV file's stem).
    kind : {"data", "notes", "skip"}
        A table sheet, the notes sheet (填报说明) or a sheet to ignore.
    table : str or None
        The programme table a data sheet holds.
    header_row : int or None
        Excel row (1-based) of the header.
    headers : list of str
        Headers as written, one per column position.
    units : list of str or None
        Per column, a unit written above the header (a merged parent header or a
        ``单位：元`` line), used when the header itself has none.
    data : DataFrame
        Data rows: columns are positions ``0..n-1``, the index is the Excel row number.
    notes : dict
        For the notes sheet: ``{label in column A: value in column B}``.
    problems : list of Problem
        Problems found while reading (no header, too many rows...).
    """

    file: str
    sheet: str
    kind: str = "data"
    table: str | None = None
    header_row: int | None = None
    headers: list[str] = field(default_factory=list)
    units: list[str | None] = field(default_factory=list)
    data: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: Merged ranges spanning several data rows: ``(first row, first col, last row,
    #: last col)``, Excel rows (1-based) and column positions (0-based).
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    #: Formula cells without a cached value: ``{(Excel row, column position): formula}``.
    uncached: dict = field(default_factory=dict)


@dataclass
class RawFile:
    """One file of a batch: its format, encoding and sheets, or the problem reading it."""

    path: Path
    rel: str
    format: str = ""
    encoding: str | None = None
    size: int = 0
    sheets: list[Sheet] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _problem(rel: str, rule: str, message: str, suggestion: str, sheet: str = "",
             row: int | None = None, severity: str = "error") -> Problem:
    return Problem(table="", rule=rule, message=message, file=rel, sheet=sheet, row=row,
                   suggestion=suggestion, severity=severity)


# --------------------------------------------------------------------------- detection


def detect_format(head: bytes, suffix: str = "") -> str:
    """Return ``xlsx``, ``xls``, ``cfb`` (an OLE file that is not a workbook we know),
    ``text`` or ``unknown`` from a file's first bytes.

    >>> detect_format(b"PK\\x03\\x04rest")
    'xlsx'
    >>> detect_format("镇街,社区".encode("gbk"))
    'text'
    """
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head[:5].lower() in (b"<html", b"<!doc", b"<?xml") or head[:6].lower() == b"<table":
        return "html"
    if b"\x00" in head[:4096] and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "text" if _utf16_without_bom(head[:4096]) else "unknown"
    return "text"


#: Encodings charset-normalizer chooses among when a file is not UTF-8.
CANDIDATE_ENCODINGS = ("gb18030", "big5", "utf_16_le", "utf_16_be")
#: A decoding with more "chaos" (charset-normalizer's measure of mess) than this is
#: doubtful: the file is reported instead of loaded garbled.
MAX_CHAOS = 0.15
_CODEC = {"gb18030": "gb18030", "big5": "big5", "utf_16_le": "utf-16-le",
          "utf_16_be": "utf-16-be"}


def detect_encoding(sample: bytes) -> str | None:
    """Detect the encoding of a text file from its first bytes.

    A BOM decides; otherwise the sample must decode strictly as UTF-8, else
    charset-normalizer chooses among GB18030 (the superset of GBK that Excel uses on a
    Chinese Windows), Big5 and UTF-16 without BOM.  Returns ``None`` when nothing fits or
    the best decoding is doubtful.

    >>> detect_encoding("社区名称,户数".encode("gbk"))
    'gb18030'
    >>> detect_encoding(codecs.BOM_UTF8 + "社区".encode())
    'utf-8-sig'
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    cut = sample.rfind(b"\n")  # never judge a character cut off at the end of the sample
    if 0 < cut < len(sample) - 1:
        sample = sample[: cut + (2 if sample[cut + 1:cut + 2] == b"\x00" else 1)]
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(sample, cp_isolation=list(CANDIDATE_ENCODINGS)).best()
    except Exception:  # noqa: BLE001 - a detector failure is "unknown encoding"
        best = None
    if best is None or best.chaos > MAX_CHAOS:
        if best is not None:
            log.info("doubtful decoding as %s (chaos %.2f)", best.encoding, best.chaos)
        return None
    return _CODEC.get(best.encoding, best.encoding)


def _utf16_without_bom(head: bytes) -> bool:
    """True if the bytes read as UTF-16 text (a BOM-less export from some systems)."""
    n = len(head) - len(head) % 2
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            text = head[:n].decode(enc)
        except UnicodeDecodeError:
            continue
        if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text[:-1]):
            return True
    return False


# --------------------------------------------------------------------------- header rows


def _score_row(cells: list, table: str, units: list | None = None) -> int:
    seen = set()
    for c in cells:
        if c is None or (isinstance(c, float) and np.isnan(c)) or not str(c).strip():
            continue
        m = nz.match_header(table, c)
        if m.spec is not None and m.spec.column != "street_code":
            seen.add(m.spec.column)
    return len(seen)


def _combine(parent: list, child: list, table: str) -> list[str]:
    """Headers of a two-row header: a group header (merged over its columns) above
    sub-headers, e.g. ``资金（万元）`` over ``政府 | 社会`` -> ``政府资金（万元）``,
    ``社会资金（万元）``.  Per column the first of 'child + parent', 'parent + child',
    'child' that names a field wins; the parent's unit applies when the child has none.
    """
    out = []
    last = ""
    for j in range(max(len(parent), len(child))):
        p = _cell_text(parent[j]) if j < len(parent) else ""
        c = _cell_text(child[j]) if j < len(child) else ""
        if p:
            last = p
        elif c and last:  # a group header written once over its columns, not merged
            p = last
            if nz.clean_key(c) == nz.clean_key(p) or nz.match_header(table, c).spec is not None:
                out.append(c)
                continue
        if not c or not p or nz.clean_key(p) == nz.clean_key(c):
            out.append(c or p)
            continue
        pn, pu = nz.split_unit(p)
        cn, cu = nz.split_unit(c)
        unit = cu or pu
        suffix = f"（{unit}）" if unit else ""
        for cand in (cn + pn, pn + cn, cn):
            if nz.match_header(table, cand + suffix).spec is not None:
                out.append(cand + suffix)
                break
        else:
            out.append(c)
    return out


def _find_header(rows: list[list], table: str | None
                 ) -> tuple[str | None, int | None, list[str] | None]:
    """Return ``(table, index, headers)`` of the header among the first rows.

    ``headers`` is set when the header has two rows (see :func:`_combine`); ``index`` is
    then the lower row.  ``(table, None, None)`` when no row looks like a header.
    """
    tables = [table] if table else list(schemas.TABLES)
    best = (0, None, None, None)
    scan = rows[:HEADER_SCAN_ROWS]
    for i, row in enumerate(scan):
        for t in tables:
            score = _score_row(row, t)
            if score > best[0]:
                best = (score, t, i, None)
            if score >= 1 and i + 1 < len(scan):  # a group header names a field too
                combined = _combine(row, scan[i + 1], t)
                s2 = _score_row(combined, t)
                if s2 > max(score, best[0]) and s2 > _score_row(scan[i + 1], t):
                    best = (s2, t, i + 1, combined)
    score, t, i, headers = best
    need = 2 if table else 3
    if score < need:
        return table, None, None
    return t, i, headers


def _units_above(rows: list[list], header: int, width: int) -> list[str | None]:
    """Per column, a unit written above the header (merged parent header or 单位 line)."""
    sheet_unit = None
    for row in rows[:header]:
        for c in row:
            if isinstance(c, str):
                m = _UNITS_LINE.search(nz.clean_key(c).replace("：", ":"))
                if m:
                    sheet_unit = m.group(1)
    out: list[str | None] = [sheet_unit] * width
    if header > 0:
        parent = rows[header - 1]
        for j in range(min(width, len(parent))):
            c = parent[j]
            if isinstance(c, str) and c.strip():
                _, unit = nz.split_unit(c)
                if unit:
                    out[j] = unit
    return out


def _cell_text(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _notes(rows: list[list]) -> dict:
    labels = {nz.clean_key(v): v for v in META_FIELDS.values()}
    out = {}
    for row in rows[:60]:
        if len(row) >= 1 and nz.clean_key(row[0]) in labels:
            out[labels[nz.clean_key(row[0])]] = _cell_text(row[1]) if len(row) > 1 else ""
    return out


def _is_notes(name: str) -> bool:
    key = nz.clean_key(name)
    return key == nz.clean_key(NOTES_SHEET) or key.endswith("填报说明")


def _sheet_from_rows(rel: str, name: str, rows: list[list], *, table_hint: str | None,
                     first_row: int = 1) -> Sheet:
    """Build a Sheet from rows read from the top (rows[0] is Excel row ``first_row``)."""
    sheet = Sheet(file=rel, sheet=name)
    if _is_notes(name):
        sheet.kind, sheet.notes = "notes", _notes(rows)
        return sheet
    if not any(_cell_text(c) for r in rows[:HEADER_SCAN_ROWS] for c in r):
        sheet.kind = "skip"
        return sheet
    table, h, combined = _find_header(rows, table_hint)
    if h is None:
        if table_hint is None:
            notes = _notes(rows)
            if len(notes) >= 2:  # a notes sheet under another name
                sheet.kind, sheet.notes = "notes", notes
                return sheet
            sheet.kind = "skip"
            sheet.problems.append(_problem(
                rel, "unknown_sheet", f"工作表「{name}」不是已知的报表，已跳过 (sheet skipped)",
                "如需导入，请把工作表命名为 " + "、".join(_sheet_names()), name,
                severity="warning"))
            return sheet
        sheet.kind, sheet.table = "data", table
        sheet.problems.append(_problem(
            rel, "no_header", f"在前 {HEADER_SCAN_ROWS} 行找不到「{schemas.SCHEMAS[table].zh}」的表头 "
            "(header row not found)", "保留模板第一行的表头，如「社区名称」「户数（户）」", name))
        return sheet
    width = max((len(r) for r in rows[: h + 1]), default=0)
    sheet.kind, sheet.table, sheet.header_row = "data", table, first_row + h
    sheet.headers = combined if combined is not None else [_cell_text(c) for c in rows[h]]
    sheet.headers += [""] * (width - len(sheet.headers))
    sheet.units = _units_above(rows, h, width)
    return sheet


def _sheet_names() -> list[str]:
    from ..submission import SHEETS

    return list(SHEETS.values())


# --------------------------------------------------------------------------- Excel


def _xlsx_guard(path: Path) -> tuple[dict[str, tuple[int, str]], str | None]:
    """Return ``({sheet name: (rows declared, zip part)}, problem)`` without unpacking."""
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "EncryptionInfo" in names:
                return {}, "encrypted"
            total = sum(i.file_size for i in z.infolist())
            if total > MAX_UNZIPPED_BYTES:
                return {}, f"unzipped:{total}"
            if "xl/workbook.xml" not in names:
                return {}, "not_workbook"
            ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                  "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
            wb = ET.fromstring(z.read("xl/workbook.xml"))
            rels = {}
            if "xl/_rels/workbook.xml.rels" in names:
                for rel in ET.fromstring(z.read("xl/_rels/workbook.xml.rels")):
                    rels[rel.get("Id")] = rel.get("Target", "").lstrip("/")
            out = {}
            for s in wb.iter(f"{{{ns['m']}}}sheet"):
                target = rels.get(s.get(f"{{{ns['r']}}}id"), "")
                part = target if target.startswith("xl/") else f"xl/{target}"
                if part not in names:
                    continue
                with z.open(part) as f:
                    head = f.read(4096).decode("utf-8", "replace")
                m = re.search(r'<dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"', head)
                out[s.get("name")] = (int(m.group(1)) if m and m.group(1) else 0, part)
            return out, None
    except zipfile.BadZipFile:
        return {}, "corrupt"
    except (ET.ParseError, KeyError, OSError):
        return {}, "corrupt"


_CELL_REF = re.compile(r"([A-Z]+)([0-9]+)")


def _uncached_formulas(path: Path, part: str) -> dict:
    """Formula cells of one .xlsx sheet part that carry no cached value.

    Files written by scripts and export tools (openpyxl, some OA systems) store the
    formula only; Excel computes the value when the file is opened.  A reader then sees
    an empty cell, so these cells are found here and reported, never read as empty.
    """
    out = {}
    try:
        with zipfile.ZipFile(path) as z, z.open(part) as f:
            data = f.read()
        # every formula has a closing </f> (a shared formula's first cell has its text)
        if b"</f>" not in data and b":f>" not in data:
            return out
        for _, el in ET.iterparse(io.BytesIO(data)):
            if not el.tag.endswith("}c"):
                continue
            f_el = v_el = None
            for child in el:
                if child.tag.endswith("}f"):
                    f_el = child
                elif child.tag.endswith("}v"):
                    v_el = child
            if f_el is not None and (v_el is None or not (v_el.text or "").strip()) \
                    and el.get("t") != "inlineStr":
                m = _CELL_REF.fullmatch(el.get("r", ""))
                if m:
                    col = 0
                    for ch in m.group(1):
                        col = col * 26 + ord(ch) - 64
                    out[(int(m.group(2)), col - 1)] = "=" + (f_el.text or "")
            el.clear()
    except (KeyError, OSError, zipfile.BadZipFile, ET.ParseError):
        return {}
    return out


def _read_excel(raw: RawFile, fmt: str) -> None:
    import python_calamine as pc

    rel, path = raw.rel, raw.path
    dims: dict[str, tuple[int, str]] = {}
    if fmt == "xlsx":
        dims, why = _xlsx_guard(path)
        if why == "encrypted":
            raw.problems.append(_problem(rel, "encrypted", "文件已加密，无法读取 (encrypted file)",
                                         "去掉密码后另存为 .xlsx 再提交"))
            return
        if why and why.startswith("unzipped"):
            size = int(why.split(":")[1]) // (1024 * 1024)
            raw.problems.append(_problem(
                rel, "too_large", f"工作簿解压后约 {size} MB，超过上限 "
                f"{MAX_UNZIPPED_BYTES // (1024 * 1024)} MB (workbook too large)",
                "按年份或镇街拆分成多个文件，或另存为 CSV"))
            return
        if why:
            raw.problems.append(_problem(rel, "corrupt", "文件已损坏或不是 Excel 工作簿 "
                                         "(corrupt or not a workbook)",
                                         "用 Excel 打开后重新另存为 .xlsx"))
            return
    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError:
        raw.problems.append(_problem(rel, "encrypted", "文件已加密，无法读取 (encrypted file)",
                                     "去掉密码后另存为 .xlsx 再提交"))
        return
    except Exception as exc:  # noqa: BLE001 - any reader failure is a corrupt file
        encrypted = fmt == "xls" and _cfb_encrypted(path)
        log.debug("cannot open %s: %s", path, exc)
        raw.problems.append(_problem(
            rel, "encrypted" if encrypted else "corrupt",
            "文件已加密，无法读取 (encrypted file)" if encrypted
            else "文件已损坏，无法打开 (corrupt file)",
            "去掉密码后另存为 .xlsx 再提交" if encrypted else "用 Excel 打开后重新另存为 .xlsx"))
        return
    with wb:
        for meta in wb.sheets_metadata:
            name = meta.name
            if str(meta.typ).endswith("ChartSheet"):
                continue
            if not str(meta.visible).endswith("Visible"):
                raw.sheets.append(Sheet(rel, name, kind="skip", problems=[_problem(
                    rel, "hidden_sheet", f"隐藏的工作表「{name}」已跳过 (hidden sheet skipped)",
                    "如需导入，请取消隐藏", name, severity="warning")]))
                continue
            declared, part = dims.get(name, (0, None))
            if declared > MAX_SHEET_ROWS:
                raw.sheets.append(Sheet(rel, name, kind="skip", problems=[_problem(
                    rel, "too_many_rows", f"工作表有 {declared:,} 行，超过上限 {MAX_SHEET_ROWS:,} 行 "
                    "(sheet too large)", "另存为 CSV (UTF-8) 或按年份拆分后提交", name)]))
                continue
            try:
                sh = wb.get_sheet_by_name(name)
                if sh.total_height > MAX_SHEET_ROWS:
                    raw.sheets.append(Sheet(rel, name, kind="skip", problems=[_problem(
                        rel, "too_many_rows", f"工作表有 {sh.total_height:,} 行，超过上限 "
                        f"{MAX_SHEET_ROWS:,} 行 (sheet too large)",
                        "另存为 CSV (UTF-8) 或按年份拆分后提交", name)]))
                    continue
                rows = sh.to_python(skip_empty_area=False)
                merged = sh.merged_cell_ranges or []
            except Exception as exc:  # noqa: BLE001
                log.debug("cannot read %s[%s]: %s", path, name, exc)
                raw.sheets.append(Sheet(rel, name, kind="skip", problems=[_problem(
                    rel, "corrupt", f"工作表「{name}」无法读取 (unreadable sheet)",
                    "用 Excel 打开后重新另存为 .xlsx", name)]))
                continue
            sheet = _excel_sheet(rel, name, rows, merged)
            if part and sheet.kind == "data":
                sheet.uncached = _uncached_formulas(path, part)
            raw.sheets.append(sheet)


def _cfb_encrypted(path: Path) -> bool:
    with open(path, "rb") as f:
        data = f.read(4 * 1024 * 1024)
    return "EncryptedPackage".encode("utf-16-le") in data


def _excel_sheet(rel: str, name: str, rows: list[list], merged: list) -> Sheet:
    # fill merged ranges with their top-left value (a title over many columns, a community
    # name over several rows, a parent header over two child headers); ranges over
    # several data rows are kept so that the cleaner can refuse them in number columns
    spans = []
    for (r0, c0), (r1, c1) in merged:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        if r1 > r0:
            spans.append((r0 + 1, c0, r1 + 1, c1))
        v = rows[r0][c0]
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            if len(row) <= c1:
                row.extend([""] * (c1 + 1 - len(row)))
            for c in range(c0, c1 + 1):
                row[c] = v
    sheet = _sheet_from_rows(rel, name, rows, table_hint=nz.table_for_sheet(name))
    if sheet.kind == "data" and sheet.header_row is not None:
        h = sheet.header_row  # 1-based; data starts at rows[h]
        body = rows[h:]
        width = len(sheet.headers)
        if body:
            width = max(width, max(len(r) for r in body))
            sheet.headers += [""] * (width - len(sheet.headers))
            sheet.units += [None] * (width - len(sheet.units))
        if body:
            body = [r + [""] * (width - len(r)) if len(r) < width else r for r in body]
            df = pd.DataFrame(body, columns=range(width), dtype=object)
        else:
            df = pd.DataFrame({j: pd.Series([], dtype=object) for j in range(width)})
        df.index = pd.RangeIndex(h + 1, h + 1 + len(df))
        sheet.data = df
        sheet.merged = [s for s in spans if s[0] > h]
    return sheet


# --------------------------------------------------------------------------- CSV


def _sniff_sep(text: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    lines = [ln for ln in text.splitlines()[:HEADER_SCAN_ROWS] if ln.strip()]
    tabs = sum(ln.count("\t") for ln in lines)
    commas = sum(ln.count(",") for ln in lines)
    return "\t" if tabs > commas else ","


def _read_csv(raw: RawFile) -> None:
    rel, path = raw.rel, raw.path
    with open(path, "rb") as f:
        sample = f.read(1024 * 1024)
    enc = detect_encoding(sample)
    if enc is None:
        raw.problems.append(_problem(rel, "encoding", "无法确定文件编码，不是 UTF-8、GBK/GB18030、"
                                     "Big5 或 UTF-16 (unknown or doubtful text encoding)",
                                     "在 Excel 中另存为「CSV UTF-8（逗号分隔）」"))
        return
    raw.encoding = enc
    text = sample.decode(enc, errors="replace")
    sep = _sniff_sep(text, path.suffix.lower())
    raw.format = "tsv" if sep == "\t" else "csv"
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=sep)
    rows, lines_after = [], []
    try:
        for rec in reader:
            rows.append(rec)
            lines_after.append(reader.line_num)
            if len(rows) >= HEADER_SCAN_ROWS:
                break
    except csv.Error:
        pass
    stem = path.stem
    name = stem
    hint = nz.table_for_sheet(stem.split("__", 1)[1]) if "__" in stem else None
    sheet = _sheet_from_rows(rel, name, rows, table_hint=hint)
    if hint is None and "__" in stem and _is_notes(stem.split("__", 1)[1]):
        sheet.kind, sheet.notes = "notes", _notes(rows)
    raw.sheets.append(sheet)
    if sheet.kind != "data" or sheet.header_row is None:
        return
    h = sheet.header_row - 1  # record index of the header
    width = max(len(sheet.headers), max((len(r) for r in rows), default=0))
    sheet.headers += [""] * (width - len(sheet.headers))
    sheet.units += [None] * (width - len(sheet.units))
    try:
        df = pd.read_csv(path, sep=sep, header=None, skiprows=lines_after[h], names=range(width),
                         dtype=str, keep_default_na=False, na_filter=False,
                         skip_blank_lines=False, encoding=enc, engine="c",
                         nrows=MAX_CSV_ROWS + 1, quotechar='"', index_col=False)
    except UnicodeDecodeError:
        raw.problems.append(_problem(rel, "encoding", f"文件编码不一致: 开头是 {enc}，后面不是 "
                                     "(mixed encodings)", "在 Excel 中重新另存为「CSV UTF-8」"))
        return
    except (pd.errors.ParserError, ValueError) as exc:
        m = re.search(r"line (\d+)", str(exc))
        row = int(m.group(1)) if m else None  # pandas counts the skipped lines too
        sheet.problems.append(_problem(
            rel, "csv_format", "CSV 格式错误：某行的列数多于表头 (more fields than the header)",
            "检查该行是否有多余的逗号或未成对的引号", name, row))
        return
    if len(df) > MAX_CSV_ROWS:
        sheet.problems.append(_problem(
            rel, "too_many_rows", f"文件超过 {MAX_CSV_ROWS:,} 行 (too many rows)",
            "按年份或镇街拆分后提交", name))
        return
    # Excel row of data record j: header record index h (0-based) + 2 + j
    df.index = pd.RangeIndex(h + 2, h + 2 + len(df))
    sheet.data = df


# --------------------------------------------------------------------------- entry point


def submission_key(rel: str) -> str:
    """Return the key grouping files of one submission.

    A workbook is one submission.  CSV files are grouped by the part of the file name
    before ``__``: ``440402001_翠香街道__项目.csv`` and ``440402001_翠香街道__填报说明.csv``
    belong to the submission ``440402001_翠香街道``.

    >>> submission_key("b/440402001_翠香街道__项目.csv")
    'b/440402001_翠香街道'
    """
    p = Path(rel)
    if p.suffix.lower() in (".csv", ".tsv"):
        return str(p.with_name(p.stem.split("__", 1)[0]))
    return str(p.with_suffix(""))


def read_file(path: str | Path, root: str | Path) -> RawFile:
    """Read one submission file into sheets; never raises for a bad file.

    Parameters
    ----------
    path : path
        The file.
    root : path
        The batch folder (file names in problems are relative to it).

    Returns
    -------
    RawFile
        ``problems`` says why a file could not be read (empty, encrypted, corrupt, too
        large, unknown encoding); each sheet has its own ``problems``.
    """
    path, root = Path(path), Path(root)
    rel = path.relative_to(root).as_posix()
    raw = RawFile(path=path, rel=rel)
    try:
        raw.size = path.stat().st_size
        if raw.size == 0:
            raw.problems.append(_problem(rel, "empty", "文件为空 (empty file)", "重新导出或删除该文件"))
            return raw
        if raw.size > MAX_FILE_BYTES:
            raw.problems.append(_problem(
                rel, "too_large", f"文件有 {raw.size / 1024 / 1024:.0f} MB，超过上限 "
                f"{MAX_FILE_BYTES // (1024 * 1024)} MB (file too large)",
                "按年份或镇街拆分成多个文件后提交"))
            return raw
        with open(path, "rb") as f:
            head = f.read(8192)
        fmt = detect_format(head, path.suffix.lower())
        suffix = path.suffix.lower()
        if fmt in ("xlsx", "xls"):
            raw.format = fmt
            if fmt == "xls" and _cfb_encrypted(path):
                raw.problems.append(_problem(rel, "encrypted", "文件已加密，无法读取 (encrypted file)",
                                             "去掉密码后另存为 .xlsx 再提交"))
                return raw
            _read_excel(raw, fmt)
        elif fmt == "text" and suffix in (".csv", ".tsv", ".txt"):
            _read_csv(raw)
        elif fmt == "html":
            raw.problems.append(_problem(rel, "unsupported", "文件是网页 (HTML)，不是 Excel 工作簿 "
                                         "(HTML saved as .xls)", "用 Excel 打开后另存为 .xlsx"))
        else:
            raw.problems.append(_problem(rel, "corrupt", "文件已损坏或格式无法识别 "
                                         "(corrupt or unknown format)",
                                         "用 Excel 打开后重新另存为 .xlsx"))
    except OSError as exc:
        raw.problems.append(_problem(rel, "unreadable", f"无法读取文件 (cannot read): {exc.strerror}",
                                     "检查文件权限"))
    except MemoryError:
        raw.sheets.clear()
        raw.problems.append(_problem(rel, "too_large", "文件太大，内存不足 (out of memory)",
                                     "按年份或镇街拆分成多个文件后提交"))
    return raw
