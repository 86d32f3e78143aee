"""The evaluation engine: framework, indicators, composite steps, Monte Carlo, result."""

from __future__ import annotations

import copy
import json
import pickle
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xzlib as xz
from xzlib.errors import UsageError
from xzlib.evaluation import Evaluation, evaluate, indicators, load_framework, steps
from xzlib.evaluation import district as cp
from xzlib.evaluation import uncertainty as mc
from xzlib.evaluation.governance import parse_framework
from xzlib.evaluation.steps import kurtosis, skewness

S1, S2, S3 = "440402001", "440402002", "440402003"
NINE = ["440402001", "440402002", "440402003", "440402004", "440402005", "440402006",
        "440402007", "440402008", "440402102"]


# --------------------------------------------------------------------------- fixtures


def small_framework(directions=("+", "+", "-", "+"), **settings_) -> object:
    """Two dimensions of two indicators each (values are given as a matrix)."""
    num = {"table": "communities", "agg": "sum", "column": "grids"}
    doc = {
        "version": "test",
        "settings": {"coverage": "2/3", "availability": "2/3", **settings_},
        "dimension": [{"id": "A", "label_zh": "甲", "label_en": "A"},
                      {"id": "B", "label_zh": "乙", "label_en": "B"}],
        "indicator": [
            {"id": f"i{k}", "dimension": "AABB"[k], "label_zh": f"指标{k}", "label_en": f"I{k}",
             "unit": "%", "direction": d, "numerator": num}
            for k, d in enumerate(directions)
        ],
    }
    return parse_framework(doc, source="test")


def matrix(rows: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=[f"i{k}" for k in range(len(next(iter(rows.values()))))]).T


@pytest.fixture
def random_matrix() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(rng.lognormal(0, 0.5, (9, 4)), index=NINE,
                        columns=["i0", "i1", "i2", "i3"])


def community_codes(street: str, k: int) -> list[str]:
    d = xz.divisions(2018, level="community")
    return list(d.loc[d["parent_code"] == street, "code"])[:k]


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    """Hand-made 2018 tables for S1 (two communities) and S2 (one); S3 has no data."""
    c1, c2 = community_codes(S1, 2)
    (c3,) = community_codes(S2, 1)
    communities = pd.DataFrame({
        "year": [2018, 2018, 2018],
        "street_code": [S1, S1, S2],
        "community_code": [c1, c2, c3],
        "households": [100, 200, 300],
        "population": [300, 700, 1000],
        "grids": [2, 3, 3],
        "grid_leaders": [2, 3, 3],
        "grid_members": [6, 6, 9],
        "party_committee": pd.array([True, False, True], dtype="boolean"),
        "service_center": pd.array([True, True, False], dtype="boolean"),
        "owners_committees": pd.array([2, 0, None], dtype="Int64"),
        "owners_committees_with_branch": pd.array([1, 0, None], dtype="Int64"),
    })
    t0 = pd.Timestamp("2018-03-01")
    grid_cases = pd.DataFrame({
        "case_id": ["G1", "G2", "G3", "G4"],
        "community_code": [c1, c1, c2, c2],
        "street_code": [S1, S1, S1, S1],
        "grid_no": [1, 1, 1, 2],
        "category": ["其他"] * 4,
        "reported_at": [t0] * 4,
        "resolved_at": [t0 + pd.Timedelta(days=1), t0 + pd.Timedelta(days=3),
                        t0 + pd.Timedelta(days=10), pd.NaT],
        "status": ["resolved", "resolved", "resolved", "open"],
    })
    deliberations = pd.DataFrame({
        "meeting_id": ["M1", "M2"],
        "date": pd.to_datetime(["2018-04-01", "2018-05-01"]),
        "community_code": [c1, c3],
        "street_code": [S1, S2],
        "topic": ["停车", "电梯"],
        "participants": [50, 30],
        "proposals": [4, 6],
        "adopted": [2, 6],
        "implemented": pd.array([1, None], dtype="Int64"),
    })
    projects = pd.DataFrame({
        "project_id": ["P1", "P2"],
        "year": [2018, 2018],
        "street_code": [S1, S1],
        "community_code": [c1, None],
        "programme": ["micro_charity", "innovation"],
        "funding_level": ["street", "district"],
        "brand": ["公益翠香", None],
        "title": ["t1", "t2"],
        "implementer": ["o1", "o2"],
        "gov_funds_wan": [10.0, 20.0],
        "social_funds_wan": [5.0, None],
        "beneficiaries": pd.array([1000, 500], dtype="Int64"),
        "eval_score": [80.0, None],
    })
    for df, key in ((communities, "street_code"), (projects, "street_code")):
        df[key] = df[key].astype("category")
    return {"communities": communities, "projects": projects, "deliberations": deliberations,
            "grid_cases": grid_cases}


