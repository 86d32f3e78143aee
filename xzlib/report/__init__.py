"""Reports: HTML export of executed notebooks (:mod:`xzlib.report.html`).

Import the submodule you need; this package imports nothing heavy::

    from xzlib.report.html import export_html, write_html, esc, md, table
"""

from __future__ import annotations

from .html import ExportError, esc, export_html, md, table, table_html, write_html

__all__ = ["ExportError", "esc", "export_html", "md", "table", "table_html", "write_html"]
