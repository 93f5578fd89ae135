"""Build the documentation with warnings as errors (slow: it runs the examples).

The docs and examples are copied to a temporary folder first, so the build
leaves no generated files in the checkout. Set
``SKLEARN_DPADS_DOCS_PLOT_GALLERY=0`` to build without running the examples.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_docs_build_without_warnings(tmp_path):
    for module in ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"):
        pytest.importorskip(module)
    pytest.importorskip("matplotlib")
    if not (ROOT / "docs" / "conf.py").exists():  # pragma: no cover - sdist
        pytest.skip("no docs/ folder in this installation")

    generated = shutil.ignore_patterns(
        "_build", "auto_examples", "gen_modules", "sg_execution_times.rst"
    )
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=generated)
    shutil.copytree(
        ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("*.pyc")
    )
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    out = tmp_path / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html"]
    proc = subprocess.run(
        [*cmd, str(tmp_path / "docs"), str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert proc.returncode == 0, (
        f"sphinx failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n"
        f"{proc.stderr[-6000:]}"
    )
    for page in ("index", "install", "user_guide", "api", "auto_examples/index"):
        assert (out / f"{page}.html").exists(), page
    assert (out / "gen_modules" / "sklearn_dpads.plotting.plot_program.html").exists()