def value_of(table: pd.DataFrame, street: str, indicator: str) -> float:
    hit = table[(table["street_code"] == street) & (table["indicator"] == indicator)]
    assert len(hit) == 1
    return float(hit["value"].iloc[0])


# --------------------------------------------------------------------------- framework


def test_framework_has_five_dimensions_of_three_to_five_rates():
    fw = load_framework()
    assert [d.id for d in fw.dimensions] == ["D1", "D2", "D3", "D4", "D5"]
    for d in fw.dimensions:
        n = sum(i.dimension == d.id for i in fw.indicators)
        assert 3 <= n <= 5, d.id
        assert d.label_zh and d.label_en
    for i in fw.indicators:
        assert i.label_zh and i.label_en and i.unit and i.direction in (1, -1)
        assert i.formula
    from xzlib import resources

    packaged = resources.path("framework")
    assert packaged.name == "framework.toml" and packaged.is_file()
    assert load_framework(packaged).indicators == fw.indicators
    assert fw.settings["coverage"] == pytest.approx(2 / 3)


def test_framework_errors_name_the_entry(tmp_path):
    bad = tmp_path / "f.toml"
    bad.write_text('[[dimension]]\nid="D1"\nlabel_zh="a"\nlabel_en="a"\n[[indicator]]\nid="x"\n'
                   'dimension="D1"\nlabel_zh="a"\nlabel_en="a"\nunit="%"\ndirection="up"\n'
                   'numerator={table="communities", agg="sum", column="grids"}\n', encoding="utf-8")
    with pytest.raises(UsageError, match="direction must be"):
        load_framework(bad)
    with pytest.raises(UsageError, match="not found"):
        load_framework(tmp_path / "missing.toml")
    with pytest.raises(UsageError, match="unknown setting"):
        load_framework().with_settings({"nope": 1})


# --------------------------------------------------------------------------- indicators


def test_indicators_hand_computed(tables):
    before = copy.deepcopy(tables)
    t = indicators(2018, tables=tables, streets=[S1, S2, S3])
    for name, df in tables.items():
        pd.testing.assert_frame_equal(df, before[name])   # inputs untouched
    v = lambda s, i: value_of(t, s, i)  # noqa: E731
    assert v(S1, "party_committee_share") == pytest.approx(50)
    assert v(S2, "party_committee_share") == pytest.approx(100)
    assert v(S1, "households_per_grid") == pytest.approx(60)
    assert v(S2, "households_per_grid") == pytest.approx(100)
    assert v(S1, "grid_members_per_grid") == pytest.approx(2.4)
    assert v(S1, "red_owners_committee_share") == pytest.approx(50)
    assert np.isnan(v(S2, "red_owners_committee_share"))          # 0 / 0
    assert v(S1, "case_days_median") == pytest.approx(3)
    assert v(S1, "case_days_p90") == pytest.approx(8.6)             # 3 + 0.8 * (10 - 3)
    assert v(S1, "cases_resolved_7d_share") == pytest.approx(50)    # open case counts
    assert np.isnan(v(S2, "case_days_median"))                      # no grid data
    assert np.isnan(v(S2, "cases_resolved_7d_share"))
    assert v(S1, "meetings_per_community") == pytest.approx(0.5)
    assert v(S2, "meetings_per_community") == pytest.approx(1)
    # smoothed with k = 10 towards the district rate 8/10
    assert v(S1, "proposals_adopted_share") == pytest.approx(100 * (2 + 8) / (4 + 10))
    assert v(S2, "proposals_adopted_share") == pytest.approx(100 * (6 + 8) / (6 + 10))
    # implemented: S2's only meeting has no value -> district rate 1/2 for both
    assert v(S1, "proposals_implemented_share") == pytest.approx(50)
    assert v(S2, "proposals_implemented_share") == pytest.approx(50)
    assert v(S1, "participants_per_1000") == pytest.approx(50)
    assert v(S1, "charity_projects_per_10k") == pytest.approx(10)
    assert v(S1, "charity_leverage") == pytest.approx(0.5)
    assert v(S1, "charity_served_per_1000") == pytest.approx(1000)
    assert v(S1, "charity_cost_per_served") == pytest.approx(100)   # 10万元 / 1000 人次
    assert v(S1, "innovation_cost_per_served") == pytest.approx(400)
    assert v(S1, "eval_score_mean") == pytest.approx(80)
    assert np.isnan(v(S2, "charity_projects_per_10k"))              # no project rows at all
    assert t.loc[t["street_code"] == S3, "value"].isna().all()
    assert t.loc[t["indicator"] == "awards_per_10_communities", "value"].isna().all()
    row = t[(t["street_code"] == S1) & (t["indicator"] == "households_per_grid")].iloc[0]
    assert (row["numerator"], row["denominator"]) == (300, 5)
    assert row["rank"] == 1 and row["direction"] == -1               # fewer households is better
    assert row["coverage"] == pytest.approx(2 / 3)


