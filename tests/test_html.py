"""HTML export: a fixture notebook, executed by papermill, exported with the template.

The fixture (``tests/browser.py``) has a ``parameters`` cell, papermill's
``injected-parameters`` cell, a table and prose carrying ``<img src=x onerror=alert(1)>``,
headings (two with the same text) and a matplotlib figure with Chinese labels.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from html.parser import HTMLParser

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tests.browser import FIXTURE_META, MALICIOUS, execute_fixture
from xzlib.errors import UsageError
from xzlib.report.html import (
    ExportError,
    esc,
    export_html,
    external_resources,
    md,
    table,
    table_html,
    write_html,
)

ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return execute_fixture(tmp_path_factory.mktemp("nb") / "fixture.ipynb")


@pytest.fixture(scope="module")
def page(executed):
    return export_html(executed, meta=FIXTURE_META)


class _Collector(HTMLParser):
    """Tags, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Collector:
    c = _Collector()
    c.feed(html)
    return c


def minimal_nb(*cells):
    nb = new_notebook(cells=list(cells))
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def code_with(*outputs):
    cell = new_code_cell("x = 1")
    cell.outputs = list(outputs)
    return cell


# ----------------------------------------------------------------------------- fixture export


def test_fixture_has_what_must_be_removed(executed):
    tags = [t for c in executed.cells for t in c.metadata.get("tags", [])]
    assert "parameters" in tags and "injected-parameters" in tags
    assert any(o.get("name") == "stderr" for c in executed.cells for o in c.get("outputs", []))


def test_no_code_no_parameters_no_prompts(page):
    for mark in (
        "CODE_INPUT_MARK",
        "parameters-cell-source",
        "SECRET_PARAMETER_MARK",
        "street_code: str",
        "import xzlib",
        "# Parameters",
        "set_theme",
    ):
        assert mark not in page, mark
    assert "In&nbsp;[" not in page and "Out[" not in page
    body = page[page.index("<body") :]
    assert "jp-InputPrompt" not in body and "jp-OutputPrompt" not in body
    assert "jp-InputArea-editor" not in body and "highlight" not in body
    assert "stderr noise" not in page  # stderr is left out
    assert "plain stdout" in page
    assert "Axes" not in page  # the repr of a plot left as a cell's last expression


def test_self_contained(page):
    low = page.lower()
    assert "<script" not in low
    assert "<link" not in low
    assert "@import" not in low
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", low)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", low)
    assert "mathjax" not in low and "require.js" not in low and "requirejs" not in low
    assert external_resources(page) == []
    assert 'http-equiv="Content-Security-Policy"' in page
    imgs = [a for t, a in parse(page).tags if t == "img"]
    assert len(imgs) == 2 and all(a["src"].startswith("data:image/png;base64,") for a in imgs)
    assert all(a.get("alt") == "图表" for a in imgs)


def test_header_and_language(page):
    p = parse(page)
    html_tag = next(a for t, a in p.tags if t == "html")
    assert html_tag["lang"] == "zh-CN"
    text = "".join(p.text)
    for needed in ("翠香街道", "440402001", "2018", "生成时间", "数据批次", "sample", "xzlib 版本"):
        assert needed in text, needed
    import xzlib

    assert xzlib.__version__ in text
    assert "<title>翠香街道 2018 年基层治理评估报告</title>" in page


def test_toc_links_to_unique_headings(page):
    p = parse(page)
    ids = [a["id"] for _, a in p.tags if "id" in a]
    assert len(ids) == len(set(ids)), "duplicate ids"
    nav = page[page.index("<nav") : page.index("</nav>")]
    hrefs = re.findall(r'href="#([^"]+)"', nav)
    assert hrefs == ["概况", "图表", "方法说明", "图表-2"]
    assert all(h in ids for h in hrefs)
    assert "<details open" in nav and "目录" in nav
    assert nav.index("概况") < nav.index('<ol><li><a href="#图表"')  # h3 nested under h2


def test_synthetic_banner(executed, page):
    assert 'id="xz-synthetic"' in page and "示例数据" in page
    real = export_html(executed, meta={**FIXTURE_META, "synthetic": False})
    assert "xz-synthetic" not in real and "示例数据" not in real


