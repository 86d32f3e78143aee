"""HTML export of executed report notebooks, and the escaping helpers notebooks use.

:func:`export_html` turns an executed notebook into one self-contained HTML file with
nbconvert and the project's template (``xzlib/templates/xz_report``):

* no code: inputs, prompts and cells tagged ``parameters``, ``injected-parameters`` or
  ``remove-cell`` are left out; so are stderr streams (logged, and a matplotlib
  missing-glyph warning among them fails the export) and the bare ``<Axes: ...>`` repr
  of a plot call left as a cell's last expression;
* no request leaves the file: no require.js, MathJax, fonts or stylesheets from a CDN,
  no script at all (a Content-Security-Policy forbids them too), images embedded as
  data URIs; :func:`external_resources` checks the result;
* every image has alt text: the output's own (``Image(..., metadata={"alt": ...})``,
  which :func:`xzlib.report.figures.figure` sets from what the chart shows) or 图表/Chart;
* a header (title, street, year, generation time, data batch, xzlib version), a visible
  示例数据 banner when the data is synthetic, a table of contents built from the ``##``
  and ``###`` headings, a layout readable at 375 px and a print stylesheet;
* Chinese by default, English labels with ``lang="en"``.

Rule for notebooks: data never goes into Markdown cells
-------------------------------------------------------
A name in the data (a community, a project, an implementer) can contain anything,
``<img src=x onerror=alert(1)>`` included, and nbconvert passes HTML in Markdown through
unchanged.  So:

1. Markdown *cells* hold fixed prose and headings only.
2. Prose that includes data is produced in a code cell with :func:`md` (or
   ``IPython.display.Markdown``/``HTML``) and every data string passes through
   :func:`esc`::

       md("**{name}** 共有 {n} 个社区。", name=street_name, n=len(comms))   # escapes both
       display(Markdown(f"**{esc(street_name)}** 共有 {len(comms)} 个社区。"))

3. Tables are shown with :func:`table`, which escapes every header and cell, formats
   numbers (thousands separators, units in headers from :func:`xzlib.i18n.label`) and
   drops the index; never with a bare ``df`` or ``df.to_html(escape=False)``.
4. Plots take data strings as matplotlib text, which is never HTML.

Importing this module is cheap (standard library only); nbconvert, nbformat, IPython and
pandas are imported by the functions that need them, because the batch builder imports
this module in every worker.
"""

from __future__ import annotations

import copy
import html as _html
import logging
import os
import re
import secrets
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from ..errors import UsageError, XzError
from ..fsutil import write_text
from ..i18n import check_lang, fmt_number, html_lang, label, report_title, t

__all__ = [
    "TEMPLATE_NAME",
    "REMOVE_TAGS",
    "META_KEYS",
    "ExportError",
    "esc",
    "md",
    "table",
    "table_html",
    "export_html",
    "write_html",
    "external_resources",
]

logger = logging.getLogger(__name__)

#: nbconvert template name, a folder of the packaged ``templates`` (:mod:`xzlib.resources`).
TEMPLATE_NAME = "xz_report"
#: Cells with any of these tags are left out of the report.
REMOVE_TAGS = frozenset({"parameters", "injected-parameters", "remove-cell"})
#: Keys :func:`export_html` accepts in ``meta``.
META_KEYS = (
    "title",
    "street_code",
    "street_name",
    "year",
    "generated_at",
    "batch",
    "xzlib_version",
    "synthetic",
    "runs",
    "seed",
)
# Output mime types that need JavaScript; dropped.
_SCRIPT_MIMES = (
    "application/javascript",
    "text/javascript",
    "application/vnd.jupyter.widget-view+json",
    "application/vnd.jupyter.widget-state+json",
)
_GLYPH_WARNING = re.compile(r"Glyph \d+ .*missing from (current )?font", re.IGNORECASE)
_CHINA_TZ = timezone(timedelta(hours=8), "UTC+8")


class ExportError(XzError):
    """A notebook cannot be exported as a report (it would leak, run script or show tofu)."""


# ----------------------------------------------------------------------------- escaping

