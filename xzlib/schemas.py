"""The data contract: one schema per programme table, declared once.

Each :class:`TableSchema` lists its columns (dtype, unit, allowed values, range, Chinese
and English labels, the submission header), its unique key, its foreign keys to the
divisions valid in the row's year and its cross-column rules.  The same declaration is
used to

* coerce a frame to the documented dtypes (:func:`coerce`),
* check it on write and on read (:func:`check`), returning every problem at once,
* write the submission template (Chinese headers with units), and
* generate the data dictionary in ``docs/data-dictionary.md`` (:func:`data_dictionary`).

Money is in 万元 (10,000 yuan), as the source reports it; column names carry the unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import Problem

__all__ = [
    "SCHEMA_VERSION",
    "Column",
    "Rule",
    "TableSchema",
    "SCHEMAS",
    "TABLES",
    "get_schema",
    "coerce",
    "check",
    "data_dictionary",
]

#: Bumped whenever a column, dtype or rule changes; recorded in the data manifest.
SCHEMA_VERSION = "1"

#: The period the programme data covers (the district fund started in 2013).
FIRST_YEAR, LAST_YEAR = 2013, 2030

STREET_CODE = r"^440402\d{3}$"
COMMUNITY_CODE = r"^440402\d{6}$"


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Parameters
    ----------
    name : str
        Column name in processed tables (English, snake_case, unit suffix where relevant).
    dtype : str
        pandas dtype after loading: ``category``, ``string``, ``Int64``, ``float64``,
        ``boolean`` or ``datetime64[ns]``.
    zh, en : str
        Chinese and English labels.  The submission header is ``zh`` plus the unit.
    unit : str
        Unit in Chinese as written in headers (``万元``, ``人次``, ``个``...), or ``""``.
    nullable : bool
        Whether missing values are allowed.
    min, max : float, optional
        Inclusive bounds for numbers (and for the year of dates).
    allowed : tuple of str, optional
        The allowed values of a categorical column.
    pattern : str, optional
        Regular expression a text value must match in full.
    fk : {"street", "community"}, optional
        Foreign key to the divisions valid in the row's year.
    description : str
        What the column means, for the data dictionary and the template's notes sheet.
    """

    name: str
    dtype: str
    zh: str
    en: str
    unit: str = ""
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    fk: str | None = None
    description: str = ""
    labels: tuple[tuple[str, str], ...] | None = None

    @property
    def label_map(self) -> dict[str, str]:
        """Return ``{value: Chinese label}`` for coded values (booleans: 是/否)."""
        if self.dtype == "boolean":
            return {"True": "是", "False": "否"}
        return dict(self.labels or ())

    @property
    def header(self) -> str:
        """The submission header: Chinese label with the unit, e.g. ``政府资金（万元）``."""
        return f"{self.zh}（{self.unit}）" if self.unit else self.zh


@dataclass(frozen=True)
class Rule:
    """A cross-column rule: ``test(frame)`` is True where a row is valid.

    Problems are reported in the first of ``columns``.  Rows where any of ``requires``
    (default: all of ``columns``) is missing are not tested: missing values are the
    business of the ``nullable`` flag.
    """

    name: str
    columns: tuple[str, ...]
    test: Callable[[pd.DataFrame], pd.Series]
    message: str
    requires: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableSchema:
    """A programme table: columns, key, the column giving the year, rules."""

    name: str
    zh: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    year_from: str
    rules: tuple[Rule, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}; columns are {self.names}")

    def years(self, df: pd.DataFrame) -> pd.Series:
        """Return the year each row belongs to (for foreign keys)."""
        col = df[self.year_from]
        if pd.api.types.is_datetime64_any_dtype(col):
            return col.dt.year.astype("Int64")
        return col.astype("Int64")


def _c(name, dtype, zh, en, unit="", **kw) -> Column:
    return Column(name, dtype, zh, en, unit, **kw)


_YEAR = dict(min=FIRST_YEAR, max=LAST_YEAR)

