"""``xz build``: every report, in parallel, incrementally, one failure never stopping the rest.

What a build does, in order:

1. **Lock** the output folder (``<out>/.xz-build.lock``, an ``flock``): a second build on
   the same folder refuses with a clear message (or waits, with ``--wait``); the lock
   dies with its process, so a killed build never leaves a stale lock.
2. **Plan** with the standard library only: the streets of the year (from the reference
   divisions), one key per report -- SHA-256 of the notebook source (outputs stripped),
   the parameters, the processed data manifest, the reference data, the ``xzlib`` version
   and the hash of the ``xzlib`` source files -- compared with ``<out>/manifest.json``.
   A report is rebuilt when its key changed, its last build failed or its HTML is
   missing; ``--force`` rebuilds all.  With nothing to do the build ends here, without
   having imported pandas, papermill or nbclient.
3. **Run** the reports on warm kernels (:mod:`xzlib.report.pool`) through a
   ``concurrent.futures`` executor: threads of this process, or a Dask cluster with
   ``--scheduler``.  The district evaluation is computed once first (or loaded, see
   :mod:`xzlib.report.cache`), and the street reports' indicator table at the same time
   on a second kernel.  Each result is written as it arrives: the executed
   notebook to ``_executed/<name>.ipynb`` (failed ones too), the HTML atomically to
   ``<name>.html`` (a failed report keeps its previous good HTML), and the manifest.
4. **Index**: ``index.html`` (:mod:`xzlib.report.index`) and the final ``manifest.json``.

Exit status: 0 when every report is good, 1 when any failed, 2 for a usage error (an
unknown street, no data, another build holding the output folder).  Ctrl-C (or SIGTERM)
kills every kernel, keeps what was finished, and exits with status 130.

This module imports only the standard library at module level (the ``xz`` parser calls
:func:`add_arguments` on every start).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as _dt
import hashlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..fsutil import write_text

__all__ = [
    "add_arguments",
    "main",
    "plan",
    "Plan",
    "Report",
    "BuildLock",
    "report_key",
    "notebook_sha256",
    "MANIFEST",
    "LOCK",
]

log = logging.getLogger("xzlib")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: Build manifest file name, in the output folder.
MANIFEST = "manifest.json"
#: Lock file name, in the output folder.
LOCK = ".xz-build.lock"
EXECUTED = "_executed"
STREET_NOTEBOOK = "street_report.ipynb"
DISTRICT_NOTEBOOK = "district.ipynb"
_MANIFEST_SCHEMA = 1
_FAILED = ("failed", "timeout", "died", "error")


# --------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``xz build`` options to ``parser``."""
    parser.description = (
        "Build the district overview, one report per street, index.html and manifest.json. "
        "Reports whose inputs did not change are skipped; failures never stop the others."
    )
    parser.add_argument(
        "--streets",
        default="all",
        metavar="CODE,...|all",
        help="9-digit street codes, comma-separated, or 'all' (default)",
    )
    parser.add_argument("--year", type=int, default=2018, help="evaluation year (default 2018)")
    parser.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="report language (default zh)"
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="reports built at once, one warm kernel each (default: CPUs)",
    )
    parser.add_argument("--force", action="store_true", help="rebuild every report")
    parser.add_argument("--out", metavar="DIR", help="output folder (default reports/)")
    parser.add_argument(
        "--data", metavar="DIR", help="processed data folder (default: $XZ_DATA_DIR or data/)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="time limit per report (default 600; 0 = none)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster, e.g. tcp://host:8786 (needs `distributed`)",
    )
    parser.add_argument(
        "--notebooks",
        metavar="DIR",
        help=f"folder of {STREET_NOTEBOOK} and {DISTRICT_NOTEBOOK} (default notebooks/)",
    )
    parser.add_argument(
        "--recycle",
        type=int,
        default=10,
        metavar="K",
        help="replace a kernel after K reports (default 10; 1 = fresh "
        "kernel per report); any failure also replaces it",
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="wait for another build on the same --out instead of refusing",
    )
    parser.add_argument(
        "--progress",
        choices=("auto", "live", "plain", "none"),
        default="auto",
        help="live table on a terminal, plain lines otherwise (default auto)",
    )
    # Evaluation settings shared with the notebooks' cached_evaluate(); for tests.
    parser.add_argument("--evaluator", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=1000, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)


