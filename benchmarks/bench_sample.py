"""Benchmark the sample batch: ``generate``, ``write_sample`` and ``xz sample``.

Baseline, measured in the same run: the same per-street sheets written with pandas
``DataFrame.to_excel`` through openpyxl (what a straightforward implementation would do).
The ratio is baseline time / ``write_sample`` time (> 1 means ``write_sample`` is faster).

Run from the repository root::

    .venv/bin/python benchmarks/bench_sample.py [--seed N] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from xzlib import sample, submission


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    """Return the median wall time of ``repeat`` calls and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def write_with_openpyxl(frames: dict[str, pd.DataFrame], out: Path) -> None:
    """Baseline: one workbook per street, same sheets and headers, via DataFrame.to_excel."""
    out.mkdir(parents=True, exist_ok=True)
    of_row = sample._street_of_rows(frames)
    streets = pd.concat([sample._streets_of(y) for y in sample.YEARS]).drop_duplicates("code")
    for code, name in zip(streets["code"], streets["name"], strict=True):
        path = out / submission.workbook_name(code, name)
        with pd.ExcelWriter(path, engine="openpyxl") as xw:
            notes_rows = submission._notes_rows(
                {"street_code": code, "street_name": name, "batch": "sample",
                 "data_nature": submission.SYNTHETIC_LABEL})
            notes = pd.DataFrame([r + [None] * (4 - len(r)) for r in notes_rows])
            notes.to_excel(xw, sheet_name=submission.NOTES_SHEET, header=False, index=False)
            for table, sheet in submission.SHEETS.items():
                rows = (of_row[table] == code).to_numpy(dtype=bool, na_value=False)
                sub = submission.to_submission(frames[table][rows], table)
                sub.to_excel(xw, sheet_name=sheet, index=False)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3, help="repeats of generate (median)")
    args = p.parse_args()

    t_gen, frames = timed(lambda: sample.generate(args.seed), args.repeat)
    rows = {k: len(v) for k, v in frames.items()}
    print(f"generate(seed={args.seed}):     {t_gen:7.2f} s  (median of {args.repeat}; rows {rows})")

    with tempfile.TemporaryDirectory(prefix="bench_sample-") as tmp:
        tmp = Path(tmp)
        t_write, out = timed(lambda: sample.write_sample(tmp / "xlsxwriter", seed=args.seed))
        size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
        print(f"write_sample (xlsxwriter): {t_write:7.2f} s  ({len(list(out.iterdir()))} "
              f"workbooks, {size:.1f} MB, generate included)")

        cmd = [sys.executable, "-m", "xzlib.cli", "sample", "--out", str(tmp / "cli"),
               "--seed", str(args.seed)]
        t_cli, _ = timed(lambda: subprocess.run(cmd, check=True, capture_output=True))
        print(f"xz sample (whole command): {t_cli:7.2f} s  (process start and imports included)")

        t_base, _ = timed(lambda: write_with_openpyxl(frames, tmp / "openpyxl"))
        t_write_only = t_write - t_gen
        print(f"baseline to_excel/openpyxl:{t_base:7.2f} s  (same frames, generate excluded)")
        print(f"ratio baseline / write_sample without generate: {t_base / t_write_only:5.2f}x "
              f"(write {t_write_only:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
