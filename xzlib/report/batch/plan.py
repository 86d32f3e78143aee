"""The build plan: which reports, their parameters, their keys, and which are up to date.

Standard library only: a build with nothing to do stops after planning, having imported
neither pandas nor papermill.  A report's key is the SHA-256 of its parts:

======================  =====================================================================
part                    changes when
======================  =====================================================================
``notebook_sha256``     a cell's type, source or tags change (outputs, execution counts and
                        other metadata are ignored)
``parameters``          the notebook parameters change: ``street_code``, ``year``, ``lang``,
                        ``data_dir``, ``runs``, ``seed`` -- everything that changes a
                        report's content is a parameter, and nothing else reaches it
``data_sha256``         the processed data manifest changes (:mod:`xzlib.processed`)
``reference_sha256``    a reference CSV changes
``xzlib_version``,      the version, or any file of the ``xzlib`` package
``xzlib_source_sha256``
======================  =====================================================================
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Report",
    "Plan",
    "plan",
    "notebook_sha256",
    "report_key",
    "select_streets",
    "up_to_date",
    "read_build_manifest",
    "STREET_NOTEBOOK",
    "DISTRICT_NOTEBOOK",
    "EXECUTED",
    "MANIFEST",
    "MANIFEST_SCHEMA",
]

#: Build manifest file name, in the output folder.
MANIFEST = "manifest.json"
#: Version of the build manifest's layout.
MANIFEST_SCHEMA = 2
#: Folder of the executed notebooks, in the output folder.
EXECUTED = "_executed"
STREET_NOTEBOOK = "street_report.ipynb"
DISTRICT_NOTEBOOK = "district.ipynb"


def _usage(message: str) -> Exception:
    from ...errors import UsageError

    return UsageError(message)


def sha(obj) -> str:
    """SHA-256 of ``obj`` as canonical JSON."""
    return hashlib.sha256(
        json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def notebook_sha256(source: str) -> str:
    """Return the SHA-256 of a notebook's content, outputs stripped.

    Counts the kernel name, and for every cell its type, source and tags (the
    ``parameters`` tag and the export's ``remove-cell`` tags matter); ignores outputs,
    execution counts and other metadata, so re-saving an executed notebook changes nothing.
    """
    nb = json.loads(source)
    cells = []
    for cell in nb.get("cells", []):
        src = cell.get("source", "")
        cells.append({
            "type": cell.get("cell_type"),
            "source": "".join(src) if isinstance(src, list) else src,
            "tags": sorted(cell.get("metadata", {}).get("tags", [])),
        })
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    return sha({"kernel": kernel, "cells": cells})


def report_key(parts: dict) -> str:
    """Return the build key of a report from its parts (see :class:`Report`)."""
    return sha(parts)


def select_streets(spec: str, year: int) -> list[tuple[str, str]]:
    """Return ``(code, name)`` of the streets ``spec`` names (``"all"`` or codes, comma-separated).

    Raises
    ------
    UsageError
        For a code that is not a street of ``year``; the message lists the valid ones.
    """
    from ...roster import street_list

    valid = street_list(year)
    if spec.strip().lower() in ("", "all"):
        return valid
    names = dict(valid)
    wanted = [c.strip() for c in spec.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in names]
    if unknown:
        listing = ", ".join(f"{c} {n}" for c, n in valid)
        raise _usage(
            f"unknown street code(s) {', '.join(unknown)} for {year}; valid codes: {listing}"
        )
    return [(c, names[c]) for c in dict.fromkeys(wanted)]


@dataclass
class Report:
    """One report of a build plan.

    Attributes
    ----------
    name : str
        ``"district"`` or the street code; also the file stem of the outputs.
    kind : {"district", "street"}
    notebook : Path
    parameters : dict
        Papermill parameters.
    key_parts : dict
        See the module docstring.
    key : str
        SHA-256 of ``key_parts``.
    street_code, street_name : str or None
    meta : dict
        The report header (:data:`xzlib.report.html.META_KEYS`), generation time aside.
    """

    name: str
    kind: str
    notebook: Path
    parameters: dict
    key_parts: dict
    key: str
    street_code: str | None = None
    street_name: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def html(self) -> str:
        return f"{self.name}.html"

    @property
    def executed(self) -> str:
        return f"{EXECUTED}/{self.name}.ipynb"

    @property
    def label(self) -> str:
        """How progress and summary lines name the report."""
        from ...i18n import t

        return self.street_name or t("district_overview", self.parameters["lang"])


@dataclass
class Plan:
    """Everything ``xz build`` decided before running anything."""

    year: int
    lang: str
    runs: int
    seed: int
    out: Path
    data_dir: str | None
    processed: Path
    data_manifest: dict
    data_sha256: str
    evaluation_key: str
    evaluator: str | None
    reports: list[Report]
    all_streets: list[tuple[str, str]]
    sources: dict[str, str]
    notebooks_dir: Path
    common: dict

    @property
    def synthetic(self) -> bool:
        return bool(self.data_manifest.get("synthetic", False))

    @property
    def batch(self) -> str:
        return str(self.data_manifest.get("batch", ""))


def plan(*, year: int = 2018, lang: str = "zh", streets_spec: str = "all",
         out: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None,
         notebooks_dir: str | os.PathLike | None = None, runs: int = 1000, seed: int = 0,
         evaluator: str | None = None) -> Plan:
    """Return the build plan: the reports, their parameters and keys (standard library only).

    Parameters
    ----------
    year, lang : int, str
        Evaluation year and report language.
    streets_spec : str
        ``"all"`` or comma-separated street codes.
    out : path, optional
        Output folder (default ``config.reports_dir()``).
    data_dir : path, optional
        Processed data folder (default ``XZ_DATA_DIR`` or ``data/``).
    notebooks_dir : path, optional
        Folder of ``street_report.ipynb`` and ``district.ipynb`` (default
        ``config.notebooks_dir()``).
    runs, seed : int
        Monte Carlo runs and seed of the evaluation: notebook parameters of every report.
    evaluator : str, optional
        ``"module:function"`` the builder primes the evaluation with (a test hook; the
        notebooks choose their own evaluator).

    Raises
    ------
    UsageError
        Unknown street code, missing notebook or missing processed data.
    """
    from ... import __version__, config
    from ... import processed as data_manifest
    from ...i18n import report_title
    from ...roster import street_list
    from .. import cache

    selected = select_streets(streets_spec, year)
    nb_dir = Path(notebooks_dir) if notebooks_dir else config.notebooks_dir()
    sources = {}
    for fname in (DISTRICT_NOTEBOOK, STREET_NOTEBOOK):
        path = nb_dir / fname
        try:
            sources[fname] = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise _usage(f"notebook {path} not found (use --notebooks DIR)") from None
    data_arg = str(Path(data_dir).expanduser().resolve()) if data_dir else None
    man, data_sha = data_manifest.read(data_arg)
    common = {
        "data_sha256": data_sha,
        "reference_sha256": cache.reference_sha256(),
        "xzlib_version": __version__,
        "xzlib_source_sha256": cache.source_sha256(),
    }
    ev_key = cache.cache_key(year, runs=runs, seed=seed, data_dir=data_arg, evaluate=evaluator)
    header = {"year": int(year), "batch": str(man.get("batch", "")), "xzlib_version": __version__,
              "synthetic": bool(man.get("synthetic", False)), "runs": int(runs),
              "seed": int(seed)}
    nb_sha = {k: notebook_sha256(v) for k, v in sources.items()}
    base = {"year": int(year), "lang": lang, "data_dir": data_arg, "runs": int(runs),
            "seed": int(seed)}

    def report(kind, fname, params, code=None, name=None):
        parts = {"kind": kind, "notebook_sha256": nb_sha[fname], "parameters": params, **common}
        meta = {**header, "title": report_title(lang, year, name)}
        if code is not None:
            meta.update(street_code=code, street_name=name)
        return Report(code or "district", kind, nb_dir / fname, params, parts,
                      report_key(parts), code, name, meta)

    reports = [report("district", DISTRICT_NOTEBOOK, dict(base))]
    reports += [report("street", STREET_NOTEBOOK, {"street_code": code, **base}, code, name)
                for code, name in selected]
    return Plan(year=int(year), lang=lang, runs=int(runs), seed=int(seed),
                out=Path(out) if out else config.reports_dir(), data_dir=data_arg,
                processed=data_manifest.folder(data_arg), data_manifest=man,
                data_sha256=data_sha, evaluation_key=ev_key, evaluator=evaluator,
                reports=reports, all_streets=street_list(year), sources=sources,
                notebooks_dir=nb_dir, common=common)


def read_build_manifest(out: Path) -> dict:
    """The previous build's manifest in ``out``, or ``{}`` (missing, unreadable, old layout)."""
    try:
        doc = json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return doc if isinstance(doc, dict) and doc.get("schema") == MANIFEST_SCHEMA else {}


def up_to_date(report: Report, entry: dict | None, out: Path) -> bool:
    """Whether ``report`` needs no rebuild: same key, last build good, HTML present."""
    return bool(
        entry
        and entry.get("key") == report.key
        and entry.get("status") == "ok"
        and (Path(out) / report.html).is_file()
    )
