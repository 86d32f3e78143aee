"""The processed-data folder and its manifest: where it is, reading it, writing it.

(Named ``processed`` because ``xz.manifest`` is a public function of :mod:`xzlib.dataset`.)

``data/processed/manifest.json`` describes the processed tables (schema version, batch,
whether the data is synthetic, every source file and every table with its row count and
SHA-256) and has no wall-clock time in it, so its SHA-256 identifies the data.  This is
the one module that locates the folder and reads or writes the manifest;
:mod:`xzlib.dataset` reads and writes the tables, :mod:`xzlib.report.cache` and
``xz build`` key their results on :func:`read` 's hash.  Standard library only, so that a
build with nothing to do never imports pandas.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from . import config
from .errors import UsageError

__all__ = ["MANIFEST", "folder", "path", "read", "tables", "sha256", "write"]

#: File name of the manifest, in the processed folder.
MANIFEST = "manifest.json"


def folder(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the processed folder for ``data_dir``.

    Accepts either the processed folder itself or a data folder that holds
    ``processed/``; ``None`` means ``config.processed_dir()`` (``$XZ_DATA_DIR`` or the
    project's ``data/``).
    """
    if data_dir is None:
        return config.processed_dir()
    p = Path(data_dir).expanduser()
    return p if (p / MANIFEST).exists() or not (p / "processed").is_dir() else p / "processed"


def path(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the manifest file of ``data_dir``."""
    return folder(data_dir) / MANIFEST


def read(data_dir: str | os.PathLike | None = None) -> tuple[dict, str]:
    """Return the manifest and the SHA-256 of its bytes.

    Raises
    ------
    UsageError
        If there is no processed data (run ``xz clean``, or ``make data``).
    """
    file = path(data_dir)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"no processed data at {file.parent}: run `xz clean` first "
            "(or `make data` for the sample batch)"
        ) from None
    return json.loads(raw.decode("utf-8")), hashlib.sha256(raw).hexdigest()


def sha256(data_dir: str | os.PathLike | None = None) -> str:
    """Return the SHA-256 of the manifest (it identifies the data)."""
    return read(data_dir)[1]


def tables(data_dir: str | os.PathLike | None = None) -> dict:
    """Return the manifest's ``tables`` entry (parsed once per version of the file)."""
    file = path(data_dir)
    try:
        st = file.stat()
    except OSError:
        return read(data_dir)[0].get("tables", {})  # raises the usual UsageError
    return _tables(str(file), st.st_mtime_ns, st.st_size, st.st_ino)


@lru_cache(maxsize=4)
def _tables(file: str, mtime_ns: int, size: int, ino: int) -> dict:
    return json.loads(Path(file).read_text(encoding="utf-8")).get("tables", {})


def write(target: str | os.PathLike, doc: dict) -> Path:
    """Write manifest ``doc`` into folder ``target`` (inside a folder being assembled).

    The processed folder is replaced as a whole (:func:`xzlib.fsutil.atomic_dir`), so the
    manifest is written plainly into the temporary folder; keys are kept in order and
    nothing time-dependent is added.
    """
    file = Path(target) / MANIFEST
    file.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return file
