"""Resubmissions: the manifest records each street's file; `xz clean` reports what changed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests import factories
from tests.test_real_workbooks import CX, CX_NAME, header, meeting_rows, openpyxl_book, project_rows
from xzlib import cli, dataset, submission
from xzlib.ingest import changes
from xzlib.ingest import clean as cl


def batch(raw: Path, *, funds: float = 8.5, extra_project: bool = False) -> Path:
    rows = project_rows()
    rows[0][8] = funds
    if extra_project:
        rows.append(["P2018-0003", 2018, "紫荆社区", "微公益创投", "镇街级", None, "新增（示例）",
                     "示例社会组织 03", 3.0, None, 100, None])
    return openpyxl_book(raw / f"{CX}_{CX_NAME}.xlsx", {**other_sheets(),
                         "projects": [header("projects"), *rows],
                         "deliberations": [header("deliberations"), *meeting_rows()]})


def other_sheets() -> dict:
    """社区基本情况 and 网格事件 of 翠香 (every table filled, as in a real batch)."""
    out = {}
    for table in ("communities", "grid_cases"):
        df = getattr(factories, table)()
        df = df[df["community_code"].astype(str).str.startswith(CX)]
        sub = submission.to_submission(df, table)
        out[table] = [list(sub.columns)] + [
            [None if v is None or (not isinstance(v, str) and pd.isna(v)) else
             v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in rec]
            for rec in sub.itertuples(index=False)]
    return out


@pytest.fixture
def data(tmp_path) -> Path:
    return tmp_path / "data"


def run(data: Path) -> cl.CleanResult:
    result = cl.clean(data / "raw" / "b", data / "processed")
    assert result.ok, result.summary()
    return result


def test_manifest_records_the_file_of_each_street(data):
    path = batch(data / "raw" / "b")
    run(data)
    man = dataset.manifest(data / "processed")
    [rec] = man["street_sources"][CX]
    assert rec["file"] == path.name
    assert rec["bytes"] == path.stat().st_size
    assert rec["sha256"] == dataset.sha256(path)


def test_first_clean_then_same_files_change_nothing_and_say_so(data):
    batch(data / "raw" / "b")
    first = run(data)
    assert first.changes.first
    before = {p.name: p.read_bytes() for p in (data / "processed").iterdir()}
    second = run(data)
    assert second.changes.empty and not second.changes.first
    assert "没有变化" in second.summary()
    after = {p.name: p.read_bytes() for p in (data / "processed").iterdir()}
    assert before == after
    assert changes.latest(data / "processed") in second.change_paths


def test_resubmission_lists_added_and_changed_rows_with_old_and_new(data, capsys):
    raw = data / "raw" / "b"
    batch(raw)
    run(data)
    batch(raw, funds=9.25, extra_project=True)
    result = run(data)
    rows = result.changes.rows
    changed = rows[rows["change"] == "changed"]
    assert changed[["street_code", "table", "key", "column", "old", "new"]].values.tolist() == [
        [CX, "projects", "P2018-0001", "gov_funds_wan", "8.5", "9.25"]]
    added = rows[rows["change"] == "added"]
    assert added[["table", "key"]].values.tolist() == [["projects", "P2018-0003"]]
    counts = result.changes.counts.set_index("table").loc["projects"]
    assert (counts["added"], counts["removed"], counts["changed"]) == (1, 0, 1)
    old, new = result.changes.sources[CX]
    assert old != new  # the file's hash changed
    md, csv_path = result.change_paths
    assert "8.5" in md.read_text(encoding="utf-8") and "9.25" in md.read_text(encoding="utf-8")
    assert csv_path.read_text(encoding="utf-8-sig").splitlines()[0].startswith("镇街代码")
    assert cli.main(["changes", "--data", str(data / "processed")]) == 0
    assert "P2018-0003" in capsys.readouterr().out


def test_removed_rows_and_formula_text_is_neutralised(data):
    raw = data / "raw" / "b"
    batch(raw, extra_project=True)
    run(data)
    rows = project_rows()
    rows[1][6] = "@SUM(1+1)"
    openpyxl_book(raw / f"{CX}_{CX_NAME}.xlsx", {**other_sheets(),
                  "projects": [header("projects"), *rows],
                  "deliberations": [header("deliberations"), *meeting_rows()]})
    result = run(data)
    rows = result.changes.rows
    assert rows[rows["change"] == "removed"]["key"].tolist() == ["P2018-0003"]
    text = result.change_paths[1].read_text(encoding="utf-8-sig")
    assert "'@SUM(1+1)" in text
    assert json.loads((data / "processed" / "manifest.json").read_text())["street_sources"]
