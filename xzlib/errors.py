"""One root exception and the problem record every check reports.

A *problem* is one broken rule at one place: the table or file, the sheet, the row as a
clerk sees it in Excel, the column as written, the value, the rule and a suggested fix.
Checks collect problems instead of raising at the first one; :class:`DataError` carries
them all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["XzError", "DataError", "UsageError", "Problem", "problems_frame"]


class XzError(Exception):
    """Base class of every error raised on purpose by xzlib."""


class UsageError(XzError):
    """A caller asked for something that does not exist (unknown table, street, year...)."""


@dataclass(frozen=True)
class Problem:
    """One broken rule at one place.

    Attributes
    ----------
    table : str
        Logical table (``communities``, ``projects``...) or ``""`` for file-level problems.
    rule : str
        Short rule identifier, e.g. ``range``, ``not_null``, ``foreign_key``.
    message : str
        Plain-language description of what is wrong and what was expected.
    file, sheet : str
        Source file (relative path) and sheet; empty for processed data.
    row : int or None
        Row number as the clerk sees it in Excel (1-based, counting title rows), or the
        0-based row position in a processed table.
    column : str
        Column header as written in the source (or the schema column name).
    value : str
        The offending value, as text.
    suggestion : str
        How to fix it.
    severity : {"error", "warning"}
        Warnings are recoverable and never fail a run.
    """

    table: str
    rule: str
    message: str
    file: str = ""
    sheet: str = ""
    row: int | None = None
    column: str = ""
    value: str = ""
    suggestion: str = ""
    severity: str = "error"

    def where(self) -> str:
        """Return ``file[sheet]:row column`` for messages."""
        parts = [p for p in (self.file, f"[{self.sheet}]" if self.sheet else "") if p]
        loc = "".join(parts) or self.table
        if self.row is not None:
            loc += f" 第{self.row}行"
        if self.column:
            loc += f" 列「{self.column}」"
        return loc

    def __str__(self) -> str:
        text = f"{self.where()}: {self.message}"
        if self.value:
            text += f" (值: {self.value!r})"
        return text


class DataError(XzError):
    """Data broke one or more rules; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem], context: str = "") -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"{context}: " if context else ""
        lines = [f"{head}{len(errors)} problem(s) in the data"]
        lines += [f"  - {p}" for p in errors[:20]]
        if len(errors) > 20:
            lines.append(f"  ... and {len(errors) - 20} more")
        super().__init__("\n".join(lines))


def problems_frame(problems: list[Problem]):
    """Return problems as a DataFrame with one row each (columns = Problem fields)."""
    import pandas as pd

    cols = list(Problem.__dataclass_fields__)
    return pd.DataFrame([asdict(p) for p in problems], columns=cols)


