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
        if attrib.get("text-anchor") == anchor and "transform" not in attrib:
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
