#!/usr/bin/env python3
"""Measure what one run of health_check.py costs the machine it watches (it runs every minute).

Each way is run --runs times as cron runs it, a fresh process each time,
started by a small launcher that reports that process's own usage from
``os.wait4``: CPU time (user + system) and peak resident memory (ru_maxrss).
Wall time is shown without the CPU sampling interval (--cpu-sample), which is
waiting, not work. The first row is the bare interpreter, for scale.

- healthy: thresholds every machine meets, a state file, no email (the usual minute);
- healthy + --textfile: the same, also writing the Prometheus textfile;
- problem, --dry-run: a problem found, reads the state, says what it would send;
- problem, email sent: --repeat-after 0, so each run sends an alert to a lab mail server.

$ .venv/bin/python benchmarks/bench_health_check.py --runs 10
| way | runs | CPU ms (median) | CPU ms (max) | wall ms - sample (median) | peak RSS MB (max) |
| --- | ---: | ---: | ---: | ---: | ---: |
| python -c pass (interpreter alone) | 10 | 13 | 14 | 14 | 8.5 |
| healthy | 10 | 103 | 123 | 108 | 18.7 |
| healthy + --textfile | 10 | 104 | 131 | 118 | 18.7 |
| problem, --dry-run | 10 | 99 | 118 | 101 | 18.9 |
| problem, email sent | 10 | 164 | 195 | 169 | 25.0 |
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab.control import launch_lab  # noqa: E402

HEALTHY = ["--max-cpu", "101", "--min-disk", "0", "--min-memory", "0"]
PROBLEM = ["--max-cpu", "-1", "--min-disk", "0", "--min-memory", "0"]


# Linux keeps a process's peak memory across exec, so a child forked from this
# process (which has the lab's client code loaded) would report at least this
# process's size. The runs are therefore started from a small launcher: a bare
# Python that spawns the run and reports the run's own usage from wait4.
LAUNCHER = """
import os, sys, time
devnull = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)]
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=devnull)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
print(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Run ``command`` once: (CPU seconds, wall seconds, peak RSS in MB) of that run alone."""
    report = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, *command],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    cpu, wall, max_rss, status = float(report[0]), float(report[1]), int(report[2]), int(report[3])
    if status not in (0, 2):
        raise SystemExit(f"{' '.join(command)} exited {status}")
    return cpu, wall, max_rss / 1024  # Linux gives KiB


def row(name: str, runs: list[tuple[float, float, float]], sample: float) -> str:
    cpu = [run[0] * 1000 for run in runs]
    wall = [(run[1] - sample) * 1000 for run in runs]
    rss = max(run[2] for run in runs)
    return (
        f"| {name} | {len(runs)} | {statistics.median(cpu):.0f} | {max(cpu):.0f} "
        f"| {statistics.median(wall):.0f} | {rss:.1f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each way (default 10)")
    parser.add_argument(
        "--cpu-sample", type=float, default=0.1, help="health_check.py --cpu-sample (default 0.1)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-health-") as folder:
        folder = Path(folder)
        lab = launch_lab(folder / "lab", no_http=True)
        try:
            script = [sys.executable, str(ROOT / "health_check.py")]
            common = ["--cpu-sample", str(args.cpu_sample), "--state", str(folder / "state.json")]
            ways = [
                ("python -c pass (interpreter alone)", [sys.executable, "-c", "pass"], 0.0),
                ("healthy", [*script, *common, *HEALTHY], args.cpu_sample),
                (
                    "healthy + --textfile",
                    [*script, *common, *HEALTHY, "--textfile", str(folder / "health.prom")],
                    args.cpu_sample,
                ),
                ("problem, --dry-run", [*script, *common, *PROBLEM, "--dry-run"], args.cpu_sample),
                (
                    "problem, email sent",
                    [*script, *common, *PROBLEM, "--repeat-after", "0"],
                    args.cpu_sample,
                ),
            ]
            print(
                "| way | runs | CPU ms (median) | CPU ms (max) "
                "| wall ms - sample (median) | peak RSS MB (max) |"
            )
            print("| --- | ---: | ---: | ---: | ---: | ---: |")
            for name, command, sample in ways:
                runs = [measure(command, lab.env) for _ in range(args.runs)]
                print(row(name, runs, sample), flush=True)
            sent = len(lab.messages())
        finally:
            lab.stop()
    if sent != args.runs:
        raise SystemExit(f"expected {args.runs} emails in the lab's Maildir, found {sent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