def test_indicators_columns_and_trend(tables):
    t17 = {k: v.copy() for k, v in tables.items()}
    com = tables["communities"].copy()
    com["year"] = 2017
    com["grids"] = com["grids"] * 2
    t17["communities"] = pd.concat([com, tables["communities"]], ignore_index=True)
    t = indicators(tables=t17, streets=[S1, S2, S3])
    assert sorted(t["year"].unique()) == [2017, 2018]
    for col in ("street_code", "indicator", "dimension", "value", "unit", "rank", "district_median",
                "flag", "coverage", "skew", "kurtosis", "outlier", "change", "label_zh", "label_en"):
        assert col in t.columns
    hit = t[(t["year"] == 2018) & (t["street_code"] == S1) & (t["indicator"] == "households_per_grid")]
    assert hit["change"].iloc[0] == pytest.approx(60 - 30)


def test_district_flags_beyond_one_sd():
    fw = load_framework().select(["households_per_grid"])
    com = pd.DataFrame({"year": 2018, "street_code": NINE, "community_code": NINE,
                        "households": [100] * 8 + [1000], "grids": 1})
    t = indicators(2018, tables={"communities": com}, framework=fw, streets=NINE)
    t = t.set_index("street_code")
    assert t.loc["440402102", "flag"] == "above"
    assert t.loc["440402102", "assessment"] == "worse"               # direction -
    assert (t.loc[NINE[:8], "flag"] == "").all()
    assert bool(t["outlier"].iloc[0])                                 # skew 3, kurtosis 9


def test_awards_weighted_by_level_with_window(tables):
    c1 = tables["communities"]["community_code"].iloc[0]
    c3 = tables["communities"]["community_code"].iloc[2]
    awards = pd.DataFrame({
        "award_id": ["a", "b", "c", "d", "e"],
        "year": pd.array([2017, 2018, 2016, 2015, 2018], dtype="Int64"),
        "level": ["provincial", "national", "municipal", "national", "national"],
        "title": ["t"] * 5, "unit": ["u"] * 5,
        "scope_level": ["street", "community", "community", "street", "district"],
        "scope_code": [S1, c1, c3, S2, "440402"],
        "quote": ["q"] * 5, "note": [""] * 5,
    })
    t = indicators(2018, tables={**tables, "awards": awards}, streets=[S1, S2, S3])
    # S1: provincial 2 + national 3 over 2 communities; S2: municipal 1 (2015 is outside
    # the 3-year window; district awards belong to no street)
    assert value_of(t, S1, "awards_per_10_communities") == pytest.approx(25)
    assert value_of(t, S2, "awards_per_10_communities") == pytest.approx(10)
    undated = awards.assign(year=pd.array([2017, 2018, None, 2015, 2018], dtype="Int64"))
    t = indicators(2018, tables={**tables, "awards": undated}, streets=[S1, S2, S3])
    assert np.isnan(value_of(t, S2, "awards_per_10_communities"))   # unknown: undated award
    assert value_of(t, S1, "awards_per_10_communities") == pytest.approx(25)


