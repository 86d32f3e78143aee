"""xzlib as a package: dependencies true to the imports, package data, licences, the wheel.

The two slow tests run the evaluator's main path (init -> sample -> clean -> evaluate ->
build one street) in a new project folder outside the checkout: one with the installed
xzlib (``make test-min`` runs it at the minimum versions), one from a freshly built wheel
installed into a new virtual environment with its real dependencies.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from xzlib import config, resources

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
STREET = "440402005"

# Runtime dependencies needed without an import statement.
USED_WITHOUT_IMPORT = {
    "ipykernel": "the kernel the report notebooks run in",
    "pylopdf-fonts-zh-cn": "the CJK font file, found with importlib.resources (theme.py)",
}
# Imports of the library that may come from an extra (imported only where it is used).
OPTIONAL_IMPORTS = {"distributed": "dask"}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(reqs) -> set[str]:
    return {_normal(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", r)[0]) for r in reqs}


RUNTIME = _names(PYPROJECT["project"]["dependencies"])
EXTRAS = {k: _names(v) for k, v in PYPROJECT["project"]["optional-dependencies"].items()}


def _imports(source: str) -> set[str]:
    """Top-level names of absolute imports in ``source``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _notebook_code(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    return "\n".join(line for cell in cells for line in cell.splitlines()
                     if not line.lstrip().startswith(("%", "!")))


def _third_party(names: set[str]) -> dict[str, set[str]]:
    """``{import name: distributions}`` for the names that are not stdlib or first party."""
    dists = md.packages_distributions()
    out = {}
    for name in names - set(sys.stdlib_module_names) - {"xzlib", "tests", "__future__"}:
        out[name] = {_normal(d) for d in dists.get(name, [])}
    return out


def _sources(folder: str):
    return sorted((REPO / folder).rglob("*.py"))


def test_constraints_file_is_current():
    run = subprocess.run([sys.executable, str(REPO / ".ci" / "min_constraints.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    pins = (REPO / ".ci" / "constraints-min.txt").read_text(encoding="utf-8")
    pinned = {line.split("==")[0] for line in pins.splitlines() if "==" in line}
    assert RUNTIME | EXTRAS["test"] <= pinned
    assert "xzlib" not in pinned


def test_every_import_of_the_library_is_a_runtime_dependency():
    names = set()
    for path in _sources("xzlib"):
        names |= _imports(path.read_text(encoding="utf-8"))
    for nb in sorted((REPO / "notebooks").glob("*.ipynb")):
        names |= _imports(_notebook_code(nb))
    problems = []
    used = set()
    for name, dists in sorted(_third_party(names).items()):
        if not dists:
            problems.append(f"{name}: imported but installed by no distribution")
        elif name in OPTIONAL_IMPORTS:
            extra = OPTIONAL_IMPORTS[name]
            if not dists & EXTRAS[extra]:
                problems.append(f"{name}: not in the [{extra}] extra")
        elif not dists & RUNTIME:
            problems.append(f"{name} ({', '.join(sorted(dists))}): imported by xzlib or a "
                            "notebook but not in [project] dependencies")
        used |= dists
    unused = RUNTIME - used - set(USED_WITHOUT_IMPORT)
    if unused:
        problems.append(f"runtime dependencies nothing imports: {', '.join(sorted(unused))} "
                        "(move them to an extra, or say why in USED_WITHOUT_IMPORT)")
    assert not problems, "\n".join(problems)


def test_every_import_of_the_tests_and_benchmarks_is_declared():
    allowed = {
        "tests": RUNTIME | EXTRAS["test"],
        "benchmarks": RUNTIME | EXTRAS["test"] | EXTRAS["dev"],
    }
    problems = []
    for folder, declared in allowed.items():
        names = set()
        for path in _sources(folder):
            names |= _imports(path.read_text(encoding="utf-8"))
        for name, dists in sorted(_third_party(names).items()):
            if not dists & declared:
                problems.append(f"{folder}: {name} ({', '.join(sorted(dists)) or '?'}) "
                                "is not declared")
    assert not problems, "\n".join(problems)


def test_no_private_api_of_other_libraries():
    """No ``_private`` attribute of another library's module or object is used.

    Only ``self``, ``cls`` and xzlib's own modules may be reached for ``_names``.
    """
    problems = []
    for path in _sources("xzlib"):
        rel = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = {"self", "cls"}  # names bound to xzlib's own modules and objects
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or
                                                     (node.module or "").startswith("xzlib")):
                own |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                problems += [f"{rel}:{node.lineno} from {node.module} import {a.name}"
                             for a in node.names if a.name.startswith("_")]
            elif isinstance(node, ast.Import):
                own |= {(a.asname or a.name).split(".")[0] for a in node.names
                        if a.name.startswith("xzlib")}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                    and not node.attr.startswith("__"):
                root = node.value
                while isinstance(root, ast.Attribute | ast.Call | ast.Subscript):
                    root = root.func if isinstance(root, ast.Call) else root.value
                if not (isinstance(root, ast.Name) and root.id in own):
                    problems.append(f"{rel}:{node.lineno} {ast.unparse(node)}")
    assert not problems, "private APIs:\n" + "\n".join(problems)


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    mapped = PYPROJECT["tool"]["setuptools"]["package-dir"]
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "xzlib").rglob("*.py")
             if "__pycache__" not in p.parts}
    missing = found - listed
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    assert mapped == {"xzlib.notebooks": "notebooks", "xzlib.reference_data": "data/reference"}
    assert all((REPO / d / "__init__.py").is_file() for d in mapped.values())


def test_package_data_is_read_through_importlib_resources():
    ref = resources.path("reference")
    assert sorted(p.name for p in ref.glob("*.csv")) == [
        "awards.csv", "divisions.csv", "events.csv", "published_facts.csv"]
    nbs = resources.path("notebooks")
    assert sorted(p.name for p in nbs.glob("*.ipynb")) == [
        "district.ipynb", "explore.ipynb", "street_report.ipynb"]
    # in a clone, the package data *are* the repository's folders (nothing is copied)
    assert ref.resolve() == (REPO / "data" / "reference").resolve()
    assert nbs.resolve() == (REPO / "notebooks").resolve()
    assert (resources.path("templates") / "xz_report" / "index.html.j2").is_file()
    assert resources.path("framework").name == "framework.toml"


def test_notebooks_name_the_xzlib_kernel():
    for nb in sorted((REPO / "notebooks").glob("*.ipynb")):
        spec = json.loads(nb.read_text(encoding="utf-8"))["metadata"]["kernelspec"]
        assert spec["name"] == "xzlib", nb.name
        assert spec["language"] == "python"


def test_licences():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    requires = PYPROJECT["build-system"]["requires"]
    assert any(re.fullmatch(r"setuptools>=(7[7-9]|[89]\d|\d{3,})(\.\d+)*", r) for r in requires)
    # the bundled CJK font: OFL in its own name table, and the licence text is installed
    from matplotlib import ft2font

    from xzlib import theme

    package, relative = theme._PACKAGED_FONTS[0]
    font = importlib.resources.files(package) / relative
    names = ft2font.FT2Font(str(font)).get_sfnt()
    licence = [v.decode("utf-16-be") for (plat, _, _, nid), v in names.items()
               if plat == 3 and nid == 13]
    assert licence and all("SIL Open Font License, Version 1.1" in t for t in licence)
    dist = md.distribution(package.replace("_", "-"))
    texts = [f.read_text() for f in dist.files or [] if "licen" in f.name.lower()]
    assert any("SIL OPEN FONT LICENSE Version 1.1" in t for t in texts)
    assert any("OFL-1.1" in c for c in dist.metadata.get_all("Classifier") or [])
    # docs/assets.md lists it, and every kind of package data
    assets = (REPO / "docs" / "assets.md").read_text(encoding="utf-8")
    for needle in ("Noto Sans SC", "pylopdf-fonts-zh-cn", "OFL-1.1", "data/reference",
                   "notebooks/", "xzlib/templates", "framework.toml", "LICENSE"):
        assert needle in assets, needle


# --------------------------------------------------------------------------- main path


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XZ_", "PYTHONPATH"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(cmd: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    run = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(), capture_output=True,
                         text=True, timeout=timeout)
    assert run.returncode == 0, f"{' '.join(map(str, cmd))} in {cwd}:\n{run.stdout}\n{run.stderr}"
    return run


