"""The sample batch: valid, calibrated to the published facts, deterministic, realistic.

Targets are read from ``data/reference`` through :mod:`xzlib.reference`, never copied here.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest

from xzlib import dataset, reference, sample, schemas, submission
from xzlib.errors import UsageError
from xzlib.roster import divisions, streets

QIANSHAN = "440402003"
FENGSHAN_PREFIX = "440402009"


@pytest.fixture(scope="module")
def frames():
    return sample.generate(seed=0)


@pytest.fixture(scope="module")
def street_of(frames):
    """Street code of every row of each table (from the roster of the row's year)."""
    return sample._street_of_rows(frames)


@pytest.fixture(scope="module")
def report(frames):
    return sample.calibration_report(frames).set_index("fact_id")


def published(fact_id: str) -> float:
    """The fact's value converted from the unit as written to the unit of the data."""
    row = reference.fact(fact_id)
    factor = 10_000 if str(row["unit"]) in ("万人次", "万人") else 1
    return float(row["value"]) * factor


def in_period(years: pd.Series, fact_id: str) -> pd.Series:
    row = reference.fact(fact_id)
    return years.between(row["period_start"].year, row["period_end"].year)


def consistent(value: float, fact_id: str) -> bool:
    row = reference.fact(fact_id)
    target = published(fact_id)
    q = row["qualifier"]
    if q == "exact":
        return round(value, 2) == round(target, 2)
    if q == "at_least":
        return value >= target
    return abs(value - target) <= sample.ABOUT_TOLERANCE * target


# --------------------------------------------------------------------------- validity


def test_frames_have_exactly_the_schema_columns_and_dtypes(frames):
    assert set(frames) == set(schemas.TABLES)
    for name, df in frames.items():
        schema = schemas.get_schema(name)
        assert list(df.columns) == schema.names, name
        for col in schema.columns:
            assert str(df[col.name].dtype) == col.dtype, (name, col.name)
        assert df.attrs["synthetic"] is True


def test_frames_pass_every_schema_rule_with_foreign_keys(frames):
    divs = divisions()
    for name, df in frames.items():
        schema = schemas.get_schema(name)
        problems = schemas.check(schemas.coerce(df, schema), schema, divs)
        assert problems == [], (name, problems[:5])


def test_write_tables_accepts_the_frames_and_marks_them_synthetic(frames, tmp_path):
    out = dataset.write_tables(frames, tmp_path / "processed", synthetic=True, batch="sample")
    man = json.loads((out / dataset.MANIFEST).read_text(encoding="utf-8"))
    assert man["synthetic"] is True and man["batch"] == "sample"
    assert {k: v["rows"] for k, v in man["tables"].items()} == {k: len(v) for k, v in frames.items()}
    df = dataset.load("projects", data_dir=out, names=False)
    assert df.attrs["synthetic"] is True


def test_fengshan_communities_belong_to_qianshan_before_2020(frames):
    c = frames["communities"]
    fs = c[c["community_code"].astype(str).str.startswith(FENGSHAN_PREFIX)]
    assert fs["community_code"].nunique() == 9
    assert set(fs["year"]) == set(sample.YEARS)
    assert set(fs["street_code"].astype(str)) == {QIANSHAN}
    assert FENGSHAN_PREFIX not in set(frames["projects"]["street_code"].astype(str))


def test_every_street_is_in_every_table(frames, street_of):
    codes = set().union(*(set(streets(y)["code"]) for y in sample.YEARS))
    assert len(codes) == 9
    for name in schemas.TABLES:
        assert set(street_of[name].dropna()) == codes, name
    # ... and in every year where the programme existed
    c = frames["communities"]
    assert (c.groupby("year")["street_code"].nunique() == 9).all()
    g = frames["grid_cases"]
    per_year = street_of["grid_cases"].groupby(g["reported_at"].dt.year).nunique()
    assert (per_year == 9).all()


def test_every_community_of_the_roster_every_year(frames):
    c = frames["communities"]
    for y in sample.YEARS:
        roster = set(divisions(y, level="community")["code"])
        assert set(c.loc[c["year"] == y, "community_code"].astype(str)) == roster


def test_grid_cases_at_real_volume(frames):
    g = frames["grid_cases"]
    assert len(g) >= 100_000
    per_year = g.groupby(g["reported_at"].dt.year).size()
    assert list(per_year.index) == list(sample.YEARS)
    assert per_year.is_monotonic_increasing


def test_ids_are_unique_and_well_formed(frames):
    assert frames["projects"]["project_id"].str.fullmatch(r"P20\d\d-\d{4}").all()
    assert frames["deliberations"]["meeting_id"].str.fullmatch(r"M20\d\d-\d{5}").all()
    assert frames["grid_cases"]["case_id"].str.fullmatch(r"G20\d\d-\d{7}").all()
    for name, schema in schemas.SCHEMAS.items():
        assert not frames[name].duplicated(list(schema.key)).any(), name
    # the year in an id is the year of the row
    p = frames["projects"]
    assert (p["project_id"].str[1:5].astype(int) == p["year"]).all()
    g = frames["grid_cases"]
    assert (g["case_id"].str[1:5].astype(int) == g["reported_at"].dt.year).all()


# --------------------------------------------------------------------------- calibration


def test_grid_and_party_facts_are_exact(frames):
    c = frames["communities"]
    last = c[in_period(c["year"], "grids_2018")]
    assert int(last["grids"].sum()) == published("grids_2018")
    assert int(last["grid_leaders"].sum()) == published("grid_leaders_2018")
    assert int(last["grid_members"].sum()) == published("grid_members_2018")
    party = c[in_period(c["year"], "party_committees_2018")]
    assert int(party["party_committee"].sum()) == published("party_committees_2018")
    assert party["party_committee"].notna().all()


def test_fund_facts_are_exact_to_the_last_digit(frames):
    p = frames["projects"]
    funds = p.loc[in_period(p["year"], "special_funds_2013_2018"), "gov_funds_wan"]
    assert round(funds.sum(), 2) == published("special_funds_2013_2018")
    district = p[(p["programme"] == "innovation") & (p["funding_level"] == "district")]
    assert round(district["gov_funds_wan"].sum(), 2) == published(
        "innovation_funds_district_2013_2018")
    street = p[p["funding_level"] == "street"]
    assert set(street["programme"]) == {"micro_charity", "deliberation_fund"}
    assert consistent(street["gov_funds_wan"].sum(), "charity_funds_street_2013_2018")
    # amounts are whole 0.01 万元
    cents = p["gov_funds_wan"] * 100
    assert np.allclose(cents, cents.round(), atol=1e-6)


def test_count_and_reach_facts_are_consistent_with_their_qualifiers(frames):
    p = frames["projects"]
    micro = p[(p["programme"] == "micro_charity") & in_period(p["year"], "micro_charity_projects")]
    innov = p[(p["programme"] == "innovation") & in_period(p["year"], "innovation_projects_2013_2018")]
    checks = {
        "innovation_projects_2013_2018": len(innov),
        "micro_charity_projects": len(micro),
        "micro_charity_brands": micro["brand"].dropna().nunique(),
        "social_funds_2013_2018": p["social_funds_wan"].sum(),
        "micro_charity_social_funds": micro["social_funds_wan"].sum(),
        "people_served_2013_2018": p["beneficiaries"].sum(),
        "micro_charity_served": micro["beneficiaries"].sum(),
        "people_served_all_projects": p["beneficiaries"].sum(),
    }
    for fact_id, value in checks.items():
        assert consistent(float(value), fact_id), (fact_id, value, published(fact_id))
    # "多" is a little more, not a lot more: below the next step of the written digit
    for fact_id in ("innovation_projects_2013_2018", "micro_charity_projects"):
        assert checks[fact_id] < published(fact_id) + 10
    assert checks["people_served_2013_2018"] < published("people_served_2013_2018") + 10_000
    assert checks["social_funds_2013_2018"] <= 1.2 * published("social_funds_2013_2018")
    # social funds are raised almost only by micro-charity grants
    assert checks["micro_charity_social_funds"] >= 0.9 * checks["social_funds_2013_2018"]


def test_brands_one_per_street_and_the_article_names_where_it_ties_them(frames):
    p = frames["projects"]
    micro = p[p["programme"] == "micro_charity"].dropna(subset=["brand"])
    per_street = micro.groupby("street_code", observed=True)["brand"].agg(set)
    assert len(per_street) == 9 and all(len(b) == 1 for b in per_street)
    brands = {s: next(iter(b)) for s, b in per_street.items()}
    assert brands["440402001"] == "公益翠香"
    assert brands["440402005"] == "爱·益拱北"
    invented = [b for b in brands.values() if b not in ("公益翠香", "爱·益拱北", "吉聚力量")]
    assert len(invented) == 6 and all(b.startswith("示例") for b in invented)
    assert p.loc[p["programme"] != "micro_charity", "brand"].isna().all()


def test_calibration_report_matches_or_records_every_calibrated_fact(report, frames):
    assert "mismatch" not in set(report["status"]), report[report["status"] == "mismatch"]
    cannot = set(report.index[report["status"] == "cannot_match"])
    assert {"communities_2018", "service_centers_2018"} <= cannot
    c = frames["communities"]
    in_2018 = c[c["year"] == 2018]
    assert report.loc["communities_2018", "sample_value"] == in_2018["community_code"].nunique()
    assert report.loc["communities_2018", "published_value"] == reference.fact(
        "communities_2018")["value"]
    assert "134" in report.loc["communities_2018", "note"]
    assert in_2018["service_center"].all()
    assert "139" in report.loc["service_centers_2018", "note"]
    # every other fact the generator is calibrated to is matched
    for fact_id in ("grids_2018", "grid_leaders_2018", "grid_members_2018",
                    "party_committees_2018", "special_funds_2013_2018",
                    "innovation_funds_district_2013_2018", "charity_funds_street_2013_2018",
                    "social_funds_2013_2018", "micro_charity_social_funds",
                    "innovation_projects_2013_2018", "micro_charity_projects",
                    "people_served_2013_2018", "micro_charity_served",
                    "people_served_all_projects", "micro_charity_brands"):
        assert report.loc[fact_id, "status"] == "matched", fact_id
    # sample values are in the published unit (万人次, not 人次)
    served = frames["projects"]["beneficiaries"].sum()
    assert report.loc["people_served_2013_2018", "sample_value"] == pytest.approx(served / 1e4)


def test_calibration_report_detects_a_broken_total(frames):
    broken = dict(frames)
    c = frames["communities"].copy()
    c.loc[c.index[-1], "grids"] += 1
    c.loc[c.index[-1], "grid_members"] += 1
    broken["communities"] = c
    rep = sample.calibration_report(broken).set_index("fact_id")
    assert rep.loc["grids_2018", "status"] == "mismatch"


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_frames_other_seed_other_frames(frames):
    again = sample.generate(seed=0)
    for name in schemas.TABLES:
        pd.testing.assert_frame_equal(frames[name], again[name])
    other = sample.generate(seed=1)
    for name in schemas.TABLES:
        assert not frames[name].equals(other[name]), name


def test_a_subset_of_years_is_the_same_history_cut(frames):
    only = sample.generate(seed=0, years=[2018])
    for name, df in only.items():
        years = schemas.get_schema(name).years(frames[name])
        expected = frames[name][(years == 2018).to_numpy()].reset_index(drop=True)
        pd.testing.assert_frame_equal(df.reset_index(drop=True), expected, check_categorical=False)
    with pytest.raises(UsageError, match="2013-2018"):
        sample.generate(years=[2019])


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.slow
def test_write_sample_is_byte_reproducible_and_marked_synthetic(tmp_path):
    a = sample.write_sample(tmp_path / "a", seed=0)
    b = sample.write_sample(tmp_path / "b", seed=0)
    names = sorted(submission.workbook_name(c, n) for c, n in
                   streets(2018).itertuples(index=False))
    assert sorted(p.name for p in a.iterdir()) == names
    assert digest(a) == digest(b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # no temporary left
    book = pd.read_excel(a / names[0], sheet_name=None, header=None, engine="calamine")
    notes = book[submission.NOTES_SHEET]
    meta = dict(zip(notes[0], notes[1], strict=False))
    assert "示例数据" in meta[submission.META_FIELDS["data_nature"]]
    assert meta[submission.META_FIELDS["batch"]] == "sample"
    assert meta[submission.META_FIELDS["street_code"]] == names[0][:9]
    cases = book[submission.SHEETS["grid_cases"]]
    assert len(cases) > 1_000


def test_write_sample_never_leaves_a_half_written_batch(tmp_path, monkeypatch):
    out = tmp_path / "batch"
    out.mkdir()
    (out / "previous.xlsx").write_bytes(b"old batch")
    calls = []

    def failing(path, frames, **kw):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        path.write_bytes(b"partial")
        return path

    monkeypatch.setattr(submission, "write_workbook", failing)
    with pytest.raises(OSError, match="disk full"):
        sample.write_sample(out, seed=0)
    assert [p.name for p in out.iterdir()] == ["previous.xlsx"]
    assert [p.name for p in tmp_path.iterdir()] == ["batch"]


# --------------------------------------------------------------------------- realism


def test_streets_differ_persistently_and_no_street_leads_on_everything(frames, street_of):
    g = frames["grid_cases"]
    days = (g["resolved_at"] - g["reported_at"]).dt.total_seconds() / 86400
    median_days = days.groupby(street_of["grid_cases"]).median()
    assert median_days.max() / median_days.min() >= 1.5
    # the ranking holds year after year (a persistent street effect)
    by_year = days.groupby([street_of["grid_cases"], g["reported_at"].dt.year]).median().unstack()
    fastest = by_year.idxmin()
    assert fastest.value_counts().iloc[0] >= len(fastest) - 1

    c = frames["communities"]
    c18 = c[c["year"] == 2018]
    pop = c18.groupby("street_code", observed=True)["population"].sum()
    n_comm = c18.groupby("street_code", observed=True).size()
    p = frames["projects"]
    d = frames["deliberations"]
    party_2015 = c[c["year"] == 2015].groupby("street_code", observed=True)["party_committee"].mean()
    indicators = pd.DataFrame({
        "fast_cases": -median_days,
        "party_2015": party_2015,
        "meetings_per_community": d.groupby(street_of["deliberations"]).size() / n_comm,
        "served_per_resident": p.groupby("street_code", observed=True)["beneficiaries"].sum() / pop,
        "eval": p.groupby("street_code", observed=True)["eval_score"].mean(),
        "grids_per_resident": c18.groupby("street_code", observed=True)["grids"].sum() / pop,
    })
    leaders = indicators.idxmax()
    assert leaders.nunique() >= 3, leaders
    assert (indicators.rank(ascending=False) == 1).all(axis=1).sum() == 0


def test_grid_cases_look_real(frames):
    g = frames["grid_cases"]
    assert (g["reported_at"].dt.second == 0).all()
    resolved = g["status"] == "resolved"
    assert (g.loc[resolved, "resolved_at"] >= g.loc[resolved, "reported_at"]).all()
    assert g.loc[~resolved, "resolved_at"].isna().all()
    # 2-3 % still open, mostly reported in the last months of the period
    open_ = g[~resolved]
    assert 0.015 <= len(open_) / len(g) <= 0.035
    assert (open_["reported_at"] >= "2018-07-01").mean() >= 0.8
    # long-tailed resolution: median of days, a few cases over a month
    days = (g["resolved_at"] - g["reported_at"]).dt.total_seconds() / 86400
    assert 2 <= days.median() <= 5
    assert 0.005 <= (days > 30).mean() <= 0.08
    assert days.mean() > 1.5 * days.median()
    # seasonality: more in the rainy/typhoon season, fewer at the Spring Festival, weekends
    month = g["reported_at"].dt.month.value_counts()
    assert month[[6, 7, 8]].mean() > 1.2 * month[[1, 2, 12]].mean()
    assert month[2] == month.min()
    weekday = g["reported_at"].dt.day_of_week.value_counts()
    assert weekday[[5, 6]].mean() < 0.8 * weekday[[0, 1, 2, 3, 4]].mean()
    # grid numbers exist in the community's grid system that year
    c = frames["communities"].set_index(["community_code", "year"])["grids"]
    key = pd.MultiIndex.from_arrays([g["community_code"].astype(str), g["reported_at"].dt.year])
    grids = c.rename(index=str, level=0).reindex(key).to_numpy()
    assert (g["grid_no"].to_numpy() <= grids).all()
    # the category mix differs by street
    street = sample._street_of_rows({"grid_cases": g})["grid_cases"]
    mix = pd.crosstab(street, g["category"], normalize="index")
    assert (mix.max() - mix.min()).max() > 0.05


def test_communities_look_real(frames):
    c = frames["communities"]
    ratio = c["population"] / c["households"]
    assert ratio.between(2.3, 3.0).all()
    assert c["population"].between(3_000, 30_000).all()
    # the grid system and party organisation grew over the years
    totals = c.groupby("year")[["grids", "grid_members", "party_committee", "service_center"]].sum()
    assert all(totals[col].is_monotonic_increasing for col in totals)
    assert totals["grids"].iloc[0] < 0.8 * totals["grids"].iloc[-1]
    per_comm = c.pivot(index="community_code", columns="year", values="grids")
    assert (per_comm.diff(axis=1).iloc[:, 1:] >= 0).all().all()
    # members vary with population per grid, not a fixed 3 per grid
    c18 = c[c["year"] == 2018]
    assert (c18["grid_members"] / c18["grids"]).nunique() > 5
    # a realistic gap: some community-years did not report owners' committees
    assert 0 < c["owners_committees"].isna().mean() < 0.15


def test_projects_look_real(frames):
    p = frames["projects"]
    funds = p.groupby("programme", observed=True)["gov_funds_wan"]
    assert funds.median()["micro_charity"] < funds.median()["innovation"]
    micro = p.loc[p["programme"] == "micro_charity", "gov_funds_wan"]
    assert micro.between(5, 20).mean() > 0.6
    innov = p.loc[p["programme"] == "innovation", "gov_funds_wan"]
    assert innov.max() >= 30 and innov.max() <= 100
    assert innov.mean() > innov.median()  # right-skewed
    assert 0.05 <= p["eval_score"].isna().mean() <= 0.2
    assert p["eval_score"].dropna().between(60, 98).all()
    social = p["social_funds_wan"]
    assert social.isna().any() and (social == 0).any() and (social > 0).any()
    assert p["title"].str.contains("示例").all()
    assert p["implementer"].str.contains("示例").all()
    # the programme timeline of the article
    first = p.groupby("programme", observed=True)["year"].min()
    assert first["innovation"] == 2013 and first["micro_charity"] == 2014
    assert first["deliberation_fund"] == 2017
    pioneers = p[(p["programme"] == "micro_charity") & (p["year"] == 2014)]
    assert set(pioneers["street_code"].astype(str)) == {"440402001", "440402005"}


def test_deliberations_look_real(frames):
    d = frames["deliberations"]
    assert d["participants"].between(15, 120).all()
    assert d["proposals"].between(1, 8).all()
    assert (d["adopted"] <= d["proposals"]).all()
    ok = d["implemented"].notna()
    assert (d.loc[ok, "implemented"] <= d.loc[ok, "adopted"]).all()
    first = d[d["date"].dt.year == d["date"].dt.year.min()]
    assert first["date"].dt.year.iloc[0] == 2016
    names = divisions(2016, level="community").set_index("code")["name"]
    assert set(first["community_code"].astype(str).map(names)) == {"南村社区", "北岭社区"}
    late = d["date"] >= "2018-10-01"
    assert d.loc[late, "implemented"].isna().mean() > 3 * d.loc[~late, "implemented"].isna().mean()
    assert math.isclose(d["date"].dt.hour.max(), 0)