def test_skewness_and_kurtosis_match_pandas():
    rng = np.random.default_rng(3)
    a = rng.lognormal(0, 1, (5, 9))
    a[1, 3] = np.nan
    for row, s, k in zip(a, skewness(a, axis=1), kurtosis(a, axis=1), strict=True):
        assert s == pytest.approx(pd.Series(row).skew())
        assert k == pytest.approx(pd.Series(row).kurt())


# --------------------------------------------------------------------------- steps


def test_normalisations_hand_computed():
    x = pd.DataFrame({"up": [2.0, 4, 8, 10], "down": [2.0, 4, 8, 10]})
    d = {"up": 1, "down": -1}
    mm = steps.normalise(x, d, "minmax")
    np.testing.assert_allclose(mm["up"], [0, 25, 75, 100])
    np.testing.assert_allclose(mm["down"], [100, 75, 25, 0])
    z = steps.normalise(x, d, "zscore")
    sd = np.sqrt(40 / 3)
    np.testing.assert_allclose(z["up"], np.array([-4, -2, 2, 4]) / sd)
    np.testing.assert_allclose(z["down"], -np.array([-4, -2, 2, 4]) / sd)
    r = steps.normalise(x, d, "rank")
    np.testing.assert_allclose(r["up"], [1, 2, 3, 4])
    np.testing.assert_allclose(r["down"], [4, 3, 2, 1])
    dm = steps.normalise(x, d, "dist2mean")
    np.testing.assert_allclose(dm["up"], 100 * (np.array([2, 4, 8, 10]) - 6) / 6)
    np.testing.assert_allclose(dm["down"], -100 * (np.array([2, 4, 8, 10]) - 6) / 6)
    with_nan = steps.normalise(pd.DataFrame({"up": [1.0, np.nan, 3]}), d, "minmax")
    np.testing.assert_allclose(with_nan["up"], [0, np.nan, 100])
    # COINr's default tie rule is "min"; "average" on request
    ties = pd.DataFrame({"up": [1.0, 1, 3]})
    np.testing.assert_allclose(steps.normalise(ties, d, "rank")["up"], [1, 1, 3])
    np.testing.assert_allclose(steps.normalise(ties, d, "rank", ties="average")["up"], [1.5, 1.5, 3])
    with pytest.raises(UsageError, match="must be one of"):
        steps.normalise(x, d, "softmax")


def test_aggregations_hand_computed():
    s = pd.DataFrame({"a": [20.0, 20.0], "b": [80.0, np.nan]}, index=["x", "y"])
    meta = pd.DataFrame({"code": ["a", "b", "index"], "level": [1, 1, 2],
                         "parent": ["index", "index", None], "weight": [1, 3, 1]})
    ar = steps.aggregate(s, meta)
    assert ar.loc["x", "index"] == pytest.approx(65)           # (20 + 3*80) / 4
    assert ar.loc["y", "index"] == pytest.approx(20)           # missing weight dropped
    ge = steps.aggregate(s, meta, "geometric")
    assert ge.loc["x", "index"] == pytest.approx(40 * np.sqrt(2))   # 20^.25 * 80^.75
    with pytest.raises(UsageError, match="positive"):
        steps.aggregate(pd.DataFrame({"a": [0.0, 1.0], "b": [1.0, 1.0]}), meta, "geometric")


def test_treat_winsorises_then_logs():
    x = pd.DataFrame({"o": [1.0, 2, 3, 4, 5, 6, 7, 8, 100], "n": [1.0, 2, 3, 4, 5, 6, 7, 8, 9]})
    st_ = cp.outlier_stats(x)
    assert bool(st_.loc["o", "outlier"]) and not bool(st_.loc["n", "outlier"])
    tr = steps.treat(x, "winsorise")
    w, lg = tr.data, tr.details
    assert w["o"].iloc[-1] == 8 and lg.loc["o", "treatment"] == "winsorised"
    assert lg.loc["o", "winsorised"] == 1 and lg.loc["n", "treatment"] == "none"
    pd.testing.assert_series_equal(w["n"], x["n"])
    lo = steps.treat(x, "log_CT")
    assert lo.details.loc["o", "treatment"] == "log_CT"
    assert np.all(np.diff(lo.data["o"]) > 0)                    # order kept
    # still flagged after winmax values (here none allowed) -> log of the original values
    fb = steps.treat(x, "winsorise", winmax=0)
    assert fb.details.loc["o", "treatment"] == "log_CT" and fb.details.loc["o", "winsorised"] == 0
    off = (100 - 1) / 100
    np.testing.assert_allclose(fb.data["o"], np.log(x["o"] - 1 + off))   # COINr's log_CT
    pd.testing.assert_frame_equal(steps.treat(x, "none").data, x)


