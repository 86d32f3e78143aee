"""The landing page of a built report folder: ``index.html``.

One self-contained HTML file (inline CSS, no script, no request leaves the file) that
lists every street with its headline score, rank and 5-95% rank interval, the state of
its last build and a link to its report, plus a link to the district overview.  Chinese
by default; ``lang="en"`` gives English.  When the data are synthetic the page carries
the same 示例数据 banner as the reports.

Only the standard library is used, so ``xz build`` can rewrite the page without
importing pandas.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from ..fsutil import write_text
from ..i18n import check_lang
from ..i18n import t as _t

__all__ = ["render_index", "write_index", "index_rows", "index_key", "STATUS"]

#: Build states the page names (``status.<state>`` in :mod:`xzlib.i18n`).
STATUS = ("ok", "failed", "timeout", "died", "error", "missing", "interrupted")

_CSS = """
*{box-sizing:border-box}
body{margin:0;padding:1rem;font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC",
"Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;color:#1f2328;background:#fff;line-height:1.5}
main{max-width:60rem;margin:0 auto}
h1{font-size:1.4rem;margin:.2rem 0}
h2{font-size:1rem;font-weight:normal;color:#57606a;margin:0 0 1rem}
.banner{background:#fff4ce;border:1px solid #d4a72c;border-radius:6px;padding:.6rem .8rem;
margin:0 0 1rem;font-weight:bold}
.district{display:inline-block;margin:0 0 1rem;padding:.4rem .8rem;border:1px solid #0969da;
border-radius:6px;color:#0969da;text-decoration:none}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{padding:.45rem .5rem;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.st{display:inline-block;padding:0 .4rem;border-radius:4px;font-size:.85rem;white-space:nowrap}
.st-ok{background:#dafbe1;color:#116329}
.st-bad{background:#ffebe9;color:#a40e26}
.st-none{background:#eaeef2;color:#57606a}
.code{color:#57606a;font-size:.85rem}
a{color:#0969da}
footer{margin-top:1.2rem;color:#57606a;font-size:.85rem}
.note{color:#57606a;font-size:.85rem;margin-top:.8rem}
@media (max-width:40rem){body{padding:.5rem}th,td{padding:.35rem .25rem;font-size:.85rem}
.hide-s{display:none}}
@media print{.district{border:none;padding:0}a{color:#000;text-decoration:none}}
"""


def _fmt_score(value) -> str:
    return "—" if value is None else f"{float(value):.1f}"


def _fmt_rank(value) -> str:
    if value is None:
        return "—"
    v = float(value)
    return str(int(v)) if v.is_integer() else f"{v:.1f}"


def render_index(
    rows: list[dict],
    *,
    year: int,
    lang: str = "zh",
    synthetic: bool = False,
    district: dict | None = None,
    generated_at: str = "",
    batch: str = "",
    xzlib_version: str = "",
) -> str:
    """Return the landing page as one self-contained HTML document.

    Parameters
    ----------
    rows : list of dict
        One per street, with keys ``street_code``, ``street_name``, ``score``, ``rank``,
        ``rank_q05``, ``rank_q95`` (numbers or ``None``), ``status`` (a key of
        :data:`STATUS`) and ``href`` (relative link to the report, or ``None`` when
        there is no good report).  Rows with a rank are listed by rank, the others by code.
    year : int
        Evaluation year.
    lang : {"zh", "en"}
        Page language (default Chinese).
    synthetic : bool
        Show the 示例数据 banner.
    district : dict, optional
        ``{"status": ..., "href": ...}`` of the district overview.
    generated_at, batch, xzlib_version : str
        Shown in the footer.

    Returns
    -------
    str
        The HTML text; every value from the data is escaped.
    """
    check_lang(lang)

    def t(key: str) -> str:
        return _t(f"index.{key}", lang)

    labels = {s: _t(f"status.{s}", lang) for s in STATUS}
    n = len(rows)
    ranked = sum(1 for r in rows if r.get("rank") is not None)

    def sort_key(r):
        rank = r.get("rank")
        return (rank is None, float(rank) if rank is not None else 0.0, str(r.get("street_code")))

    body = []
    for r in sorted(rows, key=sort_key):
        status = r.get("status") or "missing"
        cls = "st-ok" if status == "ok" else ("st-none" if status == "missing" else "st-bad")
        href = r.get("href")
        if href:
            text = t("open") if status == "ok" else t("previous")
            link = f'<a href="{escape(href, quote=True)}">{escape(text)}</a>'
        else:
            link = escape(t("none"))
        lo, hi = r.get("rank_q05"), r.get("rank_q95")
        interval = t("none") if lo is None or hi is None else f"{_fmt_rank(lo)}–{_fmt_rank(hi)}"
        rank = _fmt_rank(r.get("rank"))
        if r.get("rank") is not None:
            rank += f" / {ranked}"
        body.append(
            "<tr>"
            f"<td>{escape(str(r.get('street_name') or ''))}"
            f'<br><span class="code">{escape(str(r.get("street_code") or ""))}</span></td>'
            f'<td class="num">{escape(_fmt_score(r.get("score")))}</td>'
            f'<td class="num">{escape(rank)}</td>'
            f'<td class="num hide-s">{escape(interval)}</td>'
            f'<td><span class="st {cls}">{escape(labels.get(status, status))}</span></td>'
            f"<td>{link}</td>"
            "</tr>"
        )

    title = t("title").format(year=int(year))
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body><main>",
    ]
    if synthetic:
        parts.append(f'<div class="banner" role="note">{escape(t("synthetic"))}</div>')
    parts += [f"<h1>{escape(title)}</h1>", f"<h2>{escape(t('subtitle'))}</h2>"]
    if district is not None:
        status = district.get("status") or "missing"
        label = escape(t("district"))
        if district.get("href"):
            extra = "" if status == "ok" else f" ({escape(labels.get(status, status))})"
            parts.append(
                f'<p><a class="district" href="{escape(district["href"], quote=True)}">'
                f"{label}{extra}</a></p>"
            )
        else:
            parts.append(f"<p>{label}: {escape(labels.get(status, status))}</p>")
    parts += [
        "<table>",
        "<thead><tr>"
        f"<th>{escape(t('street'))} ({escape(t('of').format(n=n))})</th>"
        f'<th class="num">{escape(t("score"))}</th>'
        f'<th class="num">{escape(t("rank"))}</th>'
        f'<th class="num hide-s">{escape(t("interval"))}</th>'
        f"<th>{escape(t('status'))}</th>"
        f"<th>{escape(t('report'))}</th>"
        "</tr></thead>",
        "<tbody>",
        *body,
        "</tbody></table>",
        f'<p class="note">{escape(t("note"))}</p>',
    ]
    foot = []
    if generated_at:
        foot.append(f"{t('generated')}: {generated_at}")
    if batch:
        foot.append(f"{t('batch')}: {batch}")
    if xzlib_version:
        foot.append(f"{t('version')}: {xzlib_version}")
    if foot:
        parts.append(f"<footer>{escape(' · '.join(foot))}</footer>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def write_index(html: str, path: str | os.PathLike) -> Path:
    """Write ``html`` to ``path`` atomically (temporary file, then rename); returns the path."""
    return write_text(path, html)


def index_rows(pl, entries: dict, ranks: list[dict]) -> tuple[list[dict], dict]:
    """The page's rows from a build plan, its manifest entries and the evaluation's ranks.

    Returns ``(rows, district)`` for :func:`render_index`: a link only to an HTML file
    that exists.
    """
    by_code = {str(r.get("street_code")): r for r in ranks}
    out = Path(pl.out)

    def href(entry):
        return entry.get("html") if entry.get("html") and (out / entry["html"]).is_file() else None

    rows = []
    for code, name in pl.all_streets:
        e = entries.get(code) or {}
        r = by_code.get(code, {})
        rows.append({"street_code": code, "street_name": name, "score": r.get("score"),
                     "rank": r.get("rank"), "rank_q05": r.get("rank_q05"),
                     "rank_q95": r.get("rank_q95"), "status": e.get("status") or "missing",
                     "href": href(e)})
    d = entries.get("district") or {}
    return rows, {"status": d.get("status") or "missing", "href": href(d)}


def index_key(pl, rows: list[dict], district: dict) -> str:
    """What the page shows, hashed: the page is rewritten only when it changes."""
    import hashlib
    import json

    doc = {"rows": rows, "district": district, "lang": pl.lang, "year": pl.year,
           "synthetic": pl.synthetic, "batch": pl.batch,
           "source": pl.common["xzlib_source_sha256"]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False,
                                     default=str).encode()).hexdigest()
