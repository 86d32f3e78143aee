"""Reference data (divisions, published facts, events, awards), shipped inside xzlib as
package data (``xzlib.reference_data``).

This folder stays in the repository at ``data/reference``; ``pyproject.toml`` maps it
into the package.  Read it through :func:`xzlib.config.reference_dir` or
:func:`xzlib.resources.files`.
"""
