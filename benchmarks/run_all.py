#!/usr/bin/env python3
"""``make bench``: run every benchmarks/bench_*.py, then write their figures into the README.

The summary table (each step: the plain loop a user writes against the script,
medians of whole processes measured in turns, their ratio and the goal) and
each benchmark's full output replace what is between the marker comments of
benchmarks/README.md, with the machine (CPU model, cores), its load average
just before, the date and the versions used. Nothing is written if a benchmark
fails.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown CPU"


def run_bench(path: Path, results: Path) -> str:
    """Run one benchmark, its output shown as it comes and returned."""
    print(f"\n== {path.name}", flush=True)
    env = {**os.environ, "BENCH_RESULTS": str(results)}
    process = subprocess.Popen(
        [sys.executable, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    output = []
    for line in process.stdout:
        print(line, end="", flush=True)
        output.append(line)
    if process.wait() != 0:
        raise SystemExit(f"{path.name} failed (exit {process.returncode}): README not changed")
    return "".join(output)


def summary(rows: list[dict]) -> list[str]:
    lines = [
        "| step | plain loop a user writes | the script | the script is | goal | met |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for row in rows:
        unit = row["unit"]
        ratio = row.get("ratio_text") or f"{row['ratio']:.2f}x as fast"
        lines.append(
            f"| {row['step']} | {row['plain']:.3g} {unit} | {row['script']:.3g} {unit} "
            f"| **{ratio}** | {row['goal']} | {'yes' if row['met'] else '**no**'} |"
        )
    lines.append("")
    lines += [f"- {row['step']}: {row['note']}" for row in rows if row.get("note")]
    return lines


def main() -> int:
    load = os.getloadavg()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        results = Path(scratch) / "results.jsonl"
        results.touch()
        outputs = {path.name: run_bench(path, results) for path in sorted(HERE.glob("bench_*.py"))}
        rows = [json.loads(line) for line in results.read_text().splitlines()]
    minutes = (time.monotonic() - started) / 60
    versions = ", ".join(
        f"{name} {version(name)}" for name in ("pillow", "requests", "psutil", "django")
    )
    block = [
        START,
        f"Measured by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{cpu_model()}, {os.cpu_count()} cores; load average before: "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min); Python "
        f"{platform.python_version()}, {versions}; the whole run took {minutes:.1f} min.",
        "Whole processes, interpreter start included; the ways took turns; medians.",
        "",
        *summary(rows),
        "",
    ]
    for name, output in outputs.items():
        block += [f"`{name}`:", "", "```", output.rstrip(), "```", ""]
    block.append(END)
    text = README.read_text(encoding="utf-8")
    before, found, rest = text.partition(START)
    after = rest.partition(END)[2] if found else "\n"
    README.write_text(before + "\n".join(block) + after, encoding="utf-8")
    print(f"\nwrote the figures into {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
