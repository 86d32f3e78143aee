"""Evaluation engine: indicators, composite index with uncertainty, reconciliation.

The method follows the OECD/JRC Handbook on Constructing Composite Indicators as COINr
implements it (see ``docs/method.md``)::

    import xzlib as xz
    table = xz.indicators(2018)          # every indicator per street, natural units
    ev = xz.evaluate(2018, runs=1000)    # nominal ranks, rank intervals, sensitivity
    ev.street_summary("440402005")       # one street, plain Python types
    xz.reconcile()                       # data totals against the published figures

Modules: :mod:`.indicators` (framework and raw values), :mod:`.composite` (screen,
treat, normalise, aggregate, Monte Carlo, :class:`Evaluation`), :mod:`.reconcile`.
"""

from __future__ import annotations

import sys
import types

# Import the submodules first: the public functions below share their names with two of
# them and must be bound last (``xzlib.evaluate.indicators`` is the function).
from . import composite as composite
from . import indicators as _indicators_module
from . import reconcile as _reconcile_module
from .composite import Evaluation, evaluate
from .indicators import load_framework

indicators = _indicators_module.indicators
reconcile = _reconcile_module.reconcile

__all__ = ["indicators", "evaluate", "reconcile", "Evaluation", "load_framework"]


class _CallableModule(types.ModuleType):
    """``xzlib.evaluate`` is both this package and the function ``xz.evaluate``.

    Importing the package binds the attribute ``xzlib.evaluate`` to the package (the
    import system does so after this file runs), which would hide the function whenever
    the package is imported before ``xz.evaluate`` is first looked up.  Calling the
    package therefore calls :func:`evaluate`.
    """

    def __call__(self, *args, **kwargs):
        return evaluate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
