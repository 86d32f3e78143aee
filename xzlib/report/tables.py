"""What the reports tabulate: DataFrames with readers' headers, for :func:`xzlib.report.html.table`.

Headers and fixed cell texts come from :mod:`xzlib.i18n`; data strings stay as they are
(the table renderer escapes every cell).  Integer quantities (ranks, counts) are integer
columns, so they never show as ``1.0``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..i18n import fmt_number, t
from .contexts import StreetReport, dimension_label

__all__ = [
    "dimension_overview",
    "dimension_indicators",
    "key_figures",
    "top_projects",
    "data_quality",
    "rank_table",
    "dimension_matrix",
    "reconciliation_table",
    "timeline_table",
    "coherence_table",
]


def _num(value, lang: str, digits: int = 2) -> str:
    """A number as text: whole numbers without decimals, others with ``digits``."""
    if value is None or pd.isna(value):
        return t("na", lang)
    value = float(value)
    whole = value.is_integer()
    return fmt_number(int(value) if whole else value, lang, digits=None if whole else digits)


def _rank(value, lang: str) -> str:
    """A rank (or a median rank) as readers write it: 3, or 3.5 -- never 3.0."""
    return _num(value, lang, digits=1)


def _flag(flag: str, lang: str) -> str:
    return t(f"prose.dim_{flag}" if flag in ("above", "below") else "prose.dim_within", lang)


def dimension_overview(rep: StreetReport) -> pd.DataFrame:
    """Dimension scores of the street against the district median, with ±1 SD flags."""
    lang = rep.lang
    rows = [{
        t("dimension", lang): dimension_label(rep.evaluation, d["dimension"], lang),
        t("score", lang): d.get("score"),
        t("district_median", lang): d.get("district_median"),
        t("rank", lang): pd.NA if d.get("rank") is None else int(d["rank"]),
        t("col.sd_flag", lang): _flag(d.get("flag") or "", lang),
    } for d in rep.summary["dimensions"]]
    df = pd.DataFrame(rows)
    if len(df):
        df[t("rank", lang)] = df[t("rank", lang)].astype("Int64")
    return df


def dimension_indicators(rep: StreetReport, dimension: str) -> pd.DataFrame:
    """The street's indicators of one dimension in natural units, against the district."""
    lang = rep.lang
    ind = rep.indicators
    rows = ind[(ind["year"] == rep.year) & (ind["dimension"] == dimension)
               & (ind["street_code"] == rep.street_code)]
    marks = {"better": "↑", "worse": "↓"}
    return pd.DataFrame({
        t("col.indicator", lang): rows["label_zh" if lang == "zh" else "label_en"].to_numpy(),
        t("col.unit", lang): rows["unit" if lang == "zh" else "unit_en"].to_numpy(),
        t("this_street", lang): rows["value"].to_numpy(),
        t("district_median", lang): rows["district_median"].to_numpy(),
        t("rank", lang): [f"{_rank(r, lang)}/{n}" if pd.notna(r) else t("na", lang)
                          for r, n in zip(rows["rank"], rows["n_streets"], strict=True)],
        t("col.sd_flag", lang): [marks.get(a, "") for a in rows["assessment"]],
    })


def key_figures(rep: StreetReport) -> pd.DataFrame:
    """Key figures of the street for the year, in natural units."""
    lang = rep.lang
    tb = rep.tables
    c, p, d, g = tb["communities"], tb["projects"], tb["deliberations"], tb["grid_cases"]
    days = (g["resolved_at"] - g["reported_at"]).dt.total_seconds() / 86400
    figs = [
        ("n_communities", len(c), "个"),
        ("population", c["population"].sum(), "人"),
        ("grids", c["grids"].sum(), "个"),
        ("grid_members", c["grid_members"].sum(), "人"),
        ("cases", len(g), "件"),
        ("median_days", days.median() if len(g) else np.nan, "天"),
        ("meetings", len(d), "次"),
        ("projects", len(p), "个"),
        ("gov_funds", p["gov_funds_wan"].sum(), "万元"),
        ("social_funds", p["social_funds_wan"].sum(), "万元"),
        ("reach", p["beneficiaries"].sum(), "人次"),
    ]
    return pd.DataFrame({
        t("col.figure", lang): [t(f"fig.{k}", lang) for k, _, _ in figs],
        t("col.value", lang): [_num(v, lang, 1) for _, v, _ in figs],
        t("col.unit", lang): [t(f"unit.{u}", lang) for _, _, u in figs],
    })


def top_projects(rep: StreetReport, programme: str, n: int = 5) -> pd.DataFrame:
    """The street's largest projects of one programme in the year (by person-times served)."""
    lang = rep.lang
    p = rep.tables["projects"]
    p = p[p["programme"] == programme].sort_values(["beneficiaries", "gov_funds_wan"],
                                                   ascending=False, na_position="last")
    return pd.DataFrame({
        t("col.project", lang): p["title"].to_numpy(),
        t("col.implementer", lang): p["implementer"].to_numpy(),
        t("col.community", lang): p["community_name"].astype("string").to_numpy(),
        t("col.gov_funds", lang): p["gov_funds_wan"].to_numpy(),
        t("col.person_times", lang): p["beneficiaries"].to_numpy(),
        t("col.eval_score", lang): p["eval_score"].to_numpy(),
    }).head(n)


