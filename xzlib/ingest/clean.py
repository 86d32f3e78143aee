"""``xz clean``: a raw batch of street-office submissions -> validated processed tables.

:func:`clean` reads every file of the batch (:mod:`~xzlib.ingest.read`), maps each sheet to
its processed table (:mod:`~xzlib.ingest.normalize`), checks the result against the
schemas with every problem pointing at the clerk's file, sheet, Excel row and column as
written, and only when there is no error writes the tables through
:func:`xzlib.dataset.write_tables` (atomic: the processed folder is replaced in one
rename, or not touched at all).  Every problem of every file is collected in one pass; the
report is printed (:meth:`CleanResult.summary`) and written as ``.xlsx`` and ``.csv`` to
``<out>/../interim/clean-report-<batch>/`` (never inside the processed or the raw folder).

How a submission is identified
------------------------------
* A workbook (``.xlsx``/``.xls``) is one submission; its street comes from the notes sheet
  (填报说明: 镇街代码 and/or 镇街名称, a code or a name), else from the file name
  (``440402001_翠香街道.xlsx``).
* CSV/TSV files are grouped by the part of their name before ``__``:
  ``440402001_翠香街道__项目.csv`` and ``440402001_翠香街道__填报说明.csv`` are one
  submission; the part after ``__`` names the sheet (table).  The street comes from the
  notes CSV if there is one, else from the file name.
* Any sheet may carry a street column (镇街 / 镇街名称 / 街道...), which then gives the
  street of each row.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from .. import dataset, schemas
from ..errors import DataError, Problem, UsageError
from ..roster import divisions as _divisions
from ..roster import street_name as _street_name
from ..submission import META_FIELDS, SHEETS, SYNTHETIC_LABEL
from . import changes
from . import normalize as nz
from . import read as rd
from .problems import Collector, format_table, write_report

__all__ = ["CleanResult", "clean", "default_report_dir", "read_batch"]

log = logging.getLogger("xzlib")

_FOOTER = re.compile(r"^(填表人|填报人|审核人|审核|制表人|制表|负责人|联系人|联系电话|填表日期|填报日期|"
                     r"单位负责人|注[:：]|备注|说明)")
#: Numeric columns not summed when checking a 合计 row.
_NOT_SUMMED = {"year", "grid_no", "eval_score"}
#: How a submission names its street (the fix of a "street unknown" problem).
STREET_HOWTO = ("任选一种: 在「填报说明」工作表写明镇街代码或镇街名称（如 440402001 / 翠香街道）；"
                "或让文件名包含镇街名称或代码，如「附件2：翠香街道2018年报表.xlsx」"
                "「440402001_翠香街道.xlsx」；CSV 文件命名为「翠香街道__项目.csv」"
                "「翠香街道__填报说明.csv」（__ 后为工作表名）")
#: Schema rules about a cell's own value; others (required, foreign keys, cross-column
#: rules) on a row with an unreadable cell are follow-ons and not reported.
_OWN_CELL_RULES = {"range", "allowed", "format", "unique"}
#: Number columns that label rows rather than count anything: merged over several rows
#: they are filled down like a name (nothing can be counted twice).
_FILLED_NUMBERS = {"year", "grid_no"}
#: At most this many qualifier records go into the manifest (the count is always kept).
MAX_QUALIFIER_RECORDS = 10_000


@dataclass
class CleanResult:
    """What :func:`clean` did.

    Attributes
    ----------
    ok : bool
        True when the processed tables were written (warnings allowed).
    problems : list of Problem
        Errors (each names file, sheet, Excel row, column as written, value, rule, fix).
    warnings : list of Problem
        Recoverable findings (alias names, qualifiers, unit conversions, totals).
    report_paths : list of Path
        The report files written (``.xlsx`` and ``.csv``).
    tables : dict of str to int
        Rows per processed table (as written, or as they would have been).
    changes : Changes or None
        After a successful clean: what changed since the previous processed state
        (:mod:`xzlib.ingest.changes`); ``change_paths`` are its ``.md`` and ``.csv``.
    """

    raw_dir: Path
    out_dir: Path
    batch: str
    ok: bool = False
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    report_paths: list[Path] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    synthetic: bool | None = None
    seconds: float = 0.0
    changes: changes.Changes | None = None
    change_paths: list[Path] = field(default_factory=list)

    def summary(self, limit: int = 30) -> str:
        """Return a readable report: outcome, row counts, errors and warnings as tables."""
        lines = [f"xz clean: 批次 (batch) {self.batch}: {self.files} 个文件 (files) "
                 f"{self.raw_dir} -> {self.out_dir}"]
        counts = ", ".join(f"{t} {n:,}" for t, n in self.tables.items())
        if self.ok:
            lines.append(f"成功 (ok): 已写入 {counts}"
                         + ("; 示例数据 (synthetic)" if self.synthetic else "")
                         + f"; {self.seconds:.1f} s")
        else:
            lines.append(f"失败 (failed): {len(self.problems)} 个错误 (errors)，"
                         f"{self.out_dir} 未改动 (left unchanged)")
        if self.problems:
            lines += ["", f"错误 (errors): {len(self.problems)}",
                      format_table(self.problems, limit=limit)]
        if self.warnings:
            lines += ["", f"警告 (warnings, 不影响导入): {len(self.warnings)}",
                      format_table(self.warnings, limit=min(limit, 20))]
        if self.changes is not None:
            lines += ["", self.changes.summary()]
        if self.report_paths:
            lines += ["", "报告 (report): " + ", ".join(str(p) for p in self.report_paths)]
        if self.change_paths:
            lines.append("变化 (changes): " + ", ".join(str(p) for p in self.change_paths))
        return "\n".join(lines)


def default_report_dir(out_dir: str | os.PathLike, batch: str) -> Path:
    """Return where the clerk's report goes: ``<out>/../interim/clean-report-<batch>``."""
    return Path(out_dir).parent / "interim" / f"clean-report-{batch}"


