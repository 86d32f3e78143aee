"""The parsers of one cell or column, under one name (kept for existing imports).

The parsers live in one module per job: :mod:`.headers` (aliases, units, multi-row
headers), :mod:`.cells` (cell kinds, text, blanks, totals, labels, yes/no),
:mod:`.numbers`, :mod:`.dates` and :mod:`.names`.  This module re-exports them.
"""

from __future__ import annotations

from . import cells as _c
from . import dates as _d
from . import headers as _h
from . import names as _n
from . import numbers as _nb
from .cells import *  # noqa: F403
from .cells import _BLANK_WORDS, _cell_kind, _text  # noqa: F401
from .dates import *  # noqa: F403
from .headers import *  # noqa: F403
from .headers import DOCS_BEGIN, DOCS_END  # noqa: F401
from .names import *  # noqa: F403
from .numbers import *  # noqa: F403

__all__ = [*_c.__all__, *_h.__all__, *_nb.__all__, *_d.__all__, *_n.__all__]
