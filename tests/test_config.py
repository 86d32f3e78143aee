"""The project folder: found from the working directory, XZ_PROJECT_DIR or XZ_DATA_DIR;
laid out by `xz init`; package data found through importlib.resources."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xzlib import cli, config, resources
from xzlib.errors import UsageError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """A working directory outside any project, with no xzlib variables set."""
    for var in ("XZ_PROJECT_DIR", "XZ_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    folder = tmp_path / "nowhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_the_repository_is_a_project_folder():
    assert (REPO / config.MARKER).is_file()
    assert config.find_project(REPO / "xzlib" / "report") == REPO


def test_no_project_says_to_run_xz_init(nowhere):
    assert config.find_project() is None
    for func in (config.project_root, config.data_dir, config.processed_dir, config.reports_dir):
        with pytest.raises(UsageError, match=r"xz init DIR"):
            func()


def test_project_found_from_a_subfolder(nowhere):
    root = config.init_project(nowhere / "proj")
    deep = root / "data" / "raw"
    os.chdir(deep)
    assert config.project_root() == root
    assert config.data_dir() == root / "data"
    assert config.sample_raw_dir() == root / "data" / "raw" / "sample"
    assert config.processed_dir() == root / "data" / "processed"
    assert config.interim_dir() == root / "data" / "interim"
    assert config.reports_dir() == root / "reports"
    assert config.notebooks_dir() == root / "notebooks"


def test_xz_project_dir_wins_and_must_exist(nowhere, monkeypatch):
    a = config.init_project(nowhere / "a")
    b = config.init_project(nowhere / "b")
    os.chdir(a)
    monkeypatch.setenv("XZ_PROJECT_DIR", str(b))
    assert config.project_root() == b
    monkeypatch.setenv("XZ_PROJECT_DIR", str(nowhere / "missing"))
    with pytest.raises(UsageError, match="missing: no such folder"):
        config.project_root()


def test_xz_data_dir_replaces_data_and_its_parent_is_the_project(nowhere, monkeypatch):
    data = nowhere / "elsewhere" / "mydata"
    data.mkdir(parents=True)
    monkeypatch.setenv("XZ_DATA_DIR", str(data))
    assert config.data_dir() == data
    assert config.processed_dir() == data / "processed"
    assert config.reports_dir() == data.parent / "reports"
    # inside a project, XZ_DATA_DIR still replaces only the data folder
    root = config.init_project(nowhere / "proj")
    os.chdir(root)
    assert config.data_dir() == data
    assert config.reports_dir() == root / "reports"


def test_reference_and_notebooks_fall_back_to_the_package(nowhere, monkeypatch):
    assert config.reference_dir() == resources.path("reference")
    assert (config.reference_dir() / "divisions.csv").is_file()
    assert config.notebooks_dir() == resources.path("notebooks")
    # a data folder with its own reference/ uses it
    data = nowhere / "data"
    (data / "reference").mkdir(parents=True)
    monkeypatch.setenv("XZ_DATA_DIR", str(data))
    assert config.reference_dir() == data / "reference"


def test_project_without_notebooks_uses_the_packaged_ones(nowhere):
    root = config.init_project(nowhere / "proj")
    for nb in (root / "notebooks").iterdir():
        nb.unlink()
    os.chdir(root)
    assert config.notebooks_dir() == resources.path("notebooks")


def test_init_lays_out_a_project(nowhere):
    root = config.init_project(nowhere / "new")
    assert (root / config.MARKER).is_file()
    assert (root / "data" / "raw").is_dir() and (root / "reports").is_dir()
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "xz build" in readme and "示例数据" in readme
    packaged = {p.name: p.read_bytes() for p in resources.path("notebooks").glob("*.ipynb")}
    copied = {p.name: p.read_bytes() for p in (root / "notebooks").glob("*.ipynb")}
    assert copied == packaged
    assert set(packaged) == {"street_report.ipynb", "district.ipynb", "explore.ipynb"}


def test_init_never_overwrites(nowhere):
    folder = nowhere / "mine"
    folder.mkdir()
    (folder / "README.md").write_text("my notes", encoding="utf-8")
    with pytest.raises(UsageError, match="README.md"):
        config.init_project(folder)
    assert (folder / "README.md").read_text(encoding="utf-8") == "my notes"
    assert sorted(p.name for p in folder.iterdir()) == ["README.md"]
    (folder / "README.md").unlink()
    config.init_project(folder)
    with pytest.raises(UsageError, match="already an xzlib project"):
        config.init_project(folder)
    afile = nowhere / "afile"
    afile.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="is a file"):
        config.init_project(afile)


def test_cli_init_then_commands_find_the_project(nowhere, capsys):
    assert cli.main(["init", "proj"]) == 0
    assert "project folder ready" in capsys.readouterr().out
    assert cli.main(["sample"]) == 2  # not inside it yet
    err = capsys.readouterr().err
    assert "xz sample: no xzlib project folder" in err and "xz init DIR" in err
    assert cli.main(["--project", "proj", "template", "--out", "t.xlsx"]) == 0
    assert cli.main(["--project", "missing", "list"]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert "XZ_PROJECT_DIR" not in os.environ  # main() leaves the environment as it was


def test_docs_dir_is_the_checkout():
    assert config.source_root() == REPO
    assert config.docs_dir() == REPO / "docs"


def test_resources_names_and_errors():
    assert set(resources.NAMES) == {"reference", "notebooks", "templates", "framework"}
    assert (resources.files("templates") / "xz_report" / "conf.json").is_file()
    assert "[" in resources.files("framework").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="reference, notebooks"):
        resources.files("fonts")


def test_python_m_xzlib_runs_the_cli(nowhere):
    run = subprocess.run([sys.executable, "-m", "xzlib", "--help"], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage: python -m xzlib")
    assert "init" in run.stdout and "build" in run.stdout


def test_library_logs_without_configuring_handlers(nowhere):
    """``xzlib`` has a NullHandler; importing the library adds no handler anywhere else."""
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("xzlib").handlers)
    code = ("import logging, xzlib, xzlib.config, xzlib.dataset, xzlib.theme, xzlib.plots, "
            "xzlib.sample, xzlib.reference\n"
            "assert logging.getLogger().handlers == [], logging.getLogger().handlers\n"
            "assert [type(h).__name__ for h in logging.getLogger('xzlib').handlers] "
            "== ['NullHandler']\n"
            "xzlib.config.find_project()\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
