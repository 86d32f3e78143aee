"""The work a worker does, as named functions: run a report, prime a batch-wide result.

Both take a picklable spec (:mod:`xzlib.report.batch.specs`) and use this process's
:class:`~xzlib.report.batch.kernels.KernelPool`, so that a thread of the builder and a
Dask worker run them alike (on a cluster each worker process keeps its own pool, closed by
``client.run(close_pool)``).  :func:`run_report` executes the notebook with papermill
(:mod:`xzlib.report.batch.engine`) and exports the HTML in-process
(:func:`xzlib.report.html.export_html`); it never raises for a fault of the report.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import threading
import time
from functools import lru_cache

from .kernels import KernelPool, PoolClosed, alive, plain
from .specs import PoolConfig, PrimeSpec, ReportResult, ReportSpec

__all__ = ["run_report", "prime", "get_pool", "close_pool", "kill_pool", "versions"]

logger = logging.getLogger(__name__)

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
    """Kill every kernel of this process's pool at once (safe from any thread)."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.kill()


def _now() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


@lru_cache(maxsize=1)
def versions() -> dict:
    """Return the versions of Python and of the packages a report build depends on."""
    import importlib.metadata as md
    import platform

    out = {"python": platform.python_version()}
    for dist in ("xzlib", "papermill", "nbclient", "nbconvert", "nbformat", "jupyter_client",
                 "ipykernel", "pandas", "numpy", "matplotlib", "pyarrow"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[dist] = md.version(dist)
    return out


def _error(phase: str, exc: BaseException) -> dict:
    return {"phase": phase, "ename": type(exc).__name__, "evalue": str(exc), "traceback": ""}


def _papermill(kernel, spec: ReportSpec):
    """Execute ``spec`` on ``kernel`` with papermill; return (notebook, status, error)."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from . import engine

    engine.register()
    nb_in = nbformat.reads(spec.source, as_version=4)
    holder: dict = {}
    deadline = time.monotonic() + spec.timeout if spec.timeout else None
    error = None
    try:
        nb = papermill.execute_notebook(
            nb_in, None, parameters=dict(spec.parameters), engine_name=engine.ENGINE_NAME,
            request_save_on_cell_execute=False, progress_bar=False, language="python",
            kernel_name=kernel.km.kernel_name, km=kernel.km, kc=kernel.kc, deadline=deadline,
            holder=holder, start_timeout=kernel.pool.config.start_timeout,
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
            "traceback": plain("\n".join(exc.traceback or []))[-6000:],
        }
    except Exception as exc:  # outside any cell: kernel_info after the last cell, etc.
        nb = holder.get("nb", nb_in)
        status = "died" if kernel.km is None or not alive(kernel.km) else "error"
        error = {**_error("execute", exc)}
    pm = nb.metadata.setdefault("papermill", {})
    pm["input_path"] = spec.notebook
    pm["output_path"] = f"_executed/{spec.name}.ipynb"
    nb.metadata["xzlib"] = {"report": spec.name, "key": spec.key, "status": status,
                            "kernel": kernel.info(), "built_at": _now()}
    return nb, status, error


def _execute(kernel, spec: ReportSpec) -> tuple:
    """On the kernel's thread: start or reset it, then run the report."""
    timings: dict = {}
    t0 = time.monotonic()
    try:
        kernel.ensure_started()
        t1 = time.monotonic()
        timings["kernel_start_s"] = round(t1 - t0, 3)
        kernel.reset(spec.cwd)
        timings["reset_s"] = round(time.monotonic() - t1, 3)
    except PoolClosed:
        raise
    except Exception as exc:
        return None, "error", _error("kernel", exc), timings
    kernel.reports += 1
    t2 = time.monotonic()
    nb, status, error = _papermill(kernel, spec)
    timings["execute_s"] = round(time.monotonic() - t2, 3)
    return nb, status, error, timings


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
    from . import tuning

    tuning.tune_builder()
    import nbformat

    from ..html import export_html

    started = _now()
    t0 = time.monotonic()
    pool = get_pool(spec.pool)
    kernel = pool.acquire()
    failed = True
    try:
        nb, status, error, timings = kernel.submit(_execute, kernel, spec).result()
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
            html = export_html(nb, lang=spec.lang, meta=dict(spec.meta))
        except Exception as exc:
            status, error = "failed", _error("export", exc)
            logger.exception("HTML export of %s failed", spec.name)
        timings["export_s"] = round(time.monotonic() - t1, 3)
    timings["total_s"] = round(time.monotonic() - t0, 3)
    timings["started_at"] = started
    timings["finished_at"] = _now()
    return ReportResult(
        name=spec.name, status=status, html=html,
        notebook=nbformat.writes(nb) if nb is not None else None, error=error,
        timings=timings, kernel=kinfo, versions=versions(),
    )


def _prime(kernel, spec: PrimeSpec) -> dict:
    kernel.ensure_started()
    kernel.reset(spec.cwd)
    kernel.reports += 1
    if spec.task == "prime_evaluation":
        args = (spec.year, spec.runs, spec.seed, spec.data_dir, spec.evaluator)
    elif spec.task == "prime_indicators":
        args = (spec.data_dir,)
    else:
        raise ValueError(f"unknown prime task {spec.task!r}; "
                         "valid: prime_evaluation, prime_indicators")
    return kernel.call(spec.task, *args, timeout=spec.timeout)


def prime(spec: PrimeSpec) -> dict:
    """Compute (or load) a batch-wide cached result on a warm kernel (see :class:`PrimeSpec`).

    Returns
    -------
    dict
        ``status`` (``ok`` or ``failed``), ``ranks`` (plain records of the evaluation's
        ranks table; empty for other tasks), ``seconds`` and, on failure, ``error``.
    """
    t0 = time.monotonic()
    pool = get_pool(spec.pool)
    kernel = pool.acquire()
    failed = True
    try:
        out = kernel.submit(_prime, kernel, spec).result()
        failed = False
        return {"status": "ok", "ranks": out.get("ranks", []),
                "seconds": round(time.monotonic() - t0, 3)}
    except PoolClosed:
        raise
    except Exception as exc:
        return {"status": "failed", "ranks": [], "error": plain(str(exc))[-3000:],
                "seconds": round(time.monotonic() - t0, 3)}
    finally:
        pool.release(kernel, failed=failed)
