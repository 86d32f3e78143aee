"""A real street report, built from data with a malicious project name, in a real browser.

Marker ``browser`` (see tests/test_browser.py for running it by hand).  The report is the
street notebook executed on the sample batch in which one project of 拱北街道 is called
``<img src=x onerror=alert(1)>`` (title and implementer); it must show as text, nothing
may execute, no request may leave the file, and the page must render at 375 and 1280 px.
"""

from __future__ import annotations

import papermill as pm
import pytest

from tests.browser import (
    MALICIOUS,
    assert_not_blank,
    assert_page_ok,
    chromium_path,
    glyphs_differ,
    horizontal_overflow,
    open_report,
    screenshot,
)
from xzlib import config, dataset, sample
from xzlib.report.contexts import street_report
from xzlib.report.html import export_html, write_html

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STREET = "440402005"  # 拱北街道
MAX_BYTES = 1_500_000


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    chromium_path()  # fail first, and clearly, when Chromium is missing
    root = tmp_path_factory.mktemp("evil")
    frames = sample.generate(0)
    p = frames["projects"]
    mine = p.index[(p["street_code"] == STREET) & (p["year"] == 2018)
                   & (p["programme"] == "innovation")]
    # the project most likely to be listed: the one serving the most people
    target = p.loc[mine, "beneficiaries"].astype("float64").idxmax()
    p.loc[target, ["title", "implementer"]] = MALICIOUS
    processed = dataset.write_tables(frames, root / "processed", batch="evil", synthetic=True)
    out = root / "executed.ipynb"
    pm.execute_notebook(str(config.notebooks_dir() / "street_report.ipynb"), str(out),
                        parameters={"street_code": STREET, "year": 2018, "lang": "zh",
                                    "data_dir": str(processed)},
                        progress_bar=False, cwd=str(config.notebooks_dir()))
    meta = street_report(STREET, 2018, data_dir=processed).meta
    path = root / f"{STREET}.html"
    write_html(export_html(out, lang="zh", meta=meta), path)
    return path


def test_report_is_small_enough(report):
    assert report.stat().st_size <= MAX_BYTES


def test_malicious_name_is_text_and_nothing_runs(report):
    with open_report(report) as page:
        assert_page_ok(page)  # no dialog, no failed/external request, no console error
        assert page.locator("img[onerror]").count() == 0
        assert page.get_by_text(MALICIOUS, exact=True).count() >= 1
        assert "拱北街道" in page.title()


def test_every_chart_is_an_image_the_browser_draws(report):
    """Each chart (SVG written by xzlib.report.svg or by matplotlib, or a PNG) decodes: an
    image that is not well-formed would load with no size."""
    with open_report(report) as page:
        images = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt])")
    assert len(images) >= 12
    assert all(done and w > 300 and h > 100 and alt for done, w, h, alt in images), images


def test_renders_chinese_at_phone_and_desktop_width(report, tmp_path):
    with open_report(report) as page:
        assert glyphs_differ(page, "香洲", "洲香")
        for width in (375, 1280):
            shot = screenshot(page, tmp_path / f"{width}.png", width=width)
            assert_not_blank(shot)
            assert horizontal_overflow(page) <= 1
