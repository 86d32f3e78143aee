"""What the report notebooks say: validated parameters, the numbers and the sentences.

The notebooks stay thin: each section calls one function here and displays what it
returns.  Every number in the prose comes from :mod:`xzlib.evaluation` (through the cached
evaluation of the batch) or from the processed tables, and every sentence adapts to the
data, saying plainly when there is none.  Sentences are Markdown with every data string
escaped by :func:`xzlib.report.html.esc`; tables are DataFrames for
:func:`xzlib.report.html.table`.

The entry points are :func:`street_report` and :func:`district_report`, which check the
notebook parameters first (an unknown street code fails with the list of valid codes).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import dataset
from ..divisions import streets as _streets
from ..errors import UsageError
from ..i18n import check_lang, fmt_number, t
from .html import esc

__all__ = [
    "StreetReport",
    "DistrictReport",
    "street_report",
    "district_report",
    "check_params",
    "headline",
    "key_figures",
    "dimension_data",
    "dimension_overview",
    "dimension_indicators",
    "dimension_sentence",
    "similar_sentence",
    "robustness_sentence",
    "rank_table",
    "district_summary",
    "dimension_matrix",
    "data_quality",
    "reconciliation_table",
    "reconciliation_sentence",
    "timeline_table",
    "method_note",
    "top_projects",
    "community_values",
    "trend_data",
    "resolution_data",
    "money_data",
    "figure",
    "figure_alt",
    "FIGURE_ALT",
    "PHRASES",
    "SECTIONS",
]

log = logging.getLogger("xzlib")

#: Report prose, zh and en; fields are filled with escaped, formatted values.
PHRASES: dict[str, dict[str, str]] = {
    "headline": {
        "zh": "**{street}** {year} 年综合得分 **{score}**，排名第 **{rank}/{n}**"
              "（90%区间 {lo}–{hi}）。在 {runs} 次蒙特卡洛模拟中，进入前 3 名的概率为 {p_top}。",
        "en": "**{street}** scores **{score}** in {year}, ranking **{rank} of {n}** "
              "(90% interval {lo}–{hi}). In {runs} Monte Carlo runs it reached the top 3 "
              "with probability {p_top}.",
    },
    "not_ranked": {
        "zh": "**{street}** {year} 年的数据不足以参与排名：{note}",
        "en": "**{street}** has too little data in {year} to be ranked: {note}",
    },
    "interval_narrow": {
        "zh": "排名区间较窄，结论对方法选择不敏感。",
        "en": "The interval is narrow: the ranking does not depend on the method choices.",
    },
    "interval_wide": {
        "zh": "排名区间较宽（跨 {width} 个名次），排名受方法选择影响较大，解读时应谨慎。",
        "en": "The interval is wide ({width} places): the ranking depends on method choices "
              "and should be read with care.",
    },
    "dim_above": {"zh": "高于区中位数 1 个标准差以上", "en": "more than 1 SD above the district median"},
    "dim_below": {"zh": "低于区中位数 1 个标准差以上", "en": "more than 1 SD below the district median"},
    "dim_within": {"zh": "与区中位数相差不到 1 个标准差", "en": "within 1 SD of the district median"},
    "dimension_sentence": {
        "zh": "{dimension}得分 {score}（区中位数 {median}，第 {rank}/{n} 名），{flag}。",
        "en": "{dimension}: score {score} (district median {median}, rank {rank} of {n}), {flag}.",
    },
    "dimension_no_data": {
        "zh": "{dimension}：本年度没有可用数据，本节不作评价。",
        "en": "{dimension}: no data for this year; this section is not assessed.",
    },
    "strengths": {"zh": "相对优势：{items}。", "en": "Relative strengths: {items}."},
    "weaknesses": {"zh": "相对短板：{items}。", "en": "Relative weaknesses: {items}."},
    "similar": {
        "zh": "指标结构与本街道最接近的街道：{items}。可相互借鉴经验。",
        "en": "Streets with the most similar indicator profile: {items}.",
    },
    "similar_none": {"zh": "没有可比较的街道。", "en": "No street to compare with."},
    "robust_above": {
        "zh": "在至少 90% 的模拟中，本街道排在 {items} 之前（稳健差异）。",
        "en": "In at least 90% of runs this street ranks above {items} (a robust difference).",
    },
    "robust_below": {
        "zh": "在至少 90% 的模拟中，本街道排在 {items} 之后（稳健差异）。",
        "en": "In at least 90% of runs this street ranks below {items} (a robust difference).",
    },
    "robust_none": {
        "zh": "与其他街道的排名差异均未达到 90% 的稳健标准，不宜据此区分先后。",
        "en": "No difference from another street holds in 90% of runs; the order should not "
              "be over-read.",
    },
    "sensitivity": {
        "zh": "对本街道排名影响最大的方法假设是「{name}」（总效应指数 {value}）。",
        "en": "The assumption that moves this street's rank most is “{name}” (total "
              "sensitivity index {value}).",
    },
    "synthetic_note": {
        "zh": "本报告的数据为程序生成的示例数据（示例数据），不代表任何街道的真实情况。",
        "en": "The data of this report are synthetic (示例数据) and describe no real street.",
    },
    "real_note": {"zh": "数据来自各镇街报送，经 xz clean 校验。",
                  "en": "Data submitted by the street offices, checked by xz clean."},
    "no_rows": {"zh": "本年度没有{what}记录。", "en": "No {what} records for this year."},
}


#: Section headings of the reports.
SECTIONS: dict[str, dict[str, str]] = {
    "summary": {"zh": "概要", "en": "Summary"},
    "profile": {"zh": "维度得分与全区比较", "en": "Dimension profile against the district"},
    "key_figures": {"zh": "关键数据", "en": "Key figures"},
    "dimensions": {"zh": "分维度评价", "en": "Dimensions"},
    "similar": {"zh": "相似街道", "en": "Similar streets"},
    "robustness": {"zh": "排名的稳健性", "en": "How robust the ranking is"},
    "quality": {"zh": "数据质量与核对", "en": "Data quality and reconciliation"},
    "method": {"zh": "方法说明", "en": "Method"},
    "ranking": {"zh": "各街道综合排名", "en": "All streets"},
    "reconciliation": {"zh": "公开数据核对", "en": "Published figures against the data"},
    "timeline": {"zh": "大事记", "en": "Timeline"},
    "trend": {"zh": "历年变化", "en": "Trend"},
    "communities": {"zh": "辖内社区", "en": "Communities"},
}


def _p(key: str, lang: str, **values) -> str:
    """Fill a phrase; values are formatted for readers and escaped."""
    text = PHRASES[key][lang]
    return text.format(**{k: v if isinstance(v, _Safe) else esc(_f(v, lang))
                          for k, v in values.items()})


class _Safe(str):
    """A string already escaped (composed from escaped parts)."""


def _f(value, lang: str, digits: int | None = None) -> str:
    if isinstance(value, str):
        return value
    return fmt_number(value, lang, digits=digits)


def _num(value, lang: str, digits: int = 2) -> str:
    """A number as text: whole numbers without decimals, others with ``digits``."""
    if value is None or pd.isna(value):
        return t("na", lang)
    value = float(value)
    return fmt_number(int(value) if value.is_integer() else value, lang,
                      digits=None if value.is_integer() else digits)


def _join(items: list[str], lang: str) -> _Safe:
    sep = "、" if lang == "zh" else ", "
    return _Safe(sep.join(esc(i) for i in items))


# --------------------------------------------------------------------------- parameters


def check_params(street_code: str | None, year: int, lang: str) -> tuple[str | None, int, str]:
    """Validate notebook parameters; return them normalised.

    Raises
    ------
    UsageError
        Unknown language, a year outside the data, or a street code that is not a street
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
    valid = _streets(year)
    if code not in set(valid["code"]):
        listing = ", ".join(f"{c} {n}" for c, n in zip(valid["code"], valid["name"], strict=True))
        raise UsageError(f"street_code {street_code!r} is not a street of {year}; "
                         f"valid codes: {listing}")
    return code, year, lang