# Every ASCII punctuation character may start Markdown or HTML syntax somewhere.
_SPECIAL = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def esc(text) -> str:
    """Escape a data string for Markdown *and* HTML: the text shows as written.

    Every ASCII punctuation character becomes a numeric character reference
    (``<`` → ``&#60;``), which Markdown does not interpret as syntax and HTML shows as
    the character; line breaks become spaces (a name cannot start a heading or a list).
    Use it for every data string put into :func:`md`, ``Markdown(...)`` or ``HTML(...)``,
    but not inside Markdown code spans.

    Parameters
    ----------
    text : object
        Converted with ``str``; ``None`` gives ``""``.

    Returns
    -------
    str

    Examples
    --------
    >>> esc("<img src=x onerror=alert(1)>")
    '&#60;img src&#61;x onerror&#61;alert&#40;1&#41;&#62;'
    >>> esc("翠香街道")
    '翠香街道'
    """
    if text is None:
        return ""
    s = " ".join(str(text).splitlines())
    return "".join(f"&#{ord(c)};" if c in _SPECIAL else c for c in s)


def _fmt(value, lang: str) -> str:
    """A value as text for a reader (numbers formatted, missing as —)."""
    import numbers

    if value is None or isinstance(value, bool | numbers.Number):
        return fmt_number(value, lang)
    try:
        if value != value:  # NaN-like
            return t("na", lang)
    except (TypeError, ValueError):
        pass
    if type(value).__name__ in ("NAType", "NaTType"):
        return t("na", lang)
    return str(value)


def md(text: str, /, *, lang: str = "zh", **values):
    """Return Markdown for display, with every value escaped by :func:`esc`.

    ``text`` is fixed prose (a literal in the notebook) with ``{name}`` fields; the
    values are formatted for readers (numbers with thousands separators, missing as
    ``—``) and escaped.  Format specs are not supported: format numbers with
    :func:`xzlib.i18n.fmt_number` first.

    Parameters
    ----------
    text : str
        Markdown prose with ``{name}`` fields.
    lang : {"zh", "en"}
        Language of the number formatting.
    **values
        The data.

    Returns
    -------
    IPython.display.Markdown

    Examples
    --------
    >>> md("**{name}** 有 {n} 个网格", name="翠香街道", n=1234).data
    '**翠香街道** 有 1&#44;234 个网格'
    """
    from IPython.display import Markdown

    check_lang(lang)
    return Markdown(text.format(**{k: esc(_fmt(v, lang)) for k, v in values.items()}))


