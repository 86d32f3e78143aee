"""The charts of the street and district reports, shaped like seaborn functions.

Every function takes a tidy DataFrame first, everything else keyword-only, draws on
``ax`` (default: the current Axes) and returns the Axes.  None calls ``plt.show``,
``savefig`` or changes rcParams; apply the house theme with
:func:`xzlib.theme.set_theme` (the functions draw Chinese labels correctly without it:
they set the CJK font on their own texts when the active rcParams lack one).

Labels are Chinese by default and English with ``lang="en"`` (:mod:`xzlib.i18n`).  The
street the report is about is drawn in :data:`xzlib.theme.HIGHLIGHT`, everything else in
calm neutrals.  The rows of the horizontal charts (:func:`profile`, :func:`rank_intervals`,
:func:`communities`) are named by texts placed where y tick labels go, not by ticks
(:func:`row_labels` returns them).  What :func:`profile`, :func:`rank_intervals`,
:func:`trend` and :func:`communities` draw is computed by :func:`profile_rows`,
:func:`rank_rows`, :func:`trend_series` and :func:`community_bars`, which the reports' SVG
charts (:mod:`xzlib.report.svg`) share.

============================  ===========================================================
:func:`profile`               dimension scores of a street vs the district median ±1 SD
:func:`rank_intervals`        one row per street: nominal rank, median rank, 5–95% interval
:func:`trend`                 a street's series vs the district range and median
:func:`communities`           horizontal bars of the communities within a street
:func:`resolution_times`      ECDF of days to resolve grid cases, unresolved cases counted
:func:`money_reach`           government vs social funds (stacked) and person-times served
============================  ===========================================================
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from . import theme as _theme
from .errors import UsageError
from .i18n import check_lang, fmt_number, label, t

__all__ = [  # the plot functions (row_labels is a helper to read a drawn chart)
    "profile",
    "rank_intervals",
    "trend",
    "communities",
    "resolution_times",
    "money_reach",
]

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- helpers


def _get_ax(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def _require(data: pd.DataFrame, columns, func: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise UsageError(f"{func}: `data` must be a pandas DataFrame, not {type(data).__name__}")
    missing = [c for c in columns if c is not None and c not in data.columns]
    if missing:
        raise UsageError(
            f"{func}: `data` has no column(s) {', '.join(map(repr, missing))}; "
            f"it has {', '.join(map(repr, map(str, data.columns)))}"
        )


def _choice(value, valid, name: str, func: str):
    valid = list(dict.fromkeys(valid))
    if value not in valid:
        shown = ", ".join(map(repr, valid[:30])) + (" ..." if len(valid) > 30 else "")
        raise UsageError(f"{func}: `{name}` must be one of {shown}; got {value!r}")
    return value


def _street_label(data: pd.DataFrame, code, name_col: str = "street_name") -> str:
    if name_col in data.columns:
        names = data.loc[data["street_code"].astype(str) == str(code), name_col].dropna()
        if len(names):
            return str(names.iloc[0])
    return str(code)


def _plain_number(value: float, lang: str) -> str:
    """A tick value as readers write it: 10 and 1,000 rather than 10.0 or 10^1."""
    if float(value).is_integer():
        return fmt_number(int(value), lang)
    return fmt_number(value, lang, digits=1)


def _finish(ax):
    _theme.apply_font(ax)
    return ax


#: The artist label of the texts that name the rows of a horizontal chart (never in a legend).
ROW_LABEL = "_xz_row_label"


def _label_rows(ax, labels, colors=None) -> None:
    """Name the rows ``y = 0, 1, ...`` of a horizontal chart, left of the axes.

    Placed and styled as y tick labels would be (``ytick.major.pad`` and ``.size`` points
    left of the axes, ``ytick.labelsize``, ``ytick.labelcolor``), but drawn as plain texts:
    a tick is five artists (two marks, a grid line, two labels) and costs about three
    times a text to create and draw, and these rows show no tick mark or grid line.
    """
    import matplotlib as mpl
    from matplotlib.transforms import offset_copy

    rc = mpl.rcParams
    color = rc["ytick.labelcolor"]
    if color == "inherit":
        color = rc["ytick.color"]
    pad = rc["ytick.major.pad"] + rc["ytick.major.size"]
    beside = offset_copy(ax.get_yaxis_transform(), fig=ax.figure, x=-pad, y=0, units="points")
    ax.set_yticks([])
    for i, text in enumerate(labels):
        own = None if colors is None else colors[i]
        ax.text(0, i, text, transform=beside, ha="right", va="center_baseline",
                fontsize=rc["ytick.labelsize"], color=color if own is None else own,
                clip_on=False, label=ROW_LABEL)


def row_labels(ax) -> list:
    """The texts naming the rows of a :func:`profile`, :func:`rank_intervals` or
    :func:`communities` chart, top to bottom (these charts have no y tick labels).

    Parameters
    ----------
    ax : matplotlib.axes.Axes

    Returns
    -------
    list of matplotlib.text.Text
    """
    return [tx for tx in ax.texts if tx.get_label() == ROW_LABEL]


def _legend_below(ax, ncol: int = 3, pad: float = 3.2):
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        # below the x label: the gap is in legend font sizes, so it scales with the context
        ax.legend(
            handles,
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, 0),
            borderaxespad=pad,
            ncol=min(ncol, len(handles)),
            frameon=False,
        )


# ----------------------------------------------------------------------------- profile


def profile_rows(data: pd.DataFrame, *, street: str, dimension: str = "dimension",
                 value: str = "score", lang: str = "zh"):
    """What :func:`profile` draws: one row per dimension, in the order of ``data``.

    Parameters are those of :func:`profile`.

    Returns
    -------
    rows : DataFrame
        Indexed by dimension: ``label`` (its name in ``lang``), ``median`` and ``sd``
        (over the streets; a missing SD is 0), ``value`` (the street's score, NaN when
        missing) and ``text`` (the score as written on the chart, with ``▲``/``▼`` when
        it is more than one SD above/below the median).
    name : str
        The street's name (its code if ``data`` has no ``street_name``).
    on_100 : bool
        Whether the bands and scores all lie on the 0-100 score scale (the chart then
        spans 0-100 and says so in its x label).

    Raises
    ------
    UsageError
        If a column is missing or ``street`` is not in ``data``.
    """
    check_lang(lang)
    _require(data, ["street_code", dimension, value], "profile")
    codes = data["street_code"].astype(str)
    _choice(str(street), codes.unique(), "street", "profile")
    dims = list(dict.fromkeys(data[dimension].astype(str)))
    vals = data.assign(
        _dim=data[dimension].astype(str), _v=pd.to_numeric(data[value], errors="coerce")
    )
    stats = vals.groupby("_dim", sort=False)["_v"].agg(["median", "std"]).reindex(dims)
    own = vals[codes == str(street)].set_index("_dim")["_v"].reindex(dims).to_numpy(float)
    med = stats["median"].to_numpy(float)
    sd = stats["std"].fillna(0).to_numpy(float)
    texts = []
    for v, m, s in zip(own, med, sd, strict=True):
        flag = " ▲" if v > m + s else (" ▼" if v < m - s else "")
        texts.append("" if np.isnan(v) else f"{fmt_number(v, lang)}{flag}")
    rows = pd.DataFrame({"label": [t(d, lang, default=d) for d in dims], "median": med,
                         "sd": sd, "value": own, "text": texts}, index=pd.Index(dims))
    finite = np.concatenate([med - sd, med + sd, own])
    finite = finite[np.isfinite(finite)]
    on_100 = bool(len(finite) and finite.min() >= 0 and finite.max() <= 100)
    return rows, _street_label(data, street), on_100


def profile(
    data: pd.DataFrame,
    *,
    street: str,
    dimension: str = "dimension",
    value: str = "score",
    lang: str = "zh",
    ax=None,
):
    """Plot a street's dimension scores against the district median with a ±1 SD band.

    One row per dimension, top to bottom: a light band from median − SD to median + SD
    of all streets, a tick at the district median, and the street's score as a dot in
    the highlight colour, labelled with its value; ▲/▼ mark scores outside the band
    (the ONS "statistically different" convention, here a plain ±1 SD rule).

    Parameters
    ----------
    data : DataFrame
        One row per street and dimension (all streets of the district, one year).

        ===============  ========  =============================================
        column           dtype     meaning
        ===============  ========  =============================================
        ``street_code``  str       9-digit street code
        ``street_name``  str       optional, used for the legend
        ``dimension``    str       dimension id (``D1`` … ``D5``) or label
        ``score``        float     dimension score, 0–100
        ===============  ========  =============================================
    street : str
        ``street_code`` of the street to show.
    dimension, value : str
        Names of the dimension and score columns.
    lang : {"zh", "en"}
        Language of the labels.  Dimension ids known to :mod:`xzlib.i18n` are translated.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default the current Axes.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    UsageError
        If a column is missing or ``street`` is not in ``data``.
    """
    check_lang(lang)
    rows, name, on_100 = profile_rows(data, street=street, dimension=dimension, value=value,
                                      lang=lang)
    ax = _get_ax(ax)

    y = np.arange(len(rows))
    med = rows["median"].to_numpy(float)
    sd = rows["sd"].to_numpy(float)
    ax.barh(
        y, 2 * sd, left=med - sd, height=0.55, color=_theme.BAND, label=t("sd_band", lang), zorder=1
    )
    ax.plot(
        med,
        y,
        linestyle="none",
        marker="|",
        markersize=16,
        markeredgewidth=2.5,
        color=_theme.MEDIAN,
        label=t("district_median", lang),
        zorder=2,
    )
    ax.plot(
        rows["value"].to_numpy(float),
        y,
        linestyle="none",
        marker="o",
        markersize=9,
        color=_theme.HIGHLIGHT,
        label=name,
        zorder=3,
    )
    for yi, v, text in zip(y, rows["value"].to_numpy(float), rows["text"], strict=True):
        if np.isnan(v):
            continue
        ax.annotate(
            text,
            (v, yi),
            xytext=(0, 9),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize="small",
            color=_theme.HIGHLIGHT,
        )

    dims = rows.index.tolist()
    _label_rows(ax, rows["label"].tolist())
    ax.set_ylim(len(dims) - 0.4, -0.6)
    if on_100:
        ax.set_xlim(0, 100)
        ax.set_xlabel(t("score_0_100", lang))
    else:
        ax.set_xlabel(label(value, lang))
    ax.set_ylabel("")
    ax.grid(axis="y", visible=False)
    _legend_below(ax)
    return _finish(ax)


# ----------------------------------------------------------------------------- ranks


def rank_rows(data: pd.DataFrame, *, highlight: str | None = None,
              name: str = "street_name") -> pd.DataFrame:
    """What :func:`rank_intervals` draws: one row per street, best rank first.

    Parameters are those of :func:`rank_intervals`.

    Returns
    -------
    DataFrame
        ``data``'s rows sorted by ``rank`` then ``rank_median`` (stable), with
        ``street_code`` as str, ``label`` (``name``, or the code without it) and
        ``highlight`` (bool).

    Raises
    ------
    UsageError
        If a column is missing or ``highlight`` is not a street of ``data``.
    """
    cols = ["street_code", "rank", "rank_median", "rank_q05", "rank_q95"]
    _require(data, cols, "rank_intervals")
    if highlight is not None:
        _choice(str(highlight), data["street_code"].astype(str), "highlight", "rank_intervals")
    df = data.copy()
    df["street_code"] = df["street_code"].astype(str)
    df = df.sort_values(["rank", "rank_median"], kind="stable").reset_index(drop=True)
    df["label"] = (df[name] if name in df.columns else df["street_code"]).astype(str)
    df["highlight"] = (df["street_code"] == str(highlight)).to_numpy() if (
        highlight is not None) else np.zeros(len(df), bool)
    return df


def rank_intervals(
    data: pd.DataFrame,
    *,
    highlight: str | None = None,
    name: str = "street_name",
    lang: str = "zh",
    ax=None,
):
    """Plot each street's rank with its 5–95% Monte Carlo interval, best on top.

    One row per street, ordered by nominal rank: a bar covering the ranks from the 5th
    to the 95th percentile (each rank drawn as a cell of width 1, so a street whose
    rank never moves still shows a short bar), a dot at the nominal rank and a tick at
    the median rank.  ``highlight`` is drawn in the highlight colour, its label too.

    Parameters
    ----------
    data : DataFrame
        One row per street.

        ===============  =====  ==========================================
        column           dtype  meaning
        ===============  =====  ==========================================
        ``street_code``  str    9-digit street code
        ``street_name``  str    label (see ``name``)
        ``rank``         int    nominal rank (1 = best)
        ``rank_median``  float  median rank over the Monte Carlo runs
        ``rank_q05``     float  5th percentile of the rank
        ``rank_q95``     float  95th percentile of the rank
        ===============  =====  ==========================================
    highlight : str, optional
        ``street_code`` of the street to highlight.
    name : str
        Column with the labels; ``street_code`` is used if it is missing.
    lang : {"zh", "en"}
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    UsageError
        If a column is missing or ``highlight`` is not a street of ``data``.
    """
    check_lang(lang)
    df = rank_rows(data, highlight=highlight, name=name)
    ax = _get_ax(ax)

    labels = df["label"].tolist()
    y = np.arange(len(df))
    is_hl = df["highlight"].to_numpy(bool)
    colors = [_theme.HIGHLIGHT if h else _theme.NEUTRAL for h in is_hl]
    q05 = df["rank_q05"].to_numpy(float)
    q95 = df["rank_q95"].to_numpy(float)

    ax.barh(
        y,
        q95 - q05 + 1,
        left=q05 - 0.5,
        height=0.45,
        color=colors,
        alpha=0.45,
        label=t("rank_interval", lang),
        zorder=1,
    )
    ax.scatter(
        df["rank_median"].to_numpy(float),
        y,
        marker="|",
        s=160,
        linewidths=2.5,
        color=_theme.MEDIAN,
        label=t("rank_median", lang),
        zorder=2,
    )
    ax.scatter(
        df["rank"].to_numpy(float),
        y,
        s=55,
        color=colors,
        edgecolors="white",
        linewidths=0.8,
        label=t("rank_nominal", lang),
        zorder=3,
    )

    n = len(df)
    # the highlighted street's name in colour only: a CJK font often has no bold face
    # (matplotlib would log a warning)
    _label_rows(ax, labels, colors=[_theme.HIGHLIGHT if h else None for h in is_hl])
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0.5, max(n, np.nanmax(q95) if n else 1) + 0.5)
    ax.set_xticks(np.arange(1, max(n, 1) + 1))
    ax.set_xlabel(t("rank_axis", lang))
    ax.set_ylabel("")
    ax.grid(axis="y", visible=False)
    _legend_below(ax)
    return _finish(ax)


# ----------------------------------------------------------------------------- trend


def trend_series(data: pd.DataFrame, *, x: str = "year", y: str = "score", street: str):
    """What :func:`trend` draws: the district's range and median over ``x``, and the street's series.

    Parameters are those of :func:`trend`.

    Returns
    -------
    band : DataFrame
        Indexed by the sorted values of ``x``: ``min``, ``max`` and ``median`` of ``y``
        over the streets (missing values skipped).
    own : DataFrame
        The street's rows sorted by ``x``: ``x`` and ``value`` (``y`` as numbers).
    label : str
        The street's name (its code if ``data`` has no ``street_name``).

    Raises
    ------
    UsageError
        If a column is missing or ``street`` is not in ``data``.
    """
    _require(data, ["street_code", x, y], "trend")
    codes = data["street_code"].astype(str)
    _choice(str(street), codes.unique(), "street", "trend")
    vals = data.assign(_v=pd.to_numeric(data[y], errors="coerce"))
    band = vals.groupby(x, sort=True)["_v"].agg(["min", "max", "median"])
    own = vals[codes == str(street)].sort_values(x)
    own = pd.DataFrame({x: own[x].to_numpy(), "value": own["_v"].to_numpy(float)})
    return band, own, _street_label(data, street)


def trend(
    data: pd.DataFrame,
    *,
    x: str = "year",
    y: str = "score",
    street: str,
    lang: str = "zh",
    ax=None,
):
    """Plot a street's series against the district's range (min–max) and median.

    Parameters
    ----------
    data : DataFrame
        One row per street and ``x`` (all streets of the district).

        ===============  =====  =========================================
        column           dtype  meaning
        ===============  =====  =========================================
        ``street_code``  str    9-digit street code
        ``street_name``  str    optional, used for the legend
        ``year``         int    the ``x`` column
        ``<y>``          float  the value plotted
        ===============  =====  =========================================
    x, y : str
        Column names.  ``y`` is labelled through :func:`xzlib.i18n.label`.
    street : str
        ``street_code`` of the street drawn as a line.
    lang : {"zh", "en"}
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    UsageError
        If a column is missing or ``street`` is not in ``data``.
    """
    check_lang(lang)
    band, own, own_label = trend_series(data, x=x, y=y, street=street)
    ax = _get_ax(ax)

    xs = band.index.to_numpy()
    ax.fill_between(
        xs,
        band["min"].to_numpy(float),
        band["max"].to_numpy(float),
        color=_theme.BAND,
        label=t("district_range", lang),
        zorder=1,
        linewidth=0,
    )
    ax.plot(
        xs,
        band["median"].to_numpy(float),
        color=_theme.MEDIAN,
        linestyle="--",
        linewidth=1.5,
        label=t("district_median", lang),
        zorder=2,
    )
    ax.plot(
        own[x].to_numpy(),
        own["value"].to_numpy(float),
        color=_theme.HIGHLIGHT,
        marker="o",
        linewidth=2.2,
        markersize=5,
        label=own_label,
        zorder=3,
    )

    if pd.api.types.is_integer_dtype(data[x]) or x == "year":
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(label(x, lang))
    ax.set_ylabel(label(y, lang))
    _legend_below(ax)
    return _finish(ax)


# ----------------------------------------------------------------------------- communities


def community_bars(
    data: pd.DataFrame,
    *,
    value: str,
    name: str = "community_name",
    highlight: str | None = None,
    digits: int | None = None,
    lang: str = "zh",
) -> pd.DataFrame:
    """What :func:`communities` draws: one row per bar, largest first, with its label.

    Parameters are those of :func:`communities`.

    Returns
    -------
    DataFrame
        ``name`` (str), ``value`` (float, NaN when missing), ``text`` (the value as the
        bar's label: ``—`` when missing, no decimals when every value is a whole number
        and ``digits`` is not given) and ``highlight`` (bool), sorted by ``value``
        descending (stable, missing values last).

    Raises
    ------
    UsageError
        If a column is missing or ``highlight`` is not a community of ``data``.
    """
    check_lang(lang)
    _require(data, [name, value], "communities")
    if highlight is not None:
        _choice(str(highlight), data[name].astype(str), "highlight", "communities")
    df = pd.DataFrame(
        {"name": data[name].astype(str), "value": pd.to_numeric(data[value], errors="coerce")}
    )
    df = df.sort_values("value", ascending=False, na_position="last", kind="stable")
    df = df.reset_index(drop=True)
    v = df["value"].to_numpy(float)
    finite = v[np.isfinite(v)]
    integral = digits is None and len(finite) > 0 and bool(np.all(finite == np.round(finite)))
    df["text"] = [fmt_number(int(vi) if integral and not np.isnan(vi) else vi, lang,
                             digits=digits) for vi in v]
    df["highlight"] = [highlight is not None and n == str(highlight) for n in df["name"]]
    return df


def communities(
    data: pd.DataFrame,
    *,
    value: str,
    name: str = "community_name",
    highlight: str | None = None,
    reference: bool = True,
    digits: int | None = None,
    lang: str = "zh",
    ax=None,
):
    """Plot one horizontal bar per community of a street, largest on top.

    Each bar carries its value, so there is no x scale; a missing value shows ``—`` and
    no bar.  A dashed line marks the median of the communities shown.

    Parameters
    ----------
    data : DataFrame
        One row per community (of one street and year).

        ====================  =====  ===============================
        column                dtype  meaning
        ====================  =====  ===============================
        ``community_name``    str    label (see ``name``)
        ``<value>``           float  the value
        ====================  =====  ===============================
    value : str
        Column plotted; labelled through :func:`xzlib.i18n.label`.
    name : str
        Column with the community labels.
    highlight : str, optional
        A value of ``name`` to draw in the highlight colour.
    reference : bool
        Draw the median of the communities.
    digits : int, optional
        Decimals of the value labels (default: 0 for integers, 1 otherwise).
    lang : {"zh", "en"}
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    UsageError
        If a column is missing or ``highlight`` is not a community of ``data``.
    """
    check_lang(lang)
    df = community_bars(data, value=value, name=name, highlight=highlight, digits=digits,
                        lang=lang)
    ax = _get_ax(ax)

    y = np.arange(len(df))
    v = df["value"].to_numpy(float)
    colors = [_theme.HIGHLIGHT if h else _theme.PALETTE[0] for h in df["highlight"]]
    ax.barh(y, np.nan_to_num(v), height=0.65, color=colors, zorder=2)
    from matplotlib.transforms import offset_copy

    # 4 points right of the bar's end (a plain Text: cheaper than an Annotation to lay out)
    beside = offset_copy(ax.transData, fig=ax.figure, x=4, y=0, units="points")
    for yi, vi, text in zip(y, v, df["text"], strict=True):
        ax.text(
            0 if np.isnan(vi) else vi,
            yi,
            text,
            transform=beside,
            ha="left",
            va="center",
            fontsize="small",
            zorder=4,
            bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
        )
    if reference and np.isfinite(v).any():
        ax.axvline(
            np.nanmedian(v),
            color=_theme.MEDIAN,
            linestyle="--",
            linewidth=1.2,
            label=t("community_median", lang),
            zorder=3,
        )
        _legend_below(ax, ncol=1, pad=1.8)  # no tick labels to clear, only the x label
    _label_rows(ax, df["name"].tolist())
    ax.set_ylim(len(df) - 0.5, -0.5)
    if np.isfinite(v).any():
        ax.set_xlim(0, np.nanmax(v) * 1.15 if np.nanmax(v) > 0 else 1)
    # every bar carries its value: an x scale would repeat it (and its ticks and grid
    # lines are most of what this chart costs to draw)
    ax.set_xticks([])
    ax.set_xlabel(label(value, lang))
    ax.set_ylabel("")
    ax.grid(axis="y", visible=False)
    return _finish(ax)


# ----------------------------------------------------------------------------- resolution


def resolution_times(
    data: pd.DataFrame,
    *,
    days: str = "resolution_days",
    hue: str | None = None,
    highlight: str | None = None,
    log: bool = False,
    lang: str = "zh",
    ax=None,
):
    """Plot the ECDF of days to resolve grid cases, counting unresolved cases.

    The curve at ``x`` is the share of *all* reported cases resolved within ``x`` days,
    so a group with open cases never reaches 100%: the gap at the top is the unresolved
    share, also given in the legend.  An ECDF bins nothing and hides no tail, which is
    why it is used instead of a histogram; a plain ECDF of resolved cases only would
    flatter a street that leaves hard cases open.

    Parameters
    ----------
    data : DataFrame
        One row per case.

        ======================  =====  ============================================
        column                  dtype  meaning
        ======================  =====  ============================================
        ``resolution_days``     float  days from report to resolution; NaN if open
        ``<hue>``               str    optional group (e.g. 本街道 / 全区)
        ======================  =====  ============================================

        ``resolution_days`` is ``(resolved_at - reported_at).dt.total_seconds() / 86400``
        on the ``grid_cases`` table.
    days : str
        Column of days.
    hue : str, optional
        Column whose values are drawn as separate curves.
    highlight : str, optional
        The ``hue`` value drawn in the highlight colour (without ``hue`` the single
        curve is highlighted).
    log : bool
        Symmetric-log x axis (linear up to 1 day), for long tails.
    lang : {"zh", "en"}
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    UsageError
        If a column is missing, a value of ``days`` is negative, or ``highlight`` is not
        a value of ``hue``.
    """
    check_lang(lang)
    _require(data, [days, hue], "resolution_times")
    d = pd.to_numeric(data[days], errors="coerce")
    if (d < 0).any():
        raise UsageError(
            f"resolution_times: `{days}` has negative values (resolved before reported)"
        )
    ax = _get_ax(ax)
    from matplotlib.ticker import PercentFormatter

    if hue is None:
        groups = [(None, d)]
    else:
        keys = data[hue].astype(str)
        levels = [str(v) for v in pd.unique(keys)]  # in order of appearance
        if highlight is not None:
            _choice(str(highlight), levels, "highlight", "resolution_times")
        groups = [(lvl, d[keys == lvl]) for lvl in levels]

    others = iter([_theme.MEDIAN, *_theme.PALETTE])
    for level, g in groups:
        n = len(g)
        if n == 0:
            continue
        resolved = np.sort(g.dropna().to_numpy(float))
        share_open = 1 - len(resolved) / n
        xs = np.r_[0.0, resolved]
        ys = np.r_[0.0, np.arange(1, len(resolved) + 1) / n]
        is_hl = (level is None and highlight is None) or (
            level is not None and str(level) == str(highlight)
        )
        color = _theme.HIGHLIGHT if is_hl else next(others)
        pct = t("unresolved_share", lang, pct=f"{share_open:.1%}")
        name = f"{level}（{pct}）" if lang == "zh" else f"{level} ({pct})"
        if level is None:
            name = pct
        ax.step(
            xs,
            ys,
            where="post",
            color=color,
            linewidth=2.2 if is_hl else 1.6,
            label=name,
            zorder=3 if is_hl else 2,
        )

    if log:
        ax.set_xscale("symlog", linthresh=1)
        # plain day counts (1, 10, 100), easier to read than powers of ten
        from matplotlib.ticker import FuncFormatter

        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _plain_number(v, lang)))
    ax.set_xlim(left=0)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(label(days, lang))
    ax.set_ylabel(t("share_resolved", lang))
    _legend_below(ax, ncol=2)
    return _finish(ax)


# ----------------------------------------------------------------------------- money


def money_reach(
    data: pd.DataFrame,
    *,
    x: str = "year",
    gov: str = "gov_funds_wan",
    social: str = "social_funds_wan",
    reach: str | None = "beneficiaries",
    lang: str = "zh",
    ax=None,
):
    """Plot government and social funds as stacked bars, with person-times served.

    Rows are summed by ``x``, so the ``projects`` table (one row per project) can be
    passed as it is.  Above each bar: the person-times served (服务人次) by those
    projects, explained by a note above the plot; one axis only, so nobody compares yuan
    with people by bar height.

    Parameters
    ----------
    data : DataFrame
        Projects, or any rows to be summed by ``x``.

        ======================  =====  ===========================================
        column                  dtype  meaning
        ======================  =====  ===========================================
        ``year``                int    the ``x`` column (or a street, a programme…)
        ``gov_funds_wan``       float  government funds, 万元
        ``social_funds_wan``    float  social funds, 万元 (missing counts as 0)
        ``beneficiaries``       int    person-times served (missing is left out)
        ======================  =====  ===========================================
    x, gov, social, reach : str
        Column names; ``reach=None`` omits the person-times labels.
    lang : {"zh", "en"}
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    UsageError
        If a column is missing.
    """
    check_lang(lang)
    _require(data, [x, gov, social, reach], "money_reach")
    ax = _get_ax(ax)

    num = pd.DataFrame(
        {
            "x": data[x],
            "gov": pd.to_numeric(data[gov], errors="coerce"),
            "social": pd.to_numeric(data[social], errors="coerce"),
        }
    )
    if reach is not None:
        num["reach"] = pd.to_numeric(data[reach], errors="coerce")
    agg = num.groupby("x", sort=True, observed=True).sum(min_count=1)
    pos = np.arange(len(agg))
    g = agg["gov"].fillna(0).to_numpy(float)
    s = agg["social"].fillna(0).to_numpy(float)
    ax.bar(pos, g, width=0.65, color=_theme.PALETTE[0], label=t("gov_funds", lang), zorder=2)
    ax.bar(
        pos,
        s,
        width=0.65,
        bottom=g,
        color=_theme.PALETTE[1],
        label=t("social_funds", lang),
        zorder=2,
    )
    if reach is not None:
        for p, top, r in zip(pos, g + s, agg["reach"].to_numpy(float), strict=True):
            text = fmt_number(r if np.isnan(r) else int(r), lang)
            ax.annotate(
                text,
                (p, top),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize="x-small",
                color=_theme.MEDIAN,
            )
        ax.text(
            0,
            1.02,
            t("bar_labels_reach", lang),
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize="x-small",
            color=_theme.MEDIAN,
        )
        top = float(np.max(g + s)) if len(pos) else 1.0
        ax.set_ylim(0, top * 1.15 if top > 0 else 1)
    ax.set_xticks(pos, [str(v) for v in agg.index])
    ax.set_xlabel(label(x, lang))
    ax.set_ylabel(t("funds_wan", lang))
    ax.grid(axis="x", visible=False)
    _legend_below(ax, ncol=2)
    return _finish(ax)
