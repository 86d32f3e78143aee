"""Shared helpers for report tests: a fixture report notebook and a headless Chromium.

Used by ``tests/test_html.py`` and ``tests/test_browser.py``, and meant for the browser
test of the real report notebooks::

    from tests.browser import open_report, assert_page_ok, glyphs_differ, screenshot, assert_not_blank

    with open_report(path) as page:             # network cut off, events recorded
        assert_page_ok(page)                    # no failed/external request, no console error
        assert glyphs_differ(page, "香洲", "洲香")  # Chinese drawn with real glyphs
        shot = screenshot(page, tmp_path / "375.png", width=375)
        assert_not_blank(shot)

The browser is Debian's ``/usr/bin/chromium`` (``$XZ_CHROMIUM`` overrides), driven by
the Python ``playwright`` package through ``executable_path``; ``playwright install`` is
never used.  ``.ci/run`` installs Chromium when it is missing; without it
:func:`chromium_path` fails the test with a message saying how to install it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

#: A name from the data that carries markup; must show as text and never run.
MALICIOUS = "<img src=x onerror=alert(1)>"

#: Chromium flags: headless, no sandbox (root in CI), nothing phoning home.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--metrics-recording-only",
    "--no-default-browser-check",
    "--mute-audio",
)


# ----------------------------------------------------------------------------- fixture


def fixture_notebook(*, lang: str = "zh") -> nbformat.NotebookNode:
    """A small report-like notebook exercising everything the export must handle.

    A ``parameters`` cell, headings (two with the same text), a table with a malicious
    community name shown through ``table()``, prose through ``md()``, a table wider
    than a phone, matplotlib figures with Chinese labels drawn by ``xzlib.plots`` (one
    left as the cell's last expression, so its ``<Axes ...>`` repr is an output), a
    bare ``print`` and a stderr write (dropped from the report).
    """
    cells = [
        new_code_cell(
            'street_code: str = "440402001"  # 9-digit township code\n'
            "year: int = 2018\n"
            f'lang: str = "{lang}"\n'
            "SECRET_PARAMETER_MARK = 'parameters-cell-source'",
            metadata={"tags": ["parameters"]},
        ),
        new_code_cell(
            "import sys\n"
            "import matplotlib\n"
            "import matplotlib.pyplot as plt\n"
            "import pandas as pd\n"
            "import xzlib.theme, xzlib.plots\n"
            "from xzlib.report.html import md, table\n"
            "xzlib.theme.set_theme()\n"
            "%config InlineBackend.figure_formats = ['png']\n"
            "CODE_INPUT_MARK = 'code-input-should-not-appear'"
        ),
        new_markdown_cell("## 概况\n\n本节为固定文字。Fixed prose."),
        new_code_cell(
            "communities = pd.DataFrame({\n"
            f"    'community_name': ['翠香社区', {MALICIOUS!r}, '康宁社区'],\n"
            "    'households': [12345, 678, None],\n"
            "    'gov_funds_wan': [12.5, 3.25, 0.0],\n"
            "})\n"
            "table(communities, lang=lang, caption='社区一览 ' + communities.community_name[1])"
        ),
        new_code_cell(
            "md('**{name}** 所在社区共 {n} 户。', name=communities.community_name[1], n=12345, lang=lang)"
        ),
        new_markdown_cell("### 图表\n\n下图为示例。"),
        new_code_cell(
            "fig, ax = plt.subplots(figsize=(6, 3.2))\n"
            "xzlib.plots.communities(communities, value='households', lang=lang, ax=ax)\n"
            "ax.set_title('香洲区社会治理')\n"
            "plt.show()"
        ),
        new_code_cell(
            "wide = pd.DataFrame([[f'第{r}行第{c}列数据' for c in range(14)] for r in range(3)],\n"
            "                    columns=[f'很长的列名称{c}' for c in range(14)])\n"
            "table(wide, lang=lang)"
        ),
        new_code_cell("xzlib.plots.communities(communities, value='gov_funds_wan', lang=lang)"),
        new_markdown_cell("## 方法说明\n\n### 图表\n\n同名小节。"),
        new_code_cell("print('香洲区 plain stdout 输出')\nprint('stderr noise', file=sys.stderr)"),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def execute_fixture(path: Path, *, lang: str = "zh", timeout: int = 120) -> nbformat.NotebookNode:
    """Write :func:`fixture_notebook` to ``path``, execute it with papermill, return it.

    papermill adds the ``injected-parameters`` cell, as ``xz build`` does.
    """
    import papermill

    path = Path(path)
    nbformat.write(fixture_notebook(lang=lang), path)
    out = path.with_name(path.stem + ".out.ipynb")
    papermill.execute_notebook(
        str(path),
        str(out),
        parameters={"street_code": "440402001", "year": 2018, "lang": lang},
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=timeout,
        cwd=str(path.parent),
    )
    return nbformat.read(out, as_version=4)


FIXTURE_META = {
    "street_code": "440402001",
    "street_name": "翠香街道",
    "year": 2018,
    "batch": "sample",
    "synthetic": True,
}


# ----------------------------------------------------------------------------- browser


def chromium_path() -> str:
    """Return the Chromium executable, or fail the test saying how to install it."""
    import pytest

    candidates = [os.environ.get("XZ_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    pytest.fail(
        "Chromium not found: the browser tests need Debian's chromium "
        "(apt-get install -y chromium; .ci/run installs it) or XZ_CHROMIUM=/path/to/chromium",
        pytrace=False,
    )


def _playwright():
    import pytest

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "the Python package `playwright` is missing: pip install playwright "
            "(never `playwright install`: the tests drive Debian's chromium)",
            pytrace=False,
        )
    return sync_playwright


@dataclass
class PageLog:
    """What happened while a page was open."""

    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def _local(url: str) -> bool:
    return url.startswith(("file:", "data:", "about:", "blob:"))


@contextlib.contextmanager
def open_report(path, *, width: int = 1280, height: int = 900):
    """Open an HTML file in headless Chromium with the network cut off.

    Every request that is not ``file:``/``data:`` is aborted and recorded; failed
    requests, console errors, page errors and dialogs are recorded on ``page.xz_log``
    (a :class:`PageLog`).  The browser uses a fresh profile directory, removed after.

    Yields
    ------
    playwright.sync_api.Page
    """
    exe = chromium_path()
    sync_playwright = _playwright()
    url = Path(path).resolve().as_uri()
    log = PageLog()
    with tempfile.TemporaryDirectory(prefix="xz-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=exe,
            headless=True,
            args=list(CHROMIUM_ARGS),
            viewport={"width": width, "height": height},
            offline=True,
            java_script_enabled=True,
            service_workers="block",
        )
        try:

            def route(r):
                if _local(r.request.url):
                    r.continue_()
                else:
                    log.blocked.append(r.request.url)
                    r.abort("internetdisconnected")

            context.route("**/*", route)
            page = context.pages[0] if context.pages else context.new_page()
            page.on("request", lambda req: log.requests.append(req.url))
            page.on("requestfailed", lambda req: log.failed.append(f"{req.url} {req.failure}"))
            page.on(
                "console",
                lambda msg: log.console_errors.append(msg.text) if msg.type == "error" else None,
            )
            page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))

            def dialog(d):
                log.dialogs.append(f"{d.type}: {d.message}")
                d.dismiss()

            page.on("dialog", dialog)
            page.xz_log = log
            page.goto(url, wait_until="load")
            page.evaluate("document.fonts.ready.then(() => true)")
            page.wait_for_timeout(200)  # let late errors (img onerror...) arrive
            yield page
        finally:
            context.close()


def assert_page_ok(page) -> None:
    """Assert no external or failed request, no console/page error and no dialog."""
    log: PageLog = page.xz_log
    external = [u for u in log.requests if not _local(u)]
    assert not external, f"requests leaving the file: {external}"
    assert not log.blocked, f"blocked requests: {log.blocked}"
    assert not log.failed, f"failed requests: {log.failed}"
    assert not log.console_errors, f"console errors: {log.console_errors}"
    assert not log.page_errors, f"page errors: {log.page_errors}"
    assert not log.dialogs, f"dialogs opened (script ran): {log.dialogs}"


def text_width(page, selector: str) -> float:
    """Rendered width (px) of the first element matching ``selector``."""
    return page.eval_on_selector(selector, "e => e.getBoundingClientRect().width")


def screenshot(page, path, *, width: int, height: int = 900, full_page: bool = True) -> Path:
    """Resize the viewport to ``width`` and save a PNG screenshot to ``path``."""
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(100)
    page.screenshot(path=str(path), full_page=full_page)
    return Path(path)


def image_stats(path) -> dict:
    """Colours and ink of a screenshot: ``{"colors", "ink_ratio", "size"}``.

    ``ink_ratio`` is the share of pixels that are not (near) white.
    """
    from PIL import Image

    with Image.open(path) as im:
        rgb = im.convert("RGB")
        small = rgb.resize((max(1, rgb.width // 2), max(1, rgb.height // 2)))
        colors = small.getcolors(maxcolors=1 << 20)
        n_colors = len(colors) if colors is not None else 1 << 20
        gray = small.convert("L")
        hist = gray.histogram()
        ink = sum(hist[:235]) / max(1, sum(hist))
        return {"colors": n_colors, "ink_ratio": ink, "size": rgb.size}


def assert_not_blank(path, *, min_colors: int = 16, min_ink: float = 0.02) -> dict:
    """Assert a screenshot has more than a few colours and some non-white pixels."""
    stats = image_stats(path)
    assert stats["colors"] >= min_colors, f"{path}: only {stats['colors']} colours: {stats}"
    assert stats["ink_ratio"] >= min_ink, f"{path}: almost blank: {stats}"
    return stats


def horizontal_overflow(page) -> float:
    """How many px the document is wider than the viewport (0 when nothing overflows)."""
    return page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )


def platform_fonts(page, selector: str) -> list[dict]:
    """Fonts Chromium used to draw the element (DevTools ``CSS.getPlatformFontsForNode``)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()


def glyphs_differ(page, a: str, b: str) -> bool:
    """Whether two permutations of the same characters draw differently in the page font.

    Missing glyphs are drawn as identical boxes, so a permutation of them looks the
    same; real glyphs do not.
    """
    js = """([a, b]) => {
      const draw = (t) => {
        const c = document.createElement('canvas'); c.width = 480; c.height = 64;
        const x = c.getContext('2d');
        x.font = '40px ' + getComputedStyle(document.body).fontFamily;
        x.fillText(t, 0, 48);
        return c.toDataURL();
      };
      return draw(a) !== draw(b);
    }"""
    return page.evaluate(js, [a, b])
