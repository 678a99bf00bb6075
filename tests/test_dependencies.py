"""A script started by a Python without its packages says in one line how to get them.

Each script is run, as a user would run it, by a bare virtual environment: no
pip, no system site-packages, so none of Pillow, requests, ReportLab, psutil.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Every executable script of the top level (the helper modules are not executable).
SCRIPTS = sorted(p.name for p in ROOT.glob("*.py") if os.access(p, os.X_OK))
# What each script needs, as its one line names it.
NEEDS = {
    "changeImage.py": "Pillow (python3 module PIL)",
    "supplier_image_upload.py": "requests",
    "run.py": "requests",
    "report_email.py": "ReportLab (python3 module reportlab)",
    "health_check.py": "psutil",
    "cars.py": "ReportLab (python3 module reportlab)",
    "feedback.py": "requests",
}
# health_check.py follows Nagios: 3 is "could not check"; the others' "bad configuration".
STATUS = {"health_check.py": 3}


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    """The python of a virtual environment with no third-party package at all."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    has = subprocess.run([python, "-c", "import PIL"], capture_output=True)
    assert has.returncode != 0, "the bare virtual environment has Pillow: not bare"
    return python


def test_every_script_is_covered() -> None:
    assert sorted(NEEDS) == SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("arguments", [["--help"], []], ids=["help", "plain run"])
def test_a_missing_package_is_one_line(bare_python, tmp_path, script, arguments) -> None:
    # A supplier drop with an image, so that a run would have work (and worker processes).
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "001.tif").write_bytes(b"II*\0not really a TIFF")
    env = dict(os.environ, SUPPLIER_DATA=str(tmp_path))
    result = subprocess.run(
        [bare_python, ROOT / script, *arguments],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )

    assert result.returncode == STATUS.get(script, 2), result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{script}: needs {NEEDS[script]}")
    assert f"this Python ({bare_python})" in lines[0]
    assert "sudo apt install python3-" in lines[0]
    assert "virtual environment" in lines[0]
