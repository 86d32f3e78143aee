"""Tests of ``xz build`` (xzlib.report.batch, .cache, .index) on small fixture notebooks.

Every build here runs real kernels: the fixture notebooks are tiny, so a build costs
little more than starting its kernels.  The street notebook reads ``behaviour.json`` beside
it to decide, per street, whether to raise, sleep, kill its kernel or leak state.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest

from xzlib.cli import main as xz
from xzlib.report import cache, index
from xzlib.report.batch import kernels, lock, plan, progress, specs, tasks, tuning, warm
from xzlib.roster import street_list

STREETS = ["440402001", "440402002", "440402003"]
PYTHON = sys.executable

FAKE_EVAL = '''
"""Stand-in for xzlib.evaluation.evaluate: counts its calls, returns fixed ranks."""
from pathlib import Path

import pandas as pd


class FakeEvaluation:
    def __init__(self, ranks):
        self.ranks = ranks


def evaluate(year, runs=1000, seed=0, data_dir=None):
    log = Path(__file__).with_name("calls.log")
    with open(log, "a") as f:
        f.write(f"{year} {runs} {seed}\\n")
    codes = ["440402001", "440402002", "440402003", "440402004", "440402005",
             "440402006", "440402007", "440402008", "440402102"]
    n = len(codes)
    return FakeEvaluation(pd.DataFrame({
        "street_code": codes,
        "street_name": ["s" + c[-3:] for c in codes],
        "score": [90.0 - 5 * i for i in range(n)],
        "rank": list(range(1, n + 1)),
        "rank_q05": [max(1, i) for i in range(1, n + 1)],
        "rank_q95": [min(n, i + 1) for i in range(1, n + 1)],
    }))
'''

STREET_BODY = """
import json, os, pathlib, time
print("street", street_code, year, lang)
_b = pathlib.Path("behaviour.json")
act = json.loads(_b.read_text()).get(street_code) if _b.exists() else None
if act == "raise":
    raise ValueError(f"boom {street_code}")
if act == "sleep":
    time.sleep(120)
if act == "exit":
    os._exit(1)
if act == "leak":
    leaked = 1
    os.environ["XZ_LEAK"] = "1"
    os.chdir("/")
if act == "check":
    assert "leaked" not in globals(), "state leaked from the previous report"
    assert "XZ_LEAK" not in os.environ, "environment leaked from the previous report"
    assert pathlib.Path.cwd().name == "nb", f"cwd leaked: {pathlib.Path.cwd()}"
"""


STREET_PARAMS = (
    'street_code: str = "440402001"\nyear: int = 2018\nlang: str = "zh"\n'
    "data_dir = None\nruns: int = 1000\nseed: int = 0"
)
DISTRICT_PARAMS = 'year: int = 2018\nlang: str = "zh"\ndata_dir = None\nruns: int = 1000\nseed: int = 0'


def write_notebook(path: Path, params: str, *cells: str, markdown: str = "## 报告") -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), p]
    nb.cells += [nbformat.v4.new_code_cell(textwrap.dedent(c).strip()) for c in cells]
    nbformat.write(nb, str(path))


class Workspace:
    """A data folder, a notebooks folder and an output folder under ``tmp_path``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.nb = root / "nb"
        self.out = root / "out"
        (self.data / "processed").mkdir(parents=True)
        self.nb.mkdir()
        self.write_data(batch="test")
        (self.nb / "xz_fake_eval.py").write_text(FAKE_EVAL, encoding="utf-8")
        write_notebook(
            self.nb / "street_report.ipynb",
            STREET_PARAMS,
            STREET_BODY,
            "from xzlib.report.cache import cached_evaluate\n"
            "ev = cached_evaluate(year, runs=runs, seed=seed, data_dir=data_dir,\n"
            "                     evaluate='xz_fake_eval:evaluate')\n"
            "print('score', float(ev.ranks.set_index('street_code').loc[street_code, 'score']))",
        )
        write_notebook(
            self.nb / "district.ipynb",
            DISTRICT_PARAMS,
            "print('district', year)",
            markdown="## 全区",
        )

    def write_data(self, *, batch: str, synthetic: bool = True) -> None:
        man = {
            "schema_version": 1,
            "batch": batch,
            "synthetic": synthetic,
            "tables": {
                "projects": {"file": "projects.parquet", "rows": 3, "sha256": f"{batch}-projects"}
            },
        }
        (self.data / "processed" / "manifest.json").write_text(json.dumps(man), encoding="utf-8")

    def behave(self, **acts: str) -> None:
        (self.nb / "behaviour.json").write_text(
            json.dumps({k.removeprefix("s"): v for k, v in acts.items()}), encoding="utf-8"
        )

    def args(self, *extra: str, streets=STREETS) -> list[str]:
        return [
            "build",
            "--data",
            str(self.data / "processed"),
            "--notebooks",
            str(self.nb),
            "--out",
            str(self.out),
            "--streets",
            ",".join(streets),
            "--jobs",
            "2",
            "--progress",
            "plain",
            "--evaluator",
            "xz_fake_eval:evaluate",
            *extra,
        ]

    def manifest(self) -> dict:
        return json.loads((self.out / "manifest.json").read_text(encoding="utf-8"))

    def calls(self) -> int:
        log = self.nb / "calls.log"
        return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture
