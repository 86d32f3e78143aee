"""What the reports draw: the data of each chart, and :func:`figure`, which draws and shows one.

Charts are made cheap by design rather than by runtime tricks:

* **No figure where markup will do.**  The profile, trend, communities and rank charts
  (twelve of a street report's fourteen) are written as SVG markup from the data by
  :mod:`xzlib.report.svg`: the chart :mod:`xzlib.plots` draws, for a few milliseconds
  instead of 55-90 ms.  The ECDF and the funds chart are drawn with matplotlib, as below.
* **Fixed layout.**  Margins are computed from the texts the chart carries (tick labels,
  axis labels, title, a legend below the axes), sized from the font size and the
  characters' widths, instead of a tight-layout pass that draws every text once more
  before the real draw.
* **Axes drawn as what they show.**  Once the layout is fixed, each value axis's tick
  labels become plain texts and its grid lines one line collection
  (:func:`_static_axes`): a tick is five artists (two marks, a grid line, two labels) and
  the theme shows only its label and grid line.  The pixels are the same.
* **The cheapest correct format per chart.**  SVG with text kept as text (crisp on
  phones, selectable, and smaller than a PNG for a few hundred shapes) for every chart
  but the one with thousands of points (:data:`RASTER`: the resolution-time ECDF of
  every grid case), which stays a PNG.
* **Deterministic output.**  No date in the SVG metadata and a fixed salt for its ids,
  so the same report drawn alone or in a batch is byte-identical.

Every chart gets alt text (what it shows, with its axis labels) in its output metadata,
where :func:`xzlib.report.html.export_html` finds it.
"""

from __future__ import annotations

import io
import logging
import re

import pandas as pd

from .. import dataset, plots
from ..i18n import check_lang, t
from ..plots import row_labels
from . import svg
from .contexts import StreetReport, street_rows
from .svg import width_em

__all__ = [
    "figure",
    "figure_alt",
    "chart_alt",
    "figure_format",
    "RASTER",
    "dimension_data",
    "community_values",
    "community_title",
    "headline_indicator",
    "trend_data",
    "resolution_data",
    "money_data",
    "this_street",
]

logger = logging.getLogger(__name__)

#: Charts drawn as PNG (many thousands of points: a vector file would be larger).
RASTER = frozenset({"resolution_times"})
_DPI = 100
_WIDTH = 6.4  # inches
_BETWEEN_TAGS = re.compile(rb">\s+<")
_SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "xzlib-report", "svg.image_inline": True}


# --------------------------------------------------------------------------- chart data


def dimension_data(ev) -> pd.DataFrame:
    """Dimension scores of every street, with street names (for :func:`xzlib.plots.profile`)."""
    names = ev.ranks[["street_code", "street_name"]]
    return ev.dimensions.drop(columns=["street_name"], errors="ignore").merge(
        names, on="street_code", how="left")


def community_values(rep: StreetReport, dimension: str) -> pd.DataFrame:
    """One value per community of the street for a dimension's community-level measure.

    Returns
    -------
    DataFrame
        ``community_name`` and one value column named by the measure's label (with unit,
        ``measure.<dimension>`` of :mod:`xzlib.i18n`).
    """
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
    return pd.DataFrame({"community_name": c["community_name"].astype("string").to_numpy(),
                         t(f"measure.{dimension}", rep.lang): value.to_numpy()})


def community_title(rep: StreetReport, dimension: str) -> str:
    """The title of a communities chart: the street and the measure shown."""
    return t("title.communities", rep.lang, street=rep.street_name,
             measure=t(f"measure.{dimension}", rep.lang))


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
    label = (f"{first['label_zh']}（{first['unit']}）" if rep.lang == "zh"
             else f"{first['label_en']} ({first['unit_en']})")
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
    p = street_rows(dataset.load("projects", data_dir=rep.data_dir), rep.street_code)
    return p[p["year"] <= rep.year].reset_index(drop=True)


def this_street(lang: str) -> str:
    """The label of the street's own group in comparison charts (本镇街)."""
    return t("this_street", lang)


# --------------------------------------------------------------------------- drawing


def figure_alt(plot, ax, lang: str = "zh") -> str:
    """The alt text of a report chart: what ``plot`` shows (``alt.<name>``), with its labels."""
    title = ax.get_title(loc="left") or ax.get_title()
    return chart_alt(getattr(plot, "__name__", ""), title=title, x=ax.get_xlabel(),
                     y=ax.get_ylabel(), lang=lang)


