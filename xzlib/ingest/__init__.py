"""Ingest: raw street-office submissions -> validated processed tables (``xz clean``).

The package follows the flow of the data::

    read       files -> raw sheets (format/encoding detection, header rows, merged cells)
    headers    the header-alias table, units in headers, multi-row headers
    cells      cell kinds, text, blanks, totals, labels, yes/no
    numbers    every numeric cell: digits, Chinese numerals, 万/亿, units, qualifiers
    dates      every date form
    names      community / street names -> codes
    normalize  the parsers above under one name
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
__all__ = ["read", "headers", "cells", "numbers", "dates", "names", "normalize", "problems",
           "clean", "changes", "mess"]