def _main_path(xz: list, python: Path, where: Path) -> None:
    """init -> sample -> clean -> evaluate -> build one street, in a new project folder."""
    where.mkdir(parents=True, exist_ok=True)
    _run([*xz, "init", "proj"], where)
    proj = where / "proj"
    _run([*xz, "sample", "--messy"], proj)
    clean = _run([*xz, "clean"], proj)
    assert (proj / "data" / "processed" / "manifest.json").is_file(), clean.stdout
    code = ("import xzlib as xz\n"
            "ev = xz.evaluate(2018, runs=20)\n"
            f"assert '{STREET}' in set(ev.ranks['street_code']), ev.ranks\n"
            "print(len(ev.ranks))\n")
    assert _run([python, "-c", code], proj / "notebooks").stdout.strip() == "9"
    _run([*xz, "build", "--streets", STREET, "--jobs", "1", "--runs", "50",
          "--progress", "plain"], proj)
    html = (proj / "reports" / f"{STREET}.html").read_text(encoding="utf-8")
    assert "示例数据" in html
    assert (proj / "reports" / "district.html").is_file()
    assert (proj / "reports" / "index.html").is_file()


@pytest.mark.slow
def test_main_path_in_a_new_project(tmp_path):
    """The installed xzlib (``make test-min``: at the minimum versions) in a new project."""
    _main_path([sys.executable, "-m", "xzlib"], Path(sys.executable), tmp_path / "work")


def _tracked_tree(dest: Path) -> Path:
    """Copy the checkout's tracked (and new, not ignored) files to ``dest``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True, timeout=60).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list the checkout's files")
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    """``pip install xzlib-*.whl`` in a new venv (real dependencies), then the main path."""
    src = _tracked_tree(tmp_path / "src")
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp_path / "dist",
          src], tmp_path)
    (wheel,) = (tmp_path / "dist").glob("xzlib-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for expected in ("xzlib/reference_data/divisions.csv", "xzlib/notebooks/street_report.ipynb",
                     "xzlib/evaluation/framework.toml", "xzlib/templates/xz_report/conf.json",
                     "xzlib/resources.py", "xzlib/__main__.py"):
        assert expected in names, expected
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "data/", "notebooks/", "docs/"))]

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], tmp_path)
    python, xz = venv / "bin" / "python", venv / "bin" / "xz"
    _run([python, "-m", "pip", "install", "--quiet", wheel], tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    where = _run([python, "-c", "import xzlib; print(xzlib.__file__)"], work).stdout.strip()
    assert Path(where).is_relative_to(venv), where
    assert _run([python, "-m", "xzlib", "--help"], work).stdout.startswith("usage:")
    _main_path([xz], python, work)
    assert config.find_project(work / "proj") == (work / "proj").resolve()
