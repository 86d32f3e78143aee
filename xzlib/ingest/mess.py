"""``xz sample --messy``: rewrite a tidy batch the way real street offices send it.

:func:`messify` reads a tidy batch (workbooks written by
:func:`xzlib.submission.write_workbook`) and rewrites every submission with
meaning-preserving mess, deterministically for a seed, so that ``xz clean`` on the messy
batch must give the same processed tables as on the tidy one.

Each street gets a file format in turn (by street code): ``.xlsx``, GBK ``.csv`` files,
``.xls`` (Excel 97), UTF-8-with-BOM ``.csv`` files, then ``.xlsx`` again, ``.tsv``...  CSV
submissions are one file per sheet, ``<street_code>_<street_name>__<sheet>.csv``, the notes
sheet included (``…__填报说明.csv``): the cleaner groups them by the part before ``__``.

Mess injected (every kind the cleaner must absorb):

* a merged title row and a ``单位：万元`` units line above the header; a 序号 column;
* header aliases and unit spellings (``金额（万元）``, ``政府资金(万元)``, ``政府资金/万元``,
  ``资金 元``), money in 元 instead of 万元 for some streets, 服务人次 in 万人次 for some;
* numbers as text, full-width digits (``１２３``), thousands separators (``3,100``),
  ``1.2万`` forms and qualifiers (``约3000``, ``130多``, ``3,000余``: the number is kept);
* dates as ``2018年7月3日``, ``2018.7.3``, ``2018/07/03``, ``20180703``, Excel serial numbers,
  ``2018年7月`` (only where the day is the 1st), times as ``2018/7/3 14:30``;
* a correct 合计 row closing a table, blank spacer rows inside it, a signature footer;
* names with trailing or full-width spaces, with or without the 社区 / 社区居委会 suffix;
  community names merged over consecutive rows; labels and IDs padded or full-width;
* the street named instead of coded on the notes sheet.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd

from .. import schemas
from ..fsutil import atomic_dir
from ..submission import META_FIELDS, NOTES_SHEET, SHEETS, fields

__all__ = ["messify", "FORMATS"]

log = logging.getLogger("xzlib")

#: File format of the i-th street (cycled), by street code order.
FORMATS = ("xlsx", "csv-gbk", "xls", "csv-utf8-sig", "xlsx", "tsv-utf8", "xlsx", "xls", "xlsx")
_XLS_MAX_ROWS = 65_000
_EPOCH = dt.datetime(2019, 1, 1)
_FW = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


@dataclass
class _Book:
    path: Path
    notes: list[list]  # notes sheet rows as read
    sheets: dict[str, tuple[list[str], list[list]]]  # table -> (headers, rows)


@dataclass
class _Out:
    """A sheet to write: rows of cells (str, int/float, datetime, None) and merges."""

    name: str
    rows: list[list] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1
    date_cols: dict[int, str] = field(default_factory=dict)  # column -> number format


def _read_tidy(path: Path) -> _Book:
    import python_calamine as pc

    with pc.CalamineWorkbook.from_path(str(path)) as wb:
        notes = wb.get_sheet_by_name(NOTES_SHEET).to_python(skip_empty_area=False)
        sheets = {}
        for table, name in SHEETS.items():
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            head = [str(h) for h in rows[0]] if rows else [f.header for f in fields(table)]
            sheets[table] = (head, [list(r) for r in rows[1:]])
    return _Book(path, notes, sheets)


# --------------------------------------------------------------------------- cell mess


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and v != v)


def _dec(v) -> Decimal:
    if isinstance(v, float):
        return Decimal(repr(v))
    return Decimal(str(v))


def _plain(d: Decimal) -> str:
    d = d.normalize()
    s = format(d, "f")
    return s


def _grouped(d: Decimal) -> str:
    s = _plain(d)
    neg = s.startswith("-")
    s = s.lstrip("-")
    whole, _, frac = s.partition(".")
    whole = f"{int(whole):,}"
    return ("-" if neg else "") + whole + ("." + frac if frac else "")


class _Messer:
    """Per-street mess decisions (deterministic: one Random per street and seed)."""

    def __init__(self, rng: random.Random, index: int, fmt: str) -> None:
        self.rng = rng
        self.i = index
        self.fmt = fmt
        self.text_only = fmt.startswith(("csv", "tsv"))
        self.money_yuan = index % 2 == 0  # 元 instead of 万元
        self.reach_wan = index % 3 == 1  # 服务人次 in 万人次
        self.name_style = index % 4

    # numbers -----------------------------------------------------------
    def number(self, v, *, factor: Decimal = Decimal(1), allow_wan: bool = False,
               allow_qualifier: bool = True):
        d = _dec(v) * factor
        r = self.rng.random()
        if factor != 1:  # converted values are written as exact text
            text = _plain(d)
            return _grouped(d) if r < 0.3 and abs(d) >= 1000 else text
        if r < 0.35 and not self.text_only:
            return v  # a real number cell
        if r < 0.5 and abs(d) >= 1000:
            return _grouped(d)
        if r < 0.6:
            return _plain(d).translate(_FW)
        if r < 0.66 and allow_wan and abs(d) >= 10000:
            return _plain(d / 10000) + "万"
        if r < 0.69 and allow_qualifier and d == d.to_integral_value() and d > 0:
            q = self.rng.choice(("约{}", "{}多", "{}余", "约{}人次"))
            text = q.format(_grouped(d) if abs(d) >= 1000 else _plain(d))
            return text if "人次" not in q or allow_wan else "约" + _plain(d)
        if r < 0.75:
            return " " + _plain(d) + " "
        return _plain(d)

    # dates -------------------------------------------------------------
    def date(self, v, with_time: bool):
        ts = pd.Timestamp(v).round("s")
        has_time = with_time and ts != ts.normalize()
        forms = ["serial", "number", "zh", "dots", "slash", "iso", "compact"]
        if not has_time and ts.day == 1:
            forms.append("month")
        if self.text_only:
            forms.remove("serial")
            if has_time:
                forms.remove("number")
        f = self.rng.choice(forms)
        y, m, d = ts.year, ts.month, ts.day
        hms = ""
        if has_time:
            hms = f"{ts.hour}:{ts.minute:02d}" + (f":{ts.second:02d}" if ts.second else "")
        if f == "serial":
            return ts.to_pydatetime()  # an Excel date cell, written with a number format
        if f == "number":  # an Excel serial number without a date format
            days = (ts - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
            return str(int(days)) if self.text_only else float(days)
        if f == "zh":
            return f"{y}年{m}月{d}日" + (f" {hms}" if hms else "")
        if f == "dots":
            return f"{y}.{m}.{d}" + (f" {hms}" if hms else "")
        if f == "slash":
            return f"{y}/{m:02d}/{d:02d}" + (f" {hms}" if hms else "")
        if f == "compact" and not hms:
            return f"{y}{m:02d}{d:02d}"
        if f == "month":
            return f"{y}年{m}月"
        return ts.strftime("%Y-%m-%d %H:%M:%S" if ts.second else "%Y-%m-%d %H:%M") if hms \
            else ts.strftime("%Y-%m-%d")

    # names and labels --------------------------------------------------
    def community(self, name: str) -> str:
        base = name[:-2] if name.endswith("社区") else name
        style = self.rng.choice((0, 1, 2, 3, 4, self.name_style))
        return (name + " ", base + "社区居委会", " " + base, name + "\u3000", name,
                base + "社区 ")[style]

    def label(self, text: str) -> str:
        return self.rng.choice((text, f" {text}", f"{text} ", text))

    def boolean(self, text: str) -> str:
        return self.rng.choice((text, text, {"是": "√", "否": "×"}.get(text, text),
                                {"是": "Y", "否": "N"}.get(text, text)))

    def ident(self, text: str) -> str:
        return text.translate(str.maketrans(
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-", "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮ"
            "ＯＰＱＲＳＴＵＶＷＸＹＺ－")) if self.rng.random() < 0.2 else text

    def text(self, text: str) -> str:
        return self.rng.choice((text, text + " ", "\u3000" + text, text))


# --------------------------------------------------------------------------- headers


def _header(table: str, f, m: _Messer) -> tuple[str, Decimal, bool]:
    """Return (header as written, factor applied to values, allow 万 forms)."""
    col = schemas.get_schema(table).column(f.column)
    rng = m.rng
    from .normalize import HEADER_ALIASES

    names = [col.zh, *HEADER_ALIASES.get((table, col.name), ())]
    if f.kind == "community_name":
        return rng.choice(("社区名称", "社区", "所属社区", "社区名称")), Decimal(1), False
    # keep aliases that cannot be confused with another column of the table
    name = col.zh if rng.random() < 0.5 else rng.choice(names)
    if col.unit == "万元":
        unit, factor = ("元", Decimal(10000)) if m.money_yuan else ("万元", Decimal(1))
        style = rng.choice(("（{}）", "({})", "/{}", " {}"))
        if name in ("资金", "金额") and col.name != "gov_funds_wan":
            name = col.zh
        return name + style.format(unit), factor, False
    if col.unit == "人次":
        if m.reach_wan:
            return name + "（万人次）", Decimal("0.0001"), False
        return (name if rng.random() < 0.5 else f"{name}（人次）"), Decimal(1), True
    if col.unit:
        return (f"{name}（{col.unit}）" if rng.random() < 0.6 else name), Decimal(1), False
    return name, Decimal(1), False


def _unique_headers(table: str, m: _Messer) -> list[tuple[str, Decimal, bool]]:
    from .normalize import match_header

    out = []
    for f in fields(table):
        for _ in range(10):
            h = _header(table, f, m)
            hit = match_header(table, h[0])
            if hit.spec is not None and hit.spec.column == f.column and not hit.problem \
                    and all(h[0] != o[0] for o in out):
                break
        else:
            col = schemas.get_schema(table).column(f.column)
            h = (f.header, Decimal(1), col.unit == "人次")
        out.append(h)
    return out


# --------------------------------------------------------------------------- sheets


def _mess_sheet(table: str, headers: list[str], rows: list[list], m: _Messer) -> _Out:
    rng = m.rng
    flds = fields(table)
    by_header = {f.header: i for i, f in enumerate(flds)}
    order = [by_header.get(h) for h in headers]
    heads = _unique_headers(table, m)
    out = _Out(SHEETS[table])
    serial_no = rng.random() < 0.5
    width = len(flds) + (1 if serial_no else 0)
    off = 1 if serial_no else 0
    # title row (merged) and units line
    title = f"{'香洲区' if rng.random() < 0.5 else ''}{SHEETS[table]}统计表（示例数据）"
    out.rows.append([title] + [None] * (width - 1))
    out.merges.append((0, 0, 0, width - 1))
    money = any(schemas.get_schema(table).column(f.column).unit == "万元" for f in flds)
    unit_line = "单位：" + ("元" if m.money_yuan else "万元") if money else "填报单位：街道办"
    out.rows.append([unit_line] + [None] * (width - 1))
    out.rows.append((["序号"] if serial_no else []) + [h for h, _, _ in heads])
    first = len(out.rows)
    sums: dict[int, Decimal] = {}
    spacers = set(rng.sample(range(1, len(rows)), k=min(2, max(len(rows) - 1, 0)))) \
        if len(rows) > 3 else set()
    names_of: dict[str, str] = {}
    if table == "communities" and not m.text_only and "社区名称" in headers:
        # rows of one community together (row order carries no meaning: processed tables
        # are sorted by key), so that its name can be one merged cell
        k = headers.index("社区名称")
        rows = sorted(rows, key=lambda r: str(r[k]) if k < len(r) else "")
    for n, row in enumerate(rows):
        if n in spacers:
            out.rows.append([None] * width)
        cells: list = [None] * len(flds)
        for j, v in enumerate(row):
            k = order[j] if j < len(order) else None
            if k is None or _blank(v):
                continue
            f = flds[k]
            col = schemas.get_schema(table).column(f.column)
            _, factor, allow_wan = heads[k]
            if f.kind == "community_name":
                if table == "communities":  # one spelling per community: merges below
                    cells[k] = names_of.setdefault(v, m.community(v))
                else:
                    cells[k] = m.community(v)
            elif f.kind == "label":
                cells[k] = m.label(v)
            elif f.kind == "bool":
                cells[k] = m.boolean(v)
            elif f.kind in ("date", "datetime"):
                cells[k] = m.date(v, f.kind == "datetime")
            elif col.dtype in ("Int64", "float64") and isinstance(v, (int, float)):
                if col.name not in ("year", "grid_no", "eval_score"):
                    sums[k] = sums.get(k, Decimal(0)) + _dec(v) * factor
                if col.name in ("year",):
                    cells[k] = v if (rng.random() < 0.5 and not m.text_only) else \
                        rng.choice((f"{int(v)}", f"{int(v)}年", f"{int(v)}".translate(_FW)))
                else:
                    cells[k] = m.number(v, factor=factor, allow_wan=allow_wan,
                                        allow_qualifier=col.name not in ("grid_no", "year"))
            elif col.pattern:
                cells[k] = m.ident(str(v))
            else:
                cells[k] = m.text(str(v))
        out.rows.append(([n + 1] if serial_no else []) + cells)
    if rows and table in ("communities", "projects", "deliberations"):
        total: list = [None] * width
        label_col = off + next((i for i, f in enumerate(flds) if f.kind == "community_name"), 0)
        total[label_col if label_col < width else 0] = rng.choice(("合计", "合  计", "总计"))
        for k, sm in sums.items():
            total[off + k] = _plain(sm) if m.text_only or rng.random() < 0.5 else float(sm)
        out.rows.append([None] * width)
        out.rows.append(total)
        if rng.random() < 0.5:
            out.rows.append(["填表人：示例", None, "审核人：示例"] + [None] * (width - 3))
    # merge identical consecutive community names (communities sheet, workbooks only)
    if table == "communities" and not m.text_only:
        k = off + next(i for i, f in enumerate(flds) if f.kind == "community_name")
        r = first
        while r < len(out.rows):
            v = out.rows[r][k]
            e = r
            while (e + 1 < len(out.rows) and v is not None and out.rows[e + 1][k] == v
                   and any(c is not None for c in out.rows[e + 1])):
                e += 1
            if e > r:
                out.merges.append((r, k, e, k))
                for rr in range(r + 1, e + 1):
                    out.rows[rr][k] = None
            r = e + 1
    for k, f in enumerate(flds):
        if f.kind == "date":
            out.date_cols[off + k] = "yyyy-mm-dd"
        elif f.kind == "datetime":
            out.date_cols[off + k] = "yyyy-mm-dd hh:mm:ss"
    return out


def _mess_notes(notes: list[list], m: _Messer) -> _Out:
    out = _Out(NOTES_SHEET)
    meta = {str(r[0]).strip(): (r[1] if len(r) > 1 else "") for r in notes if r and r[0]}
    code = str(meta.get(META_FIELDS["street_code"], "")).strip()
    name = str(meta.get(META_FIELDS["street_name"], "")).strip()
    style = m.i % 3
    for r in notes:
        r = list(r)
        if r and r[0] == META_FIELDS["street_code"]:
            r[1] = (name, "", code)[style]  # the street named instead of coded
        elif r and r[0] == META_FIELDS["street_name"]:
            r[1] = (name + " ", name, " " + name + "\u3000")[style]
        out.rows.append([None if _blank(c) else c for c in r])
    return out


# --------------------------------------------------------------------------- writers


def _write_xlsx(path: Path, sheets: list[_Out]) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    wb.set_properties({"created": _EPOCH})
    fmts: dict[str, object] = {}
    for sh in sheets:
        ws = wb.add_worksheet(sh.name)
        for (r0, c0, r1, c1) in sh.merges:
            if (r0, c0) != (r1, c1):
                v = sh.rows[r0][c0]
                ws.merge_range(r0, c0, r1, c1, "" if v is None else v)
        merged_tl = {(r0, c0) for r0, c0, _, _ in sh.merges}
        for r, row in enumerate(sh.rows):
            for c, v in enumerate(row):
                if v is None or (r, c) in merged_tl:
                    continue
                if isinstance(v, dt.datetime):
                    nf = sh.date_cols.get(c, "yyyy-mm-dd hh:mm:ss")
                    if nf not in fmts:
                        fmts[nf] = wb.add_format({"num_format": nf})
                    ws.write_datetime(r, c, v, fmts[nf])
                elif isinstance(v, str):
                    ws.write_string(r, c, v)
                else:
                    ws.write_number(r, c, float(v))
    wb.close()


def _write_xls(path: Path, sheets: list[_Out]) -> None:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    styles: dict[str, object] = {}
    for sh in sheets:
        ws = wb.add_sheet(sh.name, cell_overwrite_ok=True)
        merged_tl = set()
        for (r0, c0, r1, c1) in sh.merges:
            if (r0, c0) != (r1, c1):
                v = sh.rows[r0][c0]
                ws.write_merge(r0, r1, c0, c1, "" if v is None else v)
                merged_tl.add((r0, c0))
        for r, row in enumerate(sh.rows):
            for c, v in enumerate(row):
                if v is None or (r, c) in merged_tl:
                    continue
                if isinstance(v, dt.datetime):
                    nf = sh.date_cols.get(c, "yyyy-mm-dd hh:mm:ss")
                    if nf not in styles:
                        styles[nf] = xlwt.easyxf(num_format_str=nf)
                    ws.write(r, c, v, styles[nf])
                elif isinstance(v, str):
                    ws.write(r, c, v)
                else:
                    ws.write(r, c, float(v))
    wb.save(str(path))


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y/%m/%d %H:%M:%S") if v.time() != dt.time() else v.strftime("%Y/%m/%d")
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


def _write_csv(path: Path, sheet: _Out, encoding: str, sep: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    for row in sheet.rows:
        w.writerow([_cell_text(v) for v in row])
    text = buf.getvalue()
    if encoding == "gbk":
        try:
            data = text.encode("gbk")
        except UnicodeEncodeError:  # a character outside GBK: Excel would use GB18030
            data = text.encode("gb18030")
    else:
        data = text.encode(encoding)
    path.write_bytes(data)


# --------------------------------------------------------------------------- entry point


def messify(src_dir: str | os.PathLike, dst_dir: str | os.PathLike, *, seed: int = 0) -> Path:
    """Rewrite a tidy batch with realistic, meaning-preserving mess.

    Parameters
    ----------
    src_dir : path
        A tidy batch: ``<street_code>_<street_name>.xlsx`` workbooks as written by
        :func:`xzlib.submission.write_workbook` (other files are copied unchanged).
    dst_dir : path
        The messy batch; may be ``src_dir``.  It is replaced as a whole, atomically.
    seed : int
        Same seed, same bytes.

    Returns
    -------
    Path
        ``dst_dir``.
    """
    src, dst = Path(src_dir), Path(dst_dir)
    books = sorted(p for p in src.iterdir() if p.is_file() and p.suffix == ".xlsx"
                   and not p.name.startswith((".", "~$")))
    others = sorted(p for p in src.iterdir() if p.is_file() and p not in books
                    and not p.name.startswith("."))
    content = [_read_tidy(p) for p in books]
    extra = [(p.name, p.read_bytes()) for p in others]
    with atomic_dir(dst) as tmp:
        for i, book in enumerate(content):
            fmt = FORMATS[i % len(FORMATS)]
            if fmt == "xls" and max((len(r) for _, r in book.sheets.values()), default=0) \
                    > _XLS_MAX_ROWS:
                fmt = "xlsx"
            rng = random.Random(f"xz-mess:{seed}:{book.path.name}")
            m = _Messer(rng, i, fmt)
            sheets = [_mess_notes(book.notes, m)]
            sheets += [_mess_sheet(t, *book.sheets[t], m) for t in SHEETS if t in book.sheets]
            stem = book.path.stem
            if fmt == "xlsx":
                _write_xlsx(tmp / f"{stem}.xlsx", sheets)
            elif fmt == "xls":
                _write_xls(tmp / f"{stem}.xls", sheets)
            else:
                kind, enc = fmt.split("-", 1)
                sep, suffix = ("\t", ".tsv") if kind == "tsv" else (",", ".csv")
                for sh in sheets:
                    _write_csv(tmp / f"{stem}__{sh.name}{suffix}", sh, enc.replace("utf8", "utf-8"),
                               sep)
            log.info("messified %s as %s", book.path.name, fmt)
        for name, data in extra:
            (tmp / name).write_bytes(data)
    return dst
