"""Benchmark ``xz build`` against the naive loop, on the real notebooks and data.

Measured in one run, on the same notebooks, streets and data:

1. the naive way, a shell loop that runs ``papermill`` then ``jupyter nbconvert --to html``
   once per report (every street, then the district overview);
2. ``xz build --force`` into a fresh folder (warm kernel pool, in-process export);
3. a second ``xz build`` with nothing to do (the no-op build, whole process).

The evaluation cache is cleared before 1 and before 2, so both start cold.  Targets on
the 2-core development machine: 2 at least 8x faster than 1; 3 under 1 s.

Run from the repository root::

    .venv/bin/python benchmarks/bench_build.py [--streets N] [--jobs J] [--check]

It needs the processed data (``make data``) and ``notebooks/street_report.ipynb`` and
``notebooks/district.ipynb``.  ``--check`` exits with status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _fail(message: str) -> int:
    sys.stderr.write(f"bench_build: {message}\n")
    return 2


def _timed(cmd, **kw) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"bench_build: command failed ({proc.returncode}): {cmd[:3]}...")
    return seconds


_LIGHT_CELLS = [
    "import matplotlib.pyplot as plt\n"
    "import pandas as pd\n\n"
    "import xzlib as xz\n"
    "from xzlib.report.cache import cached_evaluate",
    "ev = cached_evaluate(year, data_dir=data_dir)\n"
    "r = ev.ranks[['street_code', 'score', 'rank', 'rank_q05', 'rank_q95']]\n"
    "r.round(1)",
    "fig, ax = plt.subplots(figsize=(5, 2.5))\n"
    "ax.barh(r['street_code'], r['score'])\n"
    "ax.set_xlabel('score')\n"
    "plt.show()",
]


def _light_notebooks(folder: Path) -> Path:
    """Write a light street notebook and district notebook (the issue's ~3 s/report case)."""
    import nbformat

    folder.mkdir(parents=True)
    for name, params in (
        (
            "street_report.ipynb",
            'street_code = "440402001"\nyear = 2018\nlang = "zh"\ndata_dir = None',
        ),
        ("district.ipynb", 'year = 2018\nlang = "zh"\ndata_dir = None'),
    ):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        cell = nbformat.v4.new_code_cell(params)
        cell.metadata["tags"] = ["parameters"]
        nb.cells = [nbformat.v4.new_markdown_cell("## Report"), cell]
        nb.cells += [nbformat.v4.new_code_cell(src) for src in _LIGHT_CELLS]
        nbformat.write(nb, str(folder / name))
    return folder


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--streets", type=int, default=None, help="first N streets (default all)")
    p.add_argument("--year", type=int, default=2018)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    p.add_argument("--notebooks", default=str(ROOT / "notebooks"), help=argparse.SUPPRESS)
    p.add_argument(
        "--light",
        action="store_true",
        help="use two generated light notebooks (imports, the cached evaluation, "
        "a table, one chart) instead of the real ones: measures the builder's "
        "own overhead",
    )
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--keep", action="store_true", help="keep the output folders")
    args = p.parse_args(argv)

    from xzlib import config
    from xzlib.report import build, cache

    processed = config.processed_dir()
    if not (processed / "manifest.json").is_file():
        return _fail(f"no processed data in {processed}: run `make data` first")
    tmp = Path(tempfile.mkdtemp(prefix="xz-bench-"))
    nb_dir = _light_notebooks(tmp / "notebooks") if args.light else Path(args.notebooks)
    missing = [
        n for n in (build.STREET_NOTEBOOK, build.DISTRICT_NOTEBOOK) if not (nb_dir / n).is_file()
    ]
    if missing:
        return _fail(f"notebook(s) {', '.join(missing)} missing in {nb_dir}")
    for tool in ("papermill", "jupyter", "xz"):
        if not (BIN / tool).exists():
            return _fail(f"{BIN / tool} not found: run from the project's virtualenv")

    codes = [c for c, _ in build.streets(args.year)][: args.streets]
    n = len(codes) + 1
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    street_nb, district_nb = nb_dir / build.STREET_NOTEBOOK, nb_dir / build.DISTRICT_NOTEBOOK
    naive_dir = tmp / "naive"
    naive_dir.mkdir()
    q = shlex.quote
    script = ["set -e"]
    for code in codes:
        out = naive_dir / f"{code}.ipynb"
        script += [
            f"papermill --no-progress-bar --log-level WARNING {q(str(street_nb))} {q(str(out))} "
            f"-p street_code {code} -p year {args.year} -p lang zh",
            f"jupyter nbconvert --to html --no-input --log-level WARN {q(str(out))}",
        ]
    out = naive_dir / "district.ipynb"
    script += [
        f"papermill --no-progress-bar --log-level WARNING {q(str(district_nb))} {q(str(out))} "
        f"-p year {args.year} -p lang zh",
        f"jupyter nbconvert --to html --no-input --log-level WARN {q(str(out))}",
    ]
    xz_out = tmp / "xz"
    xz_cmd = [
        str(BIN / "xz"),
        "build",
        "--year",
        str(args.year),
        "--streets",
        ",".join(codes),
        "--jobs",
        str(args.jobs),
        "--out",
        str(xz_out),
        "--notebooks",
        str(nb_dir),
        "--progress",
        "none",
    ]

    print(
        f"xz build benchmark{' (light notebooks)' if args.light else ''}: {len(codes)} street(s) + district = {n} reports, year "
        f"{args.year}, {os.cpu_count()} CPU(s), data {processed}"
    )
    try:
        cache.clear()
        naive = _timed(["bash", "-c", "\n".join(script)], env=env, cwd=tmp)
        print(
            f"  naive loop (papermill + nbconvert per report) {naive:7.1f} s  "
            f"({naive / n:.2f} s/report)",
            flush=True,
        )
        cache.clear()
        cold = _timed([*xz_cmd, "--force"], env=env)
        print(
            f"  xz build --force ({args.jobs} kernels)              {cold:7.1f} s  "
            f"({cold / n:.2f} s/report)",
            flush=True,
        )
        noop = _timed(xz_cmd, env=env)
        ratio = naive / cold
        print(f"  speed-up                                      {ratio:7.1f} x  (target >= 8x)")
        print(f"  no-op xz build                                {noop:7.2f} s  (target < 1 s)")
    finally:
        if args.keep:
            print(f"  outputs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    ok = ratio >= 8 and noop < 1
    print(f"  targets: {'met' if ok else 'NOT met'}")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
