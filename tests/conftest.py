"""Shared fixtures: one processed sample batch per test session (示例数据)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory):
    """A data folder holding ``processed/`` built from the seed-0 sample batch.

    The tables are written with :func:`xzlib.dataset.write_tables` straight from
    :func:`xzlib.sample.generate` (the cleaner's own tests show that `xz clean` on the
    sample workbooks gives the same tables).
    """
    from xzlib import dataset, sample

    root = tmp_path_factory.mktemp("data")
    dataset.write_tables(sample.generate(0), root / "processed", batch="sample", synthetic=True)
    return root


@pytest.fixture
def sample_env(sample_data, monkeypatch):
    """Point ``XZ_DATA_DIR`` at the session's sample data."""
    monkeypatch.setenv("XZ_DATA_DIR", str(sample_data))
    return sample_data