def table_html(
    df,
    *,
    lang: str = "zh",
    columns: dict[str, str] | None = None,
    digits: int | dict[str, int] | None = None,
    caption: str | None = None,
    max_rows: int | None = None,
) -> str:
    """Render a DataFrame as escaped HTML: no index, formatted numbers, labelled headers.

    Parameters
    ----------
    df : pandas.DataFrame
        The rows to show, in order.  The index is not shown: reset it to show it.
    lang : {"zh", "en"}
        Language of headers (via :func:`xzlib.i18n.label`) and of 是/否, —.
    columns : dict, optional
        ``{column: header}`` for headers other than the default labels.
    digits : int or dict, optional
        Decimals of float columns: one for all, or per column (default 1; floats whose
        values are all whole numbers show none).
    caption : str, optional
        Table caption (escaped).
    max_rows : int, optional
        Show at most this many rows.

    Returns
    -------
    str
        ``<div class="xz-table-wrap"><table class="xz-table">…</table></div>``; every
        header and cell is HTML-escaped.
    """
    import pandas as pd

    check_lang(lang)
    if not isinstance(df, pd.DataFrame):
        raise UsageError(f"table: `df` must be a pandas DataFrame, not {type(df).__name__}")
    columns = columns or {}
    if max_rows is not None:
        df = df.head(max_rows)
    e = _html.escape

    head, kinds, fmts = [], [], []
    for col in df.columns:
        s = df[col]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        kinds.append("num" if numeric else "")
        header = columns.get(col) if col in columns else label(str(col), lang)
        cls = ' class="num"' if numeric else ""
        head.append(f'<th scope="col"{cls}>{e(str(header))}</th>')
        d = digits.get(col) if isinstance(digits, dict) else digits
        if numeric and pd.api.types.is_integer_dtype(s):
            d = 0  # counts and ranks: 3, never 3.0
        elif numeric and d is None and pd.api.types.is_float_dtype(s):
            finite = s.dropna()
            finite = finite[finite.abs() != float("inf")]
            if len(finite) and bool((finite == finite.round()).all()):
                d = 0
        fmts.append(d)

    rows = []
    for values in df.itertuples(index=False, name=None):
        cells = []
        for value, kind, d in zip(values, kinds, fmts, strict=True):
            if kind == "num":
                text = fmt_number(None if _is_missing(value) else value, lang, digits=d)
            elif isinstance(value, bool) or type(value).__name__ == "bool_":
                text = t("yes" if value else "no", lang)
            elif _is_missing(value):
                text = t("na", lang)
            elif isinstance(value, datetime | pd.Timestamp):
                ts = pd.Timestamp(value)
                text = (
                    ts.strftime("%Y-%m-%d")
                    if ts == ts.normalize()
                    else ts.strftime("%Y-%m-%d %H:%M")
                )
            elif isinstance(value, date):
                text = value.isoformat()
            else:
                text = str(value)
            cls = ' class="num"' if kind == "num" else ""
            cells.append(f"<td{cls}>{e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")

    cap = f"<caption>{e(str(caption))}</caption>" if caption else ""
    return (
        '<div class="xz-table-wrap"><table class="xz-table">'
        f"{cap}<thead><tr>{''.join(head)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _is_missing(value) -> bool:
    if value is None:
        return True
    if type(value).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def table(df, *, lang: str = "zh", **kwargs):
    """Display a DataFrame as an escaped HTML table (see :func:`table_html`).

    Parameters
    ----------
    df : pandas.DataFrame
    lang : {"zh", "en"}
    **kwargs
        ``columns``, ``digits``, ``caption``, ``max_rows`` of :func:`table_html`.

    Returns
    -------
    IPython.display.HTML
        Shown as the table when it is the last expression of a cell (or via ``display``).

    Examples
    --------
    >>> table(communities[["community_name", "grids"]], lang="zh")  # doctest: +SKIP
    """
    from IPython.display import HTML

    return HTML(table_html(df, lang=lang, **kwargs))


# ----------------------------------------------------------------------------- export


def _meta_context(meta: dict, lang: str) -> dict:
    """The header context of the template; every string HTML-escaped here, once."""
    if not isinstance(meta, dict):
        raise UsageError(f"`meta` must be a dict, not {type(meta).__name__}")
    unknown = sorted(set(meta) - set(META_KEYS))
    if unknown:
        raise UsageError(f"unknown `meta` key(s) {unknown}; valid keys are {list(META_KEYS)}")
    if not isinstance(meta.get("synthetic"), bool):
        raise UsageError(
            "`meta['synthetic']` must be given, True or False: a report must say whether "
            "its data are synthetic (示例数据)"
        )
    e = _html.escape

    def text(key):
        v = meta.get(key)
        return None if v is None or v == "" else str(v)

    version = text("xzlib_version")
    if version is None:
        from .. import __version__ as version
    gen = meta.get("generated_at")
    if gen is None:
        gen = datetime.now(_CHINA_TZ)
    if isinstance(gen, datetime):
        gen = gen.strftime("%Y-%m-%d %H:%M") + (f" ({gen.tzname()})" if gen.tzinfo else "")
    street, code, year = text("street_name"), text("street_code"), text("year")
    title = text("title")
    if title is None:
        title = report_title(lang, year, street) if year else t("report_title", lang)

    items = []
    if street or code:
        value = f"{street}（{code}）" if street and code else (street or code)
        if lang == "en" and street and code:
            value = f"{street} ({code})"
        items.append(("street", t("street", lang), value))
    for key, lab, value in (
        ("year", t("year", lang), year),
        ("generated", t("generated_at", lang), str(gen)),
        ("batch", t("batch", lang), text("batch")),
        ("monte-carlo", t("monte_carlo", lang),
         t("monte_carlo_value", lang, runs=meta["runs"], seed=meta.get("seed", 0))
         if meta.get("runs") is not None else None),
        ("version", t("xzlib_version", lang), version),
    ):
        if value is not None:
            items.append((key, lab, value))
    synthetic = meta["synthetic"]
    footer = f"{t('district', lang)} · {title} · xzlib {version}"
    if synthetic:
        footer = f"{t('synthetic_label', lang)} · {footer}"
    return {
        "lang": lang,
        "html_lang": html_lang(lang),
        "title": e(title),
        "kicker": e(f"{t('district', lang)} · {t('report_title', lang)}"),
        "fields": [{"key": k, "label": e(lab), "value": e(v)} for k, lab, v in items],
        "synthetic": synthetic,
        "synthetic_label": e(t("synthetic_label", lang)),
        "synthetic_text": e(t("synthetic_banner", lang)),
        # CSS string in @page: only characters that need no escaping in CSS.
        "print_mark": re.sub(r'["\\<>\n]', "", t("synthetic_label", lang)),
        "toc_label": e(t("toc", lang)),
        "figure_alt": e(t("figure_alt", lang)),
        "xzlib_version": e(version),
        "footer": e(footer),
    }


def _load(nb):
    import nbformat

    if isinstance(nb, str | os.PathLike):
        return nbformat.read(os.fspath(nb), as_version=4)
    if isinstance(nb, dict):
        return copy.deepcopy(
            nb if isinstance(nb, nbformat.NotebookNode) else nbformat.from_dict(nb)
        )
    raise UsageError(f"`nb` must be a notebook (NotebookNode) or a path, not {type(nb).__name__}")


def _clean(nb, *, strict: bool) -> None:
    """Remove what a report must not carry, in place (``nb`` is a copy)."""
    kept = []
    for index, cell in enumerate(nb.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVE_TAGS:
            continue
        if cell.get("cell_type") == "code":
            outputs = []
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    txt = out.get("text", "")
                    txt = "".join(txt) if isinstance(txt, list) else txt
                    if _GLYPH_WARNING.search(txt) and strict:
                        raise ExportError(
                            f"cell {index}: matplotlib could not draw some characters (missing "
                            f"glyphs): call xzlib.theme.set_theme() before plotting.\n{txt[:500]}"
                        )
                    logger.warning(
                        "cell %d: stderr left out of the report: %s", index, txt.strip()[:300]
                    )
                    continue
                data = out.get("data")
                if data is not None and _object_repr_only(data):
                    continue  # "<Axes: ...>" of a plot call left as the last expression
                if data is not None:
                    for mime in _SCRIPT_MIMES:
                        data.pop(mime, None)
                    html = data.get("text/html")
                    if html is not None:
                        html = "".join(html) if isinstance(html, list) else html
                        if re.search(r"<script\b", html, re.IGNORECASE):
                            if strict:
                                raise ExportError(
                                    f"cell {index}: an HTML output contains a <script>; a report "
                                    "runs no script (show tables with xzlib.report.html.table)"
                                )
                            data.pop("text/html")
                    if not data:
                        continue
                outputs.append(out)
            cell["outputs"] = outputs
            if not outputs:  # nothing to show: no empty box in the page
                continue
        kept.append(cell)
    nb.cells = kept
    nb.metadata.pop("widgets", None)


_OBJECT_REPR = re.compile(r"^<(Axes|Figure|matplotlib\.[\w.]+|seaborn\.[\w.]+)\b[^\n]*>$")


def _object_repr_only(data) -> bool:
    """Whether an output is only the text repr of a plot object (no value for a reader)."""
    if set(data) != {"text/plain"}:
        return False
    text = data["text/plain"]
    text = "".join(text) if isinstance(text, list) else text
    return bool(_OBJECT_REPR.match(text.strip()))


def _slug(text: str) -> str:
    s = re.sub(r"\s+", "-", text.strip())
    s = re.sub(r"[\"'<>&#?%/\\`]", "", s)
    return s[:60] or "section"


_HEADING = re.compile(r"<(h[1-4])((?:\s[^>]*)?)>(.*?)</\1>", re.DOTALL)
_ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="[^"]*">.*?</a>', re.DOTALL)
_ID_ATTR = re.compile(r'\sid="([^"]*)"')
_TAG = re.compile(r"<[^>]*>")
_NO_ALT = re.compile(r'(<img\b[^>]*\salt=")No description has been provided[^"]*"')
_TABINDEX = re.compile(r'\stabindex="[^"]*"')
_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.DOTALL | re.IGNORECASE)
_TOC_NAV = re.compile(r'(<nav\b[^>]*\sid="xz-toc"[^>]*>).*?(</nav>)', re.DOTALL)


