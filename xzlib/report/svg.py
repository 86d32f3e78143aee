"""Report charts written as SVG markup from the data: no matplotlib figure, text laid out by the browser.

The profile, trend, communities and rank charts of the reports are a few dozen rectangles,
lines and texts.  Drawn with matplotlib, each costs a figure, an Axes and an artist per
mark, laid out and rendered to SVG: 55-90 ms a chart, twelve charts a street report.
Written here as markup, the same chart costs a few milliseconds.  Each function draws what
its :mod:`xzlib.plots` counterpart draws, from the same data (:func:`~xzlib.plots.profile_rows`,
:func:`~xzlib.plots.trend_series`, :func:`~xzlib.plots.community_bars`,
:func:`~xzlib.plots.rank_rows`), in the active theme's fonts, sizes and colours (read
from matplotlib's ``rcParams``, as :func:`xzlib.theme.set_theme` leaves them); a
researcher who wants the chart as an Axes calls the plot function.

* Coordinates are points, like matplotlib's SVG (a 6.4-inch chart is 460.8 pt wide);
  margins come from the texts' sizes and characters (:func:`width_em`).
* Text stays text, in the theme's font families, so a phone draws it crisp; vertical
  centring uses a fixed baseline offset rather than ``dominant-baseline``, which not every
  image renderer honours.
* Every string from the data is escaped, and characters that XML forbids are replaced,
  so a hostile or broken community name neither injects markup nor breaks the image.
* The output depends only on the data and the theme: the same chart alone or in a batch
  is byte-identical.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import NamedTuple
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from .. import theme
from ..i18n import check_lang, fmt_number, label, t

__all__ = ["Chart", "width_em", "profile", "rank_intervals", "communities", "trend", "WIDTH"]

#: Width of every chart, inches (as the matplotlib charts of the reports).
WIDTH = 6.4
_PAD = 0.12 * 72  # outer margin, points
_CENTRE = 0.36  # baseline below a text's vertical centre, in font sizes
_ASCENT = 0.9  # baseline below a text's top, in font sizes
# the legend's distance below the axes, in legend font sizes (as xzlib.plots places it)
_LEGEND_GAP = {"trend": 3.2, "communities": 1.8, "profile": 3.2, "rank_intervals": 3.2}
# characters XML 1.0 does not allow (a workbook cell may carry them)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Chart(NamedTuple):
    """A chart written as SVG: its markup, and the texts its alt text is made of."""

    markup: str
    title: str
    xlabel: str
    ylabel: str


def width_em(text: str) -> float:
    """Width of ``text`` in ems: CJK (wide) characters one em, others about 0.6."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in text)


def _text(value) -> str:
    return escape(_NOT_XML.sub("\ufffd", str(value)))


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