def test_coverage_rule():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.uniform(1, 10, (9, 5)), index=NINE, columns=list("abcde"))
    x.loc[NINE[:3], "c"] = np.nan            # 6/9 = 2/3: kept
    x.loc[NINE[:4], "e"] = np.nan            # 5/9: dropped
    x.loc[NINE[8], "d"] = np.nan             # street 9 has a, b only of a-d... plus c
    x.loc[NINE[0], "d"] = np.nan             # street 1: a, b of a-d -> 2/4 < 2/3
    scr = cp.screen(x)
    assert list(scr.values.columns) == ["a", "b", "c", "d"]
    assert scr.indicators.loc["e", "reason"] == "coverage"
    assert scr.indicators.loc["c", "kept"]
    assert not scr.units.loc[NINE[0], "ranked"]
    assert "insufficient data" in scr.units.loc[NINE[0], "note"]
    assert scr.units.loc[NINE[8], "ranked"]           # 3/4 >= 2/3
    flat = x.assign(a=5.0)
    assert cp.screen(flat).indicators.loc["a", "reason"] == "no variation"


def test_coverage_rule_in_evaluation(random_matrix):
    x = random_matrix.copy()
    x.loc[NINE[:4], "i1"] = np.nan                     # 5/9 < 2/3 -> dropped
    x.loc[NINE[0], ["i2", "i3"]] = np.nan              # street 1 has 1 of 3 -> not ranked
    ev = cp.evaluate_matrix(x, small_framework(), runs=200)
    scr = ev.screening.set_index("indicator")
    assert not scr.loc["i1", "kept"] and scr.loc["i1", "reason"] == "coverage"
    r = ev.ranks.set_index("street_code")
    assert not r.loc[NINE[0], "ranked"] and pd.isna(r.loc[NINE[0], "rank"])
    assert r.loc[NINE[0], "note"].startswith("insufficient data")
    assert r["ranked"].sum() == 8 and sorted(r["rank"].dropna()) == list(range(1, 9))
    s = ev.street_summary(NINE[0])
    json.dumps(s, ensure_ascii=False)
    assert s["ranked"] is False and s["rank"] is None and s["rank_interval"] == [None, None]


# --------------------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.01, 1e4), min_size=3, max_size=12),
       st.floats(1e-3, 1e3), st.sampled_from(cp.NORMALISATIONS + ("prank", "borda", "dist2max",
                                                                   "fracmax")))
def test_rescaling_leaves_scores_unchanged(values, c, method):
    x = pd.DataFrame({"a": values})
    if x["a"].max() - x["a"].min() < 1e-6 * x["a"].max():
        return                                  # no spread: min-max is undefined (NaN)
    np.testing.assert_allclose(steps.normalise(x * c, {"a": 1}, method),
                               steps.normalise(x, {"a": 1}, method), rtol=1e-7, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.01, 1e4), min_size=3, max_size=12))
def test_reversing_direction_reverses_score(values):
    x = pd.DataFrame({"a": values})
    if x["a"].nunique() < len(x) or x["a"].max() - x["a"].min() < 1e-6 * x["a"].max():
        return                                  # ties rank "min" on both sides; no spread
    up, down = ({"a": 1}, {"a": -1})
    n = len(values)
    norm = steps.normalise
    np.testing.assert_allclose(norm(x, down, "minmax"), 100 - norm(x, up, "minmax"), atol=1e-9)
    np.testing.assert_allclose(norm(x, down, "zscore"), -norm(x, up, "zscore"), atol=1e-9)
    np.testing.assert_allclose(norm(x, down, "rank"), n + 1 - norm(x, up, "rank"))
    np.testing.assert_allclose(norm(x, down, "dist2mean"), -norm(x, up, "dist2mean"), atol=1e-9)


