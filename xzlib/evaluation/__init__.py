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

# Import the submodules first: the public functions below share their names with two of
# them and must be bound last, so that ``xzlib.evaluation.indicators`` is the function
# (import the module's other names with ``from xzlib.evaluation.indicators import ...``).
from . import composite as composite
from . import indicators as _indicators_module
from . import reconcile as _reconcile_module
from .composite import Evaluation, evaluate
from .indicators import load_framework

indicators = _indicators_module.indicators
reconcile = _reconcile_module.reconcile

__all__ = ["indicators", "evaluate", "reconcile", "Evaluation", "load_framework"]