class _Style:
    """The theme's fonts, sizes and colours, read once per chart from ``rcParams``."""

    def __init__(self) -> None:
        import matplotlib as mpl
        from matplotlib.font_manager import FontProperties

        rc = mpl.rcParams
        size = lambda key: FontProperties(size=rc[key]).get_size_in_points()  # noqa: E731
        families = list(rc["font.family"])
        names: list[str] = []
        for fam in families:
            names.extend(rc.get(f"font.{fam}", [fam]))
        # the browser takes each glyph from the first family that has it: the CJK font
        # after the theme's own families draws Chinese whatever those are
        names.append(theme.cjk_family())
        generic = "sans-serif" if "sans-serif" in families or not families else families[0]
        quoted = (f"'{n}'" for n in dict.fromkeys(names) if n and n != generic)
        self.font = ", ".join([*quoted, generic]).replace('"', "")
        self.tick = size("ytick.labelsize")
        self.label = size("axes.labelsize")
        self.legend = size("legend.fontsize")
        self.title = size("axes.titlesize")
        self.small = FontProperties(size="small").get_size_in_points()
        self.text_color = rc["text.color"]
        self.label_color = rc["axes.labelcolor"]
        tick_color = rc["ytick.labelcolor"]
        self.tick_color = rc["ytick.color"] if tick_color == "inherit" else tick_color
        title_color = rc["axes.titlecolor"]
        self.title_color = self.text_color if title_color == "auto" else title_color
        self.edge, self.edge_width = rc["axes.edgecolor"], rc["axes.linewidth"]
        self.grid = rc["axes.grid"]
        self.grid_color, self.grid_width = rc["grid.color"], rc["grid.linewidth"]
        self.face, self.background = rc["axes.facecolor"], rc["savefig.facecolor"]
        if self.background == "auto":
            self.background = rc["figure.facecolor"]
        self.spines = {k: rc[f"axes.spines.{k}"] for k in ("left", "bottom", "top", "right")}
        self.tick_pad = rc["ytick.major.pad"] + rc["ytick.major.size"]
        self.title_pad = rc["axes.titlepad"]
        self.dash = tuple(rc["lines.dashed_pattern"])
        self.scale_dashes = rc["lines.scale_dashes"]
        self.handle = rc["legend.handlelength"]
        self.handle_pad = rc["legend.handletextpad"]
        self.column_gap = rc["legend.columnspacing"]

    def dashes(self, width: float) -> str:
        scale = width if self.scale_dashes else 1.0
        return ",".join(_num(d * scale) for d in self.dash)


def _rgba(color: str, alpha: float) -> str:
    """``color`` mixed with white at opacity ``alpha`` (what a translucent bar shows on the
    white axes), as a hex colour: no opacity attribute for image renderers to get wrong."""
    from matplotlib.colors import to_rgb

    r, g, b = (round(255 * (alpha * v + 1 - alpha)) for v in to_rgb(color))
    return f"#{r:02x}{g:02x}{b:02x}"


class _Canvas:
    """An SVG document in points, built mark by mark."""

    def __init__(self, width: float, height: float, style: _Style) -> None:
        self.width, self.height, self.style = width, height, style
        self.parts: list[str] = []
        self.rect(0, 0, width, height, fill=style.background)

    def rect(self, x, y, w, h, *, fill) -> None:
        self.parts.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" '
                          f'height="{_num(h)}" fill={quoteattr(str(fill))}/>')

    def line(self, points, *, stroke, width, dashed: bool = False, cap: str = "butt") -> None:
        if len(points) < 2:
            return
        d = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
        dash = f' stroke-dasharray="{self.style.dashes(width)}"' if dashed else ""
        self.parts.append(f'<polyline points="{d}" fill="none" stroke={quoteattr(str(stroke))} '
                          f'stroke-width="{_num(width)}" stroke-linecap="{cap}" '
                          f'stroke-linejoin="round"{dash}/>')

    def area(self, points, *, fill) -> None:
        d = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
        self.parts.append(f'<polygon points="{d}" fill={quoteattr(str(fill))}/>')

    def dot(self, x, y, r, *, fill) -> None:
        self.parts.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}" '
                          f'fill={quoteattr(str(fill))}/>')

    def text(self, x, y, s, *, size, color, anchor: str = "start", rotate: bool = False,
             halo: bool = False) -> None:
        """A text whose baseline starts at (x, y); ``rotate`` turns it to read upwards."""
        extra = f' transform="rotate(-90 {_num(x)} {_num(y)})"' if rotate else ""
        if halo:  # a white outline under the glyphs keeps the text readable over lines
            extra += ' stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
        self.parts.append(f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" '
                          f'fill={quoteattr(str(color))} text-anchor="{anchor}"{extra}>'
                          f'{_text(s)}</text>')

    def markup(self) -> str:
        w, h = _num(self.width), _num(self.height)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}pt" '
                f'height="{h}pt" viewBox="0 0 {w} {h}"><g font-family={quoteattr(self.style.font)}>'
                + "".join(self.parts) + "</g></svg>")


# --------------------------------------------------------------------------- pieces