# --------------------------------------------------------------------------- contexts


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

    @property
    def meta(self) -> dict:
        """Header metadata for the HTML export."""
        man = dataset.manifest(self.data_dir)
        title = t("street_report_title", self.lang, street=self.street_name, year=self.year)
        return {"title": title, "street_code": self.street_code, "street_name": self.street_name,
                "year": self.year, "batch": man.get("batch", ""), "synthetic": self.synthetic}


@dataclass
class DistrictReport:
    """Everything the district overview shows (built by :func:`district_report`)."""

    year: int
    lang: str
    data_dir: str | None
    evaluation: object
    indicators: pd.DataFrame
    synthetic: bool = False


def _evaluation(year: int, data_dir, runs: int, seed: int):
    from .cache import cached_evaluate

    return cached_evaluate(year, runs=runs, seed=seed, data_dir=data_dir)


def _indicators(data_dir) -> pd.DataFrame:
    """Every indicator of every year (for trends), computed once per batch."""
    from ..evaluation import indicators
    from .cache import cached_call

    return cached_call(indicators, None, data_dir=data_dir)


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
    ind = _indicators(data_dir)
    tables = {name: _street_rows(dataset.load(name, year, data_dir=data_dir), code)
              for name in ("communities", "projects", "deliberations", "grid_cases")}
    return StreetReport(code, summary["street_name"], year, lang, data_dir, ev, summary, ind,
                        tables, bool(ev.synthetic))


