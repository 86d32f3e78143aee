"""Benchmark loading every processed table: ``xz.load_all()`` in a fresh process.

Baseline, measured in the same run: reading the same parquet files with plain
``pandas.read_parquet`` (no schema check, no names joined), also in a fresh process.  The
ratio is xz.load_all / baseline: the price of validation and the joined names.  Target:
load_all under 0.3 s (imports excluded: they are timed apart).

Run from the repository root (needs `make data`)::

    .venv/bin/python benchmarks/bench_load.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import pandas as pd
import xzlib.dataset as ds
from xzlib import config, schemas
t1 = time.perf_counter()
folder = config.processed_dir()
if sys.argv[1] == "baseline":
    frames = {t: pd.read_parquet(folder / f"{t}.parquet") for t in schemas.TABLES}
else:
    frames = ds.load_all()
t2 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "load": t2 - t1,
                  "rows": sum(len(f) for f in frames.values())}))
"""


def run(kind: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, kind], capture_output=True, text=True)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit("bench_load: no processed data? run `make data` first")
    return json.loads(out.stdout)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    runs = {k: [run(k) for _ in range(args.repeat)] for k in ("baseline", "xzlib")}
    med = {k: statistics.median(r["load"] for r in v) for k, v in runs.items()}
    imports = statistics.median(r["imports"] for r in runs["xzlib"])
    rows = runs["xzlib"][0]["rows"]
    print(f"load all processed tables ({rows:,} rows), median of {args.repeat} fresh processes")
    print(f"  pandas.read_parquet (baseline)   {med['baseline']:.3f} s")
    print(f"  xz.load_all (checked, names)     {med['xzlib']:.3f} s  (target < 0.3 s)")
    print(f"  ratio xz / baseline              {med['xzlib'] / med['baseline']:.1f} x")
    print(f"  imports (pandas + xzlib)         {imports:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