def data_quality(rep: StreetReport) -> pd.DataFrame:
    """Coverage of the street's data: rows per table and the share of missing values."""
    from ..schemas import get_schema

    lang = rep.lang
    rows = []
    for name, df in rep.tables.items():
        schema = get_schema(name)
        optional = [c.name for c in schema.columns if c.nullable]
        missing = float(df[optional].isna().to_numpy().mean()) if len(df) and optional else 0.0
        rows.append({
            t("col.table", lang): schema.zh if lang == "zh" else name,
            t("col.rows", lang): len(df),
            t("col.missing", lang): f"{missing:.1%}",
        })
    return pd.DataFrame(rows)


def rank_table(ev, lang: str = "zh") -> pd.DataFrame:
    """All streets with score, nominal rank, median rank, 90% interval and P(top 3), best first.

    Ranks are integers (``Int64``) and median ranks texts such as ``3`` or ``3.5``, so no
    rank shows as ``1.0`` whatever the table's ``digits``.
    """
    r = ev.ranks.sort_values(["ranked", "rank"], ascending=[False, True])
    return pd.DataFrame({
        t("street", lang): r["street_name"].to_numpy(),
        t("composite", lang): r["score"].to_numpy(),
        t("rank_nominal", lang): pd.array(r["rank"].astype("Int64")),
        t("rank_median", lang): [_rank(v, lang) for v in r["rank_median"]],
        t("rank_interval", lang): [
            f"{int(a)}–{int(b)}" if pd.notna(a) else t("na", lang)
            for a, b in zip(r["rank_q05"], r["rank_q95"], strict=True)],
        t("col.p_top3", lang): [f"{p:.0%}" if pd.notna(p) else t("na", lang) for p in r["p_top3"]],
    })


def dimension_matrix(ev, lang: str = "zh") -> pd.DataFrame:
    """Streets x dimensions: nominal dimension scores (0-100), best composite first."""
    wide = ev.dimensions.pivot(index="street_code", columns="dimension", values="score")
    wide.columns = [dimension_label(ev, d, lang) for d in wide.columns]
    order = ev.ranks.sort_values(["ranked", "rank"], ascending=[False, True])
    wide = wide.reindex(order["street_code"])
    wide.insert(0, t("street", lang), order["street_name"].to_numpy())
    return wide.reset_index(drop=True)


def reconciliation_table(rec: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Published figures against the data (see :func:`xzlib.reconcile`), for display.

    The quote stays verbatim; qualifiers read 精确/约/不少于 (exact/about/at least).
    """
    def word(kind, value):
        return t(f"{kind}.{value}", lang, default=str(value))

    return pd.DataFrame({
        t("col.published", lang): [f"{_num(v, lang)} {u}"
                                   for v, u in zip(rec["published"], rec["unit"], strict=True)],
        t("col.qualifier", lang): [word("qualifier", q) for q in rec["qualifier"]],
        t("col.this_data", lang): [_num(v, lang) for v in rec["data"]],
        t("col.verdict", lang): [word("verdict", v) for v in rec["verdict"]],
        t("col.quote", lang): rec["quote"].to_numpy(),
    })


def timeline_table(events: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The programme's timeline (one row per district/street event), oldest first."""
    ev = events.drop_duplicates("title_zh").sort_values("date", na_position="last")
    fmt = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
    dates = [d.strftime(fmt.get(str(p), "%Y-%m-%d")) if pd.notna(d) else t("na", lang)
             for d, p in zip(ev["date"], ev["date_precision"], strict=True)]
    return pd.DataFrame({
        t("col.date", lang): dates,
        t("col.event", lang): ev["title_zh" if lang == "zh" else "title_en"].to_numpy(),
    })


def coherence_table(ev, lang: str = "zh") -> pd.DataFrame | None:
    """The framework's statistical coherence, the Handbook's audit step (else ``None``).

    One row per dimension, followed by its indicators (indented): the Pearson
    correlation with its parent (the dimension, or the index for a dimension) and with
    the index over the ranked streets, Cronbach's alpha of each dimension's indicators,
    and what is flagged (negative or weak correlation with the parent, low alpha), in
    readers' words.  ``None`` when the evaluation has no coherence table (too few
    streets ranked).
    """
    tab = ev.coherence_table()
    if not len(tab):
        return None
    label = tab["label_zh" if lang == "zh" else "label_en"].astype(str)
    indent = np.where(tab["level"].to_numpy() == 1, "\u3000", "")

    def flags(value) -> str:
        parts = [t(f"coherence.{f}", lang) for f in str(value or "").split(";") if f]
        return ("；" if lang == "zh" else "; ").join(parts)

    def alpha(value, level) -> str:
        return "" if level == 1 else _num(value, lang)

    return pd.DataFrame({
        t("col.item", lang): [i + n for i, n in zip(indent, label, strict=True)],
        t("col.corr_parent", lang): [_num(v, lang) for v in tab["corr_parent"]],
        t("col.corr_index", lang): [_num(v, lang) for v in tab["corr_index"]],
        t("col.alpha", lang): [alpha(v, lv) for v, lv in zip(tab["alpha"], tab["level"],
                                                             strict=True)],
        t("col.flag", lang): [flags(f) for f in tab["flag"]],
    })