def _title(c: _Canvas, title: str | None, x0: float, top: float) -> None:
    if not title:
        return
    s = c.style
    lines = str(title).split("\n")
    for i, line in enumerate(reversed(lines)):
        c.text(x0, top - s.title_pad - i * 1.2 * s.title, line, size=s.title,
               color=s.title_color)


def _title_room(title: str | None, s: _Style) -> float:
    if not title:
        return 0.0
    return (str(title).count("\n") + 1) * 1.4 * s.title + s.title_pad + 4


def _spines(c: _Canvas, x0, y0, x1, y1) -> None:
    s = c.style
    sides = {"left": [(x0, y0), (x0, y1)], "bottom": [(x0, y1), (x1, y1)],
             "top": [(x0, y0), (x1, y0)], "right": [(x1, y0), (x1, y1)]}
    for side, points in sides.items():
        if s.spines[side]:
            c.line(points, stroke=s.edge, width=s.edge_width, cap="projecting")


def _legend(c: _Canvas, entries, centre: float, top: float, ncol: int) -> None:
    """Legend entries ``(kind, text)`` in rows of ``ncol``, centred below ``top``."""
    s = c.style
    fs = s.legend
    handle, gap, between = s.handle * fs, s.handle_pad * fs, s.column_gap * fs
    rows = [entries[i:i + ncol] for i in range(0, len(entries), ncol)]
    y = top
    for row in rows:
        widths = [handle + gap + width_em(text) * fs for _, text in row]
        x = centre - (sum(widths) + between * (len(row) - 1)) / 2
        mid = y + 0.85 * fs
        for (kind, text), w in zip(row, widths, strict=True):
            kind(c, x, mid, handle)
            c.text(x + handle + gap, mid + _CENTRE * fs, text, size=fs, color=s.text_color)
            x += w + between
        y += 1.45 * fs


def _range_handle_of(fill):
    def draw(c: _Canvas, x, mid, w) -> None:
        c.rect(x, mid - 0.35 * c.style.legend, w, 0.7 * c.style.legend, fill=fill)
    return draw


_range_handle = _range_handle_of(theme.BAND)


def _median_handle(width: float):
    def draw(c: _Canvas, x, mid, w) -> None:
        c.line([(x, mid), (x + w, mid)], stroke=theme.MEDIAN, width=width, dashed=True)
    return draw


def _tick_handle(c: _Canvas, x, mid, w, size: float = 16.0) -> None:
    """A vertical bar marker (``|``), as the district median of the row charts."""
    c.line([(x + w / 2, mid - size / 2), (x + w / 2, mid + size / 2)], stroke=theme.MEDIAN,
           width=2.5)


def _dot_handle(color, r: float):
    def draw(c: _Canvas, x, mid, w) -> None:
        c.dot(x + w / 2, mid, r, fill=color)
    return draw


def _street_handle(c: _Canvas, x, mid, w) -> None:
    c.line([(x, mid), (x + w, mid)], stroke=theme.HIGHLIGHT, width=2.2, cap="round")
    c.dot(x + w / 2, mid, 3.0, fill=theme.HIGHLIGHT)


def _axes_bottom(s: _Style, h: float, *, xlabel: str, legend_gap: float) -> float:
    """Bottom of the axes of a chart with x tick labels, an x label and a legend below."""
    bottom = _PAD + 1.25 * s.tick + s.tick_pad + (1.25 * s.label + 4 if xlabel else 0)
    bottom = max(bottom, _PAD + (legend_gap + 1.45) * s.legend + 4)
    return h - min(bottom, 0.6 * h)


def _rows_layout(s: _Style, names, *, title, xlabel, ticks_texts, legend_gap, w, h):
    """Axes box of a chart with named rows, value ticks below and a legend under them."""
    x0 = _PAD + max((width_em(n) for n in names), default=0) * s.tick + s.tick_pad
    right = max(width_em(ticks_texts[-1]) * s.tick / 2 if ticks_texts else 0, 7.2)
    y0 = _PAD + _title_room(title, s)
    return x0, y0, w - _PAD - right, _axes_bottom(s, h, xlabel=xlabel, legend_gap=legend_gap)


