"""xzlib: evaluation and reporting for grassroots social governance in Xiangzhou District.

The public API is small and imported lazily, so that ``import xzlib`` (and the ``xz``
command) starts fast::

    import xzlib as xz
    projects = xz.load("projects")        # typed, validated DataFrame
    xz.divisions(2018)                    # streets and communities as in 2018
    xz.facts()                            # figures published by the district

See ``docs/`` for the data dictionary and the evaluation method.
"""

from __future__ import annotations

import importlib
import logging

# A library logs, an application shows: modules log on logging.getLogger(__name__), and
# only the ``xz`` command (xzlib.cli) configures handlers.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"

# public name -> module that defines it
_API = {
    "load": "dataset",
    "load_all": "dataset",
    "manifest": "dataset",
    "validate": "dataset",
    "divisions": "roster",
    "streets": "roster",
    "facts": "reference",
    "events": "reference",
    "awards": "reference",
    "indicators": "evaluation",
    "evaluate": "evaluation",
    "composite": "evaluation",
    "reconcile": "evaluation",
    "XzError": "errors",
    "DataError": "errors",
    "UsageError": "errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    try:
        module = _API[name]
    except KeyError:
        raise AttributeError(f"module 'xzlib' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
