"""Small valid programme tables for tests (processed form), built by hand."""

from __future__ import annotations

import pandas as pd

# 翠香街道 and two of its communities; 前山街道 and a 凤山-coded community that
# belonged to 前山 until 2020-06-21.
CUIXIANG, QIANSHAN = "440402001", "440402003"
ZIJING, CUIXIANG_C, LIXI = "440402001001", "440402001002", "440402009001"


def communities() -> pd.DataFrame:
    return pd.DataFrame({
        "year": [2018, 2018, 2018],
        "street_code": [CUIXIANG, CUIXIANG, QIANSHAN],
        "community_code": [ZIJING, CUIXIANG_C, LIXI],
        "households": [3000, 4200, 2500],
        "population": [8000, 11000, 6900],
        "grids": [3, 4, 2],
        "grid_leaders": [3, 4, 2],
        "grid_members": [9, 12, 6],
        "party_committee": [True, True, False],
        "service_center": [True, False, True],
        "owners_committees": [5, None, 2],
        "owners_committees_with_branch": [2, None, 0],
    })


def projects() -> pd.DataFrame:
    return pd.DataFrame({
        "project_id": ["P2018-0001", "P2018-0002"],
        "year": [2018, 2018],
        "street_code": [CUIXIANG, QIANSHAN],
        "community_code": [ZIJING, None],
        "programme": ["micro_charity", "innovation"],
        "funding_level": ["street", "district"],
        "brand": ["公益翠香", None],
        "title": ["长者关爱服务（示例）", "社区营造（示例）"],
        "implementer": ["示例社会组织 01", "示例社会组织 02"],
        "gov_funds_wan": [8.5, 40.0],
        "social_funds_wan": [2.0, None],
        "beneficiaries": [1200, 5400],
        "eval_score": [88.0, None],
    })


def deliberations() -> pd.DataFrame:
    return pd.DataFrame({
        "meeting_id": ["M2018-00001", "M2018-00002"],
        "date": pd.to_datetime(["2018-03-04", "2018-07-21"]),
        "community_code": [ZIJING, LIXI],
        "topic": ["停车管理", "加装电梯"],
        "participants": [35, 60],
        "proposals": [4, 3],
        "adopted": [3, 3],
        "implemented": [2, None],
    })


def grid_cases() -> pd.DataFrame:
    return pd.DataFrame({
        "case_id": ["G2018-0000001", "G2018-0000002", "G2018-0000003"],
        "community_code": [ZIJING, CUIXIANG_C, LIXI],
        "grid_no": [1, 4, 2],
        "category": ["环境卫生", "矛盾纠纷", "其他"],
        "reported_at": pd.to_datetime(["2018-01-02 09:30", "2018-05-06 14:00", "2018-12-30 08:00"]),
        "resolved_at": pd.to_datetime(["2018-01-03 10:00", "2018-05-20 16:45", None]),
        "status": ["resolved", "resolved", "open"],
    })


def all_tables() -> dict[str, pd.DataFrame]:
    return {"communities": communities(), "projects": projects(),
            "deliberations": deliberations(), "grid_cases": grid_cases()}
