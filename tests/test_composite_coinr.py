"""The general engine against COINr 1.1.14's own results on its ASEM example.

The reference files live in ``../shared/reference/coinr-asem/`` (beside the repository;
its README says which COINr call made each).  They are read, never copied: a missing
folder fails the tests loudly instead of skipping them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import xzlib as xz
from xzlib.errors import UsageError
from xzlib.evaluation import Meta, steps
from xzlib.evaluation.results import composite

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REF = SHARED / "reference" / "coinr-asem"
TOL = 1e-9


@pytest.fixture(scope="module")
def ref():
    if not (REF / "README.md").is_file():
        pytest.fail(f"COINr reference results not found at {REF}: the tests of record need "
                    "../shared/reference/coinr-asem/ beside the repository")

    def read(name: str, **kw) -> pd.DataFrame:
        return pd.read_csv(REF / name, **kw)

    return read


@pytest.fixture(scope="module")
def asem(ref):
    return ref("ASEM_iData.csv"), ref("ASEM_iMeta.csv")


@pytest.fixture(scope="module")
def raw(ref):
    return ref("raw.csv").set_index("uCode")


@pytest.fixture(scope="module")
def meta(asem):
    return Meta.from_frame(asem[1])


def assert_same(got: pd.DataFrame, expected: pd.DataFrame, tol: float = TOL) -> None:
    """Same units, columns, missing cells; values within ``tol`` (relative to 1 + |x|)."""
    exp = expected.set_index("uCode") if "uCode" in expected.columns else expected
    exp.index = exp.index.astype(str)
    assert set(exp.index) <= set(got.index), sorted(set(exp.index) - set(got.index))
    g = got.loc[exp.index, exp.columns].to_numpy(dtype=float)
    e = exp.to_numpy(dtype=float)
    np.testing.assert_array_equal(np.isnan(g), np.isnan(e))
    ok = ~np.isnan(e)
    err = np.abs(g[ok] - e[ok]) / (1 + np.abs(e[ok]))
    assert err.max(initial=0) <= tol, f"max relative error {err.max():.3g}"


# --------------------------------------------------------------------------- single steps


def test_framework_reads_coinr_imeta(asem, meta):
    assert meta.n_levels == 4 and len(meta.indicators) == 49
    assert meta.index_code == "Index"
    assert set(meta.groups) == {"GDP_group", "GDPpc_group", "Pop_group", "EurAsia_group"}
    assert set(meta.denominators) == {"Area", "Energy", "GDP", "Population"}
    assert meta.lineage.loc["LPI"].tolist() == ["LPI", "Physical", "Conn", "Index"]
    eff = meta.effective_weights()
    assert eff[meta.indicators].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("name, method, params", [
    ("norm_minmax.csv", "minmax", {"l_u": (0, 100)}),
    ("norm_zscore.csv", "zscore", {"m_sd": (0, 1)}),
    ("norm_rank.csv", "rank", {}),
    ("norm_rank_avg.csv", "rank", {"ties": "average"}),
])
def test_normalise_matches_coinr(ref, raw, meta, name, method, params):
    assert_same(steps.normalise(raw, meta, method, **params), ref(name))


def test_rank_normalisation_default_ties_are_min(raw, meta, ref):
    # the two reference files differ exactly where the ties are
    assert not steps.normalise(raw, meta, "rank").equals(steps.normalise(raw, meta, "rank",
                                                                         ties="average"))
    with pytest.raises(UsageError, match="ties must be one of min, average"):
        steps.normalise(raw, meta, "rank", ties="dense")


@pytest.mark.parametrize("name, method", [
    ("treat_default", "winsorise"), ("treat_log", "log_CT"), ("treat_logplus", "log_CT_plus")])
def test_treat_matches_coinr(ref, raw, name, method):
    tr = steps.treat(raw, method)
    assert_same(tr.data, ref(name + ".csv"))
    det = ref(name + "_details.csv").set_index("iCode")
    np.testing.assert_allclose(tr.details.loc[det.index, "skew"], det["check_SkewKurt0.Skew"],
                               rtol=1e-12)
    np.testing.assert_allclose(tr.details.loc[det.index, "kurtosis"], det["check_SkewKurt0.Kurt"],
                               rtol=1e-12)
    assert (tr.details.loc[det.index, "flagged"] == ~det["check_SkewKurt0.Pass"]).all()


def test_treat_counts_winsorised_values_as_coinr(ref, raw):
    tr = steps.treat(raw)
    det = ref("treat_default_details.csv").set_index("iCode")
    np.testing.assert_array_equal(tr.details.loc[det.index, "nwin"],
                                  det["winsorise.nwin"].fillna(0).astype(int))
    # COINr writes the treated points with the units in alphabetical order
    pts = ref("treat_default_points.csv", keep_default_na=False)
    mine = tr.points.sort_index()
    np.testing.assert_array_equal(mine[pts.columns].to_numpy(), pts.to_numpy())
    # the count is the number of values changed, tied extremes included
    changed = (tr.data != raw) & raw.notna()
    np.testing.assert_array_equal(changed.sum(axis=0)[tr.details["treatment"] == "winsorised"],
                                  tr.details.loc[tr.details["treatment"] == "winsorised", "winsorised"])


def test_screen_matches_coinr(ref, raw):
    s = steps.screen(raw, dat_thresh=0.9, unit_screen="byNA")
    exp = ref("screen_0.9.csv").set_index("uCode")
    got = s.summary.loc[exp.index]
    for col in ("N_missing", "N_zero", "N_miss_or_zero", "LowData", "LowNonZero",
                "LowDatOrZeroFlag", "Included"):
        np.testing.assert_array_equal(got[col].to_numpy(), exp[col].to_numpy(), err_msg=col)
    np.testing.assert_allclose(got[["Dat_Avail", "Non_Zero"]], exp[["Dat_Avail", "Non_Zero"]],
                               rtol=1e-12)
    assert list(s.data.index) == [u for u in raw.index if exp.at[u, "Included"]]


@pytest.mark.parametrize("name, method, lu", [
    ("agg_amean.csv", "arithmetic", (0, 100)), ("agg_gmean.csv", "geometric", (1, 100))])
def test_aggregate_four_levels_matches_coinr(ref, raw, meta, name, method, lu):
    agg = steps.aggregate(steps.normalise(raw, meta, "minmax", l_u=lu), meta, method)
    assert_same(agg, ref(name))


def test_nominal_pipeline_and_results_match_coinr(ref, asem):
    c = composite(*asem)
    assert_same(c.scores, ref("nominal_raw.csv"))
    res = c.results()
    exp = ref("nominal_raw_results.csv")
    assert list(res.columns) == list(exp.columns)
    assert list(res["uCode"]) == list(exp["uCode"])
    np.testing.assert_array_equal(res["Rank"].to_numpy(dtype=int), exp["Rank"].to_numpy())
    assert_same(res.drop(columns="Rank").set_index("uCode"), exp.drop(columns="Rank"))


def test_full_example_pipeline_matches_coinr(ref, asem):
    """build_example_coin(): denominate -> impute by group -> screen -> treat -> normalise
    -> aggregate at four levels."""
    c = xz.composite(*asem, denominate=True,
                     impute={"method": "group_mean", "group": "EurAsia_group"},
                     screen={"dat_thresh": 0.9, "unit_screen": "byNA"},
                     treat={"winmax": 5})
    for dset, name in (("Denominated", "example_denominated.csv"),
                       ("Imputed", "example_imputed.csv"),
                       ("Screened", "example_screened.csv"),
                       ("Treated", "example_treated.csv"),
                       ("Aggregated", "example_aggregated.csv")):
        assert_same(c.dsets[dset], ref(name))
    exp = ref("example_aggregated.csv").set_index("uCode")["Index"]
    exp_rank = exp.rank(ascending=False, method="min").astype(int)
    got = c.ranks()["Index"]
    np.testing.assert_array_equal(got.loc[exp.index].to_numpy(dtype=int), exp_rank.to_numpy())


def test_imputation_changes_ranks_against_available_case(ref, asem):
    """The README's known difference: imputing by group changes many index ranks."""
    kw = {"denominate": True, "screen": {"dat_thresh": 0.9}}
    a = composite(*asem, impute={"method": "group_mean", "group": "EurAsia_group"}, **kw)
    b = composite(*asem, **kw)
    common = a.scores.index.intersection(b.scores.index)
    ra, rb = a.ranks()["Index"], b.ranks()["Index"]
    assert (ra[common] != rb[common]).sum() > 0


