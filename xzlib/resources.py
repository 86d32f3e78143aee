"""Package data: the files that ship inside xzlib, found with :mod:`importlib.resources`.

xzlib works the same installed from a wheel (``pip install xzlib``) or editable from a
clone (``pip install -e .``): every file it ships is named here and found through the
import system, never through a path relative to the source tree.

==============  ===========================  =====================================
name            package (and path inside)    what
==============  ===========================  =====================================
``reference``   ``xzlib.reference_data``     divisions, published facts, events,
                                             awards (CSV; ``data/reference/`` in
                                             the repository)
``notebooks``   ``xzlib.notebooks``          the report notebooks (``notebooks/``
                                             in the repository)
``templates``   ``xzlib`` / ``templates``    the nbconvert template of the reports
``framework``   ``xzlib.evaluation`` /       the indicator framework
                ``framework.toml``
==============  ===========================  =====================================

``pyproject.toml`` maps the repository's top-level ``notebooks/`` and ``data/reference/``
folders onto the packages ``xzlib.notebooks`` and ``xzlib.reference_data``, so they are
shipped without being copied.  Where a project folder has its own copy (its
``notebooks/``, or ``<data>/reference``), :mod:`xzlib.config` prefers that one.
"""

from __future__ import annotations

import logging
from importlib import resources as _resources
from importlib.resources.abc import Traversable
from pathlib import Path

from .errors import XzError

__all__ = ["NAMES", "files", "path"]

logger = logging.getLogger(__name__)

# name -> (package, path parts inside it)
_LOCATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "reference": ("xzlib.reference_data", ()),
    "notebooks": ("xzlib.notebooks", ()),
    "templates": ("xzlib", ("templates",)),
    "framework": ("xzlib.evaluation", ("framework.toml",)),
}

#: The names :func:`files` accepts.
NAMES = tuple(_LOCATIONS)


def files(name: str) -> Traversable:
    """Return the packaged resource ``name`` as an :mod:`importlib.resources` Traversable.

    Parameters
    ----------
    name : {"reference", "notebooks", "templates", "framework"}
        Which resource (see the module docstring).

    Returns
    -------
    importlib.resources.abc.Traversable
        A folder or a file; read it with ``.iterdir()``, ``.joinpath()``,
        ``.read_text()``.

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`NAMES`.

    Examples
    --------
    >>> from xzlib import resources
    >>> (resources.files("reference") / "divisions.csv").is_file()
    True
    """
    try:
        package, parts = _LOCATIONS[name]
    except KeyError:
        raise ValueError(f"resource must be one of {', '.join(NAMES)}; got {name!r}") from None
    found = _resources.files(package)
    for part in parts:
        found = found.joinpath(part)
    return found


def path(name: str) -> Path:
    """Return the packaged resource ``name`` as a real file-system path.

    Papermill, nbconvert and pandas need paths.  A wheel is installed as files on disk,
    so this is the common case; a zipped install is refused with a message rather than
    extracted behind the caller's back.

    Parameters
    ----------
    name : str
        As for :func:`files`.

    Returns
    -------
    pathlib.Path
        The folder or file.

    Raises
    ------
    ValueError
        As for :func:`files`.
    xzlib.XzError
        If xzlib is imported from a zip file, where package data has no path.
    """
    found = files(name)
    if not isinstance(found, Path):
        raise XzError(f"xzlib's {name} ({found}) are not files on disk: install xzlib "
                      "with pip (not from a zip file)")
    return found
