"""The kernel side of a warm kernel: imported by every kernel the builder starts.

The builder (:mod:`xzlib.report.batch.kernels`) talks to this module only through one-line
calls, ``__import__("xzlib.report.batch.warm", fromlist=["_"]).NAME(...)``, whose result
comes back as one JSON record printed after :data:`RECORD_SEP`:

* :func:`start` imports :data:`PRELOAD` (the report layer and what it imports) and records
  the state every report must start from;
* :func:`reset` restores that state before each report (user namespace, figures,
  ``rcParams``, ``os.environ``, ``sys.path``, warning filters, working directory);
* :func:`prime_evaluation` and :func:`prime_indicators` compute the batch-wide results the
  reports share, into the cache of :mod:`xzlib.report.cache`.

Living in ``sys.modules`` (not in the user namespace), it survives IPython's reset.
Standard library only at import time.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import warnings

__all__ = ["RECORD_SEP", "PRELOAD", "start", "reset", "prime_evaluation", "prime_indicators"]

#: Separates the JSON record of a call from anything else the call printed.
RECORD_SEP = "\x1e"

#: What a kernel imports once: the report layer and the libraries it uses.  The reports
#: import what else they need; a module that fails here is reported by the report itself.
PRELOAD = (
    "pandas",
    "matplotlib.pyplot",
    "IPython.display",
    "xzlib",
    "xzlib.dataset",
    "xzlib.roster",
    "xzlib.reference",
    "xzlib.evaluation",
    "xzlib.plots",
    "xzlib.theme",
    "xzlib.report.cache",
    "xzlib.report.contexts",
    "xzlib.report.prose",
    "xzlib.report.tables",
    "xzlib.report.figures",
    "xzlib.report.html",
)

_state: dict = {}


def _emit(record) -> None:
    sys.stdout.write(RECORD_SEP + json.dumps(record) + "\n")
    sys.stdout.flush()


def start(modules=None) -> None:
    """Import ``modules`` (default :data:`PRELOAD`), record the clean state, tune the process."""
    from . import tuning

    failed = {}
    for name in PRELOAD if modules is None else modules:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # the notebook will report it properly
            failed[name] = f"{type(exc).__name__}: {exc}"
    _state["environ"] = dict(os.environ)
    _state["path"] = list(sys.path)
    _state["filters"] = list(warnings.filters)
    _state["rc"] = None
    if "matplotlib" in sys.modules:
        import matplotlib

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _state["rc"] = {k: v for k, v in matplotlib.rcParams.items() if k != "backend"}
    applied = tuning.tune_kernel()
    _emit({"failed": failed, "pid": os.getpid(), "tuning": applied})


def reset(cwd: str) -> None:
    """Bring the kernel back to the state :func:`start` recorded, in folder ``cwd``."""
    from IPython import get_ipython

    ip = get_ipython()
    if ip is not None:
        ip.reset(new_session=False)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    rc = _state.get("rc")
    if rc is not None:
        import matplotlib

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for k, v in rc.items():
                # a parameter that no longer validates stays as it is
                with contextlib.suppress(Exception):
                    matplotlib.rcParams[k] = v
    os.environ.clear()
    os.environ.update(_state.get("environ", {}))
    sys.path[:] = _state.get("path", sys.path)
    # resetwarnings() tells the warnings module its filters changed (public API)
    warnings.resetwarnings()
    warnings.filters.extend(_state.get("filters", ()))
    if os.path.isdir(cwd):  # on a Dask worker the notebook folder may not exist
        os.chdir(cwd)
    _emit({"reset": True})


def prime_evaluation(year, runs, seed, data_dir, evaluator=None) -> None:
    """Compute (or load) the cached evaluation the notebooks use; emit its ranks."""
    from ..cache import cached_evaluate, ranks_records

    ev = cached_evaluate(int(year), runs=int(runs), seed=int(seed), data_dir=data_dir,
                         evaluate=evaluator)
    _emit({"ranks": ranks_records(ev)})


def prime_indicators(data_dir) -> None:
    """Compute (or load) the indicator table the street reports share."""
    from ..contexts import indicator_table

    indicator_table(data_dir)
    _emit({"ranks": []})
