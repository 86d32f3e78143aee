"""The report layer: what a report says and draws, its HTML, the landing page, the builder.

==============  ===========================================================================
``contexts``    a report's checked parameters and the data it draws on
``prose``       its headings and sentences (Markdown, data escaped)
``tables``      its tables (DataFrames with readers' headers)
``figures``     its charts' data, and drawing one chart with a fixed layout
``html``        escaping helpers for notebooks, and the self-contained HTML export
``index``       the landing page of a report folder
``cache``       batch-wide results (the evaluation) computed once and shared
``batch/``      ``xz build``: plan, lock, warm kernels, papermill engine, tasks, run
==============  ===========================================================================

Import the submodule you need; this package imports nothing heavy::

    from xzlib.report.html import export_html, write_html, esc, md, table
"""

from __future__ import annotations

from .html import ExportError, esc, export_html, md, table, table_html, write_html

__all__ = ["ExportError", "esc", "export_html", "md", "table", "table_html", "write_html"]