def chart_alt(name: str, *, title: str = "", x: str = "", y: str = "", lang: str = "zh") -> str:
    """The alt text of chart ``name`` (``alt.<name>`` of :mod:`xzlib.i18n`, else its labels).

    Parameters
    ----------
    name : str
        The plot function's name, e.g. ``"trend"``.
    title, x, y : str
        The chart's title and axis labels.
    lang : {"zh", "en"}

    Returns
    -------
    str
        ``图表：<title>；<what it shows>`` (``Chart: ...`` in English).
    """
    lang = check_lang(lang)
    text = t(f"alt.{name}", lang, default="")
    sep = "；" if lang == "zh" else "; "
    if text:
        text = text.format(x=x, y=y)
        if title:
            text = f"{title}{sep}{text}"
    else:
        text = sep.join(v for v in (title, y, x) if v)
    prefix = t("figure_alt", lang)
    return f"{prefix}：{text}" if lang == "zh" else f"{prefix}: {text}"


def figure_format(plot) -> str:
    """``"png"`` for the charts in :data:`RASTER`, else ``"svg"``."""
    return "png" if getattr(plot, "__name__", "") in RASTER else "svg"


def _markup(plot):
    """The :mod:`xzlib.report.svg` function that writes ``plot``'s chart, or None."""
    return {plots.communities: svg.communities, plots.trend: svg.trend,
            plots.profile: svg.profile, plots.rank_intervals: svg.rank_intervals}.get(plot)


def figure(plot, data: pd.DataFrame, *, height: float = 3.6, title: str | None = None,
           alt: str | None = None, **kwargs):
    """Draw ``plot(data, ax=..., **kwargs)`` on a new figure and display it.

    Each chart gets its own figure (several charts in one cell never draw over each
    other, and no figure is left open), laid out with fixed margins sized from its texts,
    and is displayed as SVG (or PNG, see :data:`RASTER`) carrying its alt text (``alt``,
    default :func:`figure_alt`) in the output's metadata.  The profile, trend,
    communities and rank charts are written as SVG markup directly
    (:mod:`xzlib.report.svg`: the same chart for a fraction of the cost), with the same
    keyword arguments.

    Parameters
    ----------
    plot : callable
        A plot function of :mod:`xzlib.plots`.
    data : DataFrame
        Its data.
    height : float
        Figure height in inches (the width is 6.4).
    title : str, optional
        A title above the chart.
    alt : str, optional
        The alt text.
    **kwargs
        Passed to ``plot``.

    Returns
    -------
    matplotlib.axes.Axes or None
        The drawn Axes (already displayed); None for the charts written as SVG markup
        (:func:`~xzlib.plots.profile`, :func:`~xzlib.plots.rank_intervals`,
        :func:`~xzlib.plots.trend` and :func:`~xzlib.plots.communities`, see
        :mod:`xzlib.report.svg`), which have no Axes.
    """
    from IPython.display import Image, display

    markup = _markup(plot)
    if markup is not None:
        chart = markup(data, title=title, height=height, **kwargs)
        text = alt if alt is not None else chart_alt(
            plot.__name__, title=chart.title, x=chart.xlabel, y=chart.ylabel,
            lang=kwargs.get("lang", "zh"))
        display({"image/svg+xml": chart.markup}, raw=True,
                metadata={"image/svg+xml": {"alt": text}})
        return None

    import matplotlib
    from matplotlib.figure import Figure

    # the title sits at a fixed height (no search for decorations above the axes)
    with matplotlib.rc_context({"axes.titley": 1.0}):
        fig = Figure(figsize=(_WIDTH, height), dpi=_DPI)
        ax = fig.add_subplot()
    plot(data, ax=ax, **kwargs)
    if title:
        ax.set_title(title, loc="left")
        from .. import theme

        theme.apply_font(ax)
    _fixed_layout(fig, ax)
    _static_axes(ax)
    text = alt if alt is not None else figure_alt(plot, ax, kwargs.get("lang", "zh"))
    if figure_format(plot) == "png":
        display(Image(data=_save(fig, "png"), format="png", metadata={"alt": text}))
    else:
        # published as it is: IPython's SVG class would parse the document again
        svg = _save(fig, "svg").decode("utf-8")
        display({"image/svg+xml": svg}, raw=True, metadata={"image/svg+xml": {"alt": text}})
    return ax


