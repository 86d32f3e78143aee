"""Collecting problems and writing the clerk's report.

The cleaner records every problem of every file in one pass (:class:`Collector`), then
prints them as a readable table (:func:`format_table`) and writes them as ``.xlsx`` and
``.csv`` files a clerk can open (:func:`write_report`).  Warnings (recoverable: a name
matched through an alias, a qualifier like 约, a unit converted) are kept apart from
errors and never fail a run.

Exported cells are neutralised: a value starting with ``=``, ``+``, ``-``, ``@`` (or a tab
or carriage return) gets a leading apostrophe so that a spreadsheet shows it as text and
never evaluates it as a formula.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..errors import Problem
from ..fsutil import atomic_file

__all__ = [
    "REPORT_COLUMNS",
    "Collector",
    "neutralise",
    "report_frame",
    "format_table",
    "write_report",
]

#: Report columns: (Problem attribute, Chinese header (English)).
REPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("severity", "级别 (severity)"),
    ("file", "文件 (file)"),
    ("sheet", "工作表 (sheet)"),
    ("row", "行号 (row)"),
    ("column", "列 (column)"),
    ("value", "值 (value)"),
    ("message", "问题 (problem)"),
    ("suggestion", "建议修改 (suggested fix)"),
    ("rule", "规则 (rule)"),
    ("table", "表 (table)"),
)
_SEVERITY_ZH = {"error": "错误", "warning": "警告"}


class Collector:
    """Collect errors and warnings, bounded per (file, sheet, column, rule).

    Parameters
    ----------
    limit : int
        At most this many rows are listed for one rule in one column of one sheet; the
        rest are counted in one summary entry ("…另有 N 行").
    """

    def __init__(self, limit: int = 200) -> None:
        self.limit = limit
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self._counts: dict[tuple, int] = {}

    def add(self, problem: Problem) -> None:
        """Add one problem (its ``severity`` says where it goes)."""
        key = (problem.severity, problem.file, problem.sheet, problem.column, problem.rule)
        n = self._counts.get(key, 0) + 1
        self._counts[key] = n
        if n <= self.limit or problem.row is None:
            (self.errors if problem.severity == "error" else self.warnings).append(problem)

    def count_more(self, severity: str, file: str, sheet: str, column: str, rule: str,
                   n: int) -> None:
        """Count ``n`` more problems of one kind without listing them."""
        key = (severity, file, sheet, column, rule)
        self._counts[key] = self._counts.get(key, 0) + n

    def extend(self, problems: Iterable[Problem]) -> None:
        """Add several problems."""
        for p in problems:
            self.add(p)

    def error(self, **kw) -> None:
        """Add an error; keywords are :class:`~xzlib.errors.Problem` fields."""
        kw.setdefault("table", "")
        self.add(Problem(severity="error", **kw))

    def warn(self, **kw) -> None:
        """Add a warning; keywords are :class:`~xzlib.errors.Problem` fields."""
        kw.setdefault("table", "")
        self.add(Problem(severity="warning", **kw))

    def finish(self) -> None:
        """Append a summary entry for every rule that hit the listing limit."""
        for key, n in sorted(self._counts.items(), key=lambda kv: tuple(map(str, kv[0]))):
            if n > self.limit:
                severity, file, sheet, column, rule = key
                p = Problem(table="", rule=rule, file=file, sheet=sheet, column=column,
                            message=f"……另有 {n - self.limit} 行同样的问题 "
                                    f"({n - self.limit} more rows)",
                            severity=severity)
                (self.errors if severity == "error" else self.warnings).append(p)
        self._counts = {k: min(v, self.limit) for k, v in self._counts.items()}

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def sorted(self) -> tuple[list[Problem], list[Problem]]:
        """Return ``(errors, warnings)`` sorted by file, sheet, row and column."""
        def key(p: Problem):
            return (p.file, p.sheet, p.row if p.row is not None else 10**12, p.column, p.rule)
        return sorted(self.errors, key=key), sorted(self.warnings, key=key)


def neutralise(value: object) -> object:
    """Return ``value`` safe to put in a spreadsheet cell (no formula injection).

    >>> neutralise("=HYPERLINK(\\"x\\")")
    '\\'=HYPERLINK("x")'
    >>> neutralise("紫荆社区")
    '紫荆社区'
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def report_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """Return problems as the report table (Chinese headers, formulas neutralised)."""
    rows = []
    for p in problems:
        row = {}
        for attr, head in REPORT_COLUMNS:
            v = getattr(p, attr)
            if attr == "severity":
                v = _SEVERITY_ZH.get(v, v)
            row[head] = neutralise("" if v is None else v) if attr != "row" else v
        rows.append(row)
    df = pd.DataFrame(rows, columns=[h for _, h in REPORT_COLUMNS])
    df[REPORT_COLUMNS[3][1]] = df[REPORT_COLUMNS[3][1]].astype("Int64")
    return df


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _cut(text: str, width: int) -> str:
    out, w = "", 0
    for ch in text:
        cw = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if w + cw > width - 1:
            return out + "…"
        out += ch
        w += cw
    return out