def ws(tmp_path):
    return Workspace(tmp_path)


@pytest.fixture(autouse=True)
def _pinned_source(monkeypatch):
    """Pin the xzlib source hash for the test: other people edit the tree meanwhile."""
    value = cache.source_sha256()
    monkeypatch.setattr(cache, "source_sha256", lambda: value)


def built(stdout: str) -> dict[str, str]:
    """Reports a build ran, from its plain progress lines: {name: status}."""
    return {
        m.group(2): m.group(1) for m in re.finditer(r"^\[\s*\d+/\d+\] (\w+)\s+(\S+)", stdout, re.M)
    }


def run(ws: Workspace, capsys, *extra: str, streets=STREETS) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = xz(ws.args(*extra, streets=streets))
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def children(pid: int) -> list[int]:
    """Pids of the kernels started by process ``pid`` (read from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"ipykernel" in cmd:
            out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_until(cond, timeout: float, step: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


# --------------------------------------------------------------------------- end to end


def stdout(cell) -> str:
    """A cell's standard output, joined: a kernel may split one print into several messages."""
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


@pytest.mark.slow
def test_build_outputs_manifest_and_noop(ws, capsys):
    rc, out, _ = run(ws, capsys)
    assert rc == 0, out
    assert built(out) == {"district": "ok", **dict.fromkeys(STREETS, "ok")}
    for name in ["district", *STREETS]:
        assert (ws.out / f"{name}.html").is_file()
        assert (ws.out / "_executed" / f"{name}.ipynb").is_file()
    assert (ws.out / "index.html").is_file()

    # papermill parameterized the notebook; the kernel printed the street code
    nb = nbformat.read(ws.out / "_executed" / "440402002.ipynb", as_version=4)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert ["injected-parameters"] in tags
    assert "street 440402002 2018 zh" in stdout(nb.cells[-2])
    assert nb.metadata["papermill"]["parameters"]["street_code"] == "440402002"
    assert nb.metadata["xzlib"]["status"] == "ok"

    # the evaluation ran once for the whole batch, and every report read it
    assert ws.calls() == 1
    assert "score 85.0" in stdout(nb.cells[-1])

    m = ws.manifest()
    assert m["year"] == 2018 and m["lang"] == "zh"
    assert m["data"]["batch"] == "test" and m["data"]["synthetic"] is True
    assert len(m["data"]["manifest_sha256"]) == 64
    assert m["evaluation"]["status"] == "ok" and len(m["evaluation"]["ranks"]) == 9
    assert m["build"]["kernels"]["start_retries"] == 0
    assert {"papermill", "nbclient", "nbconvert", "python"} <= set(m["versions"])
    e = m["reports"]["440402002"]
    assert e["status"] == "ok" and e["street_name"] == "梅华街道"
    assert e["parameters"] == {
        "street_code": "440402002",
        "year": 2018,
        "lang": "zh",
        "data_dir": str((ws.data / "processed").resolve()),
        "runs": 1000,
        "seed": 0,
    }
    assert nb.metadata["papermill"]["parameters"]["runs"] == 1000
    assert m["parameters"]["runs"] == 1000 and m["parameters"]["seed"] == 0
    assert set(e["key_parts"]) == {
        "kind",
        "notebook_sha256",
        "parameters",
        "data_sha256",
        "reference_sha256",
        "xzlib_version",
        "xzlib_source_sha256",
    }
    assert e["key"] == plan.report_key(e["key_parts"])
    assert e["key_parts"]["data_sha256"] == m["data"]["manifest_sha256"]
    assert e["html"] == "440402002.html" and e["executed"] == "_executed/440402002.ipynb"
    assert {"execute_s", "export_s", "total_s", "started_at", "finished_at"} <= set(e["timings"])
    assert e["kernel"]["pid"] and "papermill" in e["versions"]
    assert m["reports"]["district"]["kind"] == "district"

    page = (ws.out / "index.html").read_text(encoding="utf-8")
    assert "示例数据" in page and "梅华街道" in page and 'href="440402002.html"' in page
    assert "85.0" in page and "2–3" in page  # score and rank interval of 440402002
    assert "<script" not in page

    # nothing changed: a no-op build, and the evaluation is not recomputed
    rc, out, _ = run(ws, capsys)
    assert rc == 0 and "nothing to do" in out and built(out) == {}
    assert ws.calls() == 1

    # --wait waits for a build holding the lock, then runs
    held = lock.BuildLock(ws.out).__enter__()
    released = threading.Event()

    def release():
        held.__exit__(None, None, None)
        released.set()

    threading.Timer(0.5, release).start()
    rc, out, err = run(ws, capsys, "--wait")
    assert rc == 0 and "nothing to do" in out and "waiting for the build" in err
    assert released.is_set()  # it ran only after the other build let go