def test_english_chrome(executed):
    en = export_html(executed, lang="en", meta=FIXTURE_META)
    p = parse(en)
    assert next(a for t, a in p.tags if t == "html")["lang"] == "en"
    text = "".join(p.text)
    for needed in ("Contents", "Generated", "Data batch", "Sample data (示例数据)", "synthetic"):
        assert needed in text, needed
    assert "生成时间" not in text


def test_malicious_names_are_text(executed, page):
    assert MALICIOUS not in page
    assert page.count(ESCAPED) >= 3  # table cell, caption, prose
    p = parse(page)
    assert not [a for t, a in p.tags if t == "img" and "onerror" in a]
    assert "".join(p.text).count(MALICIOUS) >= 3  # shown as the text it is
    evil = export_html(
        executed,
        meta={
            **FIXTURE_META,
            "street_name": MALICIOUS,
            "batch": '"><script>x</script>',
            "title": "</title><script>alert(1)</script>",
        },
    )
    assert MALICIOUS not in evil and "<script" not in evil.lower()
    assert "&lt;/title&gt;&lt;script&gt;" in evil


def test_size(executed, page):
    size = len(page.encode())
    assert size < 200_000, size  # (speed is measured in benchmarks/, not here)


def test_export_does_not_modify_the_notebook(executed):
    before = copy.deepcopy(executed)
    export_html(executed, meta=FIXTURE_META)
    assert executed == before


def test_export_from_path(executed, tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(executed, path)
    assert "翠香街道" in export_html(path, meta=FIXTURE_META)


def test_images_keep_their_bytes_and_carry_alt_text(executed, caplog):
    """Images are stashed during the export and put back byte for byte; an image output's
    ``alt`` metadata (as figures.figure sets it) becomes its alt text, escaped, and no
    image is left without one (no nbconvert "Alternative text is missing" warning)."""
    nb = copy.deepcopy(executed)
    pngs = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "image/png" in out.get("data", {}):
                pngs.append(out.data["image/png"])
                out.setdefault("metadata", {})["image/png"] = {"alt": '图表："<b>" & 趋势'}
    assert pngs
    with caplog.at_level("WARNING"):
        page = export_html(nb, meta=FIXTURE_META)
    assert "Alternative text" not in caplog.text
    imgs = [a for t, a in parse(page).tags if t == "img"]
    assert [a["src"] for a in imgs] == [f"data:image/png;base64,{d}" for d in pngs]
    assert all(a["alt"] == '图表："<b>" & 趋势' for a in imgs)
    assert "xzimg" not in page  # no token left behind
    assert "&lt;b&gt;" in page and "<b>" not in page.split("<body", 1)[1]


def test_svg_charts_are_images_with_alt_text(executed):
    """An SVG output (figures.figure draws most charts so) is an <img> with its alt text."""
    import base64

    nb = copy.deepcopy(executed)
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>翠香</text></svg>'
    nb.cells.append(nbformat.v4.new_code_cell("chart()", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/svg+xml": svg},
        metadata={"image/svg+xml": {"alt": "图表：<社区>"}})]))
    page = export_html(nb, meta=FIXTURE_META)
    imgs = [a for t, a in parse(page).tags if t == "img"]
    assert {"src": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
            "alt": "图表：<社区>"}.items() <= imgs[-1].items()
    assert "<svg" not in page.split("<body", 1)[1]


def test_exporter_is_reused_and_gives_the_same_page(executed):
    from xzlib.report import html as xhtml

    first = export_html(executed, meta={**FIXTURE_META, "generated_at": "2026-01-01 08:00"})
    exporter = xhtml._EXPORTER
    again = export_html(executed, meta={**FIXTURE_META, "generated_at": "2026-01-01 08:00"})
    assert xhtml._EXPORTER is exporter and again == first


