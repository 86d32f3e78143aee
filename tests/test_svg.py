"""The report charts written as SVG markup (xzlib.report.svg), checked against the data
and against the matplotlib charts of xzlib.plots that they stand in for."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from xzlib import plots, theme
from xzlib.errors import UsageError
from xzlib.i18n import fmt_number
from xzlib.report import svg

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # raises on markup that is not well-formed XML


def texts(root) -> list[tuple[float, float, str, dict]]:
    return [(float(e.get("x")), float(e.get("y")), e.text or "", e.attrib)
            for e in root.iterfind(".//s:text", NS)]


def bars(root, colors) -> list[tuple[float, float, float, str]]:
    """(x, y, width, fill) of the rectangles drawn in ``colors`` (the bars)."""
    return [(float(e.get("x")), float(e.get("y")), float(e.get("width")), e.get("fill"))
            for e in root.iterfind(".//s:rect", NS) if e.get("fill") in colors]


@pytest.fixture(autouse=True)
def house_theme():
    with theme.theme():
        yield


COMMUNITIES = pd.DataFrame({
    "community_name": ["甲社区", "乙社区", "丙社区", "丁社区", "戊社区"],
    "v": [12.0, 40.0, np.nan, 7.5, 40.0],
})


def test_communities_bars_are_proportional_sorted_and_labelled():
    chart = svg.communities(COMMUNITIES, value="v", highlight="丁社区", title="标题")
    root = parse(chart.markup)
    drawn = bars(root, {theme.PALETTE[0], theme.HIGHLIGHT})
    # four bars (the missing value has none), top to bottom largest first, ties stable
    assert len(drawn) == 4
    assert [b[1] for b in drawn] == sorted(b[1] for b in drawn)
    widths = np.array([b[2] for b in drawn])
    expected = np.array([40.0, 40.0, 12.0, 7.5])
    assert np.allclose(widths / widths[0], expected / expected[0], rtol=1e-3)
    assert [b[3] for b in drawn].count(theme.HIGHLIGHT) == 1 and drawn[3][3] == theme.HIGHLIGHT
    labels = [t for t in texts(root) if t[3].get("text-anchor") == "end"]
    assert [t[2] for t in labels] == ["乙社区", "戊社区", "甲社区", "丁社区", "丙社区"]
    values = [t[2] for t in texts(root) if t[3].get("paint-order") == "stroke"]
    assert values == [fmt_number(v, "zh") for v in (40.0, 40.0, 12.0, 7.5)] + ["—"]
    # every bar starts at the axis and the median of the shown values is the dashed line
    x0 = drawn[0][0]
    assert all(b[0] == pytest.approx(x0) for b in drawn)
    dashed = [e for e in root.iterfind(".//s:polyline", NS) if e.get("stroke-dasharray")]
    median_x = float(dashed[0].get("points").split()[0].split(",")[0])
    per_unit = widths[0] / 40.0
    assert median_x == pytest.approx(x0 + per_unit * np.nanmedian(COMMUNITIES["v"]), abs=0.02)
    assert chart.title == "标题" and chart.xlabel == "v" and chart.ylabel == ""
    assert "标题" in [t[2] for t in texts(root)]


def test_communities_same_order_and_labels_as_the_matplotlib_chart():
    fig, ax = plt.subplots()
    try:
        plots.communities(COMMUNITIES, value="v", lang="en", ax=ax)
        mpl_rows = [t.get_text() for t in plots.row_labels(ax)]
        mpl_values = [t.get_text() for t in ax.texts if t not in plots.row_labels(ax)]
        mpl_widths = [p.get_width() for p in ax.patches if p.get_width() > 0]
    finally:
        plt.close(fig)
    root = parse(svg.communities(COMMUNITIES, value="v", lang="en").markup)
    assert [t[2] for t in texts(root) if t[3].get("text-anchor") == "end"] == mpl_rows
    assert [t[2] for t in texts(root) if t[3].get("paint-order") == "stroke"] == mpl_values
    widths = [b[2] for b in bars(root, {theme.PALETTE[0]})]
    # coordinates are written to 0.01 pt
    assert np.allclose(np.array(widths) / widths[0], np.array(mpl_widths) / mpl_widths[0],
                       rtol=1e-3)


HOSTILE = ['<script>alert(1)</script>', 'A & B "社区"', "bell\x07社区", "]]><x/>"]


def test_data_strings_are_escaped_and_the_markup_stays_well_formed():
    data = pd.DataFrame({"community_name": HOSTILE, "v": [1.0, 2.0, 3.0, 4.0]})
    chart = svg.communities(data, value="v", title=HOSTILE[0])
    root = parse(chart.markup)
    assert root.find(".//s:script", NS) is None and root.find(".//s:x", NS) is None
    shown = {t[2] for t in texts(root)}
    assert {HOSTILE[0], HOSTILE[1], "bell\ufffd社区", HOSTILE[3]} <= shown
    street = pd.DataFrame({"street_code": ["1", "1", "2", "2"],
                           "street_name": [HOSTILE[0]] * 2 + ["乙"] * 2,
                           "year": [2017, 2018, 2017, 2018], "y": [1.0, 2.0, 3.0, 4.0]})
    root = parse(svg.trend(street, y="y", street="1").markup)
    assert root.find(".//s:script", NS) is None
    assert HOSTILE[0] in {t[2] for t in texts(root)}


def trend_data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = [{"street_code": f"44040200{i}", "street_name": f"街道{i}", "year": y,
             "score": float(rng.uniform(10, 90))} for i in range(1, 6) for y in range(2013, 2019)]
    data = pd.DataFrame(rows)
    data.loc[(data["street_code"] == "440402002") & (data["year"] == 2015), "score"] = np.nan
    return data


def _axis(root, anchor):
    """Tick texts of one axis: (position, value) pairs."""
    out = []
    for x, y, text, attrib in texts(root):
        if (attrib.get("text-anchor") == anchor and "transform" not in attrib
                and attrib.get("fill") != theme.HIGHLIGHT):  # not a value written on a mark
            try:
                value = float(text.replace(",", "").replace("\u2212", "-"))
            except ValueError:
                continue
            out.append((x if anchor == "middle" else y, value))
    return out


def test_trend_ticks_are_matplotlibs_and_the_lines_are_the_data():
    data = trend_data()
    street = "440402002"
    chart = svg.trend(data, y="score", street=street, lang="zh")
    root = parse(chart.markup)
    yticks, xticks = _axis(root, "end"), _axis(root, "middle")
    # the ticks matplotlib picks for plots.trend on axes of the same size and place
    face = list(root.iterfind(".//s:rect", NS))[1]  # after the background
    x, y, w, h = (float(face.get(k)) for k in ("x", "y", "width", "height"))
    fig = plt.figure(figsize=(6.4, 3.6))
    fig.subplots_adjust(left=x / 460.8, right=(x + w) / 460.8, top=1 - y / 259.2,
                        bottom=1 - (y + h) / 259.2)
    ax = fig.add_subplot()
    try:
        plots.trend(data, y="score", street=street, ax=ax)
        lo, hi = ax.get_ylim()
        mpl_y = [v for v in ax.get_yticks() if lo <= v <= hi]
        xlo, xhi = ax.get_xlim()
        mpl_x = [v for v in ax.get_xticks() if xlo <= v <= xhi]
    finally:
        plt.close(fig)
    assert [v for _, v in yticks] == pytest.approx(mpl_y)
    assert [v for _, v in xticks] == pytest.approx(mpl_x)
    # the value scale from the tick labels' positions, then the street's line read back
    ypos, yval = np.array([p for p, _ in yticks]), np.array([v for _, v in yticks])
    slope, offset = np.polyfit(yval, ypos - 0.36 * 11, 1)  # baselines sit 0.36 em below
    xpos, xval = np.array([p for p, _ in xticks]), np.array([v for _, v in xticks])
    xslope, xoffset = np.polyfit(xval, xpos, 1)
    lines = [e for e in root.iterfind(".//s:polyline", NS) if e.get("stroke") == theme.HIGHLIGHT
             and e.get("stroke-width") == "2.2"]
    points = [tuple(map(float, p.split(","))) for ln in lines[:-1] for p in ln.get("points").split()]
    own = data[data["street_code"] == street].dropna()
    assert len(lines) == 3  # two runs around the missing year, and the legend's handle
    assert [round((px - xoffset) / xslope) for px, _ in points] == own["year"].tolist()
    assert [(py - offset) / slope for _, py in points] == pytest.approx(
        own["score"].tolist(), abs=0.05)
    # the district band spans every street's min and max of each year
    band = data.groupby("year")["score"].agg(["min", "max"])
    poly = [e for e in root.iterfind(".//s:polygon", NS)][0]
    corners = [tuple(map(float, p.split(","))) for p in poly.get("points").split()]
    n = len(band)
    assert [(py - offset) / slope for _, py in corners[:n]] == pytest.approx(
        band["max"].tolist(), abs=0.05)
    assert [(py - offset) / slope for _, py in corners[n:]][::-1] == pytest.approx(
        band["min"].tolist(), abs=0.05)
    legend = {t[2] for t in texts(root)}
    assert {"街道2", "区中位数"} <= legend
    assert chart.xlabel == "年份" and chart.ylabel == "得分"  # i18n labels, as plots.trend


def test_charts_are_deterministic_and_follow_the_theme():
    data = trend_data()
    first = svg.trend(data, y="score", street="440402001").markup
    assert svg.trend(data, y="score", street="440402001").markup == first
    with theme.theme(rc={"ytick.labelsize": 15}):
        bigger = svg.trend(data, y="score", street="440402001").markup
    sizes = {e.get("font-size") for e in parse(bigger).iterfind(".//s:text", NS)}
    assert "15" in sizes and "15" not in {
        e.get("font-size") for e in parse(first).iterfind(".//s:text", NS)}
    family = parse(first).find("s:g", NS).get("font-family")
    assert theme.cjk_family() in family and family.endswith("sans-serif")


def test_same_errors_as_the_plot_functions():
    with pytest.raises(UsageError, match="highlight"):
        svg.communities(COMMUNITIES, value="v", highlight="无此社区")
    with pytest.raises(UsageError, match="no column"):
        svg.communities(COMMUNITIES, value="missing")
    with pytest.raises(UsageError, match="street"):
        svg.trend(trend_data(), y="score", street="999")


def test_edge_cases_draw_without_error():
    empty = svg.communities(pd.DataFrame({"community_name": ["甲"], "v": [np.nan]}), value="v")
    assert bars(parse(empty.markup), {theme.PALETTE[0]}) == []
    one_year = pd.DataFrame({"street_code": ["1", "2"], "year": [2018, 2018], "y": [5.0, 5.0]})
    root = parse(svg.trend(one_year, y="y", street="1").markup)
    assert all(math.isfinite(float(e.get("cx"))) for e in root.iterfind(".//s:circle", NS))


@pytest.mark.parametrize(("step", "value", "text"), [
    (2.5, 5.0, "5.0"), (2.5, 7.5, "7.5"), (0.25, 0.5, "0.50"), (200.0, 1000.0, "1,000"),
    (0.1, 0.30000000000000004, "0.3"), (1.0, -3.0, "\u22123"),
])
def test_tick_labels_have_the_decimals_of_their_step(step, value, text):
    assert svg._tick_text(value, step, "zh") == text


def _scale(root):
    """x of a value, from the x tick labels' positions (a straight line through them)."""
    ticks = _axis(root, "middle")
    slope, offset = np.polyfit([v for _, v in ticks], [p for p, _ in ticks], 1)
    return lambda v: slope * v + offset