@pytest.mark.slow
def test_incremental_keys_rebuild_exactly_the_dependants(ws, capsys):
    assert run(ws, capsys)[0] == 0
    district_html = (ws.out / "district.html").read_bytes()

    # the district notebook changes: only the district overview is rebuilt
    write_notebook(
        ws.nb / "district.ipynb",
        DISTRICT_PARAMS,
        "print('district v2', year)",
        markdown="## 全区",
    )
    rc, out, _ = run(ws, capsys)
    assert rc == 0 and built(out) == {"district": "ok"}
    assert (ws.out / "district.html").read_bytes() != district_html

    # executing the notebook in place (outputs, counts) changes nothing
    nb = nbformat.read(ws.nb / "street_report.ipynb", as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
    nb.cells[2].execution_count = 7
    nbformat.write(nb, str(ws.nb / "street_report.ipynb"))
    rc, out, _ = run(ws, capsys)
    assert rc == 0 and "nothing to do" in out

    # the street notebook's source changes: every street, not the district
    nb.cells.append(nbformat.v4.new_markdown_cell("## 附录"))
    nbformat.write(nb, str(ws.nb / "street_report.ipynb"))
    rc, out, _ = run(ws, capsys)
    assert rc == 0 and built(out) == dict.fromkeys(STREETS, "ok")

    # one street's HTML disappears: only that one
    (ws.out / "440402003.html").unlink()
    rc, out, _ = run(ws, capsys)
    assert rc == 0 and built(out) == {"440402003": "ok"}

    # new data: everything, and the evaluation is computed again (once)
    assert ws.calls() == 1
    ws.write_data(batch="second")
    rc, out, _ = run(ws, capsys)
    assert rc == 0 and built(out) == {"district": "ok", **dict.fromkeys(STREETS, "ok")}
    assert ws.calls() == 2

    # --force rebuilds all; a street outside the selection is listed but not built
    rc, out, _ = run(ws, capsys, "--force", streets=STREETS[:1])
    assert rc == 0 and built(out) == {"district": "ok", STREETS[0]: "ok"}
    assert set(ws.manifest()["reports"]) == {"district", *STREETS}


def test_plan_keys_follow_their_inputs(ws, monkeypatch):
    def keys(**kw):
        pl = plan.plan(
            streets_spec=",".join(STREETS), data_dir=ws.data, notebooks_dir=ws.nb, out=ws.out, **kw
        )
        return {r.name: r.key for r in pl.reports}

    base = keys()
    assert len(set(base.values())) == 4  # parameters differ per street
    assert keys() == base  # deterministic
    assert all(base[k] != v for k, v in keys(lang="en").items())
    assert all(base[k] != v for k, v in keys(year=2017).items())
    monkeypatch.setattr(cache, "source_sha256", lambda: "changed code")
    assert all(base[k] != v for k, v in keys().items())
    monkeypatch.undo()
    monkeypatch.setattr("xzlib.__version__", "9.9.9")
    assert all(base[k] != v for k, v in keys().items())


def test_unknown_street_is_a_usage_error(ws, capsys):
    rc, _, err = run(ws, capsys, streets=["440402001", "999"])
    assert rc == 2
    assert "unknown street code(s) 999" in err and "440402001 翠香街道" in err
    assert not (ws.out / "manifest.json").exists()


def test_missing_notebook_or_data_is_a_usage_error(ws, capsys):
    rc = xz(
        [
            "build",
            "--data",
            str(ws.root / "nowhere"),
            "--notebooks",
            str(ws.nb),
            "--out",
            str(ws.out),
        ]
    )
    assert rc == 2 and "no processed data" in capsys.readouterr().err
    (ws.nb / "district.ipynb").unlink()
    rc, _, err = run(ws, capsys)
    assert rc == 2 and "district.ipynb not found" in err


def test_lock_refuses_a_second_build(ws, capsys):
    with lock.BuildLock(ws.out):
        rc, out, err = run(ws, capsys)
    assert rc == 2
    assert "another xz build" in err and f"pid {os.getpid()}" in err and "--wait" in err
    assert built(out) == {}
    # released: the same lock can be taken again
    with lock.BuildLock(ws.out):
        pass


@pytest.mark.slow
def test_failure_is_isolated_and_keeps_the_previous_good_report(ws, capsys):
    assert run(ws, capsys)[0] == 0
    good = (ws.out / "440402002.html").read_bytes()
    inode = (ws.out / "440402002.html").stat().st_ino

    ws.behave(s440402002="raise")
    rc, out, _ = run(ws, capsys, "--force")
    assert rc == 1
    assert built(out) == {
        "district": "ok",
        "440402001": "ok",
        "440402002": "failed",
        "440402003": "ok",
    }
    assert (ws.out / "440402002.html").read_bytes() == good
    executed = ws.out / "_executed" / "440402002.ipynb"
    assert f"executed notebook: {executed}" in out
    assert "ValueError: boom 440402002" in out
    assert "boom 440402002" in executed.read_text(encoding="utf-8")
    e = ws.manifest()["reports"]["440402002"]
    assert e["status"] == "failed" and e["html"] == "440402002.html"
    assert e["error"]["ename"] == "ValueError"
    page = (ws.out / "index.html").read_text(encoding="utf-8")
    assert "失败" in page and "打开上次成功版本" in page

    # a failed report is tried again on the next build (its inputs did not change)
    rc, out, _ = run(ws, capsys)
    assert rc == 1 and built(out) == {"440402002": "failed"}
    ws.behave()
    rc, out, _ = run(ws, capsys)
    assert rc == 0 and built(out) == {"440402002": "ok"}
    assert (ws.out / "440402002.html").stat().st_ino != inode  # replaced by a new file


@pytest.mark.slow
def test_timeout_and_dead_kernel_are_isolated(ws, capsys):
    ws.behave(s440402002="sleep", s440402003="exit")
    rc, out, _ = run(
        ws, capsys, "--timeout", "3", streets=["440402001", "440402002", "440402003", "440402004"]
    )
    assert rc == 1  # (the sleeping report would take 120 s: it was stopped)
    assert built(out) == {
        "district": "ok",
        "440402001": "ok",
        "440402002": "timeout",
        "440402003": "died",
        "440402004": "ok",
    }
    m = ws.manifest()["reports"]
    assert m["440402002"]["error"]["ename"] == "CellTimeoutError"
    assert m["440402003"]["error"]["ename"] == "DeadKernelError"
    for name in ("440402002", "440402003"):
        text = (ws.out / m[name]["executed"]).read_text(encoding="utf-8")
        assert "papermill-error-cell" in text
        assert not (ws.out / f"{name}.html").exists()
    assert "timeout" in out and "died" in out


@pytest.mark.slow
def test_kernel_is_reset_between_reports(ws, capsys):
    ws.behave(s440402001="leak", s440402002="check", s440402003="check")
    rc, out, _ = run(ws, capsys, "--jobs", "1")
    assert rc == 0, out
    m = ws.manifest()["reports"]
    # the same warm kernel ran them one after the other
    assert len({m[s]["kernel"]["pid"] for s in STREETS}) == 1


def _start_build(ws: Workspace, *extra: str) -> subprocess.Popen:
    code = "import sys; from xzlib.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [PYTHON, "-c", code, *ws.args(*extra)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_running(proc: subprocess.Popen, ws: Workspace, n: int) -> list[int]:
    """Wait until ``n`` kernels of ``proc`` run a (sleeping) report; return their pids."""
    assert wait_until(lambda: len(children(proc.pid)) >= n, 60), "kernels did not start"
    kernels = children(proc.pid)
    assert wait_until(
        lambda: (ws.nb / "started").exists() and len((ws.nb / "started").read_text().split()) >= n,
        60,
    )
    return kernels


SLEEPY = """
import os, time
with open("started", "a") as f:
    f.write(street_code + " ")
time.sleep(120)
"""


@pytest.mark.slow
def test_killed_build_leaves_the_old_html_intact(ws, capsys):
    assert run(ws, capsys)[0] == 0
    before = {p.name: p.read_bytes() for p in ws.out.glob("*.html")}
    man_before = (ws.out / "manifest.json").read_text(encoding="utf-8")
    write_notebook(
        ws.nb / "street_report.ipynb",
        STREET_PARAMS,
        SLEEPY,
    )
    proc = _start_build(ws)
    try:
        pids = _wait_running(proc, ws, 2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
        proc.communicate()
    after = {p.name: p.read_bytes() for p in ws.out.glob("*.html")}
    assert after == before
    assert not list(ws.out.glob(".*.tmp"))
    json.loads((ws.out / "manifest.json").read_text(encoding="utf-8"))  # still valid
    assert man_before  # (a kill between reports may have updated it, atomically)
    # orphaned kernels notice their parent is gone and exit on their own
    try:
        assert wait_until(lambda: not any(alive(k) for k in pids), 60)
    finally:
        for k in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(k, signal.SIGKILL)
    assert plan.read_build_manifest(ws.out)["reports"]["440402001"]["status"] == "ok"
    # the killed build's socket folder is swept by the next pool
    owned = [d / "owner" for d in Path("/tmp").glob("xzk-*")]
    stale = [o.parent for o in owned if o.is_file() and o.read_text() == str(proc.pid)]
    assert stale
    kernels.KernelPool(specs.PoolConfig()).close()
    assert not any(d.exists() for d in stale)


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_leaves_no_kernel(ws):
    write_notebook(
        ws.nb / "street_report.ipynb",
        STREET_PARAMS,
        SLEEPY,
    )
    proc = _start_build(ws)
    try:
        pids = _wait_running(proc, ws, 2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)  # a hang fails here
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert not any(alive(k) for k in pids)
    m = json.loads((ws.out / "manifest.json").read_text(encoding="utf-8"))
    assert m["build"]["interrupted"] is True


def test_noop_build_imports_nothing_heavy(ws, capsys, tmp_path):
    # a finished build, made by hand: the no-op path must not need kernels to check it
    pl = plan.plan(
        streets_spec="all",
        data_dir=ws.data / "processed",
        notebooks_dir=ws.nb,
        out=ws.out,
        evaluator="xz_fake_eval:evaluate",
    )
    ws.out.mkdir()
    entries = {}
    for r in pl.reports:
        (ws.out / r.html).write_text("<html></html>", encoding="utf-8")
        entries[r.name] = {"key": r.key, "status": "ok", "html": r.html}
    rows, district = index.index_rows(pl, entries, [])
    (ws.out / "index.html").write_text("<html></html>", encoding="utf-8")
    doc = {
        "schema": plan.MANIFEST_SCHEMA,
        "year": 2018,
        "lang": "zh",
        "reports": entries,
        "evaluation": {},
        "index": {"key": index.index_key(pl, rows, district)},
    }
    (ws.out / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")

    args = ws.args(streets=["all"])
    code = textwrap.dedent(f"""
        import json, sys
        from xzlib.cli import main
        rc = main({args!r})
        heavy = [m for m in ("pandas", "numpy", "papermill", "nbclient", "nbconvert",
                             "nbformat", "jupyter_client", "zmq", "rich", "distributed")
                 if m in sys.modules]
        print(json.dumps({{"rc": rc, "heavy": heavy}}))
    """)
    proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=120)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "nothing to do" in proc.stdout
    assert res["rc"] == 0 and res["heavy"] == []  # speed is measured in benchmarks/


@pytest.mark.slow
def test_dask_cluster_runs_the_same_work(ws, capsys):
    distributed = pytest.importorskip("distributed")
    ws.behave(s440402003="raise")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=True,
        dashboard_address=None,
        local_directory=str(ws.root / "dask"),
    ) as cluster:
        rc, out, _ = run(ws, capsys, "--scheduler", cluster.scheduler_address)
        assert rc == 1
        assert built(out) == {
            "district": "ok",
            "440402001": "ok",
            "440402002": "ok",
            "440402003": "failed",
        }
        m = ws.manifest()
        assert m["build"]["scheduler"] == cluster.scheduler_address
        assert m["build"]["kernels"]["workers"] == 1
        assert m["evaluation"]["status"] == "ok" and ws.calls() == 1
        worker_pids = {e["kernel"]["pid"] for e in m["reports"].values()}
        assert os.getpid() not in worker_pids
        assert (ws.out / "440402002.html").is_file()
        assert (ws.out / "_executed" / "440402003.ipynb").is_file()
        # the kernels on the workers were shut down at the end of the build
        assert cluster.scheduler_address
    # the Dask path leaves no pool in this process
    assert tasks._POOL is None


# --------------------------------------------------------------------------- units


def test_index_page_is_escaped_self_contained_and_bilingual():
    from xzlib.report.html import external_resources

    rows = [
        {
            "street_code": "440402001",
            "street_name": "<script>alert(1)</script>",
            "score": 80.0,
            "rank": 1,
            "rank_q05": 1,
            "rank_q95": 2,
            "status": "ok",
            "href": "440402001.html",
        },
        {
            "street_code": "440402002",
            "street_name": "梅华街道",
            "score": None,
            "rank": None,
            "rank_q05": None,
            "rank_q95": None,
            "status": "failed",
            "href": None,
        },
    ]
    page = index.render_index(
        rows, year=2018, synthetic=True, district={"status": "ok", "href": "district.html"}
    )
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "示例数据" in page and 'lang="zh-CN"' in page and "全区总览" in page
    assert "1 / 1" in page and "1–2" in page and "失败" in page
    assert external_resources(page) == []
    en = index.render_index(rows, year=2018, lang="en", synthetic=False)
    assert "Sample data" not in en and "failed" in en and 'lang="en"' in en
    with pytest.raises(Exception, match="must be one of"):
        index.render_index(rows, year=2018, lang="fr")


def test_cached_evaluate_computes_once_per_data(tmp_path, monkeypatch):
    (tmp_path / "processed").mkdir()
    man = tmp_path / "processed" / "manifest.json"
    man.write_text('{"tables": {}}')
    calls = []

    def fake(year, runs=1000, seed=0, data_dir=None):
        calls.append((year, runs, seed))
        time.sleep(0.2)
        return {"year": year, "n": len(calls)}

    threads = [
        threading.Thread(
            target=cache.cached_evaluate,
            args=(2018,),
            kwargs={"data_dir": tmp_path, "evaluate": fake},
        )
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [(2018, 1000, 0)]  # concurrent callers waited for the first
    path = cache.cache_path(2018, data_dir=tmp_path, evaluate=fake)
    assert path.parent == tmp_path / "interim" / "cache" and path.is_file()
    assert cache.cached_evaluate(2018, data_dir=tmp_path, evaluate=fake) == {"year": 2018, "n": 1}
    # other arguments, other data, a corrupt file: computed again
    cache.cached_evaluate(2018, runs=10, data_dir=tmp_path, evaluate=fake)
    man.write_text('{"tables": {"x": 1}}')
    cache.cached_evaluate(2018, data_dir=tmp_path, evaluate=fake)
    new = cache.cache_path(2018, data_dir=tmp_path, evaluate=fake)
    assert new != path
    new.write_bytes(b"not a pickle")
    assert cache.cached_evaluate(2018, data_dir=tmp_path, evaluate=fake)["n"] == 4
    assert len(calls) == 4
    assert cache.clear(tmp_path) == 3
    with pytest.raises(Exception, match="no processed data"):
        cache.cached_evaluate(2018, data_dir=tmp_path / "nowhere", evaluate=fake)


def test_ranks_records_are_plain():
    pd = pytest.importorskip("pandas")

    class Ev:
        ranks = pd.DataFrame(
            {
                "street_code": ["1", "2"],
                "street_name": ["a", "b"],
                "score": [1.5, float("nan")],
                "rank": pd.array([1, None], dtype="Int64"),
                "rank_q05": [1, 2],
                "rank_q95": [2, 2],
                "other": [0, 0],
            }
        )

    recs = cache.ranks_records(Ev())
    assert recs[0] == {
        "street_code": "1",
        "street_name": "a",
        "score": 1.5,
        "rank": 1,
        "rank_q05": 1,
        "rank_q95": 2,
    }
    assert recs[1]["score"] is None and recs[1]["rank"] is None
    json.dumps(recs)


def test_builder_never_reads_the_notebooks_imports():
    """The kernels' warm-up is a fixed, importable list, not a scan of notebook source."""
    import importlib

    assert "xzlib.report.contexts" in warm.PRELOAD and "pandas" in warm.PRELOAD
    for name in warm.PRELOAD:
        importlib.import_module(name)
    src = Path(plan.__file__).read_text(encoding="utf-8") + Path(
        tasks.__file__).read_text(encoding="utf-8")
    assert "import ast" not in src and "imports_of" not in src


def test_tuning_switches_turn_each_piece_off(monkeypatch):
    import gc

    assert all(tuning.enabled(name) for name in tuning.SWITCHES)
    monkeypatch.setenv(tuning.ENV, "-gc_freeze")
    assert not tuning.enabled("gc_freeze") and tuning.enabled("gc_threshold")
    before = gc.get_threshold()
    try:
        applied = tuning.tune_kernel()
        assert "gc_freeze" not in applied and applied["gc_threshold"] == 50_000
        monkeypatch.setenv(tuning.ENV, "off")
        gc.set_threshold(*before)
        assert tuning.tune_kernel() == {} and gc.get_threshold() == before
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
    with pytest.raises(ValueError, match="must be one of"):
        tuning.enabled("nope")


def test_defer_rfc3987_switch(monkeypatch):
    code = textwrap.dedent("""
        import sys
        from xzlib.report.batch import tuning
        tuning.tune_builder()
        stub = sys.modules.get("rfc3987_syntax")
        print("stub" if stub is not None and "stand-in" in (stub.__doc__ or "") else "real")
    """)
    on = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=120)
    env = {**os.environ, tuning.ENV: "-defer_rfc3987"}
    off = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=120,
                         env=env)
    import importlib.util

    if importlib.util.find_spec("rfc3987_syntax") is None:  # an older jsonschema: no stand-in
        assert on.stdout.strip() == off.stdout.strip() == "real", on.stderr + off.stderr
        return
    assert on.stdout.strip() == "stub", on.stderr
    assert off.stdout.strip() == "real", off.stderr


