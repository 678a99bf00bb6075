#!/usr/bin/env python3
"""What one run of health_check.py costs the machine it watches (cron runs it every minute).

    $ .venv/bin/python benchmarks/bench_health_check.py --runs 5   # a quick look

Each way is a fresh process, as cron starts it; the CPU time (user + system) and
peak memory are that process's own (os.wait4, see benchlib.py). First, in turns,
``--runs`` times each: benchmarks/plain/health_check.py (the course's four
checks with psutil, five lines) against ``health_check.py`` on a healthy machine
with its state file (the usual minute); the CPU sample is ``--cpu-sample``
(default 0.1 s) for both, and is waiting, not work. Then, for scale, the bare
interpreter and health_check.py's other kinds of run: with --textfile, a problem
with --dry-run, and a problem emailed on every run to a lab mail server (the
benchmark checks that every email arrived).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from benchlib import PLAIN, ROOT, median, record, run_process, take_turns, user_env

from lab.control import launch_lab

HEALTHY = ["--max-cpu", "101", "--min-disk", "0", "--min-memory", "0"]
PROBLEM = ["--max-cpu", "-1", "--min-disk", "0", "--min-memory", "0"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25, help="runs of each way (default 25)")
    parser.add_argument("--other-runs", type=int, default=10, help="runs of the other kinds")
    parser.add_argument("--cpu-sample", type=float, default=0.1, help="seconds (default 0.1)")
    args = parser.parse_args()
    python, sample = sys.executable, str(args.cpu_sample)

    with tempfile.TemporaryDirectory(prefix="bench-health-") as folder:
        folder = Path(folder)
        lab = launch_lab(folder / "lab", no_http=True)
        env = user_env({key: value for key, value in lab.env.items() if key.startswith("SMTP")})
        script = [python, str(ROOT / "health_check.py"), "--cpu-sample", sample]
        script += ["--state", str(folder / "state.json")]
        try:
            runs = take_turns(
                {
                    "plain": lambda: run_process([python, str(PLAIN / "health_check.py"), sample]),
                    "script": lambda: run_process([*script, *HEALTHY], env),
                },
                args.runs,
            )
            others = {
                "python -c pass (interpreter alone)": [python, "-c", "pass"],
                "plain psutil script": [python, str(PLAIN / "health_check.py"), sample],
                "health_check.py, healthy": [*script, *HEALTHY],
                "healthy + --textfile": [*script, *HEALTHY, "--textfile", str(folder / "h.prom")],
                "problem, --dry-run": [*script, *PROBLEM, "--dry-run"],
                "problem, email sent": [*script, *PROBLEM, "--repeat-after", "0"],
            }
            table = {
                name: [run_process(command, env, ok=(0, 2)) for _ in range(args.other_runs)]
                for name, command in others.items()
            }
            sent = len(lab.messages())
        finally:
            lab.stop()
    if sent != args.other_runs:
        raise SystemExit(f"expected {args.other_runs} emails in the lab's Maildir, found {sent}")

    bare = median(table["python -c pass (interpreter alone)"], "cpu") * 1000
    plain, mine = median(runs["plain"], "cpu") * 1000, median(runs["script"], "cpu") * 1000
    record(
        {
            "step": "health_check.py, one healthy run (CPU of the process)",
            "plain": plain,
            "script": mine,
            "unit": "ms CPU",
            "ratio": plain / mine,
            "ratio_text": f"{mine / plain:.2f}x its CPU",
            "goal": "<= 1.3x its CPU",
            "met": mine <= 1.3 * plain,
            "runs": args.runs,
            "note": f"the interpreter alone: {bare:.0f} ms",
        }
    )
    print("\n| way | runs | CPU ms (median) | CPU ms (max) | peak RSS MB (max) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, measured in table.items():
        cpu = [run["cpu"] * 1000 for run in measured]
        rss = max(run["rss"] for run in measured)
        print(
            f"| {name} | {len(cpu)} | {statistics.median(cpu):.0f} | {max(cpu):.0f} | {rss:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
