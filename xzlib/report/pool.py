"""Warm Jupyter kernels that execute report notebooks: fast, isolated, and safe to stop.

Starting a kernel and importing pandas and matplotlib costs more than running a typical
report notebook, so ``xz build`` keeps a :class:`KernelPool` of warm kernels per process
and runs one report after another in each:

* **Warm.**  Each kernel is started once and pre-imports the modules the notebooks
  import (found by reading their ``import`` statements, plus the ``xzlib`` API modules).
* **Reset.**  Before every report the kernel's user namespace is cleared (IPython
  ``reset``), figures are closed, and matplotlib ``rcParams``, ``os.environ``,
  ``sys.path``, the warning filters and the working directory are restored to the state
  they had right after warm-up.  Modules stay imported: that is the point.
* **Recycled.**  A kernel is replaced by a fresh one after ``recycle_after`` reports and
  after *any* failure (an exception, a timeout, a dead kernel), so a failure can never
  leak into the next report.  The replacement starts in the background.
* **No port race.**  Kernels talk over ZeroMQ IPC sockets (``transport="ipc"``) in a
  private temporary folder with unique names, not TCP ports, so concurrent kernel starts
  cannot collide (jupyter_client's TCP port race, papermill issues #511, #239, #473).  A
  kernel that still fails to start is retried on fresh sockets (up to 3 times), and the
  retries are counted in the results.
* **Bounded.**  A report gets a wall-clock deadline; each cell is given the time left
  (nbclient ``timeout_func``), so a report that exceeds it stops and its kernel is
  killed.
* **Stoppable.**  Every kernel runs in its own process session; :func:`kill_pool` kills
  them all at once (Ctrl-C) and the threads waiting on them return immediately.

Notebooks are parameterized and executed by papermill (``papermill.execute_notebook``)
through a registered engine, ``xzlib-warm`` (:class:`WarmEngine`), that hands papermill's
nbclient an already running kernel instead of starting one.  The executed notebook keeps
papermill's metadata (parameters, timings, the error cell).

Each kernel has its own thread and asyncio loop; :func:`run_report` may be called from
any thread (a ``ThreadPoolExecutor`` locally, a Dask worker thread on a cluster) and
returns a picklable :class:`ReportResult` holding the executed notebook and, when it
succeeded, the report's HTML (exported in-process with nbconvert through
``xzlib.report.html``).

Only the standard library is imported at module level; jupyter_client, papermill and
nbconvert are imported when first needed.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import datetime as _dt
import json
import logging
import os
import queue
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = [
    "PoolConfig",
    "ReportSpec",
    "ReportResult",
    "PrimeSpec",
    "KernelPool",
    "ENGINE_NAME",
    "get_pool",
    "close_pool",
    "kill_pool",
    "run_report",
    "prime_evaluation",
    "export_html",
    "imports_of",
    "preload_modules",
    "versions",
]

log = logging.getLogger("xzlib")

#: Name under which :class:`WarmEngine` is registered with papermill.
ENGINE_NAME = "xzlib-warm"
_START_ATTEMPTS = 3
_RECORD_SEP = "\x1e"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# xzlib modules that `import xzlib as xz` reaches lazily through its public API, and the
# libraries they import inside their functions (matplotlib's pyplot also sets the inline
# backend, whose rcParams the reset then restores).
_XZLIB_API = (
    "pandas",
    "matplotlib.pyplot",
    "xzlib.dataset",
    "xzlib.divisions",
    "xzlib.reference",
    "xzlib.evaluation",
    "xzlib.plots",
    "xzlib.theme",
    "xzlib.report.cache",
)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class PoolConfig:
    """How the kernels of a pool are started and recycled.

    Attributes
    ----------
    preload : tuple of str
        Modules every kernel imports once, right after it starts.
    recycle_after : int
        Replace a kernel by a fresh one after this many reports (1 = a new kernel for
        every report).  Any failure also replaces it.
    start_timeout : float
        Seconds to wait for a kernel to start and answer.
    kernel_name : str
        Kernel spec to start.
    env : dict
        Environment variables set in the kernels, on top of this process's environment.
    """

    preload: tuple[str, ...] = ()
    recycle_after: int = 10
    start_timeout: float = 60.0
    kernel_name: str = "python3"
    env: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReportSpec:
    """Everything a worker needs to build one report (picklable, no open files).

    Attributes
    ----------
    name : str
        Report name: a street code, or ``"district"``.
    source : str
        The notebook, as JSON text (exactly what the build key hashed).
    notebook : str
        Where the notebook came from (recorded in the executed notebook's metadata).
    parameters : dict
        Papermill parameters.
    cwd : str
        Working directory of the kernel while the report runs (the notebook's folder).
    timeout : float or None
        Wall-clock seconds allowed for the execution; ``None`` for no limit.
    lang : str
        Report language, passed to the HTML export.
    meta : dict
        Report metadata for the HTML export (title, street, year, batch...).
    key : str
        The build key, recorded in the executed notebook.
    pool : PoolConfig
        How to start kernels, if this process has no pool yet.
    """

    name: str
    source: str
    notebook: str
    parameters: dict
    cwd: str
    timeout: float | None = None
    lang: str = "zh"
    meta: dict = field(default_factory=dict)
    key: str = ""
    pool: PoolConfig = field(default_factory=PoolConfig)


@dataclass
class ReportResult:
    """The outcome of one report (picklable).

    Attributes
    ----------
    name : str
        Report name.
    status : {"ok", "failed", "timeout", "died", "error"}
        ``failed``: a cell raised (or the export failed); ``timeout``: the deadline passed;
        ``died``: the kernel died; ``error``: the report could not be run at all (e.g. no
        kernel could be started).
    html : str or None
        The exported report, when ``status == "ok"``.
    notebook : str or None
        The executed notebook as JSON text (kept for audit, failed ones included).
    error : dict or None
        ``ename``, ``evalue``, ``cell_index``, ``traceback`` (plain text), ``phase``.
    timings : dict
        Seconds spent waiting for a kernel, resetting it, executing and exporting; the
        start and end times.
    kernel : dict
        Kernel pid, reports run on it, start retries, host.
    versions : dict
        Package versions on the worker.
    """

    name: str
    status: str
    html: str | None = None
    notebook: str | None = None
    error: dict | None = None
    timings: dict = field(default_factory=dict)
    kernel: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PrimeSpec:
    """Compute (or load) a batch-wide cached result once, in a pool kernel.

    ``task`` is ``"evaluation"`` (the district evaluation, see
    :func:`xzlib.report.cache.cached_evaluate`) or ``"indicators"`` (the indicator table
    of every year the street reports share, see :mod:`xzlib.report.narrative`).  The
    build runs both at once, on two kernels, before the reports need them.
    """

    year: int
    runs: int = 1000
    seed: int = 0
    data_dir: str | None = None
    evaluator: str = "xzlib.evaluation:evaluate"
    cwd: str = "."
    timeout: float | None = None
    pool: PoolConfig = field(default_factory=PoolConfig)
    task: str = "evaluation"


class KernelStartError(RuntimeError):
    """No kernel could be started after the allowed attempts."""


class PoolClosed(RuntimeError):
    """The pool was closed or killed (the build is stopping)."""


# --------------------------------------------------------------------------- helpers


def _now() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


@lru_cache(maxsize=1)
def versions() -> dict:
    """Return the versions of Python and of the packages a report build depends on."""
    import importlib.metadata as md
    import platform

    out = {"python": platform.python_version()}
    for dist in (
        "xzlib",
        "papermill",
        "nbclient",
        "nbconvert",
        "nbformat",
        "jupyter_client",
        "ipykernel",
        "pandas",
        "numpy",
        "matplotlib",
        "pyarrow",
    ):
        with contextlib.suppress(md.PackageNotFoundError):
            out[dist] = md.version(dist)
    return out


def imports_of(source: str) -> list[str]:
    """Return the modules imported at the top level of a notebook's code cells.

    Parameters
    ----------
    source : str
        Notebook JSON text.

    Returns
    -------
    list of str
        Absolute module names, in order of appearance, without duplicates (relative
        imports, and cells that cannot be parsed even without their magics, are skipped).
        For ``from a import b`` both ``a`` and ``a.b`` are listed, as ``b`` may be a
        submodule.
    """
    nb = json.loads(source)
    seen: dict[str, None] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    seen.setdefault(alias.name)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                seen.setdefault(node.module)
                # ``from pkg import sub`` may name a submodule: try it too (a name that is
                # not a module just fails to import, quietly, during warm-up)
                for alias in node.names:
                    if alias.name != "*":
                        seen.setdefault(f"{node.module}.{alias.name}")
    return list(seen)


def preload_modules(*sources: str) -> tuple[str, ...]:
    """Return the modules a warm kernel should import for notebooks ``sources``.

    The notebooks' own imports, plus the ``xzlib`` modules reached through ``xzlib``'s
    lazy public API when a notebook imports ``xzlib``.
    """
    names: dict[str, None] = {}
    for src in sources:
        for name in imports_of(src):
            names.setdefault(name)
    if any(n == "xzlib" or n.startswith("xzlib.") for n in names):
        for name in _XZLIB_API:
            names.setdefault(name)
    return tuple(names)


# The code a kernel runs once after it starts, as module ``_xz_warm``.  Kept in a module
# (not the user namespace) so that IPython's reset does not delete it.
_WARM_SOURCE = r"""
import importlib
import os
import sys
import warnings

failed = {}
environ = {}
path = []
filters = []
rc = None


def warm(modules):
    global environ, path, filters, rc
    for name in modules:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # the notebook will report it properly
            failed[name] = f"{type(exc).__name__}: {exc}"
    environ = dict(os.environ)
    path = list(sys.path)
    filters = list(warnings.filters)
    if "matplotlib" in sys.modules:
        import matplotlib

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rc = {k: v for k, v in matplotlib.rcParams.items() if k != "backend"}
    # Move everything imported so far out of the collector's sight: the garbage collection
    # in every reset (and during the reports) then only walks the reports' own objects.
    import gc

    gc.collect()
    gc.freeze()
    # A report allocates a great many small objects (every matplotlib artist, with its
    # reference cycles): collect the young generation every 50,000 allocations rather
    # than 700, which saves most of the ~80 ms a report spent in the collector.  Nothing
    # piles up: IPython's reset before each report runs a full collection.
    gc.set_threshold(50_000, 20, 20)
    return {"failed": failed, "pid": os.getpid()}


def reset(cwd):
    from IPython import get_ipython

    ip = get_ipython()
    if ip is not None:
        ip.reset(new_session=False)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    if rc is not None:
        import matplotlib

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for k, v in rc.items():
                try:
                    matplotlib.rcParams[k] = v
                except Exception:
                    pass
    os.environ.clear()
    os.environ.update(environ)
    sys.path[:] = path
    warnings.filters[:] = filters
    if hasattr(warnings, "_filters_mutated"):
        warnings._filters_mutated()
    if os.path.isdir(cwd):  # on a Dask worker the notebook folder may not exist
        os.chdir(cwd)
"""


def _warm_code(modules: tuple[str, ...]) -> str:
    return (
        "import json as _j, sys as _s, types as _t\n"
        "_m = _t.ModuleType('_xz_warm')\n"
        f"exec(compile({_WARM_SOURCE!r}, '<xzlib warm-up>', 'exec'), _m.__dict__)\n"
        "_s.modules['_xz_warm'] = _m\n"
        f"print({_RECORD_SEP!r} + _j.dumps(_m.warm({list(modules)!r})))\n"
        "del _j, _s, _t, _m\n"
    )


def _last_record(stdout: str):
    """Return the JSON record printed after the record separator, or None."""
    if _RECORD_SEP not in stdout:
        return None
    return json.loads(stdout.rsplit(_RECORD_SEP, 1)[1].strip())


# --------------------------------------------------------------------------- papermill engine


def _engine_class():
    from papermill.engines import Engine

    class WarmEngine(Engine):
        """Papermill engine that runs a notebook on an already started kernel.

        Engine keyword arguments (passed through ``papermill.execute_notebook``):
        ``km`` and ``kc`` (the running kernel's manager and client, required),
        ``deadline`` (``time.monotonic()`` value after which cells time out) and
        ``holder`` (a dict that receives the notebook being executed, the index of the
        current cell and, on a timeout or a dead kernel, ``fatal``).  A timeout or a dead
        kernel is written into the current cell as an error output, so that papermill
        marks it and raises :class:`~papermill.exceptions.PapermillExecutionError` like
        any other failure.
        """

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            km=None,
            kc=None,
            deadline=None,
            holder=None,
            start_timeout=60,
            **kwargs,
        ):
            import nbformat
            from nbclient.exceptions import CellTimeoutError, DeadKernelError
            from papermill.clientwrap import PapermillNotebookClient

            if km is None or kc is None:
                raise ValueError(f"the {ENGINE_NAME} engine needs a running kernel (km, kc)")
            holder = {} if holder is None else holder
            holder["nb"] = nb_man.nb

            def timeout_func(cell):
                if deadline is None:
                    return None
                return max(0.01, deadline - time.monotonic())

            def on_cell_start(cell, cell_index):
                holder["cell"] = cell_index

            client = PapermillNotebookClient(
                nb_man,
                km=km,
                kernel_name=kernel_name,
                log=logging.getLogger("xzlib.nbclient"),
                log_output=log_output,
                startup_timeout=int(start_timeout),
                timeout_func=timeout_func,
                on_cell_start=on_cell_start,
                interrupt_on_timeout=False,
            )
            client.kc = kc
            try:
                client.execute(cleanup_kc=False)
            except (CellTimeoutError, DeadKernelError) as exc:
                dead = isinstance(exc, DeadKernelError) or not _alive(km)
                holder["fatal"] = "died" if dead else "timeout"
                if holder["fatal"] == "timeout":
                    ename = "CellTimeoutError"
                    evalue = "the report exceeded its time limit and was stopped"
                else:
                    ename = "DeadKernelError"
                    evalue = "the kernel died while running this cell"
                index = holder.get("cell")
                if index is None:
                    raise
                cell = nb_man.nb.cells[index]
                cell.setdefault("outputs", []).append(
                    nbformat.v4.new_output(
                        "error",
                        ename=ename,
                        evalue=evalue,
                        traceback=[f"{ename}: {evalue}", f"({exc})"],
                    )
                )
                nb_man.cell_exception(cell, cell_index=index)
            return nb_man.nb

    return WarmEngine


_ENGINE_LOCK = threading.Lock()
_ENGINE = None


def _defer_slow_imports() -> None:
    from .html import defer_slow_imports

    defer_slow_imports()


def _register_engine():
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _defer_slow_imports()
            from papermill.engines import papermill_engines

            _ENGINE = _engine_class()
            papermill_engines.register(ENGINE_NAME, _ENGINE)
            _quiet_loggers()
    return _ENGINE


def __getattr__(name):  # WarmEngine is built lazily (it subclasses papermill's Engine)
    if name == "WarmEngine":
        return _register_engine()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Once(logging.Filter):
    """Let papermill's "Passed unknown parameter" warning through once per process."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if not msg.startswith("Passed unknown parameter"):
            return True
        if msg in self.seen:
            return False
        self.seen.add(msg)
        return True


def _quiet_loggers() -> None:
    """Keep per-cell noise out of the build output (failures are in the summary)."""
    pm = logging.getLogger("papermill")
    if not any(isinstance(f, _Once) for f in pm.filters):
        pm.addFilter(_Once())
    nbc = logging.getLogger("xzlib.nbclient")
    if nbc.level == logging.NOTSET:  # "Kernel died...", "Timeout waiting..."
        nbc.setLevel(logging.CRITICAL)


def _alive(km) -> bool:
    from jupyter_core.utils import run_sync

    try:
        return bool(run_sync(km.is_alive)())
    except Exception:
        return False


# --------------------------------------------------------------------------- kernels

_PIDS_LOCK = threading.Lock()
_PIDS: set[int] = set()


def _kill_pid(pid: int) -> None:
    """SIGKILL a kernel and its process group (it is a session leader)."""
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        if os.getpgid(pid) == pid and pid != os.getpgid(0):
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)


class _Kernel:
    """One warm kernel, driven by its own thread (and that thread's asyncio loop)."""

    def __init__(self, pool: KernelPool, index: int) -> None:
        self.pool = pool
        self.index = index
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"xz-kernel-{index}")
        self.km = None
        self.kc = None
        self.pid: int | None = None
        self.reports = 0
        self.starts = 0
        self.start_retries = 0
        self.preload_failed: dict = {}

    # -- called from any thread
    def submit(self, fn, *args) -> Future:
        return self._thread.submit(fn, *args)

    def info(self) -> dict:
        return {
            "pid": self.pid,
            "index": self.index,
            "reports": self.reports,
            "starts": self.starts,
            "start_retries": self.start_retries,
            "host": socket.gethostname(),
        }

    # -- everything below runs on the kernel's own thread
    def _sync(self, fn, *args, **kwargs):
        from jupyter_core.utils import run_sync

        return run_sync(fn)(*args, **kwargs)

    def ensure_started(self) -> None:
        if self.km is not None and _alive(self.km):
            return
        self.stop()
        error: Exception | None = None
        for attempt in range(_START_ATTEMPTS):
            if self.pool.closed:
                raise PoolClosed("the kernel pool is closed")
            try:
                self._sync(self._astart)
                return
            except PoolClosed:
                raise
            except Exception as exc:
                error = exc
                self.start_retries += 1
                log.warning(
                    "kernel %d failed to start (attempt %d/%d): %s",
                    self.index,
                    attempt + 1,
                    _START_ATTEMPTS,
                    exc,
                )
                self.stop()
        raise KernelStartError(
            f"no kernel could be started after {_START_ATTEMPTS} attempts: {error}"
        )

    async def _astart(self) -> None:
        from jupyter_client.manager import AsyncKernelManager

        cfg = self.pool.config
        stem = os.path.join(self.pool.run_dir, f"k{self.index}-{uuid.uuid4().hex[:8]}")
        km = AsyncKernelManager(
            kernel_name=cfg.kernel_name,
            transport="ipc",
            connection_file=stem + ".json",
            ip=stem + "-ipc",
        )
        self.km = km
        await km.start_kernel(
            cwd=self.pool.run_dir,
            env={**os.environ, **cfg.env},
            # as nbclient does for the kernels it starts: the reports' cells are not the
            # user's IPython history (and kernels writing one SQLite file wait for each other)
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
        )
        self.pid = _kernel_pid(km)
        if self.pid is not None:
            with _PIDS_LOCK:
                _PIDS.add(self.pid)
        if self.pool.closed:  # killed while starting
            raise PoolClosed("the kernel pool is closed")
        kc = km.client()
        kc.start_channels()
        self.kc = kc
        await self._await_ready(cfg.start_timeout)
        out, err = await self._arun(_warm_code(cfg.preload), timeout=cfg.start_timeout + 120)
        if err:
            raise RuntimeError(f"kernel warm-up failed: {err}")
        record = _last_record(out) or {}
        self.preload_failed = record.get("failed", {})
        if self.preload_failed:
            log.debug("kernel %d could not pre-import %s", self.index, self.preload_failed)
        self.starts += 1
        self.reports = 0

    async def _await_ready(self, timeout: float) -> None:
        """Wait until the kernel answers on its shell channel and IOPub is connected.

        ``KernelClient.wait_for_ready`` without its last step, which waits until IOPub
        has been silent for 0.2 s (a fixed 0.2 s on every start): :meth:`_arun` and
        nbclient only look at messages that answer their own requests.
        """
        kc, km = self.kc, self.km
        deadline = time.monotonic() + timeout
        while True:
            kc.kernel_info()
            try:
                reply = await kc.shell_channel.get_msg(timeout=1)
            except queue.Empty:
                reply = None
            if reply is not None and reply.get("msg_type") == "kernel_info_reply":
                try:  # a subscriber that connects late misses messages: ask again then
                    await kc.iopub_channel.get_msg(timeout=0.2)
                except queue.Empty:
                    pass
                else:
                    kc._handle_kernel_info_reply(reply)  # protocol version adaptation
                    return
            if not await km.is_alive():
                raise RuntimeError("the kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the kernel did not answer within {timeout:.0f} s")

    async def _arun(self, code: str, *, timeout: float | None) -> tuple[str, str | None]:
        """Run ``code`` in the kernel; return (stdout, error text or None)."""
        kc, km = self.kc, self.km
        msg_id = kc.execute(code, silent=False, store_history=False, allow_stdin=False)
        deadline = None if timeout is None else time.monotonic() + timeout
        stdout: list[str] = []
        error = None
        while True:
            wait = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            if wait <= 0:
                raise TimeoutError(f"kernel did not finish within {timeout:.0f} s")
            try:
                msg = await kc.get_iopub_msg(timeout=wait)
            except queue.Empty:
                if not await km.is_alive():
                    raise RuntimeError("kernel died") from None
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                stdout.append(content.get("text", ""))
            elif kind == "error":
                tb = _plain("\n".join(content.get("traceback", [])))
                error = f"{content.get('ename')}: {content.get('evalue')}\n{tb}"
            elif kind == "status" and content.get("execution_state") == "idle":
                break
        while True:  # the matching shell reply
            wait = 10.0 if deadline is None else max(0.1, deadline - time.monotonic())
            try:
                reply = await kc.get_shell_msg(timeout=wait)
            except queue.Empty:
                raise TimeoutError("no reply from the kernel") from None
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        return "".join(stdout), error

    def stop(self) -> None:
        """Shut the kernel down now and release its sockets (idempotent)."""
        km, kc, pid = self.km, self.kc, self.pid
        self.km = self.kc = self.pid = None
        if kc is not None:
            with contextlib.suppress(Exception):
                kc.stop_channels()
        if km is not None:
            if pid is not None:
                # Kill and reap it here: shutdown_kernel(now=True) would kill it too, then
                # poll every 0.1 s until it is gone (0.1 s at the end of every build).
                _kill_pid(pid)
                proc = getattr(getattr(km, "provisioner", None), "process", None)
                with contextlib.suppress(Exception):
                    proc.wait(timeout=5)
            try:
                self._sync(km.shutdown_kernel, now=True)
            except Exception as exc:  # already dead, or half started
                log.debug("kernel %d shutdown: %s", self.index, exc)
                with contextlib.suppress(Exception):
                    self._sync(km.cleanup_resources)
        if pid is not None:
            _kill_pid(pid)  # its children too, if any survived
            with _PIDS_LOCK:
                _PIDS.discard(pid)

    def recycle(self) -> None:
        self.stop()
        if not self.pool.closed:
            with contextlib.suppress(Exception):  # the next report retries and reports it
                self.ensure_started()

    def reset(self, cwd: str) -> None:
        _, err = self._sync(self._arun, f"__import__('_xz_warm').reset({cwd!r})", timeout=60)
        if err:
            raise RuntimeError(f"kernel reset failed: {err}")

    def prime(self, spec: PrimeSpec) -> dict:
        """Compute or load a cached result in this kernel (see :class:`PrimeSpec`).

        Returns the evaluation's rank records for ``task="evaluation"``, none otherwise.
        """
        self.ensure_started()
        self.reset(spec.cwd)
        if spec.task == "indicators":
            code = (
                "from xzlib.report.narrative import _indicators as _ind\n"
                f"_ind({spec.data_dir!r})\n"
                f"print({_RECORD_SEP!r} + '[]')\n"
            )
        elif spec.task == "evaluation":
            code = (
                "import json as _j\n"
                "from xzlib.report.cache import cached_evaluate as _ce, ranks_records as _rr\n"
                f"_ev = _ce({int(spec.year)}, runs={int(spec.runs)}, seed={int(spec.seed)}, "
                f"data_dir={spec.data_dir!r}, evaluate={spec.evaluator!r})\n"
                f"print({_RECORD_SEP!r} + _j.dumps(_rr(_ev)))\n"
            )
        else:
            raise ValueError(f"unknown prime task {spec.task!r}")
        self.reports += 1
        out, err = self._sync(self._arun, code, timeout=spec.timeout)
        if err:
            raise RuntimeError(err)
        return {"ranks": _last_record(out) or []}

    def execute(self, spec: ReportSpec) -> tuple:
        """Run one report; return (notebook node, status, error dict, timings)."""
        timings: dict = {}
        t0 = time.monotonic()
        try:
            self.ensure_started()
            t1 = time.monotonic()
            timings["kernel_start_s"] = round(t1 - t0, 3)
            self.reset(spec.cwd)
            timings["reset_s"] = round(time.monotonic() - t1, 3)
        except PoolClosed:
            raise
        except Exception as exc:
            return (
                None,
                "error",
                {
                    "phase": "kernel",
                    "ename": type(exc).__name__,
                    "evalue": str(exc),
                    "traceback": "",
                },
                timings,
            )
        self.reports += 1
        t2 = time.monotonic()
        nb, status, error = self._papermill(spec)
        timings["execute_s"] = round(time.monotonic() - t2, 3)
        return nb, status, error, timings

    def _papermill(self, spec: ReportSpec) -> tuple:
        import nbformat
        import papermill
        from papermill.exceptions import PapermillExecutionError

        _register_engine()
        nb_in = nbformat.reads(spec.source, as_version=4)
        holder: dict = {}
        deadline = time.monotonic() + spec.timeout if spec.timeout else None
        error = None
        try:
            nb = papermill.execute_notebook(
                nb_in,
                None,
                parameters=dict(spec.parameters),
                engine_name=ENGINE_NAME,
                request_save_on_cell_execute=False,
                progress_bar=False,
                kernel_name=self.pool.config.kernel_name,
                language="python",
                km=self.km,
                kc=self.kc,
                deadline=deadline,
                holder=holder,
                start_timeout=self.pool.config.start_timeout,
            )
            status = "ok"
        except PapermillExecutionError as exc:
            nb = holder.get("nb", nb_in)
            status = holder.get("fatal", "failed")
            error = {
                "phase": "execute",
                "ename": exc.ename,
                "evalue": exc.evalue,
                "cell_index": exc.cell_index,
                "exec_count": exc.exec_count,
                "traceback": _plain("\n".join(exc.traceback or []))[-6000:],
            }
        except Exception as exc:  # outside any cell: kernel_info after the last cell, etc.
            nb = holder.get("nb", nb_in)
            status = "died" if self.km is None or not _alive(self.km) else "error"
            error = {
                "phase": "execute",
                "ename": type(exc).__name__,
                "evalue": str(exc),
                "traceback": "",
            }
        pm = nb.metadata.setdefault("papermill", {})
        pm["input_path"] = spec.notebook
        pm["output_path"] = f"_executed/{spec.name}.ipynb"
        nb.metadata["xzlib"] = {
            "report": spec.name,
            "key": spec.key,
            "status": status,
            "kernel": self.info(),
            "built_at": _now(),
        }
        return nb, status, error


def _kernel_pid(km) -> int | None:
    prov = getattr(km, "provisioner", None)
    proc = getattr(prov, "process", None)
    pid = getattr(proc, "pid", None) or getattr(prov, "pid", None)
    return int(pid) if pid else None


class KernelPool:
    """Warm kernels of one process, handed out one report at a time.

    A kernel is created on demand when every existing one is busy, so the pool grows to
    the number of concurrent callers (the ``--jobs`` threads, or a Dask worker's
    threads).  Use :func:`get_pool` rather than creating pools directly.

    Parameters
    ----------
    config : PoolConfig
        Pre-imports, recycling, start-up timeout, kernel spec.
    """

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self.closed = False
        # IPC socket paths must stay short (about 100 bytes): use a short private folder.
        base = "/tmp" if os.path.isdir("/tmp") else None
        _sweep(base or tempfile.gettempdir())
        self.run_dir = tempfile.mkdtemp(prefix="xzk-", dir=base)
        with open(os.path.join(self.run_dir, "owner"), "w") as f:
            f.write(str(os.getpid()))
        self._cond = threading.Condition()
        self._idle: list[_Kernel] = []
        self._kernels: list[_Kernel] = []

    def _new(self) -> _Kernel:
        k = _Kernel(self, len(self._kernels))
        self._kernels.append(k)
        return k

    def prestart(self, n: int) -> None:
        """Start kernels in the background until the pool has ``n`` of them."""
        with self._cond:
            while len(self._kernels) < n and not self.closed:
                k = self._new()
                k.submit(_quiet, k.ensure_started)
                self._idle.append(k)

    def acquire(self) -> _Kernel:
        """Return an idle kernel (or a new one) for the calling thread's exclusive use."""
        with self._cond:
            if self.closed:
                raise PoolClosed("the kernel pool is closed")
            if self._idle:
                ready = [k for k in self._idle if k.km is not None]
                k = ready[0] if ready else self._idle[0]
                self._idle.remove(k)
                return k
            return self._new()

    def release(self, kernel: _Kernel, *, failed: bool) -> None:
        """Give a kernel back; recycle it (in the background) after a failure or K reports."""
        with self._cond:
            if self.closed:  # stopping: close() stops (or has stopped) every kernel
                return
            if failed or kernel.reports >= max(1, self.config.recycle_after):
                kernel.submit(kernel.recycle)
            self._idle.append(kernel)
            self._cond.notify_all()

    def stats(self) -> dict:
        """Return kernel counts: kernels, starts and start retries so far."""
        return {
            "kernels": len(self._kernels),
            "starts": sum(k.starts for k in self._kernels),
            "start_retries": sum(k.start_retries for k in self._kernels),
        }

    def close(self, *, timeout: float = 30.0) -> None:
        """Shut every kernel down and remove the socket folder."""
        with self._cond:
            self.closed = True
            kernels = list(self._kernels)
        futures = [k.submit(k.stop) for k in kernels]
        end = time.monotonic() + timeout
        for f in futures:
            with contextlib.suppress(Exception):
                f.result(timeout=max(0.1, end - time.monotonic()))
        for k in kernels:
            k._thread.shutdown(wait=False)
            if k.pid is not None:  # a stop that did not finish in time
                _kill_pid(k.pid)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def kill(self) -> None:
        """Kill every kernel at once (Ctrl-C), then reap them and close the pool."""
        with self._cond:
            self.closed = True
            pids = [k.pid for k in self._kernels if k.pid is not None]
        for pid in pids:
            _kill_pid(pid)
        self.close(timeout=10.0)


def _sweep(base: str) -> None:
    """Remove socket folders left by pools whose process was killed (``SIGKILL``)."""
    with contextlib.suppress(OSError):
        for name in os.listdir(base):
            if not name.startswith("xzk-"):
                continue
            folder = os.path.join(base, name)
            try:
                with open(os.path.join(folder, "owner")) as f:
                    pid = int(f.read().strip())
            except (OSError, ValueError):
                continue  # not ours, or still being created
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                shutil.rmtree(folder, ignore_errors=True)
            except PermissionError:
                pass


def _quiet(fn, *args) -> None:
    try:
        fn(*args)
    except Exception as exc:  # reported by the report that needs the kernel
        log.debug("background kernel start failed: %s", exc)


# --------------------------------------------------------------------------- process pool

_POOL: KernelPool | None = None
_POOL_LOCK = threading.Lock()


def get_pool(config: PoolConfig | None = None) -> KernelPool:
    """Return this process's kernel pool, creating it (with ``config``) if needed."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL.closed:
            _POOL = KernelPool(config or PoolConfig())
        return _POOL


def close_pool() -> dict:
    """Shut down this process's pool, if any; returns its :meth:`KernelPool.stats`."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is None:
        return {}
    pool.close()
    return pool.stats()


def kill_pool() -> None:
    """Kill every kernel of this process at once (safe from any thread)."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.kill()
    with _PIDS_LOCK:
        pids = list(_PIDS)
    for pid in pids:
        _kill_pid(pid)


def _atexit() -> None:
    with _PIDS_LOCK:
        pids = list(_PIDS)
    for pid in pids:
        _kill_pid(pid)


atexit.register(_atexit)


# --------------------------------------------------------------------------- tasks

_EXPORTERS = threading.local()


def export_html(nb, *, lang: str = "zh", meta: dict | None = None) -> str:
    """Export an executed notebook to one HTML file, in-process.

    Uses ``xzlib.report.html.export_html`` (the house template: no code, no parameters
    cell, self-contained) when that module exists, else nbconvert's ``HTMLExporter``
    without inputs.
    """
    import importlib.util

    if importlib.util.find_spec("xzlib.report.html") is not None:
        from . import html as _html

        return _html.export_html(nb, lang=lang, meta=dict(meta or {}))
    exporter = getattr(_EXPORTERS, "html", None)
    if exporter is None:
        from nbconvert import HTMLExporter

        exporter = _EXPORTERS.html = HTMLExporter(exclude_input=True)
    body, _ = exporter.from_notebook_node(nb)
    return body


def run_report(spec: ReportSpec) -> ReportResult:
    """Build one report on a warm kernel of this process; never raises for report faults.

    Parameters
    ----------
    spec : ReportSpec
        The report.

    Returns
    -------
    ReportResult
        The executed notebook (always, when the kernel could run it), the HTML (when the
        notebook ran without error), the error and the timings.

    Raises
    ------
    PoolClosed
        If the build is being stopped.
    """
    _defer_slow_imports()
    import nbformat

    started = _now()
    t0 = time.monotonic()
    pool = get_pool(spec.pool)
    kernel = pool.acquire()
    failed = True
    try:
        nb, status, error, timings = kernel.submit(kernel.execute, spec).result()
        failed = status != "ok"
        kinfo = kernel.info()
    finally:
        pool.release(kernel, failed=failed)
    timings["wait_s"] = round(
        time.monotonic() - t0 - sum(v for k, v in timings.items() if k.endswith("_s")), 3
    )
    html = None
    if status == "ok":
        t1 = time.monotonic()
        try:
            html = export_html(nb, lang=spec.lang, meta=spec.meta)
        except Exception as exc:
            status = "failed"
            error = {
                "phase": "export",
                "ename": type(exc).__name__,
                "evalue": str(exc),
                "traceback": "",
            }
            log.exception("HTML export of %s failed", spec.name)
        timings["export_s"] = round(time.monotonic() - t1, 3)
    timings["total_s"] = round(time.monotonic() - t0, 3)
    timings["started_at"] = started
    timings["finished_at"] = _now()
    text = nbformat.writes(nb) if nb is not None else None
    return ReportResult(
        name=spec.name,
        status=status,
        html=html,
        notebook=text,
        error=error,
        timings=timings,
        kernel=kinfo,
        versions=versions(),
    )


def prime_evaluation(spec: PrimeSpec) -> dict:
    """Compute (or load) the cached district evaluation (or ``spec.task``) on a warm kernel.

    Returns
    -------
    dict
        ``status`` (``ok`` or ``failed``), ``ranks`` (plain records of the evaluation's
        ranks table), ``seconds`` and, on failure, ``error``.
    """
    t0 = time.monotonic()
    _defer_slow_imports()
    pool = get_pool(spec.pool)
    kernel = pool.acquire()
    failed = True
    try:
        out = kernel.submit(kernel.prime, spec).result()
        failed = False
        return {"status": "ok", "ranks": out["ranks"], "seconds": round(time.monotonic() - t0, 3)}
    except PoolClosed:
        raise
    except Exception as exc:
        return {
            "status": "failed",
            "ranks": [],
            "error": _plain(str(exc))[-3000:],
            "seconds": round(time.monotonic() - t0, 3),
        }
    finally:
        pool.release(kernel, failed=failed)
