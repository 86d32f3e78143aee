"""The sample batch (示例数据): synthetic programme data for the real 2013-2018 roster.

Every number this module produces is **synthetic**.  It exists so that the whole pipeline
(submissions -> ``xz clean`` -> evaluation -> reports) can run, be tested and be shown
before real street-office submissions arrive.  Nothing here is a fact about Xiangzhou:
the roster (streets and communities, :mod:`xzlib.roster`) is real, the published
district totals it is calibrated to (:mod:`xzlib.reference`) are the article's, and
everything else -- populations, grids per community, projects, meetings, cases, street
differences, brand names other than those the article gives -- is invented.  The
workbooks say so on their notes sheet (数据性质: 示例数据), the processed tables carry
``synthetic=True`` into their parquet metadata and manifest, and every generated title
and implementer ends in 示例 or starts with 示例.

Generative model
----------------
One :class:`numpy.random.Generator` per table, spawned from ``SeedSequence(seed)``, so the
same seed always gives the same frames and a change to one table's model does not reshuffle
the others.  The batch covers 2013-2018 (the period of the published totals); asking for
fewer years returns the same history, cut.

*Street profiles.*  Each street has a fixed, invented profile (:data:`STREET_PROFILES`):
community size, party-organisation lead, grid density, case load, median case-resolution
time, deliberation activity, meeting turnout, project reach, innovation and micro-charity
propensity, fund-raising leverage, evaluation level and the year its micro-charity
programme started.  Profiles are persistent (they hold in every year and every seed), so
street rankings mean something, and they trade off: no street leads on everything.  The
start years follow the article: micro-charity in 翠香 and 拱北 from 2014, the others from
2015-2016; resident deliberation piloted in 2016 at 南村社区 (梅华) and 北岭社区 (拱北),
rolled out to all streets 2017-2018; deliberation funds (议事协商专项资金) from 2017.

*Communities* (community x year).  Resident population ``3000 + lognormal`` (median about
6,000, scaled by the street's size), growing 0-6 % a year; 2.4-2.9 persons per household,
slowly falling.  Grids grow from about 55 % of the 2018 count in 2013; 2018 grids are
apportioned to communities in proportion to population x street grid density (at least
one each); grid leaders equal grids in 2018 (vacancies earlier); grid members are at
least one per grid, the rest apportioned by population per grid.  Party committees and
party-mass service centres spread over the years in the order of a latent score (street
lead + size + noise).  Owners' committees grow; "red" owners' committees (with a party
branch) appear from 2014 and grow fastest in 2017-2018.

*Deliberations* (one row per meeting).  A community holds meetings from the year its
latent adoption score passes a street-dependent threshold (pilots from April 2016);
meetings per year are ``1 + Poisson`` with a street rate; dates avoid Sundays and the
Spring Festival.  Turnout 15-120, proposals 1-8, adopted <= proposals, implemented <=
adopted with the implementation share rising with the meeting's age.

*Projects* (one row per funded project).  Innovation projects (district-funded, from 2013),
micro-charity grants (street-funded, from each street's start year, one brand per street)
and deliberation-fund projects (street-funded, 2017-2018, in communities that deliberate).
Funds are lognormal (micro-charity grants mostly 5-20 万元, innovation projects 5-80 万元);
social funds are zero for many projects, missing for some; beneficiaries are skewed and
grow with funds and the street's reach; third-party scores 60-98, about 10 % missing
(more for 2018 projects, whose evaluation is often not finished).

*Grid cases* (one row per case, > 100,000 rows).  Cases per community-year are Poisson in
grids x a rate that grows over the years x the street's case load.  Report days follow a
weekday pattern (fewer at weekends), a season (more from May to September, the rainy and
typhoon season, with a few storm spikes) and a dip around the Spring Festival; report times
follow office hours.  The category mix differs by street.  Resolution time is lognormal
(median 2-5 days by street, longer for disputes and property issues, improving over the
years; a few cases take more than a month).  Cases not closed by 2018-12-31 23:59, and a
few stuck cases from the last months of 2018, are open (2-3 % of all cases).

Calibration
-----------
District totals equal the published figures (:func:`xzlib.reference.fact`) wherever the
article gives one for the same scope and period.  Targets are read from the reference data
at run time, never copied into the code; each is converted from the unit as written
(``147`` 万人次) to the unit of the data (1,470,000 人次).

* ``exact`` facts are hit exactly: 404 grids, 404 grid leaders and 1,212 grid members
  (2018), 126 communities with a party committee (2018), 9 micro-charity brands,
  5,769 万元 of government funds 2013-2018 of which 2,769 万元 district innovation funds.
  Money is apportioned in whole 0.01 万元 with a largest-remainder step, so sums are exact
  to the last digit.  The street-level part (micro-charity + deliberation funds) is
  ``special - district`` = 3,000 万元, which also satisfies ``about 3000``.
* ``at_least`` facts ("130多个", "超过147多万人次") are hit just above the bound and below
  the next step of the last written digit, never more than 5 % above (``130多`` -> 131-135
  innovation projects, ``280多`` -> 281-289 micro-charity grants, ``147多万人次`` -> under
  1,480,000 person-times), drawn from the seed.  Social funds are raised almost only by
  micro-charity grants, so both "1000多万元" figures hold.
* ``about`` facts must lie within :data:`ABOUT_TOLERANCE` of the published value.

Some published figures cannot be matched by any data on this roster; they are recorded by
:func:`calibration_report`, not hidden: 126 communities in 2018 (the roster has 134 valid
on 2018-12-31), 139 party-mass service centres (more than the 134 communities; centres
above community level are not modelled, so every community has one in 2018) and 1,500
万元 a year of innovation fund (6 x 1,500 = 9,000 exceeds the 5,769 invested).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import config, schemas, submission
from .errors import UsageError
from .fsutil import atomic_dir
from .roster import divisions as _divisions
from .roster import street_of
from .roster import streets as _streets
from .roster import valid_in as _valid_in

__all__ = [
    "YEARS",
    "ABOUT_TOLERANCE",
    "STREET_PROFILES",
    "BRANDS",
    "generate",
    "write_sample",
    "calibration_report",
]

log = logging.getLogger(__name__)

#: The years the sample batch covers (the period of the published totals).
YEARS = tuple(range(2013, 2019))
#: Relative tolerance within which an ``about`` fact counts as matched.
ABOUT_TOLERANCE = 0.05

_FIRST, _LAST = YEARS[0], YEARS[-1]


@dataclass(frozen=True)
class StreetProfile:
    """Invented, persistent characteristics of one street (multipliers around 1).

    Attributes
    ----------
    size : float
        Community population scale.
    party : float
        Lead in setting up party committees and service centres (latent-score shift).
    grid_density : float
        Grids per resident.
    case_rate : float
        Grid cases per grid.
    resolve_days : float
        Median days to resolve a typical grid case.
    deliberation : float
        Share of communities deliberating and meetings per community.
    turnout : float
        Meeting participants.
    reach : float
        Project beneficiaries per 万元.
    innovation, micro : float
        Propensity to win innovation projects / run micro-charity grants.
    leverage : float
        Social funds raised per government 万元.
    eval_shift : float
        Points added to third-party evaluation scores.
    micro_start : int
        First year of the street's micro-charity programme.
    """

    size: float
    party: float
    grid_density: float
    case_rate: float
    resolve_days: float
    deliberation: float
    turnout: float
    reach: float
    innovation: float
    micro: float
    leverage: float
    eval_shift: float
    micro_start: int


#: Street code -> invented profile.  Chosen so that streets differ persistently and trade
#: off (e.g. 香湾 resolves cases fastest but is slow on party organisation; 翠香 reaches
#: most people per 万元 but is not the fastest on cases).  Start years of micro-charity
#: follow the article (翠香 and 拱北 in 2014); all other values are synthetic.
STREET_PROFILES: dict[str, StreetProfile] = {
    "440402001": StreetProfile(1.10, 0.6, 1.00, 1.00, 3.2, 1.25, 1.10, 1.30, 1.15, 1.30, 1.2, 3.0, 2014),
    "440402002": StreetProfile(1.15, 0.8, 0.90, 1.10, 4.2, 1.50, 1.20, 1.00, 1.00, 1.00, 0.9, 1.0, 2015),
    "440402003": StreetProfile(1.10, -0.2, 1.20, 1.15, 4.8, 0.70, 0.80, 0.85, 0.90, 0.80, 0.8, -2.0, 2016),
    "440402004": StreetProfile(0.95, 0.3, 0.85, 0.90, 2.6, 0.95, 1.00, 1.10, 1.10, 1.10, 1.1, 2.0, 2015),
    "440402005": StreetProfile(0.90, 0.9, 0.95, 1.05, 3.8, 1.40, 1.10, 1.20, 1.20, 1.30, 1.4, 2.0, 2014),
    "440402006": StreetProfile(1.20, 0.0, 1.10, 0.95, 2.2, 0.80, 0.90, 0.90, 0.85, 0.90, 0.9, 0.0, 2015),
    "440402007": StreetProfile(1.00, 0.2, 1.30, 1.00, 3.0, 1.15, 1.00, 0.95, 1.00, 0.90, 0.8, -1.0, 2016),
    "440402008": StreetProfile(0.85, -0.3, 0.75, 0.85, 4.4, 0.60, 0.80, 0.75, 0.75, 0.80, 0.7, -3.0, 2016),
    "440402102": StreetProfile(1.05, -0.5, 1.00, 1.10, 5.0, 0.65, 0.90, 0.80, 0.80, 0.80, 0.8, -1.0, 2016),
}

#: Street code -> micro-charity brand.  公益翠香 and 爱·益拱北 are tied to those streets by
#: the article.  吉聚力量 is attributed to 吉大街道 from the name only (吉 = 吉大): the article
#: lists it without naming its street.  The article names no other brand, so the other
#: six are clearly synthetic labels (示例品牌·...), never presented as real.
BRANDS: dict[str, str] = {
    "440402001": "公益翠香",
    "440402002": "示例品牌·梅华",
    "440402003": "示例品牌·前山",
    "440402004": "吉聚力量",
    "440402005": "爱·益拱北",
    "440402006": "示例品牌·香湾",
    "440402007": "示例品牌·狮山",
    "440402008": "示例品牌·湾仔",
    "440402102": "示例品牌·南屏",
}

# Deliberation pilots named by the article (2016: 南村, 北岭) and the communities of
# 拱北's 2017 "先锋在线" pilot (民事民议), which start deliberating in 2017.
_PILOTS_2016 = ("南村社区", "北岭社区")
_EARLY_2017 = ("港昌社区", "华平社区")

# Spring Festival (春节, first day of the lunar year), a calendar fact.
_SPRING_FESTIVAL = {2013: "2013-02-10", 2014: "2014-01-31", 2015: "2015-02-19",
                    2016: "2016-02-08", 2017: "2017-01-28", 2018: "2018-02-16"}

_CASE_BASE_MIX = np.array([0.30, 0.10, 0.08, 0.17, 0.12, 0.13, 0.06, 0.04])
# Resolution-time multiplier by category (schemas.CASE_CATEGORIES order).
_CASE_SLOWNESS = np.array([0.6, 0.8, 2.0, 1.5, 1.6, 1.0, 0.9, 1.0])
# Reports per hour of day (office hours, a little in the evening).
_HOURS = np.array([1, 0.5, 0.3, 0.3, 0.3, 0.6, 2, 5, 10, 12, 12, 10, 6, 7, 10, 11, 10, 8,
                   5, 4, 3.5, 3, 2, 1.5])

_GROUPS = ("长者", "青少年", "儿童", "困境家庭", "残障人士", "新市民", "妇女", "社区志愿者",
           "楼栋居民", "退役军人", "独居老人", "双职工家庭")
_SERVICES = ("关爱服务", "互助小组", "能力建设", "文化活动", "健康促进", "四点半课堂",
             "邻里节", "心理支持", "环境美化", "安全宣传", "睦邻计划", "技能培训")
_THEMES = ("多元共治平台", "社会组织孵化", "网格化服务", "智慧社区", "社区基金培育",
           "议事规则建设", "志愿服务体系", "老旧小区治理", "社区营造", "社工人才培养",
           "居民自组织培育", "矛盾调解机制")
_TOPICS = ("小区停车管理", "楼道堆物清理", "加装电梯协调", "垃圾分类投放点设置", "小区绿化改造",
           "公共空间微改造", "宠物管理公约", "物业服务质量", "楼道照明维修", "消防通道整治",
           "小区围墙修缮", "噪音扰民处理", "社区活动场地使用", "化粪池清理", "二次供水改造",
           "电动车充电管理")


# --------------------------------------------------------------------------- helpers


def _apportion(total: int, weights, minimum=0) -> np.ndarray:
    """Split the integer ``total`` in proportion to ``weights`` (largest remainder).

    Every element first gets ``minimum``; the rest is shared by weight.  The result sums
    to ``total`` exactly.
    """
    w = np.asarray(weights, dtype=float)
    mins = np.broadcast_to(np.asarray(minimum, dtype=np.int64), w.shape).copy()
    rest = int(total) - int(mins.sum())
    if rest < 0:
        raise ValueError(f"cannot apportion {total} with minimum total {mins.sum()}")
    if rest == 0 or w.size == 0:
        return mins
    share = rest * w / w.sum()
    base = np.floor(share).astype(np.int64)
    left = rest - int(base.sum())
    order = np.argsort(-(share - base), kind="stable")
    base[order[:left]] += 1
    return mins + base


def _money(total_wan: float, weights) -> np.ndarray:
    """Split ``total_wan`` 万元 by weight into amounts rounded to 0.01 万元, summing exactly."""
    cents = _apportion(round(total_wan * 100), weights)
    return cents / 100.0


def _unit_factor(unit: str) -> float:
    """Data units per published unit (万人次 -> 人次 is 10,000; money stays in 万元)."""
    unit = str(unit)
    if unit.startswith("万") and not unit.startswith("万元"):
        return 10_000.0
    return 1.0


def _fact(fact_id: str) -> pd.Series:
    from . import reference

    return reference.fact(fact_id)


def _published(fact_id: str) -> tuple[float, str]:
    """Return a fact's value in DATA units and its qualifier."""
    row = _fact(fact_id)
    return float(row["value"]) * _unit_factor(row["unit"]), str(row["qualifier"])


