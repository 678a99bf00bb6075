"""The files of contrib/ for installing on a server: systemd units, cron lines."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

CONTRIB = ROOT / "contrib"
INSTALLED = "/opt/fruit-store"  # PREFIX of `make install` the files are written for
CHAIN = ["changeImage.py", "supplier_image_upload.py", "run.py", "report_email.py"]


def exec_lines(unit: Path) -> list[str]:
    return [line for line in unit.read_text().splitlines() if line.startswith("ExecStart=")]


def test_units_run_the_installed_scripts_with_the_installed_python() -> None:
    chain = exec_lines(CONTRIB / "systemd" / "fruit-store-chain.service")
    # Every step runs ("-" on all but the last): the unit's result is the report's.
    assert chain == [
        f"ExecStart={'-' if s != CHAIN[-1] else ''}{INSTALLED}/.venv/bin/python {INSTALLED}/{s} -q"
        for s in CHAIN
    ]
    (health,) = exec_lines(CONTRIB / "systemd" / "fruit-store-health.service")
    assert health.startswith(f"ExecStart={INSTALLED}/.venv/bin/python {INSTALLED}/health_check.py")
    for script in [*CHAIN, "health_check.py"]:
        assert (ROOT / script).exists()


def test_timers() -> None:
    assert "OnCalendar=minutely" in (CONTRIB / "systemd" / "fruit-store-health.timer").read_text()
    assert "OnCalendar=*:0/15" in (CONTRIB / "systemd" / "fruit-store-chain.timer").read_text()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify wants the commands to exist: the units as written for an install in tmp_path.
    prefix = tmp_path / "fruit-store"
    (prefix / ".venv" / "bin").mkdir(parents=True)
    (prefix / ".venv" / "bin" / "python").symlink_to(sys.executable)
    units = []
    for unit in sorted((CONTRIB / "systemd").iterdir()):
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace(INSTALLED, str(prefix)))
        units.append(copy)

    result = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60
    )

    complaints = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 0, complaints
    assert complaints == []


def test_cron_lines_take_a_lock_each_and_run_the_chain_in_order() -> None:
    jobs = [
        line
        for line in (CONTRIB / "cron.example").read_text().splitlines()
        if re.match(r"[*\d]", line)
    ]
    assert len(jobs) == 2
    locks = [re.search(r"flock -n (\S+)", job)[1] for job in jobs]
    assert len(set(locks)) == 2
    health, chain = jobs
    assert health.startswith("* * * * * ") and "health_check.py" in health
    assert chain.startswith("*/15 * * * * ")
    steps = re.findall(r"\.venv/bin/python (\S+) -q", chain)
    assert steps == CHAIN
    assert chain.count(" && ") == 1  # cd first, then every step whatever the last one said
    assert chain.count("; ") == len(CHAIN) - 1
