"""Benchmark ``xz clean``: time and peak memory, against reading the same files raw.

Baseline, measured in the same run on the same files: every sheet read with plain pandas
(``read_excel`` with calamine, ``read_csv`` trying UTF-8 then GB18030 then UTF-16), with no
header search, normalisation, validation or writing.  The ratio clean / baseline is what
the cleaning costs on top of parsing.

Scenarios (each runs in a fresh subprocess so that its peak RSS is its own):

* ``tidy``   -- the sample batch as ``xz sample`` writes it (9 workbooks);
* ``messy``  -- the same batch after ``xz sample --messy`` (xlsx, xls, GBK CSV, TSV...);
* ``csv1m``  -- one street's ``grid_cases`` as a single 1,000,000-row GBK CSV with a title
  row, padded names and mixed date forms (target: under 10 s on a 2-core machine).

Run::

    .venv/bin/python benchmarks/bench_clean.py            # all scenarios
    .venv/bin/python benchmarks/bench_clean.py csv1m      # one scenario
    .venv/bin/python benchmarks/bench_clean.py --rows 200000 csv1m
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

STREET, STREET_NAME = "440402001", "翠香街道"


def make_batch(kind: str, root: Path, rows: int) -> Path:
    """Write the raw batch of a scenario under ``root``; return its folder."""
    raw = root / "raw" / kind
    if kind in ("tidy", "messy"):
        from xzlib import sample

        sample.write_sample(raw, seed=0)
        if kind == "messy":
            from xzlib.ingest import mess

            mess.messify(raw, raw, seed=0)
        return raw
    from xzlib.roster import divisions

    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    comm = divisions(2018, level="community")
    names = comm.loc[comm["parent_code"] == STREET, "name"].to_numpy()
    variants = np.array([n + v for n in names for v in ("", " ", "\u3000")] +
                        [n[:-2] + "社区居委会" for n in names], dtype=object)
    cats = np.array(["环境卫生", "治安隐患", "矛盾纠纷", "市政设施", "物业管理", "民生服务", "安全生产",
                     "其他"], dtype=object)
    start = np.datetime64("2018-01-01T08:00")
    minutes = np.sort(rng.integers(0, 364 * 24 * 60, rows))
    reported = start + minutes.astype("timedelta64[m]")
    resolved = reported + rng.integers(60, 20 * 24 * 60, rows).astype("timedelta64[m]")
    is_open = (rng.random(rows) < 0.03) | (resolved > np.datetime64("2018-12-31T23:59"))
    rep = pd.Series(reported).dt.strftime("%Y-%m-%d %H:%M")
    # a few other date forms, as clerks write them
    alt = rng.random(rows) < 0.02
    rep[alt] = pd.Series(reported[alt]).dt.strftime("%Y/%m/%d %H:%M").to_numpy()
    res = pd.Series(resolved).dt.strftime("%Y-%m-%d %H:%M").where(~is_open, "")
    df = pd.DataFrame({
        "事件编号": [f"G2018-{i:07d}" for i in range(rows)],
        "社区名称": variants[rng.integers(0, len(variants), rows)],
        "网格编号": rng.integers(1, 6, rows),
        "事件类别": cats[rng.integers(0, len(cats), rows)],
        "上报时间": rep,
        "办结时间": res,
        "办理状态": np.where(is_open, "办理中", "已办结"),
    })
    path = raw / f"{STREET}_{STREET_NAME}__网格事件.csv"
    with open(path, "w", encoding="gbk", newline="") as f:
        f.write("网格事件统计表（示例数据）,,,,,,\r\n")
        df.to_csv(f, index=False, lineterminator="\r\n")
    notes = raw / f"{STREET}_{STREET_NAME}__填报说明.csv"
    notes.write_text(f"镇街代码,{STREET}\r\n镇街名称,{STREET_NAME}\r\n"
                     "数据性质,示例数据（合成数据，非真实统计）\r\n", encoding="gbk")
    return raw


def clean_one(raw: Path, out: Path) -> dict:
    """Clean a batch in this (fresh) process; return timing and peak RSS."""
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from xzlib.ingest import clean

    t0 = time.perf_counter()
    result = clean.clean(raw, out)
    t_clean = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = sum(p.stat().st_size for p in raw.iterdir())
    return {"ok": result.ok, "files": result.files, "raw_mb": round(size / 1e6, 1),
            "rows": result.tables, "errors": len(result.problems),
            "warnings": len(result.warnings), "clean_s": round(t_clean, 2),
            "peak_rss_mb": round(peak / 1024), "start_rss_mb": round(rss0 / 1024)}


def read_raw(raw: Path) -> dict:
    """Baseline: read every file of a batch with plain pandas; return the time."""
    t0 = time.perf_counter()
    rows = 0
    for path in sorted(raw.iterdir()):
        if path.suffix in (".xlsx", ".xls"):
            sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
            rows += sum(len(df) for df in sheets.values())
        elif path.suffix in (".csv", ".tsv"):
            for encoding in ("utf-8-sig", "gb18030", "utf-16"):
                try:
                    df = pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",",
                                     header=None, dtype=str, encoding=encoding,
                                     on_bad_lines="skip")
                    break
                except (UnicodeDecodeError, UnicodeError):
                    continue
            rows += len(df)
    return {"read_s": round(time.perf_counter() - t0, 2), "rows": rows}


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         env=os.environ.copy(), check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenarios", nargs="*", default=["tidy", "messy", "csv1m"])
    p.add_argument("--rows", type=int, default=1_000_000, help="rows of the csv1m scenario")
    p.add_argument("--make", metavar="ROOT", help=argparse.SUPPRESS)
    p.add_argument("--clean", metavar="RAW", help=argparse.SUPPRESS)
    p.add_argument("--read", metavar="RAW", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.make:  # child: write a scenario's batch
        t0 = time.perf_counter()
        raw = make_batch(args.scenarios[0], Path(args.make), args.rows)
        sys.stdout.write(json.dumps({"raw": str(raw), "make_s": time.perf_counter() - t0}) + "\n")
        return 0
    if args.clean:  # child: clean it, measuring this process only
        raw = Path(args.clean)
        sys.stdout.write(json.dumps(clean_one(raw, raw.parent.parent / "processed"),
                                    ensure_ascii=False) + "\n")
        return 0
    if args.read:  # child: the baseline
        sys.stdout.write(json.dumps(read_raw(Path(args.read))) + "\n")
        return 0
    failed = 0
    for kind in args.scenarios:
        with tempfile.TemporaryDirectory(prefix="xz-bench-") as tmp:
            made = _child("--make", tmp, "--rows", str(args.rows), kind)
            base = _child("--read", made["raw"], kind)
            r = _child("--clean", made["raw"], kind)
        sys.stdout.write(
            f"{kind:6s} xz clean {r['clean_s']:6.2f} s  peak RSS {r['peak_rss_mb']:5d} MB "
            f"(after imports {r['start_rss_mb']} MB)  files {r['files']}  raw {r['raw_mb']} MB  "
            f"ok={r['ok']}  errors {r['errors']}  warnings {r['warnings']}  rows {r['rows']}\n"
            f"{'':6s} baseline pandas read {base['read_s']:6.2f} s  "
            f"ratio clean / read {r['clean_s'] / max(base['read_s'], 1e-9):.1f}x\n")
        failed += not r["ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