def district_report(year: int = 2018, *, lang: str = "zh",
                    data_dir: str | os.PathLike | None = None, runs: int = 1000,
                    seed: int = 0) -> DistrictReport:
    """Check the parameters and gather the district overview's data."""
    _, year, lang = check_params(None, year, lang)
    data_dir = None if data_dir is None else str(data_dir)
    ev = _evaluation(year, data_dir, runs, seed)
    return DistrictReport(year, lang, data_dir, ev, _indicators(data_dir), bool(ev.synthetic))


def _street_rows(df: pd.DataFrame, code: str) -> pd.DataFrame:
    return df[(df["street_code"].astype("string") == code).to_numpy(dtype=bool, na_value=False)]


# --------------------------------------------------------------------------- sections


def _dim_label(ev, dim: str, lang: str) -> str:
    entry = ev.labels.get("dimensions", {}).get(dim, {})
    return entry.get(lang) or t(dim, lang, default=dim)


def dimensions(ev) -> list[str]:
    """Dimension ids of the evaluation, in order (D1..D5)."""
    return list(ev.labels.get("dimensions", {}))


def heading(key: str, lang: str, level: int = 2) -> str:
    """A section heading (Markdown) from :data:`SECTIONS` or a dimension id."""
    text = SECTIONS[key][lang] if key in SECTIONS else t(key, lang, default=key)
    return f"{'#' * level} {esc(text)}"


def headline(rep: StreetReport) -> str:
    """The headline: score, rank k of N with the 90% interval, P(top 3), in one sentence.

    Returns
    -------
    str
        Markdown (data escaped).
    """
    s, lang = rep.summary, rep.lang
    if not s["ranked"]:
        return _p("not_ranked", lang, street=rep.street_name, year=str(rep.year), note=s["note"])
    lo, hi = s["rank_interval"]
    text = _p("headline", lang, street=rep.street_name, year=str(rep.year),
              score=_f(s["score"], lang, 1), rank=s["rank"], n=s["n_ranked"],
              lo=int(lo), hi=int(hi), runs=rep.evaluation.settings.get("runs"),
              p_top=f"{s['p_top3']:.0%}")
    width = int(hi) - int(lo)
    extra = _p("interval_wide", lang, width=width + 1) if width >= 3 else _p("interval_narrow", lang)
    return f"{text}{'' if lang == 'zh' else ' '}{extra}"


def dimension_data(ev) -> pd.DataFrame:
    """Dimension scores of every street, with street names (for :func:`xzlib.plots.profile`)."""
    names = ev.ranks[["street_code", "street_name"]]
    return ev.dimensions.drop(columns=["street_name"], errors="ignore").merge(
        names, on="street_code", how="left")


def dimension_overview(rep: StreetReport) -> pd.DataFrame:
    """Dimension scores of the street against the district median, with ±1 SD flags."""
    lang = rep.lang
    rows = []
    for d in rep.summary["dimensions"]:
        flag = d.get("flag") or ""
        rows.append({
            t("dimension", lang): _dim_label(rep.evaluation, d["dimension"], lang),
            t("score", lang): d.get("score"),
            t("district_median", lang): d.get("district_median"),
            t("rank", lang): d.get("rank"),
            "±1 SD": PHRASES[f"dim_{flag}" if flag in ("above", "below") else "dim_within"][lang],
        })
    return pd.DataFrame(rows)


def dimension_sentence(rep: StreetReport, dimension: str) -> str:
    """One sentence on a dimension: score, district median, rank and the ±1 SD flag."""
    lang = rep.lang
    label = _dim_label(rep.evaluation, dimension, lang)
    d = next((d for d in rep.summary["dimensions"] if d["dimension"] == dimension), None)
    if d is None or d.get("score") is None:
        return _p("dimension_no_data", lang, dimension=label)
    flag = d.get("flag") or ""
    n = int(rep.summary.get("n_ranked") or 0)
    return _p("dimension_sentence", lang, dimension=label, score=_f(d["score"], lang, 1),
              median=_f(d.get("district_median"), lang, 1), rank=d.get("rank"), n=n,
              flag=PHRASES[f"dim_{flag}" if flag in ("above", "below") else "dim_within"][lang])


def dimension_indicators(rep: StreetReport, dimension: str) -> pd.DataFrame:
    """The street's indicators of one dimension in natural units, against the district."""
    lang = rep.lang
    ind = rep.indicators
    rows = ind[(ind["year"] == rep.year) & (ind["dimension"] == dimension)
               & (ind["street_code"] == rep.street_code)]
    label = "label_zh" if lang == "zh" else "label_en"
    unit = "unit" if lang == "zh" else "unit_en"
    ass = {"better": "↑", "worse": "↓"}
    return pd.DataFrame({
        ("指标" if lang == "zh" else "Indicator"): rows[label].to_numpy(),
        ("单位" if lang == "zh" else "Unit"): rows[unit].to_numpy(),
        t("this_street", lang): rows["value"].to_numpy(),
        t("district_median", lang): rows["district_median"].to_numpy(),
        t("rank", lang): [f"{r}/{n}" if pd.notna(r) else t("na", lang)
                          for r, n in zip(rows["rank"], rows["n_streets"], strict=True)],
        "±1 SD": [ass.get(a, "") for a in rows["assessment"]],
    })