def test_reversing_direction_reverses_contribution(random_matrix):
    up = cp.evaluate_matrix(random_matrix, small_framework(("+", "+", "-", "+")), runs=10)
    down = cp.evaluate_matrix(random_matrix, small_framework(("-", "+", "-", "+")), runs=10)
    d_up = up.dimensions.pivot(index="street_code", columns="dimension", values="score")
    d_dn = down.dimensions.pivot(index="street_code", columns="dimension", values="score")
    s0 = up.indicators.pivot(index="street_code", columns="indicator", values="score")["i0"]
    # dimension A = mean(i0, i1): reversing i0 turns its contribution s0/2 into (100 - s0)/2
    np.testing.assert_allclose(d_dn["A"] - d_up["A"], (100 - 2 * s0) / 2)
    np.testing.assert_allclose(d_dn["B"], d_up["B"])


def test_rescaling_leaves_evaluation_unchanged(random_matrix):
    a = cp.evaluate_matrix(random_matrix, small_framework(), runs=300, seed=4)
    b = cp.evaluate_matrix(random_matrix.assign(i2=random_matrix["i2"] * 1234.5), small_framework(),
                           runs=300, seed=4)
    pd.testing.assert_frame_equal(a.ranks, b.ranks)
    pd.testing.assert_frame_equal(a.pairwise, b.pairwise)


def test_dominant_street_ranks_first_with_certainty(random_matrix):
    x = random_matrix.copy()
    best = x.max() * 2
    best["i2"] = x["i2"].min() / 2                     # i2 has direction -
    x.loc[NINE[4]] = best
    ev = cp.evaluate_matrix(x, small_framework(), runs=1000, seed=1)
    r = ev.ranks.set_index("street_code").loc[NINE[4]]
    assert (r["rank"], r["rank_median"], r["rank_q05"], r["rank_q95"]) == (1, 1, 1, 1)
    assert r["p_top3"] == 1 and r["mean_abs_shift"] == 0
    others = [c for c in NINE if c != NINE[4]]
    assert (ev.pairwise.loc[NINE[4], others] == 1).all()
    assert ev.rank_counts.loc[NINE[4], 1] == 1000


def test_identical_streets_tie(random_matrix):
    x = random_matrix.copy()
    x.loc[NINE[3]] = x.loc[NINE[6]]
    ev = cp.evaluate_matrix(x, small_framework(), runs=500, seed=2)
    r = ev.ranks.set_index("street_code")
    a, b = r.loc[NINE[3]], r.loc[NINE[6]]
    for col in ("score", "rank", "rank_median", "rank_q05", "rank_q95", "p_top3", "p_bottom3"):
        assert a[col] == b[col], col
    assert ev.pairwise.loc[NINE[3], NINE[6]] == 0 and ev.pairwise.loc[NINE[6], NINE[3]] == 0
    assert (ev.rank_counts.loc[NINE[3]] == ev.rank_counts.loc[NINE[6]]).all()