def test_notebook_hash_ignores_outputs_not_tags():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    base = plan.notebook_sha256(nbformat.writes(nb))
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1")]
    nb.cells[0].execution_count = 3
    nb.cells[0].metadata["collapsed"] = True
    assert plan.notebook_sha256(nbformat.writes(nb)) == base
    nb.cells[0].metadata["tags"] = ["parameters"]
    assert plan.notebook_sha256(nbformat.writes(nb)) != base


def test_streets_follow_the_divisions_of_the_year():
    codes_2018 = [c for c, _ in street_list(2018)]
    codes_2021 = [c for c, _ in street_list(2021)]
    assert "440402009" not in codes_2018 and "440402009" in codes_2021  # 凤山街道, 2020
    assert dict(street_list(2018))["440402001"] == "翠香街道"


def test_live_progress_renders_a_table():
    from rich.console import Console

    p = progress.Progress({"district": "全区总览", "440402001": "翠香街道"}, "plain", 2)
    p.running("440402001")
    p.finished("district", "ok", 1.25)
    console = Console(record=True, width=80, force_terminal=True)
    console.print(p)
    text = console.export_text()
    assert "翠香街道" in text and "running" in text and "ok" in text and "1/2" in text


def test_pool_kernels_talk_over_private_ipc_sockets():
    p = kernels.KernelPool(specs.PoolConfig())
    try:
        k = p.acquire()
        k.submit(k.ensure_started).result(timeout=60)
        info = k.km.get_connection_info()
        assert info["transport"] == "ipc"
        assert info["ip"].startswith(p.run_dir)
        assert k.pid and alive(k.pid)
        pid = k.pid
        # the reports' cells stay out of the user's IPython history file
        code = "print(get_ipython().history_manager.hist_file)"
        out, err = k.submit(lambda: k.sync(k.arun, code, timeout=30)).result(timeout=60)
        assert err is None and out.strip() == ":memory:"
        # a reset keeps the kernel; recycling replaces it
        k.submit(k.reset, str(Path.cwd())).result(timeout=30)
        assert k.pid == pid
        k.submit(k.recycle).result(timeout=60)
        assert k.pid != pid and not alive(pid)
        p.release(k, failed=False)
    finally:
        p.close()
    assert not Path(p.run_dir).exists()