def _inside(a: Path, b: Path) -> bool:
    """True if ``a`` is ``b`` or inside it."""
    try:
        a.resolve().relative_to(b.resolve())
        return True
    except ValueError:
        return False


# --------------------------------------------------------------------------- per-sheet parse


@dataclass
class _Part:
    """Rows of one sheet in processed form, with where each came from."""

    table: str
    frame: pd.DataFrame
    file: str
    sheet: str
    rows: np.ndarray  # Excel row of each frame row
    written: dict  # processed column -> header as written
    raw: pd.DataFrame  # the sheet's data rows kept (index = Excel row)
    positions: dict  # processed column -> column position in raw
    bad_cells: set  # (excel row, processed column) with a parse error
    checkable: bool = True
    street: str | None = None

    @property
    def bad_rows(self) -> set:
        return {r for r, _ in self.bad_cells}


def _raw_text(v) -> str:
    return rd._cell_text(v)


class _SheetParser:
    def __init__(self, sheet: rd.Sheet, street: str | None, col: Collector, ctx: dict,
                 period: tuple[int, int] | None = None) -> None:
        self.s = sheet
        self.street = street
        self.period = period
        self.col = col
        self.ctx = ctx  # batch-wide records: conversions, qualifiers
        self.table = sheet.table
        self.schema = schemas.get_schema(self.table)
        self.bad_cells: set = set()
        self.q_start = len(ctx["qualifiers"])

    # ---------------------------------------------------------------- helpers
    def _cells(self, mask: pd.Series, column: str, written: str, values: pd.Series, message,
               suggestion, rule: str, severity: str = "error") -> None:
        """Report one problem per True row of ``mask`` (bounded by the collector)."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        rows = mask.index[mask.to_numpy()]
        msgs = message if isinstance(message, pd.Series) else None
        sugg = suggestion if isinstance(suggestion, pd.Series) else None
        add = self.col.error if severity == "error" else self.col.warn
        limit = self.col.limit
        for r in rows[:limit]:
            add(table=self.table, rule=rule, file=self.s.file, sheet=self.s.sheet, row=int(r),
                column=written, value=_raw_text(values.get(r)),
                message=str(msgs[r]) if msgs is not None else message,
                suggestion=str(sugg[r]) if sugg is not None and pd.notna(sugg[r]) else
                (suggestion if isinstance(suggestion, str) else ""))
        if len(rows) > limit:
            self.col.count_more(severity, self.s.file, self.s.sheet, written, rule,
                                len(rows) - limit)
        if severity == "error":
            self.bad_cells.update((int(r), column) for r in rows)

    def _sheet_error(self, rule, message, suggestion, column="", row=None, severity="error"):
        (self.col.error if severity == "error" else self.col.warn)(
            table=self.table, rule=rule, file=self.s.file, sheet=self.s.sheet,
            row=self.s.header_row if row is None else row, column=column, message=message,
            suggestion=suggestion)

    # ---------------------------------------------------------------- headers
    def map_headers(self) -> tuple[dict, dict]:
        """Return ``{column: (position, HeaderMatch)}`` and missing required specs."""
        found: dict[str, tuple[int, nz.HeaderMatch]] = {}
        for j, h in enumerate(self.s.headers):
            if not str(h).strip():
                data = self.s.data[j] if j in self.s.data.columns else pd.Series(dtype=object)
                filled = ~nz.is_blank(data)
                if filled.any():
                    first = int(filled[filled].index[0])
                    self._sheet_error("unnamed_column", f"第 {j + 1} 列没有表头但有数据，已忽略 "
                                      "(data under an empty header ignored)",
                                      "补上表头或删除这些数据", column=f"第{j + 1}列", row=first,
                                      severity="warning")
                continue
            unit = self.s.units[j] if j < len(self.s.units) else None
            m = nz.match_header(self.table, h, unit)
            if m.ignored:
                continue
            if m.spec is None:
                data = self.s.data[j] if j in self.s.data.columns else pd.Series(dtype=object)
                if not nz.is_blank(data).all():
                    self._sheet_error("unknown_column", f"未识别的列「{h}」，已忽略 (column ignored)",
                                      "如是模板中的列，请改用模板表头", column=h, severity="warning")
                continue
            if m.problem:
                self._sheet_error("unit", m.problem, "把表头改为模板写法，如「" + m.spec.header + "」",
                                  column=h)
                continue
            if m.spec.column in found:
                prev = found[m.spec.column][1].written
                self._sheet_error("duplicate_column", f"「{h}」与「{prev}」都是「{m.spec.header}」"
                                  "，无法判断哪一列是 (two columns with the same meaning)",
                                  "把两列的表头改成模板中的写法（如「政府资金（万元）」「社会资金（万元）」），"
                                  "不要删除数据", column=h)
                continue
            found[m.spec.column] = (j, m)
        missing = [s for s in nz.field_specs(self.table)
                   if s.required and s.column not in found]
        for s in missing:
            self._sheet_error("missing_column", f"缺少必填列「{s.header}」 (required column missing)",
                              f"在表头行加上「{s.header}」列", column=s.header)
        return found, missing

    # ---------------------------------------------------------------- rows
    def select_rows(self, found: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Drop blank, footer and total rows; return (detail rows, total rows)."""
        df = self.s.data
        self.pre = {}
        if df.empty:
            return df, df
        used = [p for p, _ in found.values()]
        self.pre = {j: nz.prep(df[j]) for j in df.columns}
        blank = pd.DataFrame({j: self.pre[j][1] == nz.BLANK for j in df.columns}, index=df.index)
        all_blank = blank[used].all(axis=1) if used else blank.all(axis=1)
        nonblank_n = (~blank).sum(axis=1)
        lead = list(df.columns[: min(4, len(df.columns))])
        comm = found.get("community_code")
        if comm is not None and comm[0] not in lead:
            lead.append(comm[0])
        marker = pd.Series(None, index=df.index, dtype=object)
        for j in lead:
            m = nz.total_marker(df[j], self.pre[j][0])
            marker = marker.where(marker.notna(), m)
        is_total = marker.notna()
        first = df.apply(lambda r: next((str(v) for v in r if _raw_text(v)), ""), axis=1) \
            if (nonblank_n.between(1, 3) & ~is_total & ~all_blank).any() else \
            pd.Series("", index=df.index)
        footer = nonblank_n.between(1, 3) & ~is_total & first.str.strip().str.match(
            _FOOTER.pattern).fillna(False).astype(bool)
        if footer.any():
            r = int(footer[footer].index[0])
            self._sheet_error("footer", f"表尾的签名/备注行已跳过 (footer rows skipped), 共 "
                              f"{int(footer.sum())} 行", "", row=r, severity="warning")
        # the header row repeated inside the table (pasted blocks, print titles)
        repeat = pd.Series(False, index=df.index)
        if len(found) >= 2:
            same = sum((self.pre[j][0] == nz.clean_key(m.written)).fillna(False).astype(int)
                       for j, m in found.values() if nz.clean_key(m.written))
            repeat = (same >= max(2, len(found) // 2)) & ~is_total
            if repeat.any():
                r = int(repeat[repeat].index[0])
                self._sheet_error("repeated_header", f"表头在表中重复出现，已跳过 {int(repeat.sum())} 行 "
                                  "(repeated header rows skipped)", "删除表中重复的表头行", row=r,
                                  severity="warning")
        keep = ~all_blank & ~is_total & ~footer & ~repeat
        k = keep.to_numpy()
        self.pre = {j: (t[k], kd[k]) for j, (t, kd) in self.pre.items()}
        totals = df[is_total.to_numpy()].copy()
        totals["__kind"] = marker[is_total]
        self.total_rows = totals
        return df[keep.to_numpy()], totals

    # ---------------------------------------------------------------- values
    def parse(self) -> _Part | None:
        s = self.s
        found, missing = self.map_headers()
        if not found:
            return None
        data, totals = self.select_rows(found)
        idx = data.index
        out: dict[str, pd.Series] = {}
        written = {c: m.written for c, (_, m) in found.items()}
        positions = {c: j for c, (j, _) in found.items()}
        numbers: dict[str, nz.NumberResult] = {}

        def raw(c):
            return data[found[c][0]]

        def pre(c):
            return self.pre.get(found[c][0])

        forced = self._layout_cells(found, data)
        for spec in nz.field_specs(self.table):
            c = spec.column
            if c not in found or spec.parser in ("community", "street"):
                continue
            m = found[c][1]
            col = self.schema.column(c)
            cells = raw(c)
            if spec.parser == "number":
                r = nz.parse_numbers(cells, factor=m.factor, units=spec.units, header_unit=m.unit,
                                     integer=spec.integer, pre=pre(c))
                if c in forced:  # reported as a layout problem: no value, no second problem
                    rows = forced[c]
                    r.bad[rows], r.value[rows], r.qualifier[rows], r.unit[rows] = \
                        False, np.nan, None, None
                numbers[c] = r
                self._cells(r.bad, c, m.written, cells,
                            "「" + m.written + "」" + r.reason[r.bad].astype(str),
                            _number_hint(spec, m), "number")
                if c == "year":
                    late, why = nz.year_too_late(r.value.where(~r.bad), self.period,
                                                 self.ctx.get("today"))
                    if late.any():
                        self._cells(late, c, m.written, cells,
                                    "「" + m.written + "」" + why[late].astype(str),
                                    "核对年份", "date_late")
                        r.value[late] = np.nan
                        r.bad |= late
                if r.dash.any() and col.nullable:
                    self._cells(r.dash, c, m.written, cells,
                                f"「{m.written}」的「-」按空值处理 (dash read as empty)",
                                "确实为0请填0", "dash", "warning")
                q = r.qualifier.notna() & ~r.bad
                if q.any():
                    self._qualifiers(q, c, m.written, cells, r)
                self._conversions(c, m, r, spec)
                v = r.value
                out[c] = v.round().astype("Int64") if col.dtype == "Int64" else v
            elif spec.parser in ("date", "datetime"):
                r = nz.parse_dates(cells, pre(c))
                self._cells(r.bad, c, m.written, cells,
                            "「" + m.written + "」" + r.reason[r.bad].astype(str),
                            "写成 2018-07-03" + (" 14:30" if spec.parser == "datetime" else ""),
                            "date")
                late, why = nz.too_late(r.value.where(~r.bad), self.period, self.ctx.get("today"))
                if late.any():
                    self._cells(late, c, m.written, cells,
                                "「" + m.written + "」" + why[late].astype(str),
                                "核对年份；日期应在填报期内且不晚于今天", "date_late")
                    r.value[late] = pd.NaT
                    r.bad |= late
                if r.month_only.any():
                    self._cells(r.month_only & ~r.bad, c, m.written, cells,
                                f"「{m.written}」只写到月，按当月1日录入 (month only, read as the 1st)",
                                "如知道具体日期请补全", "month_only", "warning")
                out[c] = r.value
            elif spec.parser == "label":
                codes, _, bad = nz.parse_labels(cells, col, pre(c))
                allowed = list(col.label_map.values()) or list(col.allowed or ())
                self._cells(bad, c, m.written, cells,
                            f"「{m.written}」只能填: {' / '.join(allowed)} (not an allowed value)",
                            "从允许值中选择: " + "、".join(allowed), "allowed")
                out[c] = codes
            elif spec.parser == "bool":
                vals, _, bad = nz.parse_bools(cells, pre(c))
                self._cells(bad, c, m.written, cells, f"「{m.written}」应填 是 或 否 (yes/no)",
                            "填写「是」或「否」", "bool")
                out[c] = vals
            else:
                out[c] = nz.parse_text(cells, nfkc=spec.parser == "id", pre=pre(c))

        years = self._years(out, idx)
        self._id_years(found, raw, out, years)
        streets = self._streets(found, data, idx)
        if "community_code" in found:
            self._communities(found["community_code"][1], raw("community_code"), years, streets,
                              out, pre("community_code"))
        if "street_code" in self.schema.names:
            out["street_code"] = streets
        self._check_totals(totals, found, numbers, data)
        for rec in self.ctx["qualifiers"][self.q_start:]:  # the processed row's key
            rec["key"] = {k: _key_text(out[k].get(rec["row"])) if k in out else None
                          for k in self.schema.key}

        frame = pd.DataFrame(index=idx)
        for c in self.schema.names:
            frame[c] = out[c] if c in out else pd.Series(pd.NA, index=idx, dtype=object)
        return _Part(self.table, frame.reset_index(drop=True), s.file, s.sheet,
                     np.asarray(idx, dtype=np.int64), written, data, positions, self.bad_cells,
                     checkable=not missing and self.street_ok(streets), street=self.street)

    def _layout_cells(self, found: dict, data: pd.DataFrame) -> dict:
        """Report merged cells over several rows in number columns and formula cells
        without a value; return ``{column: rows}`` of the number cells concerned."""
        forced: dict[str, list[int]] = {}
        by_pos = {j: (c, m) for c, (j, m) in found.items()}
        for (r0, c0, r1, c1) in self.s.merged:
            for j in range(c0, c1 + 1):
                if j not in by_pos or by_pos[j][1].spec.parser != "number" \
                        or by_pos[j][0] in _FILLED_NUMBERS:
                    continue
                c, m = by_pos[j]
                rows = [r for r in range(r0, r1 + 1) if r in data.index]
                if len(rows) < 2:
                    continue
                ref = f"{_col_letter(c0)}{r0}:{_col_letter(c1)}{r1}"
                self.col.error(table=self.table, rule="merged_cells", file=self.s.file,
                               sheet=self.s.sheet, row=rows[0], column=m.written,
                               value=_raw_text(data.at[rows[0], j]),
                               message=f"「{m.written}」的 {ref} 是合并单元格，跨 {len(rows)} 行；"
                                       "数字不能合并，否则会被重复计算 (a merged cell over several "
                                       "rows in a number column)",
                               suggestion="取消合并，在每一行填写该行自己的数字")
                forced.setdefault(c, []).extend(rows)
                self.bad_cells.update((r, c) for r in rows)
        for (r, j), formula in sorted(self.s.uncached.items()):
            if j not in by_pos or r not in data.index:
                continue
            c, m = by_pos[j]
            self.col.error(table=self.table, rule="formula_no_value", file=self.s.file,
                           sheet=self.s.sheet, row=r, column=m.written, value=formula,
                           message=f"「{m.written}」是公式，文件中没有计算结果 (a formula "
                                   "without a cached value)",
                           suggestion="用 Excel 或 WPS 打开该文件并保存后重新提交，或填写数值")
            if m.spec.parser == "number":
                forced.setdefault(c, []).append(r)
            self.bad_cells.add((r, c))
        return forced

    def _id_years(self, found: dict, raw, out: dict, years: pd.Series) -> None:
        """An ID carrying a year (M2017-…, P2017-…) must agree with the row's year."""
        key, src = self.schema.key[0], self.schema.year_from
        if key == src or key not in out or src not in found or not years.notna().any():
            return
        ids = out[key]
        idy = nz.id_years(ids)
        wrong = (idy.notna() & years.notna() & (idy != years)).fillna(False).astype(bool)
        if not wrong.any():
            return
        if self.bad_cells:
            wrong &= pd.Series([(int(r), src) not in self.bad_cells for r in years.index],
                               index=years.index, dtype=bool)
        m, mk = found[src][1], found[key][1]
        msg = ("「" + m.written + "」是 " + years[wrong].astype(str) + " 年，但「" + mk.written + "」"
               + ids[wrong].astype(str) + " 是 "
               + idy[wrong].astype(str) + " 年 (the year differs from the year in the ID)")
        self._cells(wrong, src, m.written, raw(src), msg.reindex(years.index),
                    "核对日期（年份）或编号，二者应为同一年", "id_year")

    def street_ok(self, streets: pd.Series) -> bool:
        return bool(streets.notna().all())

    def _years(self, out: dict, idx) -> pd.Series:
        src = out.get(self.schema.year_from)
        if src is None:
            return pd.Series(pd.NA, index=idx, dtype="Int64")
        if pd.api.types.is_datetime64_any_dtype(src):
            return src.dt.year.astype("Int64")
        return src.astype("Int64")

    def _streets(self, found: dict, data: pd.DataFrame, idx) -> pd.Series:
        base = pd.Series(self.street, index=idx, dtype=object)
        if "street_code" not in found:
            return base.astype("string")
        m = found["street_code"][1]
        cells = data[found["street_code"][0]]
        blank = nz.is_blank(cells)
        text = nz._text(cells)
        uniq = {u: nz.resolve_street(u) for u in pd.unique(text[~blank].to_numpy())}
        code = text.map(lambda t: uniq.get(t, (None, False))[0] if isinstance(t, str) else None)
        bad = ~blank & code.isna()
        self._cells(bad, "street_code", m.written, cells, f"「{m.written}」不是香洲区的镇街 (unknown street)",
                    "填写镇街全称或9位代码，如「翠香街道」", "street")
        if self.street:
            other = ~blank & code.notna() & (code != self.street)
            if other.any():
                self._cells(other, "street_code", m.written, cells,
                            f"该行的镇街与填报说明中的「{_street_name(self.street)}」不同，按该行填写录入 "
                            "(row street differs from the workbook's)", "核对镇街", "street_row",
                            "warning")
        return code.where(~blank, base).astype("string")

    def _communities(self, m: nz.HeaderMatch, cells: pd.Series, years: pd.Series,
                     streets: pd.Series, out: dict, pre: tuple | None = None) -> None:
        res = nz.resolve_names(cells, years, streets, pre)
        self._cells(res.bad, "community_code", m.written, cells,
                    "「" + m.written + "」" + res.reason[res.bad].astype(str),
                    res.suggestion[res.bad].astype(str), "community")
        if res.alias.any():  # one warning per distinct name as written
            t = pre[0] if pre is not None else nz._text(cells)
            al = res.alias.to_numpy()
            names = t[al].astype(object)
            rows = pd.Series(names.index, index=names.index)
            groups = rows.groupby(names.to_numpy(), sort=False).agg(["first", "size"])
            for name, (first, n) in groups.iterrows():
                official = res.official[first]
                self.col.warn(table=self.table, rule="alias", file=self.s.file, sheet=self.s.sheet,
                              row=int(first), column=m.written, value=_raw_text(cells[first]),
                              message=f"「{name}」按「{official}」匹配，共 {int(n)} 行 "
                                      "(name matched through an alias)",
                              suggestion=f"改为规范名称「{official}」")
        code = res.code
        # a community of another street (the FK check covers tables with street_code)
        ok = code.notna() & years.notna() & streets.notna()
        if ok.any():
            parent = pd.Series(pd.NA, index=code.index, dtype="string")
            for y in pd.unique(years[ok].to_numpy()):
                rows = ok & (years == y)
                parent[rows] = code[rows].map(nz.community_parents(int(y)))
            wrong = ok & parent.notna() & (parent != streets)
            if wrong.any():
                names = streets[wrong].map(lambda c: _street_name(c) if pd.notna(c) else "")
                msg = ("「" + nz._text(cells[wrong]) + "」在 " + years[wrong].astype(str)
                       + " 年不属于" + names + " (community belongs to another street)")
                self._cells(wrong, "community_code", m.written, cells, msg.reindex(cells.index),
                            "核对社区名称，或把该行放到所属镇街的报表中", "community_street")
        out["community_code"] = code

    def _qualifiers(self, mask, c, written, cells, r: nz.NumberResult) -> None:
        rows = mask[mask].index
        rec = self.ctx["qualifiers"]
        for row in rows:
            self.ctx["qualifier_count"] += 1
            if len(rec) < MAX_QUALIFIER_RECORDS:
                rec.append({"file": self.s.file, "sheet": self.s.sheet, "row": int(row),
                            "column": written, "field": f"{self.table}.{c}",
                            "value": _raw_text(cells[row]), "loaded": _num(r.value[row]),
                            "qualifier": r.qualifier[row], "marker": r.marker[row]})
        self._cells(mask, c, written, cells,
                    "「" + nz._text(cells)[mask].astype(str) + "」带限定词「"
                    + r.marker[mask].astype(str)
                    + "」，按数字 " + r.value[mask].map(_num).astype(str) + " 录入，限定词记入清单 "
                    "(qualifier recorded in the manifest)", "如有准确数字请填写准确数字", "qualifier",
                    "warning")

    def _conversions(self, c, m: nz.HeaderMatch, r: nz.NumberResult, spec: nz.FieldSpec) -> None:
        conv = self.ctx["conversions"]
        header_rows = int((~r.blank & ~r.bad & r.unit.isna()).sum())
        if m.unit and m.unit != spec.unit and m.factor != 1 and header_rows:
            conv.append({"file": self.s.file, "sheet": self.s.sheet, "column": m.written,
                         "field": f"{self.table}.{c}", "from": m.unit, "to": spec.unit,
                         "factor": _dec(m.factor), "rows": header_rows, "where": "header"})
            self._sheet_error("unit_converted",
                              f"「{m.written}」按 {m.unit}→{spec.unit} 换算 (×{_dec(m.factor)}) "
                              "(unit converted)", "", column=m.written, severity="warning")
        units = r.unit[~r.bad & r.unit.notna()]
        for u, n in units.value_counts().sort_index().items():
            f = spec.units.get(u, Decimal(1))
            if u == spec.unit or f == 1:
                continue
            conv.append({"file": self.s.file, "sheet": self.s.sheet, "column": m.written,
                         "field": f"{self.table}.{c}", "from": u, "to": spec.unit,
                         "factor": _dec(f), "rows": int(n), "where": "cell"})
            first = int(units[units == u].index[0])
            self._sheet_error("unit_converted",
                              f"{int(n)} 个单元格写了单位「{u}」，按 {u}→{spec.unit} 换算 (×{_dec(f)}) "
                              "(unit in cell converted)", "", column=m.written, row=first,
                              severity="warning")

    def _check_totals(self, totals: pd.DataFrame, found: dict, numbers: dict,
                      data: pd.DataFrame) -> None:
        if totals.empty:
            return
        for c, r in numbers.items():
            if c in _NOT_SUMMED:
                continue
            j, m = found[c]
            spec = m.spec
            tv = nz.parse_numbers(totals[j], factor=m.factor, units=spec.units, header_unit=m.unit)
            start = data.index.min() if len(data) else 0
            for row in totals.index:
                if tv.blank[row] or tv.bad[row]:
                    continue
                kind = totals.at[row, "__kind"]
                if kind == "subtotal":
                    prev = [t for t in totals.index if t < row]
                    lo = max(prev) if prev else start - 1
                    seg = r.value[(r.value.index > lo) & (r.value.index < row)]
                else:
                    seg = r.value[r.value.index < row] if row > start else r.value
                total, got = float(seg.sum()), float(tv.value[row])
                if abs(total - got) > 0.0051 + 1e-9 * abs(total):
                    self.col.warn(table=self.table, rule="total", file=self.s.file,
                                  sheet=self.s.sheet, row=int(row), column=m.written,
                                  value=_raw_text(totals.at[row, j]),
                                  message=f"{'小计' if kind == 'subtotal' else '合计'}行为 {_num(got)}，"
                                          f"明细之和为 {_num(total)} (total differs from the sum "
                                          "of the rows)",
                                  suggestion="核对明细或合计；合计行不会导入")


def _col_letter(j: int) -> str:
    """Excel column letters of a 0-based position (0 -> A, 26 -> AA)."""
    out = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        out = chr(65 + rem) + out
    return out


def _key_text(v) -> str | int | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return int(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return str(v)


def _num(v) -> str:
    if v is None or pd.isna(v):
        return ""
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def _dec(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _number_hint(spec: nz.FieldSpec, m: nz.HeaderMatch) -> str:
    unit = m.unit or spec.unit
    if spec.integer:
        return f"填写整数{('（' + unit + '）') if unit else ''}，如 120"
    return f"填写数字{('（' + unit + '）') if unit else ''}，如 12.5"


# --------------------------------------------------------------------------- batch


def _list_files(raw: Path, col: Collector) -> list[Path]:
    out = []
    for p in sorted(raw.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(raw).as_posix()
        if any(part.startswith(".") for part in p.relative_to(raw).parts):
            continue
        if p.name.startswith("~$"):
            col.warn(rule="lock_file", file=rel, message="Excel 临时文件已跳过 (Excel lock file skipped)",
                     suggestion="关闭 Excel 后删除该文件")
            continue
        if p.suffix.lower() not in rd.SUPPORTED:
            col.warn(rule="unsupported", file=rel,
                     message=f"不支持的文件类型「{p.suffix}」，已跳过 (file type skipped)",
                     suggestion="提交 .xlsx、.xls 或 .csv 文件")
            continue
        out.append(p)
    return out


def _resolve_submission(key: str, notes: dict, files: list[str], col: Collector
                        ) -> tuple[str | None, bool]:
    """Return ``(street code, synthetic)`` of one submission."""
    cands = []
    for label in (META_FIELDS["street_code"], META_FIELDS["street_name"]):
        v = notes.get(label, "")
        if nz.clean_key(v):
            code, alias = nz.resolve_street(v)
            if code is None:
                col.error(rule="street", file=files[0], sheet="填报说明", column=label, value=v,
                          message=f"「{label}」不是香洲区的镇街 (unknown street)",
                          suggestion="填写9位镇街代码或镇街全称，如 440402001 / 翠香街道")
            else:
                cands.append((code, f"填报说明「{label}」", v, alias))
    stem = Path(key).name
    in_name = nz.streets_in_name(stem)
    fname_code = in_name[0] if len(in_name) == 1 else None
    if len(in_name) > 1 and not cands:
        col.error(rule="street", file=files[0],
                  message="文件名中有多个镇街: " + "、".join(_street_name(c) for c in in_name)
                          + " (the file name names several streets)",
                  suggestion="在「填报说明」写明镇街代码，或让文件名只含一个镇街名称")
    if not cands and fname_code:
        cands.append((fname_code, "文件名", stem, False))
    codes = {c for c, *_ in cands}
    if len(codes) > 1:
        col.error(rule="street_conflict", file=files[0], sheet="填报说明",
                  message="镇街前后不一致: " + "; ".join(f"{w}={v}" for _, w, v, _ in cands)
                          + " (street differs between notes and file name)",
                  suggestion="核对填报说明中的镇街代码和镇街名称")
        return None, False
    code = codes.pop() if codes else None
    if code and fname_code and fname_code != code:
        col.warn(rule="street_file_name", file=files[0],
                 message=f"文件名中的镇街与填报说明不同，按填报说明 ({code}) 录入 "
                         "(file name names another street)", suggestion="重命名文件")
    for c, w, v, alias in cands:
        if alias:
            col.warn(rule="alias", file=files[0], sheet="填报说明", value=v, column=w,
                     message=f"「{v}」按「{_street_name(c)}」匹配 (street matched through an alias)",
                     suggestion=f"改为「{_street_name(c)}」")
    nature = nz.clean_key(notes.get(META_FIELDS["data_nature"], ""))
    synthetic = bool(nature) and (nature == nz.clean_key(SYNTHETIC_LABEL) or "示例数据" in nature
                                  or "合成数据" in nature)
    return code, synthetic


def read_batch(raw_dir: str | os.PathLike, col: Collector | None = None, *,
               today: dt.date | None = None
               ) -> tuple[dict[str, list[_Part]], list[dict], dict, Collector]:
    """Read and parse every file of a batch (no schema check, nothing written).

    Returns ``(parts per table, sources, context, collector)``; used by :func:`clean`.
    """
    raw = Path(raw_dir)
    col = col or Collector()
    ctx = {"conversions": [], "qualifiers": [], "qualifier_count": 0, "synthetic": {},
           "period": {}, "today": today, "street_sources": {}}
    files = _list_files(raw, col)
    if not files:
        raise UsageError(f"no submission files (.xlsx/.xls/.csv/.tsv) in {raw}")
    sources, groups = [], {}
    for p in files:
        rf = rd.read_file(p, raw)
        src = {"file": rf.rel, "sha256": dataset.sha256(p), "bytes": rf.size,
               "format": rf.format}
        if rf.encoding:
            src["encoding"] = rf.encoding
        sources.append(src)
        col.extend(rf.problems)
        for sh in rf.sheets:
            col.extend(sh.problems)
        groups.setdefault(rd.submission_key(rf.rel), []).append(rf)
    subs = []
    for key, rfs in groups.items():
        notes = {}
        for rf in rfs:
            for sh in rf.sheets:
                if sh.kind == "notes":
                    notes.update({k: v for k, v in sh.notes.items() if v})
        data_sheets = [sh for rf in rfs for sh in rf.sheets if sh.kind == "data"]
        if not data_sheets and not any(rf.problems for rf in rfs):
            if any(sh.kind == "notes" for rf in rfs for sh in rf.sheets):
                col.warn(rule="no_data", file=rfs[0].rel, message="只有填报说明，没有数据表 "
                         "(no data sheets)", suggestion="检查是否漏传数据文件")
            continue
        if not data_sheets:
            continue
        street, synthetic = _resolve_submission(key, notes, [rf.rel for rf in rfs], col)
        has_street_col = any(
            any(nz.match_header(sh.table, h).spec is not None
                and nz.match_header(sh.table, h).spec.column == "street_code"
                for h in sh.headers) for sh in data_sheets if sh.header_row)
        if street is None and not has_street_col:
            col.error(rule="street", file=rfs[0].rel, message="无法确定是哪个镇街的报表 "
                      "(street unknown)", suggestion=STREET_HOWTO)
        ctx["synthetic"][key] = synthetic
        ctx["period"][key] = nz.batch_period(notes.get(META_FIELDS["batch"], ""), Path(key).name)
        subs.append((street or "~", key, rfs, data_sheets, street))
    by_street: dict[str, list[str]] = {}
    for _, _key, rfs, _, street in subs:
        if street:
            by_street.setdefault(street, []).append(rfs[0].rel)
    for street, files in sorted(by_street.items()):
        if len(files) > 1:
            col.error(rule="duplicate_submission", file=files[1],
                      message=f"{_street_name(street)}有 {len(files)} 份报表: {', '.join(files)} "
                              "(more than one submission for this street)",
                      suggestion="只保留最新的一份，其余移出批次文件夹")
    by_file = {s["file"]: s for s in sources}
    for _, _key, rfs, _, street in sorted(subs, key=lambda s: (s[0], s[1])):
        files = [{k: by_file[rf.rel][k] for k in ("file", "sha256", "bytes")} for rf in rfs]
        ctx["street_sources"].setdefault(street or "*", []).extend(files)
    parts: dict[str, list[_Part]] = {t: [] for t in schemas.TABLES}
    for _, key, rfs, data_sheets, street in sorted(subs, key=lambda s: (s[0], s[1])):
        seen_tables = set()
        for sh in data_sheets:
            if sh.header_row is None:
                continue
            part = _SheetParser(sh, street, col, ctx, ctx["period"][key]).parse()
            if part is not None:
                parts[sh.table].append(part)
                seen_tables.add(sh.table)
        for t in schemas.TABLES:
            if t not in seen_tables and not any(sh.table == t for sh in data_sheets):
                col.warn(rule="missing_sheet", file=rfs[0].rel,
                         message=f"没有「{SHEETS[t]}」工作表，按无数据处理 (sheet missing, read as empty)",
                         suggestion=f"如有数据，请加上「{SHEETS[t]}」工作表")
    return parts, sources, ctx, col


def _empty(schema: schemas.TableSchema) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in schema.names})


class _Table:
    """A table's parts concatenated, with the Excel location of every row."""

    def __init__(self, table: str, parts: list[_Part]) -> None:
        self.table, self.parts = table, parts
        self.schema = schemas.get_schema(table)
        if not parts:
            self.frame = _empty(self.schema)
            self.part_of = np.array([], dtype=np.int32)
            self.rows = np.array([], dtype=np.int64)
            self.checkable = np.array([], dtype=bool)
            return
        frames = [p.frame for p in parts]
        self.frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        self.part_of = np.concatenate([np.full(len(p.frame), i, dtype=np.int32)
                                       for i, p in enumerate(parts)])
        self.rows = np.concatenate([p.rows for p in parts])
        self.checkable = np.concatenate([np.full(len(p.frame), p.checkable) for p in parts])
        self._by_header = {c.header: c.name for c in self.schema.columns}

    def locate(self, label) -> dict:
        p = self.parts[self.part_of[label]]
        return {"file": p.file, "sheet": p.sheet, "row": int(self.rows[label])}

    def relocate(self, prob: Problem) -> Problem | None:
        """Return a schema problem pointing at the clerk's cell (None: already reported)."""
        if prob.rule == "parent":  # the parser reports it per row, with names
            return None
        if prob.row is not None and not prob.file and self.parts:
            prob = replace(prob, **self.locate(prob.row))
        if prob.row is None or not prob.file:
            return prob
        p = next(pp for pp in self.parts if pp.file == prob.file and pp.sheet == prob.sheet)
        name = self._by_header.get(prob.column, prob.column)
        if (prob.row, name) in p.bad_cells:
            return None  # already reported as unreadable
        if prob.rule not in _OWN_CELL_RULES and prob.row in p.bad_rows:
            return None  # a follow-on of a cell already reported on this row
        written = p.written.get(name, prob.column)
        value = prob.value
        if name in p.positions and prob.row in p.raw.index:
            value = _raw_text(p.raw.at[prob.row, p.positions[name]]) or value
        header = f"「{self.schema.column(name).header}」" if name in self.schema.names else "\0"
        return Problem(table=self.table, rule=prob.rule,
                       message=prob.message.replace(header, f"「{written}」"), file=prob.file,
                       sheet=prob.sheet, row=prob.row, column=written, value=value,
                       suggestion=prob.suggestion, severity=prob.severity)

    def check(self, divs: pd.DataFrame, col: Collector) -> pd.DataFrame:
        """Coerce and check (only rows of sheets that could be read whole)."""
        df = schemas.coerce(self.frame, self.schema)
        if not len(df):
            return df
        sub = df[self.checkable] if not self.checkable.all() else df
        for prob in schemas.check(sub, self.schema, divs, locate=self.locate):
            prob = self.relocate(prob)
            if prob is not None:
                col.add(prob)
        return df


def _previous_state(out: Path) -> tuple[dict | None, dict]:
    """The processed tables and manifest before this clean (``(None, {})`` if none)."""
    if not (out / dataset.MANIFEST).is_file():
        return None, {}
    try:
        man = dataset.manifest(out)
        return {t: dataset.load(t, data_dir=out, names=False) for t in schemas.TABLES}, man
    except (DataError, UsageError, OSError, ValueError) as exc:
        log.warning("previous processed data in %s unreadable, not compared: %s", out, exc)
        return None, {}


def _report_changes(result: CleanResult, previous: tuple, tables: dict, street_sources: dict
                    ) -> None:
    """Compare with the previous state and write the change report (never fails a clean)."""
    old, man = previous
    try:
        # the new state only matters when there is an old one to compare it with
        new = ({t: schemas.coerce(tab.frame, tab.schema) for t, tab in tables.items()}
               if old is not None else {t: tab.frame.iloc[:0] for t, tab in tables.items()})
        result.changes = changes.compare(old, new, old_sources=man.get("street_sources"),
                                         new_sources=street_sources)
        result.change_paths = changes.write_changes(result.changes, result.out_dir, result.batch)
    except (OSError, ValueError, TypeError, KeyError) as exc:  # pragma: no cover - defensive
        log.warning("cannot write the change report: %s", exc)


def clean(raw_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
          report_dir: str | os.PathLike | None = None,
          divisions: pd.DataFrame | None = None) -> CleanResult:
    """Clean a raw batch into processed tables, all or nothing.

    Parameters
    ----------
    raw_dir : path
        The batch folder (``data/raw/<batch>``); read only, never modified.
    out_dir : path
        The processed folder; replaced atomically only if there is no error.
    report_dir : path, optional
        Where the clerk's report goes (default :func:`default_report_dir`); may not be
        inside ``out_dir`` or ``raw_dir``.
    divisions : DataFrame, optional
        Divisions history for the foreign-key check (default: the reference divisions).

    Returns
    -------
    CleanResult
        ``ok`` False means nothing under ``out_dir`` changed; ``problems`` lists every
        error of every file.

    Raises
    ------
    UsageError
        If ``raw_dir`` does not exist or holds no submission file, or the folders overlap.

    Examples
    --------
    >>> result = clean("data/raw/sample", "data/processed")  # doctest: +SKIP
    >>> print(result.summary())  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    raw, out = Path(raw_dir), Path(out_dir)
    if not raw.is_dir():
        raise UsageError(f"raw batch folder {raw} does not exist (run `xz sample` first?)")
    if _inside(out, raw) or _inside(raw, out):
        raise UsageError(f"--out {out} and --raw {raw} must not contain each other "
                         "(raw data is read-only)")
    batch = raw.resolve().name
    rep = Path(report_dir) if report_dir is not None else default_report_dir(out, batch)
    if _inside(rep, out) or _inside(rep, raw):
        raise UsageError(f"the report folder {rep} may not be inside {out} or {raw}")
    result = CleanResult(raw_dir=raw, out_dir=out, batch=batch)
    parts, sources, ctx, col = read_batch(raw)
    result.files = len(sources)
    divs = _divisions() if divisions is None else divisions

    flags = ctx["synthetic"]
    if flags and len(set(flags.values())) > 1:
        syn = sorted(k for k, v in flags.items() if v)
        real = sorted(k for k, v in flags.items() if not v)
        col.error(rule="mixed_synthetic", file=real[0],
                  message="批次中既有示例数据又有正式数据 (mixed synthetic and real submissions): "
                          f"示例 {', '.join(syn)}; 正式 {', '.join(real)}",
                  suggestion="示例数据和正式数据分开放在不同的批次文件夹中")
    synthetic = bool(flags) and all(flags.values())
    result.synthetic = synthetic

    tables = {t: _Table(t, parts[t]) for t in schemas.TABLES}
    for t, tab in tables.items():
        result.tables[t] = len(tab.frame)
    extra = {"street_sources": ctx["street_sources"],  # per street: the files its rows came from
             "conversions": ctx["conversions"], "qualifiers": ctx["qualifiers"],
             "qualifier_count": ctx["qualifier_count"],
             "ingest": {"warnings": len(col.warnings), "submissions": len(flags)}}
    if col.ok and all(tab.checkable.all() for tab in tables.values()):
        # the schema checks run once, inside write_tables; their problems are relocated
        previous = _previous_state(out)
        try:
            dataset.write_tables({t: tab.frame for t, tab in tables.items()}, out,
                                 sources=sources, batch=batch, synthetic=synthetic, extra=extra,
                                 divisions=divs)
            result.ok = True
            _report_changes(result, previous, tables, ctx["street_sources"])
        except DataError as exc:
            for prob in exc.problems:
                prob = tables[prob.table].relocate(prob) if prob.table in tables else prob
                if prob is not None:
                    col.add(prob)
            if col.ok:  # pragma: no cover - write_tables refused without an error
                col.error(rule="write", message=str(exc))
        except (ValueError, TypeError, KeyError) as exc:  # pragma: no cover - defensive
            log.warning("cannot coerce: %s", exc)
            col.error(rule="coerce", message="数据无法转换为规定的类型 (cannot coerce the data)",
                      suggestion="请把报表和本报告发给技术支持")
    else:  # something is already wrong: still check everything, write nothing
        for tab in tables.values():
            try:
                tab.check(divs, col)
            except (ValueError, TypeError, KeyError) as exc:  # pragma: no cover - defensive
                log.warning("cannot coerce %s: %s", tab.table, exc)
                col.error(table=tab.table, rule="coerce",
                          message=f"「{SHEETS[tab.table]}」无法转换为规定的类型 (cannot coerce)",
                          suggestion="请把报表和本报告发给技术支持")
    col.finish()
    result.problems, result.warnings = col.sorted()
    try:
        result.report_paths = write_report(result.problems, result.warnings, rep)
    except OSError as exc:
        log.warning("cannot write the report to %s: %s", rep, exc)
    result.seconds = time.perf_counter() - t0
    log.info("clean %s: %d errors, %d warnings, %.1f s", batch, len(result.problems),
             len(result.warnings), result.seconds)
    return result