def test_deferred_rfc3987_import_keeps_format_checks():
    """nbformat (jsonschema) imports without building rfc3987_syntax's parser; the
    ``iri`` format check still works, through the stand-in, when something uses it."""
    code = (
        "import sys, time\n"
        "from xzlib.report.batch.tuning import defer_rfc3987\n"
        "defer_rfc3987()\n"
        "import nbformat, jsonschema\n"
        "stub = sys.modules.get('rfc3987_syntax')\n"
        "assert stub is None or getattr(stub, '__doc__', '').startswith('stand-in'), stub\n"
        "if stub is not None:\n"
        "    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER\n"
        "    assert checker.conforms('http://例子.测试/路径', 'iri')\n"
        "    assert not checker.conforms('http://exa mple.com/ bad', 'iri')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ----------------------------------------------------------------------------- strictness


def test_meta_is_checked(executed):
    with pytest.raises(UsageError, match="synthetic"):
        export_html(executed, meta={"street_code": "440402001"})
    with pytest.raises(UsageError, match="unknown `meta` key"):
        export_html(executed, meta={**FIXTURE_META, "stret_name": "x"})
    with pytest.raises(UsageError, match="'zh', 'en'"):
        export_html(executed, lang="fr", meta=FIXTURE_META)


def test_script_output_fails_or_is_dropped():
    out = new_output("display_data", data={"text/html": "<p>ok</p><script>alert(1)</script>"})
    nb = minimal_nb(code_with(out))
    with pytest.raises(ExportError, match="script"):
        export_html(nb, meta={"synthetic": False})
    html = export_html(nb, meta={"synthetic": False}, strict=False)
    assert "<script" not in html.lower() and "alert(1)" not in html


def test_javascript_and_widgets_are_dropped():
    js = new_output("display_data", data={"application/javascript": "alert(1)", "text/plain": "js"})
    widget = new_output(
        "display_data",
        data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "w"},
    )
    html = export_html(minimal_nb(code_with(js, widget)), meta={"synthetic": False})
    assert "<script" not in html.lower() and "alert(1)" not in html


def test_missing_glyph_warning_fails_export():
    warn = new_output(
        "stream",
        name="stderr",
        text="UserWarning: Glyph 39321 (\\N{CJK UNIFIED IDEOGRAPH-9999}) missing from font(s) DejaVu Sans.",
    )
    with pytest.raises(ExportError, match="glyph"):
        export_html(minimal_nb(code_with(warn)), meta={"synthetic": True})


def test_external_image_in_markdown_fails():
    nb = minimal_nb(new_markdown_cell("## 图\n\n![logo](https://example.com/logo.png)"))
    with pytest.raises(ExportError, match="external"):
        export_html(nb, meta={"synthetic": True})


def test_external_resources_detector():
    assert external_resources('<img src="data:image/png;base64,AAAA">') == []
    assert external_resources('<a href="https://example.com">link</a>') == []
    assert external_resources('<img src="https://x/y.png">')
    assert external_resources('<script src="//cdn/x.js"></script>')
    assert external_resources('<link rel="stylesheet" href="http://x/y.css">')
    assert external_resources("<style>@import 'x.css';</style>")
    assert external_resources("<div style=\"background:url('https://x/y.png')\">")


# ----------------------------------------------------------------------------- helpers


def test_esc_renders_as_text_in_markdown_and_html():
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    nasty = [
        MALICIOUS,
        "# 标题\n- 列表",
        "**粗** _斜_ `code` [x](javascript:alert(1)) $x$ | a | b |",
        "a & b < c > d \"q\" 'q'",
    ]
    for s in nasty:
        e = esc(s)
        assert not set(re.sub(r"&#\d+;", "", e)) & set("<>&\"'`*_[]()#$|\n")
        rendered = markdown2html_mistune(f"社区：{e}")
        shown = "".join(parse(rendered).text).strip()
        assert shown == "社区：" + " ".join(s.splitlines()), rendered
        tags = [t for t, _ in parse(rendered).tags]
        assert tags == ["p"], rendered
        # the same string works inside HTML
        assert "".join(parse(f"<p>{e}</p>").text) == " ".join(s.splitlines())
    assert esc(None) == "" and esc("翠香街道") == "翠香街道"


def test_md_escapes_values_and_formats_numbers():
    out = md("**{name}** 有 {n} 户，{missing}", name=MALICIOUS, n=12345, missing=None)
    assert MALICIOUS not in out.data
    assert "**" in out.data  # the author's Markdown stays Markdown
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    shown = "".join(parse(markdown2html_mistune(out.data)).text).strip()
    assert shown == f"{MALICIOUS} 有 12,345 户，—"


