"""The report notebooks, shipped inside xzlib as package data (``xzlib.notebooks``).

This folder stays at the top of the repository, where papermill, JupyterLab and
``make reports`` use it; ``pyproject.toml`` maps it into the package.  Read it through
:func:`xzlib.config.notebooks_dir` or :func:`xzlib.resources.files`.
"""