def strengths_sentences(rep: StreetReport) -> str:
    """Relative strengths and weaknesses (indicator labels), one sentence each."""
    lang = rep.lang
    key = "label_zh" if lang == "zh" else "label_en"
    out = []
    for kind in ("strengths", "weaknesses"):
        items = [i.get(key) or i.get("indicator") for i in rep.summary[kind]]
        if items:
            out.append(_p(kind, lang, items=_join(items, lang)))
    return " ".join(out)


def key_figures(rep: StreetReport) -> pd.DataFrame:
    """Key figures of the street for the year, in natural units, with the district median."""
    lang = rep.lang
    tb = rep.tables
    c, p, d, g = tb["communities"], tb["projects"], tb["deliberations"], tb["grid_cases"]
    days = (g["resolved_at"] - g["reported_at"]).dt.total_seconds() / 86400
    figs = [
        ("n_communities_fig", len(c), "个", ""),
        ("population", c["population"].sum(), "人", "persons"),
        ("grids", c["grids"].sum(), "个", ""),
        ("grid_members", c["grid_members"].sum(), "人", "persons"),
        ("cases", len(g), "件", "cases"),
        ("median_days", days.median() if len(g) else np.nan, "天", "days"),
        ("meetings", len(d), "次", "meetings"),
        ("projects", len(p), "个", ""),
        ("gov_funds", p["gov_funds_wan"].sum(), "万元", "10,000 yuan"),
        ("social_funds", p["social_funds_wan"].sum(), "万元", "10,000 yuan"),
        ("reach", p["beneficiaries"].sum(), "人次", "person-times"),
    ]
    names = {
        "n_communities_fig": ("社区数", "Communities"), "population": ("常住人口", "Residents"),
        "grids": ("网格数", "Grids"), "grid_members": ("网格员", "Grid members"),
        "cases": ("网格事件", "Grid cases"), "median_days": ("办结天数中位数", "Median days to resolve"),
        "meetings": ("议事协商会议", "Deliberation meetings"), "projects": ("资助项目", "Funded projects"),
        "gov_funds": ("政府资金", "Government funds"), "social_funds": ("社会资金", "Social funds"),
        "reach": ("服务人次", "Person-times served"),
    }
    i = 0 if lang == "zh" else 1
    return pd.DataFrame({
        ("项目" if lang == "zh" else "Figure"): [names[k][i] for k, *_ in figs],
        ("数值" if lang == "zh" else "Value"): [
            _num(v, lang, 1) for _, v, *_ in figs],
        ("单位" if lang == "zh" else "Unit"): [u if lang == "zh" else ue for _, _, u, ue in figs],
    })


def similar_sentence(rep: StreetReport) -> str:
    """The most similar streets, in one sentence."""
    lang = rep.lang
    items = [s.get("similar_name") or s.get("similar_code") for s in rep.summary["similar"]]
    if not items:
        return PHRASES["similar_none"][lang]
    return _p("similar", lang, items=_join([str(i) for i in items], lang))


def robustness_sentence(rep: StreetReport) -> str:
    """Robust differences (>= 90% of runs) and the most influential assumption."""
    lang = rep.lang
    ranks = rep.evaluation.ranks.set_index("street_code")["street_name"]
    above = [ranks.get(c, c) for c in rep.summary["robustly_above"]]
    below = [ranks.get(c, c) for c in rep.summary["robustly_below"]]
    out = []
    if above:
        out.append(_p("robust_above", lang, items=_join(above, lang)))
    if below:
        out.append(_p("robust_below", lang, items=_join(below, lang)))
    if not out:
        out.append(PHRASES["robust_none"][lang])
    sens = [s for s in rep.summary["sensitivity"] if s.get("total") is not None]
    if sens:
        top = max(sens, key=lambda s: s["total"])
        name = top.get(f"label_{lang}") or top.get("assumption")
        out.append(_p("sensitivity", lang, name=str(name), value=_f(top["total"], lang, 2)))
    return " ".join(out)


def district_summary(rep: DistrictReport) -> str:
    """The district overview's opening: streets ranked, the leaders and robust differences."""
    ev, lang = rep.evaluation, rep.lang
    r = ev.ranks[ev.ranks["ranked"]].sort_values("rank")
    if r.empty:
        return ("本年度没有街道的数据足以排名。" if lang == "zh"
                else "No street has enough data to be ranked this year.")
    top = r.iloc[0]
    robust = ev.robust_pairs()
    leads = robust[robust["street_code"] == top["street_code"]]
    lo, hi = int(top["rank_q05"]), int(top["rank_q95"])
    if lang == "zh":
        return (f"{esc(rep.year)} 年共有 {len(r)} 个镇街参与排名。综合得分最高的是"
                f"**{esc(top['street_name'])}**（{fmt_number(top['score'], lang, digits=1)} 分，"
                f"90%区间第 {lo}–{hi} 名），在至少 90% 的模拟中排在 {len(leads)} 个镇街之前。"
                f"全区共有 {len(robust)} 对镇街的先后顺序是稳健的。")
    return (f"{len(r)} streets are ranked for {esc(rep.year)}. The highest composite score is "
            f"**{esc(top['street_name'])}**'s ({fmt_number(top['score'], lang, digits=1)}, 90% "
            f"interval {lo}–{hi}); it ranks above {len(leads)} streets in at least 90% of runs. "
            f"{len(robust)} ordered pairs of streets are robust.")


