"""Pure parsers: what a clerk typed -> the value the schema wants.

Everything here is a function of its input only (no files, no logging of problems): the
cleaner (:mod:`xzlib.ingest.clean`) turns the masks these functions return into problems.

* :data:`HEADER_ALIASES` and :data:`UNITS` -- the header-alias table, declared once;
  :func:`alias_table` prints it and :func:`match_header` uses it.
* :func:`parse_numbers` -- full-width digits, thousands separators, 万/亿 multipliers,
  Chinese numerals, units in cells and qualifiers (约 / 多 / 余 / 超过 / 以上 ...).
* :func:`parse_dates` -- Excel dates and serial numbers, ``2018年7月3日``, ``2018年7月``,
  ``2018.7.3``, ``2018/07/03``, ``20180703``, ISO forms, with or without a time.
* :func:`parse_labels`, :func:`parse_bools` -- Chinese labels -> codes.
* :func:`resolve_names` -- community / street names -> codes for a year, insensitive to
  spaces, full-width forms and the 社区 / 社区居委会 / 街道办事处 suffixes.

Columns are parsed vectorised: a fast path handles a column that is already clean
numbers or ISO dates, and the slow per-value parser only ever sees the *distinct* values
that the fast path could not read.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

import numpy as np
import pandas as pd

from .. import schemas
from ..divisions import divisions as _divisions
from ..divisions import normalize_name, valid_in
from ..submission import SHEETS, fields

__all__ = [
    "HEADER_ALIASES",
    "STREET_ALIASES",
    "IGNORED_HEADERS",
    "SHEET_ALIASES",
    "UNITS",
    "QUALIFIERS",
    "FieldSpec",
    "HeaderMatch",
    "field_specs",
    "match_header",
    "split_unit",
    "alias_table",
    "alias_markdown",
    "update_docs",
    "clean_key",
    "is_blank",
    "total_marker",
    "NumberResult",
    "parse_numbers",
    "parse_number_text",
    "DateResult",
    "parse_dates",
    "parse_date_text",
    "parse_labels",
    "parse_bools",
    "parse_text",
    "NameResult",
    "resolve_names",
    "resolve_street",
    "community_parents",
    "table_for_sheet",
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

_SPACE_CHARS = "\u3000\u00a0\ufeff\u200b"
# literal characters, no \\s: pandas then runs it in pyarrow (RE2) instead of Python's re
_SPACE_RE = re.compile("[ \t\r\n\x0b\x0c" + _SPACE_CHARS + "]+")
_STRIP = " \t\r\n\x0b\x0c" + _SPACE_CHARS


def clean_key(text: object) -> str:
    """Return ``text`` reduced for matching: NFKC, no whitespace, lower case.

    >>> clean_key(" 政府资金（万元）　")
    '政府资金(万元)'
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    return _SPACE_RE.sub("", s).lower()


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