def _save(fig, fmt: str) -> bytes:
    """The figure as SVG (text as text, no metadata date, whitespace between tags dropped)
    or as a PNG of at most 256 colours (a chart has a few colours and their anti-aliased
    edges: it looks the same at a fraction of the bytes)."""
    import matplotlib

    buf = io.BytesIO()
    if fmt == "svg":
        from matplotlib.backends.backend_svg import FigureCanvasSVG

        FigureCanvasSVG(fig)
        with matplotlib.rc_context(_SVG_RC):
            fig.savefig(buf, format="svg", metadata={"Date": None})
        return _BETWEEN_TAGS.sub(b"><", buf.getvalue())
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    # the rendered pixels as they are (savefig's "raw" format, with its facecolor and
    # dpi), quantised and encoded once: no intermediate PNG to compress and decode again
    FigureCanvasAgg(fig)
    fig.savefig(buf, format="raw", dpi=_DPI)
    size = fig.canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", size, buf.getbuffer(), "raw", "RGBA", 0, 1).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                   dither=Image.Dither.NONE).save(out, format="png", optimize=False)
    return out.getvalue()


# --------------------------------------------------------------------------- fixed layout


def _points(size) -> float:
    from matplotlib.font_manager import FontProperties

    return FontProperties(size=size).get_size_in_points()


def _lines(text: str) -> int:
    return text.count("\n") + 1 if text else 0


def _tick_texts(axis) -> tuple[list[str], float]:
    """Fix ``axis``'s major ticks to those in view, labelled once; return the labels and size.

    The locator's ticks outside the view would be created and hidden at every draw, and
    the formatter run again: a ``FixedLocator`` and ``FixedFormatter`` of the visible
    ticks draw the same axis with neither.
    """
    import matplotlib as mpl
    from matplotlib.ticker import FixedFormatter, FixedLocator

    lo, hi = sorted(axis.get_view_interval())
    locs = [v for v in axis.get_majorticklocs() if lo - 1e-9 <= v <= hi + 1e-9]
    labels = list(axis.get_major_formatter().format_ticks(locs))
    axis.set_major_locator(FixedLocator(locs))
    axis.set_major_formatter(FixedFormatter(labels))
    name = "ytick.labelsize" if axis.axis_name == "y" else "xtick.labelsize"
    return [s for s in labels if s], _points(mpl.rcParams[name])


def _legend_rows(texts: list[str], size: float, width: float) -> int:
    """Rows a legend of ``texts`` needs across ``width`` inches (entries of handle + text)."""
    rows, used = 1, 0.0
    for text in texts:
        entry = (width_em(text) + 4.0) * size / 72  # handle, its gap and column spacing
        if used and used + entry > width:
            rows, used = rows + 1, 0.0
        used += entry
    return rows


def _fixed_layout(fig, ax) -> None:
    """Set the subplot margins from the chart's texts, without laying the figure out.

    Left: the y tick labels and the y label; bottom: the x tick labels, the x label and a
    legend placed below the axes; top: the title and any text above the axes; right: half
    of the last x tick label.  Sizes come from the texts' font sizes, widths from their
    characters (:func:`~xzlib.report.svg.width_em`), so a long community name gets the room it needs.
    """
    import matplotlib as mpl

    w, h = fig.get_size_inches()
    pad = 0.12
    ytl, tick_y = _tick_texts(ax.yaxis)
    rows = row_labels(ax)  # placed where y tick labels go (see xzlib.plots)
    if rows:
        ytl += [tx.get_text() for tx in rows]
        tick_y = max(tick_y, max(tx.get_fontsize() for tx in rows))
    xtl, tick_x = _tick_texts(ax.xaxis)
    ypad = mpl.rcParams["ytick.major.pad"] + mpl.rcParams["ytick.major.size"] if ytl else 0.0
    xpad = mpl.rcParams["xtick.major.pad"] + mpl.rcParams["xtick.major.size"] if xtl else 0.0
    ytick_w = (max((width_em(s) for s in ytl), default=0) * tick_y + ypad) / 72
    xtick_h = (1.25 * tick_x + xpad) / 72 if xtl else 0.0
    left = pad + ytick_w
    ylabel = ax.yaxis.label
    if ylabel.get_text():
        left += (_lines(ylabel.get_text()) * 1.25 * ylabel.get_fontsize() + 4) / 72
    bottom = pad + xtick_h
    xlabel = ax.xaxis.label
    if xlabel.get_text():
        bottom += (_lines(xlabel.get_text()) * 1.25 * xlabel.get_fontsize() + 4) / 72
    legend = ax.get_legend()
    if legend is not None:
        texts = [tx.get_text() for tx in legend.get_texts()]
        fs = legend.get_texts()[0].get_fontsize() if texts else 10.0
        rows = _legend_rows(texts, fs, w)
        # placed below the x label: borderaxespad font sizes under the axes, then its rows
        bottom = max(bottom, pad + (legend.borderaxespad * fs + rows * 1.45 * fs + 4) / 72)
    top = pad
    titles = [ax.get_title(loc) for loc in ("left", "center", "right")]
    if any(titles):
        size = _points(mpl.rcParams["axes.titlesize"])
        top += (max(_lines(x) for x in titles) * 1.4 * size + mpl.rcParams["axes.titlepad"] + 4) / 72
    above = [tx for tx in ax.texts
             if tx.get_transform() == ax.transAxes and tx.get_position()[1] >= 1]
    if above:
        top += max(1.35 * tx.get_fontsize() for tx in above) / 72
    right = pad + (max(width_em(xtl[-1]) * tick_x / 144, 0.1) if xtl else 0.1)
    left, bottom = min(left, 0.45 * w), min(bottom, 0.6 * h)
    fig.subplots_adjust(left=left / w, right=1 - right / w, bottom=bottom / h, top=1 - top / h)
    # axis labels just outside the tick labels (no search for the tick labels' extents)
    ax_w, ax_h = w - left - right, h - top - bottom
    ax.xaxis.set_label_coords(0.5, -(xtick_h + 2 / 72) / ax_h)
    ax.yaxis.set_label_coords(-(ytick_w + 2 / 72) / ax_w, 0.5)


