"""Benchmark the evaluation engine: the vectorised Monte Carlo against a naive per-run loop.

Targets (issue 10): 10,000 Monte Carlo runs on COINr's ASEM example (51 units, 49
indicators, 4 levels) with every assumption varied at every level in under 1 s; 10,000
runs of the governance evaluation on the sample in under 0.5 s.  ``xz.indicators`` for
all years in under 1 s (issue 4).

Baseline, measured in the same run: :func:`xzlib.evaluation.uncertainty.naive_monte_carlo`,
which loops over the runs in Python and, for each run, calls the DataFrame step functions
(impute -> treat -> normalise -> aggregate at every level), as a straightforward
implementation would.  It runs ``--baseline-runs`` runs (default 50) of the *same* design
and is scaled linearly to ``--runs``; the script also checks that it gives the same
ranks as the vectorised engine.  Ratios are baseline time / vectorised time (> 1: the
engine is faster).  Absolute times depend on the machine and its load; the ratios less.

Run from the repository root::

    .venv/bin/python benchmarks/bench_evaluate.py [--runs 10000] [--repeat 3]
        [--asem-dir ../shared/reference/coinr-asem] [--data-dir DIR] [--synthetic]

The sample part needs processed data (``make data``); without it, it stops with a
message unless ``--synthetic`` is given (a random 10 streets x 21 indicators matrix).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import xzlib as xz
from xzlib.errors import UsageError
from xzlib.evaluation import district, load_framework
from xzlib.evaluation import uncertainty as mc
from xzlib.evaluation.governance import compute_values, data_years, load_tables, street_units

ROOT = Path(__file__).resolve().parents[1]
ASEM = ROOT.parent / "shared" / "reference" / "coinr-asem"

#: Every assumption of the ASEM example varied, at every level.
ASEM_VARIED = {
    "imputation": ["mean", "median", {"method": "group_median", "group": "EurAsia_group"}],
    "treatment": ["none", "log_CT", "log_CT_plus"],
    "normalisation": ["zscore", "rank", "prank", {"method": "minmax", "l_u": (1, 100)},
                      "dist2max"],
    "aggregation": ["geometric", "harmonic"], "per_level": True,
    "weights": {1: 0.25, 2: 0.25, 3: 0.25}, "drop": True,
}


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    """Return the median wall time of ``repeat`` calls and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def compare(label: str, comp, options: dict, runs: int, baseline_runs: int, repeat: int,
            seed: int, target: float, full=None) -> bool:
    """Time the vectorised Monte Carlo and the naive loop on the same design; print both."""
    t_mc, u = timed(lambda: full() if full else mc.monte_carlo(comp, runs, seed, **options),
                    repeat)
    print(f"{label}: Monte Carlo {runs:,} runs, vectorised : {t_mc:7.3f} s  "
          f"(target < {target:g} s: {'ok' if t_mc < target else 'MISSED'})")
    pl = mc.plan(comp, **options)
    print(f"{label}: varied {pl.varied}; {int(np.prod(pl.shape))} (imputation x treatment x "
          f"normalisation) variants")
    design = mc.sample_design(np.random.default_rng(seed), runs, pl)
    t_kernel, scores = timed(lambda: mc.simulate(pl, design), repeat)
    ranks = mc.rank_scores(scores)
    b = min(baseline_runs, runs)
    small = {k: v[:b] for k, v in design.items()}
    t_naive, naive = timed(lambda: mc.naive_monte_carlo(comp, pl, small), 1)
    scaled = t_naive * runs / b
    same = bool(np.array_equal(mc.rank_scores(naive), ranks[:b]))
    print(f"{label}: naive per-run loop, {b} runs: {t_naive:7.3f} s -> scaled to {runs:,}: "
          f"{scaled:8.2f} s")
    print(f"{label}: ratio naive / vectorised Monte Carlo : {scaled / t_mc:8.1f}x   "
          f"(kernel alone {t_kernel:.3f} s: {scaled / t_kernel:.1f}x; same ranks on the {b} "
          f"shared runs: {same})")
    return same


def asem(args) -> bool:
    if not (args.asem_dir / "ASEM_iData.csv").is_file():
        print(f"bench_evaluate: ASEM example not found in {args.asem_dir}", file=sys.stderr)
        return False
    data = pd.read_csv(args.asem_dir / "ASEM_iData.csv")
    meta = pd.read_csv(args.asem_dir / "ASEM_iMeta.csv")
    t_build, comp = timed(lambda: xz.composite(
        data, meta, denominate=True, impute={"method": "group_mean", "group": "EurAsia_group"},
        screen={"dat_thresh": 0.9}), args.repeat)
    print(f"ASEM: COINr's example pipeline (denominate ... aggregate, 4 levels), "
          f"{comp.scores.shape[0]} units x {len(comp.meta.indicators)} indicators: {t_build:.3f} s")
    return compare("ASEM", comp, ASEM_VARIED, args.runs, args.baseline_runs, args.repeat,
                   args.seed, 1.0)


def sample(args) -> bool:
    fw = load_framework()
    if args.synthetic:
        rng = np.random.default_rng(0)
        codes = [f"440402{k:03d}" for k in range(1, 11)]
        X = pd.DataFrame(rng.lognormal(0, 0.6, (10, len(fw.ids))), index=codes, columns=fw.ids)
        year = None
        print(f"SYNTHETIC matrix: {X.shape[0]} streets x {X.shape[1]} indicators "
              "(not the sample data; xz.indicators not timed)")
    else:
        try:
            tables = load_tables(data_dir=args.data_dir)
        except UsageError as exc:
            print(f"bench_evaluate: no processed data ({exc}).\nBuild the sample first "
                  "(`make data`), or run with --synthetic.", file=sys.stderr)
            return False
        years = data_years(tables)
        year = years[-1]
        t_ind, ind = timed(lambda: xz.indicators(data_dir=args.data_dir), args.repeat)
        print(f"sample: xz.indicators(all years), load included: {t_ind:6.3f} s ({len(ind)} rows; "
              f"target < 1 s: {'ok' if t_ind < 1 else 'MISSED'})")
        raw = compute_values(tables, fw, street_units([year]))
        X = raw.pivot(index="street_code", columns="indicator", values="value")[fw.ids]
    s = fw.settings
    scr = district.screen(X, coverage=s["coverage"], availability=s["availability"])
    comp = district.nominal(scr.values, fw)
    print(f"sample{'' if year is None else f' {year}'}: {scr.values.shape[0]} streets x "
          f"{scr.values.shape[1]} indicators kept, 3 levels")
    R = args.runs
    ok = compare("sample", comp, district.monte_carlo_options(s), R, args.baseline_runs,
                 args.repeat, args.seed, 0.5,
                 full=lambda: district.evaluate_matrix(X, fw, runs=R, seed=args.seed,
                                                       sensitivity=False, year=year))
    t_sa, ev = timed(lambda: district.evaluate_matrix(X, fw, runs=R, seed=args.seed,
                                                      sensitivity=True, year=year), 1)
    print(f"sample: evaluation with sensitivity ({ev.settings['model_evaluations']:,} model "
          f"evaluations): {t_sa:.3f} s")
    return ok


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--baseline-runs", type=int, default=50)
    p.add_argument("--repeat", type=int, default=3, help="repeats per timing (median)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--asem-dir", type=Path, default=ASEM)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--synthetic", action="store_true",
                   help="benchmark the governance engine on a random matrix when there is no data")
    args = p.parse_args()
    ok = asem(args)
    ok = sample(args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