DOCS_BEGIN = "<!-- alias-table:begin (generated by xzlib.ingest.normalize.alias_markdown) -->"
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

    path = Path(path) if path else config.PROJECT_ROOT / "docs" / "ingest.md"
    text = path.read_text(encoding="utf-8")
    a, b = text.index(DOCS_BEGIN), text.index(DOCS_END) + len(DOCS_END)
    new = text[:a] + alias_markdown() + text[b:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def _fmt_dec(d: Decimal) -> str:
    return format(d.normalize(), "f")


# --------------------------------------------------------------------------- blanks, totals

_BLANK_WORDS = {"", "-", "--", "—", "——", "/", "\\", "－", "–"}
_TOTAL_RE = re.compile(r"^(合计|小计|总计|总合计|累计|合计数)(:|：)?$")


def is_blank(s: pd.Series) -> pd.Series:
    """Return True where a raw cell is empty (None, NaN or only whitespace)."""
    return pd.Series(prep(s)[1] == BLANK, index=s.index)


def _dashes(s: pd.Series) -> pd.Series:
    """True where a cell holds only a dash or slash (a clerk's 'none')."""
    return _text(s).isin(_BLANK_WORDS - {""}).fillna(False).astype(bool)


def total_marker(s: pd.Series, text: pd.Series | None = None) -> pd.Series:
    """Return 'total' / 'subtotal' / None per cell for 合计 / 小计 rows.

    >>> total_marker(pd.Series(["合 计", "小计：", "紫荆社区"])).tolist()
    ['total', 'subtotal', None]
    """
    t = _text(s) if text is None else text
    out = np.full(len(s), None, dtype=object)
    cand = t.str.contains("计", regex=False).fillna(False).to_numpy(dtype=bool)
    if not cand.any():
        return pd.Series(out, index=s.index, dtype=object)
    t = t[cand].str.replace(_SPACE_RE.pattern, "", regex=True)
    hit = t.str.fullmatch(_TOTAL_RE.pattern).fillna(False).astype(bool)
    h = np.flatnonzero(cand)[hit.to_numpy()]
    out[h] = np.where(t[hit].str.startswith("小计").to_numpy(), "subtotal", "total")
    return pd.Series(out, index=s.index, dtype=object)


# --------------------------------------------------------------------------- text helpers

#: Kinds of raw cells (see :func:`prep`).
BLANK, TEXT, NUMBER, DATE, BOOL = 0, 1, 2, 3, 4


def _fmt_number(v) -> str:
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


def _cell_kind(v) -> tuple[int, str | None]:
    if v is None:
        return BLANK, None
    if isinstance(v, str):
        return (TEXT, v) if v.strip(_STRIP) else (BLANK, None)
    if isinstance(v, bool):
        return BOOL, "是" if v else "否"
    if isinstance(v, float):
        if v != v:
            return BLANK, None
        return NUMBER, _fmt_number(v)
    if isinstance(v, int):
        return NUMBER, str(v)
    if isinstance(v, dt.datetime):
        return DATE, v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return DATE, v.isoformat()
    if v is pd.NA or v is pd.NaT:
        return BLANK, None
    return TEXT, str(v)


def _normalise_text(t: pd.Series) -> pd.Series:
    t = t.str.strip()
    nonascii = t.str.contains(r"[^\x00-\x7f]", regex=True).fillna(False).astype(bool)
    if not nonascii.any():
        return t
    # NFKC once per distinct value (Chinese columns repeat a lot)
    codes, uniq = pd.factorize(t)
    if len(uniq) <= max(1000, len(t) // 4):
        norm = [unicodedata.normalize("NFKC", u).strip(_STRIP) for u in uniq]
        return _expand(norm, codes, t)
    sub = t[nonascii]
    codes, uniq = pd.factorize(sub)
    norm = [unicodedata.normalize("NFKC", u).strip(_STRIP) for u in uniq]
    t = t.copy()
    t[nonascii] = _expand(norm, codes, sub)
    return t


def _expand(values: list[str], codes: np.ndarray, like: pd.Series) -> pd.Series:
    """Return ``values[codes]`` (-1 = NA) as a Series shaped and typed like ``like``."""
    import pyarrow as pa

    arr = pa.array(values, type=pa.large_string()).take(
        pa.array(codes, mask=codes < 0, type=pa.int64()))
    try:
        return pd.Series(pd.array(arr, dtype=like.dtype), index=like.index)
    except (TypeError, ValueError):  # a non-arrow string dtype
        return pd.Series(np.array([*values, None], dtype=object)[codes], index=like.index,
                         dtype=like.dtype)


def prep(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Return ``(text, kinds)`` for raw cells, in one pass.

    ``text`` (``str`` dtype) is each cell as text: NFKC-normalised and stripped for text
    cells, ``12.5``/``3`` for numbers, ISO for dates, NA for blanks.  ``kinds`` is an int8
    array of :data:`BLANK`, :data:`TEXT`, :data:`NUMBER`, :data:`DATE`, :data:`BOOL`.
    Columns that are all text (CSV, or text-only Excel columns) take a vectorised path.
    """
    if s.dtype != object:
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            kinds = np.where(s.isna().to_numpy(), BLANK, NUMBER).astype(np.int8)
            text = s.map(lambda v: None if pd.isna(v) else _fmt_number(v)).astype("str")
            return text, kinds
        t = s.astype("str")
        kinds_is_text = True
    else:
        vals = s.to_numpy(dtype=object)
        inferred = pd.api.types.infer_dtype(vals, skipna=True)
        kinds_is_text = inferred in ("string", "empty")
        if kinds_is_text:
            t = pd.Series(vals, index=s.index, dtype="str")
        else:
            pairs = [_cell_kind(v) for v in vals]
            kinds = np.fromiter((k for k, _ in pairs), dtype=np.int8, count=len(pairs))
            t = pd.Series([x for _, x in pairs], index=s.index, dtype="str")
            is_text = kinds == TEXT
            if is_text.any():
                t = t.copy()
                t[is_text] = _normalise_text(t[is_text])
                kinds[is_text & (t.fillna("").to_numpy() == "")] = BLANK
            t = t.where(kinds != BLANK)
            return t, kinds
    t = _normalise_text(t)
    blank = (t.isna() | (t == "")).to_numpy(dtype=bool, na_value=True)
    kinds = np.where(blank, BLANK, TEXT).astype(np.int8)
    return t.where(~blank), kinds


def _text(s: pd.Series) -> pd.Series:
    """Return the cells as ``str`` dtype (numbers without a trailing ``.0``), NFKC'd."""
    return prep(s)[0]


def parse_text(s: pd.Series, *, nfkc: bool = False, pre: tuple | None = None) -> pd.Series:
    """Return free text with surrounding (also full-width) spaces removed; blanks -> NA.

    With ``nfkc=True`` (identifiers) full-width letters and digits become half-width and
    inner spaces are removed.  Free text keeps its characters (full-width punctuation
    stays) and only loses surrounding whitespace.
    """
    if nfkc:
        t = (pre[0] if pre is not None else _text(s)).str.replace(_SPACE_RE.pattern, "", regex=True)
    else:
        vals = s if s.dtype != object else s.map(
            lambda v: v if isinstance(v, str) else None if _cell_kind(v)[0] == BLANK
            else _cell_kind(v)[1])
        t = vals.astype("str").str.strip(_STRIP)
    return t.where(t != "").astype("string")


# --------------------------------------------------------------------------- numbers

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}


def _cn_int(text: str) -> int | None:
    """Parse a Chinese numeral (一百零五, 三千二百, 两万, 十二); None if not one."""
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS and ch not in _CN_BIG
                       for ch in text):
        return None
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            if digit:  # two digits in a row (一二) is not a numeral; 一百零五 is
                return None
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        else:
            section += digit or 0
            if section == 0:
                return None
            total += section * _CN_BIG[ch]
            section, digit = 0, None
    section += digit or 0
    return total + section


_QUAL_PRE = "|".join(sorted((q for q in QUALIFIERS if q not in ("多", "余", "以上", "左右",
                                                                 "上下", "以下", "来")),
                            key=len, reverse=True))
_QUAL_POST = "多|余|以上|左右|上下|以下|来"
_UNIT_ALT = "|".join(sorted((re.escape(u) for u in _ALL_UNITS if u), key=len, reverse=True))
_NUM_RE = re.compile(
    rf"^(?P<pre>{_QUAL_PRE})?"
    r"(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+|[零〇一二两三四五六七八九十百千]+)"
    rf"(?P<q1>多|余|来)?(?P<mult>万|亿|千|百)?(?P<q2>多|余)?"
    rf"(?P<unit>{_UNIT_ALT})?(?P<post>{_QUAL_POST})?$"
)
_MULT = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "千": Decimal(1000),
         "百": Decimal(100)}