def _mpl(plot, data, root, **kwargs):
    """``plot`` drawn by matplotlib on axes of the size and place of the SVG chart's."""
    face = list(root.iterfind(".//s:rect", NS))[1]
    x, y, w, h = (float(face.get(k)) for k in ("x", "y", "width", "height"))
    fig = plt.figure(figsize=(6.4, 3.6))
    fig.subplots_adjust(left=x / 460.8, right=(x + w) / 460.8, top=1 - y / 259.2,
                        bottom=1 - (y + h) / 259.2)
    ax = fig.add_subplot()
    plot(data, ax=ax, **kwargs)
    lo, hi = ax.get_xlim()
    out = {"rows": [t.get_text() for t in plots.row_labels(ax)],
           "xticks": [v for v in ax.get_xticks() if lo - 1e-9 <= v <= hi + 1e-9],
           "texts": [t.get_text() for t in ax.texts if t not in plots.row_labels(ax)],
           "legend": [t.get_text() for t in ax.get_legend().get_texts()]}
    plt.close(fig)
    return out


def profile_data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame([{"street_code": f"44040200{i}", "street_name": f"街道{i}",
                          "dimension": d, "score": float(rng.uniform(0, 100))}
                         for i in range(1, 8) for d in ("D1", "D2", "D3", "D4", "D5")])


