"""``xz build``: every report, in parallel on warm kernels, incrementally, failures isolated.

One job per module, read in this order:

==============  ===========================================================================
``specs``       what the builder hands a worker and gets back (picklable dataclasses)
``plan``        the reports, their parameters and keys, and which are up to date
``lock``        one build per output folder
``kernels``     warm Jupyter kernels: start, ready, reset, recycle, stop
``warm``        the kernel side: the module each kernel imports (warm-up, reset, primes)
``engine``      the papermill engine that runs a notebook on a running kernel
``tasks``       the work, as named functions: run a report, prime a batch-wide result
``progress``    the live table or plain lines shown while building
``tuning``      the process-level tuning that remains, each piece behind a switch
``run``         orchestration: lock, plan, run, record, index
==============  ===========================================================================

The command's arguments are parsed in :mod:`xzlib.cli`.  Only the standard library is
imported until there is work to do.
"""

from __future__ import annotations

__all__ = ["main"]


def main(args) -> int:
    """Run ``xz build`` (see :func:`xzlib.report.batch.run.main`)."""
    from .run import main as run_main

    return run_main(args)