def _postprocess(page: str, lang: str) -> str:
    """Give headings unique ids, build the table of contents, fix alt texts.

    Works on the page as nbconvert serialises it (BeautifulSoup's markup: attributes in
    double quotes, text escaped), inside ``<main>`` only, without parsing it again:
    headings lose nbconvert's ``¶`` anchor links and get ids made from their text,
    unique in the page; images without alt text get 图表/Chart; outputs lose the
    ``tabindex`` nbconvert gives them (a reader tabs through links, not through
    charts); a ``<script>`` (impossible after :func:`_clean`) is dropped.
    """
    begin, end = page.find("<main"), page.rfind("</main>")
    if begin < 0 or end < begin:
        head, main, tail = page, "", ""
    else:
        head, main, tail = page[:begin], page[begin:end], page[end:]
    headings = list(_HEADING.finditer(main))
    outside = _HEADING.sub("", main) if headings else main
    taken = set(_ID_ATTR.findall(head + outside + tail))
    entries, pieces, last = [], [], 0
    for m in headings:
        tag, attrs, inner = m.groups()
        inner = _ANCHOR_LINK.sub("", inner)
        text = " ".join(_html.unescape(_TAG.sub(" ", inner)).split())
        base = _slug(text)
        new, n = base, 1
        while new in taken:
            n += 1
            new = f"{base}-{n}"
        taken.add(new)
        attrs = _ID_ATTR.sub("", attrs)
        pieces += [main[last:m.start()], f'<{tag} id="{_html.escape(new)}"{attrs}>{inner}</{tag}>']
        last = m.end()
        if tag in ("h2", "h3") and text:
            entries.append((tag, new, text))
    pieces.append(main[last:])
    main = "".join(pieces)
    main = _NO_ALT.sub(lambda m: f'{m.group(1)}{_html.escape(t("figure_alt", lang))}"', main)
    main = _SCRIPT.sub("", _TABINDEX.sub("", main))
    toc = _toc(entries, lang) if entries else ""  # no heading: an empty nav (hidden by CSS)
    page = _TOC_NAV.sub(lambda m: m.group(1) + toc + m.group(2), head + main + tail, count=1)
    return "<!DOCTYPE html>\n" + page.removeprefix("<!DOCTYPE html>").lstrip("\n")


