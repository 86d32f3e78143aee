"""What a report says, tabulates and draws (xzlib.report.contexts, prose, tables, figures).

Parameters are checked, sentences adapt to the data and escape it, integer ranks read as
integers, charts are drawn deterministically with their alt text.
"""

from __future__ import annotations

import html

import pandas as pd
import pytest

from xzlib.errors import UsageError
from xzlib.report import contexts, figures, prose, tables


def test_check_params_lists_valid_codes_for_the_year():
    with pytest.raises(UsageError) as info:
        contexts.check_params("440402009", 2018, "zh")  # 凤山街道 did not exist in 2018
    assert "440402003 前山街道" in str(info.value)
    assert contexts.check_params(" 440402009 ", 2021, "en") == ("440402009", 2021, "en")
    with pytest.raises(UsageError, match="lang"):
        contexts.check_params("440402001", 2018, "fr")
    with pytest.raises(UsageError, match="year"):
        contexts.check_params("440402001", "last year", "zh")


@pytest.fixture(scope="module")
def rep(sample_data):
    return contexts.street_report("440402001", 2018, data_dir=sample_data / "processed")


def test_headline_uses_the_evaluation(rep):
    s = rep.summary
    text = html.unescape(prose.headline(rep))
    assert f"**{s['rank']}/{s['n_ranked']}**" in text
    assert f"{int(s['rank_interval'][0])}–{int(s['rank_interval'][1])}" in text
    assert "2018 年" in text and "2,018" not in text


def test_unranked_street_is_said_plainly(rep):
    unranked = contexts.StreetReport(**{**rep.__dict__, "summary": {
        **rep.summary, "ranked": False, "note": "data on 5 of 19 indicators"}})
    text = html.unescape(prose.headline(unranked))
    assert "不足以参与排名" in text and "data on 5 of 19 indicators" in text


def test_dimension_without_data_says_so(rep):
    dims = [d for d in rep.summary["dimensions"] if d["dimension"] != "D3"]
    other = contexts.StreetReport(**{**rep.__dict__, "summary": {**rep.summary, "dimensions": dims}})
    assert "没有可用数据" in prose.dimension_sentence(other, "D3")


def test_data_strings_are_escaped(rep):
    evil = "<b>x</b>"
    summary = {**rep.summary, "similar": [{"similar_name": evil, "similar_code": "1"}]}
    text = prose.similar_sentence(contexts.StreetReport(**{**rep.__dict__, "summary": summary}))
    assert "<b>" not in text and html.unescape(text).count(evil) == 1


def test_reconciliation_sentence_counts_verdicts():
    rec = pd.DataFrame({"verdict": ["consistent", "consistent", "differs", "no data"]})
    assert prose.reconciliation_sentence(rec, "en").startswith(
        "Of the 4 figures the article publishes, 2 agree with the data, 1 differ and 1 have")


def test_key_figures_match_the_tables(rep):
    figs = tables.key_figures(rep).set_index("项目")["数值"]
    assert figs["社区数"] == str(len(rep.tables["communities"]))
    gov = rep.tables["projects"]["gov_funds_wan"].sum()
    expected = f"{int(gov):,}" if float(gov).is_integer() else f"{gov:,.1f}"
    assert figs["政府资金"] == expected


def test_integer_ranks_never_read_as_floats(rep):
    """The district table's ranks (issue 12, item 5): 3, not 3.0, whatever ``digits``."""
    from xzlib.report.html import table_html

    ranks = tables.rank_table(rep.evaluation, "zh")
    page = table_html(ranks, lang="zh", digits=1)
    nominal = ranks["名义排名"].dropna()
    assert pd.api.types.is_integer_dtype(nominal)
    for value in nominal:
        assert f">{int(value)}<" in page and f">{int(value)}.0<" not in page
    assert not any(str(v).endswith(".0") for v in ranks["排名中位数"])
    ind = tables.dimension_indicators(rep, "D2")
    assert not any(".0/" in str(v) for v in ind["排名"])


def test_method_appendix_is_in_the_report_not_a_link(rep):
    text = prose.method_appendix(rep.evaluation, "zh")
    assert "docs/method.md" not in text and "蒙特卡洛" in text
    assert str(rep.evaluation.settings["runs"]) in html.unescape(text).replace(",", "")
    assert "docs/" not in prose.method_appendix(rep.evaluation, "en")


