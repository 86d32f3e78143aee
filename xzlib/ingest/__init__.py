"""Ingest: raw street-office submissions -> validated processed tables (``xz clean``).

The package follows the flow of the data::

    read       files -> raw sheets (format/encoding detection, header rows, merged cells)
    normalize  pure parsers (numbers, qualifiers, dates, names, labels; the header-alias table)
    problems   collecting problems and writing the clerk's report (.xlsx / .csv)
    clean      orchestration: every file, every problem, then an atomic write
    mess       ``xz sample --messy``: a tidy batch rewritten the way real offices send it

Public entry points: :func:`xzlib.ingest.clean.clean` and
:func:`xzlib.ingest.mess.messify`.  See ``docs/ingest.md``.
"""

from __future__ import annotations

# Submodules are imported where needed (``from xzlib.ingest import clean``); nothing is
# imported here so that ``import xzlib.ingest`` stays cheap and the submodule names are
# never shadowed.
__all__ = ["read", "normalize", "problems", "clean", "mess"]
