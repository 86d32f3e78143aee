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

__all__ = ["render_index", "write_index", "STATUS_LABELS"]

#: Build states shown on the page, per language.
STATUS_LABELS = {
    "zh": {
        "ok": "已生成",
        "failed": "失败",
        "timeout": "超时",
        "died": "内核崩溃",
        "error": "出错",
        "missing": "未生成",
        "interrupted": "已中断",
    },
    "en": {
        "ok": "built",
        "failed": "failed",
        "timeout": "timed out",
        "died": "kernel died",
        "error": "error",
        "missing": "not built",
        "interrupted": "interrupted",
    },
}

_TEXT = {
    "zh": {
        "title": "香洲区{year}年基层社会治理评估报告",
        "subtitle": "各镇街评估报告索引",
        "district": "全区总览",
        "street": "镇街",
        "code": "代码",
        "score": "综合得分",
        "rank": "排名",
        "interval": "排名区间 (5%–95%)",
        "status": "生成状态",
        "report": "报告",
        "open": "打开",
        "previous": "打开上次成功版本",
        "none": "—",
        "synthetic": "示例数据：本页及各报告中的数值均为合成的示例数据，并非香洲区的真实统计。",
        "generated": "生成时间",
        "batch": "数据批次",
        "version": "xzlib 版本",
        "note": "排名区间来自对指标处理方法、权重和聚合方式的蒙特卡洛不确定性分析；区间越窄，排名越稳健。",
        "of": "共 {n} 个",
    },
    "en": {
        "title": "Xiangzhou District {year}: grassroots governance evaluation",
        "subtitle": "Index of street and town reports",
        "district": "District overview",
        "street": "Street / town",
        "code": "Code",
        "score": "Composite score",
        "rank": "Rank",
        "interval": "Rank interval (5–95%)",
        "status": "Build status",
        "report": "Report",
        "open": "open",
        "previous": "open last good version",
        "none": "—",
        "synthetic": "Sample data (示例数据): every value on this page and in the reports is "
        "synthetic, not a real statistic of Xiangzhou District.",
        "generated": "Generated",
        "batch": "Data batch",
        "version": "xzlib version",
        "note": "Rank intervals come from a Monte Carlo uncertainty analysis over normalisation, "
        "weights and aggregation; the narrower the interval, the more robust the rank.",
        "of": "{n} in all",
    },
}

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
        :data:`STATUS_LABELS`) and ``href`` (relative link to the report, or ``None`` when
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
    if lang not in _TEXT:
        raise ValueError(f"lang must be one of {', '.join(_TEXT)}; got {lang!r}")
    t = _TEXT[lang]
    labels = STATUS_LABELS[lang]
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
            text = t["open"] if status == "ok" else t["previous"]
            link = f'<a href="{escape(href, quote=True)}">{escape(text)}</a>'
        else:
            link = escape(t["none"])
        lo, hi = r.get("rank_q05"), r.get("rank_q95")
        interval = t["none"] if lo is None or hi is None else f"{_fmt_rank(lo)}–{_fmt_rank(hi)}"
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

    title = t["title"].format(year=int(year))
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
        parts.append(f'<div class="banner" role="note">{escape(t["synthetic"])}</div>')
    parts += [f"<h1>{escape(title)}</h1>", f"<h2>{escape(t['subtitle'])}</h2>"]
    if district is not None:
        status = district.get("status") or "missing"
        label = escape(t["district"])
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
        f"<th>{escape(t['street'])} ({escape(t['of'].format(n=n))})</th>"
        f'<th class="num">{escape(t["score"])}</th>'
        f'<th class="num">{escape(t["rank"])}</th>'
        f'<th class="num hide-s">{escape(t["interval"])}</th>'
        f"<th>{escape(t['status'])}</th>"
        f"<th>{escape(t['report'])}</th>"
        "</tr></thead>",
        "<tbody>",
        *body,
        "</tbody></table>",
        f'<p class="note">{escape(t["note"])}</p>',
    ]
    foot = []
    if generated_at:
        foot.append(f"{t['generated']}: {generated_at}")
    if batch:
        foot.append(f"{t['batch']}: {batch}")
    if xzlib_version:
        foot.append(f"{t['version']}: {xzlib_version}")
    if foot:
        parts.append(f"<footer>{escape(' · '.join(foot))}</footer>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def write_index(html: str, path: str | os.PathLike) -> Path:
    """Write ``html`` to ``path`` atomically (temporary file, then rename); returns the path."""
    return write_text(path, html)