def _row_labels(c: _Canvas, x0: float, centres, labels, colors=None) -> None:
    """Name the rows left of the axes, where y tick labels go (``colors``: None = tick colour)."""
    s = c.style
    colors = [None] * len(labels) if colors is None else colors
    for yc, text, color in zip(centres, labels, colors, strict=True):
        c.text(x0 - s.tick_pad, yc + _CENTRE * s.tick, text, size=s.tick,
               color=color or s.tick_color, anchor="end")


def _x_axis(c: _Canvas, ticks, texts_, sx, x0, x1, y1, xlabel) -> None:
    s = c.style
    for v, text in zip(ticks, texts_, strict=True):
        c.text(sx(v), y1 + s.tick_pad + _ASCENT * s.tick, text, size=s.tick,
               color=s.tick_color, anchor="middle")
    if xlabel:
        c.text((x0 + x1) / 2, y1 + 1.25 * s.tick + s.tick_pad + 2 + _ASCENT * s.label, xlabel,
               size=s.label, color=s.label_color, anchor="middle")


def _x_grid(c: _Canvas, ticks, sx, y0, y1) -> None:
    s = c.style
    if s.grid:
        for v in ticks:
            c.line([(sx(v), y0), (sx(v), y1)], stroke=s.grid_color, width=s.grid_width,
                   cap="round")


def _runs(xs, ys):
    """Consecutive points with finite values (a missing value breaks a line or band)."""
    run: list = []
    for x, y in zip(xs, ys, strict=True):
        if all(math.isfinite(v) for v in (y if isinstance(y, tuple) else (y,))):
            run.append((x, y))
        elif run:
            yield run
            run = []
    if run:
        yield run


def _limits(values, margin: float = 0.05) -> tuple[float, float]:
    """Data limits with matplotlib's default margins (5% of the span on each side)."""
    finite = [float(v) for v in values if math.isfinite(float(v))]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if hi == lo:
        d = max(abs(lo) * 0.05, 1.0)
        return lo - d, hi + d
    span = hi - lo
    return lo - margin * span, hi + margin * span


def _ticks(lo: float, hi: float, *, nbins, integer: bool = False) -> list[float]:
    from matplotlib.ticker import MaxNLocator

    locator = MaxNLocator(nbins=nbins, integer=integer, steps=[1, 2, 2.5, 5, 10])
    eps = 1e-9 * max(1.0, abs(hi - lo))
    return [float(v) for v in locator.tick_values(lo, hi) if lo - eps <= v <= hi + eps]


def _tick_text(v: float, step: float, lang: str, *, plain: bool = False) -> str:
    """A tick as readers write it: no decimals beyond the step's, ``−`` for negatives."""
    if plain:
        text = str(int(round(v)))
    else:
        digits = 0
        while digits < 6 and round(step, digits) != round(step, 9):
            digits += 1
        text = fmt_number(round(v, digits) + 0.0, lang, digits=digits)
    return text.replace("-", "\u2212")


# --------------------------------------------------------------------------- charts