def _target(fact_id: str, rng: np.random.Generator, *, count: bool = False) -> float:
    """Return a sample total, in data units, consistent with a published fact.

    ``exact`` and ``about`` facts give the value.  ``at_least`` facts (多, 超过) give a value
    just above it and below the next step of the last written digit (``130多`` -> 131-139,
    ``147多万`` -> under 148万), and never more than 5 % above.
    """
    row = _fact(fact_id)
    value, qualifier = _published(fact_id)
    if qualifier != "at_least":
        return value
    written = int(round(float(row["value"])))
    zeros = len(str(written)) - len(str(written).rstrip("0")) if written else 0
    margin = min(10 ** zeros * _unit_factor(row["unit"]), 0.05 * value)
    if count:
        return value + float(rng.integers(1, max(2, math.floor(margin))))
    return value + margin * rng.uniform(0.1, 0.9)


def _year_of(ts) -> int:
    return int(pd.Timestamp(ts).year)


def _weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 for datetime64[D] values."""
    return (days.astype("datetime64[D]").astype(np.int64) + 3) % 7


def _year_days(year: int) -> np.ndarray:
    return np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))


def _festival_factor(days: np.ndarray, year: int, low: float) -> np.ndarray:
    """``low`` from three days before to six days after the Spring Festival, else 1."""
    eve = np.datetime64(_SPRING_FESTIVAL[year]) if year in _SPRING_FESTIVAL else None
    out = np.ones(days.size)
    if eve is not None:
        d = (days - eve).astype(np.int64)
        out[(d >= -3) & (d <= 6)] = low
    return out


# --------------------------------------------------------------------------- roster


@dataclass
class _Roster:
    codes: np.ndarray          # community codes (sorted), shape (n,)
    names: np.ndarray          # community names
    home: np.ndarray           # street code in the last year (street effects), shape (n,)
    street: np.ndarray         # street code per (community, year), shape (n, years), "" if invalid
    valid: np.ndarray          # bool (n, years)
    streets: pd.DataFrame      # code, name of the streets of the period


def _roster() -> _Roster:
    hist = _divisions()
    per_year = {}
    for y in YEARS:
        v = _valid_in(hist, y)
        per_year[y] = v[v["level"] == "community"].set_index("code")["parent_code"].astype(str)
    codes = np.array(sorted(set().union(*(s.index for s in per_year.values()))), dtype=object)
    street = np.full((codes.size, len(YEARS)), "", dtype=object)
    for j, y in enumerate(YEARS):
        street[:, j] = pd.Series(codes).map(per_year[y]).fillna("").to_numpy(dtype=object)
    valid = street != ""
    home = np.array([row[ok][-1] for row, ok in zip(street, valid, strict=True)], dtype=object)
    names = hist.drop_duplicates("code").set_index("code")["name"].astype(str)
    st = pd.concat([_streets_of(y) for y in YEARS]).drop_duplicates("code")
    st = st.sort_values("code").reset_index(drop=True)
    unknown = sorted(set(st["code"]) - set(STREET_PROFILES))
    if unknown:
        raise UsageError(f"no sample profile for street(s) {unknown}; "
                         f"profiles exist for {sorted(STREET_PROFILES)}")
    return _Roster(codes, names.reindex(codes).to_numpy(dtype=object), home, street, valid, st)


def _streets_of(year: int) -> pd.DataFrame:
    return _streets(year)


def _profile(codes, attr: str) -> np.ndarray:
    return np.array([getattr(STREET_PROFILES[c], attr) for c in codes], dtype=float)


# --------------------------------------------------------------------------- communities


def _communities(rng: np.random.Generator, ro: _Roster) -> tuple[pd.DataFrame, dict]:
    n, ny = ro.codes.size, len(YEARS)
    t = np.arange(ny)
    size = _profile(ro.home, "size")
    pop0 = 3000 + rng.lognormal(np.log(2600 * size), 0.7)
    pop0 = np.minimum(pop0, 20_000)
    growth = np.clip(rng.normal(0.03, 0.015, n), 0.0, 0.06)
    pop = pop0[:, None] * (1 + growth[:, None]) ** t * rng.lognormal(0, 0.01, (n, ny))
    pop = np.round(pop).astype(np.int64)
    pph = rng.uniform(2.45, 2.9, n)[:, None] - 0.012 * t
    households = np.round(pop / pph).astype(np.int64)

    # Grids: the last year is calibrated, earlier years grow towards it.
    last = ny - 1
    g_fact = _fact("grids_2018")
    gy = YEARS.index(_year_of(g_fact["period_end"]))
    ok_last = ro.valid[:, gy]
    w = pop[:, gy] * _profile(ro.home, "grid_density") * rng.lognormal(0, 0.15, n)
    grids = np.zeros((n, ny), dtype=np.int64)
    grids[ok_last, gy] = _apportion(int(g_fact["value"]), w[ok_last], minimum=1)
    frac = np.array([0.55, 0.64, 0.74, 0.84, 0.93, 1.0])[:ny]
    for j in range(gy - 1, -1, -1):
        est = np.round(grids[:, gy] * frac[j] * rng.lognormal(0, 0.08, n))
        grids[:, j] = np.clip(est, 1, np.maximum(grids[:, j + 1], 1))
    for j in range(gy + 1, ny):  # years after the calibrated one (none for 2013-2018)
        grids[:, j] = grids[:, j - 1]

    leaders = grids.copy()
    vacancy = np.linspace(0.15, 0.03, max(gy, 1))
    for j in range(gy):
        leaders[:, j] = np.maximum(1, grids[:, j] - rng.binomial(grids[:, j], vacancy[j]))
    # One leader per grid in the calibrated year when the facts say so (404 = 404);
    # otherwise vacancies in proportion to grids.
    n_leaders = int(_fact("grid_leaders_2018")["value"])
    if n_leaders > g_fact["value"]:
        raise UsageError("grid_leaders_2018 exceeds grids_2018: cannot have grid_leaders <= grids")
    leaders[ok_last, gy] = grids[ok_last, gy] - _apportion(
        int(g_fact["value"]) - n_leaders, grids[ok_last, gy])

    members = np.zeros((n, ny), dtype=np.int64)
    m_total = int(_fact("grid_members_2018")["value"])
    per_grid = pop[:, gy] / np.maximum(grids[:, gy], 1)
    wm = grids[:, gy] * (per_grid / np.median(per_grid)) ** 0.6 * rng.lognormal(0, 0.2, n)
    members[ok_last, gy] = grids[ok_last, gy] + _apportion(
        m_total - int(grids[ok_last, gy].sum()), wm[ok_last])
    ratio = members[:, gy] / np.maximum(grids[:, gy], 1)
    for j in range(gy):
        r = ratio * (0.7 + 0.3 * j / max(gy, 1)) * rng.lognormal(0, 0.05, n)
        members[:, j] = np.maximum(grids[:, j], np.round(grids[:, j] * r))

    # Party committees and service centres spread in the order of a latent score.
    zpop = (np.log(pop0) - np.log(pop0).mean()) / np.log(pop0).std()
    party_score = _profile(ro.home, "party") + 0.3 * zpop + rng.normal(0, 0.7, n)
    p_fact = _fact("party_committees_2018")
    py = YEARS.index(_year_of(p_fact["period_end"]))
    party = np.zeros((n, ny), dtype=bool)
    share = np.array([0.52, 0.62, 0.72, 0.82, 0.92, 1.0])
    for j in range(ny):
        k = int(round(p_fact["value"] * share[min(j, py)] if j <= py else p_fact["value"]))
        idx = np.flatnonzero(ro.valid[:, j])
        top = idx[np.argsort(-party_score[idx], kind="stable")[:k]]
        party[top, j] = True
    centre_score = 0.6 * party_score + rng.normal(0, 0.8, n)
    centre = np.zeros((n, ny), dtype=bool)
    # The published count (139) exceeds the communities (134): every community has a
    # centre in that year and the difference is recorded by calibration_report.
    s_fact = _fact("service_centers_2018")
    sy = YEARS.index(_year_of(s_fact["period_end"]))
    share_c = np.array([0.38, 0.50, 0.63, 0.76, 0.90, 1.0])
    for j in range(ny):
        idx = np.flatnonzero(ro.valid[:, j])
        k_last = min(int(s_fact["value"]), idx.size)
        k = int(round(k_last * share_c[min(j, sy)] if j <= sy else k_last))
        top = idx[np.argsort(-centre_score[idx], kind="stable")[:k]]
        centre[top, j] = True

    # Owners' committees (some community-years not reported: a realistic gap).
    oc = np.zeros((n, ny), dtype=np.int64)
    oc[:, last] = rng.poisson(pop0 / 3500 * rng.lognormal(0, 0.4, n))
    for j in range(last - 1, -1, -1):
        oc[:, j] = rng.binomial(oc[:, j + 1], 0.93)
    branch = np.zeros((n, ny), dtype=np.int64)
    p_branch = np.clip(0.25 + 0.1 * _profile(ro.home, "party"), 0.05, 0.5)
    branch[:, last] = rng.binomial(oc[:, last], p_branch)
    keep = np.array([0.0, 0.15, 0.3, 0.45, 0.55])
    for j in range(last - 1, -1, -1):
        branch[:, j] = np.minimum(rng.binomial(branch[:, j + 1], keep[min(j, 4)]), oc[:, j])
    miss_p = np.array([0.12, 0.09, 0.06, 0.04, 0.03, 0.02])[:ny]
    oc_missing = rng.random((n, ny)) < miss_p
    branch_missing = oc_missing | (rng.random((n, ny)) < 0.01)

    ci, yi = np.nonzero(ro.valid)
    frame = pd.DataFrame({
        "year": np.array(YEARS)[yi],
        "street_code": ro.street[ci, yi],
        "community_code": ro.codes[ci],
        "households": households[ci, yi],
        "population": pop[ci, yi],
        "grids": grids[ci, yi],
        "grid_leaders": leaders[ci, yi],
        "grid_members": members[ci, yi],
        "party_committee": party[ci, yi],
        "service_center": centre[ci, yi],
        "owners_committees": pd.array(oc[ci, yi], dtype="Int64"),
        "owners_committees_with_branch": pd.array(branch[ci, yi], dtype="Int64"),
    })
    frame.loc[oc_missing[ci, yi], "owners_committees"] = pd.NA
    frame.loc[branch_missing[ci, yi], "owners_committees_with_branch"] = pd.NA
    frame = frame.sort_values(["year", "community_code"], kind="stable").reset_index(drop=True)
    state = {"pop": pop, "grids": grids, "ci": ci, "yi": yi}
    return frame, state


# --------------------------------------------------------------------------- deliberations


def _deliberations(rng: np.random.Generator, ro: _Roster) -> tuple[pd.DataFrame, np.ndarray]:
    n, ny = ro.codes.size, len(YEARS)
    delib = _profile(ro.home, "deliberation")
    u = rng.random(n)
    active = np.zeros((n, ny), dtype=bool)
    pilots = np.isin(ro.names, _PILOTS_2016)
    early = np.isin(ro.names, _EARLY_2017)
    for j, y in enumerate(YEARS):
        if y < 2016:
            continue
        if y == 2016:
            active[:, j] = pilots
        elif y == 2017:
            active[:, j] = pilots | early | (u < np.clip(0.08 + 0.25 * delib, 0, 0.9))
        else:
            active[:, j] = active[:, j - 1] | (u < np.clip(0.40 + 0.35 * delib, 0, 0.97))
        if y >= 2017:  # rolled out to every street: at least one community each
            for s in np.unique(ro.home):
                mine = np.flatnonzero((ro.home == s) & ro.valid[:, j])
                if mine.size and not active[mine, j].any():
                    active[mine[np.argmin(u[mine])], j] = True
        active[:, j] &= ro.valid[:, j]

    ci, yi = np.nonzero(active)
    lam = 3.0 * delib[ci] * np.where(pilots[ci], 1.8, 1.0)
    first = np.array([np.argmax(active[c]) == j for c, j in zip(ci, yi, strict=True)], dtype=bool)
    lam = np.where(first, lam * 0.6, lam)
    count = 1 + rng.poisson(lam)
    rows = np.repeat(np.arange(ci.size), count)
    mc, my = ci[rows], np.array(YEARS)[yi[rows]]

    dates = np.empty(rows.size, dtype="datetime64[D]")
    for y in np.unique(my):
        days = _year_days(int(y))
        wd = _weekday(days)
        w = np.where(wd == 6, 0.35, np.where(wd == 5, 0.9, 1.0))
        w = w * _festival_factor(days, int(y), 0.05)
        if y == 2016:
            w[days < np.datetime64("2016-04-01")] = 0.0
        sel = my == y
        dates[sel] = days[rng.choice(days.size, size=int(sel.sum()), p=w / w.sum())]

    k = rows.size
    profile_codes = ro.home[mc]
    turnout = _profile(profile_codes, "turnout")
    participants = np.clip(np.round(rng.lognormal(np.log(34 * turnout), 0.45)), 15, 120)
    proposals = 1 + rng.binomial(7, 0.25, k)
    p_adopt = np.clip(0.6 + 0.15 * (_profile(profile_codes, "deliberation") - 1), 0.45, 0.9)
    adopted = rng.binomial(proposals, p_adopt)
    cutoff = np.datetime64(f"{_LAST}-12-31")
    age = (cutoff - dates).astype(np.int64)
    implemented = rng.binomial(adopted, 0.92 * (1 - np.exp(-age / 120.0)))
    p_missing = 0.02 + np.where(dates >= np.datetime64(f"{_LAST}-10-01"), 0.45,
                                np.where(dates >= np.datetime64(f"{_LAST}-07-01"), 0.12, 0.0))
    impl_missing = rng.random(k) < p_missing
    topics = np.array(_TOPICS, dtype=object)[rng.integers(0, len(_TOPICS), k)]

    order = np.lexsort((ro.codes[mc].astype(str), dates))
    dates, mc, my = dates[order], mc[order], my[order]
    seq = _sequence_within(my)
    ids = [f"M{y}-{s:05d}" for y, s in zip(my, seq, strict=True)]
    frame = pd.DataFrame({
        "meeting_id": ids,
        "date": dates.astype("datetime64[ns]"),
        "community_code": ro.codes[mc],
        "topic": topics[order],
        "participants": participants[order].astype(np.int64),
        "proposals": proposals[order],
        "adopted": adopted[order],
        "implemented": pd.array(implemented[order], dtype="Int64"),
    })
    frame.loc[impl_missing[order], "implemented"] = pd.NA
    return frame, active


def _sequence_within(groups: np.ndarray) -> np.ndarray:
    """1-based running number within runs of equal (sorted) group values."""
    groups = np.asarray(groups)
    start = np.r_[0, np.flatnonzero(groups[1:] != groups[:-1]) + 1]
    lengths = np.diff(np.r_[start, groups.size])
    return np.arange(groups.size) - np.repeat(start, lengths) + 1


# --------------------------------------------------------------------------- projects


def _projects(rng: np.random.Generator, ro: _Roster, st: dict, active: np.ndarray) -> pd.DataFrame:
    ny = len(YEARS)
    pop = st["pop"]
    street_codes = ro.streets["code"].to_numpy(dtype=object)
    n_comm = np.array([(ro.home == s).sum() for s in street_codes], dtype=float)

    def pick_community(street: str, j: int, p_none: float) -> str | None:
        mine = np.flatnonzero(ro.street[:, j] == street)
        if mine.size == 0 or rng.random() < p_none:
            return None
        w = pop[mine, j].astype(float)
        return ro.codes[mine[rng.choice(mine.size, p=w / w.sum())]]

    rows: list[dict] = []

    # Innovation projects: district-funded, from 2013.
    n_innov = int(_target("innovation_projects_2013_2018", rng, count=True))
    year_w = np.array([0.13, 0.15, 0.16, 0.17, 0.19, 0.20])[:ny]
    per_year = 1 + rng.multinomial(n_innov - ny, year_w / year_w.sum())
    sw = n_comm ** 0.6 * _profile(street_codes, "innovation")
    org_w = 1.0 / np.arange(1, 31) ** 0.9  # a few district-wide organisations run many
    for j, y in enumerate(YEARS):
        for _ in range(per_year[j]):
            s = street_codes[rng.choice(street_codes.size, p=sw / sw.sum())]
            rows.append({"year": y, "street_code": s, "community_code": pick_community(s, j, 0.3),
                         "programme": "innovation", "funding_level": "district", "brand": None,
                         "title": f"社会治理创新·{_THEMES[rng.integers(len(_THEMES))]}（示例）",
                         "implementer": f"示例社会组织 {1 + rng.choice(30, p=org_w / org_w.sum()):02d}"})

    # Micro-charity grants: street-funded from each street's start year, one brand each.
    n_micro = int(_target("micro_charity_projects", rng, count=True))
    cells = [(s, j) for j, y in enumerate(YEARS) for s in street_codes
             if y >= STREET_PROFILES[s].micro_start]
    maturity = np.array([0.45, 0.75, 1.0, 1.1, 1.2, 1.3])
    cw = np.array([n_comm[list(street_codes).index(s)] ** 0.8 * STREET_PROFILES[s].micro
                   * maturity[YEARS[j] - STREET_PROFILES[s].micro_start] for s, j in cells])
    per_cell = 1 + rng.multinomial(n_micro - len(cells), cw / cw.sum())
    for (s, j), k in zip(cells, per_cell, strict=True):
        y = YEARS[j]
        first_year = y == STREET_PROFILES[s].micro_start
        local = 31 + 6 * list(street_codes).index(s)  # each street's incubated organisations
        for _ in range(k):
            no_brand = (first_year and rng.random() < 0.5) or rng.random() < 0.03
            rows.append({"year": y, "street_code": s, "community_code": pick_community(s, j, 0.15),
                         "programme": "micro_charity", "funding_level": "street",
                         "brand": None if no_brand else BRANDS[s],
                         "title": f"{_GROUPS[rng.integers(len(_GROUPS))]}"
                                  f"{_SERVICES[rng.integers(len(_SERVICES))]}（示例）",
                         "implementer": f"示例社会组织 {local + rng.integers(6):02d}"})

    # Deliberation-fund projects: street-funded, 2017-2018, where residents deliberate.
    for j, y in enumerate(YEARS):
        if y < 2017:
            continue
        for c in np.flatnonzero(active[:, j]):
            if rng.random() < (0.55 if y == 2017 else 0.75):
                rows.append({"year": y, "street_code": ro.street[c, j],
                             "community_code": ro.codes[c], "programme": "deliberation_fund",
                             "funding_level": "street", "brand": None,
                             "title": f"{_TOPICS[rng.integers(len(_TOPICS))]}议事协商项目（示例）",
                             "implementer": f"示例居民议事会 {c + 1:03d}"})

    df = pd.DataFrame(rows)
    # Every street's brand appears at least once (9 brands = 9 streets).
    micro = df["programme"] == "micro_charity"
    for s in street_codes:
        mine = micro & (df["street_code"] == s)
        if mine.any() and df.loc[mine, "brand"].isna().all():
            df.loc[df.index[mine][-1], "brand"] = BRANDS[s]

    prog = df["programme"].to_numpy()
    is_i, is_m, is_d = prog == "innovation", prog == "micro_charity", prog == "deliberation_fund"
    years = df["year"].to_numpy()
    scodes = df["street_code"].to_numpy(dtype=object)

    # Government funds: exact totals in 0.01 万元.
    special = float(_fact("special_funds_2013_2018")["value"])
    district = float(_fact("innovation_funds_district_2013_2018")["value"])
    street_total = round(special - district, 2)
    gov = np.zeros(len(df))
    wi = rng.lognormal(np.log(14), 0.6, is_i.sum()) * (1 + 0.05 * (years[is_i] - _FIRST))
    wi = np.minimum(wi, 4 * np.median(wi))
    gov[is_i] = _money(district, wi)
    d_total = round(is_d.sum() * rng.uniform(4.2, 5.0), 2)
    gov[is_d] = _money(d_total, rng.lognormal(0, 0.35, is_d.sum()))
    wm = rng.lognormal(np.log(8), 0.45, is_m.sum())
    gov[is_m] = _money(round(street_total - d_total, 2), np.minimum(wm, 4 * np.median(wm)))

    # Social funds: almost all raised by micro-charity; 0 for many, missing for some.
    leverage = _profile(scodes, "leverage")
    social = np.zeros(len(df))
    p_pos = np.clip(0.35 + 0.2 * leverage + 0.05 * (years - 2014), 0.3, 0.85)
    pos = rng.random(len(df)) < np.where(is_m, p_pos, np.where(is_i, 0.25, 0.4))
    other_social = {"i": round(rng.uniform(15, 35), 2), "d": round(rng.uniform(8, 20), 2)}
    micro_social = max(_target("micro_charity_social_funds", rng),
                       _target("social_funds_2013_2018", rng) - sum(other_social.values()))
    for mask, total in ((is_m, micro_social), (is_i, other_social["i"]),
                        (is_d, other_social["d"])):
        sel = mask & pos
        if not sel.any():
            sel = mask & (np.cumsum(mask) == 1)
            pos |= sel
        social[sel] = _money(round(total, 2), gov[sel] * leverage[sel]
                             * rng.lognormal(0, 0.8, sel.sum()))
    social_missing = ~pos & (rng.random(len(df)) < np.where(is_m, 0.12, 0.1))

    # Beneficiaries (人次): micro-charity and all projects calibrated, skewed, by reach.
    reach = _profile(scodes, "reach")
    micro_served = int(round(_target("micro_charity_served", rng)))
    all_served = int(round(_target("people_served_2013_2018", rng)))
    all_served = max(all_served, micro_served + 50 * int((~is_m).sum()) + 1)
    ben = np.zeros(len(df), dtype=np.int64)
    ben[is_m] = _apportion(micro_served, gov[is_m] ** 0.7 * reach[is_m]
                           * rng.lognormal(0, 0.7, is_m.sum()), minimum=50)
    rest = ~is_m
    wr = np.where(is_i, gov ** 0.6, 0.5 * gov ** 0.5) * reach * rng.lognormal(0, 0.8, len(df))
    ben[rest] = _apportion(all_served - micro_served, wr[rest], minimum=50)

    # Third-party evaluation: 60-98; missing for ~10 % (more for the latest year).
    lg = np.log(np.maximum(gov, 0.01))
    zf = (lg - lg.mean()) / lg.std()
    score = 80 + _profile(scodes, "eval_shift") + 1.5 * zf + rng.normal(0, 6, len(df))
    score = np.round(np.clip(score, 60, 98), 1)
    score_missing = rng.random(len(df)) < np.where(years == _LAST, 0.2, 0.07)

    df["gov_funds_wan"] = gov
    df["social_funds_wan"] = np.where(social_missing, np.nan, social)
    df["beneficiaries"] = ben
    df["eval_score"] = np.where(score_missing, np.nan, score)

    order_prog = df["programme"].map({p: i for i, p in enumerate(schemas.PROGRAMMES)})
    df = df.assign(_p=order_prog, _c=df["community_code"].fillna("~"))
    df = df.sort_values(["year", "_p", "street_code", "_c"], kind="stable").drop(columns=["_p", "_c"])
    seq = _sequence_within(df["year"].to_numpy())
    df.insert(0, "project_id", [f"P{y}-{s:04d}" for y, s in zip(df["year"], seq, strict=True)])
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- grid cases


def _grid_cases(rng: np.random.Generator, ro: _Roster, st: dict) -> pd.DataFrame:
    pop, grids, ci, yi = st["pop"], st["grids"], st["ci"], st["yi"]
    home = ro.home[ci]
    street_idx = np.searchsorted(np.array(sorted(STREET_PROFILES)), home)
    g = grids[ci, yi]
    rate = np.array([48, 56, 64, 72, 79, 85])[yi]
    lam = g * rate * _profile(home, "case_rate") * (pop[ci, yi] / np.maximum(g, 1) / 2500) ** 0.4
    count = rng.poisson(lam)
    cy = np.repeat(np.arange(ci.size), count)
    n = cy.size
    year = np.array(YEARS)[yi[cy]]

    # Day of the year: weekday pattern, rainy/typhoon season, storm spikes, Spring Festival.
    day = np.empty(n, dtype="datetime64[D]")
    for y in YEARS:
        sel = year == y
        days = _year_days(y)
        month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
        wd = _weekday(days)
        w = np.where(wd >= 5, 0.65, 1.0) * np.where((month >= 5) & (month <= 9), 1.3, 1.0)
        w *= _festival_factor(days, y, 0.3)
        storm_season = np.flatnonzero((month >= 6) & (month <= 10))
        for s in rng.choice(storm_season, size=rng.integers(1, 4), replace=False):
            w[s:s + 3] *= np.array([3.5, 2.5, 1.6])[: days.size - s]
        day[sel] = days[rng.choice(days.size, size=int(sel.sum()), p=w / w.sum())]
    minute = rng.choice(24, size=n, p=_HOURS / _HOURS.sum()) * 60 + rng.integers(0, 60, n)
    reported = day.astype("datetime64[m]") + minute.astype("timedelta64[m]")

    # Category: a street-specific mix around the district mix.
    mix = rng.dirichlet(_CASE_BASE_MIX * 60, size=len(STREET_PROFILES))
    cum = np.cumsum(mix, axis=1)[street_idx[cy]]
    cat = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(_CASE_BASE_MIX) - 1)

    # Resolution: lognormal, street median x category x year (improving).
    median = (_profile(home, "resolve_days")[cy] * _CASE_SLOWNESS[cat]
              * np.linspace(1.2, 0.9, len(YEARS))[yi[cy]])
    dur = np.round(np.exp(np.log(median * 1440) + 1.05 * rng.standard_normal(n)))
    dur = np.clip(dur, 10, 365 * 1440)
    resolved = reported + dur.astype(np.int64).astype("timedelta64[m]")
    cutoff = np.datetime64(f"{_LAST}-12-31T23:59", "m")
    age_days = (cutoff - reported).astype(np.int64) / 1440.0
    stuck = rng.random(n) < 0.5 * np.exp(-age_days / 75.0)
    is_open = (resolved > cutoff) | stuck

    grid_no = 1 + np.minimum(np.floor(g[cy] * rng.random(n) ** 1.3), g[cy] - 1).astype(np.int64)

    order = np.lexsort((cy, reported))
    year, reported, resolved, is_open = year[order], reported[order], resolved[order], is_open[order]
    seq = _sequence_within(year)
    ids = ("G" + pd.Series(year).astype(str) + "-" + pd.Series(seq).astype(str).str.zfill(7))
    res = resolved.astype("datetime64[ns]")
    res[is_open] = np.datetime64("NaT")
    return pd.DataFrame({
        "case_id": ids.to_numpy(dtype=object),
        "community_code": ro.codes[ci[cy[order]]],
        "grid_no": grid_no[order],
        "category": np.array(schemas.CASE_CATEGORIES, dtype=object)[cat[order]],
        "reported_at": reported.astype("datetime64[ns]"),
        "resolved_at": res,
        "status": np.where(is_open, "open", "resolved"),
    })


# --------------------------------------------------------------------------- public API


def _check_years(years) -> list[int]:
    ys = sorted({int(y) for y in years})
    bad = [y for y in ys if y not in YEARS]
    if not ys or bad:
        raise UsageError(f"the sample batch covers {_FIRST}-{_LAST}; got years {bad or ys}")
    return ys


def generate(seed: int = 0, years=range(2013, 2019)) -> dict[str, pd.DataFrame]:
    """Generate the synthetic sample tables (示例数据), in processed form.

    The whole 2013-2018 history is generated from ``seed`` and then cut to ``years``, so a
    subset of years is the same data as in the full batch.

    Parameters
    ----------
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`; the same seed gives identical frames.
    years : iterable of int, default 2013-2018
        Years to return (within 2013-2018).

    Returns
    -------
    dict of str to DataFrame
        ``communities``, ``projects``, ``deliberations`` and ``grid_cases``, with exactly the
        columns and dtypes of :data:`xzlib.schemas.SCHEMAS` (``street_code`` where the schema
        has it).  Each frame has ``attrs["synthetic"] = True`` and ``attrs["batch"] = "sample"``.

    Raises
    ------
    UsageError
        If a year is outside 2013-2018, or the roster has a street without a profile.

    Examples
    --------
    >>> from xzlib import sample
    >>> frames = sample.generate(seed=0)
    >>> int(frames["communities"].query("year == 2018")["grids"].sum())
    404
    """
    keep = _check_years(years)
    ss = np.random.SeedSequence(int(seed))
    r_comm, r_delib, r_proj, r_case = (np.random.default_rng(s) for s in ss.spawn(4))
    ro = _roster()
    comm, state = _communities(r_comm, ro)
    delib, active = _deliberations(r_delib, ro)
    proj = _projects(r_proj, ro, state, active)
    cases = _grid_cases(r_case, ro, state)
    raw = {"communities": comm, "projects": proj, "deliberations": delib, "grid_cases": cases}
    out = {}
    for name, df in raw.items():
        schema = schemas.get_schema(name)
        if keep != list(YEARS):
            df = df[schema.years(df).isin(keep).to_numpy(dtype=bool, na_value=False)]
        df = schemas.coerce(df.reset_index(drop=True), schema)
        df.attrs.update({"table": name, "synthetic": True, "batch": "sample"})
        out[name] = df
    log.info("generated sample batch (seed %s): %s", seed,
             ", ".join(f"{k} {len(v):,}" for k, v in out.items()))
    return out


def _street_of_rows(frames: dict[str, pd.DataFrame]) -> dict[str, pd.Series]:
    """Street code of every row of every table (from the divisions valid in its year)."""
    return {name: df["street_code"].astype("string") if "street_code" in df.columns
            else street_of(df["community_code"], schemas.get_schema(name).years(df))
            for name, df in frames.items()}


def write_sample(out: str | os.PathLike | None = None, *, seed: int = 0) -> Path:
    """Generate the sample batch and write one submission workbook per street.

    The batch is written into a temporary folder beside ``out`` and swapped in only when
    every workbook is complete, so a crash never leaves a half-written batch (the previous
    batch, if any, stays in place).  Workbooks are byte-reproducible: the same seed gives
    the same bytes.

    Parameters
    ----------
    out : path, optional
        Batch folder (default :func:`xzlib.config.sample_raw_dir`, ``data/raw/sample``).
        Its previous content is replaced.
    seed : int, default 0
        Random seed (see :func:`generate`).

    Returns
    -------
    Path
        The batch folder, holding ``<street_code>_<street_name>.xlsx`` for every street of
        the 2013-2018 roster, each marked 示例数据 on its notes sheet.
    """
    out = Path(out) if out is not None else config.sample_raw_dir()
    frames = generate(seed)
    streets = pd.concat([_streets_of(y) for y in YEARS]).drop_duplicates("code")
    streets = streets.sort_values("code")
    of_row = _street_of_rows(frames)
    with atomic_dir(out) as tmp:
        for code, name in zip(streets["code"], streets["name"], strict=True):
            sub = {t: df[(of_row[t] == code).to_numpy(dtype=bool, na_value=False)]
                   for t, df in frames.items()}
            submission.write_workbook(tmp / submission.workbook_name(code, name), sub,
                                      street_code=code, street_name=name, batch="sample",
                                      synthetic=True)
    log.info("wrote sample batch (seed %s) to %s", seed, out)
    return out


# --------------------------------------------------------------------------- calibration


def _in_period(years: pd.Series, row: pd.Series) -> np.ndarray:
    lo, hi = _year_of(row["period_start"]), _year_of(row["period_end"])
    return ((years >= lo) & (years <= hi)).to_numpy(dtype=bool, na_value=False)


def _stock(frames, row, column):
    c = frames["communities"]
    last = c[(c["year"] == _year_of(row["period_end"])).to_numpy(dtype=bool, na_value=False)]
    if column == "communities":
        return float(last["community_code"].nunique())
    return float(last[column].astype("Float64").sum())


def _projects_in(frames, row, programme=None, level=None):
    p = frames["projects"]
    sel = _in_period(p["year"], row)
    if programme is not None:
        sel &= p["programme"].isin(np.atleast_1d(programme)).to_numpy()
    if level is not None:
        sel &= (p["funding_level"] == level).to_numpy(dtype=bool, na_value=False)
    return p[sel]


def _sum(s: pd.Series) -> float:
    return float(s.astype("Float64").sum())


def _per_year(frames, row):
    p = _projects_in(frames, row)
    n_years = _year_of(row["period_end"]) - _year_of(row["period_start"]) + 1
    return _sum(p["gov_funds_wan"]) / n_years


#: fact_id -> function (frames, fact row) -> sample value in DATA units.
_MEASURES = {
    "communities_2018": lambda f, r: _stock(f, r, "communities"),
    "party_committees_2018": lambda f, r: _stock(f, r, "party_committee"),
    "service_centers_2018": lambda f, r: _stock(f, r, "service_center"),
    "grids_2018": lambda f, r: _stock(f, r, "grids"),
    "grid_leaders_2018": lambda f, r: _stock(f, r, "grid_leaders"),
    "grid_members_2018": lambda f, r: _stock(f, r, "grid_members"),
    "special_funds_2013_2018": lambda f, r: _sum(_projects_in(f, r)["gov_funds_wan"]),
    "innovation_funds_district_2013_2018":
        lambda f, r: _sum(_projects_in(f, r, "innovation", "district")["gov_funds_wan"]),
    "charity_funds_street_2013_2018":
        lambda f, r: _sum(_projects_in(f, r, ["micro_charity", "deliberation_fund"],
                                       "street")["gov_funds_wan"]),
    "annual_innovation_fund": _per_year,
    "social_funds_2013_2018": lambda f, r: _sum(_projects_in(f, r)["social_funds_wan"]),
    "micro_charity_social_funds":
        lambda f, r: _sum(_projects_in(f, r, "micro_charity")["social_funds_wan"]),
    "innovation_projects_2013_2018": lambda f, r: float(len(_projects_in(f, r, "innovation"))),
    "micro_charity_projects": lambda f, r: float(len(_projects_in(f, r, "micro_charity"))),
    "micro_charity_brands":
        lambda f, r: float(_projects_in(f, r, "micro_charity")["brand"].dropna().nunique()),
    "people_served_2013_2018": lambda f, r: _sum(_projects_in(f, r)["beneficiaries"]),
    "micro_charity_served":
        lambda f, r: _sum(_projects_in(f, r, "micro_charity")["beneficiaries"]),
    "people_served_all_projects": lambda f, r: _sum(_projects_in(f, r)["beneficiaries"]),
    "support_levels": lambda f, r: float(_projects_in(f, r)["funding_level"].dropna().nunique()),
}

#: Why a published figure cannot be matched by data on this roster.
_CANNOT_MATCH = {
    "communities_2018": "the roster (divisions.csv, built from a 2020+ listing) has {sample:g} "
                        "communities valid on 2018-12-31 vs {published:g} published; a 2018 "
                        "roster is not public, so the sample uses every roster community",
    "service_centers_2018": "{published:g} published but only {sample:g} communities exist on "
                            "the roster; centres above community level are not modelled, so "
                            "every community has one in 2018",
    "annual_innovation_fund": "the sample is calibrated to the 5769万元 invested 2013-2018 "
                              "(special_funds_2013_2018), {sample:.1f}万元 a year; 1500万元 a "
                              "year for 6 years would be 9000万元; the article does not explain "
                              "the difference (allotted vs invested)",
}

_NOTES = {
    "people_served_all_projects": "sample counts person-times (人次, 2013-2018) against the "
                                  "published persons (人, 近147万, 2011-2018): same order, "
                                  "different unit",
    "charity_funds_street_2013_2018": "street-level = special - district = exactly 5769 - 2769",
    "social_funds_2013_2018": "almost all raised by micro-charity grants",
    "micro_charity_brands": "公益翠香, 爱·益拱北 from the article; 吉聚力量 assigned to 吉大 from "
                            "its name; the other six are synthetic labels (示例品牌)",
    "support_levels": "funding levels district and street",
}


def _consistent(sample: float, published: float, qualifier: str) -> bool:
    if qualifier == "exact":
        return round(sample, 2) == round(published, 2)
    if qualifier == "at_least":
        return sample >= published
    return abs(sample - published) <= ABOUT_TOLERANCE * abs(published)


def calibration_report(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Compare the district totals of ``frames`` with the published facts.

    Parameters
    ----------
    frames : dict of str to DataFrame
        Processed-form programme tables (:func:`generate`, or loaded processed data).

    Returns
    -------
    DataFrame
        One row per published fact the sample is calibrated to (facts about the 2011
        policy framework, the grid network's levels and the timeline are not programme
        totals and are left out):

        ===============  ========  ==================================================
        column           dtype     meaning
        ===============  ========  ==================================================
        fact_id          string    id in ``published_facts.csv``
        metric           string    what is counted
        published_value  float64   the value as written, in ``unit``
        unit             string    unit as written (万元, 万人次, 个...)
        qualifier        string    exact, about or at_least
        period_start     datetime  first day the figure covers
        period_end       datetime  last day
        sample_value     float64   the same total computed from ``frames``, in ``unit``
        status           string    ``matched`` (consistent with the qualifier),
                                   ``cannot_match`` (the roster or the article itself
                                   rules a match out; see ``note``) or ``mismatch``
                                   (the data disagrees for no known reason)
        note             string    the reason, or a caveat
        ===============  ========  ==================================================

    Examples
    --------
    >>> from xzlib import sample
    >>> rep = sample.calibration_report(sample.generate())
    >>> rep.set_index("fact_id").loc["grids_2018", "status"]
    'matched'
    """
    from . import reference

    facts = reference.facts()
    rows = []
    for _, row in facts.iterrows():
        fid = str(row["fact_id"])
        if fid not in _MEASURES:
            continue
        factor = _unit_factor(row["unit"])
        value = _MEASURES[fid](frames, row) / factor
        published = float(row["value"])
        if _consistent(value, published, str(row["qualifier"])):
            status, note = "matched", _NOTES.get(fid, "")
        elif fid in _CANNOT_MATCH:
            status = "cannot_match"
            note = _CANNOT_MATCH[fid].format(sample=value, published=published)
        else:
            status, note = "mismatch", "the data disagrees with the published figure"
        rows.append({"fact_id": fid, "metric": row["metric"], "published_value": published,
                     "unit": str(row["unit"]), "qualifier": str(row["qualifier"]),
                     "period_start": row["period_start"], "period_end": row["period_end"],
                     "sample_value": round(value, 4), "status": status, "note": note})
    out = pd.DataFrame(rows)
    for col in ("fact_id", "metric", "unit", "qualifier", "status", "note"):
        out[col] = out[col].astype("string")
    return out