def dimension_matrix(ev, lang: str = "zh") -> pd.DataFrame:
    """Streets x dimensions: nominal dimension scores (0-100), best composite first."""
    wide = ev.dimensions.pivot(index="street_code", columns="dimension", values="score")
    wide.columns = [_dim_label(ev, d, lang) for d in wide.columns]
    order = ev.ranks.sort_values(["ranked", "rank"], ascending=[False, True])
    wide = wide.reindex(order["street_code"])
    wide.insert(0, t("street", lang), order["street_name"].to_numpy())
    return wide.reset_index(drop=True)


def rank_table(ev, lang: str = "zh") -> pd.DataFrame:
    """All streets with score, nominal rank, 90% interval and P(top 3), best first."""
    r = ev.ranks.sort_values(["ranked", "rank"], ascending=[False, True])
    return pd.DataFrame({
        t("street", lang): r["street_name"].to_numpy(),
        t("composite", lang): r["score"].to_numpy(),
        t("rank_nominal", lang): r["rank"].astype("Int64").to_numpy(),
        t("rank_median", lang): r["rank_median"].astype("Float64").to_numpy(),
        t("rank_interval", lang): [
            f"{int(a)}–{int(b)}" if pd.notna(a) else t("na", lang)
            for a, b in zip(r["rank_q05"], r["rank_q95"], strict=True)],
        ("进入前 3 名概率" if lang == "zh" else "P(top 3)"): [
            f"{p:.0%}" if pd.notna(p) else t("na", lang) for p in r["p_top3"]],
    })


def data_quality(rep: StreetReport) -> pd.DataFrame:
    """Coverage of the street's data: rows per table and the share of missing values."""
    lang = rep.lang
    from ..schemas import get_schema

    rows = []
    for name, df in rep.tables.items():
        schema = get_schema(name)
        optional = [c.name for c in schema.columns if c.nullable]
        missing = (float(df[optional].isna().to_numpy().mean()) if len(df) and optional else 0.0)
        rows.append({
            ("数据表" if lang == "zh" else "Table"): schema.zh if lang == "zh" else name,
            ("记录数" if lang == "zh" else "Rows"): len(df),
            ("选填项缺失比例" if lang == "zh" else "Optional fields missing"): f"{missing:.1%}",
        })
    return pd.DataFrame(rows)


