"""Resubmissions: what changed between the previous processed state and the new one.

Street offices resend corrected workbooks.  After a successful ``xz clean``,
:func:`compare` lists, per street and table, the rows added, removed and changed (with
old -> new values, keyed by the table's key) and the source file each street's rows came
from before and after; :func:`write_changes` writes it as Markdown and CSV under
``data/interim/changes/`` (``changes-<UTC time>.md`` / ``.csv``; spreadsheet formulas
neutralised) and ``xz changes`` prints the latest (:func:`latest`).  Cleaning the same
files twice changes nothing, and the report says so.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import schemas
from ..errors import UsageError
from ..fsutil import write_text
from ..roster import street_name as _street_name
from ..roster import street_of
from .problems import neutralise

__all__ = ["Changes", "CHANGE_COLUMNS", "compare", "changes_dir", "write_changes", "latest"]

#: Columns of the change table (and of the CSV file).
CHANGE_COLUMNS = ("street_code", "table", "change", "key", "column", "old", "new")
#: At most this many rows per street and table are listed in the Markdown report (the
#: CSV has them all).
MAX_LISTED = 200


@dataclass
class Changes:
    """What changed between two processed states.

    Attributes
    ----------
    rows : DataFrame
        One row per added or removed table row and per changed cell
        (:data:`CHANGE_COLUMNS`).
    counts : DataFrame
        Per street and table: ``added``, ``removed``, ``changed`` (rows with at least one
        changed cell).
    sources : dict
        Per street: ``(old files, new files)`` as recorded in the manifests.
    first : bool
        True when there was no previous processed state.
    """

    rows: pd.DataFrame
    counts: pd.DataFrame
    sources: dict = field(default_factory=dict)
    first: bool = False

    @property
    def empty(self) -> bool:
        """True when nothing changed (same rows, same values, same files)."""
        return self.rows.empty and not any(a != b for a, b in self.sources.values())

    def summary(self) -> str:
        """One line per street and table that changed, or a line saying nothing did."""
        if self.first:
            return "变化 (changes): 首次导入，没有之前的数据可比较 (first clean, nothing to compare)"
        if self.empty:
            return "变化 (changes): 与上次导入相同，没有变化 (nothing changed since the last clean)"
        lines = ["变化 (changes since the last clean):"]
        for rec in self.counts.itertuples(index=False):
            lines.append(f"  {street_name(rec.street_code) or rec.street_code} {rec.table}: "
                         f"新增 {rec.added} 行, 删除 {rec.removed} 行, 修改 {rec.changed} 行 "
                         f"(added, removed, changed)")
        for code, (old, new) in sorted(self.sources.items()):
            if old != new and not ((self.counts["street_code"] == code).any()):
                lines.append(f"  {street_name(code) or code}: 文件变了，数据相同 (new file, same data)")
        return "\n".join(lines)


def street_name(code: object) -> str:
    """The street's name, or ``""`` for an unknown or empty code."""
    try:
        return _street_name(str(code)) if code else ""
    except UsageError:
        return ""


def _street_col(df: pd.DataFrame, table: str) -> pd.Series:
    schema = schemas.get_schema(table)
    if "street_code" in df.columns:
        return df["street_code"].astype("string")
    return street_of(df["community_code"], schema.years(df)).astype("string")


def _as_text(s: pd.Series) -> pd.Series:
    """Cells as comparable text (exact: floats by repr, NA as None)."""
    def one(v):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return None
        if isinstance(v, float):
            return str(int(v)) if v.is_integer() else repr(v)
        if isinstance(v, pd.Timestamp):
            return v.isoformat(sep=" ")
        return str(v)
    return s.astype(object).map(one)


def _keys(df: pd.DataFrame, key: list[str]) -> pd.Series:
    """The key of each row as one text (``2018|440402001001`` for a two-column key)."""
    if not len(df):
        return pd.Series([], dtype=object)
    out = _as_text(df[key[0]]) if df[key[0]].dtype.kind in "fM" else df[key[0]].astype(str)
    for c in key[1:]:
        out = out + "|" + df[c].astype(str)
    return out