def test_profile_marks_are_the_scores_median_and_sd():
    data = profile_data()
    street = "440402004"
    root = parse(svg.profile(data, street=street).markup)
    ref = _mpl(plots.profile, data, root, street=street)
    sx = _scale(root)
    assert [v for _, v in _axis(root, "middle")] == pytest.approx(ref["xticks"])
    rows = [t[2] for t in texts(root) if t[3].get("text-anchor") == "end"]
    assert rows == ref["rows"]
    stats = data.groupby("dimension")["score"].agg(["median", "std"])
    mine = data[data["street_code"] == street].set_index("dimension")["score"]
    dots = [float(e.get("cx")) for e in root.iterfind(".//s:circle", NS)][:-1]  # not the legend's
    assert dots == pytest.approx([sx(v) for v in mine], abs=0.05)
    band = [b for b in bars(root, {theme.BAND})][:-1]
    assert [b[0] for b in band] == pytest.approx([sx(m - s) for m, s in stats.to_numpy()],
                                                 abs=0.05)
    assert [b[0] + b[2] for b in band] == pytest.approx(
        [sx(m + s) for m, s in stats.to_numpy()], abs=0.05)
    # the scores as written above the dots, flags included, and the legend: matplotlib's
    shown = [t[2] for t in texts(root) if t[3].get("fill") == theme.HIGHLIGHT]
    assert shown == ref["texts"]
    assert ref["legend"] == [t[2] for t in texts(root)][-3:]  # the same entries, in order