def communities(data, *, value: str, name: str = "community_name", highlight=None,
                reference: bool = True, digits: int | None = None, lang: str = "zh",
                title: str | None = None, height: float = 3.6) -> Chart:
    """:func:`xzlib.plots.communities` as SVG markup: one bar per community, largest on top.

    Parameters
    ----------
    data, value, name, highlight, reference, digits, lang
        As for :func:`xzlib.plots.communities`.
    title : str, optional
        A title above the chart, left-aligned with the bars.
    height : float
        Height in inches (the width is :data:`WIDTH`).

    Returns
    -------
    Chart
        The SVG document, with the title and axis labels it shows.

    Raises
    ------
    UsageError
        As :func:`xzlib.plots.communities`.
    """
    from ..plots import community_bars

    check_lang(lang)
    bars = community_bars(data, value=value, name=name, highlight=highlight, digits=digits,
                          lang=lang)
    s = _Style()
    w, h = WIDTH * 72, height * 72
    names = bars["name"].tolist()
    v = bars["value"].to_numpy(float)
    finite = v[np.isfinite(v)]
    xlabel = label(value, lang)
    legend = [(_median_handle(1.2), t("community_median", lang))] if (
        reference and len(finite)) else []
    x0 = _PAD + max((width_em(n) for n in names), default=0) * s.tick + s.tick_pad
    x1 = w - _PAD - 0.1 * 72
    y0 = _PAD + _title_room(title, s)
    bottom = _PAD + (1.25 * s.label + 4 if xlabel else 0)
    if legend:
        bottom = max(bottom, _PAD + (_LEGEND_GAP["communities"] + 1.45) * s.legend + 4)
    y1 = h - min(bottom, 0.6 * h)
    c = _Canvas(w, h, s)
    c.rect(x0, y0, x1 - x0, y1 - y0, fill=s.face)
    top = float(np.max(finite)) if len(finite) else 0.0
    xmax = top * 1.15 if top > 0 else 1.0
    scale = lambda x: x0 + (x1 - x0) * min(max(x, 0.0), xmax) / xmax  # noqa: E731
    pitch = (y1 - y0) / max(len(names), 1)
    centres = [y0 + (i + 0.5) * pitch for i in range(len(names))]
    for yc, vi, hi in zip(centres, v, bars["highlight"], strict=True):
        if np.isfinite(vi) and vi > 0:
            c.rect(x0, yc - 0.325 * pitch, scale(vi) - x0, 0.65 * pitch,
                   fill=theme.HIGHLIGHT if hi else theme.PALETTE[0])
    if legend:
        xm = scale(float(np.median(finite)))
        c.line([(xm, y0), (xm, y1)], stroke=theme.MEDIAN, width=1.2, dashed=True)
    for yc, vi, text in zip(centres, v, bars["text"], strict=True):
        c.text(scale(vi if np.isfinite(vi) else 0.0) + 4, yc + _CENTRE * s.small, text,
               size=s.small, color=s.text_color, halo=True)
    _row_labels(c, x0, centres, names)
    _spines(c, x0, y0, x1, y1)
    if xlabel:
        c.text((x0 + x1) / 2, y1 + 2 + _ASCENT * s.label, xlabel, size=s.label,
               color=s.label_color, anchor="middle")
    if legend:
        _legend(c, legend, (x0 + x1) / 2, y1 + _LEGEND_GAP["communities"] * s.legend, ncol=1)
    _title(c, title, x0, y0)
    return Chart(c.markup(), title or "", xlabel, "")