def test_table_html_escapes_and_formats():
    df = pd.DataFrame(
        {
            "community_name": [MALICIOUS, "翠香社区"],
            "households": pd.array([12345, None], dtype="Int64"),
            "gov_funds_wan": [1.25, 3.0],
            "party_committee": [True, False],
            "<b>col</b>": ["a&b", None],
        },
        index=["idx1", "idx2"],
    )
    html = table_html(df, lang="zh", caption=MALICIOUS)
    assert MALICIOUS not in html and "<b>" not in html
    p = parse(html)
    cells = "|".join(p.text)
    assert "户数（户）" in cells and "政府资金（万元）" in cells  # labels with units
    assert "12,345" in cells and "—" in cells and "1.3" in cells and "3.0" in cells
    assert "是" in cells and "否" in cells and "a&b" in cells
    assert "idx1" not in html  # no index
    assert [a.get("class") for t, a in p.tags if t == "th"] == [None, "num", "num", None, None]
    en = table_html(df, lang="en", columns={"community_name": "Name"})
    assert "Name" in en and "Households" in en and "yes" in en
    assert table(df).data == table_html(df)
    with pytest.raises(UsageError):
        table_html([1, 2])


def test_write_html_is_atomic(tmp_path):
    path = tmp_path / "reports" / "440402001.html"
    write_html("<p>一</p>", path)
    write_html("<p>二</p>", path)
    assert path.read_text(encoding="utf-8") == "<p>二</p>"
    with pytest.raises(TypeError):
        write_html(None, path)  # fails while writing the temporary file
    assert path.read_text(encoding="utf-8") == "<p>二</p>"
    assert [p.name for p in path.parent.iterdir()] == ["440402001.html"]


def test_importing_report_html_is_light():
    code = (
        "import sys, xzlib.report.html\n"
        "heavy = [m for m in ('nbconvert', 'nbformat', 'pandas', 'matplotlib', 'IPython', 'bs4')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_postprocess_headings_with_markup_and_clashing_ids():
    """The post-processing works on nbconvert's markup without parsing it again: a heading's
    text is its text (tags dropped, entities read), ids stay unique against any element
    of the page, the anchor links, tabindex and a stray script go, a missing alt is filled."""
    from xzlib.report.html import _postprocess

    body = (
        '<!DOCTYPE html>\n<html><body><div id="a-b-c">x</div><nav class="xz-toc" '
        'id="xz-toc" aria-label="目录"><!--xz-toc--></nav><main>'
        '<h2 id="old">A &amp; <code>b</code> &lt;c&gt;<a class="anchor-link" href="#old">¶</a></h2>'
        '<div class="jp-OutputArea-output" tabindex="0"><img alt="No description has been '
        'provided for this image" src="data:,"/></div><h3>概要</h3><h3>概要</h3>'
        '<h2 class="k">Two\nlines</h2><script>alert(1)</script></main></body></html>'
    )
    page = _postprocess(body, "zh")
    p = parse(page)
    ids = [a["id"] for _, a in p.tags if "id" in a]
    assert len(ids) == len(set(ids))
    assert 'id="A-&amp;-b-c"' not in page  # & is dropped from ids by _slug
    heads = re.findall(r"<(h[23]) id=\"([^\"]+)\"([^>]*)>(.*?)</\1>", page, re.DOTALL)
    assert [(h, i) for h, i, _, _ in heads] == [("h2", "A--b-c"), ("h3", "概要"), ("h3", "概要-2"),
                                               ("h2", "Two-lines")]
    assert heads[0][3] == "A &amp; <code>b</code> &lt;c&gt;" and heads[3][2] == ' class="k"'
    nav = page[page.index("<nav") : page.index("</nav>")]
    assert re.findall(r'href="#([^"]+)">([^<]*)<', nav) == [
        ("A--b-c", "A &amp; b &lt;c&gt;"), ("概要", "概要"), ("概要-2", "概要"), ("Two-lines", "Two lines")]
    assert "anchor-link" not in page and "tabindex" not in page and "<script" not in page
    assert 'alt="图表"' in page
    bare = _postprocess(re.sub(r"(</?)h[1-4]\b", r"\1p", body), "zh")  # no heading left
    assert '<nav class="xz-toc" id="xz-toc" aria-label="目录"></nav>' in bare
