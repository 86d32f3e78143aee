"""Paths: the one module that knows where data, reports and notebooks live.

xzlib is an installed package; the user's data and reports live in a **project folder**::

    xzlib.toml          marks the folder as an xzlib project (written by ``xz init``)
    data/raw/<batch>/   street-office submissions, never edited
    data/processed/     typed parquet tables + manifest.json (written by ``xz clean``)
    data/interim/       caches and the clerk's problem reports
    notebooks/          optional: the project's own copy of the report notebooks
    reports/            built reports

``xz init DIR`` lays one out; a clone of the repository is one too.  The project folder is,
in this order:

1. ``$XZ_PROJECT_DIR`` if set (``xz --project DIR`` sets it for one command);
2. the working directory or the nearest folder above it holding ``xzlib.toml``;
3. the parent of ``$XZ_DATA_DIR`` if that is set.

``$XZ_DATA_DIR`` replaces ``<project>/data`` for raw and processed data.  Reference data
describes the district, not a batch: it is read from ``<data>/reference`` if that folder
exists, else from the copy shipped inside xzlib (:mod:`xzlib.resources`).  Notebooks come
from the project's ``notebooks/`` if it has one, else from the package.

Every path is computed when asked for, so that variables set after import (in a test, a
notebook or a batch worker) are honoured.  Nothing happens at import time.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from . import resources
from .errors import UsageError

__all__ = [
    "MARKER",
    "find_project",
    "project_root",
    "data_dir",
    "raw_dir",
    "sample_raw_dir",
    "processed_dir",
    "interim_dir",
    "reference_dir",
    "reports_dir",
    "notebooks_dir",
    "source_root",
    "docs_dir",
    "init_project",
]

logger = logging.getLogger(__name__)

#: The file that marks a project folder.
MARKER = "xzlib.toml"

_HINT = ("run `xz init DIR` to make a project folder and run xz inside it, or name one with "
         "`xz --project DIR` (XZ_PROJECT_DIR=DIR), or set XZ_DATA_DIR to a data folder")


def find_project(start: str | os.PathLike | None = None) -> Path | None:
    """Return the project folder, or ``None`` if there is none (see the module docstring).

    Parameters
    ----------
    start : path-like, optional
        Where the upward search begins (default: the working directory).

    Raises
    ------
    xzlib.UsageError
        If ``$XZ_PROJECT_DIR`` names a folder that does not exist.
    """
    env = os.environ.get("XZ_PROJECT_DIR")
    if env:
        root = Path(env).expanduser().resolve()
        if not root.is_dir():
            raise UsageError(f"XZ_PROJECT_DIR={env}: no such folder; {_HINT}")
        return root
    here = Path(start if start is not None else os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return folder
    data = os.environ.get("XZ_DATA_DIR")
    if data:
        return Path(data).expanduser().resolve().parent
    return None


def project_root() -> Path:
    """Return the project folder.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    xzlib.UsageError
        If there is no project folder, saying how to make or name one.
    """
    root = find_project()
    if root is None:
        raise UsageError(f"no xzlib project folder in {os.getcwd()} or above it: {_HINT}")
    return root


def data_dir() -> Path:
    """Return the data folder: ``$XZ_DATA_DIR`` if set, else ``<project>/data``."""
    env = os.environ.get("XZ_DATA_DIR")
    return Path(env).expanduser().resolve() if env else project_root() / "data"


def raw_dir() -> Path:
    """Return ``<data>/raw``, the folder of raw submission batches."""
    return data_dir() / "raw"


def sample_raw_dir() -> Path:
    """Return ``<data>/raw/sample``, where ``xz sample`` writes by default."""
    return raw_dir() / "sample"


def processed_dir() -> Path:
    """Return ``<data>/processed``, where ``xz clean`` writes typed tables."""
    return data_dir() / "processed"


def interim_dir() -> Path:
    """Return ``<data>/interim``, for caches and the clerk's problem reports."""
    return data_dir() / "interim"


def reference_dir() -> Path:
    """Return the reference data folder.

    ``<data>/reference`` if the data folder has one, else the reference data shipped
    inside xzlib; needs no project folder (``xz list`` works anywhere).
    """
    if os.environ.get("XZ_DATA_DIR") or find_project() is not None:
        own = data_dir() / "reference"
        if own.is_dir():
            return own
    return resources.path("reference")


