"""The ``xz`` command.

Each subcommand parses its arguments here and calls one function of the library; heavy
modules are imported only by the subcommand that needs them, so ``xz --help`` and a no-op
``xz build`` start fast.

Exit status: 0 success, 1 data errors (or failed reports), 2 usage errors.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def cmd_init(args) -> int:
    from . import config

    root = config.init_project(args.dir)
    _out(f"project folder ready: {root}")
    _out("next: cd into it, then `xz sample` (示例数据) or put workbooks in data/raw/<batch>/, "
         "`xz clean --raw data/raw/<batch>`, `xz build`; see README.md there")
    return EXIT_OK


def cmd_sample(args) -> int:
    from . import config, sample

    out = Path(args.out) if args.out else config.sample_raw_dir()
    sample.write_sample(out, seed=args.seed)
    if args.messy:
        from .ingest import mess

        mess.messify(out, out, seed=args.seed)
    _out(f"sample batch (示例数据, seed {args.seed}{', messy' if args.messy else ''}) written to {out}")
    return EXIT_OK


def cmd_template(args) -> int:
    from . import submission
    from .errors import UsageError
    from .ingest.names import resolve_street
    from .roster import street_name

    if args.all:
        if not args.out:
            raise UsageError("--all needs --out DIR (one workbook per street goes there)")
        paths = submission.write_templates(args.out, year=args.year)
        _out(f"{len(paths)} templates written to {args.out}")
        return EXIT_OK
    code, name = "", ""
    if args.street:
        code, _ = resolve_street(args.street)
        if code is None:
            raise UsageError(f"unknown street {args.street!r}; `xz list` shows the codes")
        name = street_name(code)
    out = args.out or (submission.template_name(code, name, args.year) if code
                       else "xz_template.xlsx")
    path = submission.write_template(out, street_code=code, street_name=name, year=args.year)
    _out(f"template written to {path}")
    return EXIT_OK


def cmd_clean(args) -> int:
    from . import config
    from .ingest import clean

    raw = Path(args.raw) if args.raw else config.sample_raw_dir()
    out = Path(args.out) if args.out else config.processed_dir()
    result = clean.clean(raw, out, report_dir=Path(args.report) if args.report else None)
    _out(result.summary())
    return EXIT_OK if result.ok else EXIT_DATA


def cmd_changes(args) -> int:
    from . import config
    from .ingest import changes

    out = Path(args.data) if args.data else config.processed_dir()
    path = changes.latest(out)
    if path is None:
        _out(f"no change report yet under {changes.changes_dir(out)} (run `xz clean` first)")
        return EXIT_OK
    _out(path.read_text(encoding="utf-8"))
    _out(f"({path}; all rows: {path.with_suffix('.csv')})")
    return EXIT_OK


def cmd_validate(args) -> int:
    from . import dataset
    from .errors import problems_frame

    problems = dataset.validate(args.data)
    if not problems:
        _out("processed data is valid")
        return EXIT_OK
    _out(problems_frame(problems).to_string(index=False, max_rows=50))
    return EXIT_DATA


def cmd_list(args) -> int:
    from .roster import divisions

    df = divisions(args.year)
    streets = df[df["level"] == "street"].sort_values("code")
    counts = df[df["level"] == "community"].groupby("parent_code").size()
    _out(f"{args.year} 年的镇街 ({len(streets)}):")
    for code, name in zip(streets["code"], streets["name"], strict=True):
        _out(f"  {code}  {name}  ({int(counts.get(code, 0))} 个社区)")
    return EXIT_OK


def cmd_docs(args) -> int:
    from . import config, schemas

    docs = config.docs_dir()
    path = docs / "data-dictionary.md"
    text = schemas.data_dictionary()
    if args.check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            _out(f"{path} is out of date: run `xz docs`")
            return EXIT_DATA
        return EXIT_OK
    path.write_text(text, encoding="utf-8")
    _out(f"wrote {path}")
    from .ingest.normalize import update_docs

    if update_docs(docs / "ingest.md"):
        _out("updated the alias table in docs/ingest.md")
    return EXIT_OK


def cmd_build(args) -> int:
    from .report import batch

    return batch.main(args)


def build_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``xz build`` options to ``parser`` (see docs/build.md)."""
    parser.description = (
        "Build the district overview, one report per street, index.html and manifest.json. "
        "Reports whose inputs did not change are skipped; failures never stop the others."
    )
    parser.add_argument("--streets", default="all", metavar="CODE,...|all",
                        help="9-digit street codes, comma-separated, or 'all' (default)")
    parser.add_argument("--year", type=int, default=2018, help="evaluation year (default 2018)")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh",
                        help="report language (default zh)")
    parser.add_argument("--runs", type=int, default=1000, metavar="N",
                        help="Monte Carlo runs of the evaluation (default 1000); a notebook "
                        "parameter of every report")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed of the evaluation (default 0); a notebook parameter "
                        "of every report")
    parser.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                        help="reports built at once, one warm kernel each (default: CPUs)")
    parser.add_argument("--force", action="store_true", help="rebuild every report")
    parser.add_argument("--out", metavar="DIR", help="output folder (default reports/)")
    parser.add_argument("--data", metavar="DIR",
                        help="processed data folder (default: $XZ_DATA_DIR or data/)")
    parser.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                        help="time limit per report (default 600; 0 = none)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on a Dask cluster, e.g. tcp://host:8786 (needs `distributed`)")
    parser.add_argument("--notebooks", metavar="DIR",
                        help="folder of street_report.ipynb and district.ipynb "
                        "(default notebooks/)")
    parser.add_argument("--recycle", type=int, default=10, metavar="K",
                        help="replace a kernel after K reports (default 10; 1 = fresh kernel "
                        "per report); any failure also replaces it")
    parser.add_argument("--wait", action="store_true",
                        help="wait for another build on the same --out instead of refusing")
    parser.add_argument("--progress", choices=("auto", "live", "plain", "none"), default="auto",
                        help="live table on a terminal, plain lines otherwise (default auto)")
    # Test hook: the evaluator the builder primes the index's ranks with ("module:function");
    # the notebooks choose their own.  Not a notebook parameter, so hidden.
    parser.add_argument("--evaluator", default=None, help=argparse.SUPPRESS)


