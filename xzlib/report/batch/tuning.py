"""The process-level tuning left in the builder and its kernels, each piece behind a switch.

Reports are made cheap by design (:mod:`xzlib.report.figures`); what remains here are
three process settings that measurably help and change no output:

==================  ========  =============================================================
switch              where     what
==================  ========  =============================================================
``defer_rfc3987``   builder   import ``rfc3987_syntax`` only when used: jsonschema (imported
                              by nbformat) imports it to check the ``iri`` format, which
                              notebook schemas never use, and it builds a parser on import
                              (about 0.9 s per process)
``gc_freeze``       kernel    after the warm-up imports, move every object out of the
                              garbage collector's sight (``gc.freeze``), so later
                              collections walk only the reports' own objects
``gc_threshold``    kernel    collect the young generation every 50,000 allocations rather
                              than 700: a report allocates many small matplotlib objects,
                              and IPython's reset before each report collects fully anyway
==================  ========  =============================================================

``XZ_TUNING`` turns pieces off: ``XZ_TUNING=-gc_freeze,-gc_threshold`` (or ``XZ_TUNING=off``
for all of them).  ``tests/test_build.py`` checks each switch.
"""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["SWITCHES", "ENV", "enabled", "tune_builder", "tune_kernel", "defer_rfc3987"]

#: Every switch, on by default.
SWITCHES = ("defer_rfc3987", "gc_freeze", "gc_threshold")
#: Environment variable that turns switches off.
ENV = "XZ_TUNING"
_YOUNG_THRESHOLD = 50_000


def enabled(name: str) -> bool:
    """Whether tuning piece ``name`` is on (see :data:`ENV`).

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`SWITCHES`.
    """
    if name not in SWITCHES:
        raise ValueError(f"tuning switch must be one of {', '.join(SWITCHES)}; got {name!r}")
    value = os.environ.get(ENV, "")
    off = {part.strip().lstrip("-") for part in value.split(",") if part.strip()}
    return not ({"off", name} & off)


def tune_builder() -> None:
    """Apply the builder's pieces (idempotent)."""
    if enabled("defer_rfc3987"):
        defer_rfc3987()


def tune_kernel() -> dict:
    """Apply a kernel's pieces, right after its warm-up imports; returns what was applied."""
    import gc

    applied = {}
    if enabled("gc_freeze"):
        gc.collect()
        gc.freeze()
        applied["gc_freeze"] = gc.get_freeze_count()
    if enabled("gc_threshold"):
        gc.set_threshold(_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        applied["gc_threshold"] = gc.get_threshold()[0]
    return applied


_defer_lock = threading.Lock()


def defer_rfc3987() -> None:
    """Put a stand-in for ``rfc3987_syntax`` in ``sys.modules`` that imports it when used.

    Its ``is_valid_syntax`` (the one function jsonschema calls) and any other attribute
    import the real module on first use, so format checks behave exactly as before.
    No-op when jsonschema is already imported or ``rfc3987_syntax`` is not installed.
    """
    name = "rfc3987_syntax"
    with _defer_lock:
        if name in sys.modules or "jsonschema" in sys.modules:
            return
        import importlib.util
        import types

        try:
            if importlib.util.find_spec(name) is None:
                return
        except (ImportError, ValueError):
            return
        stub = types.ModuleType(name)
        stub.__doc__ = "stand-in installed by xzlib.report.batch.tuning.defer_rfc3987"

        def real():
            import importlib

            with _defer_lock:
                if sys.modules.get(name) is stub:
                    del sys.modules[name]
                return importlib.import_module(name)

        def is_valid_syntax(*args, **kwargs):
            return real().is_valid_syntax(*args, **kwargs)

        def __getattr__(attr):
            if attr.startswith("__"):  # the import system's probes (__path__, __file__)
                raise AttributeError(attr)
            return getattr(real(), attr)

        stub.is_valid_syntax = is_valid_syntax
        stub.__getattr__ = __getattr__
        sys.modules[name] = stub