COMMUNITIES = TableSchema(
    name="communities",
    zh="社区基本情况",
    description="One row per community and year: population, grids, party organisation.",
    key=("community_code", "year"),
    year_from="year",
    columns=(
        _c("year", "Int64", "年份", "Year", **_YEAR, description="Calendar year (state at year end)."),
        _c("street_code", "category", "镇街代码", "Street code", pattern=STREET_CODE, fk="street",
           description="9-digit township code of the street/town the community belonged to that year."),
        _c("community_code", "category", "社区代码", "Community code", pattern=COMMUNITY_CODE,
           fk="community", description="12-digit community code (provisional, see divisions)."),
        _c("households", "Int64", "户数", "Households", "户", min=0, max=200_000,
           description="Resident households."),
        _c("population", "Int64", "常住人口", "Resident population", "人", min=0, max=500_000,
           description="Resident (常住) population."),
        _c("grids", "Int64", "网格数", "Grids", "个", min=0, max=100,
           description="Grids of the community's grid-management system."),
        _c("grid_leaders", "Int64", "网格长数", "Grid leaders", "人", min=0, max=100,
           description="Grid leaders (网格长)."),
        _c("grid_members", "Int64", "网格员数", "Grid members", "人", min=0, max=500,
           description="Grid members (网格员)."),
        _c("party_committee", "boolean", "是否设社区党委", "Party committee", nullable=True,
           description="Whether the community has a party committee (社区党委)."),
        _c("service_center", "boolean", "是否建党群服务中心", "Party-mass service centre",
           nullable=True, description="Whether the community has a party-mass service centre."),
        _c("owners_committees", "Int64", "业委会数", "Owners' committees", "个", min=0, max=200,
           nullable=True, description="Home-owners' committees (业委会) in the community."),
        _c("owners_committees_with_branch", "Int64", "建立党支部的业委会数",
           "Owners' committees with a party branch", "个", min=0, max=200, nullable=True,
           description="Owners' committees with a party branch (红色业委会)."),
    ),
    rules=(
        Rule("grid_leaders_le_grids", ("grid_leaders", "grids"),
             lambda d: d["grid_leaders"] <= d["grids"], "网格长数不能多于网格数 (grid_leaders <= grids)"),
        Rule("grid_members_ge_grids", ("grid_members", "grids"),
             lambda d: d["grid_members"] >= d["grids"],
             "每个网格至少一名网格员 (grid_members >= grids)"),
        Rule("households_le_population", ("households", "population"),
             lambda d: d["households"] <= d["population"], "户数不能多于人口 (households <= population)"),
        Rule("branch_le_committees", ("owners_committees_with_branch", "owners_committees"),
             lambda d: d["owners_committees_with_branch"] <= d["owners_committees"],
             "建立党支部的业委会数不能多于业委会数"),
    ),
)

PROGRAMMES = ("innovation", "micro_charity", "deliberation_fund")
FUNDING_LEVELS = ("district", "street")

PROJECTS = TableSchema(
    name="projects",
    zh="项目",
    description="One row per funded project and year of funding.",
    key=("project_id",),
    year_from="year",
    columns=(
        _c("project_id", "string", "项目编号", "Project ID", pattern=r"^[A-Za-z0-9_\-]{1,40}$",
           description="Unique project identifier, as assigned by the funder."),
        _c("year", "Int64", "年份", "Year", **_YEAR, description="Year the project was funded."),
        _c("street_code", "category", "镇街代码", "Street code", pattern=STREET_CODE, fk="street",
           description="Street/town where the project runs."),
        _c("community_code", "category", "社区代码", "Community code", pattern=COMMUNITY_CODE,
           fk="community", nullable=True,
           description="Community where the project runs; empty for street-wide projects."),
        _c("programme", "category", "项目类别", "Programme", allowed=PROGRAMMES,
           labels=(("innovation", "社会建设创新项目"), ("micro_charity", "微公益创投"),
                   ("deliberation_fund", "议事协商专项资金")),
           description="innovation = 社会建设创新项目; micro_charity = 微公益创投; "
           "deliberation_fund = 议事协商专项资金."),
        _c("funding_level", "category", "资助层级", "Funding level", allowed=FUNDING_LEVELS,
           labels=(("district", "区级"), ("street", "镇街级")),
           description="district = 区级; street = 镇街级."),
        _c("brand", "string", "品牌", "Brand", nullable=True,
           description="Street-level brand the project belongs to (e.g. 公益翠香), if any."),
        _c("title", "string", "项目名称", "Title", description="Project title as submitted."),
        _c("implementer", "string", "承接单位", "Implementer",
           description="Social organisation or body that runs the project."),
        _c("gov_funds_wan", "float64", "政府资金", "Government funds", "万元", min=0, max=1000,
           description="Government funds granted."),
        _c("social_funds_wan", "float64", "社会资金", "Social funds", "万元", min=0, max=1000,
           nullable=True, description="Funds raised from businesses, foundations and residents."),
        _c("beneficiaries", "Int64", "服务人次", "Person-times served", "人次", min=0,
           max=5_000_000, nullable=True, description="Person-times served (服务人次)."),
        _c("eval_score", "float64", "第三方评估得分", "Third-party evaluation score", "分", min=0,
           max=100, nullable=True, description="Score of the third-party evaluation, 0-100."),
    ),
    rules=(
        Rule("district_funds_innovation", ("funding_level", "programme"),
             lambda d: (d["programme"] != "innovation") | (d["funding_level"] == "district"),
             "创新项目由区级资助 (innovation projects are district-funded)"),
    ),
)

