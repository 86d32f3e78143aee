"""``xz build``, start to finish: lock, plan, run the reports, record them, write the index.

1. **Lock** the output folder (:mod:`~xzlib.report.batch.lock`).
2. **Plan** (:mod:`~xzlib.report.batch.plan`); with nothing to do, stop there (only the
   standard library has been imported).
3. **Run** the reports through a ``concurrent.futures`` executor -- threads of this
   process, or a Dask cluster with ``--scheduler`` -- on warm kernels
   (:mod:`~xzlib.report.batch.tasks`), after priming the evaluation and the indicator
   table the reports share.  Each result is recorded as it arrives: the executed notebook
   to ``_executed/<name>.ipynb`` (failed ones too), the HTML atomically to ``<name>.html``
   (a failed report keeps its previous good HTML), and the manifest.
4. **Index**: ``index.html`` (:mod:`xzlib.report.index`) and the final ``manifest.json``.

Exit status: 0 when every report is good, 1 when any failed; usage errors raise
``UsageError`` (status 2 from the ``xz`` command).  Ctrl-C or SIGTERM kills every kernel,
keeps what was finished, and raises ``KeyboardInterrupt`` (status 130).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from ...fsutil import write_text
from .plan import EXECUTED, MANIFEST, MANIFEST_SCHEMA, Plan, Report, plan, up_to_date
from .plan import read_build_manifest as _read_build_manifest

__all__ = ["main", "EXIT_OK", "EXIT_FAILED"]

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED = 0, 1
_CHINA = _dt.timezone(_dt.timedelta(hours=8), "UTC+08:00")


def _usage(message: str) -> Exception:
    from ...errors import UsageError

    return UsageError(message)


def _now() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def china_now() -> _dt.datetime:
    """Local time in Zhuhai, shown on the pages (the readers' clock)."""
    return _dt.datetime.now(_CHINA).replace(microsecond=0)


def _options(args) -> dict:
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise _usage("--jobs must be at least 1")
    if args.recycle < 1:
        raise _usage("--recycle must be at least 1")
    if args.timeout < 0:
        raise _usage("--timeout must be positive (0 = no limit)")
    if args.runs < 1:
        raise _usage("--runs must be at least 1")
    return {"jobs": jobs, "timeout": args.timeout or None}


def main(args: argparse.Namespace) -> int:
    """Run ``xz build`` with arguments parsed by :func:`xzlib.cli.build_arguments`.

    Returns
    -------
    int
        0 when every report is good, 1 when any report failed.

    Raises
    ------
    UsageError
        Unknown street, missing data or notebooks, or the output folder is in use.
    KeyboardInterrupt
        After a clean stop on Ctrl-C or SIGTERM.
    """
    from ... import config
    from .. import index
    from .lock import BuildLock, clean_stale

    t0 = time.monotonic()
    opts = _options(args)
    out = Path(args.out) if args.out else config.reports_dir()
    with BuildLock(out, wait=args.wait):
        clean_stale(out, EXECUTED)
        pl = plan(year=args.year, lang=args.lang, streets_spec=args.streets, out=out,
                  data_dir=args.data, notebooks_dir=args.notebooks, runs=args.runs,
                  seed=args.seed, evaluator=args.evaluator)
        previous = _read_build_manifest(out)
        same = previous.get("year") == pl.year and previous.get("lang") == pl.lang
        prev_entries = previous.get("reports", {}) if same else {}
        todo = [r for r in pl.reports
                if args.force or not up_to_date(r, prev_entries.get(r.name), out)]
        if not todo:
            rows, district = index.index_rows(pl, prev_entries, _ranks(pl, previous))
            key = index.index_key(pl, rows, district)
            if (previous.get("index") or {}).get("key") == key and (out / "index.html").is_file():
                sys.stdout.write(
                    f"xz build: nothing to do, {len(pl.reports)} report(s) up to "
                    f"date in {out} ({time.monotonic() - t0:.2f} s)\n"
                )
                return EXIT_OK
        return _Build(pl, todo, previous if same else {}, args, opts, t0).run()


def _ranks(pl: Plan, manifest: dict) -> list[dict]:
    evaluation = manifest.get("evaluation") or {}
    return evaluation.get("ranks", []) if evaluation.get("key") == pl.evaluation_key else []


class _Build:
    """One build's running state: results recorded so far, the executor, the kernels."""

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
        self.index_entry = previous.get("index")

    # -- manifest
    def _manifest(self, *, finished: bool, interrupted: bool = False) -> dict:
        pl = self.pl
        from .plan import notebook_sha256

        return {
            "schema": MANIFEST_SCHEMA,
            "tool": "xz build",
            "year": pl.year,
            "lang": pl.lang,
            "parameters": {"year": pl.year, "lang": pl.lang, "runs": pl.runs, "seed": pl.seed,
                           "data_dir": pl.data_dir},
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
            "xzlib_version": pl.common["xzlib_version"],
            "xzlib_source_sha256": pl.common["xzlib_source_sha256"],
            "reference_sha256": pl.common["reference_sha256"],
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
            "index": self.index_entry,
            "reports": dict(
                sorted(self.entries.items(), key=lambda kv: (kv[0] != "district", kv[0]))
            ),
        }

    def _save(self, **kw) -> None:
        write_text(self.pl.out / MANIFEST,
                   json.dumps(self._manifest(**kw), ensure_ascii=False, indent=2) + "\n")

    # -- results
    def _record(self, report: Report, res) -> str:
        """Write one result's files and manifest entry; returns its status."""
        out = self.pl.out
        status = res.status
        old = self.entries.get(report.name) or {}
        executed = None
        if res.notebook is not None:
            executed = report.executed
            write_text(out / executed, res.notebook)
        html = None
        if status == "ok" and res.html is not None:
            write_text(out / report.html, res.html)
            html = report.html
        elif old.get("html") and (out / old["html"]).is_file():
            html = old["html"]  # the previous good report stays
        self.entries[report.name] = entry = {
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
        if status == "ok":
            self.built += 1
        else:
            self.failures.append((report, entry))
        self._save(finished=False)
        return status

    def _record_crash(self, report: Report, exc: BaseException) -> None:
        from .specs import ReportResult

        self._record(report, ReportResult(name=report.name, status="error", error={
            "phase": "worker", "ename": type(exc).__name__, "evalue": str(exc), "traceback": ""}))

    # -- executors
    def _executor(self, pool_cfg):
        from . import tasks

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
        from dataclasses import replace

        n = min(self.opts["jobs"], len(self.todo) + 1)
        tasks.get_pool(replace(pool_cfg, max_kernels=n)).prestart(n)
        # Two threads per kernel: a thread exports its report's HTML after giving its
        # kernel back, and another runs the next report on that kernel meanwhile (with
        # one thread per kernel, the kernel would wait for the export).
        return ThreadPoolExecutor(2 * n, thread_name_prefix="xz-build")

    def _stop_kernels(self, *, kill: bool) -> None:
        from . import tasks

        if self.client is not None:
            with contextlib.suppress(Exception):
                stats = self.client.run(tasks.kill_pool if kill else tasks.close_pool)
                if not kill:
                    self.pool_stats = {
                        k: sum((s or {}).get(k, 0) for s in stats.values())
                        for k in ("kernels", "starts", "start_retries")
                    }
                    self.pool_stats["workers"] = len(stats)
            with contextlib.suppress(Exception):
                self.client.close()
            self.client = None
        elif kill:
            tasks.kill_pool()
        else:
            self.pool_stats = tasks.close_pool()

    def run(self) -> int:
        """Run the build; SIGTERM stops it like Ctrl-C."""
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

    def _specs(self, cfg):
        from .specs import PrimeSpec, ReportSpec

        pl = self.pl
        prime = PrimeSpec(task="prime_evaluation", year=pl.year, runs=pl.runs, seed=pl.seed,
                          data_dir=pl.data_dir, evaluator=pl.evaluator,
                          cwd=str(pl.notebooks_dir.resolve()), timeout=self.opts["timeout"],
                          pool=cfg)
        primes = [prime]
        if any(r.kind == "street" for r in self.todo) and self.opts["jobs"] > 1:
            # the indicator table the street reports share, on a second kernel meanwhile
            from dataclasses import replace

            primes.append(replace(prime, task="prime_indicators"))
        generated = china_now()
        reports = [ReportSpec(name=r.name, source=pl.sources[r.notebook.name],
                              notebook=str(r.notebook), parameters=r.parameters,
                              cwd=str(r.notebook.parent.resolve()), timeout=self.opts["timeout"],
                              lang=pl.lang, meta={**r.meta, "generated_at": generated},
                              key=r.key, pool=cfg) for r in self.todo]
        return primes, reports

    def _run(self) -> int:
        from concurrent.futures import FIRST_COMPLETED, wait

        from ..cache import SOURCE_ENV
        from . import tasks
        from .progress import Progress
        from .specs import PoolConfig

        pl, todo = self.pl, self.todo
        up = len(pl.reports) - len(todo)
        if not todo:  # only the index is out of date
            return self._finish(0, up)
        self.versions = tasks.versions()
        cfg = PoolConfig(recycle_after=self.args.recycle,
                         env={SOURCE_ENV: pl.common["xzlib_source_sha256"]})
        progress = Progress({r.name: r.label for r in todo}, self.args.progress, len(todo))
        where = (f"Dask {self.args.scheduler}" if self.args.scheduler
                 else f"{min(self.opts['jobs'], len(todo) + 1)} kernel(s)")
        if progress.mode != "none":
            sys.stdout.write(f"xz build: {len(todo)} report(s) to build, {up} up to date -> "
                             f"{pl.out} ({where})\n")
            sys.stdout.flush()
        interrupted = False
        executor = None
        futures: dict = {}
        try:
            executor = self._executor(cfg)
            progress.start()
            prime_specs, report_specs = self._specs(cfg)
            primes = {executor.submit(tasks.prime, s): s.task for s in prime_specs}
            for r, spec in zip(todo, report_specs, strict=True):
                futures[executor.submit(tasks.run_report, spec)] = r
            pending = set(futures) | set(primes)
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for f in pending:
                    if f in futures and f.running():
                        progress.running(futures[f].name)
                for f in done:
                    if f in primes:
                        self._prime_done(primes[f], f)
                        continue
                    r = futures[f]
                    try:
                        res = f.result()
                    except Exception as exc:
                        logger.error("report %s crashed the worker: %r", r.name, exc)
                        self._record_crash(r, exc)
                        progress.finished(r.name, "error", None)
                        continue
                    progress.finished(r.name, self._record(r, res), res.timings.get("total_s"))
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

    def _prime_done(self, task: str, f) -> None:
        try:
            res = f.result()
        except Exception as exc:
            res = {"status": "failed", "ranks": [], "error": repr(exc)}
        if task != "prime_evaluation":  # the reports compute the indicators if this failed
            if res.get("status") != "ok":
                logger.debug("%s failed: %s", task, res.get("error"))
            return
        pl = self.pl
        self.evaluation = {"key": pl.evaluation_key, "year": pl.year, "runs": pl.runs,
                           "seed": pl.seed, "evaluator": pl.evaluator, **res}
        if res.get("status") != "ok":
            logger.warning("the district evaluation could not be computed once for the batch; "
                           "the index will show no scores: %s",
                           str(res.get("error", "")).strip().splitlines()[-1:] or "")

    def _finish(self, n: int, up: int) -> int:
        """Write the index and the final manifest; print the summary."""
        from ... import __version__
        from .. import index

        pl = self.pl
        ranks = self.evaluation.get("ranks", []) if (
            self.evaluation.get("key") == pl.evaluation_key) else []
        rows, district = index.index_rows(pl, self.entries, ranks)
        html = index.render_index(
            rows, year=pl.year, lang=pl.lang, synthetic=pl.synthetic, district=district,
            generated_at=china_now().strftime("%Y-%m-%d %H:%M (UTC+08:00)"), batch=pl.batch,
            xzlib_version=__version__)
        index.write_index(html, pl.out / "index.html")
        self.index_entry = {"path": "index.html", "key": index.index_key(pl, rows, district),
                            "written_at": _now()}
        self._save(finished=True)
        return self._summary(up)

    def _summary(self, up: int) -> int:
        out = self.pl.out
        secs = time.monotonic() - self.t0
        lines = [f"xz build: {self.built} built, {len(self.failures)} failed, {up} up to date "
                 f"in {secs:.1f} s -> {out / 'index.html'}"]
        if self.evaluation.get("status") not in (None, "ok"):
            lines.append("  warning: the district evaluation failed (no scores in the index)")
        if self.failures:
            lines.append("failed reports:")
            for r, e in self.failures:
                err = e.get("error") or {}
                where = f" (cell {err['exec_count']})" if err.get("exec_count") else ""
                label = f"{r.name} {r.street_name or ''}".strip()
                lines.append(f"  {label}: {e['status']} - {err.get('ename', '')}: "
                             f"{str(err.get('evalue', '')).strip()[:200]}{where}")
                if e.get("executed"):
                    lines.append(f"      executed notebook: {out / e['executed']}")
                if e.get("html"):
                    lines.append(f"      previous good report kept: {out / e['html']}")
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        return EXIT_FAILED if self.failures else EXIT_OK
