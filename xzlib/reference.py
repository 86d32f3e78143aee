"""Published reference data: the figures, timeline and awards of the source article.

Three committed CSV files in ``data/reference`` record what the 2018 Zhuhai newspaper
feature on Xiangzhou's social-governance innovation (记者 宋爱华) says, each row with the
verbatim quote it comes from:

* ``published_facts.csv`` -- every quantitative statement (:func:`facts`, :func:`fact`);
* ``events.csv`` -- the timeline 2011-2018 (:func:`events`);
* ``awards.csv`` -- the honours the article names (:func:`awards`).

These are published claims, not programme data: the sample generator calibrates to them and
the reconciliation compares programme totals with them.  Numbers keep the article's unit
(``147`` with unit ``万人次``, not 1,470,000) and a qualifier says how the article hedges them
(``exact``, ``about``, ``at_least``).  The schema, the qualifier rules and the known gaps are
documented in ``docs/reference-data.md``.

Each file is parsed once per modification time; every call returns a fresh copy.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import pandas as pd

from . import config
from .errors import DataError, Problem, UsageError

__all__ = [
    "QUALIFIERS",
    "TOPICS",
    "SCOPE_LEVELS",
    "AWARD_LEVELS",
    "DATE_PRECISIONS",
    "COLUMNS",
    "facts",
    "fact",
    "events",
    "awards",
]

log = logging.getLogger(__name__)

#: How the article hedges a number: 多/余/超过/以上 -> ``at_least``; 约/近/左右 -> ``about``.
QUALIFIERS = ("exact", "about", "at_least")
#: Topics of published facts.
TOPICS = (
    "funding",
    "projects",
    "micro_charity",
    "party_building",
    "grid",
    "deliberation",
    "framework",
    "timeline",
    "reach",
)
#: Administrative level a row refers to (``scope_code``: 440402, 9 or 12 digits).
SCOPE_LEVELS = ("district", "street", "community")
#: Level of the body conferring an award.
AWARD_LEVELS = ("national", "provincial", "municipal")
#: How precisely the article dates an event (``date`` is the first day of that period).
DATE_PRECISIONS = ("day", "month", "year")

_FIXED = {
    "topic": TOPICS,
    "qualifier": QUALIFIERS,
    "scope_level": SCOPE_LEVELS,
    "level": AWARD_LEVELS,
    "date_precision": DATE_PRECISIONS,
}

#: Documented columns and dtypes of each reference table, in file order.
COLUMNS: dict[str, dict[str, str]] = {
    "published_facts": {
        "fact_id": "string",
        "topic": "category",
        "metric": "string",
        "value": "float64",
        "unit": "category",
        "qualifier": "category",
        "period_start": "datetime64[ns]",
        "period_end": "datetime64[ns]",
        "scope_level": "category",
        "scope_code": "string",
        "quote": "string",
        "note": "string",
    },
    "events": {
        "event_id": "string",
        "date": "datetime64[ns]",
        "date_precision": "category",
        "scope_level": "category",
        "scope_code": "string",
        "title_zh": "string",
        "title_en": "string",
        "quote": "string",
    },
    "awards": {
        "award_id": "string",
        "year": "Int64",
        "level": "category",
        "title": "string",
        "unit": "string",
        "scope_level": "category",
        "scope_code": "string",
        "quote": "string",
        "note": "string",
    },
}


def _problem(table: str, rule: str, message: str, **kw: object) -> Problem:
    return Problem(table=table, rule=rule, message=message, file=f"{table}.csv", **kw)


@lru_cache(maxsize=8)
def _read(table: str, path: str, mtime: float) -> pd.DataFrame:
    log.debug("reading reference table %s from %s", table, path)
    spec = COLUMNS[table]
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    if list(raw.columns) != list(spec):
        msg = f"columns must be {', '.join(spec)}; found {', '.join(map(str, raw.columns))}"
        raise DataError([_problem(table, "columns", msg)], context=path)
    raw = raw.replace({"": None})
    problems: list[Problem] = []
    out = {}
    for col, dtype in spec.items():
        s = raw[col]
        if col in _FIXED:
            bad = s.dropna()[~s.dropna().isin(_FIXED[col])]
            problems += [
                _problem(
                    table,
                    "allowed",
                    f"{col} must be one of {', '.join(_FIXED[col])}",
                    row=int(i) + 2,
                    column=col,
                    value=str(v),
                )
                for i, v in bad.items()
            ]
            out[col] = pd.Categorical(s.where(s.isin(_FIXED[col])), categories=list(_FIXED[col]))
        elif dtype == "category":
            out[col] = s.astype("category")
        elif dtype.startswith("datetime"):
            parsed = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
            for i in s.index[s.notna() & parsed.isna()]:
                problems.append(
                    _problem(
                        table,
                        "date",
                        f"{col} must be an ISO date YYYY-MM-DD",
                        row=int(i) + 2,
                        column=col,
                        value=str(s[i]),
                    )
                )
            out[col] = parsed.astype("datetime64[ns]")
        elif dtype in ("float64", "Int64"):
            parsed = pd.to_numeric(s, errors="coerce")
            for i in s.index[s.notna() & parsed.isna()]:
                problems.append(
                    _problem(
                        table,
                        "number",
                        f"{col} must be a number",
                        row=int(i) + 2,
                        column=col,
                        value=str(s[i]),
                    )
                )
            out[col] = parsed.astype(dtype)
        else:
            out[col] = s.astype(dtype)
    if problems:
        raise DataError(problems, context=path)
    return pd.DataFrame(out, index=raw.index)


def _load(table: str) -> pd.DataFrame:
    path = config.reference_dir() / f"{table}.csv"
    if not path.is_file():
        raise UsageError(f"reference table {table!r} not found at {path}")
    return _read(table, str(path), path.stat().st_mtime).copy()


def facts(*, topic: str | None = None) -> pd.DataFrame:
    """Return every quantitative statement of the source article, one row each.

    Parameters
    ----------
    topic : str, optional
        Keep one topic only (one of :data:`TOPICS`).

    Returns
    -------
    DataFrame
        =============  ==============  ==================================================
        column         dtype           meaning (units)
        =============  ==============  ==================================================
        fact_id        string          stable snake_case id (e.g. ``grids_2018``)
        topic          category        funding, projects, micro_charity, party_building,
                                       grid, deliberation, framework, timeline, reach
        metric         string          what is counted, snake_case (``gov_funds_wan``...)
        value          float64         the number as written, in ``unit``
        unit           category        unit as written: 万元, 万元/年, 万人次, 万人, 个, 名,
                                       年, 级, 类, 体系, 平台, 保障
        qualifier      category        ``exact``; ``about`` (约/近/左右); ``at_least``
                                       (多/余/超过/以上)
        period_start   datetime64[ns]  first day of the period the figure covers
        period_end     datetime64[ns]  last day of that period
        scope_level    category        district, street or community
        scope_code     string          440402 (district), 9-digit street or 12-digit
                                       community code of ``divisions.csv``
        quote          string          the sentence or clause, verbatim (OCR line-break
                                       spaces removed)
        note           string          caveats, qualifier reasoning, reassembled text
        =============  ==============  ==================================================

    Raises
    ------
    UsageError
        If ``topic`` is not one of :data:`TOPICS`.
    DataError
        If the CSV does not follow the documented schema.

    Examples
    --------
    >>> from xzlib import reference
    >>> f = reference.facts(topic="grid")
    >>> f.loc[f["fact_id"] == "grids_2018", "unit"].item()
    '个'
    """
    df = _load("published_facts")
    if topic is not None:
        if topic not in TOPICS:
            raise UsageError(f"topic must be one of {', '.join(TOPICS)}; got {topic!r}")
        df = df[df["topic"] == topic].reset_index(drop=True)
    return df


def fact(fact_id: str) -> pd.Series:
    """Return one published fact as a Series (index: the columns of :func:`facts`).

    Parameters
    ----------
    fact_id : str
        The fact's id, e.g. ``"special_funds_2013_2018"``.

    Returns
    -------
    Series
        The row, named ``fact_id``.

    Raises
    ------
    UsageError
        If the id is unknown; the message lists the valid ids.

    Examples
    --------
    >>> from xzlib import reference
    >>> row = reference.fact("grid_members_2018")
    >>> (row["unit"], row["qualifier"])
    ('名', 'exact')
    """
    df = facts()
    hit = df[df["fact_id"] == str(fact_id)]
    if hit.empty:
        valid = ", ".join(sorted(df["fact_id"].astype(str)))
        raise UsageError(f"unknown fact_id {fact_id!r}; valid ids: {valid}")
    row = hit.iloc[0].copy()
    row.name = str(fact_id)
    return row


def events() -> pd.DataFrame:
    """Return the timeline of the source article, sorted by date (undated rows last).

    Returns
    -------
    DataFrame
        ==============  ==============  ================================================
        column          dtype           meaning
        ==============  ==============  ================================================
        event_id        string          stable snake_case id
        date            datetime64[ns]  first day of the period the article gives
                                        (NaT: the article does not date the event)
        date_precision  category        day, month or year (missing when ``date`` is)
        scope_level     category        district, street or community
        scope_code      string          440402, 9-digit street or 12-digit community code
        title_zh        string          what happened, in Chinese
        title_en        string          the same in English
        quote           string          the article's sentence or clause, verbatim
        ==============  ==============  ================================================

    Raises
    ------
    DataError
        If the CSV does not follow the documented schema.

    Examples
    --------
    >>> from xzlib import reference
    >>> reference.events()["date"].min().year
    2011
    """
    df = _load("events")
    order = df["date"].sort_values(kind="stable", na_position="last").index
    return df.loc[order].reset_index(drop=True)


def awards() -> pd.DataFrame:
    """Return the awards and honours the source article names.

    Returns
    -------
    DataFrame
        ===========  ========  =======================================================
        column       dtype     meaning
        ===========  ========  =======================================================
        award_id     string    stable snake_case id
        year         Int64     year conferred (missing when the article does not say
                               which year; the note gives what it does say)
        level        category  national, provincial or municipal
        title        string    name of the award or list
        unit         string    who received it (project, street or community)
        scope_level  category  district, street or community
        scope_code   string    440402, 9-digit street or 12-digit community code
        quote        string    the article's sentence or clause, verbatim
        note         string    caveats (e.g. projects and years not paired)
        ===========  ========  =======================================================

    Raises
    ------
    DataError
        If the CSV does not follow the documented schema.

    Examples
    --------
    >>> from xzlib import reference
    >>> sorted(set(reference.awards()["level"]))
    ['national', 'provincial']
    """
    return _load("awards")