def trend(data, *, x: str = "year", y: str = "score", street: str, lang: str = "zh",
          title: str | None = None, height: float = 3.6) -> Chart:
    """:func:`xzlib.plots.trend` as SVG markup: the street's series against the district's
    range (min-max) and median.

    Parameters
    ----------
    data, x, y, street, lang
        As for :func:`xzlib.plots.trend`.
    title : str, optional
        A title above the chart.
    height : float
        Height in inches (the width is :data:`WIDTH`).

    Returns
    -------
    Chart
        The SVG document, with the title and axis labels it shows.

    Raises
    ------
    UsageError
        As :func:`xzlib.plots.trend`.
    """
    from ..plots import trend_series

    check_lang(lang)
    band, own, own_label = trend_series(data, x=x, y=y, street=street)
    s = _Style()
    w, h = WIDTH * 72, height * 72
    xs = [float(v) for v in band.index]
    ox, ov = own[x].to_numpy(float), own["value"].to_numpy(float)
    lows, highs = band["min"].to_numpy(float), band["max"].to_numpy(float)
    medians = band["median"].to_numpy(float)
    xlo, xhi = _limits([*xs, *ox])
    ylo, yhi = _limits([*lows, *highs, *medians, *ov])
    xlabel, ylabel = label(x, lang), label(y, lang)
    entries = [(_range_handle, t("district_range", lang)),
               (_median_handle(1.5), t("district_median", lang)),
               (_street_handle, own_label)]
    # margins: tick labels, axis labels, the legend below, the title above
    y0 = _PAD + _title_room(title, s)
    y1 = _axes_bottom(s, h, xlabel=xlabel, legend_gap=_LEGEND_GAP["trend"])
    axes_h = y1 - y0
    ystep_n = min(9, max(1, int(axes_h // (2 * s.tick))))
    yticks = _ticks(ylo, yhi, nbins=ystep_n)
    ystep = yticks[1] - yticks[0] if len(yticks) > 1 else 1.0
    ytexts = [_tick_text(v, ystep, lang) for v in yticks]
    integer = x == "year" or all(float(v).is_integer() for v in xs)
    xticks = _ticks(xlo, xhi, nbins=10, integer=integer)
    xstep = xticks[1] - xticks[0] if len(xticks) > 1 else 1.0
    xtexts = [_tick_text(v, xstep, lang, plain=x == "year") for v in xticks]
    ytick_w = max((width_em(s_) for s_ in ytexts), default=0) * s.tick + s.tick_pad
    x0 = _PAD + ytick_w + (1.25 * s.label + 4 if ylabel else 0)
    x1 = w - _PAD - max(width_em(xtexts[-1]) * s.tick / 2 if xtexts else 0, 7.2)
    sx = lambda v: x0 + (x1 - x0) * (v - xlo) / (xhi - xlo)  # noqa: E731
    sy = lambda v: y1 - (y1 - y0) * (v - ylo) / (yhi - ylo)  # noqa: E731

    c = _Canvas(w, h, s)
    c.rect(x0, y0, x1 - x0, y1 - y0, fill=s.face)
    _x_grid(c, xticks, sx, y0, y1)
    if s.grid:
        for v in yticks:
            c.line([(x0, sy(v)), (x1, sy(v))], stroke=s.grid_color, width=s.grid_width,
                   cap="round")
    for run in _runs(xs, list(zip(lows, highs, strict=True))):
        upper = [(sx(a), sy(b[1])) for a, b in run]
        lower = [(sx(a), sy(b[0])) for a, b in reversed(run)]
        c.area(upper + lower, fill=theme.BAND)
    for run in _runs(xs, medians):
        c.line([(sx(a), sy(b)) for a, b in run], stroke=theme.MEDIAN, width=1.5, dashed=True)
    for run in _runs(ox, ov):
        c.line([(sx(a), sy(b)) for a, b in run], stroke=theme.HIGHLIGHT, width=2.2,
               cap="round")
    for a, b in zip(ox, ov, strict=True):
        if math.isfinite(b):
            c.dot(sx(a), sy(b), 3.0, fill=theme.HIGHLIGHT)
    _spines(c, x0, y0, x1, y1)
    _x_axis(c, xticks, xtexts, sx, x0, x1, y1, xlabel)
    _row_labels(c, x0, [sy(v) for v in yticks], ytexts)  # the y tick labels
    if ylabel:
        xl = x0 - ytick_w - 2 - 0.25 * s.label
        c.text(xl, (y0 + y1) / 2, ylabel, size=s.label, color=s.label_color,
               anchor="middle", rotate=True)
    _legend(c, entries, (x0 + x1) / 2, y1 + _LEGEND_GAP["trend"] * s.legend, ncol=3)
    _title(c, title, x0, y0)
    return Chart(c.markup(), title or "", xlabel, ylabel)


def profile(data, *, street: str, dimension: str = "dimension", value: str = "score",
            lang: str = "zh", title: str | None = None, height: float = 3.6) -> Chart:
    """:func:`xzlib.plots.profile` as SVG markup: the street's dimension scores against the
    district median and a band of ±1 SD.

    Parameters
    ----------
    data, street, dimension, value, lang
        As for :func:`xzlib.plots.profile`.
    title : str, optional
        A title above the chart.
    height : float
        Height in inches (the width is :data:`WIDTH`).

    Returns
    -------
    Chart
        The SVG document, with the title and axis labels it shows.

    Raises
    ------
    UsageError
        As :func:`xzlib.plots.profile`.
    """
    from ..plots import profile_rows

    check_lang(lang)
    rows, name, on_100 = profile_rows(data, street=street, dimension=dimension, value=value,
                                      lang=lang)
    s = _Style()
    w, h = WIDTH * 72, height * 72
    med, sd = rows["median"].to_numpy(float), rows["sd"].to_numpy(float)
    own = rows["value"].to_numpy(float)
    if on_100:
        xlo, xhi, xlabel = 0.0, 100.0, t("score_0_100", lang)
    else:
        xlo, xhi = _limits([*(med - sd), *(med + sd), *own])
        xlabel = label(value, lang)
    # in matplotlib's legend order (lines and collections before patches)
    entries = [(_tick_handle, t("district_median", lang)),
               (_dot_handle(theme.HIGHLIGHT, 4.5), name), (_range_handle, t("sd_band", lang))]
    provisional = _ticks(xlo, xhi, nbins=9)
    texts_ = [_tick_text(v, 1.0, lang) for v in provisional]
    x0, y0, x1, y1 = _rows_layout(s, rows["label"], title=title, xlabel=xlabel,
                                  ticks_texts=texts_, legend_gap=_LEGEND_GAP["profile"],
                                  w=w, h=h)
    # matplotlib's nbins="auto" for an x axis: a tick per three label sizes, at most 9
    nbins = min(9, max(1, int((x1 - x0) // (3 * s.tick))))
    xticks = _ticks(xlo, xhi, nbins=nbins)
    step = xticks[1] - xticks[0] if len(xticks) > 1 else 1.0
    xtexts = [_tick_text(v, step, lang) for v in xticks]
    sx = lambda v: x0 + (x1 - x0) * (v - xlo) / (xhi - xlo)  # noqa: E731
    n = len(rows)
    pitch = (y1 - y0) / (n + 0.2)  # the rows' limits are -0.6 and n - 0.4
    centres = [y0 + (i + 0.6) * pitch for i in range(n)]

    c = _Canvas(w, h, s)
    c.rect(x0, y0, x1 - x0, y1 - y0, fill=s.face)
    _x_grid(c, xticks, sx, y0, y1)
    for yc, m, d in zip(centres, med, sd, strict=True):
        if math.isfinite(m) and math.isfinite(d):
            a, b = sx(max(m - d, xlo)), sx(min(m + d, xhi))
            c.rect(a, yc - 0.275 * pitch, b - a, 0.55 * pitch, fill=theme.BAND)
    for yc, m in zip(centres, med, strict=True):
        if math.isfinite(m):
            c.line([(sx(m), yc - 8), (sx(m), yc + 8)], stroke=theme.MEDIAN, width=2.5)
    for yc, v, text in zip(centres, own, rows["text"], strict=True):
        if math.isfinite(v):
            c.dot(sx(v), yc, 4.5, fill=theme.HIGHLIGHT)
            c.text(sx(v), yc - 9 - 0.25 * s.small, text, size=s.small, color=theme.HIGHLIGHT,
                   anchor="middle")
    _row_labels(c, x0, centres, rows["label"].tolist())
    _spines(c, x0, y0, x1, y1)
    _x_axis(c, xticks, xtexts, sx, x0, x1, y1, xlabel)
    _legend(c, entries, (x0 + x1) / 2, y1 + _LEGEND_GAP["profile"] * s.legend, ncol=3)
    _title(c, title, x0, y0)
    return Chart(c.markup(), title or "", xlabel, "")


def rank_intervals(data, *, highlight: str | None = None, name: str = "street_name",
                   lang: str = "zh", title: str | None = None, height: float = 3.6) -> Chart:
    """:func:`xzlib.plots.rank_intervals` as SVG markup: each street's rank with its 5-95%
    Monte Carlo interval and median rank, best on top.

    Parameters
    ----------
    data, highlight, name, lang
        As for :func:`xzlib.plots.rank_intervals`.
    title : str, optional
        A title above the chart.
    height : float
        Height in inches (the width is :data:`WIDTH`).

    Returns
    -------
    Chart
        The SVG document, with the title and axis labels it shows.

    Raises
    ------
    UsageError
        As :func:`xzlib.plots.rank_intervals`.
    """
    from ..plots import rank_rows

    check_lang(lang)
    df = rank_rows(data, highlight=highlight, name=name)
    s = _Style()
    w, h = WIDTH * 72, height * 72
    n = len(df)
    q05, q95 = df["rank_q05"].to_numpy(float), df["rank_q95"].to_numpy(float)
    top = np.nanmax(q95) if n and np.isfinite(q95).any() else 1
    xlo, xhi = 0.5, max(n, top) + 0.5
    xticks = [float(v) for v in range(1, max(n, 1) + 1)]
    xtexts = [str(int(v)) for v in xticks]
    xlabel = t("rank_axis", lang)
    entries = [(lambda c, x, mid, w_: _tick_handle(c, x, mid, w_, 12.6), t("rank_median", lang)),
               (_dot_handle(theme.NEUTRAL, 3.7), t("rank_nominal", lang)),
               (_range_handle_of(_rgba(theme.NEUTRAL, 0.45)), t("rank_interval", lang))]
    x0, y0, x1, y1 = _rows_layout(s, df["label"], title=title, xlabel=xlabel,
                                  ticks_texts=xtexts, legend_gap=_LEGEND_GAP["rank_intervals"],
                                  w=w, h=h)
    sx = lambda v: x0 + (x1 - x0) * (v - xlo) / (xhi - xlo)  # noqa: E731
    pitch = (y1 - y0) / max(n, 1)
    centres = [y0 + (i + 0.5) * pitch for i in range(n)]
    colors = [theme.HIGHLIGHT if hl else theme.NEUTRAL for hl in df["highlight"]]

    c = _Canvas(w, h, s)
    c.rect(x0, y0, x1 - x0, y1 - y0, fill=s.face)
    _x_grid(c, xticks, sx, y0, y1)
    for yc, a, b, color in zip(centres, q05, q95, colors, strict=True):
        if math.isfinite(a) and math.isfinite(b):
            c.rect(sx(a - 0.5), yc - 0.225 * pitch, sx(b + 0.5) - sx(a - 0.5), 0.45 * pitch,
                   fill=_rgba(color, 0.45))
    for yc, m in zip(centres, df["rank_median"].to_numpy(float), strict=True):
        if math.isfinite(m):
            c.line([(sx(m), yc - 6.3), (sx(m), yc + 6.3)], stroke=theme.MEDIAN, width=2.5)
    for yc, r, color in zip(centres, df["rank"].to_numpy(float), colors, strict=True):
        if math.isfinite(r):
            c.dot(sx(r), yc, 4.1, fill="#ffffff")  # the white edge
            c.dot(sx(r), yc, 3.7, fill=color)
    _row_labels(c, x0, centres, df["label"].tolist(),
                [theme.HIGHLIGHT if hl else None for hl in df["highlight"]])
    _spines(c, x0, y0, x1, y1)
    _x_axis(c, xticks, xtexts, sx, x0, x1, y1, xlabel)
    _legend(c, entries, (x0 + x1) / 2, y1 + _LEGEND_GAP["rank_intervals"] * s.legend, ncol=3)
    _title(c, title, x0, y0)
    return Chart(c.markup(), title or "", xlabel, "")
