"""Fixtures: the real lab services on free loopback ports, and generated supplier data.

``lab`` is a running catalog service and mail server with a fresh state
folder; ``start_lab(**options)`` starts one with fault injection or mail
server options. Scripts are run as a user runs them, in a subprocess, with
``run_script``.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab.control import Lab, launch_lab, make_sample_data  # noqa: E402


@pytest.fixture(autouse=True)
def _own_state(tmp_path_factory, monkeypatch):
    """Scripts run by a test keep their state and locks in a folder of that test, never in
    the user's own ~/.local/state (a test's report or alert must not silence a real one),
    nor in another test's: labs on a port used before are other servers. Locks do not
    follow XDG_STATE_HOME (cron's and a shell's may differ): FRUIT_STORE_LOCKS moves them."""
    state = tmp_path_factory.mktemp("xdg-state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    monkeypatch.setenv("FRUIT_STORE_LOCKS", str(state / "locks"))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


@pytest.fixture
def short_read_timeout(monkeypatch):
    """catalog.py in this process as in a run of its own, with a read timeout of 0.3 s
    (60 s in a run): what it leaves unanswered is this test's, written nowhere at exit."""
    import catalog

    monkeypatch.setattr(catalog, "HTTP_TIMEOUT", (5, 0.3))
    monkeypatch.setattr(catalog, "_unanswered", {})
    monkeypatch.setattr(catalog, "_unanswered_file", [])
    monkeypatch.setattr(catalog, "_sending", {"urls": [], "slowest": 0.0, "path": "", "touched": 0})
    return catalog


@pytest.fixture
def start_lab(tmp_path_factory):
    """Factory: start_lab(fail_rate=0.3, smtp_auth="user:pw", ...) -> Lab, stopped afterwards."""
    labs: list[Lab] = []

    def start(**options) -> Lab:
        lab = launch_lab(tmp_path_factory.mktemp("lab-state"), **options)
        labs.append(lab)
        return lab

    yield start
    for lab in labs:
        lab.stop()


@pytest.fixture
def lab(start_lab) -> Lab:
    """A running lab (catalog service and mail server) with no faults and an empty state."""
    return start_lab()


@pytest.fixture(scope="session")
def _sample_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("sample-cache")


@pytest.fixture
def make_supplier_data(_sample_cache, tmp_path):
    """Factory: make_supplier_data(count=3, seed=0) -> fresh folder with images/, descriptions/.

    Generating 3000x2000 TIFFs takes time, so each (count, seed) is generated
    once per test session and copied for each test.
    """

    def make(count: int = 3, seed: int = 0, name: str = "supplier-data") -> Path:
        cached = _sample_cache / f"{count}-{seed}"
        if not cached.exists():
            # Run by the lab's Python: under `make test-floor` this Pillow is too old for it.
            make_sample_data(cached.with_suffix(".tmp"), count=count, seed=seed)
            cached.with_suffix(".tmp").rename(cached)
        dest = tmp_path / name
        shutil.copytree(cached, dest)
        return dest

    return make


@pytest.fixture
def run_script(tmp_path):
    """run_script("run.py", "--dry-run", env=lab.env) -> CompletedProcess with text output."""

    def run(script: str, *args: str, env: dict | None = None, timeout: float = 300, **kwargs):
        return subprocess.run(
            [sys.executable, str(ROOT / script), *map(str, args)],
            cwd=tmp_path,
            env=env if env is not None else dict(os.environ),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            **kwargs,
        )

    return run


@pytest.fixture
def as_nobody():
    """The command prefix to run this Python as a user with no passwd entry (no home
    folder, no login name); skips the test where that cannot be done."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run as a user with no passwd entry")
    prefix = ["setpriv", "--reuid=54321", "--regid=54321", "--clear-groups", sys.executable]
    probe = subprocess.run(
        [*prefix, "-c", f"open({str(ROOT / 'cli.py')!r}).close()"],
        cwd="/", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if probe.returncode != 0:  # e.g. a Python (or its libpython) under /root, mode 0700
        pytest.skip(f"this Python cannot run as another user here: {probe.stderr.strip()[:120]}")
    return prefix


def start(script: str, *args, env: dict, cwd: Path) -> subprocess.Popen:
    """A script started as a user starts it, to be stopped, killed or waited for."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / script), *map(str, args)],
        env=env, cwd=cwd, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the run never got that far"
        time.sleep(0.02)