def reports_dir() -> Path:
    """Return ``<project>/reports``, the default output of ``xz build``."""
    return project_root() / "reports"


def notebooks_dir() -> Path:
    """Return the report notebooks: the project's ``notebooks/`` if any, else the packaged."""
    root = find_project()
    if root is not None:
        own = root / "notebooks"
        if own.is_dir() and any(own.glob("*.ipynb")):
            return own
    return resources.path("notebooks")


def source_root() -> Path | None:
    """Return the source checkout xzlib is imported from, or ``None`` for an installed wheel.

    A checkout is the folder above the package that holds the ``pyproject.toml`` of xzlib
    (an editable install or ``PYTHONPATH``).  Only developer commands need it.
    """
    root = Path(__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return None
    import tomllib

    try:
        name = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return root if name == "xzlib" else None


def docs_dir() -> Path:
    """Return the ``docs/`` folder of the source checkout (for ``xz docs``).

    Raises
    ------
    xzlib.UsageError
        If xzlib is not imported from a source checkout.
    """
    root = source_root()
    if root is None:
        raise UsageError("the docs are part of xzlib's source: clone the repository and "
                         "`pip install -e .` there to regenerate them")
    return root / "docs"


_MARKER_TEXT = """\
# This folder is an xzlib project folder: every `xz` command run in it (or below it) reads
# data/raw/, writes data/processed/ and reports/, and uses notebooks/ if present.
# Made by `xz init` (xzlib {version}).
[project]
format = 1
"""

_README = """\
# xzlib 项目文件夹 / project folder

由 `xz init` 创建 (xzlib {version})。在本文件夹（或其子文件夹）中运行的 `xz` 命令都使用这里的数据。
Made by `xz init`; every `xz` command run here (or below) uses this folder.

| 文件夹 folder | 内容 what |
|---|---|
| `data/raw/<批次 batch>/` | 街道提交的工作簿，放入后不要修改 · street-office workbooks, never edited |
| `data/processed/` | `xz clean` 写出的数据表 · validated tables written by `xz clean` |
| `notebooks/` | 报告笔记本，可修改 · the report notebooks, yours to edit |
| `reports/` | `xz build` 生成的报告 · the built reports |

```sh
xz template --out 模板.xlsx          # 空白填报模板 · the submission workbook
xz clean --raw data/raw/<batch>      # 检查并导入 · check and import a batch
xz build                             # 生成报告 · build every report into reports/
xz sample && xz clean && xz build    # 用示例数据试用 · try it on synthetic data (示例数据)
```

JupyterLab: `python -m ipykernel install --sys-prefix --name xzlib --display-name xzlib`
registers the kernel the notebooks name; then `jupyter lab notebooks/`.
"""


def init_project(folder: str | os.PathLike) -> Path:
    """Lay out a project folder: ``data/raw/``, ``reports/``, the notebooks, a README.

    Existing files are never overwritten: if any file to be written exists, nothing is
    written and the error lists them.

    Parameters
    ----------
    folder : path-like
        The folder (created if missing; it may already hold other files).

    Returns
    -------
    pathlib.Path
        The project folder, resolved.

    Raises
    ------
    xzlib.UsageError
        If ``folder`` is already a project folder, is a file, or holds one of the files
        to be written.
    """
    from . import __version__, fsutil

    root = Path(folder).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file, not a folder: choose another DIR")
    if (root / MARKER).exists():
        raise UsageError(f"{root} is already an xzlib project folder ({MARKER} exists)")
    source = resources.files("notebooks")
    notebooks = sorted(
        (item for item in source.iterdir() if item.name.endswith(".ipynb")),
        key=lambda item: item.name,
    )
    writes = {root / "notebooks" / nb.name: nb.read_text(encoding="utf-8") for nb in notebooks}
    writes[root / "README.md"] = _README.format(version=__version__)
    taken = [str(p.relative_to(root)) for p in writes if p.exists()]
    if taken:
        raise UsageError(f"{root} already has {', '.join(taken)}: move them away or "
                         "choose another DIR (xz init never overwrites a file)")
    for sub in ("data/raw", "reports", "notebooks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for target, text in writes.items():
        fsutil.write_text(target, text)
    fsutil.write_text(root / MARKER, _MARKER_TEXT.format(version=__version__))
    logger.info("initialised project folder %s", root)
    return root
