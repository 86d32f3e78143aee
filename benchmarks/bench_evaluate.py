"""Benchmark the evaluation engine: the Monte Carlo and ``xz.indicators``.

Targets (issue 4): 10,000 Monte Carlo runs over the sample (all streets, all indicators)
in under 2 s; ``xz.indicators`` for all years in under 1 s.

Baseline, measured in the same run: a naive Monte Carlo that loops over the runs in
Python and, for each run, calls the COINr-style step functions on DataFrames (treat ->
normalise -> aggregate -> rank), as a straightforward implementation would.  It runs
``--baseline-runs`` runs (default 100) of the *same* design and is scaled linearly to
``--runs``; the script also checks that it gives the same ranks as the vectorised
engine.  The ratio is baseline time / vectorised time (> 1 means the engine is faster).

Run from the repository root::

    .venv/bin/python benchmarks/bench_evaluate.py [--runs 10000] [--year 2018]
        [--data-dir DIR] [--repeat 3] [--synthetic]

It needs processed data (``xz sample`` then ``xz clean``, or ``make data``); without
it, it stops with a message, unless ``--synthetic`` is given, which benchmarks the
engine on a random 10 streets x 21 indicators matrix instead (indicators not timed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import pandas as pd

import xzlib as xz
from xzlib.errors import UsageError
from xzlib.evaluation import load_framework
from xzlib.evaluation.district import (
    AGGREGATIONS,
    NORMALISATIONS,
    TREATMENTS,
    _variants,
    aggregate,
    evaluate_matrix,
    normalise,
    positive,
    rank_scores,
    sample_design,
    screen,
    simulate,
    treat,
)
from xzlib.evaluation.governance import compute_values, data_years, load_tables, street_units


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    """Return the median wall time of ``repeat`` calls and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def naive_monte_carlo(X: pd.DataFrame, fw, design: dict, runs: int) -> np.ndarray:
    """Baseline: one Python iteration per run through the DataFrame step functions."""
    meta = fw.meta().loc[X.columns]
    dims = list(dict.fromkeys(meta["dimension"]))
    dmeta = fw.dimension_meta().loc[dims]
    s = fw.settings
    p = X.shape[1]
    ranks = np.empty((runs, len(X)), dtype=int)
    for r in range(runs):
        xt, _ = treat(X, method=TREATMENTS[design["treatment"][r]], skew=s["skew"],
                      kurt=s["kurtosis"], winmax=s["winmax"])
        sc = normalise(xt, meta["direction"], NORMALISATIONS[design["normalisation"][r]])
        agg = AGGREGATIONS[design["aggregation"][r]]
        if agg == "geometric":
            sc = positive(sc)
        w = meta["weight"] * design["weights"][r, :p]
        if design["dropped"][r] >= 0:
            w.iloc[design["dropped"][r]] = 0.0
        dw = dmeta["weight"] * design["weights"][r, p:]
        d = aggregate(sc, meta["dimension"], w, agg)
        index = aggregate(d, None, dw, agg)["index"]
        ranks[r] = rank_scores(np.log(index.to_numpy())[None, :] if agg == "geometric"
                               else index.to_numpy()[None, :])[0]
    return ranks


def vectorised_ranks(X: pd.DataFrame, fw, design: dict) -> np.ndarray:
    """The engine's ranks for the same design (for the equality check)."""
    meta = fw.meta().loc[X.columns]
    dims = list(dict.fromkeys(meta["dimension"]))
    s = fw.settings
    treated = [treat(X, method=t, skew=s["skew"], kurt=s["kurtosis"], winmax=s["winmax"])[0]
               .to_numpy(dtype=float) for t in TREATMENTS]
    variants, mask = _variants(treated, meta["direction"].to_numpy(dtype=float))
    groups = np.array([dims.index(d) for d in meta["dimension"]])
    scores = simulate(variants, mask, groups, meta["weight"].to_numpy(dtype=float),
                      fw.dimension_meta().loc[dims, "weight"].to_numpy(dtype=float), design)
    return rank_scores(scores)


