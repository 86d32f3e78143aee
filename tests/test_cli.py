"""The `xz` command: help, exit codes, list, template, docs."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from xzlib import cli, submission


def test_every_command_has_help(capsys):
    for cmd in ("sample", "template", "clean", "validate", "list", "docs", "build"):
        with pytest.raises(SystemExit) as info:
            cli.main([cmd, "--help"])
        assert info.value.code == 0
        assert "usage: xz" in capsys.readouterr().out


def test_list_prints_the_streets_of_the_year(capsys):
    assert cli.main(["list", "--year", "2018"]) == 0
    out2018 = capsys.readouterr().out
    assert "440402003  前山街道  (27 个社区)" in out2018
    assert "凤山街道" not in out2018
    assert cli.main(["list", "--year", "2021"]) == 0
    assert "440402009  凤山街道" in capsys.readouterr().out


def test_usage_error_exits_2_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "xzlib.cli", "validate", "--data", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "xz clean" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_template_explains_every_column(tmp_path):
    path = tmp_path / "模板.xlsx"
    assert cli.main(["template", "--out", str(path)]) == 0
    sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
    notes = sheets.pop(submission.NOTES_SHEET)
    assert set(sheets) == set(submission.SHEETS.values())
    explained = set(zip(notes[0], notes[1], strict=True))
    for table, sheet in submission.SHEETS.items():
        headers = list(sheets[sheet].iloc[0])
        assert headers == [f.header for f in submission.fields(table)]
        assert all((sheet, h) in explained for h in headers)


def test_data_dictionary_is_up_to_date():
    assert cli.main(["docs", "--check"]) == 0, "run `xz docs` and commit docs/data-dictionary.md"


def test_public_api_names_are_the_functions_whatever_was_imported_first():
    code = ("import xzlib.evaluation, xzlib.roster, xzlib as xz, inspect; "
            "assert inspect.isfunction(xz.evaluate) and inspect.isfunction(xz.divisions); "
            "assert inspect.isfunction(xz.indicators) and inspect.isfunction(xz.reconcile)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_output_into_a_closed_pipe_ends_quietly():
    """`xz list | head -1`: the reader leaves early; no BrokenPipeError traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "xzlib", "list", "--year", "2018"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the command has written anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err
