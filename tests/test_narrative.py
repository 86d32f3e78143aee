"""Report prose: parameters are checked, sentences adapt to the data and escape it."""

from __future__ import annotations

import html

import pandas as pd
import pytest

from xzlib.errors import UsageError
from xzlib.report import narrative as nr


def test_check_params_lists_valid_codes_for_the_year():
    with pytest.raises(UsageError) as info:
        nr.check_params("440402009", 2018, "zh")  # 凤山街道 did not exist in 2018
    assert "440402003 前山街道" in str(info.value)
    assert nr.check_params(" 440402009 ", 2021, "en") == ("440402009", 2021, "en")
    with pytest.raises(UsageError, match="lang"):
        nr.check_params("440402001", 2018, "fr")
    with pytest.raises(UsageError, match="year"):
        nr.check_params("440402001", "last year", "zh")


@pytest.fixture(scope="module")
def rep(sample_data):
    return nr.street_report("440402001", 2018, data_dir=sample_data / "processed")


def test_headline_uses_the_evaluation(rep):
    s = rep.summary
    text = html.unescape(nr.headline(rep))
    assert f"**{s['rank']}/{s['n_ranked']}**" in text
    assert f"{int(s['rank_interval'][0])}–{int(s['rank_interval'][1])}" in text
    assert "2018 年" in text and "2,018" not in text


def test_unranked_street_is_said_plainly(rep):
    unranked = nr.StreetReport(**{**rep.__dict__, "summary": {
        **rep.summary, "ranked": False, "note": "data on 5 of 19 indicators"}})
    text = html.unescape(nr.headline(unranked))
    assert "不足以参与排名" in text and "data on 5 of 19 indicators" in text


def test_dimension_without_data_says_so(rep):
    dims = [d for d in rep.summary["dimensions"] if d["dimension"] != "D3"]
    other = nr.StreetReport(**{**rep.__dict__, "summary": {**rep.summary, "dimensions": dims}})
    assert "没有可用数据" in nr.dimension_sentence(other, "D3")


def test_data_strings_are_escaped(rep):
    evil = "<b>x</b>"
    summary = {**rep.summary, "similar": [{"similar_name": evil, "similar_code": "1"}]}
    text = nr.similar_sentence(nr.StreetReport(**{**rep.__dict__, "summary": summary}))
    assert "<b>" not in text and html.unescape(text).count(evil) == 1


def test_reconciliation_sentence_counts_verdicts():
    rec = pd.DataFrame({"verdict": ["consistent", "consistent", "differs", "no data"]})
    assert nr.reconciliation_sentence(rec, "en").startswith(
        "Of the 4 figures the article publishes, 2 agree with the data, 1 differ and 1 have")


def test_key_figures_match_the_tables(rep):
    figs = nr.key_figures(rep).set_index("项目")["数值"]
    assert figs["社区数"] == str(len(rep.tables["communities"]))
    gov = rep.tables["projects"]["gov_funds_wan"].sum()
    expected = f"{int(gov):,}" if float(gov).is_integer() else f"{gov:,.1f}"
    assert figs["政府资金"] == expected


def test_figure_displays_a_small_png_with_alt_text(rep, monkeypatch):
    """figure(): one PNG per chart, a 256-colour palette with the theme's colours and
    white kept exact, the chart described in the output's alt metadata, no pyplot figure
    left open."""
    import io

    import matplotlib.pyplot as plt
    import numpy as np
    from PIL import Image

    from xzlib import plots, theme

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    with theme.theme():
        values = nr.community_values(rep, "D2")
        nr.figure(plots.communities, values, value=values.columns[1], lang="zh")
        data, label = nr.trend_data(rep, nr.headline_indicator(rep, "D2"))
        nr.figure(plots.trend, data, y=label, street=rep.street_code, lang="en")
    assert plt.get_fignums() == []
    assert len(shown) == 2
    bars, trend = shown
    assert bars.metadata == {"alt": f"图表：辖内各社区的{values.columns[1]}"}
    assert trend.metadata["alt"].startswith("Chart: ") and label in trend.metadata["alt"]
    image = Image.open(io.BytesIO(bars.data))
    assert image.format == "PNG" and image.mode == "P" and image.size[0] == 640
    rgb = np.asarray(image.convert("RGB")).reshape(-1, 3)
    colours = {tuple(int(v) for v in c) for c in np.unique(rgb, axis=0)}
    assert (255, 255, 255) in colours  # the background is white, not near-white
    assert (0x3E, 0x6D, 0x9C) in colours  # the bars are exactly theme.PALETTE[0]
