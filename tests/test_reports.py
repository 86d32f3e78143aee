"""Every report of the sample batch, built with `xz build` on the real notebooks.

One build per session (the warm-kernel builder, as `make reports` runs it), then checks on
every file: each street report names its street, carries the 示例数据 banner, is at most
1.5 MB and has no code; the index links every report; a second build does nothing.
"""

from __future__ import annotations

import html
import json
import re

import pytest

import xzlib as xz
from xzlib import cli

pytestmark = pytest.mark.slow

MAX_BYTES = 1_500_000


@pytest.fixture(scope="module")
def built(sample_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    rc = cli.main(["build", "--data", str(sample_data / "processed"), "--out", str(out),
                   "--progress", "plain", "--jobs", "2"])
    assert rc == 0
    return out


def text(path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("code", list(xz.streets(2018)["code"]))
def test_each_street_report_names_its_street(built, code):
    name = xz.streets(2018).set_index("code").loc[code, "name"]
    path = built / f"{code}.html"  # the file name carries the street code
    assert path.stat().st_size <= MAX_BYTES
    page = path.read_text(encoding="utf-8")
    assert 'id="xz-synthetic"' in page  # the 示例数据 banner
    assert "<script" not in page and "In&nbsp;[" not in page  # no code, no prompts
    assert "street_code =" not in page  # no parameters cell
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert name in html.unescape(title) and "2018" in title
    assert text(path).count(name) >= 3


def test_district_and_index(built):
    district = text(built / "district.html")
    index = (built / "index.html").read_text(encoding="utf-8")
    for code, name in zip(xz.streets(2018)["code"], xz.streets(2018)["name"], strict=True):
        assert name in district
        assert f'href="{code}.html"' in index
    assert 'href="district.html"' in index


def test_manifest_and_noop_rebuild(built, sample_data, capsys):
    manifest = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    statuses = {k: v["status"] for k, v in manifest["reports"].items()}
    assert set(statuses.values()) == {"ok"} and len(statuses) == 10
    before = {p.name: p.stat().st_mtime_ns for p in built.glob("*.html")}
    capsys.readouterr()
    assert cli.main(["build", "--data", str(sample_data / "processed"), "--out", str(built),
                     "--progress", "plain"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in built.glob("*.html")} == before


def test_a_street_built_alone_equals_the_same_street_built_in_the_batch(built, sample_data,
                                                                         tmp_path, capsys):
    """Everything that changes a report is a notebook parameter: a report built on its own
    (a fresh kernel, nothing drawn before it) is the batch's report, generation time aside."""
    alone = tmp_path / "alone"
    assert cli.main(["build", "--data", str(sample_data / "processed"), "--out", str(alone),
                     "--streets", "440402005", "--progress", "none", "--jobs", "1"]) == 0
    capsys.readouterr()

    def page(folder):
        text = (folder / "440402005.html").read_text(encoding="utf-8")
        return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d( \(UTC\+0?8(:00)?\))?", "<time>", text)

    assert page(alone) == page(built)
