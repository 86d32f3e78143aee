"""The house theme, the CJK font and the plot functions: what is drawn, in zh and en.

A matplotlib missing-glyph warning fails every test here (``pytestmark``), and drawing
runs with all warnings turned into errors and matplotlib's font-manager log watched.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import xzlib.plots as xp  # noqa: E402
import xzlib.theme as xt  # noqa: E402
from xzlib.config import reference_dir  # noqa: E402
from xzlib.errors import UsageError  # noqa: E402
from xzlib.i18n import STRINGS, fmt_number, label, t  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error:Glyph:UserWarning")

LANGS = ["zh", "en"]
MALICIOUS = "<img src=x onerror=alert(1)>"
STREETS = [
    ("440402001", "翠香街道"),
    ("440402002", "梅华街道"),
    ("440402003", "前山街道"),
    ("440402004", "吉大街道"),
    ("440402005", "拱北街道"),
    ("440402006", "香湾街道"),
    ("440402007", "狮山街道"),
    ("440402008", "湾仔街道"),
    ("440402009", "凤山街道"),
]
DIMS = ["D1", "D2", "D3", "D4", "D5"]
HERE = "440402001"


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def _isolated():
    """Restore rcParams and close every figure after each test."""
    with mpl.rc_context():
        yield
    plt.close("all")


@pytest.fixture(params=[True, False], ids=["themed", "bare"])
def themed(request):
    """Run with the house theme applied, and without (plots must cope alone)."""
    if request.param:
        xt.set_theme()
    return request.param


@pytest.fixture
def no_side_effects(monkeypatch):
    """Fail on plt.show / savefig; return a checker that rcParams did not change."""

    def boom(*a, **k):
        raise AssertionError("plot functions must not show or save")

    monkeypatch.setattr(plt, "show", boom)
    monkeypatch.setattr(Figure, "savefig", boom)
    before = dict(mpl.rcParams)

    def check():
        after = dict(mpl.rcParams)
        changed = {k for k in before if before[k] != after[k]}
        assert not changed, f"rcParams changed: {sorted(changed)}"

    return check


@contextlib.contextmanager
def strict_drawing(caplog):
    """Turn every warning into an error and fail on font-manager warnings."""
    caplog.set_level(logging.WARNING, logger="matplotlib")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    bad = [r.getMessage() for r in caplog.records if r.name.startswith("matplotlib")]
    assert not bad, f"matplotlib logged: {bad}"


def draw(ax, caplog):
    with strict_drawing(caplog):
        ax.figure.canvas.draw()


def texts(ax) -> list[str]:
    """Every text of an Axes as drawn (titles, labels, tick labels, legend, annotations)."""
    out = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    out += [x.get_text() for x in ax.get_xticklabels() + ax.get_yticklabels()]
    out += [x.get_text() for x in ax.texts]
    if ax.get_legend():
        out += [x.get_text() for x in ax.get_legend().get_texts()]
    return [s for s in out if s]


def hexc(c) -> str:
    return to_hex(c).lower()


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(20131)


@pytest.fixture
def scores():
    rows = []
    for i, (code, name) in enumerate(STREETS):
        for j, d in enumerate(DIMS):
            rows.append((code, name, d, 40.0 + 3 * ((i + j) % 5)))
    df = pd.DataFrame(rows, columns=["street_code", "street_name", "dimension", "score"])
    here = df.street_code == HERE
    df.loc[here & (df.dimension == "D1"), "score"] = 95.0  # far above
    df.loc[here & (df.dimension == "D4"), "score"] = 5.0  # far below
    df.loc[here & (df.dimension == "D2"), "score"] = 46.0  # inside the band
    return df


@pytest.fixture
def ranks():
    df = pd.DataFrame(STREETS, columns=["street_code", "street_name"])
    df["rank"] = [3, 1, 2, 4, 5, 6, 7, 9, 8]
    df["rank_median"] = df["rank"] + 0.5
    df["rank_q05"] = (df["rank"] - 1).clip(lower=1)
    df["rank_q95"] = (df["rank"] + 2).clip(upper=9)
    return df.sample(frac=1, random_state=1)  # order must not matter


@pytest.fixture
def series(rng):
    years = range(2013, 2019)
    rows = [(c, n, y, float(rng.uniform(20, 90))) for c, n in STREETS for y in years]
    return pd.DataFrame(rows, columns=["street_code", "street_name", "year", "score"])


@pytest.fixture
def comms():
    return pd.DataFrame(
        {
            "community_name": ["香华社区", MALICIOUS, "翠香社区", "康宁社区", "人民西社区"],
            "grids": [12, 5, 8, 9, None],
        }
    )


@pytest.fixture
def cases(rng):
    n = 400
    days = rng.lognormal(1.0, 1.0, n)
    days[:20] = np.nan  # 20 open cases in the first group
    group = np.repeat(["翠香街道", "全区"], n // 2)
    return pd.DataFrame({"resolution_days": days, "group": group})


@pytest.fixture
def projects(rng):
    n = 60
    return pd.DataFrame(
        {
            "year": rng.integers(2013, 2019, n),
            "gov_funds_wan": rng.uniform(5, 50, n).round(2),
            "social_funds_wan": np.where(
                rng.random(n) < 0.2, np.nan, rng.uniform(0, 20, n).round(2)
            ),
            "beneficiaries": rng.integers(50, 3000, n),
        }
    )


# ----------------------------------------------------------------------------- theme


def test_importing_changes_nothing():
    code = (
        "import matplotlib as mpl\n"
        "from matplotlib import font_manager as fm\n"
        "before = dict(mpl.rcParams); n = len(fm.fontManager.ttflist)\n"
        "import xzlib.plots, xzlib.theme, xzlib.i18n, xzlib.report.html\n"
        "after = dict(mpl.rcParams)\n"
        "assert after == before, sorted(k for k in before if before[k] != after[k])\n"
        "assert len(fm.fontManager.ttflist) == n, 'a font was registered on import'\n"
        "import sys; assert 'seaborn' not in sys.modules, 'seaborn imported on import'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_set_theme_applies_cjk_font_and_palette():
    xt.set_theme()
    family = xt.cjk_family()
    assert mpl.rcParams["font.sans-serif"][0] == family
    assert mpl.rcParams["font.family"] == ["sans-serif"]
    cycle = [hexc(c["color"]) for c in mpl.rcParams["axes.prop_cycle"]]
    assert cycle[: len(xt.PALETTE)] == [c.lower() for c in xt.PALETTE]
    assert xt.HIGHLIGHT.lower() not in cycle, "the highlight colour is reserved for 'this street'"


def test_theme_context_manager_restores_rcparams():
    before = dict(mpl.rcParams)
    with xt.theme("paper"):
        assert mpl.rcParams["font.sans-serif"][0] == xt.cjk_family()
    after = dict(mpl.rcParams)
    assert after == before


def test_set_theme_rejects_unknown_context():
    with pytest.raises(UsageError, match="'paper', 'notebook', 'talk', 'poster'"):
        xt.set_theme("slides")


def test_cjk_font_draws_chinese(caplog):
    fig, ax = plt.subplots()
    ax.set_title("香洲区社会治理 网格员 居民议事协商 −1.5", fontproperties=xt.cjk_font())
    draw(ax, caplog)
    assert xt.cjk_font_path().is_file()


def _rediscover(monkeypatch):
    xt._discover.cache_clear()
    monkeypatch.delenv("XZ_CJK_FONT", raising=False)


def test_packaged_font_is_used_without_system_fonts(monkeypatch, caplog):
    """A bare Python machine (no CJK font installed) still draws Chinese."""
    from matplotlib import font_manager

    _rediscover(monkeypatch)
    monkeypatch.setattr(xt, "CJK_FAMILIES", ())
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    try:
        path = xt.cjk_font_path()
        assert "site-packages" in str(path) or "dist-packages" in str(path), path
        assert xt._covers(str(path))
        fig, ax = plt.subplots()
        ax.set_xlabel("香洲区社会治理", fontproperties=xt.cjk_font())
        draw(ax, caplog)
        assert xt.cjk_family() == "Noto Sans SC"  # one face, Simplified Chinese forms
    finally:
        xt._discover.cache_clear()


def test_env_font_override(monkeypatch, caplog, tmp_path):
    _rediscover(monkeypatch)
    packaged = xt._PACKAGED_FONTS[0]
    import importlib.util
    from pathlib import Path

    root = Path(importlib.util.find_spec(packaged[0]).submodule_search_locations[0])
    monkeypatch.setenv("XZ_CJK_FONT", str(root / packaged[1]))
    try:
        assert xt.cjk_font_path() == root / packaged[1]
        xt._discover.cache_clear()
        bogus = tmp_path / "nofont.ttf"
        bogus.write_bytes(b"not a font")
        monkeypatch.setenv("XZ_CJK_FONT", str(bogus))
        with caplog.at_level(logging.WARNING, logger="xzlib"):
            assert xt.cjk_font_path() != bogus
        assert "XZ_CJK_FONT" in caplog.text
    finally:
        xt._discover.cache_clear()


def test_font_covers_every_name_of_the_district():
    """Every character of the reference data (street/community names, facts) has a glyph."""
    ref = reference_dir()
    text = set()
    for name in ("divisions.csv", "published_facts.csv", "events.csv", "awards.csv"):
        if (ref / name).is_file():
            text |= set((ref / name).read_text(encoding="utf-8"))
    text |= set("".join(v["zh"] for v in STRINGS.values()))
    cjk = "".join(sorted(c for c in text if ord(c) >= 0x2E80))
    assert cjk, "no reference text found"
    path, index, _ = xt._discover()
    charmap = xt._open_face(path, index).get_charmap()
    missing = [c for c in cjk if ord(c) not in charmap]
    assert not missing, f"{path} lacks {''.join(missing)}"


def test_palette_cycles():
    assert xt.palette() == list(xt.PALETTE)
    assert len(xt.palette(10)) == 10
    assert xt.palette(10)[len(xt.PALETTE)] == xt.PALETTE[0]


# ----------------------------------------------------------------------------- plots


@pytest.mark.parametrize("lang", LANGS)
def test_profile(scores, lang, themed, no_side_effects, caplog):
    fig, ax = plt.subplots()
    out = xp.profile(scores, street=HERE, lang=lang, ax=ax)
    assert out is ax
    no_side_effects()
    assert len(ax.patches) == len(DIMS)  # one ±1 SD band per dimension
    median, street = ax.lines
    assert median.get_label() == t("district_median", lang)
    expected_median = scores.groupby("dimension")["score"].median().reindex(DIMS).to_numpy()
    np.testing.assert_allclose(median.get_xdata(), expected_median)
    assert street.get_label() == "翠香街道"
    assert hexc(street.get_color()) == xt.HIGHLIGHT.lower()
    own = scores[scores.street_code == HERE].set_index("dimension")["score"].reindex(DIMS)
    np.testing.assert_allclose(street.get_xdata(), own.to_numpy())
    assert [x.get_text() for x in xp.row_labels(ax)] == [t(d, lang) for d in DIMS]
    assert [x.get_text() for x in ax.get_yticklabels()] == []  # rows named by texts
    notes = [x.get_text() for x in ax.texts if x not in xp.row_labels(ax)]
    assert notes[0].endswith("▲") and notes[3].endswith("▼")
    assert not notes[1].endswith(("▲", "▼"))
    assert ax.get_xlim() == (0, 100)
    assert ax.get_xlabel() == t("score_0_100", lang)
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert t("sd_band", lang) in legend
    draw(ax, caplog)


def test_profile_unknown_street_lists_choices(scores):
    with pytest.raises(UsageError, match="440402001"):
        xp.profile(scores, street="440402999")
    with pytest.raises(UsageError, match="no column"):
        xp.profile(scores.drop(columns="score"), street=HERE)


@pytest.mark.parametrize("lang", LANGS)
def test_rank_intervals(ranks, lang, themed, no_side_effects, caplog):
    fig, ax = plt.subplots()
    assert xp.rank_intervals(ranks, highlight=HERE, lang=lang, ax=ax) is ax
    no_side_effects()
    n = len(ranks)
    assert len(ax.patches) == n  # one 5-95% bar per street
    ordered = ranks.sort_values("rank")
    assert [x.get_text() for x in xp.row_labels(ax)] == ordered.street_name.tolist()
    colors = [hexc(p.get_facecolor()) for p in ax.patches]
    here_row = ordered.street_code.tolist().index(HERE)
    assert colors[here_row] == xt.HIGHLIGHT.lower()
    assert colors.count(xt.HIGHLIGHT.lower()) == 1
    assert all(c == xt.NEUTRAL.lower() for i, c in enumerate(colors) if i != here_row)
    # bars span q05..q95 as rank cells
    bar = ax.patches[here_row]
    row = ordered.iloc[here_row]
    assert bar.get_x() == pytest.approx(row.rank_q05 - 0.5)
    assert bar.get_width() == pytest.approx(row.rank_q95 - row.rank_q05 + 1)
    medians, nominal = ax.collections
    np.testing.assert_allclose(nominal.get_offsets()[:, 0], ordered["rank"].to_numpy())
    np.testing.assert_allclose(medians.get_offsets()[:, 0], ordered["rank_median"].to_numpy())
    row_colors = [hexc(x.get_color()) for x in xp.row_labels(ax)]
    assert row_colors[here_row] == xt.HIGHLIGHT.lower()
    assert all(c != xt.HIGHLIGHT.lower() for i, c in enumerate(row_colors) if i != here_row)
    assert ax.get_xlabel() == t("rank_axis", lang)
    draw(ax, caplog)


def test_rank_intervals_without_highlight_and_bad_highlight(ranks):
    ax = xp.rank_intervals(ranks)
    assert all(hexc(p.get_facecolor()) == xt.NEUTRAL.lower() for p in ax.patches)
    with pytest.raises(UsageError, match="`highlight` must be one of"):
        xp.rank_intervals(ranks, highlight="翠香")


@pytest.mark.parametrize("lang", LANGS)
def test_trend(series, lang, themed, no_side_effects, caplog):
    fig, ax = plt.subplots()
    assert xp.trend(series, y="score", street=HERE, lang=lang, ax=ax) is ax
    no_side_effects()
    assert len(ax.collections) == 1  # district min-max band
    band = ax.collections[0]
    assert band.get_label() == t("district_range", lang)
    median, street = ax.lines
    stats = series.groupby("year")["score"].agg(["min", "max", "median"])
    np.testing.assert_allclose(median.get_ydata(), stats["median"].to_numpy())
    assert median.get_linestyle() == "--"
    own = series[series.street_code == HERE].sort_values("year")
    np.testing.assert_allclose(street.get_ydata(), own.score.to_numpy())
    assert hexc(street.get_color()) == xt.HIGHLIGHT.lower()
    assert street.get_label() == "翠香街道"
    assert ax.get_xlabel() == t("year", lang)
    assert ax.get_ylabel() == t("score", lang)
    verts = band.get_paths()[0].vertices
    assert verts[:, 1].min() == pytest.approx(stats["min"].min())
    assert verts[:, 1].max() == pytest.approx(stats["max"].max())
    draw(ax, caplog)
    assert all(float(x.get_text()).is_integer() for x in ax.get_xticklabels() if x.get_text())


@pytest.mark.parametrize("lang", LANGS)
def test_communities(comms, lang, themed, no_side_effects, caplog):
    fig, ax = plt.subplots()
    assert xp.communities(comms, value="grids", lang=lang, ax=ax) is ax
    no_side_effects()
    assert len(ax.patches) == len(comms)
    widths = [p.get_width() for p in ax.patches]
    assert widths == [12, 9, 8, 5, 0]  # largest on top, missing last
    labels = [x.get_text() for x in xp.row_labels(ax)]
    assert labels == ["香华社区", "康宁社区", "翠香社区", MALICIOUS, "人民西社区"]
    assert [x.get_position()[1] for x in xp.row_labels(ax)] == [0, 1, 2, 3, 4]  # bar rows
    assert [x.get_text() for x in ax.texts if x not in xp.row_labels(ax)] == [
        "12", "9", "8", "5", "—"]
    (median,) = ax.lines
    assert median.get_xdata()[0] == pytest.approx(8.5)
    assert median.get_label() == t("community_median", lang)
    assert ax.get_xlabel() == label("grids", lang)
    assert list(ax.get_xticks()) == []  # the values are on the bars: no x scale
    draw(ax, caplog)


def test_communities_highlight(comms):
    ax = xp.communities(comms, value="grids", highlight="翠香社区", reference=False)
    colors = [hexc(p.get_facecolor()) for p in ax.patches]
    assert colors.count(xt.HIGHLIGHT.lower()) == 1
    assert colors[2] == xt.HIGHLIGHT.lower()
    assert not ax.lines


@pytest.mark.parametrize("lang", LANGS)
def test_resolution_times(cases, lang, themed, no_side_effects, caplog):
    fig, ax = plt.subplots()
    out = xp.resolution_times(cases, hue="group", highlight="翠香街道", lang=lang, ax=ax)
    assert out is ax
    no_side_effects()
    here, district = ax.lines
    # the ECDF counts open cases: 20 of 200 open -> tops out at 90%
    assert here.get_ydata()[-1] == pytest.approx(0.9)
    assert district.get_ydata()[-1] == pytest.approx(1.0)
    assert np.all(np.diff(here.get_ydata()) >= 0)
    assert hexc(here.get_color()) == xt.HIGHLIGHT.lower()
    assert hexc(district.get_color()) != xt.HIGHLIGHT.lower()
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert "10.0%" in legend[0] and legend[0].startswith("翠香街道")
    assert ax.get_ylabel() == t("share_resolved", lang)
    assert ax.get_ylim() == (0, 1.02)
    draw(ax, caplog)


def test_resolution_times_single_group_log_and_errors(cases):
    ax = xp.resolution_times(cases[["resolution_days"]], log=True)
    (line,) = ax.lines
    assert hexc(line.get_color()) == xt.HIGHLIGHT.lower()
    assert line.get_ydata()[-1] == pytest.approx(380 / 400)
    assert ax.get_xscale() == "symlog"
    with pytest.raises(UsageError, match="negative"):
        xp.resolution_times(pd.DataFrame({"resolution_days": [1.0, -2.0]}))
    with pytest.raises(UsageError, match="`highlight` must be one of"):
        xp.resolution_times(cases, hue="group", highlight="nowhere")


@pytest.mark.parametrize("lang", LANGS)
def test_money_reach(projects, lang, themed, no_side_effects, caplog):
    fig, ax = plt.subplots()
    assert xp.money_reach(projects, lang=lang, ax=ax) is ax
    no_side_effects()
    sums = projects.groupby("year")[["gov_funds_wan", "social_funds_wan", "beneficiaries"]].sum()
    n = len(sums)
    assert len(ax.patches) == 2 * n
    gov, social = ax.patches[:n], ax.patches[n:]
    np.testing.assert_allclose([p.get_height() for p in gov], sums.gov_funds_wan.to_numpy())
    np.testing.assert_allclose([p.get_height() for p in social], sums.social_funds_wan.to_numpy())
    np.testing.assert_allclose([p.get_y() for p in social], sums.gov_funds_wan.to_numpy())
    assert {hexc(p.get_facecolor()) for p in gov} == {xt.PALETTE[0].lower()}
    numbers = [x.get_text() for x in ax.texts[:n]]
    assert numbers == [fmt_number(int(v), lang) for v in sums.beneficiaries]
    assert ax.texts[n].get_text() == t("bar_labels_reach", lang)
    assert [x.get_text() for x in ax.get_xticklabels()] == [str(y) for y in sums.index]
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert legend == [t("gov_funds", lang), t("social_funds", lang)]
    assert ax.get_ylabel() == t("funds_wan", lang)
    draw(ax, caplog)


def test_plots_default_to_current_axes(scores, series):
    fig, ax = plt.subplots()
    assert xp.profile(scores, street=HERE) is ax
    fig2, ax2 = plt.subplots()
    assert xp.trend(series, street=HERE) is ax2


def test_plot_functions_are_seaborn_shaped():
    import inspect

    for name in xp.__all__:
        sig = inspect.signature(getattr(xp, name))
        params = list(sig.parameters.values())
        assert params[0].name == "data" and params[0].kind is params[0].POSITIONAL_OR_KEYWORD
        assert all(p.kind is p.KEYWORD_ONLY for p in params[1:]), name
        assert params[-1].name == "ax" and params[-1].default is None, name
        assert sig.parameters["lang"].default == "zh", name
        assert "Returns" in getattr(xp, name).__doc__


def test_bad_lang_lists_choices(scores):
    with pytest.raises(UsageError, match="'zh', 'en'"):
        xp.profile(scores, street=HERE, lang="fr")


@pytest.mark.parametrize("lang", LANGS)
def test_all_plots_in_one_figure_draw_cleanly(
    scores, ranks, series, comms, cases, projects, lang, caplog
):
    """The whole chart set of a report, drawn together with warnings as errors."""
    xt.set_theme()
    fig, axs = plt.subplots(3, 2, figsize=(12, 12))
    with strict_drawing(caplog):
        xp.profile(scores, street=HERE, lang=lang, ax=axs[0, 0])
        xp.rank_intervals(ranks, highlight=HERE, lang=lang, ax=axs[0, 1])
        xp.trend(series, street=HERE, lang=lang, ax=axs[1, 0])
        xp.communities(comms, value="grids", lang=lang, ax=axs[1, 1])
        xp.resolution_times(cases, hue="group", highlight="翠香街道", lang=lang, ax=axs[2, 0])
        xp.money_reach(projects, lang=lang, ax=axs[2, 1])
        for ax in axs.flat:
            ax.set_title(t("district", lang) + " 香洲区社会治理")
        fig.canvas.draw()
    drawn = [s for ax in axs.flat for s in texts(ax)]
    assert any("翠香街道" in s for s in drawn)
    if lang == "en":
        assert t("district_median", "en") in drawn
