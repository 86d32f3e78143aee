"""Headers: the alias table, units in headers and multi-row headers.

* :data:`HEADER_ALIASES` and :data:`UNITS` -- the header-alias table, declared once;
  :func:`alias_table` prints it and :func:`match_header` uses it.
* :func:`table_for_sheet` -- a sheet name -> the table it holds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache

import pandas as pd

from .. import schemas
from ..submission import SHEETS, fields
from .cells import _SPACE_RE, clean_key  # noqa: F401 - _SPACE_RE re-used by numbers

__all__ = [
    "HEADER_ALIASES", "STREET_ALIASES", "IGNORED_HEADERS", "SHEET_ALIASES", "UNITS", "QUALIFIERS",
    "FieldSpec", "HeaderMatch", "field_specs", "match_header", "split_unit", "alias_table",
    "alias_markdown", "update_docs", "table_for_sheet",
]

# --------------------------------------------------------------------------- the alias table

#: Extra header names accepted for a column, beyond its Chinese label (``Column.zh``), its
#: template header (``Column.header``) and its English name.  ``"*"`` applies to every
#: table that has the column.  THE place to add a header a street office uses.
HEADER_ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("*", "community_code"): ("社区名称", "社区", "所属社区", "社区居委会", "社区(居委会)",
                              "居委会", "社区名"),
    ("*", "year"): ("年度", "统计年度", "年"),
    ("communities", "households"): ("总户数", "常住户数", "户数合计"),
    ("communities", "population"): ("人口", "常住人口数", "人口数", "常住人口总数"),
    ("communities", "grids"): ("网格数量", "网格", "网格个数"),
    ("communities", "grid_leaders"): ("网格长", "网格长人数"),
    ("communities", "grid_members"): ("网格员", "网格员人数", "专职网格员数"),
    ("communities", "party_committee"): ("社区党委", "是否设立社区党委", "设社区党委"),
    ("communities", "service_center"): ("党群服务中心", "是否建立党群服务中心",
                                        "是否建成党群服务中心"),
    ("communities", "owners_committees"): ("业委会", "业主委员会数", "业委会个数"),
    ("communities", "owners_committees_with_branch"): ("红色业委会数", "建立党支部业委会数",
                                                       "建党支部的业委会数"),
    ("projects", "project_id"): ("编号", "项目代码", "项目编码"),
    ("projects", "year"): ("资助年度", "立项年度", "立项年份"),
    ("projects", "programme"): ("类别", "项目类型", "项目类别名称"),
    ("projects", "funding_level"): ("层级", "资助级别"),
    ("projects", "brand"): ("所属品牌", "品牌名称"),
    ("projects", "title"): ("名称",),
    ("projects", "implementer"): ("实施单位", "承接机构", "执行单位", "承接组织"),
    ("projects", "gov_funds_wan"): ("政府资助资金", "资助金额", "政府资助", "资金", "金额",
                                    "政府资金金额"),
    ("projects", "social_funds_wan"): ("社会配套资金", "配套资金", "社会筹资", "社会资金金额"),
    ("projects", "beneficiaries"): ("受益人次", "服务对象人次", "服务人数"),
    ("projects", "eval_score"): ("评估得分", "评估分数", "得分", "第三方评估分数"),
    ("deliberations", "meeting_id"): ("编号", "会议序号"),
    ("deliberations", "date"): ("日期", "议事日期", "协商日期", "时间"),
    ("deliberations", "topic"): ("议事主题", "协商议题", "主题"),
    ("deliberations", "participants"): ("参会人员数", "参与人数", "参加人数"),
    ("deliberations", "proposals"): ("议案数", "提出议案"),
    ("deliberations", "adopted"): ("通过议案", "通过数"),
    ("deliberations", "implemented"): ("落实议案", "落实数", "已落实议案数"),
    ("grid_cases", "case_id"): ("编号", "事件编码", "案件编号"),
    ("grid_cases", "grid_no"): ("网格号", "网格", "所属网格"),
    ("grid_cases", "category"): ("类别", "事件类型", "问题类别"),
    ("grid_cases", "reported_at"): ("上报日期", "发现时间", "登记时间"),
    ("grid_cases", "resolved_at"): ("办结日期", "结案时间", "处置完成时间"),
    ("grid_cases", "status"): ("状态", "处理状态", "办理情况"),
}

#: Headers of an optional per-row street column (a district-wide file, or a clerk who
#: writes the street on every row); it overrides the notes sheet for that row.
STREET_ALIASES: tuple[str, ...] = ("镇街", "镇街名称", "镇街代码", "街道", "街道名称", "所属镇街",
                                   "所属街道", "street_code")

#: Headers silently ignored (row numbers, remarks).
IGNORED_HEADERS: tuple[str, ...] = ("序号", "编号序号", "备注", "说明", "no", "no.")

#: Sheet names accepted for each table besides ``submission.SHEETS``.
SHEET_ALIASES: dict[str, tuple[str, ...]] = {
    "communities": ("社区基本情况表", "社区情况", "社区基本信息", "社区"),
    "projects": ("项目表", "项目情况", "资助项目", "项目清单"),
    "deliberations": ("议事协商表", "议事协商会议", "居民议事", "议事会议"),
    "grid_cases": ("网格事件表", "网格事件清单", "网格案件", "事件"),
}

#: Units a header (or a cell) may carry, per schema unit, with the factor that converts a
#: value in that unit into the schema's unit.  Factors are exact decimals.
UNITS: dict[str, dict[str, Decimal]] = {
    "万元": {"万元": Decimal(1), "元": Decimal("0.0001"), "千元": Decimal("0.1"),
             "百万元": Decimal(100), "亿元": Decimal(10000)},
    "人次": {"人次": Decimal(1), "万人次": Decimal(10000), "次": Decimal(1)},
    "人": {"人": Decimal(1), "名": Decimal(1), "万人": Decimal(10000)},
    "户": {"户": Decimal(1), "万户": Decimal(10000)},
    "个": {"个": Decimal(1)},
    "项": {"项": Decimal(1), "个": Decimal(1), "件": Decimal(1)},
    "分": {"分": Decimal(1)},
    "": {},
}
#: Units accepted by particular columns without a schema unit.
_COLUMN_UNITS: dict[str, dict[str, Decimal]] = {
    "year": {"年": Decimal(1), "年度": Decimal(1)},
    "grid_no": {"号": Decimal(1), "号网格": Decimal(1)},
}

#: Qualifier words -> canonical qualifier (as in ``published_facts.qualifier``).
QUALIFIERS: dict[str, str] = {
    "约": "about", "大约": "about", "大概": "about", "约计": "about", "近": "about",
    "将近": "about", "接近": "about", "左右": "about", "上下": "about", "来": "about",
    "多": "at_least", "余": "at_least", "以上": "at_least", "超过": "at_least",
    "逾": "at_least", "多于": "at_least", "不少于": "at_least", "至少": "at_least",
    "不足": "at_most", "不到": "at_most", "少于": "at_most", "以下": "at_most",
    "不超过": "at_most",
}

def split_unit(header: object) -> tuple[str, str | None]:
    """Split a header into its name and unit (as written, normalised) or ``None``.

    Accepts ``金额（万元）``, ``金额(万元)``, ``金额/万元``, ``资金 元``,
    ``金额（单位：万元）`` and ``金额[万元]``.

    >>> split_unit("资金 元")
    ('资金', '元')
    >>> split_unit("政府资金/万元")
    ('政府资金', '万元')
    >>> split_unit("服务人次")
    ('服务人次', None)
    """
    raw = unicodedata.normalize("NFKC", "" if header is None else str(header)).strip()
    raw = raw.lstrip("*★").rstrip("*★").strip()
    m = re.fullmatch(r"(.+?)\s*[(\[【]\s*(?:单位\s*[:：]?\s*)?([^()\[\]【】]+?)\s*[)\]】]", raw,
                     re.S)
    if m:
        return clean_key(m.group(1)), clean_key(m.group(2))
    m = re.fullmatch(r"(.+?)\s*[/／]\s*(\S+)", raw, re.S)
    if m and clean_key(m.group(2)) in _ALL_UNITS:
        return clean_key(m.group(1)), clean_key(m.group(2))
    m = re.fullmatch(r"(.+?)\s+(\S+)", raw, re.S)
    if m and clean_key(m.group(2)) in _ALL_UNITS:
        return clean_key(m.group(1)), clean_key(m.group(2))
    return clean_key(raw), None


_ALL_UNITS = {u for d in (*UNITS.values(), *_COLUMN_UNITS.values()) for u in d}


@dataclass(frozen=True)
class FieldSpec:
    """How one submission column is read.

    Attributes
    ----------
    table, column : str
        Processed table and column (``street_code`` for the optional street column).
    header : str
        The template header (``Column.header``).
    parser : {"number", "text", "id", "label", "bool", "date", "datetime", "community", "street"}
        Which parser reads it.
    names : tuple of str
        Every accepted header name, normalised with :func:`clean_key` (without the unit).
    units : dict of str to Decimal
        Units accepted in the header or the cells, with their factor into ``unit``.
    unit : str
        The schema's unit.
    integer : bool
        Whether the value must be a whole number.
    required : bool
        Whether the column must be present and filled.
    """

    table: str
    column: str
    header: str
    parser: str
    names: tuple[str, ...]
    units: dict = field(default_factory=dict, hash=False, compare=False)
    unit: str = ""
    integer: bool = False
    required: bool = False


def _parser_for(col: schemas.Column, kind: str) -> str:
    if kind == "community_name":
        return "community"
    if kind in ("label", "bool", "date", "datetime"):
        return kind
    if col.dtype in ("Int64", "float64"):
        return "number"
    if col.dtype == "category":
        return "label"
    return "id" if col.pattern else "text"


@cache
def field_specs(table: str) -> tuple[FieldSpec, ...]:
    """Return how every submission column of ``table`` is read (template order).

    Built from :func:`xzlib.submission.fields` and the schema, plus
    :data:`HEADER_ALIASES`; the optional street column comes last.
    """
    schema = schemas.get_schema(table)
    out = []
    for f in fields(table):
        col = schema.column(f.column)
        names = [split_unit(f.header)[0], clean_key(col.zh), clean_key(col.name)]
        names += [clean_key(a) for a in HEADER_ALIASES.get(("*", col.name), ())
                  if col.name in schema.names]
        names += [clean_key(a) for a in HEADER_ALIASES.get((table, col.name), ())]
        units = dict(UNITS.get(col.unit, {}))
        units.update(_COLUMN_UNITS.get(col.name, {}))
        out.append(FieldSpec(table, col.name, f.header, _parser_for(col, f.kind),
                             tuple(dict.fromkeys(n for n in names if n)), units, col.unit,
                             col.dtype == "Int64", f.required))
    out.append(FieldSpec(table, "street_code", "镇街", "street",
                         tuple(clean_key(a) for a in STREET_ALIASES)))
    return tuple(out)


@dataclass(frozen=True)
class HeaderMatch:
    """A header as written, matched to a field (``spec`` is None if not recognised)."""

    written: str
    spec: FieldSpec | None
    unit: str | None = None
    factor: Decimal = Decimal(1)
    ignored: bool = False
    problem: str = ""


def match_header(table: str, header: object, default_unit: str | None = None) -> HeaderMatch:
    """Match one header as written to a field of ``table``, with its unit.

    Parameters
    ----------
    table : str
        The table the sheet holds.
    header : object
        The header cell as written.
    default_unit : str, optional
        A unit given for the whole sheet (a ``单位：元`` line above the header), used when
        the header itself has none.

    Returns
    -------
    HeaderMatch
        ``problem`` is set when the name matched but the unit is not one the column
        accepts.
    """
    written = "" if header is None else str(header).strip()
    return _match_header(table, written, default_unit)


@lru_cache(maxsize=65536)
def _match_header(table: str, written: str, default_unit: str | None) -> HeaderMatch:
    name, unit = split_unit(written)
    whole = clean_key(written)
    if not whole:
        return HeaderMatch(written, None)
    if whole in _IGNORED or name in _IGNORED:
        return HeaderMatch(written, None, ignored=True)
    specs = field_specs(table)
    spec = next((s for s in specs if whole in s.names), None)
    if spec is not None:  # the whole header is a name (e.g. 服务人次), no unit in it
        name, unit = whole, None
    else:
        spec = next((s for s in specs if name in s.names), None)
        if spec is None:  # 金额万元: a known unit glued to a known name
            for u in sorted(_ALL_UNITS, key=len, reverse=True):
                if u and whole.endswith(u) and len(whole) > len(u):
                    spec = next((s for s in specs if whole[: -len(u)] in s.names), None)
                    if spec is not None:
                        name, unit = whole[: -len(u)], u
                        break
    if spec is None:
        return HeaderMatch(written, None)
    if spec.parser != "number":
        return HeaderMatch(written, spec)
    if unit is None and default_unit and clean_key(default_unit) in spec.units:
        unit = clean_key(default_unit)
    if unit is None:
        return HeaderMatch(written, spec, None, Decimal(1))
    if unit not in spec.units:
        ok = ", ".join(spec.units) or "不带单位 (no unit)"
        return HeaderMatch(written, spec, unit, Decimal(1),
                           problem=f"「{written}」的单位「{unit}」不适用于该列，可用: {ok} "
                                   f"(unit not accepted)")
    return HeaderMatch(written, spec, unit, spec.units[unit])


_IGNORED = {clean_key(h) for h in IGNORED_HEADERS}


def table_for_sheet(sheet_name: str) -> str | None:
    """Return the table a sheet name stands for, or ``None``.

    >>> table_for_sheet(" 项目 ")
    'projects'
    >>> table_for_sheet("2018年网格事件")
    'grid_cases'
    """
    key = clean_key(sheet_name)
    if not key:
        return None
    for table, zh in SHEETS.items():
        names = {clean_key(zh), clean_key(table), *(clean_key(a) for a in SHEET_ALIASES[table])}
        if key in names:
            return table
    key = re.sub(r"^(19|20)\d\d年?(度)?", "", key)
    key = re.sub(r"[(（].*[)）]$", "", key)
    for table, zh in SHEETS.items():
        if key == clean_key(zh) or clean_key(zh) in key:
            return table
    return None


def alias_table() -> pd.DataFrame:
    """Return the header-alias table: every accepted header and unit per column.

    Columns: ``table``, ``sheet``, ``column``, ``template_header``, ``accepted_names``,
    ``units`` (``unit=factor`` into the schema unit).  ``docs/ingest.md`` prints it.
    """
    rows = []
    for table in schemas.TABLES:
        for s in field_specs(table):
            units = ", ".join(f"{u}×{_fmt_dec(f)}" for u, f in s.units.items())
            rows.append({"table": table, "sheet": SHEETS[table], "column": s.column,
                         "template_header": s.header, "accepted_names": " / ".join(s.names),
                         "units": units})
    return pd.DataFrame(rows)


DOCS_BEGIN = "<!-- alias-table:begin (generated by xzlib.ingest.headers.alias_markdown) -->"
DOCS_END = "<!-- alias-table:end -->"


def alias_markdown() -> str:
    """Return the header-alias table as Markdown (the block in ``docs/ingest.md``)."""
    lines = [DOCS_BEGIN, ""]
    for table in schemas.TABLES:
        lines += [f"**{SHEETS[table]}** (`{table}`; sheet names also accepted: "
                  + "、".join(SHEET_ALIASES[table]) + ")", "",
                  "| column | template header | accepted header names | units (×factor into the "
                  "schema unit) |", "|---|---|---|---|"]
        for s in field_specs(table):
            units = ", ".join(f"{u} ×{_fmt_dec(f)}" for u, f in s.units.items())
            lines.append(f"| `{s.column}` | {s.header} | {' / '.join(s.names)} | {units} |")
        lines.append("")
    lines += ["Ignored headers: " + "、".join(IGNORED_HEADERS) + ".", "",
              "Qualifier words: " + ", ".join(f"{w} → {q}" for w, q in QUALIFIERS.items()) + ".",
              "", DOCS_END]
    return "\n".join(lines)


def update_docs(path=None) -> bool:
    """Rewrite the generated alias block of ``docs/ingest.md``; return True if it changed."""
    from pathlib import Path

    from .. import config

    path = Path(path) if path else config.docs_dir() / "ingest.md"
    text = path.read_text(encoding="utf-8")
    a, b = text.index(DOCS_BEGIN), text.index(DOCS_END) + len(DOCS_END)
    new = text[:a] + alias_markdown() + text[b:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def _fmt_dec(d: Decimal) -> str:
    return format(d.normalize(), "f")