def test_a_capped_pool_makes_callers_wait_for_a_free_kernel():
    # the local build: two threads per kernel, never more kernels than --jobs
    p = kernels.KernelPool(specs.PoolConfig(max_kernels=1))
    got: list = []
    try:
        first = p.acquire()  # not started: acquire only hands kernels out
        waiter = threading.Thread(target=lambda: got.append(p.acquire()), daemon=True)
        waiter.start()
        waiter.join(timeout=0.5)
        assert waiter.is_alive() and got == [] and p.stats()["kernels"] == 1
        p.release(first, failed=False)
        waiter.join(timeout=30)
        assert got == [first] and p.stats()["kernels"] == 1
        # a caller still waiting when the pool closes is told so
        blocked: list = []

        def wait_then_fail():
            try:
                p.acquire()
            except kernels.PoolClosed as exc:
                blocked.append(exc)

        late = threading.Thread(target=wait_then_fail, daemon=True)
        late.start()
        late.join(timeout=0.5)
        assert late.is_alive()
    finally:
        p.close()
    late.join(timeout=30)
    assert len(blocked) == 1


_DOUBLED: list[int] = []


def _double(x, *, data_dir=None):
    _DOUBLED.append(x)
    return 2 * x


def test_cached_call_computes_once_per_arguments_and_data(tmp_path):
    (tmp_path / "processed").mkdir()
    (tmp_path / "processed" / "manifest.json").write_text('{"tables": {}}')
    _DOUBLED.clear()
    assert cache.cached_call(_double, 2, data_dir=tmp_path) == 4
    assert cache.cached_call(_double, 2, data_dir=tmp_path) == 4
    assert cache.cached_call(_double, 3, data_dir=tmp_path) == 6
    assert _DOUBLED == [2, 3]
    (tmp_path / "processed" / "manifest.json").write_text('{"tables": {"new": 1}}')
    assert cache.cached_call(_double, 2, data_dir=tmp_path) == 4
    assert _DOUBLED == [2, 3, 2]
    assert cache.clear(tmp_path) == 3