DELIBERATIONS = TableSchema(
    name="deliberations",
    zh="议事协商",
    description="One row per resident-deliberation meeting.",
    key=("meeting_id",),
    year_from="date",
    columns=(
        _c("meeting_id", "string", "会议编号", "Meeting ID", pattern=r"^[A-Za-z0-9_\-]{1,40}$",
           description="Unique meeting identifier."),
        _c("date", "datetime64[ns]", "会议日期", "Date", **_YEAR, description="Date of the meeting."),
        _c("community_code", "category", "社区代码", "Community code", pattern=COMMUNITY_CODE,
           fk="community", description="Community that held the meeting."),
        _c("topic", "string", "议题", "Topic", description="Topic deliberated."),
        _c("participants", "Int64", "参会人数", "Participants", "人", min=1, max=5000,
           description="Residents and representatives present."),
        _c("proposals", "Int64", "提出议案数", "Proposals", "项", min=0, max=200,
           description="Proposals put to the meeting."),
        _c("adopted", "Int64", "通过议案数", "Adopted", "项", min=0, max=200,
           description="Proposals adopted."),
        _c("implemented", "Int64", "落实议案数", "Implemented", "项", min=0, max=200,
           nullable=True, description="Adopted proposals implemented (by the time of submission)."),
    ),
    rules=(
        Rule("adopted_le_proposals", ("adopted", "proposals"),
             lambda d: d["adopted"] <= d["proposals"], "通过议案数不能多于提出议案数 (adopted <= proposals)"),
        Rule("implemented_le_adopted", ("implemented", "adopted"),
             lambda d: d["implemented"] <= d["adopted"],
             "落实议案数不能多于通过议案数 (implemented <= adopted)"),
    ),
)

CASE_CATEGORIES = ("环境卫生", "治安隐患", "矛盾纠纷", "市政设施", "物业管理", "民生服务", "安全生产", "其他")
CASE_STATUSES = ("resolved", "open")

GRID_CASES = TableSchema(
    name="grid_cases",
    zh="网格事件",
    description="One row per issue reported through the grid-management system.",
    key=("case_id",),
    year_from="reported_at",
    columns=(
        _c("case_id", "string", "事件编号", "Case ID", pattern=r"^[A-Za-z0-9_\-]{1,40}$",
           description="Unique case identifier from the grid system."),
        _c("community_code", "category", "社区代码", "Community code", pattern=COMMUNITY_CODE,
           fk="community", description="Community where the case was reported."),
        _c("grid_no", "Int64", "网格编号", "Grid number", min=1, max=100,
           description="Grid number within the community (1..grids)."),
        _c("category", "category", "事件类别", "Category", allowed=CASE_CATEGORIES,
           description="Kind of issue."),
        _c("reported_at", "datetime64[ns]", "上报时间", "Reported at", **_YEAR,
           description="When the issue was reported."),
        _c("resolved_at", "datetime64[ns]", "办结时间", "Resolved at", nullable=True, **_YEAR,
           description="When the case was closed; empty while open."),
        _c("status", "category", "办理状态", "Status", allowed=CASE_STATUSES,
           labels=(("resolved", "已办结"), ("open", "办理中")),
           description="resolved = 已办结; open = 办理中."),
    ),
    rules=(
        Rule("resolved_after_reported", ("resolved_at", "reported_at"),
             lambda d: d["resolved_at"] >= d["reported_at"], "办结时间不能早于上报时间 (resolved_at >= reported_at)"),
        Rule("resolved_has_date", ("resolved_at", "status"),
             lambda d: (d["status"] != "resolved") | d["resolved_at"].notna(),
             "已办结事件必须填写办结时间 (resolved cases need resolved_at)", requires=("status",)),
        Rule("open_has_no_date", ("resolved_at", "status"),
             lambda d: (d["status"] != "open") | d["resolved_at"].isna(),
             "办理中事件不应有办结时间 (open cases have no resolved_at)", requires=("status",)),
    ),
)