def _usage(message: str) -> Exception:
    from ..errors import UsageError

    return UsageError(message)


# --------------------------------------------------------------------------- streets


def streets(year: int) -> list[tuple[str, str]]:
    """Return ``(code, name)`` of the streets/towns valid on 31 December of ``year``.

    Reads the reference divisions with the standard library (the same rule as
    :func:`xzlib.divisions.streets`, without importing pandas).
    """
    from .. import config

    path = config.reference_dir() / "divisions.csv"
    day = f"{int(year):04d}-12-31"
    out = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row.get("level") != "street":
                continue
            start, end = (row.get("valid_from") or "")[:10], (row.get("valid_to") or "")[:10]
            if (start and start > day) or (end and end < day):
                continue
            out[row["code"]] = row["name"]
    return sorted(out.items())


def _select(spec: str, year: int) -> list[tuple[str, str]]:
    valid = streets(year)
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


# --------------------------------------------------------------------------- keys


def _sha(obj) -> str:
    return hashlib.sha256(
        json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def notebook_sha256(source: str) -> str:
    """Return the SHA-256 of a notebook's content, outputs stripped.

    Counts the kernel, and for every cell its type, source and tags (the ``parameters``
    tag and the export's ``remove-cell`` tags matter); ignores outputs, execution counts
    and other metadata, so re-saving an executed notebook does not change it.
    """
    nb = json.loads(source)
    cells = []
    for cell in nb.get("cells", []):
        src = cell.get("source", "")
        cells.append(
            {
                "type": cell.get("cell_type"),
                "source": "".join(src) if isinstance(src, list) else src,
                "tags": sorted(cell.get("metadata", {}).get("tags", [])),
            }
        )
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    return _sha({"kernel": kernel, "cells": cells})


def report_key(parts: dict) -> str:
    """Return the build key of a report from its parts (see :class:`Report`)."""
    return _sha(parts)


@dataclass
class Report:
    """One report of a build plan.

    Attributes
    ----------
    name : str
        ``"district"`` or the street code; also the file stem of the outputs.
    kind : {"district", "street"}
    notebook : Path
        The notebook.
    parameters : dict
        Papermill parameters.
    key_parts : dict
        ``notebook_sha256``, ``parameters``, ``data_sha256``, ``reference_sha256``,
        ``xzlib_version``, ``xzlib_source_sha256``.
    key : str
        SHA-256 of ``key_parts``.
    street_code, street_name : str or None
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


@dataclass
class Plan:
    """Everything ``xz build`` decided before running anything."""

    year: int
    lang: str
    out: Path
    data_dir: str | None
    processed: Path
    data_manifest: dict
    data_sha256: str
    evaluation_key: str
    evaluator: str
    runs: int
    seed: int
    reports: list[Report]
    all_streets: list[tuple[str, str]]
    sources: dict[str, str]
    notebooks_dir: Path

    @property
    def synthetic(self) -> bool:
        return bool(self.data_manifest.get("synthetic", False))

    @property
    def batch(self) -> str:
        return str(self.data_manifest.get("batch", ""))


def _title(kind: str, lang: str, year: int, street_name: str | None) -> str:
    """The report's title, from the one table of UI strings (:mod:`xzlib.i18n`)."""
    from ..i18n import t  # standard library only: the no-op path stays light

    if kind == "district":
        return t("district_report_title", lang, year=year)
    return t("street_report_title", lang, street=street_name, year=year)


def plan(
    *,
    year: int = 2018,
    lang: str = "zh",
    streets_spec: str = "all",
    out: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    notebooks_dir: str | os.PathLike | None = None,
    evaluator: str | None = None,
    runs: int = 1000,
    seed: int = 0,
) -> Plan:
    """Return the build plan: the reports and their keys (standard library only).

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
    evaluator, runs, seed
        The evaluation the notebooks' ``cached_evaluate`` computes (defaults as there).

    Raises
    ------
    UsageError
        Unknown street code, missing notebook or missing processed data.
    """
    from .. import __version__, config
    from . import cache

    selected = _select(streets_spec, year)
    all_streets = streets(year)
    nb_dir = Path(notebooks_dir) if notebooks_dir else config.notebooks_dir()
    sources = {}
    for fname in (DISTRICT_NOTEBOOK, STREET_NOTEBOOK):
        path = nb_dir / fname
        try:
            sources[fname] = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise _usage(f"notebook {path} not found (use --notebooks DIR)") from None
    data_arg = str(Path(data_dir).expanduser().resolve()) if data_dir else None
    man, data_sha = cache.read_manifest(data_arg)
    common = {
        "data_sha256": data_sha,
        "reference_sha256": cache.reference_sha256(),
        "xzlib_version": __version__,
        "xzlib_source_sha256": cache.source_sha256(),
    }
    evaluator = evaluator or cache.DEFAULT_EVALUATOR
    ev_key = cache.cache_key(year, runs=runs, seed=seed, data_dir=data_arg, evaluate=evaluator)
    meta_common = {
        "year": int(year),
        "batch": str(man.get("batch", "")),
        "xzlib_version": __version__,
        "synthetic": bool(man.get("synthetic", False)),
    }
    nb_sha = {k: notebook_sha256(v) for k, v in sources.items()}
    reports = []
    params = {"year": int(year), "lang": lang, "data_dir": data_arg}
    parts = {
        "kind": "district",
        "notebook_sha256": nb_sha[DISTRICT_NOTEBOOK],
        "parameters": params,
        **common,
    }
    reports.append(
        Report(
            "district",
            "district",
            nb_dir / DISTRICT_NOTEBOOK,
            params,
            parts,
            report_key(parts),
            meta={**meta_common, "title": _title("district", lang, year, None)},
        )
    )
    for code, name in selected:
        params = {"street_code": code, "year": int(year), "lang": lang, "data_dir": data_arg}
        parts = {
            "kind": "street",
            "notebook_sha256": nb_sha[STREET_NOTEBOOK],
            "parameters": params,
            **common,
        }
        meta = {
            **meta_common,
            "street_code": code,
            "street_name": name,
            "title": _title("street", lang, year, name),
        }
        reports.append(
            Report(
                code,
                "street",
                nb_dir / STREET_NOTEBOOK,
                params,
                parts,
                report_key(parts),
                code,
                name,
                meta,
            )
        )
    return Plan(
        year=int(year),
        lang=lang,
        out=Path(out) if out else config.reports_dir(),
        data_dir=data_arg,
        processed=cache.processed_folder(data_arg),
        data_manifest=man,
        data_sha256=data_sha,
        evaluation_key=ev_key,
        evaluator=evaluator,
        runs=runs,
        seed=seed,
        reports=reports,
        all_streets=all_streets,
        sources=sources,
        notebooks_dir=nb_dir,
    )


def _up_to_date(report: Report, entry: dict | None, out: Path) -> bool:
    return bool(
        entry
        and entry.get("key") == report.key
        and entry.get("status") == "ok"
        and (out / report.html).is_file()
    )


# --------------------------------------------------------------------------- files


_CHINA = _dt.timezone(_dt.timedelta(hours=8), "UTC+08:00")


def _now() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _china_now() -> _dt.datetime:
    """Local time in Zhuhai, shown on the pages (the readers' clock)."""
    return _dt.datetime.now(_CHINA).replace(microsecond=0)


def _read_manifest(out: Path) -> dict:
    try:
        doc = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return doc if isinstance(doc, dict) and doc.get("schema") == _MANIFEST_SCHEMA else {}


def _clean_stale(out: Path) -> None:
    """Remove temporary files left by a build that was killed (we hold the lock)."""
    for folder in (out, out / EXECUTED):
        if folder.is_dir():
            for path in folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    path.unlink()


class BuildLock:
    """Exclusive lock on an output folder, held for the whole build.

    Parameters
    ----------
    out : path
        Output folder (created if needed).
    wait : bool
        Wait for the other build instead of refusing.

    Raises
    ------
    UsageError
        On entry, when another build holds the lock and ``wait`` is false; the message
        names that build (pid, host, start time).
    """

    def __init__(self, out: str | os.PathLike, *, wait: bool = False) -> None:
        self.path = Path(out) / LOCK
        self.wait = wait
        self._fd: int | None = None

    def __enter__(self) -> BuildLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(fd)
            if not self.wait:
                os.close(fd)
                raise _usage(
                    f"another xz build ({holder}) is writing to {self.path.parent}; "
                    "wait for it to finish, pass --wait, or choose another --out"
                ) from None
            sys.stderr.write(
                f"xz build: waiting for the build ({holder}) writing to {self.path.parent}...\n"
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            json.dumps(
                {"pid": os.getpid(), "host": socket.gethostname(), "started_at": _now()}
            ).encode(),
            0,
        )
        self._fd = fd
        return self

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
            return f"pid {info['pid']} on {info['host']}, started {info['started_at']}"
        except (ValueError, KeyError, OSError):
            return "unknown process"

    def __exit__(self, *exc) -> None:
        import fcntl

        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


# --------------------------------------------------------------------------- index


def _index_rows(pl: Plan, entries: dict, ranks: list[dict]) -> tuple[list[dict], dict]:
    by_code = {str(r.get("street_code")): r for r in ranks}
    rows = []
    for code, name in pl.all_streets:
        e = entries.get(code) or {}
        r = by_code.get(code, {})
        href = e.get("html") if e.get("html") and (pl.out / e["html"]).is_file() else None
        rows.append(
            {
                "street_code": code,
                "street_name": name,
                "score": r.get("score"),
                "rank": r.get("rank"),
                "rank_q05": r.get("rank_q05"),
                "rank_q95": r.get("rank_q95"),
                "status": e.get("status") or "missing",
                "href": href,
            }
        )
    d = entries.get("district") or {}
    district = {
        "status": d.get("status") or "missing",
        "href": d.get("html") if d.get("html") and (pl.out / d["html"]).is_file() else None,
    }
    return rows, district


def _index_key(pl: Plan, rows, district) -> str:
    return _sha(
        {
            "rows": rows,
            "district": district,
            "lang": pl.lang,
            "year": pl.year,
            "synthetic": pl.synthetic,
            "batch": pl.batch,
            "source": pl.reports[0].key_parts["xzlib_source_sha256"],
        }
    )


def _write_index(pl: Plan, rows, district) -> None:
    from .. import __version__
    from .index import render_index, write_index

    html = render_index(
        rows,
        year=pl.year,
        lang=pl.lang,
        synthetic=pl.synthetic,
        district=district,
        generated_at=_china_now().strftime("%Y-%m-%d %H:%M (UTC+08:00)"),
        batch=pl.batch,
        xzlib_version=__version__,
    )
    write_index(html, pl.out / "index.html")


# --------------------------------------------------------------------------- progress


class _Progress:
    """Per-report status: a live rich table on a terminal, plain lines otherwise."""

    def __init__(self, names: dict[str, str], mode: str, total: int) -> None:
        self.names = names
        self.state = dict.fromkeys(names, "queued")
        self.seconds: dict[str, float] = {}
        self.total = total
        self.done = 0
        self.t0 = time.monotonic()
        if mode == "auto":
            mode = "live" if sys.stdout.isatty() else "plain"
        if mode == "live":
            try:
                import rich.live  # noqa: F401
            except ImportError:  # rich is optional: fall back to plain lines
                mode = "plain"
        self.mode = mode
        self._live = None
        self._lock = threading.Lock()

    def __rich__(self):
        from rich.table import Table

        styles = {"ok": "green", "queued": "dim", "running": "cyan"}
        table = Table(
            title=f"xz build  {self.done}/{self.total}  {time.monotonic() - self.t0:.1f} s",
            title_justify="left",
            expand=False,
        )
        table.add_column("report")
        table.add_column("")
        table.add_column("status")
        table.add_column("s", justify="right")
        for name, state in self.state.items():
            secs = self.seconds.get(name)
            table.add_row(
                name,
                self.names[name],
                f"[{styles.get(state, 'bold red')}]{state}",
                "" if secs is None else f"{secs:.1f}",
            )
        return table

    def start(self) -> None:
        if self.mode == "live":
            from rich.live import Live

            self._live = Live(self, refresh_per_second=4, transient=False)
            self._live.start()

    def running(self, name: str) -> None:
        if self.state.get(name) == "queued":
            self.state[name] = "running"

    def finished(self, name: str, status: str, seconds: float | None) -> None:
        with self._lock:
            self.state[name] = status
            if seconds is not None:
                self.seconds[name] = seconds
            self.done += 1
            if self.mode == "plain":
                width = len(str(self.total))
                sys.stdout.write(
                    f"[{self.done:>{width}}/{self.total}] {status:<7} {name} "
                    f"{self.names.get(name, '')}"
                    f"{'' if seconds is None else f'  {seconds:.1f} s'}\n"
                )
                sys.stdout.flush()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


# --------------------------------------------------------------------------- run


def _options(args) -> dict:
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise _usage("--jobs must be at least 1")
    if args.recycle < 1:
        raise _usage("--recycle must be at least 1")
    if args.timeout < 0:
        raise _usage("--timeout must be positive (0 = no limit)")
    return {"jobs": jobs, "timeout": args.timeout or None}


def main(args: argparse.Namespace) -> int:
    """Run ``xz build`` with parsed arguments; returns the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        As parsed by a parser set up with :func:`add_arguments`.

    Returns
    -------
    int
        0 when every report is good, 1 when any report failed.

    Raises
    ------
    UsageError
        Unknown street, missing data or notebooks, or the output folder is in use
        (the ``xz`` command turns it into exit status 2).
    KeyboardInterrupt
        After a clean stop on Ctrl-C or SIGTERM (exit status 130).
    """
    t0 = time.monotonic()
    opts = _options(args)
    from .. import config

    out = Path(args.out) if args.out else config.reports_dir()
    with BuildLock(out, wait=args.wait):
        _clean_stale(out)
        pl = plan(
            year=args.year,
            lang=args.lang,
            streets_spec=args.streets,
            out=out,
            data_dir=args.data,
            notebooks_dir=args.notebooks,
            evaluator=args.evaluator,
            runs=args.runs,
            seed=args.seed,
        )
        previous = _read_manifest(out)
        prev_entries = previous.get("reports", {}) if previous else {}
        same = previous.get("year") == pl.year and previous.get("lang") == pl.lang
        todo = [
            r
            for r in pl.reports
            if args.force or not _up_to_date(r, prev_entries.get(r.name) if same else None, out)
        ]
        if not todo:
            evaluation = previous.get("evaluation") or {}
            entries = {k: v for k, v in prev_entries.items()} if same else {}
            ranks = (
                evaluation.get("ranks", []) if evaluation.get("key") == pl.evaluation_key else []
            )
            rows, district = _index_rows(pl, entries, ranks)
            ikey = _index_key(pl, rows, district)
            if (previous.get("index") or {}).get("key") == ikey and (out / "index.html").is_file():
                sys.stdout.write(
                    f"xz build: nothing to do, {len(pl.reports)} report(s) up to "
                    f"date in {out} ({time.monotonic() - t0:.2f} s)\n"
                )
                return EXIT_OK
        return _Build(pl, todo, previous if same else {}, args, opts, t0).run()


class _Build:
    def __init__(self, pl: Plan, todo: list[Report], previous: dict, args, opts, t0) -> None:
        self.pl, self.todo, self.args, self.opts, self.t0 = pl, todo, args, opts, t0
        self.previous = previous
        self.entries: dict[str, dict] = dict(previous.get("reports", {}))
        self.evaluation: dict = dict(previous.get("evaluation") or {})
        self.failures: list[tuple[Report, dict]] = []
        self.built = 0
        self.started_at = _now()
        self.versions: dict = {}
        self.pool_stats: dict = {}
        self.client = None

    # -- manifest
    def _manifest(self, *, finished: bool, interrupted: bool = False) -> dict:
        pl = self.pl
        return {
            "schema": _MANIFEST_SCHEMA,
            "tool": "xz build",
            "year": pl.year,
            "lang": pl.lang,
            "data": {
                "processed_dir": str(pl.processed),
                "data_dir_parameter": pl.data_dir,
                "manifest_sha256": pl.data_sha256,
                "batch": pl.batch,
                "synthetic": pl.synthetic,
                "tables": pl.data_manifest.get("tables", {}),
            },
            "notebooks": {
                fname: {"path": str(pl.notebooks_dir / fname), "sha256": notebook_sha256(src)}
                for fname, src in pl.sources.items()
            },
            "xzlib_version": pl.reports[0].key_parts["xzlib_version"],
            "xzlib_source_sha256": pl.reports[0].key_parts["xzlib_source_sha256"],
            "reference_sha256": pl.reports[0].key_parts["reference_sha256"],
            "versions": self.versions,
            "build": {
                "started_at": self.started_at,
                "finished_at": _now() if finished else None,
                "seconds": round(time.monotonic() - self.t0, 3),
                "jobs": self.opts["jobs"],
                "scheduler": self.args.scheduler,
                "timeout": self.opts["timeout"],
                "recycle": self.args.recycle,
                "force": bool(self.args.force),
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "interrupted": interrupted,
                "kernels": self.pool_stats,
            },
            "evaluation": self.evaluation,
            "index": self.previous.get("index") if not finished else self._index_entry,
            "reports": dict(
                sorted(self.entries.items(), key=lambda kv: (kv[0] != "district", kv[0]))
            ),
        }

    _index_entry: dict | None = None

    def _save(self, **kw) -> None:
        write_text(
            self.pl.out / MANIFEST,
            json.dumps(self._manifest(**kw), ensure_ascii=False, indent=2) + "\n",
        )

    # -- results
    def _record(self, report: Report, res) -> str:
        """Write one result's files and manifest entry; returns its status."""
        from .html import write_html

        out = self.pl.out
        status = res.status
        old = self.entries.get(report.name) or {}
        executed = None
        if res.notebook is not None:
            executed = report.executed
            write_text(out / executed, res.notebook)
        html = None
        if status == "ok" and res.html is not None:
            write_html(res.html, out / report.html)
            html = report.html
        elif old.get("html") and (out / old["html"]).is_file():
            html = old["html"]  # the previous good report stays
        entry = {
            "kind": report.kind,
            "street_code": report.street_code,
            "street_name": report.street_name,
            "status": status,
            "key": report.key,
            "key_parts": report.key_parts,
            "parameters": report.parameters,
            "notebook": str(report.notebook),
            "html": html,
            "html_key": report.key if status == "ok" else old.get("html_key"),
            "executed": executed,
            "error": res.error,
            "timings": res.timings,
            "kernel": res.kernel,
            "versions": res.versions,
            "built_at": _now() if status == "ok" else old.get("built_at"),
            "attempted_at": _now(),
        }
        self.entries[report.name] = entry
        if status == "ok":
            self.built += 1
        else:
            self.failures.append((report, entry))
        self._save(finished=False)
        return status

    def _record_crash(self, report: Report, exc: BaseException) -> None:
        from .pool import ReportResult

        res = ReportResult(
            name=report.name,
            status="error",
            error={
                "phase": "worker",
                "ename": type(exc).__name__,
                "evalue": str(exc),
                "traceback": "",
            },
        )
        self._record(report, res)

    # -- executors
    def _executor(self, pool_cfg):
        from . import pool

        jobs = self.opts["jobs"]
        if self.args.scheduler:
            try:
                from distributed import Client
            except ImportError:
                raise _usage(
                    "--scheduler needs the `distributed` package (pip install 'xzlib[dask]')"
                ) from None
            self.client = Client(self.args.scheduler, timeout="30s")
            return self.client.get_executor(pure=False)
        from concurrent.futures import ThreadPoolExecutor

        n = min(jobs, len(self.todo) + 1)
        pool.get_pool(pool_cfg).prestart(n)
        return ThreadPoolExecutor(n, thread_name_prefix="xz-build")

    def _stop_kernels(self, *, kill: bool) -> None:
        from . import pool

        if self.client is not None:
            with contextlib.suppress(Exception):
                stats = self.client.run(pool.kill_pool if kill else pool.close_pool)
                if not kill:
                    self.pool_stats = {
                        "kernels": sum(s.get("kernels", 0) for s in stats.values()),
                        "starts": sum(s.get("starts", 0) for s in stats.values()),
                        "start_retries": sum(s.get("start_retries", 0) for s in stats.values()),
                        "workers": len(stats),
                    }
            with contextlib.suppress(Exception):
                self.client.close()
            self.client = None
        elif kill:
            pool.kill_pool()
        else:
            self.pool_stats = pool.close_pool()

    def run(self) -> int:
        previous_handler = None
        if threading.current_thread() is threading.main_thread():

            def _term(signum, frame):
                raise KeyboardInterrupt

            previous_handler = signal.signal(signal.SIGTERM, _term)
        try:
            return self._run()
        finally:
            if previous_handler is not None:
                signal.signal(signal.SIGTERM, previous_handler)

    def _run(self) -> int:
        from concurrent.futures import FIRST_COMPLETED, wait

        from . import pool

        pl, todo = self.pl, self.todo
        self.versions = pool.versions()
        sources = [pl.sources[r.notebook.name] for r in todo] or list(pl.sources.values())
        from .cache import SOURCE_ENV

        cfg = pool.PoolConfig(
            preload=pool.preload_modules(*dict.fromkeys(sources)),
            recycle_after=self.args.recycle,
            env={SOURCE_ENV: pl.reports[0].key_parts["xzlib_source_sha256"]},
        )
        names = {
            r.name: (r.street_name or ("全区总览" if pl.lang == "zh" else "district")) for r in todo
        }
        progress = _Progress(names, self.args.progress, len(todo))
        up = len(pl.reports) - len(todo)
        where = (
            f"Dask {self.args.scheduler}"
            if self.args.scheduler
            else f"{min(self.opts['jobs'], len(todo) + 1)} kernel(s)"
        )
        head = f"xz build: {len(todo)} report(s) to build, {up} up to date -> {pl.out} ({where})\n"

        if progress.mode != "none":
            sys.stdout.write(head)
            sys.stdout.flush()
        interrupted = False
        executor = None
        futures: dict = {}
        if not todo:  # only the index is out of date
            return self._finish(0, up)
        try:
            executor = self._executor(cfg)
            progress.start()
            prime_spec = pool.PrimeSpec(
                year=pl.year,
                runs=pl.runs,
                seed=pl.seed,
                data_dir=pl.data_dir,
                evaluator=pl.evaluator,
                cwd=str(pl.notebooks_dir.resolve()),
                timeout=self.opts["timeout"],
                pool=cfg,
            )
            prime = executor.submit(pool.prime_evaluation, prime_spec)
            primes = {prime}
            if "xzlib.report.narrative" in cfg.preload and self.opts["jobs"] > 1:
                # the indicator table every street report shares, on a second kernel
                # while the first computes the evaluation
                primes.add(
                    executor.submit(
                        pool.prime_evaluation, replace(prime_spec, task="indicators")
                    )
                )
            for r in todo:
                spec = pool.ReportSpec(
                    name=r.name,
                    source=pl.sources[r.notebook.name],
                    notebook=str(r.notebook),
                    parameters=r.parameters,
                    cwd=str(r.notebook.parent.resolve()),
                    timeout=self.opts["timeout"],
                    lang=pl.lang,
                    meta={**r.meta, "generated_at": _china_now()},
                    key=r.key,
                    pool=cfg,
                )
                futures[executor.submit(pool.run_report, spec)] = r
            pending = set(futures) | primes
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for f in pending:
                    if f in futures and f.running():
                        progress.running(futures[f].name)
                for f in done:
                    if f is prime:
                        self._prime_done(f)
                        continue
                    if f in primes:  # the indicators: the reports compute them if it failed
                        with contextlib.suppress(Exception):
                            if f.result().get("status") != "ok":
                                log.debug("indicator prime failed: %s", f.result().get("error"))
                        continue
                    r = futures[f]
                    try:
                        res = f.result()
                    except Exception as exc:
                        log.error("report %s crashed the worker: %r", r.name, exc)
                        self._record_crash(r, exc)
                        progress.finished(r.name, "error", None)
                        continue
                    status = self._record(r, res)
                    progress.finished(r.name, status, res.timings.get("total_s"))
        except KeyboardInterrupt:
            interrupted = True
        finally:
            progress.stop()
            if interrupted:
                sys.stderr.write("xz build: interrupted; stopping every kernel...\n")
                for f in futures:
                    f.cancel()
                self._stop_kernels(kill=True)
                if executor is not None:
                    with contextlib.suppress(Exception):
                        executor.shutdown(wait=True)
                with contextlib.suppress(Exception):
                    self._save(finished=False, interrupted=True)
            elif executor is not None:
                executor.shutdown(wait=True)
                self._stop_kernels(kill=False)
        if interrupted:
            raise KeyboardInterrupt
        return self._finish(len(todo), up)

    def _finish(self, n: int, up: int) -> int:
        """Write the index and the final manifest; print the summary."""
        pl = self.pl
        ranks = (
            self.evaluation.get("ranks", [])
            if self.evaluation.get("key") == pl.evaluation_key
            else []
        )
        rows, district = _index_rows(pl, self.entries, ranks)
        _write_index(pl, rows, district)
        self._index_entry = {
            "path": "index.html",
            "key": _index_key(pl, rows, district),
            "written_at": _now(),
        }
        self._save(finished=True)
        return self._summary(n, up)

    def _prime_done(self, f) -> None:
        try:
            res = f.result()
        except Exception as exc:
            res = {"status": "failed", "ranks": [], "error": repr(exc)}
        self.evaluation = {
            "key": self.pl.evaluation_key,
            "year": self.pl.year,
            "runs": self.pl.runs,
            "seed": self.pl.seed,
            "evaluator": self.pl.evaluator,
            **res,
        }
        if res.get("status") != "ok":
            log.warning(
                "the district evaluation could not be computed once for the batch; "
                "the index will show no scores: %s",
                str(res.get("error", "")).strip().splitlines()[-1:] or "",
            )

    def _summary(self, n: int, up: int) -> int:
        out = self.pl.out
        secs = time.monotonic() - self.t0
        lines = [
            f"xz build: {self.built} built, {len(self.failures)} failed, {up} up to date "
            f"in {secs:.1f} s -> {out / 'index.html'}"
        ]
        if self.evaluation.get("status") not in (None, "ok"):
            lines.append("  warning: the district evaluation failed (no scores in the index)")
        if self.failures:
            lines.append("failed reports:")
            for r, e in self.failures:
                err = e.get("error") or {}
                where = f" (cell {err['exec_count']})" if err.get("exec_count") else ""
                label = f"{r.name} {r.street_name or ''}".strip()
                lines.append(
                    f"  {label}: {e['status']} - {err.get('ename', '')}: "
                    f"{str(err.get('evalue', '')).strip()[:200]}{where}"
                )
                if e.get("executed"):
                    lines.append(f"      executed notebook: {out / e['executed']}")
                if e.get("html"):
                    lines.append(f"      previous good report kept: {out / e['html']}")
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        return EXIT_FAILED if self.failures else EXIT_OK
