"""The vectorised Monte Carlo of the general engine, checked against a per-run loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import xzlib as xz
from xzlib.errors import UsageError
from xzlib.evaluation import uncertainty as U

REF = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "coinr-asem"

ALL = {"imputation": ["mean", {"method": "group_median", "group": "EurAsia_group"}],
       "treatment": ["none", "log_CT_plus", {"winmax": 1}],
       "normalisation": ["zscore", "rank", {"method": "minmax", "l_u": (1, 100)}, "prank"],
       "aggregation": ["geometric", "harmonic"], "weights": 0.25, "drop": True}


@pytest.fixture(scope="module")
def asem():
    if not (REF / "README.md").is_file():
        pytest.fail(f"COINr reference results not found at {REF}")
    meta = pd.read_csv(REF / "ASEM_iMeta.csv")
    # unequal weights at every level (a fixed, arbitrary pattern)
    rows = meta["Type"].isin(["Indicator", "Aggregate"])
    meta.loc[rows, "Weight"] = 0.5 + (np.arange(rows.sum()) % 4) * 0.5
    return pd.read_csv(REF / "ASEM_iData.csv"), meta


@pytest.fixture(scope="module")
def comp(asem):
    return xz.composite(*asem, denominate=True,
                        impute={"method": "group_mean", "group": "EurAsia_group"},
                        screen={"dat_thresh": 0.9})


def test_nominal_design_reproduces_the_composite(comp):
    pl = U.plan(comp, **ALL)
    got = U.simulate(pl, U.nominal_design(pl, 3))
    exp = comp.index.loc[pl.units].to_numpy()
    np.testing.assert_allclose(got, np.tile(exp, (3, 1)), rtol=1e-12)


@pytest.mark.parametrize("per_level", [True, False])
def test_vectorised_runs_equal_the_per_run_loop(comp, per_level):
    """Four levels, unequal weights, every assumption varied at every level."""
    pl = U.plan(comp, per_level=per_level, **ALL)
    assert pl.varied == list(U.ASSUMPTIONS)
    design = U.sample_design(np.random.default_rng(5), 24, pl)
    fast, levels = U.simulate(pl, design, levels=(2, 3))
    slow = U.naive_monte_carlo(comp, pl, design)
    np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(U.rank_scores(fast), U.rank_scores(slow))
    assert levels[2].shape == (24, len(pl.units), 8) and levels[3].shape == (24, len(pl.units), 2)


def test_data_threshold_in_the_monte_carlo(asem):
    c = xz.composite(*asem, aggregate={"method": "arithmetic", "dat_thresh": 0.95})
    assert c.index.isna().any()
    pl = U.plan(c, normalisation=["zscore"], aggregation=["geometric"])
    design = U.sample_design(np.random.default_rng(2), 10, pl)
    fast = U.simulate(pl, design)
    slow = U.naive_monte_carlo(c, pl, design)
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(slow))
    np.testing.assert_allclose(fast, slow, rtol=1e-10)


def test_four_level_monte_carlo_result(comp):
    u = comp.uncertainty(400, seed=3, sensitivity=True, **ALL)
    rs = u.rank_stats
    assert len(rs) == len(comp.index) and u.ranks.shape == (400, len(rs))
    assert (rs["rank_lo"] <= rs["rank"]).mean() > 0.5
    assert ((rs["rank_q05"] <= rs["rank_median"]) & (rs["rank_median"] <= rs["rank_q95"])).all()
    nominal = comp.ranks()["Index"].loc[rs["uCode"]].to_numpy(dtype=int)
    np.testing.assert_array_equal(rs["rank"].to_numpy(), nominal)
    pw = u.pairwise.to_numpy()
    assert np.all(pw + pw.T <= 1 + 1e-12)
    assert set(u.sensitivity["assumption"]) == set(U.ASSUMPTIONS)
    assert u.sensitivity[["first_order", "total"]].stack().between(0, 1).all()
    s = u.settings
    assert s["runs"] == 400 and s["model_evaluations"] == 400 * (2 + 6)
    assert s["aggregation"] == {lv: ["arithmetic", "geometric", "harmonic"] for lv in (2, 3, 4)}
    assert s["weight_noise"] == {1: 0.25, 2: 0.25, 3: 0.25}
    assert s["treatment"][0]["method"] == "winsorise" and s["treatment"][1] is None


def test_same_seed_same_result(comp):
    a = comp.uncertainty(200, seed=7, normalisation=["rank"])
    b = comp.uncertainty(200, seed=7, normalisation=["rank"])
    c = comp.uncertainty(200, seed=8, normalisation=["rank"])
    np.testing.assert_array_equal(a.ranks, b.ranks)
    assert not np.array_equal(a.ranks, c.ranks)


def test_weight_noise_per_level_and_nothing_varied(comp):
    pl = U.plan(comp, weights={2: 0.5}, drop=False)
    assert pl.varied == ["weights"]
    d = U.sample_design(np.random.default_rng(0), 2000, pl)
    lv = comp.meta.table["level"].to_numpy()
    w = d["weights"]
    assert np.all(w[:, lv != 2] == 1)
    assert 0.5 <= w[:, lv == 2].min() < 0.52 and 1.48 < w[:, lv == 2].max() <= 1.5
    u = comp.uncertainty(50, weights=None, drop=False)
    assert u.settings["varied"] == [] and (u.rank_stats["rank_lo"] == u.rank_stats["rank"]).all()
    with pytest.raises(UsageError, match="level"):
        U.plan(comp, weights={4: 0.1})


def test_design_covers_every_alternative(comp):
    pl = U.plan(comp, **ALL)
    d = U.sample_design(np.random.default_rng(1), 3000, pl)
    assert set(d["imputation"]) == {0, 1, 2}
    assert set(d["treatment"]) == {0, 1, 2, 3}
    assert set(d["normalisation"]) == {0, 1, 2, 3, 4}
    assert set(np.unique(d["aggregation"])) == {0, 1, 2}
    assert d["aggregation"].shape == (3000, 3)
    assert set(d["dropped"]) == set(range(-1, 49))


def test_dominant_unit_ranks_first_in_every_run():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.uniform(1, 10, (8, 6)), columns=list("abcdef"),
                     index=[f"u{i}" for i in range(8)])
    x.iloc[0] = 20.0
    meta = pd.DataFrame({"code": [*"abcdef", "P1", "P2", "I"], "level": [1] * 6 + [2, 2, 3],
                         "parent": ["P1"] * 3 + ["P2"] * 3 + ["I", "I", None],
                         "weight": [1, 2, 3, 1, 1, 2, 2, 1, 1]})
    c = xz.composite(x, meta, treat=None)
    u = c.uncertainty(500, normalisation=["zscore", "rank"], aggregation=["geometric"])
    first = u.rank_stats.set_index("uCode").loc["u0"]
    assert first["rank_hi"] == 1 and first["p_top"] == 1
