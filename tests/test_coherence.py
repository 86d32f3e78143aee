"""Statistical coherence: correlations with parent and index, Cronbach's alpha, flags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import xzlib as xz
from xzlib.errors import UsageError
from xzlib.evaluation.coherence import coherence, cronbach_alpha

REF = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "coinr-asem"


def classic_alpha(x: np.ndarray) -> float:
    """The textbook formula k/(k-1) (1 - sum of item variances / variance of the sum)."""
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def test_cronbach_alpha_equals_the_textbook_formula():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(40, 1))
    x = f + rng.normal(scale=0.7, size=(40, 4))
    assert cronbach_alpha(pd.DataFrame(x)) == pytest.approx(classic_alpha(x), rel=1e-12)
    assert np.isnan(cronbach_alpha(pd.DataFrame(x[:, :1])))


@pytest.fixture(scope="module")
def asem_comp():
    if not (REF / "README.md").is_file():
        pytest.fail(f"COINr reference results not found at {REF}")
    return xz.composite(pd.read_csv(REF / "ASEM_iData.csv"), pd.read_csv(REF / "ASEM_iMeta.csv"))


def test_coherence_on_asem(asem_comp):
    coh = asem_comp.coherence()
    corr, alpha = coh.correlations, coh.alpha
    agg = asem_comp.scores
    assert len(corr) == len(asem_comp.meta.table) - 1
    row = corr.set_index("code").loc["LPI"]
    ok = agg["LPI"].notna()
    exp = np.corrcoef(agg.loc[ok, "LPI"], agg.loc[ok, "Physical"])[0, 1]
    assert row["parent"] == "Physical" and row["corr_parent"] == pytest.approx(exp, rel=1e-12)
    exp_i = np.corrcoef(agg.loc[ok, "LPI"], agg.loc[ok, "Index"])[0, 1]
    assert row["corr_index"] == pytest.approx(exp_i, rel=1e-12)
    assert set(corr["flag"]) <= {"", "negative", "weak"}
    neg = corr[corr["corr_parent"] < 0]
    assert (neg["flag"] == "negative").all()
    a = alpha.set_index("code")
    assert set(a.index) == set(asem_comp.meta.table.index[asem_comp.meta.table["level"] > 1])
    sub = agg[["Conn", "Sust"]].dropna().to_numpy()
    assert a.at["Index", "alpha"] == pytest.approx(classic_alpha(sub), rel=1e-10)
    assert a.at["Index", "n_children"] == 2


def test_flags_hand_made():
    rng = np.random.default_rng(1)
    base = rng.normal(size=30)
    data = pd.DataFrame({"good": base + rng.normal(scale=0.1, size=30),
                         "also": base + rng.normal(scale=0.1, size=30),
                         "against": -base + rng.normal(scale=0.1, size=30),
                         "noise": rng.normal(size=30)})
    data["P"] = data["good"] + data["also"]            # a parent that the first two drive
    data["I"] = data["P"]
    meta = pd.DataFrame({"code": ["good", "also", "against", "noise", "P", "I"],
                         "level": [1, 1, 1, 1, 2, 3], "parent": ["P"] * 4 + ["I", None]})
    coh = coherence((data, meta))
    flags = coh.correlations.set_index("code")["flag"]
    assert flags["good"] == "" and flags["also"] == ""
    assert flags["against"] == "negative"
    assert flags["noise"] in ("weak", "negative")
    assert coh.alpha.set_index("code").at["P", "flag"] == "low"
    with pytest.raises(UsageError, match="method must be one of pearson"):
        coherence((data, meta), method="distance")