def _diff_table(table: str, old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    schema = schemas.get_schema(table)
    key = list(schema.key)
    cols = [c for c in schema.names if c not in key]
    o = old.assign(__street=_street_col(old, table)) if len(old) else old.assign(__street=None)
    n = new.assign(__street=_street_col(new, table)) if len(new) else new.assign(__street=None)
    okey, nkey = _keys(o, key), _keys(n, key)
    o = o.set_index(pd.Index(okey, name="__key"))
    n = n.set_index(pd.Index(nkey, name="__key"))
    out = []
    removed = o.index.difference(n.index)
    added = n.index.difference(o.index)
    for keys, frame, change in ((removed, o, "removed"), (added, n, "added")):
        if len(keys):
            sub = frame.loc[keys]
            out.append(pd.DataFrame({"street_code": sub["__street"].to_numpy(), "table": table,
                                     "change": change, "key": keys.to_numpy(), "column": "",
                                     "old": "", "new": ""}))
    both = o.index.intersection(n.index)
    if len(both):
        ob, nb = o.loc[both], n.loc[both]
        for c in cols:
            a, b = ob[c], nb[c]
            if isinstance(a.dtype, pd.CategoricalDtype) or a.dtype == object:
                a = a.astype("string")
            if isinstance(b.dtype, pd.CategoricalDtype) or b.dtype == object:
                b = b.astype("string")
            try:
                same = (a == b).fillna(False).astype(bool) | (a.isna() & b.isna())
            except TypeError:  # the column changed type: compare as text
                same = _as_text(a) == _as_text(b)
            diff = ~same
            if diff.any():
                a, b = _as_text(a[diff]), _as_text(b[diff])
                out.append(pd.DataFrame({
                    "street_code": nb.loc[diff, "__street"].to_numpy(), "table": table,
                    "change": "changed", "key": both[diff.to_numpy()].to_numpy(), "column": c,
                    "old": a.fillna("").to_numpy(), "new": b.fillna("").to_numpy()}))
    if not out:
        return pd.DataFrame(columns=list(CHANGE_COLUMNS))
    return pd.concat(out, ignore_index=True)


def compare(old: dict[str, pd.DataFrame] | None, new: dict[str, pd.DataFrame], *,
            old_sources: dict | None = None, new_sources: dict | None = None) -> Changes:
    """Compare two processed states (``{table: frame}``, as :func:`xzlib.load` gives them
    with ``names=False``).

    Parameters
    ----------
    old : dict of DataFrame, or None
        The previous state; ``None`` if there was none (first clean).
    new : dict of DataFrame
        The state just written.
    old_sources, new_sources : dict, optional
        ``{street code: [file records]}`` from each manifest (``street_sources``).

    Returns
    -------
    Changes
    """
    if old is None:
        empty = pd.DataFrame(columns=list(CHANGE_COLUMNS))
        return Changes(empty, pd.DataFrame(columns=["street_code", "table", "added", "removed",
                                                    "changed"]), first=True)
    parts = [_diff_table(t, old.get(t, new[t].iloc[:0]), new[t]) for t in schemas.TABLES]
    rows = pd.concat(parts, ignore_index=True)
    rows["street_code"] = rows["street_code"].astype(object).where(rows["street_code"].notna(), "")
    rows = rows.sort_values(["street_code", "table", "change", "key", "column"],
                            kind="stable", ignore_index=True)
    if len(rows):
        g = rows.groupby(["street_code", "table", "change"])["key"].nunique().unstack(fill_value=0)
        for c in ("added", "removed", "changed"):
            if c not in g.columns:
                g[c] = 0
        counts = g[["added", "removed", "changed"]].reset_index()
    else:
        counts = pd.DataFrame(columns=["street_code", "table", "added", "removed", "changed"])
    old_sources, new_sources = old_sources or {}, new_sources or {}
    sources = {c: (_files(old_sources.get(c)), _files(new_sources.get(c)))
               for c in sorted(set(old_sources) | set(new_sources))}
    return Changes(rows, counts, sources)


def _files(records) -> tuple:
    return tuple(sorted((r.get("file", ""), r.get("sha256", "")) for r in records or ()))


def changes_dir(out_dir: str | os.PathLike) -> Path:
    """Where change reports go: ``<processed>/../interim/changes``."""
    return Path(out_dir).parent / "interim" / "changes"


def _markdown(ch: Changes, batch: str, when: str) -> str:
    lines = [f"# 数据变化 (changes) — 批次 {batch}", "", f"导入时间 (cleaned at): {when}", "",
             ch.summary(), ""]
    if ch.sources:
        lines += ["## 来源文件 (source files)", "", "| 镇街 | 之前 (before) | 现在 (now) |",
                  "|---|---|---|"]
        for code, (old, new) in ch.sources.items():
            def fmt(files):
                return "<br>".join(f"{_md(f)} (`{s[:12]}`)" for f, s in files) or "—"
            lines.append(f"| {street_name(code) or code} | {fmt(old)} | {fmt(new)} |")
        lines.append("")
    for (code, table), grp in ch.rows.groupby(["street_code", "table"], sort=True):
        lines += [f"## {street_name(code) or code or '(未知镇街)'} · {table}", "",
                  "| 变化 (change) | 键 (key) | 列 (column) | 原值 (old) | 新值 (new) |",
                  "|---|---|---|---|---|"]
        for rec in grp.head(MAX_LISTED).itertuples(index=False):
            lines.append(f"| {rec.change} | {_md(rec.key)} | {rec.column} | {_md(rec.old)} | "
                         f"{_md(rec.new)} |")
        if len(grp) > MAX_LISTED:
            lines.append(f"| …另有 {len(grp) - MAX_LISTED} 行 (more rows in the CSV) | | | | |")
        lines.append("")
    return "\n".join(lines)


def _md(v: object) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def write_changes(ch: Changes, out_dir: str | os.PathLike, batch: str,
                  now: dt.datetime | None = None) -> list[Path]:
    """Write the change report as ``.md`` and ``.csv`` (UTF-8 with BOM) under
    :func:`changes_dir`; return the paths."""
    now = now or dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    folder = changes_dir(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    md = write_text(folder / f"changes-{stamp}.md", _markdown(ch, batch, now.isoformat()))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["镇街代码 (street_code)", "镇街 (street)", "表 (table)", "变化 (change)",
                "键 (key)", "列 (column)", "原值 (old)", "新值 (new)"])
    for rec in ch.rows.itertuples(index=False):
        w.writerow([neutralise(v) for v in (rec.street_code, street_name(rec.street_code)
                                            if rec.street_code else "", rec.table, rec.change,
                                            rec.key, rec.column, rec.old, rec.new)])
    path = write_text(folder / f"changes-{stamp}.csv", "\ufeff" + buf.getvalue())
    return [md, path]


def latest(out_dir: str | os.PathLike) -> Path | None:
    """Return the newest change report (``.md``) for a processed folder, or ``None``."""
    folder = changes_dir(out_dir)
    found = sorted(folder.glob("changes-*.md")) if folder.is_dir() else []
    return found[-1] if found else None