def test_figures_are_svg_with_text_deterministic_and_described(rep, monkeypatch):
    """figure(): text kept as text, no date, the same bytes twice, alt text with the
    title; the ECDF of every grid case stays a (palette) PNG."""
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    from xzlib import plots, theme

    shown = []
    monkeypatch.setattr("IPython.display.display",
                        lambda obj, **kw: shown.append((obj, kw.get("metadata"))))
    with theme.theme():
        values = figures.community_values(rep, "D2")
        title = figures.community_title(rep, "D2")
        for _ in range(2):
            figures.figure(plots.communities, values, value=values.columns[1], lang="zh",
                           title=title)
        data, label = figures.trend_data(rep, figures.headline_indicator(rep, "D2"))
        figures.figure(plots.trend, data, y=label, street=rep.street_code, lang="en")
        figures.figure(plots.resolution_times, figures.resolution_data(rep), hue="group",
                       highlight=figures.this_street("zh"), log=True, lang="zh")
    assert plt.get_fignums() == []
    (bars, meta), (again, _), (trend, tmeta), (ecdf, emeta) = shown
    svg = bars["image/svg+xml"]
    assert again["image/svg+xml"] == svg  # deterministic
    assert "<dc:date" not in svg and "<text" in svg
    name = str(values["community_name"].iloc[0])
    assert name in svg  # community names are text, not glyph outlines
    assert meta["image/svg+xml"]["alt"].startswith(f"图表：{title}")
    assert tmeta["image/svg+xml"]["alt"].startswith("Chart: ") and label in tmeta[
        "image/svg+xml"]["alt"]
    image = Image.open(io.BytesIO(ecdf.data))
    assert image.format == "PNG" and image.mode == "P" and image.size[0] == 640
    assert ecdf.metadata["alt"].startswith("图表：")


def test_communities_chart_has_a_title(rep):
    assert rep.street_name in figures.community_title(rep, "D3")
    assert "议事协商" in figures.community_title(rep, "D3")


def test_coherence_table_and_summary_follow_the_evaluation(rep):
    ev = rep.evaluation
    raw = ev.coherence_table()
    for lang in ("zh", "en"):
        tab = tables.coherence_table(ev, lang)
        assert len(tab) == len(raw)
        names = tab.iloc[:, 0].tolist()
        # indicators are indented under their dimension; labels are the framework's
        ind = (raw["level"] == 1).to_numpy()
        assert all(n.startswith("\u3000") for n, i in zip(names, ind, strict=True) if i)
        assert not any(n.startswith("\u3000") for n, i in zip(names, ind, strict=True) if not i)
        assert names[0] == raw["label_zh" if lang == "zh" else "label_en"].iloc[0]
        # correlations as written numbers, alpha only on dimension rows
        first = raw.iloc[0]
        assert tab.iloc[0, 1] == f"{first['corr_parent']:.2f}"
        assert (tab.iloc[:, 3][ind] == "").all()
        # flags in readers' words, one per raw flag
        n_flags = raw["flag"].fillna("").map(lambda f: len([x for x in f.split(";") if x]))
        sep = "；" if lang == "zh" else "; "
        written = [len(f.split(sep)) if f else 0 for f in tab.iloc[:, 4]]
        assert written == n_flags.tolist()
    text = prose.coherence_summary(ev, "en")
    neg = int(raw.loc[raw["level"] == 1, "flag"].fillna("").str.contains("negative").sum())
    assert f"Of {int(ind.sum())} indicators, {neg} correlate negatively" in text


@pytest.mark.parametrize("chart", ["resolution_times", "money_reach"])  # the matplotlib charts
def test_static_axes_draw_the_same_pixels_as_ticks(rep, monkeypatch, chart):
    """figure() replaces the value axes' ticks by texts and one grid collection: the
    chart renders to the same pixels as with matplotlib's ticks (a symlog axis included),
    and the tick labels are still texts in the SVG."""
    import io

    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    from xzlib import plots, theme

    args = {
        "resolution_times": (plots.resolution_times, figures.resolution_data(rep),
                             {"hue": "group", "highlight": figures.this_street("zh"),
                              "log": True}),
        "money_reach": (plots.money_reach, figures.money_data(rep), {}),
    }[chart]
    plot, frame, kwargs = args
    drawn, svgs = [], []
    real_save = figures._save

    def save(fig, fmt):
        FigureCanvasAgg(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        drawn.append((np.asarray(Image.open(buf).convert("RGB")), fig.axes[0]))
        svgs.append(real_save(fig, "svg").decode())
        return real_save(fig, fmt)

    monkeypatch.setattr(figures, "_save", save)
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: None)
    real_static = figures._static_axes
    with theme.theme():
        monkeypatch.setattr(figures, "_static_axes", lambda ax: None)
        figures.figure(plot, frame, lang="zh", **kwargs)
        monkeypatch.setattr(figures, "_static_axes", real_static)
        figures.figure(plot, frame, lang="zh", **kwargs)
    (ticks, ax_ticks), (static, ax_static) = drawn
    assert len(ax_ticks.get_xticks()) > 1  # matplotlib's ticks the first time...
    assert len(ax_static.get_xticks()) == 0 and len(ax_static.get_yticks()) == 0  # ...not now
    assert ticks.shape == static.shape
    assert np.abs(ticks.astype(int) - static.astype(int)).max() <= 2
    labels = [t.get_text() for t in ax_ticks.get_xticklabels() if t.get_text()]
    assert labels and all(f">{text}<" in svgs[1] for text in labels)