def test_regenerate_one_assumption(asem, ref):
    c = composite(*asem)
    g = c.regenerate(normalise={"method": "minmax", "l_u": (1, 100)},
                     aggregate={"method": "geometric"}, treat=None)
    assert_same(g.scores, ref("agg_gmean.csv"))
    assert c.steps["treat"]["method"] == "winsorise" and "treat" not in g.steps
    assert_same(c.regenerate().scores, ref("nominal_raw.csv"))


# --------------------------------------------------------------------------- semantics by hand


def test_winsorise_tied_maxima_count_towards_winmax():
    # the two tied maxima are winsorised together and count as 2 values: with winmax = 2
    # COINr stops there, still flagged, and falls back to log_CT (counting steps instead
    # would winsorise once more and pass)
    x = pd.DataFrame({"a": np.r_[np.arange(30.0), 80, 200, 200]})
    two = steps.treat(x, winmax=2)
    assert two.details.at["a", "treatment"] == "log_CT"
    assert two.details.at["a", "nwin"] == 2 and two.details.at["a", "winsorised"] == 0
    v = x["a"].to_numpy()
    np.testing.assert_allclose(two.data["a"], np.log(v - v.min() + 0.01 * (v.max() - v.min())))
    three = steps.treat(x, winmax=3)
    assert three.details.at["a", "treatment"] == "winsorised"
    assert three.details.at["a", "winsorised"] == 3
    assert (three.data["a"] == 29).sum() == 4
    assert list(three.points["a"][three.points["a"] != ""]) == ["winhi"] * 3