def test_a_kernel_that_fails_to_start_is_retried_on_fresh_sockets(monkeypatch):
    real = kernels.Kernel._astart
    attempts = []

    async def flaky(self):
        attempts.append(self.index)
        if len(attempts) == 1:
            raise RuntimeError("simulated start failure (address in use)")
        await real(self)

    monkeypatch.setattr(kernels.Kernel, "_astart", flaky)
    p = kernels.KernelPool(specs.PoolConfig())
    try:
        k = p.acquire()
        k.submit(k.ensure_started).result(timeout=60)
        assert k.start_retries == 1 and k.starts == 1 and len(attempts) == 2
        assert p.stats() == {"kernels": 1, "starts": 1, "start_retries": 1}
    finally:
        p.close()


CHART = """
import pandas as pd
from xzlib import plots
from xzlib.report import figures
figures.figure(plots.communities, pd.DataFrame({"community_name": ["甲社区", "乙社区"],
               "v": [float(len(street_code)), 2.5]}), value="v", title=street_code)
"""


def _without_generation_time(page: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d( \(UTC\+0?8(:00)?\))?", "<time>", page)


@pytest.mark.slow
def test_a_report_built_alone_equals_the_same_report_built_in_a_batch(ws, capsys, tmp_path):
    write_notebook(ws.nb / "street_report.ipynb", STREET_PARAMS, STREET_BODY, CHART)
    assert run(ws, capsys, "--jobs", "1")[0] == 0  # one kernel runs all three in turn
    batch = (ws.out / "440402003.html").read_text(encoding="utf-8")
    alone_out = tmp_path / "alone"
    args = ws.args("--jobs", "1", streets=["440402003"])
    args[args.index("--out") + 1] = str(alone_out)
    capsys.readouterr()
    assert xz(args) == 0
    alone = (alone_out / "440402003.html").read_text(encoding="utf-8")
    assert "data:image/svg+xml;base64," in alone
    assert _without_generation_time(alone) == _without_generation_time(batch)


@pytest.mark.slow
def test_kernels_run_the_builders_interpreter_whatever_kernelspecs_say(ws, capsys, tmp_path,
                                                                       monkeypatch):
    hostile = tmp_path / "jupyter"
    spec = hostile / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": ["/bin/false", "-f", "{connection_file}"],
        "display_name": "hostile", "language": "python"}), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(hostile))
    monkeypatch.setenv("JUPYTER_PATH", str(hostile))
    from jupyter_client.kernelspec import KernelSpecManager

    assert KernelSpecManager().get_kernel_spec("python3").argv[0] == "/bin/false"
    write_notebook(ws.nb / "district.ipynb", DISTRICT_PARAMS,
                   "import sys\nprint('exe', sys.executable)")
    rc, out, _ = run(ws, capsys, streets=STREETS[:1])
    assert rc == 0, out
    nb = nbformat.read(ws.out / "_executed" / "district.ipynb", as_version=4)
    assert f"exe {sys.executable}" in stdout(nb.cells[-1])
    assert ws.manifest()["build"]["kernels"]["start_retries"] == 0