def _pad(text: str, width: int) -> str:
    t = _cut(text.replace("\n", " "), width)
    return t + " " * (width - _width(t))


def format_table(problems: list[Problem], *, limit: int = 50) -> str:
    """Return problems as an aligned text table (CJK-aware), at most ``limit`` rows.

    Columns: 文件 file, 工作表 sheet, 行 row, 列 column, 值 value, 问题 problem,
    建议 fix.  Long cells are cut with "…"; the report files have them in full.
    """
    cols = [("file", "文件 (file)", 30), ("sheet", "工作表", 14), ("row", "行", 6),
            ("column", "列 (column)", 18), ("value", "值 (value)", 14),
            ("message", "问题 (problem)", 52), ("suggestion", "建议 (fix)", 30)]
    lines = ["  ".join(_pad(h, w) for _, h, w in cols).rstrip(),
             "  ".join("-" * w for _, _, w in cols)]
    for p in problems[:limit]:
        vals = {"file": p.file or p.table, "sheet": p.sheet,
                "row": "" if p.row is None else str(p.row), "column": p.column,
                "value": p.value, "message": p.message, "suggestion": p.suggestion}
        lines.append("  ".join(_pad(str(vals[k] or ""), w) for k, _, w in cols).rstrip())
    if len(problems) > limit:
        lines.append(f"……共 {len(problems)} 条，其余见报告文件 ({len(problems) - limit} more in the "
                     "report file)")
    return "\n".join(lines)


def _atomic(path: Path, write) -> None:
    with atomic_file(path) as tmp:
        write(str(tmp))


def write_report(errors: list[Problem], warnings: list[Problem], folder: str | os.PathLike,
                 *, stem: str = "clean-report") -> list[Path]:
    """Write the clerk's report as ``<stem>.xlsx`` (sheets 错误 / 警告) and ``<stem>.csv``.

    The CSV is UTF-8 with a BOM so that Excel opens it in Chinese; it lists errors first,
    then warnings, with a 级别 column.  Files are replaced atomically.

    Returns
    -------
    list of Path
        The two files written.
    """
    import xlsxwriter

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    xlsx, csv_path = folder / f"{stem}.xlsx", folder / f"{stem}.csv"
    err_df, warn_df = report_frame(errors), report_frame(warnings)

    def write_xlsx(tmp: str) -> None:
        wb = xlsxwriter.Workbook(tmp, {"strings_to_formulas": False, "strings_to_urls": False,
                                       "strings_to_numbers": False})
        bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        widths = [8, 28, 14, 8, 18, 16, 50, 40, 14, 12]
        for name, df in (("错误", err_df), ("警告", warn_df)):
            ws = wb.add_worksheet(name)
            for c, h in enumerate(df.columns):
                ws.write_string(0, c, h, bold)
                ws.set_column(c, c, widths[c], wrap)
            for r, rec in enumerate(df.itertuples(index=False), start=1):
                for c, v in enumerate(rec):
                    if v is None or (not isinstance(v, str) and pd.isna(v)):
                        continue
                    if isinstance(v, str):
                        ws.write_string(r, c, v)
                    else:
                        ws.write_number(r, c, int(v))
            if df.empty:
                ws.write_string(1, 0, "无 (none)")
            ws.freeze_panes(1, 0)
            ws.autofilter(0, 0, max(len(df), 1), len(df.columns) - 1)
        wb.close()

    def write_csv(tmp: str) -> None:
        pd.concat([err_df, warn_df], ignore_index=True).to_csv(tmp, index=False,
                                                               encoding="utf-8-sig")

    _atomic(xlsx, write_xlsx)
    _atomic(csv_path, write_csv)
    return [xlsx, csv_path]


def relocate(problem: Problem, **changes) -> Problem:
    """Return ``problem`` with some fields changed (e.g. the column as written)."""
    return replace(problem, **changes)