def synthetic_matrix(fw, n: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    codes = [f"440402{k:03d}" for k in range(1, n + 1)]
    return pd.DataFrame(rng.lognormal(0, 0.6, (n, len(fw.ids))), index=codes, columns=fw.ids)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--baseline-runs", type=int, default=100)
    p.add_argument("--year", type=int, default=None, help="default: latest year with data")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--repeat", type=int, default=3, help="repeats per timing (median)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--synthetic", action="store_true",
                   help="benchmark the engine on a random matrix when there is no data")
    args = p.parse_args()
    fw = load_framework()

    if args.synthetic:
        X = synthetic_matrix(fw)
        year = None
        print(f"SYNTHETIC matrix: {X.shape[0]} streets x {X.shape[1]} indicators "
              "(not the sample data; xz.indicators not timed)")
    else:
        try:
            tables = load_tables(data_dir=args.data_dir)
        except UsageError as exc:
            print(f"bench_evaluate: no processed data ({exc}).\n"
                  "Build the sample first (`xz sample` then `xz clean`, or `make data`), "
                  "or run with --synthetic.", file=sys.stderr)
            return 2
        years = data_years(tables)
        year = args.year or years[-1]
        rows = {k: len(v) for k, v in tables.items() if v is not None}
        print(f"data: years {years[0]}-{years[-1]}, rows {rows}, "
              f"synthetic={tables['communities'].attrs.get('synthetic')}")
        t_load_ind, ind = timed(lambda: xz.indicators(data_dir=args.data_dir), args.repeat)
        t_ind, _ = timed(lambda: xz.indicators(tables=tables), args.repeat)
        print(f"xz.indicators(all years), load included : {t_load_ind:6.3f} s  "
              f"({len(ind)} rows; target < 1 s: {'ok' if t_load_ind < 1 else 'MISSED'})")
        print(f"xz.indicators(all years), tables given  : {t_ind:6.3f} s")
        raw = compute_values(tables, fw, street_units([year]))
        X = raw.pivot(index="street_code", columns="indicator", values="value")[fw.ids]

    scr = screen(X, coverage=fw.settings["coverage"], availability=fw.settings["availability"])
    Xk = scr.values
    print(f"evaluation matrix{'' if year is None else f' {year}'}: {Xk.shape[0]} streets x "
          f"{Xk.shape[1]} indicators kept (of {X.shape[1]})")

    R = args.runs
    t_mc, ev = timed(lambda: evaluate_matrix(X, fw, runs=R, seed=args.seed, sensitivity=False,
                                             year=year), args.repeat)
    print(f"Monte Carlo {R:,} runs (evaluate, no sensitivity)   : {t_mc:6.3f} s  "
          f"(target < 2 s: {'ok' if t_mc < 2 else 'MISSED'})")
    t_sa, ev = timed(lambda: evaluate_matrix(X, fw, runs=R, seed=args.seed, sensitivity=True,
                                             year=year), args.repeat)
    print(f"Monte Carlo {R:,} runs + sensitivity ({ev.settings['model_evaluations']:,} "
          f"model evaluations): {t_sa:6.3f} s")
    if year is not None:
        t_full, _ = timed(lambda: xz.evaluate(year, runs=R, seed=args.seed, data_dir=args.data_dir),
                          1)
        print(f"xz.evaluate({year}, runs={R:,}) end to end, load included : {t_full:6.3f} s")

    # kernel only, and the naive baseline on the same design
    m = len(set(fw.meta().loc[Xk.columns, "dimension"]))
    design = sample_design(np.random.default_rng(args.seed), R, Xk.shape[1], m,
                           fw.settings["weight_spread"])
    t_kernel, ranks = timed(lambda: vectorised_ranks(Xk, fw, design), args.repeat)
    b = args.baseline_runs
    small = {k: v[:b] for k, v in design.items()}
    t_naive, naive = timed(lambda: naive_monte_carlo(Xk, fw, small, b), 1)
    scaled = t_naive * R / b
    same = bool(np.array_equal(naive, ranks[:b]))
    print(f"vectorised kernel, {R:,} runs (treat+normalise+aggregate+rank): {t_kernel:6.3f} s")
    print(f"naive Python loop, {b} runs: {t_naive:6.3f} s -> scaled to {R:,}: {scaled:7.2f} s")
    print(f"ratio naive / vectorised kernel: {scaled / t_kernel:8.1f}x   "
          f"(same ranks on the {b} shared runs: {same})")
    print(f"ratio naive / evaluate (no sensitivity): {scaled / t_mc:8.1f}x")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
