"""The exported fixture report in a real browser: offline, safe, Chinese, not blank.

Marker ``browser``.  Needs Debian's Chromium (``/usr/bin/chromium``, or ``$XZ_CHROMIUM``)
and the Python package ``playwright`` (which drives that Chromium through
``executable_path``; ``playwright install`` is never run and no browser is downloaded).
Without Chromium the tests FAIL with a message; ``.ci/run`` installs it.

Running it by hand, without make::

    apt-get install -y chromium fonts-wqy-microhei      # as root (CI: .ci/run does it)
    .venv/bin/pip install playwright                    # in the dev extra
    .venv/bin/pytest -m browser tests/test_browser.py   # or: -k browser -v

Screenshots are written to pytest's temporary directory (``--basetemp=DIR`` to keep them
somewhere known).  ``XZ_CHROMIUM=/path/to/chromium`` picks another Chromium build.

Chinese text needs a CJK font for the *browser* (readers' phones and PCs have one);
``fonts-wqy-microhei`` (1.6 MB) is what CI installs.  Matplotlib does not need it: xzlib
ships its own font for the charts (see :mod:`xzlib.theme`).
"""

from __future__ import annotations

import pytest

from tests.browser import (
    FIXTURE_META,
    MALICIOUS,
    assert_not_blank,
    assert_page_ok,
    chromium_path,
    execute_fixture,
    glyphs_differ,
    horizontal_overflow,
    open_report,
    platform_fonts,
    screenshot,
    text_width,
)
from xzlib.report.html import export_html, write_html

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The fixture notebook, executed and exported as a street report file."""
    chromium_path()  # fail first, and clearly, when Chromium is missing
    folder = tmp_path_factory.mktemp("report")
    nb = execute_fixture(folder / "fixture.ipynb")
    path = folder / f"{FIXTURE_META['street_code']}.html"
    write_html(export_html(nb, meta=FIXTURE_META), path)
    return path


@pytest.fixture(scope="module")
def page(report):
    with open_report(report) as p:
        yield p


def test_offline_no_requests_no_errors(page):
    assert_page_ok(page)
    log = page.xz_log
    assert len(log.requests) == 1 and log.requests[0].startswith("file:"), log.requests


def test_chinese_text_is_rendered(page):
    # the banner's 示例数据 and the title are laid out with a real width ...
    assert page.inner_text(".xz-banner-label") == "示例数据"
    assert text_width(page, ".xz-banner-label") > 20
    assert "翠香街道" in page.inner_text(".xz-title")
    # ... in a font that has the glyphs (not tofu boxes of a fallback)
    fonts = platform_fonts(page, ".xz-title")
    assert fonts, "no font reported for the title"
    assert glyphs_differ(page, "香洲区社会治理", "理治会社区洲香"), (
        f"CJK glyphs all look the same (tofu): fonts {fonts}; install a CJK font "
        "(apt-get install fonts-wqy-microhei)"
    )
    # the check does detect tofu: unassigned code points draw identical boxes
    assert not glyphs_differ(page, "\U0010fffd\U0010fffc", "\U0010fffc\U0010fffd")


def test_malicious_name_shows_as_text_and_nothing_runs(page):
    assert page.xz_log.dialogs == []
    body = page.inner_text("main")
    assert body.count(MALICIOUS) >= 3  # caption, table cell, prose
    assert page.eval_on_selector_all("main img[onerror]", "els => els.length") == 0
    srcs = page.eval_on_selector_all("img", "els => els.map(e => e.src.slice(0, 22))")
    assert srcs and all(s.startswith("data:image/png;base64") for s in srcs)


def test_toc_navigates(page):
    links = page.eval_on_selector_all("#xz-toc a", "els => els.map(e => e.getAttribute('href'))")
    assert len(links) == 4
    for href in links:
        assert page.evaluate(
            "(h) => !!document.getElementById(decodeURIComponent(h.slice(1)))", href
        )


@pytest.mark.parametrize("width", [375, 1280])
def test_screenshots_not_blank_and_fit(page, width, tmp_path):
    shot = screenshot(page, tmp_path / f"report_{width}.png", width=width)
    stats = assert_not_blank(shot)
    assert stats["size"][0] == width
    assert horizontal_overflow(page) == 0, f"page wider than {width} px"
    if width == 375:  # the wide table scrolls inside its own box
        widths = page.eval_on_selector_all(
            ".xz-table-wrap", "els => els.map(e => [e.scrollWidth, e.clientWidth])"
        )
        assert any(sw > cw for sw, cw in widths), widths
    # images never wider than the viewport
    widest = page.evaluate(
        "() => Math.max(...[...document.images].map(i => i.getBoundingClientRect().right))"
    )
    assert widest <= width + 1


def test_print_stylesheet_applies(page):
    page.emulate_media(media="print")
    try:
        overflow = page.eval_on_selector(
            ".jp-OutputArea-output", "e => getComputedStyle(e).overflowX"
        )
        assert overflow == "visible"
        pdf_ok = page.evaluate("() => document.querySelectorAll('.xz-banner').length") == 1
        assert pdf_ok
    finally:
        page.emulate_media(media="screen")
