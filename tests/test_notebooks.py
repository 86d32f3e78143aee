"""The report notebooks: parameters, execution on the sample data, numbers shown.

Every notebook is executed with papermill on the sample batch; the numbers a street
report shows are compared with what xzlib computes independently (a fresh evaluation,
not the report's cached one).
"""

from __future__ import annotations

import html
import re

import nbformat
import papermill as pm
import pytest

import xzlib as xz
from xzlib import config
from xzlib.i18n import fmt_number

pytestmark = pytest.mark.slow

NOTEBOOKS = config.notebooks_dir()
EXPECTED_PARAMS = {
    "street_report.ipynb": {"street_code", "year", "lang", "data_dir", "runs", "seed"},
    "district.ipynb": {"year", "lang", "data_dir", "runs", "seed"},
    "explore.ipynb": {"data_dir"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_PARAMS))
def test_parameters_are_documented(name):
    params = pm.inspect_notebook(str(NOTEBOOKS / name))
    assert set(params) == EXPECTED_PARAMS[name]
    for p in params.values():
        assert p["help"], f"{name}: parameter {p['name']} has no help comment"


@pytest.mark.parametrize("name", sorted(EXPECTED_PARAMS))
def test_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, name
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1


def run(name, tmp_path, **params):
    out = tmp_path / name
    pm.execute_notebook(str(NOTEBOOKS / name), str(out), parameters=params, progress_bar=False,
                        kernel_name="python3", cwd=str(NOTEBOOKS))
    return nbformat.read(out, as_version=4)


def texts(nb) -> str:
    """All text outputs of a notebook (Markdown, HTML, streams), unescaped."""
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                parts.append(o.text)
            for key in ("text/markdown", "text/html", "text/plain"):
                if key in o.get("data", {}):
                    parts.append(o["data"][key])
    return html.unescape("\n".join(parts))


def assert_clean(nb):
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o.output_type != "error", o.get("evalue")
            if o.output_type == "stream" and o.name == "stderr":
                assert "missing from" not in o.text and "Glyph" not in o.text, o.text
                assert "Warning" not in o.text, o.text


@pytest.mark.parametrize(("street", "lang"), [("440402005", "zh"), ("440402102", "en")])
def test_street_report_shows_the_numbers_xzlib_computes(street, lang, sample_data, tmp_path):
    nb = run("street_report.ipynb", tmp_path, street_code=street, year=2018, lang=lang,
             data_dir=str(sample_data / "processed"))
    assert_clean(nb)
    shown = texts(nb)
    ev = xz.evaluate(2018, runs=1000, seed=0, data_dir=sample_data / "processed")
    row = ev.ranks.set_index("street_code").loc[street]
    name = row["street_name"]
    assert name in shown
    score = fmt_number(float(row["score"]), lang, digits=1)
    rank = f"{int(row['rank'])}/{int(row['n_ranked'])}" if lang == "zh" else (
        f"{int(row['rank'])} of {int(row['n_ranked'])}")
    interval = f"{int(row['rank_q05'])}–{int(row['rank_q95'])}"
    assert re.search(rf"\*\*{re.escape(score)}\*\*", shown), score
    assert f"**{rank}**" in shown
    assert interval in shown
    communities = xz.load("communities", 2018, data_dir=sample_data / "processed")
    population = communities.loc[communities["street_code"] == street, "population"].sum()
    assert fmt_number(int(population), lang) in shown
    dims = ev.dimensions[ev.dimensions["street_code"] == street]
    for score in dims["score"].dropna():
        assert fmt_number(float(score), lang, digits=1) in shown


def test_district_overview_lists_every_street(sample_data, tmp_path):
    nb = run("district.ipynb", tmp_path, year=2018, lang="zh",
             data_dir=str(sample_data / "processed"))
    assert_clean(nb)
    shown = texts(nb)
    for name in xz.streets(2018)["name"]:
        assert name in shown
    rec = xz.reconcile(data_dir=sample_data / "processed")
    for quote in rec["quote"]:
        assert quote in shown


def test_explore_notebook_runs(sample_data, tmp_path):
    nb = run("explore.ipynb", tmp_path, data_dir=str(sample_data / "processed"))
    assert_clean(nb)
    assert "synthetic" in texts(nb)


def test_unknown_street_fails_with_the_list_of_valid_codes(sample_data, tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as info:
        run("street_report.ipynb", tmp_path, street_code="440402999", year=2018,
            data_dir=str(sample_data / "processed"))
    message = str(info.value)
    assert "440402999" in message
    for code, name in zip(xz.streets(2018)["code"], xz.streets(2018)["name"], strict=True):
        assert f"{code} {name}" in message