def test_same_seed_same_result(random_matrix):
    fw = small_framework()
    a = cp.evaluate_matrix(random_matrix, fw, runs=400, seed=11)
    b = cp.evaluate_matrix(random_matrix, fw, runs=400, seed=11)
    c = cp.evaluate_matrix(random_matrix, fw, runs=400, seed=12)
    for name in ("ranks", "dimensions", "pairwise", "rank_counts", "sensitivity",
                 "sensitivity_streets", "strengths", "similar"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.pairwise.equals(c.pairwise) or not a.sensitivity.equals(c.sensitivity)


def test_nominal_run_equals_the_steps(random_matrix):
    """The governance index is the general engine's composite on the screened matrix."""
    fw = small_framework()
    ev = cp.evaluate_matrix(random_matrix, fw, runs=5)
    x = random_matrix
    meta = pd.DataFrame({"code": ["i0", "i1", "i2", "i3", "A", "B", "index"],
                         "level": [1, 1, 1, 1, 2, 2, 3],
                         "parent": ["A", "A", "B", "B", "index", "index", None],
                         "direction": [1, 1, -1, 1, 1, 1, 1]})
    t = steps.treat(x, winmax=fw.settings["winmax"]).data
    agg = steps.aggregate(steps.normalise(t, meta), meta)
    nominal = ev.ranks.set_index("street_code").loc[list(x.index), "score"]
    np.testing.assert_allclose(agg["index"].to_numpy(), nominal.to_numpy(), rtol=1e-12)
    d = ev.dimensions.pivot(index="street_code", columns="dimension", values="score")
    np.testing.assert_allclose(d.loc[list(x.index), ["A", "B"]].to_numpy(),
                               agg[["A", "B"]].to_numpy(), rtol=1e-12)
    assert ev.settings["nominal"]["weights"] == "equal"
    assert ev.settings["monte_carlo"]["varied"] == list(cp.ASSUMPTIONS)


def test_unequal_weights_are_recorded(random_matrix):
    fw = small_framework()
    fw = replace(fw, indicators=(replace(fw.indicators[0], weight=2.0), *fw.indicators[1:]))
    ev = cp.evaluate_matrix(random_matrix, fw, runs=5)
    assert ev.settings["nominal"]["weights"]["i0"] == 2.0


def test_rank_scores_ties_and_missing():
    ranks, counts = mc.rank_scores(np.array([[3.0, 1.0, 3.0, np.nan]]), pairwise=True)
    assert ranks.tolist() == [[1, 3, 1, 4]]
    assert counts[0, 2] == 0 and counts[0, 1] == 1 and counts[3].sum() == 0


def test_coherence_on_the_evaluation(random_matrix):
    ev = cp.evaluate_matrix(random_matrix, small_framework(), runs=20)
    tab = ev.coherence_table()
    assert list(tab["code"]) == ["A", "i0", "i1", "B", "i2", "i3"]
    assert {"corr_parent", "corr_index", "alpha", "flag", "label_zh", "label_en"} <= set(tab.columns)
    norm = ev.indicators.pivot(index="street_code", columns="indicator", values="score")
    dims = ev.dimensions.pivot(index="street_code", columns="dimension", values="score")
    exp = np.corrcoef(norm["i0"], dims.loc[norm.index, "A"])[0, 1]
    assert tab.set_index("code").at["i0", "corr_parent"] == pytest.approx(exp, rel=1e-10)
    assert np.isfinite(tab.set_index("code").at["A", "alpha"])
    json.dumps(ev.to_dict()["coherence"], ensure_ascii=False)


# --------------------------------------------------------------------------- result


def test_evaluation_outputs(random_matrix):
    ev = cp.evaluate_matrix(random_matrix, small_framework(), runs=300, year=2018)
    cols = {"street_code", "score", "rank", "rank_median", "rank_q05", "rank_q95", "p_top3",
            "p_bottom3", "mean_abs_shift"}
    assert cols <= set(ev.ranks.columns)
    r = ev.ranks
    assert ((r["rank_q05"] <= r["rank_median"]) & (r["rank_median"] <= r["rank_q95"])).all()
    assert r["score"].between(0, 100).all()
    p = ev.pairwise.to_numpy()
    assert np.all(p + p.T <= 1 + 1e-12)
    assert set(ev.sensitivity["assumption"]) == set(cp.ASSUMPTIONS)
    s = ev.sensitivity_streets.dropna()
    assert s["first_order"].between(0, 1).all() and s["total"].between(0, 1).all()
    assert ev.similar.groupby("street_code").size().max() == 3
    assert set(ev.strengths["kind"]) <= {"strength", "weakness"}
    assert set(ev.dimensions["dimension"]) == {"A", "B"}
    assert "Evaluation(year=2018" in repr(ev)


def test_evaluation_pickles_and_serialises(random_matrix):
    ev = cp.evaluate_matrix(random_matrix, small_framework(), runs=100, year=2018)
    back = pickle.loads(pickle.dumps(ev))
    assert isinstance(back, Evaluation)
    pd.testing.assert_frame_equal(back.ranks, ev.ranks)
    d = ev.to_dict()
    json.dumps(d, ensure_ascii=False)
    assert d["ranks"][0]["rank"] == 1


def test_street_summary_plain_types(random_matrix):
    ev = cp.evaluate_matrix(random_matrix, small_framework(), runs=200, year=2018)
    code = ev.ranks["street_code"].iloc[0]
    s = ev.street_summary(code)
    json.dumps(s, ensure_ascii=False)
    assert s["rank"] == 1 and s["ranked"] is True and len(s["rank_interval"]) == 2
    assert {d["dimension"] for d in s["dimensions"]} == {"A", "B"}
    assert len(s["similar"]) == 3 and isinstance(s["score"], float)
    assert {"first_order", "total", "assumption"} <= set(s["sensitivity"][0])
    for a in s["robustly_above"]:
        assert ev.pairwise.loc[code, a] >= 0.9
    with pytest.raises(UsageError, match="not in this evaluation"):
        ev.street_summary("440402999")


def test_robust_pairs_threshold(random_matrix):
    ev = cp.evaluate_matrix(random_matrix, small_framework(), runs=300)
    rp = ev.robust_pairs()
    assert (rp["p"] >= 0.9).all()
    assert len(ev.robust_pairs(0.0)) == 9 * 8


def test_evaluate_from_tables(tables):
    ev = evaluate(2018, runs=200, tables=tables, streets=[S1, S2], settings={"coverage": 1.0})
    assert set(ev.ranks["street_code"]) == {S1, S2}
    assert ev.ranks["ranked"].all()
    assert ev.settings["runs"] == 200 and ev.year == 2018
    assert "value" in ev.indicators.columns and "score" in ev.indicators.columns
    assert not ev.screening.set_index("indicator").loc["awards_per_10_communities", "kept"]
    # xz.evaluate is the function, also after the package has been imported
    import xzlib.evaluation  # noqa: F401

    assert xz.evaluate is evaluate and xz.indicators is indicators


def test_evaluate_with_nothing_to_rank(tables):
    with pytest.raises(UsageError, match="nothing to rank"):
        evaluate(2016, runs=10, tables=tables, streets=[S1, S2])


def test_settings_override(random_matrix):
    fw = small_framework()
    ev = cp.evaluate_matrix(random_matrix, fw, runs=50, settings={"top": 2, "similar": 2})
    assert "p_top2" in ev.ranks.columns
    assert ev.similar.groupby("street_code").size().max() == 2
    with pytest.raises(UsageError):
        cp.evaluate_matrix(random_matrix, replace(fw), runs=0)


def test_strengths_and_weaknesses_follow_the_tie_rules():
    """Strengths: top third by rank with ties counted pessimistically (method max), best
    rank first, then higher score; weaknesses: bottom third with ties counted
    optimistically (min), worst rank first, then lower score, a missing score last; a
    missing value is never either.  Six streets, worked out by hand."""

    from xzlib.evaluation.district import _strengths

    nan = np.nan
    streets = [f"s{i}" for i in range(1, 7)]
    raw = pd.DataFrame({"A": [10, 10, 5, 4, 3, 1], "B": [1, 2, 3, 4, 5, 6],
                        "C": [nan, 7, 7, 7, 2, 1]}, index=streets, dtype=float)
    norm = pd.DataFrame({"A": [90, 80, 50, 40, nan, 10], "B": [100, 90, 60, 40, 20, 5],
                         "C": [nan, 70, 70, 70, 20, 0]}, index=streets, dtype=float)
    meta = pd.DataFrame({"direction": [1, -1, 1], "dimension": "D1", "label_zh": ["甲", "乙", "丙"],
                         "label_en": ["a", "b", "c"], "unit": "", "unit_en": ""},
                        index=["A", "B", "C"])
    got = _strengths(raw, norm, meta, k=3)

    def picked(code, kind):
        rows = got[(got["street_code"] == code) & (got["kind"] == kind)]
        assert list(rows["order"]) == list(range(1, len(rows) + 1))
        return list(zip(rows["indicator"], rows["rank"], strict=True))

    assert picked("s1", "strength") == [("B", 1), ("A", 2)]  # A tied 1-2: counted as 2
    assert picked("s2", "strength") == [("B", 2), ("A", 2)]  # same rank: higher score first
    assert picked("s3", "strength") == []                    # C tied 1-3: counted as 3
    assert picked("s6", "weakness") == [("B", 6), ("A", 6), ("C", 5)]  # lower score first
    assert picked("s5", "weakness") == [("B", 5), ("A", 5)]  # A's score missing: last
    assert picked("s1", "weakness") == []
    assert "C" not in set(got.loc[got["street_code"] == "s1", "indicator"])  # no value
    row = got[(got["street_code"] == "s6") & (got["indicator"] == "C")].iloc[0]
    assert (row["value"], row["n_streets"], row["district_median"], row["score"]) == (1, 5, 7, 0)
    assert _strengths(raw, norm, meta, k=1).groupby(["street_code", "kind"]).size().max() == 1
