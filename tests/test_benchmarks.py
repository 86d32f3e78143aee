"""The benchmark scripts run (``make bench`` is not part of ``make test``, so a script that
no longer runs would go unnoticed): ``bench_build.py`` on one street prints every
measure it promises (the naive loop included: it runs in a temporary folder, outside the
project).  Its figures are not checked: speed is measured
by ``make bench``, never asserted here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_build_runs_and_prints_every_measure(sample_data, tmp_path):
    """Run as a user runs it: inside a project folder (``xz init``), no XZ_* variable set."""
    import shutil

    project = tmp_path / "project"
    subprocess.run([sys.executable, "-m", "xzlib", "init", str(project)], check=True,
                   capture_output=True)
    shutil.copytree(sample_data / "processed", project / "data" / "processed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("XZ_")}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_build.py"), "--streets", "1",
         "--jobs", "2", "--repeat", "2"],
        capture_output=True, text=True, env=env, cwd=project, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout
    assert "1 street(s) + district = 2 reports" in out and str(project) in out
    for measure in ("naive loop", "build vs naive", "xz build --force", "in-process floor",
                    "parallel floor", "build vs floor", "build vs parallel floor",
                    "floor CPU per street", "no-op xz build"):
        assert re.search(rf"{re.escape(measure)}.*\d", out), (measure, out)
    assert "run 2/2" in out and "median of 2" in out
    assert re.search(r"targets: (met|NOT met)", out)