def _static_axes(ax) -> None:
    """Draw each axis's major ticks as what the theme shows of them: labels and grid lines.

    The labels become texts placed where the tick labels were (``pad + size`` points
    outside the axes, the tick labels' size and colour) and the grid lines one
    :class:`~matplotlib.collections.LineCollection` with the grid lines' style, so an
    axis costs a text per label and one artist for its grid instead of five artists per
    tick.  Only done where that draws the same pixels: ticks pointing out, tick marks
    hidden, labels on the bottom or left only, no minor tick visible; any other axis is
    left as it is.  Call after :func:`_fixed_layout` (which fixes the ticks to those in
    view and sizes the margins from their labels).
    """
    import matplotlib as mpl
    from matplotlib.collections import LineCollection
    from matplotlib.ticker import NullLocator
    from matplotlib.transforms import offset_copy

    rc = mpl.rcParams
    for axis in (ax.xaxis, ax.yaxis):
        name = axis.axis_name
        locs = list(axis.get_majorticklocs())
        minor = axis.get_minorticklocs()
        if not locs and not len(minor):
            continue
        if rc[f"{name}tick.direction"] != "out":
            continue
        if len(minor):
            m = axis.get_minor_ticks(1)[0]
            if any(a.get_visible() for a in (m.tick1line, m.tick2line, m.gridline, m.label2)) or (
                    m.label1.get_visible() and any(axis.get_minor_formatter().format_ticks(minor))):
                continue
        if not locs:
            axis.set_minor_locator(NullLocator())
            continue
        tick = axis.get_major_ticks(1)[0]
        if tick.tick1line.get_visible() or tick.tick2line.get_visible() or tick.label2.get_visible():
            continue
        labels = axis.get_major_formatter().format_ticks(locs)
        grid, label = tick.gridline, tick.label1
        pad = rc[f"{name}tick.major.pad"] + rc[f"{name}tick.major.size"]
        if grid.get_visible():
            lines = ([[(v, 0), (v, 1)] for v in locs] if name == "x"
                     else [[(0, v), (1, v)] for v in locs])
            ax.add_collection(LineCollection(
                lines, transform=ax.get_xaxis_transform() if name == "x" else ax.get_yaxis_transform(),
                colors=grid.get_color(), linewidths=grid.get_linewidth(),
                linestyles=grid.get_linestyle(), alpha=grid.get_alpha(),
                zorder=axis.get_zorder(), capstyle=grid.get_solid_capstyle()), autolim=False)
        if label.get_visible():
            if name == "x":
                where = offset_copy(ax.get_xaxis_transform(), fig=ax.figure, x=0, y=-pad,
                                    units="points")
                spots, align = [(v, 0) for v in locs], {"ha": "center", "va": "top"}
            else:
                where = offset_copy(ax.get_yaxis_transform(), fig=ax.figure, x=-pad, y=0,
                                    units="points")
                spots, align = [(0, v) for v in locs], {"ha": "right", "va": "center_baseline"}
            for (x, y), text in zip(spots, labels, strict=True):
                if text:
                    ax.text(x, y, text, transform=where, fontproperties=label.get_fontproperties(),
                            color=label.get_color(), clip_on=False, **align)
        axis.set_major_locator(NullLocator())
        axis.set_minor_locator(NullLocator())