def _parser(prog: str = "xz") -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(
        prog=prog, description="Xiangzhou governance evaluation suite.",
        epilog="Commands work inside a project folder (made by `xz init DIR`; a clone of the "
               "repository is one): the working directory or a folder above it.")
    p.add_argument("--version", action="version", version=f"xzlib {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress")
    p.add_argument("--project", metavar="DIR",
                   help="project folder to use (default: found from the working directory "
                        "upwards; also $XZ_PROJECT_DIR)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("init", help="make a project folder: data/raw/, notebooks/, reports/")
    s.add_argument("dir", metavar="DIR", help="folder to lay out (created if missing)")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("sample", help="write the synthetic sample batch (示例数据)")
    s.add_argument("--out", help="batch folder (default data/raw/sample)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--messy", action="store_true", help="inject realistic mess (for the cleaner)")
    s.set_defaults(func=cmd_sample)

    s = sub.add_parser("template", help="write the submission workbook a street office fills in")
    s.add_argument("--street", help="street code or name: filled in, its communities as a list")
    s.add_argument("--year", type=int, help="year of the data (its communities and dates)")
    s.add_argument("--all", action="store_true", help="one workbook per street into --out DIR")
    s.add_argument("--out", help="file to write (default <code>_<name>[_<year>年].xlsx, or "
                   "xz_template.xlsx without --street); a folder with --all")
    s.set_defaults(func=cmd_template)

    s = sub.add_parser("clean", help="raw submissions -> validated processed tables")
    s.add_argument("--raw", help="raw batch folder (default data/raw/sample)")
    s.add_argument("--out", help="processed folder (default data/processed)")
    s.add_argument("--report", help="folder for the clerk's problem report "
                   "(default: <out>/../interim/clean-report-<batch>)")
    s.set_defaults(func=cmd_clean)

    s = sub.add_parser("changes", help="show what the latest `xz clean` changed (resubmissions)")
    s.add_argument("--data", help="processed folder (default data/processed)")
    s.set_defaults(func=cmd_changes)

    s = sub.add_parser("validate", help="re-check processed tables")
    s.add_argument("--data", help="processed folder (default data/processed)")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("list", help="list streets/towns and their codes for a year")
    s.add_argument("--year", type=int, default=2018, help="year (default 2018)")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("docs", help="regenerate docs/data-dictionary.md from the schemas")
    s.add_argument("--check", action="store_true", help="fail if the file is out of date")
    s.set_defaults(func=cmd_docs)

    s = sub.add_parser("build", help="build every report (parallel, incremental)")
    build_arguments(s)
    s.set_defaults(func=cmd_build)
    return p


def _pin_project(args) -> None:
    """Fix the project folder for this command and the processes it starts (kernels)."""
    from . import config
    from .errors import UsageError

    if args.project:
        folder = Path(args.project).expanduser().resolve()
        if not folder.is_dir():
            raise UsageError(f"--project {args.project}: no such folder; run `xz init DIR` "
                             "to make one")
        os.environ["XZ_PROJECT_DIR"] = str(folder)
    elif args.command != "init":
        root = config.find_project()
        if root is not None:
            os.environ["XZ_PROJECT_DIR"] = str(root)


def main(argv: list[str] | None = None, prog: str = "xz") -> int:
    """Run the ``xz`` command; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).
    prog : str
        Program name shown in help and messages (``python -m xzlib`` passes its own).
    """
    from .errors import DataError, UsageError

    parser = _parser(prog)
    args = parser.parse_args(argv)
    # the CLI is the application: the only place that configures log handlers
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    pinned = os.environ.get("XZ_PROJECT_DIR")
    try:
        _pin_project(args)
        status = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not as a traceback at exit
        return status
    except UsageError as exc:
        sys.stderr.write(f"{prog} {args.command}: {exc}\n")
        return EXIT_USAGE
    except DataError as exc:
        sys.stderr.write(f"{prog} {args.command}: {exc}\n")
        return EXIT_DATA
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog} {args.command}: interrupted\n")
        return 130
    except BrokenPipeError:  # `xz list | head`: the reader left; say nothing more
        # (the Python documentation's recipe: nothing left to flush into the closed pipe)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:  # main() may be called in-process (tests, notebooks): leave the env as it was
        if pinned is None:
            os.environ.pop("XZ_PROJECT_DIR", None)
        else:
            os.environ["XZ_PROJECT_DIR"] = pinned


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