def _toc(entries, lang: str) -> str:
    """The table of contents: ``##`` headings, each with its ``###`` headings nested."""
    out = [f"<details open=\"\"><summary>{_html.escape(t('toc', lang))}</summary><ol>"]
    sub = False
    for i, (level, anchor, text) in enumerate(entries):
        link = f'<a href="#{_html.escape(anchor)}">{_html.escape(text, quote=False)}</a>'
        if level == "h3" and i > 0:
            out.append(("" if sub else "<ol>") + f"<li>{link}</li>")
            sub = True
            continue
        if i > 0:
            out.append("</ol></li>" if sub else "</li>")
        sub = False
        out.append(f"<li>{link}")
    out.append("</ol></li>" if sub else "</li>")
    out.append("</ol></details>")
    return "".join(out)


def export_html(nb, *, lang: str = "zh", meta: dict, strict: bool = True) -> str:
    """Export an executed report notebook as one self-contained HTML page.

    Parameters
    ----------
    nb : nbformat.NotebookNode or path
        The executed notebook (not modified).
    lang : {"zh", "en"}
        Language of the page chrome (header labels, banner, table of contents).
    meta : dict
        Header data, every value HTML-escaped:

        =================  ==================================================
        key                value
        =================  ==================================================
        ``synthetic``      bool, **required**: show the 示例数据 banner
        ``title``          page title (default from street and year)
        ``street_code``    9-digit code
        ``street_name``    name
        ``year``           evaluation year
        ``generated_at``   datetime or str (default: now, UTC+8)
        ``batch``          data batch (e.g. ``sample`` or ``2019-03``)
        ``xzlib_version``  default: the running xzlib
        =================  ==================================================
    strict : bool
        Raise :class:`ExportError` if the notebook would produce an unsafe or broken
        page (a ``<script>`` in an output, a missing-glyph warning, a reference to an
        external resource).  Otherwise such parts are dropped and logged.

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    UsageError
        If ``lang`` or ``meta`` is invalid.
    ExportError
        See ``strict``.

    Examples
    --------
    >>> page = export_html("reports/440402001.ipynb", meta={"street_code": "440402001",
    ...     "street_name": "翠香街道", "year": 2018, "batch": "sample",
    ...     "synthetic": True})  # doctest: +SKIP
    >>> write_html(page, "reports/440402001.html")  # doctest: +SKIP
    """
    check_lang(lang)
    ctx = _meta_context(meta, lang)
    nb = _load(nb)
    _clean(nb, strict=strict)
    # The charts are most of the page's bytes: render, parse and check the page with a
    # short token in place of each base64 image, and put the images back at the end.
    images = _stash_images(nb)
    with _EXPORTER_LOCK:  # one exporter per process (rendering holds the GIL anyway)
        body, _ = _exporter().from_notebook_node(nb, resources={"xz": ctx})
    page = _postprocess(body, lang)
    found = external_resources(page)  # the images are data: URIs, never a request
    if found:
        msg = f"the report would load external resources: {found[:5]}"
        if strict:
            raise ExportError(msg)
        logger.warning(msg)
    page = _unstash_images(page, images)
    logger.debug("exported report %r: %d bytes", ctx["title"], len(page.encode()))
    return page


