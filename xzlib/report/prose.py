"""What the reports say: headings and sentences, as Markdown with every data string escaped.

Every number comes from the report's context (:mod:`xzlib.report.contexts`), every fixed
text from :mod:`xzlib.i18n`, and every data string passes through
:func:`xzlib.report.html.esc` on its way in; each sentence says plainly when there is no data.
"""

from __future__ import annotations

from ..i18n import fmt_number, t
from .contexts import DistrictReport, StreetReport, dimension_label
from .html import esc

__all__ = [
    "heading",
    "headline",
    "strengths_sentences",
    "dimension_sentence",
    "similar_sentence",
    "robustness_sentence",
    "data_note",
    "district_summary",
    "reconciliation_sentence",
    "method_appendix",
    "coherence_summary",
]


class _Safe(str):
    """A string already escaped (composed from escaped parts)."""


def _f(value, lang: str, digits: int | None = None) -> str:
    return value if isinstance(value, str) else fmt_number(value, lang, digits=digits)


def _p(key: str, lang: str, **values) -> str:
    """Fill phrase ``prose.<key>``; values are formatted for readers and escaped."""
    return t(f"prose.{key}", lang, **{k: v if isinstance(v, _Safe) else esc(_f(v, lang))
                                      for k, v in values.items()})


def _join(items: list[str], lang: str) -> _Safe:
    return _Safe(("、" if lang == "zh" else ", ").join(esc(i) for i in items))


def _flag(flag: str, lang: str) -> str:
    return t(f"prose.dim_{flag}" if flag in ("above", "below") else "prose.dim_within", lang)


def heading(key: str, lang: str, level: int = 2) -> str:
    """A section heading (Markdown): ``section.<key>`` of :mod:`xzlib.i18n`, or a dimension id."""
    text = t(f"section.{key}", lang, default=t(key, lang, default=key))
    return f"{'#' * level} {esc(text)}"


def headline(rep: StreetReport) -> str:
    """The headline: score, rank k of N with the 90% interval, P(top 3), in one sentence."""
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


def dimension_sentence(rep: StreetReport, dimension: str) -> str:
    """One sentence on a dimension: score, district median, rank and the ±1 SD flag."""
    lang = rep.lang
    label = dimension_label(rep.evaluation, dimension, lang)
    d = next((d for d in rep.summary["dimensions"] if d["dimension"] == dimension), None)
    if d is None or d.get("score") is None:
        return _p("dimension_no_data", lang, dimension=label)
    n = int(rep.summary.get("n_ranked") or 0)
    return _p("dimension_sentence", lang, dimension=label, score=_f(d["score"], lang, 1),
              median=_f(d.get("district_median"), lang, 1), rank=d.get("rank"), n=n,
              flag=_flag(d.get("flag") or "", lang))


def similar_sentence(rep: StreetReport) -> str:
    """The most similar streets, in one sentence."""
    lang = rep.lang
    items = [s.get("similar_name") or s.get("similar_code") for s in rep.summary["similar"]]
    if not items:
        return t("prose.similar_none", lang)
    return _p("similar", lang, items=_join([str(i) for i in items], lang))


def robustness_sentence(rep: StreetReport) -> str:
    """Robust differences (>= 90% of runs) and the most influential assumption."""
    lang = rep.lang
    names = rep.evaluation.ranks.set_index("street_code")["street_name"]
    above = [names.get(c, c) for c in rep.summary["robustly_above"]]
    below = [names.get(c, c) for c in rep.summary["robustly_below"]]
    out = []
    if above:
        out.append(_p("robust_above", lang, items=_join(above, lang)))
    if below:
        out.append(_p("robust_below", lang, items=_join(below, lang)))
    if not out:
        out.append(t("prose.robust_none", lang))
    sens = [s for s in rep.summary["sensitivity"] if s.get("total") is not None]
    if sens:
        top = max(sens, key=lambda s: s["total"])
        name = top.get(f"label_{lang}") or top.get("assumption")
        out.append(_p("sensitivity", lang, name=str(name), value=_f(top["total"], lang, 2)))
    return " ".join(out)


def data_note(rep: StreetReport | DistrictReport) -> str:
    """Where the data comes from; says plainly when it is synthetic (示例数据)."""
    return t("prose.synthetic_note" if rep.synthetic else "prose.real_note", rep.lang)


def district_summary(rep: DistrictReport) -> str:
    """The district overview's opening: streets ranked, the leader and robust differences."""
    ev, lang = rep.evaluation, rep.lang
    r = ev.ranks[ev.ranks["ranked"]].sort_values("rank")
    if r.empty:
        return t("prose.district_none", lang)
    top = r.iloc[0]
    robust = ev.robust_pairs()
    leads = robust[robust["street_code"] == top["street_code"]]
    return _p("district_summary", lang, year=str(rep.year), n=len(r), street=top["street_name"],
              score=_f(top["score"], lang, 1), lo=int(top["rank_q05"]), hi=int(top["rank_q95"]),
              leads=len(leads), pairs=len(robust))


def reconciliation_sentence(rec, lang: str = "zh") -> str:
    """How many published figures the data matches, differs from, or cannot check."""
    counts = rec["verdict"].astype(str).value_counts()
    return _p("reconciliation", lang, n=len(rec), consistent=int(counts.get("consistent", 0)),
              differs=int(counts.get("differs", 0)), missing=int(counts.get("no data", 0)))


def coherence_summary(ev, lang: str = "zh") -> str:
    """One paragraph on the framework's statistical coherence (see
    :func:`xzlib.report.tables.coherence_table`): how many indicators correlate negatively
    or weakly with their dimension, how many dimensions have a low Cronbach's alpha."""
    tab = ev.coherence_table()
    ind = tab[tab["level"] == 1]
    flags = tab["flag"].fillna("").astype(str)
    return _p("coherence", lang, n=len(ind),
              neg=int(flags[tab["level"] == 1].str.contains("negative").sum()),
              weak=int(flags[tab["level"] == 1].str.contains("weak").sum()),
              low=int(flags[tab["level"] == 2].str.contains("low").sum()),
              units=int(ev.ranks["ranked"].sum()))


def method_appendix(ev, lang: str = "zh") -> str:
    """The method appendix, in the report itself, with the evaluation's actual settings.

    A reader holding one HTML file can read how the scores and intervals were made:
    the indicators and their treatment, the uncertainty analysis, how to read the ranks.
    """
    s = ev.settings
    kept = int(ev.screening["kept"].sum()) if len(ev.screening) else 0
    parts = [_p("method_steps", lang, kept=kept),
             _p("method_uncertainty", lang, runs=s.get("runs"), seed=s.get("seed")),
             t("prose.method_reading", lang)]
    return "\n\n".join(parts)
