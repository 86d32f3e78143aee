"""Processed tables: write checks everything and is atomic; load returns documented dtypes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import xzlib as xz
from tests import factories as f
from xzlib import dataset, schemas
from xzlib.errors import DataError, UsageError


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def processed(tmp_path):
    return dataset.write_tables(f.all_tables(), tmp_path / "processed", batch="t", synthetic=True,
                                sources=[{"file": "a.xlsx", "sha256": "0" * 64, "bytes": 1}])


def test_roundtrip_has_documented_dtypes(processed):
    for name in schemas.TABLES:
        df = xz.load(name, data_dir=processed, names=False)
        schema = schemas.get_schema(name)
        assert list(df.columns) == schema.names
        for col in schema.columns:
            assert str(df[col.name].dtype) == col.dtype, (name, col.name)
        assert df.attrs["synthetic"] is True
        assert df.attrs["batch"] == "t"


def test_an_empty_table_round_trips_with_its_dtypes(tmp_path):
    """A batch in which no street reported a meeting: the empty table loads typed."""
    tables = f.all_tables()
    tables["deliberations"] = tables["deliberations"].iloc[0:0]
    folder = dataset.write_tables(tables, tmp_path / "processed", batch="t", synthetic=True)
    df = xz.load("deliberations", data_dir=folder)
    assert len(df) == 0
    for col in schemas.get_schema("deliberations").columns:
        assert str(df[col.name].dtype) == col.dtype, col.name


def test_load_joins_names_and_street_of_the_year(processed):
    gc = xz.load("grid_cases", data_dir=processed)
    # 沥溪社区 (a 凤山 code) belonged to 前山街道 in 2018
    row = gc[gc["community_code"] == f.LIXI].iloc[0]
    assert row["street_code"] == f.QIANSHAN
    assert row["street_name"] == "前山街道"
    assert row["community_name"] == "沥溪社区"
    assert isinstance(gc["street_code"].dtype, pd.CategoricalDtype)


def test_load_filters_by_year(processed):
    assert len(xz.load("deliberations", 2018, data_dir=processed)) == 2
    assert len(xz.load("deliberations", 2017, data_dir=processed)) == 0


def test_manifest_records_tables_sources_and_flag(processed):
    man = xz.manifest(processed)
    assert man["synthetic"] is True
    assert man["schema_version"] == schemas.SCHEMA_VERSION
    assert set(man["tables"]) == set(schemas.TABLES)
    for name, entry in man["tables"].items():
        assert entry["rows"] == len(getattr(f, name)())
        assert entry["sha256"] == dataset.sha256(processed / entry["file"])
    assert man["sources"][0]["file"] == "a.xlsx"


def test_same_input_gives_byte_identical_output(tmp_path):
    a = dataset.write_tables(f.all_tables(), tmp_path / "a", batch="t", synthetic=True)
    b = dataset.write_tables(f.all_tables(), tmp_path / "b", batch="t", synthetic=True)
    assert snapshot(a) == snapshot(b)


def test_bad_row_leaves_previous_output_byte_identical(processed):
    before = snapshot(processed)
    tables = f.all_tables()
    tables["deliberations"].loc[0, "adopted"] = 99
    tables["projects"].loc[1, "eval_score"] = 120.0
    with pytest.raises(DataError) as info:
        dataset.write_tables(tables, processed, batch="t2")
    rules = {p.rule for p in info.value.problems}
    assert {"adopted_le_proposals", "range"} <= rules  # both problems, not the first only
    assert snapshot(processed) == before
    assert not list(processed.parent.glob(".processed.tmp-*"))


def test_interrupted_swap_is_recovered(processed):
    before = snapshot(processed)
    old = processed.with_name(".processed.old")
    processed.rename(old)  # as if killed between the two renames
    dataset.write_tables(f.all_tables(), processed, batch="t", synthetic=True,
                         sources=[{"file": "a.xlsx", "sha256": "0" * 64, "bytes": 1}])
    assert snapshot(processed) == before
    assert not old.exists()


def test_validate_detects_tampering(processed):
    assert dataset.validate(processed) == []
    path = processed / "projects.parquet"
    df = pd.read_parquet(path)
    df.loc[0, "gov_funds_wan"] = -1.0
    df.to_parquet(path)
    rules = {p.rule for p in dataset.validate(processed)}
    assert {"hash", "range"} <= rules


def test_load_enforces_the_schema_on_a_changed_file(processed, caplog):
    path = processed / "deliberations.parquet"
    df = pd.read_parquet(path)
    df.loc[0, "topic"] = "改过的议题"  # still valid: loads, with a warning
    df.to_parquet(path)
    assert xz.load("deliberations", data_dir=processed)["topic"].iloc[0] == "改过的议题"
    assert "changed since `xz clean`" in caplog.text
    df.loc[1, "adopted"] = 99  # breaks adopted <= proposals
    df.to_parquet(path)
    with pytest.raises(DataError) as info:
        xz.load("deliberations", data_dir=processed)
    assert [p.rule for p in info.value.problems] == ["adopted_le_proposals"]


def test_xz_data_dir_is_honoured(processed, monkeypatch):
    monkeypatch.setenv("XZ_DATA_DIR", str(processed.parent))
    assert len(xz.load("projects")) == 2
    assert json.loads((processed / "manifest.json").read_text())["batch"] == "t"


def test_unknown_table_and_missing_data_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="communities, projects"):
        xz.load("nope", data_dir=tmp_path)
    with pytest.raises(UsageError, match="xz clean"):
        xz.load("projects", data_dir=tmp_path)


def test_load_is_memoised_per_file_version_and_returns_copies(processed):
    first = xz.load("grid_cases", 2018, data_dir=processed)
    first.loc[first.index[0], "street_name"] = pd.NA  # a report changing its copy...
    first.attrs["batch"] = "changed"
    again = xz.load("grid_cases", 2018, data_dir=processed)
    assert again["street_name"].notna().all()  # ...changes nothing for the next one
    assert again.attrs["batch"] == "t"
    assert again is not first
    # a new version of the file is read (and checked) again
    path = processed / "grid_cases.parquet"
    df = pd.read_parquet(path)
    df.to_parquet(path)  # same rows, another file version (mtime, size)
    assert len(xz.load("grid_cases", 2018, data_dir=processed)) == len(again)