def reconciliation_table(rec: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Published figures against the data (see :func:`xzlib.reconcile`), for display.

    The quote stays verbatim; qualifiers read 精确/约/不少于 (exact/about/at least).
    """
    qual = {"exact": ("精确", "exact"), "about": ("约", "about"), "at_least": ("不少于", "at least")}
    verdicts = {"consistent": ("一致", "consistent"), "differs": ("不一致", "differs"),
                "no data": ("无对应数据", "no data")}
    i = 0 if lang == "zh" else 1
    return pd.DataFrame({
        ("公开数据" if lang == "zh" else "Published"): [
            f"{_num(v, lang)} {u}" for v, u in zip(rec["published"], rec["unit"], strict=True)],
        ("限定" if lang == "zh" else "Qualifier"): [
            qual.get(str(q), (str(q), str(q)))[i] for q in rec["qualifier"]],
        ("本数据" if lang == "zh" else "This data"): [_num(v, lang) for v in rec["data"]],
        ("结论" if lang == "zh" else "Verdict"): [
            verdicts.get(str(v), (str(v), str(v)))[i] for v in rec["verdict"]],
        ("原文" if lang == "zh" else "Quote"): rec["quote"].to_numpy(),
    })


def reconciliation_sentence(rec: pd.DataFrame, lang: str = "zh") -> str:
    """How many published figures the data matches, differs from, or cannot check."""
    counts = rec["verdict"].astype(str).value_counts()
    n = {k: int(counts.get(k, 0)) for k in ("consistent", "differs", "no data")}
    if lang == "zh":
        return (f"文章公布的 {len(rec)} 项数字中，{n['consistent']} 项与数据一致，"
                f"{n['differs']} 项不一致，{n['no data']} 项在数据中没有对应口径。"
                "不一致之处见下表「结论」列与 docs/reference-data.md 的说明。")
    return (f"Of the {len(rec)} figures the article publishes, {n['consistent']} agree with the "
            f"data, {n['differs']} differ and {n['no data']} have no counterpart in the data. "
            "See the Verdict column and docs/reference-data.md.")


def timeline_table(events: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The programme's timeline (one row per district/street event), oldest first."""
    ev = events.drop_duplicates("title_zh").sort_values("date", na_position="last")
    fmt = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
    dates = [d.strftime(fmt.get(str(p), "%Y-%m-%d")) if pd.notna(d) else t("na", lang)
             for d, p in zip(ev["date"], ev["date_precision"], strict=True)]
    return pd.DataFrame({
        ("时间" if lang == "zh" else "Date"): dates,
        ("事件" if lang == "zh" else "Event"): ev["title_zh" if lang == "zh" else "title_en"].to_numpy(),
    })


def method_note(ev, lang: str = "zh") -> str:
    """A short method appendix reflecting the evaluation's actual settings."""
    s = ev.settings
    kept = int(ev.screening["kept"].sum()) if len(ev.screening) else 0
    if lang == "zh":
        return (
            f"综合指数按经合组织/欧盟联合研究中心《综合指标构建手册》的方法计算：{kept} 项指标"
            f"（五个维度）经覆盖率筛选和异常值处理后，按最小–最大法标准化为 0–100 分，"
            f"等权算术平均。不确定性分析进行 {esc(s.get('runs'))} 次蒙特卡洛模拟（随机种子 "
            f"{esc(s.get('seed'))}），同时改变标准化方法、权重（±25%）、汇总方法（算术/几何）、"
            f"异常值处理，并随机去掉一项指标；排名区间为模拟排名的 5%–95% 分位。"
            f"两个街道的先后只有在至少 90% 的模拟中成立时才称为稳健差异。详见 docs/method.md。"
        )
    return (
        f"The composite follows the OECD/JRC Handbook on Constructing Composite Indicators: "
        f"{kept} indicators in five dimensions, screened for coverage and treated for "
        f"outliers, min-max normalised to 0-100 and averaged with equal weights. The "
        f"uncertainty analysis runs {esc(s.get('runs'))} Monte Carlo simulations (seed "
        f"{esc(s.get('seed'))}) varying normalisation, weights (±25%), aggregation "
        f"(arithmetic/geometric), outlier treatment and one indicator dropped at random; the "
        f"rank interval spans the 5th to 95th percentile of simulated ranks. A difference "
        f"between two streets is called robust only if it holds in at least 90% of runs. "
        f"See docs/method.md."
    )


# --------------------------------------------------------------------------- chart data

#: One community-level measure per dimension: (label zh, label en, unit zh, function).
_COMMUNITY_MEASURES = {
    "D1": ("建立党支部的业委会占比", "Owners' committees with a party branch", "%"),
    "D2": ("每个网格户数", "Households per grid", "户"),
    "D3": ("议事协商会议", "Deliberation meetings", "次"),
    "D4": ("微公益项目", "Micro-charity projects", "个"),
    "D5": ("项目服务人次", "Person-times served by projects", "人次"),
}


def community_values(rep: StreetReport, dimension: str) -> pd.DataFrame:
    """One value per community of the street for a dimension's community-level measure.

    Returns
    -------
    DataFrame
        ``community_name`` and one value column named by the measure's label (with unit).
    """
    zh, en, unit = _COMMUNITY_MEASURES[dimension]
    c = rep.tables["communities"].set_index("community_code")
    if dimension == "D1":
        value = 100 * c["owners_committees_with_branch"] / c["owners_committees"].where(
            c["owners_committees"] > 0)
    elif dimension == "D2":
        value = c["households"] / c["grids"].where(c["grids"] > 0)
    elif dimension == "D3":
        value = rep.tables["deliberations"].groupby("community_code", observed=True).size()
    elif dimension == "D4":
        p = rep.tables["projects"]
        value = p[p["programme"] == "micro_charity"].groupby("community_code", observed=True).size()
    else:
        value = rep.tables["projects"].groupby("community_code", observed=True)["beneficiaries"].sum()
    value = pd.Series(value, dtype="float64").reindex(c.index.astype("string"))
    if dimension in ("D3", "D4", "D5"):
        value = value.fillna(0.0)
    column = f"{zh if rep.lang == 'zh' else en}（{unit}）" if rep.lang == "zh" else en
    return pd.DataFrame({"community_name": c["community_name"].astype("string").to_numpy(),
                         column: value.to_numpy()})


def headline_indicator(rep: StreetReport, dimension: str) -> str | None:
    """The first indicator of a dimension with data for the street (for the trend chart)."""
    ind = rep.indicators
    rows = ind[(ind["dimension"] == dimension) & (ind["street_code"] == rep.street_code)
               & ind["value"].notna()]
    return None if rows.empty else str(rows["indicator"].iloc[0])


def trend_data(rep: StreetReport, indicator: str) -> tuple[pd.DataFrame, str]:
    """Every street's value of one indicator over the years, and the value column's label."""
    ind = rep.indicators
    rows = ind[ind["indicator"] == indicator]
    first = rows.iloc[0]
    label = f"{first['label_zh']}（{first['unit']}）" if rep.lang == "zh" else (
        f"{first['label_en']} ({first['unit_en']})")
    data = rows[["street_code", "street_name", "year"]].copy()
    data[label] = rows["value"].to_numpy()
    return data.reset_index(drop=True), label


def resolution_data(rep: StreetReport) -> pd.DataFrame:
    """Days to resolve every grid case of the year: this street against the whole district."""
    g = dataset.load("grid_cases", rep.year, data_dir=rep.data_dir)
    days = (g["resolved_at"] - g["reported_at"]).dt.total_seconds() / 86400
    mine = (g["street_code"].astype("string") == rep.street_code).to_numpy(dtype=bool,
                                                                           na_value=False)
    this, district = t("this_street", rep.lang), t("district", rep.lang)
    return pd.concat([
        pd.DataFrame({"resolution_days": days[mine].to_numpy(), "group": this}),
        pd.DataFrame({"resolution_days": days.to_numpy(), "group": district}),
    ], ignore_index=True)


def money_data(rep: StreetReport) -> pd.DataFrame:
    """The street's projects of every year up to the report year (funds and reach)."""
    p = dataset.load("projects", data_dir=rep.data_dir)
    p = _street_rows(p, rep.street_code)
    return p[p["year"] <= rep.year].reset_index(drop=True)


# --------------------------------------------------------------------------- display


def this_street(lang: str) -> str:
    """The label of the street's own group in comparison charts (本街道)."""
    return t("this_street", lang)


#: What each chart shows, for the image's alt text: ``{x}`` and ``{y}`` are its axis labels.
FIGURE_ALT: dict[str, dict[str, str]] = {
    "profile": {"zh": "各维度得分与全区中位数及 ±1 个标准差范围的比较",
                "en": "Dimension scores against the district median and ±1 SD band"},
    "rank_intervals": {"zh": "各街道综合排名、排名中位数及 90% 区间",
                       "en": "Each street's rank, median rank and 90% interval"},
    "trend": {"zh": "{y}历年变化：本街道与全区范围和中位数",
              "en": "{y} over the years: this street against the district range and median"},
    "communities": {"zh": "辖内各社区的{x}", "en": "{x} of each community of the street"},
    "resolution_times": {"zh": "网格事件办结天数的累积分布：本街道与全区",
                         "en": "Share of grid cases resolved within a number of days: this "
                               "street against the district"},
    "money_reach": {"zh": "历年项目政府资金、社会资金与服务人次",
                    "en": "Government and social funds of projects by year, with person-times "
                          "served"},
}


def figure_alt(plot, ax, lang: str = "zh") -> str:
    """The alt text of a report chart: what ``plot`` shows, with its axis labels."""
    lang = check_lang(lang)
    name = getattr(plot, "__name__", "")
    x, y = ax.get_xlabel(), ax.get_ylabel()
    text = FIGURE_ALT.get(name, {}).get(lang)
    if text is None:
        text = "；".join(v for v in (ax.get_title(), y, x) if v) if lang == "zh" else (
            "; ".join(v for v in (ax.get_title(), y, x) if v))
    else:
        text = text.format(x=x, y=y)
    prefix = t("figure_alt", lang)
    return f"{prefix}：{text}" if lang == "zh" else f"{prefix}: {text}"


def figure(plot, data: pd.DataFrame, *, height: float = 3.6, alt: str | None = None,
           **kwargs):
    """Draw ``plot(data, ax=..., **kwargs)`` on a new figure, display it and close it.

    Each chart of a report gets its own figure, so that several charts in one cell do
    not draw over each other and no figure is left open.  The PNG carries its alt text
    (``alt``, default :func:`figure_alt`) in the output's metadata, where the HTML
    export finds it.

    Returns
    -------
    matplotlib.axes.Axes
        The drawn Axes (already displayed).
    """
    from IPython.display import Image, display
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import TightLayoutEngine

    # A bare Agg figure, not a pyplot one: nothing to close, no interactive-mode redraw
    # hooks, never shown a second time by the inline backend.
    fig = Figure(figsize=(6.4, height), dpi=100)  # laid out at the dpi it is saved at
    _canvas_class()(fig)
    ax = fig.add_subplot()
    plot(data, ax=ax, **kwargs)
    # tight layout applied once (fig.tight_layout() would leave a layout engine behind,
    # which makes savefig lay the figure out again in an extra draw)
    TightLayoutEngine(rect=None).execute(fig)  # as fig.tight_layout(): one pass
    text = alt if alt is not None else figure_alt(plot, ax, kwargs.get("lang", "zh"))
    display(Image(data=_png(fig), format="png", metadata={"alt": text}))
    return ax


_RENDERERS = threading.local()


@functools.lru_cache(maxsize=1)
def _canvas_class():
    from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg

    class ReportCanvas(FigureCanvasAgg):
        """An Agg canvas that draws with a renderer shared by the figures of its size.

        Matplotlib caches text metrics per renderer; a report's charts repeat most of
        their texts (the communities' names in five charts, tick labels, legends), so
        sharing the renderer (one per size and thread; it is cleared before each draw)
        spares measuring them again for every chart.
        """

        def get_renderer(self):
            w, h = self.get_width_height(physical=True)
            key = (w, h, self.figure.dpi)
            cache = getattr(_RENDERERS, "by_size", None)
            if cache is None:
                cache = _RENDERERS.by_size = {}
            renderer = cache.get(key)
            if renderer is None:
                while len(cache) >= 4:
                    cache.pop(next(iter(cache)))
                renderer = cache[key] = RendererAgg(w, h, self.figure.dpi)
            self.renderer = renderer
            return renderer

    return ReportCanvas


def _png(fig) -> bytes:
    """The figure as a PNG of at most 256 colours (dpi 100).

    A chart has a handful of colours plus their anti-aliased edges: a 256-colour palette
    looks the same, and the PNG is about a quarter of the size of a true-colour one (the
    report pages are read on phones) and quicker to encode.  The theme's colours, white
    and black are kept exact.  A figure with transparency is saved as true-colour PNG.
    """
    import io

    from PIL import Image

    fig.set_dpi(100)
    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", dpi=100)
    width, height = (int(v) for v in fig.bbox.size)  # as the Agg canvas sizes itself
    png = io.BytesIO()
    if len(raw.getbuffer()) != 4 * width * height:  # pragma: no cover - defensive
        fig.savefig(png, format="png", dpi=100)
        return png.getvalue()
    image = Image.frombuffer("RGBA", (width, height), raw.getbuffer(), "raw", "RGBA", 0, 1)
    if image.getextrema()[3][0] < 255:  # transparent somewhere: keep every colour
        image.save(png, format="png")
        return png.getvalue()
    quantized = image.convert("RGB").quantize(
        colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    )
    palette = np.array(quantized.getpalette() or [], dtype=np.int16).reshape(-1, 3)
    anchors = np.array(_exact_colours(), dtype=np.int16)
    # distance of every palette colour to every anchor colour (largest channel difference)
    dist = np.abs(palette[:, None, :] - anchors[None, :, :]).max(axis=2)
    near = dist.min(axis=1) <= 4
    palette[near] = anchors[dist.argmin(axis=1)[near]]
    quantized.putpalette(palette.astype(np.uint8).ravel().tolist())
    quantized.save(png, format="png")
    return png.getvalue()


def _exact_colours() -> list[list[int]]:
    """White, black, the theme's colours and the active text/axes/grid colours, as RGB."""
    import matplotlib as mpl
    from matplotlib.colors import to_rgb

    from .. import theme

    names = ["white", "black", theme.HIGHLIGHT, theme.NEUTRAL, theme.BAND, theme.MEDIAN,
             *theme.PALETTE]
    for key in ("text.color", "axes.labelcolor", "axes.edgecolor", "grid.color",
                "xtick.color", "ytick.color", "figure.facecolor", "axes.facecolor"):
        names.append(mpl.rcParams[key])
    out: list[list[int]] = []
    for name in names:
        try:
            rgb = [round(255 * c) for c in to_rgb(name)]
        except ValueError:
            continue
        if rgb not in out:
            out.append(rgb)
    return out


def data_note(rep: StreetReport) -> str:
    """Where the data comes from; says plainly when it is synthetic (示例数据)."""
    return PHRASES["synthetic_note" if rep.synthetic else "real_note"][rep.lang]


def top_projects(rep: StreetReport, programme: str, n: int = 5) -> pd.DataFrame:
    """The street's largest projects of one programme in the year (by person-times served).

    Titles and implementers are data: :func:`xzlib.report.html.table` escapes them.
    """
    p = rep.tables["projects"]
    p = p[p["programme"] == programme].sort_values(["beneficiaries", "gov_funds_wan"],
                                                   ascending=False, na_position="last")
    zh = rep.lang == "zh"
    return pd.DataFrame({
        ("项目名称" if zh else "Project"): p["title"].to_numpy(),
        ("承接单位" if zh else "Implementer"): p["implementer"].to_numpy(),
        ("社区" if zh else "Community"): p["community_name"].astype("string").to_numpy(),
        ("政府资金（万元）" if zh else "Government funds (10,000 yuan)"): p["gov_funds_wan"].to_numpy(),
        ("服务人次" if zh else "Person-times"): p["beneficiaries"].to_numpy(),
        ("评估得分" if zh else "Evaluation score"): p["eval_score"].to_numpy(),
    }).head(n)
