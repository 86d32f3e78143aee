"""Stress test of ``xz build``: 10 consecutive cold builds with 4 workers on 2 cores.

Four kernels start at the same moment in every build, the situation in which
jupyter_client's TCP port race makes parallel papermill runs fail or hang (papermill
issues #511, #239, #473).  The pool uses IPC sockets in a private folder, so no kernel may
fail to start: every report is good and no start had to be retried.
"""

from __future__ import annotations

import pytest

from tests.test_build import Workspace, built
from xzlib.cli import main as xz
from xzlib.report import cache
from xzlib.roster import street_list

ALL = [c for c, _ in street_list(2018)]


@pytest.mark.slow
def test_ten_cold_builds_with_four_workers_never_fail_to_start_a_kernel(
    tmp_path, capsys, monkeypatch
):
    value = cache.source_sha256()
    monkeypatch.setattr(cache, "source_sha256", lambda: value)
    ws = Workspace(tmp_path)
    seen: set[int] = set()
    for i in range(10):
        capsys.readouterr()
        rc = xz([*ws.args("--force", streets=ALL), "--jobs", "4"])
        out = capsys.readouterr().out
        assert rc == 0, f"build {i}: {out}"
        assert built(out) == {"district": "ok", **dict.fromkeys(ALL, "ok")}, f"build {i}"
        m = ws.manifest()
        kernels = m["build"]["kernels"]
        assert kernels["kernels"] == 4, f"build {i}: {kernels}"
        assert kernels["start_retries"] == 0, f"build {i}: {kernels}"
        assert kernels["starts"] >= 4
        assert all(e["status"] == "ok" for e in m["reports"].values())
        # every build started its own kernels (cold build)
        pids = {e["kernel"]["pid"] for e in m["reports"].values()}
        assert not pids & seen, f"build {i} reused a kernel of an earlier build"
        seen |= pids