def test_rank_intervals_rows_dots_and_intervals():
    rng = np.random.default_rng(2)
    n = 9
    ranks = pd.DataFrame({"street_code": [f"4404020{i:02d}" for i in range(n)],
                          "street_name": [f"街道{i}" for i in range(n)],
                          "rank": rng.permutation(np.arange(1, n + 1)).astype(float)})
    ranks["rank_median"] = ranks["rank"]
    ranks["rank_q05"] = (ranks["rank"] - 1).clip(lower=1)
    ranks["rank_q95"] = (ranks["rank"] + 2).clip(upper=n)
    code = ranks["street_code"].iloc[4]
    root = parse(svg.rank_intervals(ranks, highlight=code).markup)
    ref = _mpl(plots.rank_intervals, ranks, root, highlight=code)
    sx = _scale(root)
    assert [v for _, v in _axis(root, "middle")] == pytest.approx(ref["xticks"])
    rows = [t for t in texts(root) if t[3].get("text-anchor") == "end"]
    assert [t[2] for t in rows] == ref["rows"]
    assert [t[3]["fill"] == theme.HIGHLIGHT for t in rows] == [
        r == ranks.loc[4, "street_name"] for r in ref["rows"]]
    ordered = ranks.sort_values("rank")
    fills = {e.get("fill") for e in root.iterfind(".//s:circle", NS)} - {"#ffffff"}
    dots = [float(e.get("cx")) for e in root.iterfind(".//s:circle", NS)
            if e.get("fill") in fills][:-1]
    assert dots == pytest.approx([sx(v) for v in ordered["rank"]], abs=0.05)
    tinted = {svg._rgba(theme.NEUTRAL, 0.45), svg._rgba(theme.HIGHLIGHT, 0.45)}
    intervals = bars(root, tinted)[:-1]
    assert [b[0] for b in intervals] == pytest.approx([sx(v - 0.5) for v in ordered["rank_q05"]],
                                                      abs=0.05)
    assert [b[0] + b[2] for b in intervals] == pytest.approx(
        [sx(v + 0.5) for v in ordered["rank_q95"]], abs=0.05)
    assert ref["legend"] == [t[2] for t in texts(root)][-3:]


def test_profile_on_the_score_scale_spans_0_to_100():
    data = profile_data()
    data["score"] = 40 + data["score"] / 5  # bands and scores inside 0-100
    chart = svg.profile(data, street="440402001", lang="en")
    root = parse(chart.markup)
    ref = _mpl(plots.profile, data, root, street="440402001", lang="en")
    assert [v for _, v in _axis(root, "middle")] == pytest.approx(ref["xticks"])
    assert ref["xticks"][0] == 0 and ref["xticks"][-1] == 100
    assert chart.xlabel == "Score (0–100)"