_EXPORTER_LOCK = threading.RLock()
_EXPORTER = None


def _exporter():
    """The process's configured ``HTMLExporter`` (created once, then reused).

    Creating an exporter and compiling its Jinja templates costs more than rendering a
    report with them, and the exporter keeps no state from one notebook to the next.
    Call with ``_EXPORTER_LOCK`` held.
    """
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter

        from .. import resources

        _EXPORTER = HTMLExporter(
            template_name=TEMPLATE_NAME,
            extra_template_basedirs=[str(resources.path("templates"))],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            embed_images=True,
            sanitize_html=False,  # outputs are escaped at the source (esc, md, table)
            # validate the notebook once after the preprocessors, not after each of
            # the twelve (each validation walks every output of the notebook)
            optimistic_validation=True,
        )
    return _EXPORTER


_IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")


def _stash_images(nb) -> dict[str, str]:
    """Replace every image output by a unique token, in place (``nb`` is a copy).

    PNG and JPEG outputs are base64 already; an SVG (text) is base64-encoded here, so
    that every chart is an ``<img>`` with its alt text, whatever its format.  Returns
    ``{token: base64 data}`` for :func:`_unstash_images`.
    """
    import base64

    nonce = secrets.token_hex(8)
    images: dict[str, str] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data")
            if not data:
                continue
            for mime in _IMAGE_MIMES:
                value = data.get(mime)
                if isinstance(value, list):
                    value = "".join(value)
                if isinstance(value, str) and mime == "image/svg+xml":
                    value = base64.b64encode(value.encode("utf-8")).decode("ascii")
                if isinstance(value, str):
                    token = f"xzimg{len(images)}x{nonce}"
                    images[token] = value
                    data[mime] = token
    return images


def _unstash_images(page: str, images: dict[str, str]) -> str:
    """Put the images stashed by :func:`_stash_images` back into the page."""
    if not images:
        return page
    pattern = re.compile("|".join(re.escape(token) for token in images))
    # escaped as the template escapes them (base64 has nothing to escape)
    return pattern.sub(lambda m: _html.escape(images[m.group(0)]), page)


_EXTERNAL = re.compile(
    r"""(?:\b(?:src|srcset|poster|data|background|action|formaction)\s*=\s*["']?\s*(?!data:|\#)[a-z][a-z0-9+.-]*:"""
    r"""|\bsrc\s*=\s*["']?\s*//"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?\s*(?!data:)(?:[a-z][a-z0-9+.-]*:|//)"""
    r"""|url\(\s*["']?\s*(?!data:|\#)(?:[a-z][a-z0-9+.-]*:|//)"""
    r"""|@import\b)""",
    re.IGNORECASE,
)


def external_resources(html: str) -> list[str]:
    """List what in ``html`` would make a browser fetch something outside the file.

    Looks for ``src``/``srcset``/``data``/``poster`` attributes, ``<link href>``, CSS
    ``url()`` and ``@import`` pointing at a URL scheme other than ``data:`` or at a
    protocol-relative ``//`` URL.  Ordinary links (``<a href>``) are not requests.

    Parameters
    ----------
    html : str

    Returns
    -------
    list of str
        The offending snippets (empty when the page is self-contained).
    """
    return [html[max(0, m.start() - 20) : m.end() + 40] for m in _EXTERNAL.finditer(html)]


def write_html(html: str, path) -> Path:
    """Write ``html`` to ``path`` atomically (a temporary file, then ``os.replace``).

    A reader never sees a half-written report, and a failed write keeps the previous one.

    Parameters
    ----------
    html : str
    path : str or os.PathLike

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    return write_text(path, html)