def test_thresholds_are_inclusive():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": np.r_[rng.normal(size=30), 12.0]})
    s = float(steps.skewness(x["a"].to_numpy()))
    k = float(steps.kurtosis(x["a"].to_numpy()))
    at = steps.treat(x, skew_thresh=abs(s), kurt_thresh=k)
    above = steps.treat(x, skew_thresh=abs(s) + 1e-9, kurt_thresh=k)
    assert at.details.at["a", "flagged"] and not above.details.at["a", "flagged"]


def test_log_ct_is_not_reflected_but_log_ct_plus_is():
    v = np.array([-100.0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    x = pd.DataFrame({"a": v})
    lo, hi = v.min(), v.max()
    a = 0.01 * (hi - lo)
    np.testing.assert_allclose(steps.treat(x, "log_CT").data["a"], np.log(v - lo + a))
    np.testing.assert_allclose(steps.treat(x, "log_CT_plus").data["a"], -np.log(hi + a - v))


def test_more_normalisations_hand_computed():
    x = pd.DataFrame({"a": [2.0, 4, 6, np.nan, 10], "b": [1.0, 1, 3, 4, 5]}, index=list("pqrst"))
    d = {"a": 1, "b": -1}
    np.testing.assert_allclose(steps.normalise(x, d, "fracmax")["a"], [0.2, 0.4, 0.6, np.nan, 1])
    np.testing.assert_allclose(steps.normalise(x, d, "scaled", npara=(0, 20), scale_factor=10)["a"],
                               [1, 2, 3, np.nan, 5])
    np.testing.assert_allclose(steps.normalise(x, d, "dist2max")["a"], [0, 0.25, 0.5, np.nan, 1])
    np.testing.assert_allclose(steps.normalise(x, d, "borda")["b"], [3, 3, 2, 1, 0])
    np.testing.assert_allclose(steps.normalise(x, d, "prank")["b"], [0.75, 0.75, 0.5, 0.25, 0])
    np.testing.assert_allclose(steps.normalise(x, d, "dist2ref", ref="r")["a"],
                               [0, 0.5, 1, np.nan, 2])
    np.testing.assert_allclose(steps.normalise(x, d, "dist2ref", ref="r", cap_max=True)["a"],
                               [0, 0.5, 1, np.nan, 1])
    np.testing.assert_allclose(steps.normalise(x, d, "zscore", m_sd=(100, 10))["a"],
                               100 + 10 * (x["a"] - x["a"].mean()) / x["a"].std())
    meta = pd.DataFrame({"code": ["a", "b", "I"], "level": [1, 1, 2], "parent": ["I", "I", None],
                         "direction": [1, -1, 1], "target": [8.0, 2.0, np.nan],
                         "goalpost_lower": [0.0, 0.0, np.nan], "goalpost_upper": [8.0, 4.0, np.nan],
                         "goalpost_scale": [100.0, 100.0, np.nan]})
    t = steps.normalise(x, meta, "dist2targ")
    np.testing.assert_allclose(t["a"], [0, 1 / 3, 2 / 3, np.nan, 4 / 3])
    np.testing.assert_allclose(t["b"], [4 / 3, 4 / 3, 2 / 3, 1 / 3, 0])   # (max - x)/(max - targ)
    g = steps.normalise(x, meta, "goalposts")
    np.testing.assert_allclose(g["a"], [25, 50, 75, np.nan, 100])
    np.testing.assert_allclose(g["b"], [75, 75, 25, 0, 0])
    # COINr's global parameters apply to x * direction as given
    np.testing.assert_allclose(steps.normalise(x, d, "dist2targ", targ=8)["a"],
                               [0, 1 / 3, 2 / 3, np.nan, 4 / 3])
    np.testing.assert_allclose(steps.normalise(x, d, "goalposts", gposts=(0, 8, 10))["a"],
                               [2.5, 5, 7.5, np.nan, 10])
    np.testing.assert_allclose(steps.normalise(x, d, "goalposts", gposts=(-4, 0, 1))["b"],
                               [0.75, 0.75, 0.25, 0, 0])
    with pytest.raises(UsageError, match="must be one of minmax, zscore"):
        steps.normalise(x, d, "softmax")


def test_aggregation_methods_and_thresholds_hand_computed():
    meta = pd.DataFrame({"code": ["a", "b", "c", "I"], "level": [1, 1, 1, 2],
                         "parent": ["I", "I", "I", None], "weight": [1.0, 2, 1, 1]})
    x = pd.DataFrame({"a": [1.0, 4], "b": [2.0, np.nan], "c": [4.0, np.nan]})
    w = np.array([1, 2, 1]) / 4
    ar = steps.aggregate(x, meta)["I"]
    ge = steps.aggregate(x, meta, "geometric")["I"]
    ha = steps.aggregate(x, meta, "harmonic")["I"]
    np.testing.assert_allclose(ar, [w @ [1, 2, 4], 4])
    np.testing.assert_allclose(ge, [np.exp(w @ np.log([1, 2, 4])), 4])
    np.testing.assert_allclose(ha, [1 / (w @ [1, 1 / 2, 1 / 4]), 4])
    np.testing.assert_allclose(steps.aggregate(x, meta, weights="equal")["I"], [7 / 3, 4])
    thr = steps.aggregate(x, meta, dat_thresh=0.5)["I"]
    assert np.isfinite(thr[0]) and np.isnan(thr[1])
    with pytest.raises(UsageError, match="zero or negative"):
        steps.aggregate(x - 1, meta, "geometric")
    with pytest.raises(UsageError, match="aggregate method must be one of arithmetic"):
        steps.aggregate(x, meta, "median")


def test_impute_hand_computed():
    x = pd.DataFrame({"a": [1.0, np.nan, 3, 10, np.nan], "b": [1.0, 2, 3, 4, 5]})
    g = pd.Series(["E", "E", "E", "A", None])
    np.testing.assert_allclose(steps.impute(x, "mean")["a"], [1, 14 / 3, 3, 10, 14 / 3])
    np.testing.assert_allclose(steps.impute(x, "median")["a"], [1, 3, 3, 10, 3])
    np.testing.assert_allclose(steps.impute(x, "group_mean", groups=g)["a"], [1, 2, 3, 10, np.nan])
    np.testing.assert_allclose(steps.impute(x, "i_median_grp", groups=g)["a"], [1, 2, 3, 10, np.nan])
    with pytest.raises(UsageError, match="needs groups"):
        steps.impute(x, "group_mean")
    with pytest.raises(UsageError, match="must be one of none, mean, median"):
        steps.impute(x, "knn")


def test_framework_errors_name_row_column_and_value():
    good = pd.DataFrame({"code": ["a", "b", "I"], "level": [1, 1, 2], "parent": ["I", "I", None]})
    Meta.from_frame(good)
    bad = good.assign(parent=["I", "J", None])
    with pytest.raises(UsageError, match=r"row 2, column 'parent': got 'J'; expected one of I"):
        Meta.from_frame(bad)
    with pytest.raises(UsageError, match=r"row 1, column 'direction': got 2"):
        Meta.from_frame(good.assign(direction=[2, 1, 1]))
    with pytest.raises(UsageError, match=r"row 3, column 'weight'"):
        Meta.from_frame(good.assign(weight=[1, 1, -1]))
    with pytest.raises(UsageError, match="needs a column 'level'"):
        Meta.from_frame(good.drop(columns="level"))


def test_data_errors_name_unit_column_and_value():
    meta = pd.DataFrame({"code": ["a", "b", "I"], "level": [1, 1, 2], "parent": ["I", "I", None]})
    data = pd.DataFrame({"uCode": ["u1", "u2", "u3"], "a": [1.0, 2, 3], "b": ["1", "x", "3"]})
    with pytest.raises(UsageError, match=r"column 'b', unit 'u2': got 'x'"):
        composite(data, meta)
    with pytest.raises(UsageError, match=r"indicator\(s\) \['b'\]"):
        composite(data.drop(columns="b"), meta)
    with pytest.raises(UsageError, match="unknown option"):
        composite(data.assign(b=[1.0, 2, 3]), meta, treat={"winmix": 2})


def test_plain_table_and_lower_case_framework():
    data = pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [4.0, 3, 2, 1], "z": [1.0, 1, 2, 5]},
                        index=["a", "b", "c", "d"])
    meta = pd.DataFrame({"code": ["x", "y", "z", "P", "Q", "I"], "level": [1, 1, 1, 2, 2, 3],
                         "parent": ["P", "P", "Q", "I", "I", None],
                         "weight": [3, 1, 1, 1, 3, 1], "direction": [1, -1, 1, 1, 1, 1]})
    c = composite(data, meta, treat=None)
    eff = c.meta.effective_weights()
    assert eff[["x", "y", "z"]].tolist() == pytest.approx([3 / 16, 1 / 16, 12 / 16])
    n = c.dsets["Normalised"]
    np.testing.assert_allclose(c.index, (n[["x", "y", "z"]] * eff[["x", "y", "z"]]).sum(axis=1))
    full = c.results(kind="full")
    assert list(full.columns) == ["uCode", "Rank", "I", "P", "Q", "x", "y", "z"]
    assert list(c.results(kind="summary").columns) == ["uCode", "Rank", "I"]
    assert list(c.level(2).columns) == ["P", "Q"] and list(c.level(3).columns) == ["I"]
    with pytest.raises(UsageError, match="level must be between 1 and 3"):
        c.level(4)
    w = c.regenerate(weights={"Q": 1})
    np.testing.assert_allclose(w.index, (w.scores["P"] + w.scores["Q"]) / 2)


def test_ties_rank_min_in_results():
    data = pd.DataFrame({"uCode": ["a", "b", "c", "d"], "x": [1.0, 3, 3, 0]})
    meta = pd.DataFrame({"code": ["x", "I"], "level": [1, 2], "parent": ["I", None]})
    res = composite(data, meta, treat=None).results()
    assert dict(zip(res["uCode"], res["Rank"], strict=True)) == {"b": 1, "c": 1, "a": 3, "d": 4}
