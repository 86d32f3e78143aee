"""What a report is about: its checked parameters and the data it draws on, gathered once.

A notebook calls :func:`street_report` or :func:`district_report` with its papermill
parameters; the returned context holds the evaluation (computed once per batch, see
:mod:`xzlib.report.cache`), the indicator table and the street's rows of every table.
:mod:`~xzlib.report.prose`, :mod:`~xzlib.report.tables` and :mod:`~xzlib.report.figures`
turn a context into sentences, tables and charts.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import pandas as pd

from .. import dataset
from ..errors import UsageError
from ..i18n import check_lang, report_title, t
from ..roster import street_list

__all__ = [
    "StreetReport",
    "DistrictReport",
    "street_report",
    "district_report",
    "check_params",
    "indicator_table",
    "dimensions",
    "dimension_label",
    "street_rows",
]

logger = logging.getLogger(__name__)


def check_params(street_code: str | None, year: int, lang: str) -> tuple[str | None, int, str]:
    """Validate notebook parameters; return them normalised.

    Raises
    ------
    UsageError
        Unknown language, a year that is not a year, or a street code that is not a street
        of that year (the message lists the valid codes and names).
    """
    lang = check_lang(lang)
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise UsageError(f"year must be a year such as 2018; got {year!r}") from None
    if street_code is None:
        return None, year, lang
    code = str(street_code).strip()
    valid = street_list(year)
    if code not in dict(valid):
        listing = ", ".join(f"{c} {n}" for c, n in valid)
        raise UsageError(f"street_code {street_code!r} is not a street of {year}; "
                         f"valid codes: {listing}")
    return code, year, lang


@dataclass
class StreetReport:
    """Everything one street report shows (built by :func:`street_report`)."""

    street_code: str
    street_name: str
    year: int
    lang: str
    data_dir: str | None
    evaluation: object
    summary: dict
    indicators: pd.DataFrame
    tables: dict = field(repr=False)
    synthetic: bool = False
    runs: int = 1000
    seed: int = 0

    @property
    def title(self) -> str:
        """The report's title (:func:`xzlib.i18n.report_title`)."""
        return report_title(self.lang, self.year, self.street_name)

    @property
    def meta(self) -> dict:
        """Header metadata for :func:`xzlib.report.html.export_html`."""
        man = dataset.manifest(self.data_dir)
        return {"title": self.title, "street_code": self.street_code,
                "street_name": self.street_name, "year": self.year,
                "batch": man.get("batch", ""), "synthetic": self.synthetic, "runs": self.runs,
                "seed": self.seed}


@dataclass
class DistrictReport:
    """Everything the district overview shows (built by :func:`district_report`)."""

    year: int
    lang: str
    data_dir: str | None
    evaluation: object
    indicators: pd.DataFrame
    synthetic: bool = False
    runs: int = 1000
    seed: int = 0

    @property
    def title(self) -> str:
        """The overview's title (:func:`xzlib.i18n.report_title`)."""
        return report_title(self.lang, self.year)


def _evaluation(year: int, data_dir, runs: int, seed: int):
    from .cache import cached_evaluate

    return cached_evaluate(year, runs=int(runs), seed=int(seed), data_dir=data_dir)


def indicator_table(data_dir) -> pd.DataFrame:
    """Every indicator of every year (for the trends), computed once per batch and cached."""
    from ..evaluation import indicators
    from .cache import cached_call

    return cached_call(indicators, None, data_dir=data_dir)


def street_rows(df: pd.DataFrame, code: str) -> pd.DataFrame:
    """The rows of ``df`` whose ``street_code`` is ``code``."""
    return df[(df["street_code"].astype("string") == code).to_numpy(dtype=bool, na_value=False)]


def street_report(street_code: str, year: int = 2018, *, lang: str = "zh",
                  data_dir: str | os.PathLike | None = None, runs: int = 1000,
                  seed: int = 0) -> StreetReport:
    """Check the parameters and gather one street's report data.

    Parameters
    ----------
    street_code : str
        9-digit street code (``xz list --year YEAR``).
    year : int
        Evaluation year.
    lang : {"zh", "en"}
        Report language.
    data_dir : path, optional
        Processed data folder (default ``XZ_DATA_DIR`` or ``data/processed``).
    runs, seed : int
        Monte Carlo runs and seed of the evaluation (cached per batch).

    Returns
    -------
    StreetReport
    """
    code, year, lang = check_params(street_code, year, lang)
    data_dir = None if data_dir is None else str(data_dir)
    ev = _evaluation(year, data_dir, runs, seed)
    summary = ev.street_summary(code)
    tables = {name: street_rows(dataset.load(name, year, data_dir=data_dir), code)
              for name in ("communities", "projects", "deliberations", "grid_cases")}
    return StreetReport(code, summary["street_name"], year, lang, data_dir, ev, summary,
                        indicator_table(data_dir), tables, bool(ev.synthetic), int(runs),
                        int(seed))


def district_report(year: int = 2018, *, lang: str = "zh",
                    data_dir: str | os.PathLike | None = None, runs: int = 1000,
                    seed: int = 0) -> DistrictReport:
    """Check the parameters and gather the district overview's data (see :func:`street_report`)."""
    _, year, lang = check_params(None, year, lang)
    data_dir = None if data_dir is None else str(data_dir)
    ev = _evaluation(year, data_dir, runs, seed)
    return DistrictReport(year, lang, data_dir, ev, indicator_table(data_dir),
                          bool(ev.synthetic), int(runs), int(seed))


def dimensions(ev) -> list[str]:
    """Dimension ids of the evaluation, in order (D1..D5)."""
    return list(ev.labels.get("dimensions", {}))


def dimension_label(ev, dim: str, lang: str) -> str:
    """A dimension's name in ``lang`` (the framework's label, else :mod:`xzlib.i18n`)."""
    entry = ev.labels.get("dimensions", {}).get(dim, {})
    return entry.get(lang) or t(dim, lang, default=dim)