SCHEMAS: dict[str, TableSchema] = {
    s.name: s for s in (COMMUNITIES, PROJECTS, DELIBERATIONS, GRID_CASES)
}
#: The programme tables, in load order.
TABLES: tuple[str, ...] = tuple(SCHEMAS)


def get_schema(name: str) -> TableSchema:
    """Return the schema of table ``name``.

    Raises
    ------
    KeyError
        If ``name`` is not a table; the message lists the valid names.
    """
    try:
        return SCHEMAS[name]
    except KeyError:
        raise KeyError(f"table must be one of {', '.join(TABLES)}; got {name!r}") from None


# --------------------------------------------------------------------------- coercion


def coerce(df: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Return a copy of ``df`` with exactly the schema's columns, in order, as its dtypes.

    Values that cannot be converted raise ``ValueError``/``TypeError``; cleaning code
    converts values itself and reports problems before calling this.  Categoricals get
    their categories sorted (allowed values in declared order), so that equal data gives
    equal frames.
    """
    missing = [c for c in schema.names if c not in df.columns]
    if missing:
        raise KeyError(f"{schema.name}: missing column(s) {missing}")
    out = {}
    for col in schema.columns:
        s = df[col.name]
        if col.dtype == "category":
            values = s.astype("string")
            present = sorted(values.dropna().unique())
            # Unknown values are kept (as extra categories) so that `check` reports them.
            cats = ([*col.allowed, *(v for v in present if v not in col.allowed)]
                    if col.allowed else present)
            # no value at all: string categories all the same, or an empty column would be
            # written to parquet as type null and read back as object
            out[col.name] = pd.Categorical(values.to_numpy(dtype=object, na_value=None),
                                           categories=cats or pd.Index([], dtype="string"))
            out[col.name] = pd.Series(out[col.name], index=df.index, name=col.name)
        elif col.dtype.startswith("datetime64"):
            out[col.name] = pd.to_datetime(s).astype("datetime64[ns]")
        elif col.dtype == "Int64":
            out[col.name] = pd.to_numeric(s).astype("Int64") if s.dtype == object else s.astype("Int64")
        else:
            out[col.name] = s.astype(col.dtype)
    return pd.DataFrame(out, index=df.index)


# --------------------------------------------------------------------------- checks


def _fmt(v) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M:%S").removesuffix(" 00:00:00")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def check(
    df: pd.DataFrame,
    schema: TableSchema,
    divisions: pd.DataFrame | None = None,
    *,
    locate: Callable[[object], dict] | None = None,
    limit: int = 1000,
) -> list[Problem]:
    """Check a coerced frame against its schema and return every problem found.

    Parameters
    ----------
    df : DataFrame
        Frame with the schema's columns and dtypes (see :func:`coerce`).
    schema : TableSchema
        The table's schema.
    divisions : DataFrame, optional
        The full divisions table (:func:`xzlib.roster.divisions` with ``year=None``);
        when given, codes are checked against the divisions valid in each row's year and
        a community's street against its parent in that year.
    locate : callable, optional
        Maps a row's index label to ``{"file", "sheet", "row"}`` so that problems point at
        the submission (Excel row numbers).  Without it, ``row`` is the 0-based position.
    limit : int
        Stop listing after this many problems per rule (the count is still reported).

    Returns
    -------
    list of Problem
        Empty when the frame satisfies every rule.
    """
    problems: list[Problem] = []
    positions = pd.Series(np.arange(len(df)), index=df.index)

    def report(mask: pd.Series, rule: str, column: str, message: str, suggestion: str = "") -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        bad = df.index[mask.to_numpy()]
        for label in bad[:limit]:
            where = locate(label) if locate else {"row": int(positions.loc[label])}
            value = _fmt(df.at[label, column]) if column in df.columns else ""
            header = schema.column(column).header if column in schema.names else column
            problems.append(Problem(table=schema.name, rule=rule, message=message,
                                    column=where.pop("column", header), value=value,
                                    suggestion=suggestion, **where))
        if len(bad) > limit:
            problems.append(Problem(table=schema.name, rule=rule, column=column,
                                    message=f"... {len(bad) - limit} more rows break '{rule}'"))

    for col in schema.columns:
        s = df[col.name]
        isna = s.isna()
        if not col.nullable:
            report(isna, "not_null", col.name, f"「{col.header}」不能为空 (required)",
                   "填写该项 / fill in the value")
        present = s[~isna]
        if present.empty:
            continue
        if col.min is not None or col.max is not None:
            num = present.dt.year if col.dtype.startswith("datetime64") else present.astype("float64")
            lo = -np.inf if col.min is None else col.min
            hi = np.inf if col.max is None else col.max
            out = (num < lo) | (num > hi)
            report(out.reindex(df.index, fill_value=False), "range", col.name,
                   f"「{col.header}」应在 {_fmt(col.min)} 到 {_fmt(col.max)} 之间 (out of range)",
                   "核对数值和单位 / check the value and its unit")
        if col.allowed is not None:
            bad = ~present.astype("string").isin(col.allowed)
            report(bad.reindex(df.index, fill_value=False), "allowed", col.name,
                   f"「{col.header}」只能是: {', '.join(col.allowed)}", "从允许值中选择")
        if col.pattern is not None:
            bad = ~present.astype("string").str.fullmatch(col.pattern, na=False).astype(bool)
            report(bad.reindex(df.index, fill_value=False), "format", col.name,
                   f"「{col.header}」格式不对 (expected {col.pattern})", "核对编码")

    dupes = df.duplicated(list(schema.key), keep="first") & df[list(schema.key)].notna().all(axis=1)
    report(dupes, "unique", schema.key[0],
           f"重复的键 {'+'.join(schema.key)} (duplicate key)", "删除重复行或更正编号")

    for rule in schema.rules:
        sub = df[list(rule.requires or rule.columns)]
        testable = sub.notna().all(axis=1)
        ok = rule.test(df).astype("boolean").fillna(True).astype(bool)
        report(testable & ~ok, rule.name, rule.columns[0], rule.message, "核对这几列的数值")

    if divisions is not None:
        _check_foreign_keys(df, schema, divisions, report)
    return problems


def _check_foreign_keys(df, schema, divisions, report) -> None:
    from .roster import valid_in

    years = schema.years(df)
    for year in sorted(years.dropna().unique()):
        rows = years == year
        valid = valid_in(divisions, int(year))
        streets = set(valid.loc[valid["level"] == "street", "code"])
        comm = valid[valid["level"] == "community"].set_index("code")["parent_code"]
        for col in schema.columns:
            if col.fk is None:
                continue
            s = df.loc[rows.fillna(False).to_numpy(), col.name].astype("string")
            s = s[s.notna()]
            known = streets if col.fk == "street" else set(comm.index)
            bad = ~s.isin(known)
            report(bad.reindex(df.index, fill_value=False), "foreign_key", col.name,
                   f"「{col.header}」在 {int(year)} 年的区划中不存在 (unknown code for {int(year)})",
                   "用 `xz list --year` 查看当年的有效代码")
        if "street_code" in schema.names and "community_code" in schema.names:
            sub = df.loc[rows.fillna(False).to_numpy(), ["street_code", "community_code"]].astype("string")
            sub = sub.dropna()
            parent = sub["community_code"].map(comm)
            bad = parent.notna() & (parent != sub["street_code"])
            report(bad.reindex(df.index, fill_value=False), "parent", "community_code",
                   f"社区在 {int(year)} 年不属于所填镇街 (community not in this street that year)",
                   "核对镇街代码和社区代码")


# --------------------------------------------------------------------------- docs


def data_dictionary() -> str:
    """Return the data dictionary of every programme table as Markdown."""
    lines = [
        "# Data dictionary",
        "",
        "Generated from `xzlib/schemas.py` by `xz docs` (do not edit by hand). "
        f"Schema version {SCHEMA_VERSION}.",
        "",
    ]
    for s in SCHEMAS.values():
        lines += [f"## `{s.name}` ({s.zh})", "", s.description, "",
                  f"Key: `{'`, `'.join(s.key)}`. Divisions are those valid in the year of "
                  f"`{s.year_from}`.", "",
                  "| column | dtype | 提交表头 header | unit | null | rule | description |",
                  "|---|---|---|---|---|---|---|"]
        for c in s.columns:
            rule = []
            if c.min is not None or c.max is not None:
                rule.append(f"{_fmt(c.min)}..{_fmt(c.max)}")
            if c.allowed:
                rule.append(" / ".join(c.allowed))
            if c.pattern:
                rule.append(f"`{c.pattern}`")
            if c.fk:
                rule.append(f"→ divisions ({c.fk})")
            lines.append(f"| `{c.name}` | {c.dtype} | {c.header} | {c.unit} | "
                         f"{'yes' if c.nullable else 'no'} | {'; '.join(rule)} | {c.description} |")
        if s.rules:
            lines += ["", "Cross-column rules:", ""]
            lines += [f"- `{r.name}`: {r.message}" for r in s.rules]
        lines.append("")
    return "\n".join(lines)
