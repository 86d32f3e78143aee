"""The papermill engine that runs a notebook on a kernel that is already running.

``papermill.execute_notebook(..., engine_name=ENGINE_NAME, km=..., kc=..., deadline=...,
holder=...)`` parameterizes and executes a notebook exactly as papermill always does
(injected-parameters cell, cell timings, the error marker, ``PapermillExecutionError``),
but hands nbclient the warm kernel instead of letting it start one.  Importing this
module imports papermill and registers the engine (:func:`register`).
"""

from __future__ import annotations

import logging
import threading
import time

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import Engine, papermill_engines

from .kernels import alive

__all__ = ["ENGINE_NAME", "WarmEngine", "register"]

logger = logging.getLogger(__name__)

#: Name under which :class:`WarmEngine` is registered with papermill.
ENGINE_NAME = "xzlib-warm"


class WarmEngine(Engine):
    """Papermill engine that runs a notebook on an already started kernel.

    Engine keyword arguments (passed through ``papermill.execute_notebook``): ``km`` and
    ``kc`` (the running kernel's manager and client, required), ``deadline``
    (``time.monotonic()`` value after which cells time out: each cell gets the time
    left) and ``holder`` (a dict that receives the notebook being executed, the index of
    the current cell and, on a timeout or a dead kernel, ``fatal``).  A timeout or a
    dead kernel is written into the current cell as an error output, so that papermill
    marks it and raises ``PapermillExecutionError`` like any other failure.
    """

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, km=None,
                                 kc=None, deadline=None, holder=None, start_timeout=60,
                                 **kwargs):
        if km is None or kc is None:
            raise ValueError(f"the {ENGINE_NAME} engine needs a running kernel (km, kc)")
        holder = {} if holder is None else holder
        holder["nb"] = nb_man.nb

        def timeout_func(cell):
            return None if deadline is None else max(0.01, deadline - time.monotonic())

        def on_cell_start(cell, cell_index):
            holder["cell"] = cell_index

        client = PapermillNotebookClient(
            nb_man,
            km=km,
            kernel_name=kernel_name,
            log=logging.getLogger(f"{__name__}.nbclient"),
            log_output=log_output,
            startup_timeout=int(start_timeout),
            timeout_func=timeout_func,
            on_cell_start=on_cell_start,
            interrupt_on_timeout=False,
        )
        client.kc = kc  # nbclient then uses this client instead of starting one
        try:
            client.execute(cleanup_kc=False)
        except (CellTimeoutError, DeadKernelError) as exc:
            dead = isinstance(exc, DeadKernelError) or not alive(km)
            holder["fatal"] = "died" if dead else "timeout"
            if holder["fatal"] == "timeout":
                ename, evalue = "CellTimeoutError", "the report exceeded its time limit and was stopped"
            else:
                ename, evalue = "DeadKernelError", "the kernel died while running this cell"
            index = holder.get("cell")
            if index is None:
                raise
            cell = nb_man.nb.cells[index]
            cell.setdefault("outputs", []).append(nbformat.v4.new_output(
                "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}", f"({exc})"]))
            nb_man.cell_exception(cell, cell_index=index)
        return nb_man.nb


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


_lock = threading.Lock()
_registered = False


def register() -> None:
    """Register :class:`WarmEngine` with papermill and quiet per-cell log noise (idempotent)."""
    global _registered
    with _lock:
        if _registered:
            return
        papermill_engines.register(ENGINE_NAME, WarmEngine)
        pm = logging.getLogger("papermill")
        if not any(isinstance(f, _Once) for f in pm.filters):
            pm.addFilter(_Once())
        nbc = logging.getLogger(f"{__name__}.nbclient")
        if nbc.level == logging.NOTSET:  # "Kernel died...": the summary reports failures
            nbc.setLevel(logging.CRITICAL)
        _registered = True
