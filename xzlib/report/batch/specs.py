"""What the builder hands a worker and gets back: picklable descriptions of the work."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PoolConfig", "ReportSpec", "ReportResult", "PrimeSpec", "FAILED"]

#: Statuses of a report that did not succeed.
FAILED = ("failed", "timeout", "died", "error")


@dataclass(frozen=True)
class PoolConfig:
    """How the kernels of a pool are started and recycled.

    Attributes
    ----------
    recycle_after : int
        Replace a kernel by a fresh one after this many reports (1 = a new kernel for
        every report).  Any failure also replaces it.
    start_timeout : float
        Seconds to wait for a kernel to start and answer.
    env : dict
        Environment variables set in the kernels, on top of this process's environment.
    preload : tuple of str or None
        Modules every kernel imports once, right after it starts (default
        :data:`xzlib.report.batch.warm.PRELOAD`, the report layer).
    max_kernels : int or None
        At most this many kernels: a caller waits for one to be free.  ``None``: one
        kernel per concurrent caller (a Dask worker's threads).
    """

    recycle_after: int = 10
    start_timeout: float = 60.0
    env: dict = field(default_factory=dict)
    preload: tuple[str, ...] | None = None
    max_kernels: int | None = None


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
        Papermill parameters: the whole contract between the builder and the notebook.
    cwd : str
        Working directory of the kernel while the report runs (the notebook's folder).
    timeout : float or None
        Wall-clock seconds allowed for the execution; ``None`` for no limit.
    lang : str
        Report language, passed to the HTML export.
    meta : dict
        Report header for the HTML export (title, street, year, batch...).
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
    """A batch-wide result to compute once, in a pool kernel, before the reports need it.

    ``task`` names a function of :mod:`xzlib.report.batch.warm`: ``"prime_evaluation"``
    (the district evaluation the notebooks load with
    :func:`xzlib.report.cache.cached_evaluate`, with the same ``year``, ``runs``,
    ``seed`` and ``data_dir`` parameters) or ``"prime_indicators"`` (the indicator table
    the street reports share).
    """

    task: str
    year: int
    runs: int = 1000
    seed: int = 0
    data_dir: str | None = None
    evaluator: str | None = None
    cwd: str = "."
    timeout: float | None = None
    pool: PoolConfig = field(default_factory=PoolConfig)
