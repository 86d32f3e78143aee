"""Evaluation engine: a composite-indicator engine (a Python COINr) and its governance instance.

The method follows the OECD/JRC Handbook on Constructing Composite Indicators as COINr
implements it (see ``docs/method.md``)::

    import xzlib as xz
    c = xz.composite(data, meta)          # any units x indicators table and iMeta-like framework
    c.results()                           # index, aggregates and ranks (COINr's get_results)
    c.coherence()                         # correlations with parent and index, Cronbach's alpha
    u = c.uncertainty(runs=10_000)        # Monte Carlo over every assumption at every level

    table = xz.indicators(2018)           # the governance indicators per street, natural units
    ev = xz.evaluate(2018, runs=1000)     # the governance index: nominal ranks, rank intervals
    xz.reconcile()                        # data totals against the published figures

Modules, one job each:

* :mod:`.meta` -- the framework table (COINr's iMeta): codes, levels, parents, weights.
* :mod:`.steps` -- denominate, impute, screen, treat, normalise, aggregate.
* :mod:`.results` -- :func:`composite`, the :class:`Composite` result, ranks.
* :mod:`.uncertainty` -- the vectorised Monte Carlo and sensitivity indices.
* :mod:`.coherence` -- statistical coherence (correlations, Cronbach's alpha).
* :mod:`.governance` -- the governance framework (``framework.toml``) and indicator values.
* :mod:`.district` -- the governance evaluation of the streets (:class:`Evaluation`).
* :mod:`.reconcile` -- data against the published figures.
"""

from __future__ import annotations

from . import governance as _governance_module
from . import reconcile as _reconcile_module
from .district import Evaluation, evaluate
from .governance import load_framework
from .meta import Meta
from .results import Composite, composite

indicators = _governance_module.indicators
reconcile = _reconcile_module.reconcile

__all__ = ["indicators", "evaluate", "reconcile", "Evaluation", "load_framework", "composite",
           "Composite", "Meta"]
