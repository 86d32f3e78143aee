"""Paths: the one module that knows where data, reports and notebooks live.

Every path is computed when asked for, so that ``XZ_DATA_DIR`` set after import (in a
test, a notebook or a batch worker) is honoured.  Nothing happens at import time.

Layout (relative to the project root, the folder holding ``pyproject.toml``)::

    data/raw/<batch>/   street-office submissions, never edited
    data/processed/     typed parquet tables + manifest.json (written by ``xz clean``)
    data/reference/     committed CSV: divisions, published facts, events, awards
    notebooks/          parameterized report notebooks
    reports/            built reports

``XZ_DATA_DIR`` replaces ``data/`` for raw and processed data.  Reference data describes
the district, not a batch, and is always read from the project's ``data/reference``
unless the data directory has a ``reference/`` folder of its own.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "PROJECT_ROOT",
    "data_dir",
    "raw_dir",
    "sample_raw_dir",
    "processed_dir",
    "reference_dir",
    "reports_dir",
    "notebooks_dir",
]

#: The repository root (``xzlib`` is installed editable from it).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Return the data directory: ``$XZ_DATA_DIR`` if set, else ``<root>/data``."""
    env = os.environ.get("XZ_DATA_DIR")
    return Path(env).expanduser().resolve() if env else PROJECT_ROOT / "data"


def raw_dir() -> Path:
    """Return ``<data>/raw``, the folder of raw submission batches."""
    return data_dir() / "raw"


def sample_raw_dir() -> Path:
    """Return ``<data>/raw/sample``, where ``xz sample`` writes by default."""
    return raw_dir() / "sample"


def processed_dir() -> Path:
    """Return ``<data>/processed``, where ``xz clean`` writes typed tables."""
    return data_dir() / "processed"


def reference_dir() -> Path:
    """Return the reference data folder (``<data>/reference`` if present, else the project's)."""
    own = data_dir() / "reference"
    return own if own.is_dir() else PROJECT_ROOT / "data" / "reference"


def reports_dir() -> Path:
    """Return ``<root>/reports``, the default output of ``xz build``."""
    return PROJECT_ROOT / "reports"


def notebooks_dir() -> Path:
    """Return ``<root>/notebooks``."""
    return PROJECT_ROOT / "notebooks"