@dataclass(frozen=True)
class NumberText:
    """One text cell read as a number (see :func:`parse_number_text`)."""

    value: Decimal | None
    qualifier: str | None = None
    marker: str = ""
    unit: str | None = None
    multiplied: bool = False
    error: str = ""


@lru_cache(maxsize=65536)
def parse_number_text(text: str) -> NumberText:
    """Parse one cell of text as a number.

    Returns the exact decimal value (multiplier applied, unit NOT applied), the canonical
    qualifier and the qualifier word(s) as written, the unit written in the cell, and an
    error code (``"not_number"``, ``"separator"``) when it cannot be read.

    >>> r = parse_number_text("约3,000余人次"); (r.value, r.qualifier, r.marker, r.unit)
    (Decimal('3000'), 'about', '约/余', '人次')
    >>> parse_number_text("1.2万").value
    Decimal('12000.0')
    >>> parse_number_text("１２３").value
    Decimal('123')
    >>> parse_number_text("三千二百").value
    Decimal('3200')
    """
    t = _SPACE_RE.sub("", unicodedata.normalize("NFKC", text))
    t = t.replace("，", ",").replace("。", ".")
    m = _NUM_RE.match(t)
    if not m:
        if re.fullmatch(r"[+-]?[\d,]+(\.\d+)?", t):
            return NumberText(None, error="separator")
        return NumberText(None, error="not_number")
    num = m.group("num")
    if re.fullmatch(r"[零〇一二两三四五六七八九十百千]+", num):
        n = _cn_int(num)
        if n is None:
            return NumberText(None, error="not_number")
        value = Decimal(n)
    else:
        try:
            value = Decimal(num.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the regex admits only numbers
            return NumberText(None, error="not_number")
    mult = m.group("mult")
    if mult:
        value *= _MULT[mult]
    words = [w for w in (m.group("pre"), m.group("q1"), m.group("q2"), m.group("post")) if w]
    quals = {QUALIFIERS[w] for w in words}
    if len(quals) > 1 and quals != {"about", "at_least"}:
        return NumberText(None, error="not_number")
    qualifier = None
    if quals:
        qualifier = "about" if "about" in quals else quals.pop()
    return NumberText(value, qualifier, "/".join(words), m.group("unit"), bool(mult))


@dataclass
class NumberResult:
    """Numbers parsed from one column.

    Attributes
    ----------
    value : Series of float64
        The number in the schema's unit (NaN where blank or unreadable).
    blank : Series of bool
        Empty cells (including a lone dash, see ``dash``).
    bad : Series of bool
        Cells that are not blank and could not be read; ``reason`` says why.
    reason : Series of object
        Short Chinese reason per bad cell.
    qualifier, marker : Series of object
        Canonical qualifier (``about``, ``at_least``, ``at_most``) and the words as
        written, where a cell had one.
    unit : Series of object
        The unit written in a cell (``300000元``), which then overrides the header's.
    dash : Series of bool
        Cells holding only ``-`` / ``—`` / ``/`` (read as empty).
    """

    value: pd.Series
    blank: pd.Series
    bad: pd.Series
    reason: pd.Series
    qualifier: pd.Series
    marker: pd.Series
    dash: pd.Series
    unit: pd.Series


_PLAIN_NUM = r"-?[0-9]+(?:\.[0-9]+)?"


def parse_numbers(s: pd.Series, *, factor: Decimal = Decimal(1), units: dict | None = None,
                  header_unit: str | None = None, integer: bool = False,
                  pre: tuple | None = None) -> NumberResult:
    """Parse a column of numbers as a clerk writes them.

    Parameters
    ----------
    s : Series
        Raw cells: numbers, text, or a mix (Excel).
    factor : Decimal
        Factor from the header's unit into the schema's unit (``元`` -> ``万元``: 0.0001).
    units : dict of str to Decimal, optional
        Units the column accepts in a cell (e.g. ``3000元``), with their factors; a unit in
        a cell overrides the header's.
    header_unit : str, optional
        The unit the header carries; a cell with a 万/亿 multiplier under a header whose
        unit already has one (``1.2万`` under ``金额（万元）``) is ambiguous and rejected.
    integer : bool
        Reject values that are not whole numbers.
    pre : tuple, optional
        ``prep(s)`` if already computed.

    Returns
    -------
    NumberResult
    """
    units = units or {}
    idx = s.index
    value = pd.Series(np.nan, index=idx, dtype="float64")
    reason = pd.Series(None, index=idx, dtype=object)
    qualifier = pd.Series(None, index=idx, dtype=object)
    marker = pd.Series(None, index=idx, dtype=object)
    cell_unit = pd.Series(None, index=idx, dtype=object)
    text_all, kinds = pre if pre is not None else prep(s)
    blank = pd.Series(kinds == BLANK, index=idx)
    dash = text_all.isin(_BLANK_WORDS - {""}).fillna(False).astype(bool) & ~blank
    blank = blank | dash
    todo = ~blank

    isnum = pd.Series(kinds == NUMBER, index=idx)
    if isnum.any():  # Excel numbers arrive as float/int
        nums = pd.to_numeric(s[isnum]).astype("float64")
        if factor == 1:
            value[isnum] = nums
        else:
            value[isnum] = [float(Decimal(repr(float(v))) * factor) for v in nums]
        todo &= ~isnum
    isdate = pd.Series((kinds == DATE) | (kinds == BOOL), index=idx) & todo
    reason[isdate] = "是日期，不是数字 (a date, not a number)"
    todo &= ~isdate
    if todo.any():
        text = text_all[todo]
        plain = text.str.fullmatch(_PLAIN_NUM).fillna(False).astype(bool)
        if plain.any():
            rows = text.index[plain.to_numpy()]
            if factor == 1:
                value[rows] = text[plain].astype("float64").to_numpy()
            else:
                value[rows] = [float(Decimal(t) * factor) for t in text[plain]]
        rest = text[~plain.to_numpy()]
        if len(rest):
            uniq = pd.unique(rest.to_numpy())
            parsed = {}
            for u in uniq:
                r = parse_number_text(u)
                if r.value is None:
                    why = ("千分位写法不对 (bad thousands separator)" if r.error == "separator"
                           else "不是数字 (not a number)")
                    parsed[u] = (np.nan, why, None, None, None)
                    continue
                f = factor
                if r.unit is not None:
                    if r.unit not in units:
                        accepted = "、".join(units) or "不带单位"
                        parsed[u] = (np.nan, f"单位「{r.unit}」不适用，应为 {accepted} "
                                             "(wrong unit)", None, None, None)
                        continue
                    f = units[r.unit]
                elif r.multiplied and header_unit and header_unit[:1] in ("万", "亿", "千", "百"):
                    parsed[u] = (np.nan, f"「万/亿」与表头单位「{header_unit}」重复，含义不明 "
                                         "(ambiguous multiplier)", None, None, None)
                    continue
                parsed[u] = (float(r.value * f), None, r.qualifier, r.marker or None, r.unit)
            got = rest.map(lambda t: parsed[t])
            value[rest.index] = [g[0] for g in got]
            reason[rest.index] = [g[1] for g in got]
            qualifier[rest.index] = [g[2] for g in got]
            marker[rest.index] = [g[3] for g in got]
            cell_unit[rest.index] = [g[4] for g in got]
    ok = value.notna()
    bad = ~blank & ~ok
    reason[bad & reason.isna()] = "不是数字 (not a number)"
    inf = ok & ~np.isfinite(value.fillna(0))
    if inf.any():
        bad |= inf
        reason[inf] = "不是有限的数字 (not finite)"
        value[inf] = np.nan
    if integer:
        frac = ok & ~bad & (value % 1 != 0)
        if frac.any():
            bad |= frac
            reason[frac] = "应为整数 (must be a whole number)"
            value[frac] = np.nan
    return NumberResult(value, blank, bad.astype(bool), reason, qualifier, marker, dash, cell_unit)


# --------------------------------------------------------------------------- dates

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_DATE_RE = re.compile(
    r"^(?P<y>\d{4})\s*(?:年|[./\-])\s*(?P<m>\d{1,2})\s*(?:(?:月|[./\-])\s*(?P<d>\d{1,2})\s*[日号]?)?"
    r"\s*(?:月)?"
    r"(?:(?:\s+|T|日)?\s*(?P<H>\d{1,2})\s*[:：时点]\s*(?P<M>\d{1,2})\s*(?:[:：分]\s*(?P<S>\d{1,2}(?:\.\d+)?)\s*秒?)?\s*分?)?$"
)


@lru_cache(maxsize=65536)
def parse_date_text(text: str) -> tuple[pd.Timestamp | None, str]:
    """Parse one date cell written as text.

    Returns ``(timestamp, precision)`` with precision ``"day"``, ``"month"`` (``2018年7月``,
    read as the 1st) or ``"time"``; ``(None, reason)`` when unreadable.

    >>> parse_date_text("2018年7月3日")
    (Timestamp('2018-07-03 00:00:00'), 'day')
    >>> parse_date_text("2018.7")[1]
    'month'
    >>> parse_date_text("43284")[0]
    Timestamp('2018-07-03 00:00:00')
    """
    t = unicodedata.normalize("NFKC", text).strip()
    if re.fullmatch(r"\d{8}", t):
        try:
            return pd.Timestamp(dt.date(int(t[:4]), int(t[4:6]), int(t[6:]))), "day"
        except ValueError:
            return None, "日期不存在 (no such date)"
    if re.fullmatch(r"\d{5}(\.\d+)?", t):
        return _serial(float(t))
    m = _DATE_RE.match(t)
    if not m:
        return None, "无法识别的日期 (unrecognised date)"
    y, mo = int(m.group("y")), int(m.group("m"))
    d = int(m.group("d")) if m.group("d") else None
    try:
        if m.group("H") is not None:
            sec = float(m.group("S") or 0)
            ts = pd.Timestamp(dt.datetime(y, mo, d or 1, int(m.group("H")), int(m.group("M")),
                                          int(sec)))
            return ts, "time" if d else "month"
        return pd.Timestamp(dt.date(y, mo, d or 1)), "day" if d else "month"
    except ValueError:
        return None, "日期不存在 (no such date)"


def _serial(v: float) -> tuple[pd.Timestamp | None, str]:
    if not 1 <= v < 2_958_466:
        return None, "无法识别的日期 (unrecognised date)"
    ts = (_EXCEL_EPOCH + pd.to_timedelta(v, unit="D")).round("s")
    return ts, "time" if ts != ts.normalize() else "day"


@dataclass
class DateResult:
    """Dates parsed from one column (``value`` is ``datetime64[ns]``; see NumberResult)."""

    value: pd.Series
    blank: pd.Series
    bad: pd.Series
    reason: pd.Series
    month_only: pd.Series
    serial: pd.Series


def parse_dates(s: pd.Series, pre: tuple | None = None) -> DateResult:
    """Parse a column of dates in any of the forms a clerk uses.

    Excel dates and datetimes pass through; numbers (and digit-only text) are Excel serial
    numbers (``43284`` = 2018-07-03), eight digits are ``YYYYMMDD``; text may be ISO
    (``2018-07-03 14:30``), ``2018/07/03``, ``2018.7.3``, ``2018年7月3日`` or
    ``2018年7月`` (month only: read as the 1st, flagged in ``month_only``).  Times are
    rounded to the second.

    Returns
    -------
    DateResult
    """
    idx = s.index
    value = pd.Series(pd.NaT, index=idx, dtype="datetime64[ns]")
    reason = pd.Series(None, index=idx, dtype=object)
    month_only = pd.Series(False, index=idx)
    serial = pd.Series(False, index=idx)
    if pd.api.types.is_datetime64_any_dtype(s):
        value = s.astype("datetime64[ns]").dt.round("s")
        return DateResult(value, s.isna(), pd.Series(False, index=idx), reason, month_only, serial)
    text_all, kinds = pre if pre is not None else prep(s)
    blank = pd.Series(kinds == BLANK, index=idx) | text_all.isin(_BLANK_WORDS - {""}).fillna(False)
    todo = ~blank
    isdt = pd.Series(kinds == DATE, index=idx) & todo
    if isdt.any():
        value[isdt] = pd.to_datetime(s[isdt].map(
            lambda v: v if isinstance(v, dt.datetime) else
            dt.datetime(v.year, v.month, v.day) if isinstance(v, dt.date) else None
        ).tolist()).astype("datetime64[ns]").round("s")
        todo &= ~isdt
    isnum = pd.Series(kinds == NUMBER, index=idx) & todo
    if isnum.any():
        got = [_serial(float(v)) for v in s[isnum]]
        value[isnum] = pd.to_datetime([g[0] for g in got]).astype("datetime64[ns]")
        reason[isnum] = [None if g[0] is not None else g[1] for g in got]
        serial[isnum] = True
        todo &= ~isnum
    if todo.any():
        text = text_all[todo]
        fast = pd.to_datetime(text, format="ISO8601", errors="coerce")
        ok = fast.notna() & text.str.fullmatch(
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
        ).fillna(False)
        ok = ok.astype(bool)
        if ok.any():
            value[ok[ok].index] = fast[ok].astype("datetime64[ns]").dt.round("s")
        rest = text[~ok.to_numpy()]
        if len(rest):
            parsed = {u: parse_date_text(u) for u in pd.unique(rest.to_numpy())}
            got = [parsed[t] for t in rest]
            value[rest.index] = pd.to_datetime([g[0] for g in got]).astype("datetime64[ns]")
            reason[rest.index] = [None if g[0] is not None else g[1] for g in got]
            month_only[rest.index] = [g[1] == "month" for g in got]
            serial[rest.index] = rest.str.fullmatch(r"[0-9]{5}(\.[0-9]+)?").fillna(False).to_numpy()
    bad = ~blank & value.isna()
    reason[bad & reason.isna()] = "无法识别的日期 (unrecognised date)"
    return DateResult(value, blank.astype(bool), bad.astype(bool), reason, month_only, serial)


# --------------------------------------------------------------------------- labels, booleans

_BOOL = {"是": True, "否": False, "有": True, "无": False, "y": True, "n": False, "yes": True,
         "no": False, "true": True, "false": False, "1": True, "0": False, "√": True,
         "✓": True, "✔": True, "×": False, "✗": False, "已设": True, "未设": False,
         "已建": True, "未建": False, "对": True}


def _take_cat(values: list, inv: np.ndarray, index) -> pd.Series:
    """Expand per-unique ``values`` (None = missing) to rows ``inv`` as a categorical."""
    vals = pd.Series(values, dtype=object)
    ucodes, ucats = pd.factorize(vals, use_na_sentinel=True)
    ucodes = np.append(ucodes, -1)  # inv == len(values) means "no value"
    codes = ucodes[inv] if len(inv) else np.array([], dtype=np.int64)
    cats = pd.Index(list(ucats), dtype=object)
    return pd.Series(pd.Categorical.from_codes(codes, cats), index=index)


def _lookup(s: pd.Series, table: dict[str, object], pre: tuple | None = None
            ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Map cells through ``table`` (keys are clean_key'd); return value, blank, bad."""
    text, kinds = pre if pre is not None else prep(s)
    blank = pd.Series(kinds == BLANK, index=s.index) | text.isin(_BLANK_WORDS - {""}).fillna(False)
    cat = pd.Categorical(text.where(~blank))
    mapped = [table.get(clean_key(c)) for c in cat.categories]
    codes = np.where(cat.codes < 0, len(mapped), cat.codes)
    value = _take_cat(mapped, codes, s.index)
    bad = ~blank & value.isna()
    return value, blank.astype(bool), bad.astype(bool)


def parse_labels(s: pd.Series, column: schemas.Column, pre: tuple | None = None
                 ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Map Chinese labels (or codes) of a coded column to codes.

    Returns ``(codes, blank, bad)``; matching ignores spaces, full-width forms and case.

    >>> from xzlib.schemas import get_schema
    >>> codes = parse_labels(pd.Series([" 已办结", "open", "x"]), get_schema("grid_cases").column("status"))[0]
    >>> codes.astype("string").tolist()
    ['resolved', 'open', <NA>]
    """
    table = {clean_key(v): v for v in (column.allowed or ())}
    table.update({clean_key(lab): code for code, lab in column.label_map.items()})
    return _lookup(s, table, pre)


def parse_bools(s: pd.Series, pre: tuple | None = None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Map 是/否 (and 有/无, Y/N, TRUE/FALSE, 1/0, √/×) to booleans.

    Returns ``(values as boolean dtype, blank, bad)``.
    """
    value, blank, bad = _lookup(s, _BOOL, pre)
    return value.astype("boolean"), blank, bad


# --------------------------------------------------------------------------- names


@dataclass
class NameResult:
    """Names resolved to codes (see :func:`resolve_names`).

    ``code`` is the code (or NA), ``blank``/``bad`` as elsewhere, ``alias`` True where the
    name matched only after removing a suffix or is not the official name, ``official`` the
    official name matched, ``reason``/``suggestion`` explain each bad cell.
    """

    code: pd.Series
    blank: pd.Series
    bad: pd.Series
    alias: pd.Series
    official: pd.Series
    reason: pd.Series
    suggestion: pd.Series


@lru_cache(maxsize=64)
def _community_lookup(year: int) -> tuple[dict, dict, dict, dict]:
    df = valid_in(_divisions(level="community"), year)
    by_norm = {normalize_name(n): c for n, c in zip(df["name"], df["code"], strict=True)}
    by_exact = {clean_key(n): c for n, c in zip(df["name"], df["code"], strict=True)}
    names = dict(zip(df["code"], df["name"], strict=True))
    parents = dict(zip(df["code"], df["parent_code"], strict=True))
    return by_norm, by_exact, names, parents


def community_parents(year: int) -> dict[str, str]:
    """Return ``{community code: street code}`` valid at the end of ``year``."""
    return _community_lookup(int(year))[3]


def _all_names(level: str) -> dict[str, list[tuple[str, object, object]]]:
    df = _divisions(level=level)
    out: dict[str, list] = {}
    for n, c, f, t in zip(df["name"], df["code"], df["valid_from"], df["valid_to"], strict=True):
        out.setdefault(normalize_name(n), []).append((c, f, t))
    return out


def _resolve_one(name: str, year: int, street: str | None) -> tuple:
    by_norm, by_exact, names, parents = _community_lookup(year)
    key = clean_key(name)
    if re.fullmatch(r"440402\d{6}", key):
        if key in names:
            return key, False, names[key], None, None
        return None, False, None, f"社区代码在 {year} 年不存在 (unknown code)", \
            "用 `xz list --year` 查看当年的社区"
    if key in by_exact:
        code = by_exact[key]
        return code, False, names[code], None, None
    norm = normalize_name(key)
    if norm in by_norm:
        code = by_norm[norm]
        return code, True, names[code], None, None
    hist = _all_names("community").get(norm)
    if hist:
        return None, False, None, f"该社区在 {year} 年不存在 (not a community in {year})", \
            "核对年份或社区名称"
    pool = [n for c, n in names.items() if street is None or parents[c] == street] or list(
        names.values())
    close = difflib.get_close_matches(name.strip(), pool, n=3, cutoff=0.3)
    hint = ("是否为: " + "、".join(close)) if close else "填写社区全称，如「紫荆社区」"
    return None, False, None, f"找不到该社区 (unknown community in {year})", hint


def resolve_names(names: pd.Series, years: pd.Series, streets: pd.Series | None = None,
                  pre: tuple | None = None) -> NameResult:
    """Resolve community names (or 12-digit codes) to codes valid in each row's year.

    Matching ignores spaces, full-width forms and the suffixes 社区 / 社区居委会 /
    居委会; a name that matched only that way is flagged in ``alias``.

    Parameters
    ----------
    names : Series
        Raw cells.
    years : Series of Int64
        Year of each row (rows without a year are not resolved and not flagged).
    streets : Series, optional
        Street code of each row, used to suggest names of that street.
    """
    idx = names.index
    text, kinds = pre if pre is not None else prep(names)
    blank = pd.Series(kinds == BLANK, index=idx) | text.isin(_BLANK_WORDS - {""}).fillna(False)
    text = text.where(~blank)
    yrs = pd.array(years, dtype="Int64")
    cat = pd.Categorical(text)
    st = (pd.Categorical(pd.Series(streets, index=idx).astype("str")) if streets is not None
          else pd.Categorical([""] * len(idx)))
    y = np.asarray(yrs.fillna(-1), dtype=np.int64)
    nst = len(st.categories) + 1
    combo = ((cat.codes.astype(np.int64) + 1) * 4000 + (y + 1)) * nst + (st.codes.astype(np.int64) + 1)
    uniq, inv = np.unique(combo, return_inverse=True)
    res = []
    for u in uniq:
        sc = int(u % nst) - 1
        yr = int((u // nst) % 4000) - 1
        c = int(u // nst // 4000) - 1
        if c < 0 or yr < 0:
            res.append((None, False, None, None, None))
            continue
        street = str(st.categories[sc]) if streets is not None and sc >= 0 else None
        res.append(_resolve_one(str(cat.categories[c]), yr, street))
    cols = list(zip(*res, strict=True)) if res else [()] * 5
    inv = np.asarray(inv).reshape(-1)

    def take(k: int) -> pd.Series:
        return _take_cat(list(cols[k]), inv, idx)

    code = take(0)
    alias = pd.Series(np.array([bool(a) for a in cols[1]] + [False], dtype=bool)[inv]
                      if len(idx) else np.array([], dtype=bool), index=idx)
    bad = ~blank & code.isna() & pd.Series(y >= 0, index=idx)
    return NameResult(code, blank.astype(bool), bad.astype(bool), alias, take(2), take(3),
                      take(4))


def resolve_street(value: object) -> tuple[str | None, bool]:
    """Resolve a street written as a 9-digit code or a name (any year) to its code.

    Returns ``(code, alias)``: alias is True when the name matched only without its
    suffix (``翠香`` / ``翠香街道办事处``); ``(None, False)`` if unknown.

    >>> resolve_street(" 翠香街道 ")
    ('440402001', False)
    >>> resolve_street("翠香街道办事处")
    ('440402001', True)
    """
    key = clean_key(value)
    if not key:
        return None, False
    df = _divisions(level="street").drop_duplicates("code")
    if re.fullmatch(r"\d{9}(\.0)?", key):
        key = key[:9]
        return (key, False) if key in set(df["code"]) else (None, False)
    for n, c in zip(df["name"], df["code"], strict=True):
        if clean_key(n) == key:
            return c, False
    norm = normalize_name(key)
    for n, c in zip(df["name"], df["code"], strict=True):
        if normalize_name(n) == norm:
            return c, True
    return None, False
