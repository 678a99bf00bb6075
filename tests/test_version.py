"""Every script answers --version."""

import os

import pytest

from cli import __version__
from tests.conftest import ROOT

SCRIPTS = sorted(p.name for p in ROOT.glob("*.py") if os.access(p, os.X_OK))


def test_there_are_scripts() -> None:
    assert "changeImage.py" in SCRIPTS and "health_check.py" in SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_version(run_script, script) -> None:
    result = run_script(script, "--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{script} {__version__}\n"
    assert result.stderr == ""
