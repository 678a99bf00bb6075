"""Start and look inside a running `python -m lab serve`, for the tests and `make demo`."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import requests

from lab.__main__ import read_maildir
from lab.sample_data import SampleFruit

ROOT = Path(__file__).resolve().parent.parent


def lab_python() -> str:
    """The Python that runs the lab: $LAB_PYTHON when set, else this one.

    `make test-floor` runs the tests and the scripts on the oldest supported
    Python and packages, and the lab in the project's .venv: Django and the
    sample data generator need a newer set.
    """
    return os.environ.get("LAB_PYTHON") or sys.executable


def make_sample_data(dest: Path, count: int = 10, seed: int = 0) -> list[SampleFruit]:
    """lab.sample_data.make_data, run by the lab's Python when that is another one."""
    python = lab_python()
    if python == sys.executable:
        from lab.sample_data import make_data

        return make_data(dest, count=count, seed=seed)
    code = (
        "import dataclasses, json, sys; from lab.sample_data import make_data; "
        "fruits = make_data(sys.argv[1], count=int(sys.argv[2]), seed=int(sys.argv[3])); "
        "print(json.dumps([dataclasses.asdict(f) for f in fruits], default=str))"
    )
    output = subprocess.run(
        [python, "-c", code, str(dest), str(count), str(seed)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return [
        SampleFruit(**{**f, "image_path": Path(f["image_path"]),
                       "description_path": Path(f["description_path"])})
        for f in json.loads(output)
    ]  # fmt: skip


@dataclass
class Lab:
    """A running `python -m lab serve`, and ways to look inside it."""

    process: subprocess.Popen
    state: Path
    url: str = ""  # base URL without the trailing slash: http://127.0.0.1:PORT
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 0
    output: list[str] = field(default_factory=list)

    @property
    def media_images(self) -> Path:
        return self.state / "media" / "images"

    @property
    def maildir(self) -> Path:
        return self.state / "maildir"

    @property
    def env(self) -> dict[str, str]:
        """The environment a script needs to talk to this lab (and nothing else)."""
        env = dict(os.environ)
        for name in list(env):
            if name in ("SUPPLIER_DATA", "REPORT_PDF", "MAIL_FROM", "MAIL_TO") or name.startswith(
                "SMTP_"
            ):
                del env[name]
        if self.url:
            env["CATALOG_URL"] = self.url
        if self.smtp_port:
            env["SMTP_HOST"], env["SMTP_PORT"] = self.smtp_host, str(self.smtp_port)
        return env

    def fruits(self) -> list[dict]:
        """The catalog's rows, read from its database, oldest first."""
        with sqlite3.connect(self.state / "catalog.sqlite3") as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM catalog_fruit ORDER BY id").fetchall()
        return [dict(row) for row in rows]

    def images(self) -> list[str]:
        """File names in the service's media/images folder, sorted."""
        return sorted(p.name for p in self.media_images.iterdir())

    def messages(self):
        """Messages delivered to the Maildir, oldest first (email.message.EmailMessage)."""
        return read_maildir(self.maildir) if self.maildir.exists() else []

    def smtp_events(self) -> list[dict]:
        path = self.state / "smtp-events.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def requests(self) -> list[dict]:
        """Every request the catalog answered: method, path, status, fault."""
        return requests.get(f"{self.url}/_lab/requests/", timeout=5).json()

    def set_faults(self, **faults: float) -> None:
        requests.post(f"{self.url}/_lab/faults/", json=faults, timeout=5).raise_for_status()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def launch_lab(state: Path, **options) -> Lab:
    """Start `python -m lab serve` with options such as fail_rate=0.3, smtp_auth="u:p".

    It runs with lab_python(): $LAB_PYTHON when set, else this Python.
    """
    args = [lab_python(), "-m", "lab", "serve", "--quiet", "--state", str(state)]
    options.setdefault("http_port", 0)
    options.setdefault("smtp_port", 0)
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            for item in value:
                args += [flag, str(item)]
        elif value is not False and value is not None:
            args += [flag, str(value)]
    process = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lab = Lab(process, state)
    for line in process.stdout:
        lab.output.append(line)
        kind, _, value = line.strip().partition(" ")
        if kind == "catalog":
            lab.url = value.rstrip("/")
        elif kind == "smtp":
            lab.smtp_host, port = value.rsplit(":", 1)
            lab.smtp_port = int(port)
        elif kind == "lab" and value.startswith("ready"):
            break
    else:
        lab.stop()
        raise RuntimeError("the lab did not start:\n" + "".join(lab.output))
    # Keep reading its output so the server never blocks on a full pipe.
    threading.Thread(target=lambda: lab.output.extend(process.stdout), daemon=True).start()
    return lab
